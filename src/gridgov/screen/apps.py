from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreenConfig(AppConfig):
    name = "gridgov.screen"
    verbose_name = _("Big screen")

    def ready(self):
        from gridgov.cases import changes
        from gridgov.cases.models import Case
        from gridgov.cases.signals import case_recorded, cases_recorded

        from gridgov.web.navigation import NavItem, register

        from . import daycounts
        from .access import LEADER_ROLES
        from .signals import on_case_recorded, on_cases_recorded

        # In the menu of exactly the roles the page lets in (a wall display uses a kiosk link).
        register(NavItem("screen:screen", _("Big screen"), frozenset(LEADER_ROLES), icon="chart", order=51))

        # The live feed row is written in the transition's own transaction (one INSERT);
        # the daily counts are refreshed in batches by the worker.
        case_recorded.connect(on_case_recorded, sender=Case, dispatch_uid="gridgov.screen.live")
        cases_recorded.connect(on_cases_recorded, sender=Case, dispatch_uid="gridgov.screen.live_bulk")
        changes.register("screen.daycounts", daycounts.refresh_cases)
        daycounts.connect_signals()
