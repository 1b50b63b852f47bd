"""Permission actions of the triage app (added to the one table in gridgov.org.permissions)."""

from gridgov.org.permissions import CENTRE_STAFF, GRID_STAFF, ROLE_ACTIONS
from gridgov.org.roles import Role

ROLE_ACTIONS.update({
    # merge a duplicate into another case (both in scope): the centre's dispatchers
    "case.merge": frozenset({Role.DISPATCHER, Role.SHIFT_LEAD}),
    # ask the classifier for a 小类 and department: whoever registers or accepts cases
    "triage.suggest": CENTRE_STAFF | GRID_STAFF,
})
