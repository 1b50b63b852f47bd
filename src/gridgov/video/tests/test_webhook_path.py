"""The short path of one new alarm (alarms.insert_new_alarm) and the lean webhook view.

A message that starts a new event is stored by a conditional INSERT (with its timeline row
and live event); everything else falls back to the batch path. These tests hold the short
path to the batch path's results, count its statements, and check the webhook's answers.
"""

import json

import pytest
from django.db import DataError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from drf_spectacular.generators import SchemaGenerator

from gridgov.screen.models import LiveEvent
from gridgov.video.alarms import ingest_many
from gridgov.video.models import Alarm, AlarmEvent, AlarmFlood, AlarmSource, AlarmStatus, RuleAction, WebhookInbox
from gridgov.video.parsers import parse_sensor_alarm
from gridgov.video.services import ingest
from gridgov.video.signing import signed_headers

from .pushes import drain
from .test_alarms import NIGHT, sensor

pytestmark = pytest.mark.django_db
COMPARED = [field.attname for field in Alarm._meta.concrete_fields if field.attname not in ("id", "external_id", "payload")]


def stored(alarm):
    """An alarm as stored: its row, its timeline and its live event, without ids."""
    row = Alarm.objects.filter(pk=alarm.pk).values(*COMPARED).get()
    timeline = list(AlarmEvent.objects.filter(alarm_id=alarm.pk).values_list("action", "data"))
    live = [
        {key: value for key, value in data.items() if key != "id"}
        for data in LiveEvent.objects.filter(kind="video_alarm").values_list("data", flat=True)
        if data["id"] == alarm.pk
    ]
    return row, timeline, live


def message(event_id, **fields):
    return parse_sensor_alarm({**sensor(event_id=event_id), **fields})


def writes(captured):
    """The statements that did the work (savepoints are the test transaction's)."""
    return [query["sql"] for query in captured if "SAVEPOINT" not in query["sql"]]


@pytest.mark.parametrize(
    "fields",
    [
        {},  # a sensor at its own position
        {"device_id": "", "camera": "front_gate", "kind": "person", "lon": None, "lat": None},  # at its camera
        {"lon": None, "lat": None, "zones": ["gate"]},  # no position at all
    ],
)
def test_a_new_alarm_is_stored_as_the_batch_path_stores_it(cameras, rule, fields):
    rule(label="person", action=RuleAction.LOG_ONLY)
    now = NIGHT
    short = ingest(message("short", **fields), now=now)
    batched, _other = ingest_many([message("batched", **fields), message("other", device_id="OTHER")], now=now)
    assert short.pk != batched.pk
    assert stored(short) == stored(batched)
    row, timeline, live = stored(short)
    assert timeline == [("received", {"rule": short.rule_id, "status": AlarmStatus.LOGGED})] and len(live) == 1


def test_a_new_alarm_is_one_statement_on_postgresql_and_three_on_sqlite(region_tree):
    ingest(message("warms the per-process caches (rules, locator)"))
    with CaptureQueriesContext(connection) as captured:
        alarm = ingest(message("counted"))
    statements = writes(captured)
    if connection.vendor == "postgresql":
        # The alarm, its timeline row, its live event and NOTIFY: one round trip.
        assert len(statements) == 1 and statements[0].startswith("WITH new_alarm AS (INSERT")
    else:
        assert [sql.split()[2] for sql in statements] == ['"video_alarm"', '"video_alarmevent"', '"screen_liveevent"']
    assert alarm.status == AlarmStatus.LOGGED and AlarmEvent.objects.filter(alarm=alarm).count() == 1


def test_a_repeated_event_falls_back_to_the_update_and_writes_nothing_twice(region_tree):
    first = ingest(message("again", value=0.5))
    again = ingest(message("again", value=0.9))
    assert again.pk == first.pk
    alarm = Alarm.objects.get()
    assert (alarm.updates, alarm.value) == (2, 0.9)
    assert list(AlarmEvent.objects.values_list("action", flat=True)) == ["received"]
    assert LiveEvent.objects.filter(kind="video_alarm").count() == 1


