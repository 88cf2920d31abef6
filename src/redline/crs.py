"""The working CRS and coordinate sanity checks.

All measuring happens in one projected CRS in metres, chosen from the planning data
(:func:`choose_working_crs`): the layers' own CRS when they all share one projected metre CRS
(a county in one Gauss-Krüger zone: nothing is reprojected, coincident edges stay coincident),
otherwise an Albers equal-area conic fitted to the planning's extent on the CGCS2000 ellipsoid
(:func:`equal_area_crs`: areas exact, distances within a few tenths of a percent). Every layer is
reprojected into it once, at entry, by :func:`to_working`, which refuses data whose coordinates
cannot lie in the planning's region (anywhere in China, or the boundary layer's box with a
margin) and says why: axis order, metres labelled degrees, a Gauss-Krüger zone prefix, for
every 3° and 6° zone of CGCS2000, Xi'an 1980 and Beijing 1954.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import AlbersEqualAreaConversion

from redline.errors import CRSError

__all__ = [
    "CHINA_LONLAT_BOUNDS",
    "GK_DATUMS",
    "JILIN_LONLAT_BOUNDS",
    "REGION_MARGIN_DEG",
    "WORKING_CRS",
    "choose_working_crs",
    "diagnose_crs",
    "equal_area_crs",
    "gauss_kruger_epsg",
    "guess_crs",
    "is_metric",
    "lonlat_bounds",
    "outside_extent",
    "region_of",
    "reprojection_bow",
    "to_working",
    "transformer",
]

#: China's extent in longitude/latitude with a margin (73.5–135.1°E, 3.8–53.6°N): where any
#: planning data or site can plausibly lie when nothing narrower is known.
CHINA_LONLAT_BOUNDS = (73.0, 3.0, 136.0, 54.0)
#: Margin (degrees) around the boundary layer's longitude/latitude box inside which planning
#: features must lie (:func:`region_of`): wide enough for layers running past the border
#: (a river's course beyond the province), narrow enough that a neighbouring 3° Gauss-Krüger
#: zone (a shift of about 250 km) lands outside a county's region.
REGION_MARGIN_DEG = 1.0
#: The bundled sample's extent (Jilin with a small margin), kept for examples and tests only:
#: nothing in the engine is decided by it.
JILIN_LONLAT_BOUNDS = (121.0, 40.5, 132.0, 47.0)
#: Gauss-Krüger EPSG codes per datum: 3° zone 25 with prefix, 3° CM 75°E, 6° zone 13 with
#: prefix, 6° CM 75°E; codes run on by one per zone.
GK_DATUMS: dict[str, tuple[int, int, int, int]] = {
    "CGCS2000": (4513, 4534, 4491, 4502),
    "Xian 1980": (2349, 2370, 2327, 2338),
    "Beijing 1954": (2401, 2422, 21413, 21453),
}
#: Rounding (degrees) of a fitted equal-area CRS's parameters: nearby extents get one CRS.
_FIT_STEP_DEG = 0.5
_EDGE_POINTS = 5  # points per bounding-box edge transformed by lonlat_bounds
_WHOLE_EDGE_POINTS = 101  # the same for the box of a whole set of subjects (up to a province)
#: Box side above which lonlat_bounds densifies: CRS units (metres) of a projected CRS, degrees
#: of a geographic one.
_DENSIFY_ABOVE, _DENSIFY_ABOVE_DEG = 10_000.0, 0.1
#: Mean radius of the Earth (IUGG), for :func:`reprojection_bow`.
_EARTH_RADIUS_M = 6_371_008.8


def gauss_kruger_epsg(*, zone: int, prefix: bool, datum: str = "CGCS2000") -> int | None:
    """EPSG code of a Gauss-Krüger CRS used in China from its zone number.

    Zones 25–45 are 3° zones (central meridian 3 × zone), 13–23 are 6° zones (central
    meridian 6 × zone − 3): together they cover China from 73°E to 135°E.

    Parameters
    ----------
    zone
        The zone number (Jilin lies in 3° zones 41–44 and 6° zones 21–22, Guangdong in 3° zones
        37–39).
    prefix
        Whether eastings carry the zone number as a prefix (``42500000`` rather than
        ``500000``).
    datum
        ``"CGCS2000"``, ``"Xian 1980"`` or ``"Beijing 1954"`` (:data:`GK_DATUMS`).

    Returns
    -------
    int or None
        The EPSG code; ``None`` for a zone number the datum has no Gauss-Krüger CRS for.

    Examples
    --------
    >>> gauss_kruger_epsg(zone=42, prefix=True), gauss_kruger_epsg(zone=42, prefix=False)
    (4530, 4551)
    >>> gauss_kruger_epsg(zone=38, prefix=False), gauss_kruger_epsg(zone=21, prefix=True,
    ...                                                             datum="Beijing 1954")
    (4547, 21421)
    """
    gk3_prefix, gk3_cm, gk6_prefix, gk6_cm = GK_DATUMS[datum]
    if 25 <= zone <= 45:
        return (gk3_prefix if prefix else gk3_cm) + zone - 25
    if 13 <= zone <= 23:
        return (gk6_prefix if prefix else gk6_cm) + zone - 13
    return None


def lonlat_bounds(
    gdf: gpd.GeoSeries | gpd.GeoDataFrame,
    *,
    within: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
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
    within
        A ``(minlon, minlat, maxlon, maxlat)`` region: when the box of all the features lies
        inside it (its edges densified), every feature gets that box — enough to tell that each
        lies inside (:func:`outside_extent`) without transforming a box per feature (a third
        of classifying a million parcels).

    Returns
    -------
    numpy.ndarray
        ``(minlon, minlat, maxlon, maxlat)`` per feature (with ``within``, possibly the box of
        all of them).

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
    present = ~np.isnan(bounds).any(axis=1)
    if within is not None and present.any():
        whole = np.r_[bounds[present, :2].min(axis=0), bounds[present, 2:].max(axis=0)]
        box = _box_lonlat(whole[None, :], transformer, points=_WHOLE_EDGE_POINTS)
        if not outside_extent(box, within)[0]:
            out = np.full_like(bounds, np.nan)
            out[present] = box[0]
            return out
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
    lonlat: np.ndarray, extent: tuple[float, float, float, float] = CHINA_LONLAT_BOUNDS
) -> np.ndarray:
    """Boolean mask of features whose lon/lat bounds are not wholly inside ``extent``.

    Features with NaN bounds (null or empty geometries) are not flagged here.

    Parameters
    ----------
    lonlat
        Per-feature bounds from :func:`lonlat_bounds`.
    extent
        ``(minlon, minlat, maxlon, maxlat)``; China with a margin by default.

    Returns
    -------
    numpy.ndarray
        ``True`` for features reaching outside ``extent`` (or whose reprojection failed).

    Examples
    --------
    >>> outside_extent(np.array([[125.0, 43.0, 125.1, 43.1],    # Changchun
    ...                          [135.0, 43.0, 135.1, 43.1],    # east of Jilin
    ...                          [np.nan, np.nan, np.nan, np.nan]]), JILIN_LONLAT_BOUNDS)
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


