"""Camera status (heartbeat, sweep, live bus) and the move from screen.Camera."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from gridgov.screen.models import LiveEvent
from gridgov.video.models import Camera, CameraStatus
from gridgov.video.services import record_heartbeats, set_camera_status, sweep_silent_cameras

pytestmark = pytest.mark.django_db


def make_camera(region_tree, code="C1", **extra):
    grid = region_tree["grid11"]
    extra.setdefault("status", CameraStatus.ONLINE)
    return Camera.objects.create(code=code, name="东门", lon=117.005, lat=36.69, grid=grid, region_code=grid.code, **extra)


def test_camera_going_offline_is_published_once(region_tree):
    camera = make_camera(region_tree)
    set_camera_status(camera, online=False)
    set_camera_status(camera, online=False)
    [event] = LiveEvent.objects.filter(kind="camera")
    assert event.data["online"] is False and event.region_code == region_tree["grid11"].code


def test_heartbeat_marks_online_and_moves_last_seen(region_tree):
    now = timezone.now()
    quiet = make_camera(region_tree, "C1", status=CameraStatus.OFFLINE, last_seen_at=now - dt.timedelta(hours=2))
    steady = make_camera(region_tree, "C2", last_seen_at=now - dt.timedelta(minutes=1))
    assert record_heartbeats(["C1", "C2", "UNKNOWN"], at=now) == 2
    quiet.refresh_from_db()
    steady.refresh_from_db()
    assert quiet.status == CameraStatus.ONLINE and quiet.last_seen_at == now
    assert steady.last_seen_at == now
    # Only the comeback is news for the screens.
    assert [e.data["code"] for e in LiveEvent.objects.filter(kind="camera")] == ["C1"]


def test_sweep_marks_silent_cameras_offline_and_publishes(region_tree):
    now = timezone.now()
    make_camera(region_tree, "C1", last_seen_at=now - dt.timedelta(minutes=30))
    make_camera(region_tree, "C2", last_seen_at=now - dt.timedelta(minutes=2))
    make_camera(region_tree, "C3", status=CameraStatus.OFFLINE, last_seen_at=now - dt.timedelta(days=3))
    assert sweep_silent_cameras(silent_minutes=10, now=now) == 1
    assert dict(Camera.objects.values_list("code", "status")) == {"C1": "offline", "C2": "online", "C3": "offline"}
    [event] = LiveEvent.objects.filter(kind="camera")
    assert event.data == {"id": event.data["id"], "code": "C1", "name": "东门", "online": False, "at": now.isoformat()}
    assert sweep_silent_cameras(silent_minutes=10, now=now) == 0


@pytest.mark.django_db(transaction=True)
def test_migration_moves_screen_cameras_with_their_rows(region_tree):
    """The data migration copies old screen cameras (ids, status, grid) into video.Camera.

    Runs copy_forward against a re-created old table instead of unapplying migrations, so
    later migrations of other apps need not be reversible."""
    import importlib

    from django.db.migrations.loader import MigrationLoader

    move = importlib.import_module("gridgov.video.migrations.0002_copy_screen_cameras")
    state = MigrationLoader(connection).project_state([("video", "0001_initial"), ("screen", "0001_initial")])
    old_apps = state.apps
    OldCamera = old_apps.get_model("screen", "Camera")
    with connection.schema_editor() as editor:
        editor.create_model(OldCamera)
    try:
        grid = old_apps.get_model("geo", "Region").objects.get(code=region_tree["grid21"].code)
        OldCamera.objects.create(id=77, code="OLD-1", name="老摄像头", lon=117.025, lat=36.69, grid=grid, online=False)
        with connection.schema_editor() as editor:
            move.copy_forward(old_apps, editor)
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(OldCamera)
    moved = Camera.objects.get(code="OLD-1")
    assert (moved.pk, moved.status, moved.region_code, moved.grid_id) == (77, "offline", grid.code, grid.pk)
    assert moved.h3
    # New rows do not collide with the copied ids (PostgreSQL sequences moved on).
    assert Camera.objects.create(code="NEW-1", name="新", lon=117.0, lat=36.69).pk != 77
