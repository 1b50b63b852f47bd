"""回访: one callback per closure of a case, due the next working day after 办结."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy

from gridgov.cases.models import Rating
from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q


class CallbackResult(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    BASICALLY_SATISFIED = "basically_satisfied", _("Basically satisfied")  # 基本满意
    UNSATISFIED = "unsatisfied", _("Unsatisfied")  # 不满意


# The case rating (cases.models.Rating) each callback result records.
RESULT_RATING = {
    CallbackResult.SATISFIED: Rating.SATISFIED,
    CallbackResult.BASICALLY_SATISFIED: Rating.BASICALLY_SATISFIED,
    CallbackResult.UNSATISFIED: Rating.UNSATISFIED,
}


# Strings of the reopen transition (written in gridgov.cases.services for this app), kept in
# this app's catalogue so the cases app's translation files need no change.
REOPEN_STRINGS = (
    gettext_noop("reopen"),
    gettext_noop("Reopened"),
    gettext_noop("Only a case rated unsatisfied can be reopened."),
)


class CallbackQuerySet(RestrictedQuerySet):
    """A callback is visible to whoever sees its case (same rule as CaseQuerySet)."""

    action_prefix = "callback"

    def scope_q(self, user):
        condition = region_subtree_q(user, "case__region_code")
        if user.department_id:
            mine = Q(case__department_id=user.department_id)
            condition = mine if condition is None else condition | mine
        return condition


class Callback(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="callbacks", verbose_name=_("case"))
    # The closure this callback follows (a reopened and re-closed case gets another one).
    closed_at = models.DateTimeField(_("case closed at"))
    due_at = models.DateTimeField(pgettext_lazy("callback", "due at"), db_index=True)
    result = models.CharField(_("result"), max_length=20, choices=CallbackResult.choices, blank=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True, db_index=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("done by")
    )
    reopened = models.BooleanField(_("case reopened"), default=False)
    reopen_reason = models.TextField(_("reason for reopening"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CallbackQuerySet.as_manager()

    class Meta:
        verbose_name = _("callback")
        verbose_name_plural = _("callbacks")
        ordering = ["due_at", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "closed_at"], name="callbacks_one_per_closure")]

    def __str__(self):
        return f"{self.case_id}@{self.closed_at:%Y-%m-%d}"

    @property
    def is_done(self):
        return self.done_at is not None
