from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TriageConfig(AppConfig):
    name = "gridgov.triage"
    verbose_name = _("Smart dispatch")

    def ready(self):
        from gridgov.cases import detail
        from gridgov.org.roles import Role
        from gridgov.web.navigation import NavItem, register

        from . import permissions  # noqa: F401  (registers case.merge, triage.suggest)
        from .panels import merge_panel

        if merge_panel not in detail.DETAIL_PANELS:
            detail.DETAIL_PANELS.append(merge_panel)
        detail.EVENT_LABELS.setdefault("merge", _("Merged into another case"))
        detail.EVENT_LABELS.setdefault("merge_in", _("Duplicate merged in"))
        merge_roles = frozenset({Role.DISPATCHER, Role.SHIFT_LEAD})  # case.merge
        register(NavItem("triage:duplicates", _("Possible duplicates"), merge_roles, icon="list", order=35))
