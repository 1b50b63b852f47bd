from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VideoConfig(AppConfig):
    name = "gridgov.video"
    verbose_name = _("Cameras and alarms")

    def ready(self):
        from . import permissions  # noqa: F401  (registers camera.* and alarm.* actions)
