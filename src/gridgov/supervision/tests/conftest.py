"""Supervision fixtures: the cases app's staff and flow, departments that serve regions."""

from types import SimpleNamespace

import pytest

from gridgov.cases.tests.conftest import (  # noqa: F401  (fixtures)
    MONDAY_9,
    categories,
    flow,
    other_department,
    quick_user,
    staff,
)
from gridgov.org.models import Department, Role


@pytest.fixture
def served(region_tree, department, other_department):
    """The case's department and the water bureau serve the subdistrict; a third department
    serves only community 2 (outside cases in grid 11)."""
    department.regions.add(region_tree["subdistrict"])
    other_department.regions.add(region_tree["subdistrict"])
    far = Department.objects.create(code="FAR", name="远方所", type="police")
    far.regions.add(region_tree["community2"])
    return SimpleNamespace(lead=department, co=other_department, far=far)


@pytest.fixture
def whistlers(region_tree, quick_user):
    return SimpleNamespace(
        grid_secretary=quick_user([Role.GRID_SECRETARY], scope=region_tree["grid11"]),
        community_secretary=quick_user([Role.COMMUNITY_SECRETARY], scope=region_tree["community1"]),
        far_secretary=quick_user([Role.COMMUNITY_SECRETARY], scope=region_tree["community2"]),
    )
