"""Big-screen benchmarks.

(a) Server time of GET /api/v1/screen/overview/ over 1,000,000 synthetic cases (cache off),
    median of repeated requests, against a trivial-query baseline (GET /healthz) measured
    in the same run; the window figures from the daily counts (gridgov.screen.daycounts,
    the default) and, for comparison, from the cases table; the cost of keeping the counts
    (refresh_case per transition) and of a full recount.
(b) Push latency of the SSE stream: uvicorn in a subprocess, 200 concurrent streaming
    clients (raw asyncio sockets), events published from this process at a steady rate.

SQLite in a temporary directory by default (GRIDGOV_VAR=<dir of an earlier run> reuses its
database, cases and counts); with DATABASE_URL set, that (scratch!) PostgreSQL database is
used and filled. Loopback only; every loop is bounded.
    .venv/bin/python bench/screen.py [--cases 1000000] [--clients 200] [--seconds 10]
"""

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if "GRIDGOV_VAR" not in os.environ:
    os.environ["GRIDGOV_VAR"] = tempfile.mkdtemp(prefix="gridgov-bench-screen-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
os.environ.setdefault("AXES_ENABLED", "0")
sys.path.insert(0, str(ROOT / "src"))

import django  # noqa: E402

django.setup()

import h3  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from gridgov.cases.models import Case, CaseClock  # noqa: E402
from gridgov.catalog.models import Category  # noqa: E402
from gridgov.geo.models import GridType, Level, Region  # noqa: E402
from gridgov.live import publish, tickets  # noqa: E402
from gridgov.org.models import Department  # noqa: E402
from gridgov.screen.daycounts import rebuild  # noqa: E402
from gridgov.screen.models import KioskToken  # noqa: E402
from gridgov.screen.seed import seed_demo_cameras, seed_demo_indicators  # noqa: E402

OPEN = ["reported", "accepted", "dispatched", "handling", "handled", "verified"]
CHANNELS = ["grid_patrol", "hotline", "window", "resident", "video_alarm", "iot", "proactive"]


def square(lon, lat, size):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_regions():
    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区", boundary=square(116.9, 36.6, 0.3))
    sub = Region.objects.create(level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district, boundary=square(117.0, 36.68, 0.08))
    grids = []
    for c in range(8):
        lon0 = 117.0 + 0.01 * c
        community = Region.objects.create(level=Level.COMMUNITY, code=f"{sub.code}{c + 1:03d}", name=f"第{c + 1}社区", parent=sub, boundary=square(lon0, 36.68, 0.01))
        for g in range(8):
            grids.append(Region.objects.create(
                level=Level.GRID, code=f"{community.code}{g + 1:03d}", name=f"第{c + 1}社区第{g + 1}网格", parent=community,
                boundary={"type": "Polygon", "coordinates": [[[lon0, 36.68 + 0.00125 * g], [lon0 + 0.01, 36.68 + 0.00125 * g],
                          [lon0 + 0.01, 36.68 + 0.00125 * (g + 1)], [lon0, 36.68 + 0.00125 * (g + 1)], [lon0, 36.68 + 0.00125 * g]]]},
                grid_type=GridType.BASIC, households=400,
            ))
    return sub, grids


def point_pool(grids, rng, size=4000):
    pool = []
    for _ in range(size):
        grid = rng.choice(grids)
        ring = grid.boundary["coordinates"][0]
        lon = rng.uniform(ring[0][0], ring[1][0])
        lat = rng.uniform(ring[0][1], ring[2][1])
        pool.append((lon, lat, h3.latlng_to_cell(lat, lon, 9), grid.id, grid.code))
    return pool


def fill_cases(count, grids, rng):
    """Bulk-insert `count` cases over three years with raw executemany batches."""
    departments = [Department.objects.create(code=f"D{i:02d}", name=f"部门{i}") for i in range(20)]
    categories = list(Category.objects.filter(parent__isnull=False).values_list("id", flat=True)) or [None]
    pool = point_pool(grids, rng)
    now = timezone.now()
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"INSERT INTO {Case._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
    adapt = datetime_adapter()
    base = {f.attname: f.get_default() for f in fields}
    # Oldest first, so the time indexes grow at their end like in real life.
    ages = sorted((rng.random() ** 1.6 * 3 * 365 * 24 for _ in range(count)), reverse=True)  # denser near today
    started = time.monotonic()
    batch = []
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous=OFF")  # a throw-away bench database
            cursor.execute("PRAGMA cache_size=-400000")
        for n, age_hours in enumerate(ages):
            created = now - dt.timedelta(hours=age_hours)
            lon, lat, cell, grid_id, code = pool[rng.randrange(len(pool))]
            row = dict(base, number=f"B{n:09d}", channel=CHANNELS[n % 7], category_id=rng.choice(categories),
                       priority=4 if rng.random() < 0.02 else 2, description="bench", lon=lon, lat=lat, h3_cell=cell,
                       grid_id=grid_id, region_code=code, department_id=departments[n % 20].id, created_at=created,
                       updated_at=created, idempotency_key=None)
            shape_case(row, created, now, age_hours, rng)
            for key in ("created_at", "updated_at", "accepted_at", "dispatched_at", "signed_at", "handled_at", "closed_at", "due_at", "warn_at"):
                row[key] = adapt(row[key]) if row[key] else None
            batch.append([row[f.attname] for f in fields])
            if len(batch) == 20000:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
    sign_clocks(now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.monotonic() - started


def datetime_adapter():
    """SQLite stores naive UTC text; psycopg takes aware datetimes as they are."""
    if connection.vendor != "sqlite":
        return lambda value: value
    return lambda value: value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(" ")


def shape_case(row, created, now, age_hours, rng):
    open_share = 0.7 if age_hours < 48 else 0.25 if age_hours < 24 * 14 else 0.0
    step = dt.timedelta(minutes=20)
    if rng.random() < open_share:
        row["status"] = rng.choice(OPEN)
        due = created + dt.timedelta(hours=rng.uniform(2, 120))
        row["due_at"], row["warn_at"] = due, due - (due - created) * 0.3
        stage = OPEN.index(row["status"])
    else:
        row["status"] = "rejected" if rng.random() < 0.03 else "closed"
        stage = 0 if row["status"] == "rejected" else 7
    if stage >= 1:
        row["accepted_at"] = created + step
    if stage >= 2:
        row["dispatched_at"] = created + 2 * step
    if stage >= 3:
        row["signed_at"] = created + 3 * step
    if stage >= 4:
        row["handled_at"] = created + 10 * step
    if stage == 7:
        row["closed_at"] = min(now, created + dt.timedelta(hours=rng.uniform(4, 200)))
        row["was_overdue"] = rng.random() < 0.08
        row["rating"] = rng.choice([1, 2, 3, 3, 3, None])


def sign_clocks(now):
    """Sign-off clocks for the dispatched cases of the last 60 days (what the rates read)."""
    rows = Case.objects.filter(created_at__gte=now - dt.timedelta(days=60), dispatched_at__isnull=False).values_list("id", "dispatched_at", "signed_at")
    clocks = [
        CaseClock(case_id=pk, kind="sign", limit_value=1, limit_unit="working_hours", started_at=start,
                  due_at=start + dt.timedelta(hours=1), warn_at=start + dt.timedelta(minutes=42), stopped_at=signed,
                  overdue=bool(signed and pk % 13 == 0))
        for pk, start, signed in rows.iterator()
    ]
    CaseClock.objects.bulk_create(clocks, batch_size=5000)


def median_ms(client, url, runs):
    """Median wall and CPU milliseconds per request. The server runs in this process, so
    CPU time is its own work; on a shared, loaded machine wall time also counts waiting."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(wall), statistics.median(cpu)


def bench_overview(args):
    rng = random.Random(1128)
    call_command("migrate", verbosity=0)
    if Case.objects.exists():  # GRIDGOV_VAR of an earlier run: its cases and counts are reused
        sub = Region.objects.get(level=Level.SUBDISTRICT)
        insert_seconds = 0.0
        analyze()  # also for indexes that the migrate above has just added
    else:
        sub, grids = build_regions()
        seed_demo_cameras()
        seed_demo_indicators()
        insert_seconds = fill_cases(args.cases, grids, rng)
        started, started_cpu = time.perf_counter(), time.process_time()
        count_rows = rebuild()
        print(f"daily counts rebuilt: {count_rows:,} rows in {time.perf_counter() - started:.1f} s wall, "
              f"{time.process_time() - started_cpu:.1f} s cpu", flush=True)
        analyze()
    total = Case.objects.count()
    token = KioskToken(label="bench", scope=sub, expires_at=timezone.now() + dt.timedelta(days=1))
    raw = token.set_new_token()
    token.save()
    from django.conf import settings

    settings.GRIDGOV_SCREEN["cache_seconds"] = 0  # measure the queries, not the cache
    client = Client()
    url = f"/api/v1/screen/overview/?token={raw}"
    median_ms(client, url, 2)  # warm-up
    overview = median_ms(client, url, args.runs)
    baseline = median_ms(client, "/healthz", args.runs)
    from gridgov.screen import overview as overview_module

    sections = section_times(overview_module, sub.code)
    queries = slowest_queries(overview_module, sub.code)
    from_cases = build_median(lambda: overview_module.build_overview(sub.code, counts=False), max(3, args.runs // 3))
    refresh = refresh_cost(rng, 300)
    settings.GRIDGOV_SCREEN["cache_seconds"] = 5
    cached = median_ms(client, url, args.runs)
    print(f"database: {connection.vendor}; cases: {total:,} (inserted in {insert_seconds:.1f} s)")
    print(f"overview, no cache: median {overview[0]:.1f} ms wall, {overview[1]:.1f} ms cpu over {args.runs} requests")
    print(f"baseline GET /healthz (SELECT 1): median {baseline[0]:.2f} ms wall, {baseline[1]:.2f} ms cpu; "
          f"ratio {overview[0] / baseline[0]:.0f}x wall, {overview[1] / baseline[1]:.0f}x cpu")
    print(f"overview from the per-process cache: median {cached[0]:.2f} ms wall, {cached[1]:.2f} ms cpu")
    print(f"build_overview with the window figures from the cases table (the old way): median {from_cases[0]:.0f} ms wall, "
          f"{from_cases[1]:.0f} ms cpu; ratio to the counts {from_cases[1] / max(overview[1], 0.001):.1f}x cpu")
    print("where the time goes (build_overview sections, median ms wall / cpu): "
          + ", ".join(f"{name} {wall:.1f}/{cpu:.1f}" for name, (wall, cpu) in sections.items()))
    print(f"queries of one build_overview: {queries[0]}, {queries[1]:.0f} ms in the database (debug cursor); slowest: "
          + "; ".join(f"{ms:.0f} ms {sql}" for ms, sql in queries[2]))
    print(f"keeping the counts: refresh_case median {refresh[0]:.2f} ms wall, {refresh[1]:.2f} ms cpu per transition")
    print(f"load average during the run: {os.getloadavg()[0]:.1f}")
    return sub.code


def analyze():
    """Planner statistics, and on PostgreSQL the visibility map that index-only scans need
    (what autovacuum provides in service)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def slowest_queries(module, scope_code, top=6):
    """(number of queries, their total ms, the `top` slowest as (ms, start of the SQL))."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        module.build_overview(scope_code)
    timed = sorted(((float(q["time"]) * 1000, q["sql"][:90]) for q in captured.captured_queries), reverse=True)
    return len(timed), sum(ms for ms, _sql in timed), timed[:top]


def build_median(function, runs):
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def section_times(module, scope_code, runs=5):
    """Each top-level part of build_overview timed on its own (same inputs as the page)."""
    window, cases = module.prepare(scope_code, timezone.now())
    parts = {
        "shared reads (open pass, today, window area counts)": lambda: module.prepare(scope_code, timezone.now()),
        "governance": lambda: module.governance(cases, scope_code, window),
        "map": lambda: module.map_layers(cases, scope_code, window),
        "trends": lambda: module.trends(cases, window),
        "rankings": lambda: module.rankings(cases, window),
        "emergency": lambda: module.emergency(cases, scope_code, window),
        "livelihood+property": lambda: module.category_panels(cases, window),
    }
    return {name: build_median(part, runs) for name, part in parts.items()}


def refresh_cost(rng, samples):
    """refresh_case on recent cases after a change of their status (what a transition costs)."""
    from gridgov.screen.daycounts import refresh_case

    ids = list(Case.objects.order_by("-id").values_list("id", flat=True)[:5000])
    picked = rng.sample(ids, samples)
    wall, cpu = [], []
    for pk in picked:
        Case.objects.filter(pk=pk).update(status="closed", closed_at=timezone.now(), rating=3)
        started, started_cpu = time.perf_counter(), time.process_time()
        refresh_case(pk)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


# -- (b) SSE fan-out ------------------------------------------------------------------------
def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_uvicorn(port):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    command = [sys.executable, "-m", "uvicorn", "gridgov.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--lifespan", "off"]
    process = subprocess.Popen(command, env=env, cwd=str(ROOT))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("uvicorn did not start")


async def sse_client(port, path, latencies, ready, stop):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    ready.append(1)
    buffer = b""
    try:
        while not stop.is_set():
            chunk = await asyncio.wait_for(reader.read(65536), timeout=30)
            if not chunk:
                break
            buffer += chunk
            while b"\n\n" in buffer:
                raw, buffer = buffer.split(b"\n\n", 1)
                for line in raw.split(b"\n"):
                    if line.startswith(b"data: {\"t\""):
                        latencies.append(time.time() - json.loads(line[6:])["t"])
    except (asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def fan_out(port, clients, seconds, rate):
    ticket, _ = tickets.issue("", ttl=3600)
    latencies, ready, stop = [], [], asyncio.Event()
    path = f"/events/?ticket={ticket}"
    tasks = [asyncio.create_task(sse_client(port, path, latencies, ready, stop)) for _ in range(clients)]
    deadline = time.monotonic() + 30
    while len(ready) < clients and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # let the server's poller admit every subscriber
    published = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await asyncio.to_thread(publish, "case", {"t": time.time(), "n": published}, region_code="370105001001001")
        published += 1
        await asyncio.sleep(1 / rate)
    await asyncio.sleep(1.5)
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return len(ready), published, latencies


def bench_sse(args):
    port = free_port()
    process = start_uvicorn(port)
    try:
        connected, published, latencies = asyncio.run(fan_out(port, args.clients, args.seconds, args.rate))
    finally:
        process.terminate()
        process.wait(10)
    expected = connected * published
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(f"SSE: {connected} clients connected, {published} events published at {args.rate}/s, "
          f"{len(latencies):,} of {expected:,} deliveries received")
    if latencies:
        print(f"push latency: p50 {pick(0.5):.0f} ms, p95 {pick(0.95):.0f} ms, max {latencies[-1] * 1000:.0f} ms "
              f"(SQLite poll interval {os.environ.get('GRIDGOV_LIVE_POLL_SECONDS', '0.25')} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0, help="events per second")
    parser.add_argument("--skip-overview", action="store_true")
    parser.add_argument("--skip-sse", action="store_true")
    args = parser.parse_args()
    if args.skip_overview:
        call_command("migrate", verbosity=0)
    else:
        bench_overview(args)
    if not args.skip_sse:
        bench_sse(args)


if __name__ == "__main__":
    main()
