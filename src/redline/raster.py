"""Land-cover shares and slope statistics per site from ``landcover`` and ``dem`` rasters.

Rasters are opened and checked once by :func:`open_raster`; :func:`landcover_shares` and
:func:`slope_stats` then summarise them over any number of sites in one vectorised pass per
raster: the exact fraction of every pixel each site covers (the coverage fractions of
`exactextract <https://isciences.github.io/exactextract/>`_, computed here with numpy over all
sites at once, since exactextract's Python binding calls back into Python for every site and
took most of a screening's time; ``tests/test_oracle.py`` checks the two agree).
:class:`RasterSites` prepares the sites once for several rasters (a screening's land cover
and slope).

Every statistic is *pixel-fraction-correct*: a pixel counts in proportion to the part of it the
site covers, so a site smaller than a pixel that straddles two classes gets both, in proportion
to its area on each, never 0 % or 100 % by where the pixel centres happen to fall.

Conventions
-----------
- Sites come in a projected CRS in metres (the working CRS). Points and lines are assessed on a
  buffer of ``line_buffer_m`` metres, built in that CRS. Sites are then reprojected into the
  raster's CRS for extraction (the raster is never resampled).
- ``coverage`` is the fraction of the site's area that falls on valid (non-nodata) pixels, 0 for a
  site outside the raster or a null site. Shares and slopes describe the covered part only, and
  are NaN when ``coverage`` is 0. Callers decide what partial coverage means for a verdict.
- In a geographic raster (degrees) each pixel is weighted by its covered area on the sphere
  (as exactextract's ``area_spherical_m2`` coverage weight), so shares and mean slopes are
  area-weighted; in a projected raster all pixels have the same area. ``coverage`` is a ratio of
  areas measured in the raster's own CRS, so it is exactly 1 for a fully covered site.
- Slope (degrees, Horn's 3×3 method) is computed once per DEM file and cached in memory, keyed
  by the file's path, size and modification time. Elevations must be metres. Pixel sizes of a
  geographic DEM are converted to metres row by row with geodesics on the DEM's ellipsoid.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from redline.crs import CHINA_LONLAT_BOUNDS, diagnose_crs, is_metric, transformer
from redline.errors import CRSError, GeometryError, LayerError
from redline.schema import LANDCOVER_CLASSES, RASTER_KINDS

__all__ = [
    "COVERAGE_COLUMN",
    "SHARE_PREFIX",
    "SLOPE_COLUMNS",
    "RasterLayer",
    "RasterSites",
    "landcover_shares",
    "open_raster",
    "slope_grid",
    "slope_stats",
]

logger = logging.getLogger(__name__)

#: Fraction of a site's area on valid pixels (both raster summaries carry it).
COVERAGE_COLUMN: Final = "coverage"
#: Land-cover share columns are ``SHARE_PREFIX + <canonical class>``.
SHARE_PREFIX: Final = "share_"
#: Columns of :func:`slope_stats`.
SLOPE_COLUMNS: Final = ("slope_mean_deg", "slope_max_deg", COVERAGE_COLUMN)

_LANDCOVER, _DEM = RASTER_KINDS
_CLASS_BY_LABEL: Final = MappingProxyType(
    {label: name for name, label in LANDCOVER_CLASSES.items()}
)
_SCAN_CELLS: Final = 1 << 24  # cells per read when scanning a raster's codes
_SLOPE_CELLS: Final = 1 << 21  # cells per strip when computing slope
_PAIRS_PER_CHUNK: Final = 1 << 20  # (edge, pixel) pairs whose terms are summed at once
_PAIRS_PER_BLOCK: Final = 1 << 15  # (edge, pixel) pairs measured at once (whole sites)
_SITES_PER_GROUP: Final = 1 << 16  # sites whose pixels are measured at once (see _groups)
#: Pixels covered by less than this fraction count as not covered: sums of edge terms leave
#: ~1e-15 on a pixel a site only touches.
_MIN_FRACTION: Final = 1e-9


@dataclass(frozen=True)
class RasterLayer:
    """A checked ``landcover`` or ``dem`` raster, ready for :func:`landcover_shares` /
    :func:`slope_stats`.

    Parameters
    ----------
    kind
        ``"landcover"`` or ``"dem"``.
    path
        The raster file.
    classes
        Land-cover code → canonical class (a key of ``redline.schema.LANDCOVER_CLASSES``);
        empty for a DEM.
    crs
        The raster's CRS, as read from the file.
    bounds
        ``(left, bottom, right, top)`` in the raster's CRS.
    nodata
        The nodata value declared by the file, or ``None``.

    Examples
    --------
    >>> from redline import datasets
    >>> dem = open_raster(datasets.get_path("dem"), kind="dem")
    >>> dem.kind, dem.crs.to_epsg(), dem.nodata, dem.bounds
    ('dem', 4490, -32768.0, (121.6, 40.85, 131.3, 46.3))
    """

    kind: str
    path: Path
    classes: Mapping[int, str] = field(hash=False)
    crs: CRS
    bounds: tuple[float, float, float, float]
    nodata: float | None

    @property
    def class_names(self) -> tuple[str, ...]:
        """Canonical classes the layer's codes map onto, in ``LANDCOVER_CLASSES`` order.

        Examples
        --------
        >>> from redline import datasets
        >>> layer = open_raster(datasets.get_path("landcover"), kind="landcover",
        ...                     classes={1: "耕地", 2: "林地", 9: "wetland", 3: "shrub",
        ...                              4: "grassland", 5: "water", 7: "barren", 8: "built_up"})
        >>> layer.class_names
        ('cropland', 'forest', 'shrub', 'grassland', 'water', 'wetland', 'built_up', 'barren')
        """
        present = set(self.classes.values())
        return tuple(name for name in LANDCOVER_CLASSES if name in present)

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of this layer's summary table (:func:`landcover_shares` or
        :func:`slope_stats`).

        Examples
        --------
        >>> from redline import datasets
        >>> open_raster(datasets.get_path("dem"), kind="dem").columns
        ('slope_mean_deg', 'slope_max_deg', 'coverage')
        """
        if self.kind == _DEM:
            return SLOPE_COLUMNS
        return (*(SHARE_PREFIX + name for name in self.class_names), COVERAGE_COLUMN)


