"""Tests of redline.screen on the hand-built world of conftest.py and the sample.

Every expected finding below is worked out by hand from the world's layout (conftest.py) and the
bundled Jilin ruleset's activity × zone matrix (src/redline/rules/jilin.toml).
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely import box

from conftest import (
    ANCHORS,
    CROPLAND,
    FOREST_X,
    NODATA,
    NODATA_BOX,
    RIVER_Y,
    ROAD_X,
    _grid,
    frame,
    inside,
    tilted_dem,
    write_raster,
)
from redline import schema, screen
from redline.crs import WORKING_CRS
from redline.errors import CRSError, LayerError, RedlineWarning
from redline.planning import Planning
from redline.screening import (
    FINDING_COLUMNS,
    SITE_COLUMNS,
    Screening,
    _identities,
    concat_findings,
    findings_columns,
)

CLEAR_SITE = box(100, 100, 300, 300)

#: case → (geometry, project type, {rule id: severity} expected, verdict expected)
CASES: dict[str, tuple[shapely.Geometry, str | None, dict[str, str], str]] = {
    "redline-residential": (
        inside("redline"),
        "residential",
        {"ECO-REDLINE": "prohibited"},
        "prohibited",
    ),
    "redline-linear": (
        inside("redline"),
        "linear_infrastructure",
        {"ECO-REDLINE": "conditional"},
        "conditional",
    ),
    "redline-untyped": (inside("redline"), None, {"ECO-REDLINE": "prohibited"}, "prohibited"),
    "redline-住宅": (inside("redline"), "住宅", {"ECO-REDLINE": "prohibited"}, "prohibited"),
    "redline-线性基础设施": (
        inside("redline"),
        "线性基础设施",
        {"ECO-REDLINE": "conditional"},
        "conditional",
    ),
    # 30 m × 40 m of a 100 m × 40 m site inside the red line's east edge: 1 200 m², share 0.3
    "redline-1200": (
        inside("redline", 1_970, 1_000, 2_070, 1_040),
        "residential",
        {"ECO-REDLINE": "prohibited"},
        "prohibited",
    ),
    "core-residential": (inside("core"), "residential", {"NR-CORE": "prohibited"}, "prohibited"),
    "core-point": (
        shapely.Point(ANCHORS["core"][0] + 500, ANCHORS["core"][1] + 500),
        "research_monitoring",
        {"NR-CORE": "conditional"},  # 2026 art. 26: research observation is an exception
        "conditional",
    ),
    "core-restoration": (
        inside("core"), "ecological_restoration", {"NR-CORE": "conditional"}, "conditional",
    ),
    # the buffer zone of three-zone data is read as the 2026 core protection zone
    "buffer-research": (
        inside("buffer"),
        "research_monitoring",
        {"NR-CORE": "conditional"},
        "conditional",
    ),
    "buffer-residential": (
        inside("buffer"),
        "residential",
        {"NR-CORE": "prohibited"},
        "prohibited",
    ),
    "buffer-tourism": (inside("buffer"), "tourism", {"NR-CORE": "prohibited"}, "prohibited"),
    "experimental-tourism": (
        inside("experimental"),
        "tourism",
        {"NR-EXPERIMENTAL": "conditional"},
        "conditional",
    ),
    # the experimental zone of three-zone data is read as the 2026 general control zone
    "experimental-residential": (
        inside("experimental"), "residential", {"NR-EXPERIMENTAL": "prohibited"}, "prohibited",
    ),
    "experimental-commercial": (
        inside("experimental"), "commercial", {"NR-EXPERIMENTAL": "prohibited"}, "prohibited",
    ),
    "experimental-public": (
        inside("experimental"), "public_service", {"NR-EXPERIMENTAL": "conditional"},
        "conditional",
    ),
    "experimental-untyped": (
        inside("experimental"), None, {"NR-EXPERIMENTAL": "prohibited"}, "prohibited",
    ),
    "experimental-industrial": (
        inside("experimental"),
        "industrial",
        {"NR-EXPERIMENTAL": "prohibited"},
        "prohibited",
    ),
    "ws1-residential": (inside("ws1"), "residential", {"WS-LEVEL1": "prohibited"}, "prohibited"),
    "ws1-water": (
        inside("ws1"),
        "water_infrastructure",
        {"WS-LEVEL1": "conditional"},
        "conditional",
    ),
    "ws2-residential": (inside("ws2"), "residential", {"WS-LEVEL2": "conditional"}, "conditional"),
    "wsq-residential": (inside("wsq"), "residential", {"WS-QUASI": "advisory"}, "advisory"),
    # art. 67 bars only seriously polluting projects: industry needs approval, not a ban
    "wsq-industrial": (inside("wsq"), "industrial", {"WS-QUASI": "conditional"}, "conditional"),
    "wsq-mining": (inside("wsq"), "mining", {"WS-QUASI": "conditional"}, "conditional"),
    "wsq-untyped": (inside("wsq"), None, {"WS-QUASI": "conditional"}, "conditional"),
    # art. 66 bars discharging projects: solar and grid discharge nothing, energy may
    "ws2-solar": (inside("ws2"), "光伏", {"WS-LEVEL2": "conditional"}, "conditional"),
    "ws2-grid": (inside("ws2"), "power_grid", {"WS-LEVEL2": "conditional"}, "conditional"),
    "ws2-energy": (inside("ws2"), "energy", {"WS-LEVEL2": "prohibited"}, "prohibited"),
    "farmland-solar": (inside("farmland"), "solar_pv", {"FARM-BASIC": "prohibited"}, "prohibited"),
    "farmland-energy": (inside("farmland"), "energy", {"FARM-BASIC": "prohibited"}, "prohibited"),
    "farmland-grid": (inside("farmland"), "输变电", {"FARM-BASIC": "conditional"}, "conditional"),
    "farmland-national": (
        inside("farmland"), "national_major", {"FARM-BASIC": "conditional"}, "conditional",
    ),
    "farmland-facility": (
        inside("farmland"), "设施农业", {"FARM-BASIC": "conditional"}, "conditional",
    ),
    "redline-national": (
        inside("redline"), "国家重大项目", {"ECO-REDLINE": "conditional"}, "conditional",
    ),
    "redline-grid": (
        inside("redline"), "power_grid", {"ECO-REDLINE": "conditional"}, "conditional",
    ),
    "redline-wind": (inside("redline"), "wind", {"ECO-REDLINE": "prohibited"}, "prohibited"),
    "scenic-wind": (
        inside("scenic"), "风电", {"SCN-SCENIC-AREA": "prohibited", "SCN-PROTECTED": "prohibited"},
        "prohibited",
    ),
    "scenic-solar": (
        inside("scenic"), "solar_pv",
        {"SCN-SCENIC-AREA": "conditional", "SCN-PROTECTED": "conditional"}, "conditional",
    ),
    "farmland-residential": (
        inside("farmland"),
        "residential",
        {"FARM-BASIC": "prohibited"},
        "prohibited",
    ),
    "farmland-agriculture": (
        inside("farmland"),
        "agriculture",
        {"FARM-BASIC": "advisory"},
        "advisory",
    ),
    # a 3 km pipeline, 2 km of it across the farmland square
    "farmland-pipeline": (
        shapely.LineString(
            [
                (ANCHORS["farmland"][0] - 500, ANCHORS["farmland"][1] + 1_000),
                (ANCHORS["farmland"][0] + 2_500, ANCHORS["farmland"][1] + 1_000),
            ]
        ),
        "linear_infrastructure",
        {"FARM-BASIC": "conditional"},
        "conditional",
    ),
    "scenic-residential": (
        inside("scenic"),
        "residential",
        {"SCN-SCENIC-AREA": "conditional", "SCN-PROTECTED": "conditional"},
        "conditional",
    ),
    "zone-prohibited": (
        inside("zone_prohibited"),
        "residential",
        {"ZON-PROHIBITED": "prohibited"},
        "prohibited",
    ),
    "zone-ecological": (
        inside("zone_ecological"),
        "residential",
        {"ZON-RESTRICTED-ECO": "conditional", "ZON-RESTRICTED": "advisory"},
        "conditional",
    ),
    "zone-ecological-untyped": (
        inside("zone_ecological"),
        None,
        {"ZON-RESTRICTED-ECO": "prohibited", "ZON-RESTRICTED": "advisory"},
        "prohibited",
    ),
    "zone-agricultural": (
        inside("zone_agricultural"),
        "residential",
        {"ZON-RESTRICTED-AGRI": "advisory", "ZON-RESTRICTED": "advisory"},
        "advisory",
    ),
    "zone-restricted": (
        inside("zone_restricted"),
        "residential",
        {"ZON-RESTRICTED": "advisory"},
        "advisory",
    ),
    # inside the 1 km hole of a core zone: 400 m from the reserve, never inside it
    "reserve-hole": (inside("holed_core"), "residential", {"PRX-RESERVE": "advisory"}, "advisory"),
    # proximity: the second red line's east edge is x = 4 000
    "near-1000": (
        box(5_000, 18_500, 5_100, 18_600),
        "residential",
        {"PRX-REDLINE": "advisory"},
        "advisory",
    ),
    "near-1000.5": (box(5_000.5, 18_500, 5_100.5, 18_600), "residential", {}, "clear"),
    "near-touching": (
        box(4_000, 18_500, 4_100, 18_600),
        "residential",
        {"PRX-REDLINE": "advisory"},
        "advisory",
    ),
    # the provincial corridor is y ∈ [9 000, 11 000]
    "river-spanning": (
        box(-250, RIVER_Y - 1_500, 250, RIVER_Y + 1_500),
        "residential",
        {"COR-PROVINCIAL": "conditional", "COR-PROVINCIAL-SEVER": "prohibited"},
        "prohibited",
    ),
    "river-one-bank": (
        box(-250, RIVER_Y + 200, 250, RIVER_Y + 1_500),
        "residential",
        {"COR-PROVINCIAL": "conditional"},
        "conditional",
    ),
    # the secondary road corridor is x ∈ [24 900, 25 100]; minimum passage 100 m
    "road-spanning": (
        box(ROAD_X - 200, -10_100, ROAD_X + 200, -9_900),
        "residential",
        {"COR-SECONDARY": "advisory", "COR-SECONDARY-SEVER": "conditional"},
        "conditional",
    ),
    # 10 m × 10 m sites on a 100 m grid straddling the wetland | forest pixel edge x = 12 100
    "pixel-30-70": (
        box(FOREST_X - 3, 500, FOREST_X + 7, 510),
        "residential",
        {"LC-FOREST": "conditional"},  # 森林法 art. 37: any forest land needs consent
        "conditional",
    ),
    "pixel-70-30": (
        box(FOREST_X - 7, 500, FOREST_X + 3, 510),
        "residential",
        {"LC-WETLAND": "conditional", "LC-FOREST": "conditional"},
        "conditional",
    ),
    # across the forest column's east edge x = 12 200: 2 % forest is found, 0.5 % is noise
    "forest-2pc": (box(FOREST_X + 98, 500, FOREST_X + 198, 510), "residential",
                   {"LC-FOREST": "conditional"}, "conditional"),
    "forest-0.5pc": (box(FOREST_X + 99.5, 500, FOREST_X + 199.5, 510), "residential", {},
                     "clear"),
    "clear": (CLEAR_SITE, "residential", {}, "clear"),
    "clear-untyped": (CLEAR_SITE, None, {}, "clear"),
}
#: case → not_assessed reason expected
NOT_ASSESSED: dict[str, tuple[shapely.Geometry | None, str]] = {
    "null": (None, "null geometry"),
    "empty": (shapely.Polygon(), "empty geometry"),
    "outside-extent": (box(40_000, 0, 40_100, 100), "outside the planning extent"),
    "no-landcover-data": (
        box(NODATA_BOX[0] + 400, 400, NODATA_BOX[0] + 600, 600),
        "no landcover data under the site",
    ),
    # half on the nodata block, half on cropland: the unknown half could be wetland
    "part-landcover-data": (
        box(NODATA_BOX[0] - 100, 400, NODATA_BOX[0] + 100, 600),
        "landcover data cover only part of the site",
    ),
    "mixed": (
        shapely.GeometryCollection([box(0, 0, 10, 10), shapely.LineString([(20, 0), (30, 0)])]),
        "mixes polygons with lines or points",
    ),
}


def sites_frame(cases: dict[str, tuple], crs=WORKING_CRS, **columns: list) -> gpd.GeoDataFrame:
    rows = [
        {"site_id": name, "name": f"地块 {name}", "project_type": case[1]}
        for name, case in cases.items()
    ]
    gdf = frame(rows, [case[0] for case in cases.values()], crs=WORKING_CRS)
    for column, values in columns.items():
        gdf[column] = values
    return gdf.to_crs(crs)


def found(result: Screening, site_id: str) -> dict[str, str]:
    rows = result.findings[result.findings["site_id"] == site_id]
    assert not rows["rule_id"].duplicated().any(), rows
    return dict(zip(rows["rule_id"], rows["severity"], strict=True))


def one(result: Screening, site_id: str, rule_id: str) -> pd.Series:
    rows = result.findings[
        (result.findings["site_id"] == site_id) & (result.findings["rule_id"] == rule_id)
    ]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def site(result: Screening, site_id: str) -> pd.Series:
    return result.sites.set_index("site_id").loc[site_id]


def label(result: Screening, site_id: str) -> object:
    """The caller's index label of a site."""
    return result.sites.index[result.sites["site_id"] == site_id][0]


