"""`gridgov ingest`: the MQTT worker that feeds alarms and camera heartbeats into the database.

Delivery guarantees (docs/alarms.md):
- QoS 1 subscriptions in a persistent session (clean_session=False, a fixed client id): the
  broker keeps what arrives while the worker is down, and re-sends every message that was
  not acknowledged.
- Manual acknowledgement (paho 2 `manual_ack=True`): a message is acked only after its
  database transactions committed. A worker killed at any point loses nothing; a message
  processed but not yet acked is delivered again, and the idempotent upsert (one alarm per
  source + origin + event id, cases keyed by the alarm) makes the repeat harmless.
- A message that can never be processed (bad JSON, a field the parser refuses) is logged
  and acked, so it cannot block the queue. A database error is not acked: the worker
  reconnects and the broker re-sends it.
"""

import json
import logging
import signal
import time
from urllib.parse import unquote, urlparse

import paho.mqtt.client as mqtt
from django.db import close_old_connections
from django.utils import timezone

from gridgov.core.errors import ValidationFailed

from . import settings as video_settings
from .alarms import ingest, retry_pending_cases
from .cameras import record_heartbeats, sweep_silent_cameras
from .parsers import moment, parse_frigate_event, parse_frigate_review, parse_sensor_alarm

log = logging.getLogger(__name__)

FRIGATE_EVENTS = "frigate/events"
FRIGATE_REVIEWS = "frigate/reviews"
SENSOR_ALARMS = "gridgov/alarms/+"
HEARTBEATS = "gridgov/heartbeat/#"
TOPICS = (FRIGATE_EVENTS, FRIGATE_REVIEWS, SENSOR_ALARMS, HEARTBEATS)


def broker_address(url):
    """mqtt://user:password@host:port → (host, port, user, password)."""
    parsed = urlparse(url or "mqtt://127.0.0.1:1883")
    if parsed.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"unsupported broker URL scheme {parsed.scheme!r} (use mqtt://)")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883, unquote(parsed.username or ""), unquote(parsed.password or "")


def handle_message(topic, payload, *, prefix=""):
    """Process one message (any transaction commits before this returns)."""
    topic = topic[len(prefix):] if prefix and topic.startswith(prefix) else topic
    if topic.startswith("gridgov/heartbeat"):
        return handle_heartbeat(topic, payload)
    message = json.loads(payload)
    if topic == FRIGATE_EVENTS:
        incoming = parse_frigate_event(message)
    elif topic == FRIGATE_REVIEWS:
        incoming = parse_frigate_review(message)
    elif topic.startswith("gridgov/alarms/"):
        incoming = parse_sensor_alarm(message, device_id=topic.rsplit("/", 1)[-1])
    else:
        return None
    return ingest(incoming) if incoming is not None else None


def handle_heartbeat(topic, payload):
    """gridgov/heartbeat/<camera code> (payload empty or {"at": ...}), or gridgov/heartbeat
    with {"cameras": [codes], "at": ...}."""
    message = json.loads(payload) if payload.strip() else {}
    if not isinstance(message, dict):
        raise ValidationFailed.field("message", "Must be a JSON object.")
    at = min(moment(message.get("at"), "at") or timezone.now(), timezone.now())
    parts = topic.split("/")
    codes = parts[2:3] if len(parts) > 2 else message.get("cameras") or []
    if not isinstance(codes, list):
        raise ValidationFailed.field("cameras", "Must be a list.")
    return record_heartbeats(codes, at=at)


class IngestWorker:
    def __init__(self, url, *, client_id=None, prefix="", sweep_seconds=60, out=None):
        self.host, self.port, user, password = broker_address(url)
        self.prefix = prefix
        self.sweep_seconds = sweep_seconds
        self.out = out
        self.stopping = False
        self.processed = self.rejected = 0
        self.last_sweep = 0.0
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or video_settings.value("mqtt_client_id"),
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if user:
            self.client.username_pw_set(user, password or None)
        self.client.on_connect = self.on_connect
        self.client.on_subscribe = self.on_subscribe
        self.client.on_message = self.on_message

    def say(self, text):
        if self.out is not None:
            self.out.write(text + "\n")
            self.out.flush()

    # -- paho callbacks (all run in this thread, inside client.loop) -------------------------
    def on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        client.subscribe([(self.prefix + topic, 1) for topic in TOPICS])

    def on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.say(f"ingest: subscribed to {', '.join(self.prefix + t for t in TOPICS)}")

    def on_message(self, client, userdata, message):
        close_old_connections()
        try:
            handle_message(message.topic, message.payload, prefix=self.prefix)
        except (ValidationFailed, ValueError, UnicodeDecodeError) as exc:
            # Never processable: ack so it does not come back forever (logged for the record).
            self.rejected += 1
            log.warning("refused message on %s: %s", message.topic, getattr(exc, "fields", None) or exc)
        except Exception:
            # The database or a bug: do not ack; reconnecting makes the broker re-send it.
            log.exception("could not process a message on %s; reconnecting", message.topic)
            close_old_connections()
            client.disconnect()
            return
        else:
            self.processed += 1
        client.ack(message.mid, message.qos)

    # -- the loop ------------------------------------------------------------------------------
    def run(self):
        signal.signal(signal.SIGTERM, lambda *args: self.stop())
        self.client.connect(self.host, self.port, keepalive=30)  # unreachable: raises
        backoff = 1
        while not self.stopping:
            code = self.client.loop(timeout=1.0)
            if code != mqtt.MQTT_ERR_SUCCESS and not self.stopping:
                time.sleep(backoff)
                backoff = min(backoff * 2, 30)
                try:
                    self.client.reconnect()
                except OSError as exc:
                    log.warning("broker unreachable (%s); retrying", exc)
                continue
            backoff = 1
            self.maybe_sweep()
        self.client.disconnect()

    def maybe_sweep(self):
        if not self.sweep_seconds or time.monotonic() - self.last_sweep < self.sweep_seconds:
            return
        self.last_sweep = time.monotonic()
        try:
            close_old_connections()
            sweep_silent_cameras()
            retry_pending_cases()
        except Exception:
            log.exception("camera sweep or pending cases failed")

    def stop(self):
        self.stopping = True
