"""Pages of the hotline app."""

from django.urls import path

from . import views

app_name = "hotline"

urlpatterns = [
    path("", views.order_list, name="orders"),
    path("orders/<int:pk>/", views.order_detail, name="order"),
    path("export.xlsx", views.export_orders, name="export"),
    path("replies.xlsx", views.export_replies, name="export_replies"),
    path("replies/<int:pk>/retry/", views.retry_reply, name="retry_reply"),
    path("import/", views.import_form, name="import"),
    path("import/<int:pk>/", views.import_status, name="import_status"),
]
