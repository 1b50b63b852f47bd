from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SensitiveReadLog(models.Model):
    """One row for every read of personal data in the clear (PIPL art. 28)."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("user")
    )
    object_type = models.CharField(_("object type"), max_length=50)
    object_id = models.CharField(_("object id"), max_length=50)
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=20, default="web")

    class Meta:
        verbose_name = _("sensitive data read")
        verbose_name_plural = _("sensitive data reads")
        indexes = [models.Index(fields=["object_type", "object_id"])]
