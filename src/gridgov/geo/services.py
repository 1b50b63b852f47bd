"""Creating, changing and deleting regions, always through full validation.

`validate_region` checks one node of the tree (code, level, parent, boundary, siblings)
and returns the values to store, including the derived centroid, bbox and area;
`save_region` locks, validates and writes in one transaction. The API, the admin and the
importer all come through here.
"""

import json
import math

import numpy as np
import shapely
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.validation import explain_validity

from gridgov.core.errors import Conflict, ValidationFailed
from gridgov.core.text import clean_text
from gridgov.org.permissions import require

from .models import CODE_LENGTH, PARENT_LEVEL, GridType, Level, Region

# A child may stick out of its parent by this much (degrees; ~1 m) to absorb digitising noise.
CONTAINMENT_TOLERANCE_DEG = 1e-5
# Siblings may overlap by this much: the larger of an absolute area and a share of the smaller.
OVERLAP_TOLERANCE_M2 = 1.0
OVERLAP_TOLERANCE_SHARE = 1e-4
EARTH_RADIUS_M = 6371008.8
MIN_RING_POSITIONS = 4

# Marks writes made by the system itself (importer, seed) rather than by a user.
SYSTEM = object()


class _Errors:
    """Collects field errors so one answer names every problem."""

    def __init__(self):
        self.fields = {}
        self.codes = []

    def add(self, field, message, code):
        self.fields.setdefault(field, []).append(message)
        self.codes.append(code)

    def __contains__(self, field):
        return field in self.fields

    def raise_if_any(self):
        if self.fields:
            code = self.codes[0] if len(set(self.codes)) == 1 else ValidationFailed.default_code
            raise ValidationFailed(_("Some fields are invalid."), code=code, fields=self.fields)


# --- geometry helpers --------------------------------------------------------------------
def parse_boundary(boundary, field="boundary"):
    """A valid shapely (Multi)Polygon from GeoJSON, or ValidationFailed on `field`."""
    if isinstance(boundary, str):
        try:
            boundary = json.loads(boundary)
        except ValueError:
            raise ValidationFailed.field(field, _("Not valid JSON."), code="invalid_geojson") from None
    if not isinstance(boundary, dict) or boundary.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationFailed.field(field, _("Must be a GeoJSON Polygon or MultiPolygon."), code="invalid_geojson")
    coordinates = boundary.get("coordinates")
    polygons = [coordinates] if boundary["type"] == "Polygon" else coordinates
    if not isinstance(polygons, list) or not polygons:
        raise ValidationFailed.field(field, _("The polygon has no coordinates."), code="invalid_geojson")
    clean = [_check_polygon(polygon, field) for polygon in polygons]
    geometry = shape({"type": boundary["type"], "coordinates": clean[0] if boundary["type"] == "Polygon" else clean})
    if not geometry.is_valid:
        raise ValidationFailed.field(
            field,
            _("The polygon is not valid: %(reason)s.") % {"reason": explain_validity(geometry)},
            code="invalid_geometry",
        )
    return geometry


def _check_polygon(rings, field):
    if not isinstance(rings, list) or not rings:
        raise ValidationFailed.field(field, _("A polygon needs at least one ring."), code="invalid_geojson")
    return [_check_ring(ring, field) for ring in rings]


def _check_ring(ring, field):
    if not isinstance(ring, list) or len(ring) < MIN_RING_POSITIONS:
        raise ValidationFailed.field(
            field, _("Every ring needs at least %(n)d positions.") % {"n": MIN_RING_POSITIONS}, code="invalid_geojson"
        )
    positions = [_check_position(position, field) for position in ring]
    if positions[0] != positions[-1]:
        raise ValidationFailed.field(field, _("Every ring must be closed (last position = first)."), code="ring_not_closed")
    return positions


def _check_position(position, field):
    if not isinstance(position, (list, tuple)) or len(position) < 2:
        raise ValidationFailed.field(field, _("Every position must be [longitude, latitude]."), code="invalid_geojson")
    lon, lat = position[0], position[1]
    for value in (lon, lat):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValidationFailed.field(field, _("Coordinates must be finite numbers."), code="invalid_coordinate")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationFailed.field(
            field, _("Coordinates must be WGS84 longitude/latitude in range."), code="invalid_coordinate"
        )
    return [float(lon), float(lat)]  # a third value (altitude) is dropped


def area_m2(geometry):
    """Area in square metres, projecting locally (equirectangular at the centroid)."""
    centre = geometry.centroid
    metres_per_degree = EARTH_RADIUS_M * math.pi / 180.0
    scale = np.array([metres_per_degree * math.cos(math.radians(centre.y)), metres_per_degree])
    origin = np.array([centre.x, centre.y])
    return shapely.transform(geometry, lambda xy: (xy - origin) * scale).area


