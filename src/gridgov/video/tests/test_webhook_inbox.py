"""The webhook's inbox (store-and-forward, decision 0014): a push that passes every check is
stored and answered 202; the worker's drain records it through alarms.ingest_many.

In-process tests run the drain explicitly (pushes.drain, what the worker does within about
a second); the last tests run the real `gridgov drain-webhooks` and `gridgov worker` as
child processes on a database of their own, one of them killed mid-batch.
"""

import datetime as dt
import json
import logging
import signal
import subprocess
import time

import pytest
from django.test import Client

from gridgov.cases.models import Case
from gridgov.org.roles import Role
from gridgov.screen.models import LiveEvent
from gridgov.screen.overview import build_overview
from gridgov.video import inbox
from gridgov.video.models import Alarm, AlarmEvent, AlarmSource, AlarmStatus, InboxState, WebhookInbox

from .children import DEADLINE, GRIDGOV, child_env, run_child, wait_until
from .pushes import drain, post_json, post_raw

SECRET = "inbox-secret"
SIGNED = {"source": "iot-platform", "secret": SECRET}


@pytest.fixture
def platform(db):
    return AlarmSource.objects.create(code="iot-platform", name="物联平台", kind="webhook", secret=SECRET)


def alarm_body(event_id="e-1", **extra):
    return {"event_id": event_id, "device_id": "WL-3", "kind": "water_level", "value": 1.8, "threshold": 1.2,
            "lon": 117.005, "lat": 36.69, "at": "2026-11-27T23:10:00+08:00", **extra}


@pytest.mark.django_db
class TestAcceptedThenProcessed:
    def test_a_push_is_stored_answered_202_and_recorded_by_the_drain(self, region_tree, platform, rule, media):
        rule(source="iot-platform", label="water_level")
        response = post_json(alarm_body(), **SIGNED)
        row = WebhookInbox.objects.get()
        assert response.status_code == 202 and response.json() == {"id": row.pk, "status": "queued"}
        assert (row.source, row.state, json.loads(row.body)) == ("iot-platform", InboxState.QUEUED, alarm_body())
        assert Alarm.objects.count() == 0 and Case.objects.count() == 0  # nothing synchronous any more

        assert drain() == 1
        alarm = Alarm.objects.get()
        row.refresh_from_db()
        assert (row.state, row.alarm_id, row.error) == (InboxState.PROCESSED, alarm.pk, "")
        assert (alarm.source, alarm.origin, alarm.external_id, alarm.status) == ("iot-platform", "WL-3", "e-1", AlarmStatus.CASE_OPENED)
        assert alarm.case.grid_id == region_tree["grid11"].pk
        assert list(AlarmEvent.objects.filter(alarm=alarm).values_list("action", flat=True)) == ["received", "case_opened"]

    def test_an_alarm_without_its_own_time_started_when_the_push_came(self, region_tree, platform):
        pushed_at = dt.datetime(2026, 11, 28, 3, 0, tzinfo=dt.UTC)
        raw = json.dumps({"event_id": "no-time", "device_id": "WL-3", "kind": "water_level"}).encode()
        inbox.accept("iot-platform", raw, json.loads(raw), now=pushed_at)
        inbox.drain_all(now=pushed_at + dt.timedelta(hours=1))  # the worker was down for an hour
        assert Alarm.objects.get().started_at == pushed_at

    def test_a_push_within_the_payload_limit_is_kept_as_sent(self, region_tree, platform):
        note = "水位持续上涨" * 100  # 600 characters: a big payload would lose it
        post_json(alarm_body(note=note), **SIGNED)
        drain()
        assert Alarm.objects.get().payload == alarm_body(note=note)

    def test_the_alarm_list_and_the_big_screen_show_it_after_processing(self, region_tree, platform, make_user, api_client):
        post_json(alarm_body(at=None), **SIGNED)
        clerk = api_client(make_user([Role.INTAKE_CLERK], scope=region_tree["community1"]))
        scope = region_tree["subdistrict"].code
        assert clerk.get("/api/v1/alarms/").json()["results"] == []
        assert build_overview(scope)["emergency"]["live_alarms"] == []

        drain()
        alarm = Alarm.objects.get()
        assert [row["id"] for row in clerk.get("/api/v1/alarms/").json()["results"]] == [alarm.pk]
        assert [row["id"] for row in build_overview(scope)["emergency"]["live_alarms"]] == [alarm.pk]
        assert [event.data["id"] for event in LiveEvent.objects.filter(kind="video_alarm")] == [alarm.pk]

    def test_pushes_of_one_event_are_folded_in_order(self, region_tree, platform):
        post_json(alarm_body(value=1.5), **SIGNED)
        post_json(alarm_body(value=1.9, ended_at="2026-11-27T23:20:00+08:00"), **SIGNED)  # an update: other content
        assert WebhookInbox.objects.count() == 2 and drain() == 2
        alarm = Alarm.objects.get()
        assert (alarm.updates, alarm.value, alarm.ended_at is not None) == (2, 1.9, True)
        assert set(WebhookInbox.objects.values_list("state", "alarm_id")) == {(InboxState.PROCESSED, alarm.pk)}


