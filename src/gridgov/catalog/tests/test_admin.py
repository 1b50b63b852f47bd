import pytest
from django.test import Client

from gridgov.catalog.models import Category

CHANGELIST = "/admin/catalog/category/"


@pytest.fixture
def admin_client_zh(make_user):
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def inline_management(prefix="children", total=0, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def major_form(**overrides):
    data = {
        "kind": "event", "code": "06", "name": "园区秩序", "is_active": "on", "sort_order": "0",
        "time_limit_value": "5", "time_limit_unit": "working_days", "default_priority": "2",
        "duplicate_radius_m": "100", "duplicate_window_hours": "24",
    }  # fmt: skip
    data.update(overrides)
    return data


def test_changelist_in_chinese_with_filters(admin_client_zh, standard):
    response = admin_client_zh.get(CHANGELIST, {"kind__exact": "event", "level": "minor", "q": "垃圾"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "暴露垃圾" in page and "处置时限" in page and "大类" in page
    assert "0101" not in page.split("result_list")[1]  # 私搭乱建 does not match 垃圾


def test_major_page_shows_its_minor_classes_inline(admin_client_zh, standard):
    response = admin_client_zh.get(f"{CHANGELIST}{standard('event', '03').pk}/change/")
    assert response.status_code == 200
    assert "施工扰民" in response.content.decode()
    minor_page = admin_client_zh.get(f"{CHANGELIST}{standard('event', '0301').pk}/change/")
    assert minor_page.status_code == 200
    assert 'name="children-TOTAL_FORMS"' not in minor_page.content.decode()


def test_adding_a_minor_with_a_wrong_code_is_refused(admin_client_zh, standard):
    data = major_form(code="0220", name="测试", parent=str(standard("event", "01").pk))
    response = admin_client_zh.post(f"{CHANGELIST}add/", {**data, **inline_management()})
    assert response.status_code == 200  # the form again, with the error
    assert "小类编码必须以其大类编码（01）开头" in response.content.decode()
    assert not Category.objects.filter(code="0220").exists()


def test_new_major_with_inline_minors_takes_its_kind(admin_client_zh, standard):
    data = major_form(kind="governance")
    data.update(inline_management(total=2))
    data.update({
        "children-0-code": "0601", "children-0-name": "园区噪音", "children-0-time_limit_value": "4",
        "children-0-time_limit_unit": "working_hours", "children-0-default_priority": "2",
        "children-0-is_active": "on", "children-0-sort_order": "0",
        "children-1-code": "0701", "children-1-name": "编码错误", "children-1-time_limit_value": "4",
        "children-1-time_limit_unit": "working_hours", "children-1-default_priority": "2",
        "children-1-sort_order": "0",
    })  # fmt: skip
    response = admin_client_zh.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 200
    assert "小类编码必须以其大类编码（06）开头" in response.content.decode()
    data["children-1-code"] = "0602"
    response = admin_client_zh.post(f"{CHANGELIST}add/", data)
    assert response.status_code == 302
    major = Category.objects.get(kind="governance", code="06")
    assert sorted(major.children.values_list("code", "kind")) == [("0601", "governance"), ("0602", "governance")]


def test_limits_are_editable_in_the_list(admin_client_zh, standard):
    garbage = standard("event", "0102")
    data = {
        "action": "", "_save": "1", "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(garbage.pk), "form-0-time_limit_value": "6", "form-0-time_limit_unit": "working_hours",
        "form-0-default_priority": "3", "form-0-is_active": "on",
    }  # fmt: skip
    response = admin_client_zh.post(f"{CHANGELIST}?kind__exact=event&q=暴露垃圾", data)
    assert response.status_code == 302
    garbage.refresh_from_db()
    assert (garbage.time_limit_value, garbage.default_priority) == (6, 3)
