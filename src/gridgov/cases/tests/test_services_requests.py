"""Requests that need a shift lead: extension (延期) and parking (挂账)."""

import datetime as dt

import pytest

from gridgov.cases import services
from gridgov.cases.models import Case, CaseClock, CaseRequest, RequestStatus, Status
from gridgov.core.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed

from .conftest import MONDAY_9, SHANGHAI

pytestmark = pytest.mark.django_db


def handle_clock(case):
    return CaseClock.objects.get(case=case, kind="handle", stopped_at__isnull=True)


# -- extension ------------------------------------------------------------------------------
def test_approved_extension_moves_the_handling_deadline(flow, staff):
    case = flow.to(Status.HANDLING)  # dispatched 09:02 Monday; 4 working hours → 14:32
    assert handle_clock(case).due_at == dt.datetime(2026, 11, 30, 14, 32, tzinfo=SHANGHAI)
    request = services.request_extension(
        case, staff.handler, reason="需要协调物业", extra_value=2, extra_unit="working_hours", at=MONDAY_9 + dt.timedelta(hours=1)
    )
    assert request.status == RequestStatus.PENDING and request.requested_by == staff.handler
    request = services.decide_extension(request, staff.lead, approve=True, note="同意", at=MONDAY_9 + dt.timedelta(hours=2))
    assert request.status == RequestStatus.APPROVED and request.decided_by == staff.lead
    case = Case.objects.get(pk=case.pk)
    clock = handle_clock(case)
    assert clock.due_at == dt.datetime(2026, 11, 30, 16, 32, tzinfo=SHANGHAI)
    assert case.handle_due_at == clock.due_at and case.due_at == clock.due_at
    assert clock.warn_at > dt.datetime(2026, 11, 30, 13, 30, tzinfo=SHANGHAI)
    assert case.extension_count == 1
    assert [e.action for e in case.events.order_by("seq")][-2:] == ["request_extension", "decide_extension"]
    assert case.events.order_by("-seq").first().data["approved"] is True


def test_refused_extension_keeps_the_deadline(flow, staff):
    case = flow.to(Status.HANDLING)
    due = handle_clock(case).due_at
    request = services.request_extension(case, staff.handler, reason="x", extra_value=1, extra_unit="working_days")
    request = services.decide_extension(request.pk, staff.lead, approve=False, note="不同意")
    assert request.status == RequestStatus.REJECTED and request.decision_note == "不同意"
    case = Case.objects.get(pk=case.pk)
    assert handle_clock(case).due_at == due and case.extension_count == 0


def test_extension_decided_only_once(flow, staff):
    case = flow.to(Status.HANDLING)
    request = services.request_extension(case, staff.handler, reason="x", extra_value=1, extra_unit="working_days")
    services.decide_extension(request, staff.lead, approve=False)
    with pytest.raises(IllegalTransition) as refusal:
        services.decide_extension(request, staff.lead, approve=True)
    assert refusal.value.code == "already_decided"


def test_one_pending_extension_at_a_time(flow, staff):
    case = flow.to(Status.HANDLING)
    services.request_extension(case, staff.handler, reason="x", extra_value=1, extra_unit="working_days")
    with pytest.raises(IllegalTransition) as refusal:
        services.request_extension(case, staff.handler, reason="y", extra_value=1, extra_unit="working_days")
    assert refusal.value.code == "request_pending"
    assert CaseRequest.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"extra_value": 0}, "extra_value"),
        ({"extra_value": "two"}, "extra_value"),
        ({"extra_value": 100000}, "extra_value"),
        ({"extra_unit": "weeks"}, "extra_unit"),
        ({"reason": ""}, "reason"),
    ],
)
def test_extension_request_input_is_checked(fields, field, flow, staff):
    case = flow.to(Status.HANDLING)
    values = {"reason": "x", "extra_value": 1, "extra_unit": "working_days", **fields}
    with pytest.raises(ValidationFailed) as refusal:
        services.request_extension(case, staff.handler, **values)
    assert field in refusal.value.fields


