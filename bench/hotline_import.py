"""Benchmark: importing a 12345 order batch from .xlsx (gridgov.hotline.importer).

Run from the repository root:

    .venv/bin/python bench/hotline_import.py                        # 2,000 orders, SQLite
    BENCH_ORDERS=100000 .venv/bin/python bench/hotline_import.py    # the issue 4 target
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_hotline BENCH_ORDERS=100000 \\
        .venv/bin/python bench/hotline_import.py                    # an EMPTY PostgreSQL database

By default a temporary SQLite file database (WAL, as in the embedded default) is migrated
and given a district with one subdistrict and two communities; a workbook of N orders (no
coordinates, as most hotline orders come; every address different) is generated in memory
(not timed), then imported: read with openpyxl, every row checked, then all orders saved in
one transaction (case, clock, timeline event, HotlineOrder with its hotline deadlines),
set-based through gridgov.cases.bulk. Best of BENCH_REPEATS runs (3, or 1 from 10,000
orders), each with new order numbers.

Times: process CPU (time.process_time), wall, and on PostgreSQL the CPU of the server
backend serving this connection (from /proc when the server runs on this machine). The
`case_changed` receivers that run after commit (screen daily counts, metrics facts, ...)
are timed separately: they are being moved to the worker, so the import's own time is
shown without them, and the total with them.

Baseline, same run: BENCH_BASELINE_ORDERS (default min(N, 2,000)) cases created with
cases.services.create_case one by one in one transaction (no workbook, no order row) -- the
path every imported row took before. The ratio compares CPU per order.
"""

