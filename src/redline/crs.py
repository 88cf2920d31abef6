"""The working CRS and coordinate sanity checks.

All measuring happens in one projected CRS in metres (:data:`WORKING_CRS`, an Albers equal-area
conic fitted to Jilin on the CGCS2000 ellipsoid, so areas are exact and distances are within
0.3 % anywhere in the province). Every layer is reprojected into it once, at entry, by
:func:`to_working`, which refuses data whose coordinates cannot be Jilin's and says why.
"""

from __future__ import annotations

import functools
import math

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import AlbersEqualAreaConversion

from redline.errors import CRSError

__all__ = [
    "JILIN_LONLAT_BOUNDS",
    "WORKING_CRS",
    "diagnose_crs",
    "gauss_kruger_epsg",
    "guess_crs",
    "is_metric",
    "lonlat_bounds",
    "outside_extent",
    "to_working",
    "transformer",
]

#: Albers equal-area conic for Jilin on CGCS2000 (GRS80). Standard parallels 41.5°N and 45.5°N
#: span the province; the central meridian 126.5°E is its centre.
WORKING_CRS = ProjectedCRS(
    AlbersEqualAreaConversion(
        latitude_first_parallel=41.5,
        latitude_second_parallel=45.5,
        latitude_false_origin=43.5,
        longitude_false_origin=126.5,
    ),
    geodetic_crs=CRS.from_epsg(4490),
    name="CGCS2000 / Jilin Albers equal-area (redline working CRS)",
)
#: Jilin's extent in longitude/latitude with a small margin (the province spans about
#: 121.6–131.3°E, 40.8–46.3°N).
JILIN_LONLAT_BOUNDS = (121.0, 40.5, 132.0, 47.0)

_GK3_PREFIX, _GK3_CM = 4513, 4534  # CGCS2000 3° GK zone 25 / CM 75°E; +1 per zone
_GK6_PREFIX, _GK6_CM = 4491, 4502  # CGCS2000 6° GK zone 13 / CM 75°E; +1 per zone
_EDGE_POINTS = 5  # points per bounding-box edge transformed by lonlat_bounds
#: Box side above which lonlat_bounds densifies: CRS units (metres) of a projected CRS, degrees
#: of a geographic one.
_DENSIFY_ABOVE, _DENSIFY_ABOVE_DEG = 10_000.0, 0.1


def gauss_kruger_epsg(*, zone: int, prefix: bool) -> int | None:
    """EPSG code of a CGCS2000 Gauss-Krüger CRS from its zone number.

    Zones 25–45 are 3° zones (central meridian 3 × zone), 13–23 are 6° zones.

    Parameters
    ----------
    zone
        The zone number (Jilin lies in 3° zones 41–44 and 6° zones 21–22).
    prefix
        Whether eastings carry the zone number as a prefix (``42500000`` rather than
        ``500000``).

    Returns
    -------
    int or None
        The EPSG code; ``None`` for a zone number CGCS2000 has no Gauss-Krüger CRS for.

    Examples
    --------
    >>> gauss_kruger_epsg(zone=42, prefix=True), gauss_kruger_epsg(zone=42, prefix=False)
    (4530, 4551)
    """
    if 25 <= zone <= 45:
        return (_GK3_PREFIX if prefix else _GK3_CM) + zone - 25
    if 13 <= zone <= 23:
        return (_GK6_PREFIX if prefix else _GK6_CM) + zone - 13
    return None


