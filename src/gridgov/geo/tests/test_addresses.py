"""Address matching against places (gridgov.geo.addresses) and its use at case creation."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from gridgov.cases.models import Case, Channel
from gridgov.cases.services import create_case
from gridgov.core.errors import Forbidden, ValidationFailed
from gridgov.geo import addresses
from gridgov.geo.addresses import import_places, match_address, normalise
from gridgov.geo.models import Place, PlaceKind
from gridgov.org.roles import Role
from gridgov.video.importing import xlsx_table

HEADER = ["名称", "类型", "别名", "网格编码", "经度", "纬度"]


@pytest.fixture(autouse=True)
def _fresh_address_index():
    """Rolled-back places of one test must not stay in the per-process index."""
    addresses.forget()
    yield
    addresses.forget()


@pytest.fixture
def places(region_tree):
    estate = Place.objects.create(
        name="阳光花园", kind=PlaceKind.ESTATE, aliases=["阳光小区"], grid=region_tree["grid11"], lon=117.005, lat=36.69
    )
    shop = Place.objects.create(name="阳光花园超市", kind=PlaceKind.SHOP, grid=region_tree["grid12"])
    road = Place.objects.create(name="西区路", kind=PlaceKind.ROAD, grid=region_tree["grid21"], lon=117.025, lat=36.685)
    return {"estate": estate, "shop": shop, "road": road}


@pytest.fixture
def clerk(make_user, region_tree):
    return make_user([Role.INTAKE_CLERK], scope=region_tree["subdistrict"])


def report(actor, address):
    case, created = create_case(actor, channel=Channel.WINDOW, description="垃圾堆放", address=address)
    assert created
    return case


# --- normalise ---------------------------------------------------------------------------
def test_normalise_drops_prefixes_punctuation_and_trailing_words():
    assert normalise("山东省济南市天桥区南村街道 阳光花园，3号楼 门口") == "阳光花园3号楼"
    assert normalise("济南市 阳光花园附近") == "阳光花园"


def test_normalise_keeps_names_that_only_look_like_prefixes():
    assert normalise("新市场小区") == "新市场小区"
    assert normalise("阳光花园小区") == "阳光花园小区"


def test_normalise_drops_known_region_names():
    assert normalise("天桥区南村街道阳光花园", admin_names=["天桥区", "南村街道"]) == "阳光花园"


@given(st.text(max_size=60))
def test_any_text_normalises(text):
    assert isinstance(normalise(text), str)


@given(st.integers(min_value=0, max_value=10**9))
def test_full_width_digits_equal_half_width(number):
    digits = str(number)
    full = "".join(chr(ord(ch) + 0xFEE0) for ch in digits)
    assert normalise(f"阳光花园{full}号楼") == normalise(f"阳光花园{digits}号楼")


# --- matching ----------------------------------------------------------------------------
def test_longest_place_name_wins(places):
    match = match_address("阳光花园超市门口")
    assert match.place == places["shop"] and match.grid_id == places["shop"].grid_id
    assert 0 < match.score <= 1


def test_place_without_point_uses_its_grids_representative_point(places, region_tree):
    match = match_address("阳光花园超市")
    assert 117.01 < match.lon < 117.02 and 36.68 < match.lat < 36.70  # inside grid12


def test_same_name_in_two_grids_places_nothing_unless_the_community_is_named(places, region_tree):
    Place.objects.create(name="幸福家园", grid=region_tree["grid11"])
    twin = Place.objects.create(name="幸福家园", grid=region_tree["grid21"])
    assert match_address("幸福家园3号楼") is None
    assert match_address("西区社区幸福家园3号楼").place == twin


def test_cache_refreshes_after_a_new_place(places, region_tree):
    assert match_address("康乐新村5号楼") is None
    new = Place.objects.create(name="康乐新村", grid=region_tree["grid22"])
    assert match_address("康乐新村5号楼").place == new
    new.delete()
    assert match_address("康乐新村5号楼") is None


# --- case creation -----------------------------------------------------------------------
def test_place_match_places_the_case(clerk, places, region_tree):
    case = report(clerk, "天桥区南村街道阳光花园3号楼")
    assert case.grid_id == region_tree["grid11"].pk and case.region_code == region_tree["grid11"].code
    assert (case.lon, case.lat) == (117.005, 36.69) and case.h3_cell
    assert not case.needs_placement


def test_alias_match_places_the_case(clerk, places, region_tree):
    case = report(clerk, "阳光小区东门")
    assert case.grid_id == region_tree["grid11"].pk and not case.needs_placement


def test_community_fallback_files_under_the_community_and_flags_placement(clerk, places, region_tree):
    case = report(clerk, "象霞12号院")  # 象霞社区 without 社区; no place named
    assert case.grid_id is None and case.needs_placement
    assert case.region_code == region_tree["community1"].code and case.lon is None


def test_no_match_keeps_the_fallback_region(clerk, places):
    case = report(clerk, "不知名的地方")
    assert case.grid_id is None and case.needs_placement and case.region_code == "370105001"  # the clerk's scope


def test_place_in_another_community_is_out_of_scope_for_a_grid_inspector(make_user, places, region_tree):
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"])
    with pytest.raises(Forbidden) as caught:
        report(inspector, "西区路18号")
    assert caught.value.code == "out_of_scope"
    assert not Case.objects.exists()


def test_community_match_outside_scope_is_filed_in_the_actors_scope(make_user, places, region_tree):
    inspector = make_user([Role.GRID_INSPECTOR], scope=region_tree["grid11"])
    case = report(inspector, "西区社区12号")
    assert case.needs_placement and case.region_code == region_tree["grid11"].code


# --- import ------------------------------------------------------------------------------
def workbook(rows):
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def admin(make_user):
    return make_user([Role.SYSADMIN])


def test_import_creates_and_updates_places(admin, region_tree):
    data = workbook([
        ["锦绣苑", "小区", "锦绣小区、锦绣苑北区", region_tree["grid11"].code, 117.004, 36.69],
        ["泉城路", "道路", "", region_tree["grid21"].code, None, None],
    ])
    assert import_places(admin, xlsx_table(data)) == (2, 0)
    estate = Place.objects.get(name="锦绣苑")
    assert estate.kind == "estate" and estate.aliases == ["锦绣小区", "锦绣苑北区"] and estate.key == "锦绣苑"
    assert match_address("锦绣苑北区2号楼").place == estate
    assert import_places(admin, xlsx_table(data)) == (0, 2)


def test_import_is_all_or_nothing_with_row_errors(admin, region_tree):
    data = workbook([
        ["锦绣苑", "小区", "", region_tree["grid11"].code, 117.004, 36.69],
        ["", "飞船", "", "999", "东经", 36.69],
    ])
    with pytest.raises(ValidationFailed) as caught:
        import_places(admin, xlsx_table(data))
    assert caught.value.code == "import_failed"
    [(row, problems)] = caught.value.fields.items()
    assert "3" in str(row)
    assert {re.split("[:：]", p)[0] for p in map(str, problems)} == {"名称", "类型", "网格编码", "经度/纬度"}
    assert not Place.objects.exists()


def test_import_needs_a_sysadmin(make_user, region_tree):
    clerk = make_user([Role.INTAKE_CLERK], scope=region_tree["subdistrict"])
    with pytest.raises(Forbidden):
        import_places(clerk, [HEADER, ["锦绣苑", "小区", "", region_tree["grid11"].code, "", ""]])


def test_import_command_reports_errors_and_writes_nothing(admin, region_tree, tmp_path):
    path = tmp_path / "places.xlsx"
    path.write_bytes(workbook([["锦绣苑", "小区", "", "000", "", ""]]))
    with pytest.raises(CommandError, match="网格编码"):
        call_command("import-places", str(path))
    assert not Place.objects.exists()
    path.write_bytes(workbook([["锦绣苑", "小区", "", region_tree["grid11"].code, "", ""]]))
    out = io.StringIO()
    call_command("import-places", str(path), stdout=out)
    assert "created: 1" in out.getvalue() and Place.objects.get().grid == region_tree["grid11"]


def test_demo_places_one_estate_place_in_the_grid_of_its_centre(region_tree):
    from types import SimpleNamespace

    from gridgov.demo.estates import seed_demo_places
    from gridgov.geo.models import Estate

    Estate.objects.create(name="翠竹园", community=region_tree["community2"], centre_lon=117.035, centre_lat=36.69)
    geography = SimpleNamespace(communities=[region_tree["community2"]])
    assert seed_demo_places(geography) == 1
    assert seed_demo_places(geography) == 0  # idempotent
    place = Place.objects.get()
    assert place.kind == PlaceKind.ESTATE and place.grid == region_tree["grid22"]
    assert match_address("翠竹园3号楼").grid_id == region_tree["grid22"].pk
