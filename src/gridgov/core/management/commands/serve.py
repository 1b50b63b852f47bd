"""`gridgov serve`: the production server (docs/decisions/0001-http-server.md).

One supervisor process starts the children and stops them all together:
- gunicorn with sync workers on gridgov.wsgi for pages and the API (static files through
  whitenoise, so `gridgov collectstatic` must have run);
- uvicorn on a second port for gridgov.asgi, reserved for long-lived SSE streams, which
  would each pin a sync worker;
- `gridgov worker`: background tasks (imports, hotline replies, retraining), the SLA
  sweep (warnings, escalation) and the drain of the alarm webhook's inbox (decision
  0014) — without it those would wait forever;
- `gridgov ingest` (camera and sensor alarms over MQTT) when MQTT_URL is set.
"""

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_TIMEOUT_SECONDS = 15
PR_SET_PDEATHSIG = 1  # prctl option, <linux/prctl.h>


def default_workers():
    """GRIDGOV_WORKERS or WEB_CONCURRENCY if set, else 2 x cores + 1 (gunicorn's advice)."""
    for name in ("GRIDGOV_WORKERS", "WEB_CONCURRENCY"):
        if os.environ.get(name, "").strip():
            return int(os.environ[name])
    return 2 * (os.cpu_count() or 1) + 1


def split_bind(bind):
    host, _sep, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise CommandError(f"expected HOST:PORT, got {bind!r}")
    return host.strip("[]"), int(port)


def gunicorn_command(bind, workers, access_log):
    command = [
        sys.executable, "-m", "gunicorn", "gridgov.wsgi:application",
        "--bind", bind,
        "--workers", str(workers),
        "--worker-class", "sync",
        "--timeout", "60",
        "--graceful-timeout", "10",
        "--error-logfile", "-",
        # gunicorn 27's control socket defaults to one path in $HOME: two servers would clash.
        "--no-control-socket",
    ]
    if access_log:
        command += ["--access-logfile", "-"]
    return command


def uvicorn_command(bind, access_log):
    host, port = split_bind(bind)
    command = [
        sys.executable, "-m", "uvicorn", "gridgov.asgi:application",
        "--host", host,
        "--port", str(port),
        "--lifespan", "off",
        "--timeout-graceful-shutdown", "5",
    ]
    if not access_log:
        command.append("--no-access-log")
    return command


def gridgov_command(*args):
    return [sys.executable, "-m", "gridgov.cli", *args]


def background_commands(options, environ=os.environ):
    """The worker (unless --no-worker) and, with a broker configured, the alarm ingest."""
    commands = []
    if not options["no_worker"]:
        commands.append((gridgov_command("worker"), {}))
    if environ.get("MQTT_URL", "").strip() and not options["no_ingest"]:
        commands.append((gridgov_command("ingest"), {}))
    return commands


def pages_environment(options, environ=os.environ):
    """Extra environment of the page server: screens stream from the uvicorn port.

    So no sync worker is held by a long-lived connection; ":PORT/..." keeps the host name
    the page was opened with. An explicit GRIDGOV_EVENTS_URL (e.g. behind a proxy) wins.
    """
    if options["no_asgi"] or "GRIDGOV_EVENTS_URL" in environ:
        return {}
    return {"GRIDGOV_EVENTS_URL": f":{split_bind(options['asgi_bind'])[1]}/events/"}


def served_environment(environ=os.environ):
    """The children's environment: DEBUG off unless set explicitly.

    Development mode defaults to DEBUG on, which a served site must not inherit: debug pages
    show settings and code to every visitor, /media/ is served without a login, and every
    SQL statement is kept in memory. The tests run with DEBUG off too (Django's test runner
    turns it off), so this is also the configuration that is tested.
    """
    return {
        **environ,
        "DJANGO_SETTINGS_MODULE": environ.get("DJANGO_SETTINGS_MODULE", "gridgov.settings"),
        "DEBUG": environ.get("DEBUG", "0"),
    }


def _die_with_parent():
    """Linux: the child gets SIGTERM if the supervisor dies without cleaning up (e.g. SIGKILL)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the supervisor's own cleanup still applies


class Supervisor:
    """Runs child processes; when one exits or a stop signal arrives, stops them all.

    `commands` is a list of (argv, extra environment) pairs.
    """

    def __init__(self, commands, env):
        self.commands = commands
        self.env = env
        self.children = []
        self.stop_requested = False

    def run(self):
        previous = {sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            # Own sessions: a terminal's Ctrl-C reaches only us, and we stop the children in order.
            self.children = [
                subprocess.Popen(argv, env={**self.env, **extra}, start_new_session=True, preexec_fn=_die_with_parent)
                for argv, extra in self.commands
            ]
            while not self.stop_requested and all(child.poll() is None for child in self.children):
                time.sleep(0.2)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        # Without a stop request, a child ended on its own: that is a failure of the service.
        return 0 if self.stop_requested else 1

    def _request_stop(self, signum, frame):
        self.stop_requested = True

    def _stop_all(self):
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


class Command(BaseCommand):
    help = "Serve gridgov in production: gunicorn (sync workers) for pages and API, uvicorn for live streams."
    # The children import the project and fail loudly on their own; checks here only slow startup.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:8000", help="HOST:PORT for pages and API (default %(default)s).")
        parser.add_argument("--workers", type=int, default=None, help="Sync workers (default: $GRIDGOV_WORKERS, $WEB_CONCURRENCY or 2 x cores + 1).")
        parser.add_argument("--asgi-bind", default="127.0.0.1:8001", help="HOST:PORT for the ASGI app / live streams (default %(default)s).")
        parser.add_argument("--no-asgi", action="store_true", help="Do not start the ASGI server.")
        parser.add_argument("--no-worker", action="store_true", help="Do not start the background worker (gridgov worker).")
        parser.add_argument("--no-ingest", action="store_true", help="Do not start the alarm ingest even if MQTT_URL is set.")
        parser.add_argument("--access-log", action="store_true", help="Log every request to stdout (off by default).")

    def handle(self, *args, **options):
        split_bind(options["bind"])  # fail early on a malformed address
        workers = options["workers"] or default_workers()
        commands = [(gunicorn_command(options["bind"], workers, options["access_log"]), pages_environment(options))]
        if not options["no_asgi"]:
            # No persistent database connections under ASGI: sync code runs on pool threads.
            commands.append((uvicorn_command(options["asgi_bind"], options["access_log"]), {"CONN_MAX_AGE": "0"}))
        commands += background_commands(options)
        self._announce(options, workers)
        code = Supervisor(commands, served_environment()).run()
        if code:
            raise CommandError("a server process exited unexpectedly", returncode=code)

    def _announce(self, options, workers):
        host, port = split_bind(options["bind"])
        shown_host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
        self.stdout.write(f"gridgov: http://{shown_host}:{port}/  (gunicorn, {workers} sync workers)")
        if not options["no_asgi"]:
            self.stdout.write(f"gridgov: live streams on http://{options['asgi_bind']}/  (uvicorn)")
        for argv, _extra in background_commands(options):
            self.stdout.write(f"gridgov: background `gridgov {argv[-1]}`")
        if not Path(settings.STATIC_ROOT).is_dir():
            self.stderr.write(f"warning: {settings.STATIC_ROOT} is missing; run `gridgov collectstatic` first.")
        logins = Path(settings.VAR_DIR) / "demo-logins.txt"
        if logins.is_file():
            self.stdout.write(f"\nDemo logins ({logins}):\n{logins.read_text(encoding='utf-8').rstrip()}\n")
        self.stdout.write("Press Ctrl-C to stop.")
        self.stdout.flush()
