"""Benchmark: creating cases through the service layer (gridgov.cases.services.create_case).

Run from the repository root:  .venv/bin/python bench/create_cases_service.py

A temporary SQLite file database (WAL, as in the embedded default) is migrated, given a
60-grid district and the standard catalogue, then N cases are created one at a time, each
in its own transaction with its own idempotency key, as the API does: text checks,
coordinate conversion, locating (grid, region, h3 cell), the 小类 lookup by primary key,
the SLA clock in office time with its 70% warning point, the case number, the
hash-chained timeline event. 5% of the points lie outside every grid (needs placement).

Since decision 0012 a create also writes, in its transaction, the live-feed row and the
changed-case mark (the screen's daily counts and the metrics facts are refreshed by the
worker); the after-commit `case_changed` receivers that remain return at once for a create.
Figures:
- one process: the service exactly as a request runs it (every receiver installed), best of
  3 runs of N cases, CPU time with wall time beside it (the shared machine is often busy,
  which inflates wall time far more than CPU time);
- two processes creating at once on the same database (this machine has 2 cores): the
  aggregate rate in wall time, the machine's throughput for one-case-per-transaction intake;
- the worker's refresh of the derived figures of those cases (CPU per case), which must keep
  up with intake on the other core;
- what each installed receiver adds (one run each).

Baseline, same run: the very rows the service wrote (case, clock, event, live-feed row,
mark) written again with raw INSERTs on the DB-API connection, one transaction per case.
The ratio says what the service layer costs over bare writes. Target: >= 2,000 cases/s.

Beside it, the same reports through the service layer's bulk path (cases.bulk, as the 12345
import uses it: the same checks, placement, numbers, clocks and hash-chained events, many
cases per transaction), 100 and 1,000 per transaction: what batching buys where reports
arrive in batches (imports, a queue of device alarms); one report per transaction stays the
figure for interactive intake.
"""

