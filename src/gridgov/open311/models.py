"""Open311 GeoReport v2: API keys of client applications and the requests they created."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def new_key():
    return secrets.token_urlsafe(24)


class ApiKey(models.Model):
    """A client application's key for POST requests; it acts as its service account."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(pgettext_lazy("API key", "key"), max_length=64, unique=True, default=new_key)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="open311_keys", verbose_name=_("service account"),
        help_text=_("Cases are reported as this account (needs a role that may report cases, and a scope)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 API key")
        verbose_name_plural = _("Open311 API keys")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ServiceRequest(models.Model):
    """The Open311 side of a case reported through /open311/v2/requests."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="open311_request", verbose_name=_("case"))
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="requests", verbose_name=_("API key"))
    token = models.CharField(_("token"), max_length=64, unique=True, default=new_key)
    service_code = models.CharField(_("service code"), max_length=10)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    # Contact data of the reporter: stored for the centre, never shown by the public API.
    email = models.CharField(_("email"), max_length=100, blank=True)
    device_id = models.CharField(_("device id"), max_length=100, blank=True)
    account_id = models.CharField(_("account id"), max_length=100, blank=True)
    media_url = models.URLField(_("media URL"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("Open311 service request")
        verbose_name_plural = _("Open311 service requests")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.case.number if self.case_id else self.token
