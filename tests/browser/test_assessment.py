"""Browser test of the assessment pages: compute the month's sheets, see the ranking, add
points with a reason, confirm and lock (both buttons ask first)."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from gridgov.assessment.models import ScoreSheet, SheetStatus
from gridgov.cases import services
from gridgov.cases.models import Channel
from gridgov.conftest import department, make_user, region_tree  # noqa: F401
from gridgov.org.roles import Role

from .world import IN_GRID_11, category, fast_passwords, sign_in, world  # noqa: F401

pytestmark = pytest.mark.browser
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def default_rules(world):
    """The shipped duties come from a data migration; a live-server test before this one in the
    same worker flushes every table, migration data included, so install them again."""
    from django.apps import apps

    importlib.import_module("gridgov.assessment.migrations.0002_default_rules").add_defaults(apps, None)


def test_compute_rank_adjust_and_lock(world, default_rules, new_page, make_user, screenshot):
    secretary = make_user([Role.COMMUNITY_SECRETARY], scope=world.regions["community1"], username="secretary")
    grid_lead = make_user([Role.GRID_LEAD], scope=world.regions["community1"], username="gridlead", display_name="马建军")
    for day in (12, 13, 14):
        services.create_case(
            world.users.inspector, channel=Channel.GRID_PATROL, description="路边暴露垃圾", category=category("0102"),
            lon=IN_GRID_11[0], lat=IN_GRID_11[1], at=dt.datetime(2026, 10, day, 10, tzinfo=SHANGHAI),
        )

    page = sign_in(new_page, "secretary")
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/assessment/sheets/?month=2026-10")
    expect(page.get_by_test_id("empty-state")).to_be_visible()
    page.get_by_role("button", name="计算考核表").click()
    ranking = page.get_by_test_id("sheet-ranking")
    expect(ranking).to_contain_text("李娜")  # world.users.inspector
    expect(ranking.locator("tbody tr").first).to_contain_text("李娜")  # 3 reports: ahead of the grid lead
    screenshot(page, "assessment_ranking")

    lead_page = sign_in(new_page, "gridlead")
    sheet = ScoreSheet.objects.get(user=world.users.inspector)
    lead_page.goto(f"/assessment/sheets/{sheet.pk}/")
    lead_page.fill("#points", "-2")
    lead_page.fill("#reason", "例会迟到两次")
    lead_page.get_by_role("button", name="记录加减分").click()
    expect(lead_page.get_by_test_id("manual-items")).to_contain_text("例会迟到两次")
    assert grid_lead.pk != sheet.user_id

    page.goto(f"/assessment/sheets/{sheet.pk}/")
    page.get_by_role("button", name="确认并锁定").click()
    expect(page.get_by_test_id("sheet-status")).to_contain_text("已确认锁定")
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.LOCKED and sheet.manual_score == -2
