"""The region admin saves through validation."""

import pytest

from gridgov.geo.models import Region
from gridgov.org.roles import Role


@pytest.fixture
def admin_client_for(client, make_user):
    def factory(roles):
        user = make_user(roles, is_staff=True)
        client.force_login(user)
        return client

    return factory


def test_changelist_and_search(region_tree, admin_client_for):
    client = admin_client_for([Role.SYSADMIN])
    response = client.get("/admin/geo/region/?q=西区")
    assert response.status_code == 200
    assert "370105001002" in response.content.decode()


def test_add_refuses_an_invalid_boundary(region_tree, admin_client_for):
    client = admin_client_for([Role.SYSADMIN])
    bow_tie = '{"type": "Polygon", "coordinates": [[[117.0, 36.68], [117.004, 36.684], [117.004, 36.68], [117.0, 36.684], [117.0, 36.68]]]}'
    data = {"code": "370105001001003", "name": "坏网格", "level": "grid", "parent": region_tree["community1"].pk,
            "boundary": bow_tie, "grid_type": "basic", "households": 0}
    response = client.post("/admin/geo/region/add/", data)
    assert response.status_code == 200  # the form again, with errors
    assert "Self-intersection" in response.content.decode()
    assert not Region.objects.filter(code="370105001001003").exists()


def test_change_saves_through_the_service(region_tree, admin_client_for):
    client = admin_client_for([Role.SYSADMIN])
    grid = region_tree["grid11"]
    old_area = grid.area_m2 or 0
    data = {"code": grid.code, "name": "改名", "level": "grid", "parent": grid.parent_id,
            "boundary": '{"type": "Polygon", "coordinates": [[[117.0, 36.68], [117.01, 36.68], [117.01, 36.69], [117.0, 36.69], [117.0, 36.68]]]}',
            "grid_type": "basic", "households": 7}
    response = client.post(f"/admin/geo/region/{grid.pk}/change/", data)
    assert response.status_code == 302
    grid.refresh_from_db()
    assert (grid.name, grid.households) == ("改名", 7)
    # Derived fields were computed by the service (the fixture wrote none).
    assert old_area == 0 and grid.area_m2 > 0
    assert grid.bbox[3] == pytest.approx(36.69)


def test_staff_without_sysadmin_role_cannot_change(region_tree, admin_client_for):
    client = admin_client_for([Role.GRID_LEAD])
    grid = region_tree["grid11"]
    assert client.post(f"/admin/geo/region/{grid.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Region.objects.filter(pk=grid.pk).exists()
