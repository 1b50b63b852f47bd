"""`gridgov seed --demo`: build the demo subdistrict, its staff and a year of cases."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from gridgov.demo import DEMO_SUBDISTRICT_NAME
from gridgov.demo.builder import DEFAULT_SEED, DemoOptions, build_demo, demo_exists


def _date(value):
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--today: expected YYYY-MM-DD, got {value!r}") from error


class Command(BaseCommand):
    # Seeding needs the models only; the URL and template checks belong to serving.
    requires_system_checks = []
    help = "Build demo data: the 南村街道 region tree, departments and staff, and a year of cases."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Build the demo subdistrict (required).")
        parser.add_argument("--cases", type=int, default=20000, help="Number of cases in the history (default 20000).")
        parser.add_argument("--today", type=_date, default=None, help="Anchor date YYYY-MM-DD (default: the real today).")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed (default %(default)s).")
        parser.add_argument("--logins-file", default=None, help="Where to write the demo logins (default var/demo-logins.txt).")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options):
        if not options["demo"]:
            raise CommandError("Nothing to do: pass --demo to build the demo data.")
        if options["cases"] < 0:
            raise CommandError("--cases must be zero or more.")
        if demo_exists():
            self.stdout.write(
                f"The demo subdistrict {DEMO_SUBDISTRICT_NAME} already exists; nothing to do. To build it "
                "afresh, empty the database first: gridgov flush --noinput && gridgov seed --demo"
            )
            return
        started = time.monotonic()
        result = build_demo(
            DemoOptions(
                seed=options["seed"],
                cases=options["cases"],
                today=options["today"],
                progress=not options["no_progress"] and options["verbosity"] > 0,
                logins_file=options["logins_file"],
            )
        )
        self._report(result, time.monotonic() - started)

    def _report(self, result, seconds):
        geography, organisation = result.geography, result.organisation
        staff = sum(len(users) for users in organisation.by_role.values())
        self.stdout.write(
            f"Built {geography.subdistrict.name}: {len(geography.communities)} communities, "
            f"{len(geography.grids)} grids, {len(organisation.departments)} departments, {staff} staff"
        )
        if result.history is not None:
            self.stdout.write(f"History: {result.history.summary()}")
            for serial, at, error in result.history.failures[:5]:
                self.stderr.write(f"  case plan {serial}, step at {at}: {error}")
        self.stdout.write(f"Done in {seconds:.1f} s. Demo logins (also in {result.logins_path}):\n")
        self.stdout.write(result.logins_text)
