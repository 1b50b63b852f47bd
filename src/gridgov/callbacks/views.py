"""Pages of the callbacks app: the list (due today / overdue / pending / done), one callback
with the result form, the reporter reveal (audit-logged) and the Excel export."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from gridgov.core.audit import log_sensitive_read
from gridgov.core.errors import DomainError
from gridgov.core.listing import query_without
from gridgov.core.masking import mask_name, mask_phone
from gridgov.core.xlsx import excel_time, xlsx_response
from gridgov.org.permissions import allowed

from . import services
from .filters import CallbackFilterSet, CallbackState, state_of
from .forms import ResultForm
from .models import CallbackResult

PAGE_SIZE = 20
EXPORT_MAX_ROWS = 50_000
REPORTER_FIELDS = ["reporter_name", "reporter_phone"]


def _filtered(request):
    require_page(request.user, "callback.view")
    params = request.GET.copy()
    params.setdefault("state", "pending")
    filterset = CallbackFilterSet(params, queryset=services.visible_callbacks(request.user))
    return filterset, filterset.qs


def require_page(user, action):
    """Pages answer 403 (Django's PermissionDenied) where services raise Forbidden."""
    if not allowed(user, action):
        raise PermissionDenied(action)


@login_required
@require_GET
def callback_list(request):
    filterset, queryset = _filtered(request)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    labels = dict(CallbackState.CHOICES)
    for callback in page.object_list:
        callback.state = state_of(callback, now)
        callback.state_label = labels[callback.state]
        callback.masked_phone = mask_phone(callback.case.reporter_phone)
    visible = services.visible_callbacks(request.user)
    tabs = [
        {"key": key, "label": label, "count": CallbackState.select(visible, "state", key).count()}
        for key, label in CallbackState.CHOICES
    ]
    context = {
        "filterset": filterset,
        "page": page,
        "tabs": tabs,
        "state": filterset.data.get("state"),
        "query": query_without(request, "page"),
        "results": CallbackResult.choices,
    }
    return render(request, "callbacks/list.html", context)


@login_required
@require_GET
def export_xlsx(request):
    _filterset, queryset = _filtered(request)
    now = timezone.now()
    labels = dict(CallbackState.CHOICES)
    headers = [_("Case number"), _("Description"), _("Reporter phone"), _("Case closed at"), _("Due at"), pgettext("callback", "State"),
               pgettext("callback", "Result"), pgettext("callback", "Note"), _("Done at"), _("Done by"), _("Case reopened")]
    rows = (
        [
            c.case.number, c.case.description, mask_phone(c.case.reporter_phone), excel_time(c.closed_at), excel_time(c.due_at),
            str(labels[state_of(c, now)]), c.get_result_display(), c.note, excel_time(c.done_at),
            (c.done_by.display_name or c.done_by.username) if c.done_by_id else "", _("yes") if c.reopened else "",
        ]
        for c in queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    return xlsx_response(f"callbacks-{timezone.localtime(now):%Y%m%d-%H%M}.xlsx", _("Callbacks"), headers, rows)


def _callback(request, pk):
    require_page(request.user, "callback.view")
    callback = services.visible_callbacks(request.user).filter(pk=pk).first()
    if callback is None:
        raise Http404("no such callback")
    return callback


def _render_detail(request, callback, form=None, revealed=False, status=200):
    case = callback.case
    can_record = allowed(request.user, "callback.record") and callback.done_at is None
    context = {
        "callback": callback,
        "case": case,
        "state": state_of(callback),
        "form": form or (ResultForm() if can_record else None),
        "revealed": revealed,
        "can_reveal": allowed(request.user, "case.view_reporter"),
        "masked_name": mask_name(case.reporter_name),
        "masked_phone": mask_phone(case.reporter_phone),
    }
    return render(request, "callbacks/detail.html", context, status=status)


@login_required
@require_GET
def callback_detail(request, pk):
    return _render_detail(request, _callback(request, pk))


@login_required
@require_POST
def reveal_reporter(request, pk):
    """The reporter in the clear; needs case.view_reporter, and every reveal is recorded."""
    callback = _callback(request, pk)
    if not allowed(request.user, "case.view_reporter"):
        raise PermissionDenied("reporter details")
    log_sensitive_read(request.user, callback.case, REPORTER_FIELDS, purpose="callback", channel="web")
    return _render_detail(request, callback, revealed=True)


@login_required
@require_POST
def record(request, pk):
    callback = _callback(request, pk)
    form = ResultForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, callback, form=form, status=400)
    try:
        done = services.record_result(callback, request.user, **form.cleaned_data)
    except DomainError as error:
        form.add_domain_error(error)
        return _render_detail(request, _callback(request, pk), form=form, status=error.status)
    messages.success(request, _("Callback result recorded for case %(number)s.") % {"number": done.case.number})
    return redirect("callbacks:detail", pk=done.pk)


def case_panel(case, user, now):
    """The latest callback on the case page (gridgov.cases.detail.DETAIL_PANELS)."""
    if not allowed(user, "callback.view"):
        return None
    callback = case.callbacks.order_by("-closed_at", "-id").first()
    if callback is None:
        return None
    state = state_of(callback, now)
    return {
        "template": "callbacks/case_panel.html",
        "callback": callback,
        "state": state,
        "state_label": dict(CallbackState.CHOICES)[state],
    }
