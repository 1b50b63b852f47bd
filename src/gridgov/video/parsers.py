"""Turn the messages of Frigate, our sensors and platform webhooks into `Incoming` alarms.

Parsing is tolerant (unknown keys are ignored; Frigate adds keys between versions) but
every text a device sends goes through clean_text, and a message we cannot use raises
ValidationFailed naming the field (the ingest worker logs and acknowledges it, so one bad
message never blocks the queue). Formats: docs/alarms.md.
"""

import base64
import binascii
import datetime as dt
import json
import math
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed
from gridgov.core.text import clean_text

SENSOR_KINDS = ("smoke", "water_level", "manhole_cover", "gas")
FRIGATE_EVENT_TYPES = ("new", "update", "end")


@dataclass
class Incoming:
    source: str  # frigate, frigate_review, sensor, or a webhook source's code
    origin: str  # camera code or device id
    external_id: str
    started_at: dt.datetime
    camera_code: str = ""
    label: str = ""
    labels: list = field(default_factory=list)
    sub_label: str = ""
    zones: list = field(default_factory=list)
    severity: str = ""
    score: float | None = None
    value: float | None = None
    threshold: float | None = None
    lon: float | None = None
    lat: float | None = None
    ended_at: dt.datetime | None = None
    has_snapshot: bool = False
    snapshot_event_id: str = ""  # Frigate event whose snapshot.jpg shows this alarm
    snapshot: bytes | None = None  # a base64 snapshot sent inline (our own format)
    iot: bool = False
    payload: dict = field(default_factory=dict)


def text(value, name, max_length, required=False):
    if value is None:
        value = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if plain(value) and len(value) <= max_length and (value or not required):
        return value  # what clean_text would return, without its per-character walk
    return clean_text(value, name, max_length=max_length, required=required, multiline=False)


def plain(value):
    """Printable ASCII without surrounding spaces or markup: clean_text leaves it as it is.
    (Most device text is: camera codes, labels, event ids.)"""
    return type(value) is str and value.isascii() and value.isprintable() and "<" not in value and value == value.strip()


def text_list(values, name, max_length=60, limit=20):
    if values in (None, ""):
        return []
    if not isinstance(values, (list, tuple)):
        raise ValidationFailed.field(name, _("Must be a list."), code="not_a_list")
    return sorted({text(v, name, max_length) for v in values[:limit] if v not in (None, "")})


def number(value, name, required=False):
    if value is None or value == "":
        if required:
            raise ValidationFailed.field(name, _("This field is required."), code="required")
        return None
    if isinstance(value, bool):
        raise ValidationFailed.field(name, _("Enter a number."), code="invalid")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValidationFailed.field(name, _("Enter a number."), code="invalid") from None
    if not math.isfinite(result):
        raise ValidationFailed.field(name, _("Enter a number."), code="invalid")
    return result


def moment(value, name, required=False):
    """Epoch seconds (Frigate) or ISO-8601 with a zone (ours)."""
    if value in (None, ""):
        if required:
            raise ValidationFailed.field(name, _("This field is required."), code="required")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not math.isfinite(value) or not 0 < value < 32503680000:
            raise ValidationFailed.field(name, _("Enter a valid time."), code="invalid")
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed.field(name, _("Enter an ISO-8601 time with its zone."), code="invalid")
    return parsed


def refuse_nul_characters(message, raw, name="body"):
    """ValidationFailed when the decoded JSON `message` holds a NUL character in any key or
    string: PostgreSQL keeps neither in text nor in jsonb, so storing the payload would fail
    as a server error. `raw` (the bytes it came as) spares the walk for nearly every message:
    a NUL can only arrive escaped, as \\u0000."""
    escaped = "\\u0000" if isinstance(raw, str) else b"\\u0000"
    if escaped in raw and _holds_nul(message):
        raise ValidationFailed.field(name, _("NUL characters (\\u0000) are not allowed."), code="nul_character")


def _holds_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in key or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def require_object(value, name):
    if not isinstance(value, dict):
        raise ValidationFailed.field(name, _("Must be a JSON object."), code="not_an_object")
    return value


def sub_label_of(value):
    # Frigate 0.12 sends a string, 0.13+ a [name, score] pair.
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return text(value, "sub_label", 60)


def parse_frigate_event(message, *, size=None):
    """`frigate/events`: {"type": new|update|end, "before": {...}, "after": {...}}.

    Returns None for a false positive (Frigate may still publish it). `size`: bytes of the
    JSON it came as (see trimmed)."""
    message = require_object(message, "message")
    after = require_object(message.get("after") or message.get("before"), "after")
    if after.get("false_positive"):
        return None
    camera = text(after.get("camera"), "camera", 40, required=True)
    label = text(after.get("label"), "label", 40)
    event_id = text(after.get("id"), "id", 100, required=True)
    return Incoming(
        source="frigate",
        origin=camera,
        camera_code=camera,
        external_id=event_id,
        label=label,
        labels=[label] if label else [],
        sub_label=sub_label_of(after.get("sub_label")),
        zones=sorted(set(text_list(after.get("current_zones"), "current_zones")) | set(text_list(after.get("entered_zones"), "entered_zones"))),
        score=number(after.get("top_score", after.get("score")), "top_score"),
        started_at=moment(after.get("start_time"), "start_time", required=True),
        ended_at=moment(after.get("end_time"), "end_time") if message.get("type") == "end" or after.get("end_time") else None,
        has_snapshot=bool(after.get("has_snapshot")),
        snapshot_event_id=event_id,
        payload=trimmed(message, size),
    )


