"""The entries of the two products: :func:`screen` and :func:`classify`.

An entry takes the caller's arguments once — the default planning and ruleset
(:func:`redline.planning.as_planning`, :func:`redline.rules.as_ruleset`), ``n_jobs``
(:func:`redline.run.executors.check_jobs`) — and picks how the work runs:

- in this process, on the overlay engine's threads: the kernels
  :func:`redline.screening.screen_frame` and :func:`redline.zoning.classify_frame`;
- a large batch (:data:`FORK_MIN_SITES` sites, :data:`FORK_MIN_PARCELS` parcels) in consecutive
  chunks on worker processes forked from this one (Linux; :func:`screen_forked`,
  :func:`classify_forked`), since much of a screening (raster statistics, corridor severance,
  pandas) holds the GIL and gains nothing from threads. The workers inherit the planning with
  its prepared layers and corridors (built here first), so nothing is pickled on the way in;
  only the results come back;
- a dask-geopandas frame partition by partition on dask's schedulers or a distributed cluster
  (:func:`screen_dask`, :func:`classify_dask`), the planning and ruleset sent to the workers
  once.

Every way gives the single-process result: same rows, columns, order and values (the parts
are put together by :mod:`redline.run.parts`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from redline.planning import Planning, as_planning
from redline.raster import slope_grid
from redline.rules import RuleSet, as_ruleset
from redline.run.executors import (
    broadcast,
    check_jobs,
    current_client,
    dask_map,
    fork_map,
    fork_workers,
    is_dask_frame,
)
from redline.run.parts import (
    Part,
    concat_frames,
    concat_screenings,
    raise_if_wholly_outside,
    screen_part,
)
from redline.screening import (
    LAYER_OVERLAPS,
    SITE_COLUMNS,
    Screening,
    concat_findings,
    disabled_rules,
    findings_columns,
    screen_frame,
    site_ids,
)
from redline.zoning import CLASSIFY_COLUMNS, classify_frame, with_classification, zoning_layer

if TYPE_CHECKING:
    import dask_geopandas
    import distributed

__all__ = [
    "FORK_MIN_PARCELS",
    "FORK_MIN_SITES",
    "classify",
    "classify_dask",
    "classify_forked",
    "screen",
    "screen_dask",
    "screen_forked",
]

#: Fewest sites for which :func:`screen` forks worker processes; smaller batches use the
#: overlay engine's threads. Since the findings travel back cheaply (a site's own geometry as
#: its row, results through files), forking pays from ~40,000 sites: on 2 idle cores
#: (2026-12-05 06:07, the sample one map, benchmark sites, best of two, interleaved) it gave
#: 0.99-1.02x at 30,000 sites, 1.05-1.12x at 40,000, 1.11x at 50,000 and 1.27x at 80,000
#: (before: 0.83x at 30,000, 1.04x at 80,000, when this was 100,000).
FORK_MIN_SITES = 40_000
#: The same for :func:`classify` (parcels take ~5 µs each): forking gave 1.2x at
#: 50,000 parcels, 1.6x at 100,000 and 1.8x at 1,000,000 (threads: 1.1x).
FORK_MIN_PARCELS = 50_000


def screen(
    sites: gpd.GeoDataFrame | dask_geopandas.GeoDataFrame,
    planning: Planning | None = None,
    *,
    rules: RuleSet | str | Path | None = None,
    crs: Any = None,
    n_jobs: int | None = None,
    progress: bool = False,
    disable: Iterable[str] = (),
) -> Screening:
    """Screen proposed construction sites against the planning layers.

    Parameters
    ----------
    sites
        Polygons, multipolygons, lines or points with optional ``site_id``, ``name`` and
        ``project_type`` columns (no type: general construction, the strictest reading).
        Not modified. A dask-geopandas GeoDataFrame is screened partition by partition
        (:func:`screen_dask`).
    planning
        The one map; ``None`` loads the bundled illustrative sample.
    rules
        A :class:`~redline.rules.RuleSet`, or the path of a ruleset file that extends the
        bundled Jilin ruleset; ``None`` uses the bundled ruleset.
    crs
        CRS to assume for sites that declare none.
    n_jobs
        Cores to use (default: all). A batch of :data:`FORK_MIN_SITES` sites or more is split
        into chunks screened on that many worker processes (forked, on Linux); a smaller one
        on that many threads of the overlay engine. Results do not depend on it.
    progress
        Show a progress bar over the layers (over the chunks, on worker processes).
    disable
        Ids of rules to switch off for this run; shell-style globs (``"SLOPE-*"``) allowed
        (:func:`redline.screening.disabled_rules`). Recorded in :attr:`Screening.disabled`.

    Returns
    -------
    Screening
        Per site the verdict, and ``known_verdict``: what the findings in hand say (see
        :func:`redline.screening.screen_frame`).

    Raises
    ------
    LayerError
        Missing or duplicate ``site_id`` values.
    CRSError
        Sites without CRS (and no ``crs=``), or none of them in the planning's region.
    ArgumentError
        ``n_jobs`` below 1.
    RuleError
        A ``disable`` entry that matches no rule.

    Examples
    --------
    >>> from redline import datasets, schema
    >>> result = screen(gpd.read_file(datasets.get_path("sites")))
    >>> sorted(set(result.sites.verdict)) == sorted(schema.VERDICTS)
    True
    """
    started, clock = datetime.now(UTC), time.perf_counter()
    ruleset, disabled = disabled_rules(as_ruleset(rules), disable)
    if is_dask_frame(sites):  # partitions screened in parallel, one thread each
        result = screen_dask(sites, planning, rules=ruleset, crs=crs, progress=progress)
    elif not isinstance(sites, gpd.GeoDataFrame):
        raise TypeError(f"sites must be a GeoDataFrame, not {type(sites).__name__}")
    else:
        planning = as_planning(planning)
        jobs = check_jobs(n_jobs)
        workers = fork_workers(len(sites), jobs, minimum=FORK_MIN_SITES)
        if workers > 1:  # a large batch: chunks on worker processes
            site_ids(sites)  # the ids are unique across chunks, checked before any worker starts
            result = screen_forked(sites, planning, ruleset, crs=crs, n_jobs=workers,
                                   progress=progress)
        else:
            result = screen_frame(sites, planning, ruleset, crs=crs, n_jobs=jobs,
                                  progress=progress)
    return replace(_timed(result, started, clock), disabled=disabled)


def _timed(result: Screening, started: datetime, clock: float) -> Screening:
    """``result`` with the start time and duration of the :func:`screen` call that made it."""
    return replace(result, started=started, duration_s=time.perf_counter() - clock)


def classify(
    parcels: gpd.GeoDataFrame | dask_geopandas.GeoDataFrame,
    planning: Planning | None = None,
    *,
    tolerance_m2: float = 1.0,
    n_jobs: int | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Assign each parcel to a main functional zone by area.

    Parameters
    ----------
    parcels
        Parcel polygons in any declared CRS (not modified); a dask-geopandas GeoDataFrame is
        classified partition by partition (:func:`classify_dask`).
    planning
        The one map holding a ``zoning`` layer; default the bundled sample.
    tolerance_m2
        Smallest overlap (m²) that makes a class count for ``zone_strictest`` and ``split``;
        the dominant class always counts.
    n_jobs
        Cores to use (default: all): worker processes for a batch of
        :data:`FORK_MIN_PARCELS` parcels or more (forked, on Linux), else threads. The result
        does not depend on it.
    progress
        Show a progress bar over chunks of parcels.

    Returns
    -------
    geopandas.GeoDataFrame
        The caller's parcels with :data:`redline.zoning.CLASSIFY_COLUMNS` added; see
        :func:`redline.zoning.classify_frame`.

    Raises
    ------
    LayerError
        No ``zoning`` layer in ``planning``.
    ArgumentError
        A negative ``tolerance_m2``, or ``n_jobs`` below 1.

    Warns
    -----
    RedlineWarning
        When zoning features overlap each other by ``tolerance_m2`` or more (bad data).

    Examples
    --------
    >>> from redline import datasets
    >>> zoned = classify(gpd.read_file(datasets.get_path("parcels")))
    >>> zoned["zone"].value_counts().to_dict()
    {'key': 1611, 'prohibited': 844, 'restricted': 817}
    """
    if is_dask_frame(parcels):  # partitions classified in parallel, one thread each
        return classify_dask(parcels, planning, tolerance_m2=tolerance_m2, progress=progress)
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise TypeError(f"parcels must be a GeoDataFrame, not {type(parcels).__name__}")
    planning = as_planning(planning)
    jobs = check_jobs(n_jobs)
    workers = fork_workers(len(parcels), jobs, minimum=FORK_MIN_PARCELS)
    if workers > 1:  # a large batch: chunks on worker processes (they warn)
        return classify_forked(
            parcels, planning, tolerance_m2=tolerance_m2, n_jobs=workers, progress=progress
        )
    return classify_frame(
        parcels, planning, tolerance_m2=tolerance_m2, n_jobs=jobs, progress=progress
    )


