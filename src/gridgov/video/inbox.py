"""The webhook's inbox: signed alarm pushes stored first, processed by the worker in batches
(store-and-forward, docs/decisions/0014-webhook-inbox.md).

- `accept(source, body)`: the webhook, after every check that must be answered at once
  (signature, replay window, JSON object, NUL characters, the alarm's fields), stores the
  push in ONE statement and answers 202 with the row's id. The row is unique on a key of
  (source, body), so a replayed push finds its row and gets the same id.
- `drain_once()`: the worker (`gridgov worker`, `DrainLoop`; `gridgov drain-webhooks`)
  takes up to `limit` queued rows, records their alarms through `alarms.ingest_many` (the
  MQTT ingest's batch path: dedup, flood control, rules, cases, live events) and marks the
  rows processed IN THE SAME TRANSACTION: a drain killed at any moment leaves the batch
  queued as a whole, and the next drain records it once.
- A batch that fails is retried one row at a time. A row its processing refuses (its
  fields, or a value the database refuses) is logged, counted and marked `refused` with the
  error; a row that fails for any other reason than the database being unreachable counts
  an attempt and is refused after MAX_ATTEMPTS: nothing is retried forever, nothing blocks
  the queue.
"""

import datetime as dt
import hashlib
import json
import logging
import threading
import time

from django.db import (
    DEFAULT_DB_ALIAS, DataError, IntegrityError, InterfaceError, OperationalError, close_old_connections, connections,
    transaction,
)
from django.utils import timezone

from gridgov.cases import rows
from gridgov.core.errors import ValidationFailed

from .alarms import clear_rules_cache, ingest_many, retry_pending_cases
from .models import InboxState, WebhookInbox
from .parsers import parse_sensor_alarm, refuse_nul_characters

log = logging.getLogger(__name__)

BATCH_SIZE = 500  # rows per transaction: on SQLite the webhook's INSERTs wait while one runs
POLL_SECONDS = 0.2  # an idle drain looks again after this long (latency bound)
MAX_ATTEMPTS = 5  # failures of one row (not the database's) before it is refused
HOUSEKEEPING_SECONDS = 60  # pending cases retried, old processed rows purged
KEEP_DAYS = 7  # processed rows kept this long (well beyond the replay window), then purged

# Never processable: the row is refused at once.
REFUSALS = (ValidationFailed, ValueError, DataError, IntegrityError)
# The database is away: nothing is the row's fault; the drain backs off and tries again.
DATABASE_TROUBLE = (OperationalError, InterfaceError)

TABLE = WebhookInbox._meta.db_table
_ACCEPT = (
    f"INSERT INTO {TABLE} (key, source, body, received_at, state, attempts, error)"
    " VALUES (%s, %s, %s, %s, 'queued', 0, '') ON CONFLICT DO NOTHING RETURNING id"
)
_FIND = f"SELECT id, state FROM {TABLE} WHERE key = %s"
_QUEUED = f"SELECT id, source, body, received_at FROM {TABLE} WHERE state = 'queued'"
_PROCESSED = f"UPDATE {TABLE} SET state = 'processed', alarm_id = %s, processed_at = %s, error = '' WHERE id = %s"
_REFUSED = f"UPDATE {TABLE} SET state = 'refused', processed_at = %s, error = %s WHERE id = %s"


def message_key(source, body):
    """Recognises a replay: the same source sending the same bytes (a new timestamp and
    signature do not make it a new message; an update of the event has other content)."""
    return hashlib.sha256(source.encode() + b"\n" + body).hexdigest()


