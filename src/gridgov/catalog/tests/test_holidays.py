"""Holiday overrides (catalog.HolidayOverride) come before the chinese_calendar package,
and dates beyond the package's data count weekends as rest days plus the overrides."""

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.test import Client

from gridgov.catalog import worktime
from gridgov.catalog.models import HolidayOverride, TimeUnit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def overrides(db):
    """Overrides written by a test are rolled back with it: start and end with none cached."""
    worktime.replace_overrides({})
    yield HolidayOverride.objects
    worktime.replace_overrides({})


def test_an_override_rest_day_moves_the_deadline(overrides):
    # Friday 2026-11-27 17:00 + 1 working hour: half an hour on Friday, half on the next workday.
    assert worktime.add_time(at(2026, 11, 27, 17), 1, TimeUnit.WORKING_HOURS) == at(2026, 11, 30, 9)
    overrides.create(date=dt.date(2026, 11, 30), is_workday=False, name="本地休息日")
    assert worktime.official_workday(dt.date(2026, 11, 30)) is False
    assert worktime.add_time(at(2026, 11, 27, 17), 1, TimeUnit.WORKING_HOURS) == at(2026, 12, 1, 9)


def test_an_override_workday_on_a_saturday_counts(overrides):
    overrides.create(date=dt.date(2026, 11, 28), is_workday=True, name="调休上班")
    assert worktime.official_workday(dt.date(2026, 11, 28)) is True
    assert worktime.add_time(at(2026, 11, 27, 17), 1, TimeUnit.WORKING_HOURS) == at(2026, 11, 28, 9)


def test_deleting_an_override_restores_the_package_calendar(overrides):
    override = overrides.create(date=dt.date(2026, 11, 30), is_workday=False)
    assert worktime.official_workday(dt.date(2026, 11, 30)) is False
    override.delete()
    assert worktime.official_workday(dt.date(2026, 11, 30)) is True


def test_an_override_beats_the_package_on_an_official_holiday(overrides):
    assert chinese_calendar.is_holiday(dt.date(2026, 10, 1))
    overrides.create(date=dt.date(2026, 10, 1), is_workday=True, name="值班")
    assert worktime.official_workday(dt.date(2026, 10, 1)) is True


def test_2027_is_beyond_the_package_data_and_uses_weekends(overrides, caplog, monkeypatch):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(2027, 1, 4))  # what we must not call
    monkeypatch.setattr(worktime, "_beyond_data_logged", False)
    with caplog.at_level(logging.WARNING, logger="gridgov.catalog.worktime"):
        assert worktime.official_workday(dt.date(2027, 1, 2)) is False  # Saturday
        assert worktime.official_workday(dt.date(2027, 1, 4)) is True  # Monday
        # Friday 2027-01-01 (no data: a weekday) 17:00 + 1 working hour → Monday 09:00.
        assert worktime.add_time(at(2027, 1, 1, 17), 1, TimeUnit.WORKING_HOURS) == at(2027, 1, 4, 9)
    warnings = [record for record in caplog.records if "chinese_calendar has holiday data" in record.getMessage()]
    assert len(warnings) == 1  # logged once per process


def test_2027_holidays_come_from_overrides(overrides):
    overrides.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    # Thursday 2026-12-31 17:00 + 1 working hour: Friday is 元旦, then the weekend.
    assert worktime.add_time(at(2026, 12, 31, 17), 1, TimeUnit.WORKING_HOURS) == at(2027, 1, 4, 9)
    assert worktime.add_time(at(2026, 12, 31, 10), 2, TimeUnit.WORKING_DAYS) == at(2027, 1, 5, 10)


def test_admin_lists_and_adds_overrides(overrides, make_user):
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/catalog/holidayoverride/add/", {"date": "2027-02-08", "is_workday": "", "name": "春节"}
    )
    assert response.status_code == 302
    assert overrides.get(date=dt.date(2027, 2, 8)).is_workday is False
    page = client.get("/admin/catalog/holidayoverride/").content.decode()
    assert "春节" in page and "节假日调整" in page
    assert worktime.official_workday(dt.date(2027, 2, 8)) is False  # Monday, now a rest day
