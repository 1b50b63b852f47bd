"""Alarm intake: Frigate events and reviews, sensors, rules, dedupe, floods, cases, dismissal."""

import base64
import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov.cases.models import Case, CaseAttachment, Channel
from gridgov.core.errors import Forbidden, IllegalTransition, ValidationFailed
from gridgov.org.roles import Role
from gridgov.screen.models import LiveEvent
from gridgov.video.models import Alarm, AlarmEvent, AlarmFlood, AlarmSource, AlarmStatus, RuleAction
from gridgov.video.parsers import parse_frigate_event, parse_frigate_review, parse_sensor_alarm
from gridgov.video.services import dismiss_alarm, ingest

from .conftest import jpeg_bytes

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = dt.datetime(2026, 11, 27, 23, 30, tzinfo=SHANGHAI)
NOON = dt.datetime(2026, 11, 27, 12, 0, tzinfo=SHANGHAI)


def frigate_event(kind="new", event_id="1700000000.1-abc", camera="front_gate", label="person", at=NIGHT, **after):
    body = {
        "id": event_id, "camera": camera, "label": label, "sub_label": None, "top_score": 0.81, "score": 0.7,
        "false_positive": False, "start_time": at.timestamp(), "end_time": None, "current_zones": [],
        "entered_zones": [], "has_snapshot": False, "has_clip": False, "box": [1, 2, 3, 4], "new_key_from_a_later_version": 1,
    }
    body.update(after)
    return {"type": kind, "before": dict(body), "after": body}


def sensor(event_id="s-1", kind="smoke", at=NIGHT, **extra):
    return {"device_id": "SMK-7", "kind": kind, "value": 0.31, "threshold": 0.1, "lon": 117.015, "lat": 36.69,
            "at": at.isoformat(), "event_id": event_id, **extra}


