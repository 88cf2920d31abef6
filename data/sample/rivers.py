"""Rivers: the provincial corridors' centre lines and the secondary tributaries."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from sample.common import KM, Reference, frame, meander, rng_for, to_lonlat, xy

# Tributaries (corridor 次级): waypoints; ``None`` end = snapped onto the Second Songhua.
TRIBUTARIES = (
    (
        "伊通河",
        (
            (125.52, 43.10),
            (125.38, 43.40),
            (125.35, 43.63),
            (125.33, 43.88),
            (125.40, 44.15),
            (125.55, 44.40),
            (125.80, 44.62),
        ),
        False,
    ),
    (
        "饮马河",
        (
            (126.05, 43.15),
            (125.95, 43.50),
            (125.80, 43.80),
            (125.75, 43.95),
            (125.85, 44.25),
            (125.80, 44.62),
            (126.05, 44.90),
        ),
        True,
    ),
    (
        "辉发河",
        (
            (125.45, 42.45),
            (125.70, 42.55),
            (126.05, 42.70),
            (126.45, 42.90),
            (126.75, 42.97),
            (127.00, 43.10),
        ),
        True,
    ),
    (
        "洮儿河",
        (
            (121.90, 45.95),
            (122.30, 45.55),
            (122.79, 45.36),
            (123.20, 45.42),
            (123.60, 45.55),
            (123.95, 45.66),
        ),
        False,
    ),
    (
        "东辽河",
        (
            (125.45, 42.55),
            (125.15, 42.86),
            (124.85, 43.12),
            (124.62, 43.22),
            (124.20, 43.40),
            (123.80, 43.48),
            (123.30, 43.35),
        ),
        False,
    ),
    (
        "浑江",
        (
            (126.75, 42.05),
            (126.42, 41.93),
            (126.10, 41.80),
            (125.94, 41.72),
            (125.60, 41.50),
            (125.35, 41.15),
        ),
        False,
    ),
)


def make_rivers(ref: Reference) -> gpd.GeoDataFrame:
    rows: list[dict[str, object]] = [
        {"name": "第二松花江", "corridor": "省级"},
        {"name": "松花江", "corridor": "省级"},
        {"name": "鸭绿江", "corridor": "省级"},
        {"name": "图们江", "corridor": "省级"},
    ]
    geoms: list[BaseGeometry] = [ref.songhua2, ref.songhua, ref.yalu, ref.tumen]
    for name, waypoints, snap in TRIBUTARIES:
        pts = list(waypoints)
        if snap:
            end = ref.songhua2.interpolate(ref.songhua2.project(Point(xy(pts[-1]))))
            ll = to_lonlat(end)
            pts[-1] = (ll.x, ll.y)
        line = meander(pts, rng_for(f"river-{name}"), amp=2.0 * KM)
        rows.append({"name": name, "corridor": "次级"})
        geoms.append(shapely.intersection(line, ref.outline))
    out = frame(rows, geoms)
    out.insert(0, "feature_id", [f"HL{i + 1:03d}" for i in range(len(out))])
    return out
