import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from gridgov.callbacks.models import Callback
from gridgov.cases.models import Status
from gridgov.core.models import SensitiveReadLog

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def callback(flow):
    case = flow.to(Status.CLOSED, reporter_name="张三", reporter_phone="13812345678")
    return Callback.objects.get(case=case)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def test_list_page_tabs_filters_and_masked_phone(callback, flow):
    client = client_for(flow.staff.clerk)
    page = client.get("/callbacks/?state=pending")
    assert page.status_code == 200
    body = page.content.decode()
    assert callback.case.number in body and "138****5678" in body and "13812345678" not in body
    assert "今日到期" in body and "待回访" in body and "已逾期" in body  # zh-hans tabs
    assert client.get("/callbacks/?state=done").content.decode().count(callback.case.number) == 0
    nothing = client.get("/callbacks/?state=pending&q=没有这个").content.decode()
    assert callback.case.number not in nothing
    assert "没有符合搜索条件的回访" in nothing and "办结后的下一个工作日" not in nothing  # not the empty tab's explanation
    assert callback.case.number in client.get(f"/callbacks/?state=pending&q={callback.case.number}").content.decode()
    assert client_for(flow.staff.handler).get("/callbacks/").status_code == 403


def test_export_is_masked(callback, flow):
    response = client_for(flow.staff.clerk).get("/callbacks/export.xlsx?state=pending")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == callback.case.number and rows[1][2] == "138****5678"


def test_reveal_is_audit_logged(callback, flow):
    client = client_for(flow.staff.clerk)
    detail = client.get(f"/callbacks/{callback.pk}/").content.decode()
    assert "13812345678" not in detail
    revealed = client.post(f"/callbacks/{callback.pk}/reveal/").content.decode()
    assert "13812345678" in revealed
    assert SensitiveReadLog.objects.filter(user=flow.staff.clerk).count() == 1


def test_record_form(callback, flow):
    client = client_for(flow.staff.dispatcher)
    refused = client.post(f"/callbacks/{callback.pk}/result/", {"result": "unsatisfied", "reopen": "on", "reason": ""})
    assert refused.status_code == 400 and "field--error" in refused.content.decode()
    assert Callback.objects.get(pk=callback.pk).done_at is None
    done = client.post(f"/callbacks/{callback.pk}/result/", {"result": "basically_satisfied", "note": "还行"})
    assert done.status_code == 302
    callback.refresh_from_db()
    assert callback.result == "basically_satisfied" and callback.case.rating == 2


def test_api_list_detail_and_result(callback, flow, api_client):
    client = api_client(flow.staff.clerk)
    listing = client.get("/api/v1/callbacks/?state=pending").json()
    assert listing["count"] == 1 and listing["results"][0]["reporter_phone"] == "138****5678"
    assert client.get(f"/api/v1/callbacks/{callback.pk}/?reveal=reporter").json()["reporter_phone"] == "13812345678"
    assert SensitiveReadLog.objects.count() == 1
    bad = client.post(f"/api/v1/callbacks/{callback.pk}/result/", {"result": "unsatisfied", "reopen": True}, format="json")
    assert bad.status_code == 400 and bad.json()["fields"].keys() == {"reason"}
    assert bad.json()["fields"]["reason"] == ["请填写重新打开案件的原因。"]
    ok = client.post(f"/api/v1/callbacks/{callback.pk}/result/", {"result": "unsatisfied", "reopen": True, "reason": "没修好"}, format="json")
    assert ok.status_code == 200 and ok.json()["reopened"] is True and ok.json()["case"]["status"] == "accepted"
    again = client.post(f"/api/v1/callbacks/{callback.pk}/result/", {"result": "satisfied"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_recorded"
    assert api_client(flow.staff.inspector).get(f"/api/v1/callbacks/{callback.pk}/").status_code == 404


def test_the_case_timeline_names_the_reopening(callback, flow):
    from gridgov.callbacks import services

    services.record_result(callback, flow.staff.clerk, result="unsatisfied", reopen=True, reason="群众反映未解决")
    page = client_for(flow.staff.clerk).get(f"/cases/{callback.case_id}/").content.decode()
    assert "已重新打开（回访不满意）" in page and "群众反映未解决" in page


def test_menu_entries(flow):
    assert 'href="/callbacks/"' in client_for(flow.staff.clerk).get("/callbacks/").content.decode()
    assert 'href="/callbacks/"' not in client_for(flow.staff.handler).get("/").content.decode()


def test_the_case_page_shows_the_callback(callback, flow):
    page = client_for(flow.staff.clerk).get(f"/cases/{callback.case_id}/").content.decode()
    assert 'id="callback-panel"' in page and f"/callbacks/{callback.pk}/" in page
    assert 'id="callback-panel"' not in client_for(flow.staff.handler).get(f"/cases/{callback.case_id}/").content.decode()
