"""The case list: the API's filters as a form, sortable columns, a capped count, saved
filters per user and export of the current filter to .xlsx.

Built for large tables: the page never counts more than COUNT_CAP rows, the page itself
is fetched with LIMIT page_size + 1 (that tells whether a next page exists), and the
default order (-created_at, -id) follows the created_at index.
"""

from urllib.parse import urlencode

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_GET, require_POST

from gridgov.catalog.models import Category, CategoryKind, Priority
from gridgov.core.listing import query_without
from gridgov.core.masking import mask_name, mask_phone
from gridgov.core.xlsx import excel_time, xlsx_response
from gridgov.geo.models import Level, Region
from gridgov.org.models import Department
from gridgov.web.models import SavedFilter

from .clocks import clock_state
from .filters import CaseFilterSet, search_days, search_help
from .list_widgets import FastCheckboxes, FastSelect, FastYesNo
from .links import case_url_template
from .models import Case, ClockState, Status

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50
# Counting a filtered set of millions of rows is the slow part of a list; past this we say "10000+".
COUNT_CAP = 10_000
EXPORT_CHUNK = 2_000
EXPORT_MAX_ROWS = 200_000
# Parameters that describe the view of a list rather than the filter itself.
NON_FILTER_PARAMS = {"page", "page_size", "csrfmiddlewaretoken"}

# sort key -> ORDER BY; ties broken by -id so paging is stable.
SORTS = {
    "number": ("number",),
    "created_at": ("created_at", "id"),
    "status": ("status", "-created_at", "-id"),
    "category": ("category__code", "-created_at", "-id"),
    "priority": ("priority", "-created_at", "-id"),
    "region": ("region_code", "-created_at", "-id"),
    "due_at": ("due_at", "id"),
}
DEFAULT_SORT = "-created_at"


def _descending(fields):
    return tuple(field[1:] if field.startswith("-") else f"-{field}" for field in fields)


def order_for(sort):
    """The ORDER BY of a `sort` parameter ("due_at", "-created_at"); unknown → default."""
    key = sort.lstrip("-")
    if key not in SORTS:
        return order_for(DEFAULT_SORT)
    fields = SORTS[key]
    return _descending(fields) if sort.startswith("-") else fields


def _valid_sort(sort):
    return sort if sort.lstrip("-") in SORTS else DEFAULT_SORT


class CaseListFilterSet(CaseFilterSet):
    """The API's CaseFilterSet with widgets for a page: drop-downs of checkboxes for multiple
    choices, date pickers, and region/grid choices limited to the user's own area."""

    region = django_filters.ChoiceFilter(
        label=gettext_lazy("Region"), field_name="region_code", lookup_expr="startswith", choices=()
    )
    # Plain choices from values_list(): the ModelChoiceFilters of the API build a model
    # instance per option, which cost more than the rest of the page.
    category = django_filters.ChoiceFilter(label=gettext_lazy("Sub-category"), field_name="category_id", choices=())
    grid = django_filters.ChoiceFilter(label=gettext_lazy("Grid"), field_name="grid_id", choices=())
    department = django_filters.ChoiceFilter(label=gettext_lazy("Department"), field_name="department_id", choices=())

    PRIMARY = ("q", "status", "clock_state", "major_category", "category", "region", "created_after", "created_before")
    SELECTS = ("clock_state", "major_category", "category", "region", "kind", "grid", "department")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        areas = Region.objects.restrict(user, "view")
        self.filters["region"].extra["choices"] = _region_choices(areas)
        self.filters["grid"].extra["choices"] = list(areas.grids().order_by("code").values_list("id", "name"))
        self.filters["category"].extra["choices"] = _category_choices()
        self.filters["department"].extra["choices"] = list(
            Department.objects.order_by("code").values_list("id", "name")
        )
        for name in self.SELECTS:
            self.filters[name].extra.update(widget=FastSelect, empty_label=gettext_lazy("All"))
        for name in ("status", "channel", "priority"):
            self.filters[name].extra["widget"] = FastCheckboxes
        for name in ("supervised", "needs_placement"):
            self.filters[name].extra["widget"] = FastYesNo
        for name in ("created_after", "created_before"):
            self.filters[name].extra["widget"] = forms.DateInput(attrs={"type": "date"})
        self.filters["q"].extra["widget"] = forms.TextInput(attrs={
            "placeholder": _("Number, phone, or words (last %(days)s days)") % {"days": search_days()},
            "title": search_help(),
        })

    def primary_fields(self):
        return [_shown(self.form[name]) for name in self.PRIMARY]

    def more_fields(self):
        return [_shown(field) for field in self.form if field.name not in self.PRIMARY]


