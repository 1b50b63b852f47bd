"""The grid inspectors' app (/m/): an installable PWA that works offline.

The device queues reports, verifications and patrol tracks in IndexedDB and sends them
when it is online. Every request carries a key made on the device, so a resend (the answer
was lost, the user pressed twice, the queue retried) returns the first result:
- reports: `create_case(idempotency_key=key)`;
- verifications: a DeviceSubmission row per key, written in the same transaction;
- patrol tracks: an upsert on PatrolTrack.key (the device sends the whole track again).
"""

import json
import math
import uuid
from datetime import datetime, timedelta

import h3
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from gridgov.cases import services
from gridgov.cases.clocks import clock_state
from gridgov.cases.links import case_url_template
from gridgov.cases.models import Case, CaseEvent, Channel, Status
from gridgov.catalog.models import Category
from gridgov.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.geo.models import Level, Region
from gridgov.org.permissions import allowed

from .models import DeviceSubmission, PatrolTrack

# Bump to make every installed app fetch its shell again.
APP_VERSION = "2"
TASKS_SHOWN = 100
MAX_TRACK_POINTS = 20_000
COVERAGE_RESOLUTION = 10  # H3 cells of about 15,000 m², edge about 66 m
COVERAGE_MAX_ACCURACY_M = 50.0  # points less precise than this do not count as visits
COVERAGE_DAYS_DEFAULT = 7
COVERAGE_MAX_GRIDS = 30
EARTH_RADIUS_M = 6_371_008.8


def api_view(func):
    """JSON endpoint of the app: signed-in only; domain errors as {code, message, fields}."""

    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"code": "not_authenticated", "message": _("Please sign in again."), "fields": {}}, status=401)
        try:
            return func(request, *args, **kwargs)
        except DomainError as error:
            return JsonResponse(error.as_dict(), status=error.status)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


# --- shell, manifest, service worker ----------------------------------------------------
@login_required
@ensure_csrf_cookie
@require_GET
def app_shell(request):
    context = {
        "app_config": {
            "version": APP_VERSION,
            "urls": {
                "tasks": reverse("web:pwa_tasks"),
                "categories": reverse("web:pwa_categories"),
                "report": reverse("web:pwa_report"),
                "verify": reverse("web:pwa_verify"),
                "patrol": reverse("web:pwa_patrol"),
                "coverage": reverse("web:pwa_coverage"),
                "serviceWorker": reverse("web:pwa_sw"),
                "livePosition": _optional_url("api:screen-positions"),
                "login": settings.LOGIN_URL,
            },
            "scope": reverse("web:pwa"),
            "tileUrl": settings.GRIDGOV_MAP_TILE_URL,
            "user": {"id": request.user.pk, "name": str(request.user)},
            "canVerify": allowed(request.user, "case.verify"),
            "canReport": allowed(request.user, "case.create"),
        },
    }
    context["app_text"] = _app_text()
    return render(request, "web/pwa/app.html", context)


