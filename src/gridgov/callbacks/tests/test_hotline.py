"""12345 cases report the callback result back to the hotline (gridgov.hotline.services.report_callback)."""

import pytest

from gridgov.callbacks import services
from gridgov.callbacks.models import Callback
from gridgov.cases.services import accept
from gridgov.cases.tests.conftest import MONDAY_9
from gridgov.hotline import services as hotline
from gridgov.hotline.models import HotlineReply, ReplyKind

pytestmark = pytest.mark.django_db(transaction=True)

ORDER = {
    "order_number": "GD20261130009",
    "order_type": "投诉",
    "urgency": "一般",
    "caller_name": "李四",
    "caller_phone": "13900001111",
    "content": "楼下垃圾无人清运",
    "address": "象霞社区2号楼",
    "lon": 117.005,
    "lat": 36.69,
}


def test_a_hotline_case_reports_its_callback_result(flow):
    order, _created = hotline.receive_order(flow.staff.clerk, dict(ORDER), at=MONDAY_9)
    case = accept(order.case, flow.staff.dispatcher, category=flow.categories.garbage, at=MONDAY_9)
    case = flow.to("closed", case=case, at=MONDAY_9)
    services.record_result(Callback.objects.get(case=case), flow.staff.clerk, result="satisfied", note="满意")
    reply = HotlineReply.objects.get(order=order, kind=ReplyKind.CALLBACK)
    assert reply.payload["result"] == "satisfied" and reply.payload["note"] == "满意"


def test_other_channels_report_nothing(flow):
    case = flow.to("closed", channel="grid_patrol")
    services.record_result(Callback.objects.get(case=case), flow.staff.clerk, result="satisfied")
    assert not HotlineReply.objects.filter(kind=ReplyKind.CALLBACK).exists()