# -- the webhook's side --------------------------------------------------------------------
def accept(source, body, message, *, now=None):
    """Store one checked push: (inbox id, state). `body` is the raw bytes the signature
    covers, `message` its decoded JSON (kept as sent; re-encoded only when the body was
    not UTF-8). One INSERT; a replay finds the row of the first push instead."""
    db = connections[DEFAULT_DB_ALIAS]
    key = message_key(source, body)
    try:
        text = body.decode()
    except UnicodeDecodeError:  # json.loads also reads UTF-16/32
        text = json.dumps(message, ensure_ascii=False)
    params = [key, source, text, db.ops.adapt_datetimefield_value(now or timezone.now())]
    if db.in_atomic_block:
        with transaction.atomic(using=db.alias):  # a savepoint keeps the caller's transaction usable
            row = rows.fetch_row(db, _ACCEPT, rows.native(_ACCEPT, db), params)
    else:
        row = _insert_alone(db, params)
    if row is not None:
        return row[0], InboxState.QUEUED
    return tuple(rows.fetch_row(db, _FIND, rows.native(_FIND, db), [key]))


def _insert_alone(db, params):
    """The INSERT as a statement of its own (atomic by itself, no BEGIN/COMMIT). On SQLite
    it queues on the writer lock (decision 0013) like every transaction, instead of
    sleeping in SQLite's busy handler while a drain batch holds the database; without
    Django's atomic() around it, half the CPU of the push's database work."""
    lock = db.writer_lock() if db.vendor == "sqlite" and hasattr(db, "writer_lock") else None
    if lock is None:
        return rows.fetch_row(db, _ACCEPT, rows.native(_ACCEPT, db), params)
    lock.acquire()
    try:
        return rows.fetch_row(db, _ACCEPT, rows.native(_ACCEPT, db), params)
    finally:
        lock.release()


# -- the worker's side ---------------------------------------------------------------------
def parse_push(source, body, received_at):
    """The Incoming alarm of a stored push, as the webhook parsed it when it came. An alarm
    without its own time started when the push was received, not when it is processed."""
    message = json.loads(body)
    refuse_nul_characters(message, body)
    # The size it came as: a payload within the limit is kept as sent, as on MQTT.
    incoming = parse_sensor_alarm(message, source=source, size=len(body.encode()))
    if message.get("at") in (None, ""):
        incoming.started_at = received_at
    return incoming


class Counts:
    def __init__(self):
        self.processed = self.refused = self.batches = 0


counts = Counts()  # of this process, for the worker's log and the tests


def queued_rows(db, limit, only_id=None):
    sql = _QUEUED + (" AND id = %s" if only_id is not None else "") + " ORDER BY id LIMIT %s"
    if db.vendor == "postgresql":
        sql += " FOR UPDATE SKIP LOCKED"  # two workers take different rows
    params = ([only_id] if only_id is not None else []) + [limit]
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    converters = db.ops.get_db_converters(WebhookInbox._meta.get_field("received_at").get_col(TABLE))
    field = WebhookInbox._meta.get_field("received_at")
    result = []
    for pk, source, body, received_at in found:
        for converter in converters:
            received_at = converter(received_at, field, db)
        result.append((pk, source, body, received_at))
    return result


def drain_once(limit=BATCH_SIZE, *, now=None):
    """Process up to `limit` queued pushes in one transaction; returns how many rows were
    taken (processed or refused). A failed batch is retried one row at a time."""
    db = connections[DEFAULT_DB_ALIAS]
    taken = []
    try:
        with transaction.atomic():
            taken = queued_rows(db, limit)
            if taken:
                record(db, taken, now or timezone.now())
    except DATABASE_TROUBLE:
        raise
    except Exception:
        log.warning("a batch of %d webhook pushes failed; processing them one at a time", len(taken), exc_info=True)
        # A rule deleted by another process within the cache's lifetime fails the alarm's
        # foreign key at commit: the retry decides with the rules as they are now.
        clear_rules_cache()
        return drain_one_by_one(db, [pk for pk, *_rest in taken], now)
    counts.batches += bool(taken)
    return len(taken)


