"""Error pages (400, 403, 404, 500) speak Chinese like the rest of the shell.

Without templates of our own Django answers with its built-in English pages
("Not Found", "403 Forbidden", "Server Error (500)") whenever DEBUG is off.
"""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults

pytestmark = pytest.mark.django_db

ENGLISH = ("Not Found", "Forbidden", "Server Error", "Bad Request", "requested resource")


def assert_chinese_page(html, *expected):
    for text in ENGLISH:
        assert text not in html
    for text in expected:
        assert text in html


def test_missing_case_answers_a_chinese_404_inside_the_shell(login, staff):
    response = login(staff.dispatcher).get("/cases/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert_chinese_page(html, "页面不存在", "返回工作台")
    assert 'id="sidenav"' in html  # the signed-in user keeps the navigation


def test_unknown_address_answers_a_chinese_404(login, staff):
    response = login(staff.dispatcher).get("/no-such-page/")
    assert response.status_code == 404
    assert_chinese_page(response.content.decode(), "页面不存在")


def test_page_the_role_may_not_open_answers_a_chinese_403(login, staff):
    # The 12345 hotline orders are for centre staff and leaders, not department handlers.
    response = login(staff.handler).get("/hotline/")
    assert response.status_code == 403
    assert_chinese_page(response.content.decode(), "无权访问", "您的角色无权打开此页面")


def test_api_404_keeps_the_json_error_format(login, staff):
    response = login(staff.dispatcher).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("view", "status", "expected"),
    [(defaults.server_error, 500, "服务器错误"), (defaults.bad_request, 400, "请求有误")],
)
def test_server_error_and_bad_request_pages_are_chinese(view, status, expected):
    request = RequestFactory().get("/")
    with translation.override("zh-hans"):
        response = view(request) if status == 500 else view(request, exception=Exception("bad"))
    assert response.status_code == status
    assert_chinese_page(response.content.decode(), expected, "返回工作台")
