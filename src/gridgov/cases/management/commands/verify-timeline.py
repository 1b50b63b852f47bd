"""`gridgov verify-timeline`: check the hash chain of every case's timeline."""

from django.core.management.base import BaseCommand, CommandError

from gridgov.cases.models import Case
from gridgov.cases.timeline import broken_chains


class Command(BaseCommand):
    help = "Verify the hash chain of case timelines; exits with status 1 when any chain is broken."

    def add_arguments(self, parser):
        parser.add_argument("numbers", nargs="*", help="case numbers to check (default: every case)")

    def handle(self, *args, **options):
        numbers = options["numbers"]
        cases = Case.objects.all()
        if numbers:
            cases = cases.filter(number__in=numbers)
        total = cases.count()
        broken = 0
        for number, problems in broken_chains(cases):
            broken += 1
            self.stdout.write(f"BROKEN {number}")
            for problem in problems:
                self.stdout.write(f"  {problem}")
        if broken:
            raise CommandError(f"{broken} of {total} case timelines are broken")
        self.stdout.write(self.style.SUCCESS(f"{total} case timelines verified, none broken"))
