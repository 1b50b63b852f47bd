"""Alarm intake: deduplicate, suppress floods, apply the rules, open cases, dismiss.

`ingest_many(incomings)` (the MQTT worker's batches) and `ingest(incoming)` (webhook,
tests: a batch of one) are the entry points. They are idempotent: the same (source,
origin, event id) always lands on one Alarm row, and the case it opens is created with an
idempotency key derived from that row, so a message delivered twice (QoS 1, a restarted
worker, a retried webhook) changes nothing the second time.

A batch is written in one transaction with set-based queries (existing alarms of the
batch's events in one query, new ones in one INSERT, repeats in one UPDATE, rules and
flood counts in memory); messages of one event inside a batch are folded in order. When
a rule wants a case, the snapshot is fetched outside any transaction and the case is
created in a transaction of its own after the batch committed. A worker killed between
the two leaves the alarm `pending`, and the redelivered message finishes the job.
"""

import bisect
import datetime as dt
import hashlib
import logging
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import nullcontext

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.cases import rows
from gridgov.cases.bulk import insert_rows
from gridgov.cases.models import Channel
from gridgov.cases.photos import prepare_photo
from gridgov.cases.services import create_case
from gridgov.core.errors import DomainError, IllegalTransition, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.geo.locator import locate
from gridgov.geo.models import Region
from gridgov.live import publish
from gridgov.live.bus import NOTIFY_CHANNEL
from gridgov.live.hub import wake_running_hub
from gridgov.org.models import StaffRole
from gridgov.org.permissions import require
from gridgov.org.roles import Role
from gridgov.screen.models import LiveEvent

from . import permissions  # noqa: F401
from . import settings as video_settings
from .models import Alarm, AlarmEvent, AlarmFlood, AlarmRule, AlarmSource, AlarmStatus, Camera, RuleAction

log = logging.getLogger(__name__)

CLOSED_STATUSES = (AlarmStatus.CASE_OPENED, AlarmStatus.SUPPRESSED, AlarmStatus.DISMISSED)


def ingest(incoming, *, now=None, fetch_snapshots=True):
    """Record one alarm message; open its case when a rule says so. Returns the Alarm."""
    return ingest_many([incoming], now=now, fetch_snapshots=fetch_snapshots)[0]


def ingest_many(incomings, *, now=None, fetch_snapshots=True):
    """Record a batch of alarm messages in one transaction, then open the cases the rules
    want (in a second transaction, after the first committed). Returns the alarm of each
    message, in order; messages of one event share their alarm."""
    now = now or timezone.now()
    alarms = record_alarms(incomings, now=now)
    messages = {}
    for alarm, incoming in zip(alarms, incomings, strict=True):
        if alarm.status == AlarmStatus.PENDING:
            messages.setdefault(alarm.pk, (alarm, []))[1].append(incoming)
    # Snapshots are fetched first, outside any transaction; the batch's cases then commit
    # together (each case still in a savepoint of its own: a refused one stays pending).
    if not messages:
        return alarms
    snapshots = {pk: snapshot_for(alarm, own, fetch_snapshots) for pk, (alarm, own) in messages.items()}
    opened = open_cases([(alarm, snapshots[pk]) for pk, (alarm, _own) in messages.items()], now)
    return [opened.get(alarm.pk, alarm) for alarm in alarms]


def open_cases(alarms_and_snapshots, now):
    """open_case_for_alarm for a batch's pending alarms in one transaction, with one locking
    read of their statuses, one UPDATE and one INSERT of their timeline rows for all of
    them (per alarm, the ORM's three statements cost more than its create_case). Each case
    is created in a savepoint of its own: a refused one leaves its alarm pending. Returns
    the alarms by id."""
    opened, events = {}, []
    with transaction.atomic():
        statuses = locked_statuses([alarm.pk for alarm, _snapshot in alarms_and_snapshots])
        for alarm, snapshot in alarms_and_snapshots:
            if statuses.get(alarm.pk) != AlarmStatus.PENDING:
                opened[alarm.pk] = Alarm.objects.get(pk=alarm.pk)  # another worker got there first
                continue
            photos = usable_snapshot(snapshot)
            try:
                with transaction.atomic():
                    case = create_case_for(alarm, photos, now)
            except DomainError as exc:
                _account_cache["user"] = None  # the account may be fixed (scope) before the retry
                # The alarm is stored (pending); a refused case (e.g. the intake account has no
                # scope yet) must not block the queue. retry_pending_cases() tries again.
                log.error("alarm %s: the case was refused (%s); it stays pending", alarm.pk, exc)
                continue
            alarm.case, alarm.status, alarm.updated_at = case, AlarmStatus.CASE_OPENED, now
            events.append(rows.build(AlarmEvent, alarm=alarm, action="case_opened", at=now, data={"case": case.pk, "snapshot": bool(photos)}))
            opened[alarm.pk] = alarm
        mark_cases_opened([event.alarm for event in events], now)
        insert_rows(events)
    return opened


