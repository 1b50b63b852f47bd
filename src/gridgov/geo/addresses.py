"""Matching Chinese address text against the places of each grid (issue 4 item 7).

`normalise` turns free text into a comparable key; `match_address` finds the longest place
name or alias contained in it (a place match: grid and point known), else a community name
(a community match: the case is filed under the community and needs placement).

The index is cached per process and forgotten after any Place or Region save or delete in
this process; other processes see changes within REFRESH_SECONDS.
"""

import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _
from shapely.geometry import shape

from gridgov.core.errors import ValidationFailed
from gridgov.core.text import clean_text
from gridgov.org.permissions import require

REFRESH_SECONDS = 30
MIN_KEY_LENGTH = 2

# Administrative prefixes: the province and city are recognised by pattern; district and
# subdistrict names only after a city (else "阳光花园小区" would look like a district), or
# when they are names in the region tree (see _Index.admin_names).
_PROVINCE = r"[\u4e00-\u9fff]{2,7}?(?:省|自治区)"
_CITY = r"[\u4e00-\u9fff]{2,4}?市(?![场政民])"
_DISTRICT = r"[\u4e00-\u9fff]{1,5}?(?:区|县)"
_SUBDISTRICT = r"[\u4e00-\u9fff]{2,5}?(?:街道办事处|街道|镇|乡)"
_PREFIX = re.compile(rf"^(?:{_PROVINCE})?(?:{_CITY}(?:{_DISTRICT})?)?(?:{_SUBDISTRICT})?")
_TRAILING = re.compile(r"(?:附近|门口|对面|旁边|周边|周围|一带|那边|这边|路口|处)+$")


def normalise(text, admin_names=()):
    """Full-width → half-width, no spaces or punctuation, no administrative prefix or
    vague trailing words ("附近"). admin_names: region names also dropped from the front."""
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    text = _PREFIX.sub("", text, count=1)
    text = _strip_names(text, admin_names)
    stripped = _TRAILING.sub("", text)
    return stripped or text


def _strip_names(text, names):
    changed = True
    while changed:
        changed = False
        for name in names:
            if name and text.startswith(name) and len(text) > len(name):
                text, changed = text[len(name):], True
    return text


@dataclass(frozen=True)
class Match:
    place: object  # a geo.Place, or None for a community match
    grid_id: int | None
    region_code: str
    lon: float | None
    lat: float | None
    score: float  # share of the normalised text the matched name covers, 0..1

    @property
    def needs_placement(self):
        return self.grid_id is None


@dataclass(frozen=True)
class _Entry:
    place: object
    grid_id: int
    grid_code: str
    community_code: str
    lon: float | None
    lat: float | None


class _Index:
    def __init__(self, places, communities, admin_names):
        """places: Place rows with grid loaded; communities: (code, name); admin_names:
        names of districts and subdistricts."""
        self.admin_names = sorted({normalise(n) for n in admin_names if n} - {""}, key=len, reverse=True)
        self.places = {}
        for place in places:
            entry = _entry(place)
            for key in {normalise(name) for name in [place.name, *place.aliases]}:
                if len(key) >= MIN_KEY_LENGTH:
                    self.places.setdefault(key, []).append(entry)
        self.communities = {}
        for code, name in communities:
            for key in {normalise(name), normalise(name.removesuffix("社区"))}:
                if len(key) >= MIN_KEY_LENGTH:
                    self.communities.setdefault(key, set()).add(code)

    def match(self, text):
        key = normalise(text, self.admin_names)
        if not key:
            return None
        return self._place_match(key) or self._community_match(key)

    def _place_match(self, text):
        for length, entries in _longest_hits(text, self.places):
            named = self._communities_in(text)
            hinted = [entry for entry in entries if entry.community_code in named]
            chosen = {e.place.pk: e for e in (hinted or entries)}
            if len(chosen) == 1:  # an ambiguous name (two grids) places nothing
                entry = next(iter(chosen.values()))
                return Match(entry.place, entry.grid_id, entry.grid_code, entry.lon, entry.lat, length / len(text))
            return None
        return None

    def _community_match(self, text):
        for length, codes in _longest_hits(text, self.communities):
            codes = set().union(*codes)
            if len(codes) == 1:
                return Match(None, None, codes.pop(), None, None, length / len(text))
            return None
        return None

    def _communities_in(self, text):
        return {code for key, codes in self.communities.items() if key in text for code in codes}


