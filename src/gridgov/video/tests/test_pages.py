"""Camera and alarm pages: list, export, import (all or nothing), command, dismissal."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from gridgov.core.models import SensitiveReadLog
from gridgov.org.roles import Role
from gridgov.video.models import Alarm, AlarmStatus, Camera
from gridgov.video.parsers import parse_frigate_event
from gridgov.video.services import ingest

from .test_alarms import frigate_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, make_user):
    def factory(roles, scope=None):
        user = make_user(roles, scope=scope)
        client.force_login(user)
        return user

    return factory


def xlsx(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "cameras.xlsx"
    return buffer


class TestCameraPages:
    def test_list_filters_masks_and_maps(self, client, signed_in, cameras, region_tree):
        signed_in([Role.SHIFT_LEAD], scope=region_tree["subdistrict"])
        page = client.get("/video/cameras/", {"q": "东门"}).content.decode()
        assert 'data-camera="front_gate"' in page and 'data-camera="back_yard"' not in page
        assert "rtsp://10.0.0.5/***" in page and "secret" not in page
        assert 'id="camera-points"' in page
        assert "没有符合条件的摄像头" in client.get("/video/cameras/", {"q": "nothing"}).content.decode()

    def test_revealing_a_stream_is_logged(self, client, signed_in, cameras, region_tree):
        lead = signed_in([Role.SHIFT_LEAD], scope=region_tree["subdistrict"])
        response = client.post(f"/video/cameras/{cameras['gate'].pk}/stream/")
        assert "rtsp://admin:secret@10.0.0.5/ch1" in response.content.decode()
        assert SensitiveReadLog.objects.get().user == lead

    def test_export_is_scoped_and_masked(self, client, signed_in, cameras, region_tree):
        signed_in([Role.INTAKE_CLERK], scope=region_tree["community1"])
        response = client.get("/video/cameras/export/")
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][0] == "编码" and [row[0] for row in rows[1:]] == ["front_gate"]
        assert rows[1][7] == "rtsp://10.0.0.5/***"


class TestImport:
    def test_bad_rows_are_listed_and_nothing_is_written(self, client, signed_in, region_tree):
        signed_in([Role.SYSADMIN])
        upload = xlsx([["编码", "名称", "经度", "纬度"], ["N1", "新摄像头", 117.005, 36.69], ["N2", "", "abc", 36.69], ["N1", "重复", 117.0, 36.69]])
        response = client.post("/video/cameras/import/", {"file": upload})
        page = response.content.decode()
        assert response.status_code == 400 and "row 2" in page and "row 3" in page and "row 1" not in page
        assert Camera.objects.count() == 0

    def test_good_file_creates_and_updates_with_grids(self, client, signed_in, cameras, region_tree):
        signed_in([Role.SYSADMIN])
        upload = xlsx([["code", "name", "lon", "lat", "vendor"], ["N1", "新摄像头", 117.015, 36.69, "海康"], ["front_gate", "东门（改）", 117.005, 36.69, ""]])
        response = client.post("/video/cameras/import/", {"file": upload})
        assert response.status_code == 302
        new = Camera.objects.get(code="N1")
        assert (new.grid, new.region_code, new.vendor, new.status) == (region_tree["grid12"], region_tree["grid12"].code, "海康", "offline")
        assert new.h3 and Camera.objects.get(code="front_gate").name == "东门（改）"

    def test_only_administrators_import(self, client, signed_in, region_tree):
        signed_in([Role.SHIFT_LEAD], scope=region_tree["subdistrict"])
        assert client.get("/video/cameras/import/").status_code == 403

    def test_command_imports_csv_with_gcj02(self, tmp_path, make_user, region_tree):
        make_user([Role.SYSADMIN])
        path = tmp_path / "cams.csv"
        path.write_text("code,name,lon,lat,crs\nC9,路口,117.025,36.69,wgs84\n", encoding="utf-8")
        call_command("import-cameras", str(path))
        assert Camera.objects.get(code="C9").grid == region_tree["grid21"]
        path.write_text("code,name,lon,lat\nC10,,x,36.69\n", encoding="utf-8")
        with pytest.raises(CommandError, match="row 1"):
            call_command("import-cameras", str(path))


class TestAlarmPage:
    def test_list_and_dismiss(self, client, signed_in, cameras, region_tree):
        alarm = ingest(parse_frigate_event(frigate_event()))
        signed_in([Role.DISPATCHER], scope=region_tree["subdistrict"])
        page = client.get("/video/alarms/").content.decode()
        assert f'data-alarm="{alarm.pk}"' in page and "data-confirm" in page
        response = client.post(f"/video/alarms/{alarm.pk}/dismiss/", {"reason": "误报"})
        assert response.status_code == 302
        assert Alarm.objects.get().status == AlarmStatus.DISMISSED


def test_alarm_export_and_sort_keep_the_filter(client, signed_in, cameras, region_tree):
    ingest(parse_frigate_event(frigate_event(event_id="a", label="person")))
    ingest(parse_frigate_event(frigate_event(event_id="b", label="car", camera="back_yard")))
    signed_in([Role.INTAKE_CLERK], scope=region_tree["community1"])
    response = client.get("/video/alarms/export/", {"sort": "status"})
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    assert rows[0][0] == "时间" and [(row[2], row[4]) for row in rows[1:]] == [("象霞社区东门", "person")]
    page = client.get("/video/alarms/", {"label": "person", "sort": "-status"}).content.decode()
    assert "?label=person&sort=status" in page


def test_alarm_map_shows_the_filtered_alarms_in_scope(client, signed_in, cameras, region_tree):
    """The alarm list has a map: each alarm at its own position, else its camera's; scope and filter as the list."""
    import json
    import re

    ingest(parse_frigate_event(frigate_event(event_id="a", label="person")))
    ingest(parse_frigate_event(frigate_event(event_id="b", label="car", camera="back_yard")))
    signed_in([Role.INTAKE_CLERK], scope=region_tree["community1"])
    page = client.get("/video/alarms/").content.decode()
    assert 'id="alarm-map"' in page and 'aria-label="告警地图"' in page
    points = json.loads(re.search(r'<script id="alarm-points" type="application/json">(.*?)</script>', page).group(1))
    assert [(p[1], p[2], p[3], p[4]) for p in points] == [("person", 117.005, 36.69, True)]  # the yard is another community
    page = client.get("/video/alarms/", {"label": "nobody"}).content.decode()
    assert 'id="alarm-map"' not in page and "没有符合条件的告警" in page

