from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProactiveConfig(AppConfig):
    name = "gridgov.proactive"
    verbose_name = _("Proactive governance")

    def ready(self):
        from gridgov.web.navigation import NavItem, register

        from . import permissions

        register(NavItem("proactive:hot_topics", _("Monthly hot topics"), permissions.READERS, icon="alert", order=55))
        register(NavItem("proactive:projects", _("Proactive projects"), permissions.READERS, icon="flag", order=56))
