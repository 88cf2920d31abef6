"""Tests for redline.planning: the one map built from GeoDataFrames and from a TOML manifest.

Answers are known by hand (areas of boxes in the working CRS, repaired areas from the table in
shared/bad-inputs.md) or come from an independent oracle (a pyproj Transformer with
``always_xy=True``, geodesic areas from pyproj.Geod). Every fixture file is written in tmp_path.
"""

from __future__ import annotations

import copy
import pickle
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import CRS, Geod, Transformer

from redline import schema
from redline.crs import WORKING_CRS
from redline.datasets import get_path
from redline.errors import CRSError, GeometryError, LayerError, RedlineWarning
from redline.geometry import REPAIR_COLUMNS
from redline.planning import Planning, canonicalize, load_planning

#: Three lon/lat boxes in Jilin (Changchun, the working CRS's centre, Changbai foothills).
LONLAT_BOXES = (
    shapely.box(125.20, 43.80, 125.30, 43.90),
    shapely.box(126.50, 43.50, 126.62, 43.55),
    shapely.box(128.00, 42.00, 128.05, 42.10),
)
GK_EPSG = 4551  # CGCS2000 3° Gauss-Krüger, central meridian 126°E, no zone prefix
TO_WORKING = Transformer.from_crs(4490, WORKING_CRS, always_xy=True)

#: A manifest mapping Chinese field names; "城镇发展区" and "生态功能区" are not built-in aliases.
CHINESE_MANIFEST = """
[planning]
name = "测试一张图"

[layers.zoning]
path = "zoning.shp"

[layers.zoning.fields]
feature_id = "标识码"
name = "名称"
zone = "功能区"
subtype = "类型"

[layers.zoning.values.zone]
"城镇发展区" = "key"

[layers.zoning.values.subtype]
"生态功能区" = "ecological"

[layers.reserves]
path = "reserves.shp"

[layers.reserves.fields]
feature_id = "标识码"
name = "名称"
zone = "功能区"
level = "级别"

[layers.reserves.values.level]
"国家级" = "national"
"""


