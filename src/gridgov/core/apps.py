from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "gridgov.core"
    verbose_name = _("Core")

    def ready(self):
        from .thirdparty import name_third_party_apps

        post_migrate.connect(analyze_sqlite, dispatch_uid="gridgov_core_analyze_sqlite")
        name_third_party_apps()


def analyze_sqlite(sender, using="default", plan=None, **kwargs):
    """Refresh SQLite's planner statistics once per `migrate` that changed anything.

    SQLite never gathers statistics by itself: an index added by a migration has none, and
    the planner then picked it where it is slow (the big screen's overview took 185 ms
    instead of 83 over 1M cases, docs/benchmarks.md). PostgreSQL's autovacuum analyses on
    its own. post_migrate comes once per app: only the last app's signal runs ANALYZE."""
    from django.apps import apps
    from django.db import connections

    connection = connections[using]
    last_app = list(apps.get_app_configs())[-1]
    if connection.vendor != "sqlite" or sender is not last_app or not plan:
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
