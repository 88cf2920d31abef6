"""Classification of parcels into main functional zones (主体功能区).

:func:`classify` measures, for every parcel, the share of its area in each zone class of the
``zoning`` layer with the overlay engine (:mod:`redline.overlay`) and derives the dominant class,
the strictest class present and the subtype. Parcels that cannot be measured are marked
``not_assessed`` with the reason, never given a zone.

Overlapping zoning polygons are bad data: they are reported (one :class:`RedlineWarning` naming
the features) and their common area is counted once, for the strictest class (ties: the feature
that comes first in the layer).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redline.errors import ArgumentError, LayerError, RedlineWarning
from redline.geometry import prepare_subject_arrays
from redline.overlay import PreparedLayer, overlaps, prepare_layer, self_overlaps
from redline.schema import VERDICTS, ZONE_LABELS, ZONES

if TYPE_CHECKING:
    from redline.planning import Planning

__all__ = [
    "CLASSIFY_COLUMNS",
    "SHARE_NOISE",
    "STATUSES",
    "UNZONED",
    "ZONE_STRICTNESS",
    "ZoningLayer",
    "classify_frame",
    "with_classification",
    "zoning_layer",
]

log = logging.getLogger(__name__)

#: Zone classes from the strictest to the mildest.
ZONE_STRICTNESS: Final = ("prohibited", "restricted", "optimized", "key")
#: The class of area no zoning feature covers.
UNZONED: Final = "unzoned"
NOT_ASSESSED: Final = VERDICTS[0]
#: Values of the ``status`` column.
STATUSES: Final = ("assessed", NOT_ASSESSED)
#: Columns :func:`classify` adds to the caller's parcels, in order.
CLASSIFY_COLUMNS: Final = (
    "area_m2",
    "share_key",
    "share_restricted",
    "share_prohibited",
    "share_optimized",
    "share_unzoned",
    "zone",
    "zone_zh",
    "zone_strictest",
    "zone_strictest_zh",
    "subtype",
    "zone_feature_id",
    "split",
    "status",
    "not_assessed_reason",
)
#: Shares within this of 0 or 1 are floating-point noise of the overlay (7.8e-16) and are
#: written as exactly 0 or 1.
SHARE_NOISE: Final = 1e-12
# Overlaps between zoning features at most this large (m²) are floating-point noise along
# shared edges, not bad data.
_NOISE_M2: Final = 1e-6

if set(ZONE_STRICTNESS) != set(ZONES):  # pragma: no cover - guards the shared vocabulary
    raise ImportError(f"ZONE_STRICTNESS {ZONE_STRICTNESS} does not match schema.ZONES {ZONES}")


@dataclass(frozen=True)
class ZoningLayer:
    """The zoning layer as classification uses it: overlaps resolved, classes coded.

    Attributes
    ----------
    layer
        The prepared zoning layer, each place in one feature only.
    rows
        Row in ``planning["zoning"]`` of each feature of ``layer``.
    klass
        Index into :data:`ZONE_STRICTNESS` of each feature of ``layer``.
    overlaps
        Self-overlaps of the original layer (columns of
        :data:`redline.overlay.SELF_OVERLAP_COLUMNS`), above floating-point noise.

    Examples
    --------
    >>> from redline.planning import load_planning
    >>> zoning = zoning_layer(load_planning())
    >>> len(zoning.layer), len(zoning.overlaps)
    (34, 6)
    """

    layer: PreparedLayer
    rows: np.ndarray
    klass: np.ndarray
    overlaps: pd.DataFrame


def classify_frame(
    parcels: gpd.GeoDataFrame,
    planning: Planning,
    *,
    tolerance_m2: float = 1.0,
    n_jobs: int | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Assign each parcel to a main functional zone by area, in this process: the kernel of
    :func:`redline.classify`.

    :func:`redline.classify` is the entry: it takes the default planning, dask frames and
    large batches (forked workers) and calls this on each part.

    Parameters
    ----------
    parcels
        Parcel polygons in any declared CRS (not modified).
    planning
        The one map holding a ``zoning`` layer.
    tolerance_m2
        Smallest overlap (m²) that makes a class count for ``zone_strictest`` and ``split``;
        the dominant class always counts.
    n_jobs
        Threads of the overlay engine (default: every available core). The result does not
        depend on it.
    progress
        Show a progress bar over chunks of parcels.

    Returns
    -------
    geopandas.GeoDataFrame
        The caller's parcels (index, columns, geometry and CRS unchanged) with
        :data:`CLASSIFY_COLUMNS` added: ``area_m2`` (the parcel's area, equal-area working
        CRS), ``share_<class>`` (share of the parcel's area in each class and outside every
        zone, summing to 1; noise within :data:`SHARE_NOISE` of 0 or 1 snapped to it),
        ``zone`` (the dominant class; ties go to the stricter class; ``"unzoned"`` when no
        zone covers most), ``zone_strictest`` (the strictest class covering at least
        ``tolerance_m2``; ``"unzoned"`` when none does), ``zone_zh`` and
        ``zone_strictest_zh`` (their Chinese names, :data:`redline.schema.ZONE_LABELS`),
        ``subtype`` and ``zone_feature_id`` (of the zoning feature covering most of the parcel
        within the dominant class), ``split`` (two or more classes, unzoned included, count),
        ``status`` (``"assessed"`` or ``"not_assessed"``) and ``not_assessed_reason``.
        Parcels that cannot be assessed have NaN shares, no zone and ``split`` False.

    Raises
    ------
    LayerError
        No ``zoning`` layer in ``planning``.
    ArgumentError
        A negative ``tolerance_m2``.

    Warns
    -----
    RedlineWarning
        When zoning features overlap each other by ``tolerance_m2`` or more (bad data).

    Examples
    --------
    >>> from shapely import box
    >>> from redline.crs import WORKING_CRS
    >>> from redline.planning import Planning
    >>> zones = gpd.GeoDataFrame({"zone": ["重点开发区域", "禁止开发区域"]},
    ...                          geometry=[box(0, 0, 700, 1000), box(700, 0, 1000, 1000)],
    ...                          crs=WORKING_CRS)
    >>> parcels = gpd.GeoDataFrame(geometry=[box(0, 0, 1000, 100)], crs=WORKING_CRS)
    >>> out = classify_frame(parcels, Planning(zoning=zones))
    >>> out[["share_key", "share_prohibited", "zone", "zone_strictest", "split"]]
       share_key  share_prohibited zone zone_strictest  split
    0        0.7               0.3  key     prohibited   True
    """
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise TypeError(f"parcels must be a GeoDataFrame, not {type(parcels).__name__}")
    if not tolerance_m2 >= 0:
        raise ArgumentError(
            f"tolerance_m2 must be a non-negative area in m²; received {tolerance_m2!r}"
        )
    zoning = zoning_layer(planning)
    _warn_overlaps(zoning, planning["zoning"], tolerance_m2=tolerance_m2)
    geoms, reason = prepare_subject_arrays(
        parcels, source="parcels", working_crs=planning.crs, extent=planning.extent,
        region=planning.region, stacklevel=3,
    )
    ok = pd.isna(reason) & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    dims = np.where(ok, shapely.get_dimensions(geoms), -1)
    area = np.where(ok, shapely.area(geoms), 0.0)
    not_polygon = ok & (dims != 2)
    reason[not_polygon] = "the parcel is not a polygon; classification measures areas"
    no_area = ok & (dims == 2) & ~(area > 0)
    reason[no_area] = "the parcel has no area"
    ok &= ~(not_polygon | no_area)
    assessed = np.flatnonzero(ok)

    pairs = overlaps(geoms[assessed], zoning.layer, n_jobs=n_jobs,
                     sliver_bow=planning.sliver_bow("zoning", parcels.crs), progress=progress)
    table = _tabulate(pairs, zoning, planning["zoning"], area[assessed], tolerance_m2=tolerance_m2)

    n = len(parcels)
    added: dict[str, np.ndarray] = {"area_m2": np.where(ok, area, np.nan)}
    added.update({f"share_{c}": np.full(n, np.nan) for c in (*ZONES, UNZONED)})
    for column in ("zone", "zone_zh", "zone_strictest", "zone_strictest_zh", "subtype",
                   "zone_feature_id"):
        added[column] = np.full(n, None, dtype=object)
    added["split"] = np.zeros(n, dtype=bool)
    for column, values in table.items():
        added[column][assessed] = values
    added["status"] = np.where(ok, STATUSES[0], NOT_ASSESSED).astype(object)
    reason[ok] = None
    added["not_assessed_reason"] = reason
    log.info("classified %d parcels (%d not assessed)", len(assessed), n - len(assessed))

    return with_classification(parcels, pd.DataFrame(added, index=parcels.index))


