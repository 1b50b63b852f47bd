"""Test helpers: serve the real ASGI app with uvicorn in a thread, read SSE over a socket.

In-process (not a subprocess) so the server sees the test database, including SQLite's
in-memory one; it is the same uvicorn + ASGI + async view path as `gridgov serve` on :8001.
"""

import socket
import threading
import time

import uvicorn


class AsgiServer:
    """with AsgiServer() as server: server.url -> "http://127.0.0.1:<port>"."""

    def __init__(self, app=None):
        if app is None:
            from gridgov.asgi import application as app
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, lifespan="off", log_level="warning", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.server.force_exit = True
        self.thread.join(5)
        self.sock.close()


class SseClient:
    """A raw HTTP/1.1 SSE reader (no client library): parses events as they arrive."""

    def __init__(self, port, path, headers=None, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        self.status = int(self._read_until(b"\r\n\r\n").split(b" ", 2)[1])

    def _read_until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("stream closed")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def next_event(self, timeout=5):
        """The next event as a dict {id, event, data}; skips chunk-size lines of chunked encoding."""
        self.sock.settimeout(timeout)
        while True:
            raw = self._read_until(b"\n\n")
            event = {}
            for line in raw.decode().splitlines():
                key, sep, value = line.partition(": ")
                if sep and key in ("id", "event", "data", "retry"):
                    event[key] = value
            if "event" in event:
                return event

    def close(self):
        self.sock.close()
