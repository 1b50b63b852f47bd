"""The landing page: each role sees its own queue, most urgent first, in a fixed number of queries."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from gridgov.cases import services
from gridgov.cases.models import Case, CaseRequest, RequestStatus, Status
from gridgov.cases.tests.conftest import IN_GRID_21
from gridgov.web import workbench as workbench_module

pytestmark = pytest.mark.django_db


def panel(html, key):
    """The HTML of one workbench panel ('' when the page has no such panel)."""
    start = html.find(f'data-panel="{key}"')
    if start < 0:
        return ""
    end = html.find("</section>", start)
    return html[start:end]


def numbers_in(fragment):
    return re.findall(r'data-case="(\d+)"', fragment)


def set_clock(case, *, due_in, warn_in):
    """Arrange the running clock relative to now (test setup, not a transition)."""
    now = timezone.now()
    Case.objects.filter(pk=case.pk).update(due_at=now + due_in, warn_at=now + warn_in)


def workbench(login, user):
    response = login(user).get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_dispatcher_sees_cases_to_accept_and_to_dispatch(login, staff, flow, department):
    reported = flow.new()
    accepted = flow.to("accepted")
    handled = flow.to("handled")
    html = workbench(login, staff.dispatcher)
    assert numbers_in(panel(html, "to_accept")) == [reported.number]
    to_dispatch = panel(html, "to_dispatch")
    assert numbers_in(to_dispatch) == [accepted.number]
    assert handled.number not in panel(html, "to_accept") + to_dispatch
    # the category's default department is preselected
    assert f'<option value="{department.pk}" selected>' in to_dispatch


def test_accept_queue_is_most_urgent_first(login, staff, flow):
    normal, overdue, no_clock, warning = flow.new(), flow.new(), flow.new(), flow.new()
    set_clock(normal, due_in=dt.timedelta(hours=5), warn_in=dt.timedelta(hours=4))
    set_clock(overdue, due_in=-dt.timedelta(hours=1), warn_in=-dt.timedelta(hours=2))
    set_clock(warning, due_in=dt.timedelta(minutes=20), warn_in=-dt.timedelta(minutes=5))
    Case.objects.filter(pk=no_clock.pk).update(due_at=None, warn_at=None)
    queue = panel(workbench(login, staff.dispatcher), "to_accept")
    assert numbers_in(queue) == [overdue.number, warning.number, normal.number, no_clock.number]
    assert "badge--overdue" in queue and "badge--warning" in queue and "badge--normal" in queue


def test_returned_cases_are_listed_with_the_reason(login, staff, flow):
    case = flow.to("dispatched")
    services.return_case(case, staff.handler, reason="不属于本部门职责")
    html = workbench(login, staff.dispatcher)
    returned = panel(html, "returned")
    assert numbers_in(returned) == [case.number]
    assert "不属于本部门职责" in returned
    assert case.number not in panel(html, "to_dispatch")


def test_department_inbox_shows_only_my_department(login, staff, flow):
    to_sign = flow.to("dispatched")
    in_hand = flow.to("handling")
    flow.new()  # not dispatched yet
    inbox = panel(workbench(login, staff.handler), "inbox")
    assert sorted(numbers_in(inbox)) == sorted([to_sign.number, in_hand.number])
    assert f"/cases/{to_sign.pk}/act/sign/" in inbox
    assert panel(workbench(login, staff.other_handler), "inbox").count("data-case=") == 0


def test_grid_inspector_sees_verification_in_own_grid_only(login, staff, flow):
    mine = flow.to("handled")
    elsewhere = flow.to("handled", point=IN_GRID_21)
    reported_by_me = flow.new(actor=staff.inspector)
    html = workbench(login, staff.inspector)
    assert numbers_in(panel(html, "to_verify")) == [mine.number]
    assert elsewhere.number not in html
    assert numbers_in(panel(html, "my_reports")) == [reported_by_me.number]
    assert numbers_in(panel(workbench(login, staff.far_inspector), "to_verify")) == [elsewhere.number]


def test_leader_sees_overdue_and_warning_with_counts(login, staff, flow):
    late = flow.to("dispatched")
    close = flow.to("handling")
    fine = flow.new()
    set_clock(late, due_in=-dt.timedelta(hours=3), warn_in=-dt.timedelta(hours=4))
    set_clock(close, due_in=dt.timedelta(minutes=30), warn_in=-dt.timedelta(minutes=1))
    set_clock(fine, due_in=dt.timedelta(hours=30), warn_in=dt.timedelta(hours=20))
    html = workbench(login, staff.leader)
    assert numbers_in(panel(html, "overdue")) == [late.number]
    assert numbers_in(panel(html, "warning")) == [close.number]
    assert f"/cases/{late.pk}/#action-supervise" in panel(html, "overdue")
    counts = dict(re.findall(r'data-status="(\w+)">.*?status-bar__n">(\d+)<', html, re.S))
    assert counts["reported"] == "1" and counts["dispatched"] == "1" and counts["handling"] == "1"
    assert 'href="/cases/?status=dispatched"' in html  # each count opens the filtered list


def test_shift_lead_approves_an_extension_from_the_workbench(login, staff, flow):
    case = flow.to("handling")
    request = services.request_extension(case, staff.handler, reason="需协调物业", extra_value=2, extra_unit="working_days")
    client = login(staff.lead)
    requests_panel = panel(client.get("/").content.decode(), "requests")
    assert "需协调物业" in requests_panel
    case.refresh_from_db()
    response = client.post(
        f"/cases/{case.pk}/act/decide_extension/",
        {"version": case.version, "request": request.pk, "approve": "1", "next": "/"},
    )
    assert response.status_code == 302 and response["Location"] == "/"
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert "需协调物业" not in panel(client.get("/").content.decode(), "requests")


def test_shift_lead_closes_verified_cases(login, staff, flow):
    case = flow.to("verified")
    client = login(staff.lead)
    html = panel(client.get("/").content.decode(), "to_close")
    assert numbers_in(html) == [case.number]
    assert 'data-confirm="确定结案吗？"' in html  # as on the case page: closing asks first
    client.post(f"/cases/{case.pk}/act/close/", {"version": case.version, "next": "/"})
    case.refresh_from_db()
    assert case.status == Status.CLOSED


def test_intake_clerk_sees_recent_intakes_and_records_ratings(login, staff, flow):
    mine = flow.new()
    closed = flow.to("closed")
    client = login(staff.clerk)
    html = client.get("/").content.decode()
    assert mine.number in panel(html, "my_intakes")
    assert 'href="/cases/new/"' in html  # the intake form is linked
    assert re.search(r'stat__value">(\d+)</div><div class="stat__label">今日登记', html)
    assert numbers_in(panel(html, "to_rate")) == [closed.number]
    client.post(f"/cases/{closed.pk}/act/rate/", {"version": closed.version, "rating": "3", "next": "/"})
    closed.refresh_from_db()
    assert closed.rating == 3
    assert panel(client.get("/").content.decode(), "to_rate").count("data-case=") == 0


def test_one_click_accept_and_dispatch(login, staff, flow, department):
    case = flow.new()
    client = login(staff.dispatcher)
    response = client.post(f"/cases/{case.pk}/act/accept/", {"version": case.version, "next": "/#panel-to_accept"})
    assert response["Location"] == "/#panel-to_accept"
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    response = client.post(
        f"/cases/{case.pk}/act/dispatch/", {"version": case.version, "department": department.pk, "next": "/"}, follow=True
    )
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.department == department
    assert f"事件 {case.number} 已派遣" in response.content.decode()


def test_failed_one_click_action_explains_on_the_workbench(login, staff, flow):
    case = flow.new(category=None)
    response = login(staff.dispatcher).post(
        f"/cases/{case.pk}/act/accept/", {"version": case.version, "next": "/"}, follow=True
    )
    html = response.content.decode()
    assert f"事件 {case.number}：立案前请选择小类。" in html
    case.refresh_from_db()
    assert case.status == Status.REPORTED


def test_batch_accept_and_dispatch(login, staff, flow, other_department):
    first, second, stale = flow.new(), flow.new(), flow.new()
    stale_version = stale.version
    services.accept(stale, staff.lead)  # someone else acted after the table was rendered
    client = login(staff.dispatcher)
    selection = [f"{case.pk}:{case.version}" for case in (first, second)] + [f"{stale.pk}:{stale_version}"]
    response = client.post("/cases/batch/", {"action": "accept", "cases": selection, "next": "/"}, follow=True)
    html = response.content.decode()
    assert f"已立案 2 件事件（{first.number}, {second.number}）" in html
    assert f"事件 {stale.number}：" in html and "已先行处理" in html
    first.refresh_from_db()
    second.refresh_from_db()
    selection = [f"{first.pk}:{first.version}", f"{second.pk}:{second.version}"]
    client.post("/cases/batch/", {"action": "dispatch", "department": other_department.pk, "cases": selection})
    assert set(Case.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", "department")) == {
        (Status.DISPATCHED, other_department.pk)
    }


def test_batch_dispatch_needs_a_department(login, staff, flow):
    case = flow.to("accepted")
    response = login(staff.dispatcher).post(
        "/cases/batch/", {"action": "dispatch", "cases": [f"{case.pk}:{case.version}"]}, follow=True
    )
    assert "请选择派遣部门" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED


def test_batch_ignores_cases_outside_scope(login, staff, flow):
    case = flow.new(point=IN_GRID_21)
    far_dispatcher = staff.dispatcher
    far_dispatcher.scope = flow.staff.inspector.scope  # grid 11 only
    far_dispatcher.save()
    login(far_dispatcher).post("/cases/batch/", {"action": "accept", "cases": [f"{case.pk}:{case.version}"]})
    case.refresh_from_db()
    assert case.status == Status.REPORTED


def test_user_without_role_is_told_so(login, staff):
    html = workbench(login, staff.nobody)
    assert "尚未分配角色" in html


@pytest.mark.parametrize("role", ["dispatcher", "lead", "handler", "inspector", "leader", "clerk", "admin"])
def test_workbench_queries_do_not_grow_with_the_queues(
    login, staff, flow, django_assert_max_num_queries, monkeypatch, role
):
    # Short pages, so both measurements below have full queues (and count them).
    monkeypatch.setattr(workbench_module, "QUEUE_LIMIT", 2)
    monkeypatch.setattr(workbench_module, "RECENT_LIMIT", 2)
    user = getattr(staff, role)
    client = login(user)
    client.get("/")  # warm up (content types, sessions)

    def build(count):
        for _index in range(count):
            flow.new()
            flow.to("accepted")
            case = flow.to("handling")
            services.request_extension(case, staff.handler, reason="协调", extra_value=1, extra_unit="working_days")
            flow.to("handled")
            flow.to("closed")

    build(3)
    with django_assert_max_num_queries(25) as few:
        assert client.get("/").status_code == 200
    build(6)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        assert client.get("/").status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)
    assert CaseRequest.objects.filter(status=RequestStatus.PENDING).count() == 9


def test_a_cut_queue_links_to_all_of_it_in_the_case_list(login, staff, flow, monkeypatch):
    monkeypatch.setattr(workbench_module, "QUEUE_LIMIT", 1)
    first, second = flow.new(), flow.new()
    client = login(staff.dispatcher)
    html = panel(client.get("/").content.decode(), "to_accept")
    assert "仅显示前 1 件" in html and "在事件列表中查看全部" in html
    url = re.search(r'data-testid="panel-list-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert url == "/cases/?status=reported&sort=due_at"
    listed = client.get(url).content.decode()
    assert first.number in listed and second.number in listed
    # A queue that fits shows no link.
    assert "panel-list-link" not in panel(client.get("/").content.decode(), "to_dispatch")
    # The department's inbox: its own department only.
    for case in (first, second):
        flow.to("dispatched", case=case)
    html = panel(login(staff.handler).get("/").content.decode(), "inbox")
    url = re.search(r'data-testid="panel-list-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert url == f"/cases/?department={staff.handler.department_id}&status=dispatched&status=handling&sort=due_at"
