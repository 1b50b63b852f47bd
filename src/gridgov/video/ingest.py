"""`gridgov ingest`: the MQTT worker that feeds alarms and camera heartbeats into the database.

Delivery guarantees (docs/alarms.md):
- MQTT v5, QoS 1 subscriptions in a persistent session (clean_start=False, a session that
  never expires, a fixed client id): the broker keeps what arrives while the worker is
  down, and re-sends every message that was not acknowledged.
- Receive Maximum 65535: the broker may have that many unacknowledged messages on their
  way to us (Mosquitto's max_inflight_messages, 20 by default, only binds MQTT 3 clients);
  a burst waits in our memory instead of the broker's per-client queue, which drops
  beyond max_queued_messages.
- Batches: one thread drives paho's loop and collects up to BATCH_SIZE messages (what is
  waiting, plus what arrives within LINGER), records them in one transaction
  (alarms.ingest_many), opens their cases, and only THEN acknowledges every message of the
  batch (paho 2 `manual_ack=True`).
  A worker killed at any point loses nothing; what was processed but not yet acked is
  delivered again, and the idempotent upsert (one alarm per source + origin + event id,
  cases keyed by the alarm) makes the repeat harmless.
- A message that can never be processed (bad JSON, a field the parser refuses, a value
  the database refuses on its own) is logged, counted and acked, so it cannot block the
  queue. A database error in a batch makes the worker retry that batch one message at a
  time, so one bad message never costs the good ones. An error that is not the message's
  fault (the database is down) is not acked: the worker reconnects and the broker re-sends.
"""

import logging
import signal
import time
from urllib.parse import unquote, urlparse

import orjson
import paho.mqtt.client as mqtt
from django.db import DataError, IntegrityError, close_old_connections, transaction
from django.utils import timezone
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridgov.core.errors import ValidationFailed

from . import settings as video_settings
from .alarms import ingest_many, retry_pending_cases
from .cameras import record_heartbeats, sweep_silent_cameras
from .parsers import moment, parse_frigate_event, parse_frigate_review, parse_sensor_alarm, refuse_nul_characters

log = logging.getLogger(__name__)

FRIGATE_EVENTS = "frigate/events"
FRIGATE_REVIEWS = "frigate/reviews"
SENSOR_ALARMS = "gridgov/alarms/+"
HEARTBEATS = "gridgov/heartbeat/#"
TOPICS = (FRIGATE_EVENTS, FRIGATE_REVIEWS, SENSOR_ALARMS, HEARTBEATS)

# Messages per transaction, at most. With a backlog, a bigger batch folds more messages
# of one event into one alarm row (realistic mix: 2,000 cost ~25% less CPU per message
# than 500; docs/benchmarks.md) at the price of ~0.3 s before the batch is acked.
BATCH_SIZE = 2000
LINGER = 0.005  # seconds a small batch waits for more messages
RECEIVE_MAXIMUM = 65535  # the MQTT v5 maximum
SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# Never processable: logged, counted and acked. (The database's own refusals of one
# message, e.g. PostgreSQL's "\u0000 in jsonb", count only when the message is alone.)
REFUSALS = (ValidationFailed, ValueError, UnicodeDecodeError)
DATA_REFUSALS = (DataError, IntegrityError)


def broker_address(url):
    """mqtt://user:password@host:port → (host, port, user, password)."""
    parsed = urlparse(url or "mqtt://127.0.0.1:1883")
    if parsed.scheme not in ("mqtt", "tcp"):
        raise ValueError(f"unsupported broker URL scheme {parsed.scheme!r} (use mqtt://)")
    return parsed.hostname or "127.0.0.1", parsed.port or 1883, unquote(parsed.username or ""), unquote(parsed.password or "")


class Heartbeat:
    def __init__(self, codes, at):
        self.codes, self.at = codes, at


def parse_message(topic, payload, *, prefix=""):
    """An Incoming alarm, a Heartbeat, or None (ignored: a false positive, another topic)."""
    topic = topic[len(prefix):] if prefix and topic.startswith(prefix) else topic
    if topic.startswith("gridgov/heartbeat"):
        return parse_heartbeat(topic, payload)
    # orjson: a quarter of the stdlib's time for a Frigate message; refuses what json.loads
    # refuses, and also NaN/Infinity and invalid UTF-8 (a ValueError either way: refused).
    message = orjson.loads(payload)
    refuse_nul_characters(message, payload, "message")
    if topic == FRIGATE_EVENTS:
        return parse_frigate_event(message, size=len(payload))
    if topic == FRIGATE_REVIEWS:
        return parse_frigate_review(message, size=len(payload))
    if topic.startswith("gridgov/alarms/"):
        return parse_sensor_alarm(message, device_id=topic.rsplit("/", 1)[-1], size=len(payload))
    return None


