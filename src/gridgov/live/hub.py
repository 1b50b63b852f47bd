"""One hub per process: a single poller thread reads the outbox and fans events out.

Why a thread and not a task: the same hub serves async clients (uvicorn, one event loop)
and the sync streams of WSGI servers (tests, runserver), and the poller's blocking waits
(LISTEN on PostgreSQL, a timer on SQLite) and ORM reads stay out of every event loop.
Clients only own an in-memory queue; the database is touched by this thread alone.
"""

import asyncio
import collections
import logging
import os
import queue
import select
import socket
import threading
import time

from django.conf import settings
from django.db import OperationalError, connection, connections

from .bus import NOTIFY_CHANNEL, fetch_events, latest_id, purge_events

log = logging.getLogger(__name__)

BUFFER_SIZE = 5000  # recent events kept in memory for Last-Event-ID resumes
QUEUE_SIZE = 2000  # per client; a client that falls further behind is disconnected
FETCH_LIMIT = 1000
GAP_SECONDS = 5.0  # how long a missing id may still commit (PostgreSQL commit order)
MAX_GAPS = 1000
PURGE_EVERY = 3600.0


class Waker:
    """A self-pipe: wakes the poller's select() from any thread."""

    def __init__(self):
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)

    def fileno(self):
        return self._read.fileno()

    def wake(self):
        try:
            self._write.send(b"\0")
        except OSError:  # the pipe is full: a wake-up is already pending
            pass

    def drain(self):
        try:
            while self._read.recv(4096):
                pass
        except OSError:
            pass


class AsyncSink:
    """A client served by an event loop: events land in an asyncio.Queue of that loop."""

    def __init__(self, loop=None, maxsize=QUEUE_SIZE):
        self.loop = loop or asyncio.get_running_loop()
        self.queue = asyncio.Queue(maxsize)
        self.overflowed = False

    def put_all(self, events):
        for event in events:
            try:
                self.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.overflowed = True
                return


class SyncSink:
    """A client served by a thread (WSGI): events land in a thread-safe queue."""

    loop = None

    def __init__(self, maxsize=QUEUE_SIZE):
        self.queue = queue.Queue(maxsize)
        self.overflowed = False

    def put_all(self, events):
        for event in events:
            try:
                self.queue.put_nowait(event)
            except queue.Full:
                self.overflowed = True
                return


def _put_all(sinks, events):
    for sink in sinks:
        sink.put_all(events)


class PollingWait:
    """SQLite (and any other database): look for new rows on a short timer."""

    def __init__(self):
        self.interval = settings.GRIDGOV_LIVE_POLL_SECONDS

    def wait(self, waker):
        select.select([waker], [], [], self.interval)
        waker.drain()

    def close(self):
        pass


class ListenWait:
    """PostgreSQL: sleep until NOTIFY (or a slow safety timer) says there is something."""

    FALLBACK_SECONDS = 5.0
    IGNORED_PARAMS = {"cursor_factory", "context", "prepare_threshold"}

    def __init__(self):
        import psycopg

        params = {k: v for k, v in connection.get_connection_params().items() if k not in self.IGNORED_PARAMS}
        self.conn = psycopg.connect(**params, autocommit=True)
        self.conn.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, waker):
        readable, _, _ = select.select([self.conn.fileno(), waker], [], [], self.FALLBACK_SECONDS)
        waker.drain()
        if self.conn.fileno() in readable:
            for _ in self.conn.notifies(timeout=0):
                pass

    def close(self):
        self.conn.close()


def make_waiter():
    return ListenWait() if connection.vendor == "postgresql" else PollingWait()