def transformed(geom: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
    """``geom`` with every vertex transformed by ``transformer`` (the oracle for to_crs)."""
    return shapely.transform(
        geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def zoning_layer(
    geoms: list[shapely.Geometry] | tuple[shapely.Geometry, ...] = LONLAT_BOXES,
    *,
    crs: object = 4490,
    ids: list[object] | None = None,
) -> gpd.GeoDataFrame:
    """A zoning layer in the canonical schema with Chinese values, one feature per geometry."""
    n = len(geoms)
    zones = ["重点开发区域", "限制开发区域", "禁止开发区域"]
    subtypes = ["城市化地区", "重点生态功能区", None]
    return gpd.GeoDataFrame(
        {
            "feature_id": ids if ids is not None else [f"Z{i + 1}" for i in range(n)],
            "name": [f"区块{i + 1}" for i in range(n)],
            "zone": [zones[i % 3] for i in range(n)],
            "subtype": [subtypes[i % 3] for i in range(n)],
        },
        geometry=list(geoms),
        crs=crs,
    )


def write_manifest(folder: Path, text: str) -> Path:
    path = folder / "manifest.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sample() -> Planning:
    return load_planning()


# --- the bundled sample ---------------------------------------------------------------------


def test_sample_has_every_kind_in_the_working_crs(sample: Planning) -> None:
    assert sample.kinds == (*schema.VECTOR_KINDS, *schema.RASTER_KINDS)
    assert set(sample.rasters) == set(schema.RASTER_KINDS)
    assert sample.crs == WORKING_CRS
    for kind in schema.VECTOR_KINDS:
        layer = sample[kind]
        assert len(layer) > 0, kind
        assert layer.crs == sample.crs, kind
        assert list(layer.columns) == [*schema.LAYER_SPECS[kind].fields, "geometry"], kind
        assert layer["feature_id"].is_unique, kind
        assert not (layer.geometry.is_empty | layer.geometry.isna()).any(), kind
        assert layer.geometry.is_valid.all(), kind


def test_sample_values_are_canonical(sample: Planning) -> None:
    for kind, spec in schema.LAYER_SPECS.items():
        for field_name, allowed in spec.required.items():
            assert set(sample[kind][field_name]) <= set(allowed), (kind, field_name)
    assert set(sample["zoning"]["zone"]) == set(schema.ZONES) - {"optimized"}
    subtypes = set(sample["zoning"]["subtype"].dropna())
    assert subtypes == set(schema.VALUE_ALIASES[("zoning", "subtype")].values())
    # optional fields mapped by the manifest's own value tables hold only the mapped values
    manifest = tomllib.loads(get_path("manifest").read_text(encoding="utf-8"))
    for kind, entry in manifest["layers"].items():
        for field_name, table in entry.get("values", {}).items():
            assert set(sample[kind][field_name].dropna()) <= set(table.values()), kind


# --- built from GeoDataFrames: reprojection --------------------------------------------------


def boxes_in(epsg: int) -> gpd.GeoDataFrame:
    """The LONLAT_BOXES in ``epsg``; projected CRSs get the vertices transformed by pyproj."""
    if CRS.from_epsg(epsg).is_geographic:
        return zoning_layer(crs=epsg)
    to_gk = Transformer.from_crs(4490, epsg, always_xy=True)
    return zoning_layer([transformed(b, to_gk) for b in LONLAT_BOXES], crs=epsg)


@pytest.mark.parametrize("epsg", [4490, 4326, GK_EPSG])
def test_same_boxes_in_any_crs_give_the_same_areas(epsg: int) -> None:
    planning = Planning(zoning=boxes_in(epsg), crs=WORKING_CRS)
    layer = planning["zoning"]
    assert layer.crs == WORKING_CRS
    expected = np.array([transformed(b, TO_WORKING).area for b in LONLAT_BOXES])
    np.testing.assert_allclose(layer.area.to_numpy(), expected, rtol=1e-6)
    # the working CRS is equal-area: the geodesic area of each box agrees to 0.01 %
    geod = Geod(ellps="GRS80")
    geodesic = [abs(geod.geometry_area_perimeter(b)[0]) for b in LONLAT_BOXES]
    np.testing.assert_allclose(layer.area.to_numpy(), geodesic, rtol=1e-4)


@pytest.mark.parametrize("epsg", [4490, GK_EPSG])
def test_vertices_match_pyproj(epsg: int) -> None:
    layer = Planning(zoning=boxes_in(epsg), crs=WORKING_CRS)["zoning"]
    for box, geom in zip(LONLAT_BOXES, layer.geometry, strict=True):
        lon, lat = np.asarray(box.exterior.coords).T
        x, y = TO_WORKING.transform(lon, lat)
        np.testing.assert_allclose(
            np.asarray(geom.exterior.coords), np.column_stack([x, y]), rtol=0, atol=1e-3
        )


def test_working_crs_override() -> None:
    planning = Planning(zoning=zoning_layer(), crs=f"EPSG:{GK_EPSG}")
    assert planning.crs.to_epsg() == GK_EPSG and planning["zoning"].crs.to_epsg() == GK_EPSG
    to_gk = Transformer.from_crs(4490, GK_EPSG, always_xy=True)
    lon, lat = np.asarray(LONLAT_BOXES[0].exterior.coords).T
    np.testing.assert_allclose(
        np.asarray(planning["zoning"].geometry[0].exterior.coords),
        np.column_stack(to_gk.transform(lon, lat)),
        rtol=0,
        atol=1e-6,
    )


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:2264"])  # degrees; US survey feet
def test_working_crs_must_be_projected_metres(crs: str) -> None:
    with pytest.raises(CRSError, match="must be projected with metre units"):
        Planning(zoning=zoning_layer(), crs=crs)


def test_manifest_working_crs_and_override(tmp_path: Path) -> None:
    zoning_layer().to_file(tmp_path / "zoning.gpkg")
    manifest = write_manifest(
        tmp_path, '[planning]\ncrs = "EPSG:4551"\n[layers.zoning]\npath = "zoning.gpkg"\n'
    )
    assert load_planning(manifest).crs.to_epsg() == GK_EPSG
    assert load_planning(manifest, crs=WORKING_CRS).crs == WORKING_CRS
    with pytest.raises(CRSError, match="projected"):
        load_planning(manifest, crs="EPSG:4326")


def test_no_crs() -> None:
    with pytest.raises(CRSError, match=r"zoning .*no coordinate reference system"):
        Planning(zoning=zoning_layer(crs=None))


def test_coordinates_outside_the_region_name_the_features() -> None:
    beijing = shapely.box(116.3, 39.9, 116.4, 40.0)
    europe = shapely.box(10.3, 49.9, 10.4, 50.0)
    boundary = gpd.GeoDataFrame(geometry=[shapely.union_all(LONLAT_BOXES)], crs=4490)
    with pytest.raises(CRSError, match=r"1 of 3 features fall outside China .*features Z2\b"):
        Planning(zoning=zoning_layer([LONLAT_BOXES[0], europe, LONLAT_BOXES[2]]))
    with pytest.raises(CRSError, match=r"3 of 3 features fall outside the planning region "
                                       r"\(lon .*features Z1, Z2, Z3\b"):
        Planning(zoning=zoning_layer([beijing] * 3), boundary=boundary)
    # a feature elsewhere in China, beside features in the region, is kept (a provincial layer)
    kept = Planning(zoning=zoning_layer([LONLAT_BOXES[0], beijing, LONLAT_BOXES[2]]),
                    boundary=boundary)
    assert len(kept["zoning"]) == 3


def test_swapped_axes_are_diagnosed() -> None:
    swapped = [shapely.transform(b, lambda xy: xy[:, ::-1]) for b in LONLAT_BOXES]
    with pytest.raises(CRSError, match="latitude and longitude look swapped"):
        Planning(zoning=zoning_layer(swapped))


def test_gauss_kruger_zone_prefix_is_diagnosed() -> None:
    # eastings with the zone prefix 42 (EPSG:4530) declared as the prefix-less EPSG:4551
    to_prefixed = Transformer.from_crs(4490, 4530, always_xy=True)
    prefixed = zoning_layer([transformed(b, to_prefixed) for b in LONLAT_BOXES], crs=GK_EPSG)
    with pytest.raises(CRSError, match=r"zone prefix.*EPSG:4530"):
        Planning(zoning=prefixed)


# --- canonical schema: fields, values, ids --------------------------------------------------


def test_chinese_values_and_generated_ids() -> None:
    gdf = zoning_layer().drop(columns=["feature_id", "name"])
    layer = Planning(zoning=gdf)["zoning"]
    assert list(layer.columns) == ["feature_id", "name", "zone", "subtype", "geometry"]
    assert layer["feature_id"].tolist() == ["zoning-0", "zoning-1", "zoning-2"]
    assert layer["zone"].tolist() == ["key", "restricted", "prohibited"]
    assert layer["subtype"].tolist()[:2] == ["urban", "ecological"]
    assert pd.isna(layer["subtype"].iloc[2])


def test_missing_ids_of_some_features_are_generated() -> None:
    layer = Planning(zoning=zoning_layer(ids=["A", None, ""]))["zoning"]
    assert layer["feature_id"].tolist() == ["A", "zoning-1", "zoning-2"]


def test_duplicate_feature_ids() -> None:
    with pytest.raises(LayerError, match=r"zoning .*feature ids are not unique: \['Z1'\]"):
        Planning(zoning=zoning_layer(ids=["Z1", "Z2", "Z1"]))


def test_problems_of_all_layers_in_one_error() -> None:
    zoning = zoning_layer().drop(columns="zone")
    reserves = zoning_layer().drop(columns="zone").assign(zone=["核心区", "外围带", "缓冲区"])
    rivers = gpd.GeoDataFrame(
        geometry=[shapely.LineString([(125.2, 43.8), (125.3, 43.9)])], crs=4490
    )
    with pytest.raises(LayerError) as caught:
        Planning(zoning=zoning, reserves=reserves, rivers=rivers)
    message = str(caught.value)
    assert message.count("\n  - ") == 3
    assert "zoning (zoning): field 'zone' for 'zone' is missing" in message
    assert "reserves (reserves): field 'zone' (zone) has 1 features" in message
    assert "['外围带']" in message and "'core', 'buffer'" in message
    assert "[layers.reserves.values.zone]" in message
    assert "rivers (rivers): field 'corridor' for 'corridor' is missing" in message
    assert '[layers.rivers.fields] corridor = "<field>"' in message


def test_unknown_subtype_is_refused() -> None:
    # zoning.subtype has a closed vocabulary (the built-in aliases): rules select on it
    gdf = zoning_layer().assign(subtype=["城市化地区", "城镇", None])
    with pytest.raises(LayerError, match=r"'subtype' \(subtype\) has 1 features .*\['城镇'\]"):
        Planning(zoning=gdf)


def test_canonicalize_refuses_non_canonical_mapping_targets() -> None:
    _, problems = canonicalize(
        zoning_layer(),
        "zoning",
        source="z.shp",
        values={"zone": {"重点开发区域": "urban"}, "zones": {"a": "key"}},
    )
    assert len(problems) == 3
    assert "value tables for unknown canonical fields ['zones']" in problems[0]
    assert (
        "[layers.zoning.values.zone] maps onto values that are not canonical: "
        "{'重点开发区域': 'urban'}" in problems[1]
    )
    assert "['重点开发区域']" in problems[2]  # the feature itself has no canonical value


def test_canonicalize_unknown_kind() -> None:
    gdf = zoning_layer()
    layer, problems = canonicalize(gdf, "wetlands", source="w.shp")
    assert layer is gdf and problems == [
        f"w.shp: unknown layer kind 'wetlands'; valid kinds: {', '.join(schema.VECTOR_KINDS)}"
    ]


def test_not_a_geodataframe() -> None:
    with pytest.raises(TypeError, match="zoning must be a GeoDataFrame, not DataFrame"):
        Planning(zoning=pd.DataFrame({"zone": ["key"]}))


# --- geometry checks and repairs ------------------------------------------------------------


def test_null_and_empty_geometries_are_refused() -> None:
    gdf = zoning_layer([LONLAT_BOXES[0], None, shapely.Polygon()])
    with pytest.raises(
        GeometryError,
        match=r"2 features have null or empty geometry: "
        r"\['Z2', 'Z3'\]",
    ):
        Planning(zoning=gdf)


def test_wrong_geometry_family_is_refused() -> None:
    points = zoning_layer([LONLAT_BOXES[0], shapely.Point(126.5, 43.5)])
    with pytest.raises(GeometryError, match=r"1 features hold no polygon geometry .*features Z2"):
        Planning(zoning=points)


BOWTIE = shapely.Polygon([(0, 0), (2000, 2000), (2000, 0), (0, 2000)])  # raw area 0
OVERLAPPING = shapely.MultiPolygon(
    [
        shapely.box(0, 0, 2000, 2000),  # raw 8e6, union 7e6
        shapely.box(1000, 1000, 3000, 3000),
    ]
)


def repaired_planning() -> Planning:
    gdf = zoning_layer([BOWTIE, OVERLAPPING, shapely.box(4000, 0, 5000, 1000)], crs=WORKING_CRS)
    with pytest.warns(
        RedlineWarning,
        match=r"zoning \(zoning\): repaired 2 geometries "
        r"\(make_valid, structure method\)",
    ):
        return Planning(zoning=gdf, name="测试规划")


def test_invalid_geometries_are_repaired_keeping_area() -> None:
    planning = repaired_planning()
    layer = planning["zoning"]
    assert layer.geometry.is_valid.all()
    # bow-tie: two triangles of 2000 × 1000 / 2; overlapping parts: their union
    np.testing.assert_allclose(layer.area.to_numpy(), [2e6, 7e6, 1e6], rtol=1e-12)
    assert layer.geometry[1].contains(shapely.Point(1500, 1500))  # the overlap stays inside
    repairs = planning.repairs
    assert list(repairs.columns) == list(REPAIR_COLUMNS)
    assert repairs["feature_id"].tolist() == ["Z1", "Z2"]
    assert repairs["layer"].tolist() == ["zoning", "zoning"]
    assert repairs["reason"].str.startswith("Self-intersection").all()
    np.testing.assert_allclose(repairs["area_before_m2"], [0.0, 8e6])
    np.testing.assert_allclose(repairs["area_after_m2"], [2e6, 7e6])
    assert repairs["review"].tolist() == [True, True]


def test_z_coordinates_are_dropped() -> None:
    box3d = shapely.force_3d(LONLAT_BOXES[0], 250.0)
    layer = Planning(zoning=zoning_layer([box3d]))["zoning"]
    assert not shapely.has_z(layer.geometry.values).any()


def test_no_repairs_gives_an_empty_log() -> None:
    repairs = Planning(zoning=zoning_layer()).repairs
    assert repairs.empty and list(repairs.columns) == list(REPAIR_COLUMNS)


# --- summary --------------------------------------------------------------------------------


def test_repr_lists_kinds_counts_crs_extent_repairs(sample: Planning) -> None:
    planning = repaired_planning()
    text = repr(planning)
    assert text.splitlines() == [
        "Planning '测试规划'",
        f" working CRS: {WORKING_CRS.name}",
        " extent: 0, 0 – 5000, 3000 m",
        f"  (every planning layer is in {WORKING_CRS.name}, projected in metres: worked in as "
        "it is, without reprojection)",
        "  zoning         3 features, 2 repaired",
    ]
    summary = repr(sample)
    assert "  landcover      raster" in summary and "  dem            raster" in summary
    assert f"  farmland       {len(sample['farmland'])} features" in summary


def test_repr_html_lists_kinds_counts_crs_extent_repairs() -> None:
    page = repaired_planning()._repr_html_()
    assert "<b>测试规划</b>" in page
    assert f"working CRS: {WORKING_CRS.name}" in page
    assert "extent: 0, 0 – 5000, 3000 m" in page and "repairs: 2" in page
    row = re.search(r"<tr>\s*<td>zoning</td>(.*?)</tr>", page, flags=re.S)
    assert row is not None
    assert [c.strip() for c in re.findall(r"<td>(.*?)</td>", row.group(1))] == [
        schema.LAYER_SPECS["zoning"].label_zh,
        schema.LAYER_SPECS["zoning"].label_en,
        "3",
        "2",
        "GeoDataFrame",
        "",  # encoding: none for a layer not read from a file
        "",  # note
    ]


# --- caching, pickling, inputs left alone ---------------------------------------------------


def test_prepared_is_cached_and_survives_pickling(sample: Planning) -> None:
    prepared = sample.prepared("reserves")
    assert sample.prepared("reserves") is prepared
    copy_ = pickle.loads(pickle.dumps(sample))
    assert sample.prepared("reserves") is prepared  # pickling does not clear the original
    again = copy_.prepared("reserves")
    assert again is not prepared and copy_.prepared("reserves") is again
    assert shapely.equals_exact(again.parts, prepared.parts).all()
    np.testing.assert_array_equal(again.parent, prepared.parent)
    np.testing.assert_array_equal(again.feature_ids, prepared.feature_ids)
    query = shapely.box(*sample["reserves"].total_bounds[:2], 0, 0)
    np.testing.assert_array_equal(again.tree.query(query), prepared.tree.query(query))
    assert_geodataframe_equal(copy_["reserves"], sample["reserves"])
    assert copy_.crs == sample.crs and copy_.kinds == sample.kinds
    classes = copy_.rasters["landcover"].classes
    assert isinstance(classes, MappingProxyType)
    assert dict(classes) == dict(sample.rasters["landcover"].classes)


def test_inputs_are_not_modified() -> None:
    lonlat = zoning_layer(
        [
            *LONLAT_BOXES[:2],
            shapely.Polygon([(126.0, 43.0), (126.1, 43.1), (126.1, 43.0), (126.0, 43.1)]),
        ]
    )
    lonlat.index = [30, 10, 20]
    lonlat.attrs["note"] = "mine"
    lonlat = lonlat.drop(columns="feature_id")
    before = copy.deepcopy(lonlat)
    with pytest.warns(RedlineWarning, match="repaired 1 geometries"):
        Planning(zoning=lonlat, crs=GK_EPSG)
    assert_geodataframe_equal(lonlat, before)
    assert lonlat.attrs == before.attrs and lonlat.crs == before.crs


# --- manifests ------------------------------------------------------------------------------


def chinese_zoning() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "标识码": ["ZT01", "ZT02", "ZT03"],
            "名称": ["长春核心区", "农业区", "松花湖"],
            "功能区": ["重点开发区域", "限制开发区域", "城镇发展区"],
            "类型": ["城市化地区", "生态功能区", None],
        },
        geometry=list(LONLAT_BOXES),
        crs=4490,
    )


