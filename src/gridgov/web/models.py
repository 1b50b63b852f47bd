"""Models of the web interface: per-user UI state that the domain apps do not own."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedFilter(models.Model):
    """A named query string of the case list, kept per user (e.g. "我的超时工单")."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=50)
    # The list's GET parameters without page and sort noise, e.g. "status=accepted&clock=overdue".
    query = models.CharField(_("query"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="web_savedfilter_user_name")]

    def __str__(self):
        return self.name
