"""Fixtures of the assessment tests: a catalogue, staff of community 1 and 2, helpers that
drive cases through the real services at given times."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from gridgov.assessment.models import AssessmentRule
from gridgov.cases import services
from gridgov.cases.models import Channel
from gridgov.catalog.models import Category, TimeUnit
from gridgov.org.roles import Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
IN_GRID_11 = (117.005, 36.69)
IN_GRID_21 = (117.025, 36.69)


def at(day, hour=9, minute=0, month=10):
    """A moment of 2026 in Shanghai time (October 12-16 and 19-23 are plain working weeks)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def garbage(db, department):
    city = Category.objects.create(code="T1", name="测试市容环境")
    return Category.objects.create(
        code="T102", name="暴露垃圾", parent=city, time_limit_value=4, time_limit_unit=TimeUnit.WORKING_HOURS,
        default_department=department,
    )


@pytest.fixture
def people(region_tree, department, make_user):
    def person(roles, scope=None, **extra):
        return make_user(roles, scope=scope, password=None, **extra)

    return SimpleNamespace(
        clerk=person([Role.INTAKE_CLERK], region_tree["district"]),
        dispatcher=person([Role.DISPATCHER], region_tree["district"]),
        shift_lead=person([Role.SHIFT_LEAD], region_tree["district"]),
        handler=make_user([Role.DEPT_HANDLER], department=department, password=None),
        inspector=person([Role.GRID_INSPECTOR], region_tree["grid11"]),
        colleague=person([Role.GRID_INSPECTOR], region_tree["grid12"]),
        far_inspector=person([Role.GRID_INSPECTOR], region_tree["grid21"]),
        grid_lead=person([Role.GRID_LEAD], region_tree["community1"]),
        secretary=person([Role.COMMUNITY_SECRETARY], region_tree["community1"]),
        far_secretary=person([Role.COMMUNITY_SECRETARY], region_tree["community2"]),
        leader=person([Role.SUBDISTRICT_LEADER], region_tree["subdistrict"]),
    )


@pytest.fixture
def drive(people, garbage, department):
    """drive.patrol_report(actor, when) and drive.to_handled(when) -> case via the services."""

    class Driver:
        def patrol_report(self, actor, when, point=IN_GRID_11, channel=Channel.GRID_PATROL):
            case, _created = services.create_case(
                actor, channel=channel, description="路边暴露垃圾", category=garbage, lon=point[0], lat=point[1], at=when
            )
            return case

        def to_handled(self, when, point=IN_GRID_11):
            case = self.patrol_report(people.clerk, when, point, channel=Channel.WINDOW)
            case = services.accept(case, people.dispatcher, at=when + dt.timedelta(minutes=5))
            case = services.dispatch(case, people.dispatcher, department=department, at=when + dt.timedelta(minutes=10))
            case = services.sign(case, people.handler, at=when + dt.timedelta(minutes=15))
            return services.submit_handling(case, people.handler, note="已清理", at=when + dt.timedelta(minutes=30))

    return Driver()


@pytest.fixture
def inspector_rules(db):
    """Duties of a grid inspector with hand-picked targets (instead of the shipped defaults)."""
    AssessmentRule.objects.all().delete()
    rows = [
        ("reports", 2, 20),
        ("verification_on_time_rate", 1, 20),
        ("patrol_coverage", 0.5, 20),
        ("meetings_attended", 4, 10),
        ("trainings_attended", 1, 10),
        ("callbacks", 5, 10),
    ]
    return [
        AssessmentRule.objects.create(role=Role.GRID_INSPECTOR, measure=measure, target=target, points=points)
        for measure, target, points in rows
    ]