@pytest.fixture(scope="module")
def everything(world: Planning) -> Screening:
    cases = {**CASES, **{k: (g, "residential") for k, (g, _) in NOT_ASSESSED.items()}}
    return screen(sites_frame(cases), world)


# -- every rule family, every verdict ---------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_rule_families_and_project_types(everything: Screening, case: str) -> None:
    _, _, expected, verdict = CASES[case]
    assert found(everything, case) == expected
    row = site(everything, case)
    assert row["verdict"] == verdict
    assert row["verdict_zh"] == schema.VERDICT_LABELS[verdict]
    assert row["n_findings"] == len(expected)
    assert pd.isna(row["not_assessed_reason"])
    if expected:
        strictest = min(expected.values(), key=schema.severity_rank)
        decisive = next(r for r, s in expected.items() if s == strictest)
        assert row["decisive_rule"] == decisive
        assert row["decisive_clause"] == str(everything.rules[decisive].clause)
    else:
        assert pd.isna(row["decisive_rule"]) and pd.isna(row["decisive_clause"])


@pytest.mark.parametrize("case", list(NOT_ASSESSED))
def test_not_assessed_never_clear(everything: Screening, case: str) -> None:
    row = site(everything, case)
    assert row["verdict"] == "not_assessed"
    assert row["verdict_zh"] == "未评估"
    assert NOT_ASSESSED[case][1] in row["not_assessed_reason"]
    assert pd.isna(row["decisive_rule"])


