"""Drinking-water source protection zones (饮用水水源保护区) around the reservoirs."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely import ops
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from sample.common import KM, Reference, Warp, blob, frame, polygonal, rng_for, xy

# Drinking-water reservoirs: name, centre (lon, lat), lake radii km, angle (0 radii: Songhua lake).
RESERVOIRS = (
    ("松花湖", (126.68, 43.72), (0.0, 0.0), 0.0),
    ("石头口门水库", (125.75, 43.95), (3.6, 1.8), 30.0),
    ("新立城水库", (125.35, 43.63), (3.0, 1.4), -20.0),
    ("二龙湖水库", (124.62, 43.22), (4.0, 1.5), 10.0),
)
WATER_RINGS_M = (300.0, 2000.0, 5000.0)  # level 1, level 2, quasi: distance from the lake shore


def make_lakes(ref: Reference) -> dict[str, BaseGeometry]:
    """Reservoir water surfaces; Songhua lake follows the Second Songhua upstream of Fengman."""
    lakes: dict[str, BaseGeometry] = {}
    for name, centre, radii, angle in RESERVOIRS:
        r = rng_for(f"lake-{name}")
        if radii[0] == 0:
            dam = ref.songhua2.project(Point(xy(centre)))
            axis = ops.substring(ref.songhua2, dam - 75 * KM, dam)
            widths = Warp(r, amp=500.0, wavelengths=(9 * KM, 3.1 * KM))
            lake = widths.apply(axis.buffer(1300.0, quad_segs=12), step=300.0)
        else:
            lake = blob(centre, radii, r, angle=angle, rough=0.35)
        lakes[name] = polygonal(shapely.intersection(lake, ref.outline))
    return lakes


def make_water(lakes: dict[str, BaseGeometry], outline: Polygon) -> gpd.GeoDataFrame:
    rows, geoms = [], []
    labels = ("一级保护区", "二级保护区", "准保护区")
    for i, (name, lake) in enumerate(lakes.items()):
        outers = [
            polygonal(shapely.intersection(lake.buffer(d, quad_segs=8), outline))
            for d in WATER_RINGS_M
        ]
        rings = [
            outers[0],
            shapely.difference(outers[1], outers[0]),
            shapely.difference(outers[2], outers[1]),
        ]
        for j, (label, ring) in enumerate(zip(labels, rings, strict=True)):
            rows.append(
                {
                    "feature_id": f"SYBH{i + 1:02d}{j + 1}",
                    "name": f"{name}饮用水水源{label}",
                    "level": label,
                    "source": f"{name}饮用水水源地",
                }
            )
            geoms.append(polygonal(ring, min_area=1.0))
    return frame(rows, geoms)
