"""The SLA sweep: timed warnings, escalation, late check-ins and overdue orders.

One pass (`run_sweep`) is idempotent and safe to run in two workers at once:
- Warnings are rows of FiredWarning, unique per (case, clock, threshold). Due thresholds
  are found and inserted set-based (INSERT ... SELECT ... ON CONFLICT DO NOTHING), tagged
  with this pass's token; only the rows this pass inserted are notified, in the same
  transaction. A worker stopped for a while fires every missed threshold once on restart.
- 70% is the clock's stored warn_at, 100% its due_at (both in office time, computed by the
  cases app), 90% is computed in Python (office time) only for clocks inside their warning
  band, and the second escalation (200%) in wall-clock time: due + (due - start).
- Late check-ins and overdue orders are marked with a conditional UPDATE of rows locked
  in this transaction, so each is marked and notified once.
"""

import logging
import uuid

from django.db import connection, transaction
from django.db.models import Count, DateTimeField, Exists, ExpressionWrapper, F, Min, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.cases.models import Case, CaseClock, ClockKind
from gridgov.catalog import worktime
from gridgov.org.models import User
from gridgov.web.models import Notification

from . import recipients
from .conf import setting
from .models import FiredWarning, Order, OrderStatus, Summons
from .channels import send_external
from .notify import notify_users

logger = logging.getLogger(__name__)

OWNER_THRESHOLDS = (70, 90, 100)
ESCALATE_AT = 100
BATCH = 2000


def run_sweep(now=None, *, budget=None, refresh_statistics=False):
    """One pass; returns counts {"warnings", "notifications", "late_check_ins",
    "overdue_orders", "more"}.

    At most `budget` warnings (default GRIDGOV_SUPERVISION["max_warnings_per_pass"]) fire in
    one pass, the most urgent deadlines first, so a pass after a long stop stays short and
    does not hold the write lock for long; "more" tells the caller to run another pass at
    once (the sla_sweep task enqueues it). `refresh_statistics`: during such a backlog the
    table of fired warnings grows faster than PostgreSQL's autovacuum re-plans it; the
    follow-up passes ANALYZE it first.
    """
    now = now or timezone.now()
    budget = budget or setting("max_warnings_per_pass")
    token = uuid.uuid4().hex
    if refresh_statistics and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {FiredWarning._meta.db_table}")
    with transaction.atomic():
        inserted = _fire_thresholds(now, token, budget)
        sent = _notify_fired(token, now) if inserted else 0
        late, late_sent = _mark_late_check_ins(now)
        overdue, overdue_sent = _mark_overdue_orders(now)
    result = {
        "warnings": inserted,
        "notifications": sent + late_sent + overdue_sent,
        "late_check_ins": late,
        "overdue_orders": overdue,
        "more": inserted >= budget,
    }
    logger.info("sla sweep: %s", result)
    return result


# -- thresholds --------------------------------------------------------------------------------
def _thresholds():
    second = setting("second_escalation")
    return tuple(setting("thresholds")), second


def _db_time(moment):
    return connection.ops.adapt_datetimefield_value(moment)


def _insert_select(threshold, where, params, now, token, limit):
    """Insert a FiredWarning for the running clocks matching `where` (set-based), at most
    `limit`, earliest deadline first."""
    warning = FiredWarning._meta.db_table
    clock = CaseClock._meta.db_table
    sql = (
        f"INSERT INTO {warning} (case_id, clock_id, threshold, fired_at, sweep) "
        f"SELECT c.case_id, c.id, %s, %s, %s FROM {clock} c "
        f"WHERE c.stopped_at IS NULL AND {where} "
        # Skip what already fired (an anti-join on the unique index); ON CONFLICT still
        # settles a race with another worker's pass.
        f"AND NOT EXISTS (SELECT 1 FROM {warning} w WHERE w.case_id = c.case_id AND w.clock_id = c.id AND w.threshold = %s) "
        "ORDER BY c.due_at, c.id LIMIT %s "
        "ON CONFLICT DO NOTHING"
    )
    if limit <= 0:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [threshold, _db_time(now), token, *params, threshold, limit])
        return max(cursor.rowcount, 0)


def _insert_ids(threshold, clock_ids, now, token, limit):
    total = 0
    for start in range(0, min(len(clock_ids), limit), BATCH):
        chunk = clock_ids[start:min(start + BATCH, limit)]
        marks = ", ".join(["%s"] * len(chunk))
        total += _insert_select(threshold, f"c.id IN ({marks})", chunk, now, token, len(chunk))
    return total


