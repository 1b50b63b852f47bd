"""Region validation and writing."""

import pytest
from django.utils import translation

from gridgov.conftest import square
from gridgov.core.errors import Conflict, Forbidden, ValidationFailed
from gridgov.geo.locator import locate
from gridgov.geo.models import Level, Region
from gridgov.geo.services import SYSTEM, area_m2, delete_region, parse_boundary, save_region, validate_region
from gridgov.org.roles import Role


def grid_values(**overrides):
    """A new grid 003 in community 1 (lon 117.00-117.02), in its north-west corner."""
    values = {
        "code": "370105001001003",
        "name": "新网格",
        "level": Level.GRID,
        "grid_type": "basic",
        "boundary": square(117.0, 36.7, 0.005),
    }
    values.update(overrides)
    return values


@pytest.fixture
def roomy_tree(region_tree):
    """The fixture tree with community 1 grown northwards so there is room for a new grid."""
    community = region_tree["community1"]
    community.boundary = {"type": "Polygon", "coordinates": [[[117.0, 36.68], [117.02, 36.68], [117.02, 36.71], [117.0, 36.71], [117.0, 36.68]]]}
    community.save()
    return region_tree


def fields_of(error_info):
    return set(error_info.value.fields)


def test_create_grid_computes_derived_fields(roomy_tree):
    grid = save_region(SYSTEM, **grid_values())
    assert grid.parent == roomy_tree["community1"]
    assert grid.centroid_lon == pytest.approx(117.0025)
    assert grid.centroid_lat == pytest.approx(36.7025)
    assert grid.bbox == pytest.approx([117.0, 36.7, 117.005, 36.705])
    # 0.005° x 0.005° at 36.7°N ≈ 446 m x 556 m.
    assert grid.area_m2 == pytest.approx(446.3 * 556.0, rel=0.01)
    assert locate(117.001, 36.701).grid_id == grid.pk


def test_area_matches_known_value():
    one_degree_square_at_equator = parse_boundary(square(0.0, 0.0, 1.0))
    assert area_m2(one_degree_square_at_equator) == pytest.approx(111195.0**2, rel=1e-3)


@pytest.mark.parametrize(
    "boundary,code",
    [
        ({"type": "Point", "coordinates": [117, 36]}, "invalid_geojson"),
        ({"type": "Polygon", "coordinates": [[[117.0, 36.7], [117.001, 36.7], [117.0, 36.7]]]}, "invalid_geojson"),
        ({"type": "Polygon", "coordinates": [[[117.0, 36.7], [117.001, 36.7], [117.001, 36.701], [117.0, 36.701]]]}, "ring_not_closed"),
        ({"type": "Polygon", "coordinates": [[[117.0, 36.7], [float("nan"), 36.7], [117.001, 36.701], [117.0, 36.7]]]}, "invalid_coordinate"),
        ({"type": "Polygon", "coordinates": [[[117.0, 36.7], [190.0, 36.7], [117.001, 36.701], [117.0, 36.7]]]}, "invalid_coordinate"),
        ({"type": "Polygon", "coordinates": [[[117.0, 36.7], ["a", 36.7], [117.001, 36.701], [117.0, 36.7]]]}, "invalid_coordinate"),
        ({"type": "Polygon", "coordinates": []}, "invalid_geojson"),
        ({"type": "MultiPolygon", "coordinates": []}, "invalid_geojson"),
        ("{not json", "invalid_geojson"),
    ],
)
def test_malformed_boundaries_are_refused(roomy_tree, boundary, code):
    with pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(boundary=boundary))
    assert fields_of(info) == {"boundary"}
    assert info.value.code == code


def test_messages_are_translated(roomy_tree):
    open_ring = {"type": "Polygon", "coordinates": [[[117.0, 36.7], [117.001, 36.7], [117.001, 36.701], [117.0, 36.701]]]}
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(boundary=open_ring))
    assert info.value.fields["boundary"] == ["每个环必须闭合（最后一个点与第一个点相同）。"]
    with translation.override("en"), pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(boundary=open_ring))
    assert "closed" in info.value.fields["boundary"][0]


def test_self_intersection_reports_the_reason(roomy_tree):
    bow_tie = {"type": "Polygon", "coordinates": [[[117.0, 36.7], [117.004, 36.704], [117.004, 36.7], [117.0, 36.704], [117.0, 36.7]]]}
    with pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(boundary=bow_tie))
    assert info.value.code == "invalid_geometry"
    assert "Self-intersection" in info.value.fields["boundary"][0]


def test_grid_outside_its_community(roomy_tree):
    with pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(boundary=square(117.018, 36.7, 0.005)))
    assert info.value.code == "outside_parent"


