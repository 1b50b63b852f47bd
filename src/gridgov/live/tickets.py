"""Stream tickets: a signed, short-lived note of which region a stream may see.

The page that opens a stream gets a ticket from an endpoint that checked the viewer
(a kiosk token or a signed-in leader). The SSE view only verifies the signature, so it
needs no session, no cookie (the stream may live on another port) and no database.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

SALT = "gridgov.live.ticket"


@dataclass(frozen=True)
class Ticket:
    scope_code: str
    expires_at: float


def issue(scope_code, ttl=None):
    """A ticket for the subtree `scope_code` ('' = everything), valid `ttl` seconds."""
    ttl = ttl or settings.GRIDGOV_LIVE_TICKET_SECONDS
    expires_at = int(time.time() + ttl)
    return signing.dumps({"s": scope_code, "e": expires_at}, salt=SALT, compress=True), expires_at


def read(value):
    """The ticket's content, or None when it is forged, malformed or expired."""
    if not value:
        return None
    try:
        payload = signing.loads(value, salt=SALT)
        ticket = Ticket(scope_code=str(payload["s"]), expires_at=float(payload["e"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return ticket if ticket.expires_at > time.time() else None