def locked_statuses(pks):
    """{id: status} of these alarms, their rows locked (PostgreSQL) until the transaction ends."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, status FROM video_alarm WHERE id IN ({placeholders(pks)}){lock}", pks)
        return dict(cursor.fetchall())


def mark_cases_opened(alarms, now):
    if not alarms:
        return
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE video_alarm SET case_id = %s, status = %s, updated_at = %s WHERE id = %s",
            [(alarm.case_id, AlarmStatus.CASE_OPENED, at, alarm.pk) for alarm in alarms],
        )


def snapshot_for(alarm, incomings, fetch_snapshots):
    """The snapshot sent inline, or else fetched for the latest message (which carries the
    latest has_snapshot)."""
    inline = next((incoming.snapshot for incoming in incomings if incoming.snapshot), None)
    return inline or (fetch_snapshot(alarm, incomings[-1]) if fetch_snapshots else None)


def retry_pending_cases(*, limit=500):
    """Open the cases of alarms left pending (refused or interrupted before). Returns how many."""
    opened = 0
    pending = Alarm.objects.filter(status=AlarmStatus.PENDING).select_related("rule__category", "camera").order_by("id")
    for alarm in pending[:limit]:
        try:
            opened += open_case_for_alarm(alarm).status == AlarmStatus.CASE_OPENED
        except DomainError as exc:
            _account_cache["user"] = None
            log.error("alarm %s: the case was refused again (%s)", alarm.pk, exc)
            break
    return opened


# -- the alarm rows --------------------------------------------------------------------------
def record_alarm(incoming, *, now):
    return record_alarms([incoming], now=now)[0]


def record_alarms(incomings, *, now):
    """Upsert the alarms of a batch in one transaction with set-based queries; returns the
    alarm of each message. Messages of one event are folded in order (new, update, end).
    A batch of one that starts a new event takes the shortcut of insert_new_alarm."""
    if len(incomings) == 1:
        alarm = insert_new_alarm(incomings[0], now=now)
        if alarm is not None:
            return [alarm]
    try:
        with transaction.atomic():
            return AlarmBatch(now).record(incomings)
    except IntegrityError:
        # Another process inserted one of these events a moment ago: this pass updates it.
        with transaction.atomic():
            return AlarmBatch(now).record(incomings)


def event_key(incoming):
    return (incoming.source, incoming.origin, incoming.external_id)


# -- one new alarm: the webhook's usual request ------------------------------------------------
def insert_new_alarm(incoming, *, now):
    """Store the first message of an event with the fewest statements, or return None.

    The INSERT itself checks what the batch path reads first: it adds the row only when
    the event is not stored yet (ON CONFLICT DO NOTHING on the unique event key) and the
    camera/device is below its flood limit (a COUNT in its WHERE, the FloodCounter rule
    for one alarm). Rules and position are decided in memory beforehand. The alarm, its
    "received" timeline row and its live event go in together: on PostgreSQL as one
    statement (atomic by itself: no BEGIN/COMMIT round trips), on SQLite as three in one
    short transaction. None means nothing was written (a repeat, a flood, or a row that
    changed meanwhile): the batch path then handles the message in full."""
    db = connections[DEFAULT_DB_ALIAS]  # once: every `connection.x` goes through a proxy
    camera = camera_by_code(incoming.camera_code, db) if incoming.camera_code else None
    alarm = rows.build(
        Alarm, source=incoming.source, origin=incoming.origin, external_id=incoming.external_id, camera=camera,
        received_at=now, updated_at=now, **event_fields(incoming), **position(incoming, camera),
    )
    decide(alarm, now)
    received = rows.build(AlarmEvent, alarm=alarm, action="received", at=now, data={"rule": alarm.rule_id, "status": alarm.status})
    write = _insert_in_one_statement if db.vendor == "postgresql" else _insert_in_one_transaction
    try:
        pk = write(alarm, received, now, db)
    except IntegrityError:
        return None  # e.g. its rule or camera was deleted a moment ago: the batch path decides again
    if pk is None:
        return None
    alarm.pk = pk
    alarm._state.adding, alarm._state.db = False, db.alias
    return alarm


def _alarm_and_flood_params(alarm, db):
    """The alarm's column values, then source, origin, window start, window end and limit
    for the flood COUNT of new_alarm_statement."""
    window = dt.timedelta(minutes=video_settings.value("flood_minutes"))
    adapt = db.ops.adapt_datetimefield_value
    return [
        *rows._plan(Alarm, db).values(alarm, db),
        alarm.source, alarm.origin, adapt(alarm.started_at - window), adapt(alarm.started_at), video_settings.value("flood_limit"),
    ]


def _insert_in_one_transaction(alarm, received, now, db):
    """SQLite: the conditional INSERT, then the timeline row and the live event (each a
    precompiled statement), under the writer lock. Returns the new id or None."""
    sql, native_sql = new_alarm_statement(db)
    params = _alarm_and_flood_params(alarm, db)  # converted before the lock is taken
    with transaction.atomic(using=db.alias):
        row = rows.fetch_row(db, sql, native_sql, params)
        if row is None:
            return None
        alarm.pk = received.alarm_id = row[0]
        rows.insert(received, using=db.alias)
        publish("video_alarm", alarm_payload(alarm), region_code=alarm.region_code)
    return alarm.pk


def _insert_in_one_statement(alarm, received, now, db):
    """PostgreSQL: the conditional INSERT with the timeline row, the live event (its id
    merged into the payload) and the live bus's NOTIFY as one statement. Outside a
    transaction it commits by itself; inside one, a savepoint keeps a refusal from
    breaking the caller's transaction. Returns the new id or None."""
    sql, native_sql = new_alarm_statement(db)
    live = alarm_payload(alarm)
    del live["id"]  # added by the statement
    as_json = AlarmEvent._meta.get_field("data").get_db_prep_save
    params = [
        *_alarm_and_flood_params(alarm, db),
        as_json(received.data, db), now,
        alarm.region_code, as_json(live, db), now,
    ]
    with transaction.atomic(using=db.alias) if db.in_atomic_block else nullcontext():
        found = rows.fetch_all(db, sql, native_sql, params, server_side_binding)
    if not found:
        return None
    transaction.on_commit(wake_running_hub, using=db.alias)  # as publish() does: now, or when the caller commits
    return found[0][0]


