"""Pages of the cases app, mounted at /cases/. Each page module adds its block of routes."""

from django.urls import path

from . import views, views_intake, views_list

app_name = "cases"

urlpatterns = [
    # Case page and its actions (views.py)
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/reporter/", views.reveal_reporter, name="reveal_reporter"),
    path("<int:pk>/photos/<int:attachment_pk>/", views.case_photo, name="photo"),
    path("<int:pk>/act/<slug:action>/", views.case_action, name="act"),
    path("batch/", views.batch_action, name="batch"),
    # Case list, saved filters and export (views_list.py)
    path("", views_list.case_list, name="list"),
    path("export.xlsx", views_list.export_xlsx, name="export"),
    path("saved-filters/", views_list.save_filter, name="save_filter"),
    path("saved-filters/<int:pk>/delete/", views_list.delete_filter, name="delete_filter"),
    # Intake form and its htmx helpers (views_intake.py)
    path("new/", views_intake.intake, name="intake"),
    path("new/reporter/", views_intake.reporter_cases, name="intake_reporter"),
    path("new/categories/", views_intake.category_search, name="intake_categories"),
    path("new/check/", views_intake.location_check, name="intake_check"),
]
