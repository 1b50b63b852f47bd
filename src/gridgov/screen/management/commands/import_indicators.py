"""`gridgov import_indicators FILE.xlsx`: monthly indicators from Excel, all or nothing."""

from django.core.management.base import BaseCommand, CommandError

from gridgov.screen.indicators import import_indicators


class Command(BaseCommand):
    help = "Import monthly indicators (党建引领/经济运行) from an .xlsx file; with any bad row nothing is imported."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the .xlsx file.")

    def handle(self, *args, **options):
        try:
            result = import_indicators(options["file"])
        except FileNotFoundError as error:
            raise CommandError(f"no such file: {options['file']}") from error
        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, {error.field}: {error.message}")
            raise CommandError(f"nothing imported: {len(result.errors)} problem(s)")
        self.stdout.write(f"imported {result.created} new, {result.updated} updated")