def _longest_hits(text, table):
    """Yield (length, [values]) for the longest keys of `table` contained in `text` (at
    most once: the longest length with any hit)."""
    if not table:
        return
    longest = min(len(text), max(map(len, table)))
    for length in range(longest, MIN_KEY_LENGTH - 1, -1):
        hits = [table[text[i:i + length]] for i in range(len(text) - length + 1) if text[i:i + length] in table]
        if hits:
            yield length, [v for hit in hits for v in (hit if isinstance(hit, list) else [hit])]
            return


def _entry(place):
    lon, lat = place.lon, place.lat
    if lon is None or lat is None:
        lon, lat = _representative_point(place.grid)
    return _Entry(place, place.grid_id, place.grid.code, place.grid.code[:12], lon, lat)


def _representative_point(grid):
    if grid.boundary:
        point = shape(grid.boundary).representative_point()
        return point.x, point.y
    return grid.centroid_lon, grid.centroid_lat


# --- the per-process cache ---------------------------------------------------------------
_lock = threading.Lock()
_cached = {"index": None, "expires": 0.0}


def current_index():
    with _lock:
        if _cached["index"] is None or time.monotonic() >= _cached["expires"]:
            _cached["index"] = _load_index()
            _cached["expires"] = time.monotonic() + REFRESH_SECONDS
        return _cached["index"]


def _load_index():
    from .models import Level, Place, Region

    places = list(Place.objects.select_related("grid").order_by("id"))
    communities = Region.objects.filter(level=Level.COMMUNITY).values_list("code", "name")
    admin = Region.objects.filter(level__in=[Level.DISTRICT, Level.SUBDISTRICT]).values_list("name", flat=True)
    return _Index(places, list(communities), list(admin))


def match_address(text):
    """The Match for this address text, or None."""
    if not text or not str(text).strip():
        return None
    return current_index().match(text)


def forget(**kwargs):
    with _lock:
        _cached["index"] = None


def _forget_now_and_on_commit(**kwargs):
    forget()
    transaction.on_commit(forget)  # another thread may rebuild from rows not yet committed


def connect_signals():
    from .models import Place, Region

    for model in (Place, Region):
        post_save.connect(_forget_now_and_on_commit, sender=model, dispatch_uid=f"geo_addresses_{model.__name__}_save")
        post_delete.connect(_forget_now_and_on_commit, sender=model, dispatch_uid=f"geo_addresses_{model.__name__}_del")


# --- writing places -----------------------------------------------------------------------
COLUMNS = {"名称": "name", "类型": "kind", "别名": "aliases", "网格编码": "grid", "经度": "lon", "纬度": "lat"}


def save_place(actor, place):
    """Create or update one Place (the admin's save)."""
    require(actor, "region.change")
    with transaction.atomic():
        place.full_clean()
        place.save()
    return place


def import_places(actor, table):
    """Create or update places by (grid, name) from a table whose first row holds the
    Chinese column titles, all or nothing. Returns (created, updated).

    Any bad row: ValidationFailed whose `fields` maps "第N行" to "列: message" lines, and
    nothing is written.
    """
    require(actor, "region.change")
    rows = _table_rows(table)
    checked, errors, seen = [], {}, set()
    for number, row in rows:
        fields, problems = _place_fields(row)
        if fields and (fields["grid"].pk, fields["name"]) in seen:
            problems.append(_("%(column)s: this place appears twice in the file.") % {"column": "名称"})
        if problems:
            errors[_("row %(number)d") % {"number": number}] = problems
            continue
        seen.add((fields["grid"].pk, fields["name"]))
        checked.append(fields)
    if errors:
        raise ValidationFailed(_("Nothing was imported: fix the rows named below."), code="import_failed", fields=errors)
    if not checked:
        raise ValidationFailed.field("file", _("The file has no place rows."), code="empty")
    return _write_places(checked)


