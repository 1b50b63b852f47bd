"""WAL checkpoints off the request path (SQLite only; decision 0013).

A checkpoint copies the write-ahead log into the database file and syncs both (two fsyncs,
~4 ms each on this machine). SQLite runs one automatically inside the COMMIT that takes the
log past `wal_autocheckpoint` pages, i.e. while that writer still holds the write lock: at
~30 pages per case create, every ~30th create paid it. The worker checkpoints every second
instead (PASSIVE: it never waits for, nor blocks, writers), and settings raise the
automatic threshold to 10,000 pages, which then only acts when no worker runs.
"""

import logging
import threading

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)


def checkpoint():
    """(busy, frames in the log, frames checkpointed), or None when not on SQLite."""
    if connection.vendor != "sqlite":
        return None
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        return tuple(cursor.fetchone())


class CheckpointLoop(threading.Thread):
    def __init__(self, seconds=1.0):
        super().__init__(name="gridgov-wal-checkpoint", daemon=True)
        self.seconds = seconds
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.wait(self.seconds):
            try:
                checkpoint()
            except Exception:
                logger.exception("WAL checkpoint failed; retrying")
            finally:
                close_old_connections()

    def stop(self, timeout=5.0):
        self._stop_event.set()
        self.join(timeout)
