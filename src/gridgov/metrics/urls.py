"""Pages of the metrics app."""

from django.urls import path

from . import views

app_name = "metrics"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("export.xlsx", views.export_xlsx, name="export"),
    path("cases/", views.drill_down, name="cases"),
    path("cases/export.xlsx", views.export_drill_down, name="cases_export"),
]
