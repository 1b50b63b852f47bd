"""Fixtures of the screen tests: kiosk tokens and hand-built cases."""

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from gridgov.cases.models import Case
from gridgov.screen import overview
from gridgov.screen.models import KioskToken

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_overview_cache():
    overview.clear_cache()
    yield
    overview.clear_cache()


@pytest.fixture
def kiosk_token(region_tree):
    """kiosk_token(scope=None, expires_in=days, revoked=False) -> (token, raw)."""

    def factory(scope=None, expires_in=dt.timedelta(days=30), revoked=False, label="大厅主屏"):
        token = KioskToken(label=label, scope=scope or region_tree["subdistrict"], expires_at=timezone.now() + expires_in)
        raw = token.set_new_token()
        if revoked:
            token.revoked_at = timezone.now()
        token.save()
        return token, raw

    return factory


@pytest.fixture
def make_case(region_tree):
    """make_case(grid_key="grid11", **fields) -> a Case row written directly (fixture data)."""

    def factory(grid_key="grid11", **fields):
        grid = region_tree[grid_key]
        ring = grid.boundary["coordinates"][0]
        defaults = {
            "number": f"T{next(_numbers):08d}",
            "channel": "grid_patrol",
            "description": "井盖缺失",
            "lon": (ring[0][0] + ring[1][0]) / 2,
            "lat": (ring[0][1] + ring[2][1]) / 2,
            "grid": grid,
            "region_code": grid.code,
            "created_at": timezone.now(),
        }
        defaults.update(fields)
        return Case.objects.create(**defaults)

    return factory
