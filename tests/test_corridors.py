"""Tests of redline.corridors: corridor polygons and severance, on hand-built geometry.

Coordinates are metres in the working CRS around (0, 0). The default river runs along y = 0
from x = 0 to x = 10 000 with half-width 1 000 m (a corridor 2 000 m wide, y ∈ [-1000, 1000]).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, box

import redline.corridors
from redline.corridors import (
    CORRIDOR_COLUMNS,
    SEVERANCE_COLUMNS,
    build_corridors,
    severance,
)
from redline.crs import WORKING_CRS
from redline.errors import CRSError, GeometryError, LayerError, RuleError

HALF = {"rivers.provincial": 1000.0, "rivers.secondary": 300.0, "roads_rails.secondary": 100.0}
TOL = 5.0  # severance's default tolerance_m
ROUND = 0.01  # polygonal approximation of the buffers, as a share of the width, generous


def layer(*geoms: shapely.Geometry, corridor: str = "provincial") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "feature_id": [f"f{i}" for i in range(len(geoms))],
            "name": [f"河{i}" for i in range(len(geoms))],
            "corridor": corridor,
        },
        geometry=list(geoms),
        crs=WORKING_CRS,
    )


def river(*coords: tuple[float, float]) -> gpd.GeoDataFrame:
    return layer(LineString(coords or [(0, 0), (10_000, 0)]))


def cap_area(r: float) -> float:
    """Area of the two round caps: the inscribed 64-gon of 16 segments per quarter circle."""
    return 32 * r * r * math.sin(math.pi / 32)


def assess(
    lines: gpd.GeoDataFrame | dict[str, gpd.GeoDataFrame],
    *sites: shapely.Geometry,
    min_passage_m: float = 500.0,
    clip: shapely.Geometry | None = None,
    **options: float,
) -> pd.DataFrame:
    lines = lines if isinstance(lines, dict) else {"rivers": lines}
    corridors = build_corridors(lines, half_widths_m=HALF, clip=clip)
    pairs = pd.DataFrame({"subject": range(len(sites)), "feature": 0})
    return severance(
        gpd.GeoSeries(sites, crs=WORKING_CRS),
        corridors,
        pairs,
        min_passage_m=min_passage_m,
        **options,
    )


def assert_passage(value: float, true_m: float) -> None:
    """passage_m is a lower bound within the tolerance (and the buffers' approximation)."""
    assert true_m - TOL - ROUND * true_m <= value <= true_m + ROUND * true_m


# --------------------------------------------------------------------------------------------
# build_corridors


def test_straight_corridor_area_and_columns() -> None:
    lines = river()
    out = build_corridors({"rivers": lines}, half_widths_m=HALF)
    assert tuple(out.columns) == CORRIDOR_COLUMNS
    assert out.crs == WORKING_CRS
    assert out.index.equals(pd.RangeIndex(1))
    row = out.iloc[0]
    assert (row.feature_id, row["name"], row.source_layer, row.corridor, row.half_width_m) == (
        "f0",
        "河0",
        "rivers",
        "provincial",
        1000.0,
    )
    assert out.geometry.iloc[0].area == pytest.approx(10_000 * 2_000 + cap_area(1000), rel=1e-12)
    assert out["centreline"].iloc[0].equals(lines.geometry.iloc[0])
    assert out.active_geometry_name == "geometry"


def test_widths_per_layer_and_class() -> None:
    rivers = layer(LineString([(0, 0), (10_000, 0)]), LineString([(0, 5_000), (4_000, 5_000)]))
    rivers.loc[1, "corridor"] = "secondary"
    roads = layer(LineString([(0, -5_000), (2_000, -5_000)]), corridor="secondary")
    before = rivers.copy()
    out = build_corridors({"rivers": rivers, "roads_rails": roads}, half_widths_m=HALF)
    assert out["source_layer"].tolist() == ["rivers", "rivers", "roads_rails"]
    assert out["half_width_m"].tolist() == [1000.0, 300.0, 100.0]
    expected = [
        10_000 * 2_000 + cap_area(1000),
        4_000 * 600 + cap_area(300),
        2_000 * 200 + cap_area(100),
    ]
    np.testing.assert_allclose(out.area, expected, rtol=1e-12)
    pd.testing.assert_frame_equal(rivers, before)


def test_clip_to_box() -> None:
    lines = layer(LineString([(0, 0), (10_000, 0)]), LineString([(50_000, 0), (60_000, 0)]))
    out = build_corridors(
        {"rivers": lines}, half_widths_m=HALF, clip=box(2_000, -5_000, 8_000, 5_000)
    )
    assert out["feature_id"].tolist() == ["f0"]  # the corridor outside the clip is dropped
    assert out.area.iloc[0] == pytest.approx(6_000 * 2_000, rel=1e-12)
    assert out["centreline"].iloc[0].length == 10_000  # the centreline is kept unclipped
    half = build_corridors({"rivers": lines}, half_widths_m=HALF, clip=box(2_000, 0, 8_000, 5_000))
    assert half.area.iloc[0] == pytest.approx(6_000 * 1_000, rel=1e-12)


def test_missing_half_width_names_key_and_lists_given() -> None:
    lines = river()
    lines["corridor"] = "secondary"
    with pytest.raises(
        RuleError,
        match=r"'rivers\.secondary'.*half-widths given: "
        r"rivers\.provincial\. Add the key",
    ):
        build_corridors({"rivers": lines}, half_widths_m={"rivers.provincial": 1000.0})


@pytest.mark.parametrize(
    ("widths", "match"),
    [
        ({"river.provincial": 1000.0}, r"unknown corridor half-width key 'river\.provincial'"),
        ({"rivers.provincial": 0.0}, r"half_widths_m\['rivers\.provincial'\] must be a positive"),
        ({"rivers.provincial": float("nan")}, r"must be a positive number of metres, got nan"),
        ({"rivers.provincial": "wide"}, r"got 'wide'"),
    ],
)
def test_bad_half_widths(widths: dict[str, float], match: str) -> None:
    with pytest.raises(RuleError, match=match):
        build_corridors({"rivers": river()}, half_widths_m=widths)


def test_bad_line_layers() -> None:
    with pytest.raises(LayerError, match=r"got 'roads'\. Rename"):
        build_corridors({"roads": river()}, half_widths_m=HALF)
    with pytest.raises(CRSError, match=r"rivers: .* has WGS 84.*redline\.Planning"):
        build_corridors({"rivers": river().set_crs(4326, allow_override=True)}, half_widths_m=HALF)
    with pytest.raises(LayerError, match=r"rivers: missing field\(s\) corridor"):
        build_corridors({"rivers": river().drop(columns="corridor")}, half_widths_m=HALF)
    unknown = river()
    unknown["corridor"] = "省级"
    with pytest.raises(LayerError, match=r"unknown corridor class \(f0='省级'\)"):
        build_corridors({"rivers": unknown}, half_widths_m=HALF)
    null = layer(LineString([(0, 0), (1, 0)]), None)
    with pytest.raises(GeometryError, match=r"1 geometries are null or empty \(feature_id f1\)"):
        build_corridors({"rivers": null}, half_widths_m=HALF)
    with pytest.raises(GeometryError, match=r"are not lines \(feature_id f0\)"):
        build_corridors({"rivers": layer(shapely.Point(0, 0))}, half_widths_m=HALF)
    with pytest.raises(TypeError, match="must be a GeoDataFrame"):
        build_corridors({"rivers": pd.DataFrame(river())}, half_widths_m=HALF)


def test_bad_clip() -> None:
    with pytest.raises(GeometryError, match=r"does not overlap any of the 1 corridors.*lines' CRS"):
        build_corridors(
            {"rivers": river()}, half_widths_m=HALF, clip=box(50_000, 50_000, 60_000, 60_000)
        )
    with pytest.raises(GeometryError, match=r"non-empty polygon .* got LineString"):
        build_corridors({"rivers": river()}, half_widths_m=HALF, clip=LineString([(0, 0), (1, 1)]))
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(GeometryError, match=r"clip polygon is invalid \(Self-intersection"):
        build_corridors({"rivers": river()}, half_widths_m=HALF, clip=bowtie)


# --------------------------------------------------------------------------------------------
# severance: the pair from the issue, gaps, shapes


def test_site_spanning_the_corridor_severs_site_on_one_bank_does_not() -> None:
    out = assess(river(), box(4_000, -1_500, 4_500, 1_500), box(4_000, 200, 4_500, 1_500))
    assert tuple(out.columns) == SEVERANCE_COLUMNS
    assert out["severs"].tolist() == [True, False]
    assert out["passage_m"].iloc[0] == 0.0
    assert_passage(out["passage_m"].iloc[1], 1_200)  # from y = -1000 to the site at y = 200
    assert_passage(out["corridor_passage_m"].iloc[1], 2_000)


@pytest.mark.parametrize(("gap", "severs"), [(480.0, True), (520.0, False)])
def test_gap_just_below_and_above_min_passage(gap: float, severs: bool) -> None:
    out = assess(river(), box(4_000, -1_000 + gap, 4_500, 1_500))
    assert out["severs"].tolist() == [severs]
    assert_passage(out["passage_m"].iloc[0], gap)


@pytest.mark.parametrize(("gap", "severs"), [(400.0, True), (600.0, False)])
def test_gap_between_two_parts_of_a_site(gap: float, severs: bool) -> None:
    site = shapely.MultiPolygon(
        [box(4_000, -1_500, 4_500, -gap / 2), box(4_000, gap / 2, 4_500, 1_500)]
    )
    out = assess(river(), site)
    assert out["severs"].tolist() == [severs]
    assert_passage(out["passage_m"].iloc[0], gap)


BEND = river((0, 0), (5_000, 0), (5_000, 5_000))  # outer corner: round join about (5000, 0)


@pytest.mark.parametrize(("min_passage", "severs"), [(500.0, False), (600.0, True)])
def test_site_at_a_bend(min_passage: float, severs: bool) -> None:
    # The site fills the inside of the bend; its corner (5300, -300) is 300√2 m from the join's
    # centre, so the narrowest passage is against the outer arc: 1000 - 300√2 ≈ 575.7 m
    # (700 m along either straight leg).
    out = assess(BEND, box(3_500, -300, 5_300, 1_500), min_passage_m=min_passage)
    assert out["severs"].tolist() == [severs]
    assert_passage(out["passage_m"].iloc[0], 1_000 - 300 * math.sqrt(2))


def test_bend_cut_across_severs_outer_corner_does_not() -> None:
    # Cutting off the bulge of the outer corner leaves the passage between the legs open.
    out = assess(BEND, box(3_500, -1_500, 6_500, 1_500), box(5_600, -1_500, 6_500, -600))
    assert out["severs"].tolist() == [True, False]


def test_line_and_point_sites() -> None:
    crossing = LineString([(5_000, -2_000), (5_000, 2_000)])  # a road across the corridor
    along = LineString([(2_000, 800), (8_000, 800)])  # a road along the north bank
    out = assess(river(), crossing, along, shapely.Point(5_000, 0))
    assert out["severs"].tolist() == [True, False, False]
    assert_passage(out["passage_m"].iloc[1], 1_800 - 15)  # assessed 30 m wide
    assert out["passage_m"].iloc[2] == out["corridor_passage_m"].iloc[2]
    # A road stopping 100 m short of the far edge leaves 85 m when assessed 30 m wide; assessed
    # 300 m wide, its round end reaches past the edge.
    stub = LineString([(5_000, -2_000), (5_000, 900)])
    narrow = assess(river(), stub, min_passage_m=50.0)
    assert narrow["severs"].tolist() == [False]
    assert_passage(narrow["passage_m"].iloc[0], 100 - 15)
    wide = assess(river(), stub, min_passage_m=50.0, line_width_m=300.0)
    assert wide["severs"].tolist() == [True]


def test_site_near_the_end_of_a_river() -> None:
    tip = box(9_600, -1_500, 10_400, 1_500)  # over the river's end: nothing beyond to cut off
    near = box(9_000, -1_500, 9_300, 1_500)  # 700 m from the end (< h + w): a dead end
    far = box(7_500, -1_500, 7_800, 1_500)  # 2.2 km of corridor beyond it would be cut off
    out = assess(river(), tip, near, far)
    assert out["severs"].tolist() == [False, False, True]
    assert out[["passage_m", "corridor_passage_m"]].iloc[:2].isna().all().all()


def test_river_split_into_reaches_is_one_corridor() -> None:
    reaches = layer(LineString([(0, 0), (5_000, 0)]), LineString([(5_000, 0), (10_000, 0)]))
    out = assess(reaches, box(4_800, -1_500, 5_200, 1_500), box(4_800, 200, 5_200, 1_500))
    assert out["severs"].tolist() == [True, False]


def test_corridor_clipped_where_the_river_leaves_the_province() -> None:
    # The province ends at x = 6000; the river flows on. A cut 700 m inside the boundary severs
    # the corridor from its continuation in the neighbouring province.
    province = box(-5_000, -5_000, 6_000, 5_000)
    out = assess(
        river(), box(5_000, -1_500, 5_300, 1_500), box(5_000, 200, 5_300, 1_500), clip=province
    )
    assert out["severs"].tolist() == [True, False]
    assert_passage(out["corridor_passage_m"].iloc[1], 2_000)


def test_border_river_counts_the_jilin_half_only() -> None:
    # Border river along y = -50 (slightly outside the province, y >= 0): the corridor inside
    # the province is y ∈ [0, 950].
    province = box(-5_000, 0, 25_000, 5_000)
    border = river((0, -50), (20_000, -50))
    out = assess(
        border,
        box(9_000, -100, 9_500, 1_500),
        box(9_000, 600, 9_500, 1_500),
        box(9_000, 300, 9_500, 1_500),
        clip=province,
    )
    assert out["severs"].tolist() == [True, False, True]
    assert_passage(out["passage_m"].iloc[1], 600)
    assert_passage(out["passage_m"].iloc[2], 300)
    assert_passage(out["corridor_passage_m"].iloc[1], 950)


def test_corridor_narrower_than_min_passage_severs_only_when_cut() -> None:
    # Clipped corridor y ∈ [0, 600], min passage 700 m: nibbling at it is no severance.
    province = box(-5_000, 0, 25_000, 5_000)
    border = river((0, -400), (20_000, -400))
    out = assess(
        border,
        box(9_000, 400, 9_500, 1_500),
        box(9_000, -100, 9_500, 1_500),
        clip=province,
        min_passage_m=700.0,
    )
    assert out["severs"].tolist() == [False, True]
    assert_passage(out["passage_m"].iloc[0], 400)
    assert_passage(out["corridor_passage_m"].iloc[0], 600)


def test_parallel_corridors_of_one_class() -> None:
    # Railway (y = 0) and highway (y = 300), 200 m corridors with a 100 m strip between them.
    lines = layer(
        LineString([(0, 0), (10_000, 0)]),
        LineString([(0, 300), (10_000, 300)]),
        corridor="secondary",
    )
    out = assess(
        {"roads_rails": lines},
        box(5_000, -150, 5_100, 150),
        box(5_000, 120, 5_100, 180),
        min_passage_m=100.0,
    )
    assert out["severs"].tolist() == [True, False]


def test_meander_leaving_the_window_counts_as_connected() -> None:
    # A secondary river (h = 300) along y = 0, turning at x = 10 000 and back along y = 1500:
    # its two arms are joined beyond the window. Blocking one arm severs; a site between the
    # arms that touches neither does not.
    hairpin = river((0, 0), (10_000, 0), (10_000, 1_500), (0, 1_500))
    hairpin["corridor"] = "secondary"
    out = assess(
        hairpin, box(4_000, -500, 4_500, 400), box(4_000, 400, 4_500, 1_100), min_passage_m=200.0
    )
    assert out["severs"].tolist() == [True, False]


@pytest.mark.parametrize("split", [False, True])
def test_ends_joined_beyond_the_window_stay_joined(split: bool) -> None:
    # One secondary river (h = 300): a lower arm along y = 0, and, after a loop far to the east,
    # a V whose tip (4000, 500) dips into the lower arm's corridor. The site blocks only that
    # neck; the lower arm and the V still meet beyond the window, so nothing is cut off. The
    # loop may be one feature or two reaches meeting at (20000, 5000).
    east = [(-20_000, 0), (20_000, 0), (20_000, 5_000)]
    west = [(20_000, 5_000), (4_000, 5_000), (4_000, 500), (3_000, 5_000), (-20_000, 5_000)]
    loop = layer(
        *((LineString(east), LineString(west)) if split else (LineString(east + west[1:]),)),
        corridor="secondary",
    )
    neck = box(3_500, 250, 4_500, 350)
    out = assess(loop, neck, box(3_500, -400, 4_500, 350), min_passage_m=200.0)
    assert out["severs"].tolist() == [False, True]


# --------------------------------------------------------------------------------------------
# severance: batch, inputs, errors


def test_batch_equals_one_pair_at_a_time_and_keeps_pairs_index() -> None:
    lines = layer(LineString([(0, 0), (10_000, 0)]), LineString([(0, 8_000), (10_000, 8_000)]))
    corridors = build_corridors({"rivers": lines}, half_widths_m=HALF)
    sites = gpd.GeoDataFrame(
        {"site_id": ["a", "b", "c"]},
        geometry=[
            box(4_000, -1_500, 4_500, 1_500),
            box(4_000, 7_700, 4_500, 9_500),
            box(4_000, 500, 4_500, 7_200),
        ],
        crs=WORKING_CRS,
        index=[10, 20, 30],
    )
    before = sites.copy()
    pairs = pd.DataFrame({"subject": [0, 1, 2, 2], "feature": [0, 1, 0, 1]}, index=[7, 8, 9, 11])
    batch = severance(sites, corridors, pairs, min_passage_m={"provincial": 500.0})
    assert batch.index.tolist() == [7, 8, 9, 11]
    assert batch["severs"].tolist() == [True, False, False, False]
    single = pd.concat(
        [
            severance(sites, corridors, pairs.iloc[[i]], min_passage_m=500.0)
            for i in range(len(pairs))
        ]
    )
    pd.testing.assert_frame_equal(batch, single)
    pd.testing.assert_frame_equal(sites, before)
    array = severance(np.asarray(sites.geometry.values), corridors, pairs, min_passage_m=500.0)
    pd.testing.assert_frame_equal(batch, array)


@pytest.mark.parametrize(
    ("min_passage", "error", "match"),
    [
        (
            {"secondary": 100.0},
            RuleError,
            r"no minimum passage width for corridor class\(es\) 'provincial'; given: secondary",
        ),
        (
            {"provincial": 500.0, "tertiary": 1.0},
            RuleError,
            r"unknown corridor class\(es\).*'tertiary'",
        ),
        ({"provincial": -1.0}, RuleError, r"min_passage_m\['provincial'\] must be a positive"),
        (2_000.0, RuleError, r"provincial corridors \(2000 m\) is not narrower than the corridor"),
    ],
)
def test_bad_min_passage(min_passage: object, error: type[Exception], match: str) -> None:
    corridors = build_corridors({"rivers": river()}, half_widths_m=HALF)
    sites = gpd.GeoSeries([box(0, 0, 1, 1)], crs=WORKING_CRS)
    pairs = pd.DataFrame({"subject": [0], "feature": [0]})
    with pytest.raises(error, match=match):
        severance(sites, corridors, pairs, min_passage_m=min_passage)  # type: ignore[arg-type]


def test_bad_severance_inputs() -> None:
    corridors = build_corridors({"rivers": river()}, half_widths_m=HALF)
    sites = gpd.GeoSeries([box(0, 0, 1, 1)], crs=WORKING_CRS)
    pairs = pd.DataFrame({"subject": [0], "feature": [0]})
    with pytest.raises(RuleError, match=r"line_width_m must be a positive number"):
        severance(sites, corridors, pairs, min_passage_m=500.0, line_width_m=0.0)
    with pytest.raises(TypeError, match=r"1-d array of shapely geometries"):
        severance(np.array([1.0]), corridors, pairs, min_passage_m=500.0)
    with pytest.raises(CRSError, match=r"sites have WGS 84 but the corridors have"):
        severance(sites.set_crs(4326, allow_override=True), corridors, pairs, min_passage_m=500.0)
    with pytest.raises(LayerError, match=r"corridors lack column\(s\) centreline"):
        severance(sites, corridors.drop(columns="centreline"), pairs, min_passage_m=500.0)
    with pytest.raises(LayerError, match=r"pairs lack column\(s\) feature"):
        severance(sites, corridors, pairs.rename(columns={"feature": "f"}), min_passage_m=500.0)
    with pytest.raises(LayerError, match=r"pairs\['feature'\] refers to row position\(s\) \[3\]"):
        severance(sites, corridors, pairs.assign(feature=3), min_passage_m=500.0)
    with pytest.raises(LayerError, match=r"pairs\['subject'\] must hold integer row positions"):
        severance(sites, corridors, pairs.assign(subject=0.0), min_passage_m=500.0)
    null = gpd.GeoSeries([None], crs=WORKING_CRS)
    with pytest.raises(GeometryError, match=r"1 site geometries .* null or empty \(site rows"):
        severance(null, corridors, pairs, min_passage_m=500.0)
    bowtie = gpd.GeoSeries([shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])], crs=WORKING_CRS)
    with pytest.raises(GeometryError, match=r"invalid \(site rows \[0\]: Self-intersection"):
        severance(bowtie, corridors, pairs, min_passage_m=500.0)


