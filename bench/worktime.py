"""Working-time deadlines: cost of one add_time call against a bare datetime addition.

Run: .venv/bin/python bench/worktime.py
"""

import datetime as dt
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")

import django  # noqa: E402

django.setup()

from zoneinfo import ZoneInfo  # noqa: E402

from gridgov.catalog.models import TimeUnit  # noqa: E402
from gridgov.catalog.worktime import add_time  # noqa: E402

ROUNDS = 100_000


def best_of(function, repeats=5):
    timings = []
    for _ in range(repeats):
        begin = time.perf_counter()
        function()
        timings.append((time.perf_counter() - begin) / ROUNDS)
    return min(timings)


def main():
    start = dt.datetime(2026, 9, 30, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    add_time(start, 1, TimeUnit.WORKING_HOURS)  # builds the calendar table once

    def deadlines():
        for index in range(ROUNDS):
            unit = TimeUnit.WORKING_DAYS if index % 2 else TimeUnit.WORKING_HOURS
            add_time(start, index % 40 + 1, unit)

    def baseline():
        for index in range(ROUNDS):
            start + dt.timedelta(hours=index % 40 + 1)

    per_call, per_baseline = best_of(deadlines), best_of(baseline)
    print(f"add_time: {per_call * 1e6:.1f} µs per call (target < 50 µs)")
    print(f"baseline datetime + timedelta: {per_baseline * 1e6:.2f} µs; ratio {per_call / per_baseline:.1f}x")
    print("target met" if per_call < 50e-6 else "TARGET MISSED")


if __name__ == "__main__":
    main()
