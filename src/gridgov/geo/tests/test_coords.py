"""Coordinate conversion: GCJ-02 and BD-09 back to WGS84, and refusal of bad input."""

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov.core.errors import ValidationFailed
from gridgov.geo.coords import gcj02_to_bd09, out_of_china, to_wgs84, wgs84_to_bd09, wgs84_to_gcj02


def metres(lon1, lat1, lon2, lat2):
    """Distance on a sphere, good enough for sub-metre checks."""
    k = 6371008.8 * math.pi / 180
    return math.hypot((lon1 - lon2) * k * math.cos(math.radians(lat1)), (lat1 - lat2) * k)


china_lon = st.floats(73.0, 135.0, allow_nan=False, allow_infinity=False)
china_lat = st.floats(18.0, 53.5, allow_nan=False, allow_infinity=False)


@given(china_lon, china_lat)
def test_gcj02_round_trip(lon, lat):
    assert metres(*to_wgs84(*wgs84_to_gcj02(lon, lat), crs="gcj02"), lon, lat) < 0.01


@given(china_lon, china_lat)
def test_bd09_round_trip(lon, lat):
    assert metres(*to_wgs84(*wgs84_to_bd09(lon, lat), crs="bd09"), lon, lat) < 0.01


def test_known_offsets_at_tiananmen():
    # The published GCJ-02 shift in central Beijing is about 600 m east and 150 m north.
    lon, lat = 116.397128, 39.916527
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    assert g_lon - lon == pytest.approx(0.00624, abs=0.0001)
    assert g_lat - lat == pytest.approx(0.00140, abs=0.0001)
    b_lon, b_lat = gcj02_to_bd09(g_lon, g_lat)
    assert b_lon - g_lon == pytest.approx(0.0065, abs=0.0005)
    assert b_lat - g_lat == pytest.approx(0.0060, abs=0.0005)


def test_outside_china_gcj02_is_wgs84():
    assert out_of_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert to_wgs84(2.35, 48.85, crs="gcj02") == (2.35, 48.85)


def test_wgs84_passes_through_and_accepts_number_types():
    assert to_wgs84(117, Decimal("36.5")) == (117.0, 36.5)
    assert to_wgs84(" 117.5 ", "36.25", crs="WGS84") == (117.5, 36.25)
    assert to_wgs84(117.0, 36.0, crs="GCJ-02") == to_wgs84(117.0, 36.0, crs="gcj02")


@pytest.mark.parametrize(
    "lon,lat,crs,field",
    [
        ("abc", 36.0, "wgs84", "lon"),
        (117.0, None, "wgs84", "lat"),
        (True, 36.0, "wgs84", "lon"),
        ([117.0], 36.0, "wgs84", "lon"),
        (float("nan"), 36.0, "wgs84", "lon"),
        (117.0, float("inf"), "gcj02", "lat"),
        ("nan", 36.0, "wgs84", "lon"),
        (180.5, 36.0, "wgs84", "lon"),
        (117.0, -90.01, "bd09", "lat"),
        (117.0, 36.0, "utm", "crs"),
        (117.0, 36.0, None, "crs"),
    ],
)
def test_bad_input_names_the_field(lon, lat, crs, field):
    with pytest.raises(ValidationFailed) as info:
        to_wgs84(lon, lat, crs=crs)
    assert list(info.value.fields) == [field]