def _shown(bound_field):
    """A form field as the template shows it: drop-downs of checkboxes list their choices."""
    widget = bound_field.field.widget
    multiple = isinstance(widget, FastCheckboxes)
    summary = " ".join(widget.selected_labels(bound_field.value())) or _("All") if multiple else ""
    return {"field": bound_field, "multiple": multiple, "summary": summary, "name": bound_field.name}


def _category_choices():
    """小类 grouped under their 大类 (事件/部件/治理 share 大类 names, so the kind is shown)."""
    rows = (
        Category.objects.filter(parent__isnull=False)
        .order_by("kind", "parent__code", "code")
        .values_list("id", "code", "name", "parent__code", "parent__name", "kind")
    )
    kinds = dict(CategoryKind.choices)
    groups = {}
    for pk, code, name, parent_code, parent_name, kind in rows:
        group = f"{parent_code} {parent_name}（{kinds.get(kind, kind)}）"
        groups.setdefault(group, []).append((pk, f"{code} {name}"))
    return list(groups.items())


def _region_choices(areas):
    """Districts, subdistricts and communities of the user's area, indented by level."""
    rows = areas.exclude(level=Level.GRID).order_by("code").values_list("code", "name", "level")
    indent = {Level.DISTRICT: "", Level.SUBDISTRICT: "\u3000", Level.COMMUNITY: "\u3000\u3000"}
    return [(code, f"{indent.get(level, '')}{name}") for code, name, level in rows]


def filtered_cases(request, data=None):
    """(filterset, queryset) of the cases this user may see, filtered by `data` (GET)."""
    data = request.GET if data is None else data
    scoped = Case.objects.restrict(request.user, "view")
    filterset = CaseListFilterSet(data, queryset=scoped, request=request, user=request.user)
    queryset = filterset.qs if filterset.is_valid() else scoped.none()
    return filterset, queryset


def capped_count(queryset, cap=COUNT_CAP):
    """min(count, cap + 1): COUNT over a LIMITed subquery stops after cap + 1 rows."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def _page_size(request):
    try:
        size = int(request.GET.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def _page_number(request):
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1


def filter_query(params):
    """The filter part of a query string (no paging), as saved in SavedFilter.query."""
    clean = QueryDict(mutable=True)
    for key in sorted(params):
        if key in NON_FILTER_PARAMS:
            continue
        values = [value for value in params.getlist(key) if value != ""]
        if values:
            clean.setlist(key, values)
    return clean.urlencode()


@login_required
@require_GET
def case_list(request):
    filterset, queryset = filtered_cases(request)
    sort = _valid_sort(request.GET.get("sort", DEFAULT_SORT))
    page_size, page = _page_size(request), _page_number(request)
    offset = (page - 1) * page_size
    rows = list(list_columns(queryset).order_by(*order_for(sort))[offset : offset + page_size + 1])
    has_next = len(rows) > page_size
    rows = rows[:page_size]
    decorate(rows, timezone.now())
    total = capped_count(queryset) if rows or page == 1 else 0
    context = {
        "filterset": filterset,
        "more_active": any(request.GET.get(shown["name"]) for shown in filterset.more_fields()),
        "cases": rows,
        "sort": sort,
        "page": page,
        "page_size": page_size,
        "page_sizes": PAGE_SIZES,
        "has_next": has_next,
        "has_previous": page > 1,
        "first_row": offset + 1,
        "last_row": offset + len(rows),
        "total": min(total, COUNT_CAP),
        "total_capped": total > COUNT_CAP,
        "columns": _columns(request, sort),
        "query_without_page": query_without(request, "page"),
        "query_without_sort": query_without(request, "page", "sort"),
        "filter_query": filter_query(request.GET),
        "saved_filters": SavedFilter.objects.filter(user=request.user),
        "export_url": reverse("cases:export") + "?" + query_without(request, "page", "page_size"),
        "export_max_rows": EXPORT_MAX_ROWS,
    }
    return render(request, "cases/list.html", context)


def with_related(queryset):
    """The joins a row shows; the grid's boundary and bbox (large JSON) are not loaded."""
    return queryset.select_related("category", "category__parent", "department", "grid").defer(
        "grid__boundary", "grid__bbox"
    )


LIST_FIELDS = (
    "id", "number", "status", "priority", "description", "created_at", "due_at", "warn_at", "supervised",
    "region_code", "category__name", "grid__name", "department__name",
)


def list_columns(queryset):
    """Only the columns the table shows (a case row has a dozen dates and long texts)."""
    return queryset.select_related("category", "grid", "department").only(*LIST_FIELDS)


