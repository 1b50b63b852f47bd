"""Working-time arithmetic for case clocks (处置时限, 70% warnings, overdue checks).

Office time
    The office hours of a working day come from ``settings.GRIDGOV_OFFICE_HOURS``: a list of
    ``("HH:MM", "HH:MM")`` half-open intervals in local time (``settings.TIME_ZONE``), e.g.
    08:30-12:00 and 13:30-17:30.

Working days
    First the administrators' ``HolidayOverride`` days (admin: 节假日调整), then the official
    calendar of the ``chinese_calendar`` package (法定节假日 and 调休 make-up workdays, such as
    a Saturday that is a workday). For years outside the package's data (it is updated once
    a year when the State Council publishes the next year's holidays; 2004-2026 at the time
    of writing) Monday-Friday are workdays and weekends rest days, plus the overrides: enter
    the new year's 放假安排 as overrides, or upgrade the package. The first use of such a
    date is logged once per process. Dates outside ``FIRST_DAY``..``LAST_DAY`` raise
    ``ValueError``.

    Overrides are read on first use in a process and again after any HolidayOverride
    save/delete in this process (at once and at commit); other processes read them again
    after ``OVERRIDES_TTL`` seconds, at their next use outside a transaction (inside one,
    deadlines keep one calendar and no query is added to the transaction). Without
    database access (before migrating, in tests that use no database) the package
    calendar is used alone.

Units
    ``working_hours``: only office time counts.
    ``working_days``: N working days = N x (length of one working day in office time), so a
    case received at 10:00 on a workday is due at 10:00 N workdays later, and one received
    after hours (or on a holiday) is due at closing time N workdays later.
    ``natural_hours``: wall-clock hours, nights and holidays included (urgent classes).

How it works
    Every instant maps to a "working clock" reading: the office microseconds elapsed
    since ``FIRST_DAY``. A per-day table of workday ranks makes the reading O(1), and its
    inverse (reading -> earliest instant with that reading) O(1) too, so a deadline never
    loops over days. Deadlines that land exactly on the end of an office interval are given
    as that end (e.g. 17:30), not as the start of the next interval.

Inputs must be timezone-aware; results are aware datetimes in ``settings.TIME_ZONE``.
"""

import datetime as dt
import logging
import time
from array import array
from decimal import Decimal
from functools import cache
from itertools import accumulate, compress
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import HolidayOverride, TimeUnit

logger = logging.getLogger(__name__)

FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

_US_PER_SECOND = 1_000_000
_US_PER_HOUR = 3600 * _US_PER_SECOND
_UTC = dt.timezone.utc


OVERRIDES_TTL = 300.0  # seconds before another process's override edits are read


def official_workday(day):
    """Workday per the overrides, then the official calendar; Monday-Friday outside the
    package's data years."""
    return work_calendar().is_workday(day)


@cache
def _official_exceptions():
    """(make-up workday ordinals, holiday ordinals) from chinese_calendar's data."""
    makeup = frozenset(day.toordinal() for day in chinese_calendar.workdays)  # 调休 workdays
    holidays = frozenset(day.toordinal() for day in chinese_calendar.holidays)
    return makeup, holidays


def _is_workday_ordinal(ordinal, makeup, holidays):
    # Same rule as chinese_calendar.is_workday, on ordinals; (ordinal + 6) % 7 is the weekday.
    return ordinal in makeup or ((ordinal + 6) % 7 < 5 and ordinal not in holidays)


