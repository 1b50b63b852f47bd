"""The main staff pages on a 360 px phone and a 1920x1080 desktop: nothing scrolls sideways,
the navigation works on the phone (the menu button opens the drawer), and the interface
speaks Chinese by default, even to an English browser. The desktop run saves the README
screenshots (docs/screenshots/*.png) from a realistic subdistrict."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from gridgov.conftest import department, make_user, region_tree  # noqa: F401

from .world import fast_passwords, populate_cases, sign_in, world  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENGLISH_BROWSER = {"extra_http_headers": {"Accept-Language": "en-US,en;q=0.9"}}
NAV_LABELS = ["工作台", "地图"]

# What is wider than the viewport, for the failure message.
OVERFLOW_REPORT = """() => {
  const limit = window.innerWidth;
  const wide = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > limit + 0.5) {
      wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${[...el.classList].join(".")} right=${Math.round(box.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: limit, wide: wide.slice(0, 8)};
}"""


@pytest.fixture
def cases(world):
    return populate_cases(world)


def pages(cases):
    """(name, path, selector that shows the page has finished loading its data)."""
    return [
        ("workbench", "/", '[data-panel="to_accept"] tr[data-case]'),
        ("case-list", "/cases/", ".case-table tbody tr"),
        ("case-detail", f"/cases/{cases['toilet'].pk}/", "#case-map .leaflet-pane"),
        ("map", "/map/", "#map-status:not(:empty)"),
        ("intake", "/cases/new/", "#intake-map .leaflet-pane"),
    ]


def wait_for_still_markers(page):
    """Until the clusters stop moving: markercluster animates them into place after the zoom.
    (Single cases are drawn on a canvas; the status line already says they are loaded.)"""
    page.wait_for_function(
        """() => {
          const icons = [...document.querySelectorAll("#case-map .case-cluster")];
          const now = JSON.stringify(icons.map(icon => {
            const box = icon.getBoundingClientRect();
            return [icon.textContent, Math.round(box.x), Math.round(box.y), getComputedStyle(icon).opacity];
          }));
          const still = now === window.__lastClusters
            && !document.querySelector("#case-map .leaflet-cluster-anim, #case-map.leaflet-zoom-anim");
          window.__lastClusters = now;
          return still;
        }""",
        polling=150,
    )


def assert_fits(page, name):
    report = page.evaluate(OVERFLOW_REPORT)
    assert report["scrollWidth"] <= report["innerWidth"], (name, report)


def assert_chinese_shell(page, name):
    assert page.locator("html").get_attribute("lang") == "zh-hans", name
    nav = page.locator("#sidenav")
    for label in NAV_LABELS:
        expect(nav).to_contain_text(label)
    expect(page.locator(".topbar__title")).to_have_text("基层网格治理平台")
    # One entry is the current page (the case page belongs to the case list).
    expect(nav.locator('[aria-current="page"]')).to_have_count(1)


def visit(page, name, path, ready):
    response = page.goto(path)
    assert response.status == 200, (name, response.status)
    expect(page.locator(ready).first).to_be_attached()
    assert_chinese_shell(page, name)
    assert_fits(page, name)


def test_phone_360(new_page, cases, screenshot):
    # An English phone browser: the interface still speaks Chinese.
    page = sign_in(lambda **size: new_page(**size, **ENGLISH_BROWSER), "dispatcher", width=360, height=740)
    menu, nav = page.locator(".topbar__menu"), page.locator("#sidenav")
    for name, path, ready in pages(cases):
        visit(page, name, path, ready)
        # The navigation is a drawer behind the menu button.
        expect(menu).to_be_visible()
        expect(nav).not_to_be_in_viewport()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(nav.get_by_role("link", name="工作台")).to_be_in_viewport()
        assert_fits(page, f"{name} with the menu open")
        page.keyboard.press("Escape")
        expect(nav).not_to_be_in_viewport()

    # The drawer's links work: from the last page back to the workbench.
    menu.click()
    nav.get_by_role("link", name="工作台").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
    expect(page.locator("h1")).to_have_text("我的工作台")
    expect(page.locator('[data-panel="to_accept"] tr[data-case]')).to_have_count(3)
    expect(menu).to_have_attribute("aria-expanded", "false")
    screenshot(page, "mobile-workbench")


def test_desktop_1920(new_page, cases, screenshot):
    page = sign_in(new_page, "dispatcher", width=1920, height=1080)
    for name, path, ready in pages(cases):
        visit(page, name, path, ready)
        # The side navigation is always there; no menu button.
        expect(page.locator(".topbar__menu")).to_be_hidden()
        expect(page.locator("#sidenav").get_by_role("link", name="工作台")).to_be_in_viewport()
        if name in PICTURES:  # a README picture of this page, as the dispatcher sees it
            PICTURES[name](page, cases)
            assert_fits(page, f"{name} ready for its picture")
            screenshot(page, name)

    # The case page as the shift lead sees it: a case with a rework, ready to be closed.
    lead = sign_in(new_page, "lead", width=1920, height=1080)
    lead.goto(f"/cases/{cases['toilet'].pk}/")
    expect(lead.get_by_test_id("case-status")).to_have_text("待结案")
    expect(lead.locator('details[data-action="close"]')).to_be_visible()
    lead.wait_for_function("[...document.querySelectorAll('#photos img, #timeline img')].every(img => img.complete)")
    assert_fits(lead, "case-detail (shift lead)")
    screenshot(lead, "case-detail")


def workbench_picture(page, cases):
    """Queues to accept, to dispatch and returned by a department."""
    expect(page.locator('[data-panel="to_accept"] tr[data-case]')).to_have_count(3)
    expect(page.locator('[data-panel="to_dispatch"] tr[data-case]')).to_have_count(2)
    expect(page.locator('[data-panel="returned"] tr[data-case]')).to_have_count(1)


def case_list_picture(page, cases):
    expect(page.locator(".case-table tbody tr")).to_have_count(len(cases))


def map_picture(page, cases):
    expect(page.locator("#map-status")).to_contain_text("地图上共 10 件在办事件")
    wait_for_still_markers(page)


def intake_picture(page, cases):
    """Mid-call: an earlier case from this number, the chosen 小类, the grid and a likely
    duplicate nearby."""
    earlier = cases["garbage"]
    page.fill("#id_reporter_name", "王秀兰")
    page.locator("#id_reporter_phone").press_sequentially(earlier.reporter_phone, delay=20)
    expect(page.get_by_test_id("earlier-cases")).to_contain_text(earlier.number)
    page.locator("#category-search").press_sequentially("垃圾", delay=50)
    page.locator('#category-results [data-category-label="0102 暴露垃圾"]').click()
    page.fill("#id_lon", f"{earlier.lon + 0.0002:.6f}")
    page.fill("#id_lat", f"{earlier.lat:.6f}")
    page.locator("#id_lat").press("Tab")
    expect(page.get_by_test_id("duplicates")).to_contain_text(earlier.number)
    page.fill("#id_address", "象霞小区3号楼东侧")
    page.fill("#id_description", "来电反映3号楼东侧垃圾桶又满了，垃圾散落一地，希望尽快清运。")
    page.locator("#id_description").blur()


PICTURES = {"workbench": workbench_picture, "case-list": case_list_picture, "map": map_picture, "intake": intake_picture}
