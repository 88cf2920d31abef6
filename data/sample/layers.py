"""Every planning layer, built in order (each kind from its own module)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from sample.boundary import make_boundary
from sample.common import Reference, polygonal, read_reference
from sample.farmland import make_farmland
from sample.redlines import make_redlines
from sample.reserves import make_reserves
from sample.rivers import make_rivers
from sample.roads_rails import make_roads
from sample.scenic import make_scenic
from sample.water_sources import make_lakes, make_water
from sample.zoning import make_agri_region, make_cells, make_key_shapes, make_zoning


@dataclass
class Layers:
    ref: Reference
    cells: dict[str, BaseGeometry]  # prefecture name -> cell (working CRS)
    key_shapes: list[tuple[str, Polygon, Polygon]]  # (name, key zone shape, city core)
    agri_region: Polygon
    reserves: gpd.GeoDataFrame
    reserve_outer: dict[str, BaseGeometry]
    scenic: gpd.GeoDataFrame
    lakes: dict[str, BaseGeometry]
    water: gpd.GeoDataFrame
    zoning: gpd.GeoDataFrame
    redlines: gpd.GeoDataFrame
    farmland: gpd.GeoDataFrame
    rivers: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame


def build_layers() -> Layers:
    ref = read_reference()
    cells = make_cells(ref.outline)
    agri = make_agri_region()
    key_shapes = make_key_shapes()
    reserves, reserve_outer = make_reserves(ref.outline)
    lakes = make_lakes(ref)
    water = make_water(lakes, ref.outline)
    scenic = make_scenic(lakes)
    scenic["geometry"] = [polygonal(shapely.intersection(g, ref.outline)) for g in scenic.geometry]
    zoning = make_zoning(ref.outline, cells, key_shapes, agri, reserve_outer, scenic)
    key = shapely.union_all(zoning.geometry[zoning["zone"] == "重点开发区域"].values)
    prohibited = shapely.union_all(zoning.geometry[zoning["zone"] == "禁止开发区域"].values)
    redlines = make_redlines(ref, cells, agri, reserve_outer, key, lakes)
    level12 = shapely.union_all(water.geometry[water["level"] != "准保护区"].values)
    farmland = make_farmland(
        ref.outline,
        agri,
        key_shapes,
        prohibited,
        shapely.union_all(redlines.geometry.values),
        level12,
        cells,
    )
    return Layers(
        ref,
        cells,
        key_shapes,
        agri,
        reserves,
        reserve_outer,
        scenic,
        lakes,
        water,
        zoning,
        redlines,
        farmland,
        make_rivers(ref),
        make_roads(ref.outline),
        make_boundary(ref.outline, cells),
    )
