"""State changes of the screen app: kiosk tokens, patrol positions (camera status: gridgov.video).

Each change that a screen should see is published on the live bus in the same
transaction (gridgov.live.publish).
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import Forbidden, ValidationFailed
from gridgov.core.masking import mask_name
from gridgov.geo.coords import to_wgs84
from gridgov.geo.locator import locate
from gridgov.geo.models import Region
from gridgov.live import publish
from gridgov.org.roles import Role

from .models import InspectorPosition, KioskToken

PATROL_ROLES = (Role.GRID_INSPECTOR, Role.GRID_LEAD, Role.SYSADMIN)
# Phones queue positions while offline; older ones are history, not a live position.
MAX_POSITION_AGE = dt.timedelta(hours=24)
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)


# -- kiosk tokens --------------------------------------------------------------------------
def create_kiosk_token(actor, *, label, scope, expires_at):
    """Create a token; returns (token, raw). The raw value is shown once and never stored."""
    if not actor.has_role(Role.SYSADMIN):
        raise Forbidden(_("Only system administrators manage kiosk tokens."), code="role_not_allowed")
    if expires_at <= timezone.now():
        raise ValidationFailed.field("expires_at", _("The expiry must be in the future."))
    token = KioskToken(label=label, scope=scope, expires_at=expires_at, created_by=actor)
    raw = token.set_new_token()
    token.save()
    return token, raw


def revoke_kiosk_tokens(queryset, *, at=None):
    """Revoke at once; screens using these tokens get 403 on their next request."""
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=at or timezone.now())


# -- patrol positions ------------------------------------------------------------------------
def record_position(actor, *, lon, lat, accuracy=None, crs="wgs84", at=None):
    """Store a grid inspector's position and show it on the screens of their area."""
    if not actor.is_authenticated or not actor.has_role(*PATROL_ROLES):
        raise Forbidden(_("Only grid inspectors report patrol positions."), code="role_not_allowed")
    now = timezone.now()
    at = at or now
    check_position_time(at, now)
    lon, lat = to_wgs84(lon, lat, crs)
    accuracy = check_accuracy(accuracy)
    location = locate(lon, lat)
    with transaction.atomic():
        position = InspectorPosition.objects.create(
            user=actor, lon=lon, lat=lat, accuracy=accuracy, at=at,
            grid_id=location.grid_id, region_code=location.region_code,
        )
        publish("position", position_payload(position, actor, location), region_code=location.region_code)
    return position


def check_position_time(at, now):
    if at > now + MAX_CLOCK_SKEW:
        raise ValidationFailed.field("at", _("The time lies in the future."))
    if at < now - MAX_POSITION_AGE:
        raise ValidationFailed.field("at", _("The position is too old to report."))


def check_accuracy(accuracy):
    if accuracy is None or accuracy == "":
        return None
    try:
        value = float(accuracy)
    except (TypeError, ValueError):
        raise ValidationFailed.field("accuracy", _("Enter the accuracy in metres.")) from None
    if not 0 <= value <= 100_000:
        raise ValidationFailed.field("accuracy", _("Enter the accuracy in metres."))
    return value


def position_payload(position, user, location):
    grid_name = Region.objects.filter(pk=location.grid_id).values_list("name", flat=True).first() or ""
    return {
        "user": user.pk,
        "name": mask_name(user.display_name or user.username),
        "lon": round(position.lon, 6),
        "lat": round(position.lat, 6),
        "at": position.at.isoformat(),
        "grid": grid_name,
    }
