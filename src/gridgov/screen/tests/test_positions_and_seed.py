"""Patrol positions from phones, case cards (masked) and the demo seed."""

import datetime as dt

import pytest
from django.test import Client
from shapely.geometry import Point, shape

from gridgov.geo.coords import wgs84_to_gcj02
from gridgov.org.roles import Role
from gridgov.screen.models import InspectorPosition, LiveEvent, MonthlyIndicator
from gridgov.screen.seed import seed_demo_cameras, seed_demo_indicators
from gridgov.video.models import Camera

POSITIONS = "/api/v1/screen/positions/"


@pytest.mark.django_db
class TestPositions:
    def test_an_inspector_posts_a_position_and_it_is_published_masked(self, region_tree, make_user, api_client):
        inspector = make_user(roles=[Role.GRID_INSPECTOR], scope=region_tree["grid11"], display_name="李四")
        lon, lat = wgs84_to_gcj02(117.005, 36.69)
        response = api_client(inspector).post(POSITIONS, {"lon": lon, "lat": lat, "accuracy": 8, "crs": "gcj02"}, format="json")
        assert response.status_code == 201, response.content
        position = InspectorPosition.objects.get()
        assert position.grid == region_tree["grid11"]
        assert position.lon == pytest.approx(117.005, abs=1e-5)
        event = LiveEvent.objects.get(kind="position")
        assert event.region_code == region_tree["grid11"].code
        assert event.data["name"] == "李*" and "李四" not in str(event.data)

    def test_only_grid_staff_post_positions(self, region_tree, make_user, api_client):
        clerk = make_user(roles=[Role.DISPATCHER], scope=region_tree["subdistrict"])
        response = api_client(clerk).post(POSITIONS, {"lon": 117.005, "lat": 36.69}, format="json")
        assert response.status_code == 403
        assert api_client().post(POSITIONS, {"lon": 117.005, "lat": 36.69}, format="json").status_code in (401, 403)

    @pytest.mark.parametrize(
        "body, field",
        [
            ({"lon": 181, "lat": 36.69}, "lon"),
            ({"lon": 117.0, "lat": 36.69, "accuracy": -1}, "accuracy"),
            ({"lon": 117.0, "lat": 36.69, "at": "2099-01-01T00:00:00+08:00"}, "at"),
        ],
    )
    def test_bad_positions_name_the_field(self, region_tree, make_user, api_client, body, field):
        inspector = make_user(roles=[Role.GRID_INSPECTOR], scope=region_tree["grid11"])
        response = api_client(inspector).post(POSITIONS, body, format="json")
        assert response.status_code == 400
        assert field in response.json()["fields"]


@pytest.mark.django_db
def test_case_card_masks_personal_data(kiosk_token, make_case, region_tree):
    case = make_case(reporter_name="王小明", reporter_phone="13912345678",
                     description="联系电话13912345678，身份证370105199001011234，楼道堵塞")
    _, raw = kiosk_token()
    card = Client().get(f"/api/v1/screen/cases/{case.pk}/", {"token": raw}).json()
    assert card["reporter_name"] == "王**" and card["reporter_phone"] == "139****5678"
    assert "13912345678" not in card["description"] and "370105199001011234" not in card["description"]
    assert "139****5678" in card["description"] and "3701**********1234" in card["description"]
    _, other = kiosk_token(scope=region_tree["community2"])
    assert Client().get(f"/api/v1/screen/cases/{case.pk}/", {"token": other}).status_code == 404


@pytest.mark.django_db
def test_demo_cameras_are_spread_inside_the_grids_deterministically(region_tree):
    assert seed_demo_cameras() == 642
    assert seed_demo_cameras() == 0  # idempotent
    cameras = list(Camera.objects.select_related("grid"))
    assert len(cameras) == 642
    assert {camera.grid.code for camera in cameras} == {region_tree[f"grid{c}{g}"].code for c in (1, 2) for g in (1, 2)}
    assert all(shape(camera.grid.boundary).contains(Point(camera.lon, camera.lat)) for camera in cameras)
    assert 0 < sum(not camera.online for camera in cameras) < 642 * 0.15
    assert all(camera.region_code == camera.grid.code and camera.h3 for camera in cameras)
    first = [(c.code, c.lon, c.lat, c.online) for c in cameras]
    Camera.objects.all().delete()
    seed_demo_cameras()
    assert [(c.code, c.lon, c.lat, c.online) for c in Camera.objects.all()] == first


@pytest.mark.django_db
def test_demo_indicators():
    written = seed_demo_indicators(today=dt.date(2026, 11, 28))
    assert written == MonthlyIndicator.objects.count() > 0
    assert MonthlyIndicator.objects.latest("month").month == dt.date(2026, 10, 1)
    assert set(MonthlyIndicator.objects.values_list("module", flat=True)) == {"party", "economy"}
    assert seed_demo_indicators(today=dt.date(2026, 11, 28)) == written
    assert MonthlyIndicator.objects.count() == written
    assert all("演示" in source for source in MonthlyIndicator.objects.values_list("source", flat=True))
