"""Deterministic synthetic inputs for the benchmarks: a complex zoning layer and a cadastral
tessellation of parcels, both in the working CRS around Jilin's centre."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from redline.crs import WORKING_CRS

__all__ = ["make_parcels", "make_zoning"]

#: Extent of the synthetic zoning layer in the working CRS (metres), centred on 126.5°E 43.5°N.
ZONING_CELLS = (80, 75)
CELL_SIZE = (2_500.0, 2_100.0)
PARCEL_SIZE = 150.0


def _warp(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A smooth displacement field with gradient < 1: shared edges stay shared, cells valid."""
    amp = 40.0
    dx = amp * np.sin(y / 120.0 + 0.3 * np.sin(x / 700.0)) + 0.5 * amp * np.sin(x / 130.0)
    dy = amp * np.sin(x / 110.0 + 0.3 * np.cos(y / 650.0)) + 0.5 * amp * np.cos(y / 140.0)
    return x + dx, y + dy


def make_zoning(*, seed: int = 0, edge_vertices: int = 100) -> gpd.GeoDataFrame:
    """About 6,000 wiggly cells (~2.4 M vertices) tiling 200 × 157.5 km with four zone classes."""
    rng = np.random.default_rng(seed)
    nx, ny = ZONING_CELLS
    w, h = CELL_SIZE
    x0, y0 = -nx * w / 2, -ny * h / 2
    t = np.linspace(0.0, 1.0, edge_vertices, endpoint=False)
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel(), j.ravel()
    xa, ya = x0 + i * w, y0 + j * h
    xb, yb = xa + w, ya + h
    # Counter-clockwise ring: bottom, right, top, left; each edge sampled from its start corner.
    ring_x = np.concatenate([xa[:, None] + t * w, np.repeat(xb[:, None], len(t), 1),
                             xb[:, None] - t * w, np.repeat(xa[:, None], len(t), 1)], axis=1)
    ring_y = np.concatenate([np.repeat(ya[:, None], len(t), 1), ya[:, None] + t * h,
                             np.repeat(yb[:, None], len(t), 1), yb[:, None] - t * h], axis=1)
    # Shared edges get identical coordinates from both neighbours: round the straight
    # coordinates to a fine grid before warping.
    ring_x, ring_y = _warp(np.round(ring_x, 6), np.round(ring_y, 6))
    ring = np.stack([ring_x, ring_y], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    geoms = shapely.polygons(ring)
    u = rng.random(len(geoms))
    zone = np.select([u < 0.15, u < 0.60, u < 0.90], ["prohibited", "restricted", "key"],
                     "optimized").astype(object)
    subtype = np.where(zone == "restricted",
                       np.where(rng.random(len(geoms)) < 0.5, "agricultural", "ecological"),
                       np.where(zone == "key", "urban", None)).astype(object)
    return gpd.GeoDataFrame(
        {"feature_id": [f"Z{k:05d}" for k in range(len(geoms))],
         "name": [f"cell {k}" for k in range(len(geoms))], "zone": zone, "subtype": subtype},
        geometry=geoms, crs=WORKING_CRS,
    )


def make_parcels(n: int, *, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` parcels of about 150 × 150 m: a jittered-grid tessellation centred on the layer."""
    rng = np.random.default_rng(seed)
    nx = int(np.ceil(np.sqrt(n)))
    ny = int(np.ceil(n / nx))
    gx = (np.arange(nx + 1) - nx / 2) * PARCEL_SIZE
    gy = (np.arange(ny + 1) - ny / 2) * PARCEL_SIZE
    vx, vy = np.meshgrid(gx, gy, indexing="ij")
    vx = vx + rng.uniform(-0.3, 0.3, vx.shape) * PARCEL_SIZE
    vy = vy + rng.uniform(-0.3, 0.3, vy.shape) * PARCEL_SIZE
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel()[:n], j.ravel()[:n]
    corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1), (i, j)]
    ring = np.stack([np.stack([vx[a, b], vy[a, b]], axis=-1) for a, b in corners], axis=1)
    return gpd.GeoDataFrame({"parcel_id": np.arange(n)}, geometry=shapely.polygons(ring),
                            crs=WORKING_CRS)
