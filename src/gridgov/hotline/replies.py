"""Delivery of replies to the 12345 hotline: signed POSTs with persisted retries.

On 办结 (`case_changed` with action "close") a HotlineReply row is written once per case and
a django-tasks job delivers it: POST JSON to GRIDGOV_HOTLINE_REPLY_URL with the header
`X-Gridgov-Signature: sha256=<hex HMAC-SHA256 of the body with GRIDGOV_HOTLINE_REPLY_SECRET>`
and `X-Gridgov-Timestamp`. Any 2xx answer is success; anything else (or no answer) counts an
attempt, stores the error and schedules the next try after GRIDGOV_HOTLINE_REPLY_BACKOFF[n]
seconds; after the last delay the reply is marked failed (staff can export it as .xlsx and
retry from the hotline page). The row is locked while sending, and a sent reply is never sent
again, so duplicate jobs are harmless.
"""

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from .models import HotlineReply, ReplyStatus

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Gridgov-Signature"
TIMESTAMP_HEADER = "X-Gridgov-Timestamp"
ERROR_MAX = 1000


def on_case_changed(sender, case, event, **kwargs):
    """case_changed receiver: a closed hotline case gets its closure reply."""
    if event is None or event.action != "close":
        return
    from .services import queue_closure_reply

    queue_closure_reply(case, event_seq=event.seq, at=event.at)


def sign(body, secret=None):
    """The signature header value of a request body (bytes)."""
    key = (secret if secret is not None else settings.GRIDGOV_HOTLINE_REPLY_SECRET).encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def schedule_delivery(reply_id, run_after=None):
    """Queue the delivery job (immediately, or not before `run_after`)."""
    job = deliver_reply if run_after is None else deliver_reply.using(run_after=run_after)
    job.enqueue(reply_id)


@task()
def deliver_reply(reply_id):
    """The background job: one attempt at sending one reply."""
    return attempt_delivery(reply_id)


def attempt_delivery(reply_id, *, now=None):
    """Send the reply if it is pending and due; returns its status afterwards.

    The reply is claimed first (its next_retry_at moves past the request timeout), so two
    jobs never send it at once and no lock is held during the HTTP request. Without a
    configured URL the reply stays pending (for the .xlsx export) and no attempt is counted.
    """
    url = settings.GRIDGOV_HOTLINE_REPLY_URL
    now = now or timezone.now()
    if not url or not _claim(reply_id, now):
        return HotlineReply.objects.filter(pk=reply_id).values_list("status", flat=True).first()
    reply = HotlineReply.objects.get(pk=reply_id)
    error = _post(url, reply.payload)
    reply.attempts += 1
    if error is None:
        reply.status, reply.sent_at, reply.next_retry_at, reply.last_error = ReplyStatus.SENT, now, None, ""
    else:
        _record_failure(reply, error, now)
    with transaction.atomic():
        reply.save(update_fields=["status", "attempts", "sent_at", "next_retry_at", "last_error"])
        if reply.status == ReplyStatus.PENDING:
            retry_at = reply.next_retry_at
            transaction.on_commit(lambda: schedule_delivery(reply_id, run_after=retry_at))
    return reply.status


def _claim(reply_id, now):
    lease = now + timedelta(seconds=settings.GRIDGOV_HOTLINE_REPLY_TIMEOUT + 60)
    claimed = HotlineReply.objects.filter(pk=reply_id, status=ReplyStatus.PENDING, next_retry_at__lte=now)
    return claimed.update(next_retry_at=lease) == 1


def _record_failure(reply, error, now):
    delays = settings.GRIDGOV_HOTLINE_REPLY_BACKOFF
    reply.last_error = error[:ERROR_MAX]
    if reply.attempts > len(delays):
        reply.status, reply.next_retry_at = ReplyStatus.FAILED, None
        logger.warning("hotline reply %s failed for good: %s", reply.key, error)
    else:
        reply.next_retry_at = now + timedelta(seconds=delays[reply.attempts - 1])


def _post(url, payload):
    """POST the signed payload; None on a 2xx answer, else a description of the failure."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(body),
            TIMESTAMP_HEADER: timezone.now().isoformat(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.GRIDGOV_HOTLINE_REPLY_TIMEOUT) as response:
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as failure:
        return f"HTTP {failure.code}: {failure.read(300).decode('utf-8', 'replace')}"
    except (urllib.error.URLError, OSError) as failure:
        return f"{type(failure).__name__}: {failure}"


def retry_now(reply, actor):
    """A failed (or waiting) reply is sent again from the hotline page."""
    from gridgov.org.permissions import require

    require(actor, "hotline.import")
    with transaction.atomic():
        locked = HotlineReply.objects.select_for_update().get(pk=reply.pk)
        if locked.status == ReplyStatus.SENT:
            return locked
        locked.status, locked.next_retry_at = ReplyStatus.PENDING, timezone.now()
        if locked.attempts > len(settings.GRIDGOV_HOTLINE_REPLY_BACKOFF):
            locked.attempts = 0
        locked.save(update_fields=["status", "next_retry_at", "attempts"])
        transaction.on_commit(lambda: schedule_delivery(locked.pk))
    return locked


def deliver_due(now=None):
    """Send every pending reply whose retry time has come (a safety net beside the queue,
    e.g. `gridgov hotline_send_replies` from cron). Returns the number of attempts made."""
    now = now or timezone.now()
    due = HotlineReply.objects.filter(status=ReplyStatus.PENDING, next_retry_at__lte=now).values_list("pk", flat=True)
    count = 0
    for reply_id in list(due):
        attempt_delivery(reply_id, now=now)
        count += 1
    return count