def with_classification(parcels: gpd.GeoDataFrame, added: pd.DataFrame) -> gpd.GeoDataFrame:
    """``parcels`` with the classification columns ``added``, replacing columns of the same
    names.

    Parameters
    ----------
    parcels
        The caller's parcels.
    added
        One row per parcel, in order (its index is not used): :data:`CLASSIFY_COLUMNS`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``parcels`` (index, attributes and other columns kept) with the columns of ``added``.

    Examples
    --------
    >>> import shapely
    >>> parcels = gpd.GeoDataFrame({"zone": ["old"]}, geometry=[shapely.Point(0, 0)], index=[7])
    >>> with_classification(parcels, pd.DataFrame({"zone": ["key"]}))
       geometry zone
    7  POINT (0 0)  key
    """
    clash = [c for c in added.columns if c in parcels.columns]
    if clash:
        log.info("replacing existing columns %s with the new classification", clash)
    # one concatenation: column by column costs more than classifying a few parcels
    out = pd.concat([parcels.drop(columns=clash), added.set_axis(parcels.index)], axis=1)
    out.attrs = parcels.attrs
    return out


def _tabulate(
    pairs: pd.DataFrame,
    zoning: ZoningLayer,
    zoning_gdf: gpd.GeoDataFrame,
    area: np.ndarray,
    *,
    tolerance_m2: float,
) -> dict[str, np.ndarray]:
    """Per assessed parcel: shares, dominant and strictest class, subtype, split flag."""
    n, k = len(area), len(ZONE_STRICTNESS)
    subject = pairs["subject"].to_numpy()
    feature = pairs["feature"].to_numpy()
    overlap = pairs["overlap_m2"].to_numpy()
    klass = zoning.klass[feature]
    class_area = np.bincount(subject * k + klass, weights=overlap, minlength=n * k).reshape(n, k)
    shares = class_area / area[:, None]
    total = shares.sum(axis=1)
    over = total > 1.0  # rounding only: overlaps are resolved, so the areas cannot exceed 1
    shares[over] /= total[over, None]
    unzoned = np.where(over, 0.0, 1.0 - np.minimum(total, 1.0))
    # Columns strictest first, unzoned last: argmax gives ties to the stricter class.
    ranked = np.column_stack([shares, unzoned])
    dominant = np.argmax(ranked, axis=1)
    labels = np.array([*ZONE_STRICTNESS, UNZONED], dtype=object)
    labels_zh = np.array([ZONE_LABELS[c] for c in labels], dtype=object)
    counted = np.column_stack([class_area, unzoned * area]) >= tolerance_m2
    counted[np.arange(n), dominant] = True
    strictest = np.argmax(counted[:, :k], axis=1)
    strictest = np.where(counted[:, :k].any(axis=1), strictest, k)

    # The feature covering most of the parcel within the dominant class.
    in_dominant = klass == dominant[subject]
    order = np.lexsort((feature[in_dominant], -overlap[in_dominant], subject[in_dominant]))
    s_sorted = subject[in_dominant][order]
    first = np.r_[True, s_sorted[1:] != s_sorted[:-1]] if len(s_sorted) else np.array([], bool)
    best_subject = s_sorted[first]
    best_row = zoning.rows[feature[in_dominant][order][first]]
    subtype = np.full(n, None, dtype=object)
    feature_id = np.full(n, None, dtype=object)
    if "subtype" in zoning_gdf.columns:
        values = zoning_gdf["subtype"].to_numpy(dtype=object)[best_row]
        subtype[best_subject] = np.where(pd.isna(values), None, values)
    feature_id[best_subject] = zoning_gdf["feature_id"].to_numpy(dtype=object)[best_row]

    shares[np.abs(shares) < SHARE_NOISE] = 0.0
    shares[np.abs(shares - 1.0) < SHARE_NOISE] = 1.0
    unzoned[np.abs(unzoned) < SHARE_NOISE] = 0.0
    unzoned[np.abs(unzoned - 1.0) < SHARE_NOISE] = 1.0
    by_name = {c: shares[:, ZONE_STRICTNESS.index(c)] for c in ZONES}
    return {
        **{f"share_{c}": by_name[c] for c in ZONES},
        f"share_{UNZONED}": unzoned,
        "zone": labels[dominant],
        "zone_zh": labels_zh[dominant],
        "zone_strictest": labels[strictest],
        "zone_strictest_zh": labels_zh[strictest],
        "subtype": subtype,
        "zone_feature_id": feature_id,
        "split": counted.sum(axis=1) > 1,
    }


