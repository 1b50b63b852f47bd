import pytest

from gridgov.catalog.models import Category, Priority, TimeUnit
from gridgov.catalog.sla import clock_limit


def minor(value=4, unit=TimeUnit.WORKING_HOURS, priority=Priority.NORMAL):
    return Category(code="0102", name="暴露垃圾", time_limit_value=value, time_limit_unit=unit, default_priority=priority)


def test_defaults_come_from_settings():
    assert clock_limit("accept_dispatch") == (1, TimeUnit.WORKING_HOURS)
    assert clock_limit("sign") == (1, TimeUnit.WORKING_HOURS)
    assert clock_limit("verify") == (1, TimeUnit.WORKING_DAYS)


def test_settings_override_defaults(settings):
    settings.GRIDGOV_SLA = {"accept_dispatch": (2, "working_hours")}  # e.g. the urban fringe
    assert clock_limit("accept_dispatch") == (2, TimeUnit.WORKING_HOURS)
    assert clock_limit("verify") == (1, TimeUnit.WORKING_DAYS)  # built-in default


def test_handling_limit_comes_from_the_minor_class():
    assert clock_limit("handle", minor(4, TimeUnit.WORKING_HOURS)) == (4, TimeUnit.WORKING_HOURS)
    assert clock_limit("handle", minor(20, TimeUnit.WORKING_DAYS)) == (20, TimeUnit.WORKING_DAYS)
    assert clock_limit("handle") == (5, TimeUnit.WORKING_DAYS)


def test_other_clocks_ignore_the_class():
    assert clock_limit("sign", minor(20, TimeUnit.WORKING_DAYS)) == (1, TimeUnit.WORKING_HOURS)


def test_units_are_time_units():
    value, unit = clock_limit("verify")
    assert isinstance(unit, TimeUnit)


def test_urgent_priority_counts_natural_hours():
    category = minor(4, TimeUnit.WORKING_HOURS)
    assert clock_limit("handle", category, Priority.URGENT) == (4, TimeUnit.NATURAL_HOURS)
    assert clock_limit("accept_dispatch", category, Priority.URGENT) == (1, TimeUnit.NATURAL_HOURS)
    assert clock_limit("verify", None, Priority.URGENT) == (24, TimeUnit.NATURAL_HOURS)
    assert clock_limit("handle", minor(2, TimeUnit.WORKING_DAYS), 4) == (48, TimeUnit.NATURAL_HOURS)


def test_urgent_class_is_urgent_without_explicit_priority():
    category = minor(2, TimeUnit.WORKING_HOURS, priority=Priority.URGENT)
    assert clock_limit("handle", category) == (2, TimeUnit.NATURAL_HOURS)
    # An explicit lower priority wins over the class default.
    assert clock_limit("handle", category, Priority.HIGH) == (2, TimeUnit.WORKING_HOURS)


def test_urgent_rule_can_be_switched_off(settings):
    settings.GRIDGOV_SLA_URGENT_NATURAL = False
    assert clock_limit("handle", minor(4), Priority.URGENT) == (4, TimeUnit.WORKING_HOURS)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        clock_limit("lunch")
