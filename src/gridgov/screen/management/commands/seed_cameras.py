"""`gridgov seed_cameras --demo`: the demo's 642 cameras and sample monthly indicators."""

from django.core.management.base import BaseCommand, CommandError

from gridgov.screen.seed import DEMO_CAMERA_COUNT, seed_demo_cameras, seed_demo_indicators


class Command(BaseCommand):
    help = "Spread demo cameras over the grids (deterministic) and add sample monthly indicators."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Required: this writes demo data.")
        parser.add_argument("--count", type=int, default=DEMO_CAMERA_COUNT)
        parser.add_argument("--no-indicators", action="store_true", help="Cameras only.")

    def handle(self, *args, **options):
        if not options["demo"]:
            raise CommandError("pass --demo to write demo data")
        cameras = seed_demo_cameras(count=options["count"])
        self.stdout.write(f"cameras added: {cameras}")
        if not options["no_indicators"]:
            self.stdout.write(f"indicator rows written: {seed_demo_indicators()}")
