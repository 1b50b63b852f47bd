"""The screen's daily counts follow every case transition and agree with a full recount."""

import datetime as dt
from collections import Counter

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from gridgov.cases import changes, services
from gridgov.cases.models import Case
from gridgov.cases.tests.conftest import (  # noqa: F401  (fixtures)
    IN_GRID_12,
    IN_GRID_21,
    MONDAY_9,
    categories,
    flow,
    other_department,
    quick_user,
    staff,
)
from gridgov.screen import daycounts
from gridgov.screen.daycounts import COUNTERS, CaseContribution, DayCount, contributions, difference, rebuild
from gridgov.screen.overview import build_overview


def snapshot():
    """The non-zero counts as {(dim, day, community, value): {counter: n}}."""
    rows = {}
    for row in DayCount.objects.values("dim", "day", "community", "value", *COUNTERS):
        counters = {name: row[name] for name in COUNTERS if row[name]}
        if counters:
            rows[(row["dim"], row["day"], row["community"], row["value"])] = counters
    return rows


@pytest.fixture
def history(flow, staff, categories, django_capture_on_commit_callbacks):
    """Cases through the real services, their counts refreshed as the worker does."""
    with django_capture_on_commit_callbacks(execute=True):
        closed = flow.to("closed", at=MONDAY_9 - dt.timedelta(days=3))
        services.rate(closed, staff.clerk, rating=3, at=MONDAY_9 - dt.timedelta(days=2))
        flow.to("handling", at=MONDAY_9 - dt.timedelta(days=1), point=IN_GRID_12)
        flow.to("dispatched", at=MONDAY_9, point=IN_GRID_21, category=categories.water)
        rejected = flow.new(at=MONDAY_9)
        services.reject(rejected, staff.dispatcher, reason="重复上报", at=MONDAY_9 + dt.timedelta(minutes=5))
        flow.new(at=MONDAY_9, point=None)  # unplaced
    changes.refresh_all()
    return closed


def test_transitions_keep_the_counts_equal_to_a_recount(history):
    incremental = snapshot()
    assert incremental, "the refresh wrote nothing"
    rebuild()
    assert snapshot() == incremental


def test_counts_follow_a_case_through_its_life(flow, staff, django_capture_on_commit_callbacks):
    def area_totals():
        rows = DayCount.objects.filter(dim="area")
        return {name: sum(getattr(row, name) for row in rows) for name in ("cases", "open", "dispatched", "closed", "satisfied")}

    case = flow.new()
    assert area_totals() == {"cases": 0, "open": 0, "dispatched": 0, "closed": 0, "satisfied": 0}  # not yet refreshed
    changes.refresh_all()
    assert area_totals() == {"cases": 1, "open": 1, "dispatched": 0, "closed": 0, "satisfied": 0}
    case = flow.to("closed", case=case)
    services.rate(case, staff.clerk, rating=2, at=MONDAY_9 + dt.timedelta(hours=1))
    changes.refresh_all()
    assert area_totals() == {"cases": 1, "open": 0, "dispatched": 1, "closed": 1, "satisfied": 1}
    closed_rows = DayCount.objects.filter(dim="closed")
    assert [(row.day, row.cases) for row in closed_rows] == [(MONDAY_9.date(), 1)]


def test_refresh_is_idempotent(history):
    before = snapshot()
    daycounts.refresh_case(history.pk)
    daycounts.refresh_cases(list(Case.objects.values_list("pk", flat=True)) * 2)
    assert snapshot() == before


def test_the_overview_from_counts_equals_the_overview_from_cases(history, region_tree):
    now = MONDAY_9 + dt.timedelta(hours=2)
    for scope in (region_tree["subdistrict"].code, region_tree["community1"].code):
        from_counts = build_overview(scope, now=now, counts=True)
        from_cases = build_overview(scope, now=now, counts=False)
        for key in ("governance", "trends", "rankings", "livelihood", "property"):
            assert from_counts[key] == from_cases[key], (scope, key)
        heat = lambda data: sorted((cell["cell"], cell["n"]) for cell in data["map"]["heat"])  # noqa: E731
        assert heat(from_counts) == heat(from_cases)
        assert from_counts["governance"]["funnel"][0]["value"] > 0


