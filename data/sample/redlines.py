"""Ecological protection red lines (生态保护红线)."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry

from sample.common import KM, Reference, Warp, blob, frame, polygons_of, rng_for, to_lonlat, xy
from sample.reserves import RESERVES
from sample.zoning import prefecture_of


def make_redlines(
    ref: Reference,
    cells: dict[str, BaseGeometry],
    agri: Polygon,
    reserve_outer: dict[str, BaseGeometry],
    key: BaseGeometry,
    lakes: dict[str, BaseGeometry],
) -> gpd.GeoDataFrame:
    r = rng_for("redlines")
    outline = ref.outline
    parts: list[BaseGeometry] = []
    for res in RESERVES:
        shape = reserve_outer[res.short]
        if res.redline_margin_km > 0:
            grown = Warp(r, amp=res.redline_margin_km * 150, wavelengths=(15 * KM, 6 * KM))
            shape = shapely.union(
                shape,
                grown.apply(shape.buffer(res.redline_margin_km * KM, quad_segs=6), step=600.0),
            )
        parts.append(shape)
    border = shapely.union(ref.yalu, ref.tumen)
    parts.append(
        Warp(r, amp=700.0, wavelengths=(18 * KM, 7 * KM)).apply(
            border.buffer(3 * KM, quad_segs=6), step=600.0
        )
    )
    # Upper Songhua lake catchment (water conservation around the reservoir).
    parts.append(lakes["松花湖"].buffer(1500.0))
    east = shapely.difference(outline, agri.buffer(8 * KM))
    west_lon = xy((124.2, 44.5))[0]
    keep_clear = shapely.union_all(
        [
            reserve_outer["查干湖"].buffer(14 * KM),
            reserve_outer["龙湾"].buffer(14 * KM),
            key.buffer(3 * KM),
        ]
    )
    for region, count, radius, tag in (
        (east, 100, (6.0, 18.0), "east"),
        (outline, 60, (3.0, 8.0), "west"),
    ):
        minx, miny, maxx, maxy = region.bounds
        placed = 0
        while placed < count:
            p = Point(r.uniform(minx, maxx), r.uniform(miny, maxy))
            if not region.contains(p) or keep_clear.contains(p):
                continue
            if tag == "west" and (p.x > west_lon or agri.contains(p)):
                continue
            ll = to_lonlat(p)
            rad = r.uniform(*radius)
            parts.append(
                blob(
                    (ll.x, ll.y),
                    (rad, rad * r.uniform(0.5, 1.0)),
                    r,
                    angle=r.uniform(0, 180),
                    rough=0.3,
                )
            )
            placed += 1
    union = shapely.intersection(shapely.union_all(parts), outline)
    union = shapely.difference(union, key)
    reserves_all = shapely.union_all(list(reserve_outer.values()))
    rows: list[dict[str, object]] = []
    geoms: list[BaseGeometry] = []
    for part in sorted(polygons_of(union, min_area=5e5), key=lambda g: (-g.area, g.centroid.x)):
        if part.intersects(reserves_all):
            category = "生物多样性维护"
        elif part.distance(border) < 4 * KM:
            category = "水土保持"
        elif part.centroid.x < west_lon:
            category = "防风固沙"
        else:
            category = "水源涵养"
        pref = prefecture_of(cells, part)
        rows.append(
            {
                "feature_id": f"STHX{len(rows) + 1:04d}",
                "name": f"{pref}{category}生态保护红线",
                "category": category,
            }
        )
        geoms.append(part)
    return frame(rows, geoms)
