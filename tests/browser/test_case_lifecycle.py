"""A case's whole life through the staff UI, by five roles, each in its own browser context
signed in through the real login page:

受理员 registers a phone call on the intake form (category search-as-you-type, typed
coordinate, photo) → 派遣员 accepts it on the workbench and dispatches it on the case page
(the 小类's department preselected) → the department's handler signs and reports handling
with an evidence photo → the grid inspector fails the verification (返工) → the handler
reports again → the inspector passes it → 值班长 closes it → the clerk records the rating.
"""

import re

import pytest
from playwright.sync_api import expect

from gridgov.cases.models import Case
from gridgov.conftest import department, make_user, region_tree  # noqa: F401

from .world import IN_GRID_11, fast_passwords, png_upload, sign_in, world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "象霞小区5号楼北侧绿化带旁堆放大量生活垃圾，已有异味，请尽快清理。"
TIMELINE = [
    ("create", "登记"),
    ("accept", "立案"),
    ("dispatch", "派遣"),
    ("sign", "签收"),
    ("handle", "处置反馈"),
    ("verify", "核查未通过，返工"),
    ("handle", "处置反馈"),
    ("verify", "核查通过"),
    ("close", "结案"),
    ("rate", "回访评价"),
]


def expect_status(page, text):
    expect(page.get_by_test_id("case-status")).to_have_text(text)


def workbench_row(page, panel, number):
    return page.locator(f'[data-panel="{panel}"] tr[data-case="{number}"]')


def open_action(page, action):
    """The action's box on the case page (a <details>), opened."""
    box = page.locator(f'details[data-action="{action}"]')
    expect(box).to_be_visible()
    if box.get_attribute("open") is None:
        box.locator("summary").click()
    # The page may open a box by itself (e.g. the only action) while we click: a click
    # then closes it again. Whatever happened, leave it open.
    box.evaluate("element => { element.open = true; }")
    expect(box).to_have_attribute("open", "")
    return box


def register_call(page):
    """The clerk takes a call on /cases/new/; returns the new case's page URL."""
    page.goto("/cases/new/")
    page.select_option("#id_channel", "hotline")
    page.fill("#id_reporter_name", "王秀兰")
    page.fill("#id_reporter_phone", "13912345678")
    # Search as you type: a few characters, then pick the 小类 from the list.
    page.locator("#category-search").press_sequentially("垃圾", delay=50)
    page.locator('#category-results [data-category-label="0102 暴露垃圾"]').click()
    expect(page.locator("#category-chosen")).to_contain_text("0102 暴露垃圾")
    # A typed coordinate: the location check names the grid it falls in.
    page.fill("#id_lon", str(IN_GRID_11[0]))
    page.fill("#id_lat", str(IN_GRID_11[1]))
    page.locator("#id_lat").press("Tab")
    expect(page.locator("#location-check")).to_contain_text("象霞社区第1网格")
    page.fill("#id_address", "象霞小区5号楼北侧")
    page.fill("#id_description", DESCRIPTION)
    page.set_input_files("#id_photos", png_upload("现场.png"))
    page.get_by_role("button", name="登记事件").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("已登记")
    expect_status(page, "待立案")
    return page.url


