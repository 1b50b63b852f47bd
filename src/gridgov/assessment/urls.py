"""Pages of the assessment app."""

from django.urls import path

from . import views

app_name = "assessment"

urlpatterns = [
    path("", views.my_sheet, name="my_sheet"),
    path("sheets/", views.sheet_list, name="sheets"),
    path("sheets/export.xlsx", views.export_sheets, name="export"),
    path("sheets/generate/", views.generate, name="generate"),
    path("sheets/<int:pk>/", views.sheet_detail, name="sheet"),
    path("sheets/<int:pk>/manual/", views.add_manual_item, name="add_manual_item"),
    path("sheets/<int:pk>/lock/", views.lock, name="lock"),
    path("meetings/", views.meeting_list, name="meetings"),
    path("meetings/export.xlsx", views.export_meetings, name="meetings_export"),
    path("meetings/new/", views.meeting_new, name="meeting_new"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
]
