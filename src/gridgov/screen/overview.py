"""Everything the screen shows at start-up, in one document, from aggregate queries.

No query walks all cases row by row in Python: counts come from GROUP BY on indexed
columns (status, channel, created_at, closed_at, due_at), windows are created_at ranges,
and only small aggregated results (days, departments, communities, grids) reach Python.
Definitions of the rates are in RATE_DEFINITIONS and docs/screen.md.
"""

import datetime as dt
import threading
import time
from functools import lru_cache

import h3
from django.conf import settings
from django.db.models import Case, Count, IntegerField, Max, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.cases.clocks import filter_clock_state
from gridgov.cases.models import Case as CaseModel
from gridgov.cases.models import OPEN_STATUSES, CaseClock, Channel, ClockKind, ClockState, Rating, Status
from gridgov.catalog.models import Category, CategoryKind, Priority
from gridgov.core.masking import mask_name
from gridgov.geo.models import Estate, Level, Region
from gridgov.live.bus import latest_id
from gridgov.org.models import Department, StaffRole
from gridgov.org.roles import Role
from gridgov.video.alarms import recent_alarms
from gridgov.video.models import Camera, CameraStatus

from . import overview_counts
from .models import IndicatorModule, InspectorPosition, MonthlyIndicator

ALARM_CHANNELS = (Channel.VIDEO_ALARM, Channel.IOT)
FUNNEL = [("created", "受理"), ("accepted", "立案"), ("dispatched", "派遣"), ("handled", "处置"), ("closed", "结案")]
COMMUNITY_CODE_LENGTH = 12
MAX_MARKERS = 300
MAX_HEAT_CELLS = 400
LIST_LENGTH = 8


def rate_definitions():
    days = screen_settings()["rates_window_days"]
    return {
        "window_days": days,
        "response": _("Response rate: sign-offs made within the sign-off clock ÷ sign-off clocks, cases of the last %(days)s days.") % {"days": days},
        "resolution": _("Resolution rate: closed ÷ dispatched, cases of the last %(days)s days.") % {"days": days},
        "satisfaction": _("Satisfaction rate: rated satisfied or basically satisfied ÷ rated, cases of the last %(days)s days.") % {"days": days},
        "on_time": _("On-time rate: closed without any overdue clock ÷ closed, cases of the last %(days)s days.") % {"days": days},
    }


def screen_settings():
    return settings.GRIDGOV_SCREEN


def ratio(part, whole):
    return round(part / whole, 4) if whole else None


# -- the cache ------------------------------------------------------------------------------
_cache = {}
_cache_lock = threading.Lock()


def cached_overview(scope_code, now=None):
    """build_overview, shared for a few seconds by all screens of one scope in this process."""
    ttl = screen_settings()["cache_seconds"]
    key = scope_code
    with _cache_lock:
        hit = _cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    payload = build_overview(scope_code, now=now)
    with _cache_lock:
        _cache[key] = (time.monotonic() + ttl, payload)
    return payload


def clear_cache():
    with _cache_lock:
        _cache.clear()


# -- the document -----------------------------------------------------------------------------
def build_overview(scope_code, *, now=None, counts=None):
    """counts: read the window's figures from the daily counts (default: when they cover
    the scope) or, False, from the cases table."""
    now = now or timezone.now()
    # Taken first: events after this id may already be counted below, never missed.
    cursor = latest_id()
    window, cases = prepare(scope_code, now, counts)
    return {
        "generated_at": now.isoformat(),
        "cursor": cursor,
        "window": {"today": window.today_start.isoformat(), "since": window.since.isoformat(), "days": window.days},
        "definitions": rate_definitions(),
        "governance": governance(cases, scope_code, window),
        "map": map_layers(cases, scope_code, window),
        "trends": trends(cases, window),
        "rankings": rankings(cases, window),
        "emergency": emergency(cases, scope_code, window),
        **category_panels(cases, window),
        **indicator_panels(),
    }


