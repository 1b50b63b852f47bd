"""Which HTTP server runs gridgov: gunicorn sync workers or uvicorn (ASGI)?

Run from the repository root: `.venv/bin/python bench/server_choice.py` (about four
minutes; BENCH_SECONDS per measurement, default 5, BENCH_ROUNDS rounds, default 2). SQLite in a temporary directory by
default; DATABASE_URL=postgresql://... (a scratch database) to measure on PostgreSQL.

Both servers run the same settings and code, started as `gridgov serve` starts them
(bench/lib/servers.py), on this machine's cores: gunicorn with 2 x cores + 1 sync workers,
uvicorn with one worker per core (and with as many workers as gunicorn, for parity).
Requests come from a Python load generator in separate processes (bench/lib/httpload.py),
8 connections. Measured: (a) a bare Django JSON view (bench/lib/bench_urls.py, same
middleware), (b) GET /healthz (one SELECT 1) and (c) GET /api/v1/cases/?page_size=20 with
a dispatcher's token. Printed: requests/s (wall clock), requests per second of server CPU
(steadier on a shared machine) and the gunicorn/uvicorn ratios.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from httpload import Request, run_load  # noqa: E402
from servers import BenchSite  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", 5))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
CORES = os.cpu_count() or 1
CONNECTIONS = dict(processes=2, threads=4)


def scenarios(site):
    from gridgov.org.roles import Role

    token = {"Authorization": f"Token {site.tokens[Role.DISPATCHER]}"}
    return [
        ("bare Django JSON view", Request("GET", "/bench/bare-json")),
        ("/healthz", Request("GET", "/healthz")),
        ("/api/v1/cases/?page_size=20", Request("GET", "/api/v1/cases/?page_size=20", headers=token)),
    ]


def measure(server, request):
    run_load("127.0.0.1", server.port, request, duration=1.0, **CONNECTIONS)  # warm-up
    cpu_before = server.cpu_seconds()
    result = run_load("127.0.0.1", server.port, request, duration=SECONDS, **CONNECTIONS)
    cpu = server.cpu_seconds() - cpu_before
    return result, result.requests / cpu if cpu else float("nan")


def main():
    site = BenchSite(cases=200)
    print(f"database: {site.database}; {CORES} cores; load average {os.getloadavg()[0]:.1f}; "
          f"{SECONDS:.0f} s per measurement, best of {ROUNDS} rounds, "
          f"{CONNECTIONS['processes'] * CONNECTIONS['threads']} connections")
    configurations = [("gunicorn", 2 * CORES + 1), ("uvicorn", CORES), ("uvicorn", 2 * CORES + 1)]
    figures = {}
    # Rounds alternate the servers; each figure is its best round (the least disturbed by
    # other work on the machine).
    for _round in range(ROUNDS):
        for kind, workers in configurations:
            server = site.start(kind, workers)
            try:
                for name, request in scenarios(site):
                    result, per_cpu = measure(server, request)
                    best_rate, best_cpu = figures.get((server.label, name), (0.0, 0.0))
                    figures[(server.label, name)] = (max(best_rate, result.rate), max(best_cpu, per_cpu))
                    print(f"{server.label:28} {name:30} {result.summary()}  {per_cpu:7.1f} req/cpu-s")
                    if result.errors:
                        print(f"    statuses: {result.statuses}")
            finally:
                server.stop()
    print("\nbest of each (requests/s wall; requests per CPU-second of the server)")
    for (label, name), (rate, per_cpu) in figures.items():
        print(f"  {label:28} {name:30} {rate:8.1f} req/s  {per_cpu:7.1f} req/cpu-s")
    print_ratios(figures)


def print_ratios(figures):
    labels = sorted({label for label, _name in figures}, key=lambda label: (not label.startswith("gunicorn"), label))
    gunicorn, others = labels[0], labels[1:]
    print("\nratio gunicorn / uvicorn (requests/s wall; requests per CPU-second)")
    for name in dict.fromkeys(name for _label, name in figures):
        base_rate, base_cpu = figures[(gunicorn, name)]
        parts = [
            f"vs {label}: {base_rate / figures[(label, name)][0]:.2f}x wall, {base_cpu / figures[(label, name)][1]:.2f}x cpu"
            for label in others
        ]
        print(f"  {name:30} " + "; ".join(parts))


if __name__ == "__main__":
    main()
