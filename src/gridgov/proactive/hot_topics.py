"""The monthly hot-topics report (每月一题): recurring problems by 小类 and place.

The period is the `months` calendar months ending with `month`; the previous period is the
same number of months before it. Every figure comes from a set-based query over the cases
in both periods (one GROUP BY per dimension with conditional counts), so the database does
the counting and Python only sees the top rows.
"""

import hashlib
from dataclasses import dataclass, field

import h3
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.assessment.months import add_months, month_start, next_month, parse_month
from gridgov.cases.models import Channel
from gridgov.catalog.models import Category
from gridgov.core.errors import ValidationFailed
from gridgov.geo.models import Region

DEFAULT_MONTHS = 3
DEFAULT_TOP = 10
MAX_MONTHS = 12
MAX_TOP = 100
# A cell is a hot spot with at least this many cases in the period; a new hot spot had
# fewer than this in the previous period.
HOT_SPOT_MIN_CASES = 3
TREND_SERIES = 5


@dataclass
class Row:
    key: tuple
    label: str
    current: int
    previous: int
    category_id: int | None = None
    h3_cell: str = ""
    grid_id: int | None = None
    grid_name: str = ""

    @property
    def change(self):
        return self.current - self.previous

    @property
    def change_pct(self):
        """Change against the previous period in percent; None when it had no case."""
        if not self.previous:
            return None
        return round(100.0 * (self.current - self.previous) / self.previous, 1)

    @property
    def is_new(self):
        return self.current >= HOT_SPOT_MIN_CASES and self.previous < HOT_SPOT_MIN_CASES


@dataclass
class Report:
    month: object
    months: int
    start: object
    end: object
    previous_start: object
    total_current: int = 0
    total_previous: int = 0
    topics: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    cells: list = field(default_factory=list)
    grids: list = field(default_factory=list)
    new_hot_spots: list = field(default_factory=list)
    trend: dict = field(default_factory=dict)
    computed_at: object = None

    @property
    def change_pct(self):
        if not self.total_previous:
            return None
        return round(100.0 * (self.total_current - self.total_previous) / self.total_previous, 1)


def bounded(value, default, upper, name):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if not 1 <= number <= upper:
        raise ValidationFailed.field(
            name, _("Enter a whole number from 1 to %(upper)d.") % {"upper": upper}, code="out_of_range"
        )
    return number


def build_report(cases, month, *, months=DEFAULT_MONTHS, top=DEFAULT_TOP):
    """The report over `cases` (a queryset already restricted to the viewer's scope).

    Two GROUP BY queries over the window: per 小类 with one count per month (totals,
    categories, trend), and per (小类, cell, grid) with the counts of both periods, which
    Python rolls up into the cell, grid and topic rankings (it sees groups, never cases).
    """
    month = parse_month(month)
    months = bounded(months, DEFAULT_MONTHS, MAX_MONTHS, "months")
    top = bounded(top, DEFAULT_TOP, MAX_TOP, "top")
    first = add_months(month, -(months - 1))
    report = Report(
        month=month, months=months, start=month_start(first), end=month_start(next_month(month)),
        previous_start=month_start(add_months(first, -months)),
    )
    # The cases opened in response (主动发现) are the answer to a hot topic, not demand.
    window = (
        cases.filter(created_at__gte=report.previous_start, created_at__lt=report.end)
        .exclude(channel=Channel.PROACTIVE)
        .order_by()
    )
    month_keys = [add_months(first, offset - months) for offset in range(2 * months)]
    per_category = _monthly_counts(window, month_keys)
    _categories_and_totals(report, per_category, top)
    _places(report, _place_counts(window, report.start), top)
    _label(report)
    report.trend = _trend(report, per_category, month_keys)
    return report


def _monthly_counts(window, month_keys):
    """{category_id (None too): [cases per month]}: one GROUP BY with a count per month."""
    counts = {
        f"m{index}": Count("id", filter=Q(created_at__gte=month_start(key), created_at__lt=month_start(next_month(key))))
        for index, key in enumerate(month_keys)
    }
    rows = window.values("category_id").annotate(**counts)
    return {row["category_id"]: [row[f"m{index}"] for index in range(len(month_keys))] for row in rows}


def _categories_and_totals(report, per_category, top):
    half = report.months
    report.total_previous = sum(sum(counts[:half]) for counts in per_category.values())
    report.total_current = sum(sum(counts[half:]) for counts in per_category.values())
    rows = [
        Row(key=(pk,), label="", current=sum(counts[half:]), previous=sum(counts[:half]), category_id=pk)
        for pk, counts in per_category.items()
        if pk is not None
    ]
    report.categories = _top(rows, top)


