"""The big screen is in the main menu of exactly the roles that may open it."""

import pytest
from django.test import Client

from gridgov.org.roles import Role
from gridgov.web.navigation import items_for


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_menu_links_the_screen_iff_the_role_may_open_it(region_tree, make_user, role):
    user = make_user(roles=[role], scope=region_tree["subdistrict"])
    client = Client()
    client.force_login(user)
    may_open = client.get("/screen/").status_code == 200
    in_menu = any(item.url == "/screen/" for item in items_for(user))
    assert in_menu == may_open
    html = client.get("/").content.decode()
    nav = html[html.index('id="sidenav"') : html.index("</nav>", html.index('id="sidenav"'))]
    assert ('href="/screen/"' in nav) == may_open
    if may_open:
        assert "智慧大屏" in nav


def test_leaders_and_the_shift_lead_see_it():
    from gridgov.web.navigation import NAV_ITEMS

    item = next(entry for entry in NAV_ITEMS if entry.url_name == "screen:screen")
    assert {Role.SUBDISTRICT_LEADER, Role.COMMUNITY_SECRETARY, Role.SHIFT_LEAD} <= item.roles
