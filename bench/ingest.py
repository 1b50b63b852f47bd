"""Alarm ingest throughput: `gridgov ingest` end to end against a bare paho subscriber.

The benchmark starts its own Mosquitto with the production settings of docs/alarms.md
(`max_queued_messages 1000000`: the stock 1000 drops messages as soon as a consumer reads
its socket a little slower than a full-speed publisher writes, whatever the Receive
Maximum; `max_inflight_messages 0`, so MQTT 3.1.1 clients get big batches too), or uses
--broker mqtt://... as it is. Every consumer uses QoS 1, a persistent session and manual
acks, with MQTT 3.1.1 and with MQTT v5 (Receive Maximum 65535). Each consumer runs in its
own process, so its CPU seconds are its own:
- baseline: a bare paho subscriber that parses the JSON, acks and counts;
- ingest: `gridgov ingest` on a fresh, migrated database; its clock stops when the
  database holds every message (the sum of the alarms' `updates` counts every message
  folded into an alarm) and no alarm waits for its case.
Two modes, each consumer measured in both, on the same messages:
- concurrent: three publisher processes publish as fast as they can (no throttling) while
  the consumer consumes; the clock runs from the first publish. The publishers (Python,
  on the same cores) and the broker share the machine with the consumer, so this measures
  the whole pipeline on one box; the bare subscriber's rate here is bound by the
  publishers, not by itself.
- backlog: the consumer's persistent session is made first, then every message is
  published into it while the consumer is offline (the broker queues them), then the
  consumer connects and the clock runs from its connect until it has everything (bare:
  counted; ingest: stored). This measures what the consumer sustains with the cores to
  itself and the broker, as in production, where the cameras publish from elsewhere.
Two mixes:
- realistic: events of 10 messages, interleaved over 200 events in progress. Frigate
  objects send one `new`, eight `update`s (score and zones change) and one `end`; sensor
  alarms (3 in 10 events) repeat the same event id while the condition lasts. One event in
  10 is a person, whose rule opens a case (create_case with its clocks, timeline and live
  events); the others match a log-only rule.
- worst case: every message a new alarm, half of them opening cases.
Afterwards every published message must be accounted for (the count check).
SQLite file in a temporary directory by default; with DATABASE_URL set, that (scratch!)
PostgreSQL database is used.
    .venv/bin/python bench/ingest.py [--messages 50000] [--worst 4000] [--modes concurrent,backlog]
        [--protocols 3.1.1,5]
    .venv/bin/python bench/ingest.py --in-process [--profile] [--batch-size N] --messages 20000
BENCH_PYSPY="/path/to/py-spy [--idle]" records the draining worker of each backlog run
(raw stacks, next to the bench's temporary database).
"""

import argparse
import atexit
import json
import multiprocessing
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
TMP = Path(tempfile.mkdtemp(prefix="gridgov-bench-ingest-"))
BROKER_CONF = """listener {port} 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
max_inflight_messages 0
"""
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{TMP / 'ingest.sqlite3'}"
ENV = dict(os.environ, DATABASE_URL=DATABASE_URL, GRIDGOV_VAR=str(TMP), GRIDGOV_ALARM_FLOOD_LIMIT="100000000", DEBUG="0",
           DJANGO_SETTINGS_MODULE="gridgov.settings", PYTHONPATH=str(ROOT / "src"), LOG_LEVEL="ERROR")