def test_every_verdict_occurs(everything: Screening) -> None:
    assert set(everything.sites["verdict"]) == set(schema.VERDICTS)
    summary = everything.summary().set_index("verdict")["sites"]
    assert summary.sum() == len(everything.sites) and (summary > 0).all()


def test_output_columns(everything: Screening) -> None:
    added = [c for c in SITE_COLUMNS if c != "site_id"]  # site_id: the caller's column
    assert list(everything.sites.columns[-len(added) :]) == added
    assert list(everything.findings.columns) == [*FINDING_COLUMNS, "geometry"]
    assert everything.findings.crs == WORKING_CRS
    assert everything.findings["clause"].str.len().gt(0).all()
    assert everything.findings["conditions"].str.len().gt(0).all()


# -- measures in the findings -----------------------------------------------------------------


def test_overlap_area_and_share_by_hand(everything: Screening) -> None:
    hit = one(everything, "redline-1200", "ECO-REDLINE")
    assert hit["overlap_m2"] == pytest.approx(1_200.0, rel=1e-9)
    assert hit["overlap_share"] == pytest.approx(0.3, rel=1e-9)
    assert hit["distance_m"] == 0.0
    assert (hit["feature_id"], hit["feature_name"], hit["layer"]) == ("RL-1", "红线一", "redlines")
    assert hit.geometry.area == pytest.approx(1_200.0, rel=1e-9)  # the overlap itself
    inner = one(everything, "redline-residential", "ECO-REDLINE")
    assert (inner["overlap_m2"], inner["overlap_share"]) == (pytest.approx(40_000.0), 1.0)
    overlaps = everything.layer_overlaps.loc[label(everything, "redline-1200")]
    assert overlaps["redlines"] == pytest.approx(1_200.0) and overlaps["farmland"] == 0.0


