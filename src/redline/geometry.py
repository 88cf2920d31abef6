"""Geometry validation and explicit, recorded repair.

Invalid geometries are repaired with ``shapely.make_valid(method="structure",
keep_collapsed=False)`` only: the default "linework" method turns the overlap of two parts of a
MultiPolygon into a hole and ``buffer(0)`` can drop a lobe of a bow-tie, either of which can
turn a real conflict into a silent "clear". The structure method unions shells and subtracts
holes, so every point inside a shell of the raw feature (and outside its holes) stays inside
the repair. Where GEOS falls short of that (a whole MultiPolygon, a result it returns invalid),
each polygon is repaired on its own and the pieces are unioned (:func:`_structure`); whatever
is still invalid is refused (planning layers) or not assessed (sites), never used.
Every repair is logged with the feature id, GEOS's reason and the area before and
after; an area change above :data:`MAX_SAFE_AREA_CHANGE` is flagged for review.

:func:`prepare_subjects` readies sites or parcels for assessment: it never drops a row, and marks
what cannot be assessed with a reason instead.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from redline.crs import CHINA_LONLAT_BOUNDS, lonlat_bounds, outside_extent, to_working
from redline.errors import GeometryError, RedlineWarning
from redline.schema import INPUT_PROBLEM, GeomFamily

__all__ = [
    "MAX_SAFE_AREA_CHANGE",
    "NOT_ASSESSED_COLUMN",
    "REPAIR_COLUMNS",
    "drop_z",
    "null_or_empty",
    "prepare_subject_arrays",
    "prepare_subjects",
    "private_copy",
    "relative_change",
    "repair",
]

logger = logging.getLogger(__name__)

#: Columns of the repair log returned by :func:`repair` (areas in working-CRS square metres;
#: ``review`` is true where the area changed by more than :data:`MAX_SAFE_AREA_CHANGE` or the
#: feature collapsed to nothing).
REPAIR_COLUMNS: Final = (
    "feature_id",
    "layer",
    "reason",
    "area_before_m2",
    "area_after_m2",
    "review",
)
#: Column of :func:`prepare_subjects` output: ``None`` where the subject can be assessed, else
#: a short English reason.
NOT_ASSESSED_COLUMN: Final = "not_assessed_reason"
#: Largest relative area change (0.01 = 1 %) a repair may make without review; a subject whose
#: repair changes its area more is not assessed.
MAX_SAFE_AREA_CHANGE: Final = 0.01

#: A relative change at least this large (10 000 %) means the raw area was rounding noise.
_NEAR_ZERO_CHANGE: Final = 100.0
#: Snap-rounding grid (working-CRS metres) of the union that joins repaired pieces.
_REPAIR_GRID_M: Final = 1e-6
_DIMENSION: Final = {"polygon": 2, "line": 1}
_DIMENSION_NAME: Final = {0: "points", 1: "lines", 2: "polygons"}
_COLLECTION_TYPES: Final = (4, 5, 6, 7)  # Multi* and GeometryCollection type ids
_SINGLE_TYPES: Final = (0, 1, 2, 3)  # Point, LineString, LinearRing, Polygon


def null_or_empty(geoms: object) -> np.ndarray:
    """Boolean mask of missing (``None``) or empty geometries.

    Parameters
    ----------
    geoms
        Geometries: an array, a list or a GeoSeries.

    Returns
    -------
    numpy.ndarray
        ``True`` where the geometry is ``None`` or empty.

    Examples
    --------
    >>> null_or_empty([shapely.box(0, 0, 1, 1), None, shapely.Polygon()])
    array([False,  True,  True])
    """
    arr = np.asarray(geoms, dtype=object)
    return shapely.is_missing(arr) | shapely.is_empty(arr)


def drop_z(geoms: np.ndarray, *, source: object) -> np.ndarray:
    """Two-dimensional copies of ``geoms``, logging how many features had Z or M coordinates.

    Parameters
    ----------
    geoms
        Array of shapely geometries (``None`` allowed); not modified.
    source
        File or layer named in the log message.

    Returns
    -------
    numpy.ndarray
        The geometries with only x and y.

    Examples
    --------
    >>> drop_z(np.array([shapely.Point(1, 2, 3)]), source="demo")[0].wkt
    'POINT (1 2)'
    """
    if n := int((shapely.get_coordinate_dimension(geoms) > 2).sum()):
        logger.info("%s: dropped Z/M coordinates of %d features", source, n)
        return shapely.force_2d(geoms)
    return np.array(geoms, dtype=object)  # a new array; the (immutable) geometries are shared


def relative_change(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """``|after - before| / before``; ``inf`` where ``before`` is 0 and ``after`` is not.

    Parameters
    ----------
    before, after
        Measures (areas) before and after a change, same shape.

    Returns
    -------
    numpy.ndarray
        The relative change, 0 where both are 0.

    Examples
    --------
    >>> relative_change(np.array([8.0, 0.0, 0.0]), np.array([7.0, 2.0, 0.0]))
    array([0.125,   inf, 0.   ])
    """
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    change = np.abs(after - before)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(change == 0, 0.0, change / before)


def repair(
    gdf: gpd.GeoDataFrame,
    *,
    source: str,
    family: GeomFamily | None = None,
    id_column: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Repair invalid geometries explicitly and record every repair.

    Parameters
    ----------
    gdf
        Layer in the working CRS (areas are logged in its units); not modified.
    source
        Layer name or file, written to the log's ``layer`` column and to messages.
    family
        ``"polygon"`` or ``"line"``: the layer's geometry family. Features of another family
        raise; collections keep their parts of the family and the rest is dropped and logged.
        ``None`` repairs without a family check.
    id_column
        Column identifying features in the log and messages (default: the index).

    Returns
    -------
    repaired : geopandas.GeoDataFrame
        Copy of ``gdf`` (same index and columns) with valid, two-dimensional geometries. Null
        and empty geometries are left as they are (see :func:`null_or_empty`).
    log : pandas.DataFrame
        One row per changed feature, columns :data:`REPAIR_COLUMNS`.

    Raises
    ------
    GeometryError
        Features of the wrong family (e.g. points in a polygon layer), or features that are
        still invalid after repair, named by id.

    Warns
    -----
    RedlineWarning
        Once, when anything was repaired: count, source, largest relative area change.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> layer = gpd.GeoDataFrame({"fid": ["a"]}, geometry=[bowtie], crs=3857)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", RedlineWarning)
    ...     fixed, log = repair(layer, source="demo", family="polygon", id_column="fid")
    >>> float(fixed.area[0]), log.loc[0, ["feature_id", "reason"]].tolist(), bool(log.review[0])
    (2.0, ['a', 'Self-intersection[1 1]'], True)
    """
    ids = gdf[id_column] if id_column is not None else gdf.index.to_series()
    raw = drop_z(np.asarray(gdf.geometry.values), source=source)
    present = ~null_or_empty(raw)
    geoms = raw.copy()
    notes = np.full(len(raw), "", dtype=object)
    dropped = np.zeros(len(raw), dtype=np.int64)
    if family is not None:
        dim = _DIMENSION[family]
        dims = _part_dimensions(raw)
        wrong = present & ~_has_dimension(dims, dim)
        if wrong.any():
            bad = np.flatnonzero(wrong)
            kinds = sorted({str(t) for t in shapely.get_type_id(raw[bad])})
            raise GeometryError(
                f"{source}: {bad.size} features hold no {family} geometry in a {family} layer "
                f"(features {_first(ids.iloc[bad])}; geometry type ids {', '.join(kinds)}): "
                "fix or remove them, or load them as a layer of their own family"
            )
        collection = present & (shapely.get_type_id(raw) == 7)
        geoms[collection], dropped[collection] = _parts_of_dimension(raw[collection], dim)
        notes[collection] = "GeometryCollection"
    invalid = present & ~shapely.is_valid(geoms)
    if invalid.any():
        notes[invalid] = _join(notes[invalid], shapely.is_valid_reason(geoms[invalid]))
        fixed = _structure(geoms[invalid])
        if family is not None:
            fixed, extra = _parts_of_dimension(fixed, _DIMENSION[family])
            dropped[invalid] += extra
        geoms[invalid] = fixed
        still = np.flatnonzero(invalid & ~shapely.is_valid(geoms))
        if still.size:
            raise GeometryError(
                f"{source}: {still.size} features are still invalid after repair (features "
                f"{_first(ids.iloc[still])}: {shapely.is_valid_reason(geoms[still[0]])}); fix "
                "them at source, e.g. in a GIS with a topology check"
            )
    changed = (notes != "") & present
    out = gdf.copy()
    out[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    before, after = shapely.area(raw[changed]), shapely.area(geoms[changed])
    reasons = [
        note + (f"; dropped {n} parts of another family" if n else "")
        for note, n in zip(notes[changed], dropped[changed], strict=True)
    ]
    change = relative_change(before, after)
    log = pd.DataFrame(
        {
            "feature_id": ids.to_numpy()[changed],
            "layer": source,
            "reason": reasons,
            "area_before_m2": before,
            "area_after_m2": after,
            "review": (change > MAX_SAFE_AREA_CHANGE) | shapely.is_empty(geoms[changed]),
        },
        columns=list(REPAIR_COLUMNS),
    )
    if len(log):
        worst = int(np.argmax(change))
        warnings.warn(
            f"{source}: repaired {len(log)} geometries (make_valid, structure method); largest "
            f"relative area change {_percent(change[worst])} (feature {log.feature_id.iloc[worst]}"
            f"); {int(log.review.sum())} flagged for review (> {MAX_SAFE_AREA_CHANGE:.0%} or "
            "collapsed). See the repair log.",
            RedlineWarning,
            stacklevel=2,
        )
    return out, log


def prepare_subjects(
    subjects: gpd.GeoDataFrame,
    *,
    source: str,
    working_crs: CRS | str | int,
    crs: object | None = None,
    extent: shapely.Geometry | None = None,
    region: tuple[float, float, float, float] = CHINA_LONLAT_BOUNDS,
) -> gpd.GeoDataFrame:
    """Ready sites or parcels for assessment; mark what cannot be assessed, never drop it.

    Parameters
    ----------
    subjects
        Sites or parcels in any CRS; not modified.
    source
        File or name used in messages.
    working_crs
        Projected CRS in metres to reproject into.
    crs
        CRS to assume when ``subjects`` has none.
    extent
        Area the planning layers cover, in ``working_crs``; subjects not wholly covered by it
        are not assessed.
    region
        ``(minlon, minlat, maxlon, maxlat)`` where subjects can plausibly lie
        (:attr:`redline.Planning.region`; China by default); subjects not wholly inside it are
        not assessed, and if none is, the CRS is refused with a diagnosis.

    Returns
    -------
    geopandas.GeoDataFrame
        The caller's rows, index and columns with geometry in ``working_crs`` (two-dimensional,
        valid) and :data:`NOT_ASSESSED_COLUMN`: ``None`` where assessable, else one of
        "null geometry", "empty geometry", "coordinates outside the planning region", "mixes
        polygons with
        lines or points (split it into separate subjects)", "invalid geometry could not be
        repaired safely (area changed N%)", "invalid geometry collapsed when repaired",
        "invalid geometry is still invalid after repair", "outside the planning extent", or
        the reader's reason in :data:`redline.schema.INPUT_PROBLEM` (e.g. a boundary-point
        ring that crosses itself).
        Subjects whose coordinates do not reproject to finite values get a null geometry.

    Raises
    ------
    CRSError
        No CRS, or no subject inside ``region`` (see :func:`redline.crs.to_working`).

    Warns
    -----
    RedlineWarning
        Once, when any subject was repaired.

    Notes
    -----
    Each subject keeps its own family: a collection of polygons becomes a MultiPolygon, and the
    polygonal repair of a polygon stays polygonal. A subject mixing polygons with lines or
    points is not assessed rather than cut down to its polygons, since its line part (an access
    road, a pipeline) could be the part in conflict.

    A repair that changes the area by more than :data:`MAX_SAFE_AREA_CHANGE` means the footprint
    that would be assessed is not the one submitted: the structure method can add a region the
    author drew as a hole, or merge a bow-tie's lobes, and either could give a verdict for a
    different site. Such subjects are not assessed (never clear) until the geometry is fixed at
    source. This includes MultiPolygons with overlapping parts, whose raw area counts the
    overlap twice.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline.crs import WORKING_CRS
    >>> sites = gpd.GeoDataFrame(
    ...     {"site_id": ["a", "b", "c"]}, index=[10, 11, 12], crs=4490,
    ...     geometry=[shapely.box(125.30, 43.80, 125.31, 43.81), None, shapely.Point(130, 60)])
    >>> out = prepare_subjects(sites, source="demo", working_crs=WORKING_CRS)
    >>> out[NOT_ASSESSED_COLUMN].tolist()
    [None, 'null geometry', 'coordinates outside the planning region']
    >>> out.index.tolist(), round(out.area[10])  # the caller's index; m² in the working CRS
    ([10, 11, 12], 894072)
    """
    geoms, reasons = prepare_subject_arrays(
        subjects, source=source, working_crs=working_crs, crs=crs, extent=extent, region=region,
        stacklevel=3,
    )
    out = subjects.copy()
    out[subjects.geometry.name] = gpd.GeoSeries(
        geoms, index=subjects.index, crs=CRS.from_user_input(working_crs)
    )
    out[NOT_ASSESSED_COLUMN] = pd.Series(reasons, index=subjects.index, dtype=object)
    return out


def prepare_subject_arrays(
    subjects: gpd.GeoDataFrame,
    *,
    source: str,
    working_crs: CRS | str | int,
    crs: object | None = None,
    extent: shapely.Geometry | None = None,
    region: tuple[float, float, float, float] = CHINA_LONLAT_BOUNDS,
    stacklevel: int = 2,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`prepare_subjects` as arrays, for callers that need no frame.

    Parameters
    ----------
    subjects, source, working_crs, crs, extent, region
        As for :func:`prepare_subjects`.
    stacklevel
        The repair warning's stack level, counted from this function (2: its caller).

    Returns
    -------
    geoms, reasons
        The prepared geometries and the reasons not to assess (``None``: assessable), as
        object arrays in the order of ``subjects``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline.crs import WORKING_CRS
    >>> sites = gpd.GeoDataFrame(crs=4490, geometry=[shapely.box(125.30, 43.80, 125.31, 43.81),
    ...                                               None])
    >>> geoms, reasons = prepare_subject_arrays(sites, source="demo", working_crs=WORKING_CRS)
    >>> reasons.tolist(), round(geoms[0].area)
    ([None, 'null geometry'], 894072)
    """
    # checked in the subjects' own CRS: a longitude of 486.5° projects onto Jilin
    declared = subjects if subjects.crs is not None or crs is None else subjects.set_crs(crs)
    lonlat = lonlat_bounds(declared, within=region) if declared.crs is not None else None
    projected = to_working(
        subjects.geometry,  # the geometry only: the rest needs no copy
        source=source,
        crs=crs,
        working_crs=CRS.from_user_input(working_crs),
        region=region,
        require_inside=False,
        lonlat=lonlat,
    )
    geoms = drop_z(np.asarray(projected.geometry.values), source=source)
    n = len(geoms)
    reasons = np.full(n, None, dtype=object)
    ok = np.ones(n, dtype=bool)  # no reason yet

    def mark(mask: np.ndarray, reason: str) -> None:
        reasons[mask & ok] = reason
        ok[mask] = False

    if INPUT_PROBLEM in subjects.columns:  # found by the reader (e.g. a ring crossing itself)
        problem = subjects[INPUT_PROBLEM].to_numpy(dtype=object)
        found = pd.notna(problem) & (problem != "")
        reasons[found], ok[found] = problem[found], False
        geoms[found & ~shapely.is_valid(geoms)] = None  # not measured: nothing to repair
    mark(shapely.is_missing(geoms), "null geometry")
    mark(shapely.is_empty(geoms), "empty geometry")
    outside = outside_extent(lonlat, region) if lonlat is not None else np.zeros(n, dtype=bool)
    mark(outside, "coordinates outside the planning region")
    finite = np.isfinite(shapely.bounds(geoms)).all(axis=1)
    geoms[outside & ~finite] = None

    dims = _part_dimensions(geoms)
    mark(_mixed(dims), "mixes polygons with lines or points (split it into separate subjects)")
    dim = _top_dimension(dims)
    collections = ok & (shapely.get_type_id(geoms) == 7)
    for d in np.unique(dim[collections]):
        rows = collections & (dim == d)
        geoms[rows] = _parts_of_dimension(geoms[rows], int(d))[0]

    invalid = ok & ~shapely.is_valid(geoms)
    if invalid.any():
        raw = geoms[invalid]
        fixed = _structure(raw)
        for d in np.unique(dim[invalid]):
            rows = dim[invalid] == d
            fixed[rows] = _parts_of_dimension(fixed[rows], int(d))[0]
        change = relative_change(shapely.area(raw), shapely.area(fixed))
        unsafe = change > MAX_SAFE_AREA_CHANGE
        collapsed = shapely.is_empty(fixed)
        still = ~shapely.is_valid(fixed)
        sub = np.full(len(raw), None, dtype=object)
        sub[unsafe] = [
            f"invalid geometry could not be repaired safely (area changed {_percent(c)})"
            for c in change[unsafe]
        ]
        sub[collapsed] = "invalid geometry collapsed when repaired"
        sub[still] = "invalid geometry is still invalid after repair"
        reasons[invalid] = sub
        ok[invalid] = ~(unsafe | collapsed | still)
        geoms[invalid] = fixed
        warnings.warn(
            f"{source}: repaired {int(invalid.sum())} invalid subject geometries (make_valid, "
            f"structure method); {int((unsafe | collapsed | still).sum())} changed area by more "
            f"than {MAX_SAFE_AREA_CHANGE:.0%}, collapsed or stayed invalid and are not assessed",
            RedlineWarning,
            stacklevel=stacklevel,
        )

    if extent is not None:
        # a private prepared copy: GEOS builds a prepared geometry's index lazily, so one shared
        # by threads (dask partitions against one planning) crashes the interpreter
        own = private_copy(extent)
        shapely.prepare(own)
        covered = np.ones(n, dtype=bool)
        covered[ok] = shapely.covers(own, geoms[ok])
        mark(~covered, "outside the planning extent")

    if not ok.all():
        logger.info("%s: %d of %d subjects cannot be assessed", source, int((~ok).sum()), n)
    return geoms, reasons


def _structure(geoms: np.ndarray) -> np.ndarray:
    """``make_valid(method="structure")`` that keeps every point inside a shell and outside its
    holes: a MultiPolygon, or a polygon whose repair GEOS returns invalid, is repaired polygon
    by polygon and the pieces are unioned.

    GEOS 3.14's floating-point union, which the structure method uses to join the parts of a
    MultiPolygon, can drop a whole part where two parts run along almost the same edge; the
    pieces are therefore unioned with snap-rounding on a :data:`_REPAIR_GRID_M` grid, which is
    robust. GEOS also returns a ring that runs twice along one edge as two parts sharing that
    edge (an invalid MultiPolygon). Bad data only: the loop runs over a handful of features.

    Examples
    --------
    >>> twice = shapely.Polygon([(0, 1), (0, 0), (1, -1), (0, -1), (0, 0), (1, -1)])
    >>> once = shapely.make_valid(twice, method="structure", keep_collapsed=False)
    >>> bool(once.is_valid), _structure(np.array([twice]))[0].normalize().wkt
    (False, 'POLYGON ((0 -1, 0 0, 0 1, 1 -1, 0 -1))')
    >>> parts = shapely.from_wkt("MULTIPOLYGON (((0 1, -1 -1, 3 2, 0 1)), "
    ...                         "((-1 -1, 3 2, 1 -1, -2 0, -1 -1)))")
    >>> whole = shapely.make_valid(parts, method="structure", keep_collapsed=False)
    >>> round(whole.area, 2), round(_structure(np.array([parts]))[0].area, 2)
    (2.93, 5.47)
    >>> spike = shapely.from_wkt("POLYGON ((1 1, 3 0, 1 1, 0 2, 3 0, 1 1))")
    >>> shapely.make_valid(spike, method="structure", keep_collapsed=False).is_empty
    True
    >>> _structure(np.array([spike]))[0].area
    0.5
    """
    fixed = _structure_each(geoms)
    polygonal = shapely.get_dimensions(geoms) == 2
    multi = shapely.get_type_id(geoms) != shapely.GeometryType.POLYGON
    for i in np.flatnonzero(polygonal & (multi | ~shapely.is_valid(fixed))):
        pieces = _structure_each(shapely.get_parts(geoms[i]))
        fixed[i] = shapely.union_all(_flat_parts(pieces)[0], grid_size=_REPAIR_GRID_M)
    # The structure method can read a ring with a spike back along its first edge as collapsed
    # and return nothing at all, or drop a face a ring running back over its own edges encloses.
    # Without holes, the linework method's faces (odd crossing parity, so odd winding) all lie
    # inside the drawn rings: they are added. (With holes, parity would fill a hole that shares
    # the shell's edges. GEOS refuses some degenerate rings outright: those stay empty and are
    # refused later.)
    holes = np.array([shapely.get_num_interior_rings(shapely.get_parts(g)).sum() if p else 0
                      for g, p in zip(geoms, polygonal, strict=True)])
    for i in np.flatnonzero(polygonal & ~shapely.is_empty(geoms) & (holes == 0)):
        try:
            parts = shapely.get_parts(shapely.make_valid(geoms[i], method="linework"))
            kept = parts[shapely.get_dimensions(parts) == 2]
            if len(kept):
                fixed[i] = shapely.union_all(
                    [*_flat_parts(np.array([fixed[i]]))[0], *kept], grid_size=_REPAIR_GRID_M)
        except shapely.errors.GEOSException:
            continue
    return fixed


def _structure_each(geoms: np.ndarray) -> np.ndarray:
    """``make_valid(method="structure")`` of each geometry; one GEOS cannot repair (a
    TopologyException on a degenerate ring) comes back empty, for the linework method to try
    (:func:`_structure`), instead of failing the whole layer."""
    try:
        return shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    except shapely.errors.GEOSException:
        out = np.empty(len(geoms), dtype=object)
        for i, geom in enumerate(geoms):
            try:
                out[i] = shapely.make_valid(geom, method="structure", keep_collapsed=False)
            except shapely.errors.GEOSException:
                out[i] = shapely.Polygon()
        return out


def _part_dimensions(geoms: np.ndarray) -> np.ndarray:
    """Bit mask per feature of the dimensions of its non-empty parts (bit d set: dimension d,
    0 points, 1 lines, 2 polygons)."""
    mask = np.zeros(len(geoms), dtype=np.int64)
    # Single-part geometries (most subjects) are their own part: no need to split them.
    single = np.isin(shapely.get_type_id(geoms), _SINGLE_TYPES) & ~shapely.is_empty(geoms)
    mask[single] = 1 << shapely.get_dimensions(geoms[single]).astype(np.int64)
    multi = np.flatnonzero(~single)
    parts, index = _flat_parts(geoms[multi])
    keep = ~shapely.is_empty(parts)
    dims = 1 << shapely.get_dimensions(parts[keep]).astype(np.int64)
    np.bitwise_or.at(mask, multi[index[keep]], dims)
    return mask


def _has_dimension(mask: np.ndarray, dim: int) -> np.ndarray:
    return (mask >> dim) & 1 == 1


def _mixed(mask: np.ndarray) -> np.ndarray:
    """Features with parts of more than one dimension."""
    return mask & (mask - 1) != 0


def _top_dimension(mask: np.ndarray) -> np.ndarray:
    """Highest dimension among each feature's parts, -1 where it has none."""
    return np.select([_has_dimension(mask, d) for d in (2, 1, 0)], [2, 1, 0], default=-1)


def _flat_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-part components of each geometry (collections nested any depth), with indices."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    while (nested := np.isin(shapely.get_type_id(parts), _COLLECTION_TYPES)).any():
        inner, inner_index = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        index = np.concatenate([index[~nested], index[nested][inner_index]])
    return parts, index


def _parts_of_dimension(geoms: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Keep each geometry's parts of dimension ``dim``.

    Returns
    -------
    kept : numpy.ndarray
        A single part where one remains, a Multi* geometry where several do, an empty geometry
        of that dimension where none does.
    dropped : numpy.ndarray
        Number of parts of other dimensions removed from each geometry.
    """
    parts, index = _flat_parts(geoms)
    nonempty = ~shapely.is_empty(parts)
    parts, index = parts[nonempty], index[nonempty]
    keep = shapely.get_dimensions(parts) == dim
    n = len(geoms)
    counts = np.bincount(index[keep], minlength=n)
    dropped = np.bincount(index[~keep], minlength=n)
    build = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dim]
    empty = {0: shapely.Point(), 1: shapely.LineString(), 2: shapely.Polygon()}[dim]
    out = np.full(n, empty, dtype=object)
    if keep.any():
        order = np.argsort(index[keep], kind="stable")
        build(parts[keep][order], indices=index[keep][order], out=out)
    single = counts == 1
    out[single] = shapely.get_geometry(out[single], 0)
    return out, dropped


def _join(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    return np.array([f"{a}; {b}" if a else b for a, b in zip(first, second, strict=True)])


def _first(ids: pd.Series | np.ndarray, limit: int = 10) -> str:
    values = [str(v) for v in np.asarray(ids)]
    return ", ".join(values[:limit]) + (
        f" and {len(values) - limit} more" if len(values) > limit else ""
    )


def _percent(value: float) -> str:
    """A relative area change for messages; a bow-tie's raw area is 0 or rounding noise."""
    if np.isinf(value):
        return "from a raw area of 0"
    return "from a raw area near 0" if value >= _NEAR_ZERO_CHANGE else f"{value:.0%}"


def private_copy(geoms: Any) -> Any:
    """New geometry objects with the same coordinates, for this thread alone to prepare.

    GEOS builds a prepared geometry's indexes lazily, on first use: a prepared geometry shared
    by threads (dask partitions or engine chunks against one planning) can crash the process.

    Parameters
    ----------
    geoms
        A shapely geometry or an array of them.

    Returns
    -------
    shapely.Geometry or numpy.ndarray
        Equal geometries that are distinct objects.

    Examples
    --------
    >>> box = shapely.box(0, 0, 1, 1)
    >>> copy = private_copy(box)
    >>> copy == box and copy is not box
    True
    """
    return shapely.transform(geoms, _same_coordinates)


def _same_coordinates(coords: np.ndarray) -> np.ndarray:
    return coords
