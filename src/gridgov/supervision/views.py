"""Pages of the supervision app: the overview (/supervision/) with active whistles, late
check-ins and 催办/督办 orders, its Excel export, and the POST endpoints behind the case
page's supervision panel. State changes go through services only."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gridgov.core.errors import DomainError
from gridgov.core.listing import query_without
from gridgov.core.xlsx import excel_time, xlsx_response

from . import services
from .models import Order, OrderKind, OrderStatus, Summons, Whistle

PAGE_SIZE = 25
# Active whistles and late check-ins shown on the page (newest first); late check-ins export in full.
SHOWN = 50
ORDER_SORTS = {"due": ("reply_due_at", "id"), "-due": ("-reply_due_at", "-id"), "issued": ("issued_at", "id"), "-issued": ("-issued_at", "-id")}


def _orders(request):
    orders = Order.objects.restrict(request.user, "view").select_related("case", "department", "issued_by", "replied_by")
    query = request.GET.get("q", "").strip()
    if query:
        orders = orders.filter(Q(case__number__icontains=query) | Q(note__icontains=query) | Q(department__name__icontains=query))
    kind = request.GET.get("kind", "")
    if kind in OrderKind.values:
        orders = orders.filter(kind=kind)
    status = request.GET.get("status", OrderStatus.OPEN)
    if status in OrderStatus.values:
        orders = orders.filter(status=status)
    sort = request.GET.get("sort", "due")
    return orders.order_by(*ORDER_SORTS.get(sort, ORDER_SORTS["due"])), query, kind, status, sort


@login_required
@require_GET
def index(request):
    user = request.user
    whistles, whistles_total = _newest(
        Whistle.objects.restrict(user, "view").active().select_related("case", "blown_by").prefetch_related("summonses__department")
        .order_by("-blown_at")
    )
    late, late_total = _newest(_late_check_ins(user))
    orders, query, kind, status, sort = _orders(request)
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "whistles": whistles, "whistles_total": whistles_total, "late": late, "late_total": late_total,
        "page": page, "q": query, "kind": kind, "status": status, "sort": sort,
        "kinds": OrderKind.choices, "statuses": OrderStatus.choices, "now": timezone.now(),
        "querystring": query_without(request, "page"),
    }
    return render(request, "supervision/index.html", context)


def _newest(queryset):
    """(the first SHOWN rows, how many there are): the page shows the newest; the count says whether that is all."""
    rows = list(queryset[:SHOWN])
    return rows, len(rows) if len(rows) < SHOWN else queryset.count()


def _late_check_ins(user):
    return (
        Summons.objects.restrict(user, "view").filter(late=True).select_related("case", "department")
        .order_by("-summoned_at", "-id")
    )


EXPORT_HEADERS = [
    gettext_noop("Case"), gettext_noop("Kind"), gettext_noop("Department"), gettext_noop("Issued by"), gettext_noop("Issued at"),
    gettext_noop("Instruction"), pgettext_lazy("supervision order", "Reply due"), gettext_noop("Status"), gettext_noop("Reply"), gettext_noop("Replied at"),
]


@login_required
@require_GET
def export_orders(request):
    """The filtered orders as .xlsx (write-only workbook, streamed from a temporary file)."""
    orders, *_rest = _orders(request)
    rows = (
        [
            order.case.number, order.get_kind_display(), order.department.name, str(order.issued_by), excel_time(order.issued_at),
            order.note, excel_time(order.reply_due_at), order.get_status_display(), order.reply, excel_time(order.replied_at),
        ]
        for order in orders[:50000].iterator(chunk_size=1000)
    )
    return xlsx_response(f"orders-{timezone.localtime():%Y%m%d-%H%M}.xlsx", _("Orders"), EXPORT_HEADERS, rows)


LATE_EXPORT_HEADERS = [
    gettext_noop("Case"), gettext_noop("Department"), gettext_noop("summoned at"), gettext_noop("Check in by"), gettext_noop("Checked in at"),
]


@login_required
@require_GET
def export_late(request):
    """Every late check-in the user may see (the page shows the newest SHOWN) as .xlsx, newest first."""
    rows = (
        [
            summons.case.number, summons.department.name, excel_time(summons.summoned_at), excel_time(summons.check_in_due_at),
            excel_time(summons.checked_in_at),
        ]
        for summons in _late_check_ins(request.user)[:50000].iterator(chunk_size=1000)
    )
    return xlsx_response(f"late-check-ins-{timezone.localtime():%Y%m%d-%H%M}.xlsx", _("Late check-ins"), LATE_EXPORT_HEADERS, rows)


# -- POST endpoints of the case page's panel -------------------------------------------------
def _act(request, case_pk, perform, done_message):
    try:
        perform()
    except DomainError as error:
        details = "; ".join(str(m) for messages_ in error.fields.values() for m in messages_)
        messages.error(request, f"{error.message} {details}".strip())
    else:
        messages.success(request, done_message)
    return redirect(reverse("cases:detail", args=[case_pk]) + "#supervision")


@login_required
@require_POST
def blow(request, case_pk):
    data = request.POST
    return _act(
        request, case_pk,
        lambda: services.blow_whistle(
            case_pk, request.user, lead_department=data.get("lead_department"),
            co_departments=[value for value in data.getlist("co_departments") if value],
            reason=data.get("reason", ""), check_in_minutes=data.get("check_in_minutes") or None,
        ),
        _("Whistle blown: the departments are summoned."),
    )


@login_required
@require_POST
def check_in(request, case_pk):
    return _act(
        request, case_pk, lambda: services.check_in_case(case_pk, request.user, note=request.POST.get("note", "")),
        _("Checked in."),
    )


@login_required
@require_POST
def issue_order(request, case_pk, kind):
    issue = services.issue_urge if kind == OrderKind.URGE else services.issue_supervision_order
    return _act(
        request, case_pk,
        lambda: issue(case_pk, request.user, note=request.POST.get("note", ""), reply_hours=request.POST.get("reply_hours") or None),
        _("Order issued."),
    )


@login_required
@require_POST
def reply(request, case_pk, order_pk):
    return _act(
        request, case_pk, lambda: services.reply_order(order_pk, request.user, reply=request.POST.get("reply", "")),
        _("Reply sent."),
    )
