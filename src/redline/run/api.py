"""Chunk-parallel screening and classification: forked worker processes, or dask.

Two ways to use more than one core for one batch, both running the single-process
:func:`redline.screen` / :func:`redline.classify` on parts of it and putting the parts end to
end:

- :func:`screen_forked` / :func:`classify_forked`: consecutive chunks on worker processes forked
  from this one (Linux). :func:`redline.screen` and :func:`redline.classify` use them by default
  for large batches (:func:`fork_workers`), since much of a screening (raster statistics,
  corridor severance, pandas) holds the GIL and gains nothing from threads. Forked workers
  inherit the planning with its prepared layers and corridors (built here first), so nothing is
  pickled on the way in; only the results come back.
- :func:`screen_dask` / :func:`classify_dask`: the partitions of a dask-geopandas GeoDataFrame,
  on dask's schedulers or a distributed cluster. The planning (and the ruleset) is sent to the
  workers once: scattered to every worker of a distributed client, or one node of the graph
  under dask's local schedulers. A worker rebuilds the prepared (subdivided, indexed) layers on
  first use and keeps them for the later partitions it runs.

Every site is screened on its own, so the parts' results put end to end are the
single-process result: same rows, columns, order and values. What one part cannot see is
checked on the whole input (``site_id`` unique across parts) or made independent of the
partitioning (a part whose sites all lie outside Jilin; see :func:`screen_part`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from redline.crs import JILIN_LONLAT_BOUNDS, lonlat_bounds, outside_extent
from redline.errors import CRSError, LayerError
from redline.planning import Planning, load_planning
from redline.rules import RuleSet, load_rules
from redline.screening import LAYER_OVERLAPS, SITE_COLUMNS, Screening, screen
from redline.zoning import CLASSIFY_COLUMNS, _with_classification, classify

if TYPE_CHECKING:
    import dask_geopandas
    import distributed

__all__ = [
    "FORK_MIN_PARCELS",
    "FORK_MIN_SITES",
    "Part",
    "classify_dask",
    "classify_forked",
    "concat_screenings",
    "fork_workers",
    "is_dask_frame",
    "raise_if_wholly_outside",
    "screen_dask",
    "screen_forked",
    "screen_part",
]

log = logging.getLogger(__name__)

#: Fewest sites for which :func:`redline.screen` forks worker processes; smaller batches use
#: the overlay engine's threads. Starting the workers costs ~0.3 s: on 2 idle cores forking
#: gave 0.85x at 5,000 sites, 1.1x at 10,000, 1.9x at 20,000 and 1.7x at 100,000.
FORK_MIN_SITES = 20_000
#: The same for :func:`redline.classify` (parcels take ~5 µs each): forking gave 1.2x at
#: 50,000 parcels, 1.6x at 100,000 and 1.8x at 1,000,000 (threads: 1.1x).
FORK_MIN_PARCELS = 50_000
#: Chunks per worker process (load balance), each of at most :data:`_MAX_CHUNK` rows (a
#: worker's memory: screening 1e6 sites on 2 workers peaked at 3.9 GB, caller and workers
#: together, with chunks of 100,000, at 3.6 GB with 50,000). Chunks are consecutive rows:
#: chunks of nearby sites (Hilbert order; smaller raster windows) were 1.29x against 1.2x at
#: 20,000 sites but 1.53x against 1.65x at 100,000, their costs being uneven.
_CHUNKS_PER_WORKER = 4
_MAX_CHUNK = 50_000
#: What forked workers run, by job token: set before the fork, so the workers inherit it.
_FORKED: dict[str, tuple[Callable[[gpd.GeoDataFrame], Any], gpd.GeoDataFrame]] = {}

#: Plannings scattered to distributed workers, by planning and client id (see :func:`_scatter`).
_SCATTERED: weakref.WeakKeyDictionary[Planning, dict[str, Any]] = weakref.WeakKeyDictionary()

#: ``site_id`` of the stand-in site :func:`screen_part` adds to a part lying wholly outside Jilin.
_PROBE_ID = "\x00redline-probe"


def is_dask_frame(data: object) -> bool:
    """Whether ``data`` is a dask-geopandas GeoDataFrame (without importing dask otherwise).

    Parameters
    ----------
    data
        Anything.

    Returns
    -------
    bool

    Examples
    --------
    >>> import dask_geopandas, shapely
    >>> frame = gpd.GeoDataFrame(geometry=[shapely.Point(125.3, 43.9)], crs=4490)
    >>> is_dask_frame(frame), is_dask_frame(dask_geopandas.from_geopandas(frame, npartitions=1))
    (False, True)
    """
    module = type(data).__module__
    if not module.startswith(("dask_geopandas", "dask")):
        return False
    import dask_geopandas

    return isinstance(data, dask_geopandas.GeoDataFrame)


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
        Sites as for :func:`redline.screen`, in any number of partitions.
    planning, rules, crs
        As for :func:`redline.screen`; loaded once here, then sent to the workers once.
    client
        A ``distributed.Client``; default the active one (``with client.as_current():`` or
        the default client), else dask's local scheduler (threads).
    progress
        Show a progress bar over the partitions.

    Returns
    -------
    Screening
        Equal to ``redline.screen(sites.compute(), planning, rules=rules, crs=crs)``; the
        partitions' warnings are re-issued here once each.

    Raises
    ------
    LayerError
        Missing or duplicate ``site_id`` values, within or across partitions.
    CRSError
        Sites without CRS (and no ``crs=``), or none of them in Jilin.

    Examples
    --------
    >>> import dask_geopandas
    >>> from redline import datasets
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(8)
    >>> result = screen_dask(dask_geopandas.from_geopandas(sites, npartitions=2))
    >>> result
    Screening of 8 sites against 25 rules: prohibited 3, advisory 4, clear 1; 15 findings
    >>> result.sites.index.equals(sites.index)
    True
    """
    planning = planning if planning is not None else load_planning()
    ruleset = rules if isinstance(rules, RuleSet) else load_rules(rules)
    client = _client(client)
    refs = _broadcast(client, planning=planning, ruleset=ruleset)
    parts: list[Part] = _run(
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
        Parcels as for :func:`redline.classify`, in any number of partitions.
    planning, tolerance_m2
        As for :func:`redline.classify`; the planning is sent to the workers once.
    client, progress
        As for :func:`screen_dask`.

    Returns
    -------
    geopandas.GeoDataFrame
        Equal to ``redline.classify(parcels.compute(), planning, tolerance_m2=tolerance_m2)``.

    Examples
    --------
    >>> import dask_geopandas
    >>> from redline import datasets
    >>> planning = load_planning()
    >>> parcels = gpd.read_file(datasets.get_path("parcels"))
    >>> zoned = classify_dask(dask_geopandas.from_geopandas(parcels, npartitions=4), planning)
    >>> zoned["zone"].value_counts().to_dict()
    {'key': 1611, 'prohibited': 844, 'restricted': 817}
    >>> zoned["zone"].equals(classify(parcels, planning)["zone"])
    True
    """
    planning = planning if planning is not None else load_planning()
    client = _client(client)
    refs = _broadcast(client, planning=planning)
    frames: list[gpd.GeoDataFrame] = _run(
        client,
        _classify_part,
        parcels,
        refs,
        {"tolerance_m2": tolerance_m2},
        progress=progress,
        desc="classifying",
    )
    return _concat_frames(frames)


def fork_workers(n_items: int, n_jobs: int | None, *, minimum: int) -> int:
    """How many worker processes to fork for a batch of ``n_items`` (1: none, run here).

    Parameters
    ----------
    n_items
        Sites or parcels in the batch.
    n_jobs
        Cores the caller allows (``None``: every core this process may run on).
    minimum
        Fewest items worth forking for (:data:`FORK_MIN_SITES`, :data:`FORK_MIN_PARCELS`).

    Returns
    -------
    int
        ``min(n_jobs, cores)`` on Linux for a batch of at least ``minimum`` items, else 1.

    Raises
    ------
    LayerError
        ``n_jobs`` below 1.

    Examples
    --------
    >>> fork_workers(100, 2, minimum=FORK_MIN_SITES)
    1
    >>> fork_workers(1_000_000, 1, minimum=FORK_MIN_SITES)
    1
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jobs = (cores or 1) if n_jobs is None else n_jobs
    if jobs < 1:
        raise LayerError(f"n_jobs must be at least 1; received {n_jobs}")
    # fork only where it is the platform's own way (not macOS, where it is unsafe)
    forkable = (
        sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    )
    if not forkable or n_items < minimum:
        return 1
    return max(1, min(jobs, cores or 1, n_items // max(1, minimum // 2)))


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
        As for :func:`redline.screen`, with unique ``site_id`` values (checked by the caller).
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
        Equal to ``redline.screen(sites, planning, rules=ruleset, crs=crs, n_jobs=1)``; the
        workers' warnings are re-issued here once each.

    Raises
    ------
    CRSError
        Sites without CRS (and no ``crs=``), or none of them in Jilin.

    Examples
    --------
    >>> from redline import datasets
    >>> planning, rules = load_planning(), load_rules()
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(8)
    >>> screen_forked(sites, planning, rules, n_jobs=2)
    Screening of 8 sites against 25 rules: prohibited 3, advisory 4, clear 1; 15 findings
    """
    for kind in {*ruleset.by_layer(), *(kind for kind, _ in LAYER_OVERLAPS.values())}:
        if kind in planning and kind not in planning.rasters:
            planning.prepared(kind)
    planning.corridors(ruleset.corridor_half_widths_m)
    _ = planning.extent

    def screen_chunk(chunk: gpd.GeoDataFrame) -> Part:
        part = screen_part(chunk, planning, ruleset, crs=crs)
        # only the added columns go back: the parent holds the sites
        return replace(part, sites=pd.DataFrame(part.sites[list(SITE_COLUMNS)]))

    parts: list[Part] = _fork_map(
        screen_chunk, sites, n_jobs=n_jobs, progress=progress, desc="screening"
    )
    raise_if_wholly_outside(parts)
    added = pd.concat([part.sites for part in parts])
    out = sites.copy()
    for name in SITE_COLUMNS:
        out[name] = pd.Series(added[name].to_numpy(), index=out.index, dtype=added[name].dtype)
    return Screening(
        sites=out,
        findings=_concat_frames([part.findings for part in parts]).reset_index(drop=True),
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
        As for :func:`redline.classify`.
    planning, tolerance_m2
        As for :func:`redline.classify`; the planning's zoning layer is prepared here first,
        so that every worker inherits it.
    n_jobs
        Worker processes.
    progress
        Show a progress bar over the chunks.

    Returns
    -------
    geopandas.GeoDataFrame
        Equal to ``redline.classify(parcels, planning, tolerance_m2=tolerance_m2, n_jobs=1)``.

    Examples
    --------
    >>> from redline import datasets
    >>> planning = load_planning()
    >>> parcels = gpd.read_file(datasets.get_path("parcels"))
    >>> zoned = classify_forked(parcels, planning, n_jobs=2)
    >>> zoned["zone"].equals(classify(parcels, planning, n_jobs=1)["zone"])
    True
    """
    planning.prepared("zoning")
    _ = planning.extent

    def classify_chunk(chunk: gpd.GeoDataFrame) -> pd.DataFrame:
        zoned = classify(chunk, planning, tolerance_m2=tolerance_m2, n_jobs=1)
        return pd.DataFrame(zoned[list(CLASSIFY_COLUMNS)])

    added = pd.concat(
        _fork_map(classify_chunk, parcels, n_jobs=n_jobs, progress=progress, desc="classifying")
    )
    return _with_classification(parcels, added)


def _fork_map(
    func: Callable[[gpd.GeoDataFrame], Any],
    frame: gpd.GeoDataFrame,
    *,
    n_jobs: int,
    progress: bool,
    desc: str,
) -> list[Any]:
    """``func`` on consecutive row chunks of ``frame`` in forked processes; results in order.

    The workers are forked after ``func`` and ``frame`` are registered, so they inherit both
    (and everything ``func`` refers to) instead of receiving them pickled; the processes start
    before any progress-bar thread, and every other thread of redline's is finished by then.
    """
    from tqdm.auto import tqdm

    n = len(frame)
    size = min(_MAX_CHUNK, max(1, -(-n // (n_jobs * _CHUNKS_PER_WORKER))))
    bounds = [(start, min(start + size, n)) for start in range(0, n, size)]
    token = uuid.uuid4().hex
    _FORKED[token] = (func, frame)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=n_jobs, mp_context=context) as pool:
            results = pool.map(_run_forked, [(token, *b) for b in bounds])
            with tqdm(total=len(bounds), desc=desc, unit="chunk", disable=not progress) as bar:
                done = []
                for result in results:
                    done.append(result)
                    bar.update()
    finally:
        del _FORKED[token]
    _reissue(caught for _, caught in done)
    return [value for value, _ in done]


def _run_forked(task: tuple[str, int, int]) -> tuple[Any, list[tuple[type[Warning], str]]]:
    """In a forked worker: the registered function on rows ``start:stop`` of its frame."""
    token, start, stop = task
    func, frame = _FORKED[token]
    return _call_capturing(func, frame.iloc[start:stop])


def concat_screenings(parts: Sequence[Screening]) -> Screening:
    """Put screenings of disjoint sets of sites end to end, in the order given.

    Parameters
    ----------
    parts
        Screenings against the same planning object and equal rulesets.

    Returns
    -------
    Screening
        Sites, findings and layer overlaps of every part in order (findings renumbered).

    Raises
    ------
    ValueError
        No parts, or parts screened against different plannings or rulesets.
    LayerError
        The same ``site_id`` in two parts.

    Examples
    --------
    >>> from redline import datasets
    >>> planning, rules = load_planning(), load_rules()
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(8)
    >>> halves = [screen(sites.iloc[:5], planning, rules=rules),
    ...           screen(sites.iloc[5:], planning, rules=rules)]
    >>> concat_screenings(halves)
    Screening of 8 sites against 25 rules: prohibited 3, advisory 4, clear 1; 15 findings
    """
    if not parts:
        raise ValueError("concat_screenings needs at least one Screening; received none")
    first = parts[0]
    for i, part in enumerate(parts):
        if part.planning is not first.planning or part.rules != first.rules:
            raise ValueError(
                f"screening {i} was made against another planning or ruleset than screening 0; "
                "only screenings against the same Planning object and equal rules can be "
                "combined: screen every part with the same planning and rules"
            )
    sites = _concat_frames([p.sites for p in parts])
    ids = sites["site_id"].astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        source = str(first.sites.attrs.get("redline", {}).get("path", "sites"))
        raise LayerError(
            f"{source}: site_id values are not unique: {sorted(set(dup))[:10]} "
            f"({len(dup)} rows, in different partitions or chunks); findings are reported by "
            "site_id, so each site needs its own"
        )
    findings = _concat_frames([p.findings for p in parts]).reset_index(drop=True)
    layer_overlaps = pd.concat([p.layer_overlaps for p in parts])
    return Screening(
        sites=sites,
        findings=findings,
        layer_overlaps=layer_overlaps,
        planning=first.planning,
        rules=first.rules,
    )


# -- one partition -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """What :func:`screen_part` sends back for one partition or chunk.

    Attributes
    ----------
    sites, findings, layer_overlaps
        As in :class:`~redline.screening.Screening` (the caller holds planning and rules).
    inside
        The part holds a site in Jilin.
    outside
        The error :func:`redline.screen` raised for the part alone because every site with a
        geometry lies outside Jilin, else ``None``.

    Examples
    --------
    >>> import shapely
    >>> beijing = gpd.GeoDataFrame({"site_id": ["BJ-1"]}, crs=4490,
    ...                            geometry=[shapely.Point(116.4, 39.9)])
    >>> part = screen_part(beijing, load_planning(), load_rules())
    >>> part.inside, type(part.outside).__name__, part.sites["verdict"].tolist()
    (False, 'CRSError', ['not_assessed'])
    """

    sites: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    layer_overlaps: pd.DataFrame
    inside: bool
    outside: CRSError | None

    def screening(self, planning: Planning, ruleset: RuleSet) -> Screening:
        """The part as a :class:`~redline.screening.Screening`.

        Parameters
        ----------
        planning, ruleset
            What the part was screened against.

        Returns
        -------
        Screening

        Examples
        --------
        >>> from redline import datasets
        >>> planning, rules = load_planning(), load_rules()
        >>> sites = gpd.read_file(datasets.get_path("sites")).head(3)
        >>> screen_part(sites, planning, rules).screening(planning, rules)
        Screening of 3 sites against 25 rules: advisory 3; 3 findings
        """
        return Screening(
            sites=self.sites,
            findings=self.findings,
            layer_overlaps=self.layer_overlaps,
            planning=planning,
            rules=ruleset,
        )


def raise_if_wholly_outside(parts: Iterable[Part]) -> None:
    """Raise what :func:`redline.screen` raises for the whole input when no part holds a site in
    Jilin but some hold sites outside it (the error of the first such part).

    Parameters
    ----------
    parts
        The parts of one input, from :func:`screen_part`.

    Raises
    ------
    CRSError
        No part holds a site in Jilin.

    Examples
    --------
    >>> import shapely
    >>> planning, rules = load_planning(), load_rules()
    >>> beijing = gpd.GeoDataFrame({"site_id": ["BJ-1"]}, crs=4490,
    ...                            geometry=[shapely.Point(116.4, 39.9)])
    >>> changchun = gpd.GeoDataFrame({"site_id": ["CC-1"]}, crs=4490,
    ...                              geometry=[shapely.Point(125.3, 43.9)])
    >>> far, near = (screen_part(s, planning, rules) for s in (beijing, changchun))
    >>> raise_if_wholly_outside([far, near])  # one part in Jilin: nothing to raise
    >>> raise_if_wholly_outside([far])
    Traceback (most recent call last):
    ...
    redline.errors.CRSError: sites: 1 of 1 features fall outside Jilin ...
    """
    parts = list(parts)
    if not any(part.inside for part in parts):
        for part in parts:
            if part.outside is not None:
                raise part.outside


def screen_part(
    sites: gpd.GeoDataFrame,
    planning: Planning,
    ruleset: RuleSet,
    *,
    crs: Any = None,
    n_jobs: int | None = 1,
) -> Part:
    """Screen one partition or chunk (one core by default), independently of the partitioning.

    :func:`redline.screen` refuses sites that all lie outside Jilin (a wrong CRS, most likely);
    for the whole input that is right, for one part of it not: a part of a national file can
    hold no Jilin site at all. Such a part is screened with a stand-in point in Jilin added
    (and removed from the result: every site is screened on its own), and the error it raised
    alone is returned so the caller can raise it when no part at all lies in Jilin
    (:func:`raise_if_wholly_outside`).

    Parameters
    ----------
    sites
        One partition or chunk, as for :func:`redline.screen`.
    planning, ruleset
        What to screen against.
    crs
        CRS to assume for sites that declare none.
    n_jobs
        Cores, as for :func:`redline.screen` (1 on a worker).

    Returns
    -------
    Part

    Examples
    --------
    >>> from redline import datasets
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(3)
    >>> part = screen_part(sites, load_planning(), load_rules())
    >>> part.inside, part.outside, part.sites["verdict"].tolist()
    (True, None, ['advisory', 'advisory', 'advisory'])
    """
    try:
        result = screen(sites, planning, rules=ruleset, crs=crs, n_jobs=n_jobs)
    except CRSError as err:
        if not _wholly_outside(sites, crs):
            raise
        # without its traceback, which holds the part's data alive for as long as it is kept
        error = err.with_traceback(None)
        return _screen_with_probe(sites, planning, ruleset, crs=crs, n_jobs=n_jobs, error=error)
    geoms = np.asarray(sites.geometry.values)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return Part(
        sites=result.sites,
        findings=result.findings,
        layer_overlaps=_float(result.layer_overlaps),
        inside=bool(present.any()),
        outside=None,
    )


def _wholly_outside(sites: gpd.GeoDataFrame, crs: Any) -> bool:
    """Whether the sites have a CRS and every present one lies outside Jilin (the case
    :func:`redline.crs.to_working` refuses)."""
    if sites.crs is None and crs is None:
        return False
    declared = sites if sites.crs is not None else sites.set_crs(crs)
    lonlat = lonlat_bounds(declared)
    present = ~np.isnan(lonlat).any(axis=1)
    return bool(present.any() and outside_extent(lonlat)[present].all())


def _screen_with_probe(
    sites: gpd.GeoDataFrame,
    planning: Planning,
    ruleset: RuleSet,
    *,
    crs: Any,
    n_jobs: int | None,
    error: CRSError,
) -> Part:
    declared = sites if sites.crs is not None else sites.set_crs(crs)
    lon = (JILIN_LONLAT_BOUNDS[0] + JILIN_LONLAT_BOUNDS[2]) / 2
    lat = (JILIN_LONLAT_BOUNDS[1] + JILIN_LONLAT_BOUNDS[3]) / 2
    to_sites = pyproj.Transformer.from_crs(4326, declared.crs, always_xy=True)
    ids = (
        sites["site_id"].to_numpy(dtype=object)
        if "site_id" in sites.columns
        else np.array([str(i) for i in sites.index], dtype=object)
    )
    columns = {"site_id": [*ids, _PROBE_ID]}
    if "project_type" in sites.columns:
        columns["project_type"] = [*sites["project_type"].to_numpy(dtype=object), None]
    probe = gpd.GeoDataFrame(
        columns,
        geometry=[*declared.geometry.values, shapely.Point(to_sites.transform(lon, lat))],
        crs=declared.crs,
    )
    probe.attrs = sites.attrs
    result = screen(probe, planning, rules=ruleset, n_jobs=n_jobs)
    out = sites.copy()
    for column in SITE_COLUMNS:
        out[column] = result.sites[column].to_numpy()[:-1]
    findings = result.findings[result.findings["site_id"] != _PROBE_ID].reset_index(drop=True)
    overlaps = _float(result.layer_overlaps.iloc[:-1].set_axis(sites.index))
    return Part(sites=out, findings=findings, layer_overlaps=overlaps, inside=False, outside=error)


def _float(layer_overlaps: pd.DataFrame) -> pd.DataFrame:
    """Areas as float64 whatever the part holds (numpy's bincount of no pairs gives int64)."""
    return layer_overlaps.astype("float64")


def _classify_part(
    parcels: gpd.GeoDataFrame, planning: Planning, *, tolerance_m2: float
) -> gpd.GeoDataFrame:
    return classify(parcels, planning, tolerance_m2=tolerance_m2, n_jobs=1)


# -- scheduling ----------------------------------------------------------------------------------
def _client(client: distributed.Client | None) -> distributed.Client | None:
    """The client given, else the active distributed client, else ``None`` (local scheduler)."""
    if client is not None:
        return client
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    try:
        return Client.current(allow_global=True)
    except ValueError:
        return None


def _broadcast(client: distributed.Client | None, **values: Any) -> list[Any]:
    """Each value once for all partitions: scattered to every worker, or one graph node."""
    import dask

    if client is not None:
        return [_scatter(client, value) for value in values.values()]
    token = uuid.uuid4().hex
    return [dask.delayed(value, name=f"redline-{name}-{token}") for name, value in values.items()]


def _scatter(client: distributed.Client, value: Any) -> Any:
    """``value`` on every worker of ``client``. A planning is scattered once per client and
    kept there while it lives here, so that later calls find it on the workers with the
    prepared layers and corridors they built (unpickling and preparing it again took ~0.3 s a
    worker per call)."""
    if not isinstance(value, Planning):
        return client.scatter(value, broadcast=True, hash=False)
    kept = _SCATTERED.setdefault(value, {})
    future = kept.get(client.id)
    if future is None or future.status != "finished":  # first call, or workers lost it
        future = kept[client.id] = client.scatter(value, broadcast=True, hash=False)
    return future


def _run(
    client: distributed.Client | None,
    func: Callable[..., Any],
    frame: dask_geopandas.GeoDataFrame,
    refs: list[Any],
    options: dict[str, Any],
    *,
    progress: bool,
    desc: str,
) -> list[Any]:
    """``func(partition, *refs, **options)`` on every partition; results in partition order.

    On distributed workers (other processes) the warnings a partition raises are sent back and
    re-issued here once each; under the local threaded scheduler they reach the caller directly.
    """
    import dask
    from tqdm.auto import tqdm

    if not is_dask_frame(frame):
        raise TypeError(f"expected a dask_geopandas.GeoDataFrame, not {type(frame).__name__}")
    token = uuid.uuid4().hex
    call = dask.delayed(_call_capturing if client is not None else func, pure=False)
    head = (func,) if client is not None else ()
    tasks = [
        call(*head, part, *refs, **options, dask_key_name=f"redline-{desc}-{token}-{i}")
        for i, part in enumerate(frame.to_delayed())
    ]
    bar = tqdm(total=len(tasks), desc=desc, unit="partition", disable=not progress)
    with bar:
        if client is None:
            from dask.callbacks import Callback

            def done(key: Any, *_: Any) -> None:
                if isinstance(key, str) and key.startswith(f"redline-{desc}-{token}-"):
                    bar.update()

            with Callback(posttask=done):
                return list(dask.compute(*tasks))
        from distributed import as_completed

        futures = client.compute(tasks)
        for _ in as_completed(futures, loop=client.loop):
            bar.update()
        results = client.gather(futures)
    _reissue(warned for _, warned in results)
    return [value for value, _ in results]


def _reissue(caught: Iterable[list[tuple[type[Warning], str]]]) -> None:
    """Issue here, once each, the warnings other processes caught."""
    seen: set[tuple[type[Warning], str]] = set()
    for warned in caught:
        for category, message in warned:
            if (category, message) not in seen:
                seen.add((category, message))
                warnings.warn(message, category, stacklevel=4)


def _call_capturing(
    func: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, list[tuple[type[Warning], str]]]:
    """Run ``func`` on a worker, returning its result and the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    return value, [(w.category, str(w.message)) for w in caught]


def _concat_frames(frames: Iterable[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Frames end to end, keeping their indexes, geometry column and CRS."""
    frames = list(frames)
    non_empty = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(non_empty) if len(non_empty) > 1 else non_empty[0].copy()
    return gpd.GeoDataFrame(out, geometry=frames[0].geometry.name, crs=frames[0].crs)
