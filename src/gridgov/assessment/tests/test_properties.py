"""Properties of the scoring rule and the month parser over generated inputs."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from gridgov.assessment.models import AssessmentRule
from gridgov.assessment.months import add_months, month_bounds, next_month, parse_month
from gridgov.assessment.services import rule_score

positive = st.floats(min_value=0.01, max_value=1000, allow_nan=False)
values = st.floats(min_value=0, max_value=10_000, allow_nan=False)


@given(target=positive, points=st.floats(0, 100), weight=st.floats(0, 5), low=values, high=values)
def test_score_is_bounded_and_grows_with_the_measured_value(target, points, weight, low, high):
    rule = AssessmentRule(role="grid_inspector", measure="reports", target=target, points=points, weight=weight)
    low, high = sorted((low, high))
    assert 0 <= rule_score(rule, low) <= rule_score(rule, high) <= round(points * weight, 2) + 0.01
    assert rule_score(rule, target) == round(points * weight, 2)


@given(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2999, 12, 31)))
def test_month_round_trip_and_bounds(day):
    month = parse_month(f"{day:%Y-%m}")
    assert month == day.replace(day=1) == parse_month(day)
    start, end = month_bounds(month)
    assert start.date() == month and end.date() == next_month(month)
    assert add_months(add_months(month, 7), -7) == month


@given(st.text(max_size=12))
def test_anything_else_is_refused_with_the_field_named(text):
    from gridgov.core.errors import ValidationFailed

    try:
        month = parse_month(text)
    except ValidationFailed as error:
        assert "month" in error.fields
    else:
        assert 1970 <= month.year <= 2999 and month.day == 1