def prepare(scope_code, now, counts=None):
    """The window and the reads that several panels share; returns (window, scope's cases)."""
    window = Window(now)
    window.scope_code = scope_code
    # The window's figures come from the daily counts unless the scope is finer than them.
    window.counts = overview_counts.usable_for(scope_code) if counts is None else counts
    window.urgent_ids = emergency_category_ids()
    whole = not scope_code or covers_every_case(scope_code)
    cases = scope_cases(scope_code, whole)
    # With every case inside the scope, every daily count is too: no filter on them.
    window.count_scope = "" if whole else scope_code
    # The window's area counts, read once for the funnel, rates, trends and rankings.
    window.area = overview_counts.area_rows(window, window.count_scope) if window.counts else None
    window.open_by_grid = open_summary(cases, window)
    window.today = today_summary(cases, window)
    return window, cases


class Window:
    """Today (local midnight to now) and the rolling window of the rates and rankings."""

    def __init__(self, now):
        self.now = now
        local = timezone.localtime(now)
        self.today_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        self.days = screen_settings()["rates_window_days"]
        self.since = self.today_start - dt.timedelta(days=self.days - 1)


def unindexed(field, empty=""):
    """The column wrapped in a no-op function. Grouping by a bare indexed column lets
    SQLite's planner walk that whole index to skip a sort, ignoring the created_at range
    that makes the query small; a function value cannot come from an index."""
    return Coalesce(field, Value(empty))


def scope_cases(scope_code, whole=None):
    """whole: the scope holds every case (covers_every_case), when already known."""
    cases = CaseModel.objects.all()
    if whole is None:
        whole = not scope_code or covers_every_case(scope_code)
    if whole:
        return cases
    return cases.filter(region_code__startswith=scope_code)


def covers_every_case(scope_code):
    """True when no case lies outside the subtree (the usual centre screen: the whole
    subdistrict). Two index seeks on region_code; dropping the filter then lets the
    database answer some counts from an index alone."""
    after = scope_code[:-1] + chr(ord(scope_code[-1]) + 1)  # first code past the subtree
    outside = CaseModel.objects.filter(Q(region_code__lt=scope_code) | Q(region_code__gte=after))
    return not outside.exists()


def in_scope(queryset, field, scope_code):
    return queryset.filter(**{f"{field}__startswith": scope_code}) if scope_code else queryset


# -- 网格治理 ---------------------------------------------------------------------------------
def governance(cases, scope_code, window):
    totals = window_totals(cases, window)
    return {
        "regions": region_counts(scope_code),
        "inspectors": inspector_counts(scope_code, window),
        "today": today_counts(cases, window),
        "funnel": [{"key": key, "label": label, "value": totals[key]} for key, label in FUNNEL],
        "rates": {
            "response": response_rate(cases, window, totals),
            "resolution": ratio(totals["closed"], totals["dispatched"]),
            "satisfaction": ratio(totals["satisfied"], totals["rated"]),
            "on_time": ratio(totals["closed_on_time"], totals["closed"]),
        },
        "clocks": clock_lists(cases, window),
    }


def region_counts(scope_code):
    rows = in_scope(Region.objects, "code", scope_code).values("level").annotate(n=Count("id"), households=Sum("households"))
    by_level = {row["level"]: row for row in rows}
    grid_row = by_level.get(Level.GRID, {})
    return {
        "communities": by_level.get(Level.COMMUNITY, {}).get("n", 0),
        "grids": grid_row.get("n", 0),
        "households": grid_row.get("households") or 0,
    }


def inspector_counts(scope_code, window):
    staff = StaffRole.objects.filter(role__in=[Role.GRID_INSPECTOR, Role.GRID_LEAD], user__is_active=True)
    staff = in_scope(staff, "user__scope__code", scope_code)
    return {
        "total": staff.values("user_id").distinct().count(),
        "on_duty": on_duty_positions(scope_code, window).values("user_id").distinct().count(),
    }


