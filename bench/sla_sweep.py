"""Benchmark of the SLA sweep (gridgov.supervision.sweep.run_sweep) over 100,000 open cases.

Run from the repository root, on SQLite (default, a throw-away in-memory test database) or
PostgreSQL:
    DATABASE_URL=postgresql://root@127.0.0.1:5432/sla_bench .venv/bin/python bench/sla_sweep.py

Every case has one running clock of 4 hours (half natural hours, half working hours),
started between 0 and 6 hours ago: about 47% of the clocks are below 70%, 23% in the
warning band, 30% overdue. (Warning and due times are set by wall-clock arithmetic
for speed of setup; the sweep's work is the same.) Staff: 5 handlers in the one department,
3 dispatchers, 2 shift leads, 1 subdistrict leader.

Scenarios:
- catch-up: the passes after a long stop (every due threshold of every clock fires, at most
  GRIDGOV_SUPERVISION["max_warnings_per_pass"] per pass, the next pass at once);
- steady: the next pass right after (nothing new is due: the usual pass);
- one minute later: the clocks that crossed a threshold in that minute.
Baseline, same run: a bare COUNT(*) of the running clocks past their warning point (the
cheapest query that even looks at the same rows). Target: a pass <= 5 s.
"""

import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 100_000))
BATCH = 5000


def build_world(now):
    from gridgov.geo.models import Level, Region
    from gridgov.org.models import Department, StaffRole, User

    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区")
    sub = Region.objects.create(level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district)
    department = Department.objects.create(code="CG", name="城管")
    staff = [("handler", "dept_handler", None, department, 5), ("dispatcher", "dispatcher", district, None, 3),
             ("lead", "shift_lead", district, None, 2), ("leader", "subdistrict_leader", sub, None, 1)]
    for name, role, scope, dept, count in staff:
        for index in range(count):
            user = User.objects.create_user(username=f"{name}{index}", password=None, scope=scope, department=dept)
            StaffRole.objects.create(user=user, role=role)
    return department


def insert_cases(department, now):
    from gridgov.cases.models import Case, CaseClock

    rng = random.Random(7)
    limit = dt.timedelta(hours=4)
    for start in range(0, CASES, BATCH):
        cases = [
            Case(number=f"B{n:09d}", channel="hotline", description="bench", status="handling", created_at=now,
                 region_code=f"370105001{1 + n % 4:03d}{1 + n % 15:03d}", department=department)
            for n in range(start, min(start + BATCH, CASES))
        ]
        Case.objects.bulk_create(cases)
        clocks = []
        for case in cases:
            started = now - dt.timedelta(seconds=rng.uniform(0, 6 * 3600))
            due = started + limit
            clocks.append(CaseClock(
                case=case, kind="handle", limit_value=4, limit_unit=rng.choice(["natural_hours", "working_hours"]),
                started_at=started, due_at=due, warn_at=started + limit * 0.7,
            ))
        CaseClock.objects.bulk_create(clocks)


def timed(function):
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    result = function()
    return (time.perf_counter() - start_wall) * 1000, (time.process_time() - start_cpu) * 1000, result


def baseline(now):
    from gridgov.cases.models import CaseClock

    return CaseClock.objects.filter(stopped_at__isnull=True, warn_at__lte=now).count()


def main():
    from gridgov.supervision.sweep import run_sweep
    from gridgov.web.models import Notification

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        now = timezone.now()
        print(f"database: {connection.vendor}; inserting {CASES:,} open cases with running clocks ...", flush=True)
        department = build_world(now)
        start = time.perf_counter()
        insert_cases(department, now)
        print(f"  done in {time.perf_counter() - start:.1f} s")
        baseline(now)  # warm the cache

        rows = []
        # Catch-up: passes one after another (as the task re-enqueues itself) until drained.
        base_wall = min(timed(lambda: baseline(now))[0] for _ in range(3))
        catch_up = []
        while True:
            wall, cpu, result = timed(lambda: run_sweep(now=now, refresh_statistics=bool(catch_up)))
            catch_up.append((wall, cpu, result))
            if not result["more"]:
                break
        for index, (wall, cpu, result) in enumerate(catch_up, start=1):
            rows.append((f"catch-up pass {index} of {len(catch_up)}", wall, cpu, base_wall, result))
        total_wall = sum(row[0] for row in catch_up)
        print(f"catch-up after a stop: {len(catch_up)} passes, {total_wall / 1000:.1f} s in all")
        for label, at in [("steady (next pass, nothing new)", now), ("one minute later", now + dt.timedelta(minutes=1))]:
            base_wall, _base_cpu, _count = min((timed(lambda: baseline(at)) for _ in range(3)), key=lambda r: r[0])
            wall, cpu, result = timed(lambda: run_sweep(now=at))
            rows.append((label, wall, cpu, base_wall, result))

        print(f"\nload average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print(f"{'pass':38} {'sweep wall ms (CPU)':>22} {'baseline COUNT ms':>18} {'ratio':>7}  warnings / notifications")
        for label, wall, cpu, base_wall, result in rows:
            print(f"{label:38} {wall:12.0f} ({cpu:7.0f}) {base_wall:18.1f} {wall / base_wall:6.0f}x  "
                  f"{result['warnings']:,} / {result['notifications']:,}")
        print(f"notifications in the table: {Notification.objects.count():,}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
