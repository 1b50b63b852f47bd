"""The video API: scope, masked stream URLs, signed webhook and heartbeats, dismissal."""

import json
import time

import pytest
from django.test import Client

from gridgov.cases.models import Case, Channel
from gridgov.core.models import SensitiveReadLog
from gridgov.org.roles import Role
from gridgov.video.models import Alarm, AlarmSource, AlarmStatus, CameraStatus, WebhookInbox
from gridgov.video.signing import signed_headers

from .pushes import drain

pytestmark = pytest.mark.django_db
SECRET = "s3cret-of-the-platform"


@pytest.fixture
def platform(db):
    return AlarmSource.objects.create(code="iot-platform", name="物联平台", kind="webhook", secret=SECRET)


def post_signed(url, body, *, source="iot-platform", secret=SECRET, timestamp=None):
    raw = json.dumps(body).encode()
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed_headers(source, secret, raw, timestamp=timestamp).items()}
    return Client().post(url, raw, content_type="application/json", **headers)


class TestCameras:
    def test_list_is_scoped_and_masks_stream_urls(self, cameras, make_user, api_client, region_tree):
        clerk = make_user([Role.INTAKE_CLERK], scope=region_tree["community1"])
        rows = api_client(clerk).get("/api/v1/cameras/").json()["results"]
        assert [row["code"] for row in rows] == ["front_gate"]
        assert rows[0]["stream_url"] == "rtsp://10.0.0.5/***"
        assert "secret" not in json.dumps(rows)
        assert api_client(clerk).get(f"/api/v1/cameras/{cameras['yard'].pk}/").status_code == 404

    def test_clear_stream_needs_the_permission_and_is_logged(self, cameras, make_user, api_client, region_tree):
        gate = cameras["gate"]
        clerk = make_user([Role.INTAKE_CLERK], scope=region_tree["community1"])
        response = api_client(clerk).get(f"/api/v1/cameras/{gate.pk}/stream/")
        assert response.status_code == 403 and response.json()["code"] == "role_not_allowed"
        lead = make_user([Role.SHIFT_LEAD], scope=region_tree["subdistrict"])
        response = api_client(lead).get(f"/api/v1/cameras/{gate.pk}/stream/")
        assert response.json() == {"stream_url": "rtsp://admin:secret@10.0.0.5/ch1"}
        [log] = SensitiveReadLog.objects.all()
        assert (log.user, log.object_id, log.fields) == (lead, str(gate.pk), ["stream_url"])

    def test_filters_and_search(self, cameras, make_user, api_client, region_tree):
        cameras["yard"].status = CameraStatus.OFFLINE
        cameras["yard"].save()
        admin = make_user([Role.SYSADMIN])
        client = api_client(admin)
        assert [r["code"] for r in client.get("/api/v1/cameras/", {"status": "offline"}).json()["results"]] == ["back_yard"]
        assert [r["code"] for r in client.get("/api/v1/cameras/", {"q": "东门"}).json()["results"]] == ["front_gate"]
        assert [r["code"] for r in client.get("/api/v1/cameras/", {"region": region_tree["community2"].code}).json()["results"]] == ["back_yard"]


class TestSignedHeartbeat:
    def test_signed_heartbeat_marks_cameras_online(self, cameras, platform):
        cameras["gate"].status = CameraStatus.OFFLINE
        cameras["gate"].save()
        response = post_signed("/api/v1/cameras/heartbeat/", {"cameras": ["front_gate", "nope"]})
        assert response.status_code == 200 and response.json() == {"known": 1}
        cameras["gate"].refresh_from_db()
        assert cameras["gate"].status == CameraStatus.ONLINE

    def test_wrong_secret_is_refused(self, cameras, platform):
        response = post_signed("/api/v1/cameras/heartbeat/", {"cameras": ["front_gate"]}, secret="guess")
        assert response.status_code == 403 and response.json()["code"] == "bad_signature"