def test_line_and_point_sites(everything: Screening) -> None:
    pipe = one(everything, "farmland-pipeline", "FARM-BASIC")
    assert pipe["overlap_m"] == pytest.approx(2_000.0, rel=1e-9)
    assert pipe["overlap_share"] == pytest.approx(2 / 3, rel=1e-9)
    assert pipe["overlap_m2"] == 0.0
    point = one(everything, "core-point", "NR-CORE")
    assert point["overlap_share"] == 1.0


def test_findings_say_which_clause_is_verified_and_which_zone_was_mapped(
    everything: Screening,
) -> None:
    buffer = one(everything, "buffer-residential", "NR-CORE")
    assert buffer["value_mapping"] == "zone: buffer → core_protection"
    assert buffer["clause_verified"] and "第二十六条" in buffer["clause"]
    assert one(everything, "experimental-residential", "NR-EXPERIMENTAL")["value_mapping"] == (
        "zone: experimental → general_control")
    assert one(everything, "core-residential", "NR-CORE")["value_mapping"] == (
        "zone: core → core_protection")
    redline = one(everything, "redline-residential", "ECO-REDLINE")
    assert pd.isna(redline["value_mapping"]) and redline["clause_verified"]
    zone = one(everything, "zone-prohibited", "ZON-PROHIBITED")
    assert not zone["clause_verified"] and zone["clause"].endswith("〔未核验 unverified〕")
    assert everything.findings["clause_verified"].dtype == bool