def lonlat_bounds(gdf: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Per-feature bounds ``(n, 4)`` in longitude/latitude.

    Bounding boxes wider or taller than :data:`_DENSIFY_ABOVE` metres (or 0.1° in a geographic
    CRS) are densified (:data:`_EDGE_POINTS` points per edge) before transforming so that
    curved edges are followed; smaller ones (sites, parcels: their edges bend by micrometres)
    transform their four corners only. Rows are ``inf`` where reprojection fails and ``NaN``
    for null or empty geometries.

    Parameters
    ----------
    gdf
        Features in their own (declared) CRS.

    Returns
    -------
    numpy.ndarray
        ``(minlon, minlat, maxlon, maxlat)`` per feature.

    Raises
    ------
    CRSError
        ``gdf`` has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> lonlat_bounds(gpd.GeoSeries([shapely.Point(0, 0), None], crs=WORKING_CRS))
    array([[126.5,  43.5, 126.5,  43.5],
           [  nan,   nan,   nan,   nan]])
    """
    bounds = shapely.bounds(np.asarray(gdf.geometry.values))
    if gdf.crs is None:
        raise CRSError("cannot compute longitude/latitude bounds of data without a CRS")
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geographic and crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        return bounds
    transformer = _to_lonlat(crs)
    with np.errstate(invalid="ignore"):  # inf - inf in bounds of non-finite geometries
        span = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
        dense = ~(span <= (_DENSIFY_ABOVE if crs.is_projected else _DENSIFY_ABOVE_DEG))
    out = np.empty_like(bounds)
    for rows, points in ((dense, _EDGE_POINTS), (~dense, 2)):
        out[rows] = _box_lonlat(bounds[rows], transformer, points=points)
    out[np.isnan(bounds).any(axis=1)] = np.nan
    return out


def _box_lonlat(bounds: np.ndarray, transformer: Transformer, *, points: int) -> np.ndarray:
    """Lon/lat bounds of boxes from ``points`` points per edge (2: the corners)."""
    xmin, ymin, xmax, ymax = (bounds[:, [i]] for i in range(4))
    t = np.linspace(0.0, 1.0, points)
    with np.errstate(invalid="ignore"):  # inf - inf in bounds of non-finite geometries
        along_x, along_y = xmin + (xmax - xmin) * t, ymin + (ymax - ymin) * t
        xs = np.hstack([along_x, along_x, xmin + 0 * t, xmax + 0 * t])
        ys = np.hstack([ymin + 0 * t, ymax + 0 * t, along_y, along_y])
        lon, lat = (np.asarray(v) for v in transformer.transform(xs, ys, errcheck=False))
        out = np.column_stack([lon.min(axis=1), lat.min(axis=1), lon.max(axis=1), lat.max(axis=1)])
    out[~(np.isfinite(lon).all(axis=1) & np.isfinite(lat).all(axis=1))] = np.inf
    return out


@functools.lru_cache(maxsize=64)
def transformer(source: CRS, target: CRS | int) -> Transformer:
    """Transformer from ``source`` to ``target`` (x/y order), built once per pair.

    Building one takes milliseconds to tens of milliseconds; pyproj transformers are
    thread-safe, so one serves every call.

    Parameters
    ----------
    source
        The CRS coordinates are in.
    target
        The CRS to transform into (a CRS or an EPSG code).

    Returns
    -------
    pyproj.Transformer
        Always x/y (longitude, latitude) order.

    Examples
    --------
    >>> transformer(CRS.from_epsg(4490), 4326) is transformer(CRS.from_epsg(4490), 4326)
    True
    """
    return Transformer.from_crs(source, target, always_xy=True)


def _to_lonlat(crs: CRS) -> Transformer:
    return transformer(crs, 4326)


def outside_extent(
    lonlat: np.ndarray, extent: tuple[float, float, float, float] = JILIN_LONLAT_BOUNDS
) -> np.ndarray:
    """Boolean mask of features whose lon/lat bounds are not wholly inside ``extent``.

    Features with NaN bounds (null or empty geometries) are not flagged here.

    Parameters
    ----------
    lonlat
        Per-feature bounds from :func:`lonlat_bounds`.
    extent
        ``(minlon, minlat, maxlon, maxlat)``; Jilin with a margin by default.

    Returns
    -------
    numpy.ndarray
        ``True`` for features reaching outside ``extent`` (or whose reprojection failed).

    Examples
    --------
    >>> outside_extent(np.array([[125.0, 43.0, 125.1, 43.1],    # Changchun
    ...                          [135.0, 43.0, 135.1, 43.1],    # east of Jilin
    ...                          [np.nan, np.nan, np.nan, np.nan]]))
    array([False,  True, False])
    """
    xmin, ymin, xmax, ymax = extent
    nan = np.isnan(lonlat).any(axis=1)
    inside = (
        (lonlat[:, 0] >= xmin)
        & (lonlat[:, 1] >= ymin)
        & (lonlat[:, 2] <= xmax)
        & (lonlat[:, 3] <= ymax)
    )
    return ~inside & ~nan


def diagnose_crs(bounds: tuple[float, float, float, float], crs: CRS) -> str:
    """Guess why data bounded by ``bounds`` (in its own ``crs``) does not land in Jilin.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the data, in ``crs``.
    crs
        The CRS the data declares.

    Returns
    -------
    str
        A sentence naming the likely cause and, where it can be inferred, the EPSG code that
        would fit.

    Examples
    --------
    >>> diagnose_crs((43.0, 125.0, 44.0, 126.0), CRS.from_epsg(4490))
    'latitude and longitude look swapped (x holds 43–44, y holds 125–126): swap the axes ...'
    """
    xmin, ymin, xmax, ymax = bounds
    lo, hi = JILIN_LONLAT_BOUNDS[::2], JILIN_LONLAT_BOUNDS[1::2]
    looks_like_degrees = all(abs(v) <= 180 for v in bounds)
    if crs.is_geographic:
        if hi[0] - 2 <= xmin <= xmax <= hi[1] + 2 and lo[0] - 2 <= ymin <= ymax <= lo[1] + 2:
            return (
                f"latitude and longitude look swapped (x holds {xmin:.0f}–{xmax:.0f}, "
                f"y holds {ymin:.0f}–{ymax:.0f}): swap the axes or write the file as "
                "longitude, latitude"
            )
        if not looks_like_degrees:
            return "the CRS is geographic (degrees) but the coordinates are metres: " + _metre_hint(
                xmin, xmax
            )
        return "the coordinates are degrees but outside Jilin: check the data's location"
    if looks_like_degrees:
        return (
            "the CRS is projected (metres) but the coordinates look like degrees: "
            "declare the file as EPSG:4490 (CGCS2000) or EPSG:4326 (WGS 84)"
        )
    operation = crs.coordinate_operation  # (to_dict() would warn about losing information)
    params = operation.params if operation is not None else []
    false_easting = next((float(p.value) for p in params if p.name == "False easting"), 0.0)
    if xmin >= 1e7 and false_easting < 1e6:
        return "the eastings carry a Gauss-Krüger zone prefix but the CRS has none: " + _metre_hint(
            xmin, xmax
        )
    if xmax < 1e6 and false_easting >= 1e6:
        return (
            "the CRS expects a Gauss-Krüger zone prefix in the eastings but they have none: "
            + _metre_hint(xmin, xmax)
        )
    return (
        "the projected coordinates do not fall in Jilin: check the Gauss-Krüger zone "
        "(a neighbouring 3° zone shifts data by about 250 km) and the datum"
    )


def guess_crs(bounds: tuple[float, float, float, float]) -> tuple[str | None, str]:
    """The CRS that coordinates without a declared one were most likely made in.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the data.

    Returns
    -------
    tuple of (str or None, str)
        The CRS to suggest (``"EPSG:…"``; ``None`` when the coordinates do not tell one) and
        a sentence saying what the coordinates look like.

    Examples
    --------
    >>> guess_crs((42512300.0, 4861200.0, 42512400.0, 4861300.0))[0]
    'EPSG:4530'
    >>> guess_crs((125.3, 43.8, 125.4, 43.9))[0]
    'EPSG:4490'
    >>> guess_crs((512300.0, 4861200.0, 512400.0, 4861300.0))[1]
    'they look like Gauss-Krüger metres without a zone prefix: declare ...4551...'
    """
    xmin, ymin, xmax, ymax = bounds
    lo, hi = JILIN_LONLAT_BOUNDS[::2], JILIN_LONLAT_BOUNDS[1::2]
    if all(abs(v) <= 180 for v in bounds):
        if lo[0] <= xmin <= xmax <= lo[1] and hi[0] <= ymin <= ymax <= hi[1]:
            return "EPSG:4490", ("they look like longitude/latitude in Jilin (EPSG:4490 CGCS2000; "
                                 "EPSG:4326 WGS 84 differs from it by under a metre)")
        return None, ("they look like degrees but not like longitude/latitude in Jilin (x holds "
                      f"{xmin:.1f}–{xmax:.1f}, y {ymin:.1f}–{ymax:.1f}); check the axis order")
    if xmin >= 1e7:
        zone = int(xmin // 1_000_000)
        code = gauss_kruger_epsg(zone=zone, prefix=True) if zone == int(xmax // 1e6) else None
        if code is not None:
            return f"EPSG:{code}", (f"the eastings carry Gauss-Krüger zone prefix {zone}: "
                                    f"EPSG:{code} (CGCS2000 zone {zone}, with prefix)")
    if xmin >= 4e6 and xmax <= 6e6 and (ymax < 1e6 or ymin >= 1e7):
        return None, ("x holds northings and y eastings (the surveying order X/Y): give x the "
                      "easting and y the northing")
    if xmin > 0 and xmax < 1e6 and ymin >= 4.3e6 and ymax <= 5.4e6:
        return None, ("they look like Gauss-Krüger metres without a zone prefix: " +
                      _metre_hint(xmin, xmax))
    return None, "the coordinates do not tell the CRS: use the one they were made in"


def _metre_hint(xmin: float, xmax: float) -> str:
    zone = int(xmin // 1_000_000)
    if zone == int(xmax // 1_000_000) and (code := gauss_kruger_epsg(zone=zone, prefix=True)):
        return f"they fit EPSG:{code} (CGCS2000 Gauss-Krüger zone {zone}, with prefix)"
    return (
        "declare the projected CRS the coordinates were made in; for Jilin without a zone "
        "prefix that is usually EPSG:4550, 4551, 4552 or 4553 (CGCS2000 3° Gauss-Krüger "
        "CM 123°E, 126°E, 129°E, 132°E)"
    )


def to_working(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    source: str,
    crs: object | None = None,
    working_crs: CRS = WORKING_CRS,
    require_inside: bool = True,
    lonlat: np.ndarray | None = None,
) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Reproject ``gdf`` into the working CRS after checking its coordinates can be Jilin's.

    Parameters
    ----------
    gdf
        Data to reproject (a frame, or its geometry column alone); not modified.
    source
        Where the data came from (file path or layer kind), used in error messages.
    crs
        CRS to assume when ``gdf`` has none. Ignored when ``gdf`` declares one.
    working_crs
        Target CRS (projected, metres).
    require_inside
        Raise if any feature lies outside Jilin's extent (planning layers). When ``False``
        only data with *no* feature inside raises (sites: the rest become ``not_assessed``).
    lonlat
        :func:`lonlat_bounds` of ``gdf`` (with ``crs`` set) when the caller has computed them
        already; computed here otherwise.

    Returns
    -------
    geopandas.GeoDataFrame or geopandas.GeoSeries
        ``gdf`` in ``working_crs``, index and columns kept.

    Raises
    ------
    CRSError
        No CRS; coordinates that reproject to non-finite values; features outside Jilin.

    Examples
    --------
    >>> import geopandas as gpd
    >>> site = gpd.GeoDataFrame(geometry=[shapely.box(125.30, 43.80, 125.31, 43.81)], crs=4490)
    >>> to_working(site, source="demo").total_bounds.round()
    array([-96509.,  34035., -95689.,  35159.])
    >>> swapped = site.set_geometry([shapely.box(43.80, 125.30, 43.81, 125.31)])
    >>> to_working(swapped, source="demo")
    Traceback (most recent call last):
    ...
    redline.errors.CRSError: demo: 1 of 1 features fall outside Jilin ... look swapped ...
    """
    if gdf.crs is None:
        if crs is None:
            bounds = tuple(float(v) for v in gdf.total_bounds)
            code, looks = (guess_crs(bounds) if np.isfinite(bounds).all()  # type: ignore[arg-type]
                           else (None, "there are no coordinates to tell it by"))
            raise CRSError(
                f"{source}: the data has no coordinate reference system (no .prj or CRS); "
                f"{looks}. Pass crs='{code or 'EPSG:4490'}' (or the CRS it was made in) when "
                "reading it, or add a .prj file."
            )
        gdf = gdf.set_crs(crs)
    src = CRS.from_user_input(gdf.crs)
    lonlat = lonlat_bounds(gdf) if lonlat is None else lonlat
    present = ~np.isnan(lonlat).any(axis=1)
    if not present.any():
        return gdf.to_crs(working_crs)
    outside = outside_extent(lonlat)
    if (require_inside and outside.any()) or outside[present].all():
        bad = np.flatnonzero(outside)
        own = shapely.bounds(np.asarray(gdf.geometry.values)[bad])
        total = (
            float(np.nanmin(own[:, 0])),
            float(np.nanmin(own[:, 1])),
            float(np.nanmax(own[:, 2])),
            float(np.nanmax(own[:, 3])),
        )
        ids = ", ".join(str(i) for i in gdf.index[bad[:10]])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise CRSError(
            f"{source}: {len(bad)} of {len(gdf)} features fall outside Jilin "
            f"(lon {JILIN_LONLAT_BOUNDS[0]}–{JILIN_LONLAT_BOUNDS[2]}, "
            f"lat {JILIN_LONLAT_BOUNDS[1]}–{JILIN_LONLAT_BOUNDS[3]}) when read as "
            f"{_crs_name(src)}; features {ids}{more}. Likely cause: "
            f"{diagnose_crs(total, src)}."
        )
    out = gdf.to_crs(working_crs)
    checked = np.asarray(out.geometry.values)
    if not require_inside:  # features outside Jilin are the caller's to flag, not an error here
        checked = checked[~outside]
    coords = shapely.get_coordinates(checked)
    if not np.isfinite(coords).all():
        raise CRSError(
            f"{source}: reprojecting from {_crs_name(src)} gave non-finite coordinates; "
            "the declared CRS does not match the coordinates."
        )
    return out


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def is_metric(crs: CRS) -> bool:
    """Whether ``crs`` is projected with metre units.

    Parameters
    ----------
    crs
        Any pyproj CRS.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_metric(WORKING_CRS), is_metric(CRS.from_epsg(4551)), is_metric(CRS.from_epsg(4490))
    (True, True, False)
    """
    return bool(crs.is_projected) and math.isclose(crs.axis_info[0].unit_conversion_factor, 1.0)
