"""The case lifecycle through the services: transitions, timeline, counters, refusals."""

import datetime as dt

import pytest

from gridgov.cases import services
from gridgov.cases.models import Case, CaseClock, CaseEvent, ClockKind, Status
from gridgov.cases.signals import case_changed
from gridgov.cases.timeline import verify_chain
from gridgov.core.errors import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed

from .conftest import MONDAY_9

pytestmark = pytest.mark.django_db
MINUTE = dt.timedelta(minutes=1)


def actions(case):
    return list(case.events.order_by("seq").values_list("action", flat=True))


def running_kinds(case):
    return sorted(CaseClock.objects.filter(case=case, stopped_at__isnull=True).values_list("kind", flat=True))


# -- the whole way ----------------------------------------------------------------------
def test_full_lifecycle_writes_one_event_per_transition(flow, staff, department):
    case = flow.to(Status.CLOSED)
    case = services.rate(case, staff.clerk, rating=3, comment="很满意", at=MONDAY_9 + dt.timedelta(hours=2))
    events = list(case.events.order_by("seq"))
    assert [e.action for e in events] == ["create", "accept", "dispatch", "sign", "handle", "verify", "close", "rate"]
    assert [e.to_status for e in events] == [
        "reported", "accepted", "dispatched", "handling", "handled", "verified", "closed", "closed"
    ]
    assert [e.from_status for e in events][1:] == [e.to_status for e in events][:-1]
    assert [e.seq for e in events] == list(range(1, 9))
    assert events[2].actor == staff.dispatcher and events[3].actor == staff.handler
    assert events[1].at == MONDAY_9 + MINUTE
    assert case.version == 8
    assert case.rating == 3 and case.rating_comment == "很满意"
    assert case.department == department and case.handler == staff.handler
    assert case.accepted_at and case.dispatched_at and case.signed_at and case.handled_at and case.closed_at
    assert verify_chain(case)
    assert running_kinds(case) == []
    assert case.due_at is None and case.warn_at is None


def test_each_step_runs_the_right_clocks(flow):
    case = flow.new()
    assert running_kinds(case) == ["accept_dispatch"]
    case = flow.to(Status.ACCEPTED, case=case)
    assert running_kinds(case) == ["accept_dispatch"]
    case = flow.to(Status.DISPATCHED, case=case)
    assert running_kinds(case) == ["handle", "sign"]
    case = flow.to(Status.HANDLING, case=case)
    assert running_kinds(case) == ["handle"]
    case = flow.to(Status.HANDLED, case=case)
    assert running_kinds(case) == ["verify"]
    case = flow.to(Status.VERIFIED, case=case)
    assert running_kinds(case) == []


def test_case_numbers_are_date_plus_daily_sequence(flow):
    first = flow.new()
    second = flow.new(at=MONDAY_9 + dt.timedelta(hours=1))
    next_day = flow.new(at=MONDAY_9 + dt.timedelta(days=1))
    assert (first.number, second.number, next_day.number) == ("2026113000001", "2026113000002", "2026120100001")


def test_case_number_uses_the_local_date(flow):
    # 2026-11-30 23:30 in Shanghai is 15:30 UTC of the same day, but 00:30 the next day is
    # still 2026-11-30 in UTC: the number must follow the local calendar.
    case = flow.new(at=dt.datetime(2026, 12, 1, 0, 30, tzinfo=MONDAY_9.tzinfo))
    assert case.number.startswith("20261201")


def test_services_accept_a_primary_key_and_return_a_fresh_case(flow, staff):
    case = flow.new()
    accepted = services.accept(case.pk, staff.dispatcher, at=MONDAY_9 + MINUTE)
    assert accepted.status == Status.ACCEPTED and case.status == Status.REPORTED


def test_unknown_case_is_not_found(staff, categories):
    with pytest.raises(NotFound):
        services.accept(987654, staff.dispatcher)


