"""吹哨报到 (whistles and department check-ins), fired SLA warnings, 催办/督办 orders.

State changes happen only in gridgov.supervision.services (and the SLA sweep in sweep.py).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q


def _scope_with_department(user, department_field):
    """Rows in the user's region subtree, plus (department staff) those naming their department."""
    condition = region_subtree_q(user, "region_code")
    if user.department_id:
        mine = Q(**{department_field: user.department_id})
        condition = mine if condition is None else condition | mine
    return condition


class WhistleQuerySet(RestrictedQuerySet):
    """Whistles in the viewer's region subtree, and those that summoned the viewer's department."""

    action_prefix = "whistle"

    def scope_q(self, user):
        condition = region_subtree_q(user, "region_code")
        if user.department_id:
            summoned = Q(pk__in=Summons.objects.filter(department_id=user.department_id).values("whistle_id"))
            condition = summoned if condition is None else condition | summoned
        return condition

    def active(self):
        return self.filter(closed_at__isnull=True)


class Whistle(models.Model):
    """吹哨: a leader summons departments to an open case; they stay until it is closed."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="whistles", verbose_name=_("case"))
    # Copy of the case's region code, so lists restrict by scope without a join.
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    blown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("blown by")
    )
    blown_at = models.DateTimeField(_("blown at"), db_index=True)
    reason = models.TextField(_("reason"))
    check_in_minutes = models.PositiveIntegerField(_("check-in limit (minutes)"))
    # Set when the case is closed or rejected: the summoned departments are released then.
    closed_at = models.DateTimeField(pgettext_lazy("whistle", "closed at"), null=True, blank=True, db_index=True)

    objects = WhistleQuerySet.as_manager()

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles")
        ordering = ["-blown_at", "-id"]

    def __str__(self):
        return f"{self.case_id} @ {self.blown_at:%Y-%m-%d %H:%M}"


class SummonsRole(models.TextChoices):
    LEAD = "lead", _("Lead department")  # 牵头
    CO = "co", _("Co-handling department")  # 协办


class SummonsQuerySet(RestrictedQuerySet):
    action_prefix = "whistle"

    def scope_q(self, user):
        return _scope_with_department(user, "department_id")


class Summons(models.Model):
    """One department summoned by a whistle, and its check-in (报到). Metrics count
    summoned_at, checked_in_at and late."""

    whistle = models.ForeignKey(Whistle, on_delete=models.PROTECT, related_name="summonses", verbose_name=_("whistle"))
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="summonses", verbose_name=_("case"))
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, related_name="summonses", verbose_name=_("department")
    )
    role = models.CharField(_("role"), max_length=8, choices=SummonsRole.choices)
    summoned_at = models.DateTimeField(_("summoned at"))
    check_in_due_at = models.DateTimeField(_("check in by"), db_index=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("checked in by"),
    )
    check_in_note = models.TextField(_("check-in note"), blank=True)
    # Late: the limit passed without a check-in (marked by the worker) or the check-in came late.
    late = models.BooleanField(_("late"), default=False, db_index=True)
    late_marked_at = models.DateTimeField(_("marked late at"), null=True, blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    objects = SummonsQuerySet.as_manager()

    class Meta:
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        ordering = ["whistle", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["whistle", "department"], name="supervision_summons_once"),
        ]
        indexes = [models.Index(fields=["department", "released_at"])]

    def __str__(self):
        return f"{self.department} ({self.get_role_display()})"


class FiredWarning(models.Model):
    """A warning of an SLA clock that was sent: at most one per (case, clock, threshold).

    `threshold` is the percentage of the allowed time used (70, 90, 100, 200); `sweep` names
    the sweep pass that inserted the row, so only that pass sends its notifications.
    """

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case"))
    clock = models.ForeignKey("cases.CaseClock", on_delete=models.CASCADE, related_name="+", verbose_name=_("clock"))
    threshold = models.PositiveSmallIntegerField(_("threshold (%)"))
    fired_at = models.DateTimeField(_("fired at"))
    sweep = models.CharField(_("sweep pass"), max_length=32, db_index=True)

    class Meta:
        verbose_name = _("fired warning")
        verbose_name_plural = _("fired warnings")
        constraints = [
            models.UniqueConstraint(fields=["case", "clock", "threshold"], name="supervision_warning_once"),
        ]


class SweepSlot(models.Model):
    """One scheduled period of a periodic job: the worker that inserts the row runs it."""

    name = models.CharField(_("name"), max_length=50)
    slot = models.BigIntegerField(_("slot"))
    claimed_by = models.CharField(_("claimed by"), max_length=100)
    claimed_at = models.DateTimeField(_("claimed at"))

    class Meta:
        verbose_name = _("sweep slot")
        verbose_name_plural = _("sweep slots")
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="supervision_sweep_slot_once")]


class OrderKind(models.TextChoices):
    URGE = "urge", _("Urging order")  # 催办
    SUPERVISION = "supervision", _("Supervision order")  # 督办


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Awaiting reply")
    REPLIED = "replied", pgettext_lazy("supervision order", "Replied")  # 已回复 (a hotline order's Replied is 已反馈)


class OrderQuerySet(RestrictedQuerySet):
    action_prefix = "supervision_order"

    def scope_q(self, user):
        return _scope_with_department(user, "department_id")


class Order(models.Model):
    """催办 or 督办: an order to a case's department with its own reply deadline."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="orders", verbose_name=_("case"))
    region_code = models.CharField(_("region code"), max_length=15, db_index=True)
    kind = models.CharField(_("kind"), max_length=12, choices=OrderKind.choices)
    status = models.CharField(_("status"), max_length=8, choices=OrderStatus.choices, default=OrderStatus.OPEN, db_index=True)
    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, related_name="orders", verbose_name=_("department")
    )
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"), db_index=True)
    note = models.TextField(_("instruction"))
    reply_due_at = models.DateTimeField(pgettext_lazy("supervision order", "reply due at"), db_index=True)
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("replied by")
    )
    replied_at = models.DateTimeField(pgettext_lazy("supervision order", "replied at"), null=True, blank=True)
    # A client's retry of the same order (API) returns the first one instead of a second.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)
    # Set once by the sweep when the reply deadline passed unanswered (and notified).
    overdue_at = models.DateTimeField(_("overdue noticed at"), null=True, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("supervision order", "order")
        verbose_name_plural = _("orders")
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.case_id}"

    @property
    def late(self):
        return self.replied_at is not None and self.replied_at > self.reply_due_at
