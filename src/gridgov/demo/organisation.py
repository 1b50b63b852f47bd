"""Demo departments and about 160 staff across every role, with the demo logins.

The centre (综治中心) hosts eight offices in one hall (seed report); the usual functional
departments serve the whole subdistrict. Staff are created in bulk: hashing a password
costs about a second here, so only the demo logins get one (hashed once and shared) and
everyone else gets an unusable password.
"""

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password

from gridgov.catalog.standard import link_default_departments
from gridgov.org.models import Department, DepartmentType, StaffRole, User
from gridgov.org.roles import Role

from . import DEMO_PASSWORD
from .names import NameMaker, staff_phone

T = DepartmentType

# (code, name, type, handlers). The departments' codes are those in the "departments" of
# gridgov/catalog/data/categories.json, so the taxonomy's default departments link to them.
CENTRE_OFFICES = (
    ("PAB", "平安办公室", T.OTHER, 2),
    ("JWS", "综治中心警务室", T.POLICE, 2),
    ("RX12345", "12345热线办公室", T.HOTLINE, 2),
    ("MDTC", "矛盾纠纷调处室", T.JUSTICE, 3),
    ("FLZX", "法律咨询室", T.JUSTICE, 1),
    ("XLZX", "心理咨询室", T.CIVIL_AFFAIRS, 1),
    ("ZHDD", "指挥调度室", T.OTHER, 1),
    ("JKYP", "监控研判室", T.OTHER, 1),
)
DEPARTMENTS = (
    ("PCS", "南村派出所", T.POLICE, 4),
    ("SFS", "南村司法所", T.JUSTICE, 3),
    ("CGZF", "城管执法中队", T.URBAN_MANAGEMENT, 7),
    ("SCJG", "市场监管所", T.MARKET_REGULATION, 3),
    ("ZJ", "住建站", T.HOUSING, 3),
    ("HW", "环卫所", T.SANITATION, 6),
    ("YL", "园林绿化站", T.URBAN_MANAGEMENT, 2),
    ("MZ", "民政办", T.CIVIL_AFFAIRS, 2),
    ("YJ", "应急办", T.EMERGENCY, 3),
    ("WYB", "物业办", T.PROPERTY, 4),
    ("SW", "天桥供排水服务站", T.UTILITY, 3),
    ("RQ", "港华燃气天桥服务站", T.UTILITY, 2),
    ("GD", "天桥供电中心", T.UTILITY, 2),
)

CENTRE_COUNTS = {Role.INTAKE_CLERK: 6, Role.DISPATCHER: 4, Role.SHIFT_LEAD: 3, Role.SUBDISTRICT_LEADER: 3}
PART_TIME_INSPECTORS = 8  # 兼职网格员, a second inspector in some grids

ROLE_NAMES_ZH = {
    Role.INTAKE_CLERK: "受理员",
    Role.DISPATCHER: "派遣员",
    Role.SHIFT_LEAD: "值班长",
    Role.DEPT_HANDLER: "部门处置人员",
    Role.GRID_INSPECTOR: "网格员",
    Role.GRID_LEAD: "网格长",
    Role.GRID_SECRETARY: "网格书记",
    Role.COMMUNITY_SECRETARY: "社区书记",
    Role.SUBDISTRICT_LEADER: "街道领导",
    Role.SYSADMIN: "系统管理员",
}

# username -> role; the first staff member of that role (and place) becomes the login.
DEMO_LOGINS = (
    ("clerk", Role.INTAKE_CLERK),
    ("dispatcher", Role.DISPATCHER),
    ("shiftlead", Role.SHIFT_LEAD),
    ("handler_cg", Role.DEPT_HANDLER),  # 城管执法中队
    ("inspector", Role.GRID_INSPECTOR),  # 象霞社区第1网格
    ("gridlead", Role.GRID_LEAD),  # 象霞社区
    ("gridsecretary", Role.GRID_SECRETARY),  # 象霞社区
    ("secretary", Role.COMMUNITY_SECRETARY),  # 象霞社区
    ("leader", Role.SUBDISTRICT_LEADER),
    ("admin", Role.SYSADMIN),
)
DEMO_HANDLER_DEPARTMENT = "CGZF"


@dataclass
class StaffPlan:
    """One staff member before saving."""

    username: str
    role: str
    scope: object = None
    department: object = None
    scope_label: str = ""


@dataclass
class DemoOrganisation:
    departments: dict = field(default_factory=dict)  # code -> Department
    by_role: dict = field(default_factory=dict)  # role -> [User]
    handlers: dict = field(default_factory=dict)  # department code -> [User]
    inspectors: dict = field(default_factory=dict)  # grid code -> [User], full-time first
    community_staff: dict = field(default_factory=dict)  # (community code, role) -> User
    logins: list = field(default_factory=list)  # [(username, role, scope label)]

    def first(self, role):
        return self.by_role[role][0]


def build_departments(geography):
    """Create the offices and departments; each serves the whole subdistrict."""
    departments = {}
    for code, name, kind, _handlers in CENTRE_OFFICES + DEPARTMENTS:
        department = Department.objects.create(code=code, name=name, type=kind)
        department.regions.set([geography.subdistrict])
        departments[code] = department
    _link_catalog_defaults()
    return departments


