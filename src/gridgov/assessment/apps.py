from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "gridgov.assessment"
    verbose_name = _("Assessment")

    def ready(self):
        from gridgov.org.permissions import GRID_STAFF, LEADERS
        from gridgov.web.navigation import NavItem, register

        from . import permissions  # noqa: F401  (adds the app's actions)

        register(NavItem("assessment:my_sheet", _("My assessment"), GRID_STAFF, icon="chart", order=60))
        register(NavItem("assessment:sheets", _("Assessment ranking"), LEADERS | {"grid_lead"}, icon="list", order=61))
        register(NavItem("assessment:meetings", _("Meetings and training"), GRID_STAFF | LEADERS, icon="flag", order=62))
