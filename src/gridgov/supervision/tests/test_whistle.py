"""吹哨报到: summoning departments, check-ins, scope, 事不完人不撤, timeline events."""

import datetime as dt

import pytest

from gridgov.cases import services as case_services
from gridgov.cases.models import Case, CaseEvent
from gridgov.cases.timeline import verify_chain
from gridgov.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from gridgov.org.models import Department
from gridgov.supervision import services
from gridgov.supervision.models import Summons, SummonsRole, Whistle
from gridgov.web.models import Notification

from .conftest import MONDAY_9


def blow(case, actor, served, **kwargs):
    kwargs.setdefault("lead_department", served.lead)
    kwargs.setdefault("co_departments", [served.co])
    kwargs.setdefault("reason", "占道施工需多部门联合执法")
    kwargs.setdefault("at", MONDAY_9 + dt.timedelta(hours=1))
    return services.blow_whistle(case, actor, **kwargs)


@pytest.mark.django_db(transaction=True)
def test_blow_summons_lead_and_co_departments_with_a_timeline_event(flow, staff, served, whistlers):
    case = flow.to("handling")
    whistle = blow(case, whistlers.grid_secretary, served)

    summonses = {s.department_id: s for s in Summons.objects.filter(whistle=whistle)}
    assert summonses[served.lead.pk].role == SummonsRole.LEAD
    assert summonses[served.co.pk].role == SummonsRole.CO
    due = MONDAY_9 + dt.timedelta(hours=1, minutes=30)  # default limit: 30 minutes
    assert all(s.check_in_due_at == due and s.summoned_at == whistle.blown_at for s in summonses.values())
    event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert event.action == "whistle" and event.data["lead_department"] == served.lead.pk
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.version == case.version + 1 and fresh.status == case.status
    assert verify_chain(fresh)
    # Both departments' handlers are told.
    assert Notification.objects.filter(recipient=staff.handler, text__contains=case.number).exists()
    assert Notification.objects.filter(recipient=staff.other_handler, text__contains=case.number).exists()


def test_check_in_once_then_refused(flow, staff, served, whistlers):
    case = flow.to("handling")
    blow(case, whistlers.grid_secretary, served)
    at = MONDAY_9 + dt.timedelta(hours=1, minutes=10)
    summons = services.check_in_case(case, staff.other_handler, note="已到场", at=at)
    assert summons.checked_in_at == at and not summons.late and summons.checked_in_by == staff.other_handler
    with pytest.raises(IllegalTransition) as error:
        services.check_in_case(case, staff.other_handler, at=at)
    assert error.value.code == "already_checked_in"
    assert list(CaseEvent.objects.filter(case=case, action="check_in").values_list("data__late", flat=True)) == [False]
    assert verify_chain(case)


def test_check_in_after_the_limit_is_late(flow, staff, served, whistlers):
    case = flow.to("handling")
    blow(case, whistlers.grid_secretary, served, check_in_minutes=10)
    summons = services.check_in_case(case, staff.handler, at=MONDAY_9 + dt.timedelta(hours=1, minutes=11))
    assert summons.late


def test_summoned_co_department_sees_the_case(flow, staff, served, whistlers):
    case = flow.to("handling")
    assert not Case.objects.restrict(staff.other_handler).filter(pk=case.pk).exists()
    assert not case.in_scope_of(staff.other_handler)
    blow(case, whistlers.grid_secretary, served)
    assert Case.objects.restrict(staff.other_handler).filter(pk=case.pk).exists()
    assert Case.objects.get(pk=case.pk).in_scope_of(staff.other_handler)


def test_non_summoned_department_cannot_check_in(flow, staff, served, whistlers, quick_user):
    case = flow.to("handling")
    blow(case, whistlers.grid_secretary, served, co_departments=[])
    with pytest.raises(NotFound):  # the co department was not summoned: it does not even see the case
        services.check_in_case(case, staff.other_handler)
    # A summons of another department, by id, is refused too.
    lead_summons = Summons.objects.get(case=case)
    with pytest.raises((Forbidden, NotFound)):
        services.check_in(lead_summons, staff.other_handler)
    assert Summons.objects.get(pk=lead_summons.pk).checked_in_at is None


