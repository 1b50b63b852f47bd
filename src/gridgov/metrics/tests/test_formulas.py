"""Every formula against a hand-computed fixture (docs/metrics.md).

Seven cases built through the real services with `at=` times (Monday 2026-11-30 unless
noted; 小类 暴露垃圾: 4 working hours to handle):

  c1 dept A, grid 11: signed 1 min after dispatch, handled on time, closed, 满意
  c2 dept A, grid 11: signed 2 days after dispatch, handled late, closed, 基本满意
  c3 dept A, grid 11: signed at once, rework once (verification failed), closed, 不满意
  c4 dept B, grid 21: signed at once, extension approved, still being handled
  c5 rejected (不予立案): outside every figure
  c6 accepted, never dispatched (no department): counts only in `cases`
  c7 like c1 but created 2026-12-01: outside November, inside 2026-Q4
"""

import datetime as dt

import pytest
from django.core.management import call_command

from gridgov.callbacks import services as callbacks
from gridgov.callbacks.models import Callback
from gridgov.cases import changes
from gridgov.cases import services as cs
from gridgov.cases.models import Case, Status
from gridgov.cases.tests.conftest import IN_GRID_21, MONDAY_9
from gridgov.core.errors import ValidationFailed
from gridgov.metrics import services
from gridgov.metrics.models import CaseFact

pytestmark = pytest.mark.django_db(transaction=True)  # callbacks are scheduled on commit

NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def minutes(n, start=MONDAY_9):
    return start + dt.timedelta(minutes=n)


def callback_result(case, staff, result):
    callbacks.record_result(Callback.objects.get(case=case), staff.clerk, result=result, at=minutes(600))


@pytest.fixture
def cases(flow, department, other_department):
    s = flow.staff
    c1 = flow.to(Status.CLOSED)
    callback_result(c1, s, "satisfied")

    c2 = flow.to(Status.DISPATCHED)
    wednesday = dt.datetime(2026, 12, 2, 9, 30, tzinfo=MONDAY_9.tzinfo)
    c2 = cs.sign(c2, s.handler, at=wednesday)
    c2 = cs.submit_handling(c2, s.handler, note="已清理", at=wednesday + dt.timedelta(minutes=30))
    c2 = cs.verify(c2, s.inspector, passed=True, at=wednesday + dt.timedelta(minutes=40))
    c2 = cs.close(c2, s.lead, at=wednesday + dt.timedelta(minutes=50))
    callback_result(c2, s, "basically_satisfied")

    c3 = flow.to(Status.HANDLED)
    c3 = cs.verify(c3, s.inspector, passed=False, note="仍有垃圾", at=minutes(10))
    c3 = cs.submit_handling(c3, s.handler, note="再次清理", at=minutes(11))
    c3 = flow.to(Status.CLOSED, case=c3, at=minutes(12))
    callback_result(c3, s, "unsatisfied")

    c4 = flow.to(Status.ACCEPTED, point=IN_GRID_21)
    c4 = cs.dispatch(c4, s.dispatcher, department=other_department, at=minutes(5))
    c4 = cs.sign(c4, s.other_handler, at=minutes(6))
    request = cs.request_extension(c4, s.other_handler, reason="需协调", extra_value=2, extra_unit="working_days", at=minutes(7))
    cs.decide_extension(request, s.lead, approve=True, at=minutes(8))

    c5 = cs.reject(flow.new(), s.dispatcher, reason="重复上报", at=minutes(1))
    c6 = flow.to(Status.ACCEPTED)
    c7 = flow.to(Status.CLOSED, at=dt.datetime(2026, 12, 1, 9, 0, tzinfo=MONDAY_9.tzinfo))
    changes.refresh_all()  # what the worker does within a second
    return [Case.objects.get(pk=c.pk) for c in (c1, c2, c3, c4, c5, c6, c7)]


def by_key(rows):
    return {row["key"]: row for row in rows}


def test_department_figures_and_ranking(cases, department, other_department):
    rows = services.compute("department", *NOV)
    assert [row["key"] for row in rows] == [department.pk, other_department.pk, None]
    a, b, none = rows
    assert {k: a[k] for k in services.COUNTS} == {
        "cases": 3, "dispatched": 3, "responded": 2, "resolved": 3, "rated": 3, "satisfied": 2.0,
        "closed": 3, "closed_on_time": 2, "reworked": 1, "extended": 0,
    }
    assert (a["response_rate"], a["resolution_rate"], a["satisfaction_rate"]) == (66.67, 100.0, 66.67)
    assert (a["on_time_rate"], a["rework_rate"], a["extension_rate"]) == (66.67, 33.33, 0.0)
    assert a["score"] == 78.33  # 0.30·66.67 + 0.35·100 + 0.35·66.67
    assert a["name"] == department.name and a["rank"] == 1

    assert {k: b[k] for k in ("cases", "dispatched", "responded", "resolved", "rated", "closed", "extended")} == {
        "cases": 1, "dispatched": 1, "responded": 1, "resolved": 0, "rated": 0, "closed": 0, "extended": 1,
    }
    assert (b["response_rate"], b["resolution_rate"], b["satisfaction_rate"], b["on_time_rate"]) == (100.0, 0.0, None, None)
    assert b["extension_rate"] == 100.0
    assert b["score"] == 46.15  # no rated case: (30·100 + 35·0) / 65
    assert b["rank"] == 2

    assert none["cases"] == 1 and none["dispatched"] == 0 and none["score"] is None and none["rank"] == 3


