"""gridgov assessment-sheets --month 2026-10 --as USERNAME [--region CODE]

Computes the month's score sheets, acting as USERNAME (a grid lead, community secretary or
subdistrict leader: the sheets of their area), through the same service as the page's button.
"""

from django.core.management.base import BaseCommand, CommandError

from gridgov.assessment.services import generate_sheets
from gridgov.core.errors import DomainError
from gridgov.geo.models import Region
from gridgov.org.models import User


class Command(BaseCommand):
    help = "Compute the monthly score sheets of grid staff (regeneration keeps manual points and locked sheets)."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--as", dest="username", required=True, help="the staff account that generates")
        parser.add_argument("--region", default="", help="only staff of this region code's subtree")

    def handle(self, *args, **options):
        try:
            actor = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"no active staff account {options['username']!r}") from None
        region = None
        if options["region"]:
            region = Region.objects.filter(code=options["region"]).first()
            if region is None:
                raise CommandError(f"no region with code {options['region']!r}")
        try:
            result = generate_sheets(actor, options["month"], region=region)
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(
            f"{len(result['generated'])} sheets computed, {len(result['skipped_locked'])} locked sheets left unchanged"
        )
