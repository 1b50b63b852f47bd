"""State changes of cameras: status from heartbeats, the offline sweep, import.

Status changes are published on the live bus in the same transaction, so open screens
update their camera layer and 应急指挥 counts (gridgov.live.publish).
"""

import datetime as dt

import h3
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed
from gridgov.core.text import clean_text
from gridgov.geo.coords import to_wgs84
from gridgov.geo.locator import locate
from gridgov.live import publish
from gridgov.org.permissions import require

from . import permissions  # noqa: F401  (camera.* actions exist whenever services do)
from . import settings as video_settings
from .models import Camera, CameraStatus


def camera_payload(camera, at):
    return {
        "id": camera.pk,
        "code": camera.code,
        "name": camera.name,
        "online": camera.status == CameraStatus.ONLINE,
        "at": at.isoformat(),
    }


def set_camera_status(camera, *, online, at=None):
    """Record a camera going on- or offline; a change is published once."""
    at = at or timezone.now()
    status = CameraStatus.ONLINE if online else CameraStatus.OFFLINE
    with transaction.atomic():
        camera = Camera.objects.select_for_update().get(pk=camera.pk if isinstance(camera, Camera) else camera)
        changed = camera.status != status
        camera.status = status
        if online:
            camera.last_seen_at = max(filter(None, [camera.last_seen_at, at]))
        camera.save(update_fields=["status", "last_seen_at"])
        if changed:
            publish("camera", camera_payload(camera, at), region_code=camera.region_code)
    return camera


def record_heartbeats(codes, *, at=None):
    """Cameras that sent a heartbeat are online, last seen `at`. Returns how many were known.

    Online cameras only move `last_seen_at` (one UPDATE); offline ones come back online
    one by one, so each comeback is published.
    """
    at = at or timezone.now()
    codes = sorted({clean_text(str(code), "cameras", max_length=40, multiline=False) for code in codes if code})
    with transaction.atomic():
        known = Camera.objects.filter(code__in=codes)
        known.filter(status=CameraStatus.ONLINE).filter(last_seen_at__lt=at).update(last_seen_at=at)
        known.filter(status=CameraStatus.ONLINE, last_seen_at=None).update(last_seen_at=at)
        for camera_id in known.filter(status=CameraStatus.OFFLINE).values_list("id", flat=True):
            set_camera_status(camera_id, online=True, at=at)
        return known.count()


def sweep_silent_cameras(*, silent_minutes=None, now=None):
    """Mark online cameras offline whose last heartbeat is older than `silent_minutes`."""
    now = now or timezone.now()
    minutes = silent_minutes if silent_minutes is not None else video_settings.camera_silent_minutes()
    cutoff = now - dt.timedelta(minutes=minutes)
    with transaction.atomic():
        silent = list(
            Camera.objects.select_for_update()
            .filter(status=CameraStatus.ONLINE, last_seen_at__lt=cutoff)
            .order_by("id")
        )
        for camera in silent:
            camera.status = CameraStatus.OFFLINE
            camera.save(update_fields=["status"])
            publish("camera", camera_payload(camera, now), region_code=camera.region_code)
    return len(silent)


def stream_url_for(user, camera):
    """The clear stream URL for a role with camera.view_stream; the read is audit-logged."""
    from gridgov.core.audit import log_sensitive_read

    require(user, "camera.view_stream", camera)
    log_sensitive_read(user, camera, ["stream_url"], purpose="camera stream", channel="web")
    return camera.stream_url


def masked_stream_url(url):
    """Scheme and host only: enough to tell streams apart, no path, no credentials."""
    if not url:
        return ""
    scheme, _sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/***" if rest else "***"


# -- registry --------------------------------------------------------------------------------
def camera_fields(row):
    """Check one camera's fields (from a form, the API or an import row); returns clean values.

    Raises ValidationFailed naming every bad field at once.
    """
    errors, clean = {}, {}

    def check(name, fn):
        try:
            clean[name] = fn()
        except ValidationFailed as exc:
            errors.update(exc.fields or {name: [exc.message]})

    check("code", lambda: clean_text(str(row.get("code") or ""), "code", max_length=40, required=True, multiline=False))
    check("name", lambda: clean_text(str(row.get("name") or ""), "name", max_length=100, required=True, multiline=False))
    check("vendor", lambda: clean_text(str(row.get("vendor") or ""), "vendor", max_length=40, multiline=False))
    check("stream_url", lambda: stream_url(row.get("stream_url")))
    check("position", lambda: to_wgs84(number(row.get("lon"), "lon"), number(row.get("lat"), "lat"), (row.get("crs") or "wgs84").strip().lower()))
    if errors:
        raise ValidationFailed(_("Check the camera's fields."), fields=errors)
    clean["lon"], clean["lat"] = clean.pop("position")
    return clean


def number(value, field):
    if value is None or str(value).strip() == "":
        raise ValidationFailed.field(field, _("This field is required."), code="required")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationFailed.field(field, _("Enter a number."), code="invalid") from None


def stream_url(value):
    url = clean_text(str(value or ""), "stream_url", max_length=500, multiline=False)
    if url and "://" not in url:
        raise ValidationFailed.field("stream_url", _("Enter a URL such as rtsp://host/stream."), code="invalid")
    return url


def placed(fields):
    """Grid, region code and H3 cell of a checked camera row."""
    location = locate(fields["lon"], fields["lat"])
    return {
        **fields,
        "grid_id": location.grid_id,
        "region_code": location.region_code,
        "h3": h3.latlng_to_cell(fields["lat"], fields["lon"], 9),
    }


def save_cameras(actor, rows):
    """Create or update cameras by code, all or nothing. `rows` are dicts of raw fields.

    Returns (created, updated). Any bad row: ValidationFailed whose `fields` maps
    "row N" to that row's messages, and nothing is written.
    """
    require(actor, "camera.change")
    checked, errors, seen = [], {}, set()
    for number_, row in enumerate(rows, start=1):
        try:
            fields = camera_fields(row)
        except ValidationFailed as exc:
            errors[f"row {number_}"] = [f"{name}: {' '.join(map(str, msgs))}" for name, msgs in exc.fields.items()]
            continue
        if fields["code"] in seen:
            errors[f"row {number_}"] = [_("code: this code appears twice in the file.")]
        seen.add(fields["code"])
        checked.append(placed(fields))
    if errors:
        raise ValidationFailed(_("Nothing was imported: fix the rows named below."), code="import_failed", fields=errors)
    if not checked:
        raise ValidationFailed.field("file", _("The file has no camera rows."), code="empty")
    return write_cameras(checked)


def write_cameras(checked):
    with transaction.atomic():
        existing = {c.code: c for c in Camera.objects.select_for_update().filter(code__in=[r["code"] for r in checked])}
        created, updated = [], []
        for row in checked:
            camera = existing.get(row["code"])
            if camera is None:
                created.append(Camera(**row, status=CameraStatus.OFFLINE))
                continue
            for name, value in row.items():
                setattr(camera, name, value)
            updated.append(camera)
        Camera.objects.bulk_create(created, batch_size=500)
        if updated:
            Camera.objects.bulk_update(updated, [f for f in checked[0] if f != "code"], batch_size=500)
    return len(created), len(updated)
