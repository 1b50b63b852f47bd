"""Derived figures of changed cases, refreshed in batches off the request (decision 0012).

Every transition writes one `ChangedCase` row in its own transaction (`mark`). Figures
derived from cases — the screen's daily counts, the metrics facts — register a refresher
(`register`): a function taking a sorted list of case ids that brings its figures in line
with those cases as committed now. It must be idempotent and safe to run concurrently with
itself, because a case may be refreshed twice (two workers, a retry).

`refresh_pending()` takes up to `limit` marks, runs every refresher once over their case
ids and deletes the marks, all in one transaction: a crash leaves the marks for the next
round. The worker (`gridgov worker`, `RefreshLoop`) calls it about once a second, so a
transition costs the request one small INSERT instead of several upserts, and a burst of
2,000 creates costs the worker one pass over 2,000 ids (on PostgreSQL; on SQLite eight
passes over 250, so that requests never wait long for the one write lock).
"""

import logging
import threading

from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections, transaction

from . import rows
from .models import ChangedCase

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 2000
# On SQLite a refresh batch holds the database's one write lock, and every create or
# transition waits for it: at ~170 µs a case, 2,000 held it ~350 ms (after a 100,000-row
# hotline import, fifty such batches back to back); 250 bound the wait to ~45 ms.
SQLITE_LIMIT = 250
_refreshers = {}
_MARK_SQL = "INSERT INTO cases_changedcase (case_id) VALUES (%s)"
_NATIVE_MARK_SQL_SQLITE = _MARK_SQL.replace("%s", "?")


def register(name, refresher):
    """`refresher(case_ids)`: idempotent; called inside the refresh transaction."""
    _refreshers[name] = refresher


def mark(case_id):
    """Note in the caller's transaction that the case changed (one precompiled INSERT)."""
    current = connections[DEFAULT_DB_ALIAS]
    rows.execute(current, _MARK_SQL, _native_mark_sql(current), [case_id])


def _native_mark_sql(current):
    return _NATIVE_MARK_SQL_SQLITE if current.vendor == "sqlite" else _MARK_SQL


def mark_many(case_ids):
    from .bulk import insert_rows

    insert_rows([rows.build(ChangedCase, case_id=case_id) for case_id in case_ids])


def pending_count():
    return ChangedCase.objects.count()


def batch_limit():
    """Marks per refresh transaction on the default database."""
    return SQLITE_LIMIT if connections[DEFAULT_DB_ALIAS].vendor == "sqlite" else DEFAULT_LIMIT


def refresh_pending(limit=None):
    """Refresh the figures of up to `limit` (default: `batch_limit()`) marked cases; returns
    the number of marks handled."""
    limit = limit or batch_limit()
    with transaction.atomic():
        marks = list(
            ChangedCase.objects.select_for_update(skip_locked=True).order_by("id").values_list("id", "case_id")[:limit]
        )
        if not marks:
            return 0
        case_ids = sorted({case_id for _mark_id, case_id in marks})
        try:
            with transaction.atomic():
                _run_refreshers(case_ids)
        except Exception:
            logger.exception("batch refresh of %d cases failed; refreshing them one by one", len(case_ids))
            _refresh_one_by_one(case_ids)
        ChangedCase.objects.filter(id__in=[mark_id for mark_id, _case_id in marks]).delete()
    return len(marks)


def refresh_all(limit=None):
    """Drain every mark (tests, the demo seed, the benchmarks)."""
    total = 0
    while handled := refresh_pending(limit):
        total += handled
    return total


def _run_refreshers(case_ids):
    for refresher in _refreshers.values():
        refresher(case_ids)


def _refresh_one_by_one(case_ids):
    # One broken case must not hold back the figures of the others; a case that still fails
    # is logged and left to a rebuild (`gridgov rebuild_screen_counts`, `rebuild-metrics`).
    for case_id in case_ids:
        try:
            with transaction.atomic():
                _run_refreshers([case_id])
        except Exception:
            logger.exception("could not refresh the derived figures of case %s", case_id)


class RefreshLoop(threading.Thread):
    """The worker's thread that drains the marks every `seconds`."""

    def __init__(self, seconds=1.0, limit=None):
        super().__init__(name="gridgov-refresh-figures", daemon=True)
        self.seconds, self.limit = seconds, limit
        self._stop_event = threading.Event()

    def run(self):
        while not self._stop_event.is_set():
            try:
                limit = self.limit or batch_limit()
                busy = refresh_pending(limit) >= limit
            except Exception:
                logger.exception("refreshing derived figures failed; retrying")
                busy = False
            finally:
                close_old_connections()
            if not busy:
                self._stop_event.wait(self.seconds)

    def stop(self, timeout=5.0):
        self._stop_event.set()
        self.join(timeout)
