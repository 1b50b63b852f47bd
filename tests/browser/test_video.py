"""Browser test of the alarm list: the map draws the alarms of the list, and dismissing an
alarm asks once (web/app.js's data-confirm; video.js used to ask a second time)."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from gridgov.conftest import department, make_user, region_tree  # noqa: F401
from gridgov.video.models import Alarm, AlarmStatus
from gridgov.video.parsers import parse_sensor_alarm
from gridgov.video.services import ingest

from .world import IN_GRID_11, fast_passwords, sign_in, world  # noqa: F401

pytestmark = pytest.mark.browser


def test_alarm_map_and_dismiss_asks_once(world, new_page):
    from gridgov.video import alarms

    alarms.clear_rules_cache()
    lon, lat = IN_GRID_11
    ingest(parse_sensor_alarm({
        "device_id": "SMK-7", "kind": "smoke", "value": 0.31, "threshold": 0.1, "lon": lon, "lat": lat,
        "at": (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)).isoformat(), "event_id": "s-1",
    }))
    page = sign_in(new_page, "dispatcher")
    page.goto("/video/alarms/")
    expect(page.locator("tr[data-alarm]")).to_have_count(1)
    expect(page.locator("#alarm-map.leaflet-container canvas")).to_have_count(1)  # drawn (markers on a canvas)
    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.fill("form.video-dismiss input[name=reason]", "烟雾传感器误报")
    page.get_by_role("button", name="标记误报").click()
    expect(page.locator(".messages")).to_be_visible()
    assert Alarm.objects.get().status == AlarmStatus.DISMISSED
    assert len(questions) == 1
