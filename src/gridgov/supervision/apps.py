from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SupervisionConfig(AppConfig):
    name = "gridgov.supervision"
    verbose_name = _("Supervision")

    def ready(self):
        from gridgov.web.navigation import NavItem, register

        from . import permissions  # noqa: F401  (adds the permission actions)
        from . import hooks

        hooks.install()
        register(NavItem("supervision:index", pgettext_lazy("menu", "Supervision"), icon="flag", order=55))
