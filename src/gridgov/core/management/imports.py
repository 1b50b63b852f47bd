"""A base for `gridgov import-…` commands: one file, all or nothing, run as a system administrator."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from gridgov.core.errors import ValidationFailed
from gridgov.org.roles import Role


class FileImportCommand(BaseCommand):
    """Subclasses set `noun` (what the summary counts) and implement
    `run_import(actor, data, filename) -> (created, updated)`."""

    noun = "rows"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--as-user", default=None, help="A system administrator's username (default: the first one).")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        actor = self.actor(options["as_user"])
        try:
            created, updated = self.run_import(actor, path.read_bytes(), path.name)
        except ValidationFailed as exc:
            details = "\n".join(f"  {where}: {'; '.join(map(str, msgs))}" for where, msgs in (exc.fields or {}).items())
            raise CommandError(f"{exc.message}\n{details}") from None
        self.stdout.write(f"{self.noun} created: {created}, updated: {updated}")

    def run_import(self, actor, data, filename):
        raise NotImplementedError

    def actor(self, username):
        users = get_user_model().objects.filter(role_assignments__role=Role.SYSADMIN, is_active=True)
        user = (users.filter(username=username) if username else users.order_by("id")).first()
        if user is None:
            raise CommandError("no active system administrator to import as (see --as-user)")
        return user
