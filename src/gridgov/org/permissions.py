"""The one restriction mechanism for API and UI alike.

Two questions decide every access:
1. May any of the user's roles perform `<model>.<action>`?  (ROLE_ACTIONS below)
2. Is the row inside the user's scope?  (each model's queryset `scope_q(user)`)

Querysets answer both with `.restrict(user, action)`; services check one object with
`require(user, action, obj)`, which raises Forbidden (HTTP 403) with a clear message.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gridgov.core.errors import Forbidden

from .roles import Role

STAFF_ROLES = frozenset(Role.values)
LEADERS = frozenset({Role.SHIFT_LEAD, Role.SUBDISTRICT_LEADER, Role.COMMUNITY_SECRETARY, Role.GRID_SECRETARY})
GRID_STAFF = frozenset({Role.GRID_INSPECTOR, Role.GRID_LEAD})
CENTRE_STAFF = frozenset({Role.INTAKE_CLERK, Role.DISPATCHER, Role.SHIFT_LEAD})

# action -> roles that may perform it. System administrators may do everything.
ROLE_ACTIONS = {
    # reference data
    "region.view": STAFF_ROLES,
    "region.change": frozenset(),
    "department.view": STAFF_ROLES,
    "department.change": frozenset(),
    "user.view": STAFF_ROLES,
    "user.change": frozenset(),
    # staff phone numbers in the clear (everyone sees their own)
    "user.view_phone": frozenset(),
    "category.view": STAFF_ROLES,
    "category.change": frozenset(),
    # cases
    "case.view": STAFF_ROLES,
    "case.view_reporter": CENTRE_STAFF | {Role.GRID_LEAD},
    "case.create": CENTRE_STAFF | GRID_STAFF,
    "case.accept": frozenset({Role.DISPATCHER, Role.SHIFT_LEAD}),
    "case.reject": frozenset({Role.DISPATCHER, Role.SHIFT_LEAD}),
    "case.place": frozenset({Role.DISPATCHER, Role.SHIFT_LEAD}),
    "case.dispatch": frozenset({Role.DISPATCHER, Role.SHIFT_LEAD}),
    "case.sign": frozenset({Role.DEPT_HANDLER}),
    "case.return": frozenset({Role.DEPT_HANDLER}),
    "case.handle": frozenset({Role.DEPT_HANDLER}),
    "case.request_extension": frozenset({Role.DEPT_HANDLER}),
    "case.decide_extension": frozenset({Role.SHIFT_LEAD}),
    "case.request_park": frozenset({Role.DISPATCHER, Role.SHIFT_LEAD, Role.DEPT_HANDLER}),
    "case.decide_park": frozenset({Role.SHIFT_LEAD}),
    "case.unpark": frozenset({Role.SHIFT_LEAD}),
    "case.verify": GRID_STAFF,
    "case.close": frozenset({Role.SHIFT_LEAD}),
    "case.rate": CENTRE_STAFF,
    "case.supervise": LEADERS,
}


def allowed(user, action):
    """Role check only: may this user perform `action` anywhere?"""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles = user.roles
    if Role.SYSADMIN in roles:
        return True
    if action not in ROLE_ACTIONS:
        raise KeyError(f"unknown action {action!r}")
    return bool(roles & ROLE_ACTIONS[action])


def region_subtree_q(user, field):
    """Rows whose region code lies in the user's subtree; None means 'no scope at all'."""
    code = user.scope_code
    if code is None:
        return None
    if code == "":
        return Q()
    return Q(**{f"{field}__startswith": code})


class RestrictedQuerySet(models.QuerySet):
    """Base queryset: subclasses name `action_prefix` and implement `scope_q(user)`."""

    action_prefix = ""

    def scope_q(self, user):  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def restrict(self, user, action="view"):
        if not allowed(user, f"{self.action_prefix}.{action}"):
            return self.none()
        if Role.SYSADMIN in user.roles:
            return self
        condition = self.scope_q(user)
        return self.none() if condition is None else self.filter(condition)


def require(user, action, obj=None):
    """Raise Forbidden unless `user` may perform `action` (on `obj`, if given).

    `action` is the full name, e.g. "case.dispatch". With an object, its model's
    queryset decides whether the object lies in the user's scope.
    """
    if not allowed(user, action):
        raise Forbidden(
            _("Your role may not perform this action (%(action)s).") % {"action": action},
            code="role_not_allowed",
        )
    if obj is not None and Role.SYSADMIN not in user.roles:
        condition = type(obj)._default_manager.all().scope_q(user)
        if condition is None or not type(obj)._default_manager.filter(condition, pk=obj.pk).exists():
            raise Forbidden(_("This record is outside your area of responsibility."), code="out_of_scope")