def test_proximity_boundary_and_edge_contact(everything: Screening) -> None:
    at = one(everything, "near-1000", "PRX-REDLINE")
    assert at["distance_m"] == 1_000.0 and at["feature_id"] == "RL-2"
    assert pd.isna(at["overlap_m2"])
    touching = one(everything, "near-touching", "PRX-REDLINE")
    assert touching["distance_m"] == 0.0
    assert touching.geometry.equals(
        everything.sites.set_index("site_id").to_crs(WORKING_CRS).geometry.loc["near-touching"]
    )
    edge = everything.layer_overlaps.loc[label(everything, "near-touching")]
    assert edge["redlines"] == 0.0


def test_hole_of_a_reserve_is_not_inside_it(everything: Screening) -> None:
    assert "NR-CORE" not in found(everything, "reserve-hole")
    assert one(everything, "reserve-hole", "PRX-RESERVE")["distance_m"] == pytest.approx(400.0)
    assert everything.layer_overlaps.loc[label(everything, "reserve-hole"), "reserves"] == 0.0


def test_corridor_severance_pair(everything: Screening) -> None:
    cut = one(everything, "river-spanning", "COR-PROVINCIAL-SEVER")
    assert cut["measure"] == "widest passage left 0 m"
    assert cut["feature_id"] == "RV-1" and cut["feature_name"] == "松花江"
    crossing = one(everything, "river-spanning", "COR-PROVINCIAL")
    assert crossing["overlap_m2"] == pytest.approx(500.0 * 2_000.0, rel=1e-6)
    bank = one(everything, "river-one-bank", "COR-PROVINCIAL")
    assert bank["overlap_m2"] == pytest.approx(500.0 * 800.0, rel=1e-6)


def test_landcover_share_of_a_site_smaller_than_a_pixel(everything: Screening) -> None:
    forest = one(everything, "pixel-30-70", "LC-FOREST")
    assert forest["overlap_share"] == pytest.approx(0.7, abs=1e-6)
    assert forest["measure"] == "forest 70% of the site"
    wetland = one(everything, "pixel-70-30", "LC-WETLAND")
    assert wetland["overlap_share"] == pytest.approx(0.7, abs=1e-6)


@pytest.mark.parametrize(
    ("slope", "expected"),
    [
        (
            30.0,
            {
                "residential": {"SLOPE-STEEP": "advisory"},
                "agriculture": {"SLOPE-CULTIVATION": "conditional"},
                "public_service": {},
                None: {"SLOPE-STEEP": "advisory", "SLOPE-CULTIVATION": "conditional"},
            },
        ),
        (20.0, {"residential": {}, "agriculture": {}, "public_service": {}, None: {}}),
    ],
)
def test_slope_rules_on_a_tilted_plane(
    make_planning: Callable[..., Planning], tmp_path: Path, slope: float, expected: dict
) -> None:
    planning = make_planning(dem=tilted_dem(tmp_path / "dem.tif", slope))
    cases = {str(t): (CLEAR_SITE, t) for t in expected}
    result = screen(sites_frame(cases), planning)
    for ptype, rules in expected.items():
        assert found(result, str(ptype)) == rules
    if slope == 30.0:
        steep = one(result, "residential", "SLOPE-STEEP")
        assert steep["measure"] == "max slope 30.0°"
        assert pd.isna(steep["overlap_share"])  # a slope is not a share of the site
        assert pd.isna(one(result, "agriculture", "SLOPE-CULTIVATION")["overlap_share"])


# -- what cannot be assessed ------------------------------------------------------------------


def test_missing_raster_layer(make_planning: Callable[..., Planning]) -> None:
    result = screen(
        sites_frame(
            {
                "residential": (CLEAR_SITE, "residential"),
                "public_service": (CLEAR_SITE, "public_service"),
            }
        ),
        make_planning(dem=None),
    )
    housing = site(result, "residential")
    assert housing["verdict"] == "not_assessed"
    assert "'dem'" in housing["not_assessed_reason"]
    assert "SLOPE-" in housing["not_assessed_reason"]
    assert site(result, "public_service")["verdict"] == "clear"  # no slope rule applies to it


def test_missing_vector_layer(make_planning: Callable[..., Planning]) -> None:
    result = screen(
        sites_frame({"a": (CLEAR_SITE, "public_service")}), make_planning(redlines=None)
    )
    row = site(result, "a")
    assert row["verdict"] == "not_assessed"
    assert "'redlines'" in row["not_assessed_reason"]
    three_lines = result.three_lines().iloc[0]
    assert three_lines["占用生态保护红线 occupies red line"] == "未评估 not assessed"


def test_missing_corridor_line_layer(make_planning: Callable[..., Planning]) -> None:
    # Secondary corridors are built from rivers *and* roads: without the roads a site on a
    # highway corridor would read clear.
    result = screen(sites_frame({"road": CASES["road-spanning"]}), make_planning(roads_rails=None))
    row = site(result, "road")
    assert row["verdict"] == "not_assessed"
    assert "'roads_rails'" in row["not_assessed_reason"]


