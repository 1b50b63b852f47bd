"""Alarm intake: deduplicate, suppress floods, apply the rules, open cases, dismiss.

`ingest(incoming)` is the one entry point of MQTT, webhook and tests. It is idempotent:
the same (source, origin, event id) always lands on one Alarm row, and the case it opens
is created with an idempotency key derived from that row, so a message delivered twice
(QoS 1, a restarted worker, a retried webhook) changes nothing the second time.

Two transactions: the alarm (rule decision, flood count, live event) is committed first;
when a rule wants a case, the snapshot is fetched outside any transaction and the case is
created in a second one. A worker killed between the two leaves the alarm `pending`, and
the redelivered message finishes the job.
"""

import datetime as dt
import hashlib
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.cases.models import Channel
from gridgov.cases.photos import prepare_photo
from gridgov.cases.services import create_case
from gridgov.core.errors import DomainError, IllegalTransition, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.geo.locator import locate
from gridgov.geo.models import Region
from gridgov.live import publish
from gridgov.org.models import StaffRole
from gridgov.org.permissions import require
from gridgov.org.roles import Role

from . import permissions  # noqa: F401
from . import settings as video_settings
from .models import Alarm, AlarmEvent, AlarmFlood, AlarmRule, AlarmSource, AlarmStatus, Camera, RuleAction

log = logging.getLogger(__name__)

CLOSED_STATUSES = (AlarmStatus.CASE_OPENED, AlarmStatus.SUPPRESSED, AlarmStatus.DISMISSED)


def ingest(incoming, *, now=None, fetch_snapshots=True):
    """Record one alarm message; open its case when a rule says so. Returns the Alarm."""
    now = now or timezone.now()
    alarm = record_alarm(incoming, now=now)
    if alarm.status == AlarmStatus.PENDING:
        snapshot = incoming.snapshot or (fetch_snapshot(alarm, incoming) if fetch_snapshots else None)
        try:
            alarm = open_case_for_alarm(alarm, snapshot=snapshot, now=now)
        except DomainError as exc:
            _account_cache["user"] = None  # the account may be fixed (scope) before the retry
            # The alarm is stored (pending); a refused case (e.g. the intake account has no
            # scope yet) must not block the queue. retry_pending_cases() tries again.
            log.error("alarm %s: the case was refused (%s); it stays pending", alarm.pk, exc)
    return alarm


def retry_pending_cases(*, limit=500):
    """Open the cases of alarms left pending (refused or interrupted before). Returns how many."""
    opened = 0
    for alarm in Alarm.objects.filter(status=AlarmStatus.PENDING).order_by("id")[:limit]:
        try:
            opened += open_case_for_alarm(alarm).status == AlarmStatus.CASE_OPENED
        except DomainError as exc:
            _account_cache["user"] = None
            log.error("alarm %s: the case was refused again (%s)", alarm.pk, exc)
            break
    return opened


# -- the alarm row ---------------------------------------------------------------------------
def record_alarm(incoming, *, now):
    with transaction.atomic():
        existing = locked_alarm(incoming)
        if existing is not None:
            return update_alarm(existing, incoming, now)
        try:
            with transaction.atomic():
                return create_alarm(incoming, now)
        except IntegrityError:
            # Another worker inserted the same event a moment ago: update it instead.
            return update_alarm(locked_alarm(incoming), incoming, now)


def locked_alarm(incoming):
    return (
        Alarm.objects.select_for_update()
        .filter(source=incoming.source, origin=incoming.origin, external_id=incoming.external_id)
        .first()
    )


def create_alarm(incoming, now):
    camera = Camera.objects.filter(code=incoming.camera_code).first() if incoming.camera_code else None
    alarm = Alarm(
        source=incoming.source,
        origin=incoming.origin,
        external_id=incoming.external_id,
        camera=camera,
        received_at=now,
        updated_at=now,
        **event_fields(incoming),
        **position(incoming, camera),
    )
    if flooded(alarm):
        alarm.status = AlarmStatus.SUPPRESSED
        alarm.save()
        count_suppressed(alarm)
        AlarmEvent.objects.create(alarm=alarm, action="suppressed", at=now)
        return alarm
    decide(alarm, now)
    alarm.save()
    AlarmEvent.objects.create(alarm=alarm, action="received", at=now, data={"rule": alarm.rule_id, "status": alarm.status})
    publish("video_alarm", alarm_payload(alarm), region_code=alarm.region_code)
    return alarm


