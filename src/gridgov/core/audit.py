"""Audit logging of sensitive reads."""

from .models import SensitiveReadLog


def log_sensitive_read(user, obj, fields, *, purpose="", channel="web"):
    SensitiveReadLog.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        fields=list(fields),
        purpose=purpose[:200],
        channel=channel,
    )