class TestFrigateEvents:
    def test_new_update_end_make_one_alarm_and_one_case(self, cameras, rule, media):
        rule(label="person")
        ingest(parse_frigate_event(frigate_event("new")))
        ingest(parse_frigate_event(frigate_event("update", current_zones=["gate"], top_score=0.93)))
        ingest(parse_frigate_event(frigate_event("end", end_time=NIGHT.timestamp() + 20, entered_zones=["yard"])))
        [alarm] = Alarm.objects.all()
        assert (alarm.updates, alarm.status, alarm.zones, alarm.score) == (3, AlarmStatus.CASE_OPENED, ["gate", "yard"], 0.93)
        assert alarm.ended_at is not None and alarm.camera == cameras["gate"]
        [case] = Case.objects.all()
        assert case.channel == Channel.VIDEO_ALARM and case.category.code == "V101"
        assert case.grid_id == cameras["gate"].grid_id and "象霞社区东门" in case.description
        assert [e.action for e in AlarmEvent.objects.order_by("id")] == ["received", "case_opened", "ended"]

    def test_an_update_that_arrives_after_the_end_keeps_the_event_ended(self, cameras, rule, media):
        """QoS 1 redelivers an unacknowledged update after a restart, possibly after the end."""
        rule(label="person")
        end_time = NIGHT.timestamp() + 20
        ingest(parse_frigate_event(frigate_event("new")))
        ingest(parse_frigate_event(frigate_event("end", end_time=end_time)))
        ingest(parse_frigate_event(frigate_event("update", current_zones=["gate"])))
        [alarm] = Alarm.objects.all()
        assert alarm.ended_at is not None and alarm.ended_at.timestamp() == pytest.approx(end_time)
        assert alarm.updates == 3 and alarm.zones == ["gate"]

    def test_the_same_message_twice_changes_no_case(self, cameras, rule, media):
        rule(label="person")
        message = frigate_event("new")
        first = ingest(parse_frigate_event(message))
        second = ingest(parse_frigate_event(message))
        assert first.pk == second.pk and second.case_id == first.case_id
        assert Case.objects.count() == 1 and Alarm.objects.get().updates == 2

    def test_a_case_half_opened_is_finished_by_the_redelivered_message(self, cameras, rule, media):
        """A worker killed after the alarm committed but before its case: pending, then done."""
        from gridgov.video.alarms import record_alarm

        rule(label="person")
        record_alarm(parse_frigate_event(frigate_event()), now=NIGHT)
        assert Alarm.objects.get().status == AlarmStatus.PENDING and Case.objects.count() == 0
        ingest(parse_frigate_event(frigate_event("update")))
        assert Alarm.objects.get().status == AlarmStatus.CASE_OPENED and Case.objects.count() == 1

    def test_a_refused_case_leaves_the_alarm_pending_until_retried(self, rule, media):
        """No region tree yet: the intake account has no scope, create_case refuses."""
        from gridgov.geo.models import Level, Region
        from gridgov.video.alarms import retry_pending_cases

        rule(label="person")
        assert ingest(parse_frigate_event(frigate_event(camera="unknown_cam"))).status == AlarmStatus.PENDING
        assert retry_pending_cases() == 0
        Region.objects.create(level=Level.DISTRICT, code="370105", name="天桥区")
        assert retry_pending_cases() == 1
        alarm = Alarm.objects.get()
        assert alarm.status == AlarmStatus.CASE_OPENED and alarm.case.needs_placement

    def test_false_positives_are_ignored(self, cameras):
        assert parse_frigate_event(frigate_event(false_positive=True)) is None

    def test_no_matching_rule_only_logs_and_publishes(self, cameras, rule):
        rule(label="car")
        alarm = ingest(parse_frigate_event(frigate_event(label="person")))
        assert alarm.status == AlarmStatus.LOGGED and Case.objects.count() == 0
        [event] = LiveEvent.objects.filter(kind="video_alarm")
        assert event.data["label"] == "person" and event.region_code == cameras["gate"].region_code

    def test_zone_rule_matches_once_the_object_enters_the_zone(self, cameras, rule, media):
        rule(label="person", zone="gate")
        assert ingest(parse_frigate_event(frigate_event())).status == AlarmStatus.LOGGED
        alarm = ingest(parse_frigate_event(frigate_event("update", entered_zones=["gate"])))
        assert alarm.status == AlarmStatus.CASE_OPENED

    def test_time_window_wraps_midnight(self, cameras, rule, media):
        rule(label="person", window_start=dt.time(22), window_end=dt.time(6))
        night = ingest(parse_frigate_event(frigate_event(event_id="n", at=NIGHT)))
        noon = ingest(parse_frigate_event(frigate_event(event_id="d", at=NOON)))
        early = ingest(parse_frigate_event(frigate_event(event_id="e", at=NIGHT + dt.timedelta(hours=6))))
        assert (night.status, noon.status, early.status) == (AlarmStatus.CASE_OPENED, AlarmStatus.LOGGED, AlarmStatus.CASE_OPENED)

    def test_first_rule_in_order_decides(self, cameras, rule, media):
        rule(name="log people at the gate", order=1, label="person", action=RuleAction.LOG_ONLY)
        rule(name="everything else", order=2)
        assert ingest(parse_frigate_event(frigate_event())).status == AlarmStatus.LOGGED

    def test_device_text_is_checked(self, cameras):
        with pytest.raises(ValidationFailed) as raised:
            parse_frigate_event(frigate_event(label="<script>x</script>"))
        assert "label" in raised.value.fields


