"""IngestClient (the worker's paho client with its own receive path: big reads split into
packets, plain PUBLISH packets decoded without paho's per-message objects, acks in one
write) receives exactly what paho's own client receives, from the real Mosquitto; packets
split anywhere between reads come out whole."""

import os
import socket
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridgov.video.ingest import IngestClient, IngestWorker, broker_address

broker = pytest.mark.broker
PROTOCOLS = pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["3.1.1", "5"])


def subscriber(client_class, topic, protocol=mqtt.MQTTv5):
    host, port, _user, _password = broker_address(os.environ["MQTT_URL"])
    client = client_class(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-sub-{uuid.uuid4().hex[:8]}",
                          protocol=protocol, manual_ack=True)
    client.received = []

    def on_message(client, userdata, message):
        client.received.append(message)
        client.ack(message.mid, message.qos)

    client.on_message = on_message
    client.connect(host, port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    return client


def user_properties():
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = ("site", "1")
    properties.ContentType = "application/json"
    return properties


def seen(message):
    properties = message.properties.json() if message.properties is not None else None
    return (message.topic, bytes(message.payload), message.qos, message.retain, properties)


@broker
@PROTOCOLS
def test_ingest_client_receives_what_paho_receives(protocol):
    prefix = f"t{uuid.uuid4().hex[:8]}/"
    ours, paho = subscriber(IngestClient, prefix + "#", protocol), subscriber(mqtt.Client, prefix + "#", protocol)
    host, port, _user, _password = broker_address(os.environ["MQTT_URL"])
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
    publisher.connect(host, port)
    publisher.loop_start()
    try:
        time.sleep(0.5)  # both subscriptions are in place
        sent = [
            (prefix + "frigate/events", b'{"type": "new"}', 1, None),
            (prefix + "gridgov/heartbeat/cam1", b"", 1, None),
            (prefix + "qos0", b"zero", 0, None),
            (prefix + "with/properties", "名字".encode(), 1, user_properties()),
            (prefix + "long/" + "x" * 300, b"y" * 70000, 1, None),  # multi-byte lengths
        ]
        for topic, payload, qos, properties in sent:
            publisher.publish(topic, payload, qos=qos, properties=properties).wait_for_publish(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and min(len(ours.received), len(paho.received)) < len(sent):
            time.sleep(0.05)
    finally:
        for client in (publisher, ours, paho):
            client.loop_stop()
            client.disconnect()
    assert sorted(map(seen, ours.received), key=repr) == sorted(map(seen, paho.received), key=repr)
    assert len(ours.received) == len(sent)
    by_topic = {message.topic: message for message in ours.received}
    if protocol == mqtt.MQTTv5:
        assert by_topic[prefix + "with/properties"].properties.json()["UserProperty"] == [("site", "1")]
        # The plain messages took the short way (no Properties built per message).
        assert by_topic[prefix + "frigate/events"].properties is IngestClient.empty_properties()
        assert by_topic[prefix + "qos0"].properties is IngestClient.empty_properties()
    assert not isinstance(by_topic[prefix + "frigate/events"], mqtt.MQTTMessage)


def remaining_length(n):
    encoded = bytearray()
    while True:
        n, byte = n >> 7, n & 0x7F
        encoded.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(encoded)


def publish_packet(topic, payload, mid, *, v5, properties=b""):
    """A QoS 1 PUBLISH as the broker sends it (v5: property length, then the properties)."""
    body = len(topic).to_bytes(2, "big") + topic + mid.to_bytes(2, "big")
    if v5:
        body += remaining_length(len(properties)) + properties
    body += payload
    return bytes([0x32]) + remaining_length(len(body)) + body


@PROTOCOLS
@pytest.mark.parametrize("chunk", [1, 2, 7, 300, 100_000])
def test_packets_split_anywhere_between_reads_come_out_whole(protocol, chunk):
    """A real socket pair stands in for the broker: the bytes arrive in chunks of every
    size, a packet's length field itself split across reads."""
    client = IngestClient(mqtt.CallbackAPIVersion.VERSION2, client_id="split", protocol=protocol, manual_ack=True)
    received = []
    client.on_message = lambda client, userdata, message: received.append(message)
    ours, broker_end = socket.socketpair()
    ours.setblocking(False)
    client._sock = ours
    v5 = protocol == mqtt.MQTTv5
    content_type = b"\x03" + len(b"application/json").to_bytes(2, "big") + b"application/json"
    expected = [("a/frigate/events", b'{"type": "new"}', 1), ("a/heartbeat/" + "c" * 200, b"x" * 20_000, 2),
                ("a/props", b"{}", 3), ("a/empty", b"", 4)]
    stream = b"".join([
        publish_packet(b"a/frigate/events", b'{"type": "new"}', 1, v5=v5),
        bytes([0xD0, 0x00]),  # a PINGRESP in between: paho's own handler
        publish_packet(("a/heartbeat/" + "c" * 200).encode(), b"x" * 20_000, 2, v5=v5),  # a 3-byte length field
        publish_packet(b"a/props", b"{}", 3, v5=v5, properties=content_type if v5 else b""),
        publish_packet(b"a/empty", b"", 4, v5=v5),
    ])
    try:
        for start in range(0, len(stream), chunk):
            broker_end.sendall(stream[start : start + chunk])
            while client._packet_read() == mqtt.MQTT_ERR_SUCCESS:
                pass
    finally:
        ours.close()
        broker_end.close()
    assert [(message.topic, bytes(message.payload), message.mid) for message in received] == expected
    assert all(message.qos == 1 and not message.dup and not message.retain for message in received)
    if v5:
        assert received[2].properties.json()["ContentType"] == "application/json"  # decoded by paho


def session_subscriber(client_id, topic, protocol):
    """An IngestClient in a persistent session, driven by loop() in this thread."""
    host, port, _user, _password = broker_address(os.environ["MQTT_URL"])
    client = IngestClient(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
                          clean_session=None if protocol == mqtt.MQTTv5 else False, manual_ack=True)
    client.received = []
    client.on_message = lambda client, userdata, message: client.received.append(message)
    if protocol == mqtt.MQTTv5:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 300
        client.connect(host, port, clean_start=False, properties=properties)
    else:
        client.connect(host, port)
    client.subscribe(topic, qos=1)
    return client


def drive(client, until):
    deadline = time.monotonic() + 30
    while not until() and time.monotonic() < deadline:
        client.loop(timeout=0.05)


@broker
@PROTOCOLS
def test_acks_in_one_write_settle_exactly_those_messages(protocol):
    """ack_many acks the messages it names, in one write; the others come again on the
    next connection of the same session (the worker's redelivery after a crash)."""
    prefix, client_id = f"t{uuid.uuid4().hex[:8]}/", f"test-acks-{uuid.uuid4().hex[:8]}"
    client = session_subscriber(client_id, prefix + "#", protocol)
    drive(client, lambda: client.is_connected())
    time.sleep(0.2)  # the subscription is in place
    host, port, _user, _password = broker_address(os.environ["MQTT_URL"])
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    publisher.connect(host, port)
    publisher.loop_start()
    try:
        for n in range(10):
            publisher.publish(f"{prefix}m", str(n).encode(), qos=1).wait_for_publish(10)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
    drive(client, lambda: len(client.received) >= 10)
    assert [message.payload for message in client.received] == [str(n).encode() for n in range(10)]
    writes = []
    real_send = client._sock_send
    client._sock_send = lambda data: writes.append(bytes(data)) or real_send(data)
    client.ack_many([message.mid for message in client.received[:7]])
    assert len(writes) == 1 and len(writes[0]) == 7 * 4  # seven PUBACKs, one send
    client._sock_send = real_send
    time.sleep(0.2)
    client.disconnect()

    again = session_subscriber(client_id, prefix + "#", protocol)
    try:
        drive(again, lambda: len(again.received) >= 3)
        time.sleep(0.3)
        again.loop(timeout=0.1)
        assert sorted(message.payload for message in again.received) == [b"7", b"8", b"9"]
        again.ack_many([message.mid for message in again.received])
    finally:
        again.disconnect()


@broker
@PROTOCOLS
def test_the_worker_is_connected_when_connect_returns(protocol, settings):
    """connect() waits for the broker's CONNACK (before, the worker took the pending
    connection for lost: a second's sleep and a needless reconnect at every start)."""
    settings.GRIDGOV_VIDEO = {"mqtt_protocol": "3.1.1" if protocol == mqtt.MQTTv311 else "5"}
    worker = IngestWorker(os.environ["MQTT_URL"], client_id=f"test-connect-{uuid.uuid4().hex[:8]}")
    try:
        worker.connect()
        assert worker.client.is_connected() and worker.connection == 1
    finally:
        worker.client.disconnect()
