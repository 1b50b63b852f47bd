"""The map page: grid boundaries, clustered open cases by clock state, an H3 heat layer.

Every data endpoint answers only with rows inside the user's scope. The map works offline:
without `GRIDGOV_MAP_TILE_URL` the boundaries are drawn on a plain background.
"""

from datetime import timedelta

import h3
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from gridgov.cases.clocks import clock_state
from gridgov.cases.links import case_url_template
from gridgov.cases.models import OPEN_STATUSES, Case
from gridgov.geo.models import Level, Region

DEFAULT_MAX_MARKERS = 5000
DEFAULT_MAX_HEAT_CELLS = 5000
HEAT_DAYS_DEFAULT = 30
HEAT_DAYS_MAX = 366


def _setting(name, default):
    return getattr(settings, name, default)


@login_required
@require_GET
def map_page(request):
    config = {
        "tileUrl": settings.GRIDGOV_MAP_TILE_URL,
        "tileAttribution": _setting("GRIDGOV_MAP_TILE_ATTRIBUTION", ""),
        "boundariesUrl": reverse("web:map_boundaries"),
        "casesUrl": reverse("web:map_cases"),
        "heatUrl": reverse("web:map_heat"),
    }
    return render(request, "web/map.html", {"map_config": config, "map_text": _map_text()})


def _map_text():
    """Strings the map script shows, translated here so the page reads in one language."""
    return {
        "boundaries": _("Grid boundaries"),
        "cases": _("Open cases"),
        "heat": _("Heat: cases per hexagon"),
        "heatCount": _("%(count)s cases"),
        "caseCount": _("%(count)s open cases on the map."),
        "truncated": _("Only the %(cap)s most urgent are shown."),
        "loadFailed": _("The map data could not be loaded."),
        "states": {
            "normal": pgettext("clock state", "Normal"),
            "warning": _("Warning"),
            "overdue": _("Overdue"),
            "none": _("No deadline"),
        },
    }


@login_required
@require_GET
def boundaries(request):
    """Community and grid boundaries in the user's scope as a GeoJSON FeatureCollection."""
    regions = (
        Region.objects.restrict(request.user, "view")
        .filter(level__in=[Level.COMMUNITY, Level.GRID], boundary__isnull=False)
        .only("id", "code", "name", "level", "boundary")
    )
    features = [
        {
            "type": "Feature",
            "geometry": region.boundary,
            "properties": {"id": region.id, "code": region.code, "name": region.name, "level": region.level},
        }
        for region in regions
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


@login_required
@require_GET
def case_points(request):
    """Open located cases in scope, most urgent first, capped so the browser stays responsive."""
    cap = _setting("GRIDGOV_MAP_MAX_MARKERS", DEFAULT_MAX_MARKERS)
    cases = list(
        Case.objects.restrict(request.user, "view")
        .filter(status__in=OPEN_STATUSES, lon__isnull=False, lat__isnull=False)
        .order_by("due_at", "id")
        .only("id", "number", "lon", "lat", "status", "due_at", "warn_at", "handle_due_at")[: cap + 1]
    )
    truncated = len(cases) > cap
    now = timezone.now()
    url_template = case_url_template()
    points = [
        {
            "number": case.number,
            "lon": case.lon,
            "lat": case.lat,
            "state": clock_state(case, now=now) or "none",
            "status": case.get_status_display(),
            "url": url_template.replace("__pk__", str(case.pk)),
        }
        for case in cases[:cap]
    ]
    return JsonResponse({"cases": points, "truncated": truncated, "cap": cap})


def _heat_days(request):
    try:
        days = int(request.GET.get("days", HEAT_DAYS_DEFAULT))
    except ValueError:
        days = HEAT_DAYS_DEFAULT
    return min(max(days, 1), HEAT_DAYS_MAX)


@login_required
@require_GET
def heat_cells(request):
    """Case counts per H3 cell (counted in SQL) for the last `days`, as hexagon polygons."""
    days = _heat_days(request)
    cap = _setting("GRIDGOV_MAP_MAX_HEAT_CELLS", DEFAULT_MAX_HEAT_CELLS)
    since = timezone.now() - timedelta(days=days)
    counts = (
        Case.objects.restrict(request.user, "view")
        .filter(created_at__gte=since)
        .exclude(h3_cell="")
        .values("h3_cell")
        .annotate(n=Count("id"))
        .order_by("-n", "h3_cell")[:cap]
    )
    features = [_hexagon(row["h3_cell"], row["n"]) for row in counts if h3.is_valid_cell(row["h3_cell"])]
    peak = max((feature["properties"]["count"] for feature in features), default=0)
    return JsonResponse({"type": "FeatureCollection", "features": features, "max": peak, "days": days})


def _hexagon(cell, count):
    # h3 gives (lat, lng) pairs; GeoJSON wants [lng, lat] and a closed ring.
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
    ring.append(ring[0])
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"cell": cell, "count": count},
    }
