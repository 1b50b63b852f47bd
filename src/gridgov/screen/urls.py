"""Pages of the big screen (/screen/)."""

from django.urls import path

from . import views

app_name = "screen"

urlpatterns = [
    path("", views.screen, name="screen"),
]