def calendar_data_years():
    """(first, last) year covered by the installed chinese_calendar data."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def _parse_office_hours(pairs):
    """[("08:30", "12:00"), ...] -> ((start_us, end_us), ...) since local midnight, validated."""
    intervals = []
    for pair in pairs:
        try:
            start, end = (_parse_clock(text) for text in pair)
        except (TypeError, ValueError) as exc:
            raise ImproperlyConfigured(f"GRIDGOV_OFFICE_HOURS: bad interval {pair!r}") from exc
        if start >= end:
            raise ImproperlyConfigured(f"GRIDGOV_OFFICE_HOURS: interval {pair!r} ends before it starts")
        intervals.append((start, end))
    intervals.sort()
    if not intervals:
        raise ImproperlyConfigured("GRIDGOV_OFFICE_HOURS must name at least one interval")
    for (_, previous_end), (next_start, _) in zip(intervals, intervals[1:]):
        if next_start < previous_end:
            raise ImproperlyConfigured("GRIDGOV_OFFICE_HOURS intervals overlap")
    return tuple(intervals)


def _parse_clock(text):
    hours, minutes = (int(part) for part in str(text).split(":"))
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise ValueError(text)
    return (hours * 3600 + minutes * 60) * _US_PER_SECOND


class WorkCalendar:
    """Office intervals plus the workday table between FIRST_DAY and LAST_DAY.

    `overrides`: {date: is_workday}, consulted before the package's data."""

    def __init__(self, office_hours, time_zone, overrides=None):
        self.intervals = _parse_office_hours(office_hours)
        self.day_length = sum(end - start for start, end in self.intervals)  # microseconds
        self.tz = ZoneInfo(time_zone)
        self.first_ordinal = FIRST_DAY.toordinal()
        day_count = LAST_DAY.toordinal() - self.first_ordinal + 1
        # rank[i]: workdays strictly before day i; workdays[k]: day index of the k-th workday.
        exceptions = _official_exceptions()
        flags = [_is_workday_ordinal(self.first_ordinal + index, *exceptions) for index in range(day_count)]
        for day, is_workday in (overrides or {}).items():
            if FIRST_DAY <= day <= LAST_DAY:
                flags[day.toordinal() - self.first_ordinal] = bool(is_workday)
        self.rank = array("q", accumulate(flags, initial=0))
        self.workdays = array("q", compress(range(day_count), flags))
        first_year, last_year = calendar_data_years()
        self.data_indexes = range(
            dt.date(first_year, 1, 1).toordinal() - self.first_ordinal,
            dt.date(last_year, 12, 31).toordinal() - self.first_ordinal + 1,
        )

    # -- instant <-> working clock ------------------------------------------------------
    def to_local(self, moment):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("working-time functions need timezone-aware datetimes")
        return moment.astimezone(self.tz)

    def _day_index(self, day):
        index = day.toordinal() - self.first_ordinal
        if not 0 <= index < len(self.rank) - 1:
            raise ValueError(f"{day} is outside the supported calendar {FIRST_DAY}..{LAST_DAY}")
        if index not in self.data_indexes:
            _note_beyond_package_data(day)
        return index

    def is_workday(self, day):
        index = self._day_index(day)
        return self.rank[index + 1] > self.rank[index]

    def reading(self, moment):
        """Office microseconds from FIRST_DAY 00:00 to `moment`."""
        return self.local_reading(self.to_local(moment))

    def local_reading(self, local):
        index = self._day_index(local.date())
        done_days = self.rank[index]
        reading = done_days * self.day_length
        if self.rank[index + 1] > done_days:  # today is a workday
            reading += self._office_before(_time_of_day_us(local))
        return reading

    def _office_before(self, time_us):
        total = 0
        for start, end in self.intervals:
            if time_us <= start:
                break
            total += min(time_us, end) - start
        return total

    def instant(self, reading):
        """The earliest local instant whose working-clock reading equals `reading`."""
        day_number, rest = divmod(reading, self.day_length)
        if rest == 0 and day_number > 0:  # the end of the previous workday, not the next morning
            day_number, rest = day_number - 1, self.day_length
        if not 0 <= day_number < len(self.workdays):
            raise ValueError("the result lies outside the supported calendar")
        day = dt.date.fromordinal(self.first_ordinal + self.workdays[day_number])
        return self._at(day, self._clock_time_for(rest))

    def _clock_time_for(self, office_us):
        for start, end in self.intervals:
            length = end - start
            if office_us <= length:
                return start + office_us
            office_us -= length
        return self.intervals[-1][1]

    def _at(self, day, time_us):
        midnight = dt.datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return midnight + dt.timedelta(microseconds=time_us)

    def is_working_time(self, moment):
        local = self.to_local(moment)
        index = self._day_index(local.date())
        if self.rank[index + 1] == self.rank[index]:
            return False
        time_us = _time_of_day_us(local)
        return any(start <= time_us < end for start, end in self.intervals)


def _time_of_day_us(local):
    return ((local.hour * 60 + local.minute) * 60 + local.second) * _US_PER_SECOND + local.microsecond


_beyond_data_logged = False


def _note_beyond_package_data(day):
    global _beyond_data_logged
    if not _beyond_data_logged:
        _beyond_data_logged = True
        first, last = calendar_data_years()
        logger.warning(
            "chinese_calendar has holiday data for %s-%s only; %s and other days outside it count "
            "Monday-Friday as workdays plus the holiday overrides (admin). Add the year's overrides "
            "or upgrade chinese_calendar.", first, last, day,
        )