def _link_catalog_defaults():
    """Point the taxonomy's empty default departments at the departments just created."""
    link_default_departments()


def plan_staff(geography, departments):
    """Every staff member, in a fixed order (the order decides names and phone numbers)."""
    subdistrict = geography.subdistrict
    plans = []
    for role, count in CENTRE_COUNTS.items():
        plans += [StaffPlan(f"{_PREFIX[role]}{n:02d}", role, subdistrict, None, subdistrict.name) for n in range(1, count + 1)]
    plans.append(StaffPlan("sysadmin01", Role.SYSADMIN, subdistrict, None, subdistrict.name))
    for code, name, _kind, count in CENTRE_OFFICES + DEPARTMENTS:
        department = departments[code]
        plans += [
            StaffPlan(f"h_{code.lower()}{n:02d}", Role.DEPT_HANDLER, None, department, f"{subdistrict.name}{name}")
            for n in range(1, count + 1)
        ]
    for community in geography.communities:
        for role in (Role.GRID_LEAD, Role.GRID_SECRETARY, Role.COMMUNITY_SECRETARY):
            plans.append(StaffPlan(f"{_PREFIX[role]}{community.code[-3:]}", role, community, None, community.name))
    for grid in geography.grids:
        plans.append(StaffPlan(f"gi{grid.code[-6:]}", Role.GRID_INSPECTOR, grid, None, _grid_label(grid, geography)))
    return plans


def plan_part_time_inspectors(geography, rng):
    """兼职网格员: a second inspector in a few basic grids."""
    basic = [grid for grid in geography.grids if grid.grid_type == "basic"]
    chosen = sorted(rng.sample(basic, PART_TIME_INSPECTORS), key=lambda grid: grid.code)
    return [
        StaffPlan(f"gi{grid.code[-6:]}b", Role.GRID_INSPECTOR, grid, None, _grid_label(grid, geography)) for grid in chosen
    ]


_PREFIX = {
    Role.INTAKE_CLERK: "intake",
    Role.DISPATCHER: "dispatch",
    Role.SHIFT_LEAD: "shift",
    Role.SUBDISTRICT_LEADER: "lead",
    Role.GRID_LEAD: "gl",
    Role.GRID_SECRETARY: "gs",
    Role.COMMUNITY_SECRETARY: "cs",
}


def _grid_label(grid, geography):
    community = next(c for c in geography.communities if c.pk == grid.parent_id)
    return grid.name if grid.name.startswith(community.name) else f"{community.name}{grid.name}"


def demo_login_usernames(plans):
    """Map the generated username of the first plan of each demo role (in place) to its login name."""
    renames = {}
    for login, role in DEMO_LOGINS:
        candidates = [plan for plan in plans if plan.role == role]
        if role == Role.DEPT_HANDLER:
            candidates = [plan for plan in candidates if plan.department.code == DEMO_HANDLER_DEPARTMENT]
        renames[candidates[0].username] = login
    return renames


def build_organisation(geography, rng):
    departments = build_departments(geography)
    plans = plan_staff(geography, departments) + plan_part_time_inspectors(geography, rng)
    renames = demo_login_usernames(plans)
    names = NameMaker(rng)
    demo_hash = make_password(DEMO_PASSWORD)  # one slow hash, shared by the demo logins
    users = []
    for number, plan in enumerate(plans, start=1):
        login = renames.get(plan.username)
        user = User(
            username=login or plan.username,
            display_name=names.name(),
            phone=staff_phone(number),
            scope=plan.scope,
            department=plan.department,
            is_superuser=plan.role == Role.SYSADMIN,
            is_staff=plan.role == Role.SYSADMIN,
        )
        if login:
            user.password = demo_hash
        else:
            user.set_unusable_password()
        users.append(user)
    users = User.objects.bulk_create(users)
    StaffRole.objects.bulk_create(StaffRole(user=user, role=plan.role) for user, plan in zip(users, plans))
    return _summarise(departments, users, plans, renames)


def _summarise(departments, users, plans, renames):
    organisation = DemoOrganisation(departments=departments)
    for user, plan in zip(users, plans):
        organisation.by_role.setdefault(plan.role, []).append(user)
        if plan.role == Role.DEPT_HANDLER:
            organisation.handlers.setdefault(plan.department.code, []).append(user)
        elif plan.role == Role.GRID_INSPECTOR:
            organisation.inspectors.setdefault(plan.scope.code, []).append(user)
        elif plan.role in (Role.GRID_LEAD, Role.GRID_SECRETARY, Role.COMMUNITY_SECRETARY):
            organisation.community_staff[(plan.scope.code, plan.role)] = user
    login_rows = {user.username: (user, plan) for user, plan in zip(users, plans) if user.username in renames.values()}
    for login, _role in DEMO_LOGINS:
        user, plan = login_rows[login]
        organisation.logins.append((login, ROLE_NAMES_ZH[plan.role], plan.scope_label, user.display_name))
    return organisation