def _fire_thresholds(now, token, budget):
    thresholds, second = _thresholds()
    at = _db_time(now)
    inserted = 0
    for threshold in thresholds:
        if threshold <= 70:
            inserted += _insert_select(threshold, "c.warn_at <= %s", [at], now, token, budget - inserted)
        elif threshold >= 100:
            inserted += _insert_select(threshold, "c.due_at <= %s", [at], now, token, budget - inserted)
        else:
            # Past the deadline every intermediate threshold has passed; in the warning band
            # compute the office-time point of each clock not yet warned at this threshold.
            inserted += _insert_select(threshold, "c.due_at <= %s", [at], now, token, budget - inserted)
            if inserted < budget:
                inserted += _insert_ids(threshold, _band_clocks_past(threshold, now), now, token, budget - inserted)
    if second and inserted < budget:
        inserted += _insert_ids(second, _clocks_past_second(second, now), now, token, budget - inserted)
    return inserted


def _not_fired(queryset, threshold):
    # NOT EXISTS on the unique (case, clock, threshold) index: an anti-join. (NOT IN over a
    # subquery is not one on PostgreSQL and grew with the table of fired warnings.)
    fired = FiredWarning.objects.filter(case_id=OuterRef("case_id"), clock_id=OuterRef("pk"), threshold=threshold)
    return queryset.filter(~Exists(fired))


# A worker runs many passes: the office-time point of a clock in its warning band is
# computed once per (clock, start, deadline), not on every pass.
_points = {}
POINT_CACHE_SIZE = 200_000


def _point(pk, start, due, unit, fraction):
    key = (pk, start, due, unit, fraction)
    point = _points.get(key)
    if point is None:
        if len(_points) >= POINT_CACHE_SIZE:
            _points.clear()
        point = _points[key] = worktime.fraction_point(start, due, unit, fraction)
    return point


def _band_clocks_past(threshold, now):
    band = CaseClock.objects.filter(stopped_at__isnull=True, warn_at__lte=now, due_at__gt=now)
    rows = _not_fired(band, threshold).values_list("id", "started_at", "due_at", "limit_unit")
    fraction = threshold / 100
    return [pk for pk, start, due, unit in rows if _point(pk, start, due, unit, fraction) <= now]


def _clocks_past_second(threshold, now):
    """Clocks overdue by (threshold - 100)% of their allowed wall-clock time."""
    overdue = _not_fired(CaseClock.objects.filter(stopped_at__isnull=True, due_at__lte=now), threshold)
    if threshold == 200:
        # due + (due - start) <= now, in the database (no row leaves it unless it is due).
        second_at = ExpressionWrapper(F("due_at") + (F("due_at") - F("started_at")), output_field=DateTimeField())
        return list(overdue.alias(second_at=second_at).filter(second_at__lte=now).values_list("id", flat=True))
    rows = overdue.values_list("id", "started_at", "due_at")
    share = threshold / 100 - 1
    return [pk for pk, start, due in rows if due + (due - start) * share <= now]


# -- notifying ---------------------------------------------------------------------------------
def _threshold_text(threshold, number, kind_label):
    values = {"number": number, "clock": kind_label, "percent": threshold}
    if threshold < 100:
        return _("Case %(number)s: %(percent)d%% of the %(clock)s time is used.") % values
    if threshold == 100:
        return _("Case %(number)s: the %(clock)s time limit has passed.") % values
    return _("Case %(number)s: the %(clock)s time limit was passed long ago (%(percent)d%%); escalated.") % values


def _notify_fired(token, now):
    """Notifications for the warnings this pass inserted: owners, then the escalation chain.

    Warnings are grouped by (threshold, clock kind, region, department), which decides both
    the recipients and the text. The groups' recipients and texts go into a temporary table,
    and one INSERT ... SELECT joins it with the pass's warnings: a catch-up pass with
    100,000 warnings stays in the database. External channels get one digest per group.
    """
    _owners, second = _thresholds()
    directory = recipients.Directory()
    groups = (
        FiredWarning.objects.filter(sweep=token)
        .values("threshold", "clock__kind", "case__region_code", "case__department_id")
        .annotate(count=Count("id"), first_case=Min("case_id"), first_number=Min("case__number"))
        .order_by()
    )
    mapping, digests = [], []
    for group in groups:
        threshold, kind = group["threshold"], group["clock__kind"]
        region_code, department_id = group["case__region_code"], group["case__department_id"]
        ids = sorted(_recipients(directory, threshold, second, kind, region_code, department_id))
        if not ids:
            continue
        prefix, suffix = _threshold_text(threshold, NUMBER_MARK, ClockKind(kind).label).split(NUMBER_MARK)
        department_key = NO_DEPARTMENT if department_id is None else department_id
        mapping.extend((threshold, kind, region_code, department_key, user_id, prefix, suffix) for user_id in ids)
        digest = prefix + group["first_number"] + suffix
        if group["count"] > 1:
            digest += _(" (and %(more)d more cases)") % {"more": group["count"] - 1}
        digests.append((ids, digest, f"/cases/{group['first_case']}/"))
    if not mapping:
        return 0
    written = _insert_mapped(token, mapping, now)
    transaction.on_commit(lambda: send_external(digests))
    return written


