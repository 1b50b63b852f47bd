"""The SQLite backend's queue for writers across connections (gridgov.core.sqlite, decision 0013)."""

import threading
import time

import pytest
from django.db import OperationalError, connections
from django.db.utils import ConnectionHandler

from gridgov.core.sqlite.base import WriterLock


def file_connections(tmp_path, timeout=5):
    settings = {
        "ENGINE": "gridgov.core.sqlite",
        "NAME": str(tmp_path / "db.sqlite3"),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": timeout},
    }
    return ConnectionHandler({"default": settings, "other": dict(settings)})


@pytest.fixture(autouse=True)
def own_databases(django_db_blocker):
    """These tests open their own file databases, not the test database."""
    with django_db_blocker.unblock():
        yield


def test_a_transaction_holds_the_writer_lock_until_commit_and_rollback(tmp_path):
    handler = file_connections(tmp_path)
    first = handler["default"]
    probe = WriterLock(str(tmp_path / "db.sqlite3") + "-writer.lock", timeout=0.05)
    with first.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    with pytest.raises(OperationalError, match="locked"):
        probe.acquire()  # held by the open transaction
    first.commit()
    first.set_autocommit(True)
    probe.acquire()  # free after COMMIT
    probe.release()
    first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    first.rollback()
    first.set_autocommit(True)
    probe.acquire()  # free after ROLLBACK
    probe.close()
    handler.close_all()


def test_concurrent_writers_queue_instead_of_failing(tmp_path):
    """Eight threads with their own connections each add 50 rows in short transactions:
    every row arrives, no 'database is locked'."""
    handler = file_connections(tmp_path, timeout=30)
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    errors = []

    def writer(worker):
        connection = ConnectionHandler(handler.settings)["default"]
        try:
            for n in range(50):
                with _atomic(connection):
                    with connection.cursor() as cursor:
                        cursor.execute("INSERT INTO t (n) VALUES (%s)", [worker * 100 + n])
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with handler["default"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT n) FROM t")
        assert cursor.fetchone() == (400, 400)
    handler.close_all()


class _atomic:
    """BEGIN ... COMMIT on a connection that is not in django.db.connections."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        self.connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)

    def __exit__(self, kind, value, traceback):
        if kind is None:
            self.connection.commit()
        else:
            self.connection.rollback()
        self.connection.set_autocommit(True)


def test_a_writer_that_waits_too_long_gets_database_is_locked(tmp_path):
    lock_path = str(tmp_path / "db.sqlite3") + "-writer.lock"
    holder, waiter = WriterLock(lock_path, timeout=1), WriterLock(lock_path, timeout=0.1)
    holder.acquire()
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        waiter.acquire()
    assert time.monotonic() - started >= 0.1
    holder.release()
    waiter.acquire()
    waiter.close()
    holder.close()


@pytest.mark.django_db
def test_the_project_database_uses_the_queue():
    assert connections["default"].settings_dict["ENGINE"] in ("gridgov.core.sqlite", "django.db.backends.postgresql")


def test_a_passive_checkpoint_copies_the_whole_log(tmp_path):
    from gridgov.core.sqlite import checkpoint as wal

    handler = file_connections(tmp_path)
    connection = handler["default"]
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint=0")  # only ours
        cursor.execute("CREATE TABLE t (n INTEGER)")
        for n in range(100):
            cursor.execute("INSERT INTO t (n) VALUES (%s)", [n])
    original = wal.connection
    wal.connection = connection  # the module's connection is the project's default
    try:
        busy, frames, copied = wal.checkpoint()
    finally:
        wal.connection = original
    assert busy == 0 and frames > 0 and copied == frames
    handler.close_all()


def test_a_waiting_writer_gets_the_lock_when_it_is_released(tmp_path):
    """The waiter blocks in the kernel's queue and is handed the flock on release."""
    lock_path = str(tmp_path / "db.sqlite3") + "-writer.lock"
    holder, waiter = WriterLock(lock_path, timeout=1), WriterLock(lock_path, timeout=30)
    holder.acquire()
    got = threading.Event()

    def wait_for_it():
        waiter.acquire()
        got.set()

    thread = threading.Thread(target=wait_for_it)
    thread.start()
    assert not got.wait(0.2)  # still held
    holder.release()
    thread.join(30)
    assert got.is_set() and waiter.held
    probe = WriterLock(lock_path, timeout=0.05)
    with pytest.raises(OperationalError, match="locked"):
        probe.acquire()  # the waiter holds it now, through its own descriptor
    waiter.release()
    probe.acquire()
    for lock in (probe, waiter, holder):
        lock.close()


def test_an_attempt_given_up_does_not_take_the_lock_later(tmp_path):
    """A wait that timed out and whose flock arrives afterwards drops it again, and the
    next acquire of the same connection queues behind it rather than racing it."""
    lock_path = str(tmp_path / "db.sqlite3") + "-writer.lock"
    holder, waiter = WriterLock(lock_path, timeout=1), WriterLock(lock_path, timeout=0.05)
    holder.acquire()
    with pytest.raises(OperationalError, match="database is locked"):
        waiter.acquire()
    holder.release()
    waiter._abandoned.done.wait(5)  # the waiter thread got the flock and dropped it
    probe = WriterLock(lock_path, timeout=1)
    probe.acquire()  # free: the abandoned attempt did not keep it
    probe.release()
    waiter.timeout = 5
    waiter.acquire()
    assert waiter.held
    for lock in (probe, waiter, holder):
        lock.close()
