"""Batched intake: folding inside a batch, and the worker's ack-after-commit and fallback
(a fake MQTT client; the real broker is in test_ingest_broker.py)."""

import datetime as dt
import json
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import DataError, OperationalError, connection

from gridgov.cases.models import Case
from gridgov.video import ingest as ingest_module
from gridgov.video.alarms import ingest_many
from gridgov.video.ingest import IngestWorker
from gridgov.video.models import Alarm, AlarmEvent, AlarmStatus
from gridgov.video.parsers import parse_frigate_event

from .test_alarms import frigate_event

NIGHT = dt.datetime(2026, 11, 27, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.django_db
def test_new_update_end_of_one_event_in_one_batch_fold_in_order(cameras, rule, media):
    rule(label="person", zone="gate")
    other = frigate_event(event_id="other", label="person", current_zones=["gate"])
    messages = [
        frigate_event("new"),
        other,
        frigate_event("update", current_zones=["gate"], top_score=0.93),
        frigate_event("end", end_time=NIGHT.timestamp() + 20, entered_zones=["yard"]),
    ]
    alarms = ingest_many([parse_frigate_event(message) for message in messages])
    assert alarms[0].pk == alarms[2].pk == alarms[3].pk != alarms[1].pk
    alarm = Alarm.objects.get(external_id="1700000000.1-abc")
    # Logged when new (no zone yet), re-decided when it entered the zone: a case.
    assert (alarm.updates, alarm.status, alarm.zones, alarm.score) == (3, AlarmStatus.CASE_OPENED, ["gate", "yard"], 0.93)
    assert alarm.ended_at is not None and alarm.case is not None
    assert [e.action for e in AlarmEvent.objects.filter(alarm=alarm).order_by("id")] == ["received", "ended", "case_opened"]
    assert Case.objects.count() == 2 and Alarm.objects.count() == 2


class FakeClient:
    """Records acks, and what was committed when each write of acks went out."""

    def __init__(self):
        self.acked = []
        self.writes = 0

    def ack_many(self, mids):
        stored = set(Alarm.objects.values_list("external_id", flat=True))
        self.writes += 1
        self.acked += [(mid, connection.in_atomic_block, stored) for mid in mids]

    def disconnect(self):
        pass

    def reconnect(self):
        pass


def worker_with_fake_client():
    worker = IngestWorker("mqtt://127.0.0.1:1", client_id="test")
    worker.client = FakeClient()
    worker.connection = 1
    return worker


def batch(*event_ids):
    return [(1, SimpleNamespace(topic="frigate/events", payload=json.dumps(frigate_event(event_id=event_id)), mid=n + 1, qos=1))
            for n, event_id in enumerate(event_ids)]


@pytest.mark.django_db(transaction=True)
def test_acks_go_out_after_the_batch_committed(cameras, rule, media):
    rule(label="person")
    worker = worker_with_fake_client()
    messages = batch("a", "b", "c")
    messages.insert(1, (1, SimpleNamespace(topic="frigate/events", payload=b"{not json", mid=9, qos=1)))
    worker.process(messages)
    acked = worker.client.acked
    # Every message, the refused one too, in the order received, in one write after the commit.
    assert [mid for mid, _in_transaction, _stored in acked] == [1, 9, 2, 3]
    assert all(not in_transaction and {"a", "b", "c"} <= stored for _mid, in_transaction, stored in acked)
    assert worker.client.writes == 1
    assert (worker.processed, worker.rejected) == (3, 1) and Case.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_acks_leave_out_messages_of_an_earlier_connection(cameras, rule, media):
    rule(label="person")
    worker = worker_with_fake_client()
    messages = batch("a", "b")
    worker.connection = 2  # reconnected since "a" arrived: the broker sends it again
    worker.process([(1, messages[0][1]), (2, messages[1][1])])
    assert [mid for mid, _t, _s in worker.client.acked] == [2]


@pytest.mark.django_db(transaction=True)
def test_a_message_the_database_refuses_does_not_cost_the_rest_of_its_batch(cameras, rule, media, monkeypatch):
    real = ingest_module.ingest_many

    def refusing(incomings, **kwargs):
        if any(incoming.external_id == "bad" for incoming in incomings):
            raise DataError("refused by the database")
        return real(incomings, **kwargs)

    monkeypatch.setattr(ingest_module, "ingest_many", refusing)
    rule(label="person")
    worker = worker_with_fake_client()
    worker.process(batch("a", "bad", "c"))
    assert set(Alarm.objects.values_list("external_id", flat=True)) == {"a", "c"}
    assert sorted(mid for mid, _t, _s in worker.client.acked) == [1, 2, 3]  # the bad one is refused, logged and acked
    assert (worker.processed, worker.rejected) == (2, 1)


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_not_acked_and_reconnects(cameras, rule, media, monkeypatch):
    def down(incomings, **kwargs):
        raise OperationalError("the database is down")

    reconnects = []
    monkeypatch.setattr(ingest_module, "ingest_many", down)
    worker = worker_with_fake_client()
    monkeypatch.setattr(worker, "reconnect", lambda: reconnects.append(1))
    worker.process(batch("a", "b"))
    assert worker.client.acked == [] and reconnects == [1] and worker.rejected == 0


@pytest.mark.django_db(transaction=True)
def test_an_outage_in_the_middle_of_a_retried_batch_acks_only_what_was_stored(cameras, rule, media, monkeypatch):
    real = ingest_module.ingest_many

    def down_at_b(incomings, **kwargs):
        if any(incoming.external_id == "b" for incoming in incomings):
            raise OperationalError("the database went down")
        return real(incomings, **kwargs)

    reconnects = []
    monkeypatch.setattr(ingest_module, "ingest_many", down_at_b)
    rule(label="person")
    worker = worker_with_fake_client()
    monkeypatch.setattr(worker, "reconnect", lambda: reconnects.append(1))
    worker.process(batch("a", "b", "c"))
    assert set(Alarm.objects.values_list("external_id", flat=True)) == {"a"}
    assert [mid for mid, in_transaction, stored in worker.client.acked if not in_transaction and "a" in stored] == [1]
    assert len(worker.client.acked) == 1 and reconnects == [1]


@pytest.mark.django_db
def test_a_batch_opens_no_second_case_for_an_alarm_another_worker_already_finished(cameras, rule, media):
    from gridgov.video.alarms import open_cases, record_alarm

    rule(label="person")
    now = NIGHT
    first = record_alarm(parse_frigate_event(frigate_event(event_id="one")), now=now)
    second = record_alarm(parse_frigate_event(frigate_event(event_id="two")), now=now)
    assert first.status == second.status == AlarmStatus.PENDING
    open_cases([(first, None)], now)  # the other worker
    stale_first = Alarm.objects.get(pk=first.pk)
    stale_first.status = AlarmStatus.PENDING  # this worker's copy, read before
    opened = open_cases([(stale_first, None), (second, None)], now)
    assert Case.objects.count() == 2
    assert {pk: alarm.status for pk, alarm in opened.items()} == {first.pk: AlarmStatus.CASE_OPENED, second.pk: AlarmStatus.CASE_OPENED}
    assert opened[first.pk].case_id == Alarm.objects.get(pk=first.pk).case_id
    assert AlarmEvent.objects.filter(action="case_opened").count() == 2


def delete_behind_the_cache(rule):
    """Delete a rule as another process would: no signal reaches this process's rule cache."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM video_alarmrule WHERE id = %s", [rule.pk])


@pytest.mark.django_db(transaction=True)
def test_a_rule_deleted_by_another_process_costs_no_message(cameras, rule, media):
    """The cached rule fails the alarm's foreign key at commit; the retry decides again with
    the rules as they are now, so the alarm is stored (only logged), not refused."""
    from gridgov.video.alarms import active_rules

    deleted = rule(label="person")
    assert active_rules() == [deleted]  # cached for RULES_TTL seconds
    delete_behind_the_cache(deleted)
    worker = worker_with_fake_client()
    worker.process(batch("a", "b"))
    assert (worker.processed, worker.rejected) == (2, 0)
    assert sorted(Alarm.objects.values_list("external_id", "rule_id", "status")) == [
        ("a", None, AlarmStatus.LOGGED), ("b", None, AlarmStatus.LOGGED),
    ]
    assert sorted(mid for mid, _t, _s in worker.client.acked) == [1, 2]
