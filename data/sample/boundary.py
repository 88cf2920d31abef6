"""The province and prefecture boundaries."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from sample.common import PREFECTURES, frame


def make_boundary(outline: Polygon, cells: dict[str, BaseGeometry]) -> gpd.GeoDataFrame:
    rows: list[dict[str, object]] = [{"feature_id": "220000", "name": "吉林省", "level": "省"}]
    geoms: list[BaseGeometry] = [outline]
    for name, _seat, code, level, _r in PREFECTURES:
        rows.append({"feature_id": code, "name": name, "level": level})
        geoms.append(cells[name])
    return frame(rows, geoms)
