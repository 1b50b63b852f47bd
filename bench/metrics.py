"""Benchmark of the metrics (三率 and more) over 1,000,000 cases' facts.

Run from the repository root; on PostgreSQL with DATABASE_URL set, e.g.
    DATABASE_URL=postgresql://root@127.0.0.1:5432/e_metrics_bench .venv/bin/python bench/metrics.py
or without it on an in-memory SQLite database (the embedded default). A throw-away test
database is created (test_<name> on PostgreSQL) and dropped at the end.

The fact rows (one per case, gridgov.metrics.models.CaseFact) are bulk-inserted directly
(not through the services): one year of cases, 20 departments, 60 grids in 4
communities, 200 handlers, 70% closed, a third rated. Measured, best and median of 15 runs
after 3 warm-ups: `compute(level, month)` for every department and for every grid of one
month (about 80,000 cases), unrestricted and for a subdistrict leader (scope filter).

Baseline, same run: a bare `SELECT department_id, COUNT(*) ... GROUP BY department_id`
over the whole fact table, and the same restricted to the month. Target: <= 200 ms.
"""

import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
os.environ.setdefault("AXES_ENABLED", "0")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 1_000_000))
RUNS, WARMUP = 15, 3
DEPARTMENTS, COMMUNITIES, GRIDS_PER_COMMUNITY, HANDLERS = 20, 4, 15, 200
FIRST_DAY = dt.date(2025, 12, 1)
MONTH = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))


def build_reference():
    from gridgov.geo.models import Level, Region
    from gridgov.org.models import Department, StaffRole, User

    def square(lon, lat, size):
        ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        return {"type": "Polygon", "coordinates": [ring]}

    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区", boundary=square(116.9, 36.6, 0.4))
    sub = Region.objects.create(level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district, boundary=square(116.95, 36.65, 0.2))
    grids = []
    for c in range(COMMUNITIES):
        community = Region.objects.create(
            level=Level.COMMUNITY, code=f"370105001{c + 1:03d}", name=f"社区{c + 1}", parent=sub, boundary=square(117.0 + 0.03 * c, 36.68, 0.03)
        )
        for g in range(GRIDS_PER_COMMUNITY):
            grids.append(Region.objects.create(
                level=Level.GRID, code=f"{community.code}{g + 1:03d}", name=f"社区{c + 1}第{g + 1}网格", parent=community,
                boundary=square(117.0 + 0.03 * c + 0.002 * g, 36.68, 0.002),
            ))
    departments = [Department.objects.create(code=f"D{i:02d}", name=f"部门{i}") for i in range(DEPARTMENTS)]
    handlers = User.objects.bulk_create([User(username=f"h{i}", display_name=f"处置员{i}") for i in range(HANDLERS)])
    leader = User.objects.create(username="leader", display_name="街道领导", scope=sub)
    StaffRole.objects.create(user=leader, role="subdistrict_leader")
    return grids, departments, handlers, leader


def fact_rows(grids, departments, handlers):
    rng = random.Random(42)
    days = 365
    for case_id in range(1, CASES + 1):
        grid = grids[rng.randrange(len(grids))]
        dispatched = rng.random() < 0.95
        closed = dispatched and rng.random() < 0.7
        rating = rng.choice((1, 2, 3, 3, 3)) if closed and rng.random() < 0.33 else None
        yield (
            case_id, FIRST_DAY + dt.timedelta(days=case_id * days // CASES), grid.code,
            departments[rng.randrange(DEPARTMENTS)].pk if dispatched else None, grid.pk, grid.parent_id,
            handlers[rng.randrange(HANDLERS)].pk if dispatched else None, None,
            rng.random() < 0.02, dispatched, rng.randrange(0, 3000) if dispatched else None,
            closed, closed and rng.random() < 0.85, rating, rng.random() < 0.05, rng.random() < 0.04,
        )


def insert_facts(grids, departments, handlers):
    columns = ("case_id, created_day, region_code, department_id, grid_id, community_id, handler_id, reporter_id, "
               "rejected, dispatched, response_minutes, closed, closed_on_time, rating, reworked, extended")
    sql = f"INSERT INTO metrics_casefact ({columns}) VALUES ({', '.join(['%s'] * 16)})"
    batch, started = [], time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for row in fact_rows(grids, departments, handlers):
            batch.append(row)
            if len(batch) == 20_000:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else "ANALYZE metrics_casefact")
    return time.perf_counter() - started


def timed(function, runs=RUNS):
    """(best wall ms, median wall ms, median process CPU ms). CPU time includes SQLite's work
    (in-process) but not PostgreSQL's (another process); it is the robust figure on a busy
    shared machine for SQLite."""
    for _ in range(WARMUP):
        function()
    walls, cpus = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        function()
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu_started) * 1000)
    return min(walls), statistics.median(walls), statistics.median(cpus)


def bare_count(month=False):
    where = "WHERE created_day BETWEEN %s AND %s" if month else ""
    params = list(MONTH) if month else []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT department_id, COUNT(*) FROM metrics_casefact {where} GROUP BY department_id", params)
        return cursor.fetchall()


def main():
    from gridgov.metrics import services

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        grids, departments, handlers, leader = build_reference()
        load_seconds = insert_facts(grids, departments, handlers)
        month_cases = services.total(*MONTH)["cases"]
        print(f"database: {connection.vendor}; {CASES:,} fact rows loaded in {load_seconds:.1f} s; month {MONTH[0]:%Y-%m}: {month_cases:,} cases")
        rows = {
            "all departments + all grids, one month": lambda: services.compute_levels(["department", "grid"], *MONTH),
            "the same, subdistrict leader's scope": lambda: services.compute_levels(["department", "grid"], *MONTH, scope_user=leader),
            "all departments, one month": lambda: services.compute("department", *MONTH),
            "all grids, one month": lambda: services.compute("grid", *MONTH),
            "all 200 handlers, one month": lambda: services.compute("staff", *MONTH),
            "all departments, one quarter": lambda: services.compute("department", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
        }
        base_all = timed(lambda: bare_count(False))
        base_month = timed(lambda: bare_count(True))
        print(f"baseline bare COUNT(*) GROUP BY department, whole table: best {base_all[0]:.1f} ms, median {base_all[1]:.1f} ms, cpu {base_all[2]:.1f} ms")
        print(f"baseline bare COUNT(*) GROUP BY department, the month: best {base_month[0]:.1f} ms, median {base_month[1]:.1f} ms, cpu {base_month[2]:.1f} ms")
        for name, function in rows.items():
            best, median, cpu = timed(function)
            print(
                f"{name}: best {best:.1f} ms, median {median:.1f} ms, cpu {cpu:.1f} ms; median ratio to whole-table "
                f"baseline {median / base_all[1]:.2f}, to month baseline {median / base_month[1]:.2f}",
                flush=True,
            )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