def _table_rows(table):
    table = [row for row in table if any(str(cell).strip() for cell in row)]
    if not table:
        raise ValidationFailed.field("file", _("The file has no place rows."), code="empty")
    header = [COLUMNS.get(str(cell).strip()) for cell in table[0]]
    missing = [title for title, name in COLUMNS.items() if name in ("name", "grid") and name not in header]
    if missing:
        raise ValidationFailed.field(
            "file", _("Missing columns: %(columns)s.") % {"columns": "、".join(missing)}, code="missing_columns"
        )
    return [
        (number, {name: cell for name, cell in zip(header, row) if name})
        for number, row in enumerate(table[1:], start=2)  # row numbers as Excel shows them
    ]


def _place_fields(row):
    from .models import Level, PlaceKind, Region

    problems = []

    def check(column, fn):
        try:
            return fn()
        except ValidationFailed as exc:
            problems.append(f"{column}: {' '.join(str(m) for ms in exc.fields.values() for m in ms) or exc.message}")
            return None

    name = check("名称", lambda: clean_text(str(row.get("name", "")), "name", max_length=100, required=True, multiline=False))
    kind = _kind(row.get("kind"), PlaceKind)
    if kind is None:
        problems.append(_("%(column)s: unknown place kind.") % {"column": "类型"})
    aliases = check("别名", lambda: _aliases(row.get("aliases")))
    grid = Region.objects.filter(level=Level.GRID, code=str(row.get("grid", "")).strip()).first()
    if grid is None:
        problems.append(_("%(column)s: no grid has this code.") % {"column": "网格编码"})
    lon, lat = _point(row.get("lon"), row.get("lat"), problems)
    if problems:
        return None, problems
    return {"name": name, "kind": kind, "aliases": aliases, "grid": grid, "lon": lon, "lat": lat}, problems


KIND_TITLES = {"小区": "estate", "楼栋": "building", "楼宇": "building", "道路": "road", "路": "road",
               "商铺": "shop", "店铺": "shop", "其他": "other", "": "other"}


def _kind(value, kinds):
    value = str(value or "").strip()
    value = KIND_TITLES.get(value, value.lower())
    return value if value in kinds.values else None


def _aliases(value):
    parts = re.split(r"[、,，;；]", str(value or ""))
    cleaned = [clean_text(part, "aliases", max_length=100, multiline=False) for part in parts]
    return [alias for alias in cleaned if alias]


def _point(lon, lat, problems):
    blank_lon, blank_lat = str(lon or "").strip() == "", str(lat or "").strip() == ""
    if blank_lon and blank_lat:
        return None, None
    if blank_lon or blank_lat:
        problems.append(_("%(column)s: give both longitude and latitude, or neither.") % {"column": "经度/纬度"})
        return None, None
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        problems.append(_("%(column)s: not a number.") % {"column": "经度/纬度"})
        return None, None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append(_("%(column)s: outside the valid range.") % {"column": "经度/纬度"})
        return None, None
    return lon, lat


def _write_places(checked):
    from .models import Place

    created = updated = 0
    with transaction.atomic():
        for fields in checked:
            keys = {"grid": fields["grid"], "name": fields["name"]}
            place = Place.objects.select_for_update().filter(**keys).first() or Place(**keys)
            is_new = place.pk is None
            for name in ("kind", "aliases", "lon", "lat"):
                setattr(place, name, fields[name])
            place.save()
            created += is_new
            updated += not is_new
    return created, updated
