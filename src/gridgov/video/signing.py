"""HMAC-SHA256 signatures of pushing platforms (webhook, HTTP heartbeats).

A request carries three headers:
    X-Gridgov-Source:     the AlarmSource code
    X-Gridgov-Timestamp:  Unix seconds when it was signed
    X-Gridgov-Signature:  "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + raw body))
Signatures outside the replay window (default ±300 s) are refused; within it a replayed
webhook push is recognised by the inbox (same source and body: the same row, answered with
its id; video.inbox) and its alarm is upserted by its event id anyway.
"""

import hashlib
import hmac
import time

from django.utils.translation import gettext as _

from gridgov.core.errors import Forbidden

from . import settings as video_settings
from .models import AlarmSource

SOURCE_HEADER = "X-Gridgov-Source"
TIMESTAMP_HEADER = "X-Gridgov-Timestamp"
SIGNATURE_HEADER = "X-Gridgov-Signature"


def sign(secret, timestamp, body):
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(source, secret, body, *, timestamp=None):
    timestamp = str(int(time.time() if timestamp is None else timestamp))
    return {SOURCE_HEADER: source, TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


_sources_cache = {"at": -1e9, "sources": {}}
SOURCES_TTL = 10.0  # seconds: other processes see a changed secret or a deactivation within this time


def signing_source(code):
    """The active source with a secret, cached per process: read for every webhook request
    it was a sixth of the request's CPU. A save in this process clears the cache at once."""
    now = time.monotonic()
    if now - _sources_cache["at"] > SOURCES_TTL:
        _sources_cache["sources"] = {source.code: source for source in AlarmSource.objects.filter(is_active=True).exclude(secret="")}
        _sources_cache["at"] = now
    return _sources_cache["sources"].get(code)


def clear_sources_cache(**kwargs):
    _sources_cache["at"] = -1e9


# The WSGI environ keys of the three headers: signing_headers reads them directly, since
# request.headers parses every header of the request into a new mapping.
_ENVIRON_KEYS = {name: "HTTP_" + name.upper().replace("-", "_") for name in (SOURCE_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER)}


def signing_headers(request):
    """The signing headers of a Django request, as verified_source takes them."""
    return {name: request.META.get(key, "") for name, key in _ENVIRON_KEYS.items()}


def verified_source(headers, body, *, now=None):
    """The AlarmSource that signed this request; Forbidden otherwise (same message for an
    unknown source and a wrong signature, so the endpoint does not reveal source codes)."""
    code = headers.get(SOURCE_HEADER, "")
    source = signing_source(code) if code else None
    try:
        timestamp = int(headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        raise bad_signature() from None
    if source is None:
        raise bad_signature()
    now = time.time() if now is None else now
    if abs(now - timestamp) > video_settings.value("webhook_window_seconds"):
        raise Forbidden(_("The request signature has expired."), code="stale_signature")
    expected = sign(source.secret, str(timestamp), body)
    if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
        raise bad_signature()
    return source


def bad_signature():
    return Forbidden(_("The request signature is not valid."), code="bad_signature")
