"""Pages of the hotline app: the order list (filters, search, sorting, .xlsx export), an
order's page, the import form with its progress bar and error report, and the replies."""


from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from gridgov.core.listing import query_without
from gridgov.core.xlsx import excel_time, xlsx_response
from gridgov.core.audit import log_sensitive_read
from gridgov.core.errors import DomainError
from gridgov.core.masking import mask_name, mask_phone
from gridgov.org.permissions import allowed

from .filters import HotlineOrderFilterSet, deadline_state
from .models import HotlineImport, HotlineOrder, HotlineReply
from .replies import retry_now
from .tasks import import_batch

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 100_000
SORTS = {
    "received_at": ("received_at", "id"),
    "reply_due_at": ("reply_due_at", "id"),
    "order_number": ("order_number",),
}
DEFAULT_SORT = "-received_at"


def _order_by(sort):
    key = sort.lstrip("-")
    if key not in SORTS:
        return _order_by(DEFAULT_SORT)
    fields = SORTS[key]
    return tuple(f"-{f}" for f in fields) if sort.startswith("-") else fields


def _require(user, action):
    """Pages answer 403 (Django's PermissionDenied) to a role without the action."""
    if not allowed(user, action):
        raise PermissionDenied(_("Your role may not use this page."))


def _visible(request):
    _require(request.user, "hotline.view")
    return HotlineOrder.objects.restrict(request.user, "view").select_related("case", "case__department")


def _filtered(request):
    filterset = HotlineOrderFilterSet(request.GET or None, queryset=_visible(request))
    queryset = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    sort = request.GET.get("sort", DEFAULT_SORT)
    sort = sort if sort.lstrip("-") in SORTS else DEFAULT_SORT
    return filterset, queryset.order_by(*_order_by(sort)), sort


@login_required
@require_GET
def order_list(request):
    filterset, queryset, sort = _filtered(request)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [_row(order, now) for order in page.object_list]
    return render(
        request,
        "hotline/orders.html",
        {
            "filterset": filterset, "page": page, "rows": rows, "sort": sort, "query": query_without(request, "page"),
            "may_import": allowed(request.user, "hotline.import"),
            "imports": HotlineImport.objects.filter(created_by=request.user)[:5],
        },
    )


def _row(order, now):
    return {
        "order": order,
        "caller": mask_name(order.caller_name),
        "phone": mask_phone(order.caller_phone),
        "state": deadline_state(order, now),
    }


@login_required
@require_GET
def order_detail(request, pk):
    order = get_object_or_404(_visible(request).prefetch_related("replies"), pk=pk)
    reveal = request.GET.get("reveal") == "1" and allowed(request.user, "hotline.view_caller")
    if reveal:
        log_sensitive_read(request.user, order, ["caller_name", "caller_phone"], purpose="hotline order page")
    return render(
        request,
        "hotline/order.html",
        {
            "order": order,
            "caller": order.caller_name if reveal else mask_name(order.caller_name),
            "phone": order.caller_phone if reveal else mask_phone(order.caller_phone),
            "revealed": reveal,
            "may_reveal": allowed(request.user, "hotline.view_caller"),
            "may_retry": allowed(request.user, "hotline.import"),
            "state": deadline_state(order),
        },
    )


# --- export -----------------------------------------------------------------------------
ORDER_HEADERS = [
    gettext_noop("Order number"), gettext_noop("Case"), gettext_noop("Order type"), gettext_noop("Urgency"),
    gettext_noop("Caller"), gettext_noop("Caller phone"), gettext_noop("Content"), gettext_noop("Address"),
    gettext_noop("Received"), gettext_noop("Reply due"), gettext_noop("Hotline deadline state"),
    gettext_noop("Case status"), gettext_noop("Replied"),
]
REPLY_HEADERS = [
    gettext_noop("Order number"), gettext_noop("Case"), gettext_noop("Kind"), pgettext_lazy("hotline reply", "Result"),
    gettext_noop("Handling note"), pgettext_lazy("hotline reply", "Department"), gettext_noop("Closed at"), gettext_noop("Status"),
    gettext_noop("Attempts"), gettext_noop("Last error"), gettext_noop("Sent"),
]


