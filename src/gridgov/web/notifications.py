"""Creating notifications: the one entry point other apps use."""

from django.utils import timezone

from .models import Notification


def notify(recipient, text, url="", *, at=None):
    """Notify one staff member; `url` should be a local path such as a case page."""
    return Notification.objects.create(recipient=recipient, text=str(text)[:300], url=url, created_at=at or timezone.now())


def notify_many(recipients, text, url="", *, at=None):
    at = at or timezone.now()
    rows = [Notification(recipient=user, text=str(text)[:300], url=url, created_at=at) for user in recipients]
    return Notification.objects.bulk_create(rows)
