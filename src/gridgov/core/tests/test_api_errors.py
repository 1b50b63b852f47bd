"""Every API refusal renders {code, message, fields}, in the request's language."""

import re

import pytest

from gridgov.org.models import Department
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert isinstance(body["fields"], dict) and body["message"]
    return body


def test_400_names_the_field_in_chinese(api_client, make_user, region_tree):
    clerk = make_user([Role.INTAKE_CLERK], scope=region_tree["district"])
    response = api_client(clerk).post(
        "/api/v1/cases/", {"channel": "pigeon", "description": "x"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    body = error(response, 400)
    assert body["code"] == "validation_failed"
    assert body["message"] == "部分字段填写有误。"
    assert "channel" in body["fields"]
    assert CJK.search(body["fields"]["channel"][0])


def test_400_in_english_when_asked(api_client, make_user, settings):
    admin = make_user([Role.SYSADMIN])
    client = api_client(admin)
    # The language switch's cookie (the interface ignores browsers' Accept-Language).
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = error(client.post("/api/v1/departments/", {}), 400)
    assert body["message"] == "Some fields are invalid."
    assert {"code", "name"} <= set(body["fields"])


def test_400_from_a_service_names_the_field(api_client, make_user):
    admin = make_user([Role.SYSADMIN])
    body = error(api_client(admin).post("/api/v1/staff/", {"username": "x", "password": "1"}), 400)
    assert "password" in body["fields"]


def test_401_without_credentials_and_with_a_bad_token(api_client):
    assert error(api_client().get("/api/v1/cases/"), 401)["code"] == "not_authenticated"
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert error(client.get("/api/v1/cases/"), 401)["code"] == "authentication_failed"


def test_403_for_a_role_that_may_not(api_client, make_user):
    clerk = make_user([Role.INTAKE_CLERK])
    assert error(api_client(clerk).post("/api/v1/departments/", {"code": "X", "name": "X"}), 403)["code"] == "role_not_allowed"


def test_404_for_a_missing_record_and_an_unknown_address(api_client, make_user):
    admin = make_user([Role.SYSADMIN])
    assert error(api_client(admin).get("/api/v1/cases/987654/"), 404)["code"] == "not_found"
    assert error(api_client(admin).get("/api/v1/no-such-thing/"), 404)["code"] == "not_found"


def test_405_for_a_method_not_offered(api_client, make_user):
    admin = make_user([Role.SYSADMIN])
    department = Department.objects.create(code="D1", name="部门")
    assert error(api_client(admin).delete(f"/api/v1/departments/{department.pk}/"), 405)["code"] == "method_not_allowed"


def test_409_for_an_illegal_transition(api_client, make_user, region_tree):
    from gridgov.cases.services import create_case

    clerk = make_user([Role.INTAKE_CLERK], scope=region_tree["district"])
    lead = make_user([Role.SHIFT_LEAD], scope=region_tree["district"])
    case, _created = create_case(clerk, channel="hotline", description="井盖缺失", lon=117.005, lat=36.69)
    body = error(api_client(lead).post(f"/api/v1/cases/{case.pk}/close/", {}, HTTP_ACCEPT_LANGUAGE="zh-hans"), 409)
    assert body["code"] == "illegal_transition"
    assert CJK.search(body["message"])


def test_415_for_an_unsupported_body(api_client, make_user):
    admin = make_user([Role.SYSADMIN])
    response = api_client(admin).generic("POST", "/api/v1/departments/", "<x/>", content_type="application/xml")
    assert error(response, 415)["code"] == "unsupported_media_type"
