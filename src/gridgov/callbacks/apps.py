from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallbacksConfig(AppConfig):
    name = "gridgov.callbacks"
    verbose_name = _("Callbacks")

    def ready(self):
        from gridgov.cases.signals import case_changed

        from . import permissions  # noqa: F401  (registers the actions)
        from .services import on_case_changed

        case_changed.connect(on_case_changed, dispatch_uid="callbacks_due_after_closure")
        _register_menu()
        _add_case_panel()


def _register_menu():
    from gridgov.org.permissions import CENTRE_STAFF, LEADERS
    from gridgov.web.navigation import NavItem, register

    register(NavItem("callbacks:list", _("Callbacks"), CENTRE_STAFF | LEADERS, icon="bell", order=35))


def _add_case_panel():
    """The latest callback on the case page (if the cases app offers detail panels)."""
    from gridgov.cases import detail

    from .views import case_panel

    panels = getattr(detail, "DETAIL_PANELS", None)
    if panels is not None and case_panel not in panels:
        panels.append(case_panel)
