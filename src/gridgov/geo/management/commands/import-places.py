"""`gridgov import-places FILE.xlsx`: create or update places (名称, 类型, 别名, 网格编码, 经度, 纬度), all or nothing."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gridgov.core.errors import ValidationFailed
from gridgov.geo.addresses import import_places
from gridgov.org.roles import Role
from gridgov.video.importing import xlsx_table


class Command(BaseCommand):
    help = "Import places (columns 名称, 类型, 别名, 网格编码, 经度, 纬度) from an .xlsx file, all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--as-user", default=None, help="A system administrator's username (default: the first one).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = self.actor(options["as_user"])
        try:
            created, updated = import_places(actor, xlsx_table(path.read_bytes()))
        except ValidationFailed as exc:
            details = "\n".join(f"  {where}: {'; '.join(map(str, msgs))}" for where, msgs in (exc.fields or {}).items())
            raise CommandError(f"{exc.message}\n{details}") from None
        self.stdout.write(f"places created: {created}, updated: {updated}")

    def actor(self, username):
        users = get_user_model().objects.filter(role_assignments__role=Role.SYSADMIN, is_active=True)
        user = (users.filter(username=username) if username else users.order_by("id")).first()
        if user is None:
            raise CommandError("no active system administrator to import as (see --as-user)")
        return user
