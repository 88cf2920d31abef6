"""Cadastral parcels for the classification example (around Jingyuetan, Changchun)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPoint

from redline.crs import WORKING_CRS
from sample.common import KM, Warp, rng_for, to_metres
from sample.layers import Layers

PARCEL_BOX = (125.40, 43.69, 125.62, 43.84)  # lon/lat around Jingyuetan, SE of Changchun


def make_parcels(layers: Layers) -> gpd.GeoDataFrame:
    """About 3,000 cadastral-like parcels (1–30 ha) straddling key, restricted and prohibited."""
    r = rng_for("parcels")
    box = to_metres(shapely.box(*PARCEL_BOX))
    minx, miny, maxx, maxy = box.bounds
    step = 300.0
    gx, gy = np.meshgrid(
        np.arange(minx - step, maxx + step, step), np.arange(miny - step, maxy + step, step)
    )
    pts = np.column_stack([gx.ravel(), gy.ravel()]) + r.uniform(-0.38, 0.38, (gx.size, 2)) * step
    pts = pts[r.random(len(pts)) > 0.22]  # merged holdings: larger parcels
    extra = np.column_stack([r.uniform(minx, maxx, 700), r.uniform(miny, maxy, 700)])
    pts = np.vstack([pts, extra])  # subdivided holdings: smaller parcels
    cells = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(pts), extend_to=box.buffer(5 * KM))
    )
    warp = Warp(r, amp=25.0, wavelengths=(900.0, 400.0))
    cells = shapely.intersection(np.array([warp.apply(c, step=60.0) for c in cells]), box)
    area = shapely.area(cells)
    cells = cells[(area >= 1e4) & (area <= 30e4)]
    cells = cells[
        np.argsort(
            shapely.get_y(shapely.centroid(cells)) * -1e7 + shapely.get_x(shapely.centroid(cells))
        )
    ]
    z = layers.zoning
    zone_idx = np.full(len(cells), -1)
    tree = shapely.STRtree(z.geometry.values)
    pairs = tree.query(shapely.centroid(cells), predicate="within")
    zone_idx[pairs[0]] = pairs[1]
    zones = np.where(zone_idx >= 0, z["zone"].to_numpy()[zone_idx.clip(0)], "")
    uses = {
        "重点开发区域": (
            ("住宅用地", 0.34),
            ("工业用地", 0.16),
            ("商服用地", 0.14),
            ("公共管理与公共服务用地", 0.1),
            ("交通运输用地", 0.08),
            ("耕地", 0.12),
            ("林地", 0.04),
            ("水域及水利设施用地", 0.02),
        ),
        "限制开发区域": (
            ("耕地", 0.72),
            ("林地", 0.1),
            ("农村宅基地", 0.08),
            ("草地", 0.03),
            ("交通运输用地", 0.04),
            ("水域及水利设施用地", 0.03),
        ),
        "禁止开发区域": (
            ("林地", 0.78),
            ("草地", 0.06),
            ("水域及水利设施用地", 0.08),
            ("耕地", 0.05),
            ("公共管理与公共服务用地", 0.03),
        ),
    }
    land_use = []
    for zname in zones:
        names, p = zip(*uses.get(zname, uses["限制开发区域"]), strict=True)
        land_use.append(names[int(r.choice(len(names), p=np.array(p) / sum(p)))])
    return gpd.GeoDataFrame(
        {"parcel_id": [f"JC{i + 1:06d}" for i in range(len(cells))], "地类": land_use},
        geometry=cells,
        crs=WORKING_CRS,
    )
