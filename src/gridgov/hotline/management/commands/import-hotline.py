"""`gridgov import-hotline FILE.xlsx [--user NAME]`: a batch of 12345 orders, all or nothing.

The orders are received as --user (default: the hotline platform's service account made by
`gridgov hotline-account`)."""

from django.core.management.base import BaseCommand, CommandError

from gridgov.org.models import User

from ...importer import import_orders


class Command(BaseCommand):
    help = "Import 12345 hotline orders from an .xlsx file; with any bad row nothing is imported."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .xlsx file.")
        parser.add_argument(
            "--user", default="hotline12345", help="Username of the staff account the orders are received as (default: hotline12345)."
        )

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no such user: {options['user']}")
        try:
            handle = open(options["file"], "rb")
        except OSError as failure:
            raise CommandError(str(failure)) from None
        with handle:
            report = import_orders(handle, user)
        for item in report.skipped:
            self.stdout.write(f"row {item['row']}: {item['order_number']} already received, skipped")
        if not report.ok:
            for error in report.errors:
                self.stderr.write(f"row {error['row']} {error['field']}: {error['message']}")
            raise CommandError(f"nothing imported: {len(report.errors)} error(s)")
        self.stdout.write(f"{report.created} orders imported, {len(report.skipped)} duplicates skipped")