# -- forked worker processes ---------------------------------------------------------------
def screen_forked(
    sites: gpd.GeoDataFrame,
    planning: Planning,
    ruleset: RuleSet,
    *,
    crs: Any = None,
    n_jobs: int = 2,
    progress: bool = False,
) -> Screening:
    """Screen consecutive chunks of ``sites`` on ``n_jobs`` worker processes forked from this one.

    Parameters
    ----------
    sites
        As for :func:`screen`, with unique ``site_id`` values (checked by the caller).
    planning, ruleset
        What to screen against; the planning's prepared layers and corridors are built here
        first, so that every worker inherits them.
    crs
        CRS to assume for sites that declare none.
    n_jobs
        Worker processes.
    progress
        Show a progress bar over the chunks.

    Returns
    -------
    Screening
        Equal to ``screen(sites, planning, rules=ruleset, crs=crs, n_jobs=1)``; the workers'
        warnings are re-issued here once each.

    Raises
    ------
    CRSError
        Sites without CRS (and no ``crs=``), or none of them in the planning's region.

    Examples
    --------
    >>> from redline import datasets
    >>> from redline.rules import load_rules
    >>> from redline.planning import load_planning
    >>> planning, rules = load_planning(), load_rules()
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(8)
    >>> screen_forked(sites, planning, rules, n_jobs=2)
    Screening of 8 sites against 37 rules: prohibited 3, conditional 2, advisory 1, clear 2; ...
    """
    for kind in {*ruleset.by_layer(), *(kind for kind, _ in LAYER_OVERLAPS.values())}:
        if kind in planning.rasters:
            if planning.rasters[kind].kind == "dem":
                slope_grid(planning.rasters[kind])  # once here, not in every worker
        elif kind in planning:
            planning.prepared(kind)
    planning.corridors(ruleset.corridor_half_widths_m)
    _ = planning.extent

    def screen_chunk(chunk: gpd.GeoDataFrame) -> tuple[Part, pd.DataFrame]:
        part = screen_part(chunk, planning, ruleset, crs=crs)
        # only the added columns go back (the parent holds the sites), and the findings as
        # findings_columns: repeated texts coded, a site's own geometry as its row in the chunk
        findings = findings_columns(part.findings, held=chunk.geometry.array.to_numpy())
        sent = replace(part, sites=pd.DataFrame(part.sites[list(SITE_COLUMNS)]),
                       findings=part.findings.iloc[:0])
        return sent, findings

    results: list[tuple[Part, dict[str, Any]]] = fork_map(
        screen_chunk, sites, n_jobs=n_jobs, progress=progress, desc="screening"
    )
    parts = [part for part, _ in results]
    raise_if_wholly_outside(parts)
    added = pd.concat([part.sites for part in parts])
    out = sites.copy()
    for name in SITE_COLUMNS:
        column = added[name]  # its own array under the caller's index: no copy, no conversion
        out[name] = pd.Series(column.array, index=out.index, dtype=column.dtype, copy=False)
    found = [findings for _, findings in results]
    del results
    # each chunk's own geometries, the very objects its worker saw (inherited by the fork)
    held = np.split(sites.geometry.array.to_numpy(), np.cumsum([len(p.sites) for p in parts])[:-1])
    return Screening(
        sites=out,
        findings=concat_findings(found, crs=planning.crs, held=held),
        layer_overlaps=pd.concat([part.layer_overlaps for part in parts]).set_axis(sites.index),
        planning=planning,
        rules=ruleset,
    )


