"""Running gridgov under real servers for the HTTP benchmarks.

`BenchSite` prepares a throw-away site (SQLite in a temporary directory, or the database
of DATABASE_URL, which must be a scratch database), seeds it with a small region tree,
staff with API tokens and some cases, and starts gunicorn or uvicorn on it exactly as
`gridgov serve` does, with the bench-only URLs of bench_urls.py added.
"""

import atexit
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIB = Path(__file__).resolve().parent
ROOT = LIB.parents[1]
SRC = ROOT / "src"
for entry in (str(LIB), str(SRC)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

# Inside the district's first grid (see _build_regions).
POINT = (117.005, 36.685)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BenchSite:
    def __init__(self, cases=200):
        self.home = Path(tempfile.mkdtemp(prefix="gridgov-bench-"))
        (self.home / "var").mkdir()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join([str(LIB), str(SRC), os.environ.get("PYTHONPATH", "")]),
            "GRIDGOV_HOME": str(self.home),
            "DEBUG": "0",
            "LOG_LEVEL": "ERROR",
        }
        os.environ.update({k: v for k, v in self.env.items() if k != "PYTHONPATH"})
        atexit.register(shutil.rmtree, self.home, ignore_errors=True)  # the SQLite file and var/
        self.tokens = {}
        self._seed(cases)

    # -- data ----------------------------------------------------------------------------
    def _seed(self, cases):
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from bench_urls import create_bare_table

        call_command("migrate", verbosity=0)
        create_bare_table()
        self.database = connection.vendor
        dispatcher, clerk = self._staff()
        self._cases(dispatcher, cases)
        connection.close()  # the servers fork after this; they open their own

    def _staff(self):
        from rest_framework.authtoken.models import Token

        from gridgov.org.models import Department, StaffRole, User
        from gridgov.org.roles import Role

        district = _build_regions()
        Department.objects.get_or_create(code="BENCH", defaults={"name": "基准测试部门"})
        staff = []
        for username, role in (("bench_dispatcher", Role.DISPATCHER), ("bench_clerk", Role.INTAKE_CLERK)):
            user, _ = User.objects.get_or_create(username=username, defaults={"scope": district, "display_name": username})
            StaffRole.objects.get_or_create(user=user, role=role)
            self.tokens[role] = Token.objects.get_or_create(user=user)[0].key
            staff.append(user)
        return staff

    def _cases(self, actor, count):
        from gridgov.cases.models import Case
        from gridgov.cases.services import create_case

        for index in range(count - Case.objects.count()):
            create_case(
                actor, channel="hotline", description=f"基准测试事件 {index}", category=self.category_id(),
                lon=POINT[0], lat=POINT[1], reporter_phone="13800001111",
            )

    @staticmethod
    def category_id():
        from gridgov.catalog.models import Category

        return Category.objects.filter(parent__isnull=False, is_active=True).order_by("kind", "code").values_list("pk", flat=True)[0]

    # -- servers -------------------------------------------------------------------------
    def start(self, kind, workers):
        """Start "gunicorn" (sync workers, as `gridgov serve`) or "uvicorn" (ASGI); returns a Server."""
        from gridgov.core.management.commands.serve import gunicorn_command, uvicorn_command

        port = free_port()
        bind = f"127.0.0.1:{port}"
        if kind == "gunicorn":
            command = gunicorn_command(bind, workers, access_log=False)
        else:
            command = uvicorn_command(bind, access_log=False) + ["--workers", str(workers)]
        process = subprocess.Popen(
            command, env=self.env, cwd=self.home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        server = Server(kind, workers, port, process)
        server.wait_ready()
        return server


class Server:
    def __init__(self, kind, workers, port, process):
        self.kind, self.workers, self.port, self.process = kind, workers, port, process

    @property
    def label(self):
        return f"{self.kind} ({self.workers} {'sync workers' if self.kind == 'gunicorn' else 'ASGI workers'})"

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.kind} did not answer on port {self.port}")

    def cpu_seconds(self):
        """User + system CPU time of the server and all its worker processes so far."""
        total = 0
        for pid in _process_tree(self.process.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / CLOCK_TICKS

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _process_tree(root):
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _build_regions():
    from gridgov.geo.models import GridType, Level, Region

    def square(lon, lat, size):
        ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        return {"type": "Polygon", "coordinates": [ring]}

    existing = Region.objects.filter(code="370105").first()
    if existing:
        return existing
    district = Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区", boundary=square(116.9, 36.6, 0.3))
    subdistrict = Region.objects.create(
        level=Level.SUBDISTRICT, code="370105001", name="南村街道", parent=district, boundary=square(116.99, 36.67, 0.06)
    )
    community = Region.objects.create(
        level=Level.COMMUNITY, code="370105001001", name="象霞社区", parent=subdistrict, boundary=square(117.0, 36.68, 0.02)
    )
    for index in range(2):
        Region.objects.create(
            level=Level.GRID, code=f"370105001001{index + 1:03d}", name=f"第{index + 1}网格", parent=community,
            boundary=square(117.0 + 0.01 * index, 36.68, 0.01), grid_type=GridType.BASIC, households=400,
        )
    return district
