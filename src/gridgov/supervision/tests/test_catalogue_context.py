"""A supervision order's "Replied" is 已回复 on the orders page, not the 12345 hotline's 已反馈
(the hotline's msgid won the merged catalogue); its reply deadline column is 回复期限."""

import io

from django.urls import reverse
from openpyxl import load_workbook


def test_orders_page_and_export_use_the_supervision_words(client, flow, staff):
    from gridgov.supervision import services

    case = flow.to("handling")
    services.issue_urge(case, staff.lead, note="请加快办理")
    client.force_login(staff.lead)
    page = client.get(reverse("supervision:index")).content.decode()
    assert "已回复" in page and "已反馈" not in page  # the status filter's choice
    assert "回复期限" in page and "反馈时限" not in page
    export = client.get(reverse("supervision:export_orders"))
    header = list(load_workbook(io.BytesIO(b"".join(export.streaming_content))).active.values)[0]
    assert "回复期限" in header and "反馈时限" not in header
