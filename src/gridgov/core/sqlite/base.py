"""Django's SQLite backend with a queue for writers across processes (decision 0013).

SQLite lets one writer in at a time. A writer that finds the database locked waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries: under
several gunicorn workers that each hold the lock for a transaction of a few hundred
microseconds, most of the time went into those sleeps, and throughput fell as workers were
added (bench/create_cases_http.py: 339 creates/s with 1 worker, 178/s with 5).

Here every transaction (BEGIN IMMEDIATE, i.e. every `atomic()` block) first takes an
exclusive flock on `<database>-writer.lock`, held until COMMIT or ROLLBACK. Waiting writers
poll the flock in steps of at most 0.5 ms, so the lock passes on within a fraction of a
millisecond of its release, and still give up after the connection's `timeout` with
"database is locked", as SQLite would. In-memory databases (tests) have no file to lock.
"""

import fcntl
import os
import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

MAX_POLL_SECONDS = 0.0005


class WriterLock:
    """An exclusive flock on a file next to the database, taken with a deadline."""

    def __init__(self, path, timeout):
        self.path, self.timeout = path, timeout
        self.fd = None
        self.held = False

    def acquire(self):
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline, pause = time.monotonic() + self.timeout, 0.00002
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OperationalError("database is locked") from None
                time.sleep(pause)
                pause = min(pause * 2, MAX_POLL_SECONDS)
            else:
                self.held = True
                return

    def release(self):
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self):
        self.release()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._writer_lock = None

    def writer_lock(self):
        name = str(self.settings_dict["NAME"])
        if self.is_in_memory_db() or not name:
            return None
        if self._writer_lock is None or self._writer_lock.path != name + "-writer.lock":
            timeout = self.settings_dict.get("OPTIONS", {}).get("timeout", 5)
            self._writer_lock = WriterLock(name + "-writer.lock", timeout)
        return self._writer_lock

    def _start_transaction_under_autocommit(self):
        lock = self.writer_lock()
        if lock is not None:
            lock.acquire()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            if self.connection is None or not self.connection.in_transaction:
                self._release_writer_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            if self._writer_lock is not None:
                self._writer_lock.close()

    def _release_writer_lock(self):
        if self._writer_lock is not None:
            self._writer_lock.release()
