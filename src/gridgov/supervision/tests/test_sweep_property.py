"""Property: whatever the clocks and however the passes are spaced, after each pass the fired
warnings are exactly the thresholds already due, each once."""

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov.cases.models import Case, CaseClock
from gridgov.supervision.models import FiredWarning
from gridgov.supervision.sweep import run_sweep

T0 = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.timezone.utc)
clocks = st.lists(
    st.tuples(st.integers(min_value=0, max_value=600), st.integers(min_value=10, max_value=300)), min_size=1, max_size=6
)
passes = st.lists(st.integers(min_value=0, max_value=1500), min_size=1, max_size=5).map(sorted)


def expected(rows, now):
    due = set()
    for pk, start, limit in rows:
        points = {70: 0.7, 90: 0.9, 100: 1.0, 200: 2.0}
        for threshold, share in points.items():
            if start + dt.timedelta(minutes=limit * share) <= now:
                due.add((pk, threshold))
    return due


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=clocks, minutes=passes)
def test_fired_warnings_are_exactly_the_due_thresholds(db, specs, minutes):
    rows = []
    for index, (offset, limit) in enumerate(specs):
        case = Case.objects.create(number=f"P{index}", channel="hotline", description="x", created_at=T0, region_code="370105")
        start = T0 + dt.timedelta(minutes=offset)
        clock = CaseClock.objects.create(
            case=case, kind="handle", limit_value=limit, limit_unit="natural_hours", started_at=start,
            due_at=start + dt.timedelta(minutes=limit), warn_at=start + dt.timedelta(minutes=limit * 0.7),
        )
        rows.append((clock.pk, start, limit))
    try:
        for minute in minutes:
            now = T0 + dt.timedelta(minutes=minute)
            run_sweep(now=now)
            fired = list(FiredWarning.objects.values_list("clock_id", "threshold"))
            assert len(fired) == len(set(fired))
            assert set(fired) == expected(rows, now)
    finally:
        Case.objects.filter(number__startswith="P").delete()
