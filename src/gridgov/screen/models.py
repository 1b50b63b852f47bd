"""Data of the big screen (智慧大屏): kiosk access, patrol positions, monthly indicators
(cameras live in gridgov.video), and the append-only outbox of the live event bus (gridgov.live)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def hash_token(raw):
    """Kiosk tokens are long random strings, so a plain SHA-256 is a sufficient hash."""
    return hashlib.sha256(raw.encode()).hexdigest()


class KioskTokenQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class KioskToken(models.Model):
    """Read-only access for a wall display: /screen/?token=<raw>. Only the hash is stored."""

    label = models.CharField(_("label"), max_length=100)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    # The first characters of the raw token, so staff can tell tokens apart in the admin.
    prefix = models.CharField(_("token prefix"), max_length=8, editable=False)
    scope = models.ForeignKey(
        "geo.Region", on_delete=models.PROTECT, related_name="kiosk_tokens", verbose_name=_("scope region")
    )
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = KioskTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("kiosk token")
        verbose_name_plural = _("kiosk tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.label} ({self.prefix}…)"

    def set_new_token(self):
        """Generate a fresh random token, store its hash and return the raw value once."""
        raw = secrets.token_urlsafe(32)
        self.token_hash = hash_token(raw)
        self.prefix = raw[:8]
        return raw

    def is_usable(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class InspectorPosition(models.Model):
    """A grid inspector's position posted by the phone app while on patrol (WGS84).

    Append-only history; the screen shows each inspector's latest recent position.
    Positions are 行踪轨迹 (sensitive under PIPL art. 28): the screen masks names.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="positions", verbose_name=_("inspector")
    )
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    accuracy = models.FloatField(_("accuracy (m)"), null=True, blank=True)
    at = models.DateTimeField(_("time"))
    grid = models.ForeignKey(
        "geo.Region", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("grid")
    )
    region_code = models.CharField(_("region code"), max_length=15, blank=True)

    class Meta:
        verbose_name = _("inspector position")
        verbose_name_plural = _("inspector positions")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["at", "user"]), models.Index(fields=["user", "at"])]


class IndicatorModule(models.TextChoices):
    PARTY = "party", _("Party building")  # 党建引领
    ECONOMY = "economy", _("Economy")  # 经济运行


class MonthlyIndicator(models.Model):
    """One figure of one month, filled in by staff (admin or Excel import)."""

    module = models.CharField(_("module"), max_length=12, choices=IndicatorModule.choices)
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    source = models.CharField(_("source"), max_length=100)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("monthly indicator")
        verbose_name_plural = _("monthly indicators")
        ordering = ["module", "-month", "sort_order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["module", "month", "key"], name="screen_indicator_module_month_key")
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.label}"


class LiveEvent(models.Model):
    """Outbox of the live bus: written in the same transaction as the change it reports.

    Pollers read rows by increasing id, so the id doubles as the SSE event id and a
    reconnecting screen resumes from its Last-Event-ID. Old rows are purged.
    """

    kind = models.CharField(_("kind"), max_length=20)
    region_code = models.CharField(_("region code"), max_length=15, blank=True)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("live event")
        verbose_name_plural = _("live events")
        ordering = ["id"]


from .daycounts import CaseContribution, DayCount  # noqa: E402,F401  (models of the screen's daily counts)