def on_duty_positions(scope_code, window):
    minutes = screen_settings()["inspector_on_duty_minutes"]
    recent = InspectorPosition.objects.filter(at__gte=window.now - dt.timedelta(minutes=minutes))
    return in_scope(recent, "region_code", scope_code)


def today_summary(cases, window):
    """Today's cases per (channel, status) with how many of them are urgent: one pass over
    today's rows for the live counters of 网格治理 and 应急指挥."""
    rows = (
        cases.filter(created_at__gte=window.today_start)
        .values(ch=unindexed("channel"), st=unindexed("status"))
        .annotate(n=Count("id"), urgent=Count("id", filter=emergency_q(window.urgent_ids)))
    )
    return list(rows)


def today_counts(cases, window):
    by_channel, by_status = {}, {}
    for row in window.today:
        by_channel[row["ch"]] = by_channel.get(row["ch"], 0) + row["n"]
        by_status[row["st"]] = by_status.get(row["st"], 0) + row["n"]
    return {
        "created": sum(by_channel.values()),
        "closed": cases.filter(closed_at__gte=window.today_start).count(),
        "by_channel": labelled(Channel, by_channel),
        "by_status": labelled(Status, by_status),
    }


def labelled(choices, counts):
    """Every choice in its declared order, with its label, zeros included."""
    return [{"key": value, "label": str(label), "value": counts.get(value, 0)} for value, label in choices.choices]


def window_totals(cases, window):
    """The funnel and three of the rates in one pass over the window's cases."""
    if window.counts:
        return overview_counts.window_totals(window.area)
    return cases.filter(created_at__gte=window.since).aggregate(
        created=Count("id"),
        accepted=Count("accepted_at"),
        dispatched=Count("dispatched_at"),
        handled=Count("handled_at"),
        closed=Count("closed_at"),
        closed_on_time=Count("id", filter=Q(closed_at__isnull=False, was_overdue=False)),
        rated=Count("rating"),
        satisfied=Count("id", filter=Q(rating__in=[Rating.SATISFIED, Rating.BASICALLY_SATISFIED])),
    )


def response_rate(cases, window, totals):
    if window.counts:  # the counts' window totals include the sign-off clocks
        return ratio(totals["sign_on_time"], totals["sign_clocks"])
    # Driven from the window's cases (created_at index), then their clocks by (case, kind).
    clocks = CaseClock.objects.filter(kind=ClockKind.SIGN, case__in=cases.filter(created_at__gte=window.since))
    totals = clocks.aggregate(total=Count("id"), on_time=Count("id", filter=Q(stopped_at__isnull=False, overdue=False)))
    return ratio(totals["on_time"], totals["total"])


def clock_lists(cases, window):
    open_cases = cases.filter(status__in=OPEN_STATUSES)
    overdue = filter_clock_state(open_cases, ClockState.OVERDUE, now=window.now)
    warning = filter_clock_state(open_cases, ClockState.WARNING, now=window.now)
    return {
        "overdue_count": open_total(window, "overdue"),
        "warning_count": open_total(window, "warning"),
        "overdue": listed(window, "overdue", overdue.order_by("due_at")),
        "warning": listed(window, "warning", warning.order_by("due_at")),
    }


def listed(window, figure, ordered):
    """The first open cases of a list whose size the open-case pass already counted; none
    counted, no query (a newest-first walk for missing cases could read the whole table)."""
    return case_rows(ordered[:LIST_LENGTH]) if open_total(window, figure) else []


CASE_ROW_FIELDS = (
    "id", "number", "status", "channel", "priority", "created_at", "due_at",
    "category__name", "grid__name", "department__name", "address",
)


