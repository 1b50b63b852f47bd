"""The shipped taxonomy (data/categories.json), its loader and its data migration."""

import importlib
import re

import pytest
from django.apps import apps

from gridgov.catalog.models import Category, CategoryKind, Priority, TimeUnit
from gridgov.catalog.standard import (
    department_codes,
    link_default_departments,
    load_standard_categories,
    standard_data,
)
from gridgov.org.models import Department

# domain.md §2, in list order.
EVENT_CLASSES = {
    "01": ("市容环境", "私搭乱建 暴露垃圾 积存垃圾渣土 道路不洁 水域不洁 绿地脏乱 废弃车辆 废弃家具设备 非装饰性树挂 "
                     "道路破损 河堤破损 道路遗撒 外立面不洁 水域秩序 焚烧树叶垃圾 油烟污染 动物尸体 饲养家禽家畜"),
    "02": ("宣传广告", "非法小广告 违章张贴悬挂广告牌匾 占道广告牌 街头散发广告 广告招牌破损"),
    "03": ("施工管理", "施工扰民 工地扬尘 施工废弃料 施工占道 无证掘路"),
    "04": ("突发事件", "路面塌陷 自来水管道破裂 燃气管道破裂 热力管道破裂 下水道堵塞或破损 道路积水 积雪结冰 "
                     "架空线缆损坏 群发性事件"),
    "05": ("街面秩序", "无照经营游商 流浪乞讨 占道废品收购 店外经营 机动车乱停放 非机动车乱停放 乱堆物料 商业噪音 "
                     "黑车拉客 露天烧烤 沿街晾挂 非法出版物销售 空调外机低挂"),
}  # fmt: skip
COMPONENT_MAJORS = ["公用设施", "道路交通", "市容环境", "园林绿化", "房屋土地", "其他设施", "扩展部件"]
GOVERNANCE_MAJORS = ["矛盾纠纷", "安全隐患", "民生诉求", "物业服务", "治安"]


def delete_all_categories():
    Category.objects.filter(parent__isnull=False).delete()  # 小类 first: parent is PROTECT
    Category.objects.all().delete()


def minors(standard_kind, major_code):
    return list(Category.objects.filter(kind=standard_kind, parent__code=major_code).order_by("code"))


def test_every_event_class_of_the_standard_in_list_order(standard):
    for major_code, (major_name, names) in EVENT_CLASSES.items():
        assert standard("event", major_code).name == major_name
        expected = [(f"{major_code}{index:02d}", name) for index, name in enumerate(names.split(), 1)]
        expected.append((f"{major_code}99", "其他"))
        assert [(c.code, c.name) for c in minors("event", major_code)] == expected


def test_component_and_governance_majors(standard):
    components = Category.objects.filter(kind=CategoryKind.COMPONENT, parent=None).order_by("code")
    assert [c.name for c in components] == COMPONENT_MAJORS
    governance = Category.objects.filter(kind=CategoryKind.GOVERNANCE, parent=None).order_by("code")
    assert [c.name for c in governance] == GOVERNANCE_MAJORS
    disputes = {c.name for c in minors("governance", "01")}
    assert {"邻里纠纷", "物业纠纷", "劳资纠纷", "婚姻家庭纠纷", "其他"} <= disputes
    hazards = {c.name for c in minors("governance", "02")}
    assert {"消防隐患", "燃气隐患", "危房隐患"} <= hazards


def test_every_major_has_other_as_99(standard):
    for major in Category.objects.filter(parent=None):
        assert major.children.filter(code=major.code + "99", name="其他").exists(), major


def test_every_minor_class_has_its_handling_rules(standard):
    for minor in Category.objects.filter(parent__isnull=False).select_related("parent"):
        assert re.fullmatch(r"\d{4}", minor.code) and minor.code.startswith(minor.parent.code)
        assert minor.kind == minor.parent.kind
        assert minor.accept_criteria and minor.close_criteria, minor
        assert minor.keywords and "," in minor.keywords or minor.code.endswith("99"), minor
        assert minor.time_limit_value > 0
        assert minor.time_limit_unit in TimeUnit.values