def test_case_changed_is_sent_after_commit(flow, staff, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, case, event, **kwargs):
        received.append((case.number, event.action))

    case = flow.new()
    case_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            accepted = services.accept(case, staff.dispatcher, at=MONDAY_9 + MINUTE)
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        case_changed.disconnect(listener)
    assert (accepted.number, "accept") in received


# -- acceptance, rejection, placement ------------------------------------------------------
def test_accept_sets_the_category_and_its_default_priority(flow, staff, categories):
    case = flow.new(category=None)
    assert case.priority == 2
    case = services.accept(case, staff.dispatcher, category=categories.building.pk, note="属实", at=MONDAY_9 + MINUTE)
    assert case.category == categories.building and case.priority == categories.building.default_priority
    event = case.events.get(seq=2)
    assert event.note == "属实" and event.data == {"category": categories.building.pk, "priority": 3}


def test_accept_without_a_category_is_refused(flow, staff):
    case = flow.new(category=None)
    with pytest.raises(ValidationFailed) as refusal:
        services.accept(case, staff.dispatcher, at=MONDAY_9 + MINUTE)
    assert refusal.value.code == "required" and "category" in refusal.value.fields
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_accept_refuses_a_major_class(flow, staff, categories):
    case = flow.new(category=None)
    with pytest.raises(ValidationFailed) as refusal:
        services.accept(case, staff.dispatcher, category=categories.major)
    assert refusal.value.code == "unknown_category"


def test_reject_stops_the_clocks_and_keeps_the_reason(flow, staff):
    case = flow.new()
    case = services.reject(case, staff.dispatcher, reason="重复上报", at=MONDAY_9 + MINUTE)
    assert case.status == Status.REJECTED and case.reject_reason == "重复上报"
    assert running_kinds(case) == [] and case.due_at is None


def test_reject_needs_a_reason(flow, staff):
    case = flow.new()
    with pytest.raises(ValidationFailed) as refusal:
        services.reject(case, staff.dispatcher, reason="  ")
    assert refusal.value.fields.keys() == {"reason"}


def test_place_puts_an_unplaced_case_on_a_grid(flow, staff, region_tree):
    case = flow.new(point=None)
    assert case.needs_placement
    case = services.place(case, staff.dispatcher, grid=region_tree["grid12"].pk, at=MONDAY_9 + MINUTE)
    assert case.grid == region_tree["grid12"] and case.region_code == region_tree["grid12"].code
    assert not case.needs_placement
    assert case.status == Status.REPORTED
    with pytest.raises(IllegalTransition) as refusal:
        services.place(case, staff.dispatcher, grid=region_tree["grid11"])
    assert refusal.value.code == "already_placed"


def test_place_refuses_a_region_that_is_not_a_grid(flow, staff, region_tree):
    case = flow.new(point=None)
    with pytest.raises(ValidationFailed) as refusal:
        services.place(case, staff.dispatcher, grid=region_tree["community1"])
    assert refusal.value.code == "not_a_grid"


def test_place_refuses_a_grid_outside_the_actors_scope(flow, staff, quick_user, region_tree):
    case = flow.new(point=None)
    community_dispatcher = quick_user(["dispatcher"], scope=region_tree["community1"])
    case = Case.objects.get(pk=case.pk)
    case.region_code = region_tree["community1"].code  # unplaced inside their community
    case.save(update_fields=["region_code"])
    with pytest.raises(Forbidden):
        services.place(case, community_dispatcher, grid=region_tree["grid21"])


# -- dispatch, sign, return ----------------------------------------------------------------
def test_dispatch_needs_an_active_department(flow, staff, department):
    case = flow.to(Status.ACCEPTED)
    department.is_active = False
    department.save()
    with pytest.raises(ValidationFailed) as refusal:
        services.dispatch(case, staff.dispatcher, department=department)
    assert refusal.value.code == "inactive_department"
    with pytest.raises(ValidationFailed):
        services.dispatch(case, staff.dispatcher, department=999999)


