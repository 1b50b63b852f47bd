from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MetricsConfig(AppConfig):
    name = "gridgov.metrics"
    verbose_name = _("Metrics")

    def ready(self):
        from gridgov.cases import changes
        from gridgov.org.permissions import CENTRE_STAFF, LEADERS
        from gridgov.org.roles import Role
        from gridgov.web.navigation import NavItem, register

        from . import permissions  # noqa: F401  (registers the actions)
        from .facts import refresh_cases

        changes.register("metrics.facts", refresh_cases)
        register(NavItem("metrics:overview", _("Metrics"), LEADERS | CENTRE_STAFF | {Role.GRID_LEAD}, icon="chart", order=52))