def case_rows(queryset):
    """A few cases for a list on the screen (an ordered, sliced queryset): no personal data,
    only what the screen shows."""
    # The names are joined to the few cases picked by the subquery: joined before its
    # LIMIT, PostgreSQL joined every candidate (thousands of open cases) first.
    picked = CaseModel.objects.filter(pk__in=queryset.values("pk")).order_by(*queryset.query.order_by)
    rows = []
    for row in picked.values(*CASE_ROW_FIELDS):
        rows.append({
            "id": row["id"],
            "number": row["number"],
            "status": row["status"],
            "status_label": str(Status(row["status"]).label),
            "channel": row["channel"],
            "channel_label": str(Channel(row["channel"]).label),
            "priority": row["priority"],
            "category": row["category__name"] or "",
            "grid": row["grid__name"] or "",
            "department": row["department__name"] or "",
            "address": row["address"],
            "created_at": row["created_at"].isoformat(),
            "due_at": row["due_at"].isoformat() if row["due_at"] else None,
        })
    return rows


# -- the map ----------------------------------------------------------------------------------
def map_layers(cases, scope_code, window):
    return {
        "tile_url": settings.GRIDGOV_MAP_TILE_URL,
        "grids": grid_features(cases, scope_code, window),
        "communities": community_outlines(scope_code),
        "cases": case_markers(cases, window),
        "heat": heat_cells(cases, window),
        "cameras": camera_points(scope_code),
        "inspectors": inspector_points(scope_code, window),
    }


def grid_features(cases, scope_code, window):
    load = open_load_by_grid(cases, window)
    grids = in_scope(Region.objects.grids(), "code", scope_code).values("id", "code", "name", "boundary", "parent__name")
    features = []
    for grid in grids:
        if not grid["boundary"]:
            continue
        counts = load.get(grid["id"], {"open": 0, "overdue": 0, "warning": 0})
        features.append({
            "type": "Feature",
            "geometry": grid["boundary"],
            "properties": {
                "id": grid["id"],
                "code": grid["code"],
                "name": grid["name"],
                "community": grid["parent__name"] or "",
                **counts,
                "clock": ClockState.OVERDUE if counts["overdue"] else ClockState.WARNING if counts["warning"] else ClockState.NORMAL,
            },
        })
    return {"type": "FeatureCollection", "features": features}


def open_summary(cases, window):
    """Every open-case figure in one pass: per grid (0 = unplaced) open, overdue, warning
    and urgent counts. Same conditions as gridgov.cases.clocks.clock_state_q."""
    now = window.now
    # Grouped in the order of the index (status, grid, ...) that holds every column read
    # here: the database streams it without a sort. Rows are counted by status (never
    # null): the id is not in that index on PostgreSQL.
    rows = (
        cases.filter(status__in=OPEN_STATUSES)
        .values("status", "grid_id")
        .annotate(
            open=Count("status"),
            overdue=Count("status", filter=Q(due_at__lt=now)),
            warning=Count("status", filter=Q(due_at__gte=now, warn_at__lte=now)),
            urgent=Count("status", filter=emergency_q(window.urgent_ids)),
        )
        .order_by()
    )
    by_grid = {}
    for row in rows:
        totals = by_grid.setdefault(row["grid_id"] or 0, dict.fromkeys(OPEN_FIGURES, 0))
        for key in OPEN_FIGURES:
            totals[key] += row[key]
    return by_grid


OPEN_FIGURES = ("open", "overdue", "warning", "urgent")


def open_total(window, key):
    return sum(row[key] for row in window.open_by_grid.values())


def open_load_by_grid(cases, window):
    return {grid: {k: row[k] for k in ("open", "overdue", "warning")} for grid, row in window.open_by_grid.items() if grid}


def community_outlines(scope_code):
    communities = in_scope(Region.objects.filter(level=Level.COMMUNITY), "code", scope_code)
    features = [
        {"type": "Feature", "geometry": row["boundary"], "properties": {"code": row["code"], "name": row["name"]}}
        for row in communities.values("code", "name", "boundary")
        if row["boundary"]
    ]
    return {"type": "FeatureCollection", "features": features}


