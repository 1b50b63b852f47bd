"""Benchmark of the case list page (/cases/) and the case page (/cases/<id>/) over 1,000,000 cases.

Run from the repository root, on PostgreSQL (the production database):
    DATABASE_URL=postgresql://root@127.0.0.1:5432/h_web2_bench .venv/bin/python bench/case_list.py
or without DATABASE_URL on an in-memory SQLite database (the embedded default).
A throw-away test database is created (test_<name> on PostgreSQL) and dropped at the end.

The cases are written with one INSERT ... SELECT over a number series (seconds, not the
minutes the ORM would take): 60 grids in 4 communities, the standard catalogue, one year of
history (70% closed), every 30 seconds one case. The page is then requested through the
Django test client exactly as a browser would (session, scope, filters, template), and the
median of 21 requests is reported per scenario.

Baselines, same run: the same page with an exact COUNT(*) of the filtered set (what a
stock Paginator does) instead of the capped count; GET /healthz (SELECT 1) through the
same client. Also: the case page of a case with a short history (created, accepted,
dispatched through the services), and text search (decision 0006: exact keys by index,
free text within the last 30 days). Target: median <= 150 ms (list and case page).
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

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 1_000_000))
RUNS = 21
WARMUP = 3
COMMUNITIES, GRIDS_PER_COMMUNITY = 4, 15


def build_regions():
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
            grids.append(Region.objects.create(
                level=Level.GRID, code=f"{community.code}{g + 1:03d}", name=f"社区{c + 1}第{g + 1}网格", parent=community,
                boundary=square(117.0 + 0.03 * c + 0.006 * (g % 5), 36.68 + 0.01 * (g // 5), 0.006), grid_type=GridType.BASIC,
            ))
    return sub, grids


def build_users(sub, grid):
    from gridgov.org.models import StaffRole, User
    from gridgov.org.roles import Role

    clerk = User.objects.create_user("bench_clerk", password="x", scope=sub)
    StaffRole.objects.create(user=clerk, role=Role.INTAKE_CLERK)
    inspector = User.objects.create_user("bench_inspector", password="x", scope=grid)
    StaffRole.objects.create(user=inspector, role=Role.GRID_INSPECTOR)
    return clerk, inspector


def case_with_history(sub, clerk, grid):
    """A case through the real services: created, accepted, dispatched (timeline, clocks)."""
    from gridgov.cases import services
    from gridgov.catalog.models import Category
    from gridgov.org.models import Department, StaffRole, User
    from gridgov.org.roles import Role

    dispatcher = User.objects.create_user("bench_dispatcher", password="x", scope=sub)
    StaffRole.objects.create(user=dispatcher, role=Role.DISPATCHER)
    department = Department.objects.create(code="BENCH", name="城管执法中队")
    category = Category.objects.filter(parent__isnull=False, is_active=True).first()
    ring = grid.boundary["coordinates"][0]
    case, _created = services.create_case(
        clerk, channel="hotline", description="小区门口井盖缺失，夜间有安全隐患", category=category,
        lon=(ring[0][0] + ring[1][0]) / 2, lat=(ring[0][1] + ring[2][1]) / 2, address="幸福路12号",
        reporter_name="王小明", reporter_phone="13912345678",
    )
    case = services.accept(case, dispatcher)
    case = services.dispatch(case, dispatcher, department=department)
    return case


def time_expr(seconds_expr, vendor):
    """now() minus `seconds_expr` seconds, as a timestamp of this database."""
    if vendor == "postgresql":
        return f"(now() - ({seconds_expr}) * interval '1 second')"
    return f"datetime('now', '-' || ({seconds_expr}) || ' seconds')"


def insert_cases(grids):
    from gridgov.catalog.models import Category

    vendor = connection.vendor
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True).values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_grid (k integer, grid_id bigint, region_code varchar(15))")
        cursor.executemany("INSERT INTO bench_grid VALUES (%s, %s, %s)", [(k, g.id, g.code) for k, g in enumerate(grids)])
        cursor.execute("CREATE TEMPORARY TABLE bench_cat (k integer, category_id bigint)")
        cursor.executemany("INSERT INTO bench_cat VALUES (%s, %s)", list(enumerate(categories)))
        series = (
            f"generate_series(1, {CASES}) AS s(g)" if vendor == "postgresql"
            else f"(WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < {CASES}) SELECT g FROM seq) AS s"
        )
        created = time_expr("s.g * 30", vendor)
        open_case = "s.g % 10 >= 7"
        due = time_expr("s.g * 30 - 86400", vendor)
        warn = time_expr("s.g * 30 - 61200", vendor)
        cursor.execute(f"""
            INSERT INTO cases_case (
                number, channel, status, category_id, priority, description, reporter_name, reporter_phone,
                lon, lat, address, h3_cell, grid_id, region_code, needs_placement, idempotency_key,
                due_at, warn_at, was_overdue, rework_count, return_count, extension_count, supervised,
                supervision_note, parked_from_status, reject_reason, rating_comment, created_at, updated_at, version
            )
            SELECT
                'B' || s.g,
                CASE s.g % 3 WHEN 0 THEN 'hotline' WHEN 1 THEN 'grid_patrol' ELSE 'window' END,
                CASE s.g % 10 WHEN 7 THEN 'handling' WHEN 8 THEN 'dispatched' WHEN 9 THEN 'reported' ELSE 'closed' END,
                c.category_id, 2, '演示事件描述 ' || s.g, '张三', '1380013' || (s.g % 10000),
                117.0 + (s.g % 1000) * 0.0001, 36.68 + (s.g % 300) * 0.0001, '', '', gr.grid_id, gr.region_code,
                {'false' if vendor == 'postgresql' else '0'}, NULL,
                CASE WHEN {open_case} THEN {due} END, CASE WHEN {open_case} THEN {warn} END,
                {'false' if vendor == 'postgresql' else '0'}, 0, 0, 0, {'false' if vendor == 'postgresql' else '0'},
                '', '', '', '', {created}, {created}, 1
            FROM {series}
            JOIN bench_grid gr ON gr.k = s.g % {len(grids)}
            JOIN bench_cat c ON c.k = s.g % {len(categories)}
        """)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE cases_case")


def measure(client, url, runs=RUNS, expect=200):
    """(median wall ms, median CPU ms of this process) over `runs` requests."""
    for _ in range(WARMUP):
        assert expect is None or client.get(url).status_code == expect
    wall, cpu = [], []
    for _ in range(runs):
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        response = client.get(url)
        cpu.append((time.process_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
        assert expect is None or response.status_code == expect, (url, response.status_code)
    return statistics.median(wall), statistics.median(cpu)


def explain(sql, params, analyze=False):
    with connection.cursor() as cursor:
        cursor.execute(("EXPLAIN ANALYZE " if analyze else "EXPLAIN ") + sql, params)
        return "\n".join("    " + str(row[0] if len(row) == 1 else row) for row in cursor.fetchall())


def execution_ms(sql, params):
    """Server-side execution time of a query (PostgreSQL EXPLAIN ANALYZE), median of 5."""
    times = []
    for _ in range(5):
        plan = explain(sql, params, analyze=True)
        times.append(float(plan.rsplit("Execution Time: ", 1)[1].split(" ")[0]))
    return statistics.median(times)


def page_queries(user):
    from gridgov.cases import views_list
    from gridgov.cases.models import Case

    scoped = Case.objects.restrict(user, "view")
    page = scoped.select_related("category", "category__parent", "department", "grid")
    page = page.order_by(*views_list.order_for("-created_at"))[:51]
    count = scoped.order_by().values("pk")[: views_list.COUNT_CAP + 1]
    exact = scoped.order_by().values("pk")
    return {
        "page rows": page.query.sql_with_params(),
        "capped count": (f"SELECT COUNT(*) FROM ({count.query.sql_with_params()[0]}) AS capped", count.query.sql_with_params()[1]),
        "exact count": (f"SELECT COUNT(*) FROM ({exact.query.sql_with_params()[0]}) AS every", exact.query.sql_with_params()[1]),
    }


def main():
    from gridgov.cases import views_list
    from gridgov.cases.models import Case

    # No setup_test_environment(): its instrumented template rendering would inflate the times.
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"database: {connection.vendor}; inserting {CASES:,} cases ...", flush=True)
        sub, grids = build_regions()
        clerk, inspector = build_users(sub, grids[7])
        start = time.perf_counter()
        insert_cases(grids)
        print(f"  {Case.objects.count():,} cases in {time.perf_counter() - start:.1f} s")
        detailed = case_with_history(sub, clerk, grids[7])  # the inspector's grid
        old_number = Case.objects.order_by("created_at").values_list("number", flat=True)[CASES // 3]

        clients = {}
        for name, user in (("centre clerk (subdistrict)", clerk), ("grid inspector (one grid)", inspector)):
            client = Client()
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            clients[name] = client
        scenarios = [
            ("centre clerk (subdistrict)", "/cases/", "default list, newest first"),
            ("grid inspector (one grid)", "/cases/", "default list, newest first"),
            ("centre clerk (subdistrict)", "/cases/?status=handling", "status filter"),
            ("centre clerk (subdistrict)", "/cases/?clock_state=overdue", "clock state overdue"),
            ("centre clerk (subdistrict)", "/cases/?sort=due_at", "sorted by deadline"),
            ("centre clerk (subdistrict)", "/cases/?page=50", "page 50"),
            ("centre clerk (subdistrict)", f"/cases/{detailed.pk}/", "case page (3 events, 2 clocks)"),
            ("grid inspector (one grid)", f"/cases/{detailed.pk}/", "case page, grid inspector"),
            ("centre clerk (subdistrict)", f"/cases/?q={old_number}", "search: case number (8 months old)"),
            ("centre clerk (subdistrict)", "/cases/?q=13800139999", "search: reporter phone"),
            ("centre clerk (subdistrict)", "/cases/?q=演示事件描述", "search: free text, many matches"),
            ("centre clerk (subdistrict)", "/cases/?q=不存在的词", "search: free text, no match (30-day window)"),
        ]
        # One pass over every scenario first: after the bulk insert the table is cold in
        # the database's cache, which would penalise whichever scenario runs first.
        for user, url, _label in scenarios[:-1]:
            clients[user].get(url)
        rows = []
        exact_count = views_list.capped_count
        healthz = measure(clients["centre clerk (subdistrict)"], "/healthz")
        for user, url, label in scenarios:
            ours = measure(clients[user], url)
            if "case page" in label:
                rows.append((label, user, ours, healthz))
                continue
            views_list.capped_count = lambda queryset, cap=None: queryset.count()
            try:
                baseline = measure(clients[user], url, runs=7)
            finally:
                views_list.capped_count = exact_count
            rows.append((label, user, ours, baseline))

        print(f"\nload average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        print("median of the page request: wall ms (CPU ms of this process); baseline = the same list with an exact "
              "COUNT(*), for the case page GET /healthz")
        print(f"GET /healthz: {healthz[0]:.1f} ms ({healthz[1]:.1f} ms cpu)")
        print(f"{'scenario':44} {'user':28} {'gridgov':>18} {'baseline':>18} {'ratio':>6}")
        for label, user, (wall, cpu), (base_wall, base_cpu) in rows:
            # List rows: how much faster than the exact count; case pages: how many /healthz.
            ratio = f"{wall / base_wall:5.0f}x /healthz" if "case page" in label else f"{base_wall / wall:5.1f}x"
            print(f"{label:44} {user:28} {wall:7.1f} ({cpu:6.1f}) {base_wall:8.1f} ({base_cpu:6.1f}) {ratio}")

        if connection.vendor == "postgresql":
            print("\nserver-side execution time of the page's queries (EXPLAIN ANALYZE, median of 5):")
            for name, user in (("centre clerk", clerk), ("grid inspector", inspector)):
                timings = {key: execution_ms(*query) for key, query in page_queries(user).items()}
                print(f"  {name:15} " + "  ".join(f"{key}: {ms:.1f} ms" for key, ms in timings.items()))
            sql, params = page_queries(clerk)["page rows"]
            print("\nplan of the default page query (centre clerk):\n" + explain(sql, params))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
