"""The bundled sample data: readable, in CGCS2000, mapped by its manifest, internally consistent.

The manifest is read with tomllib here on purpose (not with redline's loader), so this file
checks the data against the manifest contract independently of the code that consumes it.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import rasterio
import shapely
from pyproj import CRS

from redline import datasets
from redline.crs import JILIN_LONLAT_BOUNDS, WORKING_CRS
from redline.planning import load_planning
from redline.schema import (
    GENERAL_CONSTRUCTION,
    LANDCOVER_CLASSES,
    LAYER_SPECS,
    PROJECT_TYPE_ALIASES,
    PROJECT_TYPES,
    RASTER_KINDS,
    VALUE_ALIASES,
    VECTOR_KINDS,
    canonical_value,
)

DATA = datasets.DATA_DIR
REPO = DATA.parents[1]


@pytest.fixture(scope="module")
def manifest() -> dict:
    with datasets.get_path("manifest").open("rb") as f:
        return tomllib.load(f)


@pytest.fixture(scope="module")
def layers(manifest: dict) -> dict[str, gpd.GeoDataFrame]:
    return {
        kind: gpd.read_file(DATA / spec["path"], engine="pyogrio")
        for kind, spec in manifest["layers"].items()
    }


@pytest.fixture(scope="module")
def province() -> shapely.Polygon:
    boundary = gpd.read_file(datasets.get_path("boundary")).to_crs(WORKING_CRS)
    return boundary.geometry[boundary["级别"] == "省"].iloc[0]


@pytest.fixture(scope="module")
def sites() -> gpd.GeoDataFrame:
    return gpd.read_file(datasets.get_path("sites"), layer="sites")


# ---------------------------------------------------------------------------------------------
# datasets.py


def test_get_path_short_names_and_files() -> None:
    for name in datasets.available():
        assert datasets.get_path(name).is_file()
    assert datasets.get_path("zoning") == DATA / "zoning.shp"
    assert datasets.get_path("zoning.dbf") == DATA / "zoning.dbf"
    assert set(VECTOR_KINDS) | {"manifest", "sites", "parcels", *RASTER_KINDS} <= set(
        datasets.available()
    )


@pytest.mark.parametrize("name", ["nope", "", "../README.md", "sample_shapefiles"])
def test_get_path_unknown_name_lists_valid_names(name: str) -> None:
    with pytest.raises(ValueError, match=r"unknown sample data name .*manifest, sites, parcels"):
        datasets.get_path(name)


def test_get_path_missing_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match=r"sample data folder .*absent does not exist"):
        datasets.get_path("manifest")


def test_get_path_missing_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(datasets, "DATA_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"sites.gpkg is missing: rebuild"):
        datasets.get_path("sites")


# ---------------------------------------------------------------------------------------------
# Manifest and vector layers


def test_manifest_covers_every_kind(manifest: dict) -> None:
    assert "not official" in manifest["planning"]["name"]
    assert set(manifest["layers"]) == set(VECTOR_KINDS)
    assert set(manifest["rasters"]) == set(RASTER_KINDS)
    for kind, spec in manifest["layers"].items():
        assert (DATA / spec["path"]).is_file(), kind
        assert set(spec["fields"]) <= set(LAYER_SPECS[kind].fields), kind
        assert set(LAYER_SPECS[kind].required) <= set(spec["fields"]), kind
        assert set(spec.get("values", {})) <= set(spec["fields"]), kind


@pytest.mark.parametrize("kind", VECTOR_KINDS)
def test_layer_files_prj_cpg_fields(
    kind: str, manifest: dict, layers: dict[str, gpd.GeoDataFrame]
) -> None:
    shp = DATA / manifest["layers"][kind]["path"]
    prj = CRS.from_wkt(shp.with_suffix(".prj").read_text())
    assert prj.equals(CRS.from_epsg(4490), ignore_axis_order=True)
    assert shp.with_suffix(".cpg").read_text().strip() == "UTF-8"
    info = pyogrio.read_info(shp)
    assert info["encoding"] == "UTF-8"
    gdf = layers[kind]
    assert CRS.from_user_input(gdf.crs).to_epsg() == 4490
    assert len(gdf) > 0
    fields = manifest["layers"][kind]["fields"]
    assert set(fields.values()) <= set(gdf.columns)
    for name in gdf.columns.drop("geometry"):
        assert len(name.encode()) <= 10, name
    assert gdf[fields["feature_id"]].is_unique
    family = LAYER_SPECS[kind].geometry
    expected = {"polygon": {"Polygon", "MultiPolygon"}, "line": {"LineString", "MultiLineString"}}[
        family
    ]
    assert set(gdf.geom_type) <= expected
    working = gdf.to_crs(WORKING_CRS)
    assert working.is_valid.all() and not working.is_empty.any()


@pytest.mark.parametrize("kind", VECTOR_KINDS)
def test_mapped_values_are_canonical(
    kind: str, manifest: dict, layers: dict[str, gpd.GeoDataFrame]
) -> None:
    spec = LAYER_SPECS[kind]
    section = manifest["layers"][kind]
    gdf = layers[kind]
    for canon, source in section["fields"].items():
        extra = section.get("values", {}).get(canon)
        known = {**VALUE_ALIASES.get((kind, canon), {}), **(extra or {})}
        allowed = spec.required.get(canon)
        values = gdf[source]
        if canon in spec.required or canon in ("feature_id", "name"):
            assert values.notna().all() and (values.astype(str).str.strip() != "").all(), canon
        for value in values.dropna().unique():
            mapped = canonical_value(kind, canon, value, extra)
            assert mapped is not None, (canon, value)
            if allowed is not None:
                assert mapped in allowed, (canon, value, mapped)
            if known:  # a vocabulary exists for this field: every value must be in it
                assert str(value) in known or str(value) in (allowed or ()), (canon, value)


def test_values_tables_target_canonical_names(manifest: dict) -> None:
    targets = {
        ("reserves", "level"): {"national", "provincial"},
        ("scenic", "category"): {"scenic_area", "forest_park", "geopark", "wetland_park"},
        ("roads_rails", "category"): {"railway", "expressway"},
    }
    for kind, section in manifest["layers"].items():
        for field, table in section.get("values", {}).items():
            allowed = LAYER_SPECS[kind].required.get(field) or targets[(kind, field)]
            assert set(table.values()) <= set(allowed), (kind, field)


@pytest.mark.parametrize("kind", VECTOR_KINDS)
def test_layers_inside_jilin_bounds(kind: str, layers: dict[str, gpd.GeoDataFrame]) -> None:
    xmin, ymin, xmax, ymax = layers[kind].total_bounds
    bx0, by0, bx1, by1 = JILIN_LONLAT_BOUNDS
    assert bx0 <= xmin <= xmax <= bx1
    assert by0 <= ymin <= ymax <= by1


def test_zoning_tiles_the_province(
    layers: dict[str, gpd.GeoDataFrame], province: shapely.Polygon
) -> None:
    zoning = layers["zoning"].to_crs(WORKING_CRS)
    geoms = zoning.geometry.values
    union = shapely.union_all(geoms)
    assert union.area == pytest.approx(province.area, rel=0.005)
    assert shapely.difference(province, union).area < 1e-3 * province.area
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert overlaps.max(initial=0.0) <= 1.0
    assert set(zoning["功能区"]) == {"重点开发区域", "限制开发区域", "禁止开发区域"}
    assert 20 <= len(zoning) <= 60


def test_prefectures_tile_the_province(
    layers: dict[str, gpd.GeoDataFrame], province: shapely.Polygon
) -> None:
    boundary = layers["boundary"].to_crs(WORKING_CRS)
    units = boundary[boundary["级别"] != "省"]
    assert len(units) == 9
    assert set(units["名称"]) >= {"长春市", "吉林市", "延边朝鲜族自治州"}
    assert shapely.union_all(units.geometry.values).area == pytest.approx(province.area, rel=1e-4)
    assert units.area.sum() == pytest.approx(province.area, rel=1e-4)


def _rings_are_nested(
    gdf: gpd.GeoDataFrame, group: str, level: str, order: tuple[str, ...]
) -> None:
    for name, rings in gdf.to_crs(WORKING_CRS).groupby(group):
        by_level = dict(zip(rings[level], rings.geometry, strict=True))
        assert list(by_level) == list(order), name
        parts = [by_level[z] for z in order]
        for a, b in itertools.combinations(parts, 2):
            assert shapely.intersection(a, b).area <= 1.0, name
        for inner, outer in itertools.pairwise(parts):
            # each ring wraps the one inside: the inner one's outline lies on the outer one
            assert shapely.union(inner, outer).area == pytest.approx(
                inner.area + outer.area, rel=1e-6
            ), name
            assert inner.buffer(1.0).intersects(outer), name


def test_reserve_zones_nested(layers: dict[str, gpd.GeoDataFrame]) -> None:
    reserves = layers["reserves"]
    _rings_are_nested(reserves, "保护区", "功能区", ("核心区", "缓冲区", "实验区"))
    assert reserves["保护区"].nunique() >= 6
    assert {
        "吉林长白山国家级自然保护区",
        "吉林向海国家级自然保护区",
        "吉林莫莫格国家级自然保护区",
        "吉林查干湖国家级自然保护区",
    } <= set(reserves["保护区"])


def test_water_source_levels_nested(layers: dict[str, gpd.GeoDataFrame]) -> None:
    water = layers["water_sources"]
    _rings_are_nested(water, "水源地", "级别", ("一级保护区", "二级保护区", "准保护区"))
    assert water["水源地"].nunique() == 4


def test_farmland_many_patches_outside_prohibited(layers: dict[str, gpd.GeoDataFrame]) -> None:
    farmland = layers["farmland"].to_crs(WORKING_CRS)
    zoning = layers["zoning"].to_crs(WORKING_CRS)
    assert 200 <= len(farmland) <= 800
    prohibited = shapely.union_all(zoning.geometry[zoning["功能区"] == "禁止开发区域"].values)
    assert shapely.intersection(shapely.union_all(farmland.geometry.values), prohibited).area <= 1.0


def test_redlines_cover_reserves_but_not_everything(
    layers: dict[str, gpd.GeoDataFrame], province: shapely.Polygon
) -> None:
    red = shapely.union_all(layers["redlines"].to_crs(WORKING_CRS).geometry.values)
    reserves = shapely.union_all(layers["reserves"].to_crs(WORKING_CRS).geometry.values)
    assert shapely.difference(reserves, red).area < 1e-4 * reserves.area
    assert 0.05 < red.area / province.area < 0.4


# ---------------------------------------------------------------------------------------------
# Sites and parcels


def test_sites_schema_and_types(sites: gpd.GeoDataFrame) -> None:
    assert CRS.from_user_input(sites.crs).to_epsg() == 4490
    assert {"site_id", "name", "project_type", "县市", "note"} <= set(sites.columns)
    assert sites["site_id"].is_unique
    assert sites["site_id"].str.fullmatch(r"JL-\d{4}").all()
    counts = sites.geom_type.value_counts()
    assert 180 <= counts["Polygon"] <= 230
    assert 15 <= counts["LineString"] <= 30
    assert 10 <= counts["Point"] <= 25
    names = set(PROJECT_TYPES) | set(PROJECT_TYPE_ALIASES)
    types = sites["project_type"].fillna("").str.strip()
    assert types[types != ""].isin(names).all()
    assert (types == "").sum() >= 3  # judged as general construction
    assert GENERAL_CONSTRUCTION in PROJECT_TYPES
    ha = sites[sites.geom_type == "Polygon"].to_crs(WORKING_CRS).area / 1e4
    assert ha.between(0.25 * 0.99, 16 * 1.01).all()
    xmin, ymin, xmax, ymax = sites.total_bounds
    assert JILIN_LONLAT_BOUNDS[0] <= xmin and xmax <= JILIN_LONLAT_BOUNDS[2]
    assert JILIN_LONLAT_BOUNDS[1] <= ymin and ymax <= JILIN_LONLAT_BOUNDS[3]


def _within(sites: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    union = shapely.union_all(layer.to_crs(WORKING_CRS).geometry.values)
    return shapely.within(sites.to_crs(WORKING_CRS).geometry.values, union)


def test_special_sites_sit_where_their_note_says(
    sites: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame], province: shapely.Polygon
) -> None:
    note = sites["note"].fillna("")
    reserves = layers["reserves"]
    core = note.str.contains("核心区内建设")
    assert core.sum() >= 3 and _within(sites[core], reserves[reserves["功能区"] == "核心区"]).all()
    exp = note.str.contains("实验区内旅游")
    assert exp.sum() >= 3 and _within(sites[exp], reserves[reserves["功能区"] == "实验区"]).all()
    assert (sites.loc[exp, "project_type"] == "旅游").all()
    water = layers["water_sources"]
    lvl1 = note.str.contains("一级保护区内")
    assert lvl1.sum() >= 3
    assert _within(sites[lvl1], water[water["级别"] == "一级保护区"]).all()
    farm = note.str.contains("占用永久基本农田")
    assert farm.sum() >= 5 and _within(sites[farm], layers["farmland"]).all()
    red = shapely.union_all(layers["redlines"].to_crs(WORKING_CRS).geometry.values)
    working = sites.to_crs(WORKING_CRS)
    in_red = note.str.contains("生态保护红线内")
    assert in_red.sum() >= 5
    assert shapely.within(working.geometry[in_red].values, red).all()
    assert not _within(sites[in_red], reserves).any()
    assert sites["县市"].notna().all() and (sites["县市"] != "").all()
    near = note.str.contains("距生态保护红线约|距自然保护区约")
    dist = shapely.distance(working.geometry[near].values, red)
    assert near.sum() >= 5 and (dist > 100).all() and (dist < 1000).all()
    cross = note.str.contains("穿越生态保护红线")
    assert cross.sum() >= 3
    lines = working.geometry[cross].values
    assert shapely.intersects(lines, red).all()
    assert not shapely.contains(red, shapely.get_point(lines, 0)).any()
    clear = note.str.contains("预期未发现冲突")
    protected = shapely.union_all(
        [
            shapely.union_all(layers[k].to_crs(WORKING_CRS).geometry.values)
            for k in ("redlines", "reserves", "water_sources", "scenic", "farmland")
        ]
    )
    assert clear.sum() >= 20
    assert (shapely.distance(working.geometry[clear].values, protected) > 2000).all()
    outside = note.str.contains("吉林省界外")
    assert outside.sum() == 2
    assert not shapely.intersects(working.geometry[outside].values, province).any()
    places = ("长春宽城区铁北", "吉林哈达湾", "四平铁东", "辽源龙山区辽河两岸", "辽源西安",
              "通化江东", "白城洮北区铁东", "洮南洮东")  # the eight of the 2014 opinions, 二(一)2
    for place in places:
        assert sites["name"].str.contains(place).sum() == 1, place
    assert not sites["name"].str.contains("二道江").any()  # not named by the opinions
    songhua = note.str.contains("横穿松花江")
    assert songhua.sum() == 1
    assert working.geometry[songhua].iloc[0].length >= 10_000


@pytest.mark.parametrize(
    ("note", "kind", "field", "value"),
    [
        ("Ⅰ级保护林地内", "forest_land", "保护", "Ⅰ级"),
        ("国家公园核心保护区内", "national_parks", "功能区", "核心保护区"),
        ("国家公园一般控制区内", "national_parks", "功能区", "一般控制区"),
        ("文物保护范围内", "heritage", "范围", "保护范围"),
        ("文物建设控制地带内", "heritage", "范围", "建设控制地带"),
        ("地质灾害危险区内", "geohazard", "分区", "危险区"),
        ("占用黑土地", "cultivated_land", "黑土地", "黑土地"),
        ("绿心", "ecological_barrier", "类型", "绿心"),
    ],
)
def test_territorial_plan_sites_sit_in_their_layer(
    sites: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame], note: str, kind: str,
    field: str, value: str,
) -> None:
    chosen = sites["note"].fillna("").str.contains(note)
    layer = layers[kind]
    assert chosen.sum() == 1 and _within(sites[chosen], layer[layer[field] == value]).all()


def test_renewal_areas_and_straddling_site_against_the_urban_boundary(
    sites: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame]
) -> None:
    urban = shapely.union_all(layers["urban_boundary"].to_crs(WORKING_CRS).geometry.values)
    working = sites.to_crs(WORKING_CRS)
    renewal = working[sites["name"].str.contains("老工业区")]
    assert len(renewal) == 8 and shapely.within(renewal.geometry.values, urban).all()
    straddle = working[sites["note"].fillna("").str.contains("一半在城镇开发边界外")].geometry
    assert len(straddle) == 1
    inside = shapely.intersection(straddle.iloc[0], urban).area / straddle.iloc[0].area
    assert 0.05 < inside < 0.95


def test_renewal_areas_are_built_up(sites: gpd.GeoDataFrame) -> None:
    """The 2014 opinions' old industrial areas read built-up (8), not forest, on the land
    cover (the sample once had 吉林哈达湾 at 100 % forest)."""
    from redline.raster import landcover_shares

    planning = load_planning()
    renewal = sites[sites["name"].str.contains("老工业区")].to_crs(planning.crs)
    shares = landcover_shares(renewal.geometry.values, planning.rasters["landcover"],
                              crs=planning.crs)
    assert (shares["share_built_up"] > 0.99).all()
    assert (shares.get("share_forest", 0) == 0).all()


def test_parcels(layers: dict[str, gpd.GeoDataFrame]) -> None:
    parcels = gpd.read_file(datasets.get_path("parcels"), layer="parcels")
    assert CRS.from_user_input(parcels.crs).to_epsg() == 4490
    assert {"parcel_id", "地类"} <= set(parcels.columns)
    assert parcels["parcel_id"].is_unique and parcels["地类"].notna().all()
    assert 2500 <= len(parcels) <= 3600
    working = parcels.to_crs(WORKING_CRS)
    ha = working.area / 1e4
    assert ha.between(1.0, 30.0).all()
    zoning = layers["zoning"].to_crs(WORKING_CRS)
    joined = gpd.sjoin(
        working.set_geometry(working.representative_point()),
        zoning[["功能区", "geometry"]],
        predicate="within",
    )
    shares = joined["功能区"].value_counts(normalize=True)
    for zone in ("重点开发区域", "限制开发区域", "禁止开发区域"):
        assert shares.get(zone, 0.0) > 0.1, zone


# ---------------------------------------------------------------------------------------------
# Rasters and size


def test_landcover_raster(manifest: dict) -> None:
    classes = {
        int(code): canon for code, canon in manifest["rasters"]["landcover"]["classes"].items()
    }
    assert set(classes.values()) <= set(LANDCOVER_CLASSES)
    with rasterio.open(DATA / manifest["rasters"]["landcover"]["path"]) as src:
        assert CRS.from_user_input(src.crs).to_epsg() == 4490
        assert src.dtypes[0] == "uint8" and src.nodata == 0
        assert src.res == pytest.approx((0.0025, 0.0025))
        assert src.compression is not None and src.compression.name == "deflate"
        data = src.read(1)
    present = set(np.unique(data).tolist()) - {0}
    assert present <= set(classes)
    assert {1, 2, 4, 5, 8, 9} <= present


def test_dem_raster(manifest: dict) -> None:
    with rasterio.open(DATA / manifest["rasters"]["dem"]["path"]) as src:
        assert CRS.from_user_input(src.crs).to_epsg() == 4490
        assert src.dtypes[0] == "int16" and src.nodata == -32768
        assert src.res == pytest.approx((0.005, 0.005))
        dem = src.read(1, masked=True)
        row, col = src.index(128.06, 42.03)
        west_row, west_col = src.index(123.0, 45.0)
    assert 2500 <= dem.max() <= 2800
    assert dem.min() >= 100 and dem[west_row, west_col] < 300
    assert dem[row - 20 : row + 20, col - 20 : col + 20].max() > 2400


def test_total_size_under_20_mb() -> None:
    total = sum(p.stat().st_size for p in (REPO / "data").rglob("*") if p.is_file())
    assert total < 20 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# The generator reproduces the committed files


@pytest.mark.slow
def test_generator_reproduces_bundled_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("make_sample", REPO / "data" / "make_sample.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_sample", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    module.build(tmp_path)
    for name in ("manifest.toml", "PROVENANCE.md"):
        assert (tmp_path / name).read_text() == (DATA / name).read_text(), name
    for path in [*sorted(DATA.glob("*.shp")), DATA / "sites.gpkg", DATA / "parcels.gpkg"]:
        ours, fresh = gpd.read_file(path), gpd.read_file(tmp_path / path.name)
        assert ours.drop(columns="geometry").equals(fresh.drop(columns="geometry")), path.name
        assert shapely.equals_exact(
            ours.geometry.values, fresh.geometry.values, tolerance=1e-9
        ).all(), path.name
    for name in ("landcover.tif", "dem.tif"):
        with rasterio.open(DATA / name) as a, rasterio.open(tmp_path / name) as b:
            assert a.profile == b.profile
            assert np.array_equal(a.read(1), b.read(1)), name
