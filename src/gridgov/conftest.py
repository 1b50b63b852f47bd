"""Fixtures shared by every app's tests: a small region tree, departments and staff."""

import itertools
import os

import pytest
from rest_framework.test import APIClient

from gridgov.geo.models import GridType, Level, Region
from gridgov.org.models import Department, StaffRole, User

_counter = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    """Broker tests (@pytest.mark.broker) run only when MQTT_URL names a broker, and then an
    unreachable broker is a failure. Without MQTT_URL they are deselected, not skipped:
    docs/decisions/0005-broker-tests-deselected-without-mqtt-url.md."""
    if os.environ.get("MQTT_URL"):
        return
    broker = [item for item in items if item.get_closest_marker("broker")]
    if broker:
        config.hook.pytest_deselected(items=broker)
        items[:] = [item for item in items if not item.get_closest_marker("broker")]


@pytest.fixture(autouse=True)
def _fresh_geo_index():
    """Each test starts with a fresh locator cache: rolled-back test data leaves no trace."""
    from gridgov.geo import locator

    locator.invalidate()
    yield
    locator.invalidate()


def square(lon0, lat0, size):
    """A closed GeoJSON polygon: the square with its south-west corner at (lon0, lat0)."""
    ring = [[lon0, lat0], [lon0 + size, lat0], [lon0 + size, lat0 + size], [lon0, lat0 + size], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def region_tree(db):
    """District 370105 → subdistrict 370105001 → communities 001 and 002 → 2 grids each.

    Community A spans lon 117.00-117.02, community B lon 117.02-117.04, lat 36.68-36.70;
    each is split west/east into two 0.01° x 0.02° grids.
    """
    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区", boundary=square(116.9, 36.6, 0.3))
    subdistrict = Region.objects.create(
        level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district, boundary=square(116.99, 36.67, 0.06)
    )
    tree = {"district": district, "subdistrict": subdistrict}
    for c_index, (c_code, c_name) in enumerate([("001", "象霞社区"), ("002", "西区社区")]):
        lon0 = 117.00 + 0.02 * c_index
        community = Region.objects.create(
            level=Level.COMMUNITY,
            code=subdistrict.code + c_code,
            name=c_name,
            parent=subdistrict,
            boundary={
                "type": "Polygon",
                "coordinates": [[[lon0, 36.68], [lon0 + 0.02, 36.68], [lon0 + 0.02, 36.70], [lon0, 36.70], [lon0, 36.68]]],
            },
        )
        tree[f"community{c_index + 1}"] = community
        for g_index in range(2):
            grid = Region.objects.create(
                level=Level.GRID,
                code=f"{community.code}{g_index + 1:03d}",
                name=f"{c_name}第{g_index + 1}网格",
                parent=community,
                boundary={
                    "type": "Polygon",
                    "coordinates": [[
                        [lon0 + 0.01 * g_index, 36.68],
                        [lon0 + 0.01 * (g_index + 1), 36.68],
                        [lon0 + 0.01 * (g_index + 1), 36.70],
                        [lon0 + 0.01 * g_index, 36.70],
                        [lon0 + 0.01 * g_index, 36.68],
                    ]],
                },
                grid_type=GridType.BASIC,
                households=400,
            )
            tree[f"grid{c_index + 1}{g_index + 1}"] = grid
    return tree


@pytest.fixture
def department(db):
    return Department.objects.create(code="CGZF", name="城管执法中队", type="urban_management")


@pytest.fixture
def make_user(db):
    """make_user(roles, scope=None, department=None) -> a staff account with those roles."""

    def factory(roles=(), scope=None, department=None, **extra):
        n = next(_counter)
        user = User.objects.create_user(
            username=extra.pop("username", f"user{n}"),
            password=extra.pop("password", "pass-1234"),
            display_name=extra.pop("display_name", f"员工{n}"),
            scope=scope,
            department=department,
            **extra,
        )
        for role in roles:
            StaffRole.objects.create(user=user, role=role)
        return user

    return factory


@pytest.fixture
def api_client():
    """api_client(user) -> a DRF client authenticated as that user."""

    def factory(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return factory
