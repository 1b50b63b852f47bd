"""IngestClient (the worker's paho client with its own decoding of plain MQTT v5 PUBLISH
packets) receives exactly what paho's own client receives, from the real Mosquitto."""

import os
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from gridgov.video.ingest import IngestClient, broker_address

pytestmark = pytest.mark.broker


def subscriber(client_class, topic):
    host, port, _user, _password = broker_address(os.environ["MQTT_URL"])
    client = client_class(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-sub-{uuid.uuid4().hex[:8]}",
                          protocol=mqtt.MQTTv5, manual_ack=True)
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
    return (message.topic, message.payload, message.qos, message.retain, message.properties.json())


def test_ingest_client_receives_what_paho_receives():
    prefix = f"t{uuid.uuid4().hex[:8]}/"
    ours, paho = subscriber(IngestClient, prefix + "#"), subscriber(mqtt.Client, prefix + "#")
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
    assert sorted(map(seen, ours.received)) == sorted(map(seen, paho.received))
    assert len(ours.received) == len(sent)
    by_topic = {message.topic: message for message in ours.received}
    assert by_topic[prefix + "with/properties"].properties.json()["UserProperty"] == [("site", "1")]
    # The plain messages took the short way (no Properties built per message).
    assert by_topic[prefix + "frigate/events"].properties is IngestClient.empty_properties()
    assert by_topic[prefix + "qos0"].properties is IngestClient.empty_properties()
