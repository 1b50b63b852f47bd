"""Settings of the video app, each overridable in Django settings or the environment.

GRIDGOV_VIDEO = {...} in Django settings wins over the environment variables below.
"""

import os

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS = {
    # A camera silent for this long is marked offline by the sweep.
    "camera_silent_minutes": ("GRIDGOV_CAMERA_SILENT_MINUTES", 10, int),
    # Flood control: beyond `flood_limit` alarms of one camera/device in `flood_minutes`
    # the rest are summarised as a suppressed count, not cases.
    "flood_limit": ("GRIDGOV_ALARM_FLOOD_LIMIT", 5, int),
    "flood_minutes": ("GRIDGOV_ALARM_FLOOD_MINUTES", 10, int),
    # Webhook signatures older or newer than this are refused (replay window).
    "webhook_window_seconds": ("GRIDGOV_WEBHOOK_WINDOW_SECONDS", 300, int),
    # Where Frigate's HTTP API answers (snapshots), unless the AlarmSource names one.
    "frigate_url": ("GRIDGOV_FRIGATE_URL", "", str),
    "snapshot_timeout": ("GRIDGOV_SNAPSHOT_TIMEOUT", 5.0, float),
    # The account cases opened from alarms are registered by (created on demand).
    "ingest_username": ("GRIDGOV_ALARM_ACCOUNT", "alarm-ingest", str),
    "mqtt_client_id": ("GRIDGOV_MQTT_CLIENT_ID", "gridgov-ingest", str),
    # "5": Receive Maximum 65535 asks the broker for big batches whatever its config.
    # "3.1.1": cheaper per message in paho (no v5 properties to decode), but the broker's
    # max_inflight_messages (Mosquitto: 20) bounds the batches; raise it (docs/alarms.md).
    "mqtt_protocol": ("GRIDGOV_MQTT_PROTOCOL", "5", str),
}


_values = {}


def value(name):
    """The setting, read once per process: every alarm needs a few, and looking one up in
    Django's settings and the environment cost more than the flood check it feeds. A
    change of Django settings (tests) clears them."""
    try:
        return _values[name]
    except KeyError:
        _values[name] = found = _read(name)
        return found


def _read(name):
    env_name, default, cast = DEFAULTS[name]
    configured = getattr(settings, "GRIDGOV_VIDEO", {})
    if name in configured:
        return configured[name]
    raw = os.environ.get(env_name)
    return cast(raw) if raw not in (None, "") else default


@receiver(setting_changed)
def _forget_values(**kwargs):
    _values.clear()


def camera_silent_minutes():
    return value("camera_silent_minutes")