class Hub:
    def __init__(self, idle_seconds=60.0):
        self.idle_seconds = idle_seconds
        self.last_id = 0
        self._lock = threading.Lock()
        self._active = set()
        self._pending = []
        self._buffer = collections.deque(maxlen=BUFFER_SIZE)
        self._floor = 0  # every event with id > floor is in the buffer
        self._gaps = {}
        self._waker = Waker()
        self._thread = None
        self._stopping = False
        self._last_purge = 0.0

    # -- client side ------------------------------------------------------------------
    def subscribe(self, sink, since=None):
        """Start delivering to `sink`; with `since`, first the events after that id."""
        with self._lock:
            self._pending.append((sink, since))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gridgov-live-hub", daemon=True)
                self._thread.start()
        self.wake()

    def unsubscribe(self, sink):
        with self._lock:
            self._active.discard(sink)
            self._pending = [(s, since) for s, since in self._pending if s is not sink]

    def wake(self):
        self._waker.wake()

    def stop(self, timeout=5.0):
        """End the poller thread (tests, shutdown); a later subscribe starts a new one."""
        thread = self._thread
        self._stopping = True
        self.wake()
        if thread is not None:
            thread.join(timeout)
        self._stopping = False

    @property
    def running(self):
        return self._thread is not None

    @property
    def client_count(self):
        return len(self._active)

    # -- the poller thread -------------------------------------------------------------
    def _run(self):
        waiter = None
        idle_since = None
        try:
            while not self._stopping:
                try:
                    if waiter is None:
                        waiter = self._start()
                    self._admit_pending()
                    more = self._poll_once()
                    self._maybe_purge()
                except Exception as error:  # a lost database connection must not kill live updates
                    if isinstance(error, OperationalError) and "locked" in str(error):
                        # SQLite's shared-cache (in-memory) databases lock tables briefly.
                        time.sleep(0.02)
                        continue
                    log.exception("live hub: poll failed; retrying")
                    waiter = self._reset(waiter)
                    time.sleep(1.0)
                    continue
                with self._lock:
                    if self._active or self._pending:
                        idle_since = None
                    else:
                        idle_since = idle_since or time.monotonic()
                        if time.monotonic() - idle_since > self.idle_seconds:
                            self._thread = None
                            return
                if not more:
                    waiter.wait(self._waker)
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
            self._reset(waiter)

    def _start(self):
        waiter = make_waiter()
        with self._lock:
            self.last_id = self._floor = latest_id()
            self._buffer.clear()
            self._gaps.clear()
        return waiter

    def _reset(self, waiter):
        if waiter is not None:
            try:
                waiter.close()
            except Exception:
                pass
        connections.close_all()
        return None

    def _admit_pending(self):
        with self._lock:
            pending, self._pending = self._pending, []
        for sink, since in pending:
            backlog = self._backlog(since)
            if backlog:
                self._deliver([sink], backlog)
            with self._lock:
                self._active.add(sink)

    def _backlog(self, since):
        if since is None or since >= self.last_id:
            return []
        if since >= self._floor:
            return [event for event in self._buffer if event.id > since]
        return fetch_events(since, upto_id=self.last_id, limit=BUFFER_SIZE)

    def _poll_once(self):
        """Read and fan out new rows; True when a full batch suggests more are waiting."""
        events = fetch_events(self.last_id, extra_ids=self._gaps.keys(), limit=FETCH_LIMIT)
        self._track_gaps(events)
        if events:
            self._remember(events)
            with self._lock:
                sinks = list(self._active)
            self._deliver(sinks, events)
        return len(events) >= FETCH_LIMIT

    def _track_gaps(self, events):
        """Ids can commit out of order on PostgreSQL: look again for skipped ids a while."""
        now = time.monotonic()
        expected = self.last_id + 1
        for event in events:
            if event.id in self._gaps:
                del self._gaps[event.id]
                continue
            for missing in range(expected, event.id):
                if len(self._gaps) < MAX_GAPS:
                    self._gaps[missing] = now
            expected = event.id + 1
            self.last_id = event.id
        for missing, seen in list(self._gaps.items()):
            if now - seen > GAP_SECONDS:
                del self._gaps[missing]

    def _remember(self, events):
        overflow = len(self._buffer) + len(events) - BUFFER_SIZE
        if overflow > 0:
            combined = list(self._buffer) + events
            self._floor = combined[overflow - 1].id
        self._buffer.extend(events)

    def _deliver(self, sinks, events):
        """One call per event loop (not per client) keeps fan-out cheap with many clients."""
        by_loop = collections.defaultdict(list)
        for sink in sinks:
            if sink.loop is None:
                sink.put_all(events)
            else:
                by_loop[sink.loop].append(sink)
        for loop, loop_sinks in by_loop.items():
            try:
                loop.call_soon_threadsafe(_put_all, loop_sinks, events)
            except RuntimeError:  # that loop has closed: its clients are gone
                for sink in loop_sinks:
                    self.unsubscribe(sink)

    def _maybe_purge(self):
        now = time.monotonic()
        if now - self._last_purge > PURGE_EVERY:
            self._last_purge = now
            purge_events()


_hub = None
_hub_lock = threading.Lock()


def get_hub():
    global _hub
    with _hub_lock:
        if _hub is None:
            _hub = Hub()
        return _hub


def stop_hub():
    """Stop this process's poller thread if it runs (tests use this between cases)."""
    if _hub is not None:
        _hub.stop()


def wake_running_hub():
    """After a local publish commits: no need to wait for the next poll."""
    if _hub is not None and _hub.running:
        _hub.wake()


def _forget_hub_after_fork():
    # A forked worker inherits no poller thread; it starts its own on first use.
    global _hub
    _hub = None


os.register_at_fork(after_in_child=_forget_hub_after_fork)
