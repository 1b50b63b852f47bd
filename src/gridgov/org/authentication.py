"""API token authentication that loads the user's scope without its boundary polygon.

Every request needs `user.scope_code`; DRF's TokenAuthentication loads the user only, so
the scope's region row (with a GeoJSON boundary that can run to megabytes for a district)
would be fetched and parsed on each request. Kept apart from org/api.py: DRF imports
authentication classes while rest_framework.views is still loading.
"""

import copy
import threading
import time

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

HEAVY_REGION_FIELDS = ("boundary", "bbox")


class TokenAuthentication(authentication.TokenAuthentication):
    """Token → (user with scope and roles), cached per process for TOKEN_CACHE.TTL seconds.

    The two queries (token + user + scope, roles) cost about as much as a whole case
    creation; API clients send many requests with one token. A save or delete of any
    token, user, role assignment or region in this process empties the cache (at once, so
    a revoked token or a deactivated user is refused on the next request); other
    processes notice within TTL seconds.
    """

    def authenticate_credentials(self, key):
        cached = TOKEN_CACHE.get(key)
        if cached is not None:
            return cached
        model = self.get_model()
        tokens = model.objects.select_related("user", "user__scope")
        tokens = tokens.defer(*(f"user__scope__{field}" for field in HEAVY_REGION_FIELDS))
        try:
            token = tokens.get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        token.user.roles  # noqa: B018 - loaded once, kept with the cached user
        TOKEN_CACHE.put(key, token.user, token)
        return _fresh_copy(token.user), token


class _TokenCache:
    TTL = 10.0
    MAX_ENTRIES = 10_000

    def __init__(self):
        self.entries = {}
        self.lock = threading.Lock()

    def get(self, key):
        entry = self.entries.get(key)
        if entry is None or entry[2] <= time.monotonic():
            return None
        user, token, _expires = entry
        return _fresh_copy(user), token

    def put(self, key, user, token):
        with self.lock:
            if len(self.entries) >= self.MAX_ENTRIES:
                self.entries.clear()
            self.entries[key] = (user, token, time.monotonic() + self.TTL)

    def clear(self, **kwargs):
        with self.lock:
            self.entries.clear()


def _fresh_copy(user):
    """A per-request copy: a view may set attributes on request.user without touching the
    cached one (loaded roles and scope come along)."""
    clone = copy.copy(user)
    clone._state = copy.copy(user._state)
    clone._state.fields_cache = dict(user._state.fields_cache)
    return clone


TOKEN_CACHE = _TokenCache()
for _model in ("authtoken.Token", "org.User", "org.StaffRole", "geo.Region"):
    post_save.connect(TOKEN_CACHE.clear, sender=_model, dispatch_uid=f"token_cache_{_model}_save")
    post_delete.connect(TOKEN_CACHE.clear, sender=_model, dispatch_uid=f"token_cache_{_model}_delete")
