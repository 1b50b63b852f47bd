"""Webhook alarms over HTTP, against a bare Django view doing one INSERT; and the worker's
drain of the webhook inbox, running meanwhile.

Run from the repository root: `.venv/bin/python bench/webhook.py` (about a minute). SQLite
in a temporary directory by default; DATABASE_URL=postgresql://... (a scratch database:
tables are created in it) for PostgreSQL. The load generator is wrk (`make bench-tools`);
without it bench/lib/httpload.py, which takes a large share of the two cores itself.

Both endpoints run under gunicorn (sync workers, as `gridgov serve`), on the same
database, in the same run, with `gridgov worker` running beside them as under
`gridgov serve` (bench/lib: BenchSite, wrkload):
- baseline: POST /bench/bare-insert, a plain Django view that parses the JSON body and
  INSERTs one row (bench/lib/bench_urls.py), behind the same middleware;
- webhook: POST /api/v1/alarms/webhook/, every request a new sensor alarm in our format
  (its own event id and device), signed with HMAC-SHA256 over timestamp + body in advance
  (wrk sends the list): signature and replay-window checks, parsing, the INSERT into the
  inbox, 202 (decision 0014);
- drain: the worker records the inbox's pushes meanwhile (alarms.ingest_many: dedup, flood
  count, rules, alarm, timeline row, live event). Printed: alarms recorded per second
  during the load, the backlog when the load stops, and the rate until the inbox is empty
  ("sustained": the drain must keep up with the webhook). The rule is log-only: the cases
  an alarm opens are create_case's figures (docs/benchmarks.md, create cases).
Target (issue 4): >= 1,000 alarms/s, the drain keeping up. --profile adds the CPU per
request of both endpoints and the drain's CPU per alarm in this process.
    .venv/bin/python bench/webhook.py [--profile]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from httpload import Request  # noqa: E402
from servers import BenchSite, _process_tree, CLOCK_TICKS  # noqa: E402
from wrkload import load  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", 8))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
CORES = os.cpu_count() or 1
CONNECTIONS = 8
MAX_RATE = 4000  # pushes/s signed in advance per second of load (a list wrk must not exhaust)
SOURCE, SECRET = "bench-platform", "bench-webhook-secret"
BODY = {"event_id": "bench-{n}", "device_id": "WL-{n}", "kind": "water_level", "value": 1.8, "threshold": 1.2,
        "lon": 117.005, "lat": 36.685}
WEBHOOK = "/api/v1/alarms/webhook/"
RUN = f"{int(time.time()) % 100_000_000}"  # a scratch PostgreSQL database keeps earlier runs' pushes: no replays


def prepare(site):
    import django.db

    from gridgov.video.models import AlarmRule, AlarmSource

    AlarmSource.objects.get_or_create(code=SOURCE, defaults={"name": "基准测试平台", "kind": "webhook", "secret": SECRET})
    AlarmRule.objects.get_or_create(name="water level: log", defaults={"label": "water_level", "action": "log_only"})
    django.db.connections.close_all()  # the servers fork after this; they open their own


def signed_body(tag, n):
    from gridgov.video.signing import signed_headers

    body = json.dumps(BODY).replace("{n}", f"{tag}-{n}").encode()
    return body, signed_headers(SOURCE, SECRET, body)


def signed_requests(tag, count):
    """Pushes signed now (the replay window is 5 minutes), each a new event of a new device."""
    requests = []
    for n in range(count):
        body, headers = signed_body(tag, n)
        requests.append(Request("POST", WEBHOOK, headers={"Content-Type": "application/json", **headers}, body=body))
    return requests


def bare_request():
    return Request("POST", "/bench/bare-insert", headers={"Content-Type": "application/json"},
                   body=json.dumps({"description": "水位告警"}).encode())


def cpu_seconds(pid):
    total = 0
    for child in _process_tree(pid):
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


class Worker:
    """`gridgov worker` as `gridgov serve` runs it (the drain thread among its loops)."""

    def __init__(self, site):
        self.log = open(site.home / "worker.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gridgov.cli", "worker"], env=site.env, cwd=site.home,
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def cpu_seconds(self):
        return cpu_seconds(self.process.pid)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def inbox_counts():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT state, COUNT(*) FROM video_webhookinbox GROUP BY state")
        counts = dict(cursor.fetchall())
        cursor.execute("SELECT COUNT(*) FROM video_alarm")
        counts["alarms"] = cursor.fetchone()[0]
    connection.close()
    return counts


def wait_for_empty_inbox(deadline_seconds=300):
    started = time.perf_counter()
    while inbox_counts().get("queued", 0):
        if time.perf_counter() - started > deadline_seconds:
            raise RuntimeError("the inbox did not empty")
        time.sleep(0.05)
    return time.perf_counter() - started


def measure_bare(server):
    load("127.0.0.1", server.port, bare_request(), duration=1, connections=CONNECTIONS)  # warm-up
    cpu_before = server.cpu_seconds()
    result = load("127.0.0.1", server.port, bare_request(), duration=SECONDS, connections=CONNECTIONS).check()
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, result.requests)
    print(f"  {'bare INSERT view':22} {result.summary()}  server cpu {cpu_ms:.2f} ms/request")
    return {"rate": result.rate, "cpu_ms": cpu_ms}


def measure_webhook(server, worker, round_number):
    warm = signed_requests(f"{RUN}-w{round_number}", int(MAX_RATE * 1.5))
    load("127.0.0.1", server.port, warm, duration=1, connections=CONNECTIONS).check()
    wait_for_empty_inbox()
    requests = signed_requests(f"{RUN}-r{round_number}", int(MAX_RATE * SECONDS))
    before = inbox_counts()
    cpu_server, cpu_worker = server.cpu_seconds(), worker.cpu_seconds()
    result = load("127.0.0.1", server.port, requests, duration=SECONDS, connections=CONNECTIONS).check()
    at_stop = inbox_counts()
    cpu_server = server.cpu_seconds() - cpu_server
    tail = wait_for_empty_inbox()
    after = inbox_counts()
    cpu_worker = worker.cpu_seconds() - cpu_worker
    if getattr(result, "repeated", 0):
        raise RuntimeError(f"{result.repeated} pushes were sent twice: sign more in advance (MAX_RATE)")
    accepted = after.get("processed", 0) - before.get("processed", 0)
    recorded = after["alarms"] - before["alarms"]
    # wrk counts the answers it read; up to one request per connection was still in flight
    # when it stopped (stored, not counted): nothing may be missing, nothing doubled.
    if recorded != accepted or not result.requests <= accepted <= result.requests + CONNECTIONS:
        raise RuntimeError(f"{result.requests} pushes answered 202, {accepted} processed, {recorded} alarms recorded")
    during = at_stop["alarms"] - before["alarms"]
    figures = {
        "rate": result.rate, "cpu_ms": cpu_server * 1000 / max(1, result.requests),
        "drain_during": during / result.seconds, "backlog": at_stop.get("queued", 0), "tail": tail,
        "drain_sustained": recorded / (result.seconds + tail),
        "worker_cpu_us": cpu_worker * 1e6 / max(1, recorded),
    }
    print(f"  {'POST alarms/webhook/':22} {result.summary()}  server cpu {figures['cpu_ms']:.2f} ms/request")
    print(f"  {'drain (gridgov worker)':22} {figures['drain_during']:8.1f} alarms/s during the load; backlog at the end "
          f"{figures['backlog']}, empty {tail:.2f} s later; {figures['drain_sustained']:.1f} alarms/s over load + tail; "
          f"worker cpu {figures['worker_cpu_us']:.0f} us/alarm")
    return figures


def measure(server, worker):
    """Alternate the two endpoints ROUNDS times; keep each one's best round (least disturbed)."""
    best = {}
    for round_number in range(ROUNDS):
        for name, run in (("bare", lambda: measure_bare(server)), ("webhook", lambda: measure_webhook(server, worker, round_number))):
            figures = run()
            if name not in best or figures["rate"] > best[name]["rate"]:
                best[name] = figures
    return best


