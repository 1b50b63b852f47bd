"""Which grid is this point in?  `locate(lon, lat)` and `locate_many(lons, lats)` (WGS84).

The index (gridindex.GridIndex over every grid, plus an STRtree over the larger regions
for points outside every grid) is a module-level cache. It is rebuilt lazily:
- at once after a Region is saved or deleted in this process (signal → a new generation),
  and again when that transaction commits (a rebuild by another thread between the save
  and the commit read the old rows);
- when another process changed regions: it bumps the token in GeoIndexVersion, which we
  read at most once every CHECK_INTERVAL seconds, so a locate call normally touches no DB;
- when the index was built inside a transaction (it may have seen rows that were later
  rolled back) and that transaction is over.

Threads: a snapshot is immutable and swapped in by one assignment. Each snapshot carries
the generation it was built for (read before its rows), and a caller uses it only if no
invalidation came since; otherwise it waits for the rebuild under the lock. So no lookup
made after a change (in this process) is answered from an index built before it.

Rule for points on a shared edge or vertex: the grid with the smallest code wins.
Outside every grid, `region_code` is the smallest (by area) region whose boundary covers
the point, else settings.GRIDGOV_FALLBACK_REGION_CODE, else the shortest code in the tree.
"""

import itertools
import logging
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import h3
import numpy as np
import shapely
from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from shapely.geometry import shape

from .coords import check_lon_lat
from .gridindex import GridIndex
from .models import GeoIndexVersion, Level, Region

logger = logging.getLogger(__name__)

H3_RESOLUTION = 9
CHECK_INTERVAL = 0.5  # seconds between token checks for changes made by other processes


@dataclass(frozen=True)
class Location:
    grid_id: int | None
    grid_code: str
    region_code: str
    h3_cell: str
    inside_grid: bool


class _Snapshot:
    """Everything locate needs, built from one read of the region table."""

    def __init__(self, token, rows, provisional, generation):
        self.token = token
        self.provisional = provisional
        self.generation = generation
        grids = sorted((r for r in rows if r["level"] == Level.GRID and r["geometry"] is not None), key=_by_code)
        self.grid_ids = np.array([r["id"] for r in grids], dtype=np.int64)
        self.grid_id_list = [r["id"] for r in grids]
        self.grid_codes = [r["code"] for r in grids]
        self.grids = GridIndex([r["geometry"] for r in grids])
        # Larger regions, smallest first, for points outside every grid.
        others = [r for r in rows if r["level"] != Level.GRID and r["geometry"] is not None]
        others.sort(key=lambda r: (r["geometry"].area, r["code"]))
        self.region_codes = [r["code"] for r in others]
        self.region_tree = shapely.STRtree([r["geometry"] for r in others])
        self.shortest_code = min((r["code"] for r in rows), key=lambda code: (len(code), code), default="")

    def region_code_at(self, lon, lat):
        hits = self.region_tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits):
            return self.region_codes[int(hits.min())]
        return settings.GRIDGOV_FALLBACK_REGION_CODE or self.shortest_code


def _by_code(row):
    return row["code"]


# --- the cache ---------------------------------------------------------------------------
_lock = threading.Lock()
_snapshot = None
_generations = itertools.count(1)  # next() is atomic under the GIL
_generation = next(_generations)  # changes on every invalidation in this process
_checked_at = 0.0
_defer_depth = 0
_deferred_bump = False


def _usable(snapshot, generation):
    return (
        snapshot is not None
        and snapshot.generation == generation
        and not (snapshot.provisional and not connection.in_atomic_block)
    )


def _current():
    snapshot = _snapshot
    if _usable(snapshot, _generation) and time.monotonic() - _checked_at < CHECK_INTERVAL:
        return snapshot
    return _refresh()


def _refresh():
    global _snapshot, _checked_at
    with _lock:
        # Read the generation before the rows: a change signalled during the build makes
        # the new snapshot stale at once, so the next call rebuilds again.
        generation = _generation
        token = _read_token()
        snapshot = _snapshot
        if not _usable(snapshot, generation) or token != snapshot.token:
            snapshot = _Snapshot(token, _load_rows(), connection.in_atomic_block, generation)
            _snapshot = snapshot  # one assignment: readers see the old or the new, whole
        _checked_at = time.monotonic()
        return snapshot


def _read_token():
    return GeoIndexVersion.objects.filter(pk=1).values_list("token", flat=True).first() or ""


def _load_rows():
    rows = []
    for row in Region.objects.order_by().values("id", "code", "level", "boundary").iterator(chunk_size=2000):
        row["geometry"] = _geometry(row)
        rows.append(row)
    return rows


def _geometry(row):
    if not row["boundary"]:
        return None
    try:
        geometry = shape(row["boundary"])
    except Exception:  # noqa: BLE001 - a broken stored boundary must not break locating
        logger.warning("region %s has an unreadable boundary; ignored by the locator", row["code"])
        return None
    return None if geometry.is_empty else geometry


def invalidate():
    """Forget the cached index (the next call rebuilds it)."""
    global _generation
    _generation = next(_generations)


def bump_version():
    """Tell every process that regions changed (and this one at once, and again on commit:
    another thread may rebuild from the old rows before this change is committed)."""
    global _deferred_bump
    invalidate()
    transaction.on_commit(invalidate)
    if _defer_depth:
        _deferred_bump = True
        return
    token = uuid.uuid4().hex
    if not GeoIndexVersion.objects.filter(pk=1).update(token=token):
        GeoIndexVersion.objects.update_or_create(pk=1, defaults={"token": token})


@contextmanager
def deferred_version_bump():
    """Bulk writers (the importer): one version bump at the end instead of one per row."""
    global _defer_depth, _deferred_bump
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1
        if _defer_depth == 0 and _deferred_bump:
            _deferred_bump = False
            bump_version()


@receiver(post_save, sender=Region, dispatch_uid="geo_locator_region_saved")
@receiver(post_delete, sender=Region, dispatch_uid="geo_locator_region_deleted")
def _region_changed(sender, **kwargs):
    bump_version()


# --- the contract ------------------------------------------------------------------------
def locate(lon, lat):
    """The Location of a WGS84 point (ValidationFailed on lon/lat for bad input)."""
    if not (type(lon) is float and type(lat) is float and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        lon, lat = check_lon_lat(lon, lat)
    snapshot = _current()
    cell = h3.latlng_to_cell(lat, lon, H3_RESOLUTION)
    index = snapshot.grids.lookup(lon, lat)
    if index >= 0:
        code = snapshot.grid_codes[index]
        return Location(snapshot.grid_id_list[index], code, code, cell, True)
    return Location(None, "", snapshot.region_code_at(lon, lat), cell, False)


def locate_many(lons, lats):
    """Grid ids (numpy int64, -1 outside every grid or for non-finite input) of many points."""
    lons = np.asarray(lons, dtype=np.float64)
    lats = np.asarray(lats, dtype=np.float64)
    if lons.shape != lats.shape:
        raise ValueError("lons and lats must have the same shape")
    snapshot = _current()
    index = snapshot.grids.lookup_many(lons, lats)
    return np.where(index >= 0, snapshot.grid_ids[np.maximum(index, 0)] if len(snapshot.grid_ids) else -1, -1)


def index_info():
    """Figures about the current index (for health pages and benchmarks)."""
    snapshot = _current()
    grids = snapshot.grids
    return {
        "token": snapshot.token,
        "grids": grids.size,
        "buckets": grids.nx * grids.ny,
        "mixed_buckets": int((grids.cells < -1).sum()),
    }