# --------------------------------------------------------------------------------------------
# Opening and checking
# --------------------------------------------------------------------------------------------


def open_raster(
    path: str | Path, *, kind: str, classes: Mapping[Any, str] | None = None
) -> RasterLayer:
    """Open a ``landcover`` or ``dem`` raster and check it can be used.

    Parameters
    ----------
    path
        A single-band raster file readable by rasterio (GeoTIFF, ...), north-up.
    kind
        ``"landcover"`` or ``"dem"``.
    classes
        For ``landcover`` (required): code → canonical class, e.g. ``{10: "cropland",
        20: "forest"}``. Codes may be given as integers or integer strings (TOML keys); classes
        as canonical names or their Chinese labels (``"林地"``). Not allowed for ``dem``.

    Returns
    -------
    RasterLayer

    Raises
    ------
    LayerError
        Unknown kind; the file cannot be opened; more than one band; a rotated or south-up grid;
        ``classes`` missing, malformed or naming unknown classes; land-cover codes in the file
        that ``classes`` does not map (all of them are listed); a DEM that is not numeric.
    CRSError
        The file has no CRS, or its extent does not reach China.

    Examples
    --------
    >>> from redline import datasets
    >>> classes = {1: "cropland", 2: "forest", 3: "shrub", 4: "grassland", 5: "water",
    ...            7: "barren", 8: "built_up", 9: "wetland"}  # as in the sample's manifest
    >>> landcover = open_raster(datasets.get_path("landcover"), kind="landcover", classes=classes)
    >>> landcover.columns[:3], landcover.nodata
    (('share_cropland', 'share_forest', 'share_shrub'), 0.0)
    >>> open_raster(datasets.get_path("landcover"), kind="landcover", classes={1: "cropland"})
    Traceback (most recent call last):
    ...
    redline.errors.LayerError: .../landcover.tif: land-cover codes 2, 3, 4, 5, 7, 8, 9 are ...
    """
    path = Path(path)
    if kind not in RASTER_KINDS:
        raise LayerError(
            f"{path}: unknown raster kind {kind!r}; expected one of {', '.join(RASTER_KINDS)}"
        )
    table = _check_classes(path, kind, classes)
    try:
        ds = rasterio.open(path)
    except RasterioIOError as exc:
        raise LayerError(
            f"{path}: cannot open the {kind} raster ({exc}); check the path and that it is a "
            "raster format GDAL reads (e.g. GeoTIFF)"
        ) from exc
    with ds:
        if ds.crs is None:
            raise CRSError(
                f"{path}: the {kind} raster has no coordinate reference system. Add one, e.g. "
                f"`rio edit-info --crs EPSG:4490 {path.name}` (or the CRS it was made in)."
            )
        if ds.count != 1:
            raise LayerError(
                f"{path}: the {kind} raster has {ds.count} bands; redline reads single-band "
                "rasters. Extract the band you mean with `gdal_translate -b N`."
            )
        t = ds.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
            raise LayerError(
                f"{path}: the {kind} raster's grid is rotated or not north-up (transform "
                f"{tuple(t)[:6]}); warp it to a north-up grid with `gdalwarp` first."
            )
        crs = CRS.from_user_input(ds.crs.to_wkt())
        bounds = (
            float(ds.bounds.left),
            float(ds.bounds.bottom),
            float(ds.bounds.right),
            float(ds.bounds.top),
        )
        _check_extent(path, kind, bounds, crs)
        dtype = np.dtype(ds.dtypes[0])
        if kind == _LANDCOVER:
            if not np.issubdtype(dtype, np.integer):
                raise LayerError(
                    f"{path}: a land-cover raster must hold integer class codes; its data type "
                    f"is {dtype}. Convert it with `gdal_translate -ot Byte` (or UInt16)."
                )
            _check_codes(path, ds, table)
        elif not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
            raise LayerError(
                f"{path}: a DEM must hold numeric elevations; its data type is {dtype}."
            )
        nodata = None if ds.nodata is None else float(ds.nodata)
    return RasterLayer(
        kind=kind, path=path, classes=MappingProxyType(table), crs=crs, bounds=bounds, nodata=nodata
    )


def _check_classes(path: Path, kind: str, classes: Mapping[Any, str] | None) -> dict[int, str]:
    if kind == _DEM:
        if classes:
            raise LayerError(
                f"{path}: classes were given for a DEM; a class table only applies to "
                "kind='landcover'"
            )
        return {}
    if not classes:
        raise LayerError(
            f"{path}: a land-cover raster needs its class table: classes={{code: class}} with "
            f"classes among {', '.join(LANDCOVER_CLASSES)}"
        )
    table: dict[int, str] = {}
    bad_codes, bad_classes = [], []
    for code, name in classes.items():
        try:
            number = int(str(code).strip())
        except ValueError:
            bad_codes.append(repr(code))
            continue
        canonical = name if name in LANDCOVER_CLASSES else _CLASS_BY_LABEL.get(str(name))
        if canonical is None:
            bad_classes.append(f"{code}={name!r}")
            continue
        table[number] = canonical
    if bad_codes or bad_classes:
        problems = []
        if bad_codes:
            problems.append(f"codes that are not integers: {', '.join(bad_codes)}")
        if bad_classes:
            problems.append(f"unknown classes: {', '.join(bad_classes)}")
        raise LayerError(
            f"{path}: the land-cover class table has {'; '.join(problems)}. Codes must be "
            f"integers and classes one of {', '.join(LANDCOVER_CLASSES)} (or their Chinese "
            "labels)."
        )
    return table


