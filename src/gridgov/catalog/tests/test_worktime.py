"""Working-time arithmetic against the 2026 official calendar.

2026 National Day + Mid-autumn (chinese_calendar 1.11 data): holidays Thu 1 Oct - Wed 7 Oct;
make-up workdays Sun 20 Sep and Sat 10 Oct. Office hours 08:30-12:00 and 13:30-17:30
(7.5 h a day).
"""

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from gridgov.catalog import worktime
from gridgov.catalog.models import TimeUnit
from gridgov.catalog.worktime import (
    add_time,
    elapsed_fraction,
    fraction_point,
    is_working_time,
    working_seconds_between,
)

TZ = ZoneInfo("Asia/Shanghai")
WH, WD, NH = TimeUnit.WORKING_HOURS, TimeUnit.WORKING_DAYS, TimeUnit.NATURAL_HOURS


def at(month, day, hour=0, minute=0, year=2026):
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


# -- the calendar --------------------------------------------------------------------------
def test_calendar_data_for_2026_is_what_the_tests_assume():
    assert chinese_calendar.is_holiday(dt.date(2026, 10, 1))
    assert chinese_calendar.is_holiday(dt.date(2026, 10, 7))
    assert chinese_calendar.is_workday(dt.date(2026, 10, 10))  # Saturday
    assert chinese_calendar.is_workday(dt.date(2026, 9, 20))  # Sunday


def test_table_agrees_with_chinese_calendar_for_every_day_of_its_data():
    first, last = worktime.calendar_data_years()
    day = dt.date(first, 1, 1)
    while day.year <= last:
        assert worktime.official_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_years_outside_the_data_fall_back_to_monday_to_friday():
    year = worktime.calendar_data_years()[1] + 1
    day = dt.date(year, 10, 1)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(day)
    assert worktime.official_workday(day) == (day.weekday() < 5)
    saturday = day + dt.timedelta(days=(5 - day.weekday()) % 7)
    assert not is_working_time(dt.datetime.combine(saturday, dt.time(10), tzinfo=TZ))


def test_is_working_time():
    assert is_working_time(at(9, 30, 8, 30))
    assert not is_working_time(at(9, 30, 12, 0))  # intervals are half-open
    assert not is_working_time(at(9, 30, 12, 45))  # lunch
    assert is_working_time(at(9, 30, 17, 29))
    assert not is_working_time(at(9, 30, 17, 30))
    assert not is_working_time(at(10, 5, 10))  # National Day holiday, a Monday
    assert is_working_time(at(10, 10, 10))  # make-up Saturday
    assert not is_working_time(at(10, 11, 10))  # ordinary Sunday


def test_other_time_zones_are_converted():
    utc_moment = dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 in Shanghai
    assert is_working_time(utc_moment)
    due = add_time(utc_moment, 1, WH)
    assert due == at(9, 30, 11) and due.tzinfo == TZ


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        add_time(dt.datetime(2026, 9, 30, 10), 1, WH)


def test_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        add_time(at(9, 30, 10), 1, "fortnights")


# -- add_time ------------------------------------------------------------------------------
def test_working_hours_within_a_morning():
    assert add_time(at(9, 29, 9), 2, WH) == at(9, 29, 11)


def test_working_hours_skip_lunch():
    assert add_time(at(9, 29, 11), 2, WH) == at(9, 29, 14, 30)


def test_start_at_lunch_counts_from_the_afternoon():
    assert add_time(at(9, 29, 12, 30), 1, WH) == at(9, 29, 14, 30)


def test_start_after_hours_counts_from_the_next_morning():
    assert add_time(at(9, 29, 19), 1, WH) == at(9, 30, 9, 30)


def test_deadline_across_national_day_break():
    # Wed 30 Sep 16:00: 1.5 h left that day, then Oct 1-7 off, resume Thu 8 Oct.
    assert add_time(at(9, 30, 16), 4, WH) == at(10, 8, 11)


def test_start_inside_the_break():
    assert add_time(at(10, 3, 10), 2, WH) == at(10, 8, 10, 30)


def test_make_up_saturday_is_a_working_day():
    assert add_time(at(10, 9, 17), 1, WH) == at(10, 10, 9)  # Fri 17:00 -> make-up Sat
    assert add_time(at(10, 10, 9), 2, WH) == at(10, 10, 11)


def test_deadline_on_closing_time_stays_on_that_day():
    assert add_time(at(9, 29, 16, 30), 1, WH) == at(9, 29, 17, 30)
    assert add_time(at(9, 29, 8, 30), 7.5, WH) == at(9, 29, 17, 30)


def test_working_days_keep_the_time_of_day():
    assert add_time(at(9, 29, 10), 1, WD) == at(9, 30, 10)
    # Tue 29 Sep + 3 workdays: 30 Sep, then 8 and 9 Oct.
    assert add_time(at(9, 29, 10), 3, WD) == at(10, 9, 10)
    # 4th workday is the make-up Saturday 10 Oct.
    assert add_time(at(9, 29, 10), 4, WD) == at(10, 10, 10)