class TestWebhook:
    def alarm(self, **extra):
        return {"event_id": "w-1", "device_id": "WL-3", "kind": "water_level", "value": 1.8, "threshold": 1.2,
                "lon": 117.005, "lat": 36.69, "at": "2026-11-27T23:10:00+08:00", **extra}

    def test_a_signed_alarm_opens_a_case_once(self, region_tree, platform, rule, media):
        rule(source="iot-platform", label="water_level")
        first = post_signed("/api/v1/alarms/webhook/", self.alarm())
        again = post_signed("/api/v1/alarms/webhook/", self.alarm())  # a retry inside the window
        inbox = WebhookInbox.objects.get()
        assert first.status_code == 202 and first.json() == {"id": inbox.pk, "status": "queued"}
        assert again.status_code == 202 and again.json() == first.json()
        assert drain() == 1
        alarm = Alarm.objects.get()
        assert (alarm.status, alarm.updates) == (AlarmStatus.CASE_OPENED, 1)
        [case] = Case.objects.all()
        assert case.channel == Channel.IOT and case.grid_id == region_tree["grid11"].pk and alarm.case == case
        late = post_signed("/api/v1/alarms/webhook/", self.alarm())  # a retry after the worker recorded it
        assert late.status_code == 202 and late.json() == {"id": inbox.pk, "status": "processed"}
        assert drain() == 0 and Alarm.objects.get().updates == 1 and Case.objects.count() == 1

    def test_tampered_body_unknown_source_and_stale_timestamp_are_refused(self, region_tree, platform):
        raw = json.dumps(self.alarm()).encode()
        headers = signed_headers("iot-platform", SECRET, raw)
        tampered = raw.replace(b"1.8", b"9.9")
        client = Client()
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
        assert client.post("/api/v1/alarms/webhook/", tampered, content_type="application/json", **meta).json()["code"] == "bad_signature"
        assert post_signed("/api/v1/alarms/webhook/", self.alarm(), source="other").json()["code"] == "bad_signature"
        stale = post_signed("/api/v1/alarms/webhook/", self.alarm(), timestamp=time.time() - 3600)
        assert stale.status_code == 403 and stale.json()["code"] == "stale_signature"
        assert WebhookInbox.objects.count() == 0
        assert drain() == 0 and Alarm.objects.count() == 0

    def test_bad_fields_are_named(self, region_tree, platform):
        response = post_signed("/api/v1/alarms/webhook/", self.alarm(kind="<b>x</b>"))
        assert response.status_code == 400 and "kind" in response.json()["fields"]
        assert WebhookInbox.objects.count() == 0


class TestAlarmApi:
    def test_dismiss_through_the_api(self, cameras, make_user, api_client, region_tree, platform):
        post_signed("/api/v1/alarms/webhook/", {"event_id": "c-1", "camera": "front_gate", "kind": "person"})
        drain()
        alarm = Alarm.objects.get()
        assert alarm.camera == cameras["gate"]
        clerk = make_user([Role.INTAKE_CLERK], scope=region_tree["community1"])
        client = api_client(clerk)
        assert [row["id"] for row in client.get("/api/v1/alarms/").json()["results"]] == [alarm.pk]
        missing = client.post(f"/api/v1/alarms/{alarm.pk}/dismiss/", {}, format="json")
        assert missing.status_code == 400 and "reason" in missing.json()["fields"]
        done = client.post(f"/api/v1/alarms/{alarm.pk}/dismiss/", {"reason": "演练"}, format="json")
        assert done.status_code == 200 and done.json()["status"] == "dismissed"
        assert client.post(f"/api/v1/alarms/{alarm.pk}/dismiss/", {"reason": "again"}, format="json").status_code == 409
        other = make_user([Role.INTAKE_CLERK], scope=region_tree["community2"])
        assert api_client(other).get(f"/api/v1/alarms/{alarm.pk}/").status_code == 404
