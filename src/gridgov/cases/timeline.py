"""The immutable, hash-chained timeline of a case (decision 0003).

Each CaseEvent stores hash = sha256(prev_hash + canonical JSON of its payload), the payload
being the case number, seq, time, actor, action, statuses, note, data and the SHA-256 of
its attachments. Editing or deleting any event, or swapping an attachment's file hash,
breaks the chain from that event on; `gridgov verify-timeline` reports such cases.
"""

import contextlib
import contextvars
import datetime as dt
import hashlib
import json

from django.db import connections, router
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from . import rows
from .models import Case, CaseAttachment, CaseEvent

_UTC = dt.timezone.utc


# -- hashing -------------------------------------------------------------------------------
def canonical_json(payload):
    return _CANONICAL.encode(payload)


# What json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False) gives,
# without building an encoder for every event.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash, payload):
    return hashlib.sha256((prev_hash + canonical_json(payload)).encode("utf-8")).hexdigest()


def event_payload(case_number, event, attachment_hashes=()):
    return {
        "case": case_number,
        "seq": event.seq,
        "at": event.at.astimezone(_UTC).isoformat(),
        "actor": event.actor_id,
        "action": event.action,
        "from": event.from_status,
        "to": event.to_status,
        "note": event.note,
        "data": event.data,
        "attachments": sorted(attachment_hashes),
    }


# -- writing -------------------------------------------------------------------------------
def append_event(
    case, *, actor, action, at, from_status="", to_status="", note="", data=None, attachment_hashes=(), first=False
):
    """Write the next event of `case` (locked by the caller).

    `attachment_hashes`: SHA-256 of the photos that will be attached to this event.
    `first=True` (a case just inserted) skips looking up the previous event.
    """
    if first:
        seq, prev_hash = 1, ""
    else:
        last = _last_event(case.pk)
        seq, prev_hash = (last[0] + 1, last[1]) if last else (1, "")
    event = new_event(case, seq, prev_hash, actor=actor, action=action, at=at, from_status=from_status,
                      to_status=to_status, note=note, data=data, attachment_hashes=attachment_hashes)
    rows.insert(event)
    return event


def new_event(case, seq, prev_hash, *, actor, action, at, from_status="", to_status="", note="", data=None,
              attachment_hashes=()):
    """The unsaved, hashed event `seq` of `case` (the hash needs the case number, not its id:
    a create prepares its first event before its transaction opens)."""
    event = rows.build(
        CaseEvent,
        case=case,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
        prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event_payload(case.number, event, attachment_hashes))
    return event


_LAST_EVENT_SQL = "SELECT seq, hash FROM cases_caseevent WHERE case_id = %s ORDER BY seq DESC LIMIT 1"


def _last_event(case_pk):
    """(seq, hash) of the newest event of a case: a fixed statement on every transition, so
    it is not rebuilt through the ORM each time."""
    connection = connections[router.db_for_write(CaseEvent)]
    return rows.fetch_row(connection, _LAST_EVENT_SQL, rows.native(_LAST_EVENT_SQL, connection), [case_pk])


# -- verifying -----------------------------------------------------------------------------
def chain_problems(case_number, events, attachment_hashes, expected_count):
    """Descriptions of what is wrong with the ordered `events` of one case ([] if intact).

    Every transition bumps `Case.version` and writes one event, so a case of version N has
    events 1..N: this also catches a cut-off tail, which a hash chain alone cannot see.
    """
    problems = []
    prev_hash = ""
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            problems.append(f"seq {event.seq}: expected seq {expected_seq} (an event is missing)")
        if event.prev_hash != prev_hash:
            problems.append(f"seq {event.seq}: prev_hash does not match the previous event")
        payload = event_payload(case_number, event, attachment_hashes.get(event.pk, ()))
        if event_hash(event.prev_hash, payload) != event.hash:
            problems.append(f"seq {event.seq}: contents do not match the stored hash")
        prev_hash = event.hash
    if len(events) != expected_count:
        problems.append(f"{len(events)} events for case version {expected_count} (events are missing)")
    return problems


def _attachment_hashes(case_ids):
    hashes = {}
    rows = CaseAttachment.objects.filter(case_id__in=case_ids, event__isnull=False).values_list("event_id", "sha256")
    for event_id, sha256 in rows:
        hashes.setdefault(event_id, []).append(sha256)
    return hashes


def verify_chain(case):
    """True when the timeline of `case` is complete and unaltered."""
    number, version = Case.objects.filter(pk=case.pk).values_list("number", "version").get()
    events = list(CaseEvent.objects.filter(case_id=case.pk).order_by("seq"))
    return not chain_problems(number, events, _attachment_hashes([case.pk]), version)


def broken_chains(cases, chunk_size=500):
    """Yield (case_number, problems) for every case in the `cases` queryset whose chain is broken."""
    rows = cases.order_by("pk").values_list("pk", "number", "version")
    batch = []
    for row in rows.iterator(chunk_size=chunk_size):
        batch.append(row)
        if len(batch) == chunk_size:
            yield from _check_batch(batch)
            batch = []
    if batch:
        yield from _check_batch(batch)


def _check_batch(batch):
    events_by_case = {pk: [] for pk, _number, _version in batch}
    for event in CaseEvent.objects.filter(case_id__in=events_by_case).order_by("case_id", "seq"):
        events_by_case[event.case_id].append(event)
    hashes = _attachment_hashes(list(events_by_case))
    for pk, number, version in batch:
        problems = chain_problems(number, events_by_case[pk], hashes, version)
        if problems:
            yield number, problems


# -- the database guard's escape hatch for `flush` -----------------------------------------
_unlocked = contextvars.ContextVar("gridgov_timeline_unlocked", default=False)


@contextlib.contextmanager
def unlocked_for_flush():
    """Let the SQLite triggers allow DELETE while `flush` empties the whole database."""
    token = _unlocked.set(True)
    try:
        yield
    finally:
        _unlocked.reset(token)


@receiver(connection_created)
def _register_sqlite_function(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function("gridgov_timeline_unlocked", 0, lambda: int(_unlocked.get()))