def chinese_reserves() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "标识码": ["ZR1", "ZR2"],
            "名称": ["长白山核心区", "长白山缓冲区"],
            "功能区": ["核心区", "缓冲区"],
            "级别": ["国家级", "国家级"],
        },
        geometry=[shapely.box(128.0, 42.0, 128.05, 42.05), shapely.box(128.05, 42.0, 128.1, 42.05)],
        crs=4490,
    )


@pytest.mark.parametrize(
    ("codec", "cpg", "used", "how"),
    [
        ("UTF-8", True, "UTF-8", ".cpg"),
        ("GBK", False, "GB18030", "detected"),
    ],
)
def test_manifest_maps_chinese_fields_and_values(
    tmp_path: Path, codec: str, cpg: bool, used: str, how: str
) -> None:
    for name, gdf in (("zoning", chinese_zoning()), ("reserves", chinese_reserves())):
        gdf.to_file(tmp_path / f"{name}.shp", encoding=codec)
        if not cpg:
            (tmp_path / f"{name}.cpg").unlink()
    assert "城镇发展区" not in schema.VALUE_ALIASES[("zoning", "zone")]
    assert "生态功能区" not in schema.VALUE_ALIASES[("zoning", "subtype")]
    planning = load_planning(write_manifest(tmp_path, CHINESE_MANIFEST))
    assert planning.name == "测试一张图" and planning.kinds == ("zoning", "reserves")
    zoning = planning["zoning"]
    assert zoning["feature_id"].tolist() == ["ZT01", "ZT02", "ZT03"]
    assert zoning["name"].tolist() == ["长春核心区", "农业区", "松花湖"]
    assert zoning["zone"].tolist() == ["key", "restricted", "key"]
    assert zoning["subtype"].tolist()[:2] == ["urban", "ecological"]
    reserves = planning["reserves"]
    assert reserves[["zone", "level"]].values.tolist() == [
        ["core", "national"],
        ["buffer", "national"],
    ]
    provenance = zoning.attrs["redline"]
    assert (provenance["encoding"], provenance["encoding_source"]) == (used, how)
    assert provenance["path"] == str(tmp_path / "zoning.shp")
    assert planning.summary()["source"].tolist()[:-1] == [
        str(tmp_path / "zoning.shp"),
        str(tmp_path / "reserves.shp"),
    ]


