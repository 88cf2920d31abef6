"""Scenic areas and forest parks (风景名胜区、森林公园)."""

from __future__ import annotations

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from sample.common import KM, Warp, blob, frame, polygonal, rng_for

# Scenic areas: name, category, level, centre, radii km (0 = built from the Songhua lake).
SCENIC = (
    ("净月潭国家森林公园", "森林公园", "国家级", (125.47, 43.78), (5.5, 4.5)),
    ("松花湖风景名胜区", "风景名胜区", "国家级", (126.75, 43.60), (0.0, 0.0)),
    ("六鼎山风景名胜区", "风景名胜区", "省级", (128.20, 43.33), (3.0, 2.5)),
    ("长白山火山国家地质公园", "地质公园", "国家级", (128.06, 42.06), (12.0, 10.0)),
    ("长春北湖国家湿地公园", "湿地公园", "国家级", (125.39, 43.99), (3.0, 2.5)),
)


def make_scenic(lakes: dict[str, BaseGeometry]) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (name, category, level, centre, radii) in enumerate(SCENIC):
        r = rng_for(f"scenic-{name}")
        if radii[0] == 0:
            shape = Warp(r, amp=700.0, wavelengths=(12 * KM, 4 * KM)).apply(
                lakes["松花湖"].buffer(3 * KM, quad_segs=8), step=500.0
            )
        else:
            shape = blob(centre, radii, r, angle=r.uniform(0, 180), rough=0.25)
        rows.append(
            {"feature_id": f"FJMS{i + 1:03d}", "name": name, "category": category, "level": level}
        )
        geoms.append(polygonal(shape))
    return frame(rows, geoms)
