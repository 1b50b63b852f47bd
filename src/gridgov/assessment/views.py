"""Pages of the assessment app: my score sheet, the ranked sheets of an area (leads), one
sheet with its manual items and the lock, the Excel export; 例会 and 网格学堂 records.

Every page reads through `.restrict(user, ...)`; every change goes through the services.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gridgov.core.errors import DomainError, ValidationFailed
from gridgov.core.listing import query_without
from gridgov.geo.models import Level, Region
from gridgov.org.models import User
from gridgov.org.permissions import GRID_STAFF, allowed

from . import services
from gridgov.core.xlsx import xlsx_response
from .measures import MEASURES
from .models import Attendance, AttendanceStatus, Meeting, MeetingKind, ScoreSheet
from .months import add_months, current_month, parse_month

PAGE_SIZE = 20
SHEET_SORTS = {
    "rank": ["-total_score", "user__display_name", "id"],
    "-rank": ["total_score", "user__display_name", "id"],
    "name": ["user__display_name", "id"],
    "region": ["region_code", "-total_score", "id"],
}
ROSTER_MAX = 200


def _month(request, source=None):
    """The month asked for (?month=YYYY-MM), else last month; a bad value is reported."""
    value = (source or request.GET).get("month")
    if value:
        try:
            return parse_month(value)
        except ValidationFailed as error:
            messages.error(request, error.message)
    return add_months(current_month(), -1)


def _month_nav(month):
    return {"month": month, "previous": add_months(month, -1), "next": add_months(month, 1)}


@login_required
@require_GET
def my_sheet(request):
    month = _month(request)
    sheet = (
        ScoreSheet.objects.restrict(request.user, "view")
        .filter(user=request.user, month=month)
        .prefetch_related("lines", "manual_items__created_by")
        .first()
    )
    context = {**_month_nav(month), "sheet": sheet, "own": True}
    return render(request, "assessment/my_sheet.html", context)


def _sheets(request, month):
    sheets = ScoreSheet.objects.restrict(request.user, "view").filter(month=month).select_related("user")
    query = request.GET.get("q", "").strip()
    if query:
        sheets = sheets.filter(
            Q(user__display_name__icontains=query) | Q(user__username__icontains=query) | Q(region_code__startswith=query)
        )
    return sheets, query


def _ranks(sheets):
    """Competition ranking by total score (equal totals share a rank)."""
    ranks, previous, rank = {}, None, 0
    for position, (pk, total) in enumerate(sheets.order_by("-total_score").values_list("pk", "total_score"), 1):
        if total != previous:
            rank, previous = position, total
        ranks[pk] = rank
    return ranks


@login_required
@require_GET
def sheet_list(request):
    month = _month(request)
    sheets, query = _sheets(request, month)
    sort = request.GET.get("sort") if request.GET.get("sort") in SHEET_SORTS else "rank"
    ranks = _ranks(sheets)
    page = Paginator(sheets.order_by(*SHEET_SORTS[sort]), PAGE_SIZE).get_page(request.GET.get("page"))
    for sheet in page:
        sheet.rank = ranks.get(sheet.pk)
    context = {
        **_month_nav(month),
        "page": page,
        "query": query,
        "sort": sort,
        "can_generate": allowed(request.user, "scoresheet.generate"),
        "generate_key": uuid.uuid4().hex,
    }
    return render(request, "assessment/sheet_list.html", context)


@login_required
@require_GET
def export_sheets(request):
    month = _month(request)
    sheets, _query = _sheets(request, month)
    sort = request.GET.get("sort") if request.GET.get("sort") in SHEET_SORTS else "rank"
    ranks = _ranks(sheets)
    measures = list(MEASURES.values())
    headers = [_("Rank"), _("Staff member"), _("Region code"), _("Status"), _("Computed score"), _("Manual points"),
               _("Total score"), *[measure.label for measure in measures]]
    rows = []
    for sheet in sheets.order_by(*SHEET_SORTS[sort]).prefetch_related("lines"):
        by_measure = {line.measure: line.score for line in sheet.lines.all()}
        rows.append([
            ranks.get(sheet.pk), str(sheet.user), sheet.region_code, str(sheet.get_status_display()),
            sheet.computed_score, sheet.manual_score, sheet.total_score,
            *[by_measure.get(measure.name) for measure in measures],
        ])
    return xlsx_response(f"assessment-{month:%Y-%m}.xlsx", _("Score sheets"), headers, rows)


@login_required
@require_GET
def sheet_detail(request, pk):
    sheet = get_object_or_404(
        ScoreSheet.objects.restrict(request.user, "view").select_related("user", "locked_by").prefetch_related(
            "lines", "manual_items__created_by", "events__actor"
        ),
        pk=pk,
    )
    own = sheet.user_id == request.user.pk
    context = {
        **_month_nav(sheet.month),
        "sheet": sheet,
        "own": own,
        "can_adjust": not sheet.locked and not own and allowed(request.user, "scoresheet.adjust"),
        "can_lock": not sheet.locked and not own and allowed(request.user, "scoresheet.lock"),
        "item_key": uuid.uuid4().hex,
    }
    return render(request, "assessment/sheet_detail.html", context)


@login_required
@require_POST
def generate(request):
    month = _month(request, request.POST)
    try:
        result = services.generate_sheets(request.user, month)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(generated)d sheets computed; %(locked)d locked sheets left as they were.")
            % {"generated": len(result["generated"]), "locked": len(result["skipped_locked"])},
        )
    return redirect(f"{reverse('assessment:sheets')}?month={month:%Y-%m}")


@login_required
@require_POST
def add_manual_item(request, pk):
    sheet = get_object_or_404(ScoreSheet.objects.restrict(request.user, "view"), pk=pk)
    try:
        services.add_manual_item(
            sheet, request.user, points=request.POST.get("points"), reason=request.POST.get("reason"),
            idempotency_key=request.POST.get("idempotency_key"),
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("The points were recorded."))
    return redirect("assessment:sheet", pk=sheet.pk)


@login_required
@require_POST
def lock(request, pk):
    sheet = get_object_or_404(ScoreSheet.objects.restrict(request.user, "view"), pk=pk)
    try:
        services.lock_sheet(sheet, request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The score sheet is confirmed and locked."))
    return redirect("assessment:sheet", pk=sheet.pk)


def _error_text(error):
    details = [str(message) for messages_ in error.fields.values() for message in messages_]
    return " ".join([str(error.message), *details]) if details else str(error.message)


# -- meetings ---------------------------------------------------------------------------------
MEETING_SORTS = {
    "-date": ["-date", "-id"],
    "date": ["date", "id"],
    "kind": ["kind", "-date", "-id"],
    "region": ["region__code", "-date", "-id"],
    "topic": ["topic", "-date", "-id"],
}
MEETING_EXPORT_MAX_ROWS = 50_000


def _meetings(request):
    """The meetings the user may see, filtered (q, kind) and ordered (sort) as on the page."""
    meetings = Meeting.objects.restrict(request.user, "view").select_related("region", "recorded_by").distinct()
    query = request.GET.get("q", "").strip()
    kind = request.GET.get("kind", "")
    if query:
        meetings = meetings.filter(Q(topic__icontains=query) | Q(minutes__icontains=query))
    if kind in MeetingKind.values:
        meetings = meetings.filter(kind=kind)
    sort = request.GET.get("sort") if request.GET.get("sort") in MEETING_SORTS else "-date"
    return meetings.order_by(*MEETING_SORTS[sort]), query, kind, sort


@login_required
@require_GET
def meeting_list(request):
    meetings, query, kind, sort = _meetings(request)
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    export_query, sort_query = query_without(request, "page"), query_without(request, "page", "sort")
    context = {
        "page": page, "query": query, "kind": kind, "sort": sort, "kinds": MeetingKind.choices,
        "sort_query": sort_query, "export_query": export_query, "filtered": bool(query or kind),
        "can_record": allowed(request.user, "grid_meeting.record"),
    }
    return render(request, "assessment/meeting_list.html", context)


@login_required
@require_GET
def export_meetings(request):
    """The meetings of the current filter and order as .xlsx (the page's restricted queryset)."""
    meetings, _query, _kind, _sort = _meetings(request)
    rows = list(meetings[:MEETING_EXPORT_MAX_ROWS])
    counts = {}
    attendance = Attendance.objects.filter(meeting_id__in=[meeting.pk for meeting in rows])
    for meeting_id, status, number in attendance.values_list("meeting_id", "status").annotate(n=Count("id")).order_by():
        counts[(meeting_id, status)] = number
    headers = [_("Date"), _("Kind"), _("Grid or community"), _("Topic"), _("Minutes"),
               AttendanceStatus.PRESENT.label, AttendanceStatus.LEAVE.label, AttendanceStatus.ABSENT.label, _("Recorded by")]
    lines = (
        [
            meeting.date, str(meeting.get_kind_display()), meeting.region.name, meeting.topic, meeting.minutes,
            *[counts.get((meeting.pk, status), 0) for status in (AttendanceStatus.PRESENT, AttendanceStatus.LEAVE, AttendanceStatus.ABSENT)],
            str(meeting.recorded_by),
        ]
        for meeting in rows
    )
    return xlsx_response(f"meetings-{timezone.localdate():%Y%m%d}.xlsx", _("Meetings and training"), headers, lines)


@login_required
@require_GET
def meeting_detail(request, pk):
    meeting = get_object_or_404(Meeting.objects.restrict(request.user, "view").distinct(), pk=pk)
    attendance = meeting.attendance.select_related("user").order_by("status", "user__display_name")
    context = {"meeting": meeting, "attendance": attendance, "can_record": allowed(request.user, "grid_meeting.record")}
    return render(request, "assessment/meeting_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def meeting_edit(request, pk):
    """Correct a meeting: topic, minutes and attendance (kind, place and date stay)."""
    if not allowed(request.user, "grid_meeting.record"):
        return HttpResponseForbidden(_("Your role may not record meetings."))
    meeting = get_object_or_404(Meeting.objects.restrict(request.user, "view").distinct(), pk=pk)
    roster = _roster(request.user)
    errors = {}
    marked = dict(meeting.attendance.values_list("user_id", "status"))
    values = {"topic": meeting.topic, "minutes": meeting.minutes}
    if request.method == "POST":
        values = request.POST
        marked = _marked(request, roster)
        try:
            services.amend_meeting(
                meeting, request.user, topic=values.get("topic"), minutes=values.get("minutes", ""), attendance=marked
            )
        except DomainError as error:
            errors = {name: [str(m) for m in msgs] for name, msgs in error.fields.items()}
            messages.error(request, error.message)
        else:
            messages.success(request, _("The meeting was updated."))
            return redirect("assessment:meeting", pk=meeting.pk)
    for person in roster:
        person.marked = marked.get(person.pk, "")
    context = {"meeting": meeting, "roster": roster, "statuses": AttendanceStatus.choices, "values": values, "errors": errors}
    return render(request, "assessment/meeting_edit.html", context, status=400 if errors else 200)


def _marked(request, roster):
    """{staff id: status} from the form's att_<id> selects (empty: not invited)."""
    return {
        person.pk: request.POST[f"att_{person.pk}"]
        for person in roster
        if request.POST.get(f"att_{person.pk}") in AttendanceStatus.values
    }


def _roster(user):
    return list(
        User.objects.restrict(user, "view")
        .filter(is_active=True, scope__isnull=False, role_assignments__role__in=list(GRID_STAFF))
        .select_related("scope")
        .distinct()
        .order_by("scope__code", "display_name")[:ROSTER_MAX]
    )


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request):
    if not allowed(request.user, "grid_meeting.record"):
        return HttpResponseForbidden(_("Your role may not record meetings."))
    regions = Region.objects.restrict(request.user, "view").filter(level__in=[Level.COMMUNITY, Level.GRID]).order_by("code")
    roster = _roster(request.user)
    errors, values = {}, {"kind": MeetingKind.WEEKLY, "idempotency_key": uuid.uuid4().hex}
    if request.method == "POST":
        values = request.POST
        attendance = _marked(request, roster)
        try:
            meeting, _created = services.record_meeting(
                request.user, kind=values.get("kind"), region=values.get("region"), date=values.get("date"),
                topic=values.get("topic"), minutes=values.get("minutes", ""), attendance=attendance,
                idempotency_key=values.get("idempotency_key"),
            )
        except DomainError as error:
            errors = {name: [str(m) for m in msgs] for name, msgs in error.fields.items()}
            messages.error(request, error.message)
        else:
            messages.success(request, _("The meeting was recorded."))
            return redirect("assessment:meeting", pk=meeting.pk)
    context = {
        "regions": regions, "roster": roster, "kinds": MeetingKind.choices, "statuses": AttendanceStatus.choices,
        "values": values, "errors": errors,
    }
    return render(request, "assessment/meeting_new.html", context, status=400 if errors else 200)
