"""The landing page's queues: each role sees the cases waiting for it, most urgent first.

Every queue starts from `Case.objects.restrict(user, "view")`; the related rows a table shows
come with select_related, so the page costs a fixed number of queries however long the
queues are.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, F, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gridgov.cases.clocks import annotate_urgency, filter_clock_state
from gridgov.cases.models import OPEN_STATUSES, Case, CaseEvent, CaseRequest, RequestStatus, Status
from gridgov.org.models import Department
from gridgov.org.permissions import GRID_STAFF, LEADERS
from gridgov.org.roles import Role

QUEUE_LIMIT = 50
OPEN_STATUS_QUERY = urlencode([("status", status) for status in OPEN_STATUSES])
RECENT_LIMIT = 10
DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.SHIFT_LEAD})

# Event actions that the services record for a return (退单); only used for showing reasons.
RETURN_ACTIONS = ("return", "return_case")


@dataclass
class Panel:
    key: str  # anchor and row template: web/rows/<rows>.html
    title: str
    rows: list
    total: int
    rows_template: str = "plain"
    empty_text: str = _("Nothing waiting here.")
    batch: bool = False  # rows have checkboxes for batch accept/dispatch
    tone: str = ""  # "overdue" / "warning" colours the panel header
    # The case list filtered to this queue (query string), linked when the panel shows only the first rows.
    list_query: str = ""

    @property
    def list_url(self):
        return f"{reverse('cases:list')}?{self.list_query}" if self.list_query and self.total > len(self.rows) else ""


@dataclass
class Workbench:
    panels: list = field(default_factory=list)
    departments: list = field(default_factory=list)
    status_counts: list = field(default_factory=list)
    show_intake_link: bool = False
    figures: list = field(default_factory=list)  # extra (label, value) cards beside the queues

    def add(self, panel):
        if all(existing.key != panel.key for existing in self.panels):
            self.panels.append(panel)


def build_workbench(user, now=None):
    """Context for web/workbench.html: the panels of every role the user holds."""
    now = now or timezone.now()
    roles = user.roles
    everything = Role.SYSADMIN in roles
    cases = Case.objects.restrict(user, "view").select_related("category", "grid", "department")
    bench = Workbench()
    if everything or Role.INTAKE_CLERK in roles:
        _intake_panels(bench, user, cases, now)
    if everything or roles & DISPATCH_ROLES:
        _dispatch_panels(bench, user, cases, now)
    if everything or Role.SHIFT_LEAD in roles:
        _shift_lead_panels(bench, user, cases, now)
    if Role.DEPT_HANDLER in roles:
        _department_panels(bench, user, cases, now)
    if everything or roles & GRID_STAFF:
        _grid_panels(bench, user, cases, now)
    if everything or roles & LEADERS:
        _leader_panels(bench, user, cases, now)
    return {"bench": bench, "now": now, "has_roles": bool(roles)}


def by_urgency(queryset, now):
    """Overdue first, then warning, then by deadline; cases without a clock last."""
    return annotate_urgency(queryset, now).order_by("urgency", F("due_at").asc(nulls_last=True), "id")


def _take(queryset, limit=None):
    """(first `limit` rows, total) with one query when the queue is short."""
    limit = limit or QUEUE_LIMIT
    rows = list(queryset[:limit])
    total = len(rows) if len(rows) < limit else queryset.count()
    return rows, total


def _intake_panels(bench, user, cases, now):
    bench.show_intake_link = True
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    registered_today = cases.filter(reported_by=user, created_at__gte=today).count()
    bench.figures.append((_("Registered by me today"), registered_today))
    rows, total = _take(cases.filter(reported_by=user).order_by("-created_at", "-id"), RECENT_LIMIT)
    bench.add(Panel("my_intakes", _("My recent intakes"), rows, total, empty_text=_("You have not registered any case yet.")))
    to_rate = cases.filter(status=Status.CLOSED, rating__isnull=True).order_by("-closed_at", "-id")
    rows, total = _take(to_rate)
    bench.add(Panel("to_rate", _("Closed, awaiting the caller's rating"), rows, total, rows_template="rate"))


def _dispatch_panels(bench, user, cases, now):
    bench.departments = list(Department.objects.restrict(user, "view").filter(is_active=True).only("id", "name"))
    rows, total = _take(by_urgency(cases.filter(status=Status.REPORTED), now))
    _mark_possible_duplicates(user, rows)
    bench.add(Panel("to_accept", _("Awaiting acceptance"), rows, total, rows_template="accept", batch=True,
                    list_query="status=reported&sort=due_at"))
    awaiting = by_urgency(cases.filter(status=Status.ACCEPTED), now)
    rows, total = _take(awaiting.filter(return_count=0))
    bench.add(Panel("to_dispatch", _("Awaiting dispatch"), rows, total, rows_template="dispatch", batch=True,
                    list_query="status=accepted&sort=due_at"))
    last_returns = Prefetch(
        "events", queryset=CaseEvent.objects.filter(action__in=RETURN_ACTIONS).order_by("-seq"), to_attr="return_events"
    )
    rows, total = _take(awaiting.filter(return_count__gt=0).prefetch_related(last_returns))
    bench.add(
        Panel(
            "returned",
            _("Returned by departments"),
            rows,
            total,
            rows_template="dispatch",
            batch=True,
            empty_text=_("No returned cases."),
            list_query="status=accepted&sort=due_at",
        )
    )


def _mark_possible_duplicates(user, rows):
    """`possible_duplicates` on each row: likely duplicates nearby (gridgov.triage), for the badge."""
    from gridgov.triage.duplicates import duplicate_counts

    counts = duplicate_counts(user, rows)
    for case in rows:
        case.possible_duplicates = counts.get(case.pk, 0)


def _shift_lead_panels(bench, user, cases, now):
    requests = (
        CaseRequest.objects.filter(status=RequestStatus.PENDING, case__in=cases.values("pk"))
        .select_related("case", "requested_by")
        .order_by("requested_at", "id")
    )
    rows, total = _take(requests)
    bench.add(Panel("requests", _("Extension and parking requests"), rows, total, rows_template="request"))
    rows, total = _take(by_urgency(cases.filter(status=Status.VERIFIED), now))
    bench.add(Panel("to_close", _("Verified, awaiting closure"), rows, total, rows_template="close", list_query="status=verified&sort=due_at"))


def _department_panels(bench, user, cases, now):
    inbox = cases.filter(department_id=user.department_id, status__in=[Status.DISPATCHED, Status.HANDLING])
    rows, total = _take(by_urgency(inbox, now))
    title = _("Department inbox")
    bench.add(Panel("inbox", title, rows, total, rows_template="inbox", empty_text=_("Your department has no open cases."),
                    list_query=f"department={user.department_id}&status=dispatched&status=handling&sort=due_at"))


def _grid_panels(bench, user, cases, now):
    rows, total = _take(by_urgency(cases.filter(status=Status.HANDLED), now))
    bench.add(Panel("to_verify", _("Awaiting verification in my grids"), rows, total, rows_template="verify", list_query="status=handled&sort=due_at"))
    rows, total = _take(cases.filter(reported_by=user).order_by("-created_at", "-id"), RECENT_LIMIT)
    bench.add(Panel("my_reports", _("My recent reports"), rows, total, empty_text=_("You have not reported any case yet.")))


def _leader_panels(bench, user, cases, now):
    open_cases = cases.filter(status__in=OPEN_STATUSES)
    overdue = filter_clock_state(open_cases, "overdue", now).order_by("due_at", "id")
    rows, total = _take(overdue)
    bench.add(Panel("overdue", _("Overdue"), rows, total, rows_template="supervise", tone="overdue", empty_text=_("No overdue cases."),
                    list_query=f"clock_state=overdue&{OPEN_STATUS_QUERY}&sort=due_at"))
    warning = filter_clock_state(open_cases, "warning", now).order_by("due_at", "id")
    rows, total = _take(warning)
    bench.add(Panel("warning", _("Close to the deadline"), rows, total, rows_template="supervise", tone="warning",
                    empty_text=_("No cases close to their deadline."), list_query=f"clock_state=warning&{OPEN_STATUS_QUERY}&sort=due_at"))
    bench.status_counts = status_counts(Case.objects.restrict(user, "view"))


def status_counts(queryset):
    """[(status value, label, count)] for every status, in workflow order, in one query."""
    counted = dict(queryset.order_by().values_list("status").annotate(n=Count("id")))
    return [(value, label, counted.get(value, 0)) for value, label in Status.choices]