def parse_frigate_review(message, *, size=None):
    """`frigate/reviews`: the same before/after shape; severity alert|detection, data.objects."""
    message = require_object(message, "message")
    after = require_object(message.get("after") or message.get("before"), "after")
    data = require_object(after.get("data") or {}, "data")
    camera = text(after.get("camera"), "camera", 40, required=True)
    labels = text_list(data.get("objects"), "objects", 40)
    detections = text_list(data.get("detections"), "detections", 100)
    return Incoming(
        source="frigate_review",
        origin=camera,
        camera_code=camera,
        external_id=text(after.get("id"), "id", 100, required=True),
        label=labels[0] if labels else "",
        labels=labels,
        sub_label=", ".join(text_list(data.get("sub_labels"), "sub_labels", 60))[:60],
        zones=text_list(data.get("zones"), "zones"),
        severity=text(after.get("severity"), "severity", 20),
        started_at=moment(after.get("start_time"), "start_time", required=True),
        ended_at=moment(after.get("end_time"), "end_time"),
        has_snapshot=bool(detections),
        snapshot_event_id=detections[0] if detections else "",
        payload=trimmed(message, size),
    )


def parse_sensor_alarm(message, *, device_id="", source="sensor", size=None):
    """Our own format (topic gridgov/alarms/<device>, or a webhook body):
    {device_id, kind, value, threshold, lon, lat, at, event_id[, camera, label, zones, snapshot]}."""
    message = require_object(message, "message")
    camera = text(message.get("camera"), "camera", 40)
    device = text(message.get("device_id") or device_id, "device_id", 60, required=not camera)
    kind = text(message.get("kind") or message.get("label"), "kind", 40, required=True)
    if not camera and kind not in SENSOR_KINDS:
        raise ValidationFailed.field("kind", _("Unknown sensor kind."), code="invalid_choice")
    lon, lat = number(message.get("lon"), "lon"), number(message.get("lat"), "lat")
    if (lon is None) != (lat is None):
        raise ValidationFailed.field("lat" if lat is None else "lon", _("Give both longitude and latitude, or neither."), code="incomplete_coordinates")
    return Incoming(
        source=source,
        origin=camera or device,
        camera_code=camera,
        external_id=text(message.get("event_id"), "event_id", 100, required=True),
        label=kind,
        labels=[kind],
        zones=text_list(message.get("zones"), "zones"),
        value=number(message.get("value"), "value"),
        threshold=number(message.get("threshold"), "threshold"),
        lon=lon,
        lat=lat,
        started_at=moment(message.get("at"), "at") or timezone.now(),
        ended_at=moment(message.get("ended_at"), "ended_at"),
        snapshot=inline_snapshot(message.get("snapshot")),
        has_snapshot=bool(message.get("snapshot")),
        iot=not camera,
        payload=trimmed({k: v for k, v in message.items() if k != "snapshot"} if "snapshot" in message else message, size),
    )


def inline_snapshot(value):
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationFailed.field("snapshot", _("Send the snapshot as base64 text."), code="invalid")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.field("snapshot", _("Send the snapshot as base64 text."), code="invalid") from None


PAYLOAD_LIMIT = 8000  # bytes of JSON kept per alarm (the last message of its event)
LONG_TEXT = 500  # characters: a longer string (a base64 thumbnail) is dropped from a big payload
LONG_LIST = 50  # items kept of a list in a big payload


def trimmed(message, size=None, limit=PAYLOAD_LIMIT):
    """The last payload is kept for the record, without huge fields (thumbnails).

    `size`: the bytes of JSON the message came as, when the caller knows them. A message
    that came within the limit is kept as it is: nothing huge fits in it, so the walk and
    the re-encoding below (a third of a Frigate message's parse) are skipped."""
    if size is not None and size <= limit:
        return message

    def walk(value):
        # Leaves are tested inline (no call per leaf).
        if isinstance(value, dict):
            return {k: walk(v) if isinstance(v, (dict, list)) else v for k, v in value.items() if not (isinstance(v, str) and len(v) > LONG_TEXT)}
        return [walk(v) if isinstance(v, (dict, list)) else v for v in value[:LONG_LIST] if not (isinstance(v, str) and len(v) > LONG_TEXT)]

    result = walk(message) if isinstance(message, (dict, list)) else message
    return result if len(json.dumps(result, default=str).encode()) <= limit else {"truncated": True}
