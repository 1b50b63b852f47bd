"""12345 hotline work orders (接诉即办), their replies to the hotline, and import batches.

A HotlineOrder is created together with its Case (channel 12345热线) in one transaction.
The hotline's own deadlines (response and reply) sit on the order, on top of the case clocks.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q


class OrderType(models.TextChoices):
    CONSULT = "consult", _("Consultation")  # 咨询
    HELP = "help", _("Request for help")  # 求助
    COMPLAINT = "complaint", _("Complaint")  # 投诉
    REPORT = "report", _("Tip-off")  # 举报
    SUGGESTION = "suggestion", _("Suggestion")  # 建议


class Urgency(models.TextChoices):
    NORMAL = "normal", pgettext_lazy("urgency", "Normal")  # 一般 (a priority's Normal is 普通)
    URGENT = "urgent", _("Urgent")  # 紧急


def _case_scope(user, prefix):
    """Rows whose case lies in the user's region subtree, or belongs to their department."""
    condition = region_subtree_q(user, f"{prefix}case__region_code")
    if user.department_id:
        mine = models.Q(**{f"{prefix}case__department_id": user.department_id})
        condition = mine if condition is None else condition | mine
    return condition


class HotlineOrderQuerySet(RestrictedQuerySet):
    """An order is visible to whoever sees its case."""

    action_prefix = "hotline"

    def scope_q(self, user):
        return _case_scope(user, "")


class HotlineOrder(models.Model):
    order_number = models.CharField(_("order number"), max_length=40, unique=True)
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="hotline_order", verbose_name=_("case")
    )
    order_type = models.CharField(_("order type"), max_length=12, choices=OrderType.choices)
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    caller_name = models.CharField(_("caller"), max_length=50, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=30, blank=True)
    content = models.TextField(_("content"))
    address = models.CharField(_("address"), max_length=200, blank=True)
    # SHA-256 of the normalised order: a resend with the same fingerprint is the same order.
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    # The deadline the hotline platform sent with the order (may be empty).
    hotline_deadline = models.DateTimeField(_("hotline deadline (as sent)"), null=True, blank=True)
    # From GRIDGOV_HOTLINE_LIMITS (response) and the hotline's deadline or the limits (reply).
    response_due_at = models.DateTimeField(_("response due at"), null=True, blank=True)
    reply_due_at = models.DateTimeField(_("reply due at"), db_index=True)
    reply_warn_at = models.DateTimeField(_("reply warning at"))
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("received by")
    )

    objects = HotlineOrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("hotline order")
        verbose_name_plural = _("hotline orders")
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return self.order_number


class ReplyKind(models.TextChoices):
    CLOSURE = "closure", _("Closure reply")  # 办结反馈
    CALLBACK = "callback", _("Callback result")  # 回访结果


class ReplyStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("hotline reply", "Pending")  # 待发送 (a request's Pending is 待审批)
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class HotlineReplyQuerySet(RestrictedQuerySet):
    action_prefix = "hotline"

    def scope_q(self, user):
        return _case_scope(user, "order__")


class HotlineReply(models.Model):
    """One message back to the hotline (办结 or 回访), delivered with retries.

    `key` makes it unique: the closure of one case version, or one callback, is sent once.
    """

    order = models.ForeignKey(HotlineOrder, on_delete=models.PROTECT, related_name="replies", verbose_name=_("order"))
    kind = models.CharField(_("kind"), max_length=10, choices=ReplyKind.choices)
    key = models.CharField(pgettext_lazy("hotline reply", "key"), max_length=100, unique=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(_("status"), max_length=8, choices=ReplyStatus.choices, default=ReplyStatus.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_retry_at = models.DateTimeField(_("next retry"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = HotlineReplyQuerySet.as_manager()

    class Meta:
        verbose_name = _("hotline reply")
        verbose_name_plural = _("hotline replies")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.order} · {self.get_kind_display()}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    CHECKING = "checking", _("Checking rows")
    SAVING = "saving", _("Saving")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Not imported")


class HotlineImport(models.Model):
    """An uploaded batch of orders, imported by a background task, all or nothing."""

    file = models.FileField(_("file"), upload_to="hotline/imports/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=200)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("rows checked"), default=0)
    created_count = models.PositiveIntegerField(_("orders created"), default=0)
    # [{"row": 3, "field": "phone", "message": "..."}]
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # [{"row": 4, "order_number": "..."}]
    skipped = models.JSONField(_("skipped duplicates"), default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("hotline import")
        verbose_name_plural = _("hotline imports")
        ordering = ["-created_at", "-id"]

    @property
    def percent(self):
        if self.status == ImportStatus.DONE:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0
