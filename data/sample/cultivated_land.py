"""耕地 (cultivated land, the permanent basic farmland included) with a 黑土地 flag."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from sample.common import frame, per_prefecture
from sample.layers import Layers

#: Prefectures whose cultivated land is drawn as black soil (黑土地) in the sample.
BLACK_SOIL = ("长春市", "四平市", "辽源市", "吉林市", "松原市")


def make_cultivated_land(layers: Layers, urban: BaseGeometry) -> gpd.GeoDataFrame:
    """耕地: the central plains outside towns, reserves, red lines, lakes and the inner
    water-source zones, cut by prefecture; black soil in the central prefectures."""
    w = layers.water
    excluded = shapely.union_all([
        urban, *layers.reserves.geometry.values, *layers.redlines.geometry.values,
        *layers.lakes.values(), *w.geometry[w["level"] != "准保护区"].values,
    ])
    plains = shapely.difference(
        shapely.intersection(layers.agri_region, layers.ref.outline), excluded
    )
    rows, geoms = [], []
    for i, (name, part) in enumerate(per_prefecture(layers.cells, plains)):
        rows.append({"feature_id": f"GD{i + 1:04d}", "name": f"{name}耕地",
                     "black_soil": "黑土地" if name in BLACK_SOIL else "否"})
        geoms.append(part)
    return frame(rows, geoms)
