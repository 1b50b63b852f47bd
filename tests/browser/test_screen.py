"""The big screen in a real browser at 1920x1080, with live updates.

How the live stream runs here: pages and the API come from pytest-django's live_server
(a threaded WSGI server), and the event stream from the real ASGI app under uvicorn,
started in a thread of this process (gridgov.live.testing.AsgiServer) on its own port —
the same split as `gridgov serve` (:8000 pages, :8001 streams), with GRIDGOV_EVENTS_URL
pointing the page at it. In-process rather than a subprocess because it must see the
test database, and SQLite's test database lives in memory. The case is created by an
authenticated HTTP POST to /api/v1/cases/ from this test thread; the server thread
commits it, the cases service sends case_recorded, the screen app writes the LiveEvent,
the poller picks it up and uvicorn pushes it to the open page.
"""

import datetime as dt
import time

import pytest
import requests
from django.test import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from gridgov.cases.models import Case
from gridgov.catalog.models import Category
from gridgov.conftest import department, make_user, region_tree  # noqa: F401
from gridgov.live.hub import stop_hub
from gridgov.live.testing import AsgiServer
from gridgov.org.roles import Role
from gridgov.screen.daycounts import rebuild as rebuild_screen_counts
from gridgov.screen.models import InspectorPosition, KioskToken
from gridgov.screen.seed import seed_demo_cameras, seed_demo_indicators

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT_PANELS = ["governance", "clocks", "rank-departments", "rank-communities", "emergency", "livelihood", "property", "party", "economy"]
CHART_PANELS = {
    "funnel": "chart-funnel", "channels": "chart-channels", "statuses": "chart-statuses",
    "trend7": "chart-trend7", "trend30": "chart-trend30",
}


@pytest.fixture(autouse=True)
def no_poller_outlives_the_test(transactional_db):
    yield
    stop_hub()


@pytest.fixture
def screen_world(region_tree, make_user, department):
    now = timezone.now()
    grid = region_tree["grid11"]
    # The standard catalogue comes from a data migration, which a flush between
    # transactional tests removes: make sure the 民生诉求 大类 and one 小类 exist.
    livelihood, _ = Category.objects.get_or_create(kind="governance", code="03", defaults={"name": "民生诉求"})
    minor, _ = Category.objects.get_or_create(kind="governance", code="0301", defaults={"name": "养老服务", "parent": livelihood})
    for n in range(12):
        g = region_tree[("grid11", "grid12", "grid21", "grid22")[n % 4]]
        ring = g.boundary["coordinates"][0]
        Case.objects.create(
            number=f"BR{n:06d}", channel=("hotline", "grid_patrol", "video_alarm", "resident")[n % 4],
            status=("reported", "handling", "closed")[n % 3], description="道路积水", priority=4 if n == 5 else 2,
            lon=ring[0][0] + 0.004, lat=ring[0][1] + 0.006 + 0.001 * n, grid=g, region_code=g.code,
            created_at=now - dt.timedelta(hours=n * 7), department=department,
            accepted_at=now - dt.timedelta(hours=n * 7 - 1), dispatched_at=now - dt.timedelta(hours=n * 7 - 1),
            closed_at=now - dt.timedelta(hours=n * 7 - 3) if n % 3 == 2 else None, rating=3 if n % 3 == 2 else None,
            category=minor if n % 2 else None, reporter_name="王小明", reporter_phone="13912345678",
            due_at=None if n % 3 == 2 else now + dt.timedelta(minutes=(-60, 20)[n % 2]),
            warn_at=None if n % 3 == 2 else now - dt.timedelta(minutes=10),
        )
    rebuild_screen_counts()  # rows written directly, not through the services
    seed_demo_cameras(count=40)
    seed_demo_indicators()
    inspector = make_user(roles=[Role.GRID_INSPECTOR], scope=grid, display_name="李四")
    InspectorPosition.objects.create(user=inspector, lon=117.004, lat=36.69, at=now, grid=grid, region_code=grid.code)
    token = KioskToken(label="大厅主屏", scope=region_tree["subdistrict"], expires_at=now + dt.timedelta(days=1))
    raw = token.set_new_token()
    token.save()
    reporter = make_user(roles=[Role.INTAKE_CLERK], scope=region_tree["subdistrict"])
    return {"raw": raw, "api_token": Token.objects.create(user=reporter).key}


def test_screen_shows_every_panel_and_a_new_case_arrives_live(new_page, live_server, screenshot, screen_world):
    with AsgiServer() as events_server, override_settings(GRIDGOV_EVENTS_URL=f"{events_server.url}/events/"):
        page = new_page(width=1920, height=1080)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"/screen/?token={screen_world['raw']}")
        page.wait_for_selector('[data-panel="governance"][data-ready="1"]')
        page.wait_for_selector('#live-status[data-state="live"]')

        # Rotating panels may be hidden right now: read their DOM text, not the visible text.
        for name in TEXT_PANELS + list(CHART_PANELS) + ["map"]:
            assert page.locator(f'[data-panel="{name}"]').get_attribute("data-ready") == "1", name
        for name in TEXT_PANELS:
            text = page.locator(f'[data-panel="{name}"]').text_content()
            assert any(ch.isdigit() for ch in text) and "暂无数据" not in text, (name, text)
        for name, chart_id in CHART_PANELS.items():
            assert page.locator(f"#{chart_id} canvas").count() == 1, name
        assert page.locator('[data-field="grids"]').first.inner_text() == "4"
        assert page.locator('[data-field="today_created"]').first.inner_text() not in ("", "–")
        assert page.locator('.rate[data-rate="resolution"] .ring span').inner_text().endswith("%")
        assert page.locator(".case-marker").count() >= 1
        assert page.locator(".inspector-marker").count() == 1
        assert page.locator("#list-whistles").inner_text().strip() == "暂无吹哨事件"
        assert page.locator('[data-module="livelihood"] [data-m="total"]').text_content() == "6"
        assert "党员人数" in page.locator('[data-indicators="party"]').text_content()
        assert "来源" in page.locator('[data-indicators="economy"]').text_content()
        assert "王小明" not in page.content() and "13912345678" not in page.content()
        # Nothing scrolls: the stage fits the 1920x1080 viewport exactly.
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight && document.documentElement.scrollWidth <= innerWidth")

        started = time.monotonic()
        response = requests.post(
            f"{live_server.url}/api/v1/cases/",
            json={"channel": "video_alarm", "description": "视频告警：道路积水", "lon": 117.006, "lat": 36.695},
            headers={"Authorization": f"Token {screen_world['api_token']}", "Connection": "close"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        number = response.json()["number"]
        page.wait_for_function(
            "number => document.getElementById('ticker').innerText.includes(number)", arg=number, timeout=5000
        )
        assert time.monotonic() - started < 3.0  # includes the POST itself; the push is well under 1 s
        assert page.locator(".case-marker.fresh").count() >= 1

        page.wait_for_timeout(800)  # let the pulse animation and charts settle for the picture
        screenshot(page, "screen")
    # The stream's server is gone: the screen says so and still shows its last update time.
    page.wait_for_selector('#live-status[data-state="reconnecting"]', timeout=10_000)
    assert page.locator("#live-updated").inner_text().count(":") == 2
    assert errors == []
    page.close()  # no refresh may reach the server while the test database goes away
