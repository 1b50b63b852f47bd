"""The supervision API and pages: scope, errors as {code, message, fields}, the case panel."""

import pytest
from django.urls import reverse

from gridgov.supervision.models import Summons, Whistle


@pytest.fixture
def api(api_client):
    return api_client


def test_whistle_api_create_list_and_check_in(flow, staff, served, whistlers, api):
    case = flow.to("handling")
    response = api(whistlers.grid_secretary).post(
        "/api/v1/supervision/whistles/",
        {"case": case.pk, "lead_department": served.lead.pk, "co_departments": [served.co.pk], "reason": "联合执法"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["case_number"] == case.number and len(body["summonses"]) == 2

    listed = api(staff.other_handler).get("/api/v1/supervision/whistles/?active=true").json()
    assert [row["id"] for row in listed["results"] if "results" in listed] or [row["id"] for row in listed]
    summons = Summons.objects.get(case=case, department=served.co)
    response = api(staff.other_handler).post(f"/api/v1/supervision/summonses/{summons.pk}/check-in/", {"note": "到"}, format="json")
    assert response.status_code == 200 and response.json()["checked_in_at"]
    again = api(staff.other_handler).post(f"/api/v1/supervision/summonses/{summons.pk}/check-in/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
    # Another department's summons is not visible to this handler: 404.
    lead = Summons.objects.get(case=case, department=served.lead)
    assert api(staff.other_handler).post(f"/api/v1/supervision/summonses/{lead.pk}/check-in/", {}, format="json").status_code == 404


def test_whistle_api_errors_name_the_field(flow, served, whistlers, api):
    case = flow.to("handling")
    response = api(whistlers.grid_secretary).post(
        "/api/v1/supervision/whistles/",
        {"case": case.pk, "lead_department": served.far.pk, "reason": "联合执法"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "outside_region" and "lead_department" in response.json()["fields"]
    assert not Whistle.objects.exists()
    outside = api(whistlers.far_secretary).post(
        "/api/v1/supervision/whistles/", {"case": case.pk, "lead_department": served.lead.pk, "reason": "x"}, format="json"
    )
    assert outside.status_code == 404


def test_order_api(flow, staff, api):
    case = flow.to("handling")
    response = api(staff.lead).post("/api/v1/supervision/orders/", {"case": case.pk, "kind": "urge", "note": "请加快"}, format="json")
    assert response.status_code == 201
    order_id = response.json()["id"]
    mine = api(staff.handler).get("/api/v1/supervision/orders/?status=open").json()
    rows = mine["results"] if isinstance(mine, dict) else mine
    assert [row["id"] for row in rows] == [order_id]
    assert api(staff.other_handler).get(f"/api/v1/supervision/orders/{order_id}/").status_code == 404
    reply = api(staff.handler).post(f"/api/v1/supervision/orders/{order_id}/reply/", {"reply": "已处理"}, format="json")
    assert reply.status_code == 200 and reply.json()["status"] == "replied"


def test_case_page_panel_whistle_and_check_in(client, flow, staff, served, whistlers):
    case = flow.to("handling")
    client.force_login(whistlers.grid_secretary)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert b'data-supervision-action="whistle"' in page.content
    response = client.post(
        reverse("supervision:blow", args=[case.pk]),
        {"lead_department": served.lead.pk, "co_departments": [served.co.pk], "reason": "联合执法"},
    )
    assert response.status_code == 302 and Whistle.objects.filter(case=case).exists()
    client.force_login(staff.other_handler)
    page = client.get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200 and b'data-supervision-action="check_in"' in page.content
    client.post(reverse("supervision:check_in", args=[case.pk]), {"note": "到场"})
    assert Summons.objects.get(case=case, department=served.co).checked_in_at is not None


def test_supervision_page_and_export(client, flow, staff, served, whistlers):
    from gridgov.supervision import services

    case = flow.to("handling")
    services.blow_whistle(case, whistlers.grid_secretary, lead_department=served.lead, reason="联合执法")
    services.issue_urge(case, staff.lead, note="请加快办理")
    client.force_login(staff.lead)
    page = client.get(reverse("supervision:index"))
    assert page.status_code == 200
    assert case.number.encode() in page.content and "请加快办理".encode() in page.content
    empty = client.get(reverse("supervision:index") + "?q=nothing-matches")
    assert b'class="empty"' in empty.content
    export = client.get(reverse("supervision:export_orders"))
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_orders_list_pages_keep_the_filter(client, flow, staff):
    from gridgov.supervision import services
    from gridgov.supervision.views import PAGE_SIZE

    case = flow.to("handling")
    for index in range(PAGE_SIZE + 1):
        services.issue_urge(case, staff.lead, note=f"催办{index}")
    client.force_login(staff.lead)
    page = client.get(reverse("supervision:index") + "?kind=urge&sort=-issued").content.decode()
    assert "kind=urge&amp;sort=-issued&amp;page=2" in page
    second = client.get(reverse("supervision:index") + "?kind=urge&sort=-issued&page=2").content.decode()
    assert "催办0<" in second or "催办0" in second


def test_order_idempotency_key(flow, staff, api):
    from gridgov.supervision.models import Order

    case = flow.to("handling")
    body = {"case": case.pk, "kind": "urge", "note": "请加快", "idempotency_key": "urge-1"}
    first = api(staff.lead).post("/api/v1/supervision/orders/", body, format="json")
    again = api(staff.lead).post("/api/v1/supervision/orders/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and Order.objects.count() == 1


def test_late_check_ins_say_how_many_and_export_in_full(client, flow, staff, served, whistlers, monkeypatch):
    import io

    from openpyxl import load_workbook

    from gridgov.supervision import services, views

    cases = [flow.to("handling"), flow.to("handling")]
    for case in cases:
        services.blow_whistle(case, whistlers.grid_secretary, lead_department=served.lead, reason="联合执法")
    Summons.objects.update(late=True)
    monkeypatch.setattr(views, "SHOWN", 1)
    client.force_login(staff.lead)
    page = client.get(reverse("supervision:index")).content.decode()
    late = page[page.index('id="late-check-ins"') :]
    assert '<span class="tag tag--muted count">2</span>' in late and "仅显示最新 1 条" in late
    assert reverse("supervision:export_late") in late
    response = client.get(reverse("supervision:export_late"))
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0] == ("案件", "部门", "召集时间", "报到截止", "报到时间")
    assert sorted(row[0] for row in rows[1:]) == sorted(case.number for case in cases)
    client.force_login(whistlers.far_secretary)  # community 2: none of these cases
    response = client.get(reverse("supervision:export_late"))
    assert len(list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows())) == 1