GRIDGOV = [sys.executable, "-m", "gridgov.cli"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CAMERAS = 50
IN_PROGRESS = 200  # events whose messages interleave
PUBLISHERS = 3  # processes: one Python publisher alone does not reach 5,000 msg/s
SETUP = """
from gridgov.catalog.models import Category
from gridgov.geo.models import Level, Region
from gridgov.video.models import AlarmRule, Camera
Region.objects.get_or_create(code="370105", defaults={"level": Level.DISTRICT, "name": "天桥区"})
sub = Category.objects.filter(parent__isnull=False, is_active=True).order_by("code").first()
AlarmRule.objects.create(name="people", label="person", category=sub, action="open_case", order=10)
AlarmRule.objects.create(name="everything else", action="log_only", order=20)
Camera.objects.bulk_create([Camera(code=f"cam{i}", name=f"camera {i}", lon=117.0 + i / 1000, lat=36.68, region_code="370105")
                            for i in range(%d)], ignore_conflicts=True)
""" % CAMERAS

BARE_SUBSCRIBER = r"""
import json, sys, threading, time, uuid
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
host, port, topic, n, v5, backlog = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == "5", sys.argv[6] == "backlog"
count, done, subscribed, last = [0], threading.Event(), threading.Event(), [0.0]
def on_message(client, userdata, message):
    json.loads(message.payload)  # the parse every real consumer does
    client.ack(message.mid, message.qos)
    count[0] += 1
    last[0] = time.perf_counter()
    if count[0] >= n:
        done.set()
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-bare-{uuid.uuid4().hex[:6]}",
                     protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, clean_session=None if v5 else False, manual_ack=True)
client.on_message = on_message
client.on_subscribe = lambda *args: subscribed.set()
if v5:
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = 65535
    properties.SessionExpiryInterval = 600
    client.connect(host, port, clean_start=False, properties=properties)
else:
    client.connect(host, port)
client.subscribe(topic, qos=1)
client.loop_start()
subscribed.wait(30)
if backlog:  # the session stays on the broker, which queues what is published meanwhile
    client.disconnect()
    client.loop_stop()
print("subscribed", flush=True)
sys.stdin.readline()  # concurrent: the publishers start now; backlog: they are done
cpu, started = time.process_time(), time.perf_counter()
if backlog:
    client.reconnect()
    client.loop_start()
seen = -1
while not done.wait(5) and count[0] != seen:  # stop when nothing came for 5 s
    seen = count[0]
print("done", count[0], time.process_time() - cpu, last[0] - started, flush=True)
client.loop_stop()
client.disconnect()
"""


BROKER = ["mqtt://127.0.0.1:1883"]


def host_port():
    parsed = urlparse(BROKER[0])
    return parsed.hostname or "127.0.0.1", parsed.port or 1883


def start_broker():
    """A private Mosquitto configured as docs/alarms.md asks for production."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (TMP / "mosquitto.conf").write_text(BROKER_CONF.format(port=port))
    broker = subprocess.Popen(["mosquitto", "-c", str(TMP / "mosquitto.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(broker.terminate)
    for _attempt in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return f"mqtt://127.0.0.1:{port}"


# -- messages ----------------------------------------------------------------------------------
def frigate(kind, event_id, camera, label, start, step):
    body = {"id": event_id, "camera": camera, "label": label, "sub_label": None,
            "top_score": round(0.6 + step * 0.03, 2), "score": round(0.55 + step * 0.03, 2), "false_positive": False,
            "start_time": start, "end_time": start + 30 if kind == "end" else None,
            "current_zones": ["gate"] if step >= 4 else [], "entered_zones": ["gate"] if step >= 4 else [],
            "has_snapshot": False, "has_clip": False, "box": [10, 20, 110, 220], "region": [0, 0, 320, 320],
            "area": 22000, "ratio": 0.45, "stationary": False, "motionless_count": 0, "position_changes": step}
    return "frigate/events", {"type": kind, "before": body, "after": body}


def sensor(event_id, device, start, step):
    at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(start))
    return f"gridgov/alarms/{device}", {"event_id": event_id, "device_id": device, "kind": "water_level",
                                        "value": 1.2 + step * 0.05, "threshold": 1.2, "lon": 117.005, "lat": 36.69, "at": at}


def event_messages(run, i, start):
    """The 10 messages of event i: a Frigate object (new, 8 updates, end) or a sensor alarm."""
    event_id = f"{run}-{i:06d}"
    if i % 10 in (3, 6, 9):
        return [sensor(event_id, f"WL-{i % 40}", start, step) for step in range(10)]
    label = "person" if i % 10 == 0 else "car"
    kinds = ["new"] + ["update"] * 8 + ["end"]
    return [frigate(kind, event_id, f"cam{i % CAMERAS}", label, start, step) for step, kind in enumerate(kinds)]


def realistic(n, run):
    """n messages (n/10 events), interleaved round-robin over IN_PROGRESS events."""
    start = time.time() - 3600
    events = [event_messages(run, i, start + i * 0.05) for i in range(n // 10)]
    messages, active, next_event = [], [], 0
    while active or next_event < len(events):
        while len(active) < IN_PROGRESS and next_event < len(events):
            active.append((next_event, iter(events[next_event])))
            next_event += 1
        for event, stream in list(active):
            message = next(stream, None)
            if message is None:
                active.remove((event, stream))
            else:
                messages.append((*message, event))
    return [(topic, json.dumps(body).encode(), event) for topic, body, event in messages], n // 10, n // 100


def worst(n, run):
    """n new alarms, half of them people (a case each)."""
    start = time.time() - 3600
    messages = [frigate("new", f"{run}-{i:06d}", f"cam{i % CAMERAS}", "person" if i % 2 == 0 else "car", start + i * 0.01, 0)
                for i in range(n)]
    return [(topic, json.dumps(body).encode(), i) for i, (topic, body) in enumerate(messages)], n, (n + 1) // 2


def publish(messages, prefix):
    """As fast as the publishers go: PUBLISHERS processes, each a share of the events (so
    every event's messages keep their order), every message QoS 1."""
    shares = [[] for _ in range(PUBLISHERS)]
    for message in messages:
        shares[message[2] % PUBLISHERS].append(message)
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=publish_share, args=(share, prefix)) for share in shares]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        assert process.exitcode == 0, "a publisher failed"