def update_alarm(alarm, incoming, now):
    """A later message of the same event (Frigate update/end): refresh, maybe re-decide."""
    was_ended = alarm.ended_at is not None
    for name, value in event_fields(incoming).items():
        if name == "zones":
            value = sorted(set(alarm.zones) | set(value))
        elif name == "score" and alarm.score is not None and value is not None:
            value = max(alarm.score, value)
        elif value in (None, "", []) and name not in ("ended_at",):
            continue
        setattr(alarm, name, value)
    if alarm.ended_at is None and was_ended:
        alarm.ended_at = incoming.ended_at
    alarm.updates += 1
    alarm.updated_at = now
    if alarm.status == AlarmStatus.LOGGED:
        decide(alarm, now)  # new zones or labels may now match a rule that opens a case
    alarm.save()
    if alarm.ended_at is not None and not was_ended:
        AlarmEvent.objects.create(alarm=alarm, action="ended", at=now)
    return alarm


def event_fields(incoming):
    return {
        "label": incoming.label,
        "labels": incoming.labels,
        "sub_label": incoming.sub_label,
        "zones": incoming.zones,
        "severity": incoming.severity,
        "score": incoming.score,
        "value": incoming.value,
        "threshold": incoming.threshold,
        "started_at": incoming.started_at,
        "ended_at": incoming.ended_at,
        "has_snapshot": incoming.has_snapshot,
        "payload": incoming.payload,
    }


def position(incoming, camera):
    lon, lat = (incoming.lon, incoming.lat) if incoming.lon is not None else ((camera.lon, camera.lat) if camera else (None, None))
    if camera is not None and incoming.lon is None:
        return {"lon": lon, "lat": lat, "region_code": camera.region_code}
    if lon is None:
        return {"lon": None, "lat": None, "region_code": ""}
    try:
        return {"lon": lon, "lat": lat, "region_code": locate(lon, lat).region_code}
    except ValidationFailed:
        return {"lon": None, "lat": None, "region_code": ""}


# -- rules and floods --------------------------------------------------------------------------
def decide(alarm, now):
    """The first matching active rule decides; no rule: the alarm is only logged."""
    local_time = timezone.localtime(alarm.started_at).time()
    rule = next(
        (r for r in active_rules() if r.matches(source=alarm.source, labels=alarm.labels or [alarm.label], zones=alarm.zones, local_time=local_time)),
        None,
    )
    alarm.rule = rule
    alarm.status = AlarmStatus.PENDING if rule and rule.action == RuleAction.OPEN_CASE else AlarmStatus.LOGGED


_rules_cache = {"at": -1e9, "rules": []}
RULES_TTL = 10.0  # seconds: other processes see an edited rule within this time


def active_rules():
    """The active rules, cached per process: read once per alarm they were the biggest
    repeated query of the ingest loop. A save in this process clears the cache at once."""
    now = time.monotonic()
    if now - _rules_cache["at"] > RULES_TTL:
        _rules_cache["rules"] = list(AlarmRule.objects.filter(is_active=True).select_related("category").order_by("order", "id"))
        _rules_cache["at"] = now
    return _rules_cache["rules"]


def clear_rules_cache(**kwargs):
    _rules_cache["at"] = -1e9


def flooded(alarm):
    """More than `flood_limit` alarms of this camera/device within `flood_minutes`?"""
    limit, minutes = video_settings.value("flood_limit"), video_settings.value("flood_minutes")
    since = alarm.started_at - dt.timedelta(minutes=minutes)
    recent = Alarm.objects.filter(source=alarm.source, origin=alarm.origin, started_at__gt=since, started_at__lte=alarm.started_at)
    return recent.exclude(status=AlarmStatus.SUPPRESSED).count() >= limit


