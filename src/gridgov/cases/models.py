"""Cases (事件/工单), their clocks, requests, attachments and the immutable timeline.

State changes happen only in gridgov.cases.services; nothing here changes a status.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gridgov.catalog.models import Priority, TimeUnit
from gridgov.org.permissions import RestrictedQuerySet, region_subtree_q
from gridgov.org.roles import Role


class Channel(models.TextChoices):
    GRID_PATROL = "grid_patrol", _("Grid patrol")  # 网格巡查
    HOTLINE = "hotline", _("12345 hotline")  # 12345热线
    WINDOW = "window", _("Walk-in window")  # 一窗受理
    RESIDENT = "resident", _("Resident report")  # 居民上报
    VIDEO_ALARM = "video_alarm", _("Video alarm")  # 视频告警
    IOT = "iot", _("IoT sensor")  # 物联感知
    PROACTIVE = "proactive", _("Proactive discovery")  # 主动发现


class Status(models.TextChoices):
    REPORTED = "reported", _("Awaiting acceptance")  # 受理 / 待立案
    REJECTED = "rejected", _("Not accepted")  # 不予立案
    ACCEPTED = "accepted", _("Awaiting dispatch")  # 立案 / 待派遣
    DISPATCHED = "dispatched", _("Awaiting sign-off")  # 派遣 / 待签收
    HANDLING = "handling", _("Being handled")  # 签收 / 处置中
    HANDLED = "handled", _("Awaiting verification")  # 处置反馈 / 待核查
    VERIFIED = "verified", _("Awaiting closure")  # 核查通过 / 待结案
    CLOSED = "closed", pgettext_lazy("case status", "Closed")  # 已结案
    PARKED = "parked", _("Parked")  # 挂账


OPEN_STATUSES = (
    Status.REPORTED,
    Status.ACCEPTED,
    Status.DISPATCHED,
    Status.HANDLING,
    Status.HANDLED,
    Status.VERIFIED,
)
FINAL_STATUSES = (Status.REJECTED, Status.CLOSED)


class ClockKind(models.TextChoices):
    ACCEPT_DISPATCH = "accept_dispatch", _("Accept and dispatch")  # 立案+派遣
    SIGN = "sign", _("Sign-off")  # 签收
    HANDLE = "handle", _("Handling")  # 处置
    VERIFY = "verify", _("Verification")  # 核查


class ClockState(models.TextChoices):
    NORMAL = "normal", pgettext_lazy("clock state", "Normal")  # 正常 (a priority "Normal" is 普通)
    WARNING = "warning", _("Warning")
    OVERDUE = "overdue", _("Overdue")


class Rating(models.IntegerChoices):
    UNSATISFIED = 1, _("Unsatisfied")  # 不满意
    BASICALLY_SATISFIED = 2, _("Basically satisfied")  # 基本满意
    SATISFIED = 3, _("Satisfied")  # 满意


# Other ways a department reaches a case besides being its department, registered by other
# apps: callables department_id -> Q over Case (e.g. supervision: summoned by a whistle).
DEPARTMENT_LINKS = []


def department_q(department_id):
    condition = Q(department_id=department_id)
    for link in DEPARTMENT_LINKS:
        condition |= link(department_id)
    return condition


class CaseQuerySet(RestrictedQuerySet):
    """A user sees the cases in their region subtree, and a department's staff its cases
    (and the cases linked to the department through DEPARTMENT_LINKS)."""

    action_prefix = "case"

    def scope_q(self, user):
        condition = region_subtree_q(user, "region_code")
        if user.department_id:
            mine = department_q(user.department_id)
            condition = mine if condition is None else condition | mine
        return condition


def case_in_scope(user, region_code, department_id):
    """Python mirror of CaseQuerySet.scope_q for one case (no query; roles must be loaded)."""
    if Role.SYSADMIN in user.roles:
        return True
    if user.department_id and department_id == user.department_id:
        return True
    code = user.scope_code
    return code is not None and (region_code or "").startswith(code)


class Case(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.REPORTED)
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("category"),
        db_index=False,
    )
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    description = models.TextField(_("description"))

    reporter_name = models.CharField(_("reporter name"), max_length=50, blank=True)
    reporter_phone = models.CharField(_("reporter phone"), max_length=30, blank=True, db_index=True)

    # Location, always stored in WGS84.
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    h3_cell = models.CharField(_("H3 cell"), max_length=16, blank=True)
    grid = models.ForeignKey(
        "geo.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("grid")
    )
    # Code of the most specific region the case belongs to (its grid, or the community or
    # fallback region while unplaced). Scope restriction filters on this prefix.
    region_code = models.CharField(_("region code"), max_length=15, blank=True)
    needs_placement = models.BooleanField(_("needs manual placement"), default=False)

    department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, null=True, blank=True, related_name="cases", verbose_name=_("department"),
        db_index=False,
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="handled_cases", verbose_name=_("handler"),
        db_index=False,
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="reported_cases", verbose_name=_("reported by")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, null=True, blank=True, unique=True)

    # The running clock, denormalised so lists can filter and sort by clock state.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    warn_at = models.DateTimeField(_("warning at"), null=True, blank=True)
    handle_due_at = models.DateTimeField(_("handling deadline"), null=True, blank=True)
    was_overdue = models.BooleanField(_("was overdue"), default=False)

    rework_count = models.PositiveSmallIntegerField(_("rework count"), default=0)
    return_count = models.PositiveSmallIntegerField(_("return count"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extension count"), default=0)
    supervised = models.BooleanField(_("under supervision"), default=False)
    supervision_note = models.TextField(_("supervision note"), blank=True)
    parked_from_status = models.CharField(_("status before parking"), max_length=12, blank=True)
    reject_reason = models.TextField(_("reason for not accepting"), blank=True)
    # A duplicate merged into another case (gridgov.cases.merge): status "rejected" plus this link.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases", verbose_name=_("merged into"),
        db_index=False,
    )
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True)

    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating.choices, null=True, blank=True)
    rating_comment = models.TextField(_("rating comment"), blank=True)

    created_at = models.DateTimeField(pgettext_lazy("case", "created at"), db_index=True)  # 登记时间
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Bumped by every transition; a form that sends an older version is told someone acted first.
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        # Every index is written on every create: single-column indexes that a composite one
        # starts with are left out, and columns still empty when a case is created (its
        # department, handler, closing time, merge, flags) are indexed only where set
        # (partial indexes: SQLite and PostgreSQL use them for any comparison on the column).
        indexes = [
            models.Index(fields=["status", "due_at"]),
            models.Index(fields=["region_code", "status"]),
            models.Index(fields=["department", "status"], condition=Q(department__isnull=False), name="case_department_idx"),
            models.Index(fields=["category", "created_at"]),
            models.Index(fields=["handler"], condition=Q(handler__isnull=False), name="case_handler_idx"),
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="case_merged_into_idx"),
            models.Index(fields=["closed_at"], condition=Q(closed_at__isnull=False), name="case_closed_at_idx"),
            models.Index(fields=["supervised"], condition=Q(supervised=True), name="case_supervised_idx"),
            models.Index(fields=["needs_placement"], condition=Q(needs_placement=True), name="case_needs_placement_idx"),
            # The big screen's open-case pass reads this index alone (gridgov.screen.overview).
            models.Index(fields=["status", "grid", "due_at", "warn_at", "priority", "category"], name="case_screen_open_idx"),
        ]

    def __str__(self):
        return self.number

    def in_scope_of(self, user):
        if case_in_scope(user, self.region_code, self.department_id):
            return True
        # A linked department (one query, only when links exist and the cheap rule said no).
        return bool(DEPARTMENT_LINKS and user.department_id and self.pk) and (
            Case.objects.filter(department_q(user.department_id), pk=self.pk).exists()
        )


class CaseClock(models.Model):
    """One SLA clock of a case. A clock runs from started_at until stopped_at."""

    # Indexed by (case, kind).
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("case"), db_index=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ClockKind.choices)
    limit_value = models.PositiveIntegerField(_("limit"))
    limit_unit = models.CharField(_("unit"), max_length=16, choices=TimeUnit.choices)
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField(_("warning at"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    overdue = models.BooleanField(_("finished late"), default=False)
    # Stopped because the case was parked (挂账); unparking starts a successor clock.
    paused = models.BooleanField(_("paused"), default=False)

    class Meta:
        verbose_name = _("case clock")
        verbose_name_plural = _("case clocks")
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["case", "kind"])]


class ImmutableRecord(Exception):
    """Raised on any attempt to change or delete a timeline event through the ORM."""


class CaseEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecord("case events cannot be changed")

    def delete(self):
        raise ImmutableRecord("case events cannot be deleted")


class CaseEvent(models.Model):
    """An immutable timeline entry. Rows are chained by hash; the database refuses updates.

    Written only by gridgov.cases.timeline.append_event. Triggers created in migration
    0005 make the database itself refuse UPDATE and DELETE on this table.
    """

    # Indexed by the unique (case, seq) constraint.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case"), db_index=False)
    seq = models.PositiveIntegerField(_("sequence"))
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("actor")
    )
    action = models.CharField(_("action"), max_length=30)
    from_status = models.CharField(_("from status"), max_length=12, blank=True)
    to_status = models.CharField(_("to status"), max_length=12, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="cases_event_case_seq")]

    def __str__(self):
        return f"{self.case_id}#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecord("case events cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecord("case events cannot be deleted")


class AttachmentKind(models.TextChoices):
    REPORT = "report", _("Report photo")
    EVIDENCE = "evidence", _("Handling evidence")
    VERIFICATION = "verification", _("Verification photo")
    ALARM = "alarm", _("Alarm snapshot")


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("case"))
    event = models.ForeignKey(
        CaseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments", verbose_name=_("event")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AttachmentKind.choices, default=AttachmentKind.REPORT)
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=50)
    size = models.PositiveIntegerField(_("size"))
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]


class RequestKind(models.TextChoices):
    EXTENSION = "extension", _("Extension")  # 延期
    PARK = "park", _("Parking")  # 挂账


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class CaseRequest(models.Model):
    """A request that needs a shift lead's approval: extension (延期) or parking (挂账)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="requests", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=12, choices=RequestKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    reason = models.TextField(_("reason"))
    extra_value = models.PositiveIntegerField(_("extra time"), null=True, blank=True)
    extra_unit = models.CharField(_("extra time unit"), max_length=16, choices=TimeUnit.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("case request")
        verbose_name_plural = _("case requests")
        ordering = ["-requested_at"]


class CaseNumberSequence(models.Model):
    """Per-day counter behind human-readable case numbers (YYYYMMDD + sequence)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class ChangedCase(models.Model):
    """A case changed by a transition whose derived figures (the screen's daily counts, the
    metrics facts) are still to be refreshed.

    Written in the transition's own transaction (one small INSERT, so a crash after commit
    cannot lose it); the worker refreshes the figures of many cases at once and deletes the
    rows it handled (gridgov.cases.changes). No foreign key: the row must not slow the
    transition with a lookup, and a refresh of a deleted case is a no-op.
    """

    id = models.BigAutoField(primary_key=True)
    case_id = models.BigIntegerField(_("case"))

    class Meta:
        verbose_name = _("changed case")
        verbose_name_plural = _("changed cases")
