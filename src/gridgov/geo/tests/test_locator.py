"""The locator: containment, shared edges, vertices, refresh and the outside fallback."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgov.core.errors import ValidationFailed
from gridgov.geo import locator
from gridgov.geo.locator import Location, locate, locate_many
from gridgov.geo.models import GeoIndexVersion, GridType, Level, Region


def test_point_inside_a_grid(region_tree):
    location = locate(117.005, 36.69)
    grid = region_tree["grid11"]
    assert location == Location(grid.pk, grid.code, grid.code, location.h3_cell, True)


def test_h3_cell_is_resolution_9(region_tree):
    import h3

    cell = locate(117.005, 36.69).h3_cell
    assert h3.is_valid_cell(cell)
    assert h3.get_resolution(cell) == 9
    assert cell == h3.latlng_to_cell(36.69, 117.005, 9)


def test_shared_edge_goes_to_the_smallest_code(region_tree):
    # lon 117.01 is the edge between grid 001 and 002 of community 1.
    for lat in (36.681, 36.69, 36.6999):
        assert locate(117.01, lat).grid_code == region_tree["grid11"].code
    # lon 117.02 is also the edge between the two communities.
    assert locate(117.02, 36.69).grid_code == region_tree["grid12"].code


def test_vertex_shared_by_grids(region_tree):
    assert locate(117.02, 36.70).grid_code == region_tree["grid12"].code
    # Outer corner of the last grid still counts as inside (covers, not contains).
    grid = region_tree["grid22"]
    south_east = grid.boundary["coordinates"][0][1]
    assert locate(*south_east).grid_code == grid.code


def test_outside_every_grid_gets_smallest_covering_region(region_tree):
    location = locate(117.03, 36.675)  # inside the subdistrict, south of every community
    assert location.inside_grid is False
    assert location.grid_id is None and location.grid_code == ""
    assert location.region_code == region_tree["subdistrict"].code
    assert locate(116.95, 36.65).region_code == region_tree["district"].code


def test_outside_every_region_uses_setting_then_shortest_code(region_tree, settings):
    settings.GRIDGOV_FALLBACK_REGION_CODE = "370105001"
    assert locate(100.0, 30.0).region_code == "370105001"
    settings.GRIDGOV_FALLBACK_REGION_CODE = ""
    assert locate(100.0, 30.0).region_code == "370105"


def test_empty_tree(db):
    location = locate(117.0, 36.0)
    assert location == Location(None, "", "", location.h3_cell, False)
    assert locate_many([117.0], [36.0]).tolist() == [-1]


def test_refresh_after_boundary_change(region_tree):
    grid = region_tree["grid11"]
    assert locate(117.005, 36.69).grid_id == grid.pk
    # Move grid 001 away; the index notices through the save signal.
    grid.boundary = {"type": "Polygon", "coordinates": [[[118, 36], [118.1, 36], [118.1, 36.1], [118, 36]]]}
    grid.save()
    assert locate(117.005, 36.69).inside_grid is False
    assert locate(118.05, 36.01).grid_id == grid.pk


def test_refresh_after_change_in_another_process(region_tree):
    grid = region_tree["grid11"]
    assert locate(117.005, 36.69).grid_id == grid.pk
    # Another process: changes rows with no signal here, bumps the shared token.
    Region.objects.filter(pk=grid.pk).update(code="370105001001009")
    GeoIndexVersion.objects.filter(pk=1).update(token="other-process")
    locator._checked_at = 0.0  # as if CHECK_INTERVAL had passed
    assert locate(117.005, 36.69).grid_code == "370105001001009"


def test_no_query_per_call(region_tree, django_assert_num_queries):
    locate(117.005, 36.69)
    with django_assert_num_queries(0):
        for _ in range(100):
            locate(117.005, 36.69)


def test_refresh_after_delete(region_tree):
    grid = region_tree["grid22"]
    assert locate(117.035, 36.69).grid_id == grid.pk
    grid.delete()
    assert locate(117.035, 36.69).inside_grid is False


def test_multipolygon_with_hole(region_tree):
    community = region_tree["community1"]
    ring = [[117.1, 36.1], [117.2, 36.1], [117.2, 36.2], [117.1, 36.2], [117.1, 36.1]]
    hole = [[117.14, 36.14], [117.16, 36.14], [117.16, 36.16], [117.14, 36.16], [117.14, 36.14]]
    island = [[117.3, 36.3], [117.31, 36.3], [117.31, 36.31], [117.3, 36.3]]
    grid = Region.objects.create(
        level=Level.GRID, code=community.code + "009", name="g", parent=community, grid_type=GridType.BASIC,
        boundary={"type": "MultiPolygon", "coordinates": [[ring, hole], [island]]},
    )
    assert locate(117.12, 36.12).grid_id == grid.pk
    assert locate(117.15, 36.15).inside_grid is False
    assert locate(117.14, 36.15).grid_id == grid.pk  # on the hole's edge: covered
    assert locate(117.305, 36.302).grid_id == grid.pk


@pytest.mark.parametrize("lon,lat,field", [("x", 36.0, "lon"), (117.0, float("nan"), "lat"), (181.0, 36.0, "lon"), (117.0, None, "lat")])
def test_bad_input(db, lon, lat, field):
    with pytest.raises(ValidationFailed) as info:
        locate(lon, lat)
    assert field in info.value.fields


def test_accepts_ints_and_numeric_strings(region_tree):
    assert locate("117.005", "36.69").grid_id == region_tree["grid11"].pk
    assert locate(117, 36).inside_grid is False


def test_locate_many_basic(region_tree):
    ids = locate_many([117.005, 117.015, 117.01, 200.0, float("nan"), 117.0], [36.69, 36.69, 36.69, 0.0, 36.69, 36.0])
    assert ids.dtype == np.int64
    assert ids.tolist() == [region_tree["grid11"].pk, region_tree["grid12"].pk, region_tree["grid11"].pk, -1, -1, -1]


# Coordinates snapped to a 0.001° lattice hit edges and vertices often.
coordinate = st.one_of(
    st.floats(116.99, 117.05, allow_nan=False),
    st.integers(116990, 117050).map(lambda n: n / 1000),
)
latitude = st.one_of(st.floats(36.67, 36.71, allow_nan=False), st.integers(36670, 36710).map(lambda n: n / 1000))


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(points=st.lists(st.tuples(coordinate, latitude), min_size=1, max_size=30))
def test_locate_many_agrees_with_locate(region_tree, points):
    lons, lats = zip(*points)
    many = locate_many(lons, lats).tolist()
    one = [locate(lon, lat).grid_id or -1 for lon, lat in points]
    assert many == one