def test_landcover_without_a_class_a_rule_reads(
    make_planning: Callable[..., Planning], tmp_path: Path
) -> None:
    # A class table without wetland: the raster holds no wetland, so no wetland finding.
    n = _grid()[0]
    path = write_raster(
        tmp_path / "crop.tif", np.full((n, n), CROPLAND, dtype=np.uint8), nodata=NODATA
    )
    planning = make_planning(landcover=path, landcover_classes={CROPLAND: "cropland"})
    result = screen(sites_frame({"a": (CLEAR_SITE, "residential")}), planning)
    assert site(result, "a")["verdict"] == "clear"


def test_county_planning_without_corridors(make_planning: Callable[..., Planning]) -> None:
    # The extent is a county no corridor reaches: nothing to find there, and no error.
    county = frame(
        [{"feature_id": "C-1", "name": "某县", "level": "county"}],
        [box(-2_000, -2_000, 2_000, 2_000)],
    )
    result = screen(
        sites_frame({"a": CASES["clear"], "b": CASES["river-spanning"]}),
        make_planning(boundary=county),
    )
    assert result.sites["verdict"].tolist() == ["clear", "not_assessed"]
    assert site(result, "b")["not_assessed_reason"] == "outside the planning extent"


# -- sites in other CRSs ------------------------------------------------------------------------


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:4326"])
def test_sites_in_another_crs(world: Planning, everything: Screening, crs: str) -> None:
    names = [
        "redline-1200",
        "farmland-pipeline",
        "river-one-bank",
        "reserve-hole",
        "zone-ecological",
        "pixel-30-70",
    ]
    cases = {name: CASES[name] for name in names}
    result = screen(sites_frame(cases, crs=crs), world)
    assert list(result.sites["verdict"]) == [CASES[n][3] for n in names]
    assert result.sites.crs == crs  # the caller's geometry is kept as given
    keys = ["site_id", "rule_id", "feature_id"]
    theirs = result.findings.drop(columns="geometry").sort_values(keys, ignore_index=True)
    ours = everything.findings[everything.findings["site_id"].isin(names)]
    ours = ours.drop(columns="geometry").sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(theirs, ours, check_exact=False, rtol=1e-6, atol=1e-6)


def test_sites_without_crs(world: Planning) -> None:
    sites = sites_frame({"clear": CASES["clear"]}).set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="no coordinate reference system"):
        screen(sites, world)
    assert screen(sites, world, crs=WORKING_CRS).sites["verdict"].tolist() == ["clear"]


# -- project types -----------------------------------------------------------------------------


def test_project_type_mapping(everything: Screening) -> None:
    used = everything.sites.set_index("site_id")["project_type_used"]
    assert used["redline-住宅"] == "residential"
    assert used["redline-线性基础设施"] == "linear_infrastructure"
    assert used["redline-untyped"] == schema.GENERAL_CONSTRUCTION


def test_unknown_project_type_is_screened_as_general(world: Planning) -> None:
    sites = sites_frame(
        {
            "a": (inside("zone_ecological"), "spaceport"),
            "b": (inside("zone_ecological"), "residential"),
        }
    )
    with pytest.warns(RedlineWarning, match=r"unknown project_type values \['spaceport'\]"):
        result = screen(sites, world)
    assert site(result, "a")["project_type_used"] == schema.GENERAL_CONSTRUCTION
    assert found(result, "a") == CASES["zone-ecological-untyped"][2]
    assert site(result, "b")["verdict"] == "conditional"


def test_project_type_survives_a_shapefile_round_trip(world: Planning, tmp_path) -> None:
    """A Shapefile cuts ``project_type`` to ``project_ty``; the types must still be read
    (a linear project crossing a red line is conditional, not general construction)."""
    sites = sites_frame({"a": (inside("redline"), "linear_infrastructure")})
    with pytest.warns(RuntimeWarning, match="'project_type' to 'project_ty'"):
        pyogrio.write_dataframe(sites, tmp_path / "sites.shp")
    back = gpd.read_file(tmp_path / "sites.shp")
    assert "project_ty" in back.columns and "project_type" not in back.columns
    result = screen(back, world)
    assert site(result, "a")["project_type_used"] == "linear_infrastructure"
    assert site(result, "a")["verdict"] == "conditional"


# -- site ids, index, columns, inputs ------------------------------------------------------------


def test_duplicate_site_id(world: Planning) -> None:
    sites = sites_frame({"a": CASES["clear"], "b": CASES["clear"]})
    sites["site_id"] = ["X-1", " X-1"]
    with pytest.raises(LayerError, match=r"site_id values are not unique: \['X-1'\]"):
        screen(sites, world)


