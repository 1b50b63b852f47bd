"""Webhook alarms over HTTP, against a bare Django view doing one INSERT.

Run from the repository root: `.venv/bin/python bench/webhook.py` (about a minute). SQLite
in a temporary directory by default; DATABASE_URL=postgresql://... (a scratch database:
tables are created in it) for PostgreSQL.

Both endpoints run under gunicorn (sync workers, as `gridgov serve`), on the same
database, in the same run (bench/lib: BenchSite, httpload):
- baseline: POST /bench/bare-insert, a plain Django view that parses the JSON body and
  INSERTs one row (bench/lib/bench_urls.py), behind the same middleware;
- webhook: POST /api/v1/alarms/webhook/, every request a new sensor alarm in our format
  (its own event id and device), signed with HMAC-SHA256 over timestamp + body: signature
  and replay-window checks, parsing, then alarms.ingest (dedup lookup, flood count, rules,
  INSERT of the alarm, its timeline row and the live event). The rule is log-only: the
  cases an alarm opens are create_case's figures (docs/benchmarks.md, create cases).
Target (issue 4): >= 1,000 alarms/s. Afterwards it lists the SQL statements of one webhook
request; --profile adds the CPU per request of both endpoints in this process (Django test
client, no profiler) and cProfile's top for the webhook.
    .venv/bin/python bench/webhook.py [--profile]
"""

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from httpload import Request, run_load  # noqa: E402
from servers import BenchSite  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", 8))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
CORES = os.cpu_count() or 1
CONNECTIONS = dict(processes=2, threads=4)
SOURCE, SECRET = "bench-platform", "bench-webhook-secret"
BODY = {"event_id": "bench-{n}", "device_id": "WL-{n}", "kind": "water_level", "value": 1.8, "threshold": 1.2,
        "lon": 117.005, "lat": 36.685}


@dataclass(frozen=True)
class SignedRequest(Request):
    """A request whose body carries the running number, signed anew for every request."""

    def encode(self, host, n):
        from gridgov.video.signing import signed_headers

        body = self.body.replace(b"{n}", str(n).encode())
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json",
                f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in signed_headers(SOURCE, SECRET, body).items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def prepare(site):
    import django.db

    from gridgov.video.models import AlarmRule, AlarmSource

    AlarmSource.objects.get_or_create(code=SOURCE, defaults={"name": "基准测试平台", "kind": "webhook", "secret": SECRET})
    AlarmRule.objects.get_or_create(name="water level: log", defaults={"label": "water_level", "action": "log_only"})
    django.db.connections.close_all()  # the servers fork after this; they open their own


def requests(run):
    """The two requests; `run` makes the webhook's event ids and devices new in every run."""
    bare = Request("POST", "/bench/bare-insert", headers={"Content-Type": "application/json"},
                   body=json.dumps({"description": "水位告警"}).encode())
    body = json.dumps(BODY).replace("{n}", f"{run}-{{n}}").encode()
    webhook = SignedRequest("POST", "/api/v1/alarms/webhook/", body=body)
    return {"bare INSERT view": bare, "POST alarms/webhook/": webhook}


def measure(server):
    """Alternate the two endpoints ROUNDS times; keep each one's best round (least disturbed)."""
    best = {}
    for round_number in range(ROUNDS):
        for name in requests("").keys():
            run_load("127.0.0.1", server.port, requests(f"w{round_number}")[name], duration=1.0, **CONNECTIONS)  # warm-up
            cpu_before = server.cpu_seconds()
            result = run_load("127.0.0.1", server.port, requests(f"r{round_number}")[name], duration=SECONDS, **CONNECTIONS)
            cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, result.requests)
            print(f"  {name:22} {result.summary()}  server cpu {cpu_ms:.2f} ms/request")
            if result.errors:
                print(f"    statuses: {result.statuses}")
            if name not in best or result.rate > best[name][0].rate:
                best[name] = (result, cpu_ms)
    return best


def signed_post(client, n, tag):
    from gridgov.video.signing import signed_headers

    body = json.dumps(BODY).replace("{n}", f"{tag}-{n}").encode()
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers(SOURCE, SECRET, body).items()}
    response = client.post("/api/v1/alarms/webhook/", body, content_type="application/json", **headers)
    assert response.status_code == 200, response.content


def statements_per_request():
    """The SQL statements of one webhook request (each a round trip on PostgreSQL)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    signed_post(client, 0, "statements-warm-up")
    with CaptureQueriesContext(connection) as captured:
        signed_post(client, 1, "statements")
    return [query["sql"] for query in captured.captured_queries]


def cpu_in_process(count=500):
    """CPU ms per request in this process (Django test client, no profiler): the bare
    INSERT view and the webhook, alternated three times, the least of each."""
    from django.test import Client

    client = Client()

    def bare(n, tag):
        response = client.post("/bench/bare-insert", {"description": "水位告警"}, content_type="application/json")
        assert response.status_code == 201, response.content

    figures = {"bare": [], "webhook": []}
    for run in range(3):
        for name, post in (("bare", bare), ("webhook", lambda n, tag: signed_post(client, n, tag))):
            for n in range(20):
                post(n, f"cpu-warm-{run}")
            started = time.process_time()
            for n in range(count):
                post(n, f"cpu-{run}")
            figures[name].append((time.process_time() - started) * 1000 / count)
    return {name: min(values) for name, values in figures.items()}


def profile_in_process(count=500):
    """cProfile's top (CPU time) of the webhook request in this process."""
    import cProfile
    import pstats

    from django.test import Client

    client = Client()
    for n in range(20):
        signed_post(client, n, "profile-warm-up")
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for n in range(count):
        signed_post(client, n, "profile")
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", action="store_true", help="also profile the request in this process")
    args = parser.parse_args()
    site = BenchSite(cases=0)
    prepare(site)
    workers = 2 * CORES + 1
    print(f"database: {site.database}; {CORES} cores; load average {os.getloadavg()[0]:.1f}; "
          f"gunicorn {workers} sync workers; {SECONDS:.0f} s per measurement, best of {ROUNDS}, "
          f"{CONNECTIONS['processes'] * CONNECTIONS['threads']} connections")
    server = site.start("gunicorn", workers)
    try:
        best = measure(server)
    finally:
        server.stop()
    (bare, bare_cpu), (hook, hook_cpu) = best["bare INSERT view"], best["POST alarms/webhook/"]
    print(f"\nbare INSERT view:     {bare.rate:7.1f} req/s    ({bare_cpu:.2f} ms server CPU per request)")
    print(f"POST alarms/webhook/: {hook.rate:7.1f} alarms/s ({hook_cpu:.2f} ms server CPU per request)")
    print(f"ratio webhook / bare: {hook.rate / bare.rate:.2f}x; >= 1,000/s: {'met' if hook.rate >= 1000 else 'MISSED'}; "
          f"server CPU capacity {1000 / hook_cpu * CORES:,.0f} alarms/s on {CORES} cores")
    from gridgov.video.models import Alarm

    print(f"alarms stored: {Alarm.objects.count():,}")
    statements = statements_per_request()
    print(f"\nSQL statements per webhook request: {len(statements)}")
    for sql in statements:
        print(f"  {sql[:110]}")
    if args.profile:
        cpu = cpu_in_process()
        print(f"\nin-process CPU per request (test client, load average {os.getloadavg()[0]:.1f}): "
              f"bare INSERT view {cpu['bare']:.2f} ms, webhook {cpu['webhook']:.2f} ms")
        profile_in_process()


if __name__ == "__main__":
    main()