def test_at_the_flood_limit_the_insert_declines_and_the_batch_path_suppresses(settings, region_tree, rule, media):
    settings.GRIDGOV_VIDEO = {"flood_limit": 2, "flood_minutes": 10}
    rule(label="smoke")
    alarms = [ingest(message(f"flood-{n}", at=(NIGHT.replace(minute=n)).isoformat())) for n in range(3)]
    assert [alarm.status for alarm in alarms] == [AlarmStatus.CASE_OPENED, AlarmStatus.CASE_OPENED, AlarmStatus.SUPPRESSED]
    assert [flood.suppressed for flood in AlarmFlood.objects.all()] == [1]
    assert list(AlarmEvent.objects.filter(alarm=alarms[2]).values_list("action", flat=True)) == ["suppressed"]
    # A suppressed alarm is not announced on the live bus.
    assert LiveEvent.objects.filter(kind="video_alarm").count() == 2


def test_a_refused_alarm_inside_a_transaction_leaves_that_transaction_usable(region_tree):
    """PostgreSQL refuses NUL in jsonb; SQLite stores it. Either way the caller goes on."""
    with transaction.atomic():
        try:
            ingest(message("nul", note="a\u0000b"))
        except DataError:
            assert connection.vendor == "postgresql"
        else:
            assert connection.vendor == "sqlite"
        assert Alarm.objects.filter(external_id="nul").count() == (0 if connection.vendor == "postgresql" else 1)


# -- the view ----------------------------------------------------------------------------------
SECRET = "webhook-path-secret"


@pytest.fixture
def platform(db):
    return AlarmSource.objects.create(code="iot-platform", name="物联平台", kind="webhook", secret=SECRET)


def signed_meta(raw):
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers("iot-platform", SECRET, raw).items()}


def test_the_webhook_needs_no_csrf_token_and_answers_compact_json(region_tree, platform):
    raw = json.dumps({"event_id": "csrf-1", "device_id": "WL-3", "kind": "water_level"}).encode()
    response = Client(enforce_csrf_checks=True).post("/api/v1/alarms/webhook/", raw, content_type="application/json", **signed_meta(raw))
    inbox = WebhookInbox.objects.get()
    assert response.status_code == 202 and response["Content-Type"] == "application/json"
    assert response.content == f'{{"id":{inbox.pk},"status":"queued"}}'.encode()
    drain()
    assert Alarm.objects.get().status == AlarmStatus.LOGGED


def test_webhook_errors_keep_the_api_format(region_tree, platform):
    raw = b"[1, 2]"
    response = Client().post("/api/v1/alarms/webhook/", raw, content_type="application/json", **signed_meta(raw))
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_json", "message": "请发送 JSON 对象。", "fields": {"body": ["请发送 JSON 对象。"]}}
    response = Client().get("/api/v1/alarms/webhook/")
    assert response.status_code == 405 and response.json()["code"] == "method_not_allowed"
    assert WebhookInbox.objects.count() == 0


@pytest.mark.parametrize("extra", [{"note": "a\u0000b"}, {"detail": {"k\u0000": 1}}, {"list": ["x", "\u0000"]}])
def test_a_nul_character_anywhere_in_the_body_is_a_clear_400(region_tree, platform, extra):
    """PostgreSQL stores no NUL in text or jsonb: refused up front, on both databases, with the
    field named, instead of failing as a server error while storing the payload."""
    raw = json.dumps({"event_id": "nul-1", "device_id": "WL-4", "kind": "water_level", **extra}).encode()
    assert b"\\u0000" in raw
    response = Client().post("/api/v1/alarms/webhook/", raw, content_type="application/json", **signed_meta(raw))
    assert response.status_code == 400
    assert response.json()["code"] == "nul_character" and list(response.json()["fields"]) == ["body"]
    assert WebhookInbox.objects.count() == 0


def test_a_nul_character_in_an_mqtt_message_is_refused_as_bad_input():
    from gridgov.core.errors import ValidationFailed
    from gridgov.video.ingest import parse_message

    payload = json.dumps({"device_id": "SMK-1", "kind": "smoke", "event_id": "e\u0000"}).encode()
    with pytest.raises(ValidationFailed) as refusal:
        parse_message("gridgov/alarms/SMK-1", payload)
    assert refusal.value.code == "nul_character"
    quoted = json.dumps({"device_id": "SMK-1", "kind": "smoke", "event_id": "e1", "note": "\\u0000 as text"}).encode()
    assert parse_message("gridgov/alarms/SMK-1", quoted).external_id == "e1"  # a backslash, not a NUL


def test_the_webhook_keeps_its_schema():
    operation = SchemaGenerator().get_schema(public=True)["paths"]["/api/v1/alarms/webhook/"]["post"]
    assert operation["summary"] == "Push one alarm (HMAC-signed)"
    assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/WebhookAlarmRequest")
    assert "202" in operation["responses"] and "200" not in operation["responses"]
