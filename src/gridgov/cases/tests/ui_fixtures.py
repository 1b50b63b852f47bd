"""Fixtures for the page tests of the case list, intake, map and PWA (import them by name)."""

import pytest
from django.test import Client

from gridgov.catalog.models import Category
from gridgov.org.roles import Role

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"

# Points inside the conftest region tree (community 1: lon 117.00-117.02, community 2: 117.02-117.04).
POINT_C1 = (117.005, 36.69)  # grid 11 of community 1
POINT_C2 = (117.035, 36.69)  # grid 22 of community 2


@pytest.fixture
def ui_categories(db):
    """Two 大类 of our own codes (the standard catalogue loaded by a migration uses 01..99)."""
    city = Category.objects.create(code="U1", name="测试市容")
    street = Category.objects.create(code="U5", name="测试街面")
    return {
        "city": city,
        "garbage": Category.objects.create(
            code="U102", name="测试暴露垃圾", parent=city, keywords="垃圾桶满溢", duplicate_radius_m=100, duplicate_window_hours=24
        ),
        "road": Category.objects.create(code="U104", name="测试道路不洁", parent=city),
        "parking": Category.objects.create(code="U505", name="测试乱停车", parent=street, keywords="占道停车"),
        "retired": Category.objects.create(code="U199", name="测试旧垃圾类", parent=city, is_active=False),
    }


@pytest.fixture
def login():
    """login(user) -> a Django test client signed in as `user`."""

    def factory(user):
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return factory


@pytest.fixture
def clerk(make_user, region_tree):
    """An intake clerk (受理员) of the subdistrict centre."""
    return make_user([Role.INTAKE_CLERK], scope=region_tree["subdistrict"], display_name="受理员甲")


@pytest.fixture
def make_case(region_tree):
    """make_case(actor, **kwargs) -> a case created through the real service."""
    from gridgov.cases import services

    def factory(actor, **kwargs):
        lon, lat = kwargs.pop("point", POINT_C1)
        kwargs.setdefault("channel", "hotline")
        kwargs.setdefault("description", "小区门口有垃圾堆放")
        case, _created = services.create_case(actor, lon=lon, lat=lat, **kwargs)
        return case

    return factory