def test_manifest_problems_in_one_error(tmp_path: Path) -> None:
    chinese_zoning().drop(columns="功能区").to_file(tmp_path / "zoning.shp")
    chinese_reserves().assign(功能区=["核心区", "外围保护带"]).to_file(tmp_path / "reserves.shp")
    chinese_reserves().to_file(tmp_path / "water.shp")
    text = CHINESE_MANIFEST + (
        '[layers.water_sources]\npath = "water.shp"\n'
        '[layers.water_sources.fields]\nfeature_id = "标识码"\n'
    )
    manifest = write_manifest(tmp_path, text)
    with pytest.raises(
        LayerError,
        match=re.escape(f"manifest {manifest}: the layers do not match the canonical schema"),
    ) as caught:
        load_planning(manifest)
    message = str(caught.value)
    assert message.count("\n  - ") == 3
    zoning, reserves, water = (
        str(tmp_path / f) for f in ("zoning.shp", "reserves.shp", "water.shp")
    )
    assert (
        f"zoning ({zoning}): field '功能区' for 'zone' is missing; fields present: "
        "['标识码', '名称', '类型']; check the field name in the manifest"
    ) in message
    assert (
        f"reserves ({reserves}): field '功能区' (zone) has 1 features with values that map "
        "to no canonical value: ['外围保护带']"
    ) in message
    assert "add them to the manifest's [layers.reserves.values.zone] table" in message
    assert (f"water_sources ({water}): field 'level' for 'level' is missing") in message
    assert 'map it in the manifest: [layers.water_sources.fields] level = "<field>"' in message


