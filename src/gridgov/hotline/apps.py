from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Hotline12345Config(AppConfig):
    name = "gridgov.hotline"
    verbose_name = _("12345 hotline")