def zoning_layer(planning: Planning) -> ZoningLayer:
    """The planning's prepared zoning layer with overlaps resolved, built once per planning
    (kept on it: :meth:`redline.planning.Planning.derived`).

    Parameters
    ----------
    planning
        The one map.

    Returns
    -------
    ZoningLayer

    Raises
    ------
    LayerError
        No ``zoning`` layer in ``planning``.

    Examples
    --------
    >>> from redline.planning import load_planning
    >>> planning = load_planning()
    >>> zoning_layer(planning) is zoning_layer(planning)
    True
    """
    if "zoning" not in planning:
        raise LayerError(
            f"the planning has no 'zoning' layer (kinds present: {list(planning.kinds)}); "
            "classification needs the main functional zones: add a [layers.zoning] entry to "
            "the manifest or pass zoning= to Planning"
        )
    return planning.derived("zoning.resolved", _resolved_zoning)


def _resolved_zoning(planning: Planning) -> ZoningLayer:
    raw = planning.prepared("zoning")
    gdf = planning["zoning"]
    klass = gdf["zone"].map({c: i for i, c in enumerate(ZONE_STRICTNESS)}).to_numpy()
    found = self_overlaps(raw, min_area_m2=0.0)
    found = found[found["overlap_m2"] > _NOISE_M2].reset_index(drop=True)
    rows = np.arange(len(gdf))
    layer = raw
    if len(found):
        layer, rows = _resolve(gdf, found, klass)
    return ZoningLayer(layer=layer, rows=rows, klass=klass[rows], overlaps=found)