def test_grid_community_and_staff_levels(cases, region_tree, flow):
    grids = by_key(services.compute("grid", *NOV))
    assert set(grids) == {region_tree["grid11"].pk, region_tree["grid21"].pk}
    assert grids[region_tree["grid11"].pk]["cases"] == 4 and grids[region_tree["grid11"].pk]["dispatched"] == 3
    communities = by_key(services.compute("community", *NOV))
    assert communities[region_tree["community1"].pk]["cases"] == 4
    assert communities[region_tree["community2"].pk]["extension_rate"] == 100.0
    staff = by_key(services.compute("staff", *NOV))
    assert staff[flow.staff.handler.pk]["responded"] == 2 and staff[flow.staff.other_handler.pk]["responded"] == 1
    assert staff[None]["cases"] == 1
    reporters = by_key(services.compute("reporter", *NOV))
    assert reporters[flow.staff.clerk.pk]["cases"] == 5


def test_periods(cases):
    assert services.parse_period("month", "2026-11") == NOV
    assert services.parse_period("quarter", "2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    quarter = services.total(*services.parse_period("quarter", "2026-Q4"))
    assert quarter["cases"] == 6 and quarter["closed"] == 4
    december = services.total(dt.date(2026, 12, 1), dt.date(2026, 12, 1))
    assert december["cases"] == 1 and december["satisfaction_rate"] is None
    for kind, value in (("month", "2026-13"), ("quarter", "2026-Q5"), ("week", "x")):
        with pytest.raises(ValidationFailed):
            services.parse_period(kind, value)
    with pytest.raises(ValidationFailed) as error:
        services.parse_period("range", start="2026-11-30", end="2026-11-01")
    assert "end" in error.value.fields


def test_configurable_definitions(cases, department, flow):
    lead = flow.staff.admin
    services.update_config(
        lead, response_hours=72, resolution_basis="not_unsatisfied", basic_satisfied_weight="0.5",
        weight_response=50, weight_resolution=25, weight_satisfaction=25,
    )
    a = by_key(services.compute("department", *NOV))[department.pk]
    assert a["responded"] == 3 and a["response_rate"] == 100.0  # 48 h now within the limit
    assert a["resolved"] == 2 and a["resolution_rate"] == 66.67  # c3 rated 不满意
    assert a["satisfied"] == 1.5 and a["satisfaction_rate"] == 50.0  # (1 + 0.5·1) / 3
    assert a["score"] == 79.17  # 0.5·100 + 0.25·66.67 + 0.25·50


def test_weights_must_add_up_to_100(flow):
    with pytest.raises(ValidationFailed) as error:
        services.update_config(flow.staff.admin, weight_response=40, weight_resolution=40, weight_satisfaction=40)
    assert error.value.code == "weights_not_100"
    assert set(error.value.fields) >= {"weight_response", "weight_resolution", "weight_satisfaction"}
    assert services.get_config().weight_response == 30  # nothing saved
    with pytest.raises(ValidationFailed):
        services.update_config(flow.staff.admin, basic_satisfied_weight="1.5")
    from gridgov.core.errors import Forbidden

    with pytest.raises(Forbidden):
        services.update_config(flow.staff.clerk, weight_response=30)


def test_scope_of_the_viewer(cases, region_tree, quick_user, department, other_department):
    community2_secretary = quick_user(["community_secretary"], scope=region_tree["community2"])
    assert [row["key"] for row in services.compute("department", *NOV, scope_user=community2_secretary)] == [other_department.pk]
    handler = quick_user(["dept_handler"], department=department)
    assert [row["key"] for row in services.compute("department", *NOV, scope_user=handler)] == [department.pk]
    nobody = quick_user(["community_secretary"])
    assert services.compute("grid", *NOV, scope_user=nobody) == []


def test_drill_down_lists_the_cases_behind_a_figure(cases, department):
    c1, c2, c3, c4, c5, c6, c7 = cases
    ids = lambda part, key=department.pk, level="department": set(services.drill_down(level, key, part, *NOV))  # noqa: E731
    assert ids("responded") == {c1.pk, c3.pk}
    assert ids("closed_on_time") == {c1.pk, c3.pk}
    assert ids("reworked") == {c3.pk}
    assert ids("satisfied") == {c1.pk, c2.pk}  # 基本满意 counts (weight 1)
    assert ids("unsatisfied") == {c3.pk}
    assert ids("cases", key=None) == {c6.pk}
    assert ids("extended", key=None, level="all") == {c4.pk}
    with pytest.raises(ValidationFailed):
        services.compute("planet", *NOV)


def test_reopened_case_counts_as_reworked_and_not_closed(flow):
    case = flow.to(Status.CLOSED)
    callbacks.record_result(Callback.objects.get(case=case), flow.staff.clerk, result="unsatisfied", reopen=True, reason="未解决")
    changes.refresh_all()
    fact = CaseFact.objects.get(case=case)
    assert fact.reworked and not fact.closed and fact.rating is None


def test_rebuild_gives_the_same_figures(cases):
    before = services.compute("department", *NOV)
    CaseFact.objects.all().delete()
    assert services.compute("department", *NOV) == []
    call_command("rebuild-metrics")
    assert CaseFact.objects.count() == 7
    assert services.compute("department", *NOV) == before


def test_the_grid_to_community_cache_forgets_a_region_saved_meanwhile(region_tree):
    from gridgov.metrics.facts import communities

    grid = region_tree["grid11"]
    communities.parents[grid.pk] = -1  # stale: what another tree said about this id
    grid.save()
    assert communities.of(grid.pk) == region_tree["community1"].pk
