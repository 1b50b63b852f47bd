"""Roles × scopes × actions on one case: `Case.objects.restrict`, `require` and `in_scope_of`.

The expectations are written out here from the domain (domain.md §2, §4), not imported from
the permission table, so a change to who may do what shows up as a failing test.
"""

import pytest

from gridgov.cases import services
from gridgov.cases.models import Case
from gridgov.core.errors import Forbidden
from gridgov.org.permissions import require
from gridgov.org.roles import Role

pytestmark = pytest.mark.django_db

CENTRE = {Role.INTAKE_CLERK, Role.DISPATCHER, Role.SHIFT_LEAD}
GRID = {Role.GRID_INSPECTOR, Role.GRID_LEAD}
LEADERS = {Role.SHIFT_LEAD, Role.SUBDISTRICT_LEADER, Role.COMMUNITY_SECRETARY, Role.GRID_SECRETARY}
DISPATCH_DESK = {Role.DISPATCHER, Role.SHIFT_LEAD}
HANDLER = {Role.DEPT_HANDLER}
LEAD = {Role.SHIFT_LEAD}

WHO_MAY = {
    "view": set(Role.values) - {Role.SYSADMIN},
    "view_reporter": CENTRE | {Role.GRID_LEAD},
    "create": CENTRE | GRID,
    "accept": DISPATCH_DESK,
    "reject": DISPATCH_DESK,
    "place": DISPATCH_DESK,
    "dispatch": DISPATCH_DESK,
    "sign": HANDLER,
    "return": HANDLER,
    "handle": HANDLER,
    "request_extension": HANDLER,
    "decide_extension": LEAD,
    "request_park": DISPATCH_DESK | HANDLER,
    "decide_park": LEAD,
    "unpark": LEAD,
    "verify": GRID,
    "close": LEAD,
    "rate": CENTRE,
    "supervise": LEADERS,
}

# scope name -> (region key in the conftest tree or None, department: "own" / "other" / None, in scope?)
SCOPES = {
    "grid": ("grid11", None, True),
    "community": ("community1", None, True),
    "district": ("district", None, True),
    "neighbouring_grid": ("grid12", None, False),
    "other_community": ("community2", None, False),
    "no_scope": (None, None, False),
    "own_department": (None, "own", True),
    "other_department": (None, "other", False),
}


@pytest.fixture
def dispatched_case(flow):
    return flow.to("dispatched")  # in grid 11, dispatched to `department`


def make(quick_user, region_tree, department, other_department, role, scope_name):
    region_key, department_key, _ = SCOPES[scope_name]
    return quick_user(
        [role],
        scope=region_tree[region_key] if region_key else None,
        department={"own": department, "other": other_department, None: None}[department_key],
    )


@pytest.mark.parametrize("scope_name", sorted(SCOPES))
@pytest.mark.parametrize("role", sorted(Role.values))
def test_restriction_matrix(role, scope_name, dispatched_case, quick_user, region_tree, department, other_department):
    user = make(quick_user, region_tree, department, other_department, role, scope_name)
    in_scope = SCOPES[scope_name][2] or role == Role.SYSADMIN
    assert dispatched_case.in_scope_of(user) == in_scope
    mismatches = []
    for action, roles in sorted(WHO_MAY.items()):
        expected = role == Role.SYSADMIN or (role in roles and in_scope)
        listed = Case.objects.restrict(user, action).filter(pk=dispatched_case.pk).exists()
        try:
            require(user, f"case.{action}", dispatched_case)
            required = True
        except Forbidden:
            required = False
        if (listed, required) != (expected, expected):
            mismatches.append(f"{action}: expected {expected}, restrict {listed}, require {required}")
    assert mismatches == []


@pytest.mark.parametrize("scope_name", sorted(SCOPES))
@pytest.mark.parametrize("role", sorted(Role.values))
def test_available_actions_never_exceed_the_matrix(role, scope_name, dispatched_case, quick_user, region_tree, department, other_department):
    user = make(quick_user, region_tree, department, other_department, role, scope_name)
    offered = set(services.available_actions(dispatched_case, user))
    in_scope = SCOPES[scope_name][2] or role == Role.SYSADMIN
    allowed = {action for action, roles in WHO_MAY.items() if role == Role.SYSADMIN or role in roles} if in_scope else set()
    assert offered <= allowed
    # Whatever is offered in the dispatched status is possible in that status.
    assert offered <= {a for a, statuses in services.ACTION_STATUSES.items() if "dispatched" in statuses}


def test_restrict_on_a_list_keeps_exactly_the_cases_in_scope(flow, staff, region_tree):
    from .conftest import IN_GRID_12

    mine = flow.new()
    neighbours = flow.new(point=IN_GRID_12)
    assert set(Case.objects.restrict(staff.inspector)) == {mine}
    assert set(Case.objects.restrict(staff.grid_lead)) == {mine, neighbours}
    assert set(Case.objects.restrict(staff.handler)) == set()
    assert set(Case.objects.restrict(staff.nobody)) == set()
    assert set(Case.objects.restrict(staff.inspector, "dispatch")) == set()
