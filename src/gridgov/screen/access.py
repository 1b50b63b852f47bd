"""Who may look at the big screen, and which part of the region tree they see.

Two ways in: a kiosk token (read-only wall display, scoped to one region) or a signed-in
leader. Either way the screen shows personal data masked: it is read across a hall.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import Forbidden
from gridgov.geo.models import Region
from gridgov.org.roles import Role

from .models import KioskToken, hash_token

LEADER_ROLES = (Role.SUBDISTRICT_LEADER, Role.COMMUNITY_SECRETARY, Role.SHIFT_LEAD, Role.SYSADMIN)
# Recording every use would write on each refresh; a coarse "last used" is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Viewer:
    scope_code: str  # '' = the whole tree
    scope_name: str
    kiosk_token_id: int | None = None
    user_id: int | None = None


def kiosk_viewer(raw_token, now=None):
    """The viewer behind a raw kiosk token; Forbidden when it is unknown, expired or revoked."""
    now = now or timezone.now()
    token = KioskToken.objects.select_related("scope").filter(token_hash=hash_token(raw_token or "")).first()
    if token is None or not token.is_usable(now):
        raise Forbidden(_("This screen link is invalid, expired or revoked."), code="kiosk_token_invalid")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        KioskToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return Viewer(scope_code=token.scope.code, scope_name=token.scope.name, kiosk_token_id=token.pk)


def leader_viewer(user):
    """The viewer for a signed-in leader; Forbidden for other roles or without a scope."""
    if not user.is_authenticated or not user.is_active or not user.has_role(*LEADER_ROLES):
        raise Forbidden(_("The big screen is for leaders and the duty shift only."), code="screen_role_not_allowed")
    code = user.scope_code
    if code is None:
        raise Forbidden(_("Your account has no area of responsibility."), code="out_of_scope")
    return Viewer(scope_code=code, scope_name=region_name(code), user_id=user.pk)


def region_name(code):
    if code == "":
        root = Region.objects.filter(parent__isnull=True).order_by("code").first()
        return root.name if root else ""
    return Region.objects.filter(code=code).values_list("name", flat=True).first() or code


def token_from_request(request):
    """A kiosk token from ?token= or the header `Authorization: Kiosk <token>`."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Kiosk "):
        return header[len("Kiosk "):].strip()
    return request.GET.get("token")


def viewer_for(request):
    raw = token_from_request(request)
    if raw is not None:
        return kiosk_viewer(raw)
    return leader_viewer(request.user)