@pytest.mark.parametrize("blank", ["", "  ", None])
def test_blank_site_id(world: Planning, blank: str | None) -> None:
    sites = sites_frame({"a": CASES["clear"], "b": CASES["clear"]})
    sites["site_id"] = ["X-1", blank]
    with pytest.raises(LayerError, match="1 sites have no site_id"):
        screen(sites, world)


def test_without_site_id_the_index_is_used(world: Planning) -> None:
    sites = sites_frame({"a": CASES["redline-1200"], "b": CASES["clear"]}).drop(columns="site_id")
    sites.index = [10, 20]
    result = screen(sites, world)
    assert result.sites["site_id"].tolist() == ["10", "20"]
    assert result.findings["site_id"].tolist() == ["10"]


def test_caller_index_and_columns_kept_input_untouched(world: Planning) -> None:
    sites = sites_frame(
        {"a": CASES["redline-1200"], "b": CASES["clear"], "c": (None, "residential")},
        备注=["甲", "乙", "丙"],
    ).to_crs(4490)
    sites.index = pd.Index(["first", "second", "third"], name="key")
    before = copy.deepcopy(sites)
    result = screen(sites, world)
    assert_geodataframe_equal(sites, before)
    assert result.sites.index.equals(before.index)
    assert list(result.sites.columns[: len(before.columns)]) == list(before.columns)
    assert_geodataframe_equal(result.sites[list(before.columns)], before)
    assert result.layer_overlaps.index.equals(before.index)
    assert result.sites["verdict"].tolist() == ["prohibited", "clear", "not_assessed"]


def test_not_a_geodataframe(world: Planning) -> None:
    with pytest.raises(TypeError, match="sites must be a GeoDataFrame"):
        screen(pd.DataFrame({"site_id": ["a"]}), world)


def test_a_site_with_no_findings_alone(world: Planning) -> None:
    result = screen(sites_frame({"clear": CASES["clear"]}), world)
    assert len(result.findings) == 0
    assert list(result.findings.columns) == [*FINDING_COLUMNS, "geometry"]
    assert "clear 1" in repr(result)


def test_each_result_has_its_own_findings_table(world: Planning) -> None:
    first = screen(sites_frame({"clear": CASES["clear"]}), world)
    first.findings["note"] = "changed"
    second = screen(sites_frame({"clear": CASES["clear"]}), world)
    assert list(second.findings.columns) == [*FINDING_COLUMNS, "geometry"]
    assert second.findings.crs == world.crs


def test_a_rules_texts_are_one_object_for_all_its_findings(everything: Screening) -> None:
    """Rule texts repeat on every finding: copied per row they filled gigabytes at a million
    sites (``np.full`` makes a new string per element)."""
    findings = everything.findings
    for rule_id in findings["rule_id"].unique():
        rows = findings[findings["rule_id"] == rule_id]
        for column in ("rule_id", "rule_title", "layer", "clause", "conditions", "conditions_en"):
            assert len({id(value) for value in rows[column]}) == 1, (rule_id, column)
    assert (findings["rule_id"].value_counts() > 1).any()  # not vacuous


