"""merge_cases: reporters kept, both timelines, the earliest clock, refusals, scope."""

import datetime as dt

import pytest

from gridgov.cases import services
from gridgov.cases.merge import merge_cases
from gridgov.cases.models import Case, CaseClock, ClockKind, Status
from gridgov.cases.timeline import verify_chain
from gridgov.core.errors import Conflict, Forbidden, IllegalTransition, ValidationFailed
from gridgov.org.roles import Role
from gridgov.triage.duplicates import duplicate_counts
from gridgov.triage.models import MergedReporter

from .conftest import IN_GRID_11, IN_GRID_21, MONDAY_9

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)
NEAR_GRID_11 = (IN_GRID_11[0] + 0.0002, IN_GRID_11[1])  # ~18 m east


def pair(flow, *, gap=dt.timedelta(minutes=30)):
    """(earlier, later): two reports of the same pile of garbage from two channels."""
    earlier = flow.new(at=MONDAY_9, channel="hotline", reporter_name="张三", reporter_phone="13800138000")
    later = flow.new(at=MONDAY_9 + gap, point=NEAR_GRID_11, channel="window", reporter_name="李四", reporter_phone="13900139000")
    return earlier, later


def first_accept_clock(case):
    return CaseClock.objects.filter(case=case, kind=ClockKind.ACCEPT_DISPATCH).order_by("started_at", "id").first()


def test_merge_keeps_the_reporters_and_writes_both_timelines(flow, staff):
    earlier, later = pair(flow)
    survivor = merge_cases(later, earlier, staff.dispatcher, note="同一处垃圾", at=MONDAY_9 + 40 * MINUTE)

    duplicate = Case.objects.get(pk=later.pk)
    assert duplicate.status == Status.REJECTED and duplicate.merged_into_id == earlier.pk
    assert duplicate.merged_at == MONDAY_9 + 40 * MINUTE
    assert duplicate.version == later.version + 1 and survivor.version == earlier.version + 1
    last_dup = duplicate.events.order_by("-seq").first()
    assert (last_dup.action, last_dup.from_status, last_dup.to_status) == ("merge", "reported", "rejected")
    assert last_dup.data["merged_into_number"] == earlier.number and last_dup.note == "同一处垃圾"
    last_survivor = survivor.events.order_by("-seq").first()
    assert last_survivor.action == "merge_in" and last_survivor.data["merged_number"] == later.number
    assert survivor.status == Status.REPORTED
    assert verify_chain(duplicate) and verify_chain(survivor)

    kept = list(MergedReporter.objects.filter(case=survivor))
    assert [(r.name, r.phone, r.channel, r.source_case_id) for r in kept] == [("李四", "13900139000", "window", later.pk)]
    # The duplicate's own record is untouched: its reporter is still on it.
    assert (duplicate.reporter_name, duplicate.reporter_phone) == ("李四", "13900139000")
    # Its clocks stop: it leaves every queue.
    assert duplicate.due_at is None
    assert not CaseClock.objects.filter(case=duplicate, stopped_at__isnull=True).exists()


def test_the_earlier_report_starts_the_surviving_clock(flow, staff):
    earlier, later = pair(flow, gap=dt.timedelta(minutes=45))
    before = first_accept_clock(later)
    assert before.started_at == MONDAY_9 + 45 * MINUTE
    survivor = merge_cases(earlier, later, staff.dispatcher, at=MONDAY_9 + 50 * MINUTE)

    clock = first_accept_clock(survivor)
    assert clock.started_at == MONDAY_9
    assert clock.due_at < before.due_at  # one working hour from 09:00, not from 09:45
    assert survivor.due_at == clock.due_at and survivor.warn_at == clock.warn_at
    data = survivor.events.order_by("-seq").first().data
    assert dt.datetime.fromisoformat(data["clock_started_at"]) == MONDAY_9


def test_a_stopped_clock_is_rejudged_from_the_earlier_report(flow, staff, department):
    earlier = flow.new(at=MONDAY_9)
    later = flow.new(at=MONDAY_9 + dt.timedelta(minutes=50), point=NEAR_GRID_11)
    later = services.accept(later, staff.dispatcher, at=MONDAY_9 + dt.timedelta(minutes=55))
    later = services.dispatch(later, staff.dispatcher, department=department, at=MONDAY_9 + dt.timedelta(minutes=70))
    assert not later.was_overdue  # 20 minutes from its own report
    survivor = merge_cases(earlier, later, staff.dispatcher, at=MONDAY_9 + dt.timedelta(minutes=80))
    clock = first_accept_clock(survivor)
    assert clock.started_at == MONDAY_9 and clock.overdue and survivor.was_overdue  # 70 minutes > 1 working hour
    assert survivor.status == Status.DISPATCHED and verify_chain(survivor)