def test_extension_roles(flow, staff):
    case = flow.to(Status.HANDLING)
    with pytest.raises(Forbidden):
        services.request_extension(case, staff.dispatcher, reason="x", extra_value=1, extra_unit="working_days")
    with pytest.raises(Forbidden):
        services.request_extension(case, staff.other_handler, reason="x", extra_value=1, extra_unit="working_days")
    request = services.request_extension(case, staff.handler, reason="x", extra_value=1, extra_unit="working_days")
    for user in (staff.dispatcher, staff.handler, staff.leader):
        with pytest.raises(Forbidden):
            services.decide_extension(request, user, approve=True)


def test_extension_cannot_be_approved_once_the_case_moved_on(flow, staff):
    case = flow.to(Status.HANDLING)
    request = services.request_extension(case, staff.handler, reason="x", extra_value=1, extra_unit="working_days")
    services.submit_handling(case, staff.handler, note="done")
    with pytest.raises(IllegalTransition):
        services.decide_extension(request, staff.lead, approve=True)
    assert services.decide_extension(request, staff.lead, approve=False).status == RequestStatus.REJECTED


def test_deciding_an_unknown_request_is_not_found(flow, staff):
    case = flow.to(Status.HANDLING)
    request = services.request_park(case, staff.handler, reason="长期")
    with pytest.raises(NotFound):
        services.decide_extension(request, staff.lead, approve=True)  # it is a park request
    with pytest.raises(NotFound):
        services.decide_park(999999, staff.lead, approve=True)


# -- parking ---------------------------------------------------------------------------------
def test_park_and_unpark_return_to_the_previous_status(flow, staff):
    case = flow.to(Status.HANDLING)
    request = services.request_park(case, staff.handler, reason="涉及拆迁，需长期处理")
    services.decide_park(request, staff.lead, approve=True, note="同意挂账")
    case = Case.objects.get(pk=case.pk)
    assert case.status == Status.PARKED and case.parked_from_status == Status.HANDLING
    assert case.due_at is None and not CaseClock.objects.filter(case=case, stopped_at__isnull=True).exists()
    assert services.available_actions(case, staff.lead) == ["unpark", "supervise"]
    case = services.unpark(case, staff.lead, note="条件具备")
    assert case.status == Status.HANDLING and case.parked_from_status == ""
    assert handle_clock(case) is not None
    assert [e.action for e in case.events.order_by("seq")][-3:] == ["request_park", "decide_park", "unpark"]


def test_refused_parking_changes_nothing(flow, staff):
    case = flow.to(Status.DISPATCHED)
    request = services.request_park(case, staff.dispatcher, reason="x")
    services.decide_park(request, staff.lead, approve=False)
    case = Case.objects.get(pk=case.pk)
    assert case.status == Status.DISPATCHED
    assert sorted(CaseClock.objects.filter(case=case, stopped_at__isnull=True).values_list("kind", flat=True)) == [
        "handle", "sign"
    ]


def test_parking_roles_and_department(flow, staff):
    case = flow.to(Status.HANDLING)
    with pytest.raises(Forbidden):
        services.request_park(case, staff.inspector, reason="x")
    with pytest.raises(Forbidden):
        services.request_park(case, staff.other_handler, reason="x")
    request = services.request_park(case, staff.handler, reason="x")
    with pytest.raises(Forbidden):
        services.decide_park(request, staff.dispatcher, approve=True)
    services.decide_park(request, staff.lead, approve=True)
    with pytest.raises(Forbidden):
        services.unpark(case, staff.dispatcher)


def test_parking_from_reported_is_illegal(flow, staff):
    case = flow.new()
    with pytest.raises(IllegalTransition):
        services.request_park(case, staff.dispatcher, reason="x")
