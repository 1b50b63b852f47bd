"""Pages of the video app: cameras (list, map, export, import) and alarms (list, dismiss)."""


from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gridgov.core.errors import DomainError
from gridgov.core.listing import query_without
from gridgov.core.xlsx import excel_time, xlsx_response
from gridgov.org.permissions import allowed

from . import permissions  # noqa: F401
from .alarms import dismiss_alarm
from .cameras import masked_stream_url, save_cameras, stream_url_for
from .filters import AlarmFilterSet, CameraFilterSet
from .importing import read_rows
from .models import Alarm, AlarmStatus, Camera, CameraStatus

PAGE_SIZE = 50
MAP_POINTS = 5000
EXPORT_MAX_ROWS = 50000
CAMERA_SORTS = ["code", "-code", "name", "-name", "status", "-status", "last_seen_at", "-last_seen_at"]


def filtered_cameras(request):
    filterset = CameraFilterSet(request.GET, queryset=Camera.objects.restrict(request.user, "view").select_related("grid"))
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    sort = request.GET.get("sort", "code")
    sort = sort if sort in CAMERA_SORTS else "code"
    return filterset, queryset.order_by(sort, "id"), sort


@login_required
@require_GET
def camera_list(request):
    filterset, queryset, sort = filtered_cameras(request)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    points = [
        [c["code"], c["name"], round(c["lon"], 6), round(c["lat"], 6), c["status"] == CameraStatus.ONLINE]
        for c in queryset.values("code", "name", "lon", "lat", "status")[:MAP_POINTS]
    ]
    return render(request, "video/camera_list.html", {
        "filterset": filterset,
        "page": page,
        "sort": sort,
        "query": query_without(request, "sort", "page"),
        "export_query": query_without(request, "page"),
        "points": points,
        "map_config": {"tileUrl": settings.GRIDGOV_MAP_TILE_URL},
        "may_import": allowed(request.user, "camera.change"),
        "may_view_stream": allowed(request.user, "camera.view_stream"),
        "rows": [(camera, masked_stream_url(camera.stream_url)) for camera in page.object_list],
    })


EXPORT_HEADERS = [
    gettext_noop("Code"), gettext_noop("Name"), gettext_noop("Longitude"), gettext_noop("Latitude"),
    gettext_noop("Grid"), gettext_noop("Region code"), gettext_noop("Vendor"), gettext_noop("Stream URL"),
    gettext_noop("Status"), gettext_noop("Last seen"),
]


@login_required
@require_GET
def camera_export(request):
    """The current filter as .xlsx (stream URLs masked), written in constant memory."""
    _filterset, queryset, _sort = filtered_cameras(request)
    rows = (
        [
            camera.code, camera.name, camera.lon, camera.lat, camera.grid.name if camera.grid_id else "",
            camera.region_code, camera.vendor, masked_stream_url(camera.stream_url), camera.get_status_display(),
            excel_time(camera.last_seen_at),
        ]
        for camera in queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    return xlsx_response(f"cameras-{timezone.localtime():%Y%m%d-%H%M}.xlsx", _("Cameras"), EXPORT_HEADERS, rows)


@login_required
@require_http_methods(["GET", "POST"])
def camera_import(request):
    """Upload a CSV/Excel file; every bad row is listed and nothing is written."""
    if not allowed(request.user, "camera.change"):
        return HttpResponseForbidden(_("Only system administrators import cameras."))
    errors = {}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise_missing_file()
            created, updated = save_cameras(request.user, read_rows(upload.read(), upload.name))
        except DomainError as exc:
            errors = {"message": exc.message, "fields": exc.fields}
        else:
            messages.success(request, _("Cameras imported: %(created)d new, %(updated)d updated.") % {"created": created, "updated": updated})
            return redirect("video:cameras")
    return render(request, "video/camera_import.html", {"errors": errors}, status=400 if errors else 200)


def raise_missing_file():
    from gridgov.core.errors import ValidationFailed

    raise ValidationFailed.field("file", _("Choose a file."), code="required")


@login_required
@require_POST
def camera_stream(request, pk):
    """htmx: reveal one stream URL (camera.view_stream; the read is audit-logged)."""
    camera = get_object_or_404(Camera.objects.restrict(request.user, "view"), pk=pk)
    try:
        url = stream_url_for(request.user, camera)
    except DomainError as exc:
        return HttpResponseForbidden(exc.message)
    return render(request, "video/_stream.html", {"url": url})


ALARM_SORTS = ["-started_at", "started_at", "status", "-status", "source", "-source"]


def filtered_alarms(request):
    filterset = AlarmFilterSet(request.GET, queryset=Alarm.objects.restrict(request.user, "view").select_related("camera", "case"))
    queryset = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    sort = request.GET.get("sort", "-started_at")
    sort = sort if sort in ALARM_SORTS else "-started_at"
    return filterset, queryset.order_by(sort, "-id"), sort


@login_required
@require_GET
def alarm_list(request):
    filterset, queryset, sort = filtered_alarms(request)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "video/alarm_list.html", {
        "filterset": filterset,
        "page": page,
        "points": alarm_points(queryset),
        "map_config": {"tileUrl": settings.GRIDGOV_MAP_TILE_URL},
        "sort": sort,
        "query": query_without(request, "sort", "page"),
        "export_query": query_without(request, "page"),
        "may_dismiss": allowed(request.user, "alarm.dismiss"),
        "dismissed": AlarmStatus.DISMISSED,
    })


def alarm_points(queryset):
    """The map's points of the filtered alarms (the first MAP_POINTS in the list's order):
    [time, label, lon, lat, not dismissed], at the alarm's own position or else its camera's."""
    points = []
    rows = queryset.values_list("started_at", "label", "lon", "lat", "camera__lon", "camera__lat", "status")
    for started_at, label, lon, lat, camera_lon, camera_lat, status in rows[:MAP_POINTS]:
        if lon is None or lat is None:
            lon, lat = camera_lon, camera_lat
        if lon is None or lat is None:
            continue
        moment = timezone.localtime(started_at).strftime("%Y-%m-%d %H:%M")
        points.append([moment, label, round(lon, 6), round(lat, 6), status != AlarmStatus.DISMISSED])
    return points


ALARM_EXPORT_HEADERS = [
    gettext_noop("Time"), gettext_noop("Source"), gettext_noop("Camera or device"), gettext_noop("Event id"),
    gettext_noop("Label"), gettext_noop("Zones"), gettext_noop("Value"), gettext_noop("Threshold"),
    gettext_noop("Region code"), gettext_noop("Status"), gettext_noop("Case"),
]


@login_required
@require_GET
def alarm_export(request):
    """The current alarm filter as .xlsx (in the user's scope)."""
    _filterset, queryset, _sort = filtered_alarms(request)
    rows = (
        [
            excel_time(alarm.started_at), alarm.source,
            alarm.camera.name if alarm.camera_id else alarm.origin, alarm.external_id, alarm.label,
            ", ".join(alarm.zones), alarm.value, alarm.threshold, alarm.region_code, alarm.get_status_display(),
            alarm.case.number if alarm.case_id else "",
        ]
        for alarm in queryset[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    return xlsx_response(f"alarms-{timezone.localtime():%Y%m%d-%H%M}.xlsx", _("Alarms"), ALARM_EXPORT_HEADERS, rows)




@login_required
@require_POST
def alarm_dismiss(request, pk):
    alarm = get_object_or_404(Alarm.objects.restrict(request.user, "view"), pk=pk)
    try:
        dismiss_alarm(alarm, request.user, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The alarm was dismissed."))
    return redirect(request.POST.get("next") or "video:alarms")
