"""The duplicate finder: radius, time window, class, rules, scope; distances with hypothesis."""

import datetime as dt
import math

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov.catalog.models import Category
from gridgov.cases.models import Case
from gridgov.org.roles import Role
from gridgov.triage.duplicates import _box, find_duplicates, haversine_m, rule_for
from gridgov.triage.models import DuplicateRule

from .conftest import IN_GRID_11, MONDAY_9

EARTH_RADIUS_M = 6_371_008.8


def offset(lon, lat, distance_m, bearing_deg):
    """The point `distance_m` from (lon, lat) along `bearing_deg` (great circle)."""
    delta = distance_m / EARTH_RADIUS_M
    theta, phi1, lmb1 = math.radians(bearing_deg), math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(delta) + math.cos(phi1) * math.sin(delta) * math.cos(theta))
    lmb2 = lmb1 + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi1), math.cos(delta) - math.sin(phi1) * math.sin(phi2)
    )
    return math.degrees(lmb2), math.degrees(phi2)


# -- pure geometry ------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    lon=st.floats(73, 135),
    lat=st.floats(3, 54),  # China
    radius=st.integers(1, 5000),
    fraction=st.floats(0, 1),
    bearing=st.floats(0, 360),
)
def test_every_point_inside_the_radius_lies_in_the_prefilter_box(lon, lat, radius, fraction, bearing):
    point = offset(lon, lat, radius * fraction, bearing)
    (lon_min, lon_max), (lat_min, lat_max) = _box(lon, lat, radius)
    assert lon_min <= point[0] <= lon_max and lat_min <= point[1] <= lat_max


@settings(max_examples=300, deadline=None)
@given(lon=st.floats(73, 135), lat=st.floats(3, 54), distance=st.floats(0, 20_000), bearing=st.floats(0, 360))
def test_haversine_measures_the_distance_travelled(lon, lat, distance, bearing):
    point = offset(lon, lat, distance, bearing)
    assert haversine_m(lon, lat, *point) == pytest.approx(distance, abs=1e-3)
    assert haversine_m(*point, lon, lat) == pytest.approx(distance, abs=1e-3)


# -- the finder against the database ------------------------------------------------------
@pytest.fixture
def rule_garbage(categories):
    categories.garbage.duplicate_radius_m = 200
    categories.garbage.duplicate_window_hours = 72
    categories.garbage.save()
    return categories.garbage


@pytest.mark.django_db
@pytest.mark.parametrize(
    "distance, hours, found",
    [(10, 1, True), (195, 1, True), (205, 1, False), (50, 71, True), (50, 73, False), (50, -71, True), (50, -73, False)],
)
def test_radius_and_time_window(flow, staff, rule_garbage, distance, hours, found):
    point = offset(*IN_GRID_11, distance, 90)
    other = flow.new(at=MONDAY_9 + dt.timedelta(hours=hours), point=point)
    result, rule = find_duplicates(staff.dispatcher, rule_garbage, *IN_GRID_11, at=MONDAY_9)
    assert (rule.radius_m, rule.window_hours) == (200, 72)
    assert [case.pk for case in result] == ([other.pk] if found else [])
    if found:
        assert result[0].distance_m == pytest.approx(distance, abs=0.5)


@pytest.mark.django_db
def test_only_the_same_class_and_open_cases_nearest_first(flow, staff, categories, rule_garbage):
    far = flow.new(at=MONDAY_9, point=offset(*IN_GRID_11, 150, 0))
    near = flow.new(at=MONDAY_9, point=offset(*IN_GRID_11, 20, 180))
    flow.new(at=MONDAY_9, point=IN_GRID_11, category=categories.water)
    done = flow.to("closed", case=flow.new(at=MONDAY_9, point=IN_GRID_11))
    result, _rule = find_duplicates(staff.dispatcher, rule_garbage, *IN_GRID_11, at=MONDAY_9 + dt.timedelta(hours=1))
    assert [case.pk for case in result] == [near.pk, far.pk]
    assert done.pk not in [case.pk for case in result]


@pytest.mark.django_db
def test_a_duplicate_rule_overrides_the_category(flow, staff, rule_garbage):
    other = flow.new(at=MONDAY_9, point=offset(*IN_GRID_11, 60, 45))
    assert [c.pk for c in find_duplicates(staff.dispatcher, rule_garbage, *IN_GRID_11, at=MONDAY_9)[0]] == [other.pk]
    DuplicateRule.objects.create(category=rule_garbage, radius_m=30, window_hours=72)
    assert find_duplicates(staff.dispatcher, rule_garbage, *IN_GRID_11, at=MONDAY_9)[0] == []


@pytest.mark.django_db
def test_point_objects_get_a_strict_rule_by_migration():
    manhole = Category.objects.get(kind="component", code="0101")  # 上水井盖
    garbage = Category.objects.get(kind="event", code="0102")  # 暴露垃圾
    assert rule_for(manhole).radius_m == 30
    assert rule_for(garbage).radius_m == garbage.duplicate_radius_m > 30


@pytest.mark.django_db
def test_only_cases_in_the_users_scope(flow, staff, quick_user, region_tree, rule_garbage):
    flow.new(at=MONDAY_9, point=offset(*IN_GRID_11, 20, 0))
    outsider = quick_user([Role.DISPATCHER], scope=region_tree["community2"])
    assert find_duplicates(outsider, rule_garbage, *IN_GRID_11, at=MONDAY_9)[0] == []
    assert len(find_duplicates(staff.dispatcher, rule_garbage, *IN_GRID_11, at=MONDAY_9)[0]) == 1


@pytest.mark.django_db
def test_intake_check_uses_the_finder(flow, staff, login, rule_garbage):
    """The intake form's location check shows 1 case at 150 m (200 m rule), which the old 100 m
    default of the category would have missed."""
    other = flow.new(point=offset(*IN_GRID_11, 150, 0))
    params = {"lon": IN_GRID_11[0], "lat": IN_GRID_11[1], "crs": "wgs84", "category": rule_garbage.pk}
    Case.objects.filter(pk=other.pk).update(created_at=timezone.now() - dt.timedelta(hours=70))
    response = login(staff.clerk).get("/cases/new/check/", params)
    assert [case.pk for case in response.context["duplicates"]] == [other.pk]
    assert "200" in response.content.decode() and "72" in response.content.decode()


@pytest.mark.django_db
def test_queue_counts_agree_with_measuring_every_pair(flow, staff, rule_garbage):
    """duplicate_counts (buckets) against brute force over 40 random reports."""
    import random

    from gridgov.triage.duplicates import duplicate_counts

    rng = random.Random(11)
    cases = [
        flow.new(
            at=MONDAY_9 + dt.timedelta(hours=rng.uniform(0, 150)),
            point=offset(*IN_GRID_11, rng.uniform(0, 600), rng.uniform(0, 360)),
        )
        for _ in range(40)
    ]
    expected = {
        case.pk: sum(
            1
            for other in cases
            if other.pk != case.pk
            and abs(other.created_at - case.created_at) <= dt.timedelta(hours=72)
            and haversine_m(case.lon, case.lat, other.lon, other.lat) <= 200
        )
        for case in cases
    }
    assert sum(expected.values()) > 0
    assert duplicate_counts(staff.dispatcher, cases) == expected
