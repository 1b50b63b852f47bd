"""SLA clocks of a case: their state for lists, and the bookkeeping services use.

Rules (docs/contracts.md, "Case clocks"):
- 立案+派遣 (accept_dispatch) runs from creation (or from a return) until dispatch.
- 签收 (sign) runs from dispatch until sign-off.
- 处置 (handle) runs from dispatch until the handling feedback; its limit comes from the 小类
  or the dispatcher's due_at. A failed verification (返工) starts a fresh handle clock.
- 核查 (verify) runs from the handling feedback until verification.
- An approved extension moves the running handle clock's deadline.
- Parking (挂账) stops every running clock as `paused`; unparking starts a successor of each
  with the time that was left at parking (office time for working units, wall-clock time
  for natural hours), so the days spent parked do not count.
- A clock that stops after its due_at finished late: `overdue` on the clock and
  `was_overdue` on the case.
- Case.due_at / warn_at mirror the earliest running clock, so lists can filter and sort.
"""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import Case as When_, IntegerField, Q, Value, When
from django.utils import timezone

from gridgov.catalog import sla, worktime
from gridgov.catalog.models import TimeUnit

from . import rows
from .models import CaseClock, ClockState

URGENCY_ORDER = {ClockState.OVERDUE: 0, ClockState.WARNING: 1, ClockState.NORMAL: 2, None: 3}


# -- state for lists and pages ------------------------------------------------------------
def clock_state(case, now=None):
    """"normal" | "warning" (>= the warning fraction used) | "overdue" | None (no clock runs)."""
    if case.due_at is None:
        return None
    now = now or timezone.now()
    if now > case.due_at:
        return ClockState.OVERDUE
    if case.warn_at is not None and now >= case.warn_at:
        return ClockState.WARNING
    return ClockState.NORMAL


def clock_state_q(state, now=None):
    """The Q object selecting cases whose running clock is in `state` (None: no clock)."""
    now = now or timezone.now()
    if state in (None, "", "none"):
        return Q(due_at__isnull=True)
    if state == ClockState.OVERDUE:
        return Q(due_at__lt=now)
    if state == ClockState.WARNING:
        return Q(due_at__gte=now, warn_at__lte=now)
    if state == ClockState.NORMAL:
        return Q(due_at__gte=now) & (Q(warn_at__gt=now) | Q(warn_at__isnull=True))
    raise ValueError(f"unknown clock state {state!r}")


def filter_clock_state(queryset, state, now=None):
    return queryset.filter(clock_state_q(state, now))


def annotate_urgency(queryset, now=None):
    """Adds `urgency` (0 overdue, 1 warning, 2 normal, 3 no clock): order_by("urgency", "due_at")."""
    now = now or timezone.now()
    return queryset.annotate(
        urgency=When_(
            When(clock_state_q(ClockState.OVERDUE, now), then=Value(0)),
            When(clock_state_q(ClockState.WARNING, now), then=Value(1)),
            When(clock_state_q(ClockState.NORMAL, now), then=Value(2)),
            default=Value(3),
            output_field=IntegerField(),
        )
    )


# -- bookkeeping (called by services inside their transaction) ---------------------------
def new_clock(case, kind, at, *, due_at=None, limit=None):
    """An unsaved running clock of `kind` from `at`; `due_at` overrides the computed deadline."""
    value, unit = limit or sla.clock_limit(kind, category=case.category, priority=case.priority)
    due = due_at or worktime.add_time(at, value, unit)
    return rows.build(
        CaseClock,
        case=case,
        kind=kind,
        limit_value=value,
        limit_unit=unit,
        started_at=at,
        due_at=due,
        warn_at=warning_point(at, due, unit),
    )


def warning_point(start, due, unit):
    return worktime.fraction_point(start, due, unit, settings.GRIDGOV_SLA_WARNING_FRACTION)


def running_clocks(case):
    return rows.fetch_instances(CaseClock, _running_sql(), [case.pk])


_running_statements = {}


def _running_sql():
    """The running-clocks query of every transition, compiled once per database."""
    vendor = connection.vendor
    if vendor not in _running_statements:
        sql, _params = CaseClock.objects.filter(case_id=0, stopped_at__isnull=True).query.sql_with_params()
        _running_statements[vendor] = sql
    return _running_statements[vendor]


def stop(clock, at, *, paused=False):
    """Stop `clock` at `at` (saved); late stops mark the clock overdue."""
    clock.stopped_at = at
    clock.paused = paused
    clock.overdue = at > clock.due_at
    clock.save(update_fields=["stopped_at", "paused", "overdue"])
    return clock


class ClockBook:
    """The running clocks of one locked case; `commit()` writes the changes and the mirror."""

    def __init__(self, case, running=None):
        self.case = case
        self.running = running if running is not None else running_clocks(case)
        self.started = []

    def get(self, kind):
        return next((clock for clock in self.running if clock.kind == kind), None)

    def stop(self, at, *kinds, paused=False):
        """Stop the running clocks of `kinds` (all when none given)."""
        for clock in [c for c in self.running if not kinds or c.kind in kinds]:
            stop(clock, at, paused=paused)
            self.case.was_overdue = self.case.was_overdue or clock.overdue
            self.running.remove(clock)

    def start(self, kind, at, **kwargs):
        clock = new_clock(self.case, kind, at, **kwargs)
        self.started.append(clock)
        self.running.append(clock)
        return clock

    def move_deadline(self, clock, due_at):
        clock.due_at = due_at
        clock.warn_at = warning_point(clock.started_at, due_at, clock.limit_unit)
        if clock.pk:
            clock.save(update_fields=["due_at", "warn_at"])

    def resume(self, paused_clocks, parked_at, at):
        """Successors of the clocks paused at `parked_at`, with the time that was left then."""
        for clock in paused_clocks:
            successor = self.start(
                clock.kind,
                at,
                due_at=_shifted(clock.due_at, clock.limit_unit, parked_at, at),
                limit=(clock.limit_value, clock.limit_unit),
            )
            # A clock already in its warning band when parked stays there.
            successor.warn_at = _shifted(clock.warn_at, clock.limit_unit, parked_at, at)

    def commit(self):
        """Save new clocks and mirror the earliest running deadline onto the case (unsaved)."""
        if self.started:
            CaseClock.objects.bulk_create(self.started) if len(self.started) > 1 else rows.insert(self.started[0])
            self.started = []
        mirror_deadline(self.case, self.running)


def mirror_deadline(case, running):
    earliest = min(running, key=lambda clock: clock.due_at, default=None)
    case.due_at = earliest.due_at if earliest else None
    case.warn_at = earliest.warn_at if earliest else None
    handle = next((clock for clock in running if clock.kind == "handle"), None)
    if handle is not None:
        case.handle_due_at = handle.due_at


def _shifted(moment, unit, parked_at, at):
    """`moment` moved so that the time left from `parked_at` to it is left from `at` instead.

    Office time for working units, wall-clock time for natural hours; a moment already
    past at parking maps to `at` itself.
    """
    if unit == TimeUnit.NATURAL_HOURS:
        return at + max(moment - parked_at, dt.timedelta(0))
    left_seconds = max(0.0, worktime.working_seconds_between(parked_at, moment))
    if left_seconds == 0:
        return at
    return worktime.add_time(at, left_seconds / 3600, TimeUnit.WORKING_HOURS)
