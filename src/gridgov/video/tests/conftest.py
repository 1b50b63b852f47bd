"""Fixtures of the video tests: cameras in the conftest region tree, a 小类, rules."""

import io

import pytest
from PIL import Image

from gridgov.catalog.models import Category, Priority, TimeUnit
from gridgov.video.models import AlarmRule, Camera, CameraStatus, RuleAction

from .children import ChildDatabase


@pytest.fixture(autouse=True)
def _fresh_video_caches():
    """Per-process caches (rules, intake account) must not outlive a rolled-back test."""
    from gridgov.video import alarms, signing

    alarms.clear_rules_cache()
    signing.clear_sources_cache()
    alarms._account_cache["user"] = None
    yield
    alarms.clear_rules_cache()
    signing.clear_sources_cache()
    alarms._account_cache["user"] = None


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def jpeg_bytes(size=(64, 48), color=(30, 120, 200)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def intrusion(db):
    """A 小类 for alarms: 治安 → 夜间闯入 (codes of our own, beside the standard catalogue)."""
    major = Category.objects.create(code="V1", name="测试治安")
    return Category.objects.create(
        code="V101", name="夜间闯入", parent=major, time_limit_value=2, time_limit_unit=TimeUnit.WORKING_HOURS,
        default_priority=Priority.HIGH,
    )


@pytest.fixture
def cameras(region_tree):
    grid = region_tree["grid11"]
    other = region_tree["grid21"]
    return {
        "gate": Camera.objects.create(code="front_gate", name="象霞社区东门", lon=117.005, lat=36.69, grid=grid,
                                      region_code=grid.code, status=CameraStatus.ONLINE, stream_url="rtsp://admin:secret@10.0.0.5/ch1"),
        "yard": Camera.objects.create(code="back_yard", name="西区社区后院", lon=117.025, lat=36.69, grid=other,
                                      region_code=other.code, status=CameraStatus.ONLINE),
    }


@pytest.fixture
def rule(intrusion):
    def factory(**fields):
        fields.setdefault("name", "rule")
        fields.setdefault("category", intrusion)
        fields.setdefault("action", RuleAction.OPEN_CASE)
        return AlarmRule.objects.create(**fields)

    return factory


@pytest.fixture
def child_db(tmp_path):
    """A database of its own for `gridgov` child processes (tests/children.py)."""
    database = ChildDatabase(tmp_path)
    yield database
    database.drop()
