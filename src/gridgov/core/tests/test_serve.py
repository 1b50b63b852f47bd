"""`gridgov serve` starts gunicorn and uvicorn, serves static files, and stops both on SIGTERM."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from gridgov.core.management.commands.serve import default_workers, gunicorn_command, served_environment, split_bind


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_up(port, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}: {process.communicate(timeout=10)[0]}")
        try:
            return get(port, "/healthz")
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listening on port {port}")


def port_is_closed(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def stop(process):
    """Stop the supervisor if a failed assertion left it running (SIGTERM first: it stops its children)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate(timeout=30)


def test_serve_runs_both_servers_and_stops_both(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "demo-logins.txt").write_text("dispatcher / demo-pass\n", encoding="utf-8")
    wsgi_port, asgi_port = free_port(), free_port()
    # A throwaway SQLite file under tmp_path, whatever database the test run itself uses.
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(GRIDGOV_HOME=str(tmp_path))
    env.pop("MQTT_URL", None)
    env.pop("DEBUG", None)  # as `make demo` runs it: development mode, DEBUG not set
    # The background worker needs its tables and whitenoise the collected files, as after
    # `make demo`'s migrate and collectstatic.
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "-m", "gridgov.cli", *command], env=env, cwd=tmp_path, check=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "gridgov.cli", "serve", "--workers", "1",
         "--bind", f"127.0.0.1:{wsgi_port}", "--asgi-bind", f"127.0.0.1:{asgi_port}"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert wait_until_up(wsgi_port, process)[0] == 200
        assert wait_until_up(asgi_port, process)[0] == 200
        # whitenoise serves static files from the WSGI server itself
        status, body = get(wsgi_port, "/static/vendor/htmx/htmx.min.js")
        assert status == 200 and len(body) > 1000
        # Served without DEBUG: a missing page is the product's page, not Django's debug page
        # listing the URL patterns.
        status, body = get(wsgi_port, "/no-such-page/")
        assert status == 404 and "URLconf" not in body.decode() and "页面" in body.decode()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        stop(process)
    assert process.returncode == 0, output
    assert f"http://127.0.0.1:{wsgi_port}/" in output
    assert "dispatcher / demo-pass" in output
    assert "background `gridgov worker`" in output
    assert "SLA sweep every" in output  # the worker itself started
    assert port_is_closed(wsgi_port) and port_is_closed(asgi_port)


def test_served_site_runs_without_debug_unless_asked():
    assert served_environment({})["DEBUG"] == "0"
    assert served_environment({"DEBUG": "1"})["DEBUG"] == "1"
    assert served_environment({})["DJANGO_SETTINGS_MODULE"] == "gridgov.settings"


def test_serve_options():
    assert split_bind("0.0.0.0:8000") == ("0.0.0.0", 8000)
    assert split_bind("[::1]:9000") == ("::1", 9000)
    command = gunicorn_command("127.0.0.1:8000", 3, access_log=False)
    assert command[command.index("--worker-class") + 1] == "sync"
    assert "--access-logfile" not in command
    assert "--access-logfile" in gunicorn_command("127.0.0.1:8000", 3, access_log=True)


def test_default_workers_from_environment(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setenv("GRIDGOV_WORKERS", "7")
    assert default_workers() == 7
    monkeypatch.delenv("GRIDGOV_WORKERS")
    assert default_workers() == 2 * (os.cpu_count() or 1) + 1


@pytest.mark.parametrize("bind", ["8000", "localhost", ":80x"])
def test_serve_rejects_malformed_bind(bind):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        split_bind(bind)


def test_background_children_follow_options_and_broker():
    from gridgov.core.management.commands.serve import background_commands

    options = {"no_worker": False, "no_ingest": False}
    names = lambda commands: [argv[-1] for argv, _extra in commands]  # noqa: E731
    assert names(background_commands(options, environ={})) == ["worker"]
    assert names(background_commands(options, environ={"MQTT_URL": "mqtt://127.0.0.1:1883"})) == ["worker", "ingest"]
    assert names(background_commands({"no_worker": True, "no_ingest": True}, environ={"MQTT_URL": "x"})) == []


def test_pages_send_screens_to_the_stream_port_unless_configured():
    from gridgov.core.management.commands.serve import pages_environment

    options = {"no_asgi": False, "asgi_bind": "127.0.0.1:8001"}
    assert pages_environment(options, environ={}) == {"GRIDGOV_EVENTS_URL": ":8001/events/"}
    assert pages_environment(options, environ={"GRIDGOV_EVENTS_URL": "/events/"}) == {}
    assert pages_environment({**options, "no_asgi": True}, environ={}) == {}