def server_side_binding(connection):
    """psycopg's own cursor: the parameters travel apart from the statement, where
    Django's client-side cursor quotes each of the thirty-odd values into its text.
    (Preparing the statement as well saved no measurable PostgreSQL CPU: the writes
    themselves, twelve index entries of the alarm row among them, dominate.)"""
    import psycopg

    return psycopg.Cursor(connection.connection)


_new_alarm_statements = {}


def new_alarm_statement(connection):
    """The SQL of insert_new_alarm on this database, with Django's placeholders and the
    driver's, built once per process."""
    key = (connection.alias, connection.vendor)
    if key not in _new_alarm_statements:
        sql = _build_new_alarm_statement(connection)
        _new_alarm_statements[key] = (sql, rows.native(sql, connection))
    return _new_alarm_statements[key]


def _build_new_alarm_statement(connection):
    quote = connection.ops.quote_name
    fields = [field for field, *_rest in rows._plan(Alarm, connection).fields]
    postgres = connection.vendor == "postgresql"
    # PostgreSQL types the values of INSERT ... SELECT from the SELECT, not from the
    # columns: each is cast to its column's type (without a length: a cast would
    # truncate, the column refuses).
    values = ", ".join(f"CAST(%s AS {field.db_type(connection).split('(')[0]})" if postgres else "%s" for field in fields)
    recent = (
        f"SELECT COUNT(*) FROM {quote(Alarm._meta.db_table)} WHERE source = %s AND origin = %s"
        " AND started_at > %s AND started_at <= %s AND status <> 'suppressed'"
    )
    insert = (
        f"INSERT INTO {quote(Alarm._meta.db_table)} ({', '.join(quote(field.column) for field in fields)})"
        f" SELECT {values} WHERE ({recent}) < %s ON CONFLICT DO NOTHING RETURNING id"
    )
    if not postgres:
        return insert
    return (
        f"WITH new_alarm AS ({insert}),"
        f" timeline AS (INSERT INTO {quote(AlarmEvent._meta.db_table)} (alarm_id, action, actor_id, note, data, at)"
        "  SELECT id, 'received', NULL, '', CAST(%s AS jsonb), CAST(%s AS timestamp with time zone) FROM new_alarm),"
        f" live AS (INSERT INTO {quote(LiveEvent._meta.db_table)} (kind, region_code, data, created_at)"
        "  SELECT 'video_alarm', CAST(%s AS varchar), jsonb_build_object('id', id) || CAST(%s AS jsonb),"
        "  CAST(%s AS timestamp with time zone) FROM new_alarm)"
        f" SELECT id, pg_notify('{NOTIFY_CHANNEL}', '') FROM new_alarm"
    )


