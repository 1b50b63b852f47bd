"""Permission actions of the proactive app (added to the one ROLE_ACTIONS table)."""

from gridgov.org.permissions import CENTRE_STAFF, LEADERS, ROLE_ACTIONS
from gridgov.org.roles import Role

READERS = frozenset(LEADERS | CENTRE_STAFF | {Role.GRID_LEAD})
PLANNERS = frozenset(LEADERS | {Role.SHIFT_LEAD, Role.DISPATCHER})

ROLE_ACTIONS.update(
    {
        "hot_topic.view": READERS,
        "proactive_project.view": READERS,
        "proactive_project.create": PLANNERS,
        "proactive_project.change": PLANNERS,
    }
)
