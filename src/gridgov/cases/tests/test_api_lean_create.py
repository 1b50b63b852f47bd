"""POST /api/v1/cases/ with a token and JSON skips DRF's request cycle (cases.api.with_lean_create)
and answers exactly as the full path does."""

import json

import pytest
from django.test import Client

from gridgov.cases.models import Case
from gridgov.cases.tests.conftest import IN_GRID_11
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(staff):
    return Token.objects.create(user=staff.clerk).key


def post(body, token=None, raw=None, **headers):
    client = Client()
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Token {token}"
    data = raw if raw is not None else json.dumps(body)
    return client.post("/api/v1/cases/", data, content_type="application/json", **headers)


def body(categories, **extra):
    return {"channel": "hotline", "description": "路灯不亮", "category": categories.garbage.pk,
            "lon": IN_GRID_11[0], "lat": IN_GRID_11[1], **extra}


def test_a_create_answers_201_then_200_for_the_same_key(token, categories):
    first = post(body(categories), token, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(body(categories), token, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"] and first.json()["url"].endswith(f"/api/v1/cases/{first.json()['id']}/")
    assert Case.objects.count() == 1


def test_bad_input_gets_the_api_error_format_in_chinese(token, categories):
    missing = post({"channel": "hotline"}, token)
    assert missing.status_code == 400 and missing.json()["code"] == "validation_failed"
    assert "description" in missing.json()["fields"]
    unknown = post(body(categories, channel="pigeon"), token)
    assert unknown.status_code == 400 and "channel" in unknown.json()["fields"]
    broken = post(None, token, raw="{not json")
    assert broken.status_code == 400 and broken.json()["code"] == "parse_error"
    listed = post([1, 2], token)
    assert listed.status_code == 400 and "non_field_errors" in listed.json()["fields"]
    off_the_map = post(body(categories, lon=500.0, lat=30.0), token)
    assert off_the_map.status_code == 400 and "lon" in off_the_map.json()["fields"]
    assert not Case.objects.exists()


def test_the_lean_and_full_paths_give_the_same_answers(token, categories, monkeypatch):
    from gridgov.cases import api

    lean_missing = post({"channel": "hotline"}, token)
    monkeypatch.setattr(api, "_token_user", lambda request: None)  # force the full DRF path
    full_missing = post({"channel": "hotline"}, token)
    assert lean_missing.status_code == full_missing.status_code == 400
    assert lean_missing.json() == full_missing.json()
    full_created = post(body(categories), token, HTTP_IDEMPOTENCY_KEY="same")
    monkeypatch.undo()
    lean_repeat = post(body(categories), token, HTTP_IDEMPOTENCY_KEY="same")
    assert full_created.status_code == 201 and lean_repeat.status_code == 200
    assert full_created.json() == lean_repeat.json()


def test_a_bad_token_or_a_session_takes_the_full_path(staff, categories):
    refused = post(body(categories), "not-a-token")
    assert refused.status_code == 401 and refused.json()["code"] == "authentication_failed"
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff.clerk)
    csrf = browser.post("/api/v1/cases/", json.dumps(body(categories)), content_type="application/json")
    assert csrf.status_code == 403  # session authentication still enforces CSRF
    assert not Case.objects.exists()