def test_manifest_unknown_kind(tmp_path: Path) -> None:
    manifest = write_manifest(
        tmp_path, '[layers.wetlands]\npath = "w.shp"\n[rasters.soil]\npath = "s.tif"\n'
    )
    with pytest.raises(
        LayerError,
        match=r"unknown layer kinds \['soil', 'wetlands'\]; vector "
        r"kinds: \['zoning'",
    ):
        load_planning(manifest)


def test_manifest_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(LayerError, match=re.escape(f"manifest {missing} does not exist")):
        load_planning(missing)


def test_manifest_invalid_toml(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, "[layers.zoning\npath = 'z.shp'\n")
    with pytest.raises(LayerError, match=re.escape(f"manifest {manifest} is not valid TOML")):
        load_planning(manifest)


def test_manifest_layer_file_missing(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, '[layers.zoning]\npath = "data/zoning.shp"\n')
    with pytest.raises(
        LayerError, match=re.escape(f"{tmp_path / 'data' / 'zoning.shp'}: no such file")
    ):
        load_planning(manifest)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("[layers.zoning]\nlayer = 'z'\n", r"\[layers.zoning\] has no 'path'"),
        ("[rasters.dem]\nclasses = {}\n", r"\[rasters.dem\] has no 'path'"),
    ],
)
def test_manifest_entry_without_path(tmp_path: Path, section: str, message: str) -> None:
    with pytest.raises(LayerError, match=message):
        load_planning(write_manifest(tmp_path, section))


