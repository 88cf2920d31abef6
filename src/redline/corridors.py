"""Ecological corridors along rivers, railways and highways, and corridor severance.

Jilin's 2014 opinions (二(四)5) keep provincial corridors along the Songhua, Yalu and Tumen and
secondary corridors along tributaries, railways and highways free of "ecological islands".
:func:`build_corridors` turns the canonical line layers ``rivers`` and ``roads_rails`` into one
corridor polygon per line feature; :func:`severance` decides whether a site cuts a corridor.

Corridor polygons
    A corridor is every point within ``half_width_m`` of its centreline: a buffer with round
    caps and round joins (16 segments per quarter circle). Round caps make a river split into
    reaches seamless at the joints and never leave a gap at a bend, and they agree with the
    distance semantics used everywhere else (a straight corridor of length ``L`` has area
    ``2 r L`` plus the inscribed 64-gon ``32 r² sin(π/32)``, 0.16 % under ``π r²``). Polygons are
    clipped to the province; the centreline is kept *unclipped* in the ``centreline`` column
    (a plain shapely geometry column, not the active geometry — drop it before writing the frame
    to a single-geometry format).

Severance
    A site severs a corridor where it stands when, in a window around it, it disconnects two
    "ends" of the local corridor that the corridor connects without the site — at the minimum
    passage width, or at all. Per (site, corridor) pair:

    1. The site is made polygonal: polygons as they are, lines buffered by ``line_width_m / 2``,
       points removed (a point never severs).
    2. Window ``W`` = site buffered by ``2 h + w`` (``h`` half-width, ``w`` minimum passage), so
       the whole cross-section of the corridor beside the site lies inside it. The local
       corridor is the union of every corridor of the same layer and class near the site (rivers
       split into reaches count as one), cut to ``W`` buffered by a further ``2 h + w``. Where a
       centreline leaves its clipped corridor by more than ``h / 2`` (a river crossing the
       province boundary), the corridor is restored around that stretch, so the boundary does
       not act as a dead end. Along a border river (Yalu, Tumen) whose centreline follows the
       clip, only the Jilin half counts: the conservative reading.
    3. Ends are (a) the arcs where the corridor crosses the window boundary and a centreline
       crosses it too (a bulge of a bend crossing the boundary is not an end), arcs joined by a
       centreline outside the window counting as one end (a meander leaving and re-entering);
       (b) the line ends (river sources, dead ends) inside the window at least ``h + w`` from the
       site, each with a disc of radius ``h``. A line end closer to the site is a dead end the
       site cannot cut off: no false severance at the end of a river.
    4. For an erosion distance ``r``, the ends joined by one part of the corridor eroded by
       ``r`` (negative buffer) are connected through a passage at least ``2 r`` wide. The site
       severs the corridor if some pair of ends connected at ``r = w / 2`` without the site is
       not connected with it, or some pair connected at all (``r = 0``) without the site is
       not connected at all with it (a complete cut of a corridor that is already narrower than
       ``w`` there, e.g. clipped at the border).
    5. ``passage_m`` is the widest width at which every pair of ends connected without the site
       stays connected with it; ``corridor_passage_m`` the same without the site. Both come
       from bisection on ``r`` and are lower bounds within ``tolerance_m`` (default 5 m) of the
       true widths, give or take the polygonal approximation of the buffers (about 0.1 % of
       the width); wider passages are reported as ``1.9 × (2 h + w)``, the widest measured.
       They are ``NaN`` when the window holds fewer than two connected ends (nothing to sever).
       Where ``corridor_passage_m < w`` the corridor itself is narrower than the minimum and only
       a complete cut severs it.

    The local corridors of step 2 are built for all pairs at once (shapely's vectorised
    functions over every pair); ends, connections and widths are then evaluated pair by pair
    (there are few). With ``widths_of="severing"`` the pairs that cannot sever are decided
    first, all at once, without a window: a point, or a convex site that lies inside its
    corridor at least ``w`` from its edge (it leaves a hole in one part of the corridor at every
    erosion step 4 uses, so no pair of ends can come apart); then, again for all pairs at once,
    a site that leaves each part of the local corridor in one piece at both erosions of step 4
    is decided before its ends are traced (the ends lie far from the site, so they touch the
    same parts).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable, Mapping
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseMultipartGeometry

from redline.crs import WORKING_CRS, is_metric
from redline.errors import CRSError, GeometryError, LayerError, RuleError
from redline.geometry import private_copy
from redline.schema import CORRIDOR_CLASSES

__all__ = [
    "CORRIDOR_COLUMNS",
    "CORRIDOR_LAYERS",
    "SEVERANCE_COLUMNS",
    "build_corridors",
    "severance",
]

logger = logging.getLogger(__name__)

#: Line layer kinds corridors are built from.
CORRIDOR_LAYERS = ("rivers", "roads_rails")
#: Columns of :func:`build_corridors`' output; ``centreline`` is an unclipped line geometry
#: column (not the active geometry).
CORRIDOR_COLUMNS = (
    "feature_id",
    "name",
    "source_layer",
    "corridor",
    "half_width_m",
    "centreline",
    "geometry",
)
#: Columns of :func:`severance`' output.
SEVERANCE_COLUMNS = ("subject", "feature", "severs", "passage_m", "corridor_passage_m")

_LINE_FIELDS = ("feature_id", "name", "corridor")
_QUAD_SEGS = 16
_SNAP_M = 1.0  # line ends closer than this are joined; crossings this close to a line lie on it
_POLYGON_TYPES = (3, 6)  # Polygon, MultiPolygon
_LINE_TYPES = (1, 2, 5)  # LineString, LinearRing, MultiLineString
_POINT_TYPES = (0, 4)  # Point, MultiPoint
_COLLECTION = 7


def build_corridors(
    lines: Mapping[str, gpd.GeoDataFrame],
    *,
    half_widths_m: Mapping[str, float],
    clip: shapely.Geometry | None = None,
) -> gpd.GeoDataFrame:
    """Corridor polygons, one per line feature, buffered by their class's half-width.

    Parameters
    ----------
    lines
        Layer name (``"rivers"``, ``"roads_rails"``) to its canonical GeoDataFrame (columns
        ``feature_id``, ``name``, ``corridor``, line geometry) in one projected metre CRS (the
        working CRS). Not modified.
    half_widths_m
        Half-width in metres per ``"<layer>.<class>"``, e.g. ``{"rivers.provincial": 1000.0}``.
        Every class present in the data needs one.
    clip
        Polygon (the province, in the working CRS) the corridors are cut to. Corridors left
        empty are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`CORRIDOR_COLUMNS`, a fresh ``RangeIndex`` (rivers first, in input order),
        in the lines' CRS.

    Raises
    ------
    RuleError
        A half-width is missing, unknown or not a positive number.
    LayerError, CRSError, GeometryError
        An unknown layer name, missing fields or unknown corridor classes; data not in the
        working CRS; null, empty or non-line geometries; a clip that is not a polygon or
        leaves no corridor at all.

    Examples
    --------
    >>> river = gpd.GeoDataFrame(
    ...     {"feature_id": ["r1"], "name": ["松花江"], "corridor": ["provincial"]},
    ...     geometry=[shapely.LineString([(0, 0), (10_000, 0)])], crs=WORKING_CRS)
    >>> out = build_corridors({"rivers": river}, half_widths_m={"rivers.provincial": 1000.0},
    ...                       clip=shapely.box(2_000, -5_000, 8_000, 5_000))
    >>> out[["feature_id", "source_layer", "half_width_m"]].to_dict("records")
    [{'feature_id': 'r1', 'source_layer': 'rivers', 'half_width_m': 1000.0}]
    >>> float(out.area.iloc[0])
    12000000.0
    """
    if not isinstance(lines, Mapping):
        raise TypeError(f"lines must map layer names to GeoDataFrames, got {type(lines).__name__}")
    unknown = [str(k) for k in lines if k not in CORRIDOR_LAYERS]
    if unknown:
        raise LayerError(
            f"corridors are built from the layers {', '.join(CORRIDOR_LAYERS)}; got "
            f"{', '.join(repr(k) for k in unknown)}. Rename the keys of `lines`."
        )
    widths = _check_half_widths(half_widths_m)
    columns: dict[str, list[np.ndarray]] = {c: [] for c in CORRIDOR_COLUMNS}
    crs = next((gdf.crs for gdf in lines.values() if isinstance(gdf, gpd.GeoDataFrame)), None)
    for layer, gdf in lines.items():
        _check_lines(gdf, layer, crs)
        keys = layer + "." + gdf["corridor"].astype(str)
        missing = sorted(set(keys) - set(widths))
        if missing:
            given = ", ".join(sorted(widths)) or "none"
            raise RuleError(
                f"no corridor half-width for {', '.join(repr(k) for k in missing)} "
                f"(layer {layer!r} has features of that class); half-widths given: {given}. "
                "Add the key to half_widths_m (in the ruleset's corridor table)."
            )
        half = keys.map(widths).to_numpy(dtype=float)
        centre = np.asarray(gdf.geometry.values, dtype=object)
        columns["feature_id"].append(gdf["feature_id"].to_numpy(dtype=object))
        columns["name"].append(gdf["name"].to_numpy(dtype=object))
        columns["source_layer"].append(np.full(len(gdf), layer, dtype=object))
        columns["corridor"].append(gdf["corridor"].astype(str).to_numpy(dtype=object))
        columns["half_width_m"].append(half)
        columns["centreline"].append(centre)
        columns["geometry"].append(shapely.buffer(centre, half, quad_segs=_QUAD_SEGS))
    data = {
        c: (np.concatenate(v) if v else np.empty(0, dtype=float if c == "half_width_m" else object))
        for c, v in columns.items()
    }
    if clip is not None:
        clip = _check_clip(clip)
        clipped = _polygonal(shapely.intersection(data["geometry"], clip))
        keep = ~shapely.is_empty(clipped)
        if len(keep) and not keep.any():
            raise GeometryError(
                f"the clip polygon (bounds {_fmt_bounds(clip)}) does not overlap any of the "
                f"{len(keep)} corridors (bounds "
                f"{_fmt_bounds(shapely.union_all(data['geometry']))}); pass the province "
                "boundary in the lines' CRS (the planning's working CRS)."
            )
        if not keep.all():
            logger.info(
                "%d corridors lie wholly outside the clip and were dropped", int((~keep).sum())
            )
        data["geometry"] = clipped
        data = {c: v[keep] for c, v in data.items()}
    crs = crs if crs is not None else WORKING_CRS
    centreline = gpd.GeoSeries(data.pop("centreline"), crs=crs)
    out = gpd.GeoDataFrame(data, geometry="geometry", crs=crs)
    out.insert(len(out.columns) - 1, "centreline", centreline.set_axis(out.index))
    return out[list(CORRIDOR_COLUMNS)]


def severance(
    sites: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    corridors: gpd.GeoDataFrame,
    pairs: pd.DataFrame,
    *,
    min_passage_m: Mapping[str, float] | float,
    line_width_m: float = 30.0,
    tolerance_m: float = 5.0,
    widths_of: Literal["all", "severing"] = "all",
) -> pd.DataFrame:
    """Whether each site severs the corridor it is paired with (see the module notes).

    Parameters
    ----------
    sites
        Sites (polygons, lines, points) in the corridors' CRS, or an array of their shapely
        geometries (no CRS to check: the caller vouches it is the corridors'). Not modified.
    corridors
        Output of :func:`build_corridors`.
    pairs
        Candidate pairs: ``subject`` (row position in ``sites``) and ``feature`` (row position
        in ``corridors``), e.g. from the overlay engine.
    min_passage_m
        Minimum passage width per corridor class (``"provincial"``, ``"secondary"``) or one
        width for all. Must be narrower than the corridor (``2 × half_width_m``).
    line_width_m
        Width a line site is assessed with (a road, railway or pipeline strip).
    tolerance_m
        Accuracy of ``passage_m`` and ``corridor_passage_m``.
    widths_of
        Measure the passage widths of every pair (``"all"``), or only of the pairs that
        sever (``"severing"``: the others get ``NaN``; measuring is most of the cost).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SEVERANCE_COLUMNS`, index of ``pairs``: ``severs`` (bool), ``passage_m``
        (widest passage left around the site, lower bound within ``tolerance_m``),
        ``corridor_passage_m`` (the same without the site); ``NaN`` widths when there is no
        through-passage to keep.

    Raises
    ------
    RuleError
        A minimum passage missing, unknown, not positive or not narrower than the corridor;
        a non-positive ``line_width_m`` or ``tolerance_m``.
    LayerError, CRSError, GeometryError
        Corridors without the :data:`CORRIDOR_COLUMNS`; pairs without ``subject``/``feature``
        or pointing past the rows; sites in another CRS; null, empty or invalid site geometries.

    Examples
    --------
    >>> river = gpd.GeoDataFrame(
    ...     {"feature_id": ["r1"], "name": ["松花江"], "corridor": ["provincial"]},
    ...     geometry=[shapely.LineString([(0, 0), (10_000, 0)])], crs=WORKING_CRS)
    >>> corridors = build_corridors({"rivers": river},
    ...                             half_widths_m={"rivers.provincial": 1000.0})
    >>> sites = gpd.GeoSeries([shapely.box(4_000, -1_500, 4_500, 1_500),
    ...                        shapely.box(4_000, 200, 4_500, 1_500)], crs=WORKING_CRS)
    >>> pairs = pd.DataFrame({"subject": [0, 1], "feature": [0, 0]})
    >>> out = severance(sites, corridors, pairs, min_passage_m=500.0)
    >>> out["severs"].tolist(), out["passage_m"].round(-2).tolist()
    ([True, False], [0.0, 1200.0])
    """
    _check_positive("line_width_m", line_width_m)
    _check_positive("tolerance_m", tolerance_m)
    geoms = _site_geometries(sites, corridors)
    _check_corridors(corridors)
    subj, feat = _check_pairs(pairs, len(geoms), len(corridors))
    classes = corridors["corridor"].to_numpy(dtype=object)
    half = corridors["half_width_m"].to_numpy(dtype=float)
    passage = _min_passage(min_passage_m, classes[feat], half[feat])

    site = geoms[subj]
    bad = shapely.is_missing(site) | shapely.is_empty(site)
    if bad.any():
        raise GeometryError(
            f"{int(bad.sum())} site geometries paired with corridors are null or empty (site "
            f"rows {sorted(set(subj[bad].tolist()))[:10]}); drop or repair them before screening."
        )
    effective = _effective_sites(site, line_width_m)
    invalid = ~shapely.is_valid(effective)
    if invalid.any():
        raise GeometryError(
            f"{int(invalid.sum())} site geometries are invalid (site rows "
            f"{sorted(set(subj[invalid].tolist()))[:10]}: "
            f"{shapely.is_valid_reason(effective[invalid][0])}); repair them before screening."
        )
    polys = np.asarray(corridors.geometry.values, dtype=object)
    lines = np.asarray(corridors["centreline"].values, dtype=object)
    group = corridors["source_layer"].astype(str).to_numpy(dtype=object) + "." + classes.astype(str)
    result = np.empty((len(subj), 3), dtype=object)
    result[:] = (False, math.nan, math.nan)
    todo = np.arange(len(subj))
    copies = np.empty(len(polys), dtype=object)  # prepared copies of the corridors, as needed
    if widths_of == "severing":  # pairs that cannot sever need no widths: skip them
        edges = np.empty(len(polys), dtype=object)
        near = np.unique(feat)
        edges[near] = shapely.boundary(polys[near])
        shapely.prepare(edges[near])
        todo = todo[
            ~_cannot_sever(effective, _prepared(polys, copies, feat), edges[feat], passage)
        ]
    feature = feat
    effective, site, feat, passage = effective[todo], site[todo], feat[todo], passage[todo]
    anchor = np.where(shapely.is_empty(effective), site, effective)
    reach = 2 * half[feat] + passage  # window radius R and outer band D
    outer = shapely.buffer(anchor, 2 * reach, quad_segs=_QUAD_SEGS)

    hit_pair, hit_row = shapely.STRtree(polys).query(outer)  # envelopes, by pair
    same = group[hit_row] == group[feat][hit_pair]
    hit_pair, hit_row = hit_pair[same], hit_row[same]
    meets = shapely.intersects(_prepared(polys, copies, hit_row), outer[hit_pair])
    hit_pair, hit_row = hit_pair[meets], hit_row[meets]
    starts = np.searchsorted(hit_pair, np.arange(len(todo) + 1))
    networks: dict[tuple[int, ...], tuple[shapely.Geometry, np.ndarray]] = {}
    network = np.empty(len(todo), dtype=object)
    line_ends = np.empty(len(todo), dtype=object)
    for i in range(len(todo)):
        rows = hit_row[starts[i] : starts[i + 1]]
        key = tuple(rows.tolist())  # the same corridors near many sites: one network
        if key not in networks:
            networks[key] = _network(lines[rows])
        network[i], line_ends[i] = networks[key]
    region = _regions(polys, hit_row, hit_pair, outer, network, half[feat])
    remainder = _polygonal(shapely.difference(region, effective))
    go = np.ones(len(todo), dtype=bool)
    seeds: list[tuple[shapely.Geometry, shapely.Geometry] | None] = [None] * len(todo)
    if widths_of == "severing":
        # A site that splits no part of the corridor, at either step of the test, cannot
        # disconnect two ends (all ends lie far from the site): decided without the ends.
        before = shapely.buffer(region, -passage / 2, quad_segs=_QUAD_SEGS)
        after = shapely.buffer(remainder, -passage / 2, quad_segs=_QUAD_SEGS)
        go = _splits(before, after) | _splits(region, remainder)
        seeds = list(zip(before, after, strict=True))
    at = np.flatnonzero(go)
    windows = np.empty(len(todo), dtype=object)
    windows[at] = shapely.buffer(anchor[at], reach[at], quad_segs=_QUAD_SEGS)
    for i in at.tolist():
        result[todo[i]] = _assess(
            region[i],
            remainder[i],
            anchor[i],
            windows[i],
            network[i],
            line_ends[i],
            half=float(half[feat[i]]),
            passage=float(passage[i]),
            tolerance=tolerance_m,
            reach=float(reach[i]),
            measure=widths_of == "all",
            eroded_half=seeds[i],
        )
    logger.debug("severance: %d pairs, %d sever", len(subj), int(result[:, 0].sum()))
    return pd.DataFrame(
        {
            "subject": subj,
            "feature": feature,
            "severs": result[:, 0].astype(bool),
            "passage_m": result[:, 1].astype(float),
            "corridor_passage_m": result[:, 2].astype(float),
        },
        index=pairs.index,
    )[list(SEVERANCE_COLUMNS)]


# --------------------------------------------------------------------------------------------
# severance internals


def _cannot_sever(
    sites: np.ndarray, corridors: np.ndarray, edges: np.ndarray, passage: np.ndarray
) -> np.ndarray:
    """Pairs whose site cannot sever its corridor, decided without the window: a site with no
    footprint (a point), or a convex footprint that lies inside the corridor it is paired with
    (``corridors``, prepared) farther than the minimum passage ``w`` (plus :data:`_SNAP_M` and
    1 % of ``w`` for the buffers' polygonal arcs) from its edge (``edges``, prepared).

    Such a site is a convex hole inside one part of the local corridor, at least ``w`` from its
    edge: eroded by ``r = w / 2`` (or not at all) the corridor keeps the hole inside one part,
    which stays connected and touches the same ends (every end is ``w`` or more from the site),
    so :func:`_assess` could find no pair of ends it disconnects.
    """
    out = shapely.is_empty(sites)
    convex = ~out & (shapely.get_type_id(sites) == 3) & (
        shapely.area(shapely.convex_hull(sites)) <= shapely.area(sites) * (1 + 1e-9)
    )
    at = np.flatnonzero(convex)
    at = at[shapely.contains_properly(corridors[at], sites[at])]
    out[at] = ~shapely.dwithin(edges[at], sites[at], passage[at] * 1.01 + _SNAP_M)
    return out


def _prepared(polys: np.ndarray, copies: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``polys[rows]`` as prepared copies, each corridor copied and prepared once (kept in
    ``copies``): fast predicates of one large polygon against many sites, without preparing
    the caller's geometries."""
    new = np.unique(rows)
    new = new[shapely.is_missing(copies[new])]
    if len(new):
        copies[new] = private_copy(polys[new])
        shapely.prepare(copies[new])
    return copies[rows]


def _regions(
    polys: np.ndarray,
    rows: np.ndarray,
    pair: np.ndarray,
    outer: np.ndarray,
    network: np.ndarray,
    half: np.ndarray,
) -> np.ndarray:
    """The local corridor of every pair (step 2), each computed as for that pair alone.

    ``rows`` and ``pair`` (ascending) are the corridors near each pair; their polygons are cut
    to the pair's ``outer`` band and united. Where a centreline of the pair's ``network``
    leaves the result by more than ``h / 2`` (a river crossing the province boundary, not a
    border river's wobble), the corridor is restored around that stretch.
    """
    n = len(outer)
    pieces = shapely.intersection(polys[rows], outer[pair])
    first = np.searchsorted(pair, np.arange(n))
    grid = np.full((n, max(int(np.bincount(pair, minlength=n).max(initial=0)), 1)), None)
    grid[pair, np.arange(len(pair)) - first[pair]] = pieces  # pair i's pieces in row i, in order
    region = _polygonal(shapely.union_all(grid, axis=1))
    parts, of = _parts_with_index(
        shapely.difference(shapely.intersection(network, outer), region), _LINE_TYPES
    )
    if len(parts):
        grown = np.empty(n, dtype=object)
        near = np.unique(of)
        grown[near] = shapely.buffer(region[near], half[near] / 2)
        far = ~shapely.covered_by(parts, grown[of])
        for i in np.unique(of[far]):
            outside = parts[far & (of == i)]
            restored = shapely.intersection(
                shapely.buffer(outside, half[i], quad_segs=_QUAD_SEGS), outer[i]
            )
            region[i] = _polygonal_one(shapely.union_all([region[i], *restored]))
    return region


def _assess(
    region: shapely.Geometry,
    remainder: shapely.Geometry,
    anchor: shapely.Geometry,
    window: shapely.Geometry,
    network: shapely.Geometry,
    line_ends: np.ndarray,
    *,
    half: float,
    passage: float,
    tolerance: float,
    reach: float,
    measure: bool = True,
    eroded_half: tuple[shapely.Geometry, shapely.Geometry] | None = None,
) -> tuple[bool, float, float]:
    """``(severs, passage_m, corridor_passage_m)`` for one site against its local corridor
    ``region`` (from :func:`_regions`; ``remainder`` without the site, ``network`` and
    ``line_ends`` from :func:`_network` of its centrelines); ``eroded_half`` the two eroded by
    ``w / 2`` when already computed."""
    shapes: dict[tuple[bool, float], shapely.Geometry] = {}
    if eroded_half is not None:
        shapes[False, passage / 2], shapes[True, passage / 2] = eroded_half

    def eroded(with_site: bool, r: float) -> shapely.Geometry:
        key = (with_site, r)
        if key not in shapes:
            area = remainder if with_site else region
            shapes[key] = area if r == 0 else shapely.buffer(area, -r, quad_segs=_QUAD_SEGS)
        return shapes[key]

    ends, base = _ends(region, network, line_ends, window, anchor, half=half, passage=passage)
    if len(ends) < 2:
        return False, math.nan, math.nan
    cache: dict[tuple[bool, float], list[int]] = {}

    def labels(with_site: bool, r: float) -> list[int]:
        key = (with_site, r)
        if key not in cache:
            cache[key] = _connect(eroded(with_site, r), ends, base)
        return cache[key]

    severs = _loses(labels(False, passage / 2), labels(True, passage / 2)) or _loses(
        labels(False, 0.0), labels(True, 0.0)
    )
    groups = [g for g in _groups(labels(False, 0.0)) if len(g) > 1]
    if not groups or not (severs or measure):
        return severs, math.nan, math.nan
    cap = 0.95 * reach  # the corridor extends `reach` beyond the window: erosions stay below it

    def keeps(with_site: bool) -> Callable[[float], bool]:
        return lambda r: all(_together(labels(with_site, r), g) for g in groups)

    corridor_lo, corridor_hi = _widest(keeps(False), cap, tolerance / 2)
    # with the site removed the passage is no wider: search below the corridor's own bracket
    width_lo, _ = _widest(keeps(True), min(corridor_hi, cap), tolerance / 2)
    return severs, 2 * min(width_lo, corridor_lo), 2 * corridor_lo


def _ends(
    region: shapely.Geometry,
    network: shapely.Geometry,
    line_ends: np.ndarray,
    window: shapely.Geometry,
    anchor: shapely.Geometry,
    *,
    half: float,
    passage: float,
) -> tuple[np.ndarray, list[int]]:
    """End zones of the local corridor and their base labels (ends joined outside the window)."""
    ring = shapely.boundary(window)
    arc_parts = _parts_of_type(shapely.intersection(region, ring), _LINE_TYPES)
    arcs = (
        _parts_of_type(shapely.line_merge(shapely.multilinestrings(arc_parts)), _LINE_TYPES)
        if len(arc_parts)
        else arc_parts
    )
    crossings = _parts_of_type(shapely.intersection(network, ring), (0, *_LINE_TYPES))
    crossings = shapely.point_on_surface(crossings)  # a stretch along the ring: one point of it
    ends: list[shapely.Geometry] = []
    labels: list[int] = []
    if len(arcs) and len(crossings):
        # every crossing lies on the corridor (restored where the line leaves the clip), so on
        # or beside one arc
        nearest = shapely.distance(crossings[:, None], arcs[None, :]).argmin(axis=1)
        used = np.unique(nearest)
        ends.extend(arcs[used])
        arc_end = {int(a): k for k, a in enumerate(used)}
        parent = list(range(len(used)))
        outside = _parts_of_type(shapely.difference(network, window), _LINE_TYPES)
        if len(outside):
            tree = shapely.STRtree(outside)
            piece_a, piece_b = tree.query(outside, predicate="dwithin", distance=_SNAP_M)
            cross, piece = tree.query(crossings, predicate="dwithin", distance=_SNAP_M)
            # nodes: ends 0..n-1, then outside pieces
            n = len(used)
            parent.extend(range(n, n + len(outside)))
            for a, b in zip(piece_a, piece_b, strict=True):
                _union(parent, n + int(a), n + int(b))
            for c, p in zip(cross, piece, strict=True):
                _union(parent, arc_end[int(nearest[c])], n + int(p))
        labels.extend(_find(parent, k) for k in range(len(used)))
    # line ends (river sources, dead ends) in the window, far enough from the site
    far = shapely.within(line_ends, window) & (
        shapely.distance(line_ends, anchor) >= half + passage
    )
    for point in line_ends[far]:
        ends.append(shapely.buffer(point, half, quad_segs=_QUAD_SEGS))
        labels.append(len(ends) - 1)  # its own position: no arc's label (those are < #arcs)
    return np.asarray(ends, dtype=object), labels


def _network(lines: np.ndarray) -> tuple[shapely.Geometry, np.ndarray]:
    """The centrelines as one noded network (reaches and crossings share vertices), and its
    line ends: points of degree 1."""
    network = shapely.union_all(lines)
    parts = _parts_of_type(network, _LINE_TYPES)
    if not len(parts):
        return network, parts
    points = np.concatenate([shapely.get_point(parts, 0), shapely.get_point(parts, -1)])
    touching = shapely.STRtree(parts).query(points, predicate="dwithin", distance=_SNAP_M)[0]
    return network, points[np.bincount(touching, minlength=len(points)) == 1]


def _connect(eroded: shapely.Geometry, ends: np.ndarray, base: list[int]) -> list[int]:
    """Labels of ``ends`` after joining the ends each part of ``eroded`` touches.

    Labels are union-find roots, the smallest end of each group, so ``base`` (the ends joined
    outside the window) is itself a forest to start from."""
    parent = list(base)
    parts = _parts_of_type(eroded, _POLYGON_TYPES)
    if len(parts):
        for row in shapely.intersects(parts[:, None], ends[None, :]).tolist():
            touched = [k for k, hit in enumerate(row) if hit]
            for k in touched[1:]:
                _union(parent, touched[0], k)
    return [_find(parent, k) for k in range(len(ends))]


def _splits(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Whether each ``after`` (``before`` with the site cut out, both eroded alike) is not one
    part per part of ``before``: a part split in two, or gone.

    ``after`` lies within ``before`` and differs from it only within the erosion distance of
    the site, where no end lies; so when every part of ``before`` holds exactly one part of
    ``after``, each end touches the same parts with and without the site.
    """
    n = len(before)
    parts, of = _parts_with_index(before, _POLYGON_TYPES)
    kept, kept_of = _parts_with_index(after, _POLYGON_TYPES)
    count = np.bincount(of, minlength=n)
    out = count != np.bincount(kept_of, minlength=n)
    # every (part, kept part) of the pairs with as many of each; parts are in pair order
    part = np.flatnonzero(~out[of])
    width = count[of[part]]
    a = np.repeat(part, width)
    first = np.searchsorted(kept_of, of[a])
    b = first + np.arange(len(a)) - np.repeat(np.cumsum(width) - width, width)
    inside = shapely.intersects(parts[a], shapely.point_on_surface(kept[b]))
    wrong = np.bincount(a, inside, len(parts))[a] != 1  # a part holding none or several
    wrong |= np.bincount(b, inside, len(kept))[b] != 1  # a kept part in none or several
    out[of[a[wrong]]] = True
    return out


def _loses(before: list[int], after: list[int]) -> bool:
    """Whether some ends joined in ``before`` are apart in ``after``."""
    return any(not _together(after, g) for g in _groups(before))


def _together(labels: list[int], group: list[int]) -> bool:
    """Whether the ends ``group`` share one label."""
    return len({labels[k] for k in group}) == 1


def _groups(labels: list[int]) -> list[list[int]]:
    """Ends by label (plain lists: a handful of ends, where numpy costs more than it saves)."""
    groups: dict[int, list[int]] = {}
    for k, label in enumerate(labels):
        groups.setdefault(label, []).append(k)
    return list(groups.values())


def _widest(test: Callable[[float], bool], cap: float, tolerance: float) -> tuple[float, float]:
    """Bracket ``(lo, hi)`` of the largest ``r`` in ``[0, cap]`` with ``test(r)`` (monotone).

    ``test(lo)`` holds and ``test(hi)`` fails, ``hi - lo <= tolerance``; ``(0, 0)`` when
    ``test(0)`` fails and ``(cap, inf)`` when ``test(cap)`` holds.
    """
    if not test(0.0):
        return 0.0, 0.0
    if test(cap):
        return cap, math.inf
    lo, hi = 0.0, cap
    while hi - lo > tolerance:
        mid = (lo + hi) / 2
        if test(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def _union(parent: list[int], a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        parent[max(ra, rb)] = min(ra, rb)


def _find(parent: list[int], a: int) -> int:
    while parent[a] != a:
        parent[a] = parent[parent[a]]
        a = parent[a]
    return a


def _effective_sites(geoms: np.ndarray, line_width_m: float) -> np.ndarray:
    """Polygonal footprint of each site: lines buffered, points removed."""
    out = np.empty(len(geoms), dtype=object)
    types = shapely.get_type_id(geoms)
    polygonal = np.isin(types, _POLYGON_TYPES)
    linear = np.isin(types, _LINE_TYPES)
    out[polygonal] = geoms[polygonal]
    out[linear] = shapely.buffer(geoms[linear], line_width_m / 2, quad_segs=_QUAD_SEGS)
    out[np.isin(types, _POINT_TYPES)] = shapely.Polygon()
    for i in np.flatnonzero(types == _COLLECTION):
        parts = shapely.get_parts(geoms[i])
        out[i] = shapely.union_all(_effective_sites(parts, line_width_m))
    return out


# --------------------------------------------------------------------------------------------
# geometry helpers


def _parts_of_type(geom: shapely.Geometry, types: tuple[int, ...]) -> np.ndarray:
    """The non-empty parts of ``geom`` (itself when single) whose type id is in ``types``."""
    many = isinstance(geom, BaseMultipartGeometry)
    parts = np.array([*geom.geoms] if many else [geom], dtype=object)
    return parts[_type_mask(types)[shapely.get_type_id(parts)] & ~shapely.is_empty(parts)]


def _parts_with_index(geoms: np.ndarray, types: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The non-empty parts of ``geoms`` whose type id is in ``types``, and the position of the
    geometry each comes from (ascending)."""
    parts, of = shapely.get_parts(geoms, return_index=True)
    keep = _type_mask(types)[shapely.get_type_id(parts)] & ~shapely.is_empty(parts)
    return parts[keep], of[keep]


@functools.cache
def _type_mask(types: tuple[int, ...]) -> np.ndarray:
    """Lookup table: type id (0..7) → whether it is in ``types``."""
    mask = np.zeros(8, dtype=bool)
    mask[list(types)] = True
    return mask


def _polygonal_one(geom: shapely.Geometry) -> shapely.Geometry:
    if shapely.get_type_id(geom) in _POLYGON_TYPES:
        return geom
    return shapely.multipolygons(_parts_of_type(geom, (3,)))


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts (clipping can leave edge-contact lines and points)."""
    out = geoms.copy()
    odd = ~np.isin(shapely.get_type_id(geoms), _POLYGON_TYPES)
    for i in np.flatnonzero(odd):
        out[i] = _polygonal_one(geoms[i])
    return out


def _fmt_bounds(geom: shapely.Geometry) -> str:
    return "(" + ", ".join(f"{v:.0f}" for v in shapely.bounds(geom)) + ")"


# --------------------------------------------------------------------------------------------
# validation


def _check_half_widths(half_widths_m: Mapping[str, float]) -> dict[str, float]:
    valid = [f"{layer}.{cls}" for layer in CORRIDOR_LAYERS for cls in CORRIDOR_CLASSES]
    out: dict[str, float] = {}
    for key, value in half_widths_m.items():
        if key not in valid:
            raise RuleError(
                f"unknown corridor half-width key {key!r}; keys are '<layer>.<class>', one of "
                f"{', '.join(valid)}."
            )
        out[key] = _check_positive(f"half_widths_m[{key!r}]", value)
    return out


def _check_positive(what: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise RuleError(f"{what} must be a positive number of metres, got {value!r}.")
    return number


def _check_lines(gdf: object, layer: str, crs: object) -> None:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise TypeError(f"lines[{layer!r}] must be a GeoDataFrame, got {type(gdf).__name__}")
    if gdf.crs is None or not is_metric(CRS.from_user_input(gdf.crs)) or gdf.crs != crs:
        got = "no CRS" if gdf.crs is None else gdf.crs.name
        raise CRSError(
            f"{layer}: corridors are built in one projected CRS in metres (the working CRS), "
            f"shared by every line layer, but the layer has {got}. Load the lines through "
            "redline.Planning, which reprojects every layer into its working CRS."
        )
    missing = [f for f in _LINE_FIELDS if f not in gdf.columns]
    if missing:
        raise LayerError(
            f"{layer}: missing field(s) {', '.join(missing)} "
            f"(has {', '.join(map(str, gdf.columns))}); load the layer through redline's "
            "planning reader to map it to the canonical schema."
        )
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    null = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    not_line = ~null & ~np.isin(shapely.get_type_id(geoms), (1, 5))
    for mask, what in ((null, "null or empty"), (not_line, "not lines")):
        if mask.any():
            ids = gdf["feature_id"].to_numpy()[mask]
            raise GeometryError(
                f"{layer}: {int(mask.sum())} geometries are {what} (feature_id "
                f"{', '.join(map(str, ids[:10]))}); a corridor needs a line. Repair or drop them."
            )
    classes = gdf["corridor"]
    bad = ~classes.isin(CORRIDOR_CLASSES)
    if bad.any():
        pairs = ", ".join(
            f"{i}={v!r}"
            for i, v in zip(gdf["feature_id"][bad][:10], classes[bad][:10], strict=True)
        )
        raise LayerError(
            f"{layer}: {int(bad.sum())} features have an unknown corridor class ({pairs}); "
            f"allowed: {', '.join(CORRIDOR_CLASSES)}. Map the values in the manifest."
        )


def _check_clip(clip: object) -> shapely.Geometry:
    if not isinstance(clip, shapely.Geometry):
        raise TypeError(f"clip must be a shapely geometry, got {type(clip).__name__}")
    if clip.is_empty or shapely.get_type_id(clip) not in _POLYGON_TYPES:
        raise GeometryError(
            f"clip must be a non-empty polygon (the province boundary), got {clip.geom_type}"
            f"{' (empty)' if clip.is_empty else ''}."
        )
    if not clip.is_valid:
        raise GeometryError(
            f"the clip polygon is invalid ({shapely.is_valid_reason(clip)}); repair it first "
            "(shapely.make_valid(clip, method='structure'))."
        )
    return clip


def _site_geometries(
    sites: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray, corridors: gpd.GeoDataFrame
) -> np.ndarray:
    if isinstance(sites, np.ndarray):
        if sites.ndim != 1 or not all(g is None or isinstance(g, shapely.Geometry) for g in sites):
            raise TypeError("sites given as an array must be a 1-d array of shapely geometries")
        return sites
    if not isinstance(sites, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(
            "sites must be a GeoDataFrame, a GeoSeries or an array of shapely geometries, got "
            f"{type(sites).__name__}"
        )
    if sites.crs is None or sites.crs != corridors.crs:
        got = "no CRS" if sites.crs is None else sites.crs.name
        want = "no CRS" if corridors.crs is None else corridors.crs.name
        raise CRSError(
            f"sites have {got} but the corridors have {want}; reproject the sites with "
            "redline.crs.to_working first."
        )
    return np.asarray(sites.geometry.values, dtype=object)


def _check_corridors(corridors: object) -> None:
    if not isinstance(corridors, gpd.GeoDataFrame):
        raise TypeError(f"corridors must be a GeoDataFrame, got {type(corridors).__name__}")
    missing = [c for c in CORRIDOR_COLUMNS if c not in corridors.columns]
    if missing:
        raise LayerError(
            f"corridors lack column(s) {', '.join(missing)}; build them with "
            "redline.corridors.build_corridors."
        )


def _check_pairs(pairs: object, n_sites: int, n_corridors: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(pairs, pd.DataFrame):
        raise TypeError(f"pairs must be a DataFrame, got {type(pairs).__name__}")
    missing = [c for c in ("subject", "feature") if c not in pairs.columns]
    if missing:
        raise LayerError(
            f"pairs lack column(s) {', '.join(missing)} (has {', '.join(map(str, pairs.columns))}"
            "); pass the overlay engine's pairs (row positions, not index labels)."
        )
    out = []
    for column, n, what in (("subject", n_sites, "sites"), ("feature", n_corridors, "corridors")):
        values = pairs[column].to_numpy()
        if not np.issubdtype(values.dtype, np.integer):
            raise LayerError(
                f"pairs[{column!r}] must hold integer row positions, got {values.dtype}."
            )
        bad = (values < 0) | (values >= n)
        if bad.any():
            raise LayerError(
                f"pairs[{column!r}] refers to row position(s) {values[bad][:10].tolist()} but "
                f"{what} has {n} rows; pairs must come from the same {what}."
            )
        out.append(values.astype(np.int64))
    return out[0], out[1]


def _min_passage(
    min_passage_m: Mapping[str, float] | float, classes: np.ndarray, half: np.ndarray
) -> np.ndarray:
    """Minimum passage width per pair, checked against the corridor widths."""
    if isinstance(min_passage_m, Mapping):
        unknown = [k for k in min_passage_m if k not in CORRIDOR_CLASSES]
        if unknown:
            raise RuleError(
                f"unknown corridor class(es) in min_passage_m: {', '.join(map(repr, unknown))}; "
                f"classes are {', '.join(CORRIDOR_CLASSES)}."
            )
        widths = {k: _check_positive(f"min_passage_m[{k!r}]", v) for k, v in min_passage_m.items()}
        missing = sorted(set(classes.tolist()) - set(widths))
        if missing:
            raise RuleError(
                f"no minimum passage width for corridor class(es) "
                f"{', '.join(map(repr, missing))}; given: {', '.join(sorted(widths)) or 'none'}. "
                "Add them to min_passage_m."
            )
        passage = np.asarray([widths[c] for c in classes], dtype=float)
    else:
        passage = np.full(len(classes), _check_positive("min_passage_m", min_passage_m))
    too_wide = passage >= 2 * half
    if too_wide.any():
        i = int(np.flatnonzero(too_wide)[0])
        raise RuleError(
            f"the minimum passage for {classes[i]} corridors ({passage[i]:g} m) is not narrower "
            f"than the corridor itself ({2 * half[i]:g} m = 2 × half-width): no site could leave "
            "it. Lower min_passage_m or widen the corridor."
        )
    return passage
