"""The overlay engine: exact overlap areas, shares, contacts and distances between subject
geometries (parcels, sites) and one planning layer, vectorised with shapely 2.

A layer is prepared once (:func:`prepare_layer`): its polygons or lines are split into parts of at
most ``max_vertices`` vertices by recursive halving of their bounding boxes (the parts are
disjoint and cover the feature exactly, so per-part measures add up to the feature's), each part
remembers its parent row. The parts are shared by every thread and process that uses the
layer, so they are never prepared themselves: each chunk prepares its own copies of the parts
it needs (:func:`redline.geometry.private_copy`), since GEOS builds a prepared geometry's
indexes lazily and two threads doing so at once crash the process.

:func:`overlaps` then, chunk by chunk (subjects sorted along a Hilbert curve), builds an STRtree
on the *subjects*, queries it in bulk with the layer's parts (bounding boxes), takes the overlap
of a subject lying properly inside a part to be the subject itself (prepared
``contains_properly``, no intersection), computes the exact intersection only for the remaining
pairs that intersect, and adds the part pairs back up to (subject, feature) pairs. Chunks run on
threads: shapely releases the GIL.

Measures are taken in the dimension of the pair (the lower of the subject's and the feature's):
area for polygon × polygon, length when a line is involved, a count of 1 for points. A pair
that intersects with zero measure (a shared edge or corner) is a *contact*: reported, never
counted as overlap. So is a *sliver*, the trace coincident edges leave once reprojected (a
straight edge in one CRS is slightly curved in another): an intersection of polygons nowhere
:data:`SLIVER_WIDTH_M` (5 cm) wide — its largest inscribed disc is narrower; eroded by half that,
nothing is left — or whose measure is at most ``contact_m2``; across a geographic and a projected
CRS, nowhere as wide as the bow of the pair's longest edge (``sliver_bow``, at most
:data:`SLIVER_WIDTH_MAX_M`). A real overlap of a 1 m × 1 m corner holds a disc 1 m across.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from redline.errors import ArgumentError, GeometryError
from redline.geometry import private_copy
from redline.run.executors import check_jobs

__all__ = [
    "DISTANCE_COLUMNS",
    "OVERLAP_COLUMNS",
    "SELF_OVERLAP_COLUMNS",
    "SLIVER_WIDTH_M",
    "SLIVER_WIDTH_MAX_M",
    "IndexedSubjects",
    "PreparedLayer",
    "index_subjects",
    "near_pairs",
    "nearest_within",
    "overlap_pairs",
    "overlaps",
    "overlay_geometries",
    "pair_geometries",
    "prepare_layer",
    "self_overlaps",
]

log = logging.getLogger(__name__)

#: Columns of :func:`overlaps`: subject position, feature row position, overlap area (m², pairs
#: of polygons), overlap length (m, pairs involving a line), share of the subject's own measure
#: lying in the feature, and whether the pair only touches.
OVERLAP_COLUMNS: Final = (
    "subject",
    "feature",
    "overlap_m2",
    "overlap_m",
    "overlap_share",
    "contact",
)
#: Columns of :func:`nearest_within`.
DISTANCE_COLUMNS: Final = ("subject", "feature", "distance_m")
#: Columns of :func:`self_overlaps`.
SELF_OVERLAP_COLUMNS: Final = ("feature_a", "feature_b", "overlap_m2")

#: Pairs as column arrays (columns as in the frames above), before they become a frame.
_Pairs = dict[str, np.ndarray]
#: Column types of the pair columns that are not float64.
_PAIR_DTYPES: Final = {
    "subject": np.int64,
    "feature": np.int64,
    "feature_a": np.int64,
    "feature_b": np.int64,
    "contact": np.bool_,
    "geometry": object,
}

#: Width (metres) an intersection of two polygons must reach somewhere to be an overlap: one
#: whose largest inscribed disc is narrower is a sliver left by coincident edges, a contact
#: (proximity at 0 m). 5 cm is the precision of a first-class cadastral boundary point (界址点,
#: ±5 cm) and far below that of the one map's layers (compiled at 1:10,000 and coarser), so no
#: data can tell such an overlap from a shared edge; it is above what reprojection leaves along
#: shared edges drawn in another CRS (measured on the edges of tests/test_one_maps.py, 0.7–1.5 km
#: long, of layers in EPSG:4551: sites snapped to them in longitude/latitude leave slivers up to
#: 2.7 cm wide and 24 m² in area, in the neighbouring Gauss-Krüger zone up to 1 mm and 0.9 m²;
#: the bow grows with the square of the edge's length, about 5 cm at 2 km). A 1 m × 1 m corner
#: overlap holds a disc 1 m across.
SLIVER_WIDTH_M: Final = 0.05
#: The widest a sliver may be where an edge shared across a geographic and a projected CRS
#: bows (see ``sliver_bow`` in :func:`overlaps`): half the 1 m × 1 m corner that is always an
#: overlap. The bow of a straight edge reaches it at about 4.8 km at 46°N.
SLIVER_WIDTH_MAX_M: Final = 0.5

_MAX_SPLIT_DEPTH: Final = 40
#: Smallest chunk :func:`_chunks` cuts to feed several threads.
_MIN_THREAD_CHUNK: Final = 10_000


@dataclass(frozen=True, eq=False)
class PreparedLayer:
    """A planning layer made ready for the engine (built by :func:`prepare_layer`).

    Attributes
    ----------
    geometries
        The layer's geometries, one per row of the GeoDataFrame it was built from.
    parts
        Single-part pieces of at most ``max_vertices`` vertices (unless a piece could not be
        split further), disjoint within one feature; not prepared (shared by threads: each
        prepares its own copies).
    parent
        Row position in ``geometries`` of each part.
    part_bounds
        ``(n_parts, 4)`` bounds of ``parts``.
    tree
        STRtree over ``parts``.
    dimension
        2 for a polygon layer, 1 for a line layer.
    crs
        The layer's CRS (the working CRS).
    feature_ids
        The ``feature_id`` of each row (row labels when the column is absent), for messages.
    max_vertices
        The subdivision limit used.

    Examples
    --------
    >>> import geopandas as gpd
    >>> disc = shapely.Point(0, 0).buffer(1000, quad_segs=256)
    >>> square = shapely.box(5000, 0, 6000, 1000)
    >>> layer = prepare_layer(gpd.GeoDataFrame({"feature_id": ["disc", "square"]},
    ...                                        geometry=[disc, square], crs=3857), max_vertices=64)
    >>> layer
    PreparedLayer(2 polygon features, ... parts of ≤ 64 vertices)
    >>> len(layer), layer.dimension, layer.feature_ids.tolist()
    (2, 2, ['disc', 'square'])
    >>> int((layer.parent == 1).sum())  # parts of the square: it needs no subdividing
    1
    """

    geometries: np.ndarray
    parts: np.ndarray
    parent: np.ndarray
    part_bounds: np.ndarray
    tree: shapely.STRtree
    dimension: int
    crs: CRS | None
    feature_ids: np.ndarray
    max_vertices: int

    def __len__(self) -> int:
        return len(self.geometries)

    def __repr__(self) -> str:
        kind = "polygon" if self.dimension == 2 else "line"
        return (
            f"PreparedLayer({len(self.geometries)} {kind} features, {len(self.parts)} parts "
            f"of ≤ {self.max_vertices} vertices)"
        )


@dataclass(eq=False)
class _Chunk:
    """One chunk of an :class:`IndexedSubjects`: the subjects' positions, geometries, joint
    bounds and an STRtree over them (built on first use, by the thread that runs the chunk)."""

    positions: np.ndarray
    geometries: np.ndarray
    bounds: np.ndarray
    _tree: shapely.STRtree | None = None

    @property
    def tree(self) -> shapely.STRtree:
        if self._tree is None:  # a chunk runs on one thread at a time
            self._tree = shapely.STRtree(self.geometries)
        return self._tree


@dataclass(frozen=True, eq=False)
class IndexedSubjects:
    """Subject geometries cut into chunks and indexed once (built by :func:`index_subjects`),
    for queries against many layers: :func:`overlaps` and :func:`nearest_within` take it in
    place of the geometries, and then neither sort, cut nor index the subjects again.

    Attributes
    ----------
    geometries
        All the subjects, by position.
    chunks
        The present (not null, not empty) subjects, Hilbert-sorted, in chunks (positions,
        geometries, joint bounds and an STRtree each).

    Examples
    --------
    >>> subjects = index_subjects([shapely.box(0, 0, 1, 1), None, shapely.Point(5, 5)])
    >>> len(subjects), [chunk.positions.tolist() for chunk in subjects.chunks]
    (3, [[0, 2]])
    """

    geometries: np.ndarray
    chunks: tuple[_Chunk, ...]

    def __len__(self) -> int:
        return len(self.geometries)


def index_subjects(
    subjects: gpd.GeoSeries | np.ndarray, *, n_jobs: int | None = None, chunk_size: int = 50_000
) -> IndexedSubjects:
    """Cut subjects into chunks and index each once, for :func:`overlaps` and
    :func:`nearest_within` against several layers.

    Parameters
    ----------
    subjects
        Geometries (null and empty ones match nothing).
    n_jobs
        The threads the chunks will feed (at least two chunks a thread, see :func:`overlaps`).
    chunk_size
        Subjects per chunk at most.

    Returns
    -------
    IndexedSubjects

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> subjects = index_subjects([shapely.box(5, 5, 15, 15), None])
    >>> len(subjects), len(subjects.chunks), subjects.chunks[0].positions.tolist()
    (2, 1, [0])
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)]))
    >>> overlaps(subjects, layer)["overlap_m2"].tolist()
    [25.0]
    """
    geoms = _as_geometry_array(subjects)
    chunks = []
    for positions in _chunks(geoms, chunk_size, n_jobs=n_jobs):
        chunk = geoms[positions]
        chunks.append(_Chunk(positions, chunk, shapely.total_bounds(chunk)))
    return IndexedSubjects(geoms, tuple(chunks))


def prepare_layer(gdf: gpd.GeoDataFrame, *, max_vertices: int = 256) -> PreparedLayer:
    """Subdivide, index and prepare a planning layer once.

    Parameters
    ----------
    gdf
        A polygon or line layer in the working CRS (not modified). Null or empty geometries
        are refused: a planning layer with gaps would pass sites it should stop.
    max_vertices
        Largest number of vertices of one part (at least 8).

    Returns
    -------
    PreparedLayer

    Raises
    ------
    GeometryError
        Null or empty geometries, or a layer mixing polygons with lines or points.
    ArgumentError
        ``max_vertices`` below 8.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> ring = shapely.Point(0, 0).buffer(1000, quad_segs=256)
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[ring], crs=3857), max_vertices=64)
    >>> len(layer.parts) > 1, bool(abs(shapely.area(layer.parts).sum() - ring.area) < 1e-6)
    (True, True)
    """
    if max_vertices < 8:
        raise ArgumentError(f"max_vertices must be at least 8; received {max_vertices}")
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ids = gdf["feature_id"].to_numpy() if "feature_id" in gdf.columns else gdf.index.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        bad = ids[missing]
        raise GeometryError(
            f"layer has {len(bad)} null or empty geometries (features {list(bad[:10])}); "
            "remove or fix them before preparing the layer"
        )
    dims = shapely.get_dimensions(geoms)
    if len(geoms) and (dims.min() != dims.max() or dims.min() == 0):
        found = sorted({shapely.get_type_id(g) for g in geoms})
        names = [shapely.GeometryType(t).name for t in found]
        raise GeometryError(
            f"layer mixes geometry types or holds points ({names}); a planning layer holds "
            "only polygons or only lines"
        )
    dimension = int(dims.max()) if len(geoms) else 2
    parts, parent = shapely.get_parts(geoms, return_index=True)
    parts, parent = _subdivide(parts, parent, max_vertices=max_vertices, dimension=dimension)
    tree = shapely.STRtree(parts)
    return PreparedLayer(
        geometries=geoms,
        parts=parts,
        parent=parent.astype(np.int64),
        part_bounds=shapely.bounds(parts),
        tree=tree,
        dimension=dimension,
        crs=gdf.crs,
        feature_ids=ids,
        max_vertices=max_vertices,
    )


def _subdivide(
    parts: np.ndarray, parent: np.ndarray, *, max_vertices: int, dimension: int
) -> tuple[np.ndarray, np.ndarray]:
    """Halve every part above ``max_vertices`` across the longer side of its bounding box,
    level by level, until all parts are small enough."""
    done_parts, done_parent = [], []
    for _ in range(_MAX_SPLIT_DEPTH):
        big = shapely.get_num_coordinates(parts) > max_vertices
        done_parts.append(parts[~big])
        done_parent.append(parent[~big])
        if not big.any():
            break
        parts, parent = parts[big], parent[big]
        xmin, ymin, xmax, ymax = shapely.bounds(parts).T
        wide = (xmax - xmin) >= (ymax - ymin)
        xmid, ymid = (xmin + xmax) / 2, (ymin + ymax) / 2
        # The halves are closed boxes sharing the cut line; pad the outer sides so the cut is
        # the only new edge.
        pad = np.maximum(xmax - xmin, ymax - ymin)
        low = shapely.box(
            xmin - pad,
            ymin - pad,
            np.where(wide, xmid, xmax + pad),
            np.where(wide, ymax + pad, ymid),
        )
        high = shapely.box(
            np.where(wide, xmid, xmin - pad),
            np.where(wide, ymin - pad, ymid),
            xmax + pad,
            ymax + pad,
        )
        halves = shapely.intersection(np.concatenate([parts, parts]), np.concatenate([low, high]))
        pieces, index = shapely.get_parts(halves, return_index=True)
        keep = (shapely.get_dimensions(pieces) == dimension) & ~shapely.is_empty(pieces)
        parts, parent = pieces[keep], np.concatenate([parent, parent])[index[keep]]
    else:
        done_parts.append(parts)
        done_parent.append(parent)
    return np.concatenate(done_parts), np.concatenate(done_parent)


# -- overlaps -----------------------------------------------------------------------------------


def overlaps(
    subjects: gpd.GeoSeries | np.ndarray | IndexedSubjects,
    layer: PreparedLayer,
    *,
    n_jobs: int | None = None,
    chunk_size: int = 50_000,
    contact_m2: float = 1e-6,
    sliver_width_m: float = SLIVER_WIDTH_M,
    sliver_bow: float = 0.0,
    progress: bool = False,
) -> pd.DataFrame:
    """Every (subject, feature) pair that intersects, with exact overlap measures.

    Parameters
    ----------
    subjects
        Geometries in the layer's CRS, or those indexed by :func:`index_subjects` (for several
        layers: then its chunks are used). Null and empty geometries match nothing (the caller
        reports them).
    layer
        The prepared layer.
    n_jobs
        Threads over chunks; default every available core
        (:func:`redline.run.executors.available_cores`). Results do not depend on it.
    chunk_size
        Subjects per chunk (bounds memory), where ``subjects`` are not indexed yet.
    contact_m2
        An overlap of at most this many m² (or m for lengths) is floating-point noise along
        coincident edges: the pair is a contact, its overlap 0.
    sliver_width_m
        An intersection of polygons nowhere this many metres wide (its largest inscribed disc is
        narrower) is a sliver: the pair is a contact, its overlap 0.
    sliver_bow
        How far reprojection can bow a shared edge apart per square metre of its length (1/m,
        :func:`redline.crs.reprojection_bow`): an intersection is also a sliver when nowhere
        ``sliver_bow · L²`` wide, ``L`` the longest edge of the subject or of the feature where
        it meets the subject's bounding box (at most :data:`SLIVER_WIDTH_MAX_M`).
    progress
        Show a ``tqdm`` progress bar over chunks.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OVERLAP_COLUMNS`, sorted by subject then feature: ``subject`` (position
        in ``subjects``), ``feature`` (row position in the layer), ``overlap_m2`` (area of the
        intersection; 0 unless both are polygons), ``overlap_m`` (length of the intersection
        when the subject or the layer is linear, else 0), ``overlap_share`` (share of the
        subject's own area, length, or 1 for a point, lying in the feature — closed: a line
        along a polygon's edge lies in it; 0 when the feature has a lower dimension than the
        subject, e.g. a river crossing a parcel, whose length is in ``overlap_m``) and
        ``contact`` (the pair intersects with zero measure, or only in a sliver; then both
        overlaps are 0).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)]))
    >>> sliver = shapely.box(9.98, 0, 20, 10)  # 2 cm across the edge: 0.2 m², 2 cm wide
    >>> overlaps([shapely.box(5, 5, 15, 15), shapely.box(10, 0, 20, 10), sliver], layer)
       subject  feature  overlap_m2  overlap_m  overlap_share  contact
    0        0        0        25.0        0.0           0.25    False
    1        1        0         0.0        0.0           0.00     True
    2        2        0         0.0        0.0           0.00     True
    """
    pairs = overlap_pairs(
        subjects,
        layer,
        n_jobs=n_jobs,
        chunk_size=chunk_size,
        contact_m2=contact_m2,
        sliver_width_m=sliver_width_m,
        sliver_bow=sliver_bow,
        progress=progress,
    )
    return pd.DataFrame(pairs, copy=False)


def overlap_pairs(
    subjects: gpd.GeoSeries | np.ndarray | IndexedSubjects,
    layer: PreparedLayer,
    *,
    n_jobs: int | None = None,
    chunk_size: int = 50_000,
    contact_m2: float = 1e-6,
    sliver_width_m: float = SLIVER_WIDTH_M,
    sliver_bow: float = 0.0,
    progress: bool = False,
    geometries: bool = False,
) -> _Pairs:
    """:func:`overlaps` as column arrays (no frame: for callers that only index them).

    Parameters
    ----------
    subjects, layer, n_jobs, chunk_size, contact_m2, sliver_width_m, sliver_bow, progress
        As for :func:`overlaps`.
    geometries
        Add a ``geometry`` column: the overlap of each pair the engine has already found whole
        (a subject inside one part of the feature: the subject; a subject met by one part
        only: its intersection with that part), ``None`` for the others (the same geometries
        as :func:`pair_geometries`, which the others need).

    Returns
    -------
    dict of str to numpy.ndarray
        The columns of :data:`OVERLAP_COLUMNS` (and ``geometry``), sorted by subject then
        feature.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)]))
    >>> pairs = overlap_pairs([shapely.box(5, 5, 15, 15)], layer, geometries=True)
    >>> pairs["subject"].tolist(), pairs["overlap_m2"].tolist(), pairs["geometry"][0].area
    ([0], [25.0], 25.0)
    """
    index = _indexed(subjects, n_jobs=n_jobs, chunk_size=chunk_size)

    def run(chunk: _Chunk) -> _Pairs:
        return _overlap_chunk(
            chunk,
            layer,
            contact=contact_m2,
            sliver=sliver_width_m,
            bow=sliver_bow,
            geometries=geometries,
        )

    found = _run_chunks(run, index.chunks, n_jobs=n_jobs, progress=progress, desc="overlay")
    return _sorted_pairs(found, (*OVERLAP_COLUMNS, "geometry") if geometries else OVERLAP_COLUMNS)


def _overlap_chunk(
    chunk: _Chunk,
    layer: PreparedLayer,
    *,
    contact: float,
    sliver: float,
    bow: float,
    geometries: bool = False,
) -> _Pairs:
    """Overlaps of one chunk of subjects."""
    subj, positions = chunk.geometries, chunk.positions
    near, local = _local_parts(layer, chunk.bounds)
    if len(near) == 0:
        return _no_pairs((*OVERLAP_COLUMNS, "geometry") if geometries else OVERLAP_COLUMNS)
    shapely.prepare(local)
    part_local, s = chunk.tree.query(local)
    p = near[part_local]
    parts, cand = local[part_local], subj[s]
    s_dim = shapely.get_dimensions(cand)
    pair_dim = np.minimum(s_dim, layer.dimension)
    own = _measure(cand, s_dim)
    measure = np.zeros(len(p))
    inside = (
        shapely.contains_properly(parts, cand)
        if layer.dimension == 2
        else np.zeros(len(p), dtype=bool)
    )
    measure[inside] = own[inside]
    shape = np.full(len(p), None, dtype=object)  # the overlap of a part pair, where known
    shape[inside] = cand[inside]
    rest = np.flatnonzero(~inside)
    hit = shapely.intersects(parts[rest], cand[rest])
    rest = rest[hit]
    n_features = max(len(layer.geometries), 1)
    lead, covered = _inside_across_cuts(rest, s, p, cand, layer, n_features=n_features)
    measure[lead] = own[lead]  # the feature's other part pairs of that subject add 0
    rest = rest[~np.isin(rest, covered, assume_unique=True)]
    points = rest[pair_dim[rest] == 0]
    measure[points] = 1.0
    exact = rest[pair_dim[rest] > 0]
    # perimeters of the polygon pieces measured exactly (a subject inside a part is no sliver:
    # its pairs add area, no perimeter)
    perimeter = np.zeros(len(p))
    if len(exact):
        piece = shapely.intersection(cand[exact], parts[exact])
        measure[exact] = _measure(piece, pair_dim[exact])
        shape[exact] = piece
        areal = pair_dim[exact] == 2
        perimeter[exact[areal]] = shapely.length(piece[areal])
    keep = inside.copy()
    keep[covered] = True
    keep[rest] = True
    p, s, measure, perimeter, pair_dim, s_dim, own, shape = (
        a[keep] for a in (p, s, measure, perimeter, pair_dim, s_dim, own, shape)
    )
    # Part pairs add up to (subject, feature) pairs: the parts of a feature are disjoint.
    key = s.astype(np.int64) * n_features + layer.parent[p]
    order = np.lexsort((p, key))
    key, measure, perimeter = key[order], measure[order], perimeter[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, np.intp)
    total = np.add.reduceat(measure, first) if len(first) else measure
    rim = np.add.reduceat(perimeter, first) if len(first) else perimeter
    s_first, dim_first = s[order][first], pair_dim[order][first]
    s_dim_first, own_first = s_dim[order][first], own[order][first]
    touches = (dim_first > 0) & (total <= contact)
    # A piece whose mean width 2·area/perimeter reaches the widest a sliver may be holds a disc
    # that wide (area ≤ perimeter × inradius), so only pairs below it can be slivers: those are
    # decided on their whole intersection (no cut lines between parts).
    widest = max(sliver, SLIVER_WIDTH_MAX_M) if bow > 0 else sliver
    thin = np.flatnonzero((dim_first == 2) & ~touches & (2.0 * total < widest * rim))
    if len(thin):
        touches[thin] = _slivers(subj[s_first[thin]], layer.geometries,
                                 key[first][thin] % n_features, width=sliver, bow=bow)
    total[touches] = 0.0
    share = np.zeros(len(first))
    same = (dim_first == s_dim_first) & (own_first > 0)
    share[same] = np.minimum(total[same] / own_first[same], 1.0)
    out = {
        "subject": positions[s_first].astype(np.int64),
        "feature": (key[first] % n_features).astype(np.int64),
        "overlap_m2": np.where(dim_first == 2, total, 0.0),
        "overlap_m": np.where(dim_first == 1, total, 0.0),
        "overlap_share": share,
        "contact": touches,
    }
    if geometries:  # whole where one part meets the subject; the others are left to callers
        one_part = np.diff(np.r_[first, len(key)]) == 1
        out["geometry"] = np.where(one_part, shape[order][first], None)
    return out


def _slivers(subjects: np.ndarray, features: np.ndarray, feature: np.ndarray, *, width: float,
             bow: float) -> np.ndarray:
    """Whether the intersection of each subject with its feature (``features[feature]``) is a
    sliver: no point of it
    lies half the sliver width inside it (eroded by that much, nothing is left; its largest
    inscribed disc is narrower). The width is ``width``, or with a ``bow`` what reprojection
    can leave along the longest edge of the pair (at most :data:`SLIVER_WIDTH_MAX_M`).
    Monotone for a given width: a larger subject never turns an overlap into a sliver unless
    it has a longer edge. GEOS clips each feature to the subject's envelope first, so large
    features stay cheap; the features are not prepared (shared by threads, see
    :class:`PreparedLayer`)."""
    common = shapely.intersection(subjects, features[feature])
    widths = np.full(len(common), width)
    if bow > 0:
        longest = np.maximum(_longest_edges(subjects), _edges_near(features, feature, subjects))
        widths = np.clip(bow * np.square(longest), width, max(width, SLIVER_WIDTH_MAX_M))
    return shapely.is_empty(shapely.buffer(common, -widths / 2))


def _segments(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start and end ``(n, 2)`` of every straight segment of the geometries' rings (polygons)
    or parts (lines), and the position of the geometry each belongs to."""
    parts, owner = shapely.get_parts(geoms, return_index=True)
    if len(parts) and shapely.get_dimensions(parts).max() == 2:
        parts, ring = shapely.get_rings(parts, return_index=True)
        owner = owner[ring]
    xy, line = shapely.get_coordinates(parts, return_index=True)
    same = np.flatnonzero(line[1:] == line[:-1])
    return xy[same], xy[same + 1], owner[line[same]]


def _longest_edges(geoms: np.ndarray) -> np.ndarray:
    """The length of the longest straight segment of each geometry (see :func:`_segments`)."""
    start, end, owner = _segments(geoms)
    longest = np.zeros(len(geoms))
    np.maximum.at(longest, owner, np.hypot(*(end - start).T))
    return longest


def _edges_near(features: np.ndarray, feature: np.ndarray, subjects: np.ndarray) -> np.ndarray:
    """For each subject, the length of the longest segment of its feature
    (``features[feature]``) that reaches the subject's bounding box: the edges an intersection
    with the subject can run along (a long edge elsewhere on the feature bows nothing here)."""
    longest = np.zeros(len(subjects))
    boxes = shapely.bounds(subjects)
    for position in np.unique(feature):
        start, end, _ = _segments(features[position : position + 1])
        low, high = np.minimum(start, end), np.maximum(start, end)
        length = np.hypot(*(end - start).T)
        for i in np.flatnonzero(feature == position):
            xmin, ymin, xmax, ymax = boxes[i]
            near = ((high[:, 0] >= xmin) & (low[:, 0] <= xmax)
                    & (high[:, 1] >= ymin) & (low[:, 1] <= ymax))
            longest[i] = length[near].max(initial=0.0)
    return longest


def _inside_across_cuts(
    rest: np.ndarray,
    s: np.ndarray,
    p: np.ndarray,
    cand: np.ndarray,
    layer: PreparedLayer,
    *,
    n_features: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Part pairs (positions among the candidates, drawn from ``rest``) of subjects that lie
    properly inside a feature while crossing the cut between two of its parts: no intersection
    is needed, the overlap is the subject itself.

    Returns
    -------
    lead : numpy.ndarray
        One pair per such (subject, feature): it carries the subject's own measure.
    covered : numpy.ndarray
        Every part pair of those (subject, feature) pairs (the others add 0).
    """
    none = np.empty(0, dtype=np.intp)
    if layer.dimension != 2 or len(rest) < 2:
        return none, none
    key = s[rest].astype(np.int64) * n_features + layer.parent[p[rest]]
    unique, first, counts = np.unique(key, return_index=True, return_counts=True)
    multi = counts > 1
    if not multi.any():
        return none, none
    features = unique[multi] % n_features
    wanted, where = np.unique(features, return_inverse=True)
    # This thread's own prepared copies of the whole features (see PreparedLayer.parts).
    whole = private_copy(layer.geometries[wanted])
    shapely.prepare(whole)
    lead = rest[first[multi]]
    inside = shapely.contains_properly(whole[where], cand[lead])
    return lead[inside], rest[np.isin(key, unique[multi][inside])]


def _measure(geoms: np.ndarray, dim: np.ndarray) -> np.ndarray:
    """Area, length or count (1) of each geometry, by the dimension asked for."""
    out = np.ones(len(geoms))
    area, length = dim == 2, dim == 1
    out[area] = shapely.area(geoms[area])
    out[length] = _linear_length(geoms[length])
    return out


def _linear_length(geoms: np.ndarray) -> np.ndarray:
    """Length of the linear components only (a polygon's perimeter is not a length inside)."""
    parts, index = shapely.get_parts(geoms, return_index=True)
    lines = shapely.get_dimensions(parts) == 1
    return np.bincount(
        index[lines], weights=shapely.length(parts[lines]), minlength=len(geoms)
    ).astype(float)


# -- distances ----------------------------------------------------------------------------------


def nearest_within(
    subjects: gpd.GeoSeries | np.ndarray | IndexedSubjects,
    layer: PreparedLayer,
    *,
    max_distance: float,
    n_jobs: int | None = None,
    chunk_size: int = 50_000,
) -> pd.DataFrame:
    """Features lying near a subject without touching it, with their distance.

    Parameters
    ----------
    subjects
        Geometries in the layer's CRS, or those indexed by :func:`index_subjects` (null and
        empty ones match nothing).
    layer
        The prepared layer.
    max_distance
        Search radius in metres (> 0).
    n_jobs, chunk_size
        As in :func:`overlaps`.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISTANCE_COLUMNS`, one row per (subject, feature) with
        ``0 < distance_m <= max_distance``, sorted by subject then feature. Features that
        intersect the subject are in :func:`overlaps`, not here.

    Raises
    ------
    ArgumentError
        ``max_distance`` not a positive finite number.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (0, 9)])]))
    >>> nearest_within([shapely.Point(3, 4), shapely.Point(50, 0)], layer, max_distance=10)
       subject  feature  distance_m
    0        0        0         3.0
    """
    pairs = near_pairs(
        subjects, layer, max_distance=max_distance, n_jobs=n_jobs, chunk_size=chunk_size
    )
    return pd.DataFrame(pairs, copy=False)


def near_pairs(
    subjects: gpd.GeoSeries | np.ndarray | IndexedSubjects,
    layer: PreparedLayer,
    *,
    max_distance: float,
    n_jobs: int | None = None,
    chunk_size: int = 50_000,
) -> _Pairs:
    """:func:`nearest_within` as column arrays (no frame: for callers that only index them).

    Parameters
    ----------
    subjects, layer, max_distance, n_jobs, chunk_size
        As for :func:`nearest_within`.

    Returns
    -------
    dict of str to numpy.ndarray
        The columns of :data:`DISTANCE_COLUMNS`, sorted by subject then feature.

    Raises
    ------
    ArgumentError
        ``max_distance`` not a positive finite number.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (0, 9)])]))
    >>> near_pairs([shapely.Point(3, 4)], layer, max_distance=10)["distance_m"].tolist()
    [3.0]
    """
    if not (np.isfinite(max_distance) and max_distance > 0):
        raise ArgumentError(
            f"max_distance must be a positive number of metres; received {max_distance!r}"
        )
    index = _indexed(subjects, n_jobs=n_jobs, chunk_size=chunk_size)

    def run(chunk: _Chunk) -> _Pairs:
        return _distance_chunk(chunk, layer, max_distance=max_distance)

    found = _run_chunks(run, index.chunks, n_jobs=n_jobs, progress=False, desc="distances")
    return _sorted_pairs(found, DISTANCE_COLUMNS)


def _distance_chunk(chunk: _Chunk, layer: PreparedLayer, *, max_distance: float) -> _Pairs:
    subj, positions = chunk.geometries, chunk.positions
    near, local = _local_parts(layer, chunk.bounds + np.array([-1, -1, 1, 1]) * max_distance)
    if len(near) == 0:
        return _no_pairs(DISTANCE_COLUMNS)
    part_local, s = chunk.tree.query(local, predicate="dwithin", distance=max_distance)
    if len(s) == 0:
        return _no_pairs(DISTANCE_COLUMNS)
    dist = shapely.distance(subj[s], local[part_local])
    # the nearest part of each (subject, feature)
    subject, feature = positions[s].astype(np.int64), layer.parent[near[part_local]]
    order = np.lexsort((feature, subject))
    subject, feature, dist = subject[order], feature[order], dist[order]
    first = np.flatnonzero(
        np.r_[True, (subject[1:] != subject[:-1]) | (feature[1:] != feature[:-1])]
    )
    nearest = np.minimum.reduceat(dist, first)
    apart = nearest > 0
    return {
        "subject": subject[first][apart],
        "feature": feature[first][apart],
        "distance_m": nearest[apart],
    }


# -- geometries and layer checks --------------------------------------------------------------


def overlay_geometries(
    subjects: gpd.GeoSeries | np.ndarray, layer: PreparedLayer, pairs: pd.DataFrame
) -> np.ndarray:
    """The exact overlap geometry of each pair (for findings and maps), computed on demand.

    Parameters
    ----------
    subjects
        The geometries ``pairs.subject`` indexes.
    layer
        The prepared layer ``pairs.feature`` indexes.
    pairs
        A frame with integer columns ``subject`` and ``feature`` (e.g. from :func:`overlaps`).

    Returns
    -------
    numpy.ndarray
        One shapely geometry per row of ``pairs`` (empty for a pair that does not intersect).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)]))
    >>> subjects = [shapely.box(5, 5, 15, 15)]
    >>> overlay_geometries(subjects, layer, overlaps(subjects, layer))[0].area
    25.0
    """
    missing = {"subject", "feature"} - set(pairs.columns)
    if missing:
        raise ArgumentError(
            f"pairs need columns 'subject' and 'feature'; missing {sorted(missing)}"
        )
    return pair_geometries(
        _as_geometry_array(subjects),
        layer,
        pairs["subject"].to_numpy(dtype=np.int64),
        pairs["feature"].to_numpy(dtype=np.int64),
    )


def pair_geometries(
    geoms: np.ndarray, layer: PreparedLayer, s: np.ndarray, f: np.ndarray
) -> np.ndarray:
    """:func:`overlay_geometries` of the pairs ``(s[i], f[i])`` of subject and feature
    positions (column arrays: no frame).

    Parameters
    ----------
    geoms
        The subjects, an array of geometries in the layer's CRS.
    layer
        The prepared layer.
    s, f
        Subject and feature (row) position of each pair.

    Returns
    -------
    numpy.ndarray
        The intersection of each pair's subject and feature.

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, shapely
    >>> layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10)]))
    >>> geoms = np.array([shapely.box(5, 5, 15, 15)])
    >>> pair_geometries(geoms, layer, np.array([0]), np.array([0]))[0].area
    25.0
    """
    subj = geoms[s]
    out = np.empty(len(s), dtype=object)
    # The feature's parts near each subject (predicates run on this call's own prepared copies
    # of the parts in use, as in the engine's threads).
    pair, part = layer.tree.query(subj)
    mine = layer.parent[part] == f[pair]
    pair, part = pair[mine], part[mine]
    used, where = np.unique(part, return_inverse=True)
    copies = private_copy(layer.parts[used])
    shapely.prepare(copies)
    local = copies[where]
    intersecting = shapely.intersects(local, subj[pair])
    pair, part, local = pair[intersecting], part[intersecting], local[intersecting]
    # A subject inside a part is its own overlap; one met by a single part meets the feature
    # only there (the other parts do not reach it); otherwise the whole feature is used.
    inside = shapely.contains_properly(local, subj[pair])
    out[pair[inside]] = subj[pair[inside]]
    count = np.bincount(pair, minlength=len(s))
    single = (count[pair] == 1) & ~inside
    out[pair[single]] = shapely.intersection(subj[pair[single]], local[single])
    todo = np.flatnonzero(pd.isna(out))
    # GEOS clips the feature to the subject's envelope first, so huge features stay cheap.
    out[todo] = shapely.intersection(subj[todo], layer.geometries[f[todo]])
    return out


def self_overlaps(layer: PreparedLayer, *, min_area_m2: float = 1.0) -> pd.DataFrame:
    """Pairs of features of one polygon layer that overlap each other (bad data).

    Parameters
    ----------
    layer
        The prepared layer.
    min_area_m2
        Smallest overlap reported (m²); ``0`` reports every overlap with positive area.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SELF_OVERLAP_COLUMNS` (``feature_a < feature_b``, row positions), sorted.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> boxes = [shapely.box(0, 0, 10, 10), shapely.box(8, 0, 20, 10), shapely.box(20, 0, 30, 10)]
    >>> self_overlaps(prepare_layer(gpd.GeoDataFrame(geometry=boxes)))
       feature_a  feature_b  overlap_m2
    0          0          1        20.0
    """
    if layer.dimension != 2 or len(layer.geometries) < 2:
        return _empty(SELF_OVERLAP_COLUMNS)
    # GEOS's coverage validator flags every polygon with an edge inside another one (any
    # overlap flags at least one of the two); only pairs involving a flagged one are measured.
    flagged = ~shapely.is_empty(shapely.coverage_invalid_edges(layer.geometries))
    if not flagged.any():
        return _empty(SELF_OVERLAP_COLUMNS)
    # private copies: GEOS prepares query geometries lazily, which is not thread-safe on the
    # layer's shared parts (dask threads classifying against one planning crashed here)
    parts = private_copy(layer.parts)
    a, b = layer.tree.query(parts, predicate="intersects")
    pa, pb = layer.parent[a], layer.parent[b]
    keep = (pa < pb) & (flagged[pa] | flagged[pb])
    a, b, pa, pb = a[keep], b[keep], pa[keep], pb[keep]
    area = shapely.area(shapely.intersection(parts[a], parts[b]))
    frame = pd.DataFrame({"feature_a": pa, "feature_b": pb, "overlap_m2": area})
    total = frame.groupby(["feature_a", "feature_b"], sort=True, as_index=False)["overlap_m2"].sum()
    found = total["overlap_m2"] > 0
    if min_area_m2 > 0:
        found &= total["overlap_m2"] >= min_area_m2
    return total[found].reset_index(drop=True)


# -- plumbing -----------------------------------------------------------------------------------


def _as_geometry_array(subjects: Any) -> np.ndarray:
    if isinstance(subjects, gpd.GeoDataFrame):
        raise TypeError("pass the geometries (gdf.geometry), not the GeoDataFrame")
    values = subjects.values if isinstance(subjects, gpd.GeoSeries) else subjects
    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise TypeError(f"subjects must be a 1-d array of geometries; received shape {arr.shape}")
    return arr


def _indexed(
    subjects: gpd.GeoSeries | np.ndarray | IndexedSubjects, *, n_jobs: int | None, chunk_size: int
) -> IndexedSubjects:
    """``subjects`` indexed (as given when they already are)."""
    if isinstance(subjects, IndexedSubjects):
        return subjects
    return index_subjects(subjects, n_jobs=n_jobs, chunk_size=chunk_size)


def _local_parts(layer: PreparedLayer, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the parts whose bounds meet ``bounds``, and this thread's own copies."""
    xmin, ymin, xmax, ymax = bounds
    pb = layer.part_bounds
    near = np.flatnonzero(
        (pb[:, 0] <= xmax) & (pb[:, 2] >= xmin) & (pb[:, 1] <= ymax) & (pb[:, 3] >= ymin)
    )
    return near, private_copy(layer.parts[near])


def _chunks(geoms: np.ndarray, chunk_size: int, *, n_jobs: int | None) -> Iterator[np.ndarray]:
    """Positions of the present geometries, Hilbert-sorted, cut into chunks of at most
    ``chunk_size``; with several threads, into at least two chunks per thread (of at least
    :data:`_MIN_THREAD_CHUNK`) so that the threads stay busy until the end."""
    if chunk_size < 1:
        raise ArgumentError(f"chunk_size must be at least 1; received {chunk_size}")
    present = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if len(present) == 0:
        return
    jobs = check_jobs(n_jobs)
    if jobs > 1:
        chunk_size = min(chunk_size, max(_MIN_THREAD_CHUNK, -(-len(present) // (2 * jobs))))
    if len(present) > chunk_size:
        series = gpd.GeoSeries(geoms[present])
        order = np.argsort(series.hilbert_distance().to_numpy(), kind="stable")
        present = present[order]
    for start in range(0, len(present), chunk_size):
        yield present[start : start + chunk_size]


def _run_chunks(
    fn: Callable[[_Chunk], _Pairs],
    chunks: tuple[_Chunk, ...],
    *,
    n_jobs: int | None,
    progress: bool,
    desc: str,
) -> list[_Pairs]:
    jobs = check_jobs(n_jobs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(chunks), desc=desc, unit="chunk")
    frames: list[_Pairs] = []
    try:
        if jobs == 1 or len(chunks) <= 1:
            for chunk in chunks:
                frames.append(fn(chunk))
                if bar is not None:
                    bar.update()
        else:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                for frame in pool.map(fn, chunks):
                    frames.append(frame)
                    if bar is not None:
                        bar.update()
    finally:
        if bar is not None:
            bar.close()
    return [f for f in frames if len(f["subject"])]


def _sorted_pairs(found: list[_Pairs], columns: tuple[str, ...]) -> _Pairs:
    """The pairs of all chunks, sorted by subject then feature (each pair is in one chunk)."""
    if not found:
        return _no_pairs(columns)
    pairs = (
        found[0] if len(found) == 1 else {c: np.concatenate([f[c] for f in found]) for c in columns}
    )
    subject, feature = pairs["subject"], pairs["feature"]
    ordered = (subject[1:] > subject[:-1]) | (
        (subject[1:] == subject[:-1]) & (feature[1:] > feature[:-1])
    )
    if ordered.all():
        return pairs
    order = np.lexsort((feature, subject))
    return {c: pairs[c][order] for c in columns}


def _no_pairs(columns: tuple[str, ...]) -> _Pairs:
    return {c: np.empty(0, dtype=_PAIR_DTYPES.get(c, np.float64)) for c in columns}


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(_no_pairs(columns))
