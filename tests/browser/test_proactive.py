"""Browser test of the hot-topics page: the hot H3 cells drawn by Leaflet, the ECharts trend,
and the open-case button (confirmed, one case however often it is clicked)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from gridgov.cases import services
from gridgov.conftest import department, make_user, region_tree  # noqa: F401
from gridgov.cases.models import Case, Channel
from gridgov.org.roles import Role

from .world import IN_GRID_11, IN_GRID_21, category, fast_passwords, sign_in, world  # noqa: F401

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def hot_history(world):
    from django.core.cache import cache

    cache.clear()
    garbage, parking = category("0102"), category("0506")
    days = [(garbage, IN_GRID_11, 9, d) for d in (2, 9, 16)] + [(garbage, IN_GRID_11, 10, d) for d in (8, 15, 22)]
    days += [(parking, IN_GRID_21, 10, d) for d in (5, 12)] + [(parking, IN_GRID_21, 7, d) for d in (6, 13, 20)]
    for kind, (lon, lat), month, day in days:
        services.create_case(
            world.users.clerk, channel=Channel.HOTLINE, description="反映问题", category=kind, lon=lon, lat=lat,
            at=dt.datetime(2026, month, day, 10, tzinfo=SHANGHAI),
        )
    return garbage


def test_hot_topics_page_draws_cells_and_trend_and_opens_one_case(world, hot_history, new_page, make_user, screenshot):
    make_user([Role.SHIFT_LEAD, Role.SUBDISTRICT_LEADER], scope=world.regions["subdistrict"], username="leader")
    page = sign_in(new_page, "leader")
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/proactive/?month=2026-10&months=2")
    expect(page.locator("h1")).to_contain_text("每月一题")
    expect(page.locator("#hot-map path.leaflet-interactive").first).to_be_attached()
    assert page.locator("#hot-map path.leaflet-interactive").count() >= 2  # the two hot cells
    expect(page.locator("#hot-trend canvas").first).to_be_attached()
    # The grid boundaries arrive by fetch, beneath the cells: 6 regions + 2 cells.
    page.wait_for_function("document.querySelectorAll('#hot-map path.leaflet-interactive, #hot-map .leaflet-overlay-pane path').length >= 8")
    screenshot(page, "hot_topics")

    page.on("dialog", lambda dialog: dialog.accept())
    first_button = page.locator('[data-testid="topics"] button', has_text="主动立案").first
    first_button.click()
    page.wait_for_url("**/cases/*/")
    page.go_back()
    page.locator('[data-testid="topics"] button', has_text="主动立案").first.click()
    page.wait_for_url("**/cases/*/")
    assert Case.objects.filter(channel=Channel.PROACTIVE).count() == 1
    assert errors == []
