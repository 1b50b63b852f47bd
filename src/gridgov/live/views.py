"""GET /events/?ticket=...: the Server-Sent Events stream.

Served in production by the ASGI app (uvicorn, `gridgov serve` on :8001): each client is a
coroutine waiting on its in-memory queue, holding no thread and no database connection.
Under a WSGI server (tests' live_server, runserver) the same view streams from a thread
for at most GRIDGOV_LIVE_WSGI_STREAM_SECONDS and then ends; the browser's EventSource
reconnects by itself and resumes with Last-Event-ID, so nothing is lost, and a sync worker
is never held for long.
"""

import asyncio
import json
import queue
import time

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from . import tickets
from .hub import AsyncSink, SyncSink, get_hub

HEARTBEAT_SECONDS = 15.0
MAX_BATCH = 200


def encode(event):
    data = json.dumps(event.data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


# `retry` sets the browser's reconnect delay; the first ping confirms the connection.
OPENING = b"retry: 1000\nevent: ping\ndata: {}\n\n"


REAUTH = b"event: reauth\ndata: {}\n\n"
# A named event (not a comment) so the page's watchdog sees the connection is alive.
PING = b"event: ping\ndata: {}\n\n"


def last_event_id(request):
    """The resume point: the browser's Last-Event-ID header, or ?last_event_id= on a fresh page."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or ""
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def visible_batch(events, scope_code):
    return "".join(encode(e) for e in events if e.visible_to(scope_code)).encode()


async def stream_async(ticket, since):
    hub = get_hub()
    sink = AsyncSink()
    hub.subscribe(sink, since)
    try:
        yield OPENING
        while not sink.overflowed:
            remaining = ticket.expires_at - time.time()
            if remaining <= 0:
                yield REAUTH
                return
            try:
                first = await asyncio.wait_for(sink.queue.get(), timeout=min(HEARTBEAT_SECONDS, remaining))
            except TimeoutError:
                yield PING
                continue
            batch = [first]
            while not sink.queue.empty() and len(batch) < MAX_BATCH:
                batch.append(sink.queue.get_nowait())
            chunk = visible_batch(batch, ticket.scope_code)
            if chunk:
                yield chunk
    finally:
        hub.unsubscribe(sink)


def stream_sync(ticket, since):
    hub = get_hub()
    sink = SyncSink()
    hub.subscribe(sink, since)
    ends_at = min(ticket.expires_at, time.time() + settings.GRIDGOV_LIVE_WSGI_STREAM_SECONDS)
    try:
        yield OPENING
        while not sink.overflowed:
            remaining = ends_at - time.time()
            if remaining <= 0:
                yield REAUTH if ends_at >= ticket.expires_at else b""
                return
            try:
                first = sink.queue.get(timeout=min(HEARTBEAT_SECONDS, remaining))
            except queue.Empty:
                yield PING
                continue
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(sink.queue.get_nowait())
                except queue.Empty:
                    break
            chunk = visible_batch(batch, ticket.scope_code)
            if chunk:
                yield chunk
    finally:
        hub.unsubscribe(sink)


def allow_any_origin(response):
    # The ticket is the credential (no cookies), so any page holding one may read the stream.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
async def events(request):
    ticket = tickets.read(request.GET.get("ticket", ""))
    if ticket is None:
        body = {"code": "forbidden", "message": _("The stream ticket is missing, invalid or expired."), "fields": {}}
        return allow_any_origin(JsonResponse(body, status=403))
    since = last_event_id(request)
    stream = stream_async(ticket, since) if isinstance(request, ASGIRequest) else stream_sync(ticket, since)
    response = StreamingHttpResponse(stream, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return allow_any_origin(response)