def test_findings_sent_between_processes_come_back_equal(sample_screening: Screening) -> None:
    """What forked workers send (repeated texts and geometries coded, each distinct object
    sent once) is the table again, missing values as they were: None, NaN, or both in one
    column."""
    table = sample_screening.findings.copy()
    table["feature_name"] = table["feature_name"].where(table.index % 3 > 0, np.nan)
    table.loc[table.index % 5 == 0, "conditions"] = None
    table.loc[table.index % 7 == 0, "conditions"] = np.nan
    halves = [table.iloc[: len(table) // 2], table.iloc[len(table) // 2 :]]
    sent = [findings_columns(half) for half in halves]
    assert sent[0]["rule_title"].codes.dtype == np.int16  # coded
    geometry = sent[0]["geometry"]  # a site's own geometry once for all its findings
    assert len(geometry.values) < len(geometry.codes) and geometry.values[0][:1] in (b"\x00",
                                                                                 b"\x01")
    both = pickle.loads(pickle.dumps(sent))
    back = concat_findings(both, crs=table.crs)
    pd.testing.assert_frame_equal(back, table.reset_index(drop=True), check_exact=True)
    nan_name = back["feature_name"].to_numpy()[0]
    assert isinstance(nan_name, float) and np.isnan(nan_name)  # NaN stays NaN, not None
    assert back["conditions"].to_numpy()[5] is None and both == []


def test_identities_are_the_objects_ids() -> None:
    """Read from the array's memory, each element's identity is ``id`` of its object, also for a
    strided view and for None and NaN."""
    values = np.array([f"rule {i % 7}" for i in range(1000)] + [None, np.nan], dtype=object)
    for view in (values, values[::3], values[:0]):
        assert _identities(view).tolist() == [id(v) for v in view]


def test_findings_geometries_the_receiver_holds_travel_as_positions(
    sample_screening: Screening,
) -> None:
    """A forked worker's findings mostly carry its sites' own geometries, which the parent
    holds as the same objects: those travel as positions and come back as those objects; the
    rest (here: every other distinct geometry) as WKB, equal but new."""
    table = sample_screening.findings
    geometries = table.geometry.to_numpy()
    distinct = list({id(g): g for g in geometries}.values())
    held = np.array(distinct[::2][::-1] + distinct[::2][:1], dtype=object)  # reversed, one twice
    sent = findings_columns(table, held=held)
    coded = sent["geometry"]
    assert len(coded.values) == len(distinct) - len(distinct[::2]) > 0  # only the others as WKB
    both = pickle.loads(pickle.dumps([sent]))
    back = concat_findings(both, crs=table.crs, held=[held]).geometry.to_numpy()
    mine = {id(g) for g in held}
    assert all((b is g) == (id(g) in mine) for b, g in zip(back, geometries, strict=True))
    assert shapely.equals_exact(back, geometries, tolerance=0).all()
    with pytest.raises(ValueError, match="held"):
        findings_columns(table, held=held)["geometry"].decoded()


# -- the bundled sample ------------------------------------------------------------------------


def test_sample_has_every_verdict(sample_screening: Screening) -> None:
    counts = sample_screening.sites["verdict"].value_counts()
    assert all(counts.get(v, 0) > 0 for v in schema.VERDICTS), counts


def _comparable(result: Screening) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    sites = pd.DataFrame(result.sites[list(SITE_COLUMNS)]).sort_values("site_id")
    findings = result.findings.sort_values(
        ["site_id", "rule_id", "feature_id"], na_position="first"
    )
    return sites.reset_index(drop=True), findings.reset_index(drop=True)


def _assert_same(ours: Screening, theirs: Screening) -> None:
    (sites_a, found_a), (sites_b, found_b) = _comparable(ours), _comparable(theirs)
    pd.testing.assert_frame_equal(sites_a, sites_b)
    pd.testing.assert_frame_equal(
        found_a.drop(columns="geometry"), found_b.drop(columns="geometry")
    )
    same = shapely.equals_exact(
        np.asarray(found_a.geometry.values), np.asarray(found_b.geometry.values), tolerance=1e-6
    )
    assert same.all(), found_a.loc[~same, ["site_id", "rule_id"]]


def _merged(parts: list[Screening]) -> Screening:
    first = parts[0]
    return Screening(
        sites=pd.concat([p.sites for p in parts]),
        findings=pd.concat([p.findings for p in parts], ignore_index=True),
        layer_overlaps=pd.concat([p.layer_overlaps for p in parts]),
        planning=first.planning,
        rules=first.rules,
    )


def test_sample_batch_equals_chunks_and_single_sites(
    sample_sites: gpd.GeoDataFrame, sample_planning: Planning, sample_screening: Screening
) -> None:
    chunks = [
        screen(sample_sites.iloc[i : i + 17], sample_planning, n_jobs=1)
        for i in range(0, len(sample_sites), 17)
    ]
    _assert_same(sample_screening, _merged(chunks))
    pd.testing.assert_frame_equal(_merged(chunks).layer_overlaps, sample_screening.layer_overlaps)
    # One at a time (0.2 s per call): the first site of every rule that fires and verdict.
    picks: set[str] = set()
    for _, group in sample_screening.findings.groupby("rule_id"):
        picks.update(group["site_id"].iloc[:1])
    for _, group in sample_screening.sites.groupby("verdict"):
        picks.update(group["site_id"].iloc[:1])
    chosen = sample_sites[sample_sites["site_id"].isin(picks)]
    single = _merged(
        [screen(chosen.iloc[[i]], sample_planning, n_jobs=1) for i in range(len(chosen))]
    )
    batch = Screening(
        sites=sample_screening.sites[sample_screening.sites["site_id"].isin(picks)],
        findings=sample_screening.findings[sample_screening.findings["site_id"].isin(picks)],
        layer_overlaps=sample_screening.layer_overlaps,
        planning=sample_planning,
        rules=sample_screening.rules,
    )
    _assert_same(batch, single)


def test_sample_severance_and_rasters_fire(sample_screening: Screening) -> None:
    rules = set(sample_screening.findings["rule_id"])
    assert {"COR-PROVINCIAL-SEVER", "LC-WETLAND", "SLOPE-STEEP", "PRX-REDLINE"} <= rules
