"""Pages of the triage app: the dispatchers' list of possible duplicates, the merge action,
the clear view of merged reporters and the suggestion partial of the intake and accept forms."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gridgov.cases.links import case_url
from gridgov.cases.merge import merge_cases
from gridgov.cases.models import Case, Status
from gridgov.core.audit import log_sensitive_read
from gridgov.core.errors import DomainError
from gridgov.core.xlsx import excel_time, xlsx_response
from gridgov.org.permissions import allowed

from .classifier import suggest
from .duplicates import duplicate_counts, duplicates_of
from .panels import masked_reporters

PAGE_SIZE = 20
# The queue scanned for duplicates: the newest reports awaiting acceptance.
QUEUE_SCAN = 1000
SORTS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "duplicates": ("duplicates",),
    "-duplicates": ("-duplicates",),
}
SEARCH_MAX = 50


def _require(user, action):
    if not allowed(user, action):
        raise PermissionDenied(_("Your role may not do this."))


def _visible_case(user, pk):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404(_("No such case.")) from None
    visible = Case.objects.restrict(user, "view").select_related("category", "merged_into")
    case = visible.filter(pk=pk).first() if 0 < pk < 2**63 else None
    if case is None:
        raise Http404(_("No such case."))
    return case


def queue_with_duplicates(user, query=""):
    """Reports awaiting acceptance that have likely duplicates, each with `duplicates` (count)."""
    cases = Case.objects.restrict(user, "view").filter(status=Status.REPORTED, merged_into__isnull=True)
    if query:
        cases = cases.filter(Q(number__startswith=query) | Q(description__icontains=query) | Q(address__icontains=query))
    rows = list(cases.select_related("category", "grid").order_by("-created_at", "-id")[:QUEUE_SCAN])
    counts = duplicate_counts(user, rows)
    flagged = []
    for case in rows:
        case.duplicates = counts.get(case.pk, 0)
        if case.duplicates:
            flagged.append(case)
    return flagged


def _sorted(rows, sort):
    key = sort.lstrip("-")
    reverse = sort.startswith("-")
    if key == "duplicates":
        return sorted(rows, key=lambda case: (case.duplicates, case.created_at), reverse=reverse)
    return sorted(rows, key=lambda case: (case.created_at, case.pk), reverse=reverse)


@login_required
@require_GET
def duplicate_list(request):
    _require(request.user, "case.merge")
    query = request.GET.get("q", "").strip()[:SEARCH_MAX]
    sort = request.GET.get("sort", "-created_at")
    sort = sort if sort in SORTS else "-created_at"
    rows = _sorted(queue_with_duplicates(request.user, query), sort)
    if request.GET.get("format") == "xlsx":
        return _xlsx(rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "query": query, "sort": sort, "total": len(rows)}
    return render(request, "triage/duplicate_list.html", context)


def _xlsx(rows):
    headers = [_("Number"), _("Reported"), _("Category"), _("Description"), _("Possible duplicates")]
    lines = (
        [case.number, excel_time(case.created_at), case.category.name if case.category else "", case.description, case.duplicates]
        for case in rows
    )
    return xlsx_response("possible-duplicates.xlsx", _("Possible duplicates"), headers, lines)


@login_required
@require_GET
def case_duplicates(request, pk):
    """One case and its likely duplicates, each with the merge action (both directions)."""
    _require(request.user, "case.merge")
    case = _visible_case(request.user, pk)
    candidates = duplicates_of(request.user, case, limit=20)
    return render(request, "triage/case_duplicates.html", {"case": case, "candidates": candidates})


@login_required
@require_POST
def merge(request):
    """POST duplicate, into, versions, note: merge and go to the surviving case."""
    _require(request.user, "case.merge")
    duplicate = _visible_case(request.user, request.POST.get("duplicate"))
    into = _visible_case(request.user, request.POST.get("into"))
    try:
        survivor = merge_cases(
            duplicate,
            into,
            request.user,
            note=request.POST.get("note", ""),
            expected_version=request.POST.get("duplicate_version") or None,
            into_expected_version=request.POST.get("into_version") or None,
        )
    except DomainError as error:
        messages.error(request, str(error.message) if not error.fields else _fields_text(error))
        return redirect(_next(request, case_url(duplicate)))
    messages.success(
        request,
        _("Case %(duplicate)s was merged into case %(into)s.") % {"duplicate": duplicate.number, "into": survivor.number},
    )
    return redirect(case_url(survivor))


def _fields_text(error):
    return "; ".join(str(message) for messages_ in error.fields.values() for message in messages_)


def _next(request, default):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@login_required
@require_POST
def reveal_reporters(request, pk):
    """The reporters kept from merged duplicates, in the clear (htmx partial); audit-logged."""
    case = _visible_case(request.user, pk)
    if not allowed(request.user, "case.view_reporter"):
        raise PermissionDenied(_("Your role may not see the reporter's details."))
    reporters = masked_reporters(case)
    log_sensitive_read(request.user, case, ["merged_reporters"], purpose="reporters of merged duplicates", channel="web")
    return render(request, "triage/_reporters.html", {"case": case, "reporters": reporters, "revealed": True})


@login_required
@require_GET
def suggestions(request):
    """Top 3 小类 for the text being typed (htmx partial of the intake form).

    With no category chosen yet, the best one is marked `data-preselect` and the page's
    script puts it into the form.
    """
    _require(request.user, "triage.suggest")
    text = request.GET.get("description", "")[:2000]
    chosen = request.GET.get("category", "").strip()
    found = suggest(text) if text.strip() else []
    return render(request, "triage/_suggestions.html", {"suggestions": found, "preselect": not chosen})