def test_domain_time_limits(standard):
    assert (standard("event", "0102").time_limit_value, standard("event", "0102").time_limit_unit) == (4, "working_hours")
    assert (standard("event", "0104").time_limit_value, standard("event", "0104").time_limit_unit) == (2, "working_hours")
    assert (standard("event", "0101").time_limit_value, standard("event", "0101").time_limit_unit) == (20, "working_days")


def test_emergencies_are_urgent_on_natural_hours(standard):
    for emergency in [standard("event", "04"), *minors("event", "04")]:
        assert emergency.default_priority == Priority.URGENT, emergency
        assert emergency.time_limit_unit == TimeUnit.NATURAL_HOURS, emergency


def test_department_codes_in_the_data_are_declared_in_its_header():
    declared = department_codes()
    assert {"CGZF", "HW", "SCJG", "ZJ", "PCS", "SFS", "MZ", "YJ", "WYB", "SW", "RQ", "GD"} <= declared.keys()
    for major in standard_data()["categories"]:
        for entry in [major, *major["children"]]:
            assert entry["default_department"] in declared, entry["code"]


def test_loader_is_idempotent(standard):
    count = Category.objects.count()
    assert load_standard_categories() == (0, 0)
    assert Category.objects.count() == count


def test_loader_restores_shipped_values_but_keeps_local_choices(standard, department):
    garbage = standard("event", "0102")
    Category.objects.filter(pk=garbage.pk).update(time_limit_value=9, is_active=False, default_department=department)
    created, updated = load_standard_categories()
    garbage.refresh_from_db()
    assert (created, updated) == (0, 1)
    assert garbage.time_limit_value == 4
    assert garbage.is_active is False
    assert garbage.default_department == department  # CGZF although the data says HW


def test_loader_creates_missing_classes(standard):
    Category.objects.filter(kind="governance", code="0599").delete()
    assert load_standard_categories() == (1, 0)
    assert standard("governance", "0599").parent == standard("governance", "05")


def test_default_departments_are_linked_when_the_department_exists(standard):
    assert standard("event", "0102").default_department is None
    sanitation = Department.objects.create(code="HW", name="区环卫处", type="sanitation")
    linked = link_default_departments()
    assert linked == Category.objects.filter(default_department=sanitation).count() > 0
    assert standard("event", "0102").default_department == sanitation
    assert standard("event", "0101").default_department is None  # CGZF does not exist yet
    assert link_default_departments() == 0  # nothing left to link


def test_linking_keeps_a_department_chosen_by_hand(standard, department):
    Category.objects.filter(kind="event", code="0102").update(default_department=department)
    Department.objects.create(code="HW", name="区环卫处")
    link_default_departments()
    assert standard("event", "0102").default_department == department


def test_loader_links_departments_that_exist(db, department):
    delete_all_categories()
    load_standard_categories()
    assert Category.objects.get(kind="event", code="0101").default_department == department  # CGZF


@pytest.mark.django_db
def test_data_migration_loads_the_taxonomy_on_a_fresh_install():
    migration = importlib.import_module("gridgov.catalog.migrations.0003_standard_categories")
    delete_all_categories()
    migration.load(apps, schema_editor=None)
    rows = sum(1 + len(major["children"]) for major in standard_data()["categories"])
    assert Category.objects.count() == rows
    assert Category.objects.get(kind="event", code="0102").name == "暴露垃圾"


def test_management_command(standard, department):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load_categories", "--link", stdout=out)
    assert "linked" in out.getvalue() and "CGZF" in out.getvalue()
    assert standard("event", "0101").default_department == department
    call_command("load_categories", stdout=out)
    assert "created 0, updated 0" in out.getvalue()
