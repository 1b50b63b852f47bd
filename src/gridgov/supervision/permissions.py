"""Permission actions of the supervision app, added to the one table in org.permissions."""

from gridgov.org.permissions import CENTRE_STAFF, LEADERS, ROLE_ACTIONS, STAFF_ROLES
from gridgov.org.roles import Role

# 吹哨: grid leads, grid and community party secretaries and subdistrict leaders.
WHISTLERS = frozenset({Role.GRID_LEAD, Role.GRID_SECRETARY, Role.COMMUNITY_SECRETARY, Role.SUBDISTRICT_LEADER})

ROLE_ACTIONS.update({
    "whistle.view": STAFF_ROLES,
    "whistle.blow": WHISTLERS,
    "whistle.release": WHISTLERS,
    "whistle.check_in": frozenset({Role.DEPT_HANDLER}),
    "supervision_order.view": STAFF_ROLES,
    "supervision_order.urge": LEADERS | CENTRE_STAFF,
    "supervision_order.supervise": LEADERS,
    "supervision_order.reply": frozenset({Role.DEPT_HANDLER}),
})
