"""Publishing to and reading from the LiveEvent outbox."""

import datetime as dt
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

NOTIFY_CHANNEL = "gridgov_live"


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    region_code: str
    data: dict

    def visible_to(self, scope_code):
        """Screens see the events of their region subtree ('' sees everything)."""
        return self.region_code.startswith(scope_code)


def publish(kind, data, *, region_code=""):
    """Record one event in the caller's transaction; it streams once that commits.

    One precompiled INSERT (gridgov.cases.rows): `objects.create()` compiled the statement
    anew for every event, on the path of every case transition."""
    from gridgov.cases.rows import build, insert
    from gridgov.screen.models import LiveEvent

    current = connections[DEFAULT_DB_ALIAS]
    row = build(LiveEvent, kind=kind, data=data, region_code=region_code or "")
    if current.vendor == "postgresql":
        _insert_and_notify(row, current)
    else:
        insert(row)
    current.on_commit(_wake_local_hub)
    return row


def _insert_and_notify(row, current):
    """PostgreSQL: the INSERT and the NOTIFY (delivered at commit, collapsed to one per
    transaction) in one statement, one round trip less on every case transition."""
    from gridgov.cases import rows

    plan = rows._plan(type(row), current)
    sql = plan.sql + ", pg_notify('%s', '')" % NOTIFY_CHANNEL
    rows.saved(row, rows.execute_returning(current, sql, sql, plan.values(row, current)), current.alias)


def publish_many(events):
    """Record many (kind, data, region_code) events in the caller's transaction at once."""
    from gridgov.cases.bulk import insert_rows
    from gridgov.cases.rows import build
    from gridgov.screen.models import LiveEvent

    # cases.bulk.insert_rows: bulk_create quoted every value into the statement on PostgreSQL.
    rows = insert_rows(
        [build(LiveEvent, kind=kind, data=data, region_code=region_code or "") for kind, data, region_code in events]
    )
    if rows and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [NOTIFY_CHANNEL])
    if rows:
        transaction.on_commit(_wake_local_hub)
    return rows


def _wake_local_hub():
    from .hub import wake_running_hub

    wake_running_hub()


def latest_id():
    """The id of the newest event (0 when there is none): a screen's resume point."""
    from gridgov.screen.models import LiveEvent

    return LiveEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def fetch_events(after_id, *, upto_id=None, extra_ids=(), limit=1000):
    """Events with id > after_id (and <= upto_id), plus the given ids, in id order."""
    from django.db.models import Q

    from gridgov.screen.models import LiveEvent

    condition = Q(id__gt=after_id)
    if upto_id is not None:
        condition &= Q(id__lte=upto_id)
    if extra_ids:
        condition |= Q(id__in=list(extra_ids))
    rows = LiveEvent.objects.filter(condition).order_by("id").values_list("id", "kind", "region_code", "data")[:limit]
    return [Event(*row) for row in rows]


def purge_events(older_than=dt.timedelta(days=7)):
    """Drop old outbox rows; screens that were away longer reload their overview anyway."""
    from gridgov.screen.models import LiveEvent

    return LiveEvent.objects.filter(created_at__lt=timezone.now() - older_than).delete()[0]
