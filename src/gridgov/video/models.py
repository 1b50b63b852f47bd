"""Cameras (the registry the big screen and the map show) and alarms from camera AI
(Frigate) and IoT sensors, with the rules that turn alarms into cases."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.catalog.models import Priority
from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q


class CameraStatus(models.TextChoices):
    ONLINE = "online", _("Online")
    OFFLINE = "offline", _("Offline")


class CameraQuerySet(RestrictedQuerySet):
    """A user sees the cameras in their region subtree."""

    action_prefix = "camera"

    def scope_q(self, user):
        return region_subtree_q(user, "region_code")


class Camera(models.Model):
    """A video camera. Status comes from heartbeats (HTTP or MQTT); a sweep marks silent
    cameras offline. The stream URL often carries credentials: masked unless the role has
    camera.view_stream, and every clear read is audit-logged."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    lon = models.FloatField(_("longitude"))
    lat = models.FloatField(_("latitude"))
    grid = models.ForeignKey(
        "geo.Region", on_delete=models.SET_NULL, null=True, blank=True, related_name="cameras", verbose_name=_("grid")
    )
    # The grid's code, or the locator's region outside every grid: the scope of the camera.
    region_code = models.CharField(_("region code"), max_length=15, blank=True, db_index=True)
    h3 = models.CharField(_("H3 cell"), max_length=16, blank=True)
    vendor = models.CharField(_("vendor"), max_length=40, blank=True)
    stream_url = models.CharField(_("stream URL"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=CameraStatus.choices, default=CameraStatus.ONLINE, db_index=True)
    last_seen_at = models.DateTimeField(_("last seen at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CameraQuerySet.as_manager()

    class Meta:
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        ordering = ["code"]
        indexes = [models.Index(fields=["status", "last_seen_at"])]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def online(self):
        return self.status == CameraStatus.ONLINE


class SourceKind(models.TextChoices):
    FRIGATE = "frigate", _("Frigate NVR")
    SENSOR = "sensor", _("IoT sensors")
    WEBHOOK = "webhook", _("Platform webhook")


class AlarmSource(models.Model):
    """A system that sends alarms. Webhook sources sign with their secret; Frigate
    sources name the base URL their snapshots are fetched from."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=SourceKind.choices)
    secret = models.CharField(_("signing secret"), max_length=200, blank=True)
    snapshot_base_url = models.URLField(_("snapshot base URL"), blank=True, help_text=_("Frigate's address, e.g. http://frigate:5000"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alarm source")
        verbose_name_plural = _("alarm sources")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class RuleAction(models.TextChoices):
    OPEN_CASE = "open_case", _("Open a case")
    LOG_ONLY = "log_only", _("Log only")


class AlarmRule(models.Model):
    """(source, label, zone, time window) → 小类, priority and action. The first active
    rule in `order` that matches decides; blank fields match anything."""

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(pgettext_lazy("sort order", "order"), default=100)
    source = models.CharField(_("source"), max_length=40, blank=True, help_text=_("frigate, frigate_review, sensor or a webhook source code; blank: any"))
    label = models.CharField(pgettext_lazy("detection", "label"), max_length=40, blank=True, help_text=_("person, car, smoke, water_level ...; blank: any"))
    zone = models.CharField(_("zone"), max_length=60, blank=True)
    window_start = models.TimeField(_("from"), null=True, blank=True)
    window_end = models.TimeField(_("until"), null=True, blank=True, help_text=_("A window may wrap midnight, e.g. 22:00-06:00."))
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("category")
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, null=True, blank=True)
    action = models.CharField(pgettext_lazy("alarm rule", "action"), max_length=10, choices=RuleAction.choices, default=RuleAction.OPEN_CASE)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("alarm rule")
        verbose_name_plural = _("alarm rules")
        ordering = ["order", "id"]

    def __str__(self):
        return self.name

    def in_window(self, local_time):
        start, end = self.window_start, self.window_end
        if start is None or end is None or start == end:
            return True
        if start < end:
            return start <= local_time < end
        return local_time >= start or local_time < end  # wraps midnight

    def matches(self, *, source, labels, zones, local_time):
        return (
            (not self.source or self.source == source)
            and (not self.label or self.label in labels)
            and (not self.zone or self.zone in zones)
            and self.in_window(local_time)
        )


class AlarmStatus(models.TextChoices):
    PENDING = "pending", _("Case pending")  # a rule wants a case; it is being opened
    CASE_OPENED = "case_opened", _("Case opened")
    LOGGED = "logged", _("Logged")
    SUPPRESSED = "suppressed", _("Suppressed (flood)")
    DISMISSED = "dismissed", _("Dismissed as false")


class AlarmQuerySet(RestrictedQuerySet):
    action_prefix = "alarm"

    def scope_q(self, user):
        return region_subtree_q(user, "region_code")


class Alarm(models.Model):
    """One alarm per source + origin (camera code or device id) + event id; repeated
    updates of the same event update it (Frigate sends new/update/end)."""

    source = models.CharField(_("source"), max_length=40)
    origin = models.CharField(_("camera or device"), max_length=60)
    external_id = models.CharField(_("event id"), max_length=100)
    camera = models.ForeignKey(Camera, on_delete=models.SET_NULL, null=True, blank=True, related_name="alarms", verbose_name=_("camera"))
    label = models.CharField(pgettext_lazy("detection", "label"), max_length=40, blank=True)
    labels = models.JSONField(_("labels"), default=list, blank=True)
    sub_label = models.CharField(_("sub label"), max_length=60, blank=True)
    zones = models.JSONField(_("zones"), default=list, blank=True)
    severity = models.CharField(_("severity"), max_length=20, blank=True)
    score = models.FloatField(pgettext_lazy("detection", "score"), null=True, blank=True)
    value = models.FloatField(_("value"), null=True, blank=True)
    threshold = models.FloatField(_("threshold"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    region_code = models.CharField(_("region code"), max_length=15, blank=True, db_index=True)
    has_snapshot = models.BooleanField(_("has snapshot"), default=False)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    updates = models.PositiveIntegerField(_("updates"), default=1)
    status = models.CharField(_("status"), max_length=12, choices=AlarmStatus.choices, db_index=True)
    rule = models.ForeignKey(AlarmRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("rule"))
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("case"))
    payload = models.JSONField(_("last payload"), default=dict, blank=True)
    received_at = models.DateTimeField(pgettext_lazy("alarm", "received at"))
    updated_at = models.DateTimeField(_("updated at"))

    objects = AlarmQuerySet.as_manager()

    class Meta:
        verbose_name = _("alarm")
        verbose_name_plural = _("alarms")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "origin", "external_id"], name="video_alarm_unique_event"),
        ]
        indexes = [models.Index(fields=["origin", "started_at"])]

    def __str__(self):
        return f"{self.source}:{self.origin}:{self.external_id}"


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("alarm events cannot be changed")

    def delete(self):
        raise TypeError("alarm events cannot be deleted")


class AlarmEvent(models.Model):
    """The immutable timeline of an alarm: received, case opened, suppressed, dismissed."""

    alarm = models.ForeignKey(Alarm, on_delete=models.PROTECT, related_name="events", verbose_name=_("alarm"))
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("actor"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    at = models.DateTimeField(_("time"))

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        verbose_name = _("alarm event")
        verbose_name_plural = _("alarm events")
        ordering = ["at", "id"]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("alarm events cannot be changed")
        super().save(*args, **kwargs)


class AlarmFlood(models.Model):
    """Alarms of one camera/device beyond the rate limit, summarised per window."""

    source = models.CharField(_("source"), max_length=40)
    origin = models.CharField(_("camera or device"), max_length=60)
    window_start = models.DateTimeField(_("window start"))
    suppressed = models.PositiveIntegerField(_("suppressed alarms"), default=0)
    region_code = models.CharField(_("region code"), max_length=15, blank=True)
    last_at = models.DateTimeField(_("last alarm at"))

    class Meta:
        verbose_name = _("alarm flood")
        verbose_name_plural = _("alarm floods")
        ordering = ["-window_start"]
        constraints = [
            models.UniqueConstraint(fields=["source", "origin", "window_start"], name="video_flood_unique_window"),
        ]

    def window_end(self, minutes):
        return self.window_start + dt.timedelta(minutes=minutes)



class InboxState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    PROCESSED = "processed", _("Processed")
    REFUSED = "refused", _("Refused")


class WebhookInbox(models.Model):
    """A signed webhook push, stored as it came before its alarm is processed
    (store-and-forward, decision 0014). The webhook answers 202 once the row is in; the
    worker (`gridgov worker`, video.inbox) records the queued rows in batches through
    alarms.ingest_many and marks them in the same transaction. `key` recognises a replayed
    push (same source, same body)."""

    key = models.CharField(_("message key"), max_length=64)
    source = models.CharField(_("source"), max_length=40)
    body = models.TextField(_("body"))
    received_at = models.DateTimeField(pgettext_lazy("alarm", "received at"))
    state = models.CharField(_("state"), max_length=10, choices=InboxState.choices, default=InboxState.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    # No index: only the drain writes it, and every index entry costs the push.
    alarm = models.ForeignKey(Alarm, on_delete=models.SET_NULL, null=True, blank=True, db_index=False, related_name="+", verbose_name=_("alarm"))
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("webhook inbox message")
        verbose_name_plural = _("webhook inbox")
        ordering = ["id"]
        # A constraint, not unique=True: on PostgreSQL that adds a second (pattern) index.
        constraints = [models.UniqueConstraint(fields=["key"], name="video_inbox_unique_key")]
        indexes = [
            # The drain's queue: only queued rows, so it stays as small as the backlog.
            models.Index(fields=["id"], condition=models.Q(state="queued"), name="video_inbox_queued"),
        ]

    def __str__(self):
        return f"{self.source}#{self.pk} {self.state}"