# --- the same layers through every format ---------------------------------------------------

ROUND_TRIP_MANIFEST = """
[layers.zoning]
path = "zoning{ext}"
[layers.zoning.fields]
feature_id = "标识码"
name = "名称"
zone = "功能区"
subtype = "类型"
[layers.zoning.values.zone]
"城镇发展区" = "key"
[layers.zoning.values.subtype]
"生态功能区" = "ecological"

[layers.rivers]
path = "rivers{ext}"
[layers.rivers.fields]
feature_id = "标识码"
name = "名称"
corridor = "廊道"
"""


def round_trip_layers() -> dict[str, gpd.GeoDataFrame]:
    holed = shapely.Polygon(
        LONLAT_BOXES[0].exterior.coords, [shapely.box(125.22, 43.82, 125.24, 43.84).exterior.coords]
    )
    two_parts = shapely.MultiPolygon([LONLAT_BOXES[2], shapely.box(128.1, 42.0, 128.15, 42.1)])
    zoning = chinese_zoning().set_geometry([holed, LONLAT_BOXES[1], two_parts], crs=4490)
    rivers = gpd.GeoDataFrame(
        {"标识码": ["HL1", "HL2"], "名称": ["松花江", "饮马河"], "廊道": ["省级", "次级"]},
        geometry=[
            shapely.LineString([(125.0, 44.0), (125.5, 44.2), (126.0, 44.1)]),
            shapely.MultiLineString(
                [[(125.6, 43.6), (125.7, 43.9)], [(125.7, 43.9), (125.8, 44.0)]]
            ),
        ],
        crs=4490,
    )
    return {"zoning": zoning, "rivers": rivers}


