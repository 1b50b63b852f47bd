"""`gridgov drain-webhooks`: process the webhook inbox (what `gridgov worker` does in a
thread), for operations and tests: `--once` drains what is queued and exits."""

import signal

from django.core.management.base import BaseCommand

from gridgov.video import inbox


class Command(BaseCommand):
    help = "Record the alarms of queued webhook pushes (the worker does this continuously)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain what is queued now, then exit.")
        parser.add_argument("--batch-size", type=int, default=inbox.BATCH_SIZE, help="Pushes per transaction (at most).")
        parser.add_argument("--poll-seconds", type=float, default=inbox.POLL_SECONDS, help="Idle wait between looks.")

    def handle(self, *args, once=False, batch_size=inbox.BATCH_SIZE, poll_seconds=inbox.POLL_SECONDS, **options):
        batch_size = max(1, batch_size)
        if once:
            total = inbox.drain_all(batch_size)
        else:
            loop = inbox.DrainLoop(poll_seconds, batch_size)
            signal.signal(signal.SIGTERM, lambda *args: loop._stop_event.set())
            self.stdout.write(f"drain-webhooks: draining (batches of up to {batch_size})")
            self.stdout.flush()
            loop.start()
            try:
                while loop.is_alive():
                    loop.join(0.5)
            except KeyboardInterrupt:
                loop.stop()
            total = inbox.counts.processed + inbox.counts.refused
        self.stdout.write(f"drain-webhooks: {inbox.counts.processed} processed, {inbox.counts.refused} refused ({total} taken)")
