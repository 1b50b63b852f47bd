"""The SLA sweep: each threshold of each clock notifies once, whatever the number of passes."""

import datetime as dt

import pytest

from gridgov.cases.models import CaseClock
from gridgov.org.models import Role
from gridgov.supervision import scheduler, services
from gridgov.supervision.models import FiredWarning, Order, Summons
from gridgov.supervision.sweep import run_sweep
from gridgov.web.models import Notification

from .conftest import MONDAY_9


def count(user):
    return Notification.objects.filter(recipient=user).count()


def fired(case):
    return sorted(FiredWarning.objects.filter(case=case).values_list("clock__kind", "threshold"))


@pytest.fixture
def leader(region_tree, quick_user):
    return quick_user([Role.SUBDISTRICT_LEADER], scope=region_tree["subdistrict"])


def test_missed_thresholds_fire_once_each_after_a_long_stop(flow, staff, leader):
    # Dispatched Monday 09:00: 签收 due 10:00 (1 working hour), 处置 due 14:30 (4 working hours).
    case = flow.to("dispatched", at=MONDAY_9 - dt.timedelta(minutes=2))
    handler_before, lead_before, leader_before = count(staff.handler), count(staff.lead), count(leader)

    first = run_sweep(now=MONDAY_9 + dt.timedelta(minutes=90))  # 10:30: the sign clock is overdue
    assert fired(case) == [("sign", 70), ("sign", 90), ("sign", 100)]
    assert first["warnings"] == 3
    assert count(staff.handler) - handler_before == 3  # 70 %, 90 %, 100 %
    assert count(staff.lead) - lead_before == 1  # escalation at 100 %
    assert count(leader) == leader_before

    again = run_sweep(now=MONDAY_9 + dt.timedelta(minutes=95))
    assert again["warnings"] == 0 and again["notifications"] == 0
    assert count(staff.handler) - handler_before == 3

    # 12:00: the sign clock is overdue by its whole limit again (200 %: subdistrict leaders);
    # the handle clock passed its 70 % point (11:48 office time).
    run_sweep(now=MONDAY_9 + dt.timedelta(hours=3))
    assert ("sign", 200) in fired(case) and ("handle", 70) in fired(case) and ("handle", 90) not in fired(case)
    assert count(leader) - leader_before == 1
    # 14:10 office time is past 90 % of the handle clock (14:06), before its deadline (14:30).
    run_sweep(now=MONDAY_9.replace(hour=14, minute=10))
    assert ("handle", 90) in fired(case) and ("handle", 100) not in fired(case)
    run_sweep(now=MONDAY_9.replace(hour=14, minute=10))
    assert FiredWarning.objects.filter(case=case, clock__kind="handle", threshold=90).count() == 1


def test_owners_by_clock(flow, staff):
    # 立案+派遣 belongs to the dispatcher pool; 核查 to the grid staff covering the case.
    reported = flow.new(at=MONDAY_9)
    handled = flow.to("handled", at=MONDAY_9)
    dispatcher_before, inspector_before = count(staff.dispatcher), count(staff.inspector)
    far_before = count(staff.far_inspector)
    run_sweep(now=MONDAY_9 + dt.timedelta(days=1, hours=1))  # Tuesday 10:00: both clocks overdue
    assert ("accept_dispatch", 100) in fired(reported)
    assert ("verify", 70) in fired(handled)
    assert count(staff.dispatcher) - dispatcher_before == 3
    assert count(staff.inspector) - inspector_before >= 2
    assert count(staff.far_inspector) == far_before  # grid 21 does not cover the case


def test_stopped_clocks_do_not_fire(flow, staff):
    case = flow.to("closed", at=MONDAY_9)
    assert not CaseClock.objects.filter(case=case, stopped_at__isnull=True).exists()
    run_sweep(now=MONDAY_9 + dt.timedelta(days=30))
    assert fired(case) == []


def test_late_check_ins_marked_once(flow, staff, served, whistlers):
    case = flow.to("handling", at=MONDAY_9)
    services.blow_whistle(
        case, whistlers.grid_secretary, lead_department=served.lead, co_departments=[served.co], reason="联合执法",
        at=MONDAY_9 + dt.timedelta(minutes=10),
    )
    services.check_in_case(case, staff.handler, at=MONDAY_9 + dt.timedelta(minutes=20))
    secretary_before = count(whistlers.grid_secretary)
    result = run_sweep(now=MONDAY_9 + dt.timedelta(minutes=41))
    assert result["late_check_ins"] == 1
    late = Summons.objects.get(case=case, late=True)
    assert late.department == served.co and late.late_marked_at is not None
    assert not Summons.objects.get(case=case, department=served.lead).late
    assert count(whistlers.grid_secretary) - secretary_before == 1
    assert run_sweep(now=MONDAY_9 + dt.timedelta(minutes=50))["late_check_ins"] == 0


def test_overdue_orders_noticed_once(flow, staff):
    case = flow.to("handling", at=MONDAY_9)
    order = services.issue_urge(case, staff.lead, note="请加快", reply_hours=2, at=MONDAY_9 + dt.timedelta(minutes=10))
    assert run_sweep(now=MONDAY_9 + dt.timedelta(hours=1))["overdue_orders"] == 0
    assert run_sweep(now=MONDAY_9 + dt.timedelta(hours=3))["overdue_orders"] == 1
    assert Order.objects.get(pk=order.pk).overdue_at is not None
    assert run_sweep(now=MONDAY_9 + dt.timedelta(hours=4))["overdue_orders"] == 0


def test_one_worker_claims_each_slot(db):
    slot = scheduler.current_slot(60, now=1_000_000)
    assert scheduler.claim(slot, "worker-a") is True
    assert scheduler.claim(slot, "worker-b") is False
    assert scheduler.claim(slot + 1, "worker-b") is True


def test_a_backlog_drains_over_passes_within_the_budget(flow, staff):
    cases = [flow.to("dispatched", at=MONDAY_9 - dt.timedelta(minutes=2)) for _ in range(3)]
    now = MONDAY_9 + dt.timedelta(minutes=90)  # each case: sign 70/90/100 due -> 9 warnings
    passes = []
    while True:
        result = run_sweep(now=now, budget=4)
        passes.append(result["warnings"])
        if not result["more"]:
            break
    assert passes == [4, 4, 1]
    assert sum(len(fired(case)) for case in cases) == 9
    assert all(fired(case) == [("sign", 70), ("sign", 90), ("sign", 100)] for case in cases)
    assert run_sweep(now=now, budget=4) == {"warnings": 0, "notifications": 0, "late_check_ins": 0, "overdue_orders": 0, "more": False}


@pytest.mark.django_db(transaction=True)
def test_the_task_drains_a_backlog(flow, settings):
    """The task (immediate backend here) re-enqueues itself while warnings remain."""
    from gridgov.supervision.tasks import sla_sweep

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.GRIDGOV_SUPERVISION = {"max_warnings_per_pass": 2}
    case = flow.to("dispatched", at=dt.datetime(2020, 1, 6, 9, 0, tzinfo=dt.timezone.utc))
    sla_sweep.enqueue()
    assert ("handle", 100) in fired(case) and ("sign", 100) in fired(case)
    assert FiredWarning.objects.filter(case=case).count() == len(set(fired(case))) >= 6