def _check_extent(
    path: Path, kind: str, bounds: tuple[float, float, float, float], crs: CRS
) -> None:
    to_lonlat = transformer(crs, 4326)
    with np.errstate(invalid="ignore"):
        lon0, lat0, lon1, lat1 = to_lonlat.transform_bounds(*bounds, densify_pts=21, errcheck=False)
    xmin, ymin, xmax, ymax = CHINA_LONLAT_BOUNDS
    finite = all(math.isfinite(v) for v in (lon0, lat0, lon1, lat1))
    if not finite or lon1 < xmin or lon0 > xmax or lat1 < ymin or lat0 > ymax:
        where = (
            f"lon {lon0:.2f}–{lon1:.2f}, lat {lat0:.2f}–{lat1:.2f}"
            if finite
            else "no finite longitude/latitude"
        )
        raise CRSError(
            f"{path}: the {kind} raster does not reach China (lon {xmin}–{xmax}, lat "
            f"{ymin}–{ymax}): its bounds {tuple(round(b, 3) for b in bounds)} in "
            f"{crs.name} give {where}. Likely cause: {diagnose_crs(bounds, crs)}."
        )


def _check_codes(path: Path, ds: rasterio.io.DatasetReader, table: Mapping[int, str]) -> None:
    """Raise if the raster holds a valid (unmasked) code that ``table`` does not map."""
    found: set[int] = set()
    rows = max(1, _SCAN_CELLS // ds.width)
    for row in range(0, ds.height, rows):
        block = ds.read(1, window=Window(0, row, ds.width, min(rows, ds.height - row)), masked=True)
        values = block.compressed()
        if values.size:
            found.update(int(v) for v in np.unique(values))
    unknown = sorted(found - set(table))
    if unknown:
        shown = ", ".join(str(c) for c in unknown[:30])
        more = f" and {len(unknown) - 30} more" if len(unknown) > 30 else ""
        raise LayerError(
            f"{path}: land-cover codes {shown}{more} are not in the class table (it maps "
            f"{', '.join(str(c) for c in sorted(table))}). Add them to the table "
            f"(code = one of {', '.join(LANDCOVER_CLASSES)}) or declare them nodata."
        )


# --------------------------------------------------------------------------------------------
# Summaries per site
# --------------------------------------------------------------------------------------------


def landcover_shares(
    geoms: gpd.GeoSeries | np.ndarray,
    layer: RasterLayer,
    *,
    crs: Any,
    line_buffer_m: float = 5.0,
) -> pd.DataFrame:
    """Share of each site's covered area on each land-cover class.

    Parameters
    ----------
    geoms
        Site geometries (GeoSeries, or an array of shapely geometries) in ``crs``.
    layer
        A ``landcover`` layer from :func:`open_raster`.
    crs
        The CRS of ``geoms``: projected, in metres (the working CRS).
    line_buffer_m
        Points and lines are assessed on a buffer of this many metres.

    Returns
    -------
    pandas.DataFrame
        One row per site (the GeoSeries' index, else 0..n-1) with ``share_<class>`` for every
        class in ``layer.classes`` (summing to 1 where ``coverage`` > 0, NaN where it is 0) and
        ``coverage``. Columns: ``layer.columns``.

    Raises
    ------
    LayerError
        ``layer`` is not a land-cover layer, or the file now holds codes it did not hold when
        opened.
    CRSError, GeometryError
        See :func:`slope_stats`.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets
    >>> from redline.crs import WORKING_CRS
    >>> classes = {1: "cropland", 2: "forest", 3: "shrub", 4: "grassland", 5: "water",
    ...            7: "barren", 8: "built_up", 9: "wetland"}
    >>> landcover = open_raster(datasets.get_path("landcover"), kind="landcover", classes=classes)
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(3).to_crs(WORKING_CRS)
    >>> shares = landcover_shares(sites.geometry, landcover, crs=WORKING_CRS)
    >>> shares[["share_forest", "share_built_up", "coverage"]].round(2)
       share_forest  share_built_up  coverage
    0           0.0             1.0       1.0
    1           0.0             1.0       1.0
    2           0.0             1.0       1.0
    """
    _require_kind(layer, _LANDCOVER)
    return RasterSites(geoms, crs=crs, line_buffer_m=line_buffer_m).landcover_shares(layer)


def slope_stats(
    geoms: gpd.GeoSeries | np.ndarray,
    layer: RasterLayer,
    *,
    crs: Any,
    line_buffer_m: float = 5.0,
) -> pd.DataFrame:
    """Mean and maximum slope (degrees) over each site, from a DEM.

    Parameters
    ----------
    geoms
        Site geometries (GeoSeries, or an array of shapely geometries) in ``crs``.
    layer
        A ``dem`` layer from :func:`open_raster`; elevations in metres.
    crs
        The CRS of ``geoms``: projected, in metres (the working CRS).
    line_buffer_m
        Points and lines are assessed on a buffer of this many metres.

    Returns
    -------
    pandas.DataFrame
        One row per site (the GeoSeries' index, else 0..n-1) with :data:`SLOPE_COLUMNS`:
        ``slope_mean_deg`` (mean weighted by the covered area of each pixel),
        ``slope_max_deg`` (maximum over every pixel the site touches), ``coverage``.
        Slopes are NaN where ``coverage`` is 0.

    Raises
    ------
    LayerError
        ``layer`` is not a DEM.
    CRSError
        ``crs`` is not projected in metres, disagrees with the GeoSeries' own CRS, or sites do
        not reproject into the raster's CRS.
    GeometryError
        Invalid polygons (repair them first), or a ``line_buffer_m`` that is not positive.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets
    >>> from redline.crs import WORKING_CRS
    >>> dem = open_raster(datasets.get_path("dem"), kind="dem")
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(3).to_crs(WORKING_CRS)
    >>> slope_stats(sites.geometry, dem, crs=WORKING_CRS).round(1)
       slope_mean_deg  slope_max_deg  coverage
    0             0.1            0.1       1.0
    1             1.9            2.8       1.0
    2             0.0            0.1       1.0
    """
    _require_kind(layer, _DEM)
    return RasterSites(geoms, crs=crs, line_buffer_m=line_buffer_m).slope_stats(layer)


# --------------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------------


class RasterSites:
    """Sites checked, buffered and flattened into coordinate arrays once, for the summaries of
    any number of rasters (:meth:`landcover_shares`, :meth:`slope_stats`).

    :func:`landcover_shares` and :func:`slope_stats` prepare their sites anew on every call;
    summarising several rasters over the same sites through one ``RasterSites`` checks and
    buffers them once and reprojects them once per raster CRS.

    Parameters
    ----------
    geoms
        Site geometries (GeoSeries, or an array of shapely geometries) in ``crs``.
    crs
        The CRS of ``geoms``: projected, in metres (the working CRS).
    line_buffer_m
        Points and lines are assessed on a buffer of this many metres.

    Raises
    ------
    CRSError
        ``crs`` is not projected in metres, or disagrees with the GeoSeries' own CRS.
    GeometryError
        Invalid polygons (repair them first), or a ``line_buffer_m`` that is not positive.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets
    >>> from redline.crs import WORKING_CRS
    >>> dem = open_raster(datasets.get_path("dem"), kind="dem")
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(3).to_crs(WORKING_CRS)
    >>> prepared = RasterSites(sites.geometry, crs=WORKING_CRS)
    >>> prepared.slope_stats(dem).equals(slope_stats(sites.geometry, dem, crs=WORKING_CRS))
    True
    """

    def __init__(
        self, geoms: gpd.GeoSeries | np.ndarray, *, crs: Any, line_buffer_m: float = 5.0
    ) -> None:
        if crs is None:
            raise CRSError(
                "crs is required: pass the CRS the site geometries are in (the "
                "working CRS, redline.crs.WORKING_CRS)"
            )
        site_crs = CRS.from_user_input(crs)
        if not is_metric(site_crs):
            raise CRSError(
                f"sites must be in a projected CRS in metres (the working CRS); got {site_crs.name}"
            )
        if isinstance(geoms, gpd.GeoDataFrame):
            geoms = geoms.geometry
        if isinstance(geoms, gpd.GeoSeries):
            if geoms.crs is not None and not CRS.from_user_input(geoms.crs).equals(site_crs):
                raise CRSError(
                    f"the sites' own CRS ({CRS.from_user_input(geoms.crs).name}) differs from "
                    f"crs={site_crs.name}; reproject the sites into crs first"
                )
            index = geoms.index
            values = np.asarray(geoms.values, dtype=object)
        else:
            values = np.asarray(geoms, dtype=object)
            if values.ndim != 1:
                raise TypeError(f"geoms must be one-dimensional; got shape {values.shape}")
            index = pd.RangeIndex(len(values))
        if not (math.isfinite(line_buffer_m) and line_buffer_m > 0):
            raise GeometryError(
                f"line_buffer_m must be a positive number of metres; got {line_buffer_m!r}"
            )
        present = ~(shapely.is_missing(values) | shapely.is_empty(values))
        kinds = shapely.get_type_id(values)
        polygonal = present & np.isin(kinds, (3, 6))  # Polygon, MultiPolygon
        invalid = polygonal & ~shapely.is_valid(values)
        if invalid.any():
            bad = index[np.flatnonzero(invalid)]
            ids = ", ".join(str(i) for i in bad[:10])
            more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
            raise GeometryError(
                f"{len(bad)} site polygons are invalid (sites {ids}{more}); repair them before "
                "raster statistics (shapely.make_valid(..., method='structure') keeps overlaps)"
            )
        rows = np.flatnonzero(present)
        chosen = values[rows]
        other = ~np.isin(kinds[rows], (3, 6))
        if other.any():
            chosen = chosen.copy()
            chosen[other] = shapely.buffer(chosen[other], line_buffer_m)
        self.crs: CRS = site_crs
        self.line_buffer_m = line_buffer_m
        self._sites = _Sites(index, rows, *_ragged(chosen))
        self._projected: list[tuple[CRS, _Sites]] = []

    def landcover_shares(self, layer: RasterLayer) -> pd.DataFrame:
        """:func:`landcover_shares` of these sites.

        Parameters
        ----------
        layer
            A ``landcover`` layer from :func:`open_raster`.

        Returns
        -------
        pandas.DataFrame
            As :func:`landcover_shares`.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from redline import datasets
        >>> from redline.crs import WORKING_CRS
        >>> classes = {1: "cropland", 2: "forest", 3: "shrub", 4: "grassland", 5: "water",
        ...            7: "barren", 8: "built_up", 9: "wetland"}
        >>> landcover = open_raster(datasets.get_path("landcover"), kind="landcover",
        ...                         classes=classes)
        >>> sites = gpd.read_file(datasets.get_path("sites")).head(3).to_crs(WORKING_CRS)
        >>> prepared = RasterSites(sites.geometry, crs=WORKING_CRS)
        >>> prepared.landcover_shares(landcover)[["share_built_up", "coverage"]].round(2)
           share_built_up  coverage
        0             1.0       1.0
        1             1.0       1.0
        2             1.0       1.0
        """
        _require_kind(layer, _LANDCOVER)
        started = time.perf_counter()
        sites = self._in_crs_of(layer)
        names = layer.class_names
        shares = np.full((len(sites.index), len(names)), np.nan)
        coverage = np.zeros(len(sites.index))
        grid = _read_window(layer, sites)
        if grid is not None:
            for group in _groups(sites):
                cells = _pixel_cover(group, grid)
                group_coverage = _coverage(cells)
                column = _class_positions(layer, grid.values[cells.row, cells.col], names)
                block = np.zeros((len(group.rows), len(names)))
                np.add.at(block, (cells.site, column), cells.weight)
                with np.errstate(invalid="ignore", divide="ignore"):
                    block /= block.sum(axis=1, keepdims=True)
                block[group_coverage == 0] = np.nan
                coverage[group.rows], shares[group.rows] = group_coverage, block
        columns = [SHARE_PREFIX + name for name in names]
        frame = pd.DataFrame(shares, index=sites.index, columns=columns)
        frame[COVERAGE_COLUMN] = coverage
        _log_rate("landcover shares", layer, len(frame), started)
        return frame

    def slope_stats(self, layer: RasterLayer) -> pd.DataFrame:
        """:func:`slope_stats` of these sites.

        Parameters
        ----------
        layer
            A ``dem`` layer from :func:`open_raster`; elevations in metres.

        Returns
        -------
        pandas.DataFrame
            As :func:`slope_stats`.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from redline import datasets
        >>> from redline.crs import WORKING_CRS
        >>> dem = open_raster(datasets.get_path("dem"), kind="dem")
        >>> sites = gpd.read_file(datasets.get_path("sites")).head(3).to_crs(WORKING_CRS)
        >>> RasterSites(sites.geometry, crs=WORKING_CRS).slope_stats(dem).round(1)
           slope_mean_deg  slope_max_deg  coverage
        0             0.1            0.1       1.0
        1             1.9            2.8       1.0
        2             0.0            0.1       1.0
        """
        _require_kind(layer, _DEM)
        started = time.perf_counter()
        sites = self._in_crs_of(layer)
        result = np.full((len(sites.index), 3), np.nan)
        result[:, 2] = 0.0
        if len(sites.rows):
            slope, transform = slope_grid(layer)
            grid = _grid(layer, slope, ~np.isnan(slope), transform, row0=0, col0=0)
            for group in _groups(sites):
                cells = _pixel_cover(group, grid)
                n = len(group.rows)
                value = slope[cells.row, cells.col].astype(np.float64)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.bincount(cells.site, cells.weight * value, minlength=n) / np.bincount(
                        cells.site, cells.weight, minlength=n
                    )
                peak = np.full(n, np.nan)
                if len(cells.site):  # cells come grouped by site
                    first = np.flatnonzero(np.r_[True, cells.site[1:] != cells.site[:-1]])
                    peak[cells.site[first]] = np.maximum.reduceat(value, first)
                result[group.rows] = np.column_stack([mean, peak, _coverage(cells)])
        frame = pd.DataFrame(result, index=sites.index, columns=list(SLOPE_COLUMNS))
        _log_rate("slope statistics", layer, len(frame), started)
        return frame

    def _in_crs_of(self, layer: RasterLayer) -> _Sites:
        """The sites reprojected into ``layer``'s CRS (once per CRS)."""
        if self.crs.equals(layer.crs):
            return self._sites
        for crs, sites in self._projected:
            if crs.equals(layer.crs):
                return sites
        own = self._sites
        x, y = transformer(self.crs, layer.crs).transform(own.coords[:, 0], own.coords[:, 1])
        coords = np.column_stack([x, y])
        if not np.isfinite(coords).all():
            raise CRSError(
                f"{layer.path}: reprojecting sites from {self.crs.name} into the raster's CRS "
                f"({layer.crs.name}) gave non-finite coordinates; check crs"
            )
        sites = dataclasses.replace(own, coords=coords)
        self._projected.append((layer.crs, sites))
        return sites


@dataclass(frozen=True)
class _Sites:
    """Sites ready for extraction: the polygons of the rows ``rows`` as ragged coordinate
    arrays (:func:`shapely.to_ragged_array`) in the raster's CRS, so that reprojecting them
    builds no geometries."""

    index: pd.Index
    rows: np.ndarray
    coords: np.ndarray  # (n, 2) vertices, ring by ring, site by site
    ring_end: np.ndarray  # offsets of each ring's vertices in coords
    polygon_end: np.ndarray  # offsets of each polygon's rings
    site_end: np.ndarray  # offsets of each site's polygons


def _ragged(
    polygons: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vertices, ring ends, polygon ends and site ends of (multi)polygons, as
    :func:`shapely.to_ragged_array` gives them.

    Polygons without holes (nearly every site) are read directly: one ring per polygon, one
    polygon per site (``to_ragged_array`` walks their rings as geometries, ~4× the time).
    """
    if not len(polygons):
        none = np.zeros(1, np.int64)
        return np.empty((0, 2)), none, none, none
    sites = np.arange(len(polygons) + 1)
    if (shapely.get_type_id(polygons) == 3).all() and not shapely.get_num_interior_rings(
        polygons
    ).any():
        ring_end = np.zeros(len(polygons) + 1, np.int64)
        np.cumsum(shapely.get_num_coordinates(polygons), out=ring_end[1:])
        return shapely.get_coordinates(polygons), ring_end, sites, sites
    _, coords, offsets = shapely.to_ragged_array(polygons)  # polygons, or all multipolygons
    return coords, offsets[0], offsets[1], offsets[2] if len(offsets) == 3 else sites


def _require_kind(layer: RasterLayer, kind: str) -> None:
    if not isinstance(layer, RasterLayer):
        raise TypeError(f"layer must be a RasterLayer from open_raster; got {type(layer)}")
    if layer.kind != kind:
        raise LayerError(f"{layer.path}: expected a {kind} layer, got a {layer.kind} layer")


def _groups(sites: _Sites) -> Iterator[_Sites]:
    """``sites`` in consecutive groups of :data:`_SITES_PER_GROUP`: the pixels of a group's
    bounding boxes and its edges' terms are measured at once, so a million sites would hold
    gigabytes of them (a site's fractions do not depend on its group)."""
    for lo in range(0, len(sites.rows), _SITES_PER_GROUP):
        hi = min(lo + _SITES_PER_GROUP, len(sites.rows))
        p0, p1 = sites.site_end[lo], sites.site_end[hi]
        r0, r1 = sites.polygon_end[p0], sites.polygon_end[p1]
        v0, v1 = sites.ring_end[r0], sites.ring_end[r1]
        yield _Sites(
            index=sites.index,
            rows=sites.rows[lo:hi],
            coords=sites.coords[v0:v1],
            ring_end=sites.ring_end[r0 : r1 + 1] - v0,
            polygon_end=sites.polygon_end[p0 : p1 + 1] - r0,
            site_end=sites.site_end[lo : hi + 1] - p0,
        )


def _coverage(cells: _Cells) -> np.ndarray:
    """Fraction of each site's area on valid pixels (0 for a site of no area)."""
    site_area = cells.site_area
    covered = np.bincount(cells.site, cells.fraction, minlength=len(site_area))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(site_area > 0, covered / site_area, 0.0)
    return np.clip(np.nan_to_num(ratio), 0.0, 1.0)


def _class_positions(layer: RasterLayer, codes: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    position = {name: i for i, name in enumerate(names)}
    distinct, inverse = np.unique(codes, return_inverse=True)
    unknown = [int(c) for c in distinct if int(c) not in layer.classes]
    if unknown:
        raise LayerError(
            f"{layer.path}: land-cover codes {', '.join(map(str, unknown))} are not in the class "
            "table; the file changed since it was opened. Open it again with open_raster."
        )
    lookup = np.array([position[layer.classes[int(c)]] for c in distinct], dtype=np.intp)
    return lookup[inverse]


# --------------------------------------------------------------------------------------------
# Rasters in memory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """Pixel values of a north-up raster, or a window of it, and where they are valid.

    Positions are reckoned on the whole raster (``left``, ``top``: its corner) and the window
    starts at its pixel ``(row0, col0)``: a site's pixel fractions are then the same whatever
    window the other sites of its batch made (a forked chunk's, one process's, its own)."""

    values: np.ndarray
    valid: np.ndarray  # bool, same shape
    left: float
    top: float
    res_x: float
    res_y: float  # positive: rows run south
    row_weight: np.ndarray  # true area of a pixel of each row of values (1 when projected)
    row0: int
    col0: int


def _grid(
    layer: RasterLayer,
    values: np.ndarray,
    valid: np.ndarray,
    transform: Any,
    *,
    row0: int,
    col0: int,
) -> _Grid:
    """The grid of ``values``: the window of ``layer`` (``transform``: the whole raster's)
    whose top-left pixel is ``(row0, col0)``."""
    res_x, res_y = transform.a, -transform.e
    if layer.crs.is_geographic:
        # a pixel's area on the sphere is proportional to sin(north edge) - sin(south edge)
        # (exactextract's area_spherical_m2 weight, whose constant factor cancels in shares)
        edges = np.radians(transform.f - (row0 + np.arange(values.shape[0] + 1)) * res_y)
        weight = np.sin(edges[:-1]) - np.sin(edges[1:])
    else:
        weight = np.ones(values.shape[0])
    return _Grid(values, valid, transform.c, transform.f, res_x, res_y, weight, row0, col0)


def _read_window(layer: RasterLayer, sites: _Sites) -> _Grid | None:
    """The part of the raster under the sites (valid where not nodata)."""
    if not len(sites.rows):
        return None
    x, y = sites.coords[:, 0], sites.coords[:, 1]  # min(axis=0) of (n, 2) is ~20× slower
    sxmin, sxmax, symin, symax = x.min(), x.max(), y.min(), y.max()
    with rasterio.open(layer.path) as ds:
        t = ds.transform
        col0 = max(0, math.floor((sxmin - t.c) / t.a) - 1)
        col1 = min(ds.width, math.ceil((sxmax - t.c) / t.a) + 1)
        row0 = max(0, math.floor((t.f - symax) / -t.e) - 1)
        row1 = min(ds.height, math.ceil((t.f - symin) / -t.e) + 1)
        if col1 <= col0 or row1 <= row0:
            return None
        array = ds.read(1, window=Window(col0, row0, col1 - col0, row1 - row0), masked=True)
    return _grid(layer, array.data, ~np.ma.getmaskarray(array), t, row0=row0, col0=col0)


def slope_grid(layer: RasterLayer) -> tuple[np.ndarray, Any]:
    """The slope of a DEM in degrees (float32, NaN where unknown) and its grid's transform,
    computed once per file (and again when the file changes).

    Parameters
    ----------
    layer
        A ``dem`` layer from :func:`open_raster`.

    Returns
    -------
    slope : numpy.ndarray
    transform : affine.Affine

    Examples
    --------
    >>> from redline import datasets
    >>> dem = open_raster(datasets.get_path("dem"), kind="dem")
    >>> slope, transform = slope_grid(dem)
    >>> slope.dtype.name, slope_grid(dem)[0] is slope  # computed once
    ('float32', True)
    """
    _require_kind(layer, _DEM)
    stat = layer.path.stat()
    return _slope_grid(str(layer.path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _slope_grid(path: str, mtime_ns: int, size: int) -> tuple[np.ndarray, Any]:
    """Slope in degrees (float32, NaN where unknown) of the DEM at ``path``, and its grid's
    transform.

    ``mtime_ns`` and ``size`` are part of the cache key so that a rewritten file is re-read.
    """
    started = time.perf_counter()
    with rasterio.open(path) as ds:
        height, width, transform = ds.height, ds.width, ds.transform
        crs = CRS.from_user_input(ds.crs.to_wkt())
        dx, span = _pixel_metres(ds.transform, height, crs)
        slope = np.empty((height, width), dtype=np.float32)
        strip = max(1, _SLOPE_CELLS // width)
        for row0 in range(0, height, strip):
            row1 = min(height, row0 + strip)
            top, bottom = max(0, row0 - 1), min(height, row1 + 1)
            block = ds.read(1, window=Window(0, top, width, bottom - top), masked=True)
            z = np.full((row1 - row0 + 2, width + 2), np.nan)
            z[top - row0 + 1 : top - row0 + 1 + block.shape[0], 1:-1] = block.astype(
                np.float64
            ).filled(np.nan)
            slope[row0:row1] = _horn_slope_deg(z, dx[row0 : row1 + 2], span[row0:row1])
    logger.info(
        "computed slope of %s (%d × %d pixels) in %.2f s",
        path,
        width,
        height,
        time.perf_counter() - started,
    )
    return slope, transform


def _pixel_metres(transform: Any, height: int, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """East-west pixel size per row (rows -1..height, so ``height + 2`` values) and the
    north-south distance between the centres of rows r-1 and r+1 (``height`` values), metres."""
    res_x, res_y = transform.a, -transform.e
    if not crs.is_geographic:
        factor = crs.axis_info[0].unit_conversion_factor
        return (np.full(height + 2, res_x * factor), np.full(height, 2 * res_y * factor))
    geod = crs.get_geod()
    if geod is None:
        raise CRSError(f"the DEM's CRS {crs.name} has no ellipsoid; cannot measure its pixels")
    lat = transform.f - (np.arange(-1, height + 1) + 0.5) * res_y  # centres of rows -1..height
    lon = np.full(lat.shape, transform.c)
    _, _, dx = geod.inv(lon, lat, lon + res_x, lat)
    _, _, span = geod.inv(lon[2:], lat[:-2], lon[2:], lat[2:])
    return np.asarray(dx, dtype=float), np.asarray(span, dtype=float)


def _horn_slope_deg(z: np.ndarray, dx: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Horn's slope (degrees) of the interior of ``z`` (a one-cell NaN-padded frame).

    A missing neighbour (nodata or outside the raster) is replaced by reflecting its opposite
    neighbour through the centre, or a missing corner by extending the plane through its two
    edge neighbours (both exact on a plane); where that is impossible, or the centre is missing,
    the slope is NaN (not covered) rather than an underestimate.
    """
    e = z[1:-1, 1:-1]
    a, b, c = z[:-2, :-2], z[:-2, 1:-1], z[:-2, 2:]
    d, f = z[1:-1, :-2], z[1:-1, 2:]
    g, h, i = z[2:, :-2], z[2:, 1:-1], z[2:, 2:]

    def filled(near: np.ndarray, far: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(near), 2 * e - far, near)

    a, i = filled(a, i), filled(i, a)
    b, h = filled(b, h), filled(h, b)
    c, g = filled(c, g), filled(g, c)
    d, f = filled(d, f), filled(f, d)
    # A corner whose opposite corner is missing too (the raster's corners): extend the plane
    # through the two edge neighbours next to it.
    a = np.where(np.isnan(a), b + d - e, a)
    c = np.where(np.isnan(c), b + f - e, c)
    g = np.where(np.isnan(g), d + h - e, g)
    i = np.where(np.isnan(i), f + h - e, i)
    dx_above, dx_row, dx_below = dx[:-2, None], dx[1:-1, None], dx[2:, None]
    dzdx = ((c - a) / dx_above + 2 * (f - d) / dx_row + (i - g) / dx_below) / 8
    dzdy = ((g + 2 * h + i) - (a + 2 * b + c)) / (4 * span[:, None])
    return np.degrees(np.arctan(np.hypot(dzdx, dzdy)))


# --------------------------------------------------------------------------------------------
# Exact pixel coverage
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
    """The valid pixels each site covers, grouped by site: ``fraction`` of the pixel covered,
    ``weight`` = fraction × the pixel's relative true area (:attr:`_Grid.row_weight`)."""

    site: np.ndarray
    row: np.ndarray
    col: np.ndarray
    fraction: np.ndarray
    weight: np.ndarray
    site_area: np.ndarray  # area of each site, in pixels


def _pixel_cover(sites: _Sites, grid: _Grid) -> _Cells:
    """Exact fraction of every pixel each site covers (the coverage fractions exactextract
    computes, in double precision), vectorised over all sites and their edges.

    In pixel coordinates (column, row) the covered area of pixel ``[j, j+1] × [k, k+1]`` is,
    by Green's theorem, the sum over the polygon's directed edges of
    ``∫ clamp(x - j, 0, 1) dy`` over the part of the edge in the row band ``k ≤ y ≤ k + 1``
    (exteriors counter-clockwise, holes clockwise; a constant integrates to 0 around a closed
    ring, and the band's own edges have dy = 0). An edge adds nothing to the pixels east of
    it, so the part of each edge in each row band it crosses is paired with the pixels of
    that row from the site's westmost column to the part's own eastmost one.
    """
    height, width = grid.values.shape
    ring_end, polygon_end, site_end = sites.ring_end, sites.polygon_end, sites.site_end
    n_sites, n_rings = len(site_end) - 1, len(ring_end) - 1
    # pixel coordinates on the whole raster (see _Grid), cells kept within the window
    x = (sites.coords[:, 0] - grid.left) / grid.res_x
    y = (sites.coords[:, 1] - grid.top) / -grid.res_y  # rows run south
    # directed edges: every vertex but the last (the first, repeated) of its ring
    ring_of_vertex = np.repeat(np.arange(n_rings), np.diff(ring_end))
    is_start = np.ones(len(x), dtype=bool)
    is_start[ring_end[1:] - 1] = False
    start_at = np.flatnonzero(is_start)
    x0, y0, x1, y1 = x[start_at], y[start_at], x[start_at + 1], y[start_at + 1]
    ring = ring_of_vertex[start_at]
    ring_site = np.repeat(np.repeat(np.arange(n_sites), np.diff(site_end)), np.diff(polygon_end))
    site = ring_site[ring]
    # each ring's edge terms sum to its signed area: exteriors count +, holes -
    first = ring_end[:-1][ring]  # the ring's first vertex
    ux, uy, vx, vy = x0 - x[first], y0 - y[first], x1 - x[first], y1 - y[first]
    twice = np.bincount(ring, ux * vy - vx * uy, minlength=n_rings)
    exterior = np.zeros(n_rings, dtype=bool)
    exterior[polygon_end[:-1]] = True
    orient = np.where(exterior, 1.0, -1.0) * np.sign(twice)
    site_area = np.bincount(ring_site, orient * twice / 2, minlength=n_sites)  # in pixels
    # the pixels of each site's bounding box, numbered site by site
    if n_sites:
        at = ring_end[polygon_end[site_end[:-1]]]
        lo_x, hi_x = np.minimum.reduceat(x, at), np.maximum.reduceat(x, at)
        lo_y, hi_y = np.minimum.reduceat(y, at), np.maximum.reduceat(y, at)
    else:
        lo_x = hi_x = lo_y = hi_y = x
    c0 = np.clip(np.floor(lo_x), grid.col0, grid.col0 + width).astype(np.int64)
    c1 = np.clip(np.ceil(hi_x), grid.col0, grid.col0 + width).astype(np.int64)
    r0 = np.clip(np.floor(lo_y), grid.row0, grid.row0 + height).astype(np.int64)
    r1 = np.clip(np.ceil(hi_y), grid.row0, grid.row0 + height).astype(np.int64)
    n_cols, n_rows = np.maximum(c1 - c0, 0), np.maximum(r1 - r0, 0)
    first_cell = np.concatenate([[0], np.cumsum(n_cols * n_rows)])
    # the rows each edge crosses and the columns up to its eastmost
    c0_e, r0_e = c0[site], r0[site]
    y_min, y_max = np.minimum(y0, y1), np.maximum(y0, y1)
    row_a = np.clip(np.floor(y_min), r0_e, r1[site]).astype(np.int64)
    row_b = np.clip(np.ceil(y_max), r0_e, r1[site]).astype(np.int64)
    col_b = np.clip(np.ceil(np.maximum(x0, x1)), c0_e, c1[site])
    edge_rows = np.where(y_max > y_min, row_b - row_a, 0)  # a horizontal edge adds nothing
    pairs = edge_rows * (col_b.astype(np.int64) - c0_e)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (x1 - x0) / (y1 - y0)  # read only where an edge crosses rows: not horizontal
    covered = np.zeros(first_cell[-1])
    for a, b in _blocks(pairs, site):
        # the part of each edge in each row band it crosses ("band")
        e = a + np.flatnonzero(pairs[a:b])
        of_edge, rank = _expand(edge_rows[e])
        e = e[of_edge]
        row = row_a[e] + rank
        start_x, start_y, de, c0_b = x0[e], y0[e], slope[e], c0_e[e]
        ya = np.minimum(np.maximum(start_y, row), row + 1)
        yb = np.minimum(np.maximum(y1[e], row), row + 1)
        xa, xb = start_x + (ya - start_y) * de, start_x + (yb - start_y) * de
        # pixels east of the band's part add exactly 0 (ua, ub <= 0 below): not paired
        east = np.minimum(np.ceil(np.maximum(xa, xb)), col_b[e])
        band, k = _expand((np.maximum(east, c0_b) - c0_b).astype(np.int64))
        col = c0_b[band] + k
        ua, ub = xa[band] - col, xb[band] - col
        # ∫ clamp(x - col, 0, 1) dy, times ±1 for the ring's orientation (exact either way)
        area = ((yb - ya) * orient[ring[e]])[band] * _mean_clamped(ua, ub)
        # the block's cells: those of its sites, numbered from its first site's first
        lo, hi = first_cell[site[a]], first_cell[site[b - 1] + 1]
        cell = (first_cell[site[e]] - lo + (row - r0_e[e]) * n_cols[site[e]])[band] + k
        covered[lo:hi] += np.bincount(cell, area, minlength=hi - lo)
    # covered pixels, back to (site, row, col) of the window; cells come grouped by site
    at = np.flatnonzero(covered > _MIN_FRACTION)
    owner = np.searchsorted(first_cell, at, side="right") - 1
    row, col = np.divmod(at - first_cell[owner], np.maximum(n_cols[owner], 1))
    row, col = row + r0[owner] - grid.row0, col + c0[owner] - grid.col0
    keep = grid.valid[row, col]
    row, col, fraction = row[keep], col[keep], np.minimum(covered[at][keep], 1.0)
    weight = fraction * grid.row_weight[row]
    return _Cells(owner[keep], row, col, fraction, weight, site_area)


def _mean_clamped(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean of ``clamp(u, 0, 1)`` for ``u`` running linearly from ``a`` to ``b``.

    It is ``P(a, b) - P(a - 1, b - 1)``, where ``P`` is the mean of ``max(u, 0)``: the average
    ``(a + b) / 2`` where both are >= 0, 0 where both are <= 0, else
    ``max(a, b)² / (2 |a - b|)``. Each case is computed only where it applies (``a - 1`` and
    ``b - 1`` are >= 0 exactly where ``min(a, b) >= 1``, and so on); a ``P`` of 0 is not
    subtracted, which leaves every value as the plain formula gives it.
    """
    mean = (a + b) / 2
    low, high = np.minimum(a, b), np.maximum(a, b)
    across = np.flatnonzero(low < 0)
    top = high[across]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean[across] = np.where(top <= 0, 0.0, top**2 / (2 * np.abs(a[across] - b[across])))
    west = np.flatnonzero(low >= 1)
    mean[west] -= ((a[west] - 1) + (b[west] - 1)) / 2
    partly = np.flatnonzero((low < 1) & (high > 1))
    a1, b1 = a[partly] - 1, b[partly] - 1
    mean[partly] -= np.maximum(a1, b1) ** 2 / (2 * np.abs(a1 - b1))
    return mean


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``counts.sum()`` items, ``counts[i]`` of them for each ``i``: the ``i`` of each item
    and its rank among them (``0, 1, ..., counts[i] - 1``)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    return owner, np.arange(len(owner)) - (np.cumsum(counts) - counts)[owner]


def _blocks(pairs: np.ndarray, site: np.ndarray) -> Iterator[tuple[int, int]]:
    """Consecutive ranges of edges (``pairs`` pixels each, grouped by ``site``) to measure at
    once.

    A pixel's terms are summed chunk by chunk (:func:`_chunks` of :data:`_PAIRS_PER_CHUNK`
    pairs, which bound the memory a very large site takes); within a chunk, whole sites are
    measured in blocks of about :data:`_PAIRS_PER_BLOCK` pairs, whose arrays stay in the CPU's
    cache. A block ends between two sites, so no pixel's sum changes.
    """
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])  # each site's first edge
    before = np.concatenate([[0], np.cumsum(pairs)])  # pairs before each edge
    for a, b in _chunks(pairs, _PAIRS_PER_CHUNK):
        inside = starts[np.searchsorted(starts, a, side="right") : np.searchsorted(starts, b)]
        block = (before[inside] - before[a]) // _PAIRS_PER_BLOCK
        cuts = inside[np.diff(block, prepend=0) > 0]
        yield from zip([a, *cuts.tolist()], [*cuts.tolist(), b], strict=True)


def _chunks(sizes: np.ndarray, limit: int) -> Iterator[tuple[int, int]]:
    """Consecutive ranges of ``sizes`` summing to about ``limit`` (at least one item each)."""
    total = np.cumsum(sizes)
    lo = 0
    while lo < len(sizes):
        base = total[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(total, base + limit, side="right")))
        yield lo, hi
        lo = hi


def _log_rate(what: str, layer: RasterLayer, n: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    logger.debug(
        "%s for %d sites from %s in %.2f s (%.0f sites/s)",
        what,
        n,
        layer.path.name,
        elapsed,
        n / elapsed if elapsed > 0 else float("inf"),
    )