def count_suppressed(alarm):
    """Add the alarm to its window's summary; the first one of a window is published."""
    minutes = video_settings.value("flood_minutes")
    epoch = int(alarm.started_at.timestamp())
    start = dt.datetime.fromtimestamp(epoch - epoch % (minutes * 60), tz=dt.UTC)
    flood, created = AlarmFlood.objects.select_for_update().get_or_create(
        source=alarm.source, origin=alarm.origin, window_start=start,
        defaults={"region_code": alarm.region_code, "last_at": alarm.started_at},
    )
    flood.suppressed += 1
    flood.last_at = max(flood.last_at, alarm.started_at)
    flood.save(update_fields=["suppressed", "last_at"])
    if created:
        publish("alarm_flood", {"source": flood.source, "origin": flood.origin, "window_start": start.isoformat()}, region_code=alarm.region_code)
    return flood


# -- cases -------------------------------------------------------------------------------------
def open_case_for_alarm(alarm, *, snapshot=None, now=None):
    """Create the alarm's case (idempotent: the key is derived from the alarm)."""
    now = now or timezone.now()
    photos = usable_snapshot(snapshot)
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update(of=("self",)).select_related("rule", "camera").get(pk=alarm.pk)
        if alarm.status != AlarmStatus.PENDING:
            return alarm
        rule = alarm.rule
        case, _created = create_case(
            ingest_account(),
            channel=alarm_channel(alarm),
            description=case_description(alarm),
            category=rule.category if rule else None,
            priority=rule.priority if rule else None,
            lon=alarm.lon,
            lat=alarm.lat,
            photos=photos,
            idempotency_key=case_key(alarm),
            at=now,
        )
        alarm.case = case
        alarm.status = AlarmStatus.CASE_OPENED
        alarm.updated_at = now
        alarm.save(update_fields=["case", "status", "updated_at"])
        AlarmEvent.objects.create(alarm=alarm, action="case_opened", at=now, data={"case": case.pk, "snapshot": bool(photos)})
    return alarm


def alarm_channel(alarm):
    """视频告警 for camera alarms (Frigate, or a webhook naming a camera), else 物联感知."""
    from_camera = alarm.source in ("frigate", "frigate_review") or alarm.camera_id or alarm.payload.get("camera")
    return Channel.VIDEO_ALARM if from_camera else Channel.IOT


def case_key(alarm):
    """Stable per alarm; hashed because source/origin/event ids may be long."""
    digest = hashlib.sha256(f"{alarm.source}\x1f{alarm.origin}\x1f{alarm.external_id}".encode()).hexdigest()[:40]
    return f"alarm:{digest}"


def case_description(alarm):
    where = alarm.camera.name if alarm.camera_id else alarm.origin
    parts = [_("Alarm from %(where)s: %(label)s") % {"where": where, "label": alarm.label or "-"}]
    if alarm.zones:
        parts.append(_("zones: %(zones)s") % {"zones": ", ".join(alarm.zones)})
    if alarm.value is not None:
        parts.append(_("value %(value)s (threshold %(threshold)s)") % {"value": alarm.value, "threshold": alarm.threshold})
    parts.append(_("time: %(at)s") % {"at": timezone.localtime(alarm.started_at).strftime("%Y-%m-%d %H:%M:%S")})
    return clean_text("；".join(parts), "description", max_length=1000)


def usable_snapshot(snapshot):
    """A snapshot that is not a valid image is dropped (logged): the case still opens."""
    if not snapshot:
        return ()
    try:
        prepare_photo(snapshot)
    except ValidationFailed:
        log.warning("alarm snapshot is not a usable image; the case opens without it")
        return ()
    return (snapshot,)


