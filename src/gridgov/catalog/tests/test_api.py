import pytest

from gridgov.catalog.models import Category, Priority, TimeUnit
from gridgov.catalog.services import normalize_keywords

LIST = "/api/v1/categories/"
TREE = "/api/v1/categories/tree/"


def detail(category):
    return f"{LIST}{category.pk}/"


def codes(response, kind=None):
    return [row["code"] for row in response.json()["results"] if kind is None or row["kind"] == kind]


# -- reading -----------------------------------------------------------------------------------
def test_list_needs_sign_in(api_client, standard):
    response = api_client().get(LIST)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_staff_see_the_whole_taxonomy(api_client, standard, dispatcher):
    response = api_client(dispatcher).get(LIST, {"page_size": 500})
    assert response.status_code == 200
    assert response.json()["count"] == Category.objects.count()


def test_accounts_without_a_role_see_nothing(api_client, standard, make_user):
    response = api_client(make_user()).get(LIST)
    assert response.json()["count"] == 0
    assert api_client(make_user()).get(detail(standard("event", "0102"))).status_code == 404


def test_detail(api_client, standard, dispatcher):
    response = api_client(dispatcher).get(detail(standard("event", "0102")))
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "暴露垃圾" and body["parent_code"] == "01" and body["is_major"] is False
    assert (body["time_limit_value"], body["time_limit_unit"]) == (4, "working_hours")
    assert body["time_limit_unit_display"] == "工作时"
    assert body["accept_criteria"] and body["keywords"]


def test_filter_by_kind_and_major(api_client, standard, dispatcher):
    client = api_client(dispatcher)
    majors = client.get(LIST, {"kind": "event", "major": "true"})
    assert codes(majors) == ["01", "02", "03", "04", "05"]
    minors = client.get(LIST, {"kind": "governance", "major": "false", "page_size": 500})
    assert codes(minors) and all(len(code) == 4 for code in codes(minors))
    assert client.get(LIST, {"kind": "planet"}).status_code == 400


def test_filter_by_parent(api_client, standard, dispatcher):
    response = api_client(dispatcher).get(LIST, {"parent": standard("event", "03").pk})
    assert codes(response) == ["0301", "0302", "0303", "0304", "0305", "0399"]


def test_search_matches_name_keywords_and_code_prefix(api_client, standard, dispatcher):
    client = api_client(dispatcher)
    assert "0102" in codes(client.get(LIST, {"q": "暴露"}))
    assert "0404" in codes(client.get(LIST, {"q": "暖气"}), "event")  # a keyword of 热力管道破裂
    by_code = client.get(LIST, {"q": "04", "kind": "event"})
    assert codes(by_code) == ["04", "0401", "0402", "0403", "0404", "0405", "0406", "0407", "0408", "0409", "0499"]


def test_filter_active(api_client, standard, dispatcher):
    Category.objects.filter(kind="event", code="0118").update(is_active=False)
    client = api_client(dispatcher)
    assert codes(client.get(LIST, {"active": "false"})) == ["0118"]
    assert "0118" not in codes(client.get(LIST, {"active": "true", "kind": "event", "page_size": 500}))


def test_ordering(api_client, standard, dispatcher):
    response = api_client(dispatcher).get(LIST, {"kind": "event", "major": "true", "ordering": "-code"})
    assert codes(response) == ["05", "04", "03", "02", "01"]


def test_tree(api_client, standard, dispatcher):
    response = api_client(dispatcher).get(TREE, {"kind": "event"})
    assert response.status_code == 200
    tree = response.json()
    assert [major["code"] for major in tree] == ["01", "02", "03", "04", "05"]
    construction = tree[2]
    assert [child["code"] for child in construction["children"]] == ["0301", "0302", "0303", "0304", "0305", "0399"]
    assert construction["children"][0]["name"] == "施工扰民"


def test_tree_search_keeps_the_major_of_a_matching_minor(api_client, standard, dispatcher):
    tree = api_client(dispatcher).get(TREE, {"kind": "event", "q": "塌陷"}).json()
    assert [(major["code"], [child["code"] for child in major["children"]]) for major in tree] == [
        ("01", ["0110"]),  # 道路破损 lists 塌陷 as a keyword
        ("04", ["0401"]),
    ]


def test_tree_is_restricted(api_client, standard, make_user):
    assert api_client(make_user()).get(TREE).json() == []