@pytest.mark.django_db
class TestReplay:
    def test_a_replay_gets_the_same_id_before_and_after_processing_and_is_recorded_once(self, region_tree, platform):
        raw = json.dumps(alarm_body()).encode()
        first = post_raw(raw, **SIGNED)
        resigned = post_raw(raw, timestamp=time.time() - 60, **SIGNED)  # a retry signed anew, same body
        assert resigned.status_code == 202 and resigned.json() == first.json()
        drain()
        late = post_raw(raw, **SIGNED)
        assert late.status_code == 202 and late.json() == {"id": first.json()["id"], "status": "processed"}
        assert drain() == 0
        assert WebhookInbox.objects.count() == 1 and Alarm.objects.get().updates == 1
        assert AlarmEvent.objects.count() == 1

    def test_the_same_body_from_another_source_is_another_message(self, region_tree, platform):
        AlarmSource.objects.create(code="other-platform", name="另一平台", kind="webhook", secret="other")
        raw = json.dumps(alarm_body()).encode()
        ids = {post_raw(raw, **SIGNED).json()["id"], post_raw(raw, source="other-platform", secret="other").json()["id"]}
        assert len(ids) == 2 and drain() == 2
        assert sorted(Alarm.objects.values_list("source", flat=True)) == ["iot-platform", "other-platform"]


def tampered(raw):
    return raw.replace(b"1.8", b"9.9")


BAD_PUSHES = [
    # (what, body or raw bytes, extra post arguments, status, code, field)
    ("unknown source", alarm_body(), {"source": "nobody"}, 403, "bad_signature", None),
    ("wrong secret", alarm_body(), {"secret": "guess"}, 403, "bad_signature", None),
    ("stale timestamp", alarm_body(), {"timestamp": time.time() - 3600}, 403, "stale_signature", None),
    ("not JSON", b"{not json", {}, 400, "invalid_json", "body"),
    ("not an object", b"[1, 2]", {}, 400, "invalid_json", "body"),
    ("NUL character", alarm_body(note="a\u0000b"), {}, 400, "nul_character", "body"),
    ("markup in a field", alarm_body(kind="<b>x</b>"), {}, 400, None, "kind"),
    ("unknown sensor kind", alarm_body(kind="noise"), {}, 400, "invalid_choice", "kind"),
    ("no event id", {k: v for k, v in alarm_body().items() if k != "event_id"}, {}, 400, "required", "event_id"),
    ("half a position", alarm_body(lat=None), {}, 400, "incomplete_coordinates", "lat"),
    ("bad time", alarm_body(at="yesterday"), {}, 400, "invalid", "at"),
    ("bad snapshot", alarm_body(snapshot="***"), {}, 400, "invalid", "snapshot"),
    ("not a number", alarm_body(value="high"), {}, 400, "invalid", "value"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("what", "body", "extra", "status", "code", "field"), BAD_PUSHES, ids=[case[0] for case in BAD_PUSHES])
def test_every_bad_push_is_refused_at_once_and_stores_nothing(region_tree, platform, what, body, extra, status, code, field):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = post_raw(raw, **{**SIGNED, **extra})
    assert response.status_code == status, response.content
    answer = response.json()
    assert set(answer) == {"code", "message", "fields"} and answer["message"]
    if code:
        assert answer["code"] == code
    if field:
        assert field in answer["fields"]
    assert WebhookInbox.objects.count() == 0 and drain() == 0 and Alarm.objects.count() == 0


@pytest.mark.django_db
def test_a_tampered_body_is_refused(region_tree, platform):
    from gridgov.video.signing import signed_headers

    raw = json.dumps(alarm_body()).encode()
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers("iot-platform", SECRET, raw).items()}
    response = Client().post("/api/v1/alarms/webhook/", tampered(raw), content_type="application/json", **meta)
    assert response.status_code == 403 and response.json()["code"] == "bad_signature"
    assert WebhookInbox.objects.count() == 0


# -- what the processing refuses -----------------------------------------------------------------
def queue_raw(source, raw):
    """A row as accept() stores it, for bodies the webhook itself would have refused (an
    older version's checks, a row written by hand)."""
    try:
        message = json.loads(raw)
    except ValueError:
        message = None
    return inbox.accept(source, raw, message)[0]


