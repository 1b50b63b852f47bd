"""Pages of the shell. Other modules of this app add their routes below (one block each)."""

from django.urls import path

from . import views, views_map, views_pwa

app_name = "web"

urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/export.xlsx", views.notification_export, name="notifications_export"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notification_read_all, name="notifications_read_all"),
    # Map page and its data (views_map.py)
    path("map/", views_map.map_page, name="map"),
    path("map/boundaries.geojson", views_map.boundaries, name="map_boundaries"),
    path("map/cases.json", views_map.case_points, name="map_cases"),
    path("map/heat.geojson", views_map.heat_cells, name="map_heat"),
    # Grid inspectors' app (views_pwa.py); the service worker lives at the root
    path("m/", views_pwa.app_shell, name="pwa"),
    path("m/manifest.webmanifest", views_pwa.manifest, name="pwa_manifest"),
    path("m/api/tasks/", views_pwa.tasks, name="pwa_tasks"),
    path("m/api/categories/", views_pwa.categories, name="pwa_categories"),
    path("m/api/reports/", views_pwa.report, name="pwa_report"),
    path("m/api/verifications/", views_pwa.verification, name="pwa_verify"),
    path("m/api/patrols/", views_pwa.patrol, name="pwa_patrol"),
    path("m/api/coverage/", views_pwa.coverage, name="pwa_coverage"),
    path("sw.js", views_pwa.service_worker, name="pwa_sw"),
]
