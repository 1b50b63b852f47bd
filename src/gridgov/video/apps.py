from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VideoConfig(AppConfig):
    name = "gridgov.video"
    verbose_name = _("Cameras and alarms")

    def ready(self):
        from gridgov.org.permissions import CENTRE_STAFF, GRID_STAFF, LEADERS
        from gridgov.web.navigation import NavItem, register

        from django.db.models.signals import post_delete, post_save

        from . import permissions  # noqa: F401  (registers camera.* and alarm.* actions)
        from .alarms import clear_rules_cache
        from .models import AlarmRule, AlarmSource
        from .signing import clear_sources_cache

        post_save.connect(clear_rules_cache, sender=AlarmRule, dispatch_uid="gridgov.video.rules")
        post_delete.connect(clear_rules_cache, sender=AlarmRule, dispatch_uid="gridgov.video.rules_deleted")
        post_save.connect(clear_sources_cache, sender=AlarmSource, dispatch_uid="gridgov.video.sources")
        post_delete.connect(clear_sources_cache, sender=AlarmSource, dispatch_uid="gridgov.video.sources_deleted")

        register(NavItem("video:alarms", _("Alarms"), CENTRE_STAFF | GRID_STAFF | LEADERS, icon="alert", order=37))
        register(NavItem("video:cameras", _("Cameras"), CENTRE_STAFF | LEADERS, icon="eye", order=38))
