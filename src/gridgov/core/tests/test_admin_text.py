"""The admin index speaks Chinese, third-party apps included (core.thirdparty)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ENGLISH = ["Model name", "Add link", "Change or view list link", "Access attempts", "Access failures",
           "Access logs", "Task Results", "Tasks Database Backend", ">Axes<"]


@pytest.fixture
def admin_client_zh(make_user):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def test_admin_index_has_no_english_captions_or_app_names(admin_client_zh):
    html = admin_client_zh.get("/admin/").content.decode()
    for text in ENGLISH:
        assert text not in html, text
    for text in ["模型名称", "添加链接", "登录锁定", "登录尝试", "后台任务", "任务结果"]:
        assert text in html, text


def test_third_party_app_pages_are_named_in_chinese(admin_client_zh):
    html = admin_client_zh.get("/admin/axes/").content.decode()
    assert "登录锁定" in html and "Axes" not in html.split("<body", 1)[1]
    assert "后台任务" in admin_client_zh.get("/admin/django_tasks_database/").content.decode()