@pytest.mark.django_db
def test_a_push_the_processing_refuses_is_marked_counted_and_logged_and_the_rest_go_on(region_tree, platform, caplog):
    good_before = queue_raw("iot-platform", json.dumps(alarm_body("good-1")).encode())
    refused = queue_raw("iot-platform", json.dumps(alarm_body("bad", kind="noise")).encode())
    broken = queue_raw("iot-platform", b"{broken")
    good_after = queue_raw("iot-platform", json.dumps(alarm_body("good-2")).encode())
    before = inbox.counts.refused
    with caplog.at_level(logging.WARNING, logger="gridgov.video.inbox"):
        assert drain() == 4
    rows = {row.pk: row for row in WebhookInbox.objects.all()}
    assert [rows[pk].state for pk in (good_before, refused, broken, good_after)] == ["processed", "refused", "refused", "processed"]
    assert "kind" in rows[refused].error and "JSONDecodeError" in rows[broken].error
    assert inbox.counts.refused - before == 2
    assert sorted(Alarm.objects.values_list("external_id", flat=True)) == ["good-1", "good-2"]
    assert f"webhook push {refused} refused" in caplog.text and f"webhook push {broken} refused" in caplog.text
    assert drain() == 0  # refused rows are not taken again


@pytest.mark.django_db
def test_a_push_that_keeps_failing_is_refused_after_max_attempts(region_tree, platform, monkeypatch):
    """A failure that is neither the message's fields nor the database being away (a bug):
    the batch is retried row by row, the failing row counts attempts and is refused at
    MAX_ATTEMPTS; the other rows are recorded at the first pass."""
    poison = queue_raw("iot-platform", json.dumps(alarm_body("poison")).encode())
    queue_raw("iot-platform", json.dumps(alarm_body("fine")).encode())
    parse = inbox.parse_push

    def failing_parse(source, body, received_at):
        if "poison" in body:
            raise RuntimeError("a bug in the processing")
        return parse(source, body, received_at)

    monkeypatch.setattr(inbox, "parse_push", failing_parse)
    taken = []
    while taken_now := inbox.drain_once():
        taken.append(taken_now)
    row = WebhookInbox.objects.get(pk=poison)
    assert (row.state, row.attempts) == (InboxState.REFUSED, inbox.MAX_ATTEMPTS)
    assert taken == [2] + [1] * (inbox.MAX_ATTEMPTS - 1)  # the good row went with the first pass
    assert "a bug in the processing" in row.error
    assert list(Alarm.objects.values_list("external_id", flat=True)) == ["fine"]


@pytest.mark.django_db
def test_processed_rows_are_purged_after_the_retention_refused_rows_stay(region_tree, platform):
    queue_raw("iot-platform", json.dumps(alarm_body("old")).encode())
    queue_raw("iot-platform", b"{refused")
    drain()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=inbox.KEEP_DAYS + 1)
    assert inbox.purge_processed(now=later) == 1
    assert list(WebhookInbox.objects.values_list("state", flat=True)) == [InboxState.REFUSED]
    assert Alarm.objects.count() == 1  # the alarm itself stays


@pytest.mark.django_db
def test_administrators_see_refused_pushes_with_their_error_read_only(region_tree, platform, client, make_user):
    refused = queue_raw("iot-platform", b"{refused")
    drain()
    client.force_login(make_user([Role.SYSADMIN], is_staff=True, is_superuser=True))
    listing = client.get("/admin/video/webhookinbox/?state=refused")
    assert listing.status_code == 200 and f"/admin/video/webhookinbox/{refused}/" in listing.content.decode()
    page = client.get(f"/admin/video/webhookinbox/{refused}/change/")
    assert page.status_code == 200 and "JSONDecodeError" in page.content.decode()
    assert client.post(f"/admin/video/webhookinbox/{refused}/change/", {"state": "queued"}).status_code == 403
    assert WebhookInbox.objects.get(pk=refused).state == InboxState.REFUSED


# -- the drain as a process of its own ------------------------------------------------------------


# Half the pushes open a case (a rule on smoke), half are only logged: a batch holds cases.
QUEUE_PUSHES = """
import json
from gridgov.catalog.models import Category
from gridgov.geo.models import Level, Region
from gridgov.video.inbox import accept
from gridgov.video.models import AlarmRule, AlarmSource
Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区")
sub = Category.objects.filter(parent__isnull=False, is_active=True, parent__is_active=True).order_by("code").first()
AlarmRule.objects.create(name="smoke", label="smoke", category=sub, action="open_case")
AlarmSource.objects.create(code="iot-platform", name="物联平台", kind="webhook", secret="s")
for n in range({count}):
    body = json.dumps({{"event_id": f"e-{{n}}", "device_id": f"D-{{n % 50}}", "kind": "smoke" if n % 2 else "gas",
                        "at": "2026-11-27T23:10:00+08:00"}}).encode()
    accept("iot-platform", body, json.loads(body))
"""