def geometry_of(region):
    return shape(region.boundary) if region.boundary else None


def derived_fields(geometry):
    """centroid, bbox and area stored beside the boundary."""
    if geometry is None:
        return {"centroid_lon": None, "centroid_lat": None, "bbox": None, "area_m2": None}
    centre = geometry.centroid
    return {
        "centroid_lon": centre.x,
        "centroid_lat": centre.y,
        "bbox": [float(v) for v in geometry.bounds],
        "area_m2": area_m2(geometry),
    }


def as_geojson(geometry):
    return json.loads(shapely.to_geojson(geometry)) if geometry is not None else None


# --- validation --------------------------------------------------------------------------
def validate_region(*, code, name, level, boundary=None, parent=None, grid_type="", households=0, region=None):
    """Check one region; return the values to store (ValidationFailed naming fields).

    `parent` may be a Region, a code, or None (then derived from the code). `region` is the
    existing row when updating.
    """
    errors = _Errors()
    values = {"code": code, "level": level}
    _check_level(level, errors)
    _check_code(code, level, region, errors)
    values["name"] = _checked(errors, "name", lambda: clean_text(name, "name", max_length=100, required=True, multiline=False))
    values["grid_type"] = _check_grid_type(level, grid_type, errors)
    values["households"] = _check_households(households, errors)
    values["parent"] = _check_parent(code, level, parent, errors) if not errors.fields.keys() & {"level", "code"} else None
    geometry = _checked(errors, "boundary", lambda: _boundary_or_none(boundary, level))
    if region is not None and not errors.fields:
        _check_tree_change(region, code, level, errors)
    if geometry is not None and not errors.fields:
        _check_inside_parent(geometry, values["parent"], errors)
        _check_siblings(geometry, values["parent"], level, region, errors)
        if region is not None:
            _check_children_inside(geometry, region, errors)
    errors.raise_if_any()
    values["boundary"] = as_geojson(geometry)
    values.update(derived_fields(geometry))
    return values


def _checked(errors, field, check):
    """Run a check that raises ValidationFailed; record its messages instead."""
    try:
        return check()
    except ValidationFailed as error:
        for message in error.fields.get(field, [error.message]):
            errors.add(field, message, error.code)
        return None


def _check_level(level, errors):
    if level not in Level.values:
        errors.add("level", _("Unknown level."), "invalid_level")


def _check_code(code, level, region, errors):
    if not isinstance(code, str) or not code.isascii() or not code.isdigit():
        errors.add("code", _("The code must consist of digits."), "invalid_code")
        return
    if level in Level.values and len(code) != CODE_LENGTH[level]:
        errors.add(
            "code",
            _("A %(level)s code has %(n)d digits.") % {"level": Level(level).label, "n": CODE_LENGTH[level]},
            "invalid_code",
        )
        return
    clash = Region.objects.filter(code=code)
    if region is not None:
        clash = clash.exclude(pk=region.pk)
    if clash.exists():
        errors.add("code", _("This code is already in use."), "duplicate_code")


def _check_grid_type(level, grid_type, errors):
    if level != Level.GRID:
        return ""
    if not grid_type:
        errors.add("grid_type", _("A grid needs a grid type."), "required")
    elif grid_type not in GridType.values:
        errors.add("grid_type", _("Unknown grid type."), "invalid_grid_type")
    return grid_type


def _check_households(households, errors):
    if households in (None, ""):
        return 0
    if isinstance(households, str) and households.strip().isdigit():
        households = int(households)  # GIS tools often export numbers as text
    if isinstance(households, bool) or not isinstance(households, int) or households < 0:
        errors.add("households", _("Enter a whole number of 0 or more."), "invalid_number")
        return 0
    return households


def _check_parent(code, level, parent, errors):
    """The parent Region (None for a district)."""
    if level == Level.DISTRICT:
        if parent not in (None, ""):
            errors.add("parent", _("A district has no parent."), "invalid_parent")
        return None
    expected_level = PARENT_LEVEL[level]
    if parent in (None, ""):
        parent = code[: CODE_LENGTH[expected_level]]
    if isinstance(parent, str):
        found = Region.objects.filter(code=parent).first()
        if found is None:
            errors.add("parent", _("No region has the code %(code)s.") % {"code": parent}, "unknown_parent")
            return None
        parent = found
    if parent.level != expected_level:
        errors.add(
            "parent",
            _("The parent of a %(level)s must be a %(parent_level)s.")
            % {"level": Level(level).label, "parent_level": Level(expected_level).label},
            "invalid_parent",
        )
    elif not code.startswith(parent.code):
        errors.add("code", _("The code must start with the parent's code %(code)s.") % {"code": parent.code}, "invalid_code")
    return parent


