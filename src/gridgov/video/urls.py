"""Pages of the video app."""

from django.urls import path

from . import views

app_name = "video"

urlpatterns = [
    path("cameras/", views.camera_list, name="cameras"),
    path("cameras/export/", views.camera_export, name="camera_export"),
    path("cameras/import/", views.camera_import, name="camera_import"),
    path("cameras/<int:pk>/stream/", views.camera_stream, name="camera_stream"),
    path("alarms/", views.alarm_list, name="alarms"),
    path("alarms/export/", views.alarm_export, name="alarm_export"),
    path("alarms/<int:pk>/dismiss/", views.alarm_dismiss, name="alarm_dismiss"),
]