import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
WORKDIR = Path(tempfile.mkdtemp(prefix="gridgov-bench-hotline-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "gridgov.settings"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
os.environ["GRIDGOV_VAR"] = str(WORKDIR)
os.environ["DEBUG"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from openpyxl import Workbook  # noqa: E402

N = int(os.environ.get("BENCH_ORDERS", 2000))
BASELINE_N = int(os.environ.get("BENCH_BASELINE_ORDERS", min(N, 2000)))
REPEATS = int(os.environ.get("BENCH_REPEATS", 3 if N < 10_000 else 1))
TARGET_ORDERS, TARGET_SECONDS = 100_000, 60.0
TYPES = ["咨询", "求助", "投诉", "举报", "建议"]
CONTENTS = ["小区门口垃圾无人清运", "楼道照明损坏", "噪音扰民，夜间施工", "咨询养老补贴办理流程", "建议增设健身器材"]
STREETS = ["南村街道", "象霞社区", "西区社区", "济南市天桥区南村街道"]


def build_world():
    from gridgov.geo.models import Level, Region
    from gridgov.org.models import StaffRole, User

    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区")
    subdistrict = Region.objects.create(level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district)
    for code, name in (("001", "象霞社区"), ("002", "西区社区")):
        Region.objects.create(level=Level.COMMUNITY, code=subdistrict.code + code, name=name, parent=subdistrict)
    clerk = User.objects.create_user("bench-clerk", password=None, scope=district)
    StaffRole.objects.create(user=clerk, role="intake_clerk")
    return clerk


def address(n):
    """A different address on every row (a per-text cache must not flatter the figures)."""
    return f"{STREETS[n % 4]}{n % 40 + 1}号楼{n % 6 + 1}单元{n}室"


def workbook(run):
    book = Workbook()  # openpyxl writes inline strings (Excel writes shared ones; both are read)
    sheet = book.active
    sheet.append(["工单编号", "诉求类型", "紧急程度", "来电人", "联系电话", "诉求内容", "地址", "办理时限"])
    for n in range(N):
        sheet.append([
            f"R{run}-{n:06d}", TYPES[n % 5], "紧急" if n % 20 == 0 else "一般", "张三", f"139{n:08d}",
            CONTENTS[n % 5], address(n), None,
        ])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


class Clock:
    """CPU, wall and (PostgreSQL on this machine) server backend CPU seconds of a block,
    how much of it the case_changed receivers took, and the CPU of
    cases.services.announce_created (the in-transaction outbox writers and marks) and the
    wall time of the saving transaction."""

    receivers_cpu = receivers_wall = announce_cpu = saving_wall = saving_cpu = 0.0

    def __enter__(self):
        Clock.receivers_cpu = Clock.receivers_wall = Clock.announce_cpu = Clock.saving_wall = Clock.saving_cpu = 0.0
        self.start = (time.process_time(), time.perf_counter(), server_cpu())
        return self

    def __exit__(self, *exc):
        cpu, wall, server = self.start
        self.cpu = time.process_time() - cpu
        self.wall = time.perf_counter() - wall
        end = server_cpu()
        self.server = None if end is None or server is None else end - server
        self.receivers = (Clock.receivers_cpu, Clock.receivers_wall)
        self.announce = Clock.announce_cpu
        self.saving = Clock.saving_wall
        self.saving_cpu = Clock.saving_cpu


def server_cpu():
    """utime + stime of this connection's PostgreSQL backend, if /proc shows it."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_receivers():
    """Count the time spent in case_changed receivers (run after commit) separately."""
    from gridgov.cases.signals import case_changed

    send_robust = case_changed.send_robust

    def timed_send(*args, **kwargs):
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return send_robust(*args, **kwargs)
        finally:
            Clock.receivers_cpu += time.process_time() - cpu
            Clock.receivers_wall += time.perf_counter() - wall

    case_changed.send_robust = timed_send


def time_announce():
    """Count the CPU of cases.services.announce_created (called by gridgov.cases.bulk)."""
    from gridgov.cases import bulk

    announce_created = bulk.case_services.announce_created

    def timed_announce(pairs):
        cpu = time.process_time()
        try:
            return announce_created(pairs)
        finally:
            Clock.announce_cpu += time.process_time() - cpu

    bulk.case_services.announce_created = timed_announce


def time_saving():
    """Count the wall and CPU time of the import's saving transaction (SQLite's write lock
    held: its CPU time is the lock's length on a machine that is not loaded)."""
    from gridgov.hotline import importer

    save_new_orders = importer.save_new_orders

    def timed_save(prepared):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return save_new_orders(prepared)
        finally:
            Clock.saving_wall += time.perf_counter() - wall
            Clock.saving_cpu += time.process_time() - cpu

    importer.save_new_orders = timed_save


def import_run(clerk, data):
    from gridgov.hotline.importer import import_orders

    with Clock() as clock:
        report = import_orders(io.BytesIO(data), clerk)
    assert report.ok and report.created == N, report.errors[:3]
    return clock


def baseline_run(clerk, run):
    from gridgov.cases.services import create_case

    with Clock() as clock, transaction.atomic():
        for n in range(BASELINE_N):
            create_case(
                clerk, channel="hotline", description=CONTENTS[n % 5], address=address(n),
                reporter_name="张三", reporter_phone=f"139{n:08d}", idempotency_key=f"base-{run}-{n}",
            )
    return clock


def line(name, clock, count):
    own_cpu, own_wall = clock.cpu - clock.receivers[0], clock.wall - clock.receivers[1]
    server = f" server {clock.server:6.2f}" if clock.server is not None else ""
    print(
        f"  {name:9s} {count:7d} orders: total {clock.cpu:7.2f} cpu {clock.wall:7.2f} wall | "
        f"without receivers {own_cpu:7.2f} cpu {own_wall:7.2f} wall{server} | "
        f"{count / own_cpu:7.0f} orders per cpu-s (without receivers)"
        + (f" | announce_created {clock.announce:.2f} cpu" if clock.announce else "")
        + (f" | saving transaction {clock.saving:.2f} wall {clock.saving_cpu:.2f} cpu" if clock.saving else "")
    )
    return own_cpu / count, clock.cpu / count


def main():
    call_command("migrate", verbosity=0)
    clerk = build_world()
    time_receivers()
    time_announce()
    time_saving()
    imports, baselines = [], []
    for run in range(REPEATS):
        data = workbook(run)
        imports.append(import_run(clerk, data))
        baselines.append(baseline_run(clerk, run))
    best_import = min(imports, key=lambda clock: clock.cpu - clock.receivers[0])
    best_baseline = min(baselines, key=lambda clock: clock.cpu - clock.receivers[0])
    print(f"{connection.vendor}, best of {REPEATS} (seconds; receivers = case_changed listeners after commit)")
    own_import, total_import = line("import", best_import, N)
    own_base, total_base = line("baseline", best_baseline, BASELINE_N)
    print(f"  speed-up per order, baseline / import (CPU): {own_base / own_import:.1f}x without receivers, "
          f"{total_base / total_import:.1f}x with them")
    wall = best_import.wall - best_import.receivers[1]
    if N >= TARGET_ORDERS:
        verdict = "met" if wall <= TARGET_SECONDS else "NOT met"
        print(f"  target {TARGET_ORDERS} rows <= {TARGET_SECONDS:.0f} s: {wall:.1f} s wall without receivers "
              f"({best_import.wall:.1f} s with them): {verdict}")


if __name__ == "__main__":
    main()
