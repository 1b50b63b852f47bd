"""Load the server benchmarks with wrk (C, one event loop per thread), falling back to
httpload (Python) when wrk is not installed (`make bench-tools` installs it).

httpload's client processes take a large share of the machine's two cores; wrk leaves
them to the server under test (the bare one-INSERT view: ~1,250 req/s with httpload,
~1,450-1,620 with wrk on the same machine).

    result = run_wrk("127.0.0.1", port, Request("POST", "/path", headers, body), duration=8, connections=8)
    result.rate, result.requests, result.errors, result.statuses, result.percentile(0.99)

`request_or_requests`:
- one httpload.Request: "{n}" in its body or headers is replaced by a running number,
  distinct per request (across wrk threads and across runs);
- a list of Requests (e.g. bodies signed in advance, each with its own event id): sent
  in turn, each wrk thread its own share; when the list runs out it starts again and
  `result.repeated` counts the requests sent a second time.

Every response's status is counted (a Lua `response` callback); `result.check()` raises
when any answer was not 2xx or a socket error happened: a benchmark must not report the
rate of failures. `load(...)` picks wrk or httpload and says which one it used.
"""

import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from httpload import Request, run_load

WRK = shutil.which("wrk")
RESULT_MARK = "WRKLOAD-RESULT "
PERCENTILES = [*range(1, 100), 99.9, 99.99]


@dataclass
class WrkResult:
    requests: int  # responses received
    seconds: float
    statuses: dict  # status code -> count
    socket_errors: dict  # connect, read, write, timeout
    latency_ms: dict  # percentile (1..99.99) -> ms
    latency_max_ms: float
    repeated: int = 0  # requests of a list sent more than once
    tool: str = "wrk"

    @property
    def rate(self):
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def errors(self):
        """Non-2xx answers plus socket errors."""
        return sum(n for status, n in self.statuses.items() if not 200 <= int(status) < 300) + sum(self.socket_errors.values())

    def percentile(self, fraction):
        """Latency in ms at `fraction` (0.5, 0.99 ...), from wrk's histogram."""
        if fraction >= 1:
            return self.latency_max_ms
        wanted = fraction * 100
        nearest = min(self.latency_ms, key=lambda p: abs(float(p) - wanted))
        return self.latency_ms[nearest]

    def summary(self):
        return (
            f"{self.rate:8.1f} req/s  ({self.requests} in {self.seconds:.1f} s, {self.errors} errors, "
            f"p50 {self.percentile(0.5):.1f} ms, p99 {self.percentile(0.99):.1f} ms; {self.tool})"
        )

    def check(self):
        """Fail loudly: a non-2xx answer or a socket error means the figures are not those
        of the work under test."""
        bad = {status: n for status, n in self.statuses.items() if not 200 <= int(status) < 300}
        sockets = {kind: n for kind, n in self.socket_errors.items() if n}
        if bad or sockets:
            raise RuntimeError(f"load run had errors: statuses {bad}, socket errors {sockets}")
        return self


def lua_string(data):
    """A Lua string literal of these exact bytes (every byte outside printable ASCII as a
    three-digit decimal escape: Lua's long strings would turn CR LF into LF)."""
    if isinstance(data, str):
        data = data.encode()
    out = []
    for byte in data:
        if 32 <= byte < 127 and byte not in (34, 92):  # not " or \
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def head_template(request, host):
    lines = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in request.headers.items()]
    return "\r\n".join(lines) + "\r\n"


def raw_request(request, host):
    body = request.body
    head = head_template(request, host)
    if body or request.method in ("POST", "PUT", "PATCH"):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


_COMMON_LUA = """
local threads = {}
local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local merged = {}
  local repeated = 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      merged[tostring(status)] = (merged[tostring(status)] or 0) + n
    end
    repeated = repeated + (thread:get("repeated") or 0)
  end
  local parts = {}
  for status, n in pairs(merged) do table.insert(parts, string.format('"%s": %d', status, n)) end
  local pcts = {}
  for _, p in ipairs(PERCENTILES) do
    table.insert(pcts, string.format('"%s": %.3f', tostring(p), latency:percentile(p) / 1000.0))
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT_MARK{"requests": %d, "duration_us": %d, "statuses": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, "latency_ms": {%s}, "latency_max_ms": %.3f, "repeated": %d}\\n',
    summary.requests, summary.duration, table.concat(parts, ", "), e.connect, e.read, e.write, e.timeout,
    table.concat(pcts, ", "), latency.max / 1000.0, repeated))
end
"""

