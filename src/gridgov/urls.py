from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from gridgov.core.views import healthz
from gridgov.live.views import events as live_events
from gridgov.video.api import webhook_path

# Cases first: URL resolution tries the patterns in order, and every miss costs (an API
# create spent 0.2 ms resolving its URL behind org, geo and catalog).
API_APPS = [
    "cases", "org", "geo", "catalog", "screen",
    "hotline", "video", "triage", "supervision", "callbacks", "metrics", "assessment", "proactive",
]

# The alarm webhook goes before them all: one literal route, and platforms push alarms in
# bursts (behind every app's patterns its URL took a tenth of a push's CPU to resolve).
api_patterns = [webhook_path, *(path("", include(f"gridgov.{app}.api")) for app in API_APPS)]

urlpatterns = [
    path("api/v1/", include((api_patterns, "api"), namespace="api")),
    path("healthz", healthz, name="healthz"),
    path("healthz/", healthz),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("cases/", include("gridgov.cases.urls")),
    path("geo/", include("gridgov.geo.urls")),
    path("screen/", include("gridgov.screen.urls")),
    path("hotline/", include("gridgov.hotline.urls")),
    path("video/", include("gridgov.video.urls")),
    path("triage/", include("gridgov.triage.urls")),
    path("supervision/", include("gridgov.supervision.urls")),
    path("callbacks/", include("gridgov.callbacks.urls")),
    path("metrics/", include("gridgov.metrics.urls")),
    path("assessment/", include("gridgov.assessment.urls")),
    path("proactive/", include("gridgov.proactive.urls")),
    path("open311/", include("gridgov.open311.urls")),
    path("events/", live_events, name="live-events"),
    path("", include("gridgov.web.urls")),
]

# Unknown /api/ addresses answer in the API's JSON error format.
handler404 = "gridgov.core.api.not_found"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
