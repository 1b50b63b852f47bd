"""Notification channels beyond the in-app bell: SMS and WeChat Work (企业微信).

`settings.GRIDGOV_NOTIFY_CHANNELS` lists the channel classes (dotted paths); the default is
the logging channel only. SmsChannel and WeComChannel POST JSON to a gateway URL from
settings; they are the edges this installation cannot reach from here, so they are kept
small and send nothing unless configured. A failing channel is logged and never breaks the
caller (in-app notifications are already written).
"""

import json
import logging
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from gridgov.org.models import User

logger = logging.getLogger(__name__)

DEFAULT_CHANNELS = ["gridgov.supervision.channels.LoggingChannel"]


class Channel:
    """Interface: send one text (with a local link) to some staff members."""

    name = "base"

    def send(self, users, text, url=""):  # pragma: no cover - interface
        raise NotImplementedError


class LoggingChannel(Channel):
    name = "log"

    def send(self, users, text, url=""):
        logger.info("notify %d user(s): %s %s", len(users), text, url)


class _HttpJsonChannel(Channel):
    setting = ""
    timeout = 5

    def __init__(self):
        self.url = getattr(settings, self.setting, "")

    def post(self, payload):
        request = urllib.request.Request(
            self.url, data=json.dumps(payload, ensure_ascii=False).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (URL from settings)
            return response.status


class SmsChannel(_HttpJsonChannel):
    """An SMS gateway taking {"phones": [...], "text": ...} at GRIDGOV_SMS_GATEWAY_URL."""

    name = "sms"
    setting = "GRIDGOV_SMS_GATEWAY_URL"

    def send(self, users, text, url=""):
        phones = [user.phone for user in users if user.phone]
        if self.url and phones:
            self.post({"phones": phones, "text": str(text)})


class WeComChannel(_HttpJsonChannel):
    """A WeChat Work group robot (GRIDGOV_WECOM_WEBHOOK_URL): a text message mentioning users
    by their phone numbers."""

    name = "wecom"
    setting = "GRIDGOV_WECOM_WEBHOOK_URL"

    def send(self, users, text, url=""):
        if self.url:
            phones = [user.phone for user in users if user.phone]
            self.post({"msgtype": "text", "text": {"content": str(text), "mentioned_mobile_list": phones}})


def configured_channels():
    return [import_string(path)() for path in getattr(settings, "GRIDGOV_NOTIFY_CHANNELS", DEFAULT_CHANNELS)]


def send_external(messages):
    """`messages`: list of (user ids, text, url). Looks the users up once, sends per channel."""
    channels = configured_channels()
    if not channels or not messages:
        return
    wanted = {user_id for ids, _text, _url in messages for user_id in ids}
    users = User.objects.in_bulk(wanted) if any(not isinstance(c, LoggingChannel) for c in channels) else {}
    for ids, text, url in messages:
        recipients = [users[user_id] for user_id in ids if user_id in users] if users else list(ids)
        for channel in channels:
            try:
                channel.send(recipients, text, url)
            except Exception:  # noqa: BLE001 - an unreachable gateway must not break the sweep
                logger.exception("notification channel %s failed", channel.name)
