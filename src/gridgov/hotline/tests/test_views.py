"""The hotline pages: list with filters, search, sorting and export; the order page with
the caller masked unless revealed (and logged); the hotline deadline on the case page."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gridgov.core.models import SensitiveReadLog
from gridgov.hotline import services
from gridgov.hotline.models import HotlineReply
from gridgov.hotline.views import case_panel
from gridgov.web.navigation import items_for


@pytest.fixture
def orders(staff, order_data):
    now = timezone.now()
    first, _ = services.receive_order(staff.clerk, order_data, at=now - dt.timedelta(days=30))  # overdue
    second, _ = services.receive_order(
        staff.clerk, {**order_data, "order_number": "GD2", "order_type": "咨询", "content": "咨询养老补贴"}, at=now
    )
    return first, second


def test_list_filters_searches_and_sorts(client, staff, orders):
    client.force_login(staff.dispatcher)
    page = client.get("/hotline/").content.decode()
    assert "GD20261130001" in page and "GD2" in page
    assert "138****5678" in page and "13812345678" not in page
    overdue = client.get("/hotline/?deadline=overdue").content.decode()
    assert 'data-order="GD20261130001"' in overdue and 'data-order="GD2"' not in overdue
    searched = client.get("/hotline/?q=养老").content.decode()
    assert 'data-order="GD2"' in searched and 'data-order="GD20261130001"' not in searched
    typed = client.get("/hotline/?order_type=consult").content.decode()
    assert 'data-order="GD2"' in typed and 'data-order="GD20261130001"' not in typed
    ascending = client.get("/hotline/?sort=received_at").content.decode()
    assert ascending.index('data-order="GD20261130001"') < ascending.index('data-order="GD2"')
    empty = client.get("/hotline/?q=没有这种工单").content.decode()
    assert "没有符合条件的热线工单" in empty


def test_pages_are_for_centre_staff_and_leaders(client, staff, orders):
    client.force_login(staff.handler)
    assert client.get("/hotline/").status_code == 403
    assert not any(item.url == "/hotline/" for item in items_for(staff.handler))
    assert any(item.url == "/hotline/" for item in items_for(staff.dispatcher))


def test_export_is_the_current_filter_with_callers_masked(client, staff, orders):
    client.force_login(staff.dispatcher)
    response = client.get("/hotline/export.xlsx?deadline=overdue")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.values)
    assert rows[0][0] == "工单编号" and len(rows) == 2
    assert rows[1][0] == "GD20261130001" and rows[1][5] == "138****5678"


def test_reply_export_lists_replies_for_platforms_without_api(client, staff, orders):
    first, _ = orders
    services.report_callback(first.case, "满意", "已回访")
    client.force_login(staff.clerk)
    response = client.get("/hotline/replies.xlsx")
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)
    assert rows[1][0] == "GD20261130001" and rows[1][3] == "满意" and rows[1][4] == "已回访"
    assert HotlineReply.objects.count() == 1


def test_order_page_masks_the_caller_and_logs_a_reveal(client, staff, orders):
    first, _ = orders
    client.force_login(staff.dispatcher)
    masked = client.get(f"/hotline/orders/{first.pk}/").content.decode()
    assert "138****5678" in masked and "13812345678" not in masked
    assert not SensitiveReadLog.objects.exists()
    revealed = client.get(f"/hotline/orders/{first.pk}/?reveal=1").content.decode()
    assert "13812345678" in revealed
    log = SensitiveReadLog.objects.get()
    assert log.user == staff.dispatcher and log.object_id == str(first.pk)
    client.force_login(staff.leader)
    assert "13812345678" not in client.get(f"/hotline/orders/{first.pk}/?reveal=1").content.decode()


def test_case_panel_shows_the_hotline_deadline(staff, orders, flow):
    first, second = orders
    panel = case_panel(first.case, staff.dispatcher, timezone.now())
    assert panel["order"] == first and panel["state"] == "overdue"
    assert case_panel(second.case, staff.dispatcher, timezone.now())["state"] == "normal"
    assert case_panel(first.case, staff.handler, timezone.now()) is None
    assert case_panel(flow.new(channel="grid_patrol"), staff.dispatcher, timezone.now()) is None


def test_case_page_shows_the_hotline_panel(client, staff, orders):
    first, _ = orders
    client.force_login(staff.dispatcher)
    page = client.get(f"/cases/{first.case_id}/").content.decode()
    assert 'id="hotline-panel"' in page and 'data-deadline-state="overdue"' in page
    assert f"/hotline/orders/{first.pk}/" in page


def test_admin_shows_orders_and_replies_read_only_without_caller(client, make_user, orders):
    admin = make_user([], username="root", is_superuser=True, is_staff=True, password=None)
    client.force_login(admin)
    first, _ = orders
    assert client.get("/admin/hotline/hotlinereply/").status_code == 200
    page = client.get(f"/admin/hotline/hotlineorder/{first.pk}/change/").content.decode()
    assert "GD20261130001" in page and "13812345678" not in page
    assert client.get("/admin/hotline/hotlineorder/add/").status_code == 403
