"""Pages of the cases app, mounted at /cases/. Each page module adds its block of routes."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    # Case page and its actions (views.py)
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/reporter/", views.reveal_reporter, name="reveal_reporter"),
    path("<int:pk>/photos/<int:attachment_pk>/", views.case_photo, name="photo"),
    path("<int:pk>/act/<slug:action>/", views.case_action, name="act"),
    path("batch/", views.batch_action, name="batch"),
]
