import datetime as dt

import pytest

from gridgov.callbacks import services
from gridgov.callbacks.models import Callback, CallbackResult
from gridgov.cases import services as case_services
from gridgov.cases.models import CaseEvent, Status
from gridgov.cases.tests.conftest import MONDAY_9, SHANGHAI
from gridgov.core.errors import Forbidden, IllegalTransition, ValidationFailed

pytestmark = pytest.mark.django_db(transaction=True)  # case_changed is sent on commit


def closed_case(flow):
    return flow.to(Status.CLOSED)  # closed at Monday 09:06


def test_closing_a_case_schedules_a_callback_for_the_next_working_day(flow):
    case = closed_case(flow)
    callback = Callback.objects.get(case=case)
    assert callback.closed_at == case.closed_at
    assert callback.due_at == dt.datetime(2026, 12, 1, 9, 6, tzinfo=SHANGHAI)
    assert callback.result == "" and callback.done_at is None


def test_a_friday_closure_is_called_back_on_monday(flow):
    friday = dt.datetime(2026, 12, 4, 15, 0, tzinfo=SHANGHAI)
    case = flow.to(Status.CLOSED, at=friday)
    assert Callback.objects.get(case=case).due_at == dt.datetime(2026, 12, 7, 15, 6, tzinfo=SHANGHAI)


def test_only_closure_creates_callbacks_and_a_repeated_signal_creates_none(flow):
    case = flow.to(Status.VERIFIED)
    assert not Callback.objects.exists()
    case = case_services.close(case, flow.staff.lead, at=MONDAY_9 + dt.timedelta(hours=1))
    services.schedule(case)  # e.g. a signal delivered twice
    assert Callback.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    ("result", "rating"),
    [("satisfied", 3), ("basically_satisfied", 2), ("unsatisfied", 1)],
)
def test_recording_a_result_rates_the_case(flow, result, rating):
    case = closed_case(flow)
    callback = Callback.objects.get(case=case)
    done = services.record_result(callback, flow.staff.clerk, result=result, note="电话回访", at=MONDAY_9 + dt.timedelta(days=1))
    assert done.result == result and done.done_by == flow.staff.clerk and done.note == "电话回访"
    case.refresh_from_db()
    assert case.rating == rating and case.rating_comment == "电话回访" and case.status == Status.CLOSED
    assert CaseEvent.objects.filter(case=case, action="rate").count() == 1


def test_a_second_result_is_refused(flow):
    callback = Callback.objects.get(case=closed_case(flow))
    services.record_result(callback, flow.staff.clerk, result="satisfied")
    with pytest.raises(IllegalTransition) as error:
        services.record_result(callback, flow.staff.dispatcher, result="unsatisfied")
    assert error.value.code == "already_recorded"
    assert Callback.objects.get(pk=callback.pk).result == "satisfied"


def test_an_already_rated_case_keeps_its_rating(flow):
    case = closed_case(flow)
    case_services.rate(case, flow.staff.clerk, rating=2)
    callback = services.record_result(Callback.objects.get(case=case), flow.staff.clerk, result="satisfied")
    assert callback.result == "satisfied"
    case.refresh_from_db()
    assert case.rating == 2 and CaseEvent.objects.filter(case=case, action="rate").count() == 1


def test_unsatisfied_reopens_the_case_with_the_rework_counted(flow):
    case = closed_case(flow)
    callback = Callback.objects.get(case=case)
    done = services.record_result(
        callback, flow.staff.dispatcher, result="unsatisfied", reopen=True, reason="垃圾仍未清理",
        at=MONDAY_9 + dt.timedelta(days=1),
    )
    assert done.reopened and done.reopen_reason == "垃圾仍未清理"
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    assert case.rework_count == 1 and case.rating is None and case.closed_at is None and case.department_id is None
    assert case.due_at is not None  # the 立案+派遣 clock runs again
    events = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", "note"))
    assert events[-2:] == [("rate", ""), ("reopen", "垃圾仍未清理")]
    # Back through dispatch to closure: a new callback for the new closure.
    case = flow.to(Status.CLOSED, case=case, at=MONDAY_9 + dt.timedelta(days=2))
    assert Callback.objects.filter(case=case).count() == 2
    assert Callback.objects.filter(case=case, done_at__isnull=True).get().closed_at == case.closed_at


def test_reopen_needs_a_reason_and_an_unsatisfied_result(flow):
    callback = Callback.objects.get(case=closed_case(flow))
    with pytest.raises(ValidationFailed) as error:
        services.record_result(callback, flow.staff.clerk, result="unsatisfied", reopen=True, reason="  ")
    assert error.value.code == "reason_required" and "reason" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        services.record_result(callback, flow.staff.clerk, result="satisfied", reopen=True, reason="x")
    assert "reopen" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        services.record_result(callback, flow.staff.clerk, result="great")
    assert "result" in error.value.fields
    assert Callback.objects.get(pk=callback.pk).done_at is None  # nothing half-written
    assert callback.case.__class__.objects.get(pk=callback.case_id).rating is None


def test_no_result_on_a_case_that_is_open_again(flow):
    case = closed_case(flow)
    callback = Callback.objects.get(case=case)
    case = case_services.rate(case, flow.staff.clerk, rating=1)
    case_services.reopen(case, flow.staff.lead, reason="群众不满意")
    with pytest.raises(IllegalTransition) as error:
        services.record_result(callback, flow.staff.clerk, result="satisfied")
    assert error.value.code == "case_not_closed"


def test_roles_and_scope(flow, quick_user, region_tree):
    callback = Callback.objects.get(case=closed_case(flow))
    for user in (flow.staff.handler, flow.staff.inspector, flow.staff.leader):
        with pytest.raises(Forbidden):
            services.record_result(callback, user, result="satisfied")
    far_clerk = quick_user(["intake_clerk"], scope=region_tree["grid21"])
    with pytest.raises(Forbidden) as error:
        services.record_result(callback, far_clerk, result="satisfied")
    assert error.value.code == "out_of_scope"
    assert services.record_result(callback, flow.staff.lead, result="satisfied").result == CallbackResult.SATISFIED


def test_reopen_only_after_an_unsatisfied_rating(flow):
    case = closed_case(flow)
    assert "reopen" not in case_services.available_actions(case, flow.staff.clerk)
    with pytest.raises(IllegalTransition) as error:
        case_services.reopen(case, flow.staff.clerk, reason="x")
    assert error.value.code == "not_unsatisfied"
    case = case_services.rate(case, flow.staff.clerk, rating=1)
    assert "reopen" in case_services.available_actions(case, flow.staff.clerk)
    assert "reopen" not in case_services.available_actions(case, flow.staff.handler)
    with pytest.raises(ValidationFailed):
        case_services.reopen(case, flow.staff.clerk, reason="")
    with pytest.raises(Forbidden):
        case_services.reopen(case, flow.staff.handler, reason="x")
    case = case_services.reopen(case, flow.staff.clerk, reason="x")
    assert case.status == Status.ACCEPTED and case.rework_count == 1
    with pytest.raises(IllegalTransition):
        case_services.reopen(case, flow.staff.clerk, reason="x")