NUMBER_MARK = "\x00number\x00"
NO_DEPARTMENT = -1
TEMP_TABLE = "supervision_sweep_recipients"


def _recipients(directory, threshold, second, kind, region_code, department_id):
    if threshold == second:
        return set(directory.covering(recipients.SUBDISTRICT_LEADERS, region_code))
    ids = set(directory.owners(kind, region_code, department_id))
    if threshold >= ESCALATE_AT:
        ids |= directory.covering(recipients.SHIFT_LEADS, region_code)
    return ids


def _insert_mapped(token, mapping, now):
    notification, case, clock = Notification._meta, Case._meta, CaseClock._meta
    quote = connection.ops.quote_name
    columns = ", ".join(quote(notification.get_field(name).column) for name in ("recipient", "text", "url", "created_at"))
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TEMP_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {TEMP_TABLE} (threshold INTEGER, kind VARCHAR(20), region_code VARCHAR(15), "
            "department_id BIGINT, user_id BIGINT, prefix VARCHAR(300), suffix VARCHAR(300))"
        )
        cursor.executemany(f"INSERT INTO {TEMP_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s)", mapping)
        # Without it SQLite scans the mapping once per warning.
        cursor.execute(f"CREATE INDEX {TEMP_TABLE}_key ON {TEMP_TABLE} (region_code, threshold, kind, department_id)")
        cursor.execute(f"ANALYZE {TEMP_TABLE}")  # a fresh table has no statistics for the planner
        cursor.execute(
            f"INSERT INTO {quote(notification.db_table)} ({columns}) "
            "SELECT m.user_id, SUBSTR(m.prefix || c.number || m.suffix, 1, 300), "
            "'/cases/' || CAST(c.id AS VARCHAR(20)) || '/', %s "
            f"FROM {quote(FiredWarning._meta.db_table)} f "
            f"JOIN {quote(case.db_table)} c ON c.id = f.case_id "
            f"JOIN {quote(clock.db_table)} k ON k.id = f.clock_id "
            f"JOIN {TEMP_TABLE} m ON m.threshold = f.threshold AND m.kind = k.kind AND m.region_code = c.region_code "
            f"AND m.department_id = COALESCE(c.department_id, {NO_DEPARTMENT}) "
            "WHERE f.sweep = %s",
            [_db_time(now), token],
        )
        written = max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {TEMP_TABLE}")
    return written


def _mark_late_check_ins(now):
    """Summonses past their check-in limit without a check-in: mark late, tell the department
    and the whistle's leader."""
    due = Summons.objects.select_for_update(of=("self",)).filter(
        checked_in_at__isnull=True, late=False, released_at__isnull=True, check_in_due_at__lte=now
    )
    rows = list(due.values_list("id", "case_id", "department_id", "whistle__blown_by_id", "case__number"))
    if not rows:
        return 0, 0
    Summons.objects.filter(id__in=[row[0] for row in rows], late=False).update(late=True, late_marked_at=now)
    directory = recipients.Directory()
    messages = []
    for _pk, case_id, department_id, blown_by, number in rows:
        ids = directory.by_department.get(department_id, set()) | {blown_by}
        text = _("Case %(number)s: a summoned department has not checked in in time.") % {"number": number}
        messages.append((ids, text, f"/cases/{case_id}/"))
    return len(rows), notify_users(messages, at=now)


def _mark_overdue_orders(now):
    due = Order.objects.select_for_update(of=("self",)).filter(status=OrderStatus.OPEN, overdue_at__isnull=True, reply_due_at__lte=now)
    rows = list(due.values_list("id", "case_id", "department_id", "issued_by_id", "kind", "case__number"))
    if not rows:
        return 0, 0
    Order.objects.filter(id__in=[row[0] for row in rows], overdue_at__isnull=True).update(overdue_at=now)
    directory = recipients.Directory()
    messages = []
    for _pk, case_id, department_id, issued_by, kind, number in rows:
        ids = directory.by_department.get(department_id, set()) | {issued_by}
        text = _("Case %(number)s: the reply to an order is overdue.") % {"number": number}
        messages.append((ids, text, f"/cases/{case_id}/"))
    return len(rows), notify_users(messages, at=now)


def open_case_count():
    """For the benchmark's baseline."""
    return Case.objects.filter(due_at__isnull=False).count()
