"""Case taxonomy (大类/小类) with the handling rules of each 小类 (domain.md §2)."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.org.permissions import RestrictedQuerySet


class CategoryKind(models.TextChoices):
    EVENT = "event", _("Event")  # 事件
    COMPONENT = "component", _("Component")  # 部件
    GOVERNANCE = "governance", _("Governance")  # 矛盾纠纷, 安全隐患, ...


class TimeUnit(models.TextChoices):
    WORKING_HOURS = "working_hours", _("Working hours")
    WORKING_DAYS = "working_days", _("Working days")
    NATURAL_HOURS = "natural_hours", _("Natural hours")


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class CategoryQuerySet(RestrictedQuerySet):
    """The taxonomy is reference data: every staff member sees all of it."""

    action_prefix = "category"

    def scope_q(self, user):
        return Q()


class Category(models.Model):
    """A 大类 (parent is null) or a 小类 (parent is its 大类).

    `code` is the full code: "01" for a 大类, "0102" for its 小类, unique within a kind.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=CategoryKind.choices, default=CategoryKind.EVENT)
    code = models.CharField(_("code"), max_length=10)
    name = models.CharField(_("name"), max_length=50)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("major class")
    )
    accept_criteria = models.TextField(_("acceptance criteria"), blank=True)  # 立案条件
    close_criteria = models.TextField(_("closing criteria"), blank=True)  # 结案条件
    time_limit_value = models.PositiveIntegerField(_("handling time limit"), default=5)
    time_limit_unit = models.CharField(
        _("time limit unit"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    default_priority = models.PositiveSmallIntegerField(_("default priority"), choices=Priority.choices, default=Priority.NORMAL)
    default_department = models.ForeignKey(
        "org.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_categories",
        verbose_name=_("default responsible department"),
    )
    # Duplicate detection window for intake (issue 4 uses these).
    duplicate_radius_m = models.PositiveIntegerField(_("duplicate radius (m)"), default=100)
    duplicate_window_hours = models.PositiveIntegerField(_("duplicate window (hours)"), default=24)
    keywords = models.TextField(_("keywords"), blank=True, help_text=_("Comma-separated words for classification."))
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="catalog_category_kind_code")]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_major(self):
        return self.parent_id is None

    def clean(self):
        """A 小类 hangs under a 大类 of its own kind and extends the 大类's code."""
        super().clean()
        parent = self.parent  # may be a 大类 not yet saved (admin inline)
        if parent is None:
            return
        errors = {}
        if parent.parent_id is not None:
            errors["parent"] = _("Choose a major class; minor classes cannot have minor classes.")
        elif self.pk is not None and parent.pk == self.pk:  # pragma: no cover - caught above
            errors["parent"] = _("A class cannot be its own major class.")
        elif self.pk is not None and self.children.exists():
            errors["parent"] = _("A major class with minor classes cannot become a minor class.")
        if parent.kind != self.kind:
            errors["kind"] = _("A minor class must have the kind of its major class.")
        if not (self.code.startswith(parent.code) and len(self.code) > len(parent.code)):
            errors["code"] = _("The code of a minor class must start with the code of its major class (%(code)s).") % {
                "code": parent.code
            }
        if errors:
            raise ValidationError(errors)


class HolidayOverride(models.Model):
    """One day whose status an administrator sets by hand: consulted before the
    chinese_calendar package (gridgov.catalog.worktime), e.g. for a year the package does
    not know yet, or a local rest day. Changes reach every clock computed afterwards."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(
        _("working day"), default=False, help_text=_("Ticked: a working day (e.g. a make-up Saturday); else a rest day.")
    )
    name = models.CharField(_("name"), max_length=50, blank=True, help_text=_("E.g. 春节 or 国庆调休."))
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("holiday override")
        verbose_name_plural = _("holiday overrides")
        ordering = ["date"]

    def __str__(self):
        kind = _("working day") if self.is_workday else _("rest day")
        return f"{self.date:%Y-%m-%d} {kind} {self.name}".rstrip()
