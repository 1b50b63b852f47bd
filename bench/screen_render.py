"""First full render of the big screen (/screen/) in headless Chromium.

Measured from navigation start to "every panel has data" (each [data-panel] element has
data-ready="1": the page sets it once the panel has drawn the overview's figures), in a
fresh browser context per run (empty HTTP cache), with the server's overview cache expired
between runs (the page's own API request computes the overview). Baseline in the same
run and browser: the time to load GET /healthz (one round trip, no page work).

The server is uvicorn (one process, the ASGI app: pages, API and the SSE stream) on a
SQLite database filled by bench/screen.py, DEBUG off, static files collected.
    .venv/bin/python bench/screen_render.py [--var DIR_OF_A_BENCH_SCREEN_RUN] [--cases N] [--runs 7]
Without --var a fresh database with --cases cases (default 1,000,000) is filled first.
"""

import argparse
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run",
]
# Milestones of the load (ms from navigation start), to see where the time goes.
MILESTONES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const api = resources.find(e => e.name.includes('/api/v1/screen/overview/'));
  const scripts = resources.filter(e => e.initiatorType === 'script');
  return {
    'html received': nav.responseEnd,
    'scripts received': Math.max(0, ...scripts.map(e => e.responseEnd)),
    'DOMContentLoaded': nav.domContentLoadedEventEnd,
    'overview requested': api ? api.startTime : -1,
    'overview received': api ? api.responseEnd : -1,
  };
}"""
ALL_PANELS_READY = """() => {
  const panels = [...document.querySelectorAll('[data-panel]')];
  return panels.length > 0 && panels.every(p => p.dataset.ready === '1');
}"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--var", help="GRIDGOV_VAR of an earlier bench/screen.py run (its database is reused)")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    return parser.parse_args()


ARGS = parse_args()
VAR = Path(ARGS.var) if ARGS.var else Path(tempfile.mkdtemp(prefix="gridgov-bench-render-"))
os.environ["GRIDGOV_VAR"] = str(VAR)
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gridgov.settings")
os.environ.setdefault("AXES_ENABLED", "0")
os.environ.pop("DATABASE_URL", None)  # the server subprocess must see the same SQLite file
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

import screen as screen_bench  # noqa: E402  (bench/screen.py: sets up Django, fills cases)
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from gridgov.cases.models import Case  # noqa: E402
from gridgov.geo.models import Level, Region  # noqa: E402
from gridgov.screen.daycounts import rebuild  # noqa: E402
from gridgov.screen.models import KioskToken  # noqa: E402
from gridgov.screen.seed import seed_demo_cameras, seed_demo_indicators  # noqa: E402


def prepare_database():
    call_command("migrate", verbosity=0)
    if not Region.objects.filter(level=Level.SUBDISTRICT).exists():
        import random

        sub, grids = screen_bench.build_regions()
        seed_demo_cameras()
        seed_demo_indicators()
        print(f"filling {ARGS.cases:,} cases ...", flush=True)
        screen_bench.fill_cases(ARGS.cases, grids, random.Random(1128))
        rebuild()
    sub = Region.objects.filter(level=Level.SUBDISTRICT).order_by("code").first()
    token = KioskToken(label="render bench", scope=sub, expires_at=timezone.now() + dt.timedelta(days=1))
    raw = token.set_new_token()
    token.save()
    call_command("collectstatic", interactive=False, verbosity=0)
    count = Case.objects.count()
    connection.close()
    return raw, count


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), GRIDGOV_EVENTS_URL="/events/")
    command = [sys.executable, "-m", "uvicorn", "gridgov.asgi:application", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--lifespan", "off"]
    process = subprocess.Popen(command, env=env, cwd=str(ROOT))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("uvicorn did not start")


def render_times(base, raw, runs, cache_seconds):
    from playwright.sync_api import sync_playwright

    screen, healthz, milestones = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        try:
            for run in range(runs + 1):  # the first run warms the server process (imports, connections)
                time.sleep(cache_seconds + 0.5)  # the server's overview cache has expired
                context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
                page = context.new_page()
                page.goto(f"{base}/screen/?token={raw}", wait_until="commit")
                page.wait_for_function(ALL_PANELS_READY, timeout=60_000)
                elapsed = page.evaluate("performance.now()")
                marks = page.evaluate(MILESTONES)
                panels = page.evaluate("document.querySelectorAll('[data-panel]').length")
                context.close()
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{base}/healthz", wait_until="load")
                baseline = page.evaluate("performance.now()")
                context.close()
                if run:
                    screen.append(elapsed)
                    milestones.append(marks)
                    healthz.append(baseline)
        finally:
            browser.close()
    return screen, healthz, panels, milestones


def main():
    raw, count = prepare_database()
    from django.conf import settings

    port = free_port()
    server = start_server(port)
    try:
        screen, healthz, panels, milestones = render_times(f"http://127.0.0.1:{port}", raw, ARGS.runs, settings.GRIDGOV_SCREEN["cache_seconds"])
    finally:
        server.terminate()
        server.wait(10)
    print(f"database: SQLite, {count:,} cases; server: uvicorn, 1 process, DEBUG off; load average {os.getloadavg()[0]:.1f}")
    print(f"/screen/ until all {panels} panels have data: median {statistics.median(screen):.0f} ms "
          f"(min {min(screen):.0f}, max {max(screen):.0f}) over {len(screen)} cold loads")
    print("milestones (median ms from navigation start): " + ", ".join(
        f"{name} {statistics.median(m[name] for m in milestones):.0f}" for name in milestones[0]))
    print(f"baseline GET /healthz in the same browser: median {statistics.median(healthz):.0f} ms; "
          f"ratio {statistics.median(screen) / statistics.median(healthz):.0f}x")


if __name__ == "__main__":
    main()