_NUMBERED_LUA = """
local n = 0
function init(args)
  base = tonumber(args[1])
  nthreads = tonumber(args[2])
end
function request()
  local number = tostring(base + n * nthreads + index)
  n = n + 1
  local body = (BODY:gsub("{n}", number))
  local head = (HEAD:gsub("{n}", number))
  if #body > 0 or SEND_LENGTH then
    head = head .. "Content-Length: " .. #body .. "\\r\\n"
  end
  return head .. "\\r\\n" .. body
end
"""

_LIST_LUA = """
local n = 0
repeated = 0
function init(args)
  nthreads = tonumber(args[2])
end
function request()
  local i = n * nthreads + index
  n = n + 1
  if i >= #REQUESTS then repeated = repeated + 1 end
  return REQUESTS[(i % #REQUESTS) + 1]
end
"""


def lua_script(request_or_requests, host):
    percentiles = "PERCENTILES = {" + ", ".join(str(p) for p in PERCENTILES) + "}\n"
    common = _COMMON_LUA.replace("RESULT_MARK", RESULT_MARK)
    if isinstance(request_or_requests, Request):
        request = request_or_requests
        send_length = "true" if request.method in ("POST", "PUT", "PATCH") else "false"
        head = head_template(request, host)
        return (
            percentiles + f"BODY = {lua_string(request.body)}\nHEAD = {lua_string(head)}\nSEND_LENGTH = {send_length}\n"
            + common + _NUMBERED_LUA
        )
    requests = list(request_or_requests)
    if not requests:
        raise ValueError("no requests to send")
    items = ",\n".join(lua_string(raw_request(request, host)) for request in requests)
    return percentiles + "REQUESTS = {\n" + items + "\n}\n" + common + _LIST_LUA


_run_counter = itertools.count()


def run_wrk(host, port, request_or_requests, duration=5.0, connections=8, *, threads=1, timeout=30):
    """Run wrk against http://host:port and return a WrkResult (see the module docstring).
    One wrk thread by default: it drives thousands of requests a second and leaves the
    second core to the server."""
    if WRK is None:
        raise RuntimeError("wrk is not installed (make bench-tools)")
    threads = max(1, min(threads, connections))
    base = (next(_run_counter) * 10 + 1) * 10_000_000 + int(time.time()) % 1_000_000 * 1000
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="ascii") as script:
        script.write(lua_script(request_or_requests, f"{host}:{port}"))
    try:
        command = [
            WRK, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(duration))}s",
            "--timeout", f"{timeout}s", "-s", script.name, f"http://{host}:{port}/", "--", str(base), str(threads),
        ]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + timeout + 60)
    finally:
        os.unlink(script.name)
    line = next((line for line in completed.stdout.splitlines() if line.startswith(RESULT_MARK)), None)
    if completed.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}{completed.stdout[-2000:]}")
    data = json.loads(line[len(RESULT_MARK):])
    return WrkResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6, statuses=data["statuses"],
        socket_errors=data["socket_errors"], latency_ms=data["latency_ms"], latency_max_ms=data["latency_max_ms"],
        repeated=data["repeated"],
    )


@dataclass(frozen=True)
class Cycled(Request):
    """httpload's view of a list of requests: the running number picks one."""

    requests: tuple = field(default=())

    def encode(self, host, n):
        return raw_request(self.requests[n % len(self.requests)], host)


def run_httpload(host, port, request_or_requests, duration=5.0, connections=8):
    """The fallback: httpload with as many connections (2 processes), as a WrkResult."""
    processes = 2 if connections >= 2 else 1
    if isinstance(request_or_requests, Request):
        request, quota = request_or_requests, 100_000
    else:
        requests = tuple(request_or_requests)
        # Each process takes its own half of the list (see run_load's numbering): no repeats.
        request, quota = Cycled("POST", "/", requests=requests), len(requests)
    result = run_load(host, port, request, duration=duration, processes=processes,
                      threads=max(1, connections // processes), max_requests=quota)
    statuses = {str(status): n for status, n in result.statuses.items() if status != "connection error"}
    ordered = sorted(result.latencies_ms) or [float("nan")]
    latency = {str(p): ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] for p in PERCENTILES}
    return WrkResult(
        requests=result.requests, seconds=result.seconds, statuses=statuses,
        socket_errors={"connect": result.statuses.get("connection error", 0)}, latency_ms=latency,
        latency_max_ms=ordered[-1], tool="httpload",
    )


_announced = set()


def load(host, port, request_or_requests, duration=5.0, connections=8, **kwargs):
    """wrk when installed, else httpload; says once which one it uses."""
    tool = "wrk" if WRK else "httpload (wrk not installed: make bench-tools)"
    if tool not in _announced:
        _announced.add(tool)
        print(f"load generator: {tool}")
    if WRK:
        return run_wrk(host, port, request_or_requests, duration, connections, **kwargs)
    return run_httpload(host, port, request_or_requests, duration, connections)
