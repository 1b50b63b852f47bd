"""Browser tests of 回访 (record an unsatisfied result and reopen the case, confirming the
dialog) and of the leaders' metrics page (ECharts drawn, drill-down to the cases)."""

import pytest
from playwright.sync_api import expect

from gridgov.callbacks.models import Callback
from gridgov.cases.models import Case, Status
from gridgov.conftest import department, make_user, region_tree  # noqa: F401
from gridgov.org.roles import Role

from .world import fast_passwords, populate_cases, sign_in, world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_callback_unsatisfied_reopens_the_case(world, new_page, screenshot):  # noqa: F811
    cases = populate_cases(world)
    cars = cases["cars"]  # closed, not rated yet
    callback = Callback.objects.get(case=cars)
    page = sign_in(new_page, "clerk")
    page.goto("/callbacks/?state=pending")
    row = page.locator(f"tr[data-callback='{callback.pk}']")
    expect(row).to_contain_text(cars.number)
    screenshot(page, "callbacks-list")
    row.get_by_role("link", name="登记结果").click()
    page.get_by_label("不满意").check()
    page.get_by_label("重新打开案件（退回派遣）").check()
    page.get_by_label("重新打开原因").fill("车辆仍未拖走")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="保存结果").click()
    expect(page.get_by_test_id("result")).to_have_text("不满意")
    case = Case.objects.get(pk=cars.pk)
    assert case.status == Status.ACCEPTED and case.rework_count == 1


def test_dismissing_the_confirmation_keeps_the_case_closed(world, new_page):  # noqa: F811
    cars = populate_cases(world)["cars"]
    page = sign_in(new_page, "clerk")
    page.goto(f"/callbacks/{Callback.objects.get(case=cars).pk}/")
    page.get_by_label("不满意").check()
    page.get_by_label("重新打开案件（退回派遣）").check()
    page.get_by_label("重新打开原因").fill("x")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="保存结果").click()
    expect(page.get_by_test_id("result-form")).to_be_visible()
    assert Case.objects.get(pk=cars.pk).status == Status.CLOSED


def test_metrics_page_draws_charts_and_drills_down(world, new_page, screenshot, make_user):  # noqa: F811
    cases = populate_cases(world)
    make_user([Role.SUBDISTRICT_LEADER], scope=world.regions["subdistrict"], username="leader", display_name="街道主任")
    page = sign_in(new_page, "leader")
    page.goto("/metrics/?level=department")
    expect(page.locator("#ranking-chart[data-rendered] canvas")).to_have_count(1)
    expect(page.locator("#trend-chart[data-rendered] canvas")).to_have_count(1)
    expect(page.get_by_test_id("metrics-table")).to_contain_text(world.departments.sanitation.name)
    screenshot(page, "metrics")
    page.get_by_test_id("metrics-total").locator("a").first.click()  # 响应率's numerator
    expect(page.get_by_test_id("drill-table")).to_be_visible()
    shown = page.get_by_test_id("drill-table").inner_text()
    assert cases["mud"].number in shown and cases["sewer"].number not in shown  # sewer never dispatched
