"""The triage API: suggest, duplicate lookup, merge (status codes and shapes)."""

import datetime as dt

import pytest

from gridgov.cases import services
from gridgov.cases.models import Case, Status
from gridgov.org.roles import Role
from gridgov.triage.models import MergedReporter

from .conftest import IN_GRID_11, IN_GRID_21, MONDAY_9

pytestmark = pytest.mark.django_db
NEAR = (IN_GRID_11[0] + 0.0002, IN_GRID_11[1])


def test_suggest_returns_the_top_three_with_departments(api_client, staff, categories, department):
    categories.garbage.keywords = "垃圾桶满溢,垃圾"
    categories.garbage.save()
    response = api_client(staff.clerk).post("/api/v1/triage/suggest/", {"text": "小区门口垃圾桶满溢"}, format="json")
    assert response.status_code == 200
    body = response.json()
    top = body["suggestions"][0]
    assert top["category"] == {"id": categories.garbage.pk, "name": "暴露垃圾", "code": "T102"}
    assert top["department"] == {"id": department.pk, "name": department.name}
    assert top["source"] == "rules" and 0 < top["confidence"] < 1
    assert len(body["suggestions"]) <= 3 and body["model"] is None


def test_suggest_refuses_roles_and_bad_bodies(api_client, staff):
    assert api_client(staff.handler).post("/api/v1/triage/suggest/", {"text": "垃圾"}, format="json").status_code == 403
    bad = api_client(staff.clerk).post("/api/v1/triage/suggest/", {}, format="json")
    assert bad.status_code == 400 and "text" in bad.json()["fields"]
    assert api_client().post("/api/v1/triage/suggest/", {"text": "x"}, format="json").status_code in (401, 403)


def test_duplicate_lookup_by_point_and_by_case(api_client, flow, staff, categories):
    first = flow.new(at=MONDAY_9)
    second = flow.new(at=MONDAY_9 + dt.timedelta(hours=1), point=NEAR)
    client = api_client(staff.dispatcher)
    params = {"category": categories.garbage.pk, "lon": IN_GRID_11[0], "lat": IN_GRID_11[1], "at": MONDAY_9.isoformat()}
    found = client.get("/api/v1/triage/duplicates/", params).json()
    assert [row["number"] for row in found] == [first.number, second.number]
    by_case = client.get(f"/api/v1/triage/cases/{second.pk}/duplicates/").json()
    assert [row["id"] for row in by_case] == [first.pk] and by_case[0]["distance_m"] == pytest.approx(17.9, abs=1)
    bad = client.get("/api/v1/triage/duplicates/", {"category": categories.major.pk, "lon": 117, "lat": 36})
    assert bad.status_code == 400 and bad.json()["fields"]["category"]
    assert client.get("/api/v1/triage/cases/999999/duplicates/").status_code == 404


def test_merge_through_the_api(api_client, flow, staff):
    first = flow.new(at=MONDAY_9, reporter_name="张三", reporter_phone="13800138000")
    second = flow.new(at=MONDAY_9 + dt.timedelta(hours=1), point=NEAR, reporter_name="李四", reporter_phone="13900139000")
    body = {"duplicate": second.pk, "into": first.pk, "note": "同一处", "expected_version": 1, "into_expected_version": 1}
    response = api_client(staff.dispatcher).post("/api/v1/triage/merge/", body, format="json")
    assert response.status_code == 200
    assert response.json() == {"id": first.pk, "number": first.number, "version": 2, "status": "reported", "merged": [second.number]}
    assert MergedReporter.objects.filter(case=first).count() == 1
    again = api_client(staff.dispatcher).post("/api/v1/triage/merge/", {"duplicate": second.pk, "into": first.pk}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "not_mergeable"


def test_merge_refusals_over_the_api(api_client, flow, staff, quick_user, region_tree):
    first = flow.new(at=MONDAY_9)
    second = flow.new(at=MONDAY_9 + dt.timedelta(hours=1), point=NEAR)
    elsewhere = flow.new(at=MONDAY_9, point=IN_GRID_21)
    body = {"duplicate": second.pk, "into": first.pk}
    assert api_client(staff.clerk).post("/api/v1/triage/merge/", body, format="json").status_code == 403
    local = quick_user([Role.DISPATCHER], scope=region_tree["community1"])
    hidden = api_client(local).post("/api/v1/triage/merge/", {"duplicate": elsewhere.pk, "into": first.pk}, format="json")
    assert hidden.status_code == 404 and "duplicate" in hidden.json()["fields"]
    stale = api_client(staff.dispatcher).post("/api/v1/triage/merge/", body | {"expected_version": 7}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    closed = flow.to(Status.CLOSED)
    refused = api_client(staff.dispatcher).post("/api/v1/triage/merge/", {"duplicate": second.pk, "into": closed.pk}, format="json")
    assert refused.status_code == 409
    same = api_client(staff.dispatcher).post("/api/v1/triage/merge/", {"duplicate": first.pk, "into": first.pk}, format="json")
    assert same.status_code == 400 and "into" in same.json()["fields"]
    assert Case.objects.get(pk=second.pk).status == Status.REPORTED
    assert services.available_actions(Case.objects.get(pk=second.pk), staff.dispatcher)
