"""Metrics (三率 and more): the configurable definitions and the per-case fact table.

Formulas: docs/metrics.md. The fact table holds one compact row per case, written on
every case_changed (one upsert) and rebuilt by `gridgov rebuild-metrics`; the definitions
(response limit, what counts as resolved, weights) are applied when figures are computed,
so changing them needs no rebuild.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class ResolutionBasis(models.TextChoices):
    CLOSED = "closed", _("Closed (结案)")
    NOT_UNSATISFIED = "not_unsatisfied", _("Closed and not rated unsatisfied")


class MetricsConfig(models.Model):
    """The one set of definitions and weights (a single row, pk 1)."""

    response_hours = models.PositiveIntegerField(
        _("response limit (hours after dispatch)"), default=24, validators=[MinValueValidator(1), MaxValueValidator(720)]
    )
    resolution_basis = models.CharField(
        _("a case counts as resolved when"), max_length=20, choices=ResolutionBasis.choices, default=ResolutionBasis.CLOSED
    )
    basic_satisfied_weight = models.DecimalField(
        _("weight of 基本满意 in the satisfaction rate"), max_digits=3, decimal_places=2, default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    weight_response = models.PositiveSmallIntegerField(_("weight of the response rate"), default=30)
    weight_resolution = models.PositiveSmallIntegerField(_("weight of the resolution rate"), default=35)
    weight_satisfaction = models.PositiveSmallIntegerField(_("weight of the satisfaction rate"), default=35)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("updated by")
    )

    class Meta:
        verbose_name = _("metrics configuration")
        verbose_name_plural = _("metrics configuration")

    def __str__(self):
        return f"{self.weight_response}/{self.weight_resolution}/{self.weight_satisfaction}"

    def clean(self):
        from .services import check_weights

        check_weights(self.weight_response, self.weight_resolution, self.weight_satisfaction, as_django_error=True)


class CaseFact(models.Model):
    """One row per case: its period key, where it belongs and what happened to it."""

    # No database constraint: derived data, rebuilt at will (and bulk-loaded by bench/metrics.py).
    case = models.OneToOneField(
        "cases.Case", on_delete=models.DO_NOTHING, primary_key=True, related_name="+", db_constraint=False
    )
    created_day = models.DateField()  # local date of 受理: the period the case counts in
    region_code = models.CharField(max_length=15, blank=True)  # for scope restriction
    department_id = models.IntegerField(null=True)
    grid_id = models.IntegerField(null=True)
    community_id = models.IntegerField(null=True)
    handler_id = models.IntegerField(null=True)
    reporter_id = models.IntegerField(null=True)
    rejected = models.BooleanField(default=False)  # 不予立案: outside every rate
    dispatched = models.BooleanField(default=False)
    response_minutes = models.IntegerField(null=True)  # dispatch → sign-off
    closed = models.BooleanField(default=False)
    closed_on_time = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(null=True)
    reworked = models.BooleanField(default=False)
    extended = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("case fact")
        verbose_name_plural = _("case facts")
        indexes = [models.Index(fields=["created_day", "department_id"], name="metrics_fact_day_dept")]