CAMERA_COLUMNS = ["id", "code", "name", "lon", "lat", "region_code"]


CAMERA_BY_CODE = f"SELECT {', '.join(CAMERA_COLUMNS)} FROM {Camera._meta.db_table} WHERE code = %s"


def camera_by_code(code, db):
    """The camera an alarm names (only what alarms use; the rest loads on access), or None."""
    row = rows.fetch_row(db, CAMERA_BY_CODE, rows.native(CAMERA_BY_CODE, db), [code])
    return Camera.from_db(db.alias, CAMERA_COLUMNS, row) if row else None


class AlarmBatch:
    """The alarms one batch touches, changed in memory and written with a few queries."""

    def __init__(self, now):
        self.now = now
        self.created = []  # new Alarm rows, in order
        self.changed = {}  # pk -> existing Alarm to update
        self.events = []  # AlarmEvent rows, in order
        self.suppressed = []

    def record(self, incomings):
        keys = {event_key(incoming) for incoming in incomings}
        alarms = existing_alarms(keys)
        firsts = {}
        for incoming in incomings:
            if event_key(incoming) not in alarms:
                firsts.setdefault(event_key(incoming), incoming)
        cameras = cameras_by_code({incoming.camera_code for incoming in firsts.values() if incoming.camera_code})
        self.floods = FloodCounter(list(firsts.values()))
        results = []
        for incoming in incomings:
            key = event_key(incoming)
            if key in alarms:
                self.update(alarms[key], incoming)
            else:
                alarms[key] = self.create(incoming, cameras.get(incoming.camera_code))
            results.append(alarms[key])
        self.save()
        return results

    def create(self, incoming, camera):
        now = self.now
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
        if self.floods.flooded(alarm):
            alarm.status = AlarmStatus.SUPPRESSED
            self.suppressed.append(alarm)
            self.events.append(AlarmEvent(alarm=alarm, action="suppressed", at=now))
        else:
            decide(alarm, now)
            self.floods.accept(alarm)
            self.events.append(AlarmEvent(alarm=alarm, action="received", at=now, data={"rule": alarm.rule_id, "status": alarm.status}))
        self.created.append(alarm)
        return alarm

    def update(self, alarm, incoming):
        if apply_update(alarm, incoming, self.now):
            self.events.append(AlarmEvent(alarm=alarm, action="ended", at=self.now))
        if alarm.pk is not None:
            self.changed[alarm.pk] = alarm

    def save(self):
        # insert_rows: bulk_create's INSERT without compiling it on every call.
        insert_rows(self.created)
        update_rows(self.changed.values())
        for event in self.events:
            event.alarm_id = event.alarm.pk
        insert_rows(self.events)
        count_suppressed(self.suppressed)
        for alarm in self.created:
            if alarm.status != AlarmStatus.SUPPRESSED:
                publish("video_alarm", alarm_payload(alarm), region_code=alarm.region_code)


