"""`gridgov hotline-send-replies`: send every pending hotline reply whose retry time has
come (a safety net beside the task queue, e.g. from cron)."""

from django.core.management.base import BaseCommand

from ...replies import deliver_due


class Command(BaseCommand):
    help = "Send the pending 12345 hotline replies that are due."

    def handle(self, *args, **options):
        self.stdout.write(f"{deliver_due()} attempt(s) made")
