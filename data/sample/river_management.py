"""河湖管理范围 (river and lake management zones)."""

from __future__ import annotations

import geopandas as gpd
import shapely

from sample.common import frame, polygonal
from sample.layers import Layers


def make_river_management(layers: Layers) -> gpd.GeoDataFrame:
    """A band along every river (250 m each side of a provincial river, 80 m of a tributary)
    and 100 m around every reservoir."""
    rows, geoms = [], []
    for i, river in enumerate(layers.rivers.itertuples()):
        half = 250.0 if river.corridor == "省级" else 80.0
        rows.append({"feature_id": f"HDGL{i + 1:03d}", "name": f"{river.name}河道管理范围",
                     "waterbody": river.name})
        geoms.append(polygonal(shapely.intersection(river.geometry.buffer(half),
                                                    layers.ref.outline)))
    for j, (name, lake) in enumerate(layers.lakes.items()):
        rows.append({"feature_id": f"HKGL{j + 1:03d}", "name": f"{name}管理范围",
                     "waterbody": name})
        geoms.append(polygonal(shapely.intersection(lake.buffer(100.0), layers.ref.outline)))
    return frame(rows, geoms)