def store(items):
    """Heartbeats and alarms of a batch; every transaction committed when this returns."""
    heartbeats = [item for item in items if isinstance(item, Heartbeat)]
    if heartbeats:
        with transaction.atomic():
            for heartbeat in heartbeats:
                record_heartbeats(heartbeat.codes, at=heartbeat.at)
    alarms = [item for item in items if item is not None and not isinstance(item, Heartbeat)]
    if alarms:
        ingest_many(alarms)


def handle_message(topic, payload, *, prefix=""):
    """Process one message (any transaction commits before this returns)."""
    store([parse_message(topic, payload, prefix=prefix)])


def parse_heartbeat(topic, payload):
    """gridgov/heartbeat/<camera code> (payload empty or {"at": ...}), or gridgov/heartbeat
    with {"cameras": [codes], "at": ...}."""
    message = orjson.loads(payload) if payload.strip() else {}
    if not isinstance(message, dict):
        raise ValidationFailed.field("message", "Must be a JSON object.")
    at = min(moment(message.get("at"), "at") or timezone.now(), timezone.now())
    parts = topic.split("/")
    codes = parts[2:3] if len(parts) > 2 else message.get("cameras") or []
    if not isinstance(codes, list):
        raise ValidationFailed.field("cameras", "Must be a list.")
    return Heartbeat(codes, at)


class IngestClient(mqtt.Client):
    """paho's client without its dearest cost under MQTT v5: for every PUBLISH received,
    paho 2 builds a `Properties` object whose constructor rebuilds its tables of property
    names and types (about 60 us, more than the rest of paho's handling of the message;
    docs/benchmarks.md). A QoS 0/1 PUBLISH without properties (what Frigate and our sensors
    send) is decoded here and shares one empty `Properties`; anything else (properties,
    QoS 2, MQTT 3.1.1) goes through paho's own `_handle_publish` unchanged."""

    _no_properties = None

    def _handle_publish(self):
        header, packet = self._in_packet["command"], self._in_packet["packet"]
        qos = (header & 0x06) >> 1
        if self._protocol != mqtt.MQTTv5 or qos > 1 or len(packet) < 3:
            return super()._handle_publish()
        topic_end = 2 + int.from_bytes(packet[0:2], "big")
        properties_at = topic_end + (2 if qos else 0)  # after the packet id
        if properties_at >= len(packet) or packet[properties_at] != 0 or topic_end == 2:
            return super()._handle_publish()  # properties (or a topic alias): paho decodes them
        message = mqtt.MQTTMessage(mid=int.from_bytes(packet[topic_end:properties_at], "big") if qos else 0, topic=bytes(packet[2:topic_end]))
        message.dup, message.qos, message.retain = bool(header & 0x08), qos, bool(header & 0x01)
        message.properties = self.empty_properties()
        message.payload = bytes(packet[properties_at + 1 :])
        message.timestamp = time.monotonic()
        self._handle_on_message(message)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(message.mid)
        return mqtt.MQTT_ERR_SUCCESS

    @classmethod
    def empty_properties(cls):
        if cls._no_properties is None:
            cls._no_properties = Properties(PacketTypes.PUBLISH)
        return cls._no_properties


