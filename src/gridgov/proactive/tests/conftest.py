"""A hand-counted history of cases for the hot-topics tests (built through create_case)."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import h3
import pytest

from gridgov.cases import services
from gridgov.cases.models import Channel
from gridgov.catalog.models import Category, TimeUnit
from gridgov.org.roles import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
P1 = (117.005, 36.69)  # grid 11 (community 1)
P2 = (117.015, 36.69)  # grid 12 (community 1)
P3 = (117.025, 36.69)  # grid 21 (community 2)


@pytest.fixture(autouse=True)
def _fresh_report_cache():
    """Reports are cached per scope: each test starts without another test's figures."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def cell(point):
    return h3.latlng_to_cell(point[1], point[0], 9)


@pytest.fixture
def kinds(db, department):
    city = Category.objects.create(code="T1", name="测试市容环境")
    order = Category.objects.create(code="T5", name="测试街面秩序")
    return SimpleNamespace(
        garbage=Category.objects.create(
            code="T102", name="暴露垃圾", parent=city, time_limit_value=4, time_limit_unit=TimeUnit.WORKING_HOURS
        ),
        parking=Category.objects.create(
            code="T505", name="机动车乱停放", parent=order, time_limit_value=4, time_limit_unit=TimeUnit.WORKING_HOURS
        ),
    )


@pytest.fixture
def crew(region_tree, department, make_user):
    def person(roles, scope, **extra):
        return make_user(roles, scope=scope, password=None, **extra)

    return SimpleNamespace(
        clerk=person([Role.INTAKE_CLERK], region_tree["district"]),
        dispatcher=person([Role.DISPATCHER], region_tree["subdistrict"]),
        leader=person([Role.SUBDISTRICT_LEADER], region_tree["subdistrict"]),
        secretary=person([Role.COMMUNITY_SECRETARY], region_tree["community1"]),
        far_secretary=person([Role.COMMUNITY_SECRETARY], region_tree["community2"]),
        inspector=person([Role.GRID_INSPECTOR], region_tree["grid11"]),
    )


# (小类, point, [(month, day), ...]) — the report for 2026-10 over 2 months compares
# Sep-Oct (current) with Jul-Aug (previous).
HISTORY = [
    ("garbage", P1, [(9, 2), (9, 15), (10, 8), (10, 20)]),
    ("garbage", P1, [(7, 10), (8, 12)]),
    ("garbage", P1, [(6, 30), (11, 1)]),  # outside both periods
    ("garbage", P2, [(9, 9), (10, 9)]),
    ("parking", P3, [(9, 3), (10, 13), (10, 27)]),
    ("parking", P3, [(7, 1), (7, 2), (7, 3), (8, 4), (8, 5), (8, 6)]),
    ("parking", P1, [(10, 30)]),
]


@pytest.fixture
def history(crew, kinds):
    cases = []
    for kind, point, days in HISTORY:
        for month, day in days:
            case, _created = services.create_case(
                crew.clerk, channel=Channel.HOTLINE, description="反映问题", category=getattr(kinds, kind),
                lon=point[0], lat=point[1], at=dt.datetime(2026, month, day, 10, tzinfo=SHANGHAI),
            )
            cases.append(case)
    return cases
