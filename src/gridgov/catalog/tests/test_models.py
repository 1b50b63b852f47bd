import pytest
from django.core.exceptions import ValidationError

from gridgov.catalog.models import Category, CategoryKind


def errors_of(category):
    with pytest.raises(ValidationError) as caught:
        category.full_clean()
    return caught.value.message_dict


def test_minor_code_must_start_with_the_major_code(standard):
    city = standard("event", "01")
    assert "code" in errors_of(Category(kind="event", code="0220", name="测试", parent=city))
    assert "code" in errors_of(Category(kind="event", code="01", name="测试", parent=city))
    Category(kind="event", code="0120", name="测试", parent=city).full_clean()


def test_minor_has_the_kind_of_its_major(standard):
    city = standard("event", "01")
    assert "kind" in errors_of(Category(kind=CategoryKind.GOVERNANCE, code="0120", name="测试", parent=city))


def test_only_two_levels(standard):
    garbage = standard("event", "0102")
    assert "parent" in errors_of(Category(kind="event", code="010201", name="测试", parent=garbage))


def test_a_major_with_minors_cannot_become_a_minor(standard):
    city, ads = standard("event", "01"), standard("event", "02")
    city.parent = ads
    city.code = "0201"
    assert "parent" in errors_of(city)


def test_code_is_unique_within_a_kind(standard):
    assert errors_of(Category(kind="event", code="0102", name="重复", parent=standard("event", "01")))
    # The same code in another kind is fine.
    Category(kind="component", code="0120", name="测试", parent=standard("component", "01")).full_clean()


def test_str_and_is_major(standard):
    assert str(standard("event", "0102")) == "0102 暴露垃圾"
    assert standard("event", "01").is_major and not standard("event", "0102").is_major
