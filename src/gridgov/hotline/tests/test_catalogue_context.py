"""12345 strings that other apps translate differently keep the hotline's wording on its pages.

In the merged catalogue the cases app's request status "Pending" (待审批) and the catalogue's
priority "Normal" (普通) won the shared msgids, and the replies export's "Result" read as the
cases app's 核查结果; the hotline's own strings carry a context now.
"""

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gridgov.hotline import services


@pytest.fixture
def order(staff, order_data):
    """An order of urgency 一般 (normal)."""
    return services.receive_order(staff.clerk, order_data, at=timezone.now())[0]


def test_order_page_shows_urgency_and_reply_status_in_hotline_words(client, staff, order):
    first = order
    services.report_callback(first.case, "满意", "已回访")
    client.force_login(staff.clerk)
    page = client.get(f"/hotline/orders/{first.pk}/").content.decode()
    assert "一般" in page and "普通" not in page  # urgency
    assert "待发送" in page and "待审批" not in page  # the callback reply waits to be sent


def test_reply_export_headers_are_the_hotline_columns(client, staff, order):
    first = order
    services.report_callback(first.case, "满意", "已回访")
    client.force_login(staff.clerk)
    response = client.get("/hotline/replies.xlsx")
    header = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.values)[0]
    assert header[3] == "结果" and header[5] == "承办部门"
    assert "核查结果" not in header
