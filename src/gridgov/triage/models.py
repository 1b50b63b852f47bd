"""Triage: duplicate rules per 小类, reporters kept from merged duplicates, and the
persisted dispatch classifier."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from gridgov.cases.models import Case, CaseQuerySet, Channel
from gridgov.org.permissions import RestrictedQuerySet


class DuplicateRule(models.Model):
    """Overrides the 小类's own duplicate radius and window (catalog.Category fields).

    Point objects (部件 such as 井盖) get a much smaller radius: two reports 80 m apart are
    two different manhole covers, while two reports of 暴露垃圾 80 m apart are often one pile.
    """

    category = models.OneToOneField(
        "catalog.Category", on_delete=models.CASCADE, related_name="duplicate_rule", verbose_name=_("category")
    )
    radius_m = models.PositiveIntegerField(_("duplicate radius (m)"))
    window_hours = models.PositiveIntegerField(_("duplicate window (hours)"))

    class Meta:
        verbose_name = _("duplicate rule")
        verbose_name_plural = _("duplicate rules")

    def __str__(self):
        return f"{self.category}: {self.radius_m} m / {self.window_hours} h"


class MergedReporterQuerySet(RestrictedQuerySet):
    action_prefix = "case"

    def scope_q(self, user):
        condition = CaseQuerySet(Case).scope_q(user)
        if condition is None:
            return None
        return models.Q(case__in=Case.objects.filter(condition))


class MergedReporter(models.Model):
    """A reporter of a duplicate, attached to the case it was merged into (shown masked)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merged_reporters", verbose_name=_("case"))
    source_case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="+", verbose_name=_("reported in case")
    )
    name = models.CharField(_("reporter name"), max_length=50, blank=True)
    phone = models.CharField(_("reporter phone"), max_length=30, blank=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    reported_at = models.DateTimeField(_("reported at"))
    merged_at = models.DateTimeField(_("merged at"))

    objects = MergedReporterQuerySet.as_manager()

    class Meta:
        verbose_name = _("reporter of a merged case")
        verbose_name_plural = _("reporters of merged cases")
        ordering = ["reported_at", "id"]


class ClassifierModel(models.Model):
    """One trained dispatch classifier; the newest version is the one in use."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    trained_at = models.DateTimeField(_("trained at"))
    n_samples = models.PositiveIntegerField(_("training cases"))
    n_classes = models.PositiveIntegerField(_("classes"))
    accuracy = models.FloatField(_("top-1 accuracy (held out)"), null=True, blank=True)
    top3_accuracy = models.FloatField(_("top-3 accuracy (held out)"), null=True, blank=True)
    n_test = models.PositiveIntegerField(_("held-out cases"), default=0)
    blob = models.BinaryField(_("model"))

    class Meta:
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")
        ordering = ["-version"]

    def __str__(self):
        return f"v{self.version} ({self.n_samples})"
