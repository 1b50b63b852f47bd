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
  batch (paho 2 `manual_ack=True`), all its PUBACKs in one write, in the order received.
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
import struct
import time
from urllib.parse import unquote, urlparse

import orjson
import paho.mqtt.client as mqtt
from django.db import DataError, IntegrityError, close_old_connections, transaction
from django.utils import timezone
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridgov.core.errors import ValidationFailed

from . import settings as video_settings
from .alarms import clear_rules_cache, ingest_many, retry_pending_cases
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
REFUSED = object()  # a parse result: the message was refused (logged, counted, acked with its batch)
CONNACK_SECONDS = 30  # how long connect() waits for the broker's answer


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


class Message:
    """A received PUBLISH as the worker reads it (paho's MQTTMessage also builds an
    MQTTMessageInfo with a threading.Condition for every message: a tenth of the
    worker's CPU with a backlog)."""

    __slots__ = ("topic", "payload", "mid", "qos", "dup", "retain", "properties", "timestamp")

    def __init__(self, topic, payload, mid, qos, dup, retain, properties, timestamp):
        self.topic, self.payload, self.mid, self.qos = topic, payload, mid, qos
        self.dup, self.retain, self.properties, self.timestamp = dup, retain, properties, timestamp


PUBLISH, PUBACK = 0x30, 0x40
PUBACK_PACKET = struct.Struct("!BBH")  # type, remaining length 2, packet id (v5: reason 0 may be left out)
READ_SIZE = 1 << 18  # bytes asked of the socket per read: some 350 Frigate messages


class IngestClient(mqtt.Client):
    """paho's client with the worker's receive path and batched acks; paho still connects,
    subscribes, keeps the connection alive and handles every packet but a plain PUBLISH.

    - Reading: paho reads each packet with three or more socket calls (the type byte, each
      byte of the length, the rest) and then selects again; here one read takes whatever is
      waiting (up to READ_SIZE) and is split into packets, a partial packet kept for the
      next read.
    - A QoS 0/1 PUBLISH without v5 properties (what Frigate and our sensors send) becomes
      a `Message` here; paho 2 would build an MQTTMessage with its Condition, and for v5
      also a `Properties` object whose constructor rebuilds its tables (about 60 us).
      Anything else (properties, a topic alias, QoS 2, CONNACK, SUBACK, PINGRESP, ...)
      goes to paho's own handler as if paho had read it.
    - `ack_many`: the PUBACKs of a batch in one write through paho's output queue (paho
      writes each with its own send and wakes its socket pair with another)."""

    _no_properties = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._unread = b""  # the start of a packet whose rest has not arrived yet

    def reconnect(self):
        self._unread = b""  # a partial packet of the old connection never completes
        return super().reconnect()

    def _packet_read(self):
        """Called by paho's loop when the socket is readable: every whole packet waiting."""
        try:
            data = self._sock_recv(READ_SIZE)
        except BlockingIOError:
            return mqtt.MQTT_ERR_AGAIN
        except OSError as exc:
            log.warning("failed to receive from the broker: %s", exc)
            return mqtt.MQTT_ERR_CONN_LOST
        if not data:
            return mqtt.MQTT_ERR_CONN_LOST
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        if self._unread:
            data = self._unread + data
        self._unread = b""
        sock, pos, end, rc = self._sock, 0, len(data), mqtt.MQTT_ERR_SUCCESS
        while end - pos >= 2:
            # Fixed header: the type byte, then the remaining length in 1-4 bytes of 7 bits.
            length, shift, at = 0, 0, pos + 1
            while at < end and data[at] & 0x80:
                length |= (data[at] & 0x7F) << shift
                shift, at = shift + 7, at + 1
                if shift > 21:
                    return mqtt.MQTT_ERR_PROTOCOL
            if at >= end:
                break  # the length is not complete yet
            length |= data[at] << shift
            at += 1
            if at + length > end:
                break
            rc = self._handle_packet(data[pos], data[at : at + length])
            pos = at + length
            if rc != mqtt.MQTT_ERR_SUCCESS or self._sock is not sock:
                return rc  # an error, or paho closed or replaced the connection: the rest is void
        self._unread = data[pos:]
        return rc

    def _handle_packet(self, header, body):
        if header & 0xF0 == PUBLISH:
            message = self._plain_publish(header, body)
            if message is not None:
                if self._on_message_filtered._root._children:  # topic callbacks: paho's dispatch
                    self._handle_on_message(message)
                else:
                    self.on_message(self, self._userdata, message)
                return mqtt.MQTT_ERR_SUCCESS
        self._in_packet = {
            "command": header, "have_remaining": 1, "remaining_count": [], "remaining_mult": 1,
            "remaining_length": len(body), "packet": bytearray(body), "to_process": 0, "pos": 0,
        }
        try:
            return self._packet_handle()
        except MalformedPacket as exc:
            log.warning("malformed packet from the broker: %s", exc)
            return mqtt.MQTT_ERR_PROTOCOL
        finally:
            self._in_packet = {
                "command": 0, "have_remaining": 0, "remaining_count": [], "remaining_mult": 1,
                "remaining_length": 0, "packet": bytearray(b""), "to_process": 0, "pos": 0,
            }

    def _plain_publish(self, header, body):
        """A Message for a QoS 0/1 PUBLISH without v5 properties, else None (paho decodes it)."""
        qos = (header & 0x06) >> 1
        if qos > 1 or len(body) < 3 or (self._manual_ack is False and qos == 1):
            return None  # paho's handler also sends the PUBACK of an automatic ack
        topic_end = 2 + ((body[0] << 8) | body[1])
        at = topic_end + (2 if qos else 0)  # after the packet id
        if topic_end == 2 or at > len(body):
            return None  # an empty topic (v5 topic alias) or a malformed packet
        properties = None
        if self._protocol == mqtt.MQTTv5:
            if at >= len(body) or body[at] != 0:
                return None  # properties: paho decodes them
            at += 1
            properties = self.empty_properties()
        try:
            topic = body[2:topic_end].decode()
        except UnicodeDecodeError:
            return None
        mid = (body[topic_end] << 8) | body[topic_end + 1] if qos else 0
        return Message(topic, body[at:], mid, qos, bool(header & 0x08), bool(header & 0x01), properties, mqtt.time_func())

    @classmethod
    def empty_properties(cls):
        if cls._no_properties is None:
            cls._no_properties = Properties(PacketTypes.PUBLISH)
        return cls._no_properties

    def ack_many(self, mids):
        """PUBACKs for these QoS 1 messages, in this order, in one write."""
        if not mids:
            return mqtt.MQTT_ERR_SUCCESS
        pack = PUBACK_PACKET.pack
        return self._packet_queue(PUBACK, b"".join([pack(PUBACK, 2, mid) for mid in mids]), 0, 0)


