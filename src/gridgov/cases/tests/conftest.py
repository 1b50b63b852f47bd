"""Fixtures for the cases tests: a small catalogue, staff of every role, cases in any status."""

import datetime as dt
import io
import os
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from gridgov.catalog.models import Category, Priority, TimeUnit
from gridgov.org.models import Department, Role

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-30 09:00, a plain working day.
MONDAY_9 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
# Points of the conftest region tree (community 1: lon 117.00-117.02, grids split at 117.01).
IN_GRID_11 = (117.005, 36.69)
IN_GRID_12 = (117.015, 36.69)
IN_GRID_21 = (117.025, 36.69)
IN_SUBDISTRICT_NO_GRID = (116.995, 36.675)
FAR_AWAY = (120.0, 30.0)


@pytest.fixture
def categories(db, department):
    # Codes of our own: the standard catalogue (loaded by a migration) uses 01..99.
    city = Category.objects.create(code="T1", name="测试市容环境")
    emergency = Category.objects.create(code="T4", name="测试突发事件")
    return SimpleNamespace(
        major=city,
        garbage=Category.objects.create(
            code="T102", name="暴露垃圾", parent=city, time_limit_value=4, time_limit_unit=TimeUnit.WORKING_HOURS,
            default_department=department,
        ),
        building=Category.objects.create(
            code="T101", name="私搭乱建", parent=city, time_limit_value=20, time_limit_unit=TimeUnit.WORKING_DAYS,
            default_priority=Priority.HIGH,
        ),
        water=Category.objects.create(
            code="T402", name="自来水管道破裂", parent=emergency, time_limit_value=2,
            time_limit_unit=TimeUnit.WORKING_HOURS, default_priority=Priority.URGENT,
        ),
        retired=Category.objects.create(code="T199", name="旧类", parent=city, is_active=False),
    )


@pytest.fixture
def other_department(db):
    return Department.objects.create(code="SWJ", name="水务局", type="utility")


@pytest.fixture
def quick_user(make_user):
    """make_user without a password: hashing one costs seconds on a busy machine."""

    def factory(roles=(), **extra):
        extra.setdefault("password", None)
        return make_user(roles, **extra)

    return factory


@pytest.fixture
def staff(region_tree, department, other_department, quick_user):
    district, subdistrict = region_tree["district"], region_tree["subdistrict"]
    make_user = quick_user
    return SimpleNamespace(
        clerk=make_user([Role.INTAKE_CLERK], scope=district),
        dispatcher=make_user([Role.DISPATCHER], scope=district),
        lead=make_user([Role.SHIFT_LEAD], scope=district),
        handler=make_user([Role.DEPT_HANDLER], department=department),
        other_handler=make_user([Role.DEPT_HANDLER], department=other_department),
        inspector=make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"]),
        far_inspector=make_user([Role.GRID_INSPECTOR], scope=region_tree["grid21"]),
        grid_lead=make_user([Role.GRID_LEAD], scope=region_tree["community1"]),
        leader=make_user([Role.SUBDISTRICT_LEADER], scope=subdistrict),
        admin=make_user([Role.SYSADMIN]),
        nobody=make_user([]),
    )


@pytest.fixture
def media(settings, tmp_path):
    """Photos go to a fresh directory; returns its path."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30), **save_options):
    buffer = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") and save_options.pop("alpha", False) else "RGB"
    Image.new(mode, size, color).save(buffer, format=fmt, **save_options)
    return buffer.getvalue()


def noise_image_bytes(fmt="PNG", size=(400, 400)):
    """An incompressible image: random pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, format=fmt)
    return buffer.getvalue()


def stored_files(root):
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


class Flow:
    """Drives cases through the real services; each step one minute after the previous."""

    PATH = ["reported", "accepted", "dispatched", "handling", "handled", "verified", "closed"]

    def __init__(self, staff, categories, department):
        self.staff, self.categories, self.department = staff, categories, department

    def new(self, at=MONDAY_9, point=IN_GRID_11, actor=None, **fields):
        from gridgov.cases.services import create_case

        fields.setdefault("channel", "hotline")
        fields.setdefault("description", "小区门口有暴露垃圾")
        fields.setdefault("category", self.categories.garbage)
        lon, lat = point if point else (None, None)
        case, created = create_case(actor or self.staff.clerk, lon=lon, lat=lat, at=at, **fields)
        assert created
        return case

    def to(self, status, at=MONDAY_9, case=None, **fields):
        from gridgov.cases import services

        case = case or self.new(at=at, **fields)
        steps = {
            "accepted": lambda c, t: services.accept(c, self.staff.dispatcher, at=t),
            "dispatched": lambda c, t: services.dispatch(c, self.staff.dispatcher, department=self.department, at=t),
            "handling": lambda c, t: services.sign(c, self.staff.handler, at=t),
            "handled": lambda c, t: services.submit_handling(c, self.staff.handler, note="已清理", at=t),
            "verified": lambda c, t: services.verify(c, self.staff.inspector, passed=True, at=t),
            "closed": lambda c, t: services.close(c, self.staff.lead, at=t),
        }
        for index, name in enumerate(self.PATH[self.PATH.index(case.status) + 1 : self.PATH.index(status) + 1]):
            case = steps[name](case, at + dt.timedelta(minutes=index + 1))
        assert case.status == status
        return case


@pytest.fixture
def flow(staff, categories, department):
    return Flow(staff, categories, department)