def test_departments_outside_the_case_region_are_refused_without_partial_state(flow, served, whistlers):
    case = flow.to("handling")
    version = case.version
    with pytest.raises(ValidationFailed) as error:
        blow(case, whistlers.grid_secretary, served, co_departments=[served.co, served.far])
    assert error.value.code == "outside_region" and "co_departments" in error.value.fields
    assert "远方所" in str(error.value.fields["co_departments"][0])
    assert not Whistle.objects.exists() and not Summons.objects.exists()
    assert Case.objects.get(pk=case.pk).version == version


@pytest.mark.parametrize(
    "lead, co, field",
    [("missing", [], "lead_department"), ("lead", ["lead"], "co_departments"), ("lead", ["co", "co"], "co_departments")],
)
def test_bad_department_choices_name_the_field(flow, served, whistlers, lead, co, field):
    case = flow.to("dispatched")
    pick = {"lead": served.lead.pk, "co": served.co.pk, "missing": 999999}
    with pytest.raises(ValidationFailed) as error:
        blow(case, whistlers.grid_secretary, served, lead_department=pick[lead], co_departments=[pick[c] for c in co])
    assert field in error.value.fields
    assert not Whistle.objects.exists()


def test_inactive_department_refused(flow, served, whistlers):
    case = flow.to("dispatched")
    Department.objects.filter(pk=served.co.pk).update(is_active=False)
    with pytest.raises(ValidationFailed) as error:
        blow(case, whistlers.grid_secretary, served)
    assert "co_departments" in error.value.fields


def test_roles_and_scope(flow, staff, served, whistlers):
    case = flow.to("dispatched")
    with pytest.raises(Forbidden):
        blow(case, staff.dispatcher, served)  # not a whistling role
    with pytest.raises(NotFound):
        blow(case, whistlers.far_secretary, served)  # the case lies outside their community
    assert blow(case, whistlers.community_secretary, served).pk


def test_one_active_whistle_per_case(flow, served, whistlers):
    case = flow.to("dispatched")
    blow(case, whistlers.grid_secretary, served)
    with pytest.raises(Conflict) as error:
        blow(case, whistlers.community_secretary, served)
    assert error.value.code == "whistle_active"


def test_whistle_needs_an_open_case(flow, served, whistlers):
    case = flow.to("closed")
    with pytest.raises(IllegalTransition):
        blow(case, whistlers.grid_secretary, served)


@pytest.mark.django_db(transaction=True)
def test_departments_stay_until_closed_then_check_in_is_closed(flow, staff, served, whistlers):
    case = flow.to("handling")
    blow(case, whistlers.grid_secretary, served)
    summons = Summons.objects.get(case=case, department=served.co)
    with pytest.raises(IllegalTransition) as error:
        services.release(summons, whistlers.grid_secretary)
    assert error.value.code == "case_open"
    assert Summons.objects.get(pk=summons.pk).released_at is None

    case = flow.to("closed", case=case, at=MONDAY_9 + dt.timedelta(hours=2))
    assert Whistle.objects.get(case=case).closed_at is not None
    assert Summons.objects.get(pk=summons.pk).released_at is not None
    with pytest.raises(IllegalTransition) as error:
        services.check_in_case(case, staff.other_handler)
    assert error.value.code == "case_finished"


def test_bad_limit_and_reason(flow, served, whistlers):
    case = flow.to("dispatched")
    with pytest.raises(ValidationFailed) as error:
        blow(case, whistlers.grid_secretary, served, check_in_minutes=0)
    assert "check_in_minutes" in error.value.fields
    with pytest.raises(ValidationFailed) as error:
        blow(case, whistlers.grid_secretary, served, reason="  ")
    assert "reason" in error.value.fields


def test_record_event_bumps_version_and_keeps_the_chain(flow, staff):
    case = flow.to("dispatched")
    event = case_services.record_event(case, staff.lead, "urge", note="请尽快", data={"x": 1})
    fresh = Case.objects.get(pk=case.pk)
    assert event.seq == fresh.version == case.version + 1
    assert verify_chain(fresh)
