"""Benchmark of the monthly hot-topics report (每月一题) over 1,000,000 cases.

Run from the repository root, on PostgreSQL (the production database):
    DATABASE_URL=postgresql://root@127.0.0.1:5432/<name> .venv/bin/python bench/hot_topics.py
or without DATABASE_URL on SQLite (the embedded default). A throw-away test database is
created (test_<name> on PostgreSQL) and dropped at the end.

The cases are written with one INSERT ... SELECT over a number series (as bench/case_list.py
does): 60 grids, 8 H3 cells (resolution 9) per grid, the standard catalogue, one case every
30 seconds over about a year, skewed so some 小类 and cells recur more than others.

Measured (median of 7 runs after 2 warm-ups, wall ms and CPU ms of this process):
- the report as the page builds it (totals, 4 rankings, new hot spots, trend: 8 queries)
  for the default period (3 months against the 3 before), for 6 months, and in the scope
  of one community (region-code prefix);
- the page's `report_for` (the same report, cached for five minutes per scope) on a repeat view;
- the same with an extra covering index (created_at, category_id, h3_cell, grid_id), created
  in the throw-away database only, to size what such an index on cases would buy;
- baseline, same run: one bare `SELECT category_id, COUNT(*) ... GROUP BY category_id`
  over the same 6-month window.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
os.environ.setdefault("AXES_ENABLED", "0")

import django  # noqa: E402

django.setup()

import h3  # noqa: E402
from django.db import connection  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 1_000_000))
RUNS, WARMUP = 7, 2
COMMUNITIES, GRIDS_PER_COMMUNITY, CELLS_PER_GRID = 4, 15, 8


def build_grids():
    from gridgov.geo.models import GridType, Level, Region

    def square(lon, lat, size):
        ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        return {"type": "Polygon", "coordinates": [ring]}

    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区", boundary=square(116.9, 36.6, 0.4))
    sub = Region.objects.create(
        level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district, boundary=square(116.95, 36.65, 0.2)
    )
    grids = []
    for c in range(COMMUNITIES):
        community = Region.objects.create(
            level=Level.COMMUNITY, code=f"370105001{c + 1:03d}", name=f"社区{c + 1}", parent=sub,
            boundary=square(117.0 + 0.03 * c, 36.68, 0.03),
        )
        for g in range(GRIDS_PER_COMMUNITY):
            lon, lat = 117.0 + 0.03 * c + 0.006 * (g % 5), 36.68 + 0.01 * (g // 5)
            grids.append(Region.objects.create(
                level=Level.GRID, code=f"{community.code}{g + 1:03d}", name=f"社区{c + 1}第{g + 1}网格", parent=community,
                boundary=square(lon, lat, 0.006), grid_type=GridType.BASIC,
            ))
    return sub, grids


def grid_cells(grid):
    """CELLS_PER_GRID resolution-9 cells inside the grid (its lower-left area)."""
    ring = grid.boundary["coordinates"][0]
    lon0, lat0 = ring[0]
    cells = []
    for i in range(CELLS_PER_GRID):
        cell = h3.latlng_to_cell(lat0 + 0.0008 + 0.0015 * (i // 4), lon0 + 0.0008 + 0.0013 * (i % 4), 9)
        if cell not in cells:
            cells.append(cell)
    return cells


def insert_cases(grids):
    from gridgov.catalog.models import Category

    vendor = connection.vendor
    false = "false" if vendor == "postgresql" else "0"
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).values_list("id", flat=True))
    cells = ((grid.id, grid.code, cell) for grid in grids for cell in grid_cells(grid))
    places = [(k, grid_id, code, cell) for k, (grid_id, code, cell) in enumerate(cells)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_place (k integer, grid_id bigint, region_code varchar(15), cell varchar(16))")
        cursor.executemany("INSERT INTO bench_place VALUES (%s, %s, %s, %s)", places)
        cursor.execute("CREATE TEMPORARY TABLE bench_cat (k integer, category_id bigint)")
        cursor.executemany("INSERT INTO bench_cat VALUES (%s, %s)", list(enumerate(categories)))
        series = (
            f"generate_series(1, {CASES}) AS s(g)" if vendor == "postgresql"
            else f"(WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < {CASES}) SELECT g FROM seq) AS s"
        )
        created = (
            "(now() - (s.g * 30) * interval '1 second')" if vendor == "postgresql"
            else "datetime('now', '-' || (s.g * 30) || ' seconds')"
        )
        # Skew: a quarter of the cases fall on the first 20 places and the first 12 小类
        # (recurring problems); the rest spread evenly.
        place_k = f"CASE WHEN s.g % 4 = 0 THEN (s.g / 4) % 20 ELSE ((s.g % {len(places)}) * 7919) % {len(places)} END"
        cat_k = f"CASE WHEN s.g % 4 = 0 THEN (s.g / 4) % 12 ELSE ((s.g % {len(categories)}) * 104729) % {len(categories)} END"
        cursor.execute(f"""
            INSERT INTO cases_case (
                number, channel, status, category_id, priority, description, reporter_name, reporter_phone,
                lon, lat, address, h3_cell, grid_id, region_code, needs_placement, idempotency_key,
                due_at, warn_at, was_overdue, rework_count, return_count, extension_count, supervised,
                supervision_note, parked_from_status, reject_reason, rating_comment, created_at, updated_at, version
            )
            SELECT
                'B' || s.g, 'hotline', 'closed', c.category_id, 2, '演示事件描述', '', '',
                117.0, 36.68, '', p.cell, p.grid_id, p.region_code, {false}, NULL,
                NULL, NULL, {false}, 0, 0, 0, {false}, '', '', '', '', {created}, {created}, 1
            FROM {series}
            JOIN bench_place p ON p.k = {place_k}
            JOIN bench_cat c ON c.k = {cat_k}
        """)
        if vendor == "postgresql":
            cursor.execute("ANALYZE cases_case")
        else:
            cursor.execute("ANALYZE")


def timed(function, runs=RUNS):
    """(median wall ms, median CPU ms, last result) over `runs` calls after WARMUP calls."""
    for _ in range(WARMUP):
        result = function()
    wall, cpu = [], []
    for _ in range(runs):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        result = function()
        cpu.append((time.process_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
    return statistics.median(wall), statistics.median(cpu), result


def bare_group_by(start, end):
    """The baseline: SELECT category_id, COUNT(*) ... WHERE created_at in the window GROUP BY category_id."""
    from django.db.models import Count

    from gridgov.cases.models import Case

    window = Case.objects.filter(created_at__gte=start, created_at__lt=end).order_by()
    return lambda: list(window.values_list("category_id").annotate(n=Count("*")))


def covering_index_figures(month):
    """The 3-month report once more with an index that covers the place query (an experiment
    for the cases app's owner: the index is created in this throw-away database only)."""
    from gridgov.cases.models import Case
    from gridgov.proactive.hot_topics import build_report

    with connection.cursor() as cursor:
        cursor.execute("CREATE INDEX bench_hot_cover ON cases_case (created_at, category_id, h3_cell, grid_id)")
        cursor.execute("ANALYZE")
    wall, cpu, _report = timed(lambda: build_report(Case.objects.all(), month, months=3))
    return wall, cpu


def main():
    from gridgov.assessment.months import add_months, current_month
    from gridgov.cases.models import Case
    from gridgov.org.models import StaffRole, User
    from gridgov.org.roles import Role
    from gridgov.proactive.hot_topics import build_report, report_for

    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}; inserting {CASES:,} cases ...", flush=True)
        sub, grids = build_grids()
        start = time.perf_counter()
        insert_cases(grids)
        print(f"  {Case.objects.count():,} cases in {time.perf_counter() - start:.1f} s", flush=True)
        month = add_months(current_month(), -1)
        community = grids[0].code[:12]
        leader = User.objects.create_user("bench_leader", password=None, scope=sub)
        StaffRole.objects.create(user=leader, role=Role.SUBDISTRICT_LEADER)
        scenarios = [
            ("report, 3 months vs 3 before", lambda: build_report(Case.objects.all(), month, months=3)),
            ("report, 6 months vs 6 before", lambda: build_report(Case.objects.all(), month, months=6)),
            ("report, one community, 3 months",
             lambda: build_report(Case.objects.filter(region_code__startswith=community), month, months=3)),
            ("page's report_for, cached (5 min)", lambda: report_for(leader, month, months=3)),
        ]
        rows = []
        for label, function in scenarios:
            wall, cpu, report = timed(function)
            baseline = timed(bare_group_by(report.previous_start, report.end))
            rows.append((label, wall, cpu, baseline[0], baseline[1], report))
        print(f"\nload average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print("median wall ms (CPU ms of this process); baseline: bare COUNT GROUP BY category_id over the same window")
        print(f"{'scenario':36} {'rows in window':>14} {'report':>18} {'baseline':>18} {'ratio':>6}")
        for label, wall, cpu, base_wall, base_cpu, report in rows:
            window = report.total_current + report.total_previous
            print(f"{label:36} {window:14,} {wall:8.1f} ({cpu:6.1f}) {base_wall:8.1f} ({base_cpu:6.1f}) {wall / base_wall:5.1f}x")
        top = rows[0][5]
        covered = covering_index_figures(month)
        print(f"\nwith a covering index on cases (created_at, category_id, h3_cell, grid_id), not in the schema: "
              f"report 3 months {covered[0]:.1f} ms ({covered[1]:.1f} ms cpu)")
        print(f"\ncheck: {top.total_current:,} cases this period, top topic {top.topics[0].label} "
              f"[{top.topics[0].h3_cell}] {top.topics[0].current}, {len(top.new_hot_spots)} new hot spots")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