def case_markers(cases, window):
    recent_open = cases.filter(status__in=OPEN_STATUSES, lon__isnull=False).order_by("-created_at")[:MAX_MARKERS]
    urgent_ids = window.urgent_ids
    markers = []
    for row in recent_open.values("id", "number", "lon", "lat", "status", "priority", "channel", "category_id", "due_at", "warn_at"):
        markers.append({
            "id": row["id"],
            "number": row["number"],
            "lon": round(row["lon"], 6),
            "lat": round(row["lat"], 6),
            "status": row["status"],
            "clock": marker_clock(row, window.now),
            "emergency": row["priority"] >= Priority.URGENT or row["category_id"] in urgent_ids,
            "alarm": row["channel"] in ALARM_CHANNELS,
        })
    return markers


def marker_clock(row, now):
    if row["due_at"] is None:
        return None
    if now > row["due_at"]:
        return ClockState.OVERDUE
    if row["warn_at"] is not None and now >= row["warn_at"]:
        return ClockState.WARNING
    return ClockState.NORMAL


def heat_cells(cases, window):
    if window.counts:
        cells = overview_counts.heat_cells(window, window.count_scope, MAX_HEAT_CELLS)
        return [{"cell": cell, "n": n, "ring": cell_ring(cell)} for cell, n in cells]
    rows = (
        cases.filter(created_at__gte=window.since)
        .exclude(h3_cell="")
        .values(cell=unindexed("h3_cell"))
        .annotate(n=Count("id"))
        .order_by("-n")[:MAX_HEAT_CELLS]
    )
    return [{"cell": row["cell"], "n": row["n"], "ring": cell_ring(row["cell"])} for row in rows]


@lru_cache(maxsize=20000)
def cell_ring(cell):
    """The hexagon's corners as [lat, lon] pairs (Leaflet's order); [] for a bad cell."""
    try:
        return [[round(lat, 6), round(lon, 6)] for lat, lon in h3.cell_to_boundary(cell)]
    except (ValueError, h3.H3BaseException):
        return []


def camera_points(scope_code):
    cameras = Camera.objects.all()
    if scope_code:
        cameras = cameras.filter(grid__code__startswith=scope_code)
    rows = list(cameras.values_list("id", "code", "name", "lon", "lat", "status"))
    online = sum(1 for row in rows if row[5] == CameraStatus.ONLINE)
    return {
        "total": len(rows),
        "online": online,
        "fields": ["id", "code", "name", "lon", "lat", "online"],
        "rows": [[i, code, name, round(lon, 6), round(lat, 6), st == CameraStatus.ONLINE] for i, code, name, lon, lat, st in rows],
    }


def inspector_points(scope_code, window):
    latest_ids = on_duty_positions(scope_code, window).values("user_id").annotate(last=Max("id")).values("last")
    rows = InspectorPosition.objects.filter(id__in=latest_ids).values(
        "user_id", "user__display_name", "user__username", "lon", "lat", "at", "grid__name"
    )
    return [inspector_point(row) for row in rows]


def inspector_point(row):
    name = row.get("user__display_name") or row.get("user__username") or ""
    return {
        "user": row["user_id"],
        "name": mask_name(name),
        "lon": round(row["lon"], 6),
        "lat": round(row["lat"], 6),
        "at": row["at"].isoformat(),
        "grid": row.get("grid__name") or "",
    }


# -- trends and rankings ------------------------------------------------------------------------
def trends(cases, window):
    if window.counts:
        return overview_counts.trends(window, window.count_scope, window.area)
    starts = [window.since + dt.timedelta(days=n) for n in range(window.days)]
    return {
        "days": [start.date().isoformat() for start in starts],
        "created": daily_counts(cases, "created_at", starts),
        "closed": daily_counts(cases, "closed_at", starts),
    }


def daily_counts(cases, field, starts):
    """Cases per local day in one pass: each row gets its day number from a CASE nested
    as a binary search (5 comparisons for 30 days), then GROUP BY that number. Portable,
    and cheaper than a date function per row (a Python callback on SQLite)."""
    day = day_number(field, starts, 0, len(starts))
    rows = cases.filter(**{f"{field}__gte": starts[0]}).values(day=day).annotate(n=Count("id"))
    counts = {row["day"]: row["n"] for row in rows}
    return [counts.get(n, 0) for n in range(len(starts))]


