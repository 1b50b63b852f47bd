"""Pages of the metrics app: the leaders' figures (tables, ranking, ECharts), the drill-down
to the cases behind any number, and the Excel export. Everything is restricted to the
viewer's scope."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, pgettext_lazy
from django.views.decorators.http import require_GET

from gridgov.cases.models import Case
from gridgov.core.errors import ValidationFailed
from gridgov.org.permissions import allowed

from . import services
from .periods import period_from_params
from gridgov.core.listing import query_without
from gridgov.core.xlsx import excel_time, xlsx_response

RATE_LABELS = {
    "response_rate": gettext_lazy("Response rate"),  # 响应率
    "resolution_rate": gettext_lazy("Resolution rate"),  # 解决率
    "satisfaction_rate": gettext_lazy("Satisfaction rate"),  # 满意率
    "on_time_rate": gettext_lazy("On-time closure rate"),  # 按期结案率
    "rework_rate": gettext_lazy("Rework rate"),  # 返工率
    "extension_rate": gettext_lazy("Extension rate"),  # 延期率
}
PART_LABELS = {
    "cases": pgettext_lazy("case count", "Cases"),
    "dispatched": pgettext_lazy("case count", "Dispatched"),
    "responded": gettext_lazy("Responded in time"),
    "resolved": gettext_lazy("Resolved"),
    "rated": pgettext_lazy("case count", "Rated"),
    "satisfied": gettext_lazy("Satisfied"),
    "basically_satisfied": gettext_lazy("Basically satisfied"),
    "unsatisfied": gettext_lazy("Unsatisfied"),
    "closed": pgettext_lazy("case count", "Closed"),
    "closed_on_time": gettext_lazy("Closed on time"),
    "reworked": gettext_lazy("Reworked"),
    "extended": gettext_lazy("Extended"),
}
PERIOD_KINDS = [("month", gettext_lazy("Month")), ("quarter", gettext_lazy("Quarter")), ("range", gettext_lazy("Custom range"))]
SORTABLE = ["score", "cases", *RATE_LABELS]


def _request_period(request):
    """(level, start, end, error): bad input falls back to this month with the message."""
    try:
        level = services.check_level(request.GET.get("level") or "department")
        start, end = period_from_params(request.GET)
        return level, start, end, None
    except ValidationFailed as error:
        start, end = period_from_params({})
        return "department", start, end, error.message


def _drill_url(level, key, part, start, end):
    query = {"level": level, "part": part, "start": start.isoformat(), "end": end.isoformat()}
    if key is not None:
        query["key"] = key
    return f"{reverse('metrics:cases')}?{urlencode(query)}"


def _decorate(row, start, end):
    """Cells of one table row: each number links to the cases behind it."""
    level = row["level"]
    rates = []
    for name, (numerator, denominator) in services.RATES.items():
        rates.append({
            "name": name,
            "label": RATE_LABELS[name],
            "value": row[name],
            "numerator": _whole(row[numerator]),
            "denominator": row[denominator],
            "url": _drill_url(level, row["key"], numerator, start, end),
            "base_url": _drill_url(level, row["key"], denominator, start, end),
        })
    row["rates"] = rates
    row["cases_url"] = _drill_url(level, row["key"], "cases", start, end)
    return row


def require_page(user, action):
    """Pages answer 403 (Django's PermissionDenied) where services raise Forbidden."""
    if not allowed(user, action):
        raise PermissionDenied(action)


def _whole(number):
    """1.0 → 1 (the weighted 满意 count is a float), 1.5 stays."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


@login_required
@require_GET
def overview(request):
    require_page(request.user, "metrics.view")
    level, start, end, error = _request_period(request)
    config = services.get_config()
    rows = services.compute(level, start, end, request.user, config=config)
    sort = request.GET.get("sort") if request.GET.get("sort") in SORTABLE else "score"
    if sort != "score":
        rows.sort(key=lambda row: (row[sort] is None, -(row[sort] or 0)))
    total = _decorate(services.total(start, end, request.user, config=config), start, end)
    total["level"] = "all"
    trend = services.monthly_trend(12, end, request.user, config=config)
    context = {
        "level": level,
        "levels": [(key, services.LEVEL_LABELS[key]) for key in services.LEVELS],
        "period": request.GET.get("period") or "month",
        "period_kinds": PERIOD_KINDS,
        "month": request.GET.get("month") or f"{start:%Y-%m}",
        "quarter": request.GET.get("quarter") or f"{start.year}-Q{(start.month - 1) // 3 + 1}",
        "start": start,
        "end": end,
        "error": error,
        "config": config,
        "rows": [_decorate(row, start, end) for row in rows],
        "total": total,
        "rate_labels": RATE_LABELS,
        "sort": sort,
        "query": query_without(request, "sort"),
        "export_query": request.GET.urlencode(),
        "chart": _chart_data(rows, trend),
        "check_ins": services.check_ins(start, end, request.user),
    }
    return render(request, "metrics/overview.html", context)


def _chart_data(rows, trend):
    ranked = sorted((row for row in rows if row["score"] is not None), key=lambda row: -row["score"])[:20]
    return {
        "ranking": {"names": [str(row["name"]) for row in ranked], "scores": [row["score"] for row in ranked]},
        "trend": {
            "months": [point["month"] for point in trend],
            "series": [
                {"name": str(RATE_LABELS[name]), "data": [point[name] for point in trend]}
                for name in ("response_rate", "resolution_rate", "satisfaction_rate")
            ] + [{"name": _("Composite score"), "data": [point["score"] for point in trend]}],
        },
        "labels": {"score": _("Composite score")},
    }


@login_required
@require_GET
def export_xlsx(request):
    require_page(request.user, "metrics.view")
    level, start, end, _error = _request_period(request)
    config = services.get_config()
    rows = services.compute(level, start, end, request.user, config=config)
    headers = [_("Rank"), services.LEVEL_LABELS[level], *[PART_LABELS[part] for part in services.COUNTS],
               *RATE_LABELS.values(), _("Composite score")]
    lines = [
        [row["rank"], str(row["name"]), *[row[part] for part in services.COUNTS], *[row[name] for name in RATE_LABELS], row["score"]]
        for row in rows
    ]
    total = services.total(start, end, request.user, config=config)
    lines.append(["", _("All"), *[total[part] for part in services.COUNTS], *[total[name] for name in RATE_LABELS], total["score"]])
    return xlsx_response(f"metrics-{level}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx", _("Metrics"), headers, lines)


DRILL_SORTS = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "number": ("number",),
    "-number": ("-number",),
    "category": ("category__code", "-created_at", "-id"),
    "grid": ("grid__code", "-created_at", "-id"),
    "department": ("department__code", "-created_at", "-id"),
    "status": ("status", "-created_at", "-id"),
}
DRILL_SEARCH_MAX = 50
DRILL_EXPORT_MAX_ROWS = 50_000


def _drill(request):
    """The cases behind one figure (visible cases only), searched (q) and ordered (sort) as the page shows them."""
    require_page(request.user, "metrics.view")
    params = request.GET
    try:
        start, end = services.check_range(dt.date.fromisoformat(params.get("start", "")), dt.date.fromisoformat(params.get("end", "")))
    except ValueError:
        start, end = period_from_params({})
    level = params.get("level") or "all"
    key = params.get("key")
    key = int(key) if key and key.isdigit() else None
    part = params.get("part") or "cases"
    try:
        ids = services.drill_down(level, key, part, start, end, request.user)
    except ValidationFailed:
        ids = services.drill_down("all", None, "cases", start, end, request.user)
        level, key, part = "all", None, "cases"
    cases = Case.objects.restrict(request.user).filter(pk__in=ids).select_related("category", "grid", "department")
    query = params.get("q", "").strip()[:DRILL_SEARCH_MAX]
    if query:
        cases = cases.filter(Q(number__startswith=query) | Q(description__icontains=query) | Q(address__icontains=query))
    sort = params.get("sort") if params.get("sort") in DRILL_SORTS else "-created"
    figure = {"level": level, "key": key, "part": part, "start": start, "end": end, "q": query, "sort": sort}
    return cases.order_by(*DRILL_SORTS[sort]), figure


@login_required
@require_GET
def drill_down(request):
    """The cases behind one figure (visible cases only)."""
    cases, figure = _drill(request)
    level, key, part, start, end = (figure[name] for name in ("level", "key", "part", "start", "end"))
    page = Paginator(cases, 20).get_page(request.GET.get("page"))
    export_query, sort_query = query_without(request, "page"), query_without(request, "page", "sort")
    figure_params = request.GET.copy()  # the figure itself: level, key, part, start, end
    for name in ("page", "sort", "q"):
        figure_params.pop(name, None)
    context = {
        "page": page,
        "part_label": PART_LABELS.get(part, part),
        "level_label": services.LEVEL_LABELS.get(level, _("All")),
        "unit_name": services.unit_names(level, [key]).get(key, "") if level != "all" else _("All"),
        "start": start,
        "end": end,
        "q": figure["q"],
        "sort": figure["sort"],
        "query": export_query,
        "sort_query": sort_query,
        "figure_params": [(name, value) for name, values in figure_params.lists() for value in values],
        "export_query": export_query,
        "back": f"{reverse('metrics:overview')}?{urlencode({'level': level if level != 'all' else 'department', 'period': 'range', 'start': start.isoformat(), 'end': end.isoformat()})}",
        "now": timezone.now(),
    }
    return render(request, "metrics/cases.html", context)


DRILL_EXPORT_HEADERS = [
    gettext_noop("Number"), pgettext_lazy("case table", "Registered"), gettext_noop("Category"), gettext_noop("Description"),
    gettext_noop("Grid"), gettext_noop("Department"), gettext_noop("Status"),
]


@login_required
@require_GET
def export_drill_down(request):
    """The cases behind one figure as .xlsx: the page's restricted, searched and ordered list."""
    cases, figure = _drill(request)
    rows = (
        [
            case.number, excel_time(case.created_at), case.category.name if case.category_id else "", case.description,
            case.grid.name if case.grid_id else "", case.department.name if case.department_id else "",
            str(case.get_status_display()),
        ]
        for case in cases[:DRILL_EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    filename = f"metrics-cases-{figure['part']}-{figure['start']:%Y%m%d}-{figure['end']:%Y%m%d}.xlsx"
    return xlsx_response(filename, _("Cases behind a figure"), DRILL_EXPORT_HEADERS, rows)