def _place_counts(window, current_start):
    """(category_id, h3_cell, grid_id, current, previous) per group: one GROUP BY."""
    in_current = Q(created_at__gte=current_start)
    return (
        window.values("category_id", "h3_cell", "grid_id")
        .annotate(current=Count("id", filter=in_current), previous=Count("id", filter=~in_current))
        .values_list("category_id", "h3_cell", "grid_id", "current", "previous")
    )


def _places(report, groups, top):
    """Roll the (小类, cell, grid) groups up into cells, grids and topics."""
    cells, grids, topics = {}, {}, {}
    for category_id, cell, grid_id, current, previous in groups:
        if grid_id is not None:
            _add(grids, (grid_id,), current, previous, grid_id=grid_id)
        if cell:
            _add(cells, (cell,), current, previous, h3_cell=cell, grid_id=grid_id)
            if category_id is not None:
                _add(topics, (category_id, cell), current, previous, category_id=category_id, h3_cell=cell, grid_id=grid_id)
    report.cells = _top(cells.values(), top)
    report.grids = _top(grids.values(), top)
    report.topics = _top(topics.values(), top)
    fresh = [row for row in cells.values() if row.is_new]
    report.new_hot_spots = sorted(fresh, key=lambda row: (-row.current, row.key))[:top]


def _add(groups, key, current, previous, **fields):
    row = groups.get(key)
    if row is None:
        groups[key] = Row(key=key, label="", current=current, previous=previous, **fields)
        return
    row.current += current
    row.previous += previous
    # A cell on a grid edge may hold cases of two grids: it is shown with the lowest grid id.
    if fields.get("grid_id") is not None and (row.grid_id is None or fields["grid_id"] < row.grid_id):
        row.grid_id = fields["grid_id"]


def _top(rows, top):
    """The `top` rows by current count (ties: larger previous first, then key)."""
    ranked = sorted((row for row in rows if row.current > 0), key=lambda row: (-row.current, -row.previous, row.key))
    return ranked[:top]


def _label(report):
    """Names of the categories and grids in the report, one query each."""
    rows = report.categories + report.cells + report.grids + report.topics + report.new_hot_spots
    category_names = dict(
        Category.objects.filter(pk__in={row.category_id for row in rows if row.category_id}).values_list("pk", "name")
    )
    grid_names = dict(Region.objects.filter(pk__in={row.grid_id for row in rows if row.grid_id}).values_list("pk", "name"))
    for row in rows:
        row.grid_name = grid_names.get(row.grid_id, "")
        category = category_names.get(row.category_id, "")
        row.label = " · ".join(part for part in (category, row.grid_name) if part) or row.h3_cell


def _trend(report, per_category, month_keys):
    """Cases per month over both periods: the total and the top categories."""
    total = [sum(column) for column in zip(*per_category.values())] or [0] * len(month_keys)
    return {
        "months": [f"{key:%Y-%m}" for key in month_keys],
        "total": total,
        "series": [
            {"name": row.label, "data": per_category[row.category_id]} for row in report.categories[:TREND_SERIES]
        ],
    }


def cell_feature(row):
    """A GeoJSON polygon of an H3 cell with its counts (for the map)."""
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(row.h3_cell)]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]},
        "properties": {
            "cell": row.h3_cell, "current": row.current, "previous": row.previous,
            "change_pct": row.change_pct, "new": row.is_new, "grid": row.grid_name,
        },
    }


def report_for(user, month, *, months=DEFAULT_MONTHS, top=DEFAULT_TOP, query=""):
    """The report over the cases `user` may see (optionally only 小类 matching `query`),
    shared for `GRIDGOV_HOT_TOPICS_CACHE_SECONDS` (300) by everyone with the same scope.

    A month's report changes only when cases are added, reclassified or placed, and it is
    read for monthly planning: five minutes of staleness buys a page that does not rescan
    a million cases on every view (bench/hot_topics.py).
    """
    from gridgov.cases.models import Case

    month = parse_month(month)
    months = bounded(months, DEFAULT_MONTHS, MAX_MONTHS, "months")
    top = bounded(top, DEFAULT_TOP, MAX_TOP, "top")
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    key = f"proactive:hot:{user.scope_code}:{user.department_id}:{sorted(user.roles)}:{month:%Y-%m}:{months}:{top}:{digest}"
    report = cache.get(key)
    if report is None:
        cases = Case.objects.restrict(user, "view")
        if query:
            cases = cases.filter(Q(category__name__icontains=query) | Q(category__parent__name__icontains=query))
        report = build_report(cases, month, months=months, top=top)
        report.computed_at = timezone.now()
        cache.set(key, report, getattr(settings, "GRIDGOV_HOT_TOPICS_CACHE_SECONDS", 300))
    return report
