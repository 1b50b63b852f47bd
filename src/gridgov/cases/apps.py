from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "gridgov.cases"
    verbose_name = _("Cases")

    def ready(self):
        # Registers the SQLite function the timeline triggers consult.
        from . import timeline  # noqa: F401
