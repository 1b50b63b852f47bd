"""Helpers for tests that run several database clients at once (threads).

The in-memory SQLite test database shares one cache between threads, where a writer that
meets another connection's table lock gets "database table is locked" at once instead of
waiting (the busy timeout does not apply). Real clients retry such transient errors, and
so do these helpers; on PostgreSQL the threads run truly in parallel and rarely retry.
"""

import threading
import time

from django.db import OperationalError, connection


def retry_while_locked(action, *, seconds=60, pause=0.005):
    """Call `action()` until it stops raising OperationalError; re-raise after `seconds`."""
    deadline = time.monotonic() + seconds  # generous: the test machine may be very busy
    while True:
        try:
            return action()
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(pause)


def run_in_parallel(action, arguments):
    """Call `action(argument)` in one thread per argument, all released at one barrier,
    each retrying lock errors. Returns (results, errors) in completion order; every
    thread closes its own database connection."""
    results, errors = [], []
    barrier = threading.Barrier(len(arguments))

    def run(argument):
        try:
            barrier.wait(timeout=10)
            results.append(retry_while_locked(lambda: action(argument)))
        except Exception as exc:  # noqa: BLE001 - the caller asserts on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
