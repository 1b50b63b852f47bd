"""The overview's numbers against a hand-built fixture whose answers are known."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from gridgov.cases.models import OPEN_STATUSES, Case, CaseClock
from gridgov.catalog.models import Category
from gridgov.org.models import StaffRole
from gridgov.screen.daycounts import rebuild
from gridgov.screen.models import InspectorPosition, MonthlyIndicator
from gridgov.screen.overview import build_overview, category_ids_by_panel
from gridgov.video.models import Camera

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
H = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def at(hour, minute=0, days_ago=0):
    return NOW.replace(hour=hour, minute=minute) - days_ago * DAY


def sign_clock(case, started, stopped=None, overdue=False):
    return CaseClock.objects.create(
        case=case, kind="sign", limit_value=1, limit_unit="working_hours",
        started_at=started, due_at=started + H, warn_at=started + 0.7 * H, stopped_at=stopped, overdue=overdue,
    )


@pytest.fixture
def world(region_tree, make_case, department, make_user):
    # The standard catalogue (a data migration) may already hold these 大类.
    livelihood, _ = Category.objects.get_or_create(kind="governance", code="03", defaults={"name": "民生诉求"})
    elderly = Category.objects.create(kind="governance", code="0390", name="养老服务(测试)", parent=livelihood)
    sudden, _ = Category.objects.get_or_create(kind="event", code="04", defaults={"name": "突发事件"})
    flooding = Category.objects.create(kind="event", code="0490", name="道路积水(测试)", parent=sudden)

    cases = {}
    cases["c1"] = make_case("grid11", channel="hotline", status="reported", created_at=at(9), category=elderly,
                            reporter_name="王小明", reporter_phone="13912345678", description="电话13912345678，楼下积水")
    cases["c2"] = make_case("grid11", channel="grid_patrol", status="dispatched", created_at=at(8), category=flooding,
                            accepted_at=at(8, 10), dispatched_at=at(8, 20), department=department,
                            due_at=NOW - H, warn_at=NOW - 2 * H)
    cases["c3"] = make_case("grid12", channel="video_alarm", status="handling", created_at=at(7), priority=4,
                            accepted_at=at(7, 5), dispatched_at=at(7, 10), signed_at=at(7, 30),
                            due_at=NOW + dt.timedelta(minutes=10), warn_at=NOW - dt.timedelta(minutes=5))
    cases["c4"] = make_case("grid21", channel="resident", status="closed", created_at=at(1), accepted_at=at(1, 10),
                            dispatched_at=at(1, 20), signed_at=at(3), handled_at=at(5), closed_at=at(6), rating=3,
                            department=department)
    cases["c5"] = make_case("grid22", channel="hotline", status="closed", created_at=at(9, days_ago=5),
                            accepted_at=at(9, 10, days_ago=5), dispatched_at=at(9, 20, days_ago=5),
                            handled_at=at(9, days_ago=4), closed_at=at(10, days_ago=4), rating=1, was_overdue=True,
                            department=department)
    cases["c6"] = make_case("grid22", channel="hotline", status="rejected", created_at=at(9, days_ago=3))
    cases["c7"] = make_case("grid22", channel="hotline", status="closed", created_at=at(9, days_ago=40),
                            closed_at=at(9, days_ago=39), dispatched_at=at(9, 30, days_ago=40))
    sign_clock(cases["c2"], at(8, 20))
    sign_clock(cases["c3"], at(7, 10), stopped=at(7, 30))
    sign_clock(cases["c4"], at(1, 20), stopped=at(3), overdue=True)

    Camera.objects.create(code="C1", name="东门", lon=117.005, lat=36.69, grid=region_tree["grid11"], status="online")
    Camera.objects.create(code="C2", name="西门", lon=117.015, lat=36.69, grid=region_tree["grid12"], status="offline")
    Camera.objects.create(code="C3", name="路口", lon=117.025, lat=36.69, grid=region_tree["grid21"], status="online")
    inspector = make_user(roles=["grid_inspector"], scope=region_tree["grid11"], display_name="李四")
    idle = make_user(roles=["grid_inspector"], scope=region_tree["grid21"], display_name="赵五")
    InspectorPosition.objects.create(user=inspector, lon=117.004, lat=36.69, at=NOW - dt.timedelta(minutes=5),
                                     grid=region_tree["grid11"], region_code=region_tree["grid11"].code)
    InspectorPosition.objects.create(user=idle, lon=117.024, lat=36.69, at=NOW - 2 * H,
                                     grid=region_tree["grid21"], region_code=region_tree["grid21"].code)
    for month, value in ((dt.date(2026, 9, 1), 100), (dt.date(2026, 10, 1), 110)):
        MonthlyIndicator.objects.create(module="party", month=month, key="members", label="党员人数", value=value, unit="人", source="组织办")
    MonthlyIndicator.objects.create(module="party", month=dt.date(2026, 10, 1), key="branches", label="党组织", value=7, unit="个", source="组织办", sort_order=1)
    assert StaffRole.objects.filter(role="grid_inspector").count() == 2
    rebuild()  # the rows above bypass the services, so count them as a rebuild would
    return cases


@pytest.fixture(params=["daily counts", "cases table"])
def data(request, world, region_tree):
    """Every figure is checked twice: from the daily counts and from the cases table."""
    return build_overview(region_tree["subdistrict"].code, now=NOW, counts=request.param == "daily counts")


def by_key(rows):
    return {row["key"]: row["value"] for row in rows}


def test_today(data):
    today = data["governance"]["today"]
    assert today["created"] == 4
    assert today["closed"] == 1
    assert {k: v for k, v in by_key(today["by_channel"]).items() if v} == {"hotline": 1, "grid_patrol": 1, "video_alarm": 1, "resident": 1}
    assert {k: v for k, v in by_key(today["by_status"]).items() if v} == {"reported": 1, "dispatched": 1, "handling": 1, "closed": 1}


def test_funnel_and_rates(data):
    governance = data["governance"]
    assert [step["value"] for step in governance["funnel"]] == [6, 4, 4, 2, 2]
    assert [step["label"] for step in governance["funnel"]] == ["受理", "立案", "派遣", "处置", "结案"]
    rates = governance["rates"]
    assert rates["response"] == pytest.approx(1 / 3, abs=1e-4)  # c3 on time; c4 late; c2 still running
    assert rates["resolution"] == 0.5  # closed c4, c5 of dispatched c2..c5
    assert rates["satisfaction"] == 0.5  # c4 satisfied, c5 unsatisfied
    assert rates["on_time"] == 0.5  # c5 was overdue
    assert "÷" in data["definitions"]["response"]


def test_regions_inspectors_and_clocks(data, world):
    governance = data["governance"]
    assert governance["regions"] == {"communities": 2, "grids": 4, "households": 1600}
    assert governance["inspectors"] == {"total": 2, "on_duty": 1}
    clocks = governance["clocks"]
    assert (clocks["overdue_count"], clocks["warning_count"]) == (1, 1)
    assert [row["number"] for row in clocks["overdue"]] == [world["c2"].number]
    assert [row["number"] for row in clocks["warning"]] == [world["c3"].number]


def test_map_layers(data, world, region_tree):
    grids = {f["properties"]["code"]: f["properties"] for f in data["map"]["grids"]["features"]}
    assert grids[region_tree["grid11"].code].items() >= {"open": 2, "overdue": 1, "warning": 0, "clock": "overdue"}.items()
    assert grids[region_tree["grid12"].code]["clock"] == "warning"
    assert grids[region_tree["grid21"].code]["open"] == 0
    assert {m["number"] for m in data["map"]["cases"]} == {world["c1"].number, world["c2"].number, world["c3"].number}
    assert len(data["map"]["communities"]["features"]) == 2
    cameras = data["map"]["cameras"]
    assert (cameras["total"], cameras["online"]) == (3, 2)
    assert [p["name"] for p in data["map"]["inspectors"]] == ["李*"]


def test_trends_and_rankings(data, department):
    trends = data["trends"]
    assert len(trends["days"]) == 30 and trends["days"][-1] == "2026-11-27"
    assert trends["created"][-1] == 4 and trends["closed"][-1] == 1
    assert trends["created"][-6] == 1 and trends["closed"][-5] == 1  # c5
    assert sum(trends["created"]) == 6
    [row] = data["rankings"]["departments"]
    assert row == {"name": department.name, "total": 3, "closed": 2, "closure_rate": 0.6667, "on_time_rate": 0.5}
    communities = {row["name"]: row["total"] for row in data["rankings"]["communities"]}
    assert communities == {"象霞社区": 3, "西区社区": 3}


def test_emergency(data, world):
    emergency = data["emergency"]
    assert emergency["urgent_open"] == 2  # c2 by 大类 04, c3 by priority
    assert emergency["urgent_today"] == 2
    assert emergency["alarms_today"] == 1 and emergency["alarms_open"] == 1
    assert [row["number"] for row in emergency["alarms"]] == [world["c3"].number]
    assert emergency["whistles"] == []
    assert emergency["cameras"] == {"total": 3, "online": 2, "offline": 1}


def test_livelihood_and_property(data):
    livelihood = data["livelihood"]
    assert livelihood["configured"] and livelihood["total"] == 1 and livelihood["open"] == 1
    assert livelihood["by_type"] == [{"name": "养老服务(测试)", "value": 1}]
    assert livelihood["by_community"] == [{"name": "象霞社区", "value": 1, "satisfaction": None}]
    assert data["property"]["total"] == 0


def test_indicators_show_the_latest_month_and_its_source(data):
    party = data["party"]
    assert party["month"] == "2026-10"
    assert [(i["label"], i["value"], i["source"]) for i in party["items"]] == [("党员人数", 110.0, "组织办"), ("党组织", 7.0, "组织办")]
    assert party["history"]["months"] == ["2026-09", "2026-10"]
    assert party["history"]["series"]["members"] == [100.0, 110.0]
    assert data["economy"]["items"] == []


def test_scope_limits_every_figure(world, region_tree):
    data = build_overview(region_tree["community2"].code, now=NOW)
    assert data["governance"]["today"]["created"] == 1  # c4 only
    assert data["emergency"]["urgent_open"] == 0
    assert data["map"]["cameras"]["total"] == 1


def test_no_personal_data_in_the_overview(data):
    text = json.dumps(data, ensure_ascii=False)
    assert "王小明" not in text and "13912345678" not in text and "李四" not in text


def test_query_count_does_not_grow_with_the_cases(world, region_tree, make_case):
    code = region_tree["subdistrict"].code
    with CaptureQueriesContext(connection) as before:
        build_overview(code, now=NOW)
    for n in range(30):
        make_case("grid12", channel="iot", status="accepted", created_at=at(2, n), accepted_at=at(3, n))
    with CaptureQueriesContext(connection) as after:
        build_overview(code, now=NOW)
    assert len(after.captured_queries) == len(before.captured_queries) < 50


def test_shared_passes_match_direct_counts(world, region_tree, make_case):
    """Today's counters come from one pass over today's cases and the open-case figures from
    one pass over the open cases; each figure must equal its own direct count."""
    closed_alarm = make_case("grid12", channel="iot", status="closed", created_at=at(3), closed_at=at(4))
    open_alarm = make_case("grid21", channel="video_alarm", status="accepted", created_at=at(2), priority=4)
    unplaced = make_case("grid11", channel="hotline", status="handling", created_at=at(9, days_ago=2), priority=4,
                         grid=None, due_at=NOW - H, warn_at=NOW - 2 * H)
    data = build_overview(region_tree["subdistrict"].code, now=NOW)

    today = Case.objects.filter(created_at__gte=at(0))
    urgent = Q(priority__gte=4) | Q(category__kind="event", category__code__startswith="04")
    alarms_today = today.filter(channel__in=["video_alarm", "iot"])
    open_cases = Case.objects.filter(status__in=OPEN_STATUSES)
    emergency, clocks = data["emergency"], data["governance"]["clocks"]
    assert emergency["urgent_today"] == today.filter(urgent).count() == 3  # c2, c3, open_alarm
    assert emergency["alarms_today"] == alarms_today.count() == 3  # c3, both new alarms
    assert emergency["alarms_open"] == alarms_today.filter(status__in=OPEN_STATUSES).count() == 2
    assert emergency["urgent_open"] == open_cases.filter(urgent).count() == 4  # with the unplaced case
    assert clocks["overdue_count"] == open_cases.filter(due_at__lt=NOW).count() == 2  # c2, unplaced
    assert clocks["warning_count"] == open_cases.filter(due_at__gte=NOW, warn_at__lte=NOW).count() == 1
    assert [row["number"] for row in emergency["urgent"]] == [world["c2"].number, world["c3"].number, open_alarm.number, unplaced.number]
    assert [row["number"] for row in emergency["alarms"]] == [world["c3"].number, closed_alarm.number, open_alarm.number]
    today_counts = data["governance"]["today"]
    assert today_counts["created"] == today.count() == 6
    assert {k: v for k, v in by_key(today_counts["by_channel"]).items() if v} == {
        "hotline": 1, "grid_patrol": 1, "video_alarm": 2, "resident": 1, "iot": 1,
    }
    assert by_key(today_counts["by_status"])["closed"] == today.filter(status="closed").count() == 2
    grids = {f["properties"]["code"]: f["properties"]["open"] for f in data["map"]["grids"]["features"]}
    assert sum(grids.values()) == open_cases.exclude(grid=None).count() == 4


def test_panel_categories_are_the_named_majors_and_their_children(world):
    majors = Category.objects.filter(name="民生诉求", parent__isnull=True)
    expected = set(Category.objects.filter(Q(id__in=majors) | Q(parent__in=majors)).values_list("id", flat=True))
    ids = category_ids_by_panel({"livelihood": ["民生诉求"], "nothing": ["没有这个大类"]})
    assert set(ids["livelihood"]) == expected and len(expected) > 1
    assert ids["nothing"] == []


def test_each_indicator_module_shows_its_own_latest_month_and_year(world, region_tree):
    for month, value in ((dt.date(2025, 10, 1), 3), (dt.date(2025, 12, 1), 4), (dt.date(2026, 11, 1), 5)):
        MonthlyIndicator.objects.create(module="economy", month=month, key="gdp", label="地区生产总值", value=value, unit="亿元", source="统计局")
    data = build_overview(region_tree["subdistrict"].code, now=NOW)
    economy, party = data["economy"], data["party"]
    assert (economy["month"], party["month"]) == ("2026-11", "2026-10")
    assert economy["items"] == [{"key": "gdp", "label": "地区生产总值", "value": 5.0, "unit": "亿元", "source": "统计局"}]
    assert economy["history"] == {"months": ["2025-12", "2026-11"], "series": {"gdp": [4.0, 5.0]}}  # not 2025-10
    assert party["history"]["months"] == ["2026-09", "2026-10"]