def day_number(field, starts, low, high):
    """The index of the last start <= the field's value, searched within starts[low:high]."""
    if high - low == 1:
        return Value(low)
    middle = (low + high) // 2
    return Case(
        When(**{f"{field}__lt": starts[middle]}, then=day_number(field, starts, low, middle)),
        default=day_number(field, starts, middle, high),
        output_field=IntegerField(),
    )


def rankings(cases, window):
    if window.counts:
        return overview_counts.rankings(window, window.count_scope, ranked, window.area)
    recent = cases.filter(created_at__gte=window.since)
    closed_on_time = Count("id", filter=Q(closed_at__isnull=False, was_overdue=False))
    by_department = recent.filter(department__isnull=False).values(department_key=unindexed("department_id", 0)).annotate(
        total=Count("id"), closed=Count("closed_at"), on_time=closed_on_time
    )
    by_community = recent.annotate(community=Substr("region_code", 1, COMMUNITY_CODE_LENGTH)).values("community").annotate(
        total=Count("id"), closed=Count("closed_at"), on_time=closed_on_time
    )
    department_names = dict(Department.objects.values_list("id", "name"))
    community_codes = [row["community"] for row in by_community]
    community_names = dict(Region.objects.filter(code__in=community_codes, level=Level.COMMUNITY).values_list("code", "name"))
    return {
        "departments": ranked(by_department, lambda row: department_names.get(row["department_key"], "")),
        "communities": ranked(
            [row for row in by_community if row["community"] in community_names],
            lambda row: community_names[row["community"]],
        ),
    }


def ranked(rows, name_of):
    """Best first: by closure rate, then by volume."""
    items = [
        {
            "name": name_of(row),
            "total": row["total"],
            "closed": row["closed"],
            "closure_rate": ratio(row["closed"], row["total"]),
            "on_time_rate": ratio(row["on_time"], row["closed"]),
        }
        for row in rows
    ]
    return sorted(items, key=lambda item: (-(item["closure_rate"] or 0), -item["total"], item["name"]))


# -- 应急指挥 ---------------------------------------------------------------------------------
def emergency_category_ids():
    codes = screen_settings()["emergency_category_codes"]
    condition = Q()
    for code in codes:
        condition |= Q(code__startswith=code)
    return set(Category.objects.filter(condition, kind=CategoryKind.EVENT).values_list("id", flat=True)) if codes else set()


def emergency_q(urgent_ids):
    return Q(priority__gte=Priority.URGENT) | Q(category_id__in=urgent_ids)


def emergency(cases, scope_code, window):
    urgent = emergency_q(window.urgent_ids)
    urgent_open = cases.filter(status__in=OPEN_STATUSES).filter(urgent)
    # Matched on a computed channel: without planner statistics SQLite let the channel
    # index (a third of all cases) drive this query instead of the 24-hour range.
    alarms = cases.alias(alarm_channel=unindexed("channel")).filter(alarm_channel__in=ALARM_CHANNELS)
    alarms_today = [row for row in window.today if row["ch"] in ALARM_CHANNELS]
    cameras = camera_status_counts(scope_code)
    return {
        "urgent_open": open_total(window, "urgent"),
        "urgent_today": sum(row["urgent"] for row in window.today),
        "urgent": listed(window, "urgent", urgent_open.order_by("-created_at")),
        "alarms_today": sum(row["n"] for row in alarms_today),
        "alarms_open": sum(row["n"] for row in alarms_today if row["st"] in OPEN_STATUSES),
        "alarms": case_rows(alarms.filter(created_at__gte=window.now - dt.timedelta(hours=24)).order_by("-created_at")[:LIST_LENGTH]),
        "whistles": active_whistles(scope_code),
        "cameras": cameras,
        # Camera AI and sensor alarms as they arrive (gridgov.video), beside the cases they opened.
        "live_alarms": recent_alarms(scope_code, since=window.now - dt.timedelta(hours=24)),
    }