def _apart(lonlat: np.ndarray, extent: tuple[float, float, float, float]) -> np.ndarray:
    """Features whose lon/lat bounds do not meet ``extent`` at all (or are not finite)."""
    xmin, ymin, xmax, ymax = extent
    nan = np.isnan(lonlat).any(axis=1)
    meets = (
        (lonlat[:, 2] >= xmin)
        & (lonlat[:, 3] >= ymin)
        & (lonlat[:, 0] <= xmax)
        & (lonlat[:, 1] <= ymax)
        & np.isfinite(lonlat).all(axis=1)
    )
    return ~meets & ~nan


def region_of(
    lonlat: np.ndarray, *, margin: float = REGION_MARGIN_DEG
) -> tuple[float, float, float, float]:
    """The longitude/latitude box of some features widened by ``margin`` degrees: where the
    planning data that go with them can plausibly lie.

    Parameters
    ----------
    lonlat
        Per-feature bounds from :func:`lonlat_bounds` (NaN and infinite rows are ignored).
    margin
        Degrees added on every side.

    Returns
    -------
    tuple of float
        ``(minlon, minlat, maxlon, maxlat)``; :data:`CHINA_LONLAT_BOUNDS` when no row is finite.

    Examples
    --------
    >>> region_of(np.array([[113.0, 22.5, 113.4, 22.9], [np.nan] * 4]))
    (112.0, 21.5, 114.4, 23.9)
    """
    finite = np.isfinite(lonlat).all(axis=1)
    if not finite.any():
        return CHINA_LONLAT_BOUNDS
    rows = lonlat[finite]
    box = (rows[:, 0].min() - margin, rows[:, 1].min() - margin,
           rows[:, 2].max() + margin, rows[:, 3].max() + margin)
    return (round(float(box[0]), 6), round(float(box[1]), 6),
            round(float(box[2]), 6), round(float(box[3]), 6))


