"""Indicators per unit and the order of ecological migration, on worlds computed by hand.

The world: a 10 km × 10 km prefecture in EPSG:4551 (Gauss-Krüger CM 126°E, inside Jilin) over a
land-cover raster of 100 m pixels: the west half forest, the east half cropland, and a 2 km ×
2 km natural wetland in the east half. A nature reserve covers the wetland's north half.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from redline import Planning
from redline.errors import LayerError
from redline.targets import INDICATOR_COLUMNS, indicators, units

X0, Y0 = 500_000.0, 4_800_000.0
CLASSES = {1: "cropland", 2: "forest", 9: "wetland"}


@pytest.fixture(scope="module")
def landcover(tmp_path_factory: pytest.TempPathFactory) -> Path:
    codes = np.ones((100, 100), dtype=np.uint8)  # cropland
    codes[:, :50] = 2  # the west half: forest
    codes[40:60, 70:90] = 9  # wetland: rows 40–59 (y 6,000–4,000 m), columns 70–89
    path = tmp_path_factory.mktemp("raster") / "landcover.tif"
    with rasterio.open(path, "w", driver="GTiff", width=100, height=100, count=1, dtype="uint8",
                       crs="EPSG:4551", transform=from_origin(X0, Y0 + 10_000, 100, 100),
                       nodata=0) as ds:
        ds.write(codes, 1)
    return path


def box(a: float, b: float, c: float, d: float) -> shapely.Polygon:
    return shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d)


def prefecture(**layers: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    boundary = gpd.GeoDataFrame({"name": ["示例市", "示例省"], "level": ["prefecture", "province"]},
                                geometry=[box(0, 0, 10_000, 10_000), box(0, 0, 10_000, 10_000)],
                                crs=4551)
    return {"boundary": boundary, **layers}


def test_forest_cover_and_wetland_protection_are_the_hand_computed_shares(
    landcover: Path,
) -> None:
    reserve = gpd.GeoDataFrame({"zone": ["core"], "name": ["湿地保护区"]},
                               geometry=[box(7_000, 5_000, 9_000, 6_000)], crs=4551)
    planning = Planning(**prefecture(reserves=reserve), landcover=landcover,
                        landcover_classes=CLASSES, crs=4551)
    table = indicators(planning).set_index("indicator")
    assert list(indicators(planning).columns) == list(INDICATOR_COLUMNS)
    forest = table.loc["forest_cover"]
    assert forest["unit"] == "示例市" and forest["value"] == pytest.approx(0.5)
    assert forest["target"] == 0.45 and forest["met"] is True
    wetland = table.loc["natural_wetland_protection"]
    # the reserve covers the wetland's north half (y 5,000–6,000 m of 4,000–6,000 m)
    assert wetland["value"] == pytest.approx(0.5)
    assert wetland["met"] is None  # 0.5 < 0.56, but national parks, red lines are missing
    assert "lower bound" in wetland["note"] and "redlines" in wetland["note"]
    green = table.loc["builtup_green_space"]
    assert green["status"] == "not_assessed" and np.isnan(green["value"])
    assert "建成区" in green["note"]
    assert not table["clause_verified"].any()  # the seed's wording could not be read


def test_a_share_met_with_layers_missing_is_met(landcover: Path) -> None:
    reserve = gpd.GeoDataFrame({"zone": ["buffer"]}, geometry=[box(6_000, 3_000, 9_500, 7_000)],
                               crs=4551)
    planning = Planning(**prefecture(reserves=reserve), landcover=landcover,
                        landcover_classes=CLASSES, crs=4551)
    wetland = indicators(planning).set_index("indicator").loc["natural_wetland_protection"]
    assert wetland["value"] == pytest.approx(1.0) and wetland["met"] is True


def test_zone_and_control_line_shares(landcover: Path) -> None:
    zoning = gpd.GeoDataFrame({"zone": ["key", "restricted"]},
                              geometry=[box(0, 0, 2_500, 10_000), box(2_500, 0, 10_000, 10_000)],
                              crs=4551)
    redlines = gpd.GeoDataFrame(geometry=[box(0, 0, 1_000, 1_000), box(500, 0, 1_500, 1_000)],
                                crs=4551)  # overlapping patches: their union counts once
    planning = Planning(**prefecture(zoning=zoning, redlines=redlines), crs=4551)
    table = indicators(planning).set_index("indicator")
    assert table.loc["zone_share_key", "value"] == pytest.approx(0.25)
    assert table.loc["zone_share_restricted", "value"] == pytest.approx(0.75)
    assert table.loc["control_share_redlines", "value"] == pytest.approx(1.5e6 / 1e8)
    farmland = table.loc["control_share_farmland"]
    assert farmland["status"] == "not_assessed" and "farmland layer" in farmland["note"]
    forest = table.loc["forest_cover"]  # no raster: never a made-up number
    assert forest["status"] == "not_assessed" and "landcover raster" in forest["note"]


def test_units_by_level(landcover: Path) -> None:
    planning = Planning(**prefecture(), crs=4551)
    assert units(planning, by="province")["name"].tolist() == ["示例省"]
    assert len(units(planning, by="all")) == 2
    with pytest.raises(LayerError, match=r"no county-level unit .*'prefecture', 'province'"):
        units(planning, by="county")
    with pytest.raises(LayerError, match="by='city' is not a boundary level"):
        units(planning, by="city")


# -- the order of ecological migration ----------------------------------------------------------
def reserve_world() -> Planning:
    zones = gpd.GeoDataFrame(
        {"zone": ["core", "buffer", "experimental"], "reserve": ["甲保护区"] * 3},
        geometry=[box(4_000, 4_000, 6_000, 6_000),
                  box(3_000, 3_000, 7_000, 7_000).difference(box(4_000, 4_000, 6_000, 6_000)),
                  box(2_000, 2_000, 8_000, 8_000).difference(box(3_000, 3_000, 7_000, 7_000))],
        crs=4551)
    return Planning(**prefecture(reserves=zones), crs=4551)


def test_settlements_are_ranked_core_buffer_experimental() -> None:
    from redline.migration import migration_order

    villages = gpd.GeoDataFrame(
        {"name": ["外村", "实验村", "缓冲村", "核心村", "跨区村"],
         "人口": [50, 400, 300, 120, 90]},
        geometry=[shapely.Point(X0 + 9_000, Y0 + 9_000), shapely.Point(X0 + 2_500, Y0 + 5_000),
                  shapely.Point(X0 + 3_500, Y0 + 5_000), shapely.Point(X0 + 5_000, Y0 + 5_000),
                  # a village polygon reaching from the experimental into the core zone
                  box(2_500, 4_500, 4_500, 4_600)],
        crs=4551)
    result = migration_order(villages, reserve_world())
    table = result.settlements.set_index("name")
    assert list(result.settlements["name"]) == ["核心村", "跨区村", "缓冲村", "实验村", "外村"]
    assert table.loc["核心村", "order"] == 1 and table.loc["核心村", "zone_2026"] == (
        "core_protection")
    assert table.loc["跨区村", "zone"] == "core"  # the strictest zone it reaches
    assert table.loc["缓冲村", "zone_2026"] == "core_protection"
    assert table.loc["实验村", "order"] == 3 and table.loc["实验村", "zone_2026"] == (
        "general_control")
    assert not table.loc["外村", "concerned"] and pd.isna(table.loc["外村", "order"])
    assert table.loc["外村", "status"] == "assessed"
    summary = result.summary.set_index("zone")
    assert summary.loc["core", "population"] == 120 + 90 and summary.loc["core", "settlements"] == 2
    assert summary.loc["experimental", "population"] == 400
    assert result.summary["population"].sum() == 120 + 90 + 300 + 400  # 外村 not concerned


def test_migration_needs_a_population_column() -> None:
    from redline.migration import migration_order

    villages = gpd.GeoDataFrame({"name": ["村"]}, geometry=[shapely.Point(X0, Y0)], crs=4551)
    with pytest.raises(LayerError, match="no population column"):
        migration_order(villages, reserve_world())


def test_cli_indicators_and_migration(tmp_path: Path, landcover: Path) -> None:
    from typer.testing import CliRunner

    from redline.cli import app

    done = CliRunner().invoke(app, ["indicators", "--by", "province", "--out",
                                    str(tmp_path / "ind")])
    assert done.exit_code == 0, done.output
    written = pd.read_csv(tmp_path / "ind" / "indicators.csv", encoding="utf-8-sig")
    assert set(written["indicator"]) >= {"forest_cover", "natural_wetland_protection"}
    assert (tmp_path / "ind" / "charts" / "forest_cover.png").stat().st_size > 0
    assert (tmp_path / "ind" / "map.html").stat().st_size > 0
    units_file = gpd.read_file(tmp_path / "ind" / "indicators.gpkg")
    assert units_file["forest_cover"].iloc[0] == pytest.approx(
        written.set_index("indicator").loc["forest_cover", "value"])


def test_a_unit_sticking_out_of_the_province_by_a_hair_is_still_assessed() -> None:
    # prefecture and province outlines digitised apart: the prefecture pokes 0.5 m out
    boundary = gpd.GeoDataFrame(
        {"name": ["示例市", "示例省"], "level": ["prefecture", "province"]},
        geometry=[box(0, 0, 10_000.5, 10_000), box(0, 0, 10_000, 10_000)], crs=4551)
    zoning = gpd.GeoDataFrame({"zone": ["key"]}, geometry=[box(0, 0, 5_000, 10_000)], crs=4551)
    planning = Planning(boundary=boundary, zoning=zoning, crs=4551)
    row = indicators(planning).set_index("indicator").loc["zone_share_key"]
    assert row["status"] == "assessed"
    assert row["value"] == pytest.approx(0.5, abs=1e-6)