class IngestWorker:
    def __init__(self, url, *, client_id=None, prefix="", sweep_seconds=60, out=None, batch_size=BATCH_SIZE):
        self.host, self.port, user, password = broker_address(url)
        self.prefix = prefix
        self.sweep_seconds = sweep_seconds
        self.batch_size = batch_size
        self.out = out
        self.stopping = False
        self.processed = self.rejected = self.batches = 0
        self.last_sweep = 0.0
        self.inbox = []  # (connection number, message), filled by on_message
        self.connection = 0  # counts (re)connections: a message is acked on the one it came by
        self.v5 = video_settings.value("mqtt_protocol") != "3.1.1"
        self.client = IngestClient(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or video_settings.value("mqtt_client_id"),
            protocol=mqtt.MQTTv5 if self.v5 else mqtt.MQTTv311,
            clean_session=None if self.v5 else False,
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

    # -- paho callbacks (called from receive(), in the worker's one thread) --------------------
    def on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self.connection += 1
        client.subscribe([(self.prefix + topic, 1) for topic in TOPICS])

    def on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.say(f"ingest: subscribed to {', '.join(self.prefix + t for t in TOPICS)}")

    def on_message(self, client, userdata, message):
        self.inbox.append((self.connection, message))

    # -- batches --------------------------------------------------------------------------------
    def process(self, batch):
        """Parse, store in one go, ack. A failed batch is retried one message at a time."""
        close_old_connections()
        self.batches += 1
        parsed = []
        for number, message in batch:
            try:
                parsed.append((number, message, parse_message(message.topic, message.payload, prefix=self.prefix)))
            except REFUSALS as exc:
                self.refuse(message, exc)
                self.ack(number, message)
        try:
            store([item for _number, _message, item in parsed])
        except Exception:
            log.warning("a batch of %d messages failed; retrying one at a time", len(parsed), exc_info=True)
            close_old_connections()
            return self.process_one_by_one(parsed)
        self.processed += len(parsed)
        for number, message, _item in parsed:
            self.ack(number, message)

    def process_one_by_one(self, parsed):
        for number, message, item in parsed:
            try:
                store([item])
            except (*REFUSALS, *DATA_REFUSALS) as exc:
                self.refuse(message, exc)
            except Exception:
                # The database or a bug, not the message: no ack; the broker re-sends it.
                log.exception("could not process a message on %s; reconnecting", message.topic)
                close_old_connections()
                self.reconnect()
                return
            else:
                self.processed += 1
            self.ack(number, message)

    def refuse(self, message, exc):
        self.rejected += 1
        log.warning("refused message on %s: %s", message.topic, getattr(exc, "fields", None) or exc)

    def ack(self, number, message):
        if number == self.connection:  # else the broker re-sends it on the new connection
            self.client.ack(message.mid, message.qos)

    # -- the loop ------------------------------------------------------------------------------
    def connect(self):
        """Unreachable: raises. A persistent session either way (v5: clean_start=False and a
        session that never expires; 3.1.1: clean_session=False)."""
        if not self.v5:
            return self.client.connect(self.host, self.port, keepalive=30)
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        properties.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        return self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=properties)

    def reconnect(self):
        """Drop the connection so that the broker re-sends what is not acked; connect again."""
        self.client.disconnect()
        self.inbox.clear()  # they come again on the new connection
        backoff = 1
        while not self.stopping:
            try:
                self.client.reconnect()
                return
            except OSError as exc:
                log.warning("broker unreachable (%s); retrying", exc)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30)

    def receive(self, timeout):
        """One turn of paho's loop in this thread (acks out, keepalive), then every packet
        already waiting on the socket. True while the connection is fine."""
        if self.client.loop(timeout=timeout) != mqtt.MQTT_ERR_SUCCESS:
            return False
        return self.client.loop_read(max_packets=self.batch_size) == mqtt.MQTT_ERR_SUCCESS

    def next_batch(self):
        """Up to batch_size messages: all that is waiting on the socket, plus what arrives
        within LINGER of the first one (a second without any: an empty batch)."""
        deadline = time.monotonic() + LINGER if self.inbox else None
        while len(self.inbox) < self.batch_size and not self.stopping:
            waiting = len(self.inbox)
            left = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            if not self.receive(timeout=left):
                break
            if deadline is None:
                if not self.inbox:
                    break
                deadline = time.monotonic() + LINGER
            elif left == 0 and len(self.inbox) == waiting:
                break  # the linger is over and nothing more is waiting
        batch, self.inbox[:] = self.inbox[: self.batch_size], self.inbox[self.batch_size :]
        # Messages of an earlier connection come again on this one (not acked yet).
        return [(number, message) for number, message in batch if number == self.connection]

    def run(self):
        """One thread: paho's network loop and the batches take turns (no lock ping-pong
        between a network thread and the database work)."""
        signal.signal(signal.SIGTERM, lambda *args: self.stop())
        self.connect()
        try:
            while not self.stopping:
                if not self.client.is_connected():
                    self.reconnect_after_network_error()
                batch = self.next_batch()
                if batch:
                    self.process(batch)
                self.maybe_sweep()
        finally:
            self.client.disconnect()

    def reconnect_after_network_error(self):
        time.sleep(1)
        self.reconnect()

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
