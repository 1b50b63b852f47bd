"""Case transitions through the API: the whole path, refusals (403/404/409) and requests."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gridgov.cases.models import Case, CaseRequest

from .conftest import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def act(client, case, name, body=None, **kwargs):
    return client.post(f"/api/v1/cases/{case.pk}/{name}/", body or {}, **kwargs)


def ok(response, status=200):
    assert response.status_code == status, response.json()
    return response.json()


def test_the_whole_path_through_the_api(api_client, staff, flow, department, media):
    case = flow.new()
    dispatcher, handler = api_client(staff.dispatcher), api_client(staff.handler)

    assert ok(act(dispatcher, case, "accept", {"note": "属实"}))["status"] == "accepted"
    body = ok(act(dispatcher, case, "dispatch", {"department": department.pk}))
    assert (body["status"], body["department"]["id"]) == ("dispatched", department.pk)
    assert ok(act(handler, case, "sign"))["status"] == "handling"

    photo = SimpleUploadedFile("done.jpg", image_bytes(), content_type="image/jpeg")
    body = ok(act(handler, case, "handle", {"note": "已清理", "photos": [photo]}, format="multipart"))
    assert body["status"] == "handled"
    assert [a["kind"] for a in body["attachments"]] == ["evidence"]

    photo = SimpleUploadedFile("check.jpg", image_bytes(), content_type="image/jpeg")
    body = ok(act(api_client(staff.inspector), case, "verify", {"passed": "true", "photos": [photo]}, format="multipart"))
    assert body["status"] == "verified"
    assert ok(act(api_client(staff.lead), case, "close", {"note": "结案"}))["status"] == "closed"
    body = ok(act(api_client(staff.clerk), case, "rate", {"rating": 3, "comment": "满意"}))
    assert body["rating"] == 3
    assert body["available_actions"] == []


def test_failed_verification_sends_the_case_back(api_client, staff, flow):
    case = flow.to("handled")
    body = ok(act(api_client(staff.inspector), case, "verify", {"passed": False, "note": "仍有垃圾"}))
    assert (body["status"], body["rework_count"]) == ("handling", 1)


def test_illegal_transition_is_409(api_client, staff, flow):
    case = flow.new()
    response = act(api_client(staff.lead), case, "close")
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    assert response.json()["message"]


def test_wrong_role_is_403(api_client, staff, flow, department):
    case = flow.to("accepted")
    response = act(api_client(staff.clerk), case, "dispatch", {"department": department.pk})
    assert response.status_code == 403
    assert response.json()["code"] == "role_not_allowed"


def test_other_department_is_404_when_invisible_and_403_when_visible(api_client, staff, flow, make_user, other_department, region_tree):
    case = flow.to("dispatched")
    # A handler of another department without a region scope does not see the case at all.
    assert act(api_client(staff.other_handler), case, "sign").status_code == 404
    # One who sees it through a region scope still may not sign for another department.
    sees_it = make_user(["dept_handler"], department=other_department, scope=region_tree["district"])
    response = act(api_client(sees_it), case, "sign")
    assert response.status_code == 403
    assert response.json()["code"] == "not_your_department"


def test_out_of_scope_case_is_404_for_actions(api_client, staff, flow):
    case = flow.to("handled")
    response = act(api_client(staff.far_inspector), case, "verify", {"passed": True})
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == "handled"


def test_stale_expected_version_is_409(api_client, staff, flow):
    case = flow.new()
    response = act(api_client(staff.dispatcher), case, "accept", {"expected_version": case.version + 5})
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    body = ok(act(api_client(staff.dispatcher), case, "accept", {"expected_version": case.version}))
    assert body["version"] == case.version + 1


def test_body_shape_errors_name_the_field(api_client, staff, flow):
    case = flow.to("accepted")
    response = act(api_client(staff.dispatcher), case, "dispatch", {"department": "abc"})
    assert response.status_code == 400
    assert "department" in response.json()["fields"]
    response = act(api_client(staff.dispatcher), case, "dispatch", {"department": 999999})
    assert response.status_code == 400
    assert "department" in response.json()["fields"]


def test_reject_return_and_supervise(api_client, staff, flow):
    reported = flow.new()
    body = ok(act(api_client(staff.dispatcher), reported, "reject", {"reason": "重复上报"}))
    assert (body["status"], body["reject_reason"]) == ("rejected", "重复上报")

    dispatched = flow.to("dispatched")
    body = ok(act(api_client(staff.handler), dispatched, "return", {"reason": "不属本部门"}))
    assert (body["status"], body["return_count"]) == ("accepted", 1)

    body = ok(act(api_client(staff.leader), dispatched, "supervise", {"note": "今日办结"}))
    assert body["supervised"] is True
    assert act(api_client(staff.leader), dispatched, "supervise", {}).status_code == 400


def test_place_an_unplaced_case(api_client, staff, flow, region_tree):
    case = flow.new(point=None, actor=staff.dispatcher)
    body = ok(act(api_client(staff.dispatcher), case, "place", {"grid": region_tree["grid12"].pk}))
    assert (body["needs_placement"], body["grid"]["code"]) == (False, region_tree["grid12"].code)


def test_extension_request_and_decision(api_client, staff, flow):
    case = flow.to("handling")
    request = ok(
        act(api_client(staff.handler), case, "request-extension", {"reason": "需采购配件", "extra_value": 2, "extra_unit": "working_days"}),
        status=201,
    )
    assert (request["kind"], request["status"]) == ("extension", "pending")
    detail = api_client(staff.lead).get(f"/api/v1/cases/{case.pk}/").json()
    assert [r["id"] for r in detail["pending_requests"]] == [request["id"]]
    assert "decide_extension" in detail["available_actions"]

    refused = api_client(staff.handler).post(f"/api/v1/case-requests/{request['id']}/decide/", {"approve": True})
    assert refused.status_code == 403
    decided = ok(api_client(staff.lead).post(f"/api/v1/case-requests/{request['id']}/decide/", {"approve": True, "note": "同意"}))
    assert decided["status"] == "approved"
    assert Case.objects.get(pk=case.pk).extension_count == 1
    again = api_client(staff.lead).post(f"/api/v1/case-requests/{request['id']}/decide/", {"approve": True})
    assert again.status_code == 409


def test_park_and_unpark(api_client, staff, flow):
    case = flow.to("accepted")
    request = ok(act(api_client(staff.dispatcher), case, "request-park", {"reason": "需协调多部门"}), status=201)
    ok(api_client(staff.lead).post(f"/api/v1/case-requests/{request['id']}/decide/", {"approve": True}))
    assert Case.objects.get(pk=case.pk).status == "parked"
    assert ok(act(api_client(staff.lead), case, "unpark"))["status"] == "accepted"


def test_decide_on_a_request_outside_scope_is_404(api_client, staff, flow, make_user, region_tree):
    case = flow.to("handling")
    request = CaseRequest.objects.create(case=case, kind="park", reason="x", requested_by=staff.handler, requested_at=case.created_at)
    outsider = make_user(["shift_lead"], scope=region_tree["grid21"])
    response = api_client(outsider).post(f"/api/v1/case-requests/{request.pk}/decide/", {"approve": True})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_unknown_action_is_404_and_get_on_an_action_is_405(api_client, staff, flow):
    case = flow.new()
    client = api_client(staff.dispatcher)
    assert client.post(f"/api/v1/cases/{case.pk}/teleport/").status_code == 404
    response = client.get(f"/api/v1/cases/{case.pk}/accept/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
