"""Permission actions of the callbacks app (added to the one ROLE_ACTIONS table)."""

from gridgov.org.permissions import CENTRE_STAFF, LEADERS, ROLE_ACTIONS

ROLE_ACTIONS.update({
    "callback.view": CENTRE_STAFF | LEADERS,
    # 受理员 / 派遣员 / 值班长 call the reporter back and record the result.
    "callback.record": CENTRE_STAFF,
})
