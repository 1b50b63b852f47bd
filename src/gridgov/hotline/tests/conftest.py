"""Fixtures of the hotline tests: the cases tests' staff and flow, a hotline service
account, xlsx files, and a real local HTTP server standing in for the hotline platform."""

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from openpyxl import Workbook

from gridgov.cases.tests.conftest import (  # noqa: F401  (fixtures shared with the cases tests)
    IN_GRID_11,
    MONDAY_9,
    categories,
    flow,
    other_department,
    quick_user,
    staff,
)

ORDER = {
    "order_number": "GD20261130001",
    "order_type": "投诉",
    "urgency": "一般",
    "caller_name": "张三",
    "caller_phone": "13812345678",
    "content": "小区门口垃圾三天没人清运",
    "address": "南村街道象霞社区1号楼",
}


@pytest.fixture
def order_data():
    return dict(ORDER)


def xlsx_bytes(rows, header=("工单编号", "诉求类型", "紧急程度", "来电人", "联系电话", "诉求内容", "地址", "办理时限")):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


class HotlineEndpoint:
    """A real HTTP server: records every POST; answers the queued statuses, then 200."""

    def __init__(self):
        self.received = []
        self.statuses = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                endpoint.received.append({"headers": dict(self.headers), "body": body, "json": json.loads(body)})
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}' if status == 200 else b'{"error": "busy"}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/reply"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hotline_endpoint(settings):
    endpoint = HotlineEndpoint()
    settings.GRIDGOV_HOTLINE_REPLY_URL = endpoint.url
    settings.GRIDGOV_HOTLINE_REPLY_SECRET = "test-secret"
    settings.GRIDGOV_HOTLINE_REPLY_TIMEOUT = 5
    yield endpoint
    endpoint.close()
