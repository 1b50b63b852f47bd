"""Actions through the case page: every form posts to a view that calls the service.
Field errors come back in Chinese beside the field; a stale form says who acted first;
a repeated submission does not act twice."""

import re

import pytest
from django.test import Client

from gridgov.cases import services
from gridgov.cases.models import AttachmentKind, CaseEvent, Rating, Status
from gridgov.cases.tests.conftest import image_bytes

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Each fixture user costs a full PBKDF2 run otherwise (seconds on a busy machine)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def login():
    def factory(user):
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return factory


def act(client, case, action, **data):
    """POST one action form as the page would send it (the version it was rendered with)."""
    data.setdefault("version", case.version)
    return client.post(f"/cases/{case.pk}/act/{action}/", data)


def field_errors(html, field):
    return re.findall(rf'data-error-for="{field}">([^<]*)<', html)


def test_full_workflow_through_the_pages(login, staff, flow, department, media):
    case = flow.new()
    dispatcher, handler, inspector = login(staff.dispatcher), login(staff.handler), login(staff.inspector)

    response = act(dispatcher, case, "accept", note="属实，立案")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED

    act(dispatcher, case, "dispatch", department=department.pk, note="请尽快处理")
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.department == department

    act(handler, case, "sign")
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.handler == staff.handler

    photo = ("before.jpg", image_bytes(), "image/jpeg")
    from django.core.files.uploadedfile import SimpleUploadedFile

    act(handler, case, "handle", note="已清理完毕", photos=[SimpleUploadedFile(*photo)])
    case.refresh_from_db()
    assert case.status == Status.HANDLED
    assert case.attachments.filter(kind=AttachmentKind.EVIDENCE).count() == 1

    act(inspector, case, "verify", passed="0", note="仍有残留", photos=[SimpleUploadedFile("v.png", image_bytes("PNG"), "image/png")])
    case.refresh_from_db()
    assert case.status == Status.HANDLING and case.rework_count == 1
    assert case.attachments.filter(kind=AttachmentKind.VERIFICATION).count() == 1

    act(handler, case, "handle", note="已彻底清理")
    case.refresh_from_db()
    act(inspector, case, "verify", passed="1", photos=[SimpleUploadedFile("ok.jpg", image_bytes(), "image/jpeg")])
    case.refresh_from_db()
    assert case.status == Status.VERIFIED

    act(login(staff.lead), case, "close", note="办结")
    case.refresh_from_db()
    assert case.status == Status.CLOSED

    response = act(login(staff.clerk), case, "rate", rating=str(Rating.SATISFIED), comment="很满意")
    case.refresh_from_db()
    assert case.rating == Rating.SATISFIED and case.rating_comment == "很满意"

    html = login(staff.clerk).get(f"/cases/{case.pk}/").content.decode()
    for label in ("登记", "立案", "派遣", "签收", "处置反馈", "核查未通过，返工", "核查通过", "结案", "回访评价"):
        assert f'<span class="timeline__action">{label}</span>' in html
    assert "已办结" in html  # nothing left to do


def test_success_message_in_chinese(login, staff, flow):
    case = flow.new()
    response = login(staff.dispatcher).post(
        f"/cases/{case.pk}/act/accept/", {"version": case.version}, follow=True
    )
    assert f"事件 {case.number} 已立案。" in response.content.decode()


def test_form_field_error_is_shown_beside_the_field(login, staff, flow):
    case = flow.new()
    response = act(login(staff.dispatcher), case, "reject", reason="")
    html = response.content.decode()
    assert response.status_code == 400
    assert [message[-5:] for message in field_errors(html, "reason")] == ["是必填项。"]
    assert 'id="action-reject" data-action="reject" open' in html
    case.refresh_from_db()
    assert case.status == Status.REPORTED


def test_service_error_is_put_on_the_named_field(login, staff, flow):
    case = flow.to("handled")
    # a failed verification must say what is still wrong; only the service knows that rule
    response = act(login(staff.inspector), case, "verify", passed="0", note="")
    html = response.content.decode()
    assert response.status_code == 400
    assert [message[-5:] for message in field_errors(html, "note")] == ["是必填项。"]
    case.refresh_from_db()
    assert case.status == Status.HANDLED


def test_service_error_without_a_form_field_is_shown_on_the_form(login, staff, flow):
    case = flow.new(category=None)
    response = act(login(staff.dispatcher), case, "accept")
    html = response.content.decode()
    assert response.status_code == 400
    assert field_errors(html, "category") == ["立案前请选择小类。"]


def test_bad_photo_is_refused_in_chinese(login, staff, flow, media):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = flow.to("handling")
    fake = SimpleUploadedFile("x.jpg", b"not an image at all", "image/jpeg")
    response = act(login(staff.handler), case, "handle", note="已处理", photos=[fake])
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "photos") == ["该文件不是图片。"]
    case.refresh_from_db()
    assert case.status == Status.HANDLING


