"""SQLite's planner statistics are refreshed after a migrate that changed something."""

import pytest
from django.apps import apps
from django.db import connection

from gridgov.core.apps import analyze_sqlite


@pytest.mark.django_db
def test_a_migrate_with_a_plan_leaves_statistics_on_sqlite():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    analyze_sqlite(sender=list(apps.get_app_configs())[-1], using="default", plan=[("migration", False)])
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT COUNT(*) FROM sqlite_stat1")
            assert cursor.fetchone()[0] > 0
        else:  # PostgreSQL analyses on its own: nothing is run, nothing breaks
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
