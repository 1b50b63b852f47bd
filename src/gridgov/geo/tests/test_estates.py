"""Which estate (小区) a point lies in."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov.geo.estates import CENTRE_RADIUS_M, EstateIndex, estate_at, metres_between
from gridgov.geo.models import Estate


def square(lon, lat, size):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


INDEX = EstateIndex([
    (1, square(117.000, 36.690, 0.004), 117.002, 36.692),  # a large estate
    (2, square(117.001, 36.691, 0.001), 117.0015, 36.6915),  # a small one inside it
    (3, None, 117.010, 36.690),  # no boundary: its centre
])


def test_a_point_in_a_boundary_gets_that_estate():
    assert INDEX.locate(117.0035, 36.6935) == 1


def test_overlapping_estates_give_the_smaller_one():
    assert INDEX.locate(117.0015, 36.6915) == 2


def test_estates_without_a_boundary_match_within_the_radius_of_their_centre():
    assert INDEX.locate(117.0101, 36.6901) == 3
    assert INDEX.locate(117.013, 36.690) is None  # ~270 m east


def test_no_point_no_estate():
    assert INDEX.locate(None, 36.69) is None
    assert INDEX.locate(116.9, 36.5) is None


@given(st.floats(-0.01, 0.01), st.floats(-0.01, 0.01))
def test_centre_matches_follow_the_distance(dlon, dlat):
    index = EstateIndex([(7, None, 117.0, 36.69)])
    inside = metres_between(117.0 + dlon, 36.69 + dlat, 117.0, 36.69) <= CENTRE_RADIUS_M
    assert (index.locate(117.0 + dlon, 36.69 + dlat) == 7) == inside


@pytest.mark.django_db
def test_the_process_index_sees_a_new_estate_at_once(region_tree):
    assert estate_at(117.0055, 36.6955) is None
    estate = Estate.objects.create(
        name="阳光花园", community=region_tree["community1"], boundary=square(117.005, 36.695, 0.001),
        centre_lon=117.0055, centre_lat=36.6955, property_company="万科物业",
    )
    assert estate_at(117.0055, 36.6955) == estate.pk
    estate.delete()
    assert estate_at(117.0055, 36.6955) is None


@pytest.mark.django_db
def test_demo_estates_lie_in_their_community():
    import random

    from shapely.geometry import Point, shape

    from gridgov.demo.estates import PER_COMMUNITY, seed_demo_estates
    from gridgov.demo.geography import build_geography

    geography = build_geography(random.Random(1))
    assert seed_demo_estates(geography) == PER_COMMUNITY * len(geography.communities)
    assert seed_demo_estates(geography) == 0  # idempotent
    for estate in Estate.objects.select_related("community"):
        centre = Point(estate.centre_lon, estate.centre_lat)
        assert shape(estate.community.boundary).contains(centre) and estate.property_company
        assert estate_at(estate.centre_lon, estate.centre_lat) == estate.pk