def test_tiny_protrusion_is_tolerated(roomy_tree):
    values = validate_region(**grid_values(boundary=square(117.0 - 2e-6, 36.7, 0.005)))
    assert values["area_m2"] > 0


def test_overlapping_siblings_are_refused(roomy_tree):
    # Overlaps grid 001 (lon 117.00-117.01, lat 36.68-36.70) by 0.005 x 0.001 degrees.
    with pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(boundary=square(117.0, 36.699, 0.005)))
    assert info.value.code == "overlaps_sibling"
    assert "370105001001001" in info.value.fields["boundary"][0]


def test_sharing_an_edge_is_fine(roomy_tree):
    save_region(SYSTEM, **grid_values(boundary=square(117.0, 36.70, 0.005)))


@pytest.mark.parametrize(
    "overrides,field,code",
    [
        ({"code": "37010500100100A"}, "code", "invalid_code"),
        ({"code": "3701050010010031"}, "code", "invalid_code"),
        ({"code": "370105001001001"}, "code", "duplicate_code"),
        ({"code": "370105001009003"}, "parent", "unknown_parent"),
        ({"code": "370106001001003", "parent": "370105001001"}, "code", "invalid_code"),
        ({"parent": "370105001"}, "parent", "invalid_parent"),
        ({"level": "county"}, "level", "invalid_level"),
        ({"grid_type": ""}, "grid_type", "required"),
        ({"grid_type": "huge"}, "grid_type", "invalid_grid_type"),
        ({"name": "  "}, "name", "required"),
        ({"name": "<b>x</b>"}, "name", "html_not_allowed"),
        ({"households": -1}, "households", "invalid_number"),
        ({"boundary": None}, "boundary", "required"),
    ],
)
def test_bad_fields_are_named(roomy_tree, overrides, field, code):
    with pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(**overrides))
    assert field in info.value.fields
    assert code in (info.value.code, "validation_failed")


def test_households_as_digit_text(roomy_tree):
    assert validate_region(**grid_values(households=" 42 "))["households"] == 42


def test_several_problems_reported_together(roomy_tree):
    with pytest.raises(ValidationFailed) as info:
        validate_region(**grid_values(name="", grid_type="", households=-5))
    assert fields_of(info) == {"name", "grid_type", "households"}


def test_district_has_no_parent(db):
    with pytest.raises(ValidationFailed) as info:
        validate_region(code="370105", name="x", level=Level.DISTRICT, parent="370100")
    assert "parent" in info.value.fields
    district = save_region(SYSTEM, code="370105", name="天桥区", level=Level.DISTRICT)
    assert district.parent is None and district.boundary is None and district.area_m2 is None


def test_nothing_written_on_failure(roomy_tree):
    before = Region.objects.count()
    with pytest.raises(ValidationFailed):
        save_region(SYSTEM, **grid_values(boundary=square(117.0, 36.699, 0.005)))
    assert Region.objects.count() == before


def test_update_keeps_unspecified_fields(region_tree):
    grid = region_tree["grid11"]
    updated = save_region(SYSTEM, region=grid, name="改名网格", households=12)
    assert (updated.name, updated.households, updated.code) == ("改名网格", 12, grid.code)
    assert updated.area_m2 > 0


def test_update_may_not_overlap_itself_check(region_tree):
    # Updating a grid with its own unchanged boundary must not count itself as a sibling.
    save_region(SYSTEM, region=region_tree["grid12"], boundary=region_tree["grid12"].boundary)


def test_parent_boundary_must_keep_children(region_tree):
    with pytest.raises(ValidationFailed) as info:
        save_region(SYSTEM, region=region_tree["community1"], boundary=square(117.0, 36.68, 0.01))
    assert info.value.code == "child_outside"


def test_code_of_a_parent_is_fixed(region_tree):
    with pytest.raises(ValidationFailed) as info:
        save_region(SYSTEM, region=region_tree["community1"], code="370105001009")
    assert info.value.code == "has_children"


def test_permission_required(region_tree, make_user):
    dispatcher = make_user([Role.DISPATCHER])
    with pytest.raises(Forbidden):
        save_region(dispatcher, region=region_tree["grid11"], name="x")
    admin = make_user([Role.SYSADMIN])
    assert save_region(admin, region=region_tree["grid11"], name="x").name == "x"


def test_delete(region_tree):
    with pytest.raises(Conflict) as info:
        delete_region(SYSTEM, region_tree["community1"])
    assert info.value.code == "has_children"
    delete_region(SYSTEM, region_tree["grid11"])
    assert not Region.objects.filter(code="370105001001001").exists()
