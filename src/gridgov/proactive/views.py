"""Pages of the proactive app: the monthly hot-topics report (ranked tables, map of hot H3
cells, trend chart, Excel export, buttons that open a proactive case or a project) and the
projects (list, new, detail with status changes).

The report is computed over `Case.objects.restrict(user, "view")`; changes go through the
services.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gridgov.core.listing import query_without
from gridgov.core.xlsx import xlsx_response
from gridgov.assessment.months import add_months, current_month, parse_month
from gridgov.cases.links import case_url_template
from gridgov.catalog.models import Category
from gridgov.core.errors import DomainError, ValidationFailed
from gridgov.geo.models import Level, Region
from gridgov.org.models import Department
from gridgov.org.permissions import allowed

from . import services
from .hot_topics import DEFAULT_MONTHS, DEFAULT_TOP, cell_feature, report_for
from .models import PROJECT_TRANSITIONS, Project, ProjectStatus

PAGE_SIZE = 20
ROW_SORTS = {
    "current": lambda row: (-row.current, row.label),
    "previous": lambda row: (-row.previous, row.label),
    "change": lambda row: (-(row.change_pct if row.change_pct is not None else float("inf")), row.label),
}
PROJECT_SORTS = {
    "-created": ["-created_at", "-id"],
    "created": ["created_at", "id"],
    "title": ["title", "id"],
    "month": ["-month", "-id"],
    "category": ["category__code", "-created_at", "-id"],
    "department": ["owner_department__code", "-created_at", "-id"],
    "status": ["status", "-created_at", "-id"],
}
PROJECT_EXPORT_MAX_ROWS = 50_000


def _report_params(request):
    """month, months, top, q and sort from the query string; bad values fall back, with a message."""
    params = {"months": request.GET.get("months") or DEFAULT_MONTHS, "top": request.GET.get("top") or DEFAULT_TOP}
    try:
        params["month"] = parse_month(request.GET.get("month") or add_months(current_month(), -1))
    except ValidationFailed as error:
        messages.error(request, error.message)
        params["month"] = add_months(current_month(), -1)
    params["q"] = request.GET.get("q", "").strip()[:50]
    params["sort"] = request.GET.get("sort") if request.GET.get("sort") in ROW_SORTS else "current"
    return params


def _report(request, params):
    try:
        return report_for(request.user, params["month"], months=params["months"], top=params["top"], query=params["q"])
    except ValidationFailed as error:
        messages.error(request, error.message)
        return report_for(request.user, params["month"], query=params["q"])


@login_required
@require_GET
def hot_topics(request):
    if not allowed(request.user, "hot_topic.view"):
        return HttpResponseForbidden(_("Your role may not see the hot-topics report."))
    params = _report_params(request)
    report = _report(request, params)
    for rows in (report.topics, report.categories, report.cells, report.grids):
        rows.sort(key=ROW_SORTS[params["sort"]])
    features = {row.h3_cell: cell_feature(row) for row in report.cells + report.new_hot_spots}
    context = {
        "report": report,
        "params": params,
        "base_query": urlencode(
            {"month": f"{report.month:%Y-%m}", "months": report.months, "top": params["top"], "q": params["q"]}
        ),
        "map_config": {
            "boundariesUrl": reverse("web:map_boundaries"),
            "cells": {"type": "FeatureCollection", "features": list(features.values())},
            "trend": report.trend,
            "labels": {"total": _("All cases"), "cases": pgettext("unit", "cases"), "new": _("new hot spot")},
        },
        "can_open_case": allowed(request.user, "case.create"),
        "can_plan": allowed(request.user, "proactive_project.create"),
    }
    return render(request, "proactive/hot_topics.html", context)


@login_required
@require_GET
def export_hot_topics(request):
    if not allowed(request.user, "hot_topic.view"):
        return HttpResponseForbidden(_("Your role may not see the hot-topics report."))
    params = _report_params(request)
    report = _report(request, params)
    headers = [_("Ranking"), _("Rank"), _("Problem or place"), _("H3 cell"), _("Grid"),
               _("This period"), _("Previous period"), _("Change %"), _("New hot spot")]
    sections = [
        (_("Recurring problems"), report.topics),
        (_("Sub-categories"), report.categories),
        (_("Hot cells"), report.cells),
        (_("Grids"), report.grids),
        (_("New hot spots"), report.new_hot_spots),
    ]
    rows = [
        [str(title), rank, row.label, row.h3_cell, row.grid_name, row.current, row.previous, row.change_pct,
         _("yes") if row.h3_cell and row.is_new else ""]
        for title, items in sections
        for rank, row in enumerate(items, 1)
    ]
    return xlsx_response(f"hot-topics-{report.month:%Y-%m}.xlsx", _("Hot topics"), headers, rows)


@login_required
@require_POST
def open_case(request):
    """Open a proactive case for a hot topic; the derived idempotency key makes a double
    click (or two people clicking) one case."""
    try:
        case, created = services.open_proactive_case(
            request.user, month=request.POST.get("month"), category=request.POST.get("category"),
            h3_cell=request.POST.get("h3_cell"),
        )
    except DomainError as error:
        messages.error(request, _error_text(error))
        return redirect(_back(request))
    if created:
        messages.success(request, _("Proactive case %(number)s was opened.") % {"number": case.number})
    else:
        messages.info(request, _("This hot topic already has proactive case %(number)s.") % {"number": case.number})
    return redirect(case_url_template().replace("__pk__", str(case.pk)))


def _back(request):
    referer = request.POST.get("next", "")
    return referer if referer.startswith("/proactive/") else reverse("proactive:hot_topics")


def _error_text(error):
    details = [str(message) for messages_ in error.fields.values() for message in messages_]
    return " ".join([str(error.message), *details]) if details else str(error.message)


# -- projects ---------------------------------------------------------------------------------
def _projects(request):
    """The projects the user may see, searched (q), filtered (status) and ordered (sort) as on the page."""
    projects = Project.objects.restrict(request.user, "view").select_related("owner_department", "category")
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if query:
        projects = projects.filter(Q(title__icontains=query) | Q(topic__icontains=query))
    if status in ProjectStatus.values:
        projects = projects.filter(status=status)
    sort = request.GET.get("sort") if request.GET.get("sort") in PROJECT_SORTS else "-created"
    return projects.order_by(*PROJECT_SORTS[sort]), query, status, sort


@login_required
@require_GET
def project_list(request):
    projects, query, status, sort = _projects(request)
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    export_query, sort_query = query_without(request, "page"), query_without(request, "page", "sort")
    context = {
        "page": page, "query": query, "status": status, "sort": sort, "statuses": ProjectStatus.choices,
        "export_query": export_query, "sort_query": sort_query, "filtered": bool(query or status),
        "can_plan": allowed(request.user, "proactive_project.create"),
    }
    return render(request, "proactive/project_list.html", context)


@login_required
@require_GET
def export_projects(request):
    """The projects of the current search, filter and order as .xlsx (the page's restricted queryset)."""
    projects, _query, _status, _sort = _projects(request)
    projects = projects.annotate(linked=Count("cases", distinct=True))
    headers = [_("Title"), _("Month"), _("Sub-category"), _("Owner department"), _("Status"), _("Linked cases"), _("Topic")]
    rows = (
        [
            project.title, f"{project.month:%Y-%m}", project.category.name if project.category_id else "",
            project.owner_department.name, str(project.get_status_display()), project.linked, project.topic,
        ]
        for project in projects[:PROJECT_EXPORT_MAX_ROWS]
    )
    return xlsx_response(f"proactive-projects-{timezone.localdate():%Y%m%d}.xlsx", _("Proactive projects"), headers, rows)


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    if not allowed(request.user, "proactive_project.create"):
        return HttpResponseForbidden(_("Your role may not start projects."))
    grids = Region.objects.restrict(request.user, "view").filter(level=Level.GRID).order_by("code")
    errors = {}
    values = request.POST if request.method == "POST" else _project_defaults(request)
    if request.method == "POST":
        try:
            project, _created = services.create_project(
                request.user, title=values.get("title"), topic=values.get("topic", ""), month=values.get("month"),
                owner_department=values.get("owner_department"), category=values.get("category") or None,
                cells=values.get("cells", "").split(), grids=values.getlist("grids"),
                idempotency_key=values.get("idempotency_key"),
            )
        except DomainError as error:
            errors = {name: [str(m) for m in msgs] for name, msgs in error.fields.items()}
            messages.error(request, error.message)
        else:
            messages.success(request, _("The project was created."))
            return redirect("proactive:project", pk=project.pk)
    context = {
        "values": values, "errors": errors, "grids": grids,
        "selected_grids": values.getlist("grids") if request.method == "POST" else values["grids"],
        "departments": Department.objects.filter(is_active=True).order_by("name"),
        "categories": Category.objects.filter(parent__isnull=False, is_active=True).order_by("code"),
    }
    return render(request, "proactive/project_new.html", context, status=400 if errors else 200)


def _project_defaults(request):
    """The form prefilled from the hot topic the user clicked."""
    category_id = request.GET.get("category", "")
    category = Category.objects.filter(pk=category_id).first() if category_id.isdigit() else None
    month = request.GET.get("month", "")
    title = _("%(category)s: root-cause project %(month)s") % {"category": category.name, "month": month} if category else ""
    return {
        "title": title, "topic": "", "month": month, "category": str(category.pk) if category else "",
        "cells": request.GET.get("cell", ""), "grids": [request.GET["grid"]] if request.GET.get("grid", "").isdigit() else [],
        "owner_department": str(category.default_department_id or "") if category else "",
        "idempotency_key": uuid.uuid4().hex,
    }


@login_required
@require_GET
def project_detail(request, pk):
    project = get_object_or_404(
        Project.objects.restrict(request.user, "view").select_related("owner_department", "category", "created_by"), pk=pk
    )
    cases = project.cases.order_by("-created_at").select_related("category")
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    can_change = allowed(request.user, "proactive_project.change")
    context = {
        "project": project,
        "page": page,
        "events": project.events.select_related("actor"),
        "next_statuses": [(value, ProjectStatus(value).label) for value in PROJECT_TRANSITIONS[project.status]] if can_change else [],
    }
    return render(request, "proactive/project_detail.html", context)


@login_required
@require_POST
def project_status(request, pk):
    project = get_object_or_404(Project.objects.restrict(request.user, "view"), pk=pk)
    try:
        services.change_project_status(project, request.user, status=request.POST.get("status"), note=request.POST.get("note", ""))
    except DomainError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("The project status was changed."))
    return redirect("proactive:project", pk=project.pk)
