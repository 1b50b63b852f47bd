"""The embedded default's SQLite connection settings (decisions 0004 and 0013)."""

import sqlite3

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


def embedded_default(path):
    handler = ConnectionHandler({
        "default": {"ENGINE": "gridgov.core.sqlite", "NAME": str(path), "OPTIONS": dict(settings.SQLITE_OPTIONS)},
    })
    return handler["default"]


def test_a_connection_of_the_embedded_default_gets_every_pragma(tmp_path):
    connection = embedded_default(tmp_path / "db.sqlite3")
    try:
        assert pragma(connection, "journal_mode") == "wal"
        assert pragma(connection, "synchronous") == 1  # NORMAL
        assert pragma(connection, "foreign_keys") == 1
        assert pragma(connection, "wal_autocheckpoint") == 10000
        assert pragma(connection, "temp_store") == 2  # MEMORY: no temporary files per transaction
        assert pragma(connection, "page_size") == 2048  # a new database: fewer bytes per commit
    finally:
        connection.close()


def test_a_database_made_with_other_pages_keeps_them_and_its_rows(tmp_path):
    """page_size only applies to a new database: an existing one (4,096-byte pages, SQLite's
    default) opens as it is, in WAL mode, with its data."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE note (text TEXT)")
        old.execute("INSERT INTO note VALUES ('kept')")
    old.close()
    connection = embedded_default(path)
    try:
        assert pragma(connection, "page_size") == 4096
        assert pragma(connection, "journal_mode") == "wal"
        with connection.cursor() as cursor:
            cursor.execute("SELECT text FROM note")
            assert cursor.fetchall() == [("kept",)]
    finally:
        connection.close()
