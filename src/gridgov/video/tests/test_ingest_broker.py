"""`gridgov ingest` against the real Mosquitto: kill -9 mid-stream, restart, nothing lost or doubled.

The worker is a child process, so it gets a database of its own that both processes can
open (decision 0005): a temporary SQLite file, or a fresh PostgreSQL database.
"""

import json
import os
import re
import signal
import subprocess
import time
import uuid

import paho.mqtt.client as mqtt
import pytest

from gridgov.video.ingest import broker_address

from .children import DEADLINE, GRIDGOV, child_env, run_child, wait_until

pytestmark = pytest.mark.broker


SETUP = """
from gridgov.catalog.models import Category
from gridgov.geo.models import Level, Region
Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区")
from gridgov.video.models import AlarmRule
sub = Category.objects.filter(parent__isnull=False, is_active=True, parent__is_active=True).order_by("code").first()
AlarmRule.objects.create(name="people", label="person", category=sub, action="open_case")
AlarmRule.objects.create(name="cars", label="car", action="log_only")
print(sub.pk)
"""


def start_worker(env, client_id, prefix, log_path, batch_size=500):
    """Start `gridgov ingest`; returns once it has subscribed. Output goes to a file (a full
    pipe nobody reads would stall the worker)."""
    log = open(log_path, "a")
    process = subprocess.Popen(
        GRIDGOV + ["ingest", "--client-id", client_id, "--prefix", prefix, "--sweep-seconds", "0", "--batch-size", str(batch_size)],
        env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    log.close()
    mark = log_path.read_text().count("subscribed")
    wait_until(lambda: log_path.read_text().count("subscribed") > mark or process.poll() is not None, "the subscription")
    assert process.poll() is None, log_path.read_text()[-3000:]
    return process


def publish_all(messages):
    host, port, _user, _password = broker_address(os.environ["MQTT_URL"])
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(host, port)
    client.loop_start()
    try:
        infos = [client.publish(topic, json.dumps(body), qos=1) for topic, body in messages]
        for info in infos:
            info.wait_for_publish(timeout=DEADLINE)
            assert info.is_published()
    finally:
        client.loop_stop()
        client.disconnect()


def frigate(kind, n, camera, at):
    label = "person" if n % 2 == 0 else "car"
    body = {"id": f"{at:.1f}-{n:05d}", "camera": camera, "label": label, "top_score": 0.9, "false_positive": False,
            "start_time": at + n, "end_time": at + n + 5 if kind == "end" else None, "current_zones": [], "entered_zones": [],
            "has_snapshot": False}
    return {"type": kind, "before": body, "after": body}


def test_killed_worker_loses_nothing_and_duplicates_nothing(child_db, tmp_path):
    env = child_env(child_db, tmp_path)
    run_child(["migrate", "--noinput", "-v", "0"], env)
    run_child(["shell", "-c", SETUP], env)
    prefix = f"t{uuid.uuid4().hex[:8]}/"
    client_id = f"gridgov-ingest-test-{uuid.uuid4().hex[:8]}"
    n = 400
    at = time.time() - 3600
    messages = [(prefix + "frigate/events", frigate(kind, i, f"cam{i % 40}", at)) for i in range(n) for kind in ("new", "end")]

    log_path = tmp_path / "ingest.log"
    log_path.touch()
    # Small batches, so that the kill lands between commits with most of the stream to go.
    workers = [start_worker(env, client_id, prefix, log_path, batch_size=10)]
    try:
        publish_all(messages)
        wait_until(lambda: child_db.scalar("SELECT COUNT(*) FROM video_alarm") >= 40, "the first alarms")
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=DEADLINE)
        at_kill = child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE ended_at IS NOT NULL")
        assert at_kill < n, "the worker finished before it was killed: the test proves nothing"

        # The same client id: the same persistent session, with what was not acked.
        workers.append(start_worker(env, client_id, prefix, log_path))
        wait_until(lambda: child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE ended_at IS NOT NULL") >= n, "every alarm")
        wait_until(lambda: child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'pending'") == 0, "every case")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=DEADLINE)

    assert child_db.scalar("SELECT COUNT(*) FROM video_alarm") == n
    assert child_db.scalar("SELECT COUNT(DISTINCT external_id) FROM video_alarm") == n
    assert child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'case_opened'") == n // 2
    assert child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'logged'") == n // 2
    assert child_db.scalar("SELECT COUNT(*) FROM cases_case WHERE channel = 'video_alarm'") == n // 2
    assert child_db.scalar("SELECT COUNT(DISTINCT case_id) FROM video_alarm WHERE case_id IS NOT NULL") == n // 2


def test_unreachable_broker_fails_the_worker(tmp_path):
    env = dict(os.environ, MQTT_URL="mqtt://127.0.0.1:9", GRIDGOV_VAR=str(tmp_path / "var"))
    result = subprocess.run(GRIDGOV + ["ingest"], env=env, capture_output=True, text=True, timeout=DEADLINE)
    assert result.returncode != 0 and "cannot reach the broker" in result.stderr


def start_session(env, tmp_path, child_db):
    run_child(["migrate", "--noinput", "-v", "0"], env)
    run_child(["shell", "-c", SETUP], env)
    log_path = tmp_path / "ingest.log"
    log_path.touch()
    return f"t{uuid.uuid4().hex[:8]}/", f"gridgov-ingest-test-{uuid.uuid4().hex[:8]}", log_path


def publish_raw(messages):
    """Like publish_all, for payloads that are not JSON objects (bytes as they are)."""
    host, port, _user, _password = broker_address(os.environ["MQTT_URL"])
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(host, port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=DEADLINE)
    finally:
        client.loop_stop()
        client.disconnect()


def stop(worker):
    worker.terminate()
    worker.wait(timeout=DEADLINE)


def test_one_event_folded_in_one_batch_and_poison_messages_cost_nothing(child_db, tmp_path):
    """Published while the worker is down, so they arrive together as one batch: each
    event's new/update/end fold into one alarm in order; bad JSON, a refused field and
    (on PostgreSQL) a payload the database itself refuses, in between, cost no good message."""
    env = child_env(child_db, tmp_path)
    prefix, client_id, log_path = start_session(env, tmp_path, child_db)
    stop(start_worker(env, client_id, prefix, log_path))  # the persistent session exists now
    at = time.time() - 3600
    topic = prefix + "frigate/events"
    good = []
    for n in range(20):
        update = frigate("update", n, "cam1", at)
        update["after"].update(current_zones=["gate"], top_score=0.97)
        end = frigate("end", n, "cam1", at)
        end["after"].update(entered_zones=["yard"])
        good += [(topic, json.dumps(body)) for body in (frigate("new", n, "cam1", at), update, end)]
    nul = frigate("new", 999, "cam1", at)
    nul["after"]["note"] = "\u0000"  # refused as bad input (jsonb would refuse it on PostgreSQL)
    poison = [(topic, b"{not json"), (topic, json.dumps({"type": "new", "after": {"id": "x"}})), (topic, json.dumps(nul))]
    publish_raw(good[:30] + poison + good[30:])

    worker = start_worker(env, client_id, prefix, log_path)
    try:
        wait_until(lambda: child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE ended_at IS NOT NULL AND external_id NOT LIKE '%00999'") >= 20, "the good alarms")
        wait_until(lambda: child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'pending'") == 0, "every case")
    finally:
        stop(worker)
    [refused] = re.findall(r"stopped after \d+ messages \((\d+) refused\)", log_path.read_text())[-1:]
    assert int(refused) == 3  # bad JSON, no start_time, a NUL character (refused by the parser on both databases)
    rows = child_db.scalar(
        "SELECT COUNT(*) FROM video_alarm WHERE external_id NOT LIKE '%00999' AND updates = 3 AND ended_at IS NOT NULL"
        " AND CAST(zones AS TEXT) LIKE '%gate%' AND CAST(zones AS TEXT) LIKE '%yard%' AND score = 0.97"
    )
    assert rows == 20
    assert child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'case_opened'") == 10
    assert child_db.scalar("SELECT COUNT(*) FROM video_alarmevent WHERE action = 'ended'") == 20
    assert child_db.scalar("SELECT COUNT(*) FROM cases_case") == child_db.scalar("SELECT COUNT(*) FROM video_alarm WHERE case_id IS NOT NULL")