def fetch_snapshot(alarm, incoming):
    """Frigate's snapshot of the event (GET <base>/api/events/<id>/snapshot.jpg), or None."""
    if not incoming.snapshot_event_id or not incoming.has_snapshot:
        return None
    base = frigate_base_url(alarm.source)
    if not base:
        return None
    url = f"{base.rstrip('/')}/api/events/{urllib.request.quote(incoming.snapshot_event_id, safe='')}/snapshot.jpg"
    limit = settings.GRIDGOV_MAX_PHOTO_BYTES
    try:
        with urllib.request.urlopen(url, timeout=video_settings.value("snapshot_timeout")) as response:
            data = response.read(limit + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("could not fetch snapshot %s: %s", url, exc)
        return None
    return data if len(data) <= limit else None


def frigate_base_url(source):
    code = "frigate" if source in ("frigate", "frigate_review") else source
    configured = AlarmSource.objects.filter(code=code, is_active=True).values_list("snapshot_base_url", flat=True).first()
    return configured or video_settings.value("frigate_url")


_account_cache = {"at": -1e9, "user": None}


def ingest_account():
    """The account that registers cases from alarms (cached per process for a minute)."""
    now = time.monotonic()
    if _account_cache["user"] is None or now - _account_cache["at"] > 60:
        _account_cache["user"] = load_ingest_account()
        _account_cache["at"] = now
    return _account_cache["user"]


def load_ingest_account():
    """An intake clerk over the whole tree, created on demand without a usable password
    (nobody signs in with it)."""
    User = get_user_model()
    username = video_settings.value("ingest_username")
    root = Region.objects.filter(parent__isnull=True).order_by(Length("code"), "code").first()
    user, created = User.objects.get_or_create(username=username, defaults={"display_name": _("Alarm intake"), "scope": root})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        StaffRole.objects.get_or_create(user=user, role=Role.INTAKE_CLERK)
    elif user.scope_id is None and root is not None:
        user.scope = root
        user.save(update_fields=["scope"])
    return User.objects.get(pk=user.pk)  # fresh: roles are cached on the instance


# -- staff actions -----------------------------------------------------------------------------
def dismiss_alarm(alarm, actor, *, reason, at=None):
    """Staff mark an alarm as false (误报). The case it opened, if any, stays for the
    centre to reject through the case workflow."""
    at = at or timezone.now()
    reason = clean_text(reason, "reason", max_length=500, required=True)
    with transaction.atomic():
        alarm = Alarm.objects.select_for_update().get(pk=alarm.pk if isinstance(alarm, Alarm) else alarm)
        require(actor, "alarm.dismiss", alarm)
        if alarm.status == AlarmStatus.DISMISSED:
            raise IllegalTransition(_("This alarm was already dismissed."), code="already_dismissed")
        previous = alarm.status
        alarm.status = AlarmStatus.DISMISSED
        alarm.updated_at = at
        alarm.save(update_fields=["status", "updated_at"])
        AlarmEvent.objects.create(alarm=alarm, action="dismissed", actor=actor, note=reason, at=at, data={"from": previous})
        publish("video_alarm", alarm_payload(alarm), region_code=alarm.region_code)
    return alarm


def alarm_payload(alarm):
    """What a screen may show of an alarm (no stream URLs, no raw payload)."""
    return {
        "id": alarm.pk,
        "source": alarm.source,
        "origin": alarm.origin,
        "camera": alarm.camera.name if alarm.camera_id else "",
        "label": alarm.label,
        "zones": alarm.zones,
        "status": alarm.status,
        "lon": round(alarm.lon, 6) if alarm.lon is not None else None,
        "lat": round(alarm.lat, 6) if alarm.lat is not None else None,
        "at": alarm.started_at.isoformat(),
    }


def recent_alarms(scope_code, *, since, limit=10):
    """The newest alarms in a region subtree that still matter (for the 应急指挥 panel)."""
    alarms = Alarm.objects.filter(started_at__gte=since).exclude(status__in=(AlarmStatus.DISMISSED, AlarmStatus.SUPPRESSED))
    if scope_code:
        alarms = alarms.filter(region_code__startswith=scope_code)
    return [alarm_payload(alarm) for alarm in alarms.select_related("camera").order_by("-started_at", "-id")[:limit]]