def _region_label(region: tuple[float, float, float, float]) -> str:
    where = f"lon {region[0]:g}–{region[2]:g}, lat {region[1]:g}–{region[3]:g}"
    return f"China ({where})" if region == CHINA_LONLAT_BOUNDS else f"the planning region ({where})"


@functools.lru_cache(maxsize=32)
def _albers(first: float, second: float, origin_lat: float, origin_lon: float) -> ProjectedCRS:
    return ProjectedCRS(
        AlbersEqualAreaConversion(
            latitude_first_parallel=first,
            latitude_second_parallel=second,
            latitude_false_origin=origin_lat,
            longitude_false_origin=origin_lon,
        ),
        geodetic_crs=CRS.from_epsg(4490),
        name=(f"CGCS2000 / Albers equal-area {first:g}–{second:g}°N, CM {origin_lon:g}°E "
              "(redline working CRS)"),
    )


def equal_area_crs(lonlat: tuple[float, float, float, float]) -> ProjectedCRS:
    """An Albers equal-area conic on CGCS2000 fitted to a longitude/latitude extent.

    Standard parallels one sixth of the latitude span inside its edges (the usual rule for a
    conic), rounded outwards to the half degree; origin latitude midway between them; central
    meridian the extent's centre rounded to the half degree. Areas are exact whatever the
    parameters (the projection is equal-area); the fit keeps distances within a few tenths of
    a percent over a province, and the rounding gives nearby extents the same CRS.

    Parameters
    ----------
    lonlat
        ``(minlon, minlat, maxlon, maxlat)`` of the planning.

    Returns
    -------
    pyproj.crs.ProjectedCRS
        One object per set of parameters (cached).

    Examples
    --------
    >>> equal_area_crs((121.65, 40.86, 131.28, 46.29)).name  # the bundled Jilin sample
    'CGCS2000 / Albers equal-area 41.5–45.5°N, CM 126.5°E (redline working CRS)'
    >>> equal_area_crs((113.2, 22.9, 113.6, 23.3)).name      # a county in Guangdong
    'CGCS2000 / Albers equal-area 22.5–23.5°N, CM 113.5°E (redline working CRS)'
    """
    xmin, ymin, xmax, ymax = (float(v) for v in lonlat)
    step = _FIT_STEP_DEG
    inset = (ymax - ymin) / 6
    first = math.floor((ymin + inset) / step) * step
    second = math.ceil((ymax - inset) / step) * step
    if second <= first:
        second = first + step
    centre = round((xmin + xmax) / 2 / step) * step
    return _albers(first, second, (first + second) / 2, centre)


#: The working CRS of the bundled (Jilin) sample, what :func:`equal_area_crs` fits to it: the
#: default of functions that take a working CRS, used in examples and tests.
WORKING_CRS = equal_area_crs((121.6, 40.9, 131.3, 46.3))


