"""`gridgov hotline-account --scope CODE [--username NAME]`: the 12345 platform's service
account (role intake clerk, the given scope) and its API token, printed once."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from gridgov.geo.models import Region
from gridgov.org.models import StaffRole, User
from gridgov.org.roles import Role


class Command(BaseCommand):
    help = "Create (or refresh the token of) the 12345 hotline platform's service account."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="hotline12345")
        parser.add_argument("--scope", required=True, help="Region code the hotline's orders fall into (e.g. the subdistrict).")
        parser.add_argument("--rotate", action="store_true", help="Replace an existing token.")

    @transaction.atomic
    def handle(self, *args, **options):
        scope = Region.objects.filter(code=options["scope"]).first()
        if scope is None:
            raise CommandError(f"no region with code {options['scope']}")
        user, created = User.objects.get_or_create(
            username=options["username"], defaults={"display_name": "12345热线平台", "scope": scope}
        )
        if created:
            user.set_unusable_password()  # a service account signs in with its token only
            user.save()
        elif user.scope_id != scope.pk:
            user.scope = scope
            user.save(update_fields=["scope"])
        StaffRole.objects.get_or_create(user=user, role=Role.INTAKE_CLERK)
        if options["rotate"]:
            Token.objects.filter(user=user).delete()
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
