from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeoConfig(AppConfig):
    name = "gridgov.geo"
    verbose_name = _("Regions and grids")

    def ready(self):
        # Connects the signals that keep the locator index fresh.
        from . import locator  # noqa: F401
        from . import addresses
        from .estates import connect_signals

        connect_signals()
        addresses.connect_signals()
