"""The map page and its data: boundaries, case markers and the H3 heat layer, all scoped."""

import datetime as dt
import re

import h3
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from gridgov.cases.models import Case, Status
from gridgov.cases.tests.ui_fixtures import POINT_C1, POINT_C2, clerk, login, make_case, ui_categories  # noqa: F401
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def inspector_c1(make_user, region_tree):
    return make_user([Role.GRID_INSPECTOR], scope=region_tree["community1"])


@pytest.fixture
def two_communities(clerk, make_case, ui_categories):
    """Two open cases in community 1, one in community 2, one closed case in community 1."""
    cases = {
        "c1a": make_case(clerk, category=ui_categories["garbage"], point=POINT_C1),
        "c1b": make_case(clerk, category=ui_categories["road"], point=(117.015, 36.695)),
        "c2": make_case(clerk, category=ui_categories["garbage"], point=POINT_C2),
        "closed": make_case(clerk, category=ui_categories["garbage"], point=POINT_C1),
    }
    Case.objects.filter(pk=cases["closed"].pk).update(status=Status.CLOSED, due_at=None, warn_at=None)
    return cases


def test_page_renders_offline_by_default(clerk, login, settings):
    settings.GRIDGOV_MAP_TILE_URL = ""
    response = login(clerk).get(reverse("web:map"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "vendor/leaflet/leaflet.js" in html and "vendor/markercluster/leaflet.markercluster.js" in html
    assert re.findall(r"https?://(?!www\.w3\.org/)", html) == []  # nothing loads from elsewhere
    assert response.context["map_config"]["tileUrl"] == ""
    with translation.override("zh-hans"):
        for msgid in ("Map", "Heat layer period", "No deadline"):
            assert translation.gettext(msgid) != msgid and translation.gettext(msgid) in html


def test_tile_source_is_configurable(clerk, login, settings):
    settings.GRIDGOV_MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    response = login(clerk).get(reverse("web:map"))
    assert response.context["map_config"]["tileUrl"] == "https://tiles.example.org/{z}/{x}/{y}.png"


def test_anonymous_users_get_nothing(client):
    for name in ("web:map", "web:map_boundaries", "web:map_cases", "web:map_heat"):
        assert client.get(reverse(name)).status_code == 302


def test_boundaries_are_limited_to_the_scope(inspector_c1, clerk, login, region_tree):
    codes = {f["properties"]["code"] for f in login(inspector_c1).get(reverse("web:map_boundaries")).json()["features"]}
    community1 = region_tree["community1"].code
    assert codes == {community1, community1 + "001", community1 + "002"}
    all_codes = {f["properties"]["code"] for f in login(clerk).get(reverse("web:map_boundaries")).json()["features"]}
    assert len(all_codes) == 6  # both communities and their four grids
    feature = login(clerk).get(reverse("web:map_boundaries")).json()["features"][0]
    assert feature["geometry"]["type"] == "Polygon"


def test_case_markers_are_scoped_and_carry_clock_state(two_communities, inspector_c1, clerk, login):
    c1a = two_communities["c1a"]
    Case.objects.filter(pk=c1a.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    data = login(inspector_c1).get(reverse("web:map_cases")).json()
    by_number = {item["number"]: item for item in data["cases"]}
    assert set(by_number) == {c1a.number, two_communities["c1b"].number}
    assert by_number[c1a.number]["state"] == "overdue"
    assert by_number[c1a.number]["url"] == reverse("cases:detail", args=[c1a.pk])
    assert by_number[c1a.number]["lon"] == pytest.approx(POINT_C1[0])
    assert data["truncated"] is False
    # The centre sees both communities; closed cases never show.
    numbers = {item["number"] for item in login(clerk).get(reverse("web:map_cases")).json()["cases"]}
    assert two_communities["c2"].number in numbers and two_communities["closed"].number not in numbers


def test_case_markers_are_capped_most_urgent_first(two_communities, clerk, login, settings):
    settings.GRIDGOV_MAP_MAX_MARKERS = 1
    urgent = two_communities["c2"]
    Case.objects.filter(pk=urgent.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    data = login(clerk).get(reverse("web:map_cases")).json()
    assert data["truncated"] is True and data["cap"] == 1
    assert [item["number"] for item in data["cases"]] == [urgent.number]


def test_heat_cells_count_cases_per_h3_cell_as_hexagons(two_communities, inspector_c1, clerk, login):
    data = login(clerk).get(reverse("web:map_heat")).json()
    counts = {feature["properties"]["cell"]: feature["properties"]["count"] for feature in data["features"]}
    cell_c1 = h3.latlng_to_cell(POINT_C1[1], POINT_C1[0], 9)
    assert counts[cell_c1] == 2  # c1a and the closed case: the heat layer counts every case
    assert sum(counts.values()) == 4 and data["max"] == 2
    ring = data["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 7 and ring[0] == ring[-1]
    lon, lat = ring[0]
    assert 116.9 < lon < 117.1 and 36.6 < lat < 36.8  # [lng, lat] order
    scoped = login(inspector_c1).get(reverse("web:map_heat")).json()
    assert sum(f["properties"]["count"] for f in scoped["features"]) == 3


def test_heat_period(two_communities, clerk, login):
    Case.objects.filter(pk=two_communities["c2"].pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    week = login(clerk).get(reverse("web:map_heat"), {"days": "7"}).json()
    assert sum(f["properties"]["count"] for f in week["features"]) == 3
    assert login(clerk).get(reverse("web:map_heat"), {"days": "junk"}).json()["days"] == 30


def test_an_inspector_cannot_see_another_communitys_cases(make_user, region_tree, two_communities, login):
    inspector_c2 = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid22"])
    client = login(inspector_c2)
    numbers = {item["number"] for item in client.get(reverse("web:map_cases")).json()["cases"]}
    assert numbers == {two_communities["c2"].number}
    cells = {f["properties"]["cell"] for f in client.get(reverse("web:map_heat")).json()["features"]}
    assert cells == {h3.latlng_to_cell(POINT_C2[1], POINT_C2[0], 9)}


def test_marker_queries_do_not_grow_with_the_cases(clerk, login, make_case, ui_categories):
    client = login(clerk)
    make_case(clerk, category=ui_categories["garbage"])
    client.get(reverse("web:map_cases"))  # warm caches (roles, session)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("web:map_cases"))
    for index in range(10):
        make_case(clerk, category=ui_categories["road"], point=(117.001 + index * 0.001, 36.69))
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("web:map_cases"))
    assert len(response.json()["cases"]) == 11
    assert len(many) == len(few) <= 5