class IngestWorker:
    def __init__(self, url, *, client_id=None, prefix="", sweep_seconds=60, out=None, batch_size=BATCH_SIZE):
        self.host, self.port, user, password = broker_address(url)
        self.prefix = prefix
        self.sweep_seconds = sweep_seconds
        self.batch_size = batch_size
        self.out = out
        self.stopping = False
        self.refusal = None  # the broker's reason code when it refused the connection
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
            self.refusal = reason_code
            return
        self.connection += 1
        client.subscribe([(self.prefix + topic, 1) for topic in TOPICS])

    def on_subscribe(self, client, userdata, mid, reason_codes, properties):
        self.say(f"ingest: subscribed to {', '.join(self.prefix + t for t in TOPICS)}")

    def on_message(self, client, userdata, message):
        self.inbox.append((self.connection, message))

    # -- batches --------------------------------------------------------------------------------
    def process(self, batch):
        """Parse, store in one go, then ack every message of the batch (stored, ignored or
        refused) in one write, in the order received. A failed batch is retried one
        message at a time."""
        close_old_connections()
        self.batches += 1
        parsed = [self.parse(message) for _number, message in batch]
        try:
            store([item for item in parsed if item is not REFUSED])
        except Exception:
            log.warning("a batch of %d messages failed; retrying one at a time", len(parsed), exc_info=True)
            close_old_connections()
            # A rule deleted by another process within the cache's lifetime fails the alarm's
            # foreign key at commit: the retry decides with the rules as they are now.
            clear_rules_cache()
            return self.process_one_by_one(batch, parsed)
        self.processed += sum(item is not REFUSED for item in parsed)
        self.ack(batch)

    def parse(self, message):
        try:
            return parse_message(message.topic, message.payload, prefix=self.prefix)
        except REFUSALS as exc:
            self.refuse(message, exc)
            return REFUSED

    def process_one_by_one(self, batch, parsed):
        for done, ((_number, message), item) in enumerate(zip(batch, parsed, strict=True)):
            if item is REFUSED:
                continue
            try:
                store([item])
            except (*REFUSALS, *DATA_REFUSALS) as exc:
                self.refuse(message, exc)
            except Exception:
                # The database or a bug, not the message: no ack; the broker re-sends it.
                log.exception("could not process a message on %s; reconnecting", message.topic)
                self.ack(batch[:done])  # what is stored or refused so far
                close_old_connections()
                self.reconnect()
                return
            else:
                self.processed += 1
        self.ack(batch)

    def refuse(self, message, exc):
        self.rejected += 1
        log.warning("refused message on %s: %s", message.topic, getattr(exc, "fields", None) or exc)

    def ack(self, batch):
        """The PUBACKs of these messages in one write (only ever after what they carried
        committed). Messages of an earlier connection are left out: the broker re-sends
        them on the new one."""
        mids = [message.mid for number, message in batch if number == self.connection and message.qos == 1]
        if mids:
            self.client.ack_many(mids)

    # -- the loop ------------------------------------------------------------------------------
    def connect(self):
        """Unreachable: raises. A persistent session either way (v5: clean_start=False and a
        session that never expires; 3.1.1: clean_session=False)."""
        if not self.v5:
            self.client.connect(self.host, self.port, keepalive=30)
            return self.await_connack()
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        properties.SessionExpiryInterval = SESSION_NEVER_EXPIRES
        self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=properties)
        self.await_connack()

    def await_connack(self):
        """Drive the loop until the broker accepted the connection; raises (an OSError) if it
        refuses or does not answer. (Returning before the CONNACK made run() take the
        connection for lost: a second's sleep and a needless reconnect at every start.)"""
        self.refusal = None
        deadline = time.monotonic() + CONNACK_SECONDS
        while not self.client.is_connected():
            if self.refusal is not None:
                raise ConnectionRefusedError(f"the broker refused the connection: {self.refusal}")
            if time.monotonic() > deadline:
                raise TimeoutError("the broker did not answer the connection")
            if self.client.loop(timeout=0.1) != mqtt.MQTT_ERR_SUCCESS and self.refusal is None:
                raise ConnectionError("the connection to the broker was lost while connecting")

    def reconnect(self):
        """Drop the connection so that the broker re-sends what is not acked; connect again."""
        self.client.disconnect()
        self.inbox.clear()  # they come again on the new connection
        backoff = 1
        while not self.stopping:
            try:
                self.client.reconnect()
                self.await_connack()
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
        self.say(f"ingest: connecting to {self.host}:{self.port}")
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
