"""gridgov rebuild_screen_counts: recount the screen's daily counts from the cases.

Needed after cases were written outside the services (imports, SQL) or if a case_changed
receiver failed; the counts are otherwise kept up to date on every transition.
"""

import time

from django.core.management.base import BaseCommand

from gridgov.screen.daycounts import rebuild


class Command(BaseCommand):
    help = "Recount the big screen's daily counts from the cases table."

    def handle(self, *args, **options):
        started = time.monotonic()
        rows = rebuild()
        if options["verbosity"]:
            self.stdout.write(f"{rows} daily count rows in {time.monotonic() - started:.1f} s")
