"""Finding likely duplicates: the same 小类 within R metres and T hours (per-class rules).

The rule of a 小类 is its triage.DuplicateRule when there is one (point objects such as
井盖 get one by migration), else the radius and window stored on the category itself.
Candidates are cases still being worked on (open or parked, not merged), in the user's scope.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from gridgov.cases.merge import MERGEABLE
from gridgov.cases.models import Case

METRES_PER_DEGREE_LAT = 111_320.0
EARTH_RADIUS_M = 6_371_008.8
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class Rule:
    radius_m: int
    window_hours: int


def rule_for(category):
    from .models import DuplicateRule

    own = DuplicateRule.objects.filter(category_id=category.pk).first()
    if own is not None:
        return Rule(own.radius_m, own.window_hours)
    return Rule(category.duplicate_radius_m, category.duplicate_window_hours)


def rules_for(categories):
    """{category pk: Rule} for several categories with one query."""
    from .models import DuplicateRule

    categories = list(categories)
    own = {rule.category_id: rule for rule in DuplicateRule.objects.filter(category__in=categories)}
    rules = {}
    for category in categories:
        rule = own.get(category.pk)
        rules[category.pk] = (
            Rule(rule.radius_m, rule.window_hours) if rule else Rule(category.duplicate_radius_m, category.duplicate_window_hours)
        )
    return rules


def haversine_m(lon1, lat1, lon2, lat2):
    """Great-circle distance in metres between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _box(lon, lat, radius_m):
    """A bounding box that surely contains the circle (the database discards far rows with it)."""
    dlat = radius_m / METRES_PER_DEGREE_LAT * 1.01
    dlon = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01)) * 1.01
    return (lon - dlon, lon + dlon), (lat - dlat, lat + dlat)


def candidates(user, category, *, around, window, rule):
    """Cases of `category` in the user's scope created within `window` (start, end), near `around`."""
    lon_range, lat_range = _box(*around, rule.radius_m)
    start, end = window
    return (
        Case.objects.restrict(user, "view")
        .filter(
            category=category,
            status__in=MERGEABLE,
            merged_into__isnull=True,
            created_at__gte=start,
            created_at__lte=end,
            lon__range=lon_range,
            lat__range=lat_range,
        )
        .select_related("category")
        .order_by("-created_at", "-id")[:MAX_CANDIDATES]
    )


def find_duplicates(user, category, lon, lat, *, at=None, exclude=None, limit=10):
    """Likely duplicates of a report of `category` at (lon, lat) made at `at` (default now).

    Nearest first; each case carries `distance_m`. `exclude`: a case pk to leave out
    (the case itself). Returns (cases, rule).
    """
    if category is None or lon is None or lat is None:
        return [], None
    at = at or timezone.now()
    rule = rule_for(category)
    window = timedelta(hours=rule.window_hours)
    nearby = []
    for case in candidates(user, category, around=(lon, lat), window=(at - window, at + window), rule=rule):
        if case.pk == exclude:
            continue
        case.distance_m = haversine_m(lon, lat, case.lon, case.lat)
        if case.distance_m <= rule.radius_m:
            nearby.append(case)
    nearby.sort(key=lambda case: (case.distance_m, case.created_at))
    return nearby[:limit], rule


def duplicates_of(user, case, *, limit=10):
    """Likely duplicates of an existing case (same rule, around its report time)."""
    return find_duplicates(user, case.category, case.lon, case.lat, at=case.created_at, exclude=case.pk, limit=limit)[0]


def duplicate_counts(user, cases):
    """{case pk: number of likely duplicates} for a page of cases, one query per 小类."""
    by_category = defaultdict(list)
    for case in cases:
        if case.category_id and case.lon is not None and case.lat is not None:
            by_category[case.category_id].append(case)
    if not by_category:
        return {}
    categories = {case.category_id: case.category for group in by_category.values() for case in group}
    rules = rules_for(categories.values())
    counts = {}
    for category_id, group in by_category.items():
        counts.update(_counts_in_group(user, categories[category_id], group, rules[category_id]))
    return counts


def _counts_in_group(user, category, group, rule):
    """Counts for the cases of one 小类: one query for every candidate of the group's time
    span and area, then neighbours by buckets of the radius' size (no pair far apart is
    measured)."""
    window = timedelta(hours=rule.window_hours)
    lon_range, lat_range = _box(min(c.lon for c in group), min(c.lat for c in group), rule.radius_m)
    lon_range2, lat_range2 = _box(max(c.lon for c in group), max(c.lat for c in group), rule.radius_m)
    pool = (
        Case.objects.restrict(user, "view")
        .filter(
            category=category,
            status__in=MERGEABLE,
            merged_into__isnull=True,
            created_at__gte=min(case.created_at for case in group) - window,
            created_at__lte=max(case.created_at for case in group) + window,
            lon__range=(lon_range[0], lon_range2[1]),
            lat__range=(lat_range[0], lat_range2[1]),
        )
        .values_list("pk", "lon", "lat", "created_at")
    )
    # Buckets at least the radius wide everywhere in the group (degrees of longitude shrink northwards).
    widest = max(group, key=lambda case: abs(case.lat))
    cell_lon, cell_lat = (side[1] - side[0] for side in _box(widest.lon, widest.lat, rule.radius_m))
    buckets = defaultdict(list)
    for row in pool.iterator(chunk_size=2000):
        buckets[(int(row[1] // cell_lon), int(row[2] // cell_lat))].append(row)
    counts = {}
    for case in group:
        x, y = int(case.lon // cell_lon), int(case.lat // cell_lat)
        counts[case.pk] = sum(
            1
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for pk, lon, lat, created_at in buckets.get((x + dx, y + dy), ())
            if pk != case.pk
            and abs(created_at - case.created_at) <= window
            and haversine_m(case.lon, case.lat, lon, lat) <= rule.radius_m
        )
    return counts