def test_dispatch_with_a_deadline_in_the_past_is_refused(flow, staff, department):
    case = flow.to(Status.ACCEPTED)
    with pytest.raises(ValidationFailed) as refusal:
        services.dispatch(case, staff.dispatcher, department=department, due_at=MONDAY_9, at=MONDAY_9 + MINUTE * 5)
    assert refusal.value.code == "in_past"


def test_sign_records_the_handler(flow, staff):
    case = flow.to(Status.HANDLING)
    assert case.handler == staff.handler and case.signed_at == MONDAY_9 + 3 * MINUTE


def test_a_handler_of_another_department_may_not_act(flow, staff):
    case = flow.to(Status.DISPATCHED)
    with pytest.raises(Forbidden) as refusal:
        services.sign(case, staff.other_handler)
    # The case is not theirs at all, so scope already refuses it.
    assert refusal.value.code in {"out_of_scope", "not_your_department"}


def test_a_handler_with_area_scope_still_needs_their_own_department(flow, staff, quick_user, region_tree, other_department):
    case = flow.to(Status.DISPATCHED)
    wide_handler = quick_user(["dept_handler"], scope=region_tree["district"], department=other_department)
    with pytest.raises(Forbidden) as refusal:
        services.sign(case, wide_handler)
    assert refusal.value.code == "not_your_department"


def test_return_sends_the_case_back_to_dispatch(flow, staff):
    case = flow.to(Status.HANDLING)
    case = services.return_case(case, staff.handler, reason="不属于本部门职责", at=MONDAY_9 + dt.timedelta(hours=1))
    assert case.status == Status.ACCEPTED and case.return_count == 1
    assert case.department is None and case.handler is None and case.handle_due_at is None
    assert running_kinds(case) == ["accept_dispatch"]
    event = case.events.order_by("-seq").first()
    assert event.action == "return" and event.note == "不属于本部门职责"
    # and it can be dispatched again
    case = services.dispatch(case, staff.dispatcher, department=staff.handler.department, at=MONDAY_9 + dt.timedelta(hours=2))
    assert case.status == Status.DISPATCHED


def test_return_from_dispatched_also_works_and_needs_a_reason(flow, staff):
    case = flow.to(Status.DISPATCHED)
    with pytest.raises(ValidationFailed):
        services.return_case(case, staff.handler, reason="")
    case = services.return_case(case, staff.handler, reason="地址不详")
    assert case.status == Status.ACCEPTED and case.return_count == 1


# -- handling and verification -------------------------------------------------------------
def test_submit_handling_needs_a_note(flow, staff):
    case = flow.to(Status.HANDLING)
    with pytest.raises(ValidationFailed) as refusal:
        services.submit_handling(case, staff.handler, note="")
    assert refusal.value.fields.keys() == {"note"}


def test_failed_verification_sends_the_case_back_to_handling(flow, staff):
    case = flow.to(Status.HANDLED)
    at = MONDAY_9 + dt.timedelta(hours=1)
    case = services.verify(case, staff.inspector, passed=False, note="仍有垃圾", at=at)
    assert case.status == Status.HANDLING and case.rework_count == 1
    assert running_kinds(case) == ["handle"]
    fresh = CaseClock.objects.get(case=case, kind=ClockKind.HANDLE, stopped_at__isnull=True)
    assert fresh.started_at == at and case.handle_due_at == fresh.due_at
    event = case.events.order_by("-seq").first()
    assert event.data == {"passed": False} and event.to_status == Status.HANDLING
    case = services.submit_handling(case, staff.handler, note="再次清理", at=at + MINUTE)
    case = services.verify(case, staff.inspector, passed=True, at=at + 2 * MINUTE)
    assert case.status == Status.VERIFIED and case.rework_count == 1


def test_failed_verification_needs_a_note(flow, staff):
    case = flow.to(Status.HANDLED)
    with pytest.raises(ValidationFailed):
        services.verify(case, staff.inspector, passed=False)