def test_widths_of_severing_pairs_only() -> None:
    """``widths_of="severing"`` gives the same verdicts and the same widths for the pairs that
    sever, and leaves the others unmeasured (NaN)."""
    lines = layer(LineString([(0, 0), (10_000, 0)]))
    corridors = build_corridors({"rivers": lines}, half_widths_m=HALF)
    sites = gpd.GeoSeries([box(4_000, -1_500, 4_500, 1_500), box(4_000, 200, 4_500, 1_500)],
                          crs=WORKING_CRS)
    pairs = pd.DataFrame({"subject": [0, 1], "feature": [0, 0]})
    every = severance(sites, corridors, pairs, min_passage_m=500.0)
    severing = severance(sites, corridors, pairs, min_passage_m=500.0, widths_of="severing")
    assert severing["severs"].tolist() == every["severs"].tolist() == [True, False]
    assert severing["passage_m"][0] == every["passage_m"][0]
    assert np.isnan(severing["passage_m"][1]) and every["passage_m"][1] > 1_000
    assert not shapely.is_prepared(corridors.geometry.to_numpy()).any()  # copies were prepared


def test_points_are_decided_without_a_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``widths_of="severing"`` a point (no footprint) is decided by the shortcut, never
    assessed in a window: its empty footprint is not taken for a convex site."""

    def assessed(*args: object, **kwargs: object) -> None:
        raise AssertionError("a point was assessed in a window")

    monkeypatch.setattr(redline.corridors, "_assess", assessed)
    points = [shapely.Point(5_000, 0), shapely.MultiPoint([(5_000, 990), (5_000, -990)])]
    out = assess(river(), *points, widths_of="severing")
    assert out["severs"].tolist() == [False, False]
    assert out[["passage_m", "corridor_passage_m"]].isna().all().all()
