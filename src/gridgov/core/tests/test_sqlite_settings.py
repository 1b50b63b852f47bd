"""The embedded default's SQLite connection settings (decisions 0004 and 0013)."""

import pytest
from django.conf import settings
from django.db.utils import ConnectionHandler


@pytest.fixture(autouse=True)
def own_database(django_db_blocker):
    """A file database of its own, opened with the embedded default's options."""
    with django_db_blocker.unblock():
        yield


def pragma(connection, name):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


def test_a_connection_of_the_embedded_default_gets_every_pragma(tmp_path):
    handler = ConnectionHandler({
        "default": {"ENGINE": "gridgov.core.sqlite", "NAME": str(tmp_path / "db.sqlite3"), "OPTIONS": dict(settings.SQLITE_OPTIONS)},
    })
    connection = handler["default"]
    try:
        assert pragma(connection, "journal_mode") == "wal"
        assert pragma(connection, "synchronous") == 1  # NORMAL
        assert pragma(connection, "foreign_keys") == 1
        assert pragma(connection, "wal_autocheckpoint") == 10000
        assert pragma(connection, "temp_store") == 2  # MEMORY: no temporary files per transaction
    finally:
        connection.close()
