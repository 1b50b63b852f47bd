"""Who is told: the staff owning a clock, and the escalation chain above them.

Chain (docs/architecture.md, "supervision"):
- 立案+派遣 (accept_dispatch): the dispatcher pool covering the case's region;
- 签收 / 处置 (sign, handle): the handlers of the case's department;
- 核查 (verify): the grid staff (inspectors and grid leads) covering the case;
- overdue (100%): also the shift leads (值班长) covering the case — the level above every owner;
- overdue by the `second_escalation` share (default 200% of the allowed time): the
  subdistrict leaders covering the case.
"Covering" means the user's scope is the case's region or one of its ancestors; region
codes are tree paths, so the candidates are the prefixes of the case's region code.
"""

from collections import defaultdict

from gridgov.org.models import User
from gridgov.org.roles import Role

DISPATCHERS = (Role.DISPATCHER,)
GRID_STAFF = (Role.GRID_INSPECTOR, Role.GRID_LEAD)
SHIFT_LEADS = (Role.SHIFT_LEAD,)
SUBDISTRICT_LEADERS = (Role.SUBDISTRICT_LEADER,)
HANDLERS = (Role.DEPT_HANDLER,)

OWNER_ROLES = {"accept_dispatch": DISPATCHERS, "verify": GRID_STAFF}  # sign/handle: the department


def region_prefixes(region_code):
    code = region_code or ""
    return [code[:length] for length in range(1, len(code) + 1)]


def covering(roles, region_code):
    """Ids of active staff with one of `roles` whose scope covers `region_code` (one query)."""
    prefixes = region_prefixes(region_code)
    if not prefixes:
        return []
    return list(
        User.objects.filter(is_active=True, role_assignments__role__in=roles, scope__code__in=prefixes)
        .values_list("id", flat=True)
        .distinct()
    )


def department_staff(department_id, roles=HANDLERS):
    if department_id is None:
        return []
    return list(
        User.objects.filter(is_active=True, department_id=department_id, role_assignments__role__in=roles)
        .values_list("id", flat=True)
        .distinct()
    )


class Directory:
    """Staff by role, scope and department, loaded once for a sweep pass (2 queries)."""

    def __init__(self):
        self.by_role_scope = defaultdict(set)  # (role, scope code) -> user ids
        self.by_department = defaultdict(set)  # department id -> handler ids
        rows = User.objects.filter(is_active=True).values_list("id", "role_assignments__role", "scope__code", "department_id")
        for user_id, role, scope_code, department_id in rows:
            if role is None:
                continue
            if scope_code is not None:
                self.by_role_scope[(role, scope_code)].add(user_id)
            if role == Role.DEPT_HANDLER and department_id is not None:
                self.by_department[department_id].add(user_id)
        self._covering = {}

    def covering(self, roles, region_code):
        key = (roles, region_code)
        if key not in self._covering:
            ids = set()
            for prefix in region_prefixes(region_code):
                for role in roles:
                    ids |= self.by_role_scope.get((role, prefix), set())
            self._covering[key] = ids
        return self._covering[key]

    def owners(self, clock_kind, region_code, department_id):
        if clock_kind in OWNER_ROLES:
            return self.covering(OWNER_ROLES[clock_kind], region_code)
        return self.by_department.get(department_id, set())
