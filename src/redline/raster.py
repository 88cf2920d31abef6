"""Land-cover shares and slope statistics per site from ``landcover`` and ``dem`` rasters.

Rasters are opened and checked once by :func:`open_raster`; :func:`landcover_shares` and
:func:`slope_stats` then summarise them over any number of sites in one batched
`exactextract <https://isciences.github.io/exactextract/>`_ pass per raster.

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
  (exactextract's ``area_spherical_m2`` coverage weight), so shares and mean slopes are
  area-weighted; in a projected raster all pixels have the same area. ``coverage`` is a ratio of
  areas measured in the raster's own CRS, so it is exactly 1 for a fully covered site.
- Slope (degrees, Horn's 3×3 method) is computed once per DEM file and cached in memory, keyed
  by the file's path, size and modification time. Elevations must be metres. Pixel sizes of a
  geographic DEM are converted to metres row by row with geodesics on the DEM's ellipsoid.
"""

from __future__ import annotations

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
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource
from exactextract.writer import Writer
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from redline.crs import JILIN_LONLAT_BOUNDS, diagnose_crs, is_metric, transformer
from redline.errors import CRSError, GeometryError, LayerError
from redline.schema import LANDCOVER_CLASSES, RASTER_KINDS

__all__ = [
    "COVERAGE_COLUMN",
    "SHARE_PREFIX",
    "SLOPE_COLUMNS",
    "RasterLayer",
    "landcover_shares",
    "open_raster",
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
        The file has no CRS, or its extent does not reach Jilin.

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
    xmin, ymin, xmax, ymax = JILIN_LONLAT_BOUNDS
    finite = all(math.isfinite(v) for v in (lon0, lat0, lon1, lat1))
    if not finite or lon1 < xmin or lon0 > xmax or lat1 < ymin or lat0 > ymax:
        where = (
            f"lon {lon0:.2f}–{lon1:.2f}, lat {lat0:.2f}–{lat1:.2f}"
            if finite
            else "no finite longitude/latitude"
        )
        raise CRSError(
            f"{path}: the {kind} raster does not reach Jilin (lon {xmin}–{xmax}, lat "
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
    1           1.0             0.0       1.0
    2           0.0             1.0       1.0
    """
    _require_kind(layer, _LANDCOVER)
    started = time.perf_counter()
    sites = _prepare_sites(geoms, layer, crs=crs, line_buffer_m=line_buffer_m)
    names = layer.class_names
    shares = np.full((len(sites.index), len(names)), np.nan)
    coverage = np.zeros(len(sites.index))
    window = _read_window(layer, sites)
    if window is not None:
        array, extent = window
        nodata = None if layer.nodata is None else array.dtype.type(layer.nodata).item()
        source = NumPyRasterSource(array, *extent, nodata=nodata)
        weight = _coverage_weight(layer)
        out = _extract(
            source,
            sites.extract,
            {
                "unique": "unique",
                "frac": f"frac({weight})" if weight else "frac",
                "area": "count(coverage_weight=area_cartesian)",
            },
        )
        coverage[sites.rows] = _coverage(out["area"], sites.area)
        covered = coverage[sites.rows] > 0
        none = np.zeros(0)
        pairs = [
            (none, none) if u is None else (u, f)
            for u, f in zip(out["unique"], out["frac"], strict=True)
        ]
        counts = np.array([len(u) for u, _ in pairs], dtype=np.intp)
        codes = np.concatenate([none, *(u for u, _ in pairs)]).astype(np.int64)
        fracs = np.concatenate([none, *(f for _, f in pairs)]).astype(float)
        owner = np.repeat(np.arange(len(counts)), counts)
        column = _class_positions(layer, codes, names)
        block = np.zeros((len(counts), len(names)))
        np.add.at(block, (owner, column), fracs)
        block[~covered] = np.nan
        shares[sites.rows] = block
    frame = pd.DataFrame(shares, index=sites.index, columns=[SHARE_PREFIX + name for name in names])
    frame[COVERAGE_COLUMN] = coverage
    _log_rate("landcover shares", layer, len(frame), started)
    return frame


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
    started = time.perf_counter()
    sites = _prepare_sites(geoms, layer, crs=crs, line_buffer_m=line_buffer_m)
    result = np.full((len(sites.index), 3), np.nan)
    result[:, 2] = 0.0
    if len(sites.rows):
        stat = layer.path.stat()
        slope = _slope_grid(str(layer.path.resolve()), stat.st_mtime_ns, stat.st_size)
        source = NumPyRasterSource(slope, *layer.bounds)
        weight = _coverage_weight(layer)
        out = _extract(
            source,
            sites.extract,
            {
                "mean": f"mean({weight})" if weight else "mean",
                "max": "max",
                "area": "count(coverage_weight=area_cartesian)",
            },
        )
        coverage = _coverage(out["area"], sites.area)
        covered = coverage > 0
        mean = np.where(covered, np.asarray(out["mean"], dtype=float), np.nan)
        peak = np.where(covered, np.asarray(out["max"], dtype=float), np.nan)
        result[sites.rows] = np.column_stack([mean, peak, coverage])
    frame = pd.DataFrame(result, index=sites.index, columns=list(SLOPE_COLUMNS))
    _log_rate("slope statistics", layer, len(frame), started)
    return frame


# --------------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sites:
    """Sites ready for extraction: ``extract`` (in the raster's CRS) are the rows ``rows``."""

    index: pd.Index
    rows: np.ndarray
    extract: np.ndarray
    area: np.ndarray  # area of each extracted geometry in the raster's CRS units


def _prepare_sites(
    geoms: gpd.GeoSeries | np.ndarray, layer: RasterLayer, *, crs: Any, line_buffer_m: float
) -> _Sites:
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
    if not site_crs.equals(layer.crs):
        to_raster = transformer(site_crs, layer.crs)
        chosen = shapely.transform(
            chosen, lambda x, y: to_raster.transform(x, y), interleaved=False
        )
        if not np.isfinite(shapely.get_coordinates(chosen)).all():
            raise CRSError(
                f"{layer.path}: reprojecting sites from {site_crs.name} into the raster's CRS "
                f"({layer.crs.name}) gave non-finite coordinates; check crs"
            )
    return _Sites(index=index, rows=rows, extract=chosen, area=shapely.area(chosen))


def _require_kind(layer: RasterLayer, kind: str) -> None:
    if not isinstance(layer, RasterLayer):
        raise TypeError(f"layer must be a RasterLayer from open_raster; got {type(layer)}")
    if layer.kind != kind:
        raise LayerError(f"{layer.path}: expected a {kind} layer, got a {layer.kind} layer")


def _coverage(area: list[Any], site_area: np.ndarray) -> np.ndarray:
    covered = np.asarray(area, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(site_area > 0, covered / site_area, 0.0)
    return np.clip(np.nan_to_num(ratio), 0.0, 1.0)


def _coverage_weight(layer: RasterLayer) -> str:
    """exactextract option weighting pixels by their true area (geographic rasters only)."""
    return "coverage_weight=area_spherical_m2" if layer.crs.is_geographic else ""


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


def _read_window(
    layer: RasterLayer, sites: _Sites
) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
    """Read the part of the raster under the sites (masked where nodata), with its extent."""
    if not len(sites.rows):
        return None
    sxmin, symin, sxmax, symax = shapely.total_bounds(sites.extract)
    with rasterio.open(layer.path) as ds:
        t = ds.transform
        col0 = max(0, math.floor((sxmin - t.c) / t.a) - 1)
        col1 = min(ds.width, math.ceil((sxmax - t.c) / t.a) + 1)
        row0 = max(0, math.floor((t.f - symax) / -t.e) - 1)
        row1 = min(ds.height, math.ceil((t.f - symin) / -t.e) + 1)
        if col1 <= col0 or row1 <= row0:
            return None
        array = ds.read(1, window=Window(col0, row0, col1 - col0, row1 - row0), masked=True)
    extent = (t.c + col0 * t.a, t.f + row1 * t.e, t.c + col1 * t.a, t.f + row0 * t.e)
    # exactextract ignores the mask of a window that is masked throughout: give it plain values
    # and the nodata value instead.
    return array.filled(layer.nodata) if layer.nodata is not None else array.data, extent


@functools.lru_cache(maxsize=2)
def _slope_grid(path: str, mtime_ns: int, size: int) -> np.ndarray:
    """Slope in degrees (float32, NaN where unknown) of the DEM at ``path``.

    ``mtime_ns`` and ``size`` are part of the cache key so that a rewritten file is re-read.
    """
    started = time.perf_counter()
    with rasterio.open(path) as ds:
        height, width = ds.height, ds.width
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
    return slope


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
# exactextract plumbing: features as WKB in, plain arrays out (3× faster than a GeoDataFrame)
# --------------------------------------------------------------------------------------------


class _WKBFeature(Feature):
    def __init__(self, fid: int, wkb: bytes) -> None:
        Feature.__init__(self)
        self._fid, self._wkb = fid, wkb

    def geometry(self) -> bytes:
        return self._wkb

    def set_geometry_format(self) -> str:
        return "wkb"

    def fields(self) -> list[str]:
        return ["fid"]

    def get(self, name: str) -> int:
        return self._fid


class _WKBSource(FeatureSource):
    def __init__(self, geoms: np.ndarray) -> None:
        super().__init__()
        self._wkb = shapely.to_wkb(geoms)

    def count(self) -> int:
        return len(self._wkb)

    def __iter__(self) -> Iterator[_WKBFeature]:
        for fid, wkb in enumerate(self._wkb):
            yield _WKBFeature(fid, wkb)

    def srs_wkt(self) -> None:
        return None  # sites are already in the raster's CRS


class _Values(Feature):
    def __init__(self) -> None:
        Feature.__init__(self)
        self.values: dict[str, Any] = {}

    def set(self, name: str, value: Any) -> None:
        self.values[name] = value

    def set_geometry(self, wkb: bytes) -> None:
        return None

    def set_geometry_format(self) -> str:
        return "wkb"


class _ArrayWriter(Writer):
    def __init__(self, n: int, names: tuple[str, ...]) -> None:
        super().__init__()
        self.results: dict[str, list[Any]] = {name: [None] * n for name in names}

    def add_operation(self, op: Any) -> None:
        return None

    def add_column(self, name: str) -> None:
        return None

    def write(self, feature: Any) -> None:
        values = _Values()
        feature.copy_to(values)
        fid = values.values["fid"]
        for name, column in self.results.items():
            column[fid] = values.values.get(name)

    def features(self) -> dict[str, list[Any]]:
        return self.results


def _extract(
    source: NumPyRasterSource, geoms: np.ndarray, ops: Mapping[str, str]
) -> dict[str, list[Any]]:
    """Run the named exactextract operations over ``geoms``; one list per name, in order."""
    writer = _ArrayWriter(len(geoms), tuple(ops))
    exact_extract(
        source,
        _WKBSource(geoms),
        [f"{name}={op}" for name, op in ops.items()],
        include_cols=["fid"],
        output=writer,
    )
    results: dict[str, list[Any]] = writer.features()
    return results


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
