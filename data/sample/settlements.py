"""Settlements (居民点) for the order of ecological migration: invented villages with invented
populations, some inside the reserves' zones, some outside them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from sample.common import frame, rng_for

#: Villages drawn inside each reserve's core, buffer and experimental zone, and outside it.
PER_ZONE = {"核心区": 1, "缓冲区": 2, "实验区": 3}
OUTSIDE = 8


def make_settlements(reserves: gpd.GeoDataFrame, outline: shapely.Geometry) -> gpd.GeoDataFrame:
    """Points with a name (名称), population (人口) and kind (类型), in the working CRS."""
    r = rng_for("settlements")
    rows, geoms = [], []
    for _, zone in reserves.iterrows():
        for k in range(PER_ZONE[zone["zone"]]):
            geoms.append(_point_in(zone.geometry, r))
            short = zone["reserve"].removeprefix("吉林").split("国家级")[0]
            rows.append({"名称": f"{short}{zone['zone'][:2]}{k + 1}村",
                         "人口": int(r.integers(40, 900)), "类型": "村"})
    outside = shapely.difference(outline, shapely.union_all(reserves.geometry.to_numpy()))
    for k in range(OUTSIDE):
        geoms.append(_point_in(outside, r))
        rows.append({"名称": f"区外{k + 1}村", "人口": int(r.integers(200, 3000)), "类型": "村"})
    return frame(rows, geoms)


def _point_in(area: shapely.Geometry, r: np.random.Generator) -> shapely.Point:
    """A random point inside ``area`` (rejection sampling in its bounds)."""
    xmin, ymin, xmax, ymax = area.bounds
    shapely.prepare(area)
    while True:
        point = shapely.Point(r.uniform(xmin, xmax), r.uniform(ymin, ymax))
        if area.contains(point):
            return shapely.Point(round(point.x, 2), round(point.y, 2))
