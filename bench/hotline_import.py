"""Benchmark: importing a 12345 order batch from .xlsx (gridgov.hotline.importer).

Run from the repository root:  .venv/bin/python bench/hotline_import.py

A temporary SQLite file database (WAL, as in the embedded default) is migrated and given a
district with one subdistrict; a workbook of N orders (no coordinates, as most hotline
orders come) is generated in memory, then imported: read with openpyxl, every row checked,
then all orders saved in one transaction (case, clock, timeline event, HotlineOrder with
its hotline deadlines). Best of 3 runs, each with new order numbers; CPU time with wall
time beside it.

Baseline, same run: the same N cases created with cases.services.create_case in one
transaction, without the spreadsheet and the hotline order. The ratio says what reading the
workbook, the row checks and the order row cost on top of case creation.
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
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR / 'bench.sqlite3'}"
os.environ["GRIDGOV_VAR"] = str(WORKDIR)
os.environ["DEBUG"] = "0"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from openpyxl import Workbook  # noqa: E402

N = int(os.environ.get("BENCH_ORDERS", 2000))
REPEATS = 3
TYPES = ["咨询", "求助", "投诉", "举报", "建议"]
CONTENTS = ["小区门口垃圾无人清运", "楼道照明损坏", "噪音扰民，夜间施工", "咨询养老补贴办理流程", "建议增设健身器材"]


def build_world():
    from gridgov.geo.models import Level, Region
    from gridgov.org.models import StaffRole, User

    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区")
    Region.objects.create(level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district)
    clerk = User.objects.create_user("bench-clerk", password=None, scope=district)
    StaffRole.objects.create(user=clerk, role="intake_clerk")
    return clerk


def workbook(run):
    book = Workbook()
    sheet = book.active
    sheet.append(["工单编号", "诉求类型", "紧急程度", "来电人", "联系电话", "诉求内容", "地址", "办理时限"])
    for n in range(N):
        sheet.append([
            f"R{run}-{n:06d}", TYPES[n % 5], "紧急" if n % 20 == 0 else "一般", "张三", f"139{n:08d}",
            CONTENTS[n % 5], f"南村街道{n % 40 + 1}号楼", None,
        ])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def timed(function):
    cpu, wall = time.process_time(), time.perf_counter()
    function()
    return time.process_time() - cpu, time.perf_counter() - wall


def import_run(clerk, data):
    from gridgov.hotline.importer import import_orders

    report = import_orders(io.BytesIO(data), clerk)
    assert report.ok and report.created == N, report.errors[:3]


def baseline_run(clerk, run):
    from gridgov.cases.services import create_case

    with transaction.atomic():
        for n in range(N):
            create_case(
                clerk, channel="hotline", description=CONTENTS[n % 5], address=f"南村街道{n % 40 + 1}号楼",
                reporter_name="张三", reporter_phone=f"139{n:08d}", idempotency_key=f"base-{run}-{n}",
            )


def main():
    call_command("migrate", verbosity=0)
    clerk = build_world()
    results = {"import": [], "baseline": []}
    for run in range(REPEATS):
        data = workbook(run)
        results["import"].append(timed(lambda: import_run(clerk, data)))
        results["baseline"].append(timed(lambda: baseline_run(clerk, run)))
    best = {name: min(runs) for name, runs in results.items()}
    print(f"{N} orders per run, best of {REPEATS} (CPU s / wall s / orders per CPU second)")
    for name, (cpu, wall) in best.items():
        print(f"  {name:9s} {cpu:7.2f} {wall:7.2f} {N / cpu:8.0f}/s")
    print(f"ratio import / baseline (CPU): {best['import'][0] / best['baseline'][0]:.2f}")


if __name__ == "__main__":
    main()