@pytest.fixture(params=[".shp", ".gpkg", ".geojson"])
def format_manifest(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The round-trip layers written as ``request.param`` files, and their manifest."""
    for kind, gdf in round_trip_layers().items():
        gdf.to_file(tmp_path / f"{kind}{request.param}")
    return write_manifest(tmp_path, ROUND_TRIP_MANIFEST.format(ext=request.param))


def test_formats_give_identical_canonical_layers(format_manifest: Path) -> None:
    source = round_trip_layers()
    renames: dict[str, Callable[[gpd.GeoDataFrame], gpd.GeoDataFrame]] = {
        "zoning": lambda g: g.rename(
            columns={"标识码": "feature_id", "名称": "name", "功能区": "zone", "类型": "subtype"}
        ).replace({"zone": {"城镇发展区": "key"}, "subtype": {"生态功能区": "ecological"}}),
        "rivers": lambda g: g.rename(
            columns={"标识码": "feature_id", "名称": "name", "廊道": "corridor"}
        ),
    }
    expected = Planning(**{kind: renames[kind](gdf) for kind, gdf in source.items()},
                        crs=WORKING_CRS)
    loaded = load_planning(format_manifest, crs=WORKING_CRS)
    assert loaded.kinds == expected.kinds == ("zoning", "rivers")
    for kind in loaded.kinds:
        got, want = loaded[kind], expected[kind]
        assert got.crs == want.crs == WORKING_CRS
        pd.testing.assert_frame_equal(
            pd.DataFrame(got.drop(columns="geometry")), pd.DataFrame(want.drop(columns="geometry"))
        )
        # the same shapes (GeoPackage stores single polygons as one-part MultiPolygons)
        a, b = got.geometry.values, want.geometry.values
        assert (shapely.hausdorff_distance(a, b) < 1e-6).all(), kind
        np.testing.assert_allclose(shapely.area(a), shapely.area(b), rtol=1e-9)
        np.testing.assert_allclose(shapely.length(a), shapely.length(b), rtol=1e-9)


def test_an_empty_layer_is_refused(tmp_path):
    """A layer with no features would clear every site of it: refused, naming the layer."""
    empty = gpd.GeoDataFrame({"zone": []}, geometry=[], crs=4490)
    with pytest.raises(LayerError, match=r"zoning .*no features.*would clear every site"):
        Planning(zoning=empty)


def test_unknown_manifest_keys_are_refused(tmp_path):
    """A misspelt key (``feilds``) must not be skipped silently: its mapping would be lost."""
    layer = gpd.GeoDataFrame({"功能区": ["重点开发区域"]},
                             geometry=[shapely.box(125.2, 43.7, 125.4, 43.9)], crs=4490)
    layer.to_file(tmp_path / "zoning.gpkg")
    manifest = tmp_path / "manifest.toml"
    manifest.write_text('[layers.zoning]\npath = "zoning.gpkg"\n'
                        '[layers.zoning.feilds]\nzone = "功能区"\n', encoding="utf-8")
    with pytest.raises(LayerError, match=r"unknown keys \['feilds'\]"):
        load_planning(manifest)


def test_a_manifest_that_is_not_utf8_is_refused(tmp_path):
    manifest = tmp_path / "manifest.toml"
    manifest.write_bytes('[planning]\nname = "某县"\n'.encode("gbk"))
    with pytest.raises(LayerError, match="not UTF-8 text; re-save it as UTF-8"):
        load_planning(manifest)


def test_summary_counts_features_as_integers():
    summary = load_planning().summary().set_index("kind")
    assert summary.loc["zoning", "features"] == 34 and str(summary["features"].dtype) == "Int64"
    assert pd.isna(summary.loc["dem", "features"])