class _Overrides:
    """The HolidayOverride days as {date: is_workday}, read at most every OVERRIDES_TTL s."""

    def __init__(self):
        self.days = {}
        self.loaded = False
        self.expires = 0.0

    def current(self):
        if self.loaded and (time.monotonic() < self.expires or connection.in_atomic_block):
            return self.days
        self.loaded, self.expires = True, time.monotonic() + OVERRIDES_TTL
        days = self._read(self.days)
        if days != self.days:
            self.days = days
        return self.days

    @staticmethod
    def _read(previous):
        try:
            return dict(HolidayOverride.objects.order_by().values_list("date", "is_workday"))
        except (DatabaseError, RuntimeError):
            # No table yet (before migrating) or no database access (tests without one).
            return previous

    def forget(self, **kwargs):
        self.loaded = False

    def replace(self, days):
        self.days, self.loaded, self.expires = dict(days), True, time.monotonic() + OVERRIDES_TTL


_overrides = _Overrides()
_calendar = None


def work_calendar():
    """The calendar for the current settings and overrides (rebuilt when they change)."""
    global _calendar
    overrides = _overrides.current()
    if _calendar is None or _calendar.overrides is not overrides:
        _calendar = WorkCalendar(settings.GRIDGOV_OFFICE_HOURS, settings.TIME_ZONE, overrides)
        _calendar.overrides = overrides
    return _calendar


def replace_overrides(days):
    """Use `days` ({date: is_workday}) as the overrides without reading them (tests that
    rolled their overrides back restore the committed state with this)."""
    _overrides.replace(days)


def forget_overrides(**kwargs):
    """Read the overrides again on the next use (after a save/delete, and once committed)."""
    _overrides.forget()
    if kwargs.get("sender") is not None:
        transaction.on_commit(_overrides.forget)


post_save.connect(forget_overrides, sender=HolidayOverride, dispatch_uid="worktime_overrides_saved")
post_delete.connect(forget_overrides, sender=HolidayOverride, dispatch_uid="worktime_overrides_deleted")


@receiver(setting_changed)
def _reset_calendar(setting, **kwargs):
    global _calendar
    if setting in {"GRIDGOV_OFFICE_HOURS", "TIME_ZONE"}:
        _calendar = None


# -- public API (docs/contracts.md) -------------------------------------------------------
def _unit(unit):
    try:
        return TimeUnit(unit)
    except ValueError:
        raise ValueError(f"unknown time unit {unit!r}") from None


def _duration_us(value, unit, calendar):
    """Microseconds of office time (working units) or of wall-clock time (natural hours)."""
    if isinstance(value, float | Decimal):
        value = Decimal(str(value))
    if value < 0:
        raise ValueError("a time limit cannot be negative")
    unit_us = calendar.day_length if unit == TimeUnit.WORKING_DAYS else _US_PER_HOUR
    return int(round(value * unit_us))


def add_time(start, value, unit):
    """The deadline `value` `unit`s after `start` (see the module docstring for the units)."""
    unit = _unit(unit)
    calendar = work_calendar()
    amount = _duration_us(value, unit, calendar)
    if unit == TimeUnit.NATURAL_HOURS:
        # Absolute time: add in UTC so a (historical) DST change cannot shift the result.
        return (calendar.to_local(start).astimezone(_UTC) + dt.timedelta(microseconds=amount)).astimezone(calendar.tz)
    local_start = calendar.to_local(start)
    return max(local_start, calendar.instant(calendar.local_reading(local_start) + amount))


def working_seconds_between(a, b):
    """Office seconds from `a` to `b` (negative when `b` is before `a`)."""
    calendar = work_calendar()
    return (calendar.reading(b) - calendar.reading(a)) / _US_PER_SECOND


def is_working_time(moment):
    """True during office hours of a workday."""
    return work_calendar().is_working_time(moment)


def fraction_point(start, due, unit, fraction):
    """The moment `fraction` (0..1) of the time from `start` to `due` is used, in `unit`'s clock.

    For working units only office time counts, so the 70% point of a deadline across a
    weekend lies where 70% of the office time is gone, not 70% of the calendar time.
    """
    unit = _unit(unit)
    calendar = work_calendar()
    local_start = calendar.to_local(start)
    if unit == TimeUnit.NATURAL_HOURS:
        return local_start + (calendar.to_local(due) - local_start) * fraction
    begin, end = calendar.reading(start), calendar.reading(due)
    return max(local_start, calendar.instant(begin + int(round((end - begin) * fraction))))


def elapsed_fraction(start, due, unit, now):
    """How much of the allowed time is used at `now`: 0 at start, 1 at `due`, above 1 when late.

    Never negative. A clock with no allowed time counts as fully used once `now` >= `due`.
    """
    unit = _unit(unit)
    if unit == TimeUnit.NATURAL_HOURS:
        allowed = (due - start).total_seconds()
        used = (now - start).total_seconds()
    else:
        calendar = work_calendar()
        begin = calendar.reading(start)
        allowed = calendar.reading(due) - begin
        used = calendar.reading(now) - begin
    if allowed <= 0:
        return 1.0 if now >= due else 0.0
    return max(0.0, used / allowed)
