"""Permanent basic farmland (永久基本农田)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

from sample.common import KM, Warp, frame, polygons_of, rng_for
from sample.zoning import prefecture_of


def make_farmland(
    outline: Polygon,
    agri: Polygon,
    key_shapes: list[tuple[str, Polygon, Polygon]],
    prohibited: BaseGeometry,
    redlines: BaseGeometry,
    water: BaseGeometry,
    cells: dict[str, BaseGeometry],
) -> gpd.GeoDataFrame:
    r = rng_for("farmland")
    cores = shapely.union_all([c.buffer(1.5 * KM) for _, _, c in key_shapes if not c.is_empty])
    region = shapely.difference(
        shapely.intersection(agri, outline),
        shapely.union_all([cores, prohibited.buffer(500.0), redlines.buffer(500.0), water]),
    )
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    pts = np.column_stack([r.uniform(minx, maxx, 6000), r.uniform(miny, maxy, 6000)])
    pts = pts[shapely.contains_xy(region, pts[:, 0], pts[:, 1])][:560]
    cells_v = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(pts), extend_to=region.envelope.buffer(50 * KM))
    )
    warp = Warp(r, amp=1.0 * KM, wavelengths=(24 * KM, 9 * KM, 3.3 * KM))
    rows: list[dict[str, object]] = []
    geoms: list[BaseGeometry] = []
    keep = r.random(len(cells_v)) < 0.8
    for cell, kept in zip(cells_v, keep, strict=True):
        if not kept:
            continue
        patch = shapely.intersection(warp.apply(cell, step=700.0), region).buffer(
            -350.0, quad_segs=3
        )
        for part in polygons_of(patch, min_area=2e6):
            part = part.simplify(60.0)
            pref = prefecture_of(cells, part)
            rows.append(
                {
                    "feature_id": f"YJJBNT{len(rows) + 1:05d}",
                    "name": f"{pref}永久基本农田保护片{len(rows) + 1:04d}",
                    "area_ha": round(part.area / 1e4, 2),
                }
            )
            geoms.append(part)
    return frame(rows, geoms)
