"""The land-cover raster (CLCD-style codes)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import Point

from sample.common import KM, PREFECTURES, TOWNS, blob, noise2d, rng_for, xy
from sample.grid import Grid
from sample.layers import Layers


def make_landcover(grid: Grid, layers: Layers, dem_hi: np.ndarray) -> np.ndarray:
    """CLCD-style classes: forest east, cropland centre, grassland/wetland west, water, towns."""
    r = rng_for("landcover")
    shape = (grid.height, grid.width)
    lon = np.broadcast_to(grid.lon, shape)
    agri = grid.burn([layers.agri_region])
    west = ~agri & (lon < 125.0)
    east = ~agri & ~west
    n1, n2, n3 = (noise2d(shape, (90, 160), r) for _ in range(3))
    n4 = noise2d(shape, (260, 460), r)
    lc = np.full(shape, 1, np.uint8)
    lc[east] = 2
    lc[east & (n1 > 1.0) & (dem_hi < 700)] = 1  # valley fields
    lc[east & (n2 > 1.3)] = 3
    lc[agri & (n2 > 1.5)] = 2  # shelter belts and woods on the plains
    lc[west] = 4
    lc[west & (n1 > -0.2)] = 1
    lc[west & (n3 > 1.1)] = 7  # saline-alkali barren land
    lc[west & (n4 > 1.9)] = 5  # small lakes and ponds
    lc[(dem_hi > 2000)] = 4  # alpine tundra above the tree line
    lc[(dem_hi > 2400)] = 7
    wet = grid.burn([layers.reserve_outer[s] for s in ("向海", "莫莫格", "查干湖")])
    lc[wet & (n3 > -0.4)] = 9
    lc[wet & (n4 > 1.2)] = 5
    lakes = list(layers.lakes.values())
    lakes.append(blob((124.25, 45.27), (8.0, 10.0), r, angle=15.0, rough=0.3))  # Chagan lake
    lakes.append(blob((128.06, 42.005), (1.9, 2.3), r, rough=0.1))  # Tianchi
    rivers = [
        layers.ref.songhua.buffer(450.0),
        layers.ref.songhua2.buffer(220.0),
        layers.ref.yalu.buffer(250.0),
    ]
    lc[grid.burn(rivers)] = 5
    lc[grid.burn(layers.rivers.geometry.iloc[4:], all_touched=True)] = 5
    lc[grid.burn(lakes)] = 5
    towns = [Point(xy(p)).buffer(rad * 0.45 * KM) for _, p, _, _, rad in PREFECTURES]
    towns += [Point(xy(p)).buffer(2.2 * KM) for p, _ in TOWNS.values()]
    lc[grid.burn(towns) & (n4 > -1.2)] = 8
    lc[agri & (n4 > 2.4)] = 8  # villages
    lc[~grid.burn([layers.ref.outline])] = 0
    return lc


def with_built_up_cores(landcover: np.ndarray, grid: Grid, sites: gpd.GeoDataFrame) -> np.ndarray:
    """Land cover with the city cores (45 % of the key-zone radius around each prefecture seat)
    and the old industrial areas among the sites built up, water kept. Applied after the sites
    are placed, so their placement checks saw the land cover without it: it only adds built-up
    pixels, which none of those checks excludes."""
    cores = [Point(xy(p)).buffer(rad * 0.45 * KM) for _, p, _, _, rad in PREFECTURES]
    renewal = sites.geometry[sites["name"].str.contains("老工业区")].buffer(300.0)
    built = grid.burn([*cores, *renewal]) & (landcover != 5) & (landcover != 0)
    return np.where(built, np.uint8(8), landcover)
