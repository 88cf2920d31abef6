"""城镇开发边界 (urban development boundary): the key zones and a town around every county seat."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import Point

from sample.common import KM, TOWNS, frame, per_prefecture, xy
from sample.layers import Layers


def make_urban_boundary(layers: Layers) -> gpd.GeoDataFrame:
    """城镇开发边界: the key development zones and a 2.2 km town around every county seat."""
    z = layers.zoning
    key = shapely.union_all(z.geometry[z["zone"] == "重点开发区域"].values)
    towns = [Point(xy(p)).buffer(2.2 * KM) for p, _ in TOWNS.values()]
    urban = shapely.intersection(shapely.union_all([key, *towns]), layers.ref.outline)
    rows, geoms = [], []
    for i, (name, part) in enumerate(per_prefecture(layers.cells, urban)):
        rows.append({"feature_id": f"CZKFBJ{i + 1:02d}", "name": f"{name}城镇开发边界"})
        geoms.append(part)
    return frame(rows, geoms)
