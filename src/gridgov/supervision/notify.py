"""In-app notifications in bulk (one INSERT), then the external channels after commit."""

from django.db import transaction
from django.utils import timezone

from gridgov.web.models import Notification

from .channels import send_external

BATCH = 5000


def notify_users(messages, *, at=None):
    """`messages`: iterable of (user ids, text, url). One bulk insert; channels on commit."""
    at = at or timezone.now()
    messages = [(sorted(set(ids)), str(text)[:300], url) for ids, text, url in messages if ids]
    rows = [Notification(recipient_id=user_id, text=text, url=url, created_at=at) for ids, text, url in messages for user_id in ids]
    Notification.objects.bulk_create(rows, batch_size=BATCH)
    if messages:
        transaction.on_commit(lambda: send_external(messages))
    return len(rows)