def record(db, taken, now):
    """Parse, ingest and mark one batch (inside the caller's transaction)."""
    incomings, ids, refused = [], [], []
    for pk, source, body, received_at in taken:
        try:
            incomings.append(parse_push(source, body, received_at))
            ids.append(pk)
        except REFUSALS as exc:
            refused.append((pk, exc))
    alarms = ingest_many(incomings, now=now, fetch_snapshots=False) if incomings else []
    moment = db.ops.adapt_datetimefield_value(now)
    with db.cursor() as cursor:
        if ids:
            cursor.executemany(_PROCESSED, [[alarm.pk, moment, pk] for alarm, pk in zip(alarms, ids, strict=True)])
        if refused:
            cursor.executemany(_REFUSED, [[moment, describe(exc), pk] for pk, exc in refused])
    counts.processed += len(ids)
    for pk, exc in refused:
        refuse_logged(pk, exc)


def drain_one_by_one(db, ids, now):
    for pk in ids:
        try:
            with transaction.atomic():
                row = queued_rows(db, 1, only_id=pk)
                if row:
                    record(db, row, now or timezone.now())
        except DATABASE_TROUBLE:
            raise
        except REFUSALS as exc:
            mark_refused(db, pk, exc)
        except Exception as exc:
            log.exception("webhook push %s failed", pk)
            count_failure(db, pk, exc)
    return len(ids)


def describe(exc):
    fields = getattr(exc, "fields", None)
    return f"{type(exc).__name__}: {fields or exc}"[:2000]


def refuse_logged(pk, exc):
    counts.refused += 1
    log.warning("webhook push %s refused: %s", pk, describe(exc))


def mark_refused(db, pk, exc):
    with transaction.atomic():
        with db.cursor() as cursor:
            cursor.execute(_REFUSED, [db.ops.adapt_datetimefield_value(timezone.now()), describe(exc), pk])
    refuse_logged(pk, exc)


def count_failure(db, pk, exc):
    """One more failed attempt; at MAX_ATTEMPTS the row is refused (never retried forever)."""
    with transaction.atomic():
        row = WebhookInbox.objects.select_for_update().filter(pk=pk, state=InboxState.QUEUED).first()
        if row is None:
            return
        row.attempts += 1
        row.error = describe(exc)
        if row.attempts >= MAX_ATTEMPTS:
            row.state, row.processed_at = InboxState.REFUSED, timezone.now()
        row.save(update_fields=["attempts", "error", "state", "processed_at"])
    if row.state == InboxState.REFUSED:
        refuse_logged(pk, exc)


def drain_all(limit=BATCH_SIZE, *, now=None):
    """Process every queued push (tests, `gridgov drain-webhooks --once`); returns how many."""
    total = 0
    while taken := drain_once(limit, now=now):
        total += taken
    return total


def purge_processed(days=KEEP_DAYS, *, now=None):
    """Delete processed rows older than `days` (refused ones stay for inspection)."""
    before = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _by_model = WebhookInbox.objects.filter(state=InboxState.PROCESSED, processed_at__lt=before).delete()
    return deleted


class DrainLoop(threading.Thread):
    """The worker's thread: drain while there is a backlog, else look again every
    `poll_seconds` (the bound on how late an alarm appears when the queue was empty)."""

    def __init__(self, poll_seconds=POLL_SECONDS, limit=BATCH_SIZE):
        super().__init__(name="gridgov-webhook-drain", daemon=True)
        self.poll_seconds, self.limit = poll_seconds, limit
        self._stop_event = threading.Event()
        self._housekept = 0.0

    def run(self):
        backoff = self.poll_seconds
        while not self._stop_event.is_set():
            try:
                taken = drain_once(self.limit)
                self.housekeeping()
                backoff = self.poll_seconds
            except Exception:
                log.exception("draining the webhook inbox failed; retrying in %.1f s", backoff)
                taken = 0
                self._stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)
            finally:
                close_old_connections()
            if taken < self.limit:
                self._stop_event.wait(self.poll_seconds)

    def housekeeping(self):
        if time.monotonic() - self._housekept < HOUSEKEEPING_SECONDS:
            return
        self._housekept = time.monotonic()
        retry_pending_cases()  # cases refused before (e.g. no intake scope yet) or interrupted
        purge_processed()

    def stop(self, timeout=10.0):
        self._stop_event.set()
        self.join(timeout)
