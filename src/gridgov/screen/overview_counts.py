"""The overview's window figures from the daily counts (gridgov.screen.daycounts).

Each function returns exactly what its namesake in overview.py computes from the cases
table; tests compare the two. Used when the screen's scope is a community or larger
(counts are kept per community); a grid-level scope reads the cases table.
"""

import datetime as dt

from django.db.models import Sum

from gridgov.catalog.models import Category
from gridgov.geo.models import Level, Region
from gridgov.org.models import Department

from .daycounts import COMMUNITY_CODE_LENGTH, COUNTERS, DayCount, Dimension


def usable_for(scope_code):
    return len(scope_code or "") <= COMMUNITY_CODE_LENGTH


def window_rows(dim, window, scope_code):
    rows = DayCount.objects.filter(dim=dim, day__gte=window.since.date())
    return rows.filter(community__startswith=scope_code) if scope_code else rows


def area_rows(window, scope_code):
    """The window's `area` counts summed per (day, community): one read (~days x
    communities rows) behind the funnel, the rates, the created-per-day trend and the
    community ranking."""
    rows = (
        window_rows(Dimension.AREA, window, scope_code)
        .values("day", "community")
        .annotate(**{name: Sum(name) for name in COUNTERS})
        .order_by()
    )
    return list(rows)


def window_totals(area):
    """The funnel's and the rates' sums over the window (area: area_rows)."""
    totals = {name: sum(row[name] or 0 for row in area) for name in COUNTERS}
    return {
        "created": totals["cases"],
        "accepted": totals["accepted"],
        "dispatched": totals["dispatched"],
        "handled": totals["handled"],
        "closed": totals["closed"],
        "closed_on_time": totals["closed_on_time"],
        "rated": totals["rated"],
        "satisfied": totals["satisfied"],
        "sign_clocks": totals["sign_clocks"],
        "sign_on_time": totals["sign_on_time"],
    }


def _days(n):
    return dt.timedelta(days=n)


def window_days(window):
    first = window.since.date()
    return [first + _days(n) for n in range(window.days)]


def trends(window, scope_code, area):
    days = window_days(window)
    created = {}
    for row in area:
        created[row["day"]] = created.get(row["day"], 0) + (row["cases"] or 0)
    closed_rows = window_rows(Dimension.CLOSED, window, scope_code).values("day").annotate(n=Sum("cases")).order_by()
    closed = {row["day"]: row["n"] for row in closed_rows}
    return {
        "days": [day.isoformat() for day in days],
        "created": [created.get(day, 0) for day in days],
        "closed": [closed.get(day, 0) for day in days],
    }


RANKED_COUNTERS = {"total": "cases", "closed": "closed", "on_time": "closed_on_time"}


def rankings(window, scope_code, ranked, area):
    by_department = (
        window_rows(Dimension.DEPARTMENT, window, scope_code)
        .values("value")
        .annotate(**{key: Sum(name) for key, name in RANKED_COUNTERS.items()})
        .filter(total__gt=0)
        .order_by()
    )
    by_community = {}
    for row in area:
        place = by_community.setdefault(row["community"], dict.fromkeys(RANKED_COUNTERS, 0))
        for key, name in RANKED_COUNTERS.items():
            place[key] += row[name] or 0
    by_community = [{"community": code, **sums} for code, sums in by_community.items() if sums["total"] > 0]
    department_names = {str(pk): name for pk, name in Department.objects.values_list("id", "name")}
    community_names = dict(
        Region.objects.filter(code__in=[row["community"] for row in by_community], level=Level.COMMUNITY).values_list("code", "name")
    )
    return {
        "departments": ranked(list(by_department), lambda row: department_names.get(row["value"], "")),
        "communities": ranked(
            [row for row in by_community if row["community"] in community_names],
            lambda row: community_names[row["community"]],
        ),
    }


def heat_cells(window, scope_code, limit):
    rows = (
        window_rows(Dimension.H3, window, scope_code)
        .values("value")
        .annotate(n=Sum("cases"))
        .filter(n__gt=0)
        .order_by("-n", "value")[:limit]
    )
    return [(row["value"], row["n"]) for row in rows]


def estates(window, scope_code):
    """Rows {estate, n, rated, satisfied} of the 智慧物业 cases located in an estate."""
    rows = (
        window_rows(Dimension.ESTATE, window, scope_code)
        .values("value")
        .annotate(n=Sum("cases"), rated=Sum("rated"), satisfied=Sum("satisfied"))
        .filter(n__gt=0)
        .order_by()
    )
    return [{"estate": int(row["value"]), "n": row["n"], "rated": row["rated"], "satisfied": row["satisfied"]} for row in rows]


MODULE_COUNTERS = ("cases", "open", "closed", "rated", "satisfied")


def category_rows(window, scope_code, category_ids):
    """The window's counts per (小类, community) of these 小类: one read for both panels."""
    return list(
        window_rows(Dimension.CATEGORY, window, scope_code)
        .filter(value__in=sorted(str(pk) for pk in category_ids))
        .values("value", "community")
        .annotate(**{name: Sum(name) for name in MODULE_COUNTERS})
        .order_by()
    )


def category_module(rows, category_ids):
    """Totals, 小类 ranking and communities of a panel from its 小类' rows (category_rows)."""
    wanted = {str(pk) for pk in category_ids}
    totals = dict.fromkeys(MODULE_COUNTERS, 0)
    by_value, by_community = {}, {}
    for row in rows:
        if row["value"] not in wanted:
            continue
        for name in MODULE_COUNTERS:
            totals[name] += row[name]
        by_value[row["value"]] = by_value.get(row["value"], 0) + row["cases"]
        place = by_community.setdefault(row["community"], {"community": row["community"], "n": 0, "rated": 0, "satisfied": 0})
        place["n"] += row["cases"]
        place["rated"] += row["rated"]
        place["satisfied"] += row["satisfied"]
    top = sorted(((n, value) for value, n in by_value.items() if n > 0), key=lambda item: (-item[0], item[1]))[:8]
    names = dict(Category.objects.filter(id__in=[int(value) for _n, value in top]).values_list("id", "name"))
    return {
        "totals": {"total": totals["cases"], **{k: totals[k] for k in ("open", "closed", "rated", "satisfied")}},
        "by_type": [{"name": names.get(int(value), ""), "value": n} for n, value in top],
        "by_community": [place for place in by_community.values() if place["n"] > 0],
    }
