"""Pages of the supervision app."""

from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("", views.index, name="index"),
    path("orders.xlsx", views.export_orders, name="export_orders"),
    path("late-check-ins.xlsx", views.export_late, name="export_late"),
    path("cases/<int:case_pk>/whistle/", views.blow, name="blow"),
    path("cases/<int:case_pk>/check-in/", views.check_in, name="check_in"),
    path("cases/<int:case_pk>/urge/", views.issue_order, {"kind": "urge"}, name="urge"),
    path("cases/<int:case_pk>/supervise/", views.issue_order, {"kind": "supervision"}, name="supervise"),
    path("cases/<int:case_pk>/orders/<int:order_pk>/reply/", views.reply, name="reply"),
]
