"""The elevation raster (DEM) and its slope."""

from __future__ import annotations

import numpy as np

from sample.common import noise2d, rng_for, smoothstep
from sample.grid import Grid
from sample.zoning import plains_east_edge


def make_dem(grid: Grid) -> np.ndarray:
    """Elevation (m): low western plains rising east to the Changbai massif and Tianchi."""
    r = rng_for("dem")
    shape = (grid.height, grid.width)
    lon, lat = np.meshgrid(grid.lon, grid.lat)
    base = 130.0 + 38.0 * np.clip(lon - 121.6, 0, None) + 15 * noise2d(shape, (12, 20), r)
    khingan = 260.0 * smoothstep((122.4 - lon) / 0.8) * smoothstep((lat - 44.6) / 0.6)
    mtn = smoothstep((lon - plains_east_edge(lat)) / 1.0)
    broad = 0.5 + 0.5 * np.tanh(noise2d(shape, (25, 45), r))
    ridged = (1 - np.abs(noise2d(shape, (170, 280), r)).clip(0, 1.6) / 1.6) ** 2
    fine = noise2d(shape, (260, 420), r)
    uplift = mtn * (260.0 + 480.0 * broad + 700.0 * ridged * (0.35 + broad) + 60.0 * fine)
    dxk = (lon - 128.06) * 111.32 * np.cos(np.radians(42.0))
    dyk = (lat - 42.0) * 110.95
    d = np.hypot(dxk, dyk)
    cone = 2150.0 * np.exp(-((d / 18.0) ** 1.3))
    caldera = np.where(
        d < 4.5,
        np.maximum(2189.0, 2189.0 + 500.0 * ((d - 2.0) / 2.5).clip(0) ** 1.5) - (900.0 + cone),
        0.0,
    )
    dem = base + khingan + uplift + cone + np.minimum(caldera, 0.0)
    dem = np.where(d < 2.0, 2189.0, dem)
    return np.clip(np.round(dem), 110, 2745).astype(np.int16)


def slope_degrees(dem: np.ndarray, grid: Grid) -> np.ndarray:
    dy = grid.res * 110950.0
    dx = grid.res * 111320.0 * np.cos(np.radians(grid.lat))[:, None]
    gy, gx = np.gradient(dem.astype(float))
    return np.degrees(np.arctan(np.hypot(gx / dx, gy / dy)))
