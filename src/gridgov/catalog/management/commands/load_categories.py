from django.core.management.base import BaseCommand

from gridgov.catalog.standard import department_codes, link_default_departments, load_standard_categories


class Command(BaseCommand):
    help = "Load or refresh the standard case categories; --link only links default departments."

    def add_arguments(self, parser):
        parser.add_argument(
            "--link", action="store_true", help="Only fill empty default departments from the data's codes."
        )

    def handle(self, *args, link=False, **options):
        if link:
            linked = link_default_departments()
            self.stdout.write(f"linked {linked} categories")
        else:
            created, updated = load_standard_categories()
            self.stdout.write(f"created {created}, updated {updated} categories")
        codes = ", ".join(f"{code} {name}" for code, name in department_codes().items())
        self.stdout.write(f"department codes used by the data: {codes}")