def _optional_url(name):
    """The URL of another app's endpoint, or "" when that app is not installed."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def _app_text():
    """Strings the app script shows (placeholders %(name)s are filled in by the script)."""
    return {
        "tasksUpdated": _("Updated at %(time)s."),
        "tasksOffline": _("Offline: tasks as of %(time)s."),
        "noTasksOffline": _("Offline, and no tasks saved on this phone yet."),
        "verify": _("Verify"),
        "verifyTitle": _("Verify case %(number)s"),
        "handlerSaid": _("Handling feedback: %(note)s"),
        "noteRequired": _("Say what is still wrong."),
        "verifyLabel": _("Verification of %(number)s"),
        "reportLabel": _("Report: %(description)s"),
        "patrolLabel": _("Patrol from %(time)s"),
        "savedForSending": _("Saved on the phone; it is sent as soon as there is a connection."),
        "reportSent": _("Report sent: case %(number)s."),
        "verifySent": _("Verification of %(number)s sent."),
        "patrolSaved": _("Patrol ended; the track is being sent."),
        "locating": _("Locating…"),
        "gpsFix": _("%(lon)s, %(lat)s (accuracy ±%(accuracy)s m)"),
        "gpsDenied": _("Location permission was refused."),
        "noGps": _("No position available."),
        "chooseCategory": _("Choose a category."),
        "describe": _("Describe the event."),
        "minutes": _("%(n)s min"),
        "metres": _("%(n)s m"),
        "kilometres": _("%(n)s km"),
        "coverage": "%(pct)s%",
        "waiting": _("Waiting to be sent"),
        "failed": _("Refused by the server: %(error)s"),
        "retry": _("Send again"),
        "discard": _("Delete"),
        "confirmDiscard": _("Delete this item from the phone? It has not been sent."),
        "syncing": _("Sending…"),
        "signInAgain": _("Your session has ended: sign in again to send."),
        "willRetry": _("No connection to the server; will try again."),
        "syncedAt": _("Everything sent at %(time)s."),
        "offlineNow": _("This phone is offline."),
        "kinds": {"report": _("Event report"), "verify": _("Verification"), "patrol": _("Patrol track")},
        "clock": {"normal": pgettext("clock state", "Normal"), "warning": _("Warning"), "overdue": _("Overdue"), "none": ""},
    }


@require_GET
def manifest(request):
    data = {
        "name": _("Grid inspector"),
        "short_name": _("Grid inspector"),
        "description": _("Tasks, event reports and patrols of grid inspectors, also offline."),
        "id": reverse("web:pwa"),
        "start_url": reverse("web:pwa"),
        "scope": reverse("web:pwa"),
        "display": "standalone",
        "orientation": "portrait",
        "lang": "zh-CN",
        "background_color": "#f1f4f9",
        "theme_color": "#1d4f9c",
        "icons": [
            {"src": static("web/pwa/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("web/pwa/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("web/pwa/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


# Files the app needs offline; the service worker caches them at install.
SHELL_STATIC = [
    "web/pwa/app.js",
    "web/pwa/outbox.js",
    "web/pwa/pwa.css",
    "web/pwa/icon-192.png",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
]


@require_GET
def service_worker(request):
    """/sw.js at the site root, so its scope may cover /m/ (and no more is needed)."""
    config = {
        "cache": f"gridgov-m-{APP_VERSION}",
        "shell": [reverse("web:pwa")] + [static(path) for path in SHELL_STATIC],
        "scope": reverse("web:pwa"),
        "apiPrefix": reverse("web:pwa") + "api/",
        "staticPrefix": settings.STATIC_URL,
    }
    response = render(request, "web/pwa/sw.js", {"config_json": json.dumps(config)}, content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


# --- data for the device ----------------------------------------------------------------
@never_cache
@require_GET
@api_view
def tasks(request):
    """Today's tasks: cases in the scope awaiting on-site verification, and my reports today."""
    now = timezone.now()
    to_verify = list(
        Case.objects.restrict(request.user, "verify")
        .filter(status=Status.HANDLED)
        .select_related("category")
        .order_by("due_at", "id")[:TASKS_SHOWN]
    )
    notes = _handling_notes(to_verify)
    url_template = case_url_template()
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    reported = (
        Case.objects.restrict(request.user, "view")
        .filter(reported_by=request.user, created_at__gte=start_of_day)
        .select_related("category")
        .order_by("-created_at")[:TASKS_SHOWN]
    )
    return JsonResponse(
        {
            "verify": [_task(case, now, url_template, notes.get(case.pk, "")) for case in to_verify],
            "reportedToday": [_task(case, now, url_template) for case in reported],
            "at": now.isoformat(),
        }
    )


def _handling_notes(cases):
    """The latest handling feedback of each case, in one query."""
    events = (
        CaseEvent.objects.filter(case_id__in=[case.pk for case in cases], action="handle")
        .order_by("case_id", "seq")
        .values_list("case_id", "note")
    )
    return dict(events)  # later events overwrite earlier ones


def _task(case, now, url_template, handling_note=""):
    return {
        "id": case.pk,
        "number": case.number,
        "version": case.version,
        "status": case.status,
        "statusLabel": case.get_status_display(),
        "category": case.category.name if case.category_id else "",
        "description": case.description,
        "address": case.address,
        "lon": case.lon,
        "lat": case.lat,
        "clock": clock_state(case, now) or "none",
        "dueAt": case.due_at.isoformat() if case.due_at else None,
        "handlingNote": handling_note,
        "url": url_template.replace("__pk__", str(case.pk)),
    }


