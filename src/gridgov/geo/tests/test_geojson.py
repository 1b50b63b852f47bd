"""Import (all or nothing) and export of regions as GeoJSON."""

import json

import pytest
from django.utils import translation
from django.core.management import CommandError, call_command

from gridgov.conftest import square
from gridgov.geo.geojson import ImportFailed, feature_collection, import_regions, load_feature_collection
from gridgov.geo.locator import locate
from gridgov.geo.models import Region


def feature(code, name, geometry, **properties):
    return {"type": "Feature", "geometry": geometry, "properties": {"code": code, "name": name, **properties}}


def city_features():
    """District → subdistrict → community → two grids, listed children first on purpose."""
    return [
        feature("370105001001002", "二网格", square(117.01, 36.68, 0.01), grid_type="dedicated", households=120),
        feature("370105001001001", "一网格", square(117.00, 36.68, 0.01), grid_type="basic", households=300),
        feature("370105001001", "象霞社区", square(117.00, 36.68, 0.02)),
        feature("370105001", "南村街道", square(116.99, 36.67, 0.06), level="subdistrict", parent_code="370105"),
        feature("370105", "天桥区", None),
    ]


def write(tmp_path, features):
    path = tmp_path / "regions.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False), encoding="utf-8")
    return path


def test_import_good_file(db, tmp_path, capsys):
    call_command("import-regions", str(write(tmp_path, city_features())), "--no-progress")
    assert "5 created, 0 updated" in capsys.readouterr().out
    grid = Region.objects.get(code="370105001001002")
    assert (grid.level, grid.parent.code, grid.grid_type, grid.households) == ("grid", "370105001001", "dedicated", 120)
    assert grid.area_m2 > 0
    assert Region.objects.get(code="370105").parent is None
    assert locate(117.015, 36.69).grid_id == grid.pk


def test_import_updates_existing_codes(db):
    import_regions(city_features())
    features = city_features()
    features[0]["properties"]["name"] = "改名"
    result = import_regions(features)
    assert (result.created, result.updated) == (0, 5)
    assert Region.objects.get(code="370105001001002").name == "改名"


def test_bad_file_leaves_nothing_written(db, tmp_path, capsys):
    features = city_features()
    features[1]["properties"]["grid_type"] = ""  # grid without a type
    features[0]["geometry"] = square(117.015, 36.68, 0.01)  # sticks out of the community
    features.append(feature("37010500100100X", "坏编码", square(117.0, 36.69, 0.001)))
    with pytest.raises(CommandError, match="3 feature"):
        call_command("import-regions", str(write(tmp_path, features)), "--no-progress")
    report = capsys.readouterr().err
    assert "#0 (370105001001002) boundary:" in report
    assert "#1 (370105001001001) grid_type:" in report
    assert "#5 (37010500100100X) code:" in report
    assert Region.objects.count() == 0


def test_failed_update_rolls_back_earlier_features(db):
    import_regions(city_features())
    features = city_features()
    features[4]["properties"]["name"] = "新名字"  # a good change...
    features[1]["geometry"] = square(117.005, 36.68, 0.01)  # ...and an overlap with grid 002
    with pytest.raises(ImportFailed) as info:
        import_regions(features)
    assert [error.code for error in info.value.errors] == ["370105001001001"]
    assert "370105001001002" in str(info.value.errors[0])
    assert Region.objects.get(code="370105").name == "天桥区"


def test_duplicate_code_in_file(db):
    features = city_features()
    features.append(feature("370105001001001", "again", square(117.0, 36.68, 0.01), grid_type="basic"))
    with pytest.raises(ImportFailed) as info:
        import_regions(features)
    assert info.value.errors[0].index == 5
    assert "#1" in info.value.errors[0].fields["code"][0]


@pytest.mark.parametrize(
    "text,message",
    [("{", "Not valid JSON"), ('{"type": "Feature"}', "FeatureCollection")],
)
def test_not_a_feature_collection(db, tmp_path, text, message):
    path = tmp_path / "bad.geojson"
    path.write_text(text)
    with translation.override("en"), pytest.raises(CommandError, match=message):
        call_command("import-regions", str(path), "--no-progress")


def test_feature_without_code(db):
    with pytest.raises(ImportFailed) as info:
        import_regions([{"type": "Feature", "geometry": None, "properties": {"name": "x"}}, "junk"])
    assert [(e.index, list(e.fields)) for e in info.value.errors] == [(0, ["code"]), (1, ["feature"])]


def test_export_round_trip(db):
    import_regions(city_features())
    exported = feature_collection(Region.objects.order_by("code"))
    assert [f["properties"]["code"] for f in exported["features"]][:2] == ["370105", "370105001"]
    grid = exported["features"][-1]
    assert grid["properties"]["parent_code"] == "370105001001"
    assert grid["geometry"]["type"] == "Polygon"
    # Importing the export changes nothing but counts every row as updated.
    result = import_regions(load_feature_collection(json.dumps(exported)))
    assert (result.created, result.updated) == (0, 5)
