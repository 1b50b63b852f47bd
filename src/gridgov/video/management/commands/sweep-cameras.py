"""`gridgov sweep-cameras`: mark cameras offline that sent no heartbeat for N minutes."""

from django.core.management.base import BaseCommand

from gridgov.video.cameras import sweep_silent_cameras


class Command(BaseCommand):
    help = "Mark online cameras offline when silent for --minutes (default GRIDGOV_CAMERA_SILENT_MINUTES)."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=int, default=None)

    def handle(self, *args, **options):
        count = sweep_silent_cameras(silent_minutes=options["minutes"])
        self.stdout.write(f"cameras marked offline: {count}")
