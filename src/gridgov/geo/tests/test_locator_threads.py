"""The locator under threads: a lookup made after a committed change never gets an index
built before it (gridgov.geo.locator, "Threads")."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from gridgov.geo import locator
from gridgov.geo.models import Region

IN_GRID_22 = (117.035, 36.69)


def _in_thread(target):
    """Run `target` in a thread with its own connection; returns (thread, result dict)."""
    result = {}

    def run():
        try:
            result["value"] = target()
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.django_db(transaction=True)
def test_a_lookup_during_a_rebuild_waits_for_the_new_index(region_tree, monkeypatch):
    grid = region_tree["grid22"]
    assert locator.locate(*IN_GRID_22).grid_id == grid.pk
    grid.delete()  # committed: every later lookup must miss the grid

    # Hold one thread inside the rebuild (after it read the rows) while another looks up.
    rows_read, release = threading.Event(), threading.Event()
    load_rows = locator._load_rows

    def load_and_hold():
        rows = load_rows()
        rows_read.set()
        release.wait(30)
        return rows

    monkeypatch.setattr(locator, "_load_rows", load_and_hold)
    rebuilder, rebuilt = _in_thread(lambda: locator.locate(*IN_GRID_22))
    assert rows_read.wait(30)
    reader, read = _in_thread(lambda: locator.locate(*IN_GRID_22))
    reader.join(0.5)  # before the fix the reader answered at once, from the old index
    release.set()
    rebuilder.join()
    reader.join()
    assert "error" not in rebuilt and "error" not in read
    assert rebuilt["value"].inside_grid is False
    assert read["value"].inside_grid is False and read["value"].grid_id is None


@pytest.mark.django_db(transaction=True)
def test_an_index_rebuilt_before_a_change_commits_is_dropped_at_commit(region_tree):
    """A writer deletes a grid (the signal invalidates the index), another thread rebuilds
    from the committed rows (the grid is still there), then the writer commits: the next
    lookup must not come from that rebuild. (The in-memory SQLite test database refuses the
    read while the write is open, so there the rebuild simply happens after the commit.)"""
    grid = region_tree["grid22"]
    assert locator.locate(*IN_GRID_22).grid_id == grid.pk
    deleted, commit = threading.Event(), threading.Event()

    def delete_and_wait():
        with transaction.atomic():
            Region.objects.get(pk=grid.pk).delete()
            deleted.set()
            commit.wait(30)

    writer, written = _in_thread(delete_and_wait)
    assert deleted.wait(30)
    try:
        before_commit = locator.locate(*IN_GRID_22)
        assert before_commit.grid_id == grid.pk  # not committed yet: still there
    except OperationalError:
        pass  # SQLite: "table is locked" until the writer commits
    commit.set()
    writer.join()
    assert "error" not in written
    assert locator.locate(*IN_GRID_22).inside_grid is False
