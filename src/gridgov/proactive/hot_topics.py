"""The monthly hot-topics report (每月一题): recurring problems by 小类 and place.

The period is the `months` calendar months ending with `month`; the previous period is the
same number of months before it. Every figure comes from a set-based query over the cases
in both periods (one GROUP BY per dimension with conditional counts), so the database does
the counting and Python only sees the top rows.
"""

from dataclasses import dataclass, field

import h3
from django.db.models import Count, Min, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.assessment.months import add_months, month_start, next_month, parse_month
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
    """The report over `cases` (a queryset already restricted to the viewer's scope)."""
    month = parse_month(month)
    months = bounded(months, DEFAULT_MONTHS, MAX_MONTHS, "months")
    top = bounded(top, DEFAULT_TOP, MAX_TOP, "top")
    first = add_months(month, -(months - 1))
    report = Report(
        month=month, months=months, start=month_start(first), end=month_start(next_month(month)),
        previous_start=month_start(add_months(first, -months)),
    )
    window = cases.filter(created_at__gte=report.previous_start, created_at__lt=report.end).order_by()
    in_current = Q(created_at__gte=report.start)
    counts = {"current": Count("id", filter=in_current), "previous": Count("id", filter=~in_current)}

    totals = window.aggregate(**counts)
    report.total_current, report.total_previous = totals["current"], totals["previous"]
    report.categories = _ranked(window.filter(category__isnull=False), ["category_id"], counts, top)
    report.cells = _ranked(window.exclude(h3_cell=""), ["h3_cell"], counts, top, grid=True)
    report.grids = _ranked(window.filter(grid__isnull=False), ["grid_id"], counts, top)
    report.topics = _ranked(
        window.filter(category__isnull=False).exclude(h3_cell=""), ["category_id", "h3_cell"], counts, top, grid=True
    )
    report.new_hot_spots = _new_hot_spots(window.exclude(h3_cell=""), counts, top)
    _label(report)
    report.trend = _trend(window, report)
    return report


def _ranked(queryset, keys, counts, top, grid=False):
    """The `top` groups by current count (ties: larger previous first, then key)."""
    extra = {"grid": Min("grid_id")} if grid else {}
    rows = (
        queryset.values(*keys)
        .annotate(**counts, **extra)
        .filter(current__gt=0)
        .order_by("-current", "-previous", *keys)[:top]
    )
    return [_row(values, keys) for values in rows]


def _new_hot_spots(queryset, counts, top):
    rows = (
        queryset.values("h3_cell")
        .annotate(**counts, grid=Min("grid_id"))
        .filter(current__gte=HOT_SPOT_MIN_CASES, previous__lt=HOT_SPOT_MIN_CASES)
        .order_by("-current", "h3_cell")[:top]
    )
    return [_row(values, ["h3_cell"]) for values in rows]


def _row(values, keys):
    return Row(
        key=tuple(values[key] for key in keys),
        label="",
        current=values["current"],
        previous=values["previous"],
        category_id=values.get("category_id"),
        h3_cell=values.get("h3_cell", ""),
        grid_id=values.get("grid_id", values.get("grid")),
    )


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


def _trend(window, report):
    """Cases per month over both periods: the total and the top categories."""
    top_ids = [row.category_id for row in report.categories[:TREND_SERIES]]
    month_keys = [add_months(report.month, -offset).strftime("%Y-%m") for offset in range(2 * report.months - 1, -1, -1)]
    rows = (
        window.filter(category_id__in=top_ids)
        .annotate(month=TruncMonth("created_at"))
        .values("month", "category_id")
        .annotate(n=Count("id"))
    )
    totals = window.annotate(month=TruncMonth("created_at")).values("month").annotate(n=Count("id"))
    names = {row.category_id: row.label for row in report.categories}
    series = {pk: [0] * len(month_keys) for pk in top_ids}
    total = [0] * len(month_keys)
    for row in rows:
        series[row["category_id"]][month_keys.index(_month_key(row["month"]))] = row["n"]
    for row in totals:
        total[month_keys.index(_month_key(row["month"]))] = row["n"]
    return {
        "months": month_keys,
        "total": total,
        "series": [{"name": names.get(pk, str(pk)), "data": series[pk]} for pk in top_ids],
    }


def _month_key(value):
    if hasattr(value, "tzinfo") and value.tzinfo is not None:
        value = timezone.localtime(value)
    return value.strftime("%Y-%m")


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
