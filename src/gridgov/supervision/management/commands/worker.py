"""`gridgov worker`: the django-tasks database worker, the periodic SLA sweep scheduler and
the refresh of derived figures.

Runs the django-tasks-db worker loop in the main thread (same options as `db_worker`), a
scheduler thread that enqueues the SLA sweep every `--sweep-seconds` (default
GRIDGOV_SUPERVISION["sweep_seconds"], 60), and a thread that refreshes the screen's daily
counts and the metrics facts of changed cases every `--refresh-seconds` (default 1;
gridgov.cases.changes), a thread that drains the webhook's inbox (alarms pushed over HTTP,
looked for every `--webhook-poll-seconds`, default 0.2; gridgov.video.inbox), and on SQLite
a thread that checkpoints the WAL every second. Several workers may run: each period is claimed
by one of them (supervision.scheduler), the sweep fires each warning once anyway, and two
drains take different inbox rows.
"""

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from gridgov.cases.changes import RefreshLoop
from gridgov.core.sqlite.checkpoint import CheckpointLoop
from gridgov.supervision.conf import setting
from gridgov.supervision.scheduler import Scheduler
from gridgov.video.inbox import POLL_SECONDS, DrainLoop


class Command(DbWorkerCommand):
    help = "Run the background task worker and the periodic SLA sweep (warnings, escalation, late check-ins)."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--sweep-seconds", type=float, default=None, help="Seconds between SLA sweeps (default: settings, 60)."
        )
        parser.add_argument("--no-scheduler", action="store_true", help="Only run tasks; do not schedule sweeps.")
        parser.add_argument(
            "--refresh-seconds", type=float, default=1.0,
            help="Seconds between refreshes of the derived figures of changed cases (default 1).",
        )
        parser.add_argument("--no-refresh", action="store_true", help="Do not refresh derived figures.")
        parser.add_argument(
            "--webhook-poll-seconds", type=float, default=POLL_SECONDS,
            help="Seconds an idle drain of the webhook inbox waits before looking again (default %(default)s).",
        )
        parser.add_argument("--no-webhook-drain", action="store_true", help="Do not process the webhook inbox.")
        # Reloading would start a second scheduler in the reloader's parent process.
        parser.set_defaults(reload=False)

    def handle(self, *args, sweep_seconds=None, no_scheduler=False, refresh_seconds=1.0, no_refresh=False,
               webhook_poll_seconds=POLL_SECONDS, no_webhook_drain=False, **options):
        scheduler = refresher = drain = None
        checkpoints = CheckpointLoop()  # SQLite's WAL, off the request path (a no-op on PostgreSQL)
        checkpoints.start()
        if not no_refresh:
            refresher = RefreshLoop(refresh_seconds)
            refresher.start()
            self.stdout.write(f"derived figures refreshed every {refresh_seconds:g} s")
        if not no_webhook_drain:
            drain = DrainLoop(webhook_poll_seconds)
            drain.start()
            self.stdout.write(f"webhook inbox drained (idle: looked at every {webhook_poll_seconds:g} s)")
        if not no_scheduler:
            seconds = sweep_seconds or setting("sweep_seconds")
            scheduler = Scheduler(seconds, options["worker_id"])
            scheduler.start()
            self.stdout.write(f"SLA sweep every {seconds:g} s (worker {options['worker_id']})")
        try:
            super().handle(*args, **options)
        finally:
            if scheduler is not None:
                scheduler.stop()
            if refresher is not None:
                refresher.stop()
            if drain is not None:
                drain.stop()
            checkpoints.stop()
