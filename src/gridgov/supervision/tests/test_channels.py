"""Notification channels: the in-app bell plus pluggable SMS / WeChat Work, against a real
local HTTP server; a failing channel never breaks the caller."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from gridgov.supervision import channels
from gridgov.supervision.notify import notify_users
from gridgov.web.models import Notification


@pytest.fixture
def gateway():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server naming)
            length = int(self.headers["Content-Length"])
            received.append((self.path, json.loads(self.rfile.read(length))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"errcode": 0}')

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_sms_and_wecom_channels_post_after_commit(settings, gateway, make_user):
    url, received = gateway
    settings.GRIDGOV_NOTIFY_CHANNELS = [
        "gridgov.supervision.channels.LoggingChannel",
        "gridgov.supervision.channels.SmsChannel",
        "gridgov.supervision.channels.WeComChannel",
    ]
    settings.GRIDGOV_SMS_GATEWAY_URL = url + "/sms"
    settings.GRIDGOV_WECOM_WEBHOOK_URL = url + "/wecom"
    user = make_user(phone="13800001234", password=None)
    written = notify_users([([user.pk], "案件 1 已超时", "/cases/1/")])
    assert written == 1 and Notification.objects.filter(recipient=user, url="/cases/1/").count() == 1
    assert sorted(received) == [
        ("/sms", {"phones": ["13800001234"], "text": "案件 1 已超时"}),
        ("/wecom", {"msgtype": "text", "text": {"content": "案件 1 已超时", "mentioned_mobile_list": ["13800001234"]}}),
    ]


@pytest.mark.django_db(transaction=True)
def test_unreachable_gateway_is_logged_not_raised(settings, make_user, caplog):
    settings.GRIDGOV_NOTIFY_CHANNELS = ["gridgov.supervision.channels.SmsChannel"]
    settings.GRIDGOV_SMS_GATEWAY_URL = "http://127.0.0.1:9/unreachable"
    user = make_user(phone="13800001234", password=None)
    with caplog.at_level(logging.ERROR, logger="gridgov.supervision.channels"):
        assert notify_users([([user.pk], "x", "")]) == 1
    assert Notification.objects.filter(recipient=user).exists()
    assert "notification channel sms failed" in caplog.text


def test_default_is_the_logging_channel(settings):
    del settings.GRIDGOV_NOTIFY_CHANNELS
    assert [type(channel) for channel in channels.configured_channels()] == [channels.LoggingChannel]