def publish_share(messages, prefix):
    host, port = host_port()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    client.max_inflight_messages_set(1000)
    client.connect(host, port)
    client.loop_start()
    infos = [client.publish(prefix + topic, payload, qos=1) for topic, payload, _event in messages]
    for info in infos:
        info.wait_for_publish(timeout=600)
    client.loop_stop()
    client.disconnect()


# -- the consumers -----------------------------------------------------------------------------
def bare_subscriber(messages, prefix, protocol, mode):
    """(seconds, CPU seconds, messages received) of a do-nothing subscriber. Concurrent: from
    the first publish until the subscriber has the last message; backlog: from its reconnect
    until it has the last message."""
    host, port = host_port()
    child = subprocess.Popen([sys.executable, "-c", BARE_SUBSCRIBER, host, str(port), prefix + "#", str(len(messages)), protocol, mode],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "subscribed"
    if mode == "backlog":
        publish(messages, prefix)  # into the offline session
    child.stdin.write("go\n")
    child.stdin.flush()
    started = time.perf_counter()
    if mode == "concurrent":
        publish(messages, prefix)
    _word, received, cpu, draining = child.stdout.readline().split()
    elapsed = time.perf_counter() - started if mode == "concurrent" else float(draining)
    child.wait(30)
    return elapsed, float(cpu), int(received)


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


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (all threads)


COUNTS = ("SELECT COUNT(*) FROM video_alarm", "SELECT COALESCE(SUM(updates), 0) FROM video_alarm", "SELECT COUNT(*) FROM cases_case")
LOG = TMP / "ingest.log"


def start_worker(prefix, protocol, until):
    """`gridgov ingest` in a subprocess, returned once its log shows `until` (once more
    than before): "connecting" (said just before it connects) or "subscribed"."""
    mark = LOG.read_text().count(until) if LOG.exists() else 0
    with open(LOG, "a") as log:
        worker = subprocess.Popen(GRIDGOV + ["ingest", "--url", BROKER[0], "--prefix", prefix, "--client-id", f"bench-{prefix[:-1]}", "--sweep-seconds", "0"],
                                  env=dict(ENV, GRIDGOV_MQTT_PROTOCOL=protocol), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while LOG.read_text().count(until) <= mark and time.monotonic() < deadline:
        time.sleep(0.002)
    return worker


def stop_worker(worker):
    worker.terminate()
    worker.wait(30)


def wait_until_stored(before, count):
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        if scalar(COUNTS[1]) - before[1] >= count and scalar("SELECT COUNT(*) FROM video_alarm WHERE status = 'pending'") == 0:
            return
        time.sleep(0.02)


def ingest_run(messages, prefix, protocol, mode):
    """(seconds, CPU seconds of the worker, new alarms, messages stored, new cases).
    Concurrent: from the first publish; backlog: the worker's session is made first, the
    messages are published while it is down, the clock starts when the restarted worker
    connects. Both stop when the database holds every message and no case is pending."""
    before = [scalar(sql) for sql in COUNTS]
    if mode == "backlog":
        stop_worker(start_worker(prefix, protocol, "subscribed"))  # the persistent session
        publish(messages, prefix)
        worker = start_worker(prefix, protocol, "connecting")
        if os.environ.get("BENCH_PYSPY"):  # e.g. "/path/to/py-spy [--idle]": the draining worker's stacks, raw
            pyspy, *options = os.environ["BENCH_PYSPY"].split()
            subprocess.Popen([pyspy, "record", *options, "--pid", str(worker.pid), "--rate", "250", "--format", "raw",
                              "--output", str(TMP / f"ingest-{protocol}-{prefix[:-1]}.pyspy.txt")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        worker = start_worker(prefix, protocol, "subscribed")
    cpu_before = cpu_seconds(worker.pid)
    started = time.perf_counter()
    if mode == "concurrent":
        publish(messages, prefix)
    wait_until_stored(before, len(messages))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(worker.pid) - cpu_before
    stop_worker(worker)
    alarms, stored, cases = (scalar(sql) - b for sql, b in zip(COUNTS, before, strict=True))
    return elapsed, cpu, alarms, stored, cases


def compare(name, build, n, protocol, modes):
    """Each mode: the bare subscriber, then the ingest, on the same messages. Returns the
    ingest's rate per mode."""
    print(f"\n{name}, MQTT {protocol}: {n:,} messages")
    rates = {}
    for mode in modes:
        run = uuid.uuid4().hex[:6]  # new event ids: each mode starts new alarms
        messages, events, expected_cases = build(n, run)
        m = len(messages)
        if mode == modes[0]:
            print(f"  {events:,} alarms, {expected_cases:,} of them opening a case")
        bare, bare_cpu, received = bare_subscriber(messages, f"bare{run}/", protocol, mode)
        full, cpu, alarms, stored, cases = ingest_run(messages, f"bench{run}/", protocol, mode)
        print(f"  {mode}: bare paho subscriber {m / bare:8,.0f} msg/s ({bare:.2f} s, {bare_cpu:.2f} CPU s = {bare_cpu / m * 1e6:.0f} us/msg;"
              f" received {received:,} of {m:,})")
        print(f"  {mode}: gridgov ingest       {m / full:8,.0f} msg/s ({full:.2f} s, {cpu:.2f} CPU s = {cpu / m * 1e6:.0f} us/msg,"
              f" {m / cpu:,.0f} msg per CPU s)")
        print(f"  {mode}: ratio ingest / bare: {bare / full:.2f}x the rate, {cpu / bare_cpu:.1f}x the CPU")
        ok = (alarms, stored, cases) == (events, m, expected_cases) and received == m
        print(f"  {mode}: count check: {alarms:,} alarms, {stored:,} messages folded into them, {cases:,} cases, bare received {received:,}:"
              f" {'all there' if ok else 'MISMATCH'}")
        rates[mode] = m / full
    return rates


# -- in process: where the worker's CPU goes, without MQTT ----------------------------------
class NullClient:
    def ack_many(self, mids):
        pass


def in_process(n, profile, batch_size):
    """Feed the realistic mix to IngestWorker.process in batches of BATCH_SIZE (no broker:
    fake messages, acks dropped), in this process on the bench database; prints the CPU
    per message of parsing alone and of the whole batch path."""
    from types import SimpleNamespace

    import django

    django.setup()
    from gridgov.video.ingest import IngestWorker, parse_message

    messages = [SimpleNamespace(topic=topic, payload=payload, mid=i + 1, qos=1) for i, (topic, payload, _e) in enumerate(realistic(n, uuid.uuid4().hex[:6])[0])]
    cpu = time.process_time()
    for message in messages:
        parse_message(message.topic, message.payload)
    parse = (time.process_time() - cpu) / len(messages)
    worker = IngestWorker("mqtt://127.0.0.1:1", client_id="bench-in-process")
    worker.client, worker.connection = NullClient(), 1
    batches = [[(1, message) for message in messages[start:start + batch_size]] for start in range(0, len(messages), batch_size)]
    worker.process(batches.pop(0))  # warm: rules, cameras, compiled statements
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    cpu = time.process_time()
    for batch in batches:
        worker.process(batch)
    total = (time.process_time() - cpu) / sum(len(batch) for batch in batches)
    if profiler:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "tottime")).print_stats(int(os.environ.get("BENCH_LINES", 30)))
    print(f"in process, realistic mix, {len(messages):,} messages in batches of {batch_size}: parse {parse * 1e6:.0f} us, "
          f"parse + store + ack {total * 1e6:.0f} us of CPU per message ({1 / total:,.0f} msg per CPU s)")


def main():
    if sys.argv[1:2] == ["--in-process-child"]:
        return in_process(int(sys.argv[2]), sys.argv[3] == "profile", int(sys.argv[4]))
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=50000, help="messages of the realistic mix")
    parser.add_argument("--worst", type=int, default=4000, help="messages of the worst case")
    parser.add_argument("--broker", help="an existing broker (default: a private Mosquitto, see above)")
    parser.add_argument("--in-process", action="store_true", help="only the worker's batch path in process, no MQTT")
    parser.add_argument("--profile", action="store_true", help="with --in-process: cProfile the batches")
    parser.add_argument("--batch-size", type=int, help="with --in-process: the batch size (default 500)")
    parser.add_argument("--modes", default="concurrent,backlog", help="concurrent, backlog or both (comma-separated)")
    parser.add_argument("--protocols", default="3.1.1,5", help="MQTT protocols of the realistic mix (comma-separated)")
    args = parser.parse_args()
    BROKER[0] = args.broker or start_broker()
    ENV["MQTT_URL"] = BROKER[0]
    subprocess.run(GRIDGOV + ["migrate", "--noinput", "-v", "0"], env=ENV, check=True)
    subprocess.run(GRIDGOV + ["shell", "-c", SETUP], env=ENV, check=True)
    print(f"database: {'PostgreSQL' if DATABASE_URL.startswith('postgres') else 'SQLite (WAL)'}; broker {BROKER[0]}"
          f"{'' if args.broker else ' (private, max_queued_messages 1000000)'}; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    if args.in_process:
        mode = "profile" if args.profile else "plain"
        batch_size = args.batch_size or 500
        subprocess.run([sys.executable, __file__, "--in-process-child", str(args.messages), mode, str(batch_size)], env=ENV, check=True)
        return
    modes = args.modes.split(",")
    rates = {protocol: compare("realistic mix", realistic, args.messages, protocol, modes) for protocol in args.protocols.split(",")}
    if args.worst:
        compare("worst case (every message a new alarm)", worst, args.worst, "3.1.1", modes)
    print()
    for protocol, by_mode in rates.items():
        for mode, rate in by_mode.items():
            print(f"realistic mix, MQTT {protocol}, {mode}: {rate:,.0f} msg/s; target >= 5,000: {'met' if rate >= 5000 else 'MISSED'}")

if __name__ == "__main__":
    main()
