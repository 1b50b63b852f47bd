"""Grid inspector assessment (网格员考核): rules, monthly score sheets, 例会 and 网格学堂.

Score sheets change only through gridgov.assessment.services; every change also writes an
immutable SheetEvent (the audit trail of generation, manual points and locking).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q
from gridgov.org.roles import Role

from .measures import MEASURES, measure_choices
from .permissions import SHEET_READERS


class RuleQuerySet(RestrictedQuerySet):
    """Rules are reference data: every assessed or leading role reads all of them."""

    action_prefix = "assessment_rule"

    def scope_q(self, user):
        return Q()


class AssessmentRule(models.Model):
    """One duty of a role, scored from a measure: full `points` when the measured value
    reaches `target`, pro rata below it; `weight` scales the rule within the sheet."""

    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    measure = models.CharField(_("measure"), max_length=40, choices=measure_choices())
    target = models.FloatField(_("target"), help_text=_("The measured value that earns full points."))
    points = models.FloatField(_("points"), help_text=_("Points for reaching the target."))
    weight = models.FloatField(_("weight"), default=1.0, help_text=_("Multiplier of this rule's points."))
    description = models.CharField(pgettext_lazy("assessment rule", "description"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("assessment rule")
        verbose_name_plural = _("assessment rules")
        ordering = ["role", "id"]

    def __str__(self):
        return f"{self.get_role_display()} · {self.measure}"

    def clean(self):
        errors = {}
        if self.measure not in MEASURES:
            errors["measure"] = _("Unknown measure %(measure)r.") % {"measure": self.measure}
        if self.target is not None and self.target <= 0:
            errors["target"] = _("The target must be greater than zero.")
        if self.points is not None and self.points < 0:
            errors["points"] = _("Points cannot be negative.")
        if self.weight is not None and self.weight < 0:
            errors["weight"] = _("The weight cannot be negative.")
        if errors:
            raise ValidationError(errors)


class SheetStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LOCKED = "locked", _("Confirmed and locked")


class SheetQuerySet(RestrictedQuerySet):
    """Leads see the sheets in their region subtree; everyone sees their own sheet."""

    action_prefix = "scoresheet"

    def scope_q(self, user):
        own = Q(user_id=user.pk)
        if not user.roles & SHEET_READERS:
            return own
        subtree = region_subtree_q(user, "region_code")
        return own if subtree is None else own | subtree


class ScoreSheet(models.Model):
    """The monthly score sheet of one staff member."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="score_sheets", verbose_name=_("staff member")
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    # The staff member's scope code when the sheet was generated: scope filters on it.
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    computed_score = models.FloatField(_("computed score"), default=0)
    manual_score = models.FloatField(_("manual points"), default=0)
    total_score = models.FloatField(_("total score"), default=0, db_index=True)
    generated_at = models.DateTimeField(_("generated at"))
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("locked by")
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = SheetQuerySet.as_manager()

    class Meta:
        verbose_name = _("score sheet")
        verbose_name_plural = _("score sheets")
        ordering = ["-month", "-total_score", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "month"], name="assessment_sheet_user_month")]
        indexes = [models.Index(fields=["month", "region_code"])]

    def __str__(self):
        return f"{self.user} {self.month:%Y-%m}"

    @property
    def locked(self):
        return self.status == SheetStatus.LOCKED


class ScoreLine(models.Model):
    """The computed score of one rule (replaced on regeneration). The rule's settings are
    copied so a later change of the rule does not rewrite a past sheet."""

    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="lines", verbose_name=_("score sheet"))
    rule = models.ForeignKey(
        AssessmentRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("rule")
    )
    measure = models.CharField(_("measure"), max_length=40)
    target = models.FloatField(_("target"))
    points = models.FloatField(_("points"))
    weight = models.FloatField(_("weight"))
    value = models.FloatField(_("measured value"))
    score = models.FloatField(_("score"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("score line")
        verbose_name_plural = _("score lines")
        ordering = ["id"]

    @property
    def measure_label(self):
        measure = MEASURES.get(self.measure)
        return measure.label if measure else self.measure


class ManualItem(models.Model):
    """Points added or deducted by hand, with the reason; kept on regeneration, never edited."""

    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="manual_items", verbose_name=_("score sheet"))
    points = models.FloatField(_("points"))
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by"))
    created_at = models.DateTimeField(_("at"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("manual item")
        verbose_name_plural = _("manual items")
        ordering = ["created_at", "id"]


class SheetEvent(models.Model):
    """Audit trail of a sheet: generated, regenerated, manual item, locked."""

    # The sheet page shows the action in words (the stored code is English).
    ACTION_LABELS = {
        "generate": pgettext_lazy("sheet event", "Generated"),
        "manual_item": pgettext_lazy("sheet event", "Manual item"),
        "lock": pgettext_lazy("sheet event", "Locked"),
    }

    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="events", verbose_name=_("score sheet"))
    action = models.CharField(_("action"), max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("actor")
    )
    at = models.DateTimeField(_("time"))
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("sheet event")
        verbose_name_plural = _("sheet events")
        ordering = ["at", "id"]

    @property
    def action_label(self):
        return self.ACTION_LABELS.get(self.action, self.action)

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("sheet events cannot be changed")
        super().save(*args, **kwargs)


class MeetingKind(models.TextChoices):
    WEEKLY = "weekly", _("Weekly grid meeting")  # 例会
    TRAINING = "training", _("Grid school training")  # 网格学堂


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Present")
    ABSENT = "absent", _("Absent")
    LEAVE = "leave", _("On leave")


class MeetingQuerySet(RestrictedQuerySet):
    action_prefix = "grid_meeting"

    def scope_q(self, user):
        subtree = region_subtree_q(user, "region__code")
        mine = Q(attendance__user_id=user.pk)
        return mine if subtree is None else subtree | mine


class Meeting(models.Model):
    """A weekly grid meeting (例会) or a 网格学堂 training session of a grid or community."""

    kind = models.CharField(_("kind"), max_length=10, choices=MeetingKind.choices)
    date = models.DateField(_("date"), db_index=True)
    region = models.ForeignKey("geo.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("grid or community"))
    topic = models.CharField(_("topic"), max_length=200)
    minutes = models.TextField(_("minutes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))
    amended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("amended by")
    )
    amended_at = models.DateTimeField(_("amended at"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date} {self.topic}"


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("meeting"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member"))
    status = models.CharField(_("attendance"), max_length=10, choices=AttendanceStatus.choices)

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="assessment_attendance_unique")]
