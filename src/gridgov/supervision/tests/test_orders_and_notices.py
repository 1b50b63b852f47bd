"""催办/督办 orders with replies, and the notices on case transitions."""

import datetime as dt

import pytest

from gridgov.cases import services as case_services
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.timeline import verify_chain
from gridgov.core.errors import Forbidden, IllegalTransition, NotFound, ValidationFailed
from gridgov.supervision import services
from gridgov.supervision.models import Order, OrderKind, OrderStatus
from gridgov.web.models import Notification

from .conftest import MONDAY_9


def texts(user):
    return list(Notification.objects.filter(recipient=user).values_list("text", flat=True))


@pytest.mark.django_db(transaction=True)
def test_urge_and_reply(flow, staff):
    case = flow.to("handling")
    order = services.issue_urge(case, staff.lead, note="群众反映强烈，请加快", reply_hours=4, at=MONDAY_9 + dt.timedelta(hours=1))
    assert order.kind == OrderKind.URGE and order.department_id == case.department_id
    assert order.reply_due_at == MONDAY_9 + dt.timedelta(hours=5)
    assert any(case.number in text for text in texts(staff.handler))
    with pytest.raises(NotFound):
        services.reply_urge(order, staff.other_handler, reply="不是我们的")  # another department: not even visible
    replied = services.reply_urge(order, staff.handler, reply="已安排人员今日处理", at=MONDAY_9 + dt.timedelta(hours=6))
    assert replied.status == OrderStatus.REPLIED and replied.late  # an hour after the deadline
    assert any(case.number in text for text in texts(staff.lead))
    with pytest.raises(IllegalTransition) as error:
        services.reply_urge(order, staff.handler, reply="再次回复")
    assert error.value.code == "already_replied"
    actions = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["urge", "urge_reply"]
    assert verify_chain(Case.objects.get(pk=case.pk))


def test_supervision_order_sets_the_supervise_flag(flow, staff):
    case = flow.to("dispatched")
    order = services.issue_supervision_order(case, staff.leader, note="限期办结")
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.supervised and fresh.supervision_note == "限期办结"
    assert order.kind == OrderKind.SUPERVISION
    assert list(CaseEvent.objects.filter(case=case).order_by("-seq").values_list("action", flat=True)[:2]) == [
        "supervision", "supervise",
    ]
    assert services.reply_supervision_order(order, staff.handler, reply="本周内完成").status == OrderStatus.REPLIED


def test_order_rules(flow, staff):
    accepted = flow.to("accepted")
    with pytest.raises(IllegalTransition) as error:
        services.issue_urge(accepted, staff.lead, note="快")
    assert error.value.code == "not_dispatched"
    case = flow.to("dispatched")
    with pytest.raises(Forbidden):
        services.issue_supervision_order(case, staff.dispatcher, note="督办")  # leaders only
    with pytest.raises(ValidationFailed) as error:
        services.issue_urge(case, staff.lead, note="")
    assert "note" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        services.issue_urge(case, staff.lead, note="快", reply_hours="x")
    assert "reply_hours" in error.value.fields
    with pytest.raises(NotFound):
        services.reply_order(99999, staff.handler, reply="x")
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_transitions_notify_who_must_act(flow, staff):
    case = flow.to("accepted")
    handler_before = len(texts(staff.handler))
    case = case_services.dispatch(case, staff.dispatcher, department=staff.handler.department, at=MONDAY_9 + dt.timedelta(minutes=5))
    assert len(texts(staff.handler)) == handler_before + 1
    case = case_services.sign(case, staff.handler, at=MONDAY_9 + dt.timedelta(minutes=6))
    inspector_before, far_before = len(texts(staff.inspector)), len(texts(staff.far_inspector))
    case = case_services.submit_handling(case, staff.handler, note="已清理", at=MONDAY_9 + dt.timedelta(minutes=7))
    assert len(texts(staff.inspector)) == inspector_before + 1
    assert len(texts(staff.far_inspector)) == far_before
    case = case_services.verify(case, staff.inspector, passed=False, note="未清理干净", at=MONDAY_9 + dt.timedelta(minutes=8))
    lead_before = len(texts(staff.lead))
    case_services.request_extension(case, staff.handler, reason="需要机械", extra_value=1, extra_unit="working_days")
    assert len(texts(staff.lead)) == lead_before + 1
    dispatcher_before = len(texts(staff.dispatcher))
    case_services.return_case(case, staff.handler, reason="不属于本部门")
    assert len(texts(staff.dispatcher)) == dispatcher_before + 1
