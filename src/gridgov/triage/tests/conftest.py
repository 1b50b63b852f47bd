"""Fixtures of the triage tests: the cases app's staff, catalogue and flow, plus a fresh rulebook."""

import pytest

from gridgov.cases.tests.conftest import (  # noqa: F401  (fixtures by name)
    IN_GRID_11,
    IN_GRID_21,
    MONDAY_9,
    categories,
    flow,
    other_department,
    quick_user,
    staff,
)
from gridgov.cases.tests.ui_fixtures import login  # noqa: F401
from gridgov.triage import classifier, rulebook


@pytest.fixture(autouse=True)
def _fresh_triage_caches():
    """Rolled-back categories and models of earlier tests must not linger in process caches."""
    rulebook.table.clear()
    classifier._loaded.version = None
    yield
    rulebook.table.clear()
    classifier._loaded.version = None
