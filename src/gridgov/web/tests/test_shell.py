"""Sign-in, lockout, navigation by role, scope, language."""

import pytest
from django.conf import settings
from django.test import Client

from gridgov.org.roles import Role
from gridgov.web import navigation
from gridgov.web.navigation import NavItem

pytestmark = pytest.mark.django_db

PASSWORD = "pass-1234"


def nav_labels(response):
    html = response.content.decode()
    nav = html[html.index('id="sidenav"') : html.index("</nav>", html.index('id="sidenav"'))]
    return nav


def test_anonymous_user_is_sent_to_sign_in():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")


def test_sign_in_page_is_chinese_even_for_an_english_browser():
    response = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "工作人员登录" in html
    assert "用户名" in html


@pytest.fixture
def dispatcher(make_user, region_tree):
    """A dispatcher with the password "pass-1234" (the shared staff fixture has none)."""
    return make_user([Role.DISPATCHER], scope=region_tree["subdistrict"], password=PASSWORD)


def test_sign_in_with_password_lands_on_workbench(dispatcher):
    client = Client()
    response = client.post("/login/", {"username": dispatcher.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "我的工作台" in client.get("/").content.decode()


def test_wrong_password_is_refused_with_a_chinese_message(dispatcher):
    response = Client().post("/login/", {"username": dispatcher.username, "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_lockout_after_repeated_failures_even_with_the_right_password(dispatcher):
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": dispatcher.username, "password": "wrong"})
    response = client.post("/login/", {"username": dispatcher.username, "password": PASSWORD})
    html = response.content.decode()
    assert response.status_code == 429
    assert "账号已暂时锁定" in html
    assert "分钟后再试" in html
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_username(dispatcher, make_user, region_tree):
    colleague = make_user([Role.SHIFT_LEAD], scope=region_tree["subdistrict"], password=PASSWORD)
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": dispatcher.username, "password": "wrong"})
    response = client.post("/login/", {"username": colleague.username, "password": PASSWORD})
    assert response.status_code == 302


def test_sign_out_needs_post(login, staff):
    client = login(staff.dispatcher)
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == 302


def test_navigation_depends_on_role(login, staff):
    handler_nav = nav_labels(login(staff.handler).get("/"))
    inspector_nav = nav_labels(login(staff.inspector).get("/"))
    admin_nav = nav_labels(login(staff.admin).get("/"))
    assert "工作台" in handler_nav and "通知" in handler_nav
    assert "登记事件" not in handler_nav  # a department handler does not register cases
    assert "登记事件" in inspector_nav
    assert "系统管理" not in inspector_nav
    assert "系统管理" in admin_nav


def test_navigation_marks_the_current_page(login, staff):
    nav = nav_labels(login(staff.handler).get("/notifications/"))
    active = nav[nav.index('class="is-active"') :]
    assert active.index("通知") < active.index("</a>")


def test_navigation_skips_pages_that_do_not_exist_yet(login, staff, monkeypatch):
    monkeypatch.setattr(navigation, "NAV_ITEMS", list(navigation.NAV_ITEMS))
    navigation.register(NavItem("web:not_built_yet", "Future page"))
    navigation.register(NavItem("web:notifications", "Inbox", order=5))  # replaces the entry
    response = login(staff.dispatcher).get("/")
    nav = nav_labels(response)
    assert response.status_code == 200
    assert "Future page" not in nav
    assert "Inbox" in nav
    assert nav.count("/notifications/") == 1


def test_every_menu_entry_shipped_names_a_page():
    """Skipping unknown URL names is for pages still to come, not for dead entries."""
    from django.urls import NoReverseMatch, reverse

    missing = []
    for item in navigation.NAV_ITEMS:
        try:
            reverse(item.url_name)
        except NoReverseMatch:
            missing.append(item.url_name)
    assert missing == []


def test_scope_is_shown(login, staff, region_tree, department):
    assert region_tree["grid11"].name in login(staff.inspector).get("/").content.decode()
    assert department.name in login(staff.handler).get("/").content.decode()


def test_role_names_are_shown_in_chinese(login, staff, make_user, region_tree):
    user = make_user([Role.DISPATCHER, Role.SHIFT_LEAD], scope=region_tree["subdistrict"])
    html = login(user).get("/").content.decode()
    assert "派遣员" in html and "值班长" in html


def test_language_switch_to_english_and_back(login, staff):
    client = login(staff.dispatcher)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "My workbench" in html
    assert 'value="zh-hans"' in html  # the switch now offers Chinese
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert "我的工作台" in client.get("/").content.decode()


def test_pages_work_without_external_resources(login, staff):
    html = login(staff.dispatcher).get("/").content.decode()
    assert "https://" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
