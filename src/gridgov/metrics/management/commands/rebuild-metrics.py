"""gridgov rebuild-metrics: rewrite the per-case fact table from the cases."""

from django.core.management.base import BaseCommand
from django.db import transaction

from gridgov.metrics import facts


class Command(BaseCommand):
    help = "Rebuild the metrics fact table (one row per case) from the cases."

    def handle(self, *args, **options):
        with transaction.atomic():
            count = facts.rebuild()
        self.stdout.write(f"{count} cases")