def existing_alarms(keys):
    """The stored alarms of these events, locked, by event key: one precompiled query (IN
    lists on the three columns of the unique index, then the exact keys). The ORM spent
    longer compiling this query than the database running it. The payload is not read:
    every message replaces it (apply_update)."""
    if not keys:
        return {}
    sources, origins, external_ids = ({key[n] for key in keys} for n in range(3))
    sql = (
        f"SELECT {ALARM_COLUMNS} FROM video_alarm WHERE source IN ({placeholders(sources)}) AND origin IN ({placeholders(origins)})"
        f" AND external_id IN ({placeholders(external_ids)}) ORDER BY id{' FOR UPDATE' if connection.features.has_select_for_update else ''}"
    )
    found = ((event_key(alarm), alarm) for alarm in Alarm.objects.raw(sql, [*sources, *origins, *external_ids]))
    return {key: alarm for key, alarm in found if key in keys}


def placeholders(values):
    return ", ".join(["%s"] * len(values))


ALARM_COLUMNS = ", ".join(field.column for field in Alarm._meta.concrete_fields if field.name != "payload")


def cameras_by_code(codes):
    return {camera.code: camera for camera in Camera.objects.filter(code__in=codes)} if codes else {}


def locked_alarm(incoming):
    return existing_alarms({event_key(incoming)}).get(event_key(incoming))


UPDATED_FIELDS = [
    "label", "labels", "sub_label", "zones", "severity", "score", "value", "threshold", "started_at", "ended_at",
    "has_snapshot", "payload", "updates", "updated_at", "status", "rule",
]