@require_GET
@api_view
def categories(request):
    """Active 小类 grouped under their 大类, for the picker (cached on the device)."""
    rows = (
        Category.objects.restrict(request.user, "view")
        .filter(is_active=True, parent__isnull=False, parent__is_active=True)
        .select_related("parent")
        .order_by("parent__kind", "parent__code", "code")
    )
    groups = {}
    for category in rows:
        # 事件 and 部件 share major-class names (市容环境): name the kind too.
        label = f"{category.parent.name}（{category.parent.get_kind_display()}）"
        group = groups.setdefault(category.parent_id, {"name": label, "items": []})
        group["items"].append({"id": category.pk, "code": category.code, "name": category.name, "keywords": category.keywords})
    return JsonResponse({"groups": list(groups.values())})


# --- queued requests from the device ------------------------------------------------------
def _device_key(value):
    """The uuid the device made for this request."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationFailed.field("key", _("A request key made by the device is required."), code="invalid_key") from None


@require_POST
@api_view
def report(request):
    """An event reported in the field (网格巡查). The same key returns the first case."""
    key = _device_key(request.POST.get("key"))
    case, created = services.create_case(
        request.user,
        channel=Channel.GRID_PATROL,
        description=request.POST.get("description", ""),
        category=request.POST.get("category") or None,
        lon=request.POST.get("lon") or None,
        lat=request.POST.get("lat") or None,
        crs="wgs84",
        address=request.POST.get("address", ""),
        photos=request.FILES.getlist("photos"),
        idempotency_key=f"m:{key}",
    )
    return JsonResponse(_result(case, created), status=201 if created else 200)


def _result(case, created):
    return {
        "created": created,
        "id": case.pk,
        "number": case.number,
        "status": case.status,
        "statusLabel": case.get_status_display(),
        "url": case_url_template().replace("__pk__", str(case.pk)),
    }


@require_POST
@api_view
def verification(request):
    """On-site verification (核查) of a handled case; the same key returns the first result."""
    key = _device_key(request.POST.get("key"))
    done = _submitted(key, request.user, "verify")
    if done is not None:
        return JsonResponse(_result(done, False))
    case = _case_or_404(request.user, request.POST.get("case"))
    passed = request.POST.get("passed") in ("1", "true", "yes")
    try:
        with transaction.atomic():
            case = services.verify(
                case, request.user, passed=passed, note=request.POST.get("note", ""), photos=request.FILES.getlist("photos")
            )
            DeviceSubmission.objects.create(key=key, user=request.user, kind="verify", case=case)
    except (IntegrityError, DomainError):
        # A concurrent resend of the same key won the race: answer with its result.
        done = _submitted(key, request.user, "verify")
        if done is None:
            raise
        return JsonResponse(_result(done, False))
    return JsonResponse(_result(case, True), status=201)


def _submitted(key, user, kind):
    submission = DeviceSubmission.objects.filter(key=key).select_related("case").first()
    if submission is None:
        return None
    if submission.user_id != user.pk or submission.kind != kind:
        raise Forbidden(_("This request key belongs to another request."), code="key_reused")
    return submission.case


def _case_or_404(user, value):
    if not str(value or "").isdigit():
        raise ValidationFailed.field("case", _("Choose a case."), code="required")
    case = Case.objects.restrict(user, "view").filter(pk=int(value)).first()
    if case is None:
        raise NotFound(_("This case does not exist or is outside your area."), code="case_not_found")
    return case


@require_POST
@api_view
def patrol(request):
    """Upload (again) a patrol track: an upsert on the device's key."""
    data = _json_body(request)
    key = _device_key(data.get("key"))
    points = clean_points(data.get("points"))
    if not points:
        raise ValidationFailed.field("points", _("The track has no valid GPS points."), code="empty_track")
    scope = request.user.scope
    if scope is None:
        raise Forbidden(_("You have no area of responsibility to patrol."), code="out_of_scope")
    fields = {
        "user": request.user,
        "region_code": scope.code,
        "started_at": _from_ms(points[0][3]),
        "ended_at": _from_ms(points[-1][3]),
        "points": points,
        "point_count": len(points),
        "distance_m": round(track_length_m(points), 1),
        "finished": bool(data.get("finished")),
    }
    with transaction.atomic():
        track = PatrolTrack.objects.select_for_update().filter(key=key).first()
        if track is not None and track.user_id != request.user.pk:
            raise Forbidden(_("This request key belongs to another request."), code="key_reused")
        if track is not None and track.point_count > len(points):
            return JsonResponse(_track_result(track))  # an older copy arrived late: keep the longer one
        track, created = PatrolTrack.objects.update_or_create(key=key, defaults=fields)
    return JsonResponse(_track_result(track), status=201 if created else 200)


