"""Coordinate systems used by Chinese maps and devices, converted to WGS84.

- WGS84: GPS, our storage format.
- GCJ-02 ("Mars coordinates"): Amap/Gaode, Tencent, WeChat location; WGS84 shifted by a
  published obfuscation formula (the forward transform below). It has no closed-form
  inverse, so we invert it by fixed-point iteration: the shift varies slowly (a few
  hundred metres over tens of kilometres), so each step gains several digits and a handful
  of steps reach millimetre accuracy.
- BD-09: Baidu; a further rotation/scaling of GCJ-02.

Outside mainland China (the usual rough bounding box) GCJ-02 equals WGS84.
"""

import math
from decimal import Decimal

from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed

CRS_CHOICES = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid parameters used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

# 1e-10 degrees is about 0.01 mm: far below the 0.5 m we promise.
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_STEPS = 30


def out_of_china(lon, lat):
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon, lat):
    """The published forward transform WGS84 → GCJ-02."""
    if out_of_china(lon, lat):
        return lon, lat
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def _invert(forward, target_lon, target_lat, start):
    """Find p with forward(p) == target by fixed-point iteration from `start`."""
    lon, lat = start
    for _step in range(_INVERSE_MAX_STEPS):
        got_lon, got_lat = forward(lon, lat)
        err_lon, err_lat = got_lon - target_lon, got_lat - target_lat
        if abs(err_lon) < _INVERSE_TOLERANCE_DEG and abs(err_lat) < _INVERSE_TOLERANCE_DEG:
            break
        lon, lat = lon - err_lon, lat - err_lat
    return lon, lat


def gcj02_to_wgs84(lon, lat):
    """Inverse of wgs84_to_gcj02, accurate to well under a millimetre."""
    return _invert(wgs84_to_gcj02, lon, lat, start=(lon, lat))


def gcj02_to_bd09(lon, lat):
    """The published forward transform GCJ-02 → BD-09."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon, lat):
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.cos(theta), z * math.sin(theta)


def bd09_to_gcj02(lon, lat):
    """Inverse of gcj02_to_bd09: the usual approximate formula, then refined."""
    return _invert(gcj02_to_bd09, lon, lat, start=_bd09_to_gcj02_approx(lon, lat))


def wgs84_to_bd09(lon, lat):
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {
    "wgs84": lambda lon, lat: (lon, lat),
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def _as_number(value, field):
    """A finite float from a number or a numeric string (query strings, form posts)."""
    if isinstance(value, bool) or value is None:
        raise ValidationFailed.field(field, _("Enter a number."), code="invalid_coordinate")
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValidationFailed.field(field, _("Enter a number."), code="invalid_coordinate") from None
    else:
        raise ValidationFailed.field(field, _("Enter a number."), code="invalid_coordinate")
    if not math.isfinite(number):
        raise ValidationFailed.field(field, _("Enter a finite number."), code="invalid_coordinate")
    return number


def normalize_crs(crs):
    """'WGS84', 'GCJ-02', 'bd09' ... → one of CRS_CHOICES; ValidationFailed on 'crs' otherwise."""
    name = crs.strip().lower().replace("-", "").replace("_", "") if isinstance(crs, str) else None
    if name not in CRS_CHOICES:
        raise ValidationFailed.field(
            "crs",
            _("Unknown coordinate system; use one of: %(choices)s.") % {"choices": ", ".join(CRS_CHOICES)},
            code="invalid_crs",
        )
    return name


def check_lon_lat(lon, lat):
    """Validate a WGS84-style pair and return it as floats."""
    lon, lat = _as_number(lon, "lon"), _as_number(lat, "lat")
    if not -180.0 <= lon <= 180.0:
        raise ValidationFailed.field("lon", _("Longitude must be between -180 and 180."), code="invalid_coordinate")
    if not -90.0 <= lat <= 90.0:
        raise ValidationFailed.field("lat", _("Latitude must be between -90 and 90."), code="invalid_coordinate")
    return lon, lat


def to_wgs84(lon, lat, crs="wgs84"):
    """(lon, lat) in `crs` → (lon, lat) in WGS84, validated (fields lon, lat, crs)."""
    crs = normalize_crs(crs)
    lon, lat = check_lon_lat(lon, lat)
    return _TO_WGS84[crs](lon, lat)
