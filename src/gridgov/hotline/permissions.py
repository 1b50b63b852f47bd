"""Permission actions of the hotline app (added to the one table in gridgov.org.permissions)."""

from gridgov.org.permissions import CENTRE_STAFF, LEADERS, ROLE_ACTIONS
from gridgov.org.roles import Role

ROLE_ACTIONS.update(
    {
        # see orders, their deadlines and replies
        "hotline.view": CENTRE_STAFF | LEADERS,
        # receive orders: the hotline platform's service account (an intake clerk) and the centre
        "hotline.intake": CENTRE_STAFF,
        # upload .xlsx batches, export replies
        "hotline.import": CENTRE_STAFF,
        # caller name and phone in the clear
        "hotline.view_caller": frozenset({Role.INTAKE_CLERK, Role.DISPATCHER, Role.SHIFT_LEAD}),
        # send a callback result (回访) back to the hotline
        "hotline.report_callback": CENTRE_STAFF,
    }
)
