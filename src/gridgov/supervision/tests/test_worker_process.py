"""The real `gridgov worker` against a SQLite file: stop it, let time pass, restart two workers;
every due warning fires once, none twice."""

import os
import signal
import sqlite3
import subprocess
import sys
import time


SEED = """
import datetime as dt
from django.utils import timezone
from gridgov.cases.models import Case, CaseClock
from gridgov.geo.models import Level, Region
from gridgov.org.models import Department, StaffRole, User

now = timezone.now()
region = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区")
department = Department.objects.create(code="CG", name="城管")
for name, role, scope, dept in [("handler", "dept_handler", None, department), ("lead", "shift_lead", region, None),
                                ("leader", "subdistrict_leader", region, None)]:
    user = User.objects.create_user(username=name, password=None, scope=scope, department=dept)
    StaffRole.objects.create(user=user, role=role)
case = Case.objects.create(number="C1", channel="hotline", description="x", created_at=now, region_code="370105001",
                           department=department, status="handling")
# Started 3 h ago, due 1 h ago: 70 %, 90 % and 100 % have passed; 200 % lies 1 h ahead.
CaseClock.objects.create(case=case, kind="handle", limit_value=2, limit_unit="natural_hours",
                         started_at=now - dt.timedelta(hours=3), due_at=now - dt.timedelta(hours=1),
                         warn_at=now - dt.timedelta(hours=1, minutes=36))
"""

ADVANCE = """
import datetime as dt
from django.utils import timezone
from gridgov.cases.models import Case, CaseClock
now = timezone.now()
# While the worker was stopped, time "passed": the first clock is now overdue by its whole
# limit again (200 %), and a second case's sign clock went overdue.
CaseClock.objects.filter(case__number="C1").update(started_at=now - dt.timedelta(hours=5), due_at=now - dt.timedelta(hours=3))
case = Case.objects.create(number="C2", channel="hotline", description="y", created_at=now, region_code="370105001",
                           department_id=Case.objects.get(number="C1").department_id, status="dispatched")
CaseClock.objects.create(case=case, kind="sign", limit_value=1, limit_unit="natural_hours",
                         started_at=now - dt.timedelta(hours=1, minutes=30), due_at=now - dt.timedelta(minutes=30),
                         warn_at=now - dt.timedelta(minutes=48))
"""


def run(args, env, cwd):
    result = subprocess.run([sys.executable, "-m", "gridgov.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def start_worker(env, cwd, name):
    return subprocess.Popen(
        [sys.executable, "-m", "gridgov.cli", "worker", "--sweep-seconds", "1", "--interval", "0.2",
         "--no-startup-delay", "--worker-id", name],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            return process.communicate(timeout=30)[0]
    return process.communicate()[0]


def counts(db_path):
    with sqlite3.connect(db_path, timeout=30) as connection:
        fired = connection.execute("SELECT COUNT(*) FROM supervision_firedwarning").fetchone()[0]
        rows = connection.execute(
            "SELECT u.username, COUNT(*) FROM web_notification n JOIN org_user u ON u.id = n.recipient_id GROUP BY u.username"
        ).fetchall()
        sweeps = connection.execute(
            "SELECT COUNT(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL'"
        ).fetchone()[0]
    return fired, dict(rows), sweeps


def wait_for(db_path, predicate, processes, deadline_seconds=120):
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        state = counts(db_path)
        if predicate(*state):
            return state
        for process in processes:
            assert process.poll() is None, stop(process)
        time.sleep(0.5)
    raise AssertionError(f"worker did not get there: {counts(db_path)}")


def test_worker_fires_each_warning_once_across_restarts(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(GRIDGOV_HOME=str(tmp_path), DEBUG="0", TASKS_BACKEND="django_tasks_db.DatabaseBackend")
    db_path = tmp_path / "var" / "gridgov.sqlite3"
    run(["migrate", "--no-input", "-v", "0"], env, tmp_path)
    run(["shell", "-c", SEED], env, tmp_path)

    worker = start_worker(env, tmp_path, "w1")
    try:
        # The first pass and a few more after it.
        state = wait_for(db_path, lambda fired, notes, sweeps: fired >= 3 and sweeps >= 3, [worker])
    finally:
        stop(worker)
    fired, notes, _sweeps = state
    assert fired == 3
    assert notes == {"handler": 3, "lead": 1}

    run(["shell", "-c", ADVANCE], env, tmp_path)
    workers = [start_worker(env, tmp_path, "w2"), start_worker(env, tmp_path, "w3")]
    try:
        _f, _n, sweeps_before = counts(db_path)
        wait_for(db_path, lambda fired, notes, sweeps: fired >= 7 and sweeps >= sweeps_before + 4, workers)
    finally:
        for process in workers:
            stop(process)
    fired, notes, _sweeps = counts(db_path)
    # C1: 200 % (subdistrict leader); C2: 70 %, 90 %, 100 % (handler, and the shift lead at 100 %).
    assert fired == 7
    assert notes == {"handler": 6, "lead": 2, "leader": 1}
