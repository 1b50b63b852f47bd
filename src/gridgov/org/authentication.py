"""API token authentication that loads the user's scope without its boundary polygon.

Every request needs `user.scope_code`; DRF's TokenAuthentication loads the user only, so
the scope's region row (with a GeoJSON boundary that can run to megabytes for a district)
would be fetched and parsed on each request. Kept apart from org/api.py: DRF imports
authentication classes while rest_framework.views is still loading.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

HEAVY_REGION_FIELDS = ("boundary", "bbox")


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        tokens = model.objects.select_related("user", "user__scope")
        tokens = tokens.defer(*(f"user__scope__{field}" for field in HEAVY_REGION_FIELDS))
        try:
            token = tokens.get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
