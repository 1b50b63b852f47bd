"""Regions as GeoJSON: import a FeatureCollection (all or nothing) and export one.

Feature properties: code, name, level (derived from the code length if absent),
parent_code (derived from the code if absent), grid_type, households. The geometry is the
boundary (WGS84 Polygon/MultiPolygon; may be null above grid level).
"""

import json
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _

from gridgov.core.errors import ValidationFailed

from .locator import deferred_version_bump
from .models import CODE_LENGTH, PARENT_LEVEL, Region
from .services import SYSTEM, save_region

LEVEL_BY_LENGTH = {length: level for level, length in CODE_LENGTH.items()}


@dataclass
class FeatureError:
    index: int  # position of the feature in the file, from 0
    code: str
    fields: dict

    def __str__(self):
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in self.fields.items())
        return f"#{self.index} ({self.code or '?'}) {problems}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list = field(default_factory=list)


class ImportFailed(ValidationFailed):
    """The file had errors; nothing was written. `errors` lists them per feature."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__(
            _("%(n)d features have errors; nothing was imported.") % {"n": len(errors)},
            code="import_failed",
            fields={"features": [str(error) for error in errors]},
        )


# --- import ------------------------------------------------------------------------------
def load_feature_collection(text):
    """Parse a FeatureCollection (str/bytes/dict) and return its list of features."""
    if isinstance(text, (str, bytes)):
        try:
            text = json.loads(text)
        except ValueError as error:
            raise ValidationFailed.field("file", _("Not valid JSON: %(error)s") % {"error": error}, code="invalid_geojson") from None
    if not isinstance(text, dict) or text.get("type") != "FeatureCollection" or not isinstance(text.get("features"), list):
        raise ValidationFailed.field("file", _("Expected a GeoJSON FeatureCollection."), code="invalid_geojson")
    return text["features"]


def feature_fields(feature):
    """The save_region keywords of one feature (ValidationFailed naming the property)."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise ValidationFailed.field("feature", _("Expected a GeoJSON Feature."), code="invalid_geojson")
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValidationFailed.field("properties", _("Properties must be an object."), code="invalid_geojson")
    code = properties.get("code")
    code = str(code).strip() if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
    if not code:
        raise ValidationFailed.field("code", _("Every feature needs a code."), code="required")
    return {
        "code": code,
        "name": properties.get("name"),
        "level": properties.get("level") or LEVEL_BY_LENGTH.get(len(code), ""),
        "parent": properties.get("parent_code") or None,
        "grid_type": properties.get("grid_type") or "",
        "households": properties.get("households") or 0,
        "boundary": feature.get("geometry"),
    }


def import_regions(features, *, actor=SYSTEM, progress=None):
    """Create or update every feature's region in one transaction; ImportFailed on any error.

    Parents go before children (shorter codes first). Every feature is validated and every
    problem is reported, then the whole transaction is rolled back.
    """
    result = ImportResult()
    prepared = _prepare(features, result.errors)
    with transaction.atomic(), deferred_version_bump():
        existing = dict(Region.objects.filter(code__in=[f["code"] for _, f in prepared]).values_list("code", "pk"))
        for index, fields in prepared:
            _import_one(index, fields, existing, actor, result)
            if progress is not None:
                progress(1)
        if result.errors:
            result.errors.sort(key=lambda error: error.index)
            raise ImportFailed(result.errors)
    return result


def _prepare(features, errors):
    """(index, fields) in import order; structural problems go to `errors`."""
    prepared, seen = [], {}
    for index, feature in enumerate(features):
        try:
            fields = feature_fields(feature)
        except ValidationFailed as error:
            errors.append(FeatureError(index, _code_of(feature), _messages(error)))
            continue
        if fields["code"] in seen:
            message = _("The code also appears in feature #%(n)d.") % {"n": seen[fields["code"]]}
            errors.append(FeatureError(index, fields["code"], {"code": [message]}))
            continue
        seen[fields["code"]] = index
        prepared.append((index, fields))
    prepared.sort(key=lambda item: (len(item[1]["code"]), item[1]["code"]))
    return prepared


def _import_one(index, fields, existing, actor, result):
    region_pk = existing.get(fields["code"])
    try:
        save_region(actor, region=region_pk, **fields)
    except ValidationFailed as error:
        result.errors.append(FeatureError(index, fields["code"], _messages(error)))
        return
    if region_pk is None:
        result.created += 1
    else:
        result.updated += 1


def _messages(error):
    return {name: [str(m) for m in messages] for name, messages in error.fields.items()} or {"feature": [str(error.message)]}


def _code_of(feature):
    try:
        return str(feature["properties"]["code"])
    except (KeyError, TypeError):
        return ""


# --- export ------------------------------------------------------------------------------
def region_feature(region):
    return {
        "type": "Feature",
        "id": region.code,
        "geometry": region.boundary,
        "properties": {
            "code": region.code,
            "name": region.name,
            "level": region.level,
            "parent_code": _parent_code(region),
            "grid_type": region.grid_type,
            "households": region.households,
            "area_m2": region.area_m2,
        },
    }


def _parent_code(region):
    """Codes embed their parent's, so no join is needed."""
    parent_level = PARENT_LEVEL.get(region.level)
    return region.code[: CODE_LENGTH[parent_level]] if parent_level else ""


def feature_collection(regions):
    return {"type": "FeatureCollection", "features": [region_feature(region) for region in regions]}