def choose_working_crs(
    crss: list[CRS], lonlat: tuple[float, float, float, float]
) -> tuple[CRS, str]:
    """The working CRS for planning layers in ``crss`` covering ``lonlat``, and why.

    When every layer is in one projected CRS in metres, that CRS: nothing is reprojected, so
    edges the layers share with sites drawn in the same CRS stay exactly coincident and areas
    are the planar areas the data owner's GIS shows. Otherwise an equal-area conic fitted to the
    extent (:func:`equal_area_crs`).

    Parameters
    ----------
    crss
        The CRS each vector layer declares.
    lonlat
        ``(minlon, minlat, maxlon, maxlat)`` of the planning (the boundary layer's, else every
        layer's).

    Returns
    -------
    crs, reason
        The working CRS and a sentence saying why it was chosen.

    Examples
    --------
    >>> crs, why = choose_working_crs([CRS.from_epsg(4547)] * 2, (113.2, 22.9, 113.6, 23.3))
    >>> crs.to_epsg(), why
    (4547, 'every planning layer is in EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E),
     projected in metres: worked in as it is, without reprojection')
    >>> crs, why = choose_working_crs([CRS.from_epsg(4490), CRS.from_epsg(4547)],
    ...                               (113.2, 22.9, 113.6, 23.3))
    >>> crs.name
    'CGCS2000 / Albers equal-area 22.5–23.5°N, CM 113.5°E (redline working CRS)'
    """
    unique: list[CRS] = []
    for crs in crss:
        if not any(crs.equals(u, ignore_axis_order=True) for u in unique):
            unique.append(crs)
    if len(unique) == 1 and is_metric(unique[0]):
        return unique[0], (f"every planning layer is in {_crs_name(unique[0])}, projected in "
                           "metres: worked in as it is, without reprojection")
    where = f"lon {lonlat[0]:.2f}–{lonlat[2]:.2f}, lat {lonlat[1]:.2f}–{lonlat[3]:.2f}"
    names = ", ".join(_crs_name(u) for u in unique[:4]) + (" …" if len(unique) > 4 else "")
    if not unique:
        held = "no vector layers"
    elif len(unique) > 1:
        held = f"the layers are in {len(unique)} CRSs ({names})"
    else:
        held = f"the layers are in {names}, which is not projected in metres"
    return equal_area_crs(lonlat), (
        f"{held}: an Albers equal-area conic fitted to the planning's extent ({where}), so "
        "that areas are exact")


def _datum(crs: CRS) -> str:
    """Which of :data:`GK_DATUMS` ``crs`` is on (CGCS2000 when none)."""
    name = (crs.geodetic_crs.name if crs.geodetic_crs is not None else crs.name).lower()
    if "xian" in name.replace("'", "").replace("’", "").replace(" ", ""):
        return "Xian 1980"
    if "beijing" in name:
        return "Beijing 1954"
    return "CGCS2000"