import contextlib
import os
import random
import sys
import tempfile
import time
import weakref
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
WORKDIR = Path(tempfile.mkdtemp(prefix="gridgov-bench-create-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
os.environ["GRIDGOV_VAR"] = str(WORKDIR)
os.environ["DEBUG"] = "0"  # as in production: no per-query debug log

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

N = int(os.environ.get("BENCH_CASES", 5000))
REPEATS = 3
BULK_BATCHES = (100, 1000)  # reports per transaction on the service layer's bulk path
COLUMNS, ROWS, SIZE = 10, 6, 0.01
LON0, LAT0 = 117.0, 36.6
CHANNELS = ["hotline", "grid_patrol", "resident", "window"]
DESCRIPTIONS = ["小区门口有暴露垃圾，影响通行", "路灯不亮，夜间行人不便", "商户占道经营，堆放杂物", "井盖破损，存在安全隐患"]


def square(lon, lat, size):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def build_world():
    from gridgov.catalog.models import Category
    from gridgov.geo.models import GridType, Level, Region
    from gridgov.org.models import StaffRole, User

    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区", boundary=square(116.9, 36.5, 0.4))
    subdistrict = Region.objects.create(level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district)
    communities = [
        Region.objects.create(level=Level.COMMUNITY, code=f"370105001{c + 1:03d}", name=f"社区{c + 1}", parent=subdistrict)
        for c in range(ROWS)
    ]
    grids = [
        Region(
            level=Level.GRID, code=f"{communities[row].code}{col + 1:03d}", name=f"网格{row}-{col}", parent=communities[row],
            boundary=square(LON0 + col * SIZE, LAT0 + row * SIZE, SIZE), grid_type=GridType.BASIC,
        )
        for row in range(ROWS)
        for col in range(COLUMNS)
    ]
    for grid in grids:
        grid.save()
    clerk = User.objects.create_user("bench-clerk", password=None, scope=district)
    StaffRole.objects.create(user=clerk, role="intake_clerk")
    categories = list(
        Category.objects.filter(is_active=True, parent__isnull=False, parent__is_active=True).values_list("pk", flat=True)
    )
    return clerk, categories


def make_inputs(categories, run=0):
    """N reports; the same points and texts in every run, fresh idempotency keys."""
    rng = random.Random(20261128)
    inputs = []
    for index in range(N):
        if rng.random() < 0.05:  # outside every grid
            lon, lat = LON0 - 0.05 * rng.random(), LAT0 - 0.05 * rng.random()
        else:
            lon, lat = LON0 + rng.random() * COLUMNS * SIZE, LAT0 + rng.random() * ROWS * SIZE
        inputs.append({
            "channel": CHANNELS[index % len(CHANNELS)],
            "description": DESCRIPTIONS[index % len(DESCRIPTIONS)],
            "category": categories[index % len(categories)],
            "lon": lon,
            "lat": lat,
            "reporter_phone": "13800001234",
            "idempotency_key": f"bench-{run}-{index}",
        })
    return inputs


def best_of(repeats, run):
    """The smallest cpu and the smallest wall time of `repeats` runs."""
    results = [run() for _ in range(repeats)]
    return min(cpu for cpu, _ in results), min(wall for _, wall in results)


def run_service(clerk, inputs):
    from gridgov.cases.services import create_case

    cpu, wall = time.process_time(), time.perf_counter()
    for fields in inputs:
        create_case(clerk, **fields)
    return time.process_time() - cpu, time.perf_counter() - wall


def run_bulk(clerk, inputs, batch):
    """The same reports through the service layer's bulk path (cases.bulk.create_cases_bulk:
    the same checks, placement, numbers, clocks and timeline events), `batch` per transaction."""
    from gridgov.cases.bulk import create_cases_bulk

    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(inputs), batch):
        create_cases_bulk(clerk, inputs[start:start + batch])
    return time.process_time() - cpu, time.perf_counter() - wall


def stored_rows():
    """The rows the service wrote, per case: (case, clock, event) as column->value dicts."""
    with connection.cursor() as cursor:
        tables = {}
        for table in ("cases_case", "cases_caseclock", "cases_caseevent"):
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")
            columns = [c[0] for c in cursor.description]
            tables[table] = [dict(zip(columns, row)) for row in cursor.fetchall()]
    clocks = {row["case_id"]: row for row in tables["cases_caseclock"]}
    events = {row["case_id"]: row for row in tables["cases_caseevent"]}
    return [(case, clocks[case["id"]], events[case["id"]]) for case in tables["cases_case"]]


def insert_sql(table, row):
    columns = [c for c in row if c != "id"]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", columns


def run_raw(rows, prefix):
    """The same rows again, raw, one transaction per case (plus the sequence upsert, which
    the service now runs once per 20 cases: the baseline keeps the cost of the old way)."""
    raw = connection.connection  # the sqlite3 connection Django opened (WAL, same pragmas)
    case_sql, case_cols = insert_sql("cases_case", rows[0][0])
    clock_sql, clock_cols = insert_sql("cases_caseclock", rows[0][1])
    event_sql, event_cols = insert_sql("cases_caseevent", rows[0][2])
    sequence_sql = (
        "INSERT INTO cases_casenumbersequence (day, last) VALUES (?, 1) "
        "ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last"
    )
    live_sql, live_columns = insert_sql("screen_liveevent", live_row())
    live_values = [live_row()[c] for c in live_columns]
    cpu, wall = time.process_time(), time.perf_counter()
    for case, clock, event in rows:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(sequence_sql, ("2000-01-01",)).fetchone()
        values = dict(case, number=prefix + case["number"], idempotency_key=None)
        case_id = raw.execute(case_sql, [values[c] for c in case_cols]).lastrowid
        raw.execute(clock_sql, [dict(clock, case_id=case_id)[c] for c in clock_cols])
        raw.execute(event_sql, [dict(event, case_id=case_id)[c] for c in event_cols])
        raw.execute(live_sql, live_values)
        raw.execute("INSERT INTO cases_changedcase (case_id) VALUES (?)", (case_id,))
        raw.execute("COMMIT")
    return time.process_time() - cpu, time.perf_counter() - wall


def live_row():
    """A live-feed row as the service wrote it (the newest)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM screen_liveevent ORDER BY id DESC LIMIT 1")
        return dict(zip([c[0] for c in cursor.description], cursor.fetchone()))


def queries_per_create(clerk, fields):
    from gridgov.cases.services import create_case

    with CaptureQueriesContext(connection) as captured:
        create_case(clerk, **fields)
    return [q["sql"].split(" ")[0] for q in captured.captured_queries]


@contextlib.contextmanager
def listeners_disconnected():
    """Without the other apps' case_changed listeners (screen live feed, notifications)."""
    with listeners_only(()) as names:
        yield names


@contextlib.contextmanager
def listeners_only(keep):
    """Only the installed case_changed receivers named in `keep`; yields every installed name."""
    from gridgov.cases.signals import case_changed

    saved = case_changed.receivers[:]
    case_changed.receivers = [entry for entry in saved if _name(entry[1]) in keep]
    case_changed.sender_receivers_cache.clear()
    try:
        yield [_name(receiver) for _key, receiver, *_rest in saved]
    finally:
        case_changed.receivers = saved
        case_changed.sender_receivers_cache.clear()


def receiver_costs(clerk, categories, runs, listeners, service_cpu):
    """CPU per case of each installed case_changed receiver alone (one run each), over the
    service without receivers: every app that listens shows what it adds to each create."""
    per_case = service_cpu / N
    for name in listeners:
        with listeners_only({name}):
            cpu, _wall = run_service(clerk, make_inputs(categories, next(runs)))
        print(f"  {name:60s} +{1e6 * (cpu / N - per_case):6.0f} µs per case")


def _name(receiver):
    if isinstance(receiver, weakref.ReferenceType):
        receiver = receiver()
    return f"{receiver.__module__}.{receiver.__qualname__}"


def calibration_us():
    """A pure-Python yardstick, to compare figures taken on busier or idler machines."""
    runs = []
    for _ in range(5):
        cpu = time.process_time()
        for _ in range(2000):
            sum(range(1000))
        runs.append((time.process_time() - cpu) / 2000 * 1e6)
    return min(runs)


def rate_line(label, cpu, wall):
    return f"{label:44s} {N / cpu:7.0f} cases/s cpu ({1e6 * cpu / N:5.0f} µs), {N / wall:7.0f} cases/s wall"


def main():
    print(f"work directory: {WORKDIR}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"migrated in {time.perf_counter() - started:.1f} s; journal_mode:", end=" ")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        print(cursor.fetchone()[0])
    clerk, categories = build_world()
    print(f"{len(categories)} active sub-categories, {N} cases per run, best of {REPEATS}, {COLUMNS * ROWS} grids")
    from gridgov.cases import changes
    from gridgov.cases.services import create_case

    runs = iter(range(1, 100))
    for fields in make_inputs(categories, run="warm-up")[:50]:  # locator index, calendar, caches
        create_case(clerk, **fields)
    kinds = queries_per_create(clerk, dict(make_inputs(categories)[0], idempotency_key="probe"))
    print(f"statements per create: {len(kinds)} ({', '.join(kinds)})")
    service_cpu, service_wall = best_of(REPEATS, lambda: run_service(clerk, make_inputs(categories, next(runs))))
    rows = stored_rows()[-N:]  # the last run's rows
    pending = changes.pending_count()
    cpu = time.process_time()
    changes.refresh_all()
    refresh_us = (time.process_time() - cpu) / pending * 1e6
    with listeners_disconnected() as listeners:
        bare_cpu, _bare_wall = run_service(clerk, make_inputs(categories, next(runs)))
    print(f"case_changed receivers installed: {', '.join(map(str, listeners)) or 'none'}")
    print("added by each case_changed receiver alone (1 run each, over the service without them):")
    receiver_costs(clerk, categories, runs, listeners, bare_cpu)
    parallel_wall = run_in_processes(clerk, categories, next(runs))
    bulk = {batch: best_of(REPEATS, lambda: run_bulk(clerk, make_inputs(categories, next(runs)), batch)) for batch in BULK_BATCHES}
    changes.refresh_all()
    prefixes = iter("BCDEFGHIJ")
    raw_cpu, raw_wall = best_of(REPEATS, lambda: run_raw(rows, next(prefixes)))
    print(rate_line("service layer, as a request runs it", service_cpu, service_wall))
    print(f"{'2 processes at once (aggregate, wall)':44s} {2 * N / parallel_wall:7.0f} cases/s")
    print(f"{'worker refresh of the derived figures':44s} {1e6 / refresh_us:7.0f} cases/s cpu ({refresh_us:5.0f} µs)")
    print(rate_line("raw INSERTs of the same rows (baseline)", raw_cpu, raw_wall))
    for batch, (bulk_cpu, bulk_wall) in bulk.items():
        print(rate_line(f"service layer, bulk path, {batch} per transaction", bulk_cpu, bulk_wall))
    print(f"ratio service / baseline: {service_cpu / raw_cpu:.1f}x cpu, {service_wall / raw_wall:.1f}x wall")
    print(f"machine speed check: sum(range(1000)) takes {calibration_us():.1f} µs cpu in this process")
    checks = [("one process, cpu", N / service_cpu), ("2 processes, wall", 2 * N / parallel_wall)]
    checks += [(f"bulk path, {batch} per transaction, wall", N / wall) for batch, (_cpu, wall) in bulk.items()]
    for label, rate in checks:
        print(f"target >= 2,000 cases/s ({label}): {'met' if rate >= 2000 else 'NOT met'}")


def run_in_processes(clerk, categories, run, processes=2):
    """Wall time for `processes` forked processes to create N cases each at once."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    ready, go = context.Barrier(processes + 1), context.Event()
    workers = [
        context.Process(target=_create_in_child, args=(clerk, make_inputs(categories, f"{run}-{p}"), ready, go))
        for p in range(processes)
    ]
    for worker in workers:
        worker.start()
    ready.wait()
    started = time.perf_counter()
    go.set()
    for worker in workers:
        worker.join()
    assert all(worker.exitcode == 0 for worker in workers)
    return time.perf_counter() - started


def _create_in_child(clerk, inputs, ready, go):
    from gridgov.cases.services import create_case

    create_case(clerk, **dict(inputs[0], idempotency_key=inputs[0]["idempotency_key"] + "-warm"))
    ready.wait()
    go.wait()
    for fields in inputs:
        create_case(clerk, **fields)


if __name__ == "__main__":
    main()
