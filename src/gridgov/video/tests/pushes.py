"""Helpers of the webhook tests: signed pushes, and the worker's drain of the inbox (the
webhook answers 202 and stores the push; the alarm exists once the drain ran)."""

import json

from django.test import Client

from gridgov.video.inbox import drain_all
from gridgov.video.signing import signed_headers

WEBHOOK = "/api/v1/alarms/webhook/"


def signed_meta(raw, *, source, secret, timestamp=None):
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers(source, secret, raw, timestamp=timestamp).items()}


def post_raw(raw, *, source, secret, timestamp=None, url=WEBHOOK, client=None):
    return (client or Client()).post(url, raw, content_type="application/json", **signed_meta(raw, source=source, secret=secret, timestamp=timestamp))


def post_json(body, **kwargs):
    return post_raw(json.dumps(body).encode(), **kwargs)


def drain():
    """What the worker does within about a second: record every queued push. Returns how
    many inbox rows it took."""
    return drain_all()
