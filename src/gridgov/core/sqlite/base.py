"""Django's SQLite backend with a queue for writers across processes (decision 0013).

SQLite lets one writer in at a time. A writer that finds the database locked waits in
SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25... ms between tries: under
several gunicorn workers that each hold the lock for a transaction of a few hundred
microseconds, most of the time went into those sleeps, and throughput fell as workers were
added (bench/create_cases_http.py: 339 creates/s with 1 worker, 178/s with 5).

Here every transaction (BEGIN IMMEDIATE, i.e. every `atomic()` block) first takes an
exclusive flock on `<database>-writer.lock`, held until COMMIT or ROLLBACK. A writer that
finds it taken waits in the kernel's own queue for the flock (a blocking flock in a helper
thread), so it is woken the moment the lock is released instead of at its next poll; it
still gives up after the connection's `timeout` with "database is locked", as SQLite
would. In-memory databases (tests) have no file to lock.
"""

import fcntl
import os
import queue
import threading

from django.db import OperationalError
from django.db.backends.sqlite3 import base


class WriterLock:
    """An exclusive flock on a file next to the database, taken with a deadline."""

    def __init__(self, path, timeout):
        self.path, self.timeout = path, timeout
        self.fd = None
        self.held = False
        self._waiter = None
        self._abandoned = None

    def acquire(self):
        if self.fd is None:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if self._abandoned is not None and not self._abandoned.done.is_set():
            # An attempt given up at its deadline may still get the flock and drop it again;
            # a flock taken meanwhile on our descriptor would be dropped with it: queue behind.
            self._wait()
        else:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._wait()
        self.held = True

    def _wait(self):
        """Block for the flock until `timeout`: the blocking call runs in the waiter thread
        (a blocking flock cannot be given a deadline), this thread waits for its answer."""
        if self._waiter is None or not self._waiter.usable():
            self._waiter = _Waiter()
        attempt = _Attempt(os.dup(self.fd))  # the same open file: its flock is ours
        self._waiter.submit(attempt)
        if attempt.granted(self.timeout):
            return
        self._abandoned = attempt
        raise OperationalError("database is locked")

    def release(self):
        if self.held:
            self.held = False
            fcntl.flock(self.fd, fcntl.LOCK_UN)

    def close(self):
        self.release()
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class _Attempt:
    """One wait for the flock, settled exactly once: granted, or abandoned at the deadline
    (a flock that comes after that is released again by the waiter)."""

    def __init__(self, fd):
        self.fd = fd
        self.done = threading.Event()
        self.guard = threading.Lock()
        self.state = "waiting"
        self.error = None

    def granted(self, timeout):
        self.done.wait(timeout)
        with self.guard:
            if self.state == "waiting":
                self.state = "abandoned"
            if self.error is not None:
                raise self.error
            return self.state == "granted"

    def settle(self, error=None):
        """Called by the waiter once flock() returned; True if the caller still wants it."""
        with self.guard:
            self.error = error
            wanted = self.state == "waiting" and error is None
            if wanted:
                self.state = "granted"
        self.done.set()
        return wanted


class _Waiter:
    """A daemon thread per lock that does the blocking flock() calls, one attempt at a time."""

    def __init__(self):
        self.pid = os.getpid()  # a forked child has no such thread: it makes its own
        self.queue = queue.SimpleQueue()
        threading.Thread(target=self._run, name="sqlite-writer-lock", daemon=True).start()

    def usable(self):
        return self.pid == os.getpid()

    def submit(self, attempt):
        self.queue.put(attempt)

    def _run(self):
        while True:
            attempt = self.queue.get()
            try:
                fcntl.flock(attempt.fd, fcntl.LOCK_EX)
            except OSError as error:
                attempt.settle(OperationalError(f"database is locked ({error})"))
            else:
                if not attempt.settle():
                    fcntl.flock(attempt.fd, fcntl.LOCK_UN)  # given up meanwhile
            finally:
                os.close(attempt.fd)  # the lock stays with the connection's own descriptor


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