def _boundary_or_none(boundary, level):
    if boundary in (None, "", {}):
        if level == Level.GRID:
            raise ValidationFailed.field("boundary", _("A grid needs a boundary."), code="required")
        return None
    return parse_boundary(boundary)


def _check_tree_change(region, code, level, errors):
    """Codes and levels of nodes with children are fixed: the children's codes embed them."""
    if (code != region.code or level != region.level) and region.children.exists():
        errors.add("code", _("The code and level of a region with children cannot change."), "has_children")


def _check_inside_parent(geometry, parent, errors):
    parent_geometry = geometry_of(parent) if parent is not None else None
    if parent_geometry is None:
        return
    if not parent_geometry.buffer(CONTAINMENT_TOLERANCE_DEG).covers(geometry):
        errors.add(
            "boundary",
            _("The boundary extends outside the parent region %(code)s.") % {"code": parent.code},
            "outside_parent",
        )


def _check_siblings(geometry, parent, level, region, errors):
    siblings = Region.objects.filter(parent=parent, level=level).filter(boundary__isnull=False).only("code", "boundary")
    if region is not None:
        siblings = siblings.exclude(pk=region.pk)
    own_area = area_m2(geometry)
    for sibling in siblings:
        other = geometry_of(sibling)
        if other is None or not geometry.intersects(other):
            continue
        shared = geometry.intersection(other)
        overlap = area_m2(shared) if shared.area else 0.0  # neighbours share edges: no area
        allowed = max(OVERLAP_TOLERANCE_M2, OVERLAP_TOLERANCE_SHARE * min(own_area, area_m2(other)))
        if overlap > allowed:
            errors.add(
                "boundary",
                _("The boundary overlaps %(code)s by about %(area).0f m².") % {"code": sibling.code, "area": overlap},
                "overlaps_sibling",
            )


def _check_children_inside(geometry, region, errors):
    grown = geometry.buffer(CONTAINMENT_TOLERANCE_DEG)
    for child in region.children.filter(boundary__isnull=False).only("code", "boundary"):
        child_geometry = geometry_of(child)
        if child_geometry is not None and not grown.covers(child_geometry):
            errors.add(
                "boundary",
                _("The child region %(code)s would lie outside this boundary.") % {"code": child.code},
                "child_outside",
            )


# --- writing -----------------------------------------------------------------------------
def save_region(actor, *, region=None, **fields):
    """Create (region=None) or update a region after full validation; returns it.

    `fields`: code, name, level, boundary, parent, grid_type, households; when updating,
    fields left out keep their current values. `actor` is a user or SYSTEM.
    """
    if actor is not SYSTEM:
        require(actor, "region.change")
    with transaction.atomic():
        current = _locked(region) if region is not None else None
        merged = {**_current_fields(current), **fields}
        _lock_parent(merged)
        values = validate_region(region=current, **merged)
        target = current or Region()
        for name, value in values.items():
            setattr(target, name, value)
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError:
            raise ValidationFailed.field("code", _("This code is already in use."), code="duplicate_code") from None
    return target


def delete_region(actor, region):
    """Delete a region that has no children and nothing pointing at it."""
    if actor is not SYSTEM:
        require(actor, "region.change")
    with transaction.atomic():
        region = _locked(region)
        if region.children.exists():
            raise Conflict(_("Delete the child regions first."), code="has_children")
        try:
            with transaction.atomic():
                region.delete()
        except ProtectedError:
            raise Conflict(_("Other records still refer to this region."), code="in_use") from None


def _locked(region):
    pk = region.pk if isinstance(region, Region) else region
    found = Region.objects.select_for_update().filter(pk=pk).first()
    if found is None:
        raise ValidationFailed.field("region", _("No such region."), code="not_found")
    return found


def _lock_parent(fields):
    """Serialise changes among siblings: two overlapping creations cannot both pass."""
    parent, code, level = fields.get("parent"), fields.get("code"), fields.get("level")
    if isinstance(parent, Region):
        rows = Region.objects.filter(pk=parent.pk)
    elif isinstance(parent, str) and parent:
        rows = Region.objects.filter(code=parent)
    elif isinstance(code, str) and level in PARENT_LEVEL:
        rows = Region.objects.filter(code=code[: CODE_LENGTH[PARENT_LEVEL[level]]])
    else:
        return
    list(rows.select_for_update().values_list("pk", flat=True))


def _current_fields(region):
    if region is None:
        return {}
    return {
        "code": region.code,
        "name": region.name,
        "level": region.level,
        "boundary": region.boundary,
        "parent": region.parent,
        "grid_type": region.grid_type,
        "households": region.households,
    }
