from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreenConfig(AppConfig):
    name = "gridgov.screen"
    verbose_name = _("Big screen")

    def ready(self):
        from gridgov.cases.models import Case
        from gridgov.cases.signals import case_changed

        from . import daycounts
        from .signals import on_case_changed

        case_changed.connect(on_case_changed, sender=Case, dispatch_uid="gridgov.screen.live")
        case_changed.connect(daycounts.on_case_changed, sender=Case, dispatch_uid="gridgov.screen.daycounts")
        daycounts.connect_signals()
