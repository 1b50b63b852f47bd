from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Hotline12345Config(AppConfig):
    name = "gridgov.hotline"
    verbose_name = _("12345 hotline")

    def ready(self):
        from gridgov.cases.models import Case
        from gridgov.cases.signals import case_changed
        from gridgov.org.permissions import CENTRE_STAFF, LEADERS
        from gridgov.web.navigation import NavItem, register

        from . import permissions  # noqa: F401  (adds the hotline.* actions)
        from .replies import on_case_changed

        case_changed.connect(on_case_changed, sender=Case, dispatch_uid="gridgov.hotline.closure_reply")
        register(NavItem("hotline:orders", _("12345 hotline"), CENTRE_STAFF | LEADERS, icon="inbox", order=35))
        _add_case_panel()


def _add_case_panel():
    """The hotline deadline on the case page (if the cases app offers detail panels)."""
    from gridgov.cases import detail

    from .views import case_panel

    panels = getattr(detail, "DETAIL_PANELS", None)
    if panels is not None and case_panel not in panels:
        panels.append(case_panel)