def classify_forked(
    parcels: gpd.GeoDataFrame,
    planning: Planning,
    *,
    tolerance_m2: float = 1.0,
    n_jobs: int = 2,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Classify consecutive chunks of ``parcels`` on ``n_jobs`` forked worker processes.

    Parameters
    ----------
    parcels
        As for :func:`classify`.
    planning, tolerance_m2
        As for :func:`classify`; the planning's zoning layer is prepared here first, so that
        every worker inherits it.
    n_jobs
        Worker processes.
    progress
        Show a progress bar over the chunks.

    Returns
    -------
    geopandas.GeoDataFrame
        Equal to ``classify(parcels, planning, tolerance_m2=tolerance_m2, n_jobs=1)``.

    Raises
    ------
    LayerError
        No ``zoning`` layer in ``planning``.

    Examples
    --------
    >>> from redline import datasets
    >>> from redline.planning import load_planning
    >>> planning = load_planning()
    >>> parcels = gpd.read_file(datasets.get_path("parcels"))
    >>> zoned = classify_forked(parcels, planning, n_jobs=2)
    >>> zoned["zone"].equals(classify(parcels, planning, n_jobs=1)["zone"])
    True
    """
    zoning_layer(planning)
    _ = planning.extent

    def classify_chunk(chunk: gpd.GeoDataFrame) -> pd.DataFrame:
        zoned = classify_frame(chunk, planning, tolerance_m2=tolerance_m2, n_jobs=1)
        return pd.DataFrame(zoned[list(CLASSIFY_COLUMNS)])

    added = pd.concat(
        fork_map(classify_chunk, parcels, n_jobs=n_jobs, progress=progress, desc="classifying")
    )
    return with_classification(parcels, added)


# -- dask ------------------------------------------------------------------------------------
def screen_dask(
    sites: dask_geopandas.GeoDataFrame,
    planning: Planning | None = None,
    *,
    rules: RuleSet | str | Path | None = None,
    crs: Any = None,
    client: distributed.Client | None = None,
    progress: bool = False,
) -> Screening:
    """Screen the partitions of a dask-geopandas GeoDataFrame in parallel.

    Parameters
    ----------
    sites
        Sites as for :func:`screen`, in any number of partitions.
    planning, rules, crs
        As for :func:`screen`; loaded once here, then sent to the workers once.
    client
        A ``distributed.Client``; default the active one (``with client.as_current():`` or
        the default client), else dask's local scheduler (threads).
    progress
        Show a progress bar over the partitions.

    Returns
    -------
    Screening
        Equal to ``screen(sites.compute(), planning, rules=rules, crs=crs)``; the
        partitions' warnings are re-issued here once each.

    Raises
    ------
    LayerError
        Missing or duplicate ``site_id`` values, within or across partitions.
    CRSError
        Sites without CRS (and no ``crs=``), or none of them in the planning's region.

    Examples
    --------
    >>> import dask_geopandas
    >>> from redline import datasets
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(8)
    >>> result = screen_dask(dask_geopandas.from_geopandas(sites, npartitions=2))
    >>> result
    Screening of 8 sites against 37 rules: prohibited 3, conditional 2, advisory 1, clear 2; ...
    >>> result.sites.index.equals(sites.index)
    True
    """
    planning = as_planning(planning)
    ruleset = as_ruleset(rules)
    client = current_client(client)
    refs = broadcast(client, planning=planning, ruleset=ruleset)
    parts: list[Part] = dask_map(
        client, screen_part, sites, refs, {"crs": crs}, progress=progress, desc="screening"
    )
    raise_if_wholly_outside(parts)
    return concat_screenings([part.screening(planning, ruleset) for part in parts])


def classify_dask(
    parcels: dask_geopandas.GeoDataFrame,
    planning: Planning | None = None,
    *,
    tolerance_m2: float = 1.0,
    client: distributed.Client | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Classify the partitions of a dask-geopandas GeoDataFrame in parallel.

    Parameters
    ----------
    parcels
        Parcels as for :func:`classify`, in any number of partitions.
    planning, tolerance_m2
        As for :func:`classify`; the planning is sent to the workers once.
    client, progress
        As for :func:`screen_dask`.

    Returns
    -------
    geopandas.GeoDataFrame
        Equal to ``classify(parcels.compute(), planning, tolerance_m2=tolerance_m2)``.

    Examples
    --------
    >>> import dask_geopandas
    >>> from redline import datasets
    >>> from redline.planning import load_planning
    >>> planning = load_planning()
    >>> parcels = gpd.read_file(datasets.get_path("parcels"))
    >>> zoned = classify_dask(dask_geopandas.from_geopandas(parcels, npartitions=4), planning)
    >>> zoned["zone"].value_counts().to_dict()
    {'key': 1611, 'prohibited': 844, 'restricted': 817}
    >>> zoned["zone"].equals(classify(parcels, planning)["zone"])
    True
    """
    planning = as_planning(planning)
    client = current_client(client)
    refs = broadcast(client, planning=planning)
    frames: list[gpd.GeoDataFrame] = dask_map(
        client,
        _classify_part,
        parcels,
        refs,
        {"tolerance_m2": tolerance_m2},
        progress=progress,
        desc="classifying",
    )
    return concat_frames(frames)


def _classify_part(
    parcels: gpd.GeoDataFrame, planning: Planning, *, tolerance_m2: float
) -> gpd.GeoDataFrame:
    """One partition, on one core (a worker's)."""
    return classify_frame(parcels, planning, tolerance_m2=tolerance_m2, n_jobs=1)