def test_case_lifecycle_through_five_roles(new_page, world):
    users, sanitation = world.users, world.departments.sanitation

    # 受理员: the call, registered on the intake form.
    clerk = sign_in(new_page, "clerk")
    case_url = register_call(clerk)
    case = Case.objects.get()
    assert case.category.code == "0102" and case.grid == world.regions["grid11"]
    assert case.reporter_phone == "13912345678" and case.attachments.count() == 1
    expect(clerk.locator("#photos img")).to_have_count(1)
    number = case.number

    # 派遣员: accept (立案) from the workbench queue, dispatch from the case page.
    dispatcher = sign_in(new_page, "dispatcher")
    dispatcher.goto("/")
    workbench_row(dispatcher, "to_accept", number).get_by_role("button", name="立案").click()
    expect(dispatcher.locator(".messages")).to_contain_text(number)
    row = workbench_row(dispatcher, "to_dispatch", number)
    expect(row).to_contain_text("待派遣")
    # The 小类's default department is already chosen in the queue's drop-down.
    expect(row.locator("select[name=department]")).to_have_value(str(sanitation.pk))
    dispatcher.goto(case_url)
    expect_status(dispatcher, "待派遣")
    box = open_action(dispatcher, "dispatch")
    expect(box.locator("select[name=department]")).to_have_value(str(sanitation.pk))
    box.locator("textarea[name=note]").fill("请环卫所2小时内到场清理。")
    box.get_by_role("button", name="派遣").click()
    expect_status(dispatcher, "待签收")

    # 部门处置人员: sign from the department inbox, then report handling with a photo.
    handler = sign_in(new_page, "handler")
    handler.goto("/")
    row = workbench_row(handler, "inbox", number)
    expect(row).to_contain_text("待签收")
    row.get_by_role("button", name="签收").click()
    row = workbench_row(handler, "inbox", number)
    expect(row).to_contain_text("处置中")
    row.get_by_role("link", name="处置反馈").click()
    expect_status(handler, "处置中")

    def report_handling(note, photo_name):
        box = open_action(handler, "handle")
        box.locator("textarea[name=note]").fill(note)
        box.locator("input[name=photos]").set_input_files(png_upload(photo_name, seed=2))
        box.get_by_role("button", name="提交处置反馈").click()
        expect_status(handler, "待核查")

    report_handling("已安排保洁员清运垃圾约0.5吨，现场已冲洗。", "处置后.png")

    # 网格员 of grid 11: verification fails, back to the department for rework.
    inspector = sign_in(new_page, "inspector")
    inspector.goto("/")
    workbench_row(inspector, "to_verify", number).get_by_role("link", name="核查").click()
    expect_status(inspector, "待核查")

    def verify(passed, note):
        box = open_action(inspector, "verify")
        box.locator(f'input[name=passed][value="{1 if passed else 0}"]').check()
        box.locator("textarea[name=note]").fill(note)
        box.get_by_role("button", name="提交核查结果").click()

    verify(False, "绿化带内仍有散落垃圾袋，请再次清理。")
    expect_status(inspector, "处置中")
    expect(inspector.locator(".case-head")).to_contain_text("返工 1 次")

    # The handler reports again; this time the inspector passes it.
    handler.reload()
    expect_status(handler, "处置中")
    report_handling("已二次清理绿化带内垃圾袋，并增设临时垃圾桶。", "二次处置.png")
    inspector.reload()
    verify(True, "现场已清理干净，核查通过。")
    expect_status(inspector, "待结案")

    # 值班长: close (结案) from the case page.
    lead = sign_in(new_page, "lead")
    lead.goto("/")
    expect(workbench_row(lead, "to_close", number)).to_be_visible()
    lead.goto(case_url)
    expect_status(lead, "待结案")
    questions = []
    lead.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    open_action(lead, "close").get_by_role("button", name="结案").click()
    expect_status(lead, "已结案")
    assert questions == ["确定结案吗？"]  # closing asks first

    # 受理员: the caller's rating, recorded from the clerk's workbench.
    clerk.goto("/")
    row = workbench_row(clerk, "to_rate", number)
    row.locator("select[name=rating]").select_option("3")
    row.get_by_role("button", name="记录评价").click()
    expect(clerk.locator(".messages")).to_contain_text(number)
    expect(workbench_row(clerk, "to_rate", number)).to_have_count(0)
    clerk.goto(case_url)
    expect_status(clerk, "已结案")
    expect(clerk.locator("#details")).to_contain_text("满意")
    expect(clerk.locator('details[data-action="rate"]')).to_have_count(0)

    # The timeline lists every step in order, by the people who took them.
    items = clerk.locator("#timeline li[data-event]")
    expect(items).to_have_count(len(TIMELINE))
    assert [item.get_attribute("data-event") for item in items.all()] == [action for action, _label in TIMELINE]
    expect(clerk.locator("#timeline .timeline__action")).to_have_text([label for _action, label in TIMELINE])
    actors = clerk.locator("#timeline li[data-event] .timeline__head > .muted:last-child").all_inner_texts()
    assert actors == ["张晓燕", "王建国", "王建国", "刘海涛", "刘海涛", "李娜", "刘海涛", "李娜", "陈志刚", "张晓燕"]
    expect(clerk.locator("#timeline")).to_contain_text("绿化带内仍有散落垃圾袋")
    # One photo at intake, one per handling report; each one is served to the page.
    expect(clerk.locator("#photos img")).to_have_count(3)
    clerk.locator("#photos").scroll_into_view_if_needed()  # the images load lazily
    clerk.wait_for_function("[...document.querySelectorAll('#photos img')].every(img => img.complete && img.naturalWidth > 0)")

    case.refresh_from_db()
    assert case.status == "closed" and case.rating == 3
    assert case.rework_count == 1
    assert case.department == sanitation and case.handler == users.handler
    assert list(case.events.order_by("seq").values_list("action", flat=True)) == [action for action, _label in TIMELINE]