def test_stale_action_tells_who_acted_first(login, staff, flow, make_user, region_tree):
    from gridgov.org.roles import Role

    colleague = make_user([Role.DISPATCHER], scope=region_tree["district"], display_name="李派遣")
    case = flow.new()
    rendered_version = case.version
    services.accept(case, colleague)  # acts while our page is open
    response = act(login(staff.dispatcher), case, "reject", reason="重复", version=rendered_version)
    html = response.content.decode()
    assert response.status_code == 409
    assert "李派遣 已先行处理该事件" in html and "立案" in html
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    # the page now offers what can be done in the new state
    assert 'data-action="dispatch"' in html and 'data-action="reject"' not in html


def test_double_submission_acts_once(login, staff, flow):
    case = flow.new()
    client = login(staff.dispatcher)
    data = {"version": case.version, "note": "立案"}
    first = client.post(f"/cases/{case.pk}/act/accept/", data)
    second = client.post(f"/cases/{case.pk}/act/accept/", data)
    assert first.status_code == 302
    assert second.status_code == 409
    assert "您已完成此操作" in second.content.decode()
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1


def test_double_submission_from_the_workbench(login, staff, flow, department):
    case = flow.to("accepted")
    client = login(staff.dispatcher)
    data = {"version": case.version, "department": department.pk, "next": "/"}
    client.post(f"/cases/{case.pk}/act/dispatch/", data)
    response = client.post(f"/cases/{case.pk}/act/dispatch/", data, follow=True)
    assert "您已完成此操作" in response.content.decode()
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1


def test_role_cannot_act_even_with_a_crafted_post(login, staff, flow):
    case = flow.new()
    response = act(login(staff.clerk), case, "accept")
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == Status.REPORTED


def test_other_department_cannot_sign_by_url(login, staff, flow):
    case = flow.to("dispatched")
    assert act(login(staff.other_handler), case, "sign").status_code == 404


def test_unknown_action_and_get_are_refused(login, staff, flow):
    case = flow.new()
    client = login(staff.dispatcher)
    assert act(client, case, "explode").status_code == 404
    assert client.get(f"/cases/{case.pk}/act/accept/").status_code == 405


def test_unsafe_next_is_ignored(login, staff, flow):
    case = flow.new()
    response = act(login(staff.dispatcher), case, "accept", next="https://evil.example/")
    assert response["Location"] == f"/cases/{case.pk}/"


def test_return_extension_and_supervision(login, staff, flow):
    case = flow.to("handling")
    handler = login(staff.handler)
    act(handler, case, "request_extension", reason="需要协调物业", extra_value="2", extra_unit="working_days")
    request = case.requests.get()
    case.refresh_from_db()
    response = act(login(staff.lead), case, "decide_extension", request=request.pk, approve="0", note="时间充足")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "rejected"
    case.refresh_from_db()
    act(login(staff.leader), case, "supervise", note="请加快办理")
    case.refresh_from_db()
    assert case.supervised and case.supervision_note == "请加快办理"
    act(handler, case, "return", reason="不属于本部门")
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED and case.return_count == 1


def test_park_and_unpark(login, staff, flow):
    case = flow.to("accepted")
    lead = login(staff.lead)
    act(lead, case, "request_park", reason="长期问题，待规划")
    case.refresh_from_db()
    html = lead.get(f"/cases/{case.pk}/").content.decode()
    assert "长期问题，待规划" in html  # the pending request is shown in the decision form
    request = case.requests.get()
    act(lead, case, "decide_park", request=request.pk, approve="1")
    case.refresh_from_db()
    assert case.status == Status.PARKED
    act(lead, case, "unpark", note="条件具备")
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED


def test_actions_that_end_or_hand_away_a_case_ask_first(login, staff, flow):
    """不予立案, 退单 and 结案 carry a question that web/app.js asks before the form posts."""

    def form_of(html, action):
        start = html.index(f'action="/cases/{case.pk}/act/{action}/"')
        return html[html.rindex("<form", 0, start) : html.index(">", start)]

    case = flow.new()
    page = login(staff.dispatcher).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-confirm="确定不予立案吗？事件将以不予立案结束，并从所有待办中移除。"' in form_of(page, "reject")
    assert "data-confirm" not in form_of(page, "accept")
    case = flow.to("dispatched")
    page = login(staff.handler).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-confirm="确定将此事件退回综治中心吗？事件将移出本部门的待办。"' in form_of(page, "return")
    case = flow.to("verified")
    page = login(staff.lead).get(f"/cases/{case.pk}/").content.decode()
    assert 'data-confirm="确定结案吗？"' in form_of(page, "close")
