"""SLA clocks: deadlines in office time, the 70% warning, overdue, pauses, list filters."""

import datetime as dt

import pytest

from gridgov.cases import services
from gridgov.cases.clocks import annotate_urgency, clock_state, filter_clock_state
from gridgov.cases.models import Case, CaseClock, Status

from .conftest import SHANGHAI

pytestmark = pytest.mark.django_db


def local(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def clock(case, kind):
    return CaseClock.objects.filter(case=case, kind=kind).order_by("-started_at", "-id").first()


MON = local(2026, 11, 30, 9)  # a plain Monday


# -- deadlines --------------------------------------------------------------------------------
def test_accept_dispatch_clock_is_one_working_hour_with_a_70_percent_warning(flow):
    case = flow.new(at=MON)
    assert (case.due_at, case.warn_at) == (local(2026, 11, 30, 10), local(2026, 11, 30, 9, 42))


def test_accept_dispatch_clock_skips_lunch(flow):
    case = flow.new(at=local(2026, 11, 30, 11, 30))
    assert case.due_at == local(2026, 11, 30, 14)  # 30 min before noon, 30 min after 13:30


def test_clock_across_the_2026_national_day_break(flow):
    # Wed 30 Sep 17:00: half an hour of office time left, then 1-7 October are holidays.
    case = flow.new(at=local(2026, 9, 30, 17))
    assert case.due_at == local(2026, 10, 8, 9)
    assert case.warn_at == local(2026, 10, 8, 8, 42)


def test_handling_deadline_in_working_days_across_national_day_and_a_make_up_saturday(flow, staff, categories, department):
    case = flow.new(at=local(2026, 9, 30, 9), category=categories.building)  # 20 working days
    case = services.accept(case, staff.dispatcher, at=local(2026, 9, 30, 9, 30))
    case = services.dispatch(case, staff.dispatcher, department=department, at=local(2026, 9, 30, 10))
    # Workdays after 30 Sep: 8, 9, 10 (Saturday 调休), 12-16, 19-23, 26-30 Oct, 2, 3 Nov.
    assert case.handle_due_at == local(2026, 11, 3, 10)
    sign = clock(case, "sign")
    assert sign.due_at == local(2026, 9, 30, 11)


def test_urgent_cases_count_natural_hours(flow, categories):
    case = flow.new(at=local(2026, 12, 4, 17), category=categories.water)  # Friday evening, urgent
    assert case.priority == 4
    assert case.due_at == local(2026, 12, 4, 18)  # 1 natural hour, not Monday morning


def test_dispatcher_deadline_replaces_the_category_limit(flow, staff, department):
    case = flow.to(Status.ACCEPTED, at=MON)
    due = local(2026, 12, 1, 17)
    case = services.dispatch(case, staff.dispatcher, department=department, due_at=due, at=local(2026, 11, 30, 10))
    handle = clock(case, "handle")
    assert handle.due_at == due and case.handle_due_at == due
    assert local(2026, 11, 30, 10) < handle.warn_at < due


def test_case_due_at_mirrors_the_earliest_running_clock(flow):
    case = flow.to(Status.DISPATCHED, at=MON)  # dispatched 09:02: sign due 10:02, handle 14:32
    assert case.due_at == local(2026, 11, 30, 10, 2)
    assert case.handle_due_at == local(2026, 11, 30, 14, 32)
    case = flow.to(Status.HANDLING, case=case, at=MON)
    assert case.due_at == local(2026, 11, 30, 14, 32)


def test_verify_clock_is_one_working_day(flow):
    case = flow.to(Status.HANDLED, at=MON)  # handled 09:04
    assert clock(case, "verify").due_at == local(2026, 12, 1, 9, 4)


# -- late finishes ------------------------------------------------------------------------------
def test_a_clock_stopped_late_marks_the_case(flow, staff, department):
    case = flow.new(at=MON)
    case = services.accept(case, staff.dispatcher, at=local(2026, 11, 30, 9, 30))
    assert not case.was_overdue
    case = services.dispatch(case, staff.dispatcher, department=department, at=local(2026, 11, 30, 10, 15))
    assert case.was_overdue
    assert clock(case, "accept_dispatch").overdue


def test_a_clock_stopped_on_time_does_not(flow):
    case = flow.to(Status.CLOSED, at=MON)
    assert not case.was_overdue
    assert not CaseClock.objects.filter(case=case, overdue=True).exists()


def test_a_return_restarts_the_accept_dispatch_clock(flow, staff):
    case = flow.to(Status.DISPATCHED, at=MON)
    case = services.return_case(case, staff.handler, reason="非本部门", at=local(2026, 11, 30, 15))
    assert case.due_at == local(2026, 11, 30, 16)
    assert CaseClock.objects.filter(case=case, kind="accept_dispatch").count() == 2


# -- parking --------------------------------------------------------------------------------------
def test_unparking_resumes_with_the_office_time_that_was_left(flow, staff, department):
    case = flow.to(Status.ACCEPTED, at=MON)
    case = services.dispatch(case, staff.dispatcher, department=department, at=MON)  # handle due 14:30
    case = services.sign(case, staff.handler, at=local(2026, 11, 30, 9, 10))
    request = services.request_park(case, staff.handler, reason="长期", at=local(2026, 11, 30, 9, 50))
    services.decide_park(request, staff.lead, approve=True, at=local(2026, 11, 30, 10))
    paused = clock(case, "handle")
    assert paused.paused and paused.stopped_at == local(2026, 11, 30, 10) and not paused.overdue
    # Three office hours were left (10-12, 13:30-14:30); unparked Wednesday 09:00.
    case = services.unpark(case, staff.lead, at=local(2026, 12, 2, 9))
    resumed = clock(case, "handle")
    assert resumed.pk != paused.pk and resumed.stopped_at is None
    assert resumed.due_at == local(2026, 12, 2, 12)
    # The warning was 1 h 48 min of office time away (at 11:48 Monday).
    assert resumed.warn_at == local(2026, 12, 2, 10, 48)
    assert case.due_at == resumed.due_at and case.handle_due_at == resumed.due_at
    assert not case.was_overdue


def test_a_clock_already_overdue_when_parked_resumes_overdue(flow, staff, department):
    case = flow.to(Status.HANDLING, at=MON)  # handle due 14:32
    request = services.request_park(case, staff.handler, reason="长期", at=local(2026, 11, 30, 16))
    services.decide_park(request, staff.lead, approve=True, at=local(2026, 11, 30, 16))
    case = Case.objects.get(pk=case.pk)
    assert case.was_overdue  # the handle clock stopped after its deadline
    case = services.unpark(case, staff.lead, at=local(2026, 12, 2, 9))
    assert case.due_at == local(2026, 12, 2, 9)
    assert clock_state(case, local(2026, 12, 2, 9, 1)) == "overdue"


def test_natural_hour_clocks_resume_with_wall_clock_time(flow, staff, department, categories):
    case = flow.new(at=local(2026, 12, 4, 17), category=categories.water)  # urgent: natural hours
    case = services.accept(case, staff.dispatcher, at=local(2026, 12, 4, 17, 10))
    case = services.dispatch(case, staff.dispatcher, department=department, at=local(2026, 12, 4, 17, 20))
    assert case.handle_due_at == local(2026, 12, 4, 19, 20)  # 2 natural hours
    request = services.request_park(case, staff.dispatcher, reason="等待抢修队", at=local(2026, 12, 4, 18))
    services.decide_park(request, staff.lead, approve=True, at=local(2026, 12, 4, 18, 20))
    case = services.unpark(case, staff.lead, at=local(2026, 12, 5, 8))  # Saturday morning
    assert case.handle_due_at == local(2026, 12, 5, 9)


# -- states for lists ----------------------------------------------------------------------------
def test_clock_state_over_time(flow):
    case = flow.new(at=MON)  # warn 09:42, due 10:00
    assert clock_state(case, local(2026, 11, 30, 9, 41)) == "normal"
    assert clock_state(case, local(2026, 11, 30, 9, 42)) == "warning"
    assert clock_state(case, local(2026, 11, 30, 10)) == "warning"
    assert clock_state(case, local(2026, 11, 30, 10, 1)) == "overdue"
    closed = flow.to(Status.CLOSED, at=MON)
    assert clock_state(closed, local(2026, 11, 30, 10)) is None


def test_filter_and_sort_by_clock_state(flow):
    early = flow.new(at=local(2026, 11, 30, 8, 30))  # warn 09:12, due 09:30
    middle = flow.new(at=local(2026, 11, 30, 9))  # warn 09:42, due 10:00
    late = flow.new(at=local(2026, 11, 30, 10))  # warn 10:42, due 11:00
    closed = flow.to(Status.CLOSED, at=local(2026, 11, 30, 9))
    now = local(2026, 11, 30, 9, 45)
    cases = Case.objects.all()
    assert set(filter_clock_state(cases, "overdue", now)) == {early}
    assert set(filter_clock_state(cases, "warning", now)) == {middle}
    assert set(filter_clock_state(cases, "normal", now)) == {late}
    assert set(filter_clock_state(cases, None, now)) == {closed}
    ordered = annotate_urgency(cases, now).order_by("urgency", "due_at")
    assert [c.pk for c in ordered] == [early.pk, middle.pk, late.pk, closed.pk]
    assert [c.urgency for c in ordered] == [0, 1, 2, 3]
    # the database agrees with the Python rule
    for case in cases:
        assert clock_state(case, now) == {0: "overdue", 1: "warning", 2: "normal", 3: None}[
            annotate_urgency(Case.objects.filter(pk=case.pk), now).get().urgency
        ]


def test_unknown_clock_state_is_an_error(flow):
    with pytest.raises(ValueError):
        filter_clock_state(Case.objects.all(), "late")
