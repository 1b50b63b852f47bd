"""The main navigation, defined in one place.

Other apps add their pages with `register(NavItem(...))` (e.g. in their AppConfig.ready) or
by editing NAV_ITEMS below. URL names are resolved when a page is rendered, and an item whose
URL name does not exist (yet) is skipped, so the menu may name pages that land later.
"""

from dataclasses import dataclass, field

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from gridgov.org.permissions import CENTRE_STAFF, GRID_STAFF, LEADERS
from gridgov.org.roles import Role


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    # Roles that see the item; empty means every signed-in user. System administrators see all.
    roles: frozenset = field(default_factory=frozenset)
    icon: str = "dot"  # name of a symbol in web/icons.html
    order: int = 100

    def visible_to(self, user):
        if not self.roles:
            return True
        return bool(user.roles & (self.roles | {Role.SYSADMIN}))


NAV_ITEMS = [
    NavItem("web:workbench", _("Workbench"), icon="home", order=10),
    NavItem("cases:intake", _("New case"), CENTRE_STAFF | GRID_STAFF, icon="plus", order=20),
    NavItem("cases:list", _("Cases"), icon="list", order=30),
    NavItem("web:map", _("Map"), icon="map", order=40),
    NavItem("web:pwa", _("Inspector app"), GRID_STAFF, icon="flag", order=45),
    NavItem("web:notifications", _("Notifications"), icon="bell", order=90),
    NavItem("admin:index", _("System administration"), frozenset({Role.SYSADMIN}), icon="gear", order=99),
]


def register(item):
    """Add a menu entry (idempotent: an entry with the same URL name is replaced)."""
    NAV_ITEMS[:] = [existing for existing in NAV_ITEMS if existing.url_name != item.url_name]
    NAV_ITEMS.append(item)


@dataclass(frozen=True)
class ResolvedItem:
    url: str
    label: str
    icon: str
    active: bool


def items_for(user, current_path=""):
    """The menu entries this user sees, with URLs; the entry of the current page is active."""
    entries = []
    for item in sorted(NAV_ITEMS, key=lambda entry: entry.order):
        if not item.visible_to(user):
            continue
        try:
            entries.append((item, reverse(item.url_name)))
        except NoReverseMatch:
            continue
    # Only the most specific match is active: /cases/new/ is "New case", not also "Cases".
    matches = [url for _item, url in entries if _is_active(url, current_path)]
    active = max(matches, key=len, default=None)
    return [ResolvedItem(url, item.label, item.icon, url == active) for item, url in entries]


def _is_active(url, current_path):
    if url == "/":
        return current_path == "/"
    return current_path.startswith(url)
