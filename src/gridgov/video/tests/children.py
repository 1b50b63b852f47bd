"""Tests that run `gridgov` commands as child processes (the MQTT ingest, the webhook
drain, the worker) on a database of their own, which the test reads directly."""

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from urllib.parse import urlparse

GRIDGOV = [sys.executable, "-m", "gridgov.cli"]
DEADLINE = 180  # seconds: a bound for a stuck child, not a speed requirement


class ChildDatabase:
    """A database the child processes can open: a SQLite file, or a fresh PostgreSQL
    database beside the test database (dropped again by `drop`)."""

    def __init__(self, tmp_path):
        base = os.environ.get("DATABASE_URL", "")
        if base.startswith("postgres"):
            import psycopg

            parsed = urlparse(base)
            self.name = f"{parsed.path.lstrip('/') or 'gridgov'}_child_{uuid.uuid4().hex[:6]}"
            self.admin_url = parsed._replace(path="/postgres").geturl()
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = parsed._replace(path=f"/{self.name}").geturl()
            self.connect = lambda: psycopg.connect(self.url, autocommit=True)
        else:
            self.name = None
            path = tmp_path / "child.sqlite3"
            self.url = f"sqlite:///{path}"
            self.connect = lambda: sqlite3.connect(path, timeout=30)

    def scalar(self, sql):
        conn = self.connect()
        try:
            return conn.execute(sql).fetchone()[0]
        finally:
            conn.close()

    def drop(self):
        if self.name:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def child_env(database, tmp_path):
    """The environment of a child on `database` (flood control out of the way)."""
    return {**os.environ, "DATABASE_URL": database.url, "GRIDGOV_VAR": str(tmp_path / "var"),
            "GRIDGOV_ALARM_FLOOD_LIMIT": "1000000", "DJANGO_SETTINGS_MODULE": "gridgov.settings", "PYTHONUNBUFFERED": "1"}


def run_child(args, env):
    """Run `gridgov <args>` to its end; its output, after asserting it succeeded."""
    result = subprocess.run(GRIDGOV + args, env=env, capture_output=True, text=True, timeout=DEADLINE)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def wait_until(condition, what, pause=0.02):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(pause)
    raise AssertionError(f"gave up waiting for {what}")
