"""Which estate (小区) a point lies in.

A per-process index: an STRtree over the estates' boundaries (point in polygon; if two
overlap, the smaller estate wins), and for estates entered without a boundary the nearest
centre within CENTRE_RADIUS_M. Rebuilt after any Estate save or delete in this process;
other processes see changes within REFRESH_SECONDS.
"""

import math
import threading
import time

from django.db.models.signals import post_delete, post_save
from shapely import STRtree
from shapely.geometry import Point, shape

CENTRE_RADIUS_M = 150
REFRESH_SECONDS = 60
EARTH_RADIUS_M = 6_371_000


class EstateIndex:
    def __init__(self, estates):
        """estates: (id, boundary GeoJSON or None, centre lon, centre lat) tuples."""
        shaped = [(pk, shape(boundary)) for pk, boundary, _lon, _lat in estates if boundary]
        shaped.sort(key=lambda item: (item[1].area, item[0]))  # smaller first: the most specific estate
        self.ids = [pk for pk, _geometry in shaped]
        self.geometries = [geometry for _pk, geometry in shaped]
        self.tree = STRtree(self.geometries) if self.geometries else None
        self.centres = [(pk, lon, lat) for pk, boundary, lon, lat in estates if not boundary]

    def locate(self, lon, lat):
        if lon is None or lat is None:
            return None
        if self.tree is not None:
            hits = self.tree.query(Point(lon, lat), predicate="intersects")
            if len(hits):
                return self.ids[min(hits)]
        return self.nearest_centre(lon, lat)

    def nearest_centre(self, lon, lat):
        best, best_distance = None, CENTRE_RADIUS_M
        for pk, centre_lon, centre_lat in self.centres:
            distance = metres_between(lon, lat, centre_lon, centre_lat)
            if distance <= best_distance:
                best, best_distance = pk, distance
        return best


def metres_between(lon1, lat1, lon2, lat2):
    """Equirectangular approximation: exact enough within a few hundred metres."""
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(x, y)


_lock = threading.Lock()
_cached = {"index": None, "expires": 0.0}


def current_index():
    with _lock:
        if _cached["index"] is None or time.monotonic() >= _cached["expires"]:
            from .models import Estate

            rows = Estate.objects.values_list("id", "boundary", "centre_lon", "centre_lat")
            _cached["index"] = EstateIndex(list(rows))
            _cached["expires"] = time.monotonic() + REFRESH_SECONDS
        return _cached["index"]


def estate_at(lon, lat):
    """The id of the estate at this WGS84 point, or None."""
    return current_index().locate(lon, lat)


def forget(**kwargs):
    with _lock:
        _cached["index"] = None


def connect_signals():
    from .models import Estate

    post_save.connect(forget, sender=Estate, dispatch_uid="geo_estates_save")
    post_delete.connect(forget, sender=Estate, dispatch_uid="geo_estates_delete")
