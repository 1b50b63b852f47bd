"""Alarm ingest throughput: `gridgov ingest` end to end against a bare paho subscriber.

Both runs use the real Mosquitto ($MQTT_URL, default mqtt://127.0.0.1:1883), QoS 1 and a
persistent session with manual acks, and the same N Frigate `new` messages published as
fast as the consumer keeps up (at most 600 outstanding: Mosquitto's default queue per
client is 1000 and it drops what does not fit):
- baseline: a bare paho subscriber in this process that acks every message and does
  nothing else (what the broker and paho cost);
- ingest: `gridgov ingest` in a subprocess on a fresh, migrated database; the clock stops
  when the database holds N alarms and no alarm is waiting for its case. Half the alarms
  match a rule that opens a case (create_case with its clocks, timeline and live events),
  half a log-only rule.
SQLite file in a temporary directory by default; with DATABASE_URL set, that (scratch!)
PostgreSQL database is used.
    .venv/bin/python bench/ingest.py [--alarms 2000]
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
TMP = Path(tempfile.mkdtemp(prefix="gridgov-bench-ingest-"))
BROKER = os.environ.get("MQTT_URL", "mqtt://127.0.0.1:1883")
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'ingest.sqlite3'}"
ENV = dict(os.environ, DATABASE_URL=DATABASE_URL, GRIDGOV_VAR=str(TMP), GRIDGOV_ALARM_FLOOD_LIMIT="100000000",
           DJANGO_SETTINGS_MODULE="gridgov.settings", PYTHONPATH=str(ROOT / "src"))
GRIDGOV = [sys.executable, "-m", "gridgov.cli"]
BACKLOG, CHUNK = 600, 100
SETUP = """
from gridgov.catalog.models import Category
from gridgov.geo.models import Level, Region
from gridgov.video.models import AlarmRule
Region.objects.get_or_create(code="370105", defaults={"level": Level.DISTRICT, "name": "天桥区"})
sub = Category.objects.filter(parent__isnull=False, is_active=True).order_by("code").first()
AlarmRule.objects.create(name="people", label="person", category=sub, action="open_case")
AlarmRule.objects.create(name="cars", label="car", action="log_only")
"""


def host_port():
    parsed = urlparse(BROKER)
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def messages(prefix, n, run):
    start = time.time() - 3600
    for i in range(n):
        body = {"id": f"{run}-{i:06d}", "camera": f"cam{i % 50}", "label": "person" if i % 2 == 0 else "car",
                "top_score": 0.9, "false_positive": False, "start_time": start + i * 0.01, "end_time": None,
                "current_zones": [], "entered_zones": [], "has_snapshot": False}
        yield prefix + "frigate/events", json.dumps({"type": "new", "before": body, "after": body})


def publish(prefix, n, run, consumed):
    """Publish n messages in chunks, keeping at most BACKLOG unconsumed: Mosquitto holds
    only max_queued_messages (default 1000) per client and drops the rest (docs/alarms.md)."""
    host, port = host_port()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(100)
    client.connect(host, port)
    client.loop_start()
    pending = list(messages(prefix, n, run))
    published = 0
    while published < n:
        while published - consumed() > BACKLOG:
            time.sleep(0.01)
        chunk = pending[published:published + CHUNK]
        for info in [client.publish(topic, payload, qos=1) for topic, payload in chunk]:
            info.wait_for_publish(timeout=600)
        published += len(chunk)
    client.loop_stop()
    client.disconnect()


def bare_subscriber(n):
    """Seconds from the first publish until a do-nothing subscriber acked all n."""
    host, port = host_port()
    prefix = f"bench{uuid.uuid4().hex[:6]}/"
    done, count = threading.Event(), [0]
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{uuid.uuid4().hex[:6]}",
                      clean_session=False, manual_ack=True)
    subscribed = threading.Event()
    sub.on_subscribe = lambda *args: subscribed.set()

    def on_message(client, userdata, message):
        json.loads(message.payload)  # the parse every real consumer does
        client.ack(message.mid, message.qos)
        count[0] += 1
        if count[0] >= n:
            done.set()

    sub.on_message = on_message
    sub.connect(host, port)
    sub.subscribe(prefix + "frigate/events", qos=1)
    sub.loop_start()
    subscribed.wait(30)
    started = time.perf_counter()
    publish(prefix, n, "bare", lambda: count[0])
    done.wait(600)
    elapsed = time.perf_counter() - started
    sub.loop_stop()
    sub.disconnect()
    return elapsed


def scalar(sql):
    if DATABASE_URL.startswith("sqlite"):
        conn = sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///"), timeout=30)
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        return conn.execute(sql).fetchone()[0]


def ingest_run(n):
    """Seconds from the first publish until the database holds n alarms with their cases."""
    prefix = f"bench{uuid.uuid4().hex[:6]}/"
    log = open(TMP / "ingest.log", "a")
    worker = subprocess.Popen(GRIDGOV + ["ingest", "--prefix", prefix, "--client-id", f"bench-{prefix[:-1]}", "--sweep-seconds", "0"],
                              env=ENV, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "subscribed" not in (TMP / "ingest.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    before = scalar("SELECT COUNT(*) FROM video_alarm")
    started = time.perf_counter()
    publish(prefix, n, prefix, lambda: scalar("SELECT COUNT(*) FROM video_alarm") - before)
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        if scalar("SELECT COUNT(*) FROM video_alarm") - before >= n and scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'pending'") == 0:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    worker.terminate()
    worker.wait(30)
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--alarms", type=int, default=2000)
    args = parser.parse_args()
    n = args.alarms
    subprocess.run(GRIDGOV + ["migrate", "--noinput", "-v", "0"], env=ENV, check=True)
    subprocess.run(GRIDGOV + ["shell", "-c", SETUP], env=ENV, check=True)
    bare = bare_subscriber(n)
    full = ingest_run(n)
    cases = scalar("SELECT COUNT(*) FROM cases_case")
    print(f"database: {'PostgreSQL' if DATABASE_URL.startswith('postgres') else 'SQLite (WAL)'}; broker {BROKER}")
    print(f"bare paho subscriber (ack only): {n} messages in {bare:.2f} s = {n / bare:,.0f} msg/s")
    print(f"gridgov ingest end to end:       {n} alarms in {full:.2f} s = {n / full:,.0f} alarms/s ({cases} cases opened)")
    print(f"ratio ingest / bare (time): {full / bare:.1f}")


if __name__ == "__main__":
    main()
