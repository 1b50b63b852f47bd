"""GridIndex against a brute-force shapely answer (no database)."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov.geo.gridindex import GridIndex
from gridgov.geo.synthetic import jittered_lattice

POLYGONS = jittered_lattice(12, 9, seed=7)
INDEX = GridIndex(POLYGONS)
TREE = shapely.STRtree(POLYGONS)
XMIN, YMIN, XMAX, YMAX = shapely.total_bounds(POLYGONS)
VERTICES = shapely.get_coordinates(POLYGONS)


def brute_force(xs, ys):
    """Smallest index of a polygon covering each point, -1 if none."""
    pairs = TREE.query(shapely.points(xs, ys), predicate="intersects")
    best = np.full(len(xs), np.iinfo(np.int64).max)
    np.minimum.at(best, pairs[0], pairs[1])
    return np.where(best == np.iinfo(np.int64).max, -1, best)


def test_lattice_tiles_without_gaps():
    assert all(polygon.is_valid for polygon in POLYGONS)
    union = shapely.union_all(POLYGONS)
    assert union.area == pytest.approx(sum(p.area for p in POLYGONS), rel=1e-9)


def test_random_points_match_brute_force():
    rng = np.random.default_rng(3)
    xs = rng.uniform(XMIN - 0.01, XMAX + 0.01, 50_000)
    ys = rng.uniform(YMIN - 0.01, YMAX + 0.01, 50_000)
    expected = brute_force(xs, ys)
    assert (INDEX.lookup_many(xs, ys) == expected).all()
    assert [INDEX.lookup(x, y) for x, y in zip(xs[:5000].tolist(), ys[:5000].tolist())] == expected[:5000].tolist()


def test_vertices_and_edge_points_match_brute_force():
    # Every vertex, and points exactly halfway along edges, are on boundaries.
    xs, ys = VERTICES[:, 0], VERTICES[:, 1]
    mid_x, mid_y = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2
    xs, ys = np.concatenate([xs, mid_x]), np.concatenate([ys, mid_y])
    expected = brute_force(xs, ys)
    assert (INDEX.lookup_many(xs, ys) == expected).all()
    assert [INDEX.lookup(x, y) for x, y in zip(xs.tolist(), ys.tolist())] == expected.tolist()
    assert (expected[: len(VERTICES)] >= 0).all()


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1), st.integers(0, len(VERTICES) - 1), st.booleans())
def test_single_points_match_brute_force(fx, fy, vertex, snap):
    x, y = (VERTICES[vertex] if snap else (XMIN + fx * (XMAX - XMIN), YMIN + fy * (YMAX - YMIN)))
    assert INDEX.lookup(float(x), float(y)) == brute_force(np.array([x]), np.array([y]))[0]


def test_overlapping_polygons_prefer_the_smaller_index():
    big, small = shapely.box(0, 0, 10, 10), shapely.box(2, 2, 4, 4)
    index = GridIndex([small, big])
    assert index.lookup(3.0, 3.0) == 0
    assert index.lookup(8.0, 8.0) == 1
    index = GridIndex([big, small])
    assert index.lookup(3.0, 3.0) == 0
    assert index.lookup_many([3.0, 8.0, 11.0, np.nan], [3.0, 8.0, 3.0, 3.0]).tolist() == [0, 0, -1, -1]


def test_empty_index():
    index = GridIndex([])
    assert index.lookup(1.0, 1.0) == -1
    assert index.lookup_many([1.0], [1.0]).tolist() == [-1]