def signed_post(client, n, tag):
    body, headers = signed_body(tag, n)
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = client.post(WEBHOOK, body, content_type="application/json", **meta)
    assert response.status_code == 202, response.content


def statements_per_request():
    """The SQL statements of one webhook request (each a round trip on PostgreSQL)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    signed_post(client, 0, f"{RUN}-statements-warm-up")
    with CaptureQueriesContext(connection) as captured:
        signed_post(client, 1, f"{RUN}-statements")
    return [query["sql"] for query in captured.captured_queries]


def cpu_in_process(count=500):
    """CPU ms per request in this process (Django test client, no profiler): the bare
    INSERT view and the webhook, alternated three times, the least of each; then the
    drain's CPU per alarm (the pushes just made, batches of 500)."""
    from django.test import Client

    from gridgov.video.inbox import drain_all

    client = Client()

    def bare(n, tag):
        response = client.post("/bench/bare-insert", {"description": "水位告警"}, content_type="application/json")
        assert response.status_code == 201, response.content

    figures = {"bare": [], "webhook": [], "drain": []}
    for run in range(3):
        for name, post in (("bare", bare), ("webhook", lambda n, tag: signed_post(client, n, tag))):
            for n in range(20):
                post(n, f"{RUN}-cpu-warm-{run}")
            started = time.process_time()
            for n in range(count):
                post(n, f"{RUN}-cpu-{run}")
            figures[name].append((time.process_time() - started) * 1000 / count)
        started = time.process_time()
        drained = drain_all()
        figures["drain"].append((time.process_time() - started) * 1e6 / max(1, drained))
    return {name: min(values) for name, values in figures.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true", help="also the CPU per request and per drained alarm in this process")
    args = parser.parse_args()
    site = BenchSite(cases=0)
    prepare(site)
    workers = 2 * CORES + 1
    print(f"database: {site.database}; {CORES} cores; load average {os.getloadavg()[0]:.1f}; "
          f"gunicorn {workers} sync workers + gridgov worker; {SECONDS:.0f} s per measurement, best of {ROUNDS}, "
          f"{CONNECTIONS} connections")
    server = site.start("gunicorn", workers)
    worker = Worker(site)
    try:
        best = measure(server, worker)
    finally:
        server.stop()
        worker.stop()
    bare, hook = best["bare"], best["webhook"]
    print(f"\nload average now {os.getloadavg()[0]:.1f}")
    print(f"bare INSERT view:     {bare['rate']:7.1f} req/s    ({bare['cpu_ms']:.2f} ms server CPU per request)")
    print(f"POST alarms/webhook/: {hook['rate']:7.1f} alarms/s ({hook['cpu_ms']:.2f} ms server CPU per request), 202")
    print(f"drain (worker):       {hook['drain_during']:7.1f} alarms/s during the load, {hook['drain_sustained']:.1f}/s "
          f"sustained over load + tail ({hook['backlog']} queued at the end, {hook['tail']:.2f} s to empty; "
          f"{hook['worker_cpu_us']:.0f} us worker CPU per alarm)")
    # Keeping up: when the load stopped the worker was at most a second of pushes behind
    # (its batches follow the queue at a poll interval, so it always trails a little).
    keeps_up = hook["backlog"] <= hook["rate"] * 1.0
    print(f"ratio webhook / bare: {hook['rate'] / bare['rate']:.2f}x; >= 1,000/s: {'met' if hook['rate'] >= 1000 else 'MISSED'}; "
          f"drain keeps up (at most 1 s behind): {'yes' if keeps_up else 'NO'}")
    from gridgov.video.models import Alarm

    print(f"alarms stored: {Alarm.objects.count():,}")
    statements = statements_per_request()
    print(f"\nSQL statements per webhook request: {len(statements)}")
    for sql in statements:
        print(f"  {sql[:110]}")
    if args.profile:
        cpu = cpu_in_process()
        print(f"\nin-process CPU (test client, load average {os.getloadavg()[0]:.1f}): bare INSERT view {cpu['bare']:.2f} ms, "
              f"webhook {cpu['webhook']:.2f} ms per request; drain {cpu['drain']:.0f} us per alarm")


if __name__ == "__main__":
    main()