STATE_LABELS = {
    "overdue": gettext_lazy("Past the hotline deadline"),
    "warning": gettext_lazy("Nearing the hotline deadline"),
    "normal": gettext_lazy("Within the hotline deadline"),
    "replied": gettext_lazy("Replied"),
}


@login_required
@require_GET
def export_orders(request):
    _filterset, queryset, _sort = _filtered(request)
    now = timezone.now()
    rows = (
        [
            order.order_number, order.case.number, order.get_order_type_display(), order.get_urgency_display(),
            mask_name(order.caller_name), mask_phone(order.caller_phone), order.content, order.address,
            excel_time(order.received_at), excel_time(order.reply_due_at), str(STATE_LABELS[deadline_state(order, now)]),
            order.case.get_status_display(), excel_time(order.replied_at),
        ]
        for order in queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    return xlsx_response(f"hotline-orders-{timezone.localtime(now):%Y%m%d-%H%M}.xlsx", _("Hotline orders"), ORDER_HEADERS, rows)


@login_required
@require_GET
def export_replies(request):
    """Replies (办结/回访) for hotline platforms without an API: staff upload this file."""
    _require(request.user, "hotline.import")
    replies = HotlineReply.objects.restrict(request.user, "view").select_related("order").order_by("created_at", "id")
    status = request.GET.get("status")
    if status:
        replies = replies.filter(status=status)
    rows = (
        [
            reply.order.order_number, reply.payload.get("case_number", ""), reply.get_kind_display(),
            reply.payload.get("result", ""), reply.payload.get("note", ""), reply.payload.get("department", ""),
            reply.payload.get("closed_at") or "", reply.get_status_display(), reply.attempts, reply.last_error,
            excel_time(reply.sent_at),
        ]
        for reply in replies[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    now = timezone.localtime()
    return xlsx_response(f"hotline-replies-{now:%Y%m%d-%H%M}.xlsx", _("Hotline replies"), REPLY_HEADERS, rows)


@login_required
@require_POST
def retry_reply(request, pk):
    reply = get_object_or_404(HotlineReply.objects.restrict(request.user, "view"), pk=pk)
    try:
        retry_now(reply, request.user)
    except DomainError as failure:
        messages.error(request, failure.message)
    else:
        messages.success(request, _("The reply will be sent again."))
    return redirect("hotline:order", reply.order_id)


# --- import -----------------------------------------------------------------------------
class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Excel file (.xlsx)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("Upload an Excel workbook (.xlsx)."))
        return upload


@login_required
def import_form(request):
    _require(request.user, "hotline.import")
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        batch = HotlineImport.objects.create(file=upload, filename=upload.name[:200], created_by=request.user)
        import_batch.enqueue(batch.pk)
        return redirect("hotline:import_status", batch.pk)
    return render(request, "hotline/import.html", {"form": form})


@login_required
@require_GET
def import_status(request, pk):
    """The batch's progress; htmx polls the fragment until the batch is finished."""
    batch = HotlineImport.objects.filter(pk=pk, created_by=request.user).first()
    if batch is None:
        raise Http404
    template = "hotline/import_progress.html" if request.headers.get("HX-Request") else "hotline/import_status.html"
    return render(request, template, {"batch": batch, "finished": batch.status in ("done", "failed")})


def case_panel(case, user, now):
    """The hotline deadline on the case page (gridgov.cases.detail.DETAIL_PANELS)."""
    if case.channel != "hotline" or not allowed(user, "hotline.view"):
        return None
    order = HotlineOrder.objects.filter(case_id=case.pk).first()
    if order is None:
        return None
    return {"template": "hotline/case_panel.html", "order": order, "state": deadline_state(order, now)}
