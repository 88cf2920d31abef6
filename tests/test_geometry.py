"""Tests for redline.geometry: the repair table of bad-inputs.md, the repair log and warning,
family checks, and prepare_subjects' not-assessed reasons."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import MultiPolygon, Point, Polygon

from redline.crs import JILIN_LONLAT_BOUNDS, WORKING_CRS
from redline.errors import CRSError, GeometryError, RedlineWarning
from redline.geometry import (
    NOT_ASSESSED_COLUMN,
    REPAIR_COLUMNS,
    null_or_empty,
    prepare_subjects,
    private_copy,
    relative_change,
    repair,
)

BOWTIE = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
HOLE_OUTSIDE = Polygon(shapely.box(0, 0, 2, 2).exterior.coords, [[(3, 0), (3, 1), (4, 1), (4, 0)]])
HOLE_ON_EDGE = Polygon(shapely.box(0, 0, 4, 4).exterior.coords, [[(0, 0), (0, 2), (2, 2), (2, 0)]])
OVERLAPPING = MultiPolygon([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)])

# case, raw area, structure area (bad-inputs.md), reason, points inside the raw feature
TABLE = [
    (BOWTIE, 0.0, 2.0, "Self-intersection[1 1]", [(0.2, 1), (1.8, 1), (0.5, 1), (1.5, 1)]),
    (HOLE_OUTSIDE, 3.0, 5.0, "Hole lies outside shell[3 0]", [(1, 1), (0.1, 1.9)]),
    (HOLE_ON_EDGE, 12.0, 12.0, "Self-intersection[2 0]", [(3, 3), (1, 3), (3, 1)]),
    (OVERLAPPING, 8.0, 7.0, "Self-intersection[1 2]", [(0.5, 0.5), (1.5, 1.5), (2.5, 2.5)]),
]


def layer(geoms: list, **columns: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=WORKING_CRS)


def test_null_or_empty() -> None:
    geoms = [shapely.box(0, 0, 1, 1), None, Polygon(), shapely.GeometryCollection()]
    assert null_or_empty(geoms).tolist() == [False, True, True, True]
    assert null_or_empty(gpd.GeoSeries(geoms)).tolist() == [False, True, True, True]


def test_relative_change() -> None:
    change = relative_change(np.array([8.0, 0.0, 0.0, 100.0]), np.array([7.0, 2.0, 0.0, 101.0]))
    assert change.tolist() == [0.125, np.inf, 0.0, 0.01]


@pytest.mark.parametrize(("raw", "area_before", "area_after", "reason", "inside"), TABLE)
def test_repair_table(
    raw: shapely.Geometry, area_before: float, area_after: float, reason: str, inside: list
) -> None:
    assert raw.area == area_before and not raw.is_valid
    gdf = layer([raw], fid=["f1"])
    with pytest.warns(RedlineWarning, match=r"zoning: repaired 1 geometries \(make_valid, str"):
        fixed, log = repair(gdf, source="zoning", family="polygon", id_column="fid")
    geom = fixed.geometry.iloc[0]
    assert geom.is_valid
    assert geom.area == area_after
    assert shapely.get_type_id(geom) in (3, 6)
    # never shrinks: every point inside the raw feature is inside the repaired one
    assert shapely.contains_xy(geom, *np.array(inside).T).all()
    assert list(log.columns) == list(REPAIR_COLUMNS)
    row = log.iloc[0]
    assert (row.feature_id, row.layer, row.reason) == ("f1", "zoning", reason)
    assert (row.area_before_m2, row.area_after_m2) == (area_before, area_after)
    assert row.review == (area_before != area_after)


def test_overlap_is_kept_where_linework_makes_a_hole() -> None:
    site = Point(1.5, 1.5)  # inside both overlapping parts
    assert not shapely.make_valid(OVERLAPPING).contains(site)  # the stack's default
    with pytest.warns(RedlineWarning):
        fixed, _ = repair(layer([OVERLAPPING]), source="x", family="polygon")
    assert fixed.geometry.iloc[0].contains(site)
    assert fixed.geometry.iloc[0].equals(shapely.union_all(list(OVERLAPPING.geoms)))


def test_overlap_is_found_within_a_tolerance_grid() -> None:
    grid = np.stack(np.meshgrid(np.linspace(0.05, 2.95, 30), np.linspace(0.05, 2.95, 30)), -1)
    x, y = grid.reshape(-1, 2).T
    oracle = shapely.contains_xy(shapely.box(0, 0, 2, 2), x, y) | shapely.contains_xy(
        shapely.box(1, 1, 3, 3), x, y
    )
    with pytest.warns(RedlineWarning):
        fixed, _ = repair(layer([OVERLAPPING]), source="x", family="polygon")
    assert (shapely.contains_xy(fixed.geometry.iloc[0], x, y) == oracle).all()


def test_one_warning_for_many_repairs() -> None:
    gdf = layer([BOWTIE, shapely.box(0, 0, 1, 1), OVERLAPPING, HOLE_ON_EDGE], fid=list("abcd"))
    with pytest.warns(RedlineWarning) as record:
        fixed, log = repair(gdf, source="reserves", family="polygon", id_column="fid")
    assert len(record) == 1
    assert str(record[0].message) == (
        "reserves: repaired 3 geometries (make_valid, structure method); largest relative "
        "area change from a raw area of 0 (feature a); 2 flagged for review (> 1% or "
        "collapsed). See the repair log."
    )
    assert log.feature_id.tolist() == ["a", "c", "d"]
    assert log.review.tolist() == [True, True, False]
    assert fixed.geometry.iloc[1].equals(shapely.box(0, 0, 1, 1))


def test_valid_layer_is_returned_unchanged_without_warning() -> None:
    gdf = layer([shapely.box(0, 0, 1, 1), None, Polygon()], fid=[1, 2, 3])
    gdf.index = ["x", "y", "z"]
    fixed, log = repair(gdf, source="x", family="polygon")
    assert log.empty and list(log.columns) == list(REPAIR_COLUMNS)
    assert fixed.index.tolist() == ["x", "y", "z"]
    assert fixed.geometry.iloc[0].equals(gdf.geometry.iloc[0])
    assert fixed.geometry.isna().tolist() == [False, True, False]
    assert fixed.fid.tolist() == [1, 2, 3]


def test_input_is_not_mutated_and_index_is_kept() -> None:
    gdf = layer([BOWTIE, shapely.box(0, 0, 1, 1)], name=["a", "b"])
    gdf.index = [7, 9]
    with pytest.warns(RedlineWarning, match=r"feature 7"):
        fixed, log = repair(gdf, source="x", family="polygon")
    assert gdf.geometry.iloc[0].equals(BOWTIE)
    assert fixed.index.tolist() == [7, 9]
    assert log.feature_id.tolist() == [7]


def test_points_in_a_polygon_layer() -> None:
    gdf = layer([shapely.box(0, 0, 1, 1), Point(0, 0), Point(1, 1)], fid=["z1", "p1", "p2"])
    with pytest.raises(
        GeometryError,
        match=r"zoning: 2 features hold no polygon geometry in a polygon layer "
        r"\(features p1, p2; geometry type ids 0\)",
    ):
        repair(gdf, source="zoning", family="polygon", id_column="fid")


def test_polygons_in_a_line_layer() -> None:
    gdf = layer([shapely.LineString([(0, 0), (1, 1)]), shapely.box(0, 0, 1, 1)])
    with pytest.raises(GeometryError, match=r"1 features hold no line geometry .*features 1;"):
        repair(gdf, source="rivers", family="line")


def test_collection_keeps_its_polygons_and_logs_the_rest() -> None:
    mixed = shapely.GeometryCollection(
        [shapely.box(0, 0, 1, 1), shapely.LineString([(1, 0), (1, 1)]), shapely.box(2, 0, 3, 1)]
    )
    with pytest.warns(RedlineWarning, match="repaired 1 geometries"):
        fixed, log = repair(layer([mixed]), source="x", family="polygon")
    assert fixed.geometry.iloc[0].equals(
        MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])
    )
    assert log.reason.tolist() == ["GeometryCollection; dropped 1 parts of another family"]
    assert not log.review.iloc[0]


def test_collection_of_overlapping_polygons_is_unioned() -> None:
    parts = shapely.GeometryCollection([shapely.box(0, 0, 2, 2), shapely.box(1, 1, 3, 3)])
    assert parts.is_valid  # a collection may overlap itself
    with pytest.warns(RedlineWarning):
        fixed, log = repair(layer([parts]), source="x", family="polygon")
    assert fixed.geometry.iloc[0].area == 7.0
    assert log.reason.iloc[0] == "GeometryCollection; Self-intersection[1 2]"


def test_degenerate_line_collapses_and_is_flagged() -> None:
    gdf = layer([shapely.LineString([(0, 0), (0, 0)]), shapely.LineString([(0, 0), (5, 0)])])
    with pytest.warns(RedlineWarning, match="1 flagged for review"):
        fixed, log = repair(gdf, source="roads", family="line")
    assert fixed.geometry.iloc[0].is_empty
    assert log.reason.iloc[0].startswith("Too few points")
    assert log.review.tolist() == [True]


def test_z_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    gdf = layer([Polygon([(0, 0, 5), (1, 0, 5), (1, 1, 5), (0, 0, 5)])])
    with caplog.at_level(logging.INFO, logger="redline.geometry"):
        fixed, log = repair(gdf, source="dem-layer", family="polygon")
    assert not fixed.has_z.any() and log.empty
    assert "dem-layer: dropped Z/M coordinates of 1 features" in caplog.text


# --- prepare_subjects -----------------------------------------------------------------------


def sites(geoms: list, crs: object = WORKING_CRS) -> gpd.GeoDataFrame:
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(n)], "project_type": ["tourism"] * n},
        geometry=geoms,
        crs=crs,
        index=pd.Index([f"row{i}" for i in range(n)], name="key"),
    )


def test_prepare_subjects_reasons() -> None:
    good = shapely.box(0, 0, 100, 100)
    far = shapely.box(3_000_000, 0, 3_000_100, 100)  # ~ 30° east of Jilin
    mixed = shapely.GeometryCollection([good, shapely.LineString([(0, 0), (500, 500)])])
    raw = sites([good, None, Polygon(), far, mixed, BOWTIE, HOLE_ON_EDGE])
    with pytest.warns(RedlineWarning, match=r"repaired 2 invalid subject .* 1 changed area"):
        out = prepare_subjects(raw, source="sites.shp", working_crs=WORKING_CRS)
    assert out[NOT_ASSESSED_COLUMN].tolist() == [
        None,
        "null geometry",
        "empty geometry",
        "coordinates outside the planning region",
        "mixes polygons with lines or points (split it into separate subjects)",
        "invalid geometry could not be repaired safely (area changed from a raw area of 0)",
        None,
    ]
    assert out.index.equals(raw.index)
    assert out.site_id.tolist() == raw.site_id.tolist()
    assert out.geometry.iloc[6].is_valid and out.geometry.iloc[6].area == 12.0
    assert raw.geometry.iloc[5].equals(BOWTIE)  # input untouched
    assert NOT_ASSESSED_COLUMN not in raw.columns


def test_prepare_subjects_area_change_threshold() -> None:
    small = MultiPolygon([shapely.box(0, 0, 100, 100), shapely.box(99, 0, 199, 100)])  # 1 % overlap
    big = MultiPolygon([shapely.box(0, 0, 100, 100), shapely.box(50, 0, 150, 100)])
    with pytest.warns(RedlineWarning):
        out = prepare_subjects(sites([small, big]), source="s", working_crs=WORKING_CRS)
    assert relative_change(np.array([small.area]), np.array([19_900.0]))[0] == pytest.approx(
        100 / 20_000
    )
    assert out[NOT_ASSESSED_COLUMN].tolist() == [
        None,
        "invalid geometry could not be repaired safely (area changed 25%)",
    ]
    assert out.geometry.iloc[0].area == 19_900.0


def test_prepare_subjects_keeps_each_family() -> None:
    polys = shapely.GeometryCollection([shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)])
    line = shapely.LineString([(0, 0), (100, 0)])
    point = Point(5, 5)
    out = prepare_subjects(sites([polys, line, point]), source="s", working_crs=WORKING_CRS)
    assert out[NOT_ASSESSED_COLUMN].isna().all()
    assert out.geom_type.tolist() == ["MultiPolygon", "LineString", "Point"]
    assert out.geometry.iloc[0].area == 200.0


def test_prepare_subjects_extent() -> None:
    extent = shapely.box(0, 0, 1000, 1000)
    inside, edge, across = (
        shapely.box(10, 10, 20, 20),
        shapely.box(0, 0, 1000, 5),
        shapely.box(990, 0, 1010, 10),
    )
    out = prepare_subjects(
        sites([inside, edge, across, None]), source="s", working_crs=WORKING_CRS, extent=extent
    )
    assert out[NOT_ASSESSED_COLUMN].tolist() == [
        None,
        None,
        "outside the planning extent",
        "null geometry",
    ]


def test_prepare_subjects_reprojects_and_uses_crs_override() -> None:
    wrapped = shapely.box(486.5, 43.5, 486.51, 43.51)  # 360° east of the first: projects onto it
    raw = sites([shapely.box(126.5, 43.5, 126.51, 43.51), Point(500, 95), wrapped], crs=None)
    with pytest.raises(CRSError, match=r"sites\.csv: the data has no coordinate reference"):
        prepare_subjects(raw, source="sites.csv", working_crs=WORKING_CRS)
    out = prepare_subjects(raw, source="sites.csv", working_crs=WORKING_CRS, crs="EPSG:4490")
    assert out.crs == WORKING_CRS
    outside = "coordinates outside the planning region"
    assert out[NOT_ASSESSED_COLUMN].tolist() == [None, outside, outside]
    assert out.geometry.iloc[1] is None  # latitude 95° has no finite projection
    x0, y0 = shapely.get_coordinates(out.geometry.iloc[0]).min(axis=0)
    assert abs(x0) < 1 and abs(y0) < 1  # 126.5°E 43.5°N is the working CRS's origin
    assert raw.crs is None


def test_prepare_subjects_refuses_when_nothing_is_in_the_region() -> None:
    with pytest.raises(CRSError, match=r"1 of 1 features fall outside the planning region"):
        prepare_subjects(sites([Point(100, 30)], crs=4490), source="s", working_crs=WORKING_CRS,
                         region=JILIN_LONLAT_BOUNDS)
    with pytest.raises(CRSError, match=r"1 of 1 features fall outside China"):
        prepare_subjects(sites([Point(10, 50)], crs=4490), source="s", working_crs=WORKING_CRS)


def test_threads_can_share_one_extent() -> None:
    """Threads checking subjects against one (unprepared) extent object: each prepares a
    private copy. Preparing and using the shared object crashed the interpreter."""
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    from redline.crs import WORKING_CRS

    ring = shapely.Point(0, 0).buffer(50_000, quad_segs=256)
    sites = gpd.GeoDataFrame(
        geometry=[shapely.box(x, 0, x + 100, 100) for x in range(-40_000, 40_000, 80)],
        crs=WORKING_CRS,
    )
    for _ in range(20):
        extent = private_copy(ring)  # a fresh, never prepared object each round
        check = partial(prepare_subjects, source="t", working_crs=WORKING_CRS, extent=extent)
        with ThreadPoolExecutor(4) as pool:
            outs = list(pool.map(check, [sites] * 4))
        assert all(out[NOT_ASSESSED_COLUMN].isna().all() for out in outs)
    assert not shapely.is_prepared(ring)


def test_a_feature_geos_cannot_repair_does_not_fail_the_layer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GEOS's structure method has raised a TopologyException on a degenerate ring (seen once
    in the Hypothesis search of test_properties): that feature alone goes to the linework
    method, the other repairs stand."""
    real = shapely.make_valid

    def structure_fails_on_the_bowtie(geoms, method="linework", **kwargs):  # type: ignore[no-untyped-def]
        if method == "structure" and any(BOWTIE.equals(g) for g in np.atleast_1d(geoms)):
            raise shapely.errors.GEOSException("TopologyException: side location conflict")
        return real(geoms, method=method, **kwargs)

    monkeypatch.setattr(shapely, "make_valid", structure_fails_on_the_bowtie)
    with pytest.warns(RedlineWarning):
        fixed, log = repair(layer([BOWTIE, HOLE_OUTSIDE], fid=["a", "b"]), source="x",
                            family="polygon", id_column="fid")
    assert fixed.geometry.is_valid.all()
    assert fixed.geometry.area.tolist() == [2.0, 5.0]  # the bowtie's two triangles, by linework
    assert log.feature_id.tolist() == ["a", "b"]