def _track_result(track):
    return {"key": track.key, "points": track.point_count, "distanceM": track.distance_m, "finished": track.finished}


def _json_body(request):
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(_("The request is not valid JSON."), code="parse_error") from None
    if not isinstance(data, dict):
        raise ValidationFailed(_("The request is not valid JSON."), code="parse_error")
    return data


def clean_points(raw):
    """Valid [lon, lat, accuracy_m, unix_ms] points in time order; malformed ones are dropped."""
    if not isinstance(raw, list):
        return []
    points = []
    for item in raw[:MAX_TRACK_POINTS]:
        point = _point(item)
        if point is not None:
            points.append(point)
    points.sort(key=lambda point: point[3])
    return points


def _point(item):
    if not isinstance(item, (list, tuple)) or len(item) != 4:
        return None
    if any(isinstance(value, bool) or not isinstance(value, (int, float)) for value in item):
        return None
    lon, lat, accuracy, at_ms = item
    if not all(math.isfinite(value) for value in item):
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90 and 0 <= accuracy < 100_000 and at_ms > 0):
        return None
    return [round(lon, 7), round(lat, 7), round(accuracy, 1), int(at_ms)]


def _from_ms(at_ms):
    return datetime.fromtimestamp(at_ms / 1000, tz=timezone.get_current_timezone())


def track_length_m(points):
    return sum(_distance_m(a, b) for a, b in zip(points, points[1:]))


def _distance_m(a, b):
    phi1, phi2 = math.radians(a[1]), math.radians(b[1])
    dphi, dlmb = phi2 - phi1, math.radians(b[0] - a[0])
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


# --- patrol coverage ----------------------------------------------------------------------
@never_cache
@require_GET
@api_view
def coverage(request):
    """Patrol coverage of the user's grids over the last days: the share of each grid's
    H3 cells (resolution 10) that a precise enough GPS point of any track fell into."""
    days = _days(request.GET.get("days"))
    since = timezone.now() - timedelta(days=days)
    grids = list(
        Region.objects.restrict(request.user, "view")
        .filter(level=Level.GRID, boundary__isnull=False)
        .order_by("code")[:COVERAGE_MAX_GRIDS]
    )
    visited = _visited_cells(request.user, grids, since)
    return JsonResponse({"days": days, "grids": [_grid_coverage(grid, visited) for grid in grids]})


def _days(value):
    try:
        return min(max(int(value), 1), 90)
    except (TypeError, ValueError):
        return COVERAGE_DAYS_DEFAULT


def _visited_cells(user, grids, since):
    """H3 cells with at least one precise point of a track in these grids since `since`."""
    if not grids:
        return set()
    codes = [grid.code for grid in grids]
    tracks = PatrolTrack.objects.filter(ended_at__gte=since).only("points")
    tracks = tracks.filter(region_code__in=_codes_and_ancestors(codes))
    cells = set()
    for track in tracks.iterator(chunk_size=200):
        for lon, lat, accuracy, _at in track.points:
            if accuracy <= COVERAGE_MAX_ACCURACY_M:
                cells.add(h3.latlng_to_cell(lat, lon, COVERAGE_RESOLUTION))
    return cells


def _codes_and_ancestors(codes):
    # A track is filed under its inspector's scope: the grid itself or, for a grid lead, the community.
    return sorted({code[:length] for code in codes for length in (6, 9, 12, 15) if length <= len(code)})


def grid_cells(boundary):
    """H3 cells (resolution 10) whose centres lie inside a GeoJSON (Multi)Polygon."""
    shape = h3.geo_to_h3shape(boundary)
    return set(h3.h3shape_to_cells(shape, COVERAGE_RESOLUTION))


def _grid_coverage(grid, visited):
    cells = grid_cells(grid.boundary)
    seen = cells & visited
    return {
        "code": grid.code,
        "name": grid.name,
        "cells": len(cells),
        "visitedCells": len(seen),
        "ratio": round(len(seen) / len(cells), 4) if cells else 0.0,
        "boundary": grid.boundary,
        "visited": [_cell_ring(cell) for cell in sorted(seen)],
    }


def _cell_ring(cell):
    ring = [[lng, lat] for lat, lng in h3.cell_to_boundary(cell)]
    return ring + [ring[0]]
