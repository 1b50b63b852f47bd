"""Open311 fixtures: two 小类 as services, a service account with an API key."""

from types import SimpleNamespace

import pytest

from gridgov.catalog.models import Category
from gridgov.open311.models import ApiKey
from gridgov.org.roles import Role

IN_GRID = {"lat": "36.69", "long": "117.005"}


@pytest.fixture
def services_catalog(db):
    city = Category.objects.create(code="T1", name="测试市容环境")
    roads = Category.objects.create(code="T2", name="测试道路交通")
    return SimpleNamespace(
        garbage=Category.objects.create(code="T102", name="暴露垃圾", parent=city, keywords="垃圾,脏乱", accept_criteria="公共区域可见的垃圾"),
        pothole=Category.objects.create(code="T201", name="道路破损", parent=roads),
        retired=Category.objects.create(code="T199", name="旧类", parent=city, is_active=False),
    )


@pytest.fixture
def api_key(region_tree, make_user):
    account = make_user([Role.INTAKE_CLERK], scope=region_tree["subdistrict"], username="open311-app", password=None)
    return ApiKey.objects.create(name="市民随手拍", user=account)
