"""Permission actions of the video app, added to the one restriction mechanism."""

from gridgov.org.permissions import CENTRE_STAFF, GRID_STAFF, ROLE_ACTIONS, STAFF_ROLES
from gridgov.org.roles import Role

ROLE_ACTIONS.update({
    "camera.view": STAFF_ROLES,
    # Stream URLs carry credentials: the monitoring desk (值班长, 派遣员) only.
    "camera.view_stream": frozenset({Role.SHIFT_LEAD, Role.DISPATCHER}),
    "camera.change": frozenset(),  # registry and imports: system administrators
    "alarm.view": STAFF_ROLES,
    "alarm.dismiss": CENTRE_STAFF | GRID_STAFF,
})
