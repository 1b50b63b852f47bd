"""The cases API: list (scope, filters, ordering, query count), detail, reveal, create, timeline."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gridgov.cases import services
from gridgov.cases.models import Case
from gridgov.core.models import SensitiveReadLog

from .conftest import IN_GRID_11, IN_GRID_21, MONDAY_9, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def numbers(response):
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


# --- list -----------------------------------------------------------------------------------


def test_list_shows_only_cases_in_scope(api_client, staff, flow):
    mine = flow.new()
    other = flow.new(point=IN_GRID_21, actor=staff.dispatcher)
    assert numbers(api_client(staff.inspector).get("/api/v1/cases/")) == [mine.number]
    assert set(numbers(api_client(staff.dispatcher).get("/api/v1/cases/"))) == {mine.number, other.number}
    assert numbers(api_client(staff.nobody).get("/api/v1/cases/")) == []


def test_list_default_order_is_most_recent_first_and_paginated(api_client, staff, flow):
    cases = [flow.new(at=MONDAY_9 + dt.timedelta(minutes=index)) for index in range(3)]
    response = api_client(staff.dispatcher).get("/api/v1/cases/", {"page_size": 2})
    assert numbers(response) == [cases[2].number, cases[1].number]
    assert response.json()["count"] == 3
    assert response.json()["next"]


def test_list_ordering(api_client, staff, flow, categories):
    low = flow.new(priority=1, at=MONDAY_9)
    high = flow.new(priority=4, at=MONDAY_9 + dt.timedelta(minutes=1))
    client = api_client(staff.dispatcher)
    assert numbers(client.get("/api/v1/cases/", {"ordering": "-priority"})) == [high.number, low.number]
    assert numbers(client.get("/api/v1/cases/", {"ordering": "number"})) == sorted([low.number, high.number])
    assert numbers(client.get("/api/v1/cases/", {"ordering": "created_at"})) == [low.number, high.number]


def test_list_query_count_does_not_grow_with_rows(api_client, staff, flow):
    client = api_client(staff.dispatcher)
    flow.new()

    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/cases/", {"page_size": 50})
        assert response.status_code == 200
        return len(captured), response.json()["count"]

    few, _count = queries_for_list()
    for index in range(49):
        flow.to("dispatched", at=MONDAY_9 + dt.timedelta(minutes=index)) if index % 2 else flow.new()
    many, count = queries_for_list()
    assert count == 50
    assert many <= few <= 4  # the first call also loads the role set


def test_list_rows_equal_the_documented_serializer(api_client, staff, flow, media):
    from rest_framework.test import APIRequestFactory

    from gridgov.cases.api import CaseListSerializer

    cases = [flow.to("dispatched"), flow.new(point=None, actor=staff.dispatcher), flow.new(at=timezone.now())]
    rows = {row["id"]: row for row in api_client(staff.dispatcher).get("/api/v1/cases/").json()["results"]}
    request = APIRequestFactory().get("/")
    for case in cases:
        expected = CaseListSerializer(Case.objects.get(pk=case.pk), context={"request": request}).data
        assert rows[case.pk] == expected


# --- filters --------------------------------------------------------------------------------


def test_filter_by_status_multiple(api_client, staff, flow):
    reported = flow.new()
    accepted = flow.to("accepted")
    flow.to("dispatched")
    client = api_client(staff.dispatcher)
    assert set(numbers(client.get("/api/v1/cases/", {"status": ["reported", "accepted"]}))) == {reported.number, accepted.number}


def test_filter_by_category_major_category_and_kind(api_client, staff, flow, categories):
    garbage = flow.new(category=categories.garbage)
    water = flow.new(category=categories.water)
    client = api_client(staff.dispatcher)
    assert numbers(client.get("/api/v1/cases/", {"category": categories.water.pk})) == [water.number]
    assert numbers(client.get("/api/v1/cases/", {"major_category": categories.major.code})) == [garbage.number]
    assert set(numbers(client.get("/api/v1/cases/", {"kind": "event"}))) == {garbage.number, water.number}
    assert numbers(client.get("/api/v1/cases/", {"kind": "component"})) == []


def test_filter_by_region_subtree_grid_and_department(api_client, staff, flow, region_tree, department):
    in_grid_11 = flow.new(point=IN_GRID_11)
    in_grid_21 = flow.new(point=IN_GRID_21, actor=staff.dispatcher)
    dispatched = flow.to("dispatched")
    client = api_client(staff.dispatcher)
    community2 = region_tree["community2"].code
    assert numbers(client.get("/api/v1/cases/", {"region": community2})) == [in_grid_21.number]
    assert set(numbers(client.get("/api/v1/cases/", {"grid": region_tree["grid11"].pk}))) == {in_grid_11.number, dispatched.number}
    assert numbers(client.get("/api/v1/cases/", {"department": department.pk})) == [dispatched.number]


def test_filter_by_channel_priority_supervised_and_placement(api_client, staff, flow):
    phoned = flow.new(channel="hotline", priority=3)
    patrolled = flow.new(channel="grid_patrol", priority=1)
    unplaced = flow.new(point=None, actor=staff.dispatcher)
    services.supervise(phoned, staff.leader, note="尽快处理")
    client = api_client(staff.dispatcher)
    assert numbers(client.get("/api/v1/cases/", {"channel": "grid_patrol"})) == [patrolled.number]
    assert numbers(client.get("/api/v1/cases/", {"priority": [3]})) == [phoned.number]
    assert numbers(client.get("/api/v1/cases/", {"supervised": "true"})) == [phoned.number]
    assert numbers(client.get("/api/v1/cases/", {"needs_placement": "true"})) == [unplaced.number]


def test_filter_by_clock_state(api_client, staff, flow):
    overdue = flow.new(at=timezone.now() - dt.timedelta(days=30))
    normal = flow.new(at=timezone.now())
    warning = flow.new(at=timezone.now())
    now = timezone.now()
    Case.objects.filter(pk=warning.pk).update(warn_at=now - dt.timedelta(minutes=1), due_at=now + dt.timedelta(hours=1))
    Case.objects.filter(pk=normal.pk).update(warn_at=now + dt.timedelta(hours=1), due_at=now + dt.timedelta(hours=2))
    client = api_client(staff.dispatcher)
    assert numbers(client.get("/api/v1/cases/", {"clock_state": "overdue"})) == [overdue.number]
    assert numbers(client.get("/api/v1/cases/", {"clock_state": "warning"})) == [warning.number]
    assert numbers(client.get("/api/v1/cases/", {"clock_state": "normal"})) == [normal.number]
    rows = client.get("/api/v1/cases/").json()["results"]
    assert {row["number"]: row["clock_state"] for row in rows}[overdue.number] == "overdue"


def test_filter_by_created_dates_is_inclusive_in_local_time(api_client, staff, flow):
    sunday_late = flow.new(at=MONDAY_9.replace(day=29, hour=23, minute=30))
    monday = flow.new(at=MONDAY_9)
    client = api_client(staff.dispatcher)
    assert numbers(client.get("/api/v1/cases/", {"created_after": "2026-11-30"})) == [monday.number]
    assert numbers(client.get("/api/v1/cases/", {"created_before": "2026-11-29"})) == [sunday_late.number]
    both = {"created_after": "2026-11-29", "created_before": "2026-11-30"}
    assert set(numbers(client.get("/api/v1/cases/", both))) == {sunday_late.number, monday.number}


def test_text_search_over_number_description_and_address(api_client, staff, flow):
    by_text = flow.new(description="井盖缺失，有安全隐患")
    by_address = flow.new(address="幸福路12号")
    client = api_client(staff.dispatcher)
    assert numbers(client.get("/api/v1/cases/", {"q": "井盖"})) == [by_text.number]
    assert numbers(client.get("/api/v1/cases/", {"q": "幸福路"})) == [by_address.number]
    assert numbers(client.get("/api/v1/cases/", {"q": by_text.number})) == [by_text.number]


def test_invalid_filter_value_is_a_400_naming_the_field(api_client, staff):
    response = api_client(staff.dispatcher).get("/api/v1/cases/", {"status": "bogus", "created_after": "yesterday"})
    assert response.status_code == 400
    assert {"status", "created_after"} <= set(response.json()["fields"])


# --- detail and reveal ----------------------------------------------------------------------


def test_detail_masks_reporter_and_lists_actions_and_clocks(api_client, staff, flow):
    case = flow.new(reporter_name="张三丰", reporter_phone="13812345678")
    body = api_client(staff.dispatcher).get(f"/api/v1/cases/{case.pk}/").json()
    assert body["reporter"] == {"name": "张**", "phone": "138****5678", "revealed": False}
    assert "accept" in body["available_actions"] and "reject" in body["available_actions"]
    assert body["clocks"][0]["kind"] == "accept_dispatch"
    assert body["clocks"][0]["state"] in {"normal", "warning", "overdue"}
    assert body["category"]["major"]["code"] == "T1"
    assert api_client(staff.inspector).get(f"/api/v1/cases/{case.pk}/").json()["available_actions"] == []


def test_reveal_reporter_with_permission_is_audited(api_client, staff, flow):
    case = flow.new(reporter_name="张三丰", reporter_phone="13812345678")
    response = api_client(staff.dispatcher).get(f"/api/v1/cases/{case.pk}/", {"reveal": "reporter"})
    assert response.json()["reporter"] == {"name": "张三丰", "phone": "13812345678", "revealed": True}
    log = SensitiveReadLog.objects.get()
    assert (log.user, log.object_id, log.channel) == (staff.dispatcher, str(case.pk), "api")


def test_reveal_reporter_without_permission_is_403_and_not_logged(api_client, staff, flow):
    case = flow.new(reporter_phone="13812345678")
    response = api_client(staff.inspector).get(f"/api/v1/cases/{case.pk}/", {"reveal": "reporter"})
    assert response.status_code == 403
    assert response.json()["code"] == "reporter_not_allowed"
    assert not SensitiveReadLog.objects.exists()


def test_detail_outside_scope_is_404(api_client, staff, flow):
    case = flow.new()
    response = api_client(staff.far_inspector).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "fields"}


def test_detail_attachments_have_urls(api_client, staff, flow, media):
    photo = SimpleUploadedFile("p.jpg", image_bytes(), content_type="image/jpeg")
    case = flow.new(photos=[photo])
    attachments = api_client(staff.dispatcher).get(f"/api/v1/cases/{case.pk}/").json()["attachments"]
    assert len(attachments) == 1
    assert attachments[0]["url"].startswith("http://testserver/media/")
    assert attachments[0]["content_type"] == "image/jpeg"


def test_timeline(api_client, staff, flow):
    case = flow.to("dispatched")
    events = api_client(staff.dispatcher).get(f"/api/v1/cases/{case.pk}/events/").json()
    assert [event["action"] for event in events] == ["create", "accept", "dispatch"]
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert events[0]["label"]
    assert events[1]["actor"]["id"] == staff.dispatcher.pk
    assert api_client(staff.far_inspector).get(f"/api/v1/cases/{case.pk}/events/").status_code == 404


# --- create ---------------------------------------------------------------------------------


def new_case_body(**extra):
    body = {"channel": "hotline", "description": "路灯不亮", "lon": IN_GRID_11[0], "lat": IN_GRID_11[1]}
    return {**body, **extra}


def test_create_json(api_client, staff, categories):
    response = api_client(staff.clerk).post("/api/v1/cases/", new_case_body(category=categories.garbage.pk, reporter_phone="13800001111"))
    assert response.status_code == 201, response.json()
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert (body["status"], body["number"], body["version"]) == ("reported", case.number, 1)
    assert body["grid_id"] == case.grid_id and case.grid.code.endswith("001001")
    assert case.reported_by == staff.clerk
    detail = api_client(staff.clerk).get(body["url"]).json()
    assert detail["reporter"]["phone"] == "138****1111"


def test_create_with_idempotency_key_header_returns_the_first_case(api_client, staff):
    client = api_client(staff.clerk)
    first = client.post("/api/v1/cases/", new_case_body(), HTTP_IDEMPOTENCY_KEY="device-1-0001")
    again = client.post("/api/v1/cases/", new_case_body(), HTTP_IDEMPOTENCY_KEY="device-1-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Case.objects.count() == 1


def test_create_with_idempotency_key_field(api_client, staff):
    client = api_client(staff.clerk)
    first = client.post("/api/v1/cases/", new_case_body(idempotency_key="k-42"))
    again = client.post("/api/v1/cases/", new_case_body(idempotency_key="k-42"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert Case.objects.count() == 1


def test_create_multipart_with_photos(api_client, staff, media):
    photos = [SimpleUploadedFile(f"p{n}.png", image_bytes("PNG"), content_type="image/png") for n in range(2)]
    response = api_client(staff.clerk).post("/api/v1/cases/", {**new_case_body(), "photos": photos}, format="multipart")
    assert response.status_code == 201, response.json()
    detail = api_client(staff.clerk).get(response.json()["url"]).json()
    assert len(detail["attachments"]) == 2


def test_create_refuses_a_non_image(api_client, staff, media):
    fake = SimpleUploadedFile("p.jpg", b"not an image at all", content_type="image/jpeg")
    response = api_client(staff.clerk).post("/api/v1/cases/", {**new_case_body(), "photos": [fake]}, format="multipart")
    assert response.status_code == 400
    assert "photos" in response.json()["fields"]
    assert not Case.objects.exists()


def test_create_validation_names_fields(api_client, staff):
    response = api_client(staff.clerk).post("/api/v1/cases/", {"channel": "pigeon", "description": "x"})
    assert response.status_code == 400
    assert "channel" in response.json()["fields"]
    service_says = api_client(staff.clerk).post("/api/v1/cases/", new_case_body(description="<script>x</script>"))
    assert service_says.status_code == 400
    assert "description" in service_says.json()["fields"]


def test_create_needs_the_role(api_client, staff):
    response = api_client(staff.handler).post("/api/v1/cases/", new_case_body())
    assert response.status_code == 403
    assert response.json()["code"] == "role_not_allowed"
