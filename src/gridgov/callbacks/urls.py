"""Pages of the callbacks app."""

from django.urls import path

from . import views

app_name = "callbacks"

urlpatterns = [
    path("", views.callback_list, name="list"),
    path("export.xlsx", views.export_xlsx, name="export"),
    path("<int:pk>/", views.callback_detail, name="detail"),
    path("<int:pk>/reveal/", views.reveal_reporter, name="reveal"),
    path("<int:pk>/result/", views.record, name="record"),
]
