"""Nature reserves (自然保护区): core, buffer and experimental rings."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from sample.common import KM, frame, polygonal, radial_profile, rng_for, star, xy


@dataclass(frozen=True)
class Reserve:
    """A nature reserve drawn as three nested wiggly rings around ``centre``."""

    name: str
    short: str
    centre: tuple[float, float]
    radii_km: tuple[float, float]
    angle: float
    redline_margin_km: float  # 0: the red line follows the reserve boundary exactly


RESERVES = (
    Reserve("吉林长白山国家级自然保护区", "长白山", (128.08, 42.15), (19.0, 24.0), 0.0, 6.0),
    Reserve("吉林向海国家级自然保护区", "向海", (122.40, 44.95), (16.0, 12.0), 20.0, 3.0),
    Reserve("吉林莫莫格国家级自然保护区", "莫莫格", (123.60, 45.90), (13.0, 17.0), -15.0, 3.0),
    Reserve("吉林查干湖国家级自然保护区", "查干湖", (124.30, 45.25), (15.0, 17.0), 10.0, 0.0),
    Reserve(
        "吉林珲春东北虎国家级自然保护区", "珲春东北虎", (130.90, 43.10), (17.0, 24.0), 35.0, 4.0
    ),
    Reserve("吉林龙湾国家级自然保护区", "龙湾", (126.40, 42.30), (8.0, 7.0), 0.0, 0.0),
)
RESERVE_RING = (0.42, 0.68)  # core and buffer outer radius as a share of the reserve radius


def make_reserves(outline: Polygon) -> tuple[gpd.GeoDataFrame, dict[str, BaseGeometry]]:
    rows, geoms, outer = [], [], {}
    labels = ("核心区", "缓冲区", "实验区")
    for i, res in enumerate(RESERVES):
        r = rng_for(f"reserve-{res.short}")
        c = xy(res.centre)
        radii = (res.radii_km[0] * KM, res.radii_km[1] * KM)
        base = radial_profile(r, rough=0.2)
        core_p = base * RESERVE_RING[0] * (1 + 0.08 * radial_profile(r, rough=0.5) - 0.08)
        buf_p = base * RESERVE_RING[1] * (1 + 0.06 * radial_profile(r, rough=0.5) - 0.06)
        shapes = [star(c, radii, res.angle, p) for p in (core_p, buf_p, base)]
        shapes = [polygonal(shapely.intersection(s, outline)) for s in shapes]
        rings = [
            shapes[0],
            shapely.difference(shapes[1], shapes[0]),
            shapely.difference(shapes[2], shapes[1]),
        ]
        outer[res.short] = shapes[2]
        for j, (zone, ring) in enumerate(zip(labels, rings, strict=True)):
            rows.append(
                {
                    "feature_id": f"ZRBHQ{i + 1:02d}{j + 1}",
                    "name": f"{res.name}{zone}",
                    "zone": zone,
                    "reserve": res.name,
                    "level": "国家级",
                }
            )
            geoms.append(polygonal(ring, min_area=1.0))
    return frame(rows, geoms), outer
