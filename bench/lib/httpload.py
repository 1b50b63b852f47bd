"""A small HTTP/1.1 load generator for the server benchmarks (no third-party tools).

Client processes (forked, so they do not share our GIL) each run a few threads; every
thread holds one connection and sends requests back to back, reusing the connection when
the server keeps it open (uvicorn) and reconnecting when it closes it (gunicorn's sync
workers answer `Connection: close`). A run stops after `duration` seconds or
`max_requests`, whichever comes first.
"""

import itertools
import multiprocessing
import socket
import statistics
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """One request; "{n}" in the body or a header is replaced by a running number."""

    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    def encode(self, host, n):
        body = self.body.replace(b"{n}", str(n).encode())
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}".replace("{n}", str(n)) for name, value in self.headers.items()]
        if body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list
    statuses: dict

    @property
    def rate(self):
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction):
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self):
        return (
            f"{self.rate:8.1f} req/s  ({self.requests} in {self.seconds:.1f} s, {self.errors} errors, "
            f"p50 {self.percentile(0.5):.1f} ms, p99 {self.percentile(0.99):.1f} ms)"
        )


class Connection:
    def __init__(self, host, port):
        self.address = (host, port)
        self.sock = None
        self.buffer = b""

    def exchange(self, payload):
        """Send one request, return (status, body); reconnects when the server closed."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=30)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(payload)
        status, headers = self._read_head()
        body = self._read_body(headers)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def _read_head(self):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _sep, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers

    def _take(self, size):
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _read_body(self, headers):
        if "content-length" in headers:
            return self._take(int(headers["content-length"]))
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                while b"\r\n" not in self.buffer:
                    self._fill()
                size_line, self.buffer = self.buffer.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                parts.append(self._take(size + 2)[:-2])
                if size == 0:
                    return b"".join(parts)
        try:  # no length: the body runs to the end of the connection
            while True:
                self._fill()
        except ConnectionError:
            body, self.buffer = self.buffer, b""
            self.close()
            return body


def _thread(host, port, request, deadline, numbers, quota, out):
    connection = Connection(host, port)
    latencies, statuses, errors = [], {}, 0
    for n in numbers:
        if n >= quota or time.monotonic() >= deadline:
            break
        payload = request.encode(host, n)
        started = time.perf_counter()
        try:
            status, _body = connection.exchange(payload)
        except OSError:
            connection.close()
            errors += 1
            statuses["connection error"] = statuses.get("connection error", 0) + 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            errors += 1
    connection.close()
    out.append((latencies, statuses, errors))


def _client_process(host, port, request, duration, threads, first_number, quota, queue):
    deadline = time.monotonic() + duration
    numbers = itertools.count(first_number)  # next() on a count is atomic under the GIL
    out = []
    workers = [
        threading.Thread(target=_thread, args=(host, port, request, deadline, numbers, first_number + quota, out))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(out)


_run_counter = itertools.count()


def run_load(host, port, request, *, duration=5.0, processes=2, threads=4, max_requests=100_000):
    """Load the server and return a LoadResult (wall-clock rate over the whole run)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    per_process = max_requests // processes
    # Distinct numbers across runs too: "{n}" feeds idempotency keys that must not repeat.
    base = (next(_run_counter) * 10 + 1) * 10_000_000 + int(time.time()) % 1_000_000 * 1000
    children = [
        context.Process(
            target=_client_process,
            args=(host, port, request, duration, threads, base + index * per_process, per_process, queue),
        )
        for index in range(processes)
    ]
    started = time.perf_counter()
    for child in children:
        child.start()
    results = [queue.get() for _ in children]
    elapsed = time.perf_counter() - started
    for child in children:
        child.join()
    latencies, statuses, errors = [], {}, 0
    for per_thread in results:
        for thread_latencies, thread_statuses, thread_errors in per_thread:
            latencies += thread_latencies
            errors += thread_errors
            for status, count in thread_statuses.items():
                statuses[status] = statuses.get(status, 0) + count
    done = sum(count for status, count in statuses.items() if status != "connection error")
    return LoadResult(requests=done, errors=errors, seconds=elapsed, latencies_ms=latencies, statuses=statuses)


def median(values):
    return statistics.median(values) if values else float("nan")
