"""Roads and railways (secondary corridors)."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import Polygon

from sample.common import KM, frame, meander, rng_for

ROADS_RAILS = (
    (
        "京哈高速铁路",
        "铁路",
        (
            (126.20, 45.40),
            (126.05, 44.99),
            (125.70, 44.53),
            (125.26, 43.90),
            (124.82, 43.50),
            (124.37, 43.15),
            (124.00, 42.70),
        ),
    ),
    ("长吉城际铁路", "铁路", ((125.32, 43.90), (125.69, 43.99), (126.10, 43.93), (126.55, 43.86))),
    (
        "G12珲乌高速公路",
        "高速公路",
        (
            (125.32, 43.86),
            (125.90, 43.82),
            (126.55, 43.80),
            (127.34, 43.70),
            (128.23, 43.36),
            (128.90, 43.10),
            (129.51, 42.87),
            (129.84, 42.95),
            (130.37, 42.84),
        ),
    ),
    (
        "长白铁路",
        "铁路",
        ((125.32, 43.89), (125.18, 44.43), (124.82, 45.14), (124.29, 45.51), (122.84, 45.62)),
    ),
)


def make_roads(outline: Polygon) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for i, (name, category, waypoints) in enumerate(ROADS_RAILS):
        line = meander(waypoints, rng_for(f"road-{name}"), amp=0.8 * KM)
        rows.append(
            {"feature_id": f"JT{i + 1:03d}", "name": name, "corridor": "次级", "category": category}
        )
        geoms.append(shapely.intersection(line, outline))
    return frame(rows, geoms)