# -- rating and supervision ----------------------------------------------------------------
def test_rating_only_once_and_only_when_closed(flow, staff):
    case = flow.to(Status.VERIFIED)
    with pytest.raises(IllegalTransition):
        services.rate(case, staff.clerk, rating=3)
    case = services.close(case, staff.lead)
    with pytest.raises(ValidationFailed) as refusal:
        services.rate(case, staff.clerk, rating=5)
    assert refusal.value.fields.keys() == {"rating"}
    case = services.rate(case, staff.clerk, rating=1, comment="太慢")
    with pytest.raises(IllegalTransition) as refusal:
        services.rate(case, staff.clerk, rating=3)
    assert refusal.value.code == "already_rated"
    assert Case.objects.get(pk=case.pk).rating == 1


def test_supervise_flags_the_case_without_changing_status(flow, staff):
    case = flow.to(Status.HANDLING)
    case = services.supervise(case, staff.leader, note="请加快处置", at=MONDAY_9 + dt.timedelta(hours=1))
    assert case.supervised and case.supervision_note == "请加快处置" and case.status == Status.HANDLING
    event = case.events.order_by("-seq").first()
    assert (event.action, event.from_status, event.to_status) == ("supervise", "handling", "handling")


def test_supervise_refused_on_a_closed_case(flow, staff):
    case = flow.to(Status.CLOSED)
    with pytest.raises(IllegalTransition):
        services.supervise(case, staff.leader, note="督办")


# -- versions --------------------------------------------------------------------------------
def test_stale_expected_version_is_a_conflict(flow, staff, department):
    case = flow.to(Status.ACCEPTED)
    assert case.version == 2
    with pytest.raises(Conflict) as refusal:
        services.dispatch(case, staff.dispatcher, department=department, expected_version=1)
    assert refusal.value.code == "stale" and refusal.value.status == 409
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED
    with pytest.raises(ValidationFailed) as refusal:
        services.dispatch(case, staff.dispatcher, department=department, expected_version="two")
    assert list(refusal.value.fields) == ["expected_version"]
    case = services.dispatch(case, staff.dispatcher, department=department, expected_version="2")
    assert case.version == 3


def test_illegal_transition_names_the_status(flow, staff):
    case = flow.new()
    with pytest.raises(IllegalTransition) as refusal:
        services.close(case, staff.lead)
    assert refusal.value.status == 409 and refusal.value.code == "illegal_transition"
    assert "待立案" in str(refusal.value.message) or "Awaiting acceptance" in str(refusal.value.message)


# -- every illegal (status, action) pair -------------------------------------------------------
ALL_STATUSES = [s.value for s in Status]


def reach(flow, staff, status):
    """A case in `status` (parked: via a park request; rejected: via reject)."""
    if status == Status.REJECTED:
        return services.reject(flow.new(), staff.dispatcher, reason="不属实")
    if status == Status.PARKED:
        case = flow.to(Status.HANDLING)
        request = services.request_park(case, staff.handler, reason="需拆迁，长期")
        services.decide_park(request, staff.lead, approve=True)
        return Case.objects.get(pk=case.pk)
    return flow.to(status)


def attempt(action, case, staff, department, region_tree):
    admin = staff.admin  # passes every role, scope and department check: only status decides
    calls = {
        "accept": lambda: services.accept(case, admin),
        "reject": lambda: services.reject(case, admin, reason="x"),
        "dispatch": lambda: services.dispatch(case, admin, department=department),
        "sign": lambda: services.sign(case, admin),
        "return": lambda: services.return_case(case, admin, reason="x"),
        "handle": lambda: services.submit_handling(case, admin, note="x"),
        "verify": lambda: services.verify(case, admin, passed=True),
        "close": lambda: services.close(case, admin),
        "rate": lambda: services.rate(case, admin, rating=2),
        "request_extension": lambda: services.request_extension(
            case, admin, reason="x", extra_value=1, extra_unit="working_days"
        ),
        "request_park": lambda: services.request_park(case, admin, reason="x"),
        "unpark": lambda: services.unpark(case, admin),
        "supervise": lambda: services.supervise(case, admin, note="x"),
    }
    return calls[action]()


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize(
    "action",
    ["accept", "reject", "dispatch", "sign", "return", "handle", "verify", "close", "rate",
     "request_extension", "request_park", "unpark", "supervise"],
)
def test_actions_outside_their_statuses_are_illegal(action, status, flow, staff, department, region_tree):
    case = reach(flow, staff, status)
    version = case.version
    if status in services.ACTION_STATUSES[action]:
        attempt(action, case, staff, department, region_tree)
        assert Case.objects.get(pk=case.pk).version == version + 1
    else:
        with pytest.raises(IllegalTransition):
            attempt(action, case, staff, department, region_tree)
        assert Case.objects.get(pk=case.pk).version == version
        assert CaseEvent.objects.filter(case=case).count() == version


