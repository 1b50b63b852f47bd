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
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.cases.models import Case, CaseClock, ClockKind
from gridgov.catalog import worktime

from . import recipients
from .conf import setting
from .models import FiredWarning, Order, OrderStatus, Summons
from .notify import notify_users

logger = logging.getLogger(__name__)

OWNER_THRESHOLDS = (70, 90, 100)
ESCALATE_AT = 100
BATCH = 2000


def run_sweep(now=None):
    """One pass; returns counts {"warnings", "notifications", "late_check_ins", "overdue_orders"}."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        inserted = _fire_thresholds(now, token)
        sent = _notify_fired(token, now) if inserted else 0
        late, late_sent = _mark_late_check_ins(now)
        overdue, overdue_sent = _mark_overdue_orders(now)
    result = {
        "warnings": inserted,
        "notifications": sent + late_sent + overdue_sent,
        "late_check_ins": late,
        "overdue_orders": overdue,
    }
    logger.info("sla sweep: %s", result)
    return result


# -- thresholds --------------------------------------------------------------------------------
def _thresholds():
    second = setting("second_escalation")
    return tuple(setting("thresholds")), second


def _db_time(moment):
    return connection.ops.adapt_datetimefield_value(moment)


def _insert_select(threshold, where, params, now, token):
    """Insert a FiredWarning for every running clock matching `where` (set-based)."""
    warning = FiredWarning._meta.db_table
    clock = CaseClock._meta.db_table
    sql = (
        f"INSERT INTO {warning} (case_id, clock_id, threshold, fired_at, sweep) "
        f"SELECT c.case_id, c.id, %s, %s, %s FROM {clock} c "
        f"WHERE c.stopped_at IS NULL AND {where} "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [threshold, _db_time(now), token, *params])
        return max(cursor.rowcount, 0)


def _insert_ids(threshold, clock_ids, now, token):
    total = 0
    for start in range(0, len(clock_ids), BATCH):
        chunk = clock_ids[start:start + BATCH]
        marks = ", ".join(["%s"] * len(chunk))
        total += _insert_select(threshold, f"c.id IN ({marks})", chunk, now, token)
    return total


def _fire_thresholds(now, token):
    thresholds, second = _thresholds()
    at = _db_time(now)
    inserted = 0
    for threshold in thresholds:
        if threshold <= 70:
            inserted += _insert_select(threshold, "c.warn_at <= %s", [at], now, token)
        elif threshold >= 100:
            inserted += _insert_select(threshold, "c.due_at <= %s", [at], now, token)
        else:
            # Past the deadline every intermediate threshold has passed; in the warning band
            # compute the office-time point of each clock not yet warned at this threshold.
            inserted += _insert_select(threshold, "c.due_at <= %s", [at], now, token)
            inserted += _insert_ids(threshold, _band_clocks_past(threshold, now), now, token)
    if second:
        inserted += _insert_ids(second, _clocks_past_second(second, now), now, token)
    return inserted


def _not_fired(queryset, threshold):
    fired = FiredWarning.objects.filter(threshold=threshold).values("clock_id")
    return queryset.exclude(id__in=fired)


def _band_clocks_past(threshold, now):
    band = CaseClock.objects.filter(stopped_at__isnull=True, warn_at__lte=now, due_at__gt=now)
    rows = _not_fired(band, threshold).values_list("id", "started_at", "due_at", "limit_unit")
    fraction = threshold / 100
    return [pk for pk, start, due, unit in rows if worktime.fraction_point(start, due, unit, fraction) <= now]


def _clocks_past_second(threshold, now):
    """Clocks overdue by (threshold - 100)% of their allowed wall-clock time."""
    overdue = CaseClock.objects.filter(stopped_at__isnull=True, due_at__lte=now)
    rows = _not_fired(overdue, threshold).values_list("id", "started_at", "due_at")
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
    """Notifications for the warnings this pass inserted: owners, then the escalation chain."""
    _owners, second = _thresholds()
    directory = recipients.Directory()
    rows = FiredWarning.objects.filter(sweep=token).values_list(
        "case_id", "threshold", "clock__kind", "case__number", "case__region_code", "case__department_id"
    )
    messages = []
    for case_id, threshold, kind, number, region_code, department_id in rows.iterator(chunk_size=BATCH):
        ids = set()
        if threshold != second:
            ids |= directory.owners(kind, region_code, department_id)
        if threshold >= ESCALATE_AT and threshold != second:
            ids |= directory.covering(recipients.SHIFT_LEADS, region_code)
        if threshold == second:
            ids |= directory.covering(recipients.SUBDISTRICT_LEADERS, region_code)
        messages.append((ids, _threshold_text(threshold, number, ClockKind(kind).label), f"/cases/{case_id}/"))
    return notify_users(messages, at=now)


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
