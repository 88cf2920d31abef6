"""Indicators per unit and the order of ecological migration, on worlds computed by hand.

The world: a 10 km × 10 km prefecture in EPSG:4551 (Gauss-Krüger CM 126°E, inside Jilin) over a
land-cover raster of 100 m pixels: the west half forest, the east half cropland, and a 2 km ×
2 km natural wetland in the east half. A nature reserve covers the wetland's north half.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from redline import Planning
from redline.errors import LayerError
from redline.indicators import INDICATOR_COLUMNS, indicators, units

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