# -- writing -----------------------------------------------------------------------------------
def test_sysadmin_creates_a_minor_class(api_client, standard, sysadmin):
    city = standard("event", "01")
    payload = {
        "code": "0120", "name": "共享单车堆积", "parent": city.pk, "time_limit_value": 4,
        "time_limit_unit": "working_hours", "keywords": "共享单车， 堆积,,共享单车", "accept_criteria": "成堆倒伏",
    }  # fmt: skip
    response = api_client(sysadmin).post(LIST, payload)
    assert response.status_code == 201, response.json()
    created = Category.objects.get(kind="event", code="0120")
    assert created.parent == city and created.kind == "event"  # the kind comes from the major
    assert created.keywords == "共享单车,堆积"
    assert response.json()["parent_code"] == "01"


def test_sysadmin_creates_a_major_class(api_client, standard, sysadmin):
    response = api_client(sysadmin).post(LIST, {"kind": "governance", "code": "06", "name": "网格服务"})
    assert response.status_code == 201
    assert response.json()["is_major"] is True


def test_minor_code_must_extend_the_major_code(api_client, standard, sysadmin):
    response = api_client(sysadmin).post(LIST, {"code": "0220", "name": "测试", "parent": standard("event", "01").pk})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_failed"
    assert "01" in response.json()["fields"]["code"][0]


def test_duplicate_code_is_refused(api_client, standard, sysadmin):
    response = api_client(sysadmin).post(LIST, {"code": "0102", "name": "重复", "parent": standard("event", "01").pk})
    assert response.status_code == 400
    assert response.json()["code"] == "duplicate"
    assert "code" in response.json()["fields"]


def test_markup_is_refused(api_client, standard, sysadmin):
    response = api_client(sysadmin).post(LIST, {"kind": "event", "code": "06", "name": "<b>x</b>"})
    assert response.status_code == 400
    assert response.json()["code"] == "html_not_allowed"
    assert "name" in response.json()["fields"]


def test_sysadmin_edits_limits(api_client, standard, sysadmin):
    garbage = standard("event", "0102")
    response = api_client(sysadmin).patch(
        detail(garbage), {"time_limit_value": 3, "time_limit_unit": "working_hours", "default_priority": 3}
    )
    assert response.status_code == 200, response.json()
    garbage.refresh_from_db()
    assert (garbage.time_limit_value, garbage.time_limit_unit, garbage.default_priority) == (
        3, TimeUnit.WORKING_HOURS, Priority.HIGH,
    )  # fmt: skip
    assert garbage.name == "暴露垃圾"  # fields not sent stay


def test_sysadmin_sets_the_default_department(api_client, standard, sysadmin, department):
    response = api_client(sysadmin).patch(detail(standard("event", "0101")), {"default_department": department.pk})
    assert response.json()["default_department"] == {"id": department.pk, "code": "CGZF", "name": department.name}


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"time_limit_value": 0}, "time_limit_value"),
        ({"time_limit_unit": "moons"}, "time_limit_unit"),
        ({"default_priority": 9}, "default_priority"),
        ({"name": ""}, "name"),
        ({"parent": 999999}, "parent"),
    ],
)
def test_invalid_changes_are_refused(api_client, standard, sysadmin, changes, field):
    response = api_client(sysadmin).patch(detail(standard("event", "0102")), changes)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_moving_a_minor_under_another_major_checks_the_code(api_client, standard, sysadmin):
    response = api_client(sysadmin).patch(detail(standard("event", "0102")), {"parent": standard("event", "02").pk})
    assert response.status_code == 400
    assert "code" in response.json()["fields"]


def test_other_roles_may_not_write(api_client, standard, dispatcher):
    client = api_client(dispatcher)
    created = client.post(LIST, {"code": "not valid at all"})
    assert created.status_code == 403
    assert created.json()["code"] == "role_not_allowed"
    changed = client.patch(detail(standard("event", "0102")), {"time_limit_value": 99})
    assert changed.status_code == 403
    assert standard("event", "0102").time_limit_value == 4


def test_there_is_no_delete(api_client, standard, sysadmin):
    assert api_client(sysadmin).delete(detail(standard("event", "0102"))).status_code == 405
    assert api_client(sysadmin).put(detail(standard("event", "0102")), {}).status_code == 405


def test_normalize_keywords():
    assert normalize_keywords(" 垃圾， 渣土、垃圾,, ") == "垃圾,渣土"
    assert normalize_keywords("") == ""
