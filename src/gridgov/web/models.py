"""Models of the web interface: per-user UI state that the domain apps do not own."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def mark_read(self, at=None):
        return self.filter(read_at__isnull=True).update(read_at=at or timezone.now())


class Notification(models.Model):
    """An in-app notification (the bell in the header); create with gridgov.web.notifications.notify."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    text = models.CharField(_("text"), max_length=300)
    # A local path (e.g. a case page); only same-site paths are followed.
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.text

    @property
    def is_read(self):
        return self.read_at is not None


class PatrolTrack(models.Model):
    """A GPS track recorded by a grid inspector's phone in patrol mode (巡查轨迹).

    The device names each track with a uuid and re-sends the whole track while recording,
    so an upload is an upsert on `key`. `points` is a list of [lon, lat, accuracy_m,
    unix_ms] in WGS84. Tracks are 行踪轨迹, sensitive personal data (PIPL art. 28): only the
    inspector and staff whose scope covers the grid see them.
    """

    key = models.CharField(_("device key"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrol_tracks", verbose_name=_("inspector")
    )
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"))
    points = models.JSONField(pgettext_lazy("patrol track", "points"), default=list)
    point_count = models.PositiveIntegerField(_("number of points"), default=0)
    distance_m = models.FloatField(_("distance (m)"), default=0)
    finished = models.BooleanField(_("finished"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("patrol track")
        verbose_name_plural = _("patrol tracks")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["user", "started_at"])]

    def __str__(self):
        return f"{self.user} {self.started_at:%Y-%m-%d %H:%M}"


class DeviceSubmission(models.Model):
    """A request from the inspectors' app that was carried out, by the device's key.

    The offline queue resends until it sees an answer; a resend with a known key gets the
    first answer again instead of acting twice (e.g. verifying a case twice).
    """

    key = models.CharField(_("device key"), max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user"))
    kind = models.CharField(_("kind"), max_length=20)
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("case")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("device submission")
        verbose_name_plural = _("device submissions")