def _resolve(
    gdf: gpd.GeoDataFrame, found: pd.DataFrame, klass: np.ndarray
) -> tuple[PreparedLayer, np.ndarray]:
    """Give each overlapping area to one feature only: the strictest class, then the first.

    Every feature loses the union of the features that beat it among those it overlaps; a
    point covered by several features thus stays only in the best of them.
    """
    a = found["feature_a"].to_numpy()
    b = found["feature_b"].to_numpy()
    a_wins = klass[a] <= klass[b]  # a < b, so equal classes go to a
    loser = np.where(a_wins, b, a)
    winner = np.where(a_wins, a, b)
    geoms = np.asarray(gdf.geometry.values, dtype=object).copy()
    # One union per feature that loses area: bad data only, a handful of features.
    beaten = pd.Series(winner).groupby(loser).agg(list)
    cover = np.array([shapely.union_all(geoms[w]) for w in beaten.to_numpy()], dtype=object)
    losers = beaten.index.to_numpy()
    geoms[losers] = shapely.difference(geoms[losers], cover)
    keep = ~shapely.is_empty(geoms)
    log.info(
        "zoning: gave the overlapping area of %d features to stricter ones; %d features "
        "lie wholly under others",
        len(losers),
        int((~keep).sum()),
    )
    rows = np.flatnonzero(keep)
    resolved = gpd.GeoDataFrame(
        gdf.drop(columns="geometry").iloc[rows].reset_index(drop=True),
        geometry=geoms[rows],
        crs=gdf.crs,
    )
    return prepare_layer(resolved), rows


def _warn_overlaps(zoning: ZoningLayer, gdf: gpd.GeoDataFrame, *, tolerance_m2: float) -> None:
    """One warning naming the zoning features that overlap by ``tolerance_m2`` or more."""
    big = zoning.overlaps[zoning.overlaps["overlap_m2"] >= max(tolerance_m2, _NOISE_M2)]
    if big.empty:
        return
    ids = gdf["feature_id"].to_numpy(dtype=object)
    shown = [
        f"{ids[a]} & {ids[b]} ({m2:,.1f} m²)" for a, b, m2 in big.head(10).itertuples(index=False)
    ]
    more = f" and {len(big) - 10} more" if len(big) > 10 else ""
    warnings.warn(
        f"zoning: {len(big)} pairs of features overlap each other (bad data): "
        f"{'; '.join(shown)}{more}. Their common area is counted once, for the strictest "
        "class. Fix the zoning layer (clip or dissolve the overlaps) so each place has one zone.",
        RedlineWarning,
        stacklevel=3,
    )