def diagnose_crs(
    bounds: tuple[float, float, float, float],
    crs: CRS,
    region: tuple[float, float, float, float] = CHINA_LONLAT_BOUNDS,
) -> str:
    """Guess why data bounded by ``bounds`` (in its own ``crs``) does not land in ``region``.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the data, in ``crs``.
    crs
        The CRS the data declares.
    region
        ``(minlon, minlat, maxlon, maxlat)`` where the data should lie: China by default, the
        planning's region (:func:`region_of`) when known.

    Returns
    -------
    str
        A sentence naming the likely cause and, where it can be inferred, the EPSG code that
        would fit.

    Examples
    --------
    >>> diagnose_crs((43.0, 125.0, 44.0, 126.0), CRS.from_epsg(4490))
    'latitude and longitude look swapped (x holds 43–44, y holds 125–126): swap the axes ...'
    >>> diagnose_crs((38_400_000.0, 2_540_000.0, 38_420_000.0, 2_560_000.0), CRS.from_epsg(4547))
    'the eastings carry a Gauss-Krüger zone prefix but the CRS has none: they fit EPSG:4526
     (CGCS2000 3° Gauss-Krüger zone 38, with prefix; Xian 1980: EPSG:2362; Beijing 1954:
     EPSG:2414)'
    """
    xmin, ymin, xmax, ymax = bounds
    lo, hi = region[::2], region[1::2]
    looks_like_degrees = all(abs(v) <= 180 for v in bounds)
    datum = _datum(crs)
    if crs.is_geographic:
        if hi[0] - 2 <= xmin <= xmax <= hi[1] + 2 and lo[0] - 2 <= ymin <= ymax <= lo[1] + 2:
            return (
                f"latitude and longitude look swapped (x holds {xmin:.0f}–{xmax:.0f}, "
                f"y holds {ymin:.0f}–{ymax:.0f}): swap the axes or write the file as "
                "longitude, latitude"
            )
        if not looks_like_degrees:
            return "the CRS is geographic (degrees) but the coordinates are metres: " + _metre_hint(
                xmin, xmax, region, datum
            )
        return (f"the coordinates are degrees but outside {_region_label(region)}: check the "
                "data's location")
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
            xmin, xmax, region, datum
        )
    if xmax < 1e6 and false_easting >= 1e6:
        return (
            "the CRS expects a Gauss-Krüger zone prefix in the eastings but they have none: "
            + _metre_hint(xmin, xmax, region, datum)
        )
    return (
        f"the projected coordinates do not fall in {_region_label(region)}: check the "
        "Gauss-Krüger zone (a neighbouring 3° zone shifts data by about 250 km) and the datum; "
        + _bare_codes(region, datum)
    )


