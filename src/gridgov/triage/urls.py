"""Pages of the triage app."""

from django.urls import path

from . import views

app_name = "triage"

urlpatterns = [
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("cases/<int:pk>/duplicates/", views.case_duplicates, name="case_duplicates"),
    path("cases/<int:pk>/reporters/", views.reveal_reporters, name="reveal_reporters"),
    path("merge/", views.merge, name="merge"),
    path("suggest/", views.suggestions, name="suggest"),
]
