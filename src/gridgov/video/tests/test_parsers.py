"""The worker's parsing: the payload kept for the record, and the JSON decoder's refusals."""

import json
import math

import pytest

from gridgov.video.ingest import parse_message
from gridgov.video.parsers import PAYLOAD_LIMIT, parse_frigate_event, parse_sensor_alarm, trimmed

from .test_alarms import frigate_event, sensor

THUMBNAIL = "A" * 20000  # a base64 JPEG in an older Frigate's event


def test_a_message_that_came_within_the_limit_is_kept_as_it_came():
    message = frigate_event(note="x" * 600)  # long, but the whole message is small
    body = json.dumps(message).encode()
    assert len(body) <= PAYLOAD_LIMIT
    alarm = parse_message("frigate/events", body)
    assert alarm.payload == message


def test_a_big_message_loses_its_huge_fields_and_keeps_the_rest():
    message = frigate_event(thumbnail=THUMBNAIL, box=list(range(80)))
    alarm = parse_message("frigate/events", json.dumps(message).encode())
    assert "thumbnail" not in alarm.payload["after"] and "thumbnail" not in alarm.payload["before"]
    assert alarm.payload["after"]["box"] == list(range(50))
    assert alarm.payload["after"]["id"] == message["after"]["id"] and alarm.payload["type"] == "new"


def test_a_message_still_too_big_without_its_huge_fields_is_only_marked():
    message = frigate_event(**{f"key{n}": "y" * 400 for n in range(40)})
    assert parse_message("frigate/events", json.dumps(message).encode()).payload == {"truncated": True}


def test_without_a_size_the_payload_is_always_trimmed():
    # The webhook and the tests call the parsers with a decoded message only.
    message = frigate_event(note="x" * 600)
    assert "note" not in parse_frigate_event(message).payload["after"]
    assert trimmed({"a": [1] * 60}) == {"a": [1] * 50}


def test_the_inline_snapshot_is_never_kept_in_the_payload():
    message = sensor(snapshot="QUJD")
    alarm = parse_sensor_alarm(message, size=len(json.dumps(message)))
    assert alarm.snapshot == b"ABC" and "snapshot" not in alarm.payload and alarm.payload["event_id"] == "s-1"
    assert "snapshot" in message  # the caller's dict is left as it was


@pytest.mark.parametrize("body", [b"{not json", b'{"type": "new", "after": {"score": NaN}}', b'{"after": "\xff"}', b"[1, 2"])
def test_what_the_decoder_refuses_is_a_value_error(body):
    # The worker refuses (logs, counts, acks) ValueErrors; a NaN would not be a finite score anyway.
    with pytest.raises(ValueError):
        parse_message("frigate/events", body)


def test_numbers_and_text_decode_as_before():
    message = frigate_event(top_score=0.8125, start_time=1764288000.25, sub_label=["名字", 0.9])
    alarm = parse_message("frigate/events", json.dumps(message, ensure_ascii=False).encode())
    assert alarm.score == 0.8125 and math.isclose(alarm.started_at.timestamp(), 1764288000.25)
    assert alarm.sub_label == "名字" and alarm.payload == message
