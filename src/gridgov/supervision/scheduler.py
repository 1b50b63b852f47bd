"""The periodic scheduler of `gridgov worker`: enqueue the SLA sweep every N seconds.

Time is cut into slots of N seconds; a worker enqueues the sweep for a slot only if it
inserts that slot's SweepSlot row (unique per name and slot). With two workers, one wins
each slot; the other's insert fails and it does nothing. The sweep itself is idempotent
too, so a slot run twice (or a task retried) still fires each warning once.
"""

import logging
import threading
import time

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from .models import SweepSlot

logger = logging.getLogger(__name__)
JOB = "sla_sweep"


def claim(slot, worker_id, name=JOB):
    """True if this worker claimed `slot` (and must run the job for it)."""
    try:
        with transaction.atomic():
            SweepSlot.objects.create(name=name, slot=slot, claimed_by=worker_id, claimed_at=timezone.now())
    except IntegrityError:
        return False
    return True


def current_slot(seconds, now=None):
    return int((now if now is not None else time.time()) // seconds)


def tick(seconds, worker_id):
    """Claim the current slot and enqueue the sweep; returns True when enqueued."""
    from .tasks import sla_sweep

    if not claim(current_slot(seconds), worker_id):
        return False
    sla_sweep.enqueue()
    return True


class Scheduler(threading.Thread):
    def __init__(self, seconds, worker_id):
        super().__init__(name="gridgov-scheduler", daemon=True)
        self.seconds = seconds
        self.worker_id = worker_id
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                close_old_connections()
                if tick(self.seconds, self.worker_id):
                    logger.info("scheduler %s enqueued the SLA sweep", self.worker_id)
            except Exception:  # noqa: BLE001 - keep scheduling after a database hiccup
                logger.exception("scheduler tick failed")
            # Wake at the start of the next slot.
            self.stopped.wait(self.seconds - time.time() % self.seconds + 0.01)

    def stop(self):
        self.stopped.set()