# -- roles and scope -------------------------------------------------------------------------
WRONG_ROLES = {
    "accept": ("clerk", "handler", "inspector", "leader"),
    "reject": ("clerk", "handler", "inspector"),
    "dispatch": ("clerk", "handler", "inspector", "leader"),
    "sign": ("clerk", "dispatcher", "lead", "inspector"),
    "return": ("dispatcher", "inspector", "leader"),
    "handle": ("dispatcher", "lead", "inspector"),
    "verify": ("clerk", "dispatcher", "handler", "leader"),
    "close": ("clerk", "dispatcher", "handler", "inspector"),
    "rate": ("handler", "inspector", "leader"),
    "supervise": ("clerk", "dispatcher", "handler", "inspector"),
}
STATUS_FOR = {
    "accept": Status.REPORTED, "reject": Status.REPORTED, "dispatch": Status.ACCEPTED, "sign": Status.DISPATCHED,
    "return": Status.DISPATCHED, "handle": Status.HANDLING, "verify": Status.HANDLED, "close": Status.VERIFIED,
    "rate": Status.CLOSED, "supervise": Status.HANDLING,
}


def call_as(action, case, user, department):
    calls = {
        "accept": lambda: services.accept(case, user),
        "reject": lambda: services.reject(case, user, reason="x"),
        "dispatch": lambda: services.dispatch(case, user, department=department),
        "sign": lambda: services.sign(case, user),
        "return": lambda: services.return_case(case, user, reason="x"),
        "handle": lambda: services.submit_handling(case, user, note="x"),
        "verify": lambda: services.verify(case, user, passed=True),
        "close": lambda: services.close(case, user),
        "rate": lambda: services.rate(case, user, rating=2),
        "supervise": lambda: services.supervise(case, user, note="x"),
    }
    return calls[action]()


@pytest.mark.parametrize("action", sorted(WRONG_ROLES))
def test_wrong_roles_are_forbidden(action, flow, staff, department):
    case = flow.to(STATUS_FOR[action])
    for name in WRONG_ROLES[action] + ("nobody",):
        with pytest.raises(Forbidden) as refusal:
            call_as(action, case, getattr(staff, name), department)
        assert refusal.value.status == 403, name
    assert Case.objects.get(pk=case.pk).version == case.version


@pytest.mark.parametrize("action", ["accept", "dispatch", "verify", "close", "supervise", "rate"])
def test_out_of_scope_users_are_forbidden(action, flow, staff, department, quick_user, region_tree):
    case = flow.to(STATUS_FOR[action])
    roles = {"accept": "dispatcher", "dispatch": "dispatcher", "verify": "grid_inspector", "close": "shift_lead",
             "supervise": "community_secretary", "rate": "intake_clerk"}
    outsider = quick_user([roles[action]], scope=region_tree["community2"])
    with pytest.raises(Forbidden) as refusal:
        call_as(action, case, outsider, department)
    assert refusal.value.code == "out_of_scope"


