"""Permission actions of the metrics app (added to the one ROLE_ACTIONS table)."""

from gridgov.org.permissions import CENTRE_STAFF, LEADERS, ROLE_ACTIONS
from gridgov.org.roles import Role

ROLE_ACTIONS.update({
    # Leaders and the centre see the figures of their scope; department staff their department's.
    "metrics.view": LEADERS | CENTRE_STAFF | {Role.GRID_LEAD},
    "metrics.configure": frozenset({Role.SUBDISTRICT_LEADER}),
})