class TestSnapshots:
    def test_frigate_snapshot_is_fetched_and_attached(self, cameras, rule, media):
        picture = jpeg_bytes()
        requested = []

        class Frigate(BaseHTTPRequestHandler):
            def do_GET(self):
                requested.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.end_headers()
                self.wfile.write(picture)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Frigate)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            AlarmSource.objects.create(code="frigate", name="NVR", kind="frigate", snapshot_base_url=f"http://127.0.0.1:{server.server_port}")
            rule(label="person")
            alarm = ingest(parse_frigate_event(frigate_event(has_snapshot=True)))
        finally:
            server.shutdown()
        assert requested == ["/api/events/1700000000.1-abc/snapshot.jpg"]
        [photo] = CaseAttachment.objects.filter(case=alarm.case)
        assert photo.content_type == "image/jpeg"

    def test_unreachable_frigate_still_opens_the_case(self, cameras, rule, media):
        AlarmSource.objects.create(code="frigate", name="NVR", kind="frigate", snapshot_base_url="http://127.0.0.1:9")
        rule(label="person")
        alarm = ingest(parse_frigate_event(frigate_event(has_snapshot=True)))
        assert alarm.case_id and not CaseAttachment.objects.filter(case=alarm.case).exists()

    def test_inline_base64_snapshot_of_our_format(self, region_tree, rule, media):
        rule(source="sensor")
        alarm = ingest(parse_sensor_alarm(sensor(snapshot=base64.b64encode(jpeg_bytes()).decode())))
        assert CaseAttachment.objects.filter(case=alarm.case).count() == 1


class TestReviewsAndSensors:
    def test_review_alarm_uses_its_objects_and_first_detection(self, cameras, rule, media):
        rule(source="frigate_review", label="car")
        message = {"type": "new", "before": {}, "after": {
            "id": "1718987129.308396-fqk5ka", "camera": "back_yard", "start_time": NIGHT.timestamp(), "end_time": None,
            "severity": "alert", "thumb_path": "/media/x.webp",
            "data": {"detections": ["1718987128.947436-g92ztx"], "objects": ["person", "car"], "sub_labels": [], "zones": ["lot"], "audio": []},
        }}
        incoming = parse_frigate_review(message)
        assert incoming.snapshot_event_id == "1718987128.947436-g92ztx"
        alarm = ingest(incoming)
        assert (alarm.source, alarm.severity, alarm.labels, alarm.zones) == ("frigate_review", "alert", ["car", "person"], ["lot"])
        assert alarm.status == AlarmStatus.CASE_OPENED and alarm.case.grid_id == cameras["yard"].grid_id

    def test_sensor_alarm_opens_an_iot_case_at_its_position(self, region_tree, rule, media):
        rule(source="sensor", label="smoke")
        alarm = ingest(parse_sensor_alarm(sensor()))
        assert alarm.case.channel == Channel.IOT and alarm.case.grid_id == region_tree["grid12"].pk
        assert (alarm.value, alarm.threshold, alarm.origin) == (0.31, 0.1, "SMK-7")

    def test_unknown_sensor_kind_is_refused(self, region_tree):
        with pytest.raises(ValidationFailed) as raised:
            parse_sensor_alarm(sensor(kind="ufo"))
        assert "kind" in raised.value.fields


class TestFloods:
    def test_beyond_the_limit_alarms_are_summarised_not_cases(self, settings, cameras, rule, media):
        settings.GRIDGOV_VIDEO = {"flood_limit": 3, "flood_minutes": 10}
        rule(label="person")
        for n in range(7):
            ingest(parse_frigate_event(frigate_event(event_id=f"e{n}", at=NIGHT + dt.timedelta(seconds=20 * n))))
        assert Case.objects.count() == 3
        assert Alarm.objects.filter(status=AlarmStatus.SUPPRESSED).count() == 4
        [flood] = AlarmFlood.objects.all()
        assert (flood.origin, flood.suppressed) == ("front_gate", 4)
        assert LiveEvent.objects.filter(kind="alarm_flood").count() == 1
        # Another camera is not affected, and the window moves on.
        assert ingest(parse_frigate_event(frigate_event(event_id="y", camera="back_yard"))).status == AlarmStatus.CASE_OPENED
        later = NIGHT + dt.timedelta(minutes=30)
        assert ingest(parse_frigate_event(frigate_event(event_id="late", at=later))).status == AlarmStatus.CASE_OPENED

    def test_a_repeated_suppressed_message_is_not_counted_twice(self, settings, cameras, rule):
        settings.GRIDGOV_VIDEO = {"flood_limit": 1, "flood_minutes": 10}
        rule(label="person", action=RuleAction.LOG_ONLY)
        ingest(parse_frigate_event(frigate_event(event_id="a")))
        ingest(parse_frigate_event(frigate_event(event_id="b")))
        ingest(parse_frigate_event(frigate_event("update", event_id="b")))
        assert AlarmFlood.objects.get().suppressed == 1


