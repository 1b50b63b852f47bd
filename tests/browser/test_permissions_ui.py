"""Scope and role in the staff UI: a grid inspector of 西区社区 sees nothing of 象霞社区 —
not in the workbench, the case list or the map data, and a case page opened by its URL is
a 404 — and every page offers only the actions the viewer's role may take."""

import pytest
from playwright.sync_api import expect

from gridgov.cases import services
from gridgov.conftest import department, make_user, region_tree  # noqa: F401

from .world import IN_GRID_11, IN_GRID_12, IN_GRID_21, category, fast_passwords, photo_bytes, sign_in, world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

def handled_case(world, point, description):
    """A case of 暴露垃圾 reported at `point`, handled by the sanitation office (待核查)."""
    users = world.users
    case, _created = services.create_case(
        users.clerk, channel="hotline", description=description, category=category("0102"), lon=point[0], lat=point[1],
        reporter_name="王秀兰", reporter_phone="13912345678", photos=[photo_bytes("JPEG")],
    )
    case = services.accept(case, users.dispatcher)
    case = services.dispatch(case, users.dispatcher, department=world.departments.sanitation)
    case = services.sign(case, users.handler)
    return services.submit_handling(case, users.handler, note="已清运。")


def actions_on(page):
    """The action names the case page offers (each action box or one-button form)."""
    return {element.get_attribute("data-action") for element in page.locator("#actions [data-action]").all()}


def test_inspector_sees_only_their_community_and_only_their_actions(new_page, world):
    users = world.users
    east = handled_case(world, IN_GRID_11, "象霞小区3号楼东侧垃圾桶满溢。")  # community 1 (象霞社区)
    west = handled_case(world, IN_GRID_21, "西区菜市场北门垃圾堆放。")  # community 2 (西区社区)
    fresh, _created = services.create_case(
        users.clerk, channel="hotline", description="纬六路人行道砖松动。", category=category("0110"), lon=IN_GRID_12[0], lat=IN_GRID_12[1],
    )
    hidden = {east.number, fresh.number}
    east_photo = east.attachments.get()

    # 网格员 of 西区社区第1网格.
    page = sign_in(new_page, "inspector2")
    page.goto("/")
    queue = page.locator('[data-panel="to_verify"]')
    expect(queue.locator(f'tr[data-case="{west.number}"]')).to_be_visible()
    expect(queue.locator("tr[data-case]")).to_have_count(1)
    # A grid inspector has no centre queues, whatever the cases in the district.
    for panel in ("to_accept", "to_dispatch", "to_close", "inbox", "to_rate"):
        expect(page.locator(f'[data-panel="{panel}"]')).to_have_count(0)
    for number in hidden:
        assert number not in page.content()

    page.goto("/cases/")
    expect(page.get_by_test_id("case-count")).to_contain_text("共 1 件事件")
    expect(page.locator(".case-table tbody tr")).to_have_count(1)
    expect(page.locator(".case-table")).to_contain_text(west.number)
    # Not even by searching for it.
    page.goto(f"/cases/?q={east.number}")
    expect(page.get_by_test_id("empty-state")).to_be_visible()

    points = page.request.get("/map/cases.json").json()["cases"]
    assert [point["number"] for point in points] == [west.number]

    # The other community's case, its photo and its actions: 404 whatever the URL.
    response = page.goto(f"/cases/{east.pk}/")
    assert response.status == 404
    assert east.description not in page.content()
    assert page.request.get(f"/cases/{east.pk}/photos/{east_photo.pk}/").status == 404
    csrf = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    forged = page.request.post(
        f"/cases/{east.pk}/act/verify/", form={"version": east.version, "passed": "1"},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    assert forged.status == 404
    east.refresh_from_db()
    assert east.status == "handled"

    # Their own case: verification is the one action offered; no reveal of the reporter.
    response = page.goto(f"/cases/{west.pk}/")
    assert response.status == 200
    expect(page.get_by_test_id("case-status")).to_have_text("待核查")
    assert actions_on(page) == {"verify"}
    expect(page.get_by_test_id("reporter")).not_to_contain_text("13912345678")
    expect(page.get_by_test_id("reporter").get_by_role("button")).to_have_count(0)

    # The inspector of 象霞社区 is the mirror image (and proves the selectors find something).
    east_page = sign_in(new_page, "inspector")
    assert east_page.goto(f"/cases/{west.pk}/").status == 404
    assert east_page.goto(f"/cases/{east.pk}/").status == 200
    assert actions_on(east_page) == {"verify"}

    # The dispatcher sees both communities but may neither verify nor close; may reveal the reporter.
    dispatcher = sign_in(new_page, "dispatcher")
    dispatcher.goto(f"/cases/{west.pk}/")
    offered = actions_on(dispatcher)
    assert not offered & {"verify", "close", "sign", "handle", "rate", "accept", "dispatch"}, offered
    expect(dispatcher.get_by_test_id("reporter").get_by_role("button", name="显示")).to_be_visible()
    dispatcher.goto(f"/cases/{fresh.pk}/")
    assert {"accept", "reject"} <= actions_on(dispatcher)
    dispatcher.goto("/")
    expect(dispatcher.locator('[data-panel="to_verify"]')).to_have_count(0)

    # A handler of another department (城管) sees neither case: not theirs, no area scope.
    other = sign_in(new_page, "urban")
    assert other.goto(f"/cases/{west.pk}/").status == 404
    other.goto("/cases/")
    expect(other.get_by_test_id("empty-state")).to_be_visible()