def test_a_user_without_scope_sees_nothing(flow, quick_user, department):
    case = flow.to(Status.ACCEPTED)
    unscoped = quick_user(["dispatcher"])
    with pytest.raises(Forbidden):
        services.dispatch(case, unscoped, department=department)


def test_wrong_role_is_refused_before_the_state_is_revealed(flow, staff):
    case = flow.to(Status.CLOSED)
    with pytest.raises(Forbidden):
        services.accept(case, staff.handler)


def test_inactive_user_is_forbidden(flow, staff):
    case = flow.new()
    staff.dispatcher.is_active = False
    with pytest.raises(Forbidden):
        services.accept(case, staff.dispatcher)


# -- available actions -----------------------------------------------------------------------
def test_available_actions_follow_role_scope_and_status(flow, staff, quick_user, region_tree):
    case = flow.new()
    assert services.available_actions(case, staff.dispatcher) == ["accept", "reject"]
    assert services.available_actions(case, staff.lead) == ["accept", "reject", "supervise"]
    assert services.available_actions(case, staff.handler) == []
    assert services.available_actions(case, staff.leader) == ["supervise"]
    assert services.available_actions(case, staff.far_inspector) == []
    assert services.available_actions(case, staff.nobody) == []

    case = flow.to(Status.DISPATCHED, case=case)
    assert services.available_actions(case, staff.handler) == ["sign", "return", "request_extension", "request_park"]
    assert services.available_actions(case, staff.other_handler) == []
    assert "decide_extension" not in services.available_actions(case, staff.lead)

    services.request_extension(case, staff.handler, reason="需协调", extra_value=2, extra_unit="working_days")
    case = Case.objects.get(pk=case.pk)
    assert "request_extension" not in services.available_actions(case, staff.handler)
    assert "decide_extension" in services.available_actions(case, staff.lead)


def test_available_actions_for_placement_and_rating(flow, staff):
    unplaced = flow.new(point=None)
    assert "place" in services.available_actions(unplaced, staff.dispatcher)
    placed = flow.new()
    assert "place" not in services.available_actions(placed, staff.dispatcher)
    closed = flow.to(Status.CLOSED)
    assert services.available_actions(closed, staff.clerk) == ["rate"]
    rated = services.rate(closed, staff.clerk, rating=3)
    assert services.available_actions(rated, staff.clerk) == []


def test_available_actions_agree_with_the_services(flow, staff, department, region_tree):
    """Whatever is offered succeeds; a sample of what is not offered is refused."""
    case = flow.to(Status.HANDLED)
    for name in ("inspector", "far_inspector", "handler", "lead", "clerk"):
        user = getattr(staff, name)
        offered = "verify" in services.available_actions(case, user)
        try:
            services.verify(case, user, passed=True)
            succeeded = True
        except (Forbidden, IllegalTransition):
            succeeded = False
        assert offered == succeeded, name
        if succeeded:
            break


def test_available_actions_use_few_queries(flow, staff, django_assert_max_num_queries):
    case = flow.to(Status.HANDLING)
    case = Case.objects.get(pk=case.pk)
    user = staff.handler
    user.roles  # loaded once per request by the caller
    with django_assert_max_num_queries(1):
        services.available_actions(case, user)
    with django_assert_max_num_queries(0):
        services.available_actions(case, staff.clerk)


# -- concurrency ---------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_people_accepting_at_once_one_wins(flow, staff):
    """The row lock serialises transitions: the second sees the new status and is refused."""
    from gridgov.core.testing import run_in_parallel

    case = flow.new()

    def act(user):
        try:
            services.accept(case.pk, user, expected_version=1)
            return "accepted"
        except (IllegalTransition, Conflict) as refusal:
            return refusal.code

    outcomes, errors = run_in_parallel(act, [staff.dispatcher, staff.lead])
    outcomes += [repr(exc) for exc in errors]  # shown by the assertion below
    assert sorted(outcomes) == ["accepted", "stale"]
    assert Case.objects.get(pk=case.pk).version == 2
    assert CaseEvent.objects.filter(case=case).count() == 2