def update_rows(alarms):
    """One prepared UPDATE for every changed alarm (executemany). Django's bulk_update
    builds a CASE per field and row, which cost more than all the rest of a batch."""
    alarms = list(alarms)
    if not alarms:
        return
    fields = [Alarm._meta.get_field(name) for name in UPDATED_FIELDS]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(Alarm._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"
    # Only JSON and time values need the backend's conversion; text and numbers go as they are.
    adapted = [(field.attname, field if isinstance(field, (models.JSONField, models.DateTimeField)) else None) for field in fields]
    rows = [
        [field.get_db_prep_save(getattr(alarm, name), connection) if field else getattr(alarm, name) for name, field in adapted] + [alarm.pk]
        for alarm in alarms
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def apply_update(alarm, incoming, now):
    """A later message of the same event (Frigate update/end), in memory: refresh, maybe
    re-decide. Returns True when this message ended the event."""
    ended_at = alarm.ended_at
    was_ended = ended_at is not None
    decided_on = rule_inputs(alarm)
    for name, value in event_fields(incoming).items():
        if name == "zones":
            value = sorted(set(alarm.zones) | set(value))
        elif name == "score" and alarm.score is not None and value is not None:
            value = max(alarm.score, value)
        elif value in (None, "", []) and name not in ("ended_at",):
            continue
        setattr(alarm, name, value)
    if alarm.ended_at is None and was_ended:
        alarm.ended_at = ended_at  # a late update (redelivered after the end) does not reopen it
    alarm.updates += 1
    alarm.updated_at = now
    if alarm.status == AlarmStatus.LOGGED and rule_inputs(alarm) != decided_on:
        decide(alarm, now)  # new zones or labels may now match a rule that opens a case
    return alarm.ended_at is not None and not was_ended


def rule_inputs(alarm):
    """What decide() reads of an alarm: an update that changes none of it decides nothing new."""
    return (alarm.source, alarm.label, list(alarm.labels or ()), list(alarm.zones or ()), alarm.started_at)


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
    labels, local_time, found = alarm.labels or [alarm.label], None, None
    for rule in active_rules():
        if local_time is None and rule.window_start is not None and rule.window_end is not None:
            # Only a time window reads the local time (Django's current zone: a context
            # variable lookup that cost a third of deciding).
            local_time = timezone.localtime(alarm.started_at).time()
        if rule.matches(source=alarm.source, labels=labels, zones=alarm.zones, local_time=local_time):
            found = rule
            break
    alarm.rule = rule = found
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


class FloodCounter:
    """Flood control for a batch of new alarms: more than `flood_limit` alarms of one
    camera/device within `flood_minutes` before an alarm suppress it. One grouped count
    for the batch's cameras/devices; only those near the limit fetch their recent times."""

    def __init__(self, incomings):
        self.limit = video_settings.value("flood_limit")
        self.window = dt.timedelta(minutes=video_settings.value("flood_minutes"))
        self.times = {}  # (source, origin) -> sorted start times of unsuppressed alarms
        if incomings:
            self.load(incomings)

    def load(self, incomings):
        arriving = Counter((incoming.source, incoming.origin) for incoming in incomings)
        earliest = min(incoming.started_at for incoming in incomings) - self.window
        latest = max(incoming.started_at for incoming in incomings)
        origins = sorted({origin for _source, origin in arriving})
        # Precompiled: the ORM took longer to build this than the database to answer it.
        recent = (
            f"FROM video_alarm WHERE origin IN ({placeholders(origins)}) AND started_at > %s AND started_at <= %s"
            " AND status <> 'suppressed'"
        )
        params = [*origins, *(connection.ops.adapt_datetimefield_value(moment) for moment in (earliest, latest))]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT source, origin, COUNT(*) {recent} GROUP BY source, origin", params)
            counts = {(source, origin): n for source, origin, n in cursor.fetchall()}
            # Fewer alarms in the whole span than the limit: none of the batch can flood.
            near = {key for key, n in arriving.items() if counts.get(key, 0) + n > self.limit}
            for key in near:
                self.times[key] = []
            if near:
                cursor.execute(f"SELECT source, origin, started_at {recent}", params)
                started = Alarm._meta.get_field("started_at")
                converters = connection.ops.get_db_converters(started.get_col(Alarm._meta.db_table))
                for source, origin, value in cursor.fetchall():
                    if (source, origin) in self.times:
                        for converter in converters:
                            value = converter(value, started, connection)
                        self.times[(source, origin)].append(value)
        for times in self.times.values():
            times.sort()

    def flooded(self, alarm):
        times = self.times.get((alarm.source, alarm.origin))
        if times is None:
            return False
        since = alarm.started_at - self.window
        return bisect.bisect_right(times, alarm.started_at) - bisect.bisect_right(times, since) >= self.limit

    def accept(self, alarm):
        times = self.times.get((alarm.source, alarm.origin))
        if times is not None:
            bisect.insort(times, alarm.started_at)


def count_suppressed(alarms):
    """Add suppressed alarms to their window's summary; the first one of a window is published."""
    minutes = video_settings.value("flood_minutes")
    windows = {}
    for alarm in alarms:
        epoch = int(alarm.started_at.timestamp())
        start = dt.datetime.fromtimestamp(epoch - epoch % (minutes * 60), tz=dt.UTC)
        windows.setdefault((alarm.source, alarm.origin, start), []).append(alarm)
    for (source, origin, start), members in windows.items():
        flood, created = AlarmFlood.objects.select_for_update().get_or_create(
            source=source, origin=origin, window_start=start,
            defaults={"region_code": members[0].region_code, "last_at": members[0].started_at},
        )
        flood.suppressed += len(members)
        flood.last_at = max([flood.last_at] + [alarm.started_at for alarm in members])
        flood.save(update_fields=["suppressed", "last_at"])
        if created:
            publish("alarm_flood", {"source": source, "origin": origin, "window_start": start.isoformat()}, region_code=members[0].region_code)


# -- cases -------------------------------------------------------------------------------------
def open_case_for_alarm(alarm, *, snapshot=None, now=None):
    """Create the alarm's case (idempotent: the key is derived from the alarm). The row is
    locked and its status checked again; the rest (rule, camera) is the caller's instance."""
    now = now or timezone.now()
    photos = usable_snapshot(snapshot)
    with transaction.atomic():
        status = Alarm.objects.select_for_update().filter(pk=alarm.pk).values_list("status", flat=True).first()
        if status != AlarmStatus.PENDING:
            return Alarm.objects.get(pk=alarm.pk)
        case = create_case_for(alarm, photos, now)
        Alarm.objects.filter(pk=alarm.pk).update(case=case, status=AlarmStatus.CASE_OPENED, updated_at=now)
        alarm.case, alarm.status, alarm.updated_at = case, AlarmStatus.CASE_OPENED, now
        AlarmEvent.objects.create(alarm=alarm, action="case_opened", at=now, data={"case": case.pk, "snapshot": bool(photos)})
    return alarm


def create_case_for(alarm, photos, now):
    """The alarm's case through the cases app (idempotent: the key is derived from the alarm)."""
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
    return case


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
