"""The region API: scope, filters, writes through validation, export, locate and errors."""

import pytest

from gridgov.conftest import square
from gridgov.geo.coords import wgs84_to_bd09, wgs84_to_gcj02
from gridgov.geo.models import Region
from gridgov.org.roles import Role


@pytest.fixture
def admin(make_user):
    return make_user([Role.SYSADMIN])


@pytest.fixture
def community_user(region_tree, make_user):
    return make_user([Role.GRID_LEAD], scope=region_tree["community1"])


def codes(response):
    return [row["code"] for row in response.json()["results"]]


def test_community_user_sees_only_its_subtree(region_tree, community_user, api_client):
    client = api_client(community_user)
    assert codes(client.get("/api/v1/regions/")) == ["370105001001", "370105001001001", "370105001001002"]
    assert codes(client.get("/api/v1/grids/")) == ["370105001001001", "370105001001002"]
    other = region_tree["grid21"]
    assert client.get(f"/api/v1/regions/{other.pk}/").json()["code"] == "not_found"
    assert client.get(f"/api/v1/grids/{other.pk}/").status_code == 404


def test_user_without_scope_sees_nothing(region_tree, make_user, api_client):
    client = api_client(make_user([Role.DISPATCHER]))
    assert codes(client.get("/api/v1/regions/")) == []


def test_anonymous_is_refused(region_tree, api_client):
    response = api_client().get("/api/v1/regions/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_filters_and_ordering(region_tree, admin, api_client):
    client = api_client(admin)
    assert codes(client.get("/api/v1/regions/?level=community")) == ["370105001001", "370105001002"]
    assert codes(client.get("/api/v1/regions/?parent=370105001002")) == ["370105001002001", "370105001002002"]
    assert codes(client.get("/api/v1/regions/?within=370105001002&level=grid")) == ["370105001002001", "370105001002002"]
    assert codes(client.get("/api/v1/regions/?q=西区")) == ["370105001002", "370105001002001", "370105001002002"]
    assert codes(client.get("/api/v1/regions/?q=370105001001")) == ["370105001001", "370105001001001", "370105001001002"]
    assert codes(client.get("/api/v1/regions/?level=grid&ordering=-code"))[0] == "370105001002002"
    assert codes(client.get("/api/v1/grids/?community=370105001001")) == ["370105001001001", "370105001001002"]
    Region.objects.filter(code="370105001002002").update(grid_type="dedicated")
    assert codes(client.get("/api/v1/grids/?grid_type=dedicated")) == ["370105001002002"]


def test_detail_fields(region_tree, admin, api_client):
    grid = region_tree["grid11"]
    data = api_client(admin).get(f"/api/v1/regions/{grid.pk}/").json()
    assert data["parent_code"] == "370105001001"
    assert data["boundary"]["type"] == "Polygon"
    assert data["level"] == "grid"


def test_admin_creates_updates_deletes(region_tree, admin, api_client):
    client = api_client(admin)
    body = {"code": "370105001003", "name": "新社区", "level": "community", "boundary": square(117.04, 36.68, 0.01)}
    created = client.post("/api/v1/regions/", body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["parent_code"] == "370105001"
    assert created.json()["area_m2"] > 0
    pk = created.json()["id"]
    patched = client.patch(f"/api/v1/regions/{pk}/", {"households": 5}, format="json")
    assert patched.status_code == 200 and patched.json()["households"] == 5
    assert patched.json()["name"] == "新社区"
    assert client.delete(f"/api/v1/regions/{pk}/").status_code == 204
    assert not Region.objects.filter(pk=pk).exists()


def test_write_errors_have_the_api_shape(region_tree, admin, api_client):
    client = api_client(admin)
    body = {"code": "370105001003", "name": "坏", "level": "community", "boundary": square(117.02, 36.68, 0.01)}
    response = client.post("/api/v1/regions/", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert set(data) == {"code", "message", "fields"}
    assert data["code"] == "overlaps_sibling"
    assert list(data["fields"]) == ["boundary"]
    response = client.post("/api/v1/regions/", {"name": "x"}, format="json")
    assert response.json()["code"] == "validation_failed"
    assert {"code", "level"} <= set(response.json()["fields"])
    response = client.delete(f"/api/v1/regions/{region_tree['community1'].pk}/")
    assert (response.status_code, response.json()["code"]) == (409, "has_children")


def test_only_sysadmin_may_write(region_tree, community_user, api_client):
    client = api_client(community_user)
    grid = region_tree["grid11"]
    response = client.patch(f"/api/v1/regions/{grid.pk}/", {"name": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "role_not_allowed")
    assert client.post("/api/v1/regions/", {"code": "370105001001009"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/regions/{grid.pk}/").status_code == 403


def test_export_restricted_to_scope(region_tree, community_user, api_client):
    response = api_client(community_user).get("/api/v1/regions/export.geojson")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in collection["features"]] == [
        "370105001001", "370105001001001", "370105001001002",
    ]


def test_export_filters(region_tree, admin, api_client):
    response = api_client(admin).get("/api/v1/regions/export.geojson?level=grid&within=370105001002")
    assert [f["id"] for f in response.json()["features"]] == ["370105001002001", "370105001002002"]
    response = api_client(admin).get("/api/v1/regions/export.geojson?level=town")
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")


@pytest.mark.parametrize("crs,convert", [("wgs84", lambda lon, lat: (lon, lat)), ("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_locate_endpoint(region_tree, community_user, api_client, crs, convert):
    lon, lat = convert(117.015, 36.69)
    response = api_client(community_user).get(f"/api/v1/locate/?lon={lon}&lat={lat}&crs={crs}")
    assert response.status_code == 200
    data = response.json()
    assert data["grid_code"] == "370105001001002" and data["inside_grid"] is True
    assert data["grid_id"] == region_tree["grid12"].pk
    assert data["lon"] == pytest.approx(117.015, abs=1e-8)
    assert len(data["h3_cell"]) == 15


@pytest.mark.parametrize(
    "query,field",
    [("lon=abc&lat=36.69", "lon"), ("lat=36.69", "lon"), ("lon=117&lat=95", "lat"), ("lon=117&lat=36&crs=utm", "crs"),
     ("lon=nan&lat=36", "lon")],
)
def test_locate_bad_input(region_tree, community_user, api_client, query, field):
    response = api_client(community_user).get(f"/api/v1/locate/?{query}")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}
    assert field in response.json()["fields"]


def test_locate_needs_a_role(region_tree, make_user, api_client):
    response = api_client(make_user([])).get("/api/v1/locate/?lon=117&lat=36")
    assert response.status_code == 403