def test_the_surviving_clock_never_moves_later(flow, staff):
    earlier, later = pair(flow)
    survivor = merge_cases(later, earlier, staff.dispatcher, at=MONDAY_9 + 40 * MINUTE)
    assert first_accept_clock(survivor).started_at == MONDAY_9
    assert "clock_started_at" not in survivor.events.order_by("-seq").first().data


def test_reporters_follow_a_chain_of_merges(flow, staff):
    first = flow.new(at=MONDAY_9, reporter_name="王五", reporter_phone="13700137000")
    second = flow.new(at=MONDAY_9 + MINUTE, point=NEAR_GRID_11, reporter_name="赵六", reporter_phone="13600136000")
    third = flow.new(at=MONDAY_9 + 2 * MINUTE, point=NEAR_GRID_11, reporter_name="钱七", reporter_phone="13500135000")
    merge_cases(third, second, staff.dispatcher)
    survivor = merge_cases(second, first, staff.dispatcher)
    names = sorted(MergedReporter.objects.filter(case=survivor).values_list("name", flat=True))
    assert names == ["赵六", "钱七"]
    sources = set(MergedReporter.objects.filter(case=survivor).values_list("source_case_id", flat=True))
    assert sources == {second.pk, third.pk}


@pytest.mark.parametrize("role", ["lead", "dispatcher", "admin"])
def test_centre_roles_may_merge(flow, staff, role):
    earlier, later = pair(flow)
    assert merge_cases(later, earlier, getattr(staff, role)).pk == earlier.pk


@pytest.mark.parametrize("role", ["clerk", "inspector", "handler", "leader"])
def test_other_roles_may_not_merge(flow, staff, role):
    earlier, later = pair(flow)
    with pytest.raises(Forbidden):
        merge_cases(later, earlier, getattr(staff, role))
    assert Case.objects.get(pk=later.pk).status == Status.REPORTED


def test_both_cases_must_be_in_scope(flow, staff, quick_user, region_tree):
    here = flow.new(at=MONDAY_9)
    there = flow.new(at=MONDAY_9 + MINUTE, point=IN_GRID_21)
    local = quick_user([Role.DISPATCHER], scope=region_tree["community1"])
    with pytest.raises(Forbidden) as refusal:
        merge_cases(there, here, local)
    assert refusal.value.code == "out_of_scope"
    assert Case.objects.get(pk=there.pk).version == there.version and Case.objects.get(pk=here.pk).version == here.version


@pytest.mark.parametrize("status", [Status.CLOSED, Status.REJECTED])
def test_finished_cases_cannot_be_merged_either_way(flow, staff, status):
    if status == Status.CLOSED:
        finished = flow.to(Status.CLOSED)
    else:
        finished = services.reject(flow.new(), staff.dispatcher, reason="不属实")
    open_case = flow.new(at=MONDAY_9 + dt.timedelta(hours=1), point=NEAR_GRID_11)
    for duplicate, into in ((finished, open_case), (open_case, finished)):
        with pytest.raises(IllegalTransition) as refusal:
            merge_cases(duplicate, into, staff.dispatcher)
        assert refusal.value.status == 409 and refusal.value.code == "not_mergeable"
    assert Case.objects.get(pk=open_case.pk).version == open_case.version


def test_a_merged_case_cannot_be_merged_again(flow, staff):
    earlier, later = pair(flow)
    third = flow.new(at=MONDAY_9 + dt.timedelta(hours=1), point=NEAR_GRID_11)
    merge_cases(later, earlier, staff.dispatcher)
    with pytest.raises(IllegalTransition):
        merge_cases(later, third, staff.dispatcher)
    with pytest.raises(IllegalTransition):
        merge_cases(third, later, staff.dispatcher)


def test_a_case_cannot_absorb_itself_and_stale_versions_are_refused(flow, staff):
    earlier, later = pair(flow)
    with pytest.raises(ValidationFailed) as same:
        merge_cases(earlier, earlier.pk, staff.dispatcher)
    assert "into" in same.value.fields
    with pytest.raises(Conflict) as stale:
        merge_cases(later, earlier, staff.dispatcher, expected_version=later.version + 5)
    assert stale.value.code == "stale"
    with pytest.raises(Conflict):
        merge_cases(later, earlier, staff.dispatcher, into_expected_version=earlier.version + 1)


def test_a_merged_duplicate_leaves_the_queue_and_the_badge(flow, staff):
    earlier, later = pair(flow)
    queue = list(Case.objects.filter(status=Status.REPORTED))
    assert duplicate_counts(staff.dispatcher, queue) == {earlier.pk: 1, later.pk: 1}
    merge_cases(later, earlier, staff.dispatcher)
    queue = list(Case.objects.filter(status=Status.REPORTED))
    assert [case.pk for case in queue] == [earlier.pk]
    assert duplicate_counts(staff.dispatcher, queue) == {earlier.pk: 0}
    assert services.available_actions(Case.objects.get(pk=later.pk), staff.dispatcher) == []