def decorate(rows, now):
    """Display values computed once per row in Python: cheaper than template filters and
    tags, which dominated the page's time at 50-100 rows."""
    clock_labels = {**{state.value: str(state.label) for state in ClockState}, "none": _("No clock")}
    status_labels = {value: str(label) for value, label in Status.choices}
    priority_labels = {value: str(label) for value, label in Priority.choices}
    url_template = case_url_template()
    for case in rows:
        case.clock = clock_state(case, now) or "none"
        case.clock_label = clock_labels[case.clock]
        case.status_label = status_labels.get(case.status, case.status)
        case.priority_label = priority_labels.get(case.priority, case.priority)
        case.url = url_template.replace("__pk__", str(case.pk))
        case.reported_display = _local_text(case.created_at, "%Y-%m-%d %H:%M")
        case.due_display = _local_text(case.due_at, "%m-%d %H:%M")


def _local_text(moment, pattern):
    return timezone.localtime(moment).strftime(pattern) if moment else ""


def _columns(request, sort):
    """Header cells: label, link that sorts by the column (toggling direction), aria-sort."""
    base = query_without(request, "page", "sort")
    headers = [
        ("number", _("Number")),
        ("created_at", _("Reported")),
        ("category", _("Category")),
        (None, _("Description")),
        ("region", _("Grid")),
        ("status", _("Status")),
        ("priority", _("Priority")),
        ("due_at", _("Deadline")),
        (None, _("Department")),
    ]
    columns = []
    for key, label in headers:
        if key is None:
            columns.append({"label": label, "url": None, "aria_sort": None})
            continue
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        next_sort = key if current and descending else f"-{key}" if current else key
        aria = ("descending" if descending else "ascending") if current else None
        query = urlencode({"sort": next_sort}) + ("&" + base if base else "")
        columns.append({"label": label, "url": "?" + query, "aria_sort": aria})
    return columns


# --- saved filters ----------------------------------------------------------------------
@login_required
@require_POST
def save_filter(request):
    name = request.POST.get("name", "").strip()[:50]
    query = filter_query(QueryDict(request.POST.get("query", "")))[:1000]
    if not name:
        messages.error(request, _("Give the filter a name."))
    else:
        try:
            SavedFilter.objects.update_or_create(user=request.user, name=name, defaults={"query": query})
        except IntegrityError:  # a concurrent save of the same name won; keep theirs
            pass
        messages.success(request, _("Filter “%(name)s” saved.") % {"name": name})
    return redirect(reverse("cases:list") + ("?" + query if query else ""))


@login_required
@require_POST
def delete_filter(request, pk):
    saved = get_object_or_404(SavedFilter, pk=pk, user=request.user)
    saved.delete()
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    return redirect("cases:list")


# --- export -----------------------------------------------------------------------------
EXPORT_HEADERS = [
    gettext_noop("Number"),
    gettext_noop("Reported"),
    gettext_noop("Channel"),
    gettext_noop("Major class"),
    gettext_noop("Category"),
    gettext_noop("Description"),
    gettext_noop("Address"),
    gettext_noop("Grid"),
    gettext_noop("Region code"),
    gettext_noop("Status"),
    gettext_noop("Priority"),
    gettext_noop("Deadline"),
    gettext_noop("Clock state"),
    gettext_noop("Department"),
    gettext_noop("Reporter"),
    gettext_noop("Reporter phone"),
    gettext_noop("Closed"),
]


@login_required
@require_GET
def export_xlsx(request):
    """The current filter (in the user's scope) as .xlsx; reporters masked.

    openpyxl's write-only mode streams rows to a temporary file, the rows come from the
    database in chunks, and the file is sent in blocks: memory stays flat for large exports.
    """
    filterset, queryset = filtered_cases(request)
    sort = _valid_sort(request.GET.get("sort", DEFAULT_SORT))
    queryset = with_related(queryset).order_by(*order_for(sort))
    now = timezone.now()
    rows = (_export_row(case, now) for case in queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=EXPORT_CHUNK))
    return xlsx_response(f"cases-{timezone.localtime(now):%Y%m%d-%H%M}.xlsx", _("Cases"), EXPORT_HEADERS, rows)


def _export_row(case, now):
    category = case.category
    state = clock_state(case, now)
    return [
        case.number,
        excel_time(case.created_at),
        case.get_channel_display(),
        category.parent.name if category and category.parent_id else "",
        category.name if category else "",
        case.description,
        case.address,
        case.grid.name if case.grid_id else "",
        case.region_code,
        case.get_status_display(),
        case.get_priority_display(),
        excel_time(case.due_at),
        str(ClockState(state).label) if state else "",
        case.department.name if case.department_id else "",
        mask_name(case.reporter_name),
        mask_phone(case.reporter_phone),
        excel_time(case.closed_at),
    ]