def guess_crs(
    bounds: tuple[float, float, float, float],
    region: tuple[float, float, float, float] = CHINA_LONLAT_BOUNDS,
) -> tuple[str | None, str]:
    """The CRS that coordinates without a declared one were most likely made in.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` of the data.
    region
        ``(minlon, minlat, maxlon, maxlat)`` where the data should lie: China by default, the
        planning's region when known (it narrows the Gauss-Krüger zones suggested).

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
    >>> guess_crs((512300.0, 4861200.0, 512400.0, 4861300.0), region=JILIN_LONLAT_BOUNDS)[1]
    'they look like Gauss-Krüger metres without a zone prefix: declare ...4551...'
    >>> guess_crs((113.2, 23.0, 113.4, 23.2))[1]
    'they look like longitude/latitude in China (lon 73–136, lat 3–54) (EPSG:4490 ...'
    """
    xmin, ymin, xmax, ymax = bounds
    lo, hi = region[::2], region[1::2]
    if all(abs(v) <= 180 for v in bounds):
        where = _region_label(region)
        if lo[0] <= xmin <= xmax <= lo[1] and hi[0] <= ymin <= ymax <= hi[1]:
            return "EPSG:4490", (f"they look like longitude/latitude in {where} (EPSG:4490 "
                                 "CGCS2000; EPSG:4326 WGS 84 differs from it by under a metre)")
        return None, (f"they look like degrees but not like longitude/latitude in {where} (x "
                      f"holds {xmin:.1f}–{xmax:.1f}, y {ymin:.1f}–{ymax:.1f}); check the axis "
                      "order")
    if xmin >= 1e7:
        zone = int(xmin // 1_000_000)
        code = gauss_kruger_epsg(zone=zone, prefix=True) if zone == int(xmax // 1e6) else None
        if code is not None:
            return f"EPSG:{code}", (f"the eastings carry Gauss-Krüger zone prefix {zone}: "
                                    f"EPSG:{code} (CGCS2000 zone {zone}, with prefix)")
    if xmin >= 4e6 and xmax <= 6e6 and (ymax < 1e6 or ymin >= 1e7):
        return None, ("x holds northings and y eastings (the surveying order X/Y): give x the "
                      "easting and y the northing")
    # northings of the region's latitudes (a Gauss-Krüger northing is ~110.6 km per degree)
    if xmin > 0 and xmax < 1e6 and (hi[0] - 1) * 1.1e5 <= ymin <= ymax <= (hi[1] + 1) * 1.12e5:
        return None, ("they look like Gauss-Krüger metres without a zone prefix: " +
                      _metre_hint(xmin, xmax, region, "CGCS2000"))
    return None, "the coordinates do not tell the CRS: use the one they were made in"


def _metre_hint(
    xmin: float, xmax: float, region: tuple[float, float, float, float], datum: str
) -> str:
    zone = int(xmin // 1_000_000)
    if zone == int(xmax // 1_000_000) and gauss_kruger_epsg(zone=zone, prefix=True):
        width = "3°" if zone >= 25 else "6°"
        others = "; ".join(f"{d}: EPSG:{gauss_kruger_epsg(zone=zone, prefix=True, datum=d)}"
                           for d in GK_DATUMS if d != datum)
        code = gauss_kruger_epsg(zone=zone, prefix=True, datum=datum)
        return (f"they fit EPSG:{code} ({datum} {width} Gauss-Krüger zone {zone}, with prefix; "
                f"{others})")
    return "declare the projected CRS the coordinates were made in; " + _bare_codes(region, datum)


def _bare_codes(region: tuple[float, float, float, float], datum: str) -> str:
    """The 3° Gauss-Krüger CRSs without zone prefix whose zones reach ``region``."""
    zones = [z for z in range(25, 46) if region[0] - 1.5 <= 3 * z <= region[2] + 1.5]
    if len(zones) > 6:  # China-wide: the ranges
        first, last = GK_DATUMS[datum][1], GK_DATUMS[datum][1] + 20
        return (f"without a zone prefix that is one of EPSG:{first}–{last} ({datum} 3° "
                "Gauss-Krüger CM 75°E–135°E, one code per 3°; Xian 1980 EPSG:2370–2390, "
                "Beijing 1954 EPSG:2422–2442, CGCS2000 EPSG:4534–4554)")
    codes = ", ".join(str(gauss_kruger_epsg(zone=z, prefix=False, datum=datum)) for z in zones)
    meridians = ", ".join(f"{3 * z}°E" for z in zones)
    return (f"for this region without a zone prefix that is usually EPSG:{codes} ({datum} 3° "
            f"Gauss-Krüger CM {meridians})")


def to_working(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    source: str,
    crs: object | None = None,
    working_crs: CRS = WORKING_CRS,
    region: tuple[float, float, float, float] = CHINA_LONLAT_BOUNDS,
    require_inside: bool = True,
    lonlat: np.ndarray | None = None,
) -> gpd.GeoDataFrame | gpd.GeoSeries:
    """Reproject ``gdf`` into the working CRS after checking its coordinates can lie in
    ``region``.

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
    region
        ``(minlon, minlat, maxlon, maxlat)`` where the data can plausibly lie: China by
        default, the planning's region (:func:`region_of` of the boundary) when known.
    require_inside
        Planning layers (``True``): features may run past ``region`` or lie elsewhere in China
        (a river beyond the border, a provincial layer used for a county), but a feature whose
        box does not meet China, or a layer none of whose features reaches ``region`` and whose
        whole box lies apart from it (a wrong CRS, a neighbouring Gauss-Krüger zone), is refused
        with the diagnosis of its CRS; a layer around the region with no feature in it (a
        province's scenic areas, none in this county) is kept. Sites
        (``False``): only data with *no* feature wholly inside ``region`` raises (the rest
        become ``not_assessed``).
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
        No CRS; coordinates that reproject to non-finite values; features outside ``region``.

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
    redline.errors.CRSError: demo: 1 of 1 features fall outside China ... look swapped ...
    """
    if gdf.crs is None:
        if crs is None:
            bounds = tuple(float(v) for v in gdf.total_bounds)
            code, looks = (guess_crs(bounds, region)  # type: ignore[arg-type]
                           if np.isfinite(bounds).all()
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
    if require_inside:
        # A feature lying wholly outside China is an error; so is a layer lying as a whole apart
        # from the region (a wrong CRS, a neighbouring Gauss-Krüger zone). Features elsewhere in
        # China are kept (a provincial layer used for a county, a national river running past
        # the border): they can meet no site there. A layer around the region with no feature
        # in it is kept too (a province's scenic areas, none in this county).
        outside = _apart(lonlat, CHINA_LONLAT_BOUNDS)
        where = CHINA_LONLAT_BOUNDS if outside.any() else region
        if not outside.any():
            outside = present & _apart(lonlat, region)
        whole = np.r_[lonlat[present, :2].min(axis=0), lonlat[present, 2:].max(axis=0)]
        refused = bool(outside.any()) and (where == CHINA_LONLAT_BOUNDS
                                           or bool(_apart(whole[None, :], region)[0]))
    else:
        outside = outside_extent(lonlat, region)
        where = region
        refused = bool(outside[present].all())
    if refused:
        bad = np.flatnonzero(outside)
        own = shapely.bounds(np.asarray(gdf.geometry.values)[bad])
        total = (
            float(np.nanmin(own[:, 0])),
            float(np.nanmin(own[:, 1])),
            float(np.nanmax(own[:, 2])),
            float(np.nanmax(own[:, 3])),
        )
        raise CRSError(
            f"{source}: {len(bad)} of {len(gdf)} features fall outside {_region_label(where)} "
            f"when read as {_crs_name(src)}; features {_ids(gdf, outside)}. Likely cause: "
            f"{diagnose_crs(total, src, region)}."
            + ("" if where == CHINA_LONLAT_BOUNDS else
               " If the CRS is right and the layer simply has nothing in this area, leave it out "
               "and declare its kind absent instead ([planning] absent = [...], --absent, or "
               "absent=[...]).")
        )
    out = gdf.to_crs(working_crs)
    checked = np.asarray(out.geometry.values)[~outside]  # those outside are the caller's to flag
    coords = shapely.get_coordinates(checked)
    if not np.isfinite(coords).all():
        raise CRSError(
            f"{source}: reprojecting from {_crs_name(src)} gave non-finite coordinates; "
            "the declared CRS does not match the coordinates."
        )
    return out


def _ids(gdf: gpd.GeoDataFrame | gpd.GeoSeries, mask: np.ndarray) -> str:
    bad = np.flatnonzero(mask)
    more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
    return ", ".join(str(i) for i in gdf.index[bad[:10]]) + more


def _crs_name(crs: CRS) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def reprojection_bow(crss: Iterable[Any], region: tuple[float, float, float, float]) -> float:
    """How far apart an edge straight in longitude/latitude and the same edge straight in a
    projected CRS can lie, per square metre of the edge's length (1/m), in ``region``.

    Drawn between the same two points, the two lines bow apart by up to about
    ``tan(latitude) · L² / (8 R)`` (most for an edge along a parallel: 8 cm for 2 km at 46°N),
    so an edge two datasets share, one stored in longitude/latitude and one projected, leaves a
    sliver that wide once both are in the working CRS. Projected CRSs alone bend shared edges
    much less (about 1 mm at 1.6 km between neighbouring Gauss-Krüger zones).

    Parameters
    ----------
    crss
        The CRSs the two sides of an overlay were stored in (anything pyproj reads; ``None``
        entries are skipped).
    region
        The longitude/latitude box the data lie in (:attr:`redline.Planning.region`).

    Returns
    -------
    float
        The bow coefficient at the region's latitude farthest from the equator, with a 10 %
        margin, when one of ``crss`` is geographic; 0.0 when none is.

    Examples
    --------
    >>> bow = reprojection_bow([4490, 4551], (125.0, 43.0, 127.0, 46.0))
    >>> round(bow * 2_000**2, 3)  # metres, for a 2 km edge at 46°N
    0.089
    >>> reprojection_bow([4551, 4552], (125.0, 43.0, 127.0, 46.0))
    0.0
    """
    if not any(CRS.from_user_input(c).is_geographic for c in crss if c is not None):
        return 0.0
    latitude = min(max(abs(region[1]), abs(region[3])), 89.0)
    return float(1.1 * math.tan(math.radians(latitude)) / (8 * _EARTH_RADIUS_M))


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
