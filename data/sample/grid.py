"""The raster grid (EPSG:4490) and GeoTIFF writing shared by the land-cover and DEM rasters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.features import rasterize
from shapely.geometry.base import BaseGeometry

from sample.common import GRID_BOUNDS, OUT_CRS, to_lonlat

LC_RES, DEM_RES = 0.0025, 0.005


@dataclass
class Grid:
    res: float
    width: int
    height: int
    transform: Affine
    lon: np.ndarray  # (width,) pixel-centre longitudes
    lat: np.ndarray  # (height,) pixel-centre latitudes

    @classmethod
    def at(cls, res: float) -> Grid:
        west, south, east, north = GRID_BOUNDS
        width, height = round((east - west) / res), round((north - south) / res)
        return cls(
            res,
            width,
            height,
            Affine(res, 0.0, west, 0.0, -res, north),
            west + res * (np.arange(width) + 0.5),
            north - res * (np.arange(height) + 0.5),
        )

    def burn(self, geoms: Iterable[BaseGeometry], *, all_touched: bool = False) -> np.ndarray:
        """Boolean mask of pixels covered by the (working-CRS) geometries."""
        shapes = [(to_lonlat(g), 1) for g in geoms if not g.is_empty]
        if not shapes:
            return np.zeros((self.height, self.width), bool)
        return rasterize(
            shapes,
            out_shape=(self.height, self.width),
            transform=self.transform,
            all_touched=all_touched,
            dtype="uint8",
        ).astype(bool)


def write_tif(path: Path, data: np.ndarray, grid: Grid, *, nodata: float) -> None:
    profile = {
        "driver": "GTiff",
        "width": grid.width,
        "height": grid.height,
        "count": 1,
        "dtype": data.dtype.name,
        "crs": OUT_CRS,
        "transform": grid.transform,
        "nodata": nodata,
        "compress": "DEFLATE",
        "zlevel": 9,
        "predictor": 2,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