class TestDismiss:
    def test_staff_dismiss_a_false_alarm_with_a_reason(self, cameras, rule, make_user, region_tree):
        alarm = ingest(parse_frigate_event(frigate_event()))
        clerk = make_user([Role.INTAKE_CLERK], scope=region_tree["community1"])
        with pytest.raises(ValidationFailed) as raised:
            dismiss_alarm(alarm, clerk, reason="  ")
        assert "reason" in raised.value.fields
        alarm = dismiss_alarm(alarm, clerk, reason="树影晃动误报")
        assert alarm.status == AlarmStatus.DISMISSED
        event = AlarmEvent.objects.get(action="dismissed")
        assert (event.actor, event.note, event.data) == (clerk, "树影晃动误报", {"from": "logged"})
        with pytest.raises(IllegalTransition):
            dismiss_alarm(alarm, clerk, reason="again")

    def test_out_of_scope_and_wrong_role_are_refused(self, cameras, make_user, region_tree):
        alarm = ingest(parse_frigate_event(frigate_event()))
        with pytest.raises(Forbidden) as raised:
            dismiss_alarm(alarm, make_user([Role.INTAKE_CLERK], scope=region_tree["community2"]), reason="x")
        assert raised.value.code == "out_of_scope"
        with pytest.raises(Forbidden):
            dismiss_alarm(alarm, make_user([Role.DEPT_HANDLER], scope=region_tree["community1"]), reason="x")
        assert Alarm.objects.get().status == AlarmStatus.LOGGED


scalars = st.none() | st.booleans() | st.floats(allow_nan=True) | st.integers() | st.text(max_size=12)
json_values = scalars | st.lists(scalars, max_size=3) | st.dictionaries(st.sampled_from(["objects", "detections", "zones"]), st.lists(scalars, max_size=2), max_size=2)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    message=st.fixed_dictionaries({"type": st.sampled_from(["new", "update", "end", "x"])}, optional={
        "after": st.dictionaries(
            st.sampled_from(["id", "camera", "label", "sub_label", "start_time", "end_time", "current_zones", "top_score", "data", "severity"]),
            json_values, max_size=8,
        ),
    }),
)
def test_parsers_refuse_bad_messages_only_with_validation_errors(message):
    for parse in (parse_frigate_event, parse_frigate_review, parse_sensor_alarm):
        try:
            parse(message)
        except ValidationFailed as exc:
            assert exc.fields


def test_screen_overview_lists_live_alarms_in_scope(cameras, region_tree):
    from django.utils import timezone

    from gridgov.screen.overview import build_overview

    now = timezone.now()
    ingest(parse_frigate_event(frigate_event(event_id="g", at=now - dt.timedelta(minutes=5))))
    ingest(parse_frigate_event(frigate_event(event_id="y", camera="back_yard", at=now - dt.timedelta(minutes=3))))
    dismissed = ingest(parse_frigate_event(frigate_event(event_id="d", at=now - dt.timedelta(minutes=1))))
    Alarm.objects.filter(pk=dismissed.pk).update(status=AlarmStatus.DISMISSED)
    whole = build_overview(region_tree["subdistrict"].code, now=now)["emergency"]["live_alarms"]
    assert [a["origin"] for a in whole] == ["back_yard", "front_gate"]
    community = build_overview(region_tree["community1"].code, now=now)["emergency"]["live_alarms"]
    assert [a["camera"] for a in community] == ["象霞社区东门"]