def test_twenty_working_days_across_the_break():
    # Workdays after 30 Sep: 8, 9, 10 (Sat), 12-16, 19-23, 26-30 Oct, 2, 3 Nov.
    assert add_time(at(9, 30, 16), 20, WD) == at(11, 3, 16)


def test_working_day_received_after_hours_is_due_at_closing_time():
    assert add_time(at(9, 29, 20), 1, WD) == at(9, 30, 17, 30)
    assert add_time(at(9, 29, 12, 30), 1, WD) == at(9, 30, 12)


def test_natural_hours_run_through_nights_and_holidays():
    assert add_time(at(9, 30, 23), 2, NH) == at(10, 1, 1)
    assert add_time(at(10, 3, 10), 24, NH) == at(10, 4, 10)


def test_zero_time_is_the_start_itself():
    assert add_time(at(10, 3, 10), 0, WH) == at(10, 3, 10)


def test_negative_time_is_refused():
    with pytest.raises(ValueError):
        add_time(at(9, 29, 10), -1, WH)


def test_fractional_values():
    assert add_time(at(9, 29, 9), 0.5, WH) == at(9, 29, 9, 30)


# -- working_seconds_between -----------------------------------------------------------------
def test_working_seconds_between_across_the_break():
    assert working_seconds_between(at(9, 30, 16), at(10, 8, 11)) == 4 * 3600
    assert working_seconds_between(at(10, 8, 11), at(9, 30, 16)) == -4 * 3600
    assert working_seconds_between(at(10, 2, 0), at(10, 6, 23)) == 0


# -- fraction_point and elapsed_fraction -----------------------------------------------------
def test_fraction_point_at_seventy_percent_in_working_hours():
    start = at(9, 30, 16)
    due = add_time(start, 10, WH)  # 1.5 h on 30 Sep + 7.5 h on 8 Oct + 1 h on 9 Oct
    assert due == at(10, 9, 9, 30)
    # 7 working hours: 1.5 h + 5.5 h into 8 Oct = 08:30 + 3.5 h (morning) + 2 h -> 15:30.
    assert fraction_point(start, due, WH, 0.7) == at(10, 8, 15, 30)


def test_fraction_point_in_working_days_and_natural_hours():
    start = at(9, 29, 10)
    due = add_time(start, 10, WD)
    seven_days = add_time(start, 7, WD)
    assert fraction_point(start, due, WD, 0.7) == seven_days
    assert fraction_point(at(10, 1, 0), at(10, 2, 0), NH, 0.7) == at(10, 1, 16, 48)


def test_elapsed_fraction():
    start = at(9, 30, 16)
    due = at(10, 8, 11)  # 4 working hours
    assert elapsed_fraction(start, due, WH, at(9, 30, 17)) == pytest.approx(0.25)
    # The whole break counts for nothing.
    assert elapsed_fraction(start, due, WH, at(10, 7, 23)) == pytest.approx(0.375)
    assert elapsed_fraction(start, due, WH, at(10, 8, 11)) == pytest.approx(1.0)
    assert elapsed_fraction(start, due, WH, at(10, 8, 12)) == pytest.approx(1.25)
    assert elapsed_fraction(start, due, WH, at(9, 30, 10)) == 0.0
    assert elapsed_fraction(start, due, NH, at(10, 4, 13, 30)) == pytest.approx(0.5)  # 93.5 of 187 h


def test_elapsed_fraction_with_no_allowed_time():
    moment = at(10, 3, 10)
    assert elapsed_fraction(moment, moment, WH, at(10, 3, 9)) == 0.0
    assert elapsed_fraction(moment, moment, WH, at(10, 3, 11)) == 1.0


def test_office_hours_come_from_settings(settings):
    settings.GRIDGOV_OFFICE_HOURS = [("09:00", "17:00")]
    assert add_time(at(9, 29, 16), 2, WH) == at(9, 30, 10)
    assert add_time(at(9, 29, 12), 1, WD) == at(9, 30, 12)


# -- properties --------------------------------------------------------------------------------
moments = st.datetimes(
    min_value=dt.datetime(2004, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(TZ)
)
hours = st.integers(min_value=0, max_value=2000)


@hypothesis_settings(max_examples=300, deadline=None)
@given(start=moments, first=hours, second=hours)
def test_add_time_is_monotonic(start, first, second):
    low, high = sorted((first, second))
    assert start <= add_time(start, low, WH) <= add_time(start, high, WH)
    assert add_time(start, low, WD) <= add_time(start, high, WD)


@hypothesis_settings(max_examples=300, deadline=None)
@given(start=moments, amount=hours)
def test_working_seconds_between_inverts_add_time(start, amount):
    assert working_seconds_between(start, add_time(start, amount, WH)) == amount * 3600


@hypothesis_settings(max_examples=200, deadline=None)
@given(start=moments, amount=st.integers(min_value=1, max_value=500), fraction=st.floats(0, 1))
def test_fraction_point_lies_between_start_and_due(start, amount, fraction):
    due = add_time(start, amount, WH)
    point = fraction_point(start, due, WH, fraction)
    assert start <= point <= due
    assert elapsed_fraction(start, due, WH, point) == pytest.approx(fraction, abs=1e-9)
