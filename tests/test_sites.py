"""Sites files as planners hold them (issue #19 points 1, 2, 5): Chinese column names, a field
mapping, CSV and Excel with coordinates or WKT, GBK text, and the CRS a file without one fits.

The verdicts of renamed or reformatted sites are compared with those of the bundled sites read
as they are: the same sites must get the same verdicts whatever the file calls its columns.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import redline
from redline import datasets, read_sites, schema
from redline.errors import (
    ArgumentError,
    CRSError,
    IllustrativeDataWarning,
    LayerError,
    RedlineWarning,
)
from redline.io import write_layer
from redline.rules import canonical_project_type
from redline.sites import canonical_site_fields, manifest_fields, parse_fields

CHINESE = {"site_id": "项目编号", "name": "项目名称", "project_type": "项目类型"}


@pytest.fixture(scope="module")
def sample() -> gpd.GeoDataFrame:
    return read_sites(datasets.get_path("sites")).iloc[15:45]  # 14 verdicts depend on the type


@pytest.fixture(scope="module")
def expected(sample) -> pd.Series:
    """Verdicts of the sample sites under their canonical column names, by site id."""
    return redline.screen(sample).sites.set_index("site_id")["verdict"]


def verdicts(sites: gpd.GeoDataFrame) -> pd.Series:
    return redline.screen(sites).sites.set_index("site_id")["verdict"]


def test_chinese_column_names_keep_the_verdicts(tmp_path, sample, expected):
    path = tmp_path / "项目.gpkg"
    write_layer(sample.rename(columns=CHINESE), path)
    sites = read_sites(path)
    assert list(sites.columns[:3]) == ["site_id", "name", "project_type"]
    assert sites.attrs["redline"]["site_fields"] == CHINESE
    pd.testing.assert_series_equal(verdicts(sites), expected)
    # a frame read by other means: screen() understands the same names
    pd.testing.assert_series_equal(verdicts(sample.rename(columns=CHINESE)), expected)
    # the sample has types that matter: read as general construction, verdicts would change
    untyped = verdicts(sample.drop(columns="project_type"))
    assert (untyped != expected).sum() >= 10  # 14 with the ruleset of issue #13


@pytest.mark.parametrize(("column", "alias"), [
    ("site_id", "编号"), ("site_id", "ID"), ("name", "名称"), ("project_type", "类型"),
    ("project_type", "用途"), ("project_type", "project_ty"),
])
def test_built_in_aliases(sample, column, alias):
    renamed = canonical_site_fields(sample.rename(columns={column: alias}))
    assert renamed[column].tolist() == sample[column].tolist()


def test_field_mapping_and_its_errors(tmp_path, sample, expected):
    own = sample.rename(columns={"site_id": "编码", "project_type": "建设类型"})
    path = tmp_path / "own.gpkg"
    write_layer(own, path)
    with pytest.warns(RedlineWarning, match=r"no site_id column .* among the columns \['编码'"):
        unmapped = read_sites(path)
    assert unmapped.attrs["redline"].get("site_fields", {}).get("site_id") is None
    fields = parse_fields("site_id=编码, project_type=建设类型")
    sites = read_sites(path, fields=fields)
    pd.testing.assert_series_equal(verdicts(sites), expected)
    with pytest.raises(LayerError, match=r"columns the file does not have: \['编号X'\]"):
        read_sites(path, fields={"site_id": "编号X"})
    with pytest.raises(LayerError, match=r"unknown site fields \['id'\]; the site fields are"):
        parse_fields("id=编码")
    with pytest.raises(LayerError, match="is not field=column"):
        parse_fields("site_id")
    # a given mapping wins over a column that already has the canonical name
    both = canonical_site_fields(sample.assign(编码="X-" + sample["site_id"]),
                                 {"site_id": "编码"})
    assert both["site_id"].iloc[0] == "X-JL-0016" and "site_id_original" in both


def test_manifest_site_fields(tmp_path):
    path = tmp_path / "manifest.toml"
    path.write_text('[planning]\nname = "x"\n[sites.fields]\nsite_id = "编码"\n'
                    'project_type = "建设类型"\n', encoding="utf-8")
    assert manifest_fields(path) == {"site_id": "编码", "project_type": "建设类型"}
    path.write_text('[sites.fields]\nkind = "类别"\n', encoding="utf-8")
    with pytest.raises(LayerError, match=r"\[sites.fields\]: unknown site fields \['kind'\]"):
        manifest_fields(path)


def test_no_type_column_warns_naming_the_columns(tmp_path, sample):
    path = tmp_path / "untyped.gpkg"
    write_layer(sample.drop(columns="project_type").rename(columns={"name": "地名"}), path)
    with pytest.warns(RedlineWarning, match=r"no project_type column .* \['site_id', '地名', "
                      r"'县市', 'note'\]: every site is screened as general construction"):
        read_sites(path)


def lonlat_table(sample: gpd.GeoDataFrame) -> pd.DataFrame:
    centres = sample.to_crs(4530).centroid.to_crs(4490)
    return pd.DataFrame({"项目编号": sample["site_id"], "项目名称": sample["name"],
                         "项目类型": sample["project_type"], "经度": centres.x.round(7),
                         "纬度": centres.y.round(7)}).reset_index(drop=True)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_csv_lon_lat_in_any_chinese_encoding(tmp_path, sample, encoding):
    path = tmp_path / "sites.csv"
    lonlat_table(sample).to_csv(path, index=False, encoding=encoding)
    sites = read_sites(path, crs="EPSG:4490")
    assert sites.attrs["redline"]["encoding"] == ("GB18030" if encoding.startswith("gb")
                                                  else "UTF-8")
    assert sites["site_id"].tolist() == sample["site_id"].tolist()
    assert sites.geom_type.eq("Point").all()
    assert np.allclose(sites.geometry.x, lonlat_table(sample)["经度"], atol=1e-9)
    assert redline.screen(sites).sites["verdict"].notna().all()


def test_csv_without_crs_names_the_one_it_fits(tmp_path, sample):
    path = tmp_path / "sites.csv"
    lonlat_table(sample).to_csv(path, index=False)
    with pytest.raises(CRSError, match=r"longitude/latitude in China .* --crs EPSG:4490 on the "
                       r"command line \(crs='EPSG:4490' in Python\)"):
        read_sites(path)
    gk = sample.to_crs(4530)
    table = pd.DataFrame({"编号": gk["site_id"], "x": gk.centroid.x, "y": gk.centroid.y})
    table.to_csv(path, index=False)
    with pytest.raises(CRSError, match=r"zone prefix 42: EPSG:4530 .* --crs EPSG:4530"):
        read_sites(path)
    with pytest.warns(RedlineWarning, match="no project_type column"):
        assert read_sites(path, crs="EPSG:4530").crs.to_epsg() == 4530


def test_shapefile_without_crs_names_the_gauss_kruger_zone(tmp_path, sample):
    path = tmp_path / "gk.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        polygons = sample[sample.geom_type == "Polygon"]
        polygons.to_crs(4530).set_crs(None, allow_override=True).to_file(path)
    with pytest.raises(CRSError, match=r"no coordinate reference system .* EPSG:4530 \(CGCS2000 "
                       r"zone 42, with prefix\)\. Pass --crs EPSG:4530"):
        read_sites(path)


@pytest.mark.parametrize("name", ["WKT", "geometry_wkt", "Geometry", "the_geom"])
def test_wkt_column_under_any_usual_name(tmp_path, sample, expected, name):
    path = tmp_path / "sites.csv"
    table = pd.DataFrame(sample.drop(columns="geometry"))
    table[name] = sample.geometry.to_wkt()
    table.to_csv(path, index=False)
    sites = read_sites(path, crs=4490)
    pd.testing.assert_series_equal(verdicts(sites), expected)


def test_classify_output_csv_reads_back(tmp_path, sample):
    out = tmp_path / "classified.csv"
    write_layer(redline.classify(sample), out)  # geometry in column geometry_wkt
    back = read_sites(out, crs=4490)
    assert len(back) == len(sample)
    assert back.to_crs(4530).area.tolist() == pytest.approx(sample.to_crs(4530).area.tolist(),
                                                            rel=1e-12)  # every digit kept


def test_bad_table_rows_name_the_line(tmp_path):
    path = tmp_path / "sites.csv"
    path.write_text("编号,经度,纬度\nA,125.3,43.8\nB,125.3E,43.8\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"sites.csv, line 3: column '经度' holds '125.3E', not "
                       "a number"):
        read_sites(path, crs=4490)
    path.write_text("编号,WKT\nA,POLYGON ((1 2, 3\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"line 2: column 'WKT' holds .* which is not WKT"):
        read_sites(path, crs=4490)
    path.write_text("编号,名称\nA,甲\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"no geometry: the table needs a WKT column"):
        read_sites(path, crs=4490)
    path.write_bytes(b"\x81\x30\xff\xfe,\n")
    with pytest.raises(LayerError, match="neither UTF-8 nor GBK/GB18030"):
        read_sites(path, crs=4490)


def test_blank_coordinates_are_not_assessed(tmp_path, sample):
    path = tmp_path / "sites.csv"
    table = lonlat_table(sample.head(3))
    table.loc[1, ["经度", "纬度"]] = np.nan
    table.to_csv(path, index=False)
    result = redline.screen(read_sites(path, crs=4490)).sites
    assert result["verdict"].tolist()[1] == "not_assessed"
    assert result["not_assessed_reason"].tolist()[1] == "null geometry"


def test_excel_sites(tmp_path, sample, expected):
    path = tmp_path / "sites.xlsx"
    table = lonlat_table(sample)
    table.to_excel(path, index=False, sheet_name="项目")
    sites = read_sites(path, crs="EPSG:4490")
    assert sites["site_id"].tolist() == sample["site_id"].tolist()
    assert sites.attrs["redline"]["driver"] == "XLSX"
    wkt = pd.DataFrame(sample.drop(columns="geometry")).assign(WKT=sample.geometry.to_wkt())
    with pd.ExcelWriter(path) as book:
        wkt.to_excel(book, index=False, sheet_name="sites")
        table.to_excel(book, index=False, sheet_name="notes")
    with pytest.raises(LayerError, match=r"2 sheets \(sites, notes\); choose one with --layer"):
        read_sites(path, crs=4490)
    pd.testing.assert_series_equal(verdicts(read_sites(path, crs=4490, layer="sites")), expected)


def test_the_bundled_sample_warns_that_it_is_illustrative(sample):
    with pytest.warns(IllustrativeDataWarning, match="illustrative sample, not official data"):
        planning = redline.load_planning()
    assert planning.illustrative
    with pytest.warns(IllustrativeDataWarning):
        redline.screen(sample.head(1))  # no planning given: the sample, with the warning
    assert issubclass(IllustrativeDataWarning, RedlineWarning)


def test_outputs_name_the_one_map_and_ruleset(tmp_path, sample):
    import pyogrio

    planning = redline.load_planning()
    paths = redline.screen(sample.head(3), planning).to_file(tmp_path / "run")
    summary = pd.read_csv(paths["summary"], encoding="utf-8-sig")
    assert set(summary["planning"]) == {planning.name}
    assert set(summary["ruleset"]) == {"jilin 2.0"} and set(summary["illustrative"]) == {"yes"}
    for layer in ("sites", "findings"):
        meta = pyogrio.read_info(paths["geopackage"], layer=layer)["layer_metadata"]
        assert meta == {"planning": planning.name, "illustrative": "yes", "ruleset": "jilin 2.0"}


def test_chinese_project_type_spellings():
    assert canonical_project_type("商住") == "commercial"
    assert canonical_project_type("高速公路") == "linear_infrastructure"
    assert canonical_project_type("砂石料场") == "mining"
    with pytest.raises(ArgumentError, match="residential 住宅, industrial 工业, commercial 商业"):
        canonical_project_type("火星基地")
    assert schema.site_column(["项目类型", "用途"], "project_type") == "项目类型"


def test_shapes_in_gauss_kruger_metres_land_where_lon_lat_do(sample):
    """The CRS a file without one fits is the one that puts it back where it was."""
    gk = sample.to_crs(4530)
    code, _ = redline.crs.guess_crs(tuple(gk.total_bounds))
    back = gk.set_crs(None, allow_override=True).set_crs(code).to_crs(4490)
    assert shapely.equals_exact(back.geometry.values, sample.geometry.values, 1e-7).all()


def test_python_no_crs_message_guesses_too(sample):
    gk = sample.to_crs(4530).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"zone prefix 42: EPSG:4530 .*Pass crs='EPSG:4530'"):
        redline.screen(gk)