def test_a_grid_scope_reads_the_cases_table(history, region_tree):
    DayCount.objects.all().delete()  # counts are per community: a grid's figures cannot come from them
    data = build_overview(region_tree["grid11"].code, now=MONDAY_9 + dt.timedelta(hours=2))
    assert data["governance"]["funnel"][0]["value"] == sum(data["trends"]["created"]) > 0


def test_rebuild_command(history):
    before = snapshot()
    DayCount.objects.all().delete()
    CaseContribution.objects.all().delete()
    call_command("rebuild_screen_counts", verbosity=0)
    assert snapshot() == before
    assert CaseContribution.objects.count() == Case.objects.count() == 5


def test_a_failing_refresh_does_not_fail_the_transition_and_spares_the_other_cases(flow, monkeypatch):
    first, second = flow.new(), flow.new()
    real = daycounts.refresh_cases

    def broken_for_the_first(case_ids):
        if first.pk in case_ids:
            raise RuntimeError("database went away")
        real(case_ids)

    monkeypatch.setitem(changes._refreshers, "screen.daycounts", broken_for_the_first)
    assert changes.refresh_all() == 2
    counted = set(CaseContribution.objects.values_list("case_id", flat=True))
    assert counted == {second.pk} and changes.pending_count() == 0


# -- the arithmetic, for any sequence of states --------------------------------------------------
DAYS = [dt.date(2026, 11, day) for day in (1, 2, 3)]
states = st.fixed_dictionaries({
    "day": st.sampled_from(DAYS),
    "closed_day": st.none() | st.sampled_from(DAYS),
    "region_code": st.sampled_from(["370105001001001", "370105001002001", "370105001", ""]),
    "department_id_value": st.none() | st.integers(1, 3),
    "category_id_value": st.none() | st.integers(1, 3),
    "h3_cell": st.sampled_from(["", "8a2a1072b59ffff", "8a2a1072b5bffff"]),
    "flags": st.fixed_dictionaries({name: st.integers(0, 1) for name in COUNTERS}),
})


@given(st.lists(states, min_size=1, max_size=6))
def test_applying_the_differences_of_a_life_leaves_only_its_last_state(life):
    totals = Counter()
    previous = {}
    for state in life:
        for key, counters in difference(previous, contributions(state)).items():
            for name, n in counters.items():
                totals[key, name] += n
        previous = contributions(state)
    expected = Counter({(key, name): n for key, counters in contributions(life[-1]).items() for name, n in counters.items()})
    assert +totals == +expected and not -totals


# -- 智慧物业 by estate ----------------------------------------------------------------------
def square(lon, lat, size):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_property_cases_count_under_their_estate(flow, staff, region_tree, settings, django_capture_on_commit_callbacks):
    from gridgov.catalog.models import Category
    from gridgov.geo.models import Estate

    settings.GRIDGOV_SCREEN = {**settings.GRIDGOV_SCREEN, "property_categories": ["测试物业服务"]}
    major = Category.objects.create(code="T7", name="测试物业服务")
    lift = Category.objects.create(code="T701", name="电梯故障", parent=major, time_limit_value=4, time_limit_unit="working_hours")
    estate = Estate.objects.create(
        name="阳光花园", community=region_tree["community1"], boundary=square(117.004, 36.689, 0.002),
        centre_lon=117.005, centre_lat=36.69, property_company="万科物业",
    )
    with django_capture_on_commit_callbacks(execute=True):
        rated = flow.to("closed", category=lift)  # at IN_GRID_11 (117.005, 36.69): inside the estate
        services.rate(rated, staff.clerk, rating=1, at=MONDAY_9 + dt.timedelta(hours=1))
        flow.new(category=lift)  # in the estate, not rated
        flow.new(category=lift, point=IN_GRID_12)  # outside every estate
        flow.new()  # in the estate, but not a property category
    changes.refresh_all()
    now = MONDAY_9 + dt.timedelta(hours=2)
    scope = region_tree["subdistrict"].code
    from_counts = build_overview(scope, now=now, counts=True)["property"]
    from_cases = build_overview(scope, now=now, counts=False)["property"]
    expected = [{"name": "阳光花园", "company": "万科物业", "value": 2, "satisfaction": 0.0}]
    assert from_counts["by_estate"] == from_cases["by_estate"] == expected
    assert from_counts["total"] == 3
    assert CaseContribution.objects.filter(estate_id_value=estate.pk).count() == 2
