"""Smart dispatch on the intake form, in a real browser: the 受理员 types the complaint,
the suggested 小类 appear with confidences and the best one is preselected; a category
picked by hand is never overwritten by later suggestions."""

import pytest
from playwright.sync_api import expect

from gridgov.catalog.models import Category
from gridgov.conftest import department, make_user, region_tree  # noqa: F401

from .world import fast_passwords, sign_in, world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_intake_preselects_the_suggested_category(new_page, world):
    garbage = Category.objects.get(kind="event", code="0102")  # 暴露垃圾
    parking = Category.objects.get(kind="event", code="0505")  # 机动车乱停放
    page = sign_in(new_page, "clerk")
    page.goto("/cases/new/")
    page.locator("#id_description").press_sequentially("楼下垃圾桶满溢，垃圾散落有异味", delay=20)

    suggestions = page.get_by_test_id("suggestions")
    expect(suggestions).to_contain_text("暴露垃圾")
    expect(suggestions).to_contain_text("%")
    expect(page.locator("#id_category")).to_have_value(str(garbage.pk))
    expect(page.locator("#category-chosen")).to_contain_text("0102 暴露垃圾")

    # The clerk knows better and picks another class by hand: typing on keeps it.
    page.locator("#category-search").fill("")
    page.locator("#category-search").press_sequentially("乱停", delay=50)
    page.locator('#category-results [data-category-label="0505 机动车乱停放"]').click()
    expect(page.locator("#id_category")).to_have_value(str(parking.pk))
    with page.expect_response(lambda response: "/triage/suggest/" in response.url):
        page.locator("#id_description").press_sequentially("，垃圾很多", delay=20)
    expect(page.locator("#id_category")).to_have_value(str(parking.pk))
    expect(page.locator("#category-chosen")).to_contain_text("0505 机动车乱停放")
