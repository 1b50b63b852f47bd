"""Pages of the proactive app."""

from django.urls import path

from . import views

app_name = "proactive"

urlpatterns = [
    path("", views.hot_topics, name="hot_topics"),
    path("export.xlsx", views.export_hot_topics, name="export"),
    path("open-case/", views.open_case, name="open_case"),
    path("projects/", views.project_list, name="projects"),
    path("projects/export.xlsx", views.export_projects, name="projects_export"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/status/", views.project_status, name="project_status"),
]