def active_whistles(scope_code):
    """Active 吹哨报到 events (the supervision app records them)."""
    from gridgov.supervision.screen import active_whistles as whistles

    return whistles(scope_code)


def camera_status_counts(scope_code):
    cameras = Camera.objects.all()
    if scope_code:
        cameras = cameras.filter(grid__code__startswith=scope_code)
    totals = cameras.aggregate(total=Count("id"), online=Count("id", filter=Q(status=CameraStatus.ONLINE)))
    return {"total": totals["total"], "online": totals["online"], "offline": totals["total"] - totals["online"]}


# -- 民生保障 and 智慧物业 --------------------------------------------------------------------
def category_ids_by_panel(names_by_panel):
    """{panel: ids of the 大类 with its names and of all their 小类}, in one read."""
    wanted = {name for names in names_by_panel.values() for name in names}
    majors_and_children = Category.objects.filter(
        Q(name__in=wanted, parent__isnull=True) | Q(parent__name__in=wanted, parent__parent__isnull=True)
    )
    rows = list(majors_and_children.values_list("id", "name", "parent__name"))
    return {
        panel: [pk for pk, name, parent_name in rows if (parent_name if parent_name is not None else name) in names]
        for panel, names in names_by_panel.items()
    }


PANEL_CATEGORIES = {"livelihood": "livelihood_categories", "property": "property_categories"}


def category_panels(cases, window):
    """民生保障 and 智慧物业; with the daily counts, one read of the 小类 rows serves both."""
    names = {panel: screen_settings()[setting] for panel, setting in PANEL_CATEGORIES.items()}
    ids = category_ids_by_panel(names)
    rows = None
    if window.counts:
        rows = overview_counts.category_rows(window, window.count_scope, {pk for panel_ids in ids.values() for pk in panel_ids})
    panels = {panel: category_module(cases, window, names[panel], ids[panel], rows) for panel in PANEL_CATEGORIES}
    panels["property"]["by_estate"] = estate_module(cases, window)
    return panels


def category_module(cases, window, major_names, ids, counted_rows=None):
    """One panel's figures; counted_rows: overview_counts.category_rows (counts mode)."""
    if window.counts:
        counted = overview_counts.category_module(counted_rows, ids)
        return category_payload(major_names, ids, counted["totals"], counted["by_type"], counted["by_community"])
    recent = cases.filter(created_at__gte=window.since, category_id__in=ids)
    totals = recent.aggregate(
        total=Count("id"),
        open=Count("id", filter=Q(status__in=OPEN_STATUSES)),
        closed=Count("closed_at"),
        rated=Count("rating"),
        satisfied=Count("id", filter=Q(rating__in=[Rating.SATISFIED, Rating.BASICALLY_SATISFIED])),
    )
    by_type = recent.values("category__name").annotate(n=Count("id")).order_by("-n")[:8]
    by_type = [{"name": row["category__name"], "value": row["n"]} for row in by_type]
    by_community = (
        recent.annotate(community=Substr("region_code", 1, COMMUNITY_CODE_LENGTH))
        .values("community")
        .annotate(n=Count("id"), rated=Count("rating"), satisfied=Count("id", filter=Q(rating__gte=Rating.BASICALLY_SATISFIED)))
    )
    return category_payload(major_names, ids, totals, by_type, by_community)


def category_payload(major_names, ids, totals, by_type, by_community):
    by_community = list(by_community)
    names = dict(Region.objects.filter(code__in=[row["community"] for row in by_community], level=Level.COMMUNITY).values_list("code", "name"))
    return {
        "categories": list(major_names),
        "configured": bool(ids),
        "total": totals["total"],
        "open": totals["open"],
        "closed": totals["closed"],
        "satisfaction": ratio(totals["satisfied"], totals["rated"]),
        "by_type": by_type,
        "by_community": sorted(
            (
                {"name": names[row["community"]], "value": row["n"], "satisfaction": ratio(row["satisfied"], row["rated"])}
                for row in by_community
                if row["community"] in names
            ),
            key=lambda item: -item["value"],
        ),
    }