def test_a_drain_killed_mid_batch_loses_nothing_and_duplicates_nothing(child_db, tmp_path):
    env = child_env(child_db, tmp_path)
    n = 600
    run_child(["migrate", "--noinput", "-v", "0"], env)
    run_child(["shell", "-c", QUEUE_PUSHES.format(count=n)], env)
    log = open(tmp_path / "drain.log", "w")
    drainer = subprocess.Popen(GRIDGOV + ["drain-webhooks", "--batch-size", "40"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: child_db.scalar("SELECT COUNT(*) FROM video_alarm") >= 40, "the first batches")
        drainer.send_signal(signal.SIGKILL)
        drainer.wait(timeout=DEADLINE)
    finally:
        if drainer.poll() is None:
            drainer.kill()
        log.close()
    alarms_at_kill = child_db.scalar("SELECT COUNT(*) FROM video_alarm")
    assert alarms_at_kill < n, "the drain finished before it was killed: the test proves nothing"
    # A batch's alarms and its inbox marks commit together: never one without the other.
    assert child_db.scalar("SELECT COUNT(*) FROM video_webhookinbox WHERE state = 'processed'") == alarms_at_kill
    assert child_db.scalar("SELECT COUNT(*) FROM video_webhookinbox WHERE state = 'queued'") == n - alarms_at_kill

    output = run_child(["drain-webhooks", "--once", "--batch-size", "40"], env)
    assert f"{n - alarms_at_kill} processed, 0 refused" in output
    assert child_db.scalar("SELECT COUNT(*) FROM video_webhookinbox WHERE state = 'processed'") == n
    assert child_db.scalar("SELECT COUNT(*) FROM video_alarm") == n
    assert child_db.scalar("SELECT COUNT(DISTINCT external_id) FROM video_alarm") == n
    assert child_db.scalar("SELECT SUM(updates) FROM video_alarm") == n  # no push recorded twice
    assert child_db.scalar("SELECT COUNT(*) FROM video_alarmevent WHERE action = 'received'") == n
    assert child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'case_opened'") == n // 2
    assert child_db.scalar("SELECT COUNT(*) FROM cases_case") == n // 2
    assert child_db.scalar("SELECT COUNT(DISTINCT case_id) FROM video_alarm WHERE case_id IS NOT NULL") == n // 2
    assert child_db.scalar(
        "SELECT COUNT(*) FROM video_webhookinbox i JOIN video_alarm a ON a.id = i.alarm_id"
        " WHERE a.external_id = 'e-' || CAST(i.id - (SELECT MIN(id) FROM video_webhookinbox) AS VARCHAR(10))"
    ) == n  # every row points at its own alarm


def test_the_worker_records_a_push_within_about_a_second(child_db, tmp_path):
    """`gridgov worker` (started by `gridgov serve`) runs the drain: a push queued while it
    runs becomes an alarm without anything else being started."""
    env = child_env(child_db, tmp_path)
    run_child(["migrate", "--noinput", "-v", "0"], env)
    log = open(tmp_path / "worker.log", "w")
    worker = subprocess.Popen(GRIDGOV + ["worker", "--no-scheduler"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "webhook inbox drained" in (tmp_path / "worker.log").read_text(), "the worker")
        run_child(["shell", "-c", QUEUE_PUSHES.format(count=1)], env)
        wait_until(lambda: child_db.scalar("SELECT COUNT(*) FROM video_webhookinbox WHERE state = 'processed'") == 1, "the drain")
        assert child_db.scalar("SELECT external_id FROM video_alarm") == "e-0"
    finally:
        worker.terminate()
        worker.wait(timeout=DEADLINE)
        log.close()


@pytest.mark.django_db(transaction=True)
def test_a_rule_deleted_by_another_process_costs_no_push(region_tree, platform, rule, media):
    """The drain's cached rule fails the alarm's foreign key at commit; the retry decides
    again with the rules as they are now: the push is recorded, not refused."""
    from django.db import connection

    from gridgov.video.alarms import active_rules

    deleted = rule(source="iot-platform", label="water_level")
    assert active_rules() == [deleted]  # cached for RULES_TTL seconds
    with connection.cursor() as cursor:  # as another process deletes it: no signal here
        cursor.execute("DELETE FROM video_alarmrule WHERE id = %s", [deleted.pk])
    post_json(alarm_body(), **SIGNED)
    drain()
    row = WebhookInbox.objects.get()
    assert (row.state, row.error) == (InboxState.PROCESSED, "")
    assert Alarm.objects.get().rule_id is None and Case.objects.count() == 0