def estate_module(cases, window):
    """智慧物业 by estate (小区): cases located in an estate, with satisfaction; busiest first."""
    if window.counts:
        rows = overview_counts.estates(window, window.count_scope)
    else:
        rows = estate_rows_from_cases(cases, window)
    info = {row["id"]: row for row in Estate.objects.filter(id__in=[r["estate"] for r in rows]).values("id", "name", "property_company")}
    items = [
        {
            "name": info[row["estate"]]["name"],
            "company": info[row["estate"]]["property_company"],
            "value": row["n"],
            "satisfaction": ratio(row["satisfied"], row["rated"]),
        }
        for row in rows
        if row["estate"] in info
    ]
    return sorted(items, key=lambda item: (-item["value"], item["name"]))[:LIST_LENGTH]


def estate_rows_from_cases(cases, window):
    """The same rows located one case at a time (a grid-level scope: few cases)."""
    from gridgov.geo.estates import estate_at

    from .daycounts import SATISFIED_RATINGS, property_category_ids

    recent = cases.filter(created_at__gte=window.since, category_id__in=property_category_ids(), lon__isnull=False)
    totals = {}
    for lon, lat, rating in recent.values_list("lon", "lat", "rating"):
        estate = estate_at(lon, lat)
        if estate is None:
            continue
        row = totals.setdefault(estate, {"estate": estate, "n": 0, "rated": 0, "satisfied": 0})
        row["n"] += 1
        row["rated"] += rating is not None
        row["satisfied"] += rating in SATISFIED_RATINGS
    return list(totals.values())


# -- 党建引领 and 经济运行 ---------------------------------------------------------------------
HISTORY_MONTHS = 12


def indicator_panels():
    """党建引领 and 经济运行: each module's latest month and a year of history, from two
    reads for both modules."""
    rows = MonthlyIndicator.objects.order_by()
    latest = dict(rows.values_list("module").annotate(latest=Max("month")))
    first = {module: first_history_month(month) for module, month in latest.items()}
    recent = []
    if first:
        fields = ("module", "month", "key", "label", "value", "unit", "source", "sort_order")
        recent = list(rows.filter(month__gte=min(first.values())).order_by("month", "sort_order", "key").values(*fields))
    panels = {}
    for panel, module in (("party", IndicatorModule.PARTY), ("economy", IndicatorModule.ECONOMY)):
        history = [row for row in recent if row["module"] == module and row["month"] >= first[module]]
        panels[panel] = indicators(latest.get(module), history)
    return panels


def first_history_month(latest):
    """The first of the HISTORY_MONTHS months that end with `latest`'s month (counted in
    months: 11 x 31 days reached back into a 13th month whenever February was in between)."""
    index = latest.year * 12 + latest.month - 1 - (HISTORY_MONTHS - 1)
    return dt.date(index // 12, index % 12 + 1, 1)


def indicators(latest, history):
    """One module's panel from its rows of the history months (oldest first)."""
    if latest is None:
        return {"month": None, "items": [], "history": {"months": [], "series": {}}}
    current = sorted((row for row in history if row["month"] == latest), key=lambda row: (row["sort_order"], row["key"]))
    months = sorted({row["month"] for row in history})
    series = {}
    for row in history:
        series.setdefault(row["key"], {})[row["month"]] = float(row["value"])
    return {
        "month": latest.strftime("%Y-%m"),
        "items": [
            {"key": row["key"], "label": row["label"], "value": float(row["value"]), "unit": row["unit"], "source": row["source"]}
            for row in current
        ],
        "history": {
            "months": [month.strftime("%Y-%m") for month in months],
            "series": {key: [values.get(month) for month in months] for key, values in series.items()},
        },
    }
