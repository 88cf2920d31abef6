"""redline benchmark: the overlay engine, screening and classification against the naive
``geopandas.overlay`` baseline, on deterministic synthetic data, in one run.

Sections (issue 7 §1):

- ``engine``: :func:`redline.overlay.overlaps` on a complex layer (10,000 polygons, ~2.8 M
  vertices, a 1,000 km river corridor) with sites of 1–10 ha, one and two threads, against
  ``geopandas.overlay`` + area; identical pair sets and total areas (asserted);
- ``screening``: :func:`redline.screen` on the bundled sample one map (every rule: corridors,
  rasters, proximity) against two naive baselines: *like for like* (every check the rules
  make, with geopandas and rasterio: :func:`_naive_screening`; the screening target is judged
  against it) and *the given polygon layers only* (one ``geopandas.overlay`` per polygon layer
  and per-site area sums, also done by redline's engine alone), with the answers checked
  against redline's (see ``docs/performance.md``);
- ``classification``: :func:`redline.classify` of a parcel tessellation against the sample
  zoning, beside the same baseline (shares checked);
- ``dask``: ``redline.screen`` of a dask-geopandas frame on a 2-process ``LocalCluster``
  against the single process (skipped with ``--no-dask``);
- threads (``n_jobs=1`` against the default), the scaling exponent (log-log slope of time
  against n) and a profile of the largest run.

Every measurement runs in its own subprocess, timed without a memory sampler beside it, so
``peak_rss_mb`` is that measurement's own: the process's peak RSS or, for one that may run in
several processes, the peak of its memory plus its forked workers' (sum of proportional set
sizes, sampled every 0.2 s in a second run of it: :func:`measure_apart`); ``--quick`` runs
each section in one process, sampled, instead. Results: ``results.json`` and
``results.md`` in ``--out`` (default ``benchmarks/results/``).

Run from the project root::

    .venv/bin/python benchmarks/run.py            # the full run (~10 min on 2 cores)
    .venv/bin/python benchmarks/run.py --quick --out /tmp/bench   # smoke run, < 1 min
    .venv/bin/python benchmarks/run.py --no-dask  # without the dask section
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import rasterio  # noqa: E402

from redline.screening import LAYER_OVERLAPS  # noqa: E402

if TYPE_CHECKING:
    from redline.planning import Planning
    from redline.rules import RuleSet

RESULTS = HERE / "results"
#: Relative tolerance on areas between redline and the baseline.
AREA_RTOL = 1e-9
#: A site's area in a layer or a rule's features that redline may read as a sliver (a grazing
#: corner nowhere 5 cm wide, or as wide as the bow of a long edge across CRSs) where the
#: baselines count it (m²): reported, not failed (measured: one 0.0085 m² corner on 2e4 sites,
#: at most 0.50 m² on 1e5).
SLIVER_AREA_M2 = 1.0
#: Sizes of the full and the quick run. ``compare``: the baselines (and, for screening, the
#: engine on the partial baseline's work) and the sizes they run at.
FULL: dict[str, Any] = {
    "engine": {
        "sizes": [10_000, 100_000, 1_000_000],
        "compare": {"baseline": [100_000]},
        "threads": [100_000, 1_000_000],
    },
    "screening": {
        "sizes": [1_000, 2_000, 10_000, 20_000, 100_000, 1_000_000],
        "compare": {
            "baseline": [2_000, 20_000],
            "baseline_layers": [1_000, 10_000, 20_000, 100_000],
            "overlaps": [1_000, 10_000, 20_000, 100_000],
        },
        "threads": [20_000, 100_000],
    },
    "classification": {
        "sizes": [10_000, 100_000, 1_000_000],
        "compare": {"baseline": [10_000, 100_000]},
        "threads": [100_000, 1_000_000],
    },
    "dask": {"sizes": [40_000, 200_000], "partitions": {40_000: 4, 200_000: 8}},
    "ratio_at": {"engine": 100_000, "screening": 20_000, "classification": 100_000},
}
QUICK: dict[str, Any] = {
    "engine": {
        "sizes": [1_000, 4_000],
        "compare": {"baseline": [1_000]},
        "threads": [1_000, 4_000],
    },
    "screening": {
        "sizes": [500, 2_000],
        "compare": {"baseline": [500], "baseline_layers": [500], "overlaps": [500]},
        "threads": [2_000],
    },
    "classification": {
        "sizes": [1_000, 4_000],
        "compare": {"baseline": [1_000]},
        "threads": [4_000],
    },
    "dask": {"sizes": [2_000], "partitions": {2_000: 2}},
    "ratio_at": {"engine": 1_000, "screening": 500, "classification": 1_000},
}
#: The complex layer of the quick run's engine section.
_QUICK_LAYER = {"n_blobs": 999, "vertices": 276_000}
#: The sections measured against naive baselines (the dask section compares two redline paths).
SECTIONS = ("engine", "screening", "classification")
#: Worker processes of the dask section's ``LocalCluster`` (one thread each).
DASK_WORKERS = 2
#: What each method is, per section (the tables' labels).
LABELS = {
    ("engine", "redline"): "redline",
    ("engine", "baseline"): "naive baseline: geopandas.overlay + area",
    ("screening", "redline"): "redline.screen, all rules",
    ("screening", "baseline"): "naive baseline, all rules (like for like)",
    ("screening", "baseline_layers"): "naive baseline, overlay of the given polygon layers only",
    ("screening", "overlaps"): "redline engine, the given polygon layers only",
    ("classification", "redline"): "redline",
    ("classification", "baseline"): "naive baseline: geopandas.overlay + area by zone",
    ("dask", "redline"): "redline.screen without dask",
    ("dask", "dask"): f"redline.screen of a dask-geopandas frame, {DASK_WORKERS} worker processes",
}
#: Targets of issue 7 §2 (and issue 3 §3).
TARGETS = {
    "engine_single_x": 15.0,
    "engine_threads_x": 25.0,
    "screening_x": 10.0,
    "screening_1e6_s": 180.0,
    "screening_1e6_peak_mb": 4096.0,
    "classification_x": 6.0,
    "classification_1e6_s": 30.0,
    "threads_x": 1.6,
    "dask_x": 1.6,
    "scaling_exponent": 1.1,
}
PROFILE_SKIP = ("decorators.py", "<genexpr>", "<lambda>", "<listcomp>", "built-in method builtins")


# -- the naive baselines --------------------------------------------------------------------


def _naive_layers(
    sites: gpd.GeoDataFrame, planning: Planning, *, dissolve: bool = True
) -> np.ndarray:
    """The partial baseline: one ``geopandas.overlay`` per polygon layer of
    :data:`~redline.screening.LAYER_OVERLAPS` (dissolved) and per-site area sums (polygon sites
    only)."""
    from redline.screening import LAYER_OVERLAPS

    polygonal = sites.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    left = sites[polygonal].reset_index(names="row")[["row", "geometry"]]
    table = np.zeros((len(sites), len(LAYER_OVERLAPS)))
    for column, (kind, selector) in enumerate(LAYER_OVERLAPS.values()):
        layer = planning[kind]
        if selector is not None:
            layer = layer[layer[selector[0]] == selector[1]]
        # dissolved: land in two features of a layer counts once, as in redline's layer totals;
        # per feature: as the engine's pairs add up
        pieces = gpd.overlay(
            left, layer[["geometry"]].dissolve() if dissolve else layer[["geometry"]],
            how="intersection", keep_geom_type=True,
        )
        area = pd.Series(pieces.area.to_numpy()).groupby(pieces["row"].to_numpy()).sum()
        table[area.index.to_numpy(), column] = area.to_numpy()
    return table


def _naive_session(planning: Planning, ruleset: RuleSet) -> dict[str, Any]:
    """What a notebook builds once and reuses for every batch of sites (as ``redline`` caches
    its prepared layers, corridors and slope grid per session): the corridor polygons — each
    river and road/rail line buffered by its class's half-width from the ruleset, dissolved per
    class, clipped to the province — and the slope grid of the DEM in an in-memory GeoTIFF."""
    from rasterio.io import MemoryFile

    from redline.corridors import CORRIDOR_LAYERS

    half_width = ruleset.corridor_half_widths_m
    buffered = []
    for kind in CORRIDOR_LAYERS:
        lines = planning[kind]
        distance = (kind + "." + lines["corridor"].astype(str)).map(half_width)
        buffered.append(
            gpd.GeoDataFrame(
                {"corridor": lines["corridor"].astype(str).to_numpy()},
                geometry=lines.buffer(distance.to_numpy()),
                crs=planning.crs,
            )
        )
    corridors = pd.concat(buffered, ignore_index=True).dissolve(by="corridor", as_index=False)
    corridors = gpd.clip(corridors, planning.extent)
    with rasterio.open(planning.rasters["dem"].path) as dem:
        z = dem.read(1, masked=True).astype(np.float64).filled(np.nan)
        profile, transform = dem.profile, dem.transform
    # slope from central differences, pixel sizes in metres at each row's latitude
    lat = transform.f + (np.arange(z.shape[0]) + 0.5) * transform.e
    dx = transform.a * 111_320.0 * np.cos(np.radians(lat))[:, None]
    dy = -transform.e * 110_574.0
    dz_dy, dz_dx = np.gradient(z)
    slope = np.degrees(np.arctan(np.hypot(dz_dx / dx, dz_dy / dy))).astype(np.float32)
    profile.update(dtype="float32", nodata=np.nan)
    memfile = MemoryFile()
    with memfile.open(**profile) as out:
        out.write(slope, 1)
    return {
        "corridors": corridors,
        "landcover": rasterio.open(planning.rasters["landcover"].path),
        "slope": memfile.open(),
        "memfile": memfile,
    }


def _naive_screening(
    sites: gpd.GeoDataFrame, planning: Planning, ruleset: RuleSet, session: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The like-for-like baseline: the answers :func:`redline.screen` bases its findings on,
    computed the way a planner's notebook would, one geopandas / rasterio call per layer.

    - every overlap rule (zoning, red lines, reserves, water sources, farmland, scenic areas and
      the corridors of :func:`_naive_session`): ``geopandas.overlay`` of the sites with the
      layer, one call per layer and geometry family (areas of polygon sites, lengths of line
      sites; ``geopandas.sjoin`` for point sites), summed per site for the features each rule
      selects;
    - every proximity rule: ``geopandas.sjoin_nearest(..., max_distance=distance_m)``;
    - land cover and slope: ``rasterio.mask.mask`` per site (points and lines buffered by 5 m,
      as redline assesses them), counting the pixels whose centre is inside the site (all
      pixels touched when no centre is): class shares; mean and maximum slope.

    The seconds spent in the raster loop are left in ``session["raster_s"]``.
    """
    from rasterio.mask import mask

    from redline.rules import CORRIDORS

    k = len(sites)
    family = sites.geom_type.map(
        {
            "Polygon": "polygon",
            "MultiPolygon": "polygon",
            "LineString": "line",
            "MultiLineString": "line",
            "Point": "point",
            "MultiPoint": "point",
        }
    ).to_numpy()
    left = sites.reset_index(names="row")[["row", "geometry"]]
    rules = [r for r in ruleset if r.test == "overlap"]
    measure = np.zeros((k, len(rules)))
    table = np.zeros((k, len(LAYER_OVERLAPS)))
    # every kind an overlap rule reads, and every kind the layer totals measure (a kind with an
    # `outside` rule only, such as the urban boundary, is in the totals all the same)
    totals = [kind_ for kind_, _ in LAYER_OVERLAPS.values() if kind_ in planning]
    for kind in dict.fromkeys([*(r.layer for r in rules), *totals]):
        layer = session["corridors"] if kind == CORRIDORS else planning[kind]
        fields = sorted(
            {f for r in rules if r.layer == kind for f in r.where}
            | {sel[0] for kind_, sel in LAYER_OVERLAPS.values() if kind_ == kind and sel}
        )
        right = layer[[*fields, "geometry"]]
        for geom_family in ("polygon", "line", "point"):
            subset = left[family == geom_family]
            if not len(subset):
                continue
            if geom_family == "point":
                pieces = gpd.sjoin(subset, right, predicate="intersects")
                size = np.ones(len(pieces))
            else:
                pieces = gpd.overlay(subset, right, how="intersection", keep_geom_type=True)
                size = (pieces.area if geom_family == "polygon" else pieces.length).to_numpy()
            row = pieces["row"].to_numpy()
            for column, rule in enumerate(rules):
                if rule.layer != kind:
                    continue
                keep = np.ones(len(pieces), dtype=bool)
                for field, values in rule.where.items():
                    keep &= pieces[field].isin(_with_superseded(kind, field, values)).to_numpy()
                sums = np.bincount(row[keep], weights=size[keep], minlength=k)
                measure[:, column] += np.minimum(sums, 1.0) if geom_family == "point" else sums
            if geom_family == "polygon":  # layer totals: land in two features counts once
                for column, (kind_, selector) in enumerate(LAYER_OVERLAPS.values()):
                    if kind_ == kind:
                        chosen = right if selector is None else right[
                            (right[selector[0]] == selector[1]).to_numpy()]
                        merged = gpd.overlay(subset, chosen[["geometry"]].dissolve(),
                                             how="intersection", keep_geom_type=True)
                        table[:, column] = np.bincount(merged["row"].to_numpy(),
                                                       weights=merged.area.to_numpy(), minlength=k)
    near = [r for r in ruleset if r.test == "proximity"]
    distance = np.full((k, len(near)), np.nan)
    for column, rule in enumerate(near):
        layer = planning[rule.layer]
        for field, values in rule.where.items():
            layer = layer[layer[field].isin(_with_superseded(rule.layer, field, values))]
        joined = gpd.sjoin_nearest(
            left, layer[["geometry"]], max_distance=rule.distance_m, distance_col="distance_m"
        )
        nearest = joined.groupby("row")["distance_m"].min()
        distance[nearest.index.to_numpy(), column] = nearest.to_numpy()
    # rasters: one mask per site and raster, in the rasters' CRS
    raster_start = time.perf_counter()
    geoms = sites.geometry.copy()
    thin = family != "polygon"
    geoms[thin] = geoms[thin].buffer(5.0)
    landcover, slope = session["landcover"], session["slope"]
    geoms = geoms.to_crs(landcover.crs).to_numpy()
    classes = planning.rasters["landcover"].classes
    names = planning.rasters["landcover"].class_names
    code_column = np.full(256, -1)
    for code, name in classes.items():
        code_column[code] = names.index(name)
    shares = np.full((k, len(names)), np.nan)
    slopes = np.full((k, 2), np.nan)

    def pixels(dataset: rasterio.io.DatasetReader, geom: Any) -> np.ndarray:
        for all_touched in (False, True):  # centres inside; else every pixel touched
            values, _ = mask(dataset, [geom], crop=True, filled=False, all_touched=all_touched)
            values = values.compressed()
            values = values[np.isfinite(values)]
            if values.size:
                break
        return values

    for i, geom in enumerate(geoms):
        codes = pixels(landcover, geom)
        if codes.size:
            shares[i] = np.bincount(code_column[codes], minlength=len(names)) / codes.size
        degrees = pixels(slope, geom)
        if degrees.size:
            slopes[i] = degrees.mean(), degrees.max()
    session["raster_s"] = time.perf_counter() - raster_start
    return {
        "measure": measure,
        "table": table,
        "distance": distance,
        "shares": shares,
        "slope": slopes,
    }


# -- workers (one measurement, in its own process) ----------------------------------------------


def _peak_mb() -> float:
    """Peak RSS (MB) of this process (its forked workers are measured by
    :func:`measure_apart`)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """CPU seconds of this process (every thread) and of its finished children (the worker
    processes ``redline.screen`` forks; a dask cluster's workers are not counted)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _timed(fn: Callable[..., Any], *, profile: bool) -> tuple[Any, float, float, list[dict]]:
    """Run ``fn``; wall and CPU seconds (see :func:`_cpu_s`), optional profile.

    ``fn(20)`` runs first, untimed: lazy imports, prepared layers, corridors and raster handles
    are set up once per process, as in any session that screens more than once.
    """
    fn(20)
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), _cpu_s()
    if profiler is not None:
        profiler.enable()
    out = fn()
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, _cpu_s() - cpu
    return out, wall, cpu, _profile_rows(profiler, wall) if profiler is not None else []


def _profile_rows(profiler: cProfile.Profile, total: float, top: int = 15) -> list[dict]:
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (path, line, name), (_, calls, tottime, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        label = f"{Path(path).name}:{line}({name})" if line else name
        if any(skip in label for skip in PROFILE_SKIP) or cumtime < 0.01 * total:
            continue
        rows.append(
            {
                "function": label,
                "calls": calls,
                "cumulative_s": round(cumtime, 3),
                "own_s": round(tottime, 3),
                "share": round(cumtime / total, 3),
            }
        )
    rows.sort(key=lambda r: -r["cumulative_s"])
    return rows[:top]


def _engine(
    method: str, n: int, n_jobs: int | None, *, quick: bool, profile: bool, save: Path | None
) -> dict:
    import geopandas as gpd
    from synthetic import make_complex_layer, make_engine_sites

    from redline.overlay import overlaps, prepare_layer

    layer = make_complex_layer(**(_QUICK_LAYER if quick else {}))
    sites = make_engine_sites(n)
    t0 = time.perf_counter()
    prepared = prepare_layer(layer) if method == "redline" else None
    setup_s = time.perf_counter() - t0
    if method == "redline":

        def run(k: int = n) -> tuple[np.ndarray, ...]:
            pairs = overlaps(sites[:k], prepared, n_jobs=n_jobs)
            pairs = pairs[~pairs["contact"].to_numpy()]
            return tuple(pairs[c].to_numpy() for c in ("subject", "feature", "overlap_m2"))
    else:

        def run(k: int = n) -> tuple[np.ndarray, ...]:
            left = gpd.GeoDataFrame({"s": np.arange(k)}, geometry=sites[:k])
            right = gpd.GeoDataFrame({"f": np.arange(len(layer))}, geometry=layer.geometry)
            pieces = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
            area = pieces.area.groupby([pieces["s"], pieces["f"]]).sum()
            return (
                area.index.get_level_values(0).to_numpy(),
                area.index.get_level_values(1).to_numpy(),
                area.to_numpy(),
            )

    (s, f, a), wall, cpu, rows = _timed(run, profile=profile)
    if save is not None:
        np.savez(save, subject=s, feature=f, area=a)
    counts = __import__("shapely").get_num_coordinates(layer.geometry.values)
    return {
        "setup_s": setup_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "profile": rows,
        "pairs": len(s),
        "data": {
            "features": len(layer),
            "vertices": int(counts.sum()),
            "largest_feature_vertices": int(counts.max()),
            "parts": None if prepared is None else len(prepared.parts),
        },
    }


def _screening(
    method: str, n: int, n_jobs: int | None, *, quick: bool, profile: bool, save: Path | None
) -> dict:
    from synthetic import make_sites

    from redline import screen
    from redline.geometry import prepare_subjects
    from redline.overlay import overlaps
    from redline.planning import load_planning
    from redline.rules import load_rules

    t0 = time.perf_counter()
    planning, ruleset = load_planning(), load_rules()
    sites = make_sites(planning, n)
    polygonal = sites.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    setup_s = time.perf_counter() - t0
    session: dict[str, Any] = {}
    if method == "redline":

        def run(k: int = n) -> Any:
            return screen(sites.iloc[:k], planning, rules=ruleset, n_jobs=n_jobs)
    elif method == "overlaps":  # the partial baseline's work only, done by redline's engine

        def run(k: int = n) -> np.ndarray:
            subjects = prepare_subjects(
                sites.iloc[:k], source="sites", working_crs=planning.crs, extent=planning.extent
            )
            geoms = np.asarray(subjects.geometry.values)
            table = np.zeros((k, len(LAYER_OVERLAPS)))
            for column, (kind, selector) in enumerate(LAYER_OVERLAPS.values()):
                pairs = overlaps(geoms, planning.prepared(kind), n_jobs=n_jobs)
                feature = pairs["feature"].to_numpy()
                keep = np.ones(len(pairs), dtype=bool)
                if selector is not None:
                    keep = planning[kind][selector[0]].to_numpy()[feature] == selector[1]
                table[:, column] = np.bincount(
                    pairs["subject"].to_numpy()[keep],
                    weights=pairs["overlap_m2"].to_numpy()[keep],
                    minlength=k,
                )
            return table
    elif method == "baseline_layers":

        def run(k: int = n) -> np.ndarray:
            return _naive_layers(sites.iloc[:k], planning)
    else:  # "baseline": like for like

        def run(k: int = n) -> dict[str, np.ndarray]:
            if not session:  # built once per session, in the untimed warm-up call
                session.update(_naive_session(planning, ruleset))
            return _naive_screening(sites.iloc[:k], planning, ruleset, session)

    out, wall, cpu, rows = _timed(run, profile=profile)
    if save is not None:
        if method == "redline":
            arrays = _redline_answers(out, sites, planning, ruleset)
        elif method == "baseline":
            arrays = out
        elif method == "baseline_layers":
            arrays = {"table": out,
                      "table_by_feature": _naive_layers(sites.iloc[:n], planning, dissolve=False)}
        else:
            arrays = {"table": out}
        np.savez(save, polygonal=polygonal, **arrays)
    data = {"polygons": int(polygonal.sum()), "points_and_lines": int((~polygonal).sum())}
    if method == "baseline":
        data["raster_loop_s"] = round(session["raster_s"], 3)
    return {"setup_s": setup_s, "wall_s": wall, "cpu_s": cpu, "profile": rows, "data": data}


def _redline_answers(
    result: Any, sites: gpd.GeoDataFrame, planning: Planning, ruleset: RuleSet
) -> dict[str, np.ndarray]:
    """What the like-for-like baseline computes, read from a :class:`redline.Screening` (after
    the timing): the per-site sums of each overlap rule's findings (area for polygon sites,
    length for lines, 1 for a point in a feature) and their count, each proximity rule's
    nearest finding, and the land-cover shares and slopes its raster rules read (the same
    :mod:`redline.raster` calls on the same sites). ``applies``: the rule can give the site a
    finding; ``assessable``: the site's geometry is screened (inside the planning extent)."""
    from redline.geometry import prepare_subjects
    from redline.raster import landcover_shares, slope_stats
    from redline.rules import CORRIDORS

    n = len(sites)
    position = pd.Series(np.arange(n), index=sites["site_id"].to_numpy())
    found = result.findings
    subject = position[found["site_id"].to_numpy()].to_numpy()
    family = sites.geom_type.to_numpy()
    size = np.where(
        np.isin(family, ["Polygon", "MultiPolygon"])[subject],
        found["overlap_m2"].to_numpy(),
        np.where(np.isin(family, ["Point", "MultiPoint"])[subject], 1.0, found["overlap_m"]),
    )
    rule_ids = found["rule_id"].to_numpy()
    types = result.sites["project_type_used"].to_numpy()
    overlap = [r for r in ruleset if r.test == "overlap"]
    near = [r for r in ruleset if r.test == "proximity"]
    measure, count = np.zeros((n, len(overlap))), np.zeros((n, len(overlap)), dtype=np.int64)
    for column, rule in enumerate(overlap):
        mine = rule_ids == rule.id
        measure[:, column] = np.bincount(subject[mine], weights=size[mine], minlength=n)
        count[:, column] = np.bincount(subject[mine], minlength=n)
    distance = np.full((n, len(near)), np.nan)
    for column, rule in enumerate(near):
        mine = rule_ids == rule.id
        nearest = pd.Series(found["distance_m"].to_numpy()[mine]).groupby(subject[mine]).min()
        distance[nearest.index.to_numpy(), column] = nearest.to_numpy()
    subjects = prepare_subjects(
        sites, source="sites", working_crs=planning.crs, extent=planning.extent
    )
    geoms = subjects.geometry
    shares = landcover_shares(geoms, planning.rasters["landcover"], crs=planning.crs)
    slopes = slope_stats(geoms, planning.rasters["dem"], crs=planning.crs)
    return {
        "table": result.layer_overlaps[list(LAYER_OVERLAPS)].to_numpy(),
        "measure": measure,
        "count": count,
        "applies": np.column_stack([pd.notna(r.severities_for(types)) for r in overlap]),
        "applies_near": np.column_stack([pd.notna(r.severities_for(types)) for r in near]),
        "assessable": subjects["not_assessed_reason"].isna().to_numpy(),
        "distance": distance,
        "shares": shares.drop(columns="coverage").to_numpy(),
        "slope": slopes[["slope_mean_deg", "slope_max_deg"]].to_numpy(),
        "corridor": np.array([r.layer == CORRIDORS for r in overlap]),
    }


def _classification(
    method: str, n: int, n_jobs: int | None, *, quick: bool, profile: bool, save: Path | None
) -> dict:
    import geopandas as gpd
    from synthetic import make_parcels

    from redline import classify
    from redline.planning import load_planning
    from redline.schema import ZONES

    t0 = time.perf_counter()
    planning = load_planning()
    centre = planning.extent.centroid
    parcels = make_parcels(n, centre=(centre.x, centre.y))
    zoning = planning["zoning"]
    setup_s = time.perf_counter() - t0
    if method == "redline":

        def run(k: int = n) -> np.ndarray:
            out = classify(parcels, planning, n_jobs=n_jobs)
            return out[[f"share_{z}" for z in ZONES]].to_numpy(dtype=float)
    else:

        def run(k: int = n) -> np.ndarray:
            pieces = gpd.overlay(
                parcels.iloc[:k].reset_index(names="row"),
                zoning[["zone", "geometry"]],
                how="intersection",
                keep_geom_type=True,
            )
            area = pieces.area.groupby([pieces["row"], pieces["zone"]]).sum()
            table = area.unstack(fill_value=0.0).reindex(
                index=range(k), columns=list(ZONES), fill_value=0.0
            )
            return table.to_numpy() / parcels.area.to_numpy()[:k, None]

    shares, wall, cpu, rows = _timed(run, profile=profile)
    if save is not None:
        np.savez(save, shares=shares)
    return {"setup_s": setup_s, "wall_s": wall, "cpu_s": cpu, "profile": rows, "data": {}}


def _dask(
    method: str, n: int, n_jobs: int | None, *, quick: bool, profile: bool, save: Path | None
) -> dict:
    """``redline.screen`` of a dask-geopandas frame on a 2-process ``LocalCluster``
    (``method="dask"``), or of the same sites without dask (``"redline"``: ``n_jobs=1`` is the
    single process the target compares with; the default forks worker processes for large
    batches).

    The cluster is started before the timing (``setup_s``); the warm-up call scatters the
    planning, which the workers keep, prepared, for the timed call."""
    from contextlib import ExitStack

    from synthetic import make_sites

    from redline import screen
    from redline.planning import load_planning

    t0 = time.perf_counter()
    planning = load_planning()
    sites = make_sites(planning, n)
    partitions = (QUICK if quick else FULL)["dask"]["partitions"][n]
    with ExitStack() as stack:
        if method == "dask":
            import dask_geopandas
            from distributed import Client, LocalCluster

            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=DASK_WORKERS,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            stack.enter_context(Client(cluster))

            def run(k: int = n) -> np.ndarray:
                frame = dask_geopandas.from_geopandas(
                    sites.iloc[:k], npartitions=partitions if k == n else DASK_WORKERS
                )
                return screen(frame, planning).sites["verdict"].to_numpy()
        else:

            def run(k: int = n) -> np.ndarray:
                return screen(sites.iloc[:k], planning, n_jobs=n_jobs).sites["verdict"].to_numpy()

        setup_s = time.perf_counter() - t0
        verdicts, wall, cpu, rows = _timed(run, profile=profile)
    if save is not None:
        np.savez(save, verdict=verdicts.astype(str))
    return {
        "setup_s": setup_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "profile": rows,
        "data": {"partitions": partitions if method == "dask" else None},
    }


WORKERS = {
    "engine": _engine,
    "screening": _screening,
    "classification": _classification,
    "dask": _dask,
}


def _measure(spec: dict, *, quick: bool) -> dict:
    """One measurement in this process."""
    warnings.simplefilter(
        "ignore"
    )  # the baseline's FutureWarnings; RedlineWarnings are counted elsewhere
    save = Path(spec["save"]) if spec.get("save") else None
    out = WORKERS[spec["section"]](
        spec["method"],
        spec["n"],
        spec["n_jobs"],
        quick=quick,
        profile=spec.get("profile", False),
        save=save,
    )
    if not out["profile"]:
        del out["profile"]
    out.update(
        section=spec["section"],
        method=spec["method"],
        n=spec["n"],
        n_jobs=spec["n_jobs"],
        peak_rss_mb=round(_peak_mb()),
        items_per_s=round(spec["n"] / out["wall_s"]),
    )
    for key in ("setup_s", "wall_s", "cpu_s"):
        out[key] = round(out[key], 3)
    return out


# -- orchestration ----------------------------------------------------------------------------


def _plan(sizes: dict, tmp: Path, sections: tuple[str, ...]) -> dict[str, list[dict]]:
    """The measurements of each section (the largest size of each is profiled separately)."""
    plan: dict[str, list[dict]] = {}
    for section in sections:
        cfg = sizes[section]
        if section == "dask":
            plan[section] = [
                {
                    "section": section,
                    "method": method,
                    "n": n,
                    "n_jobs": jobs,
                    "save": str(tmp / f"{section}-{method}-{n}.npz") if jobs else None,
                }
                for n in cfg["sizes"]
                for method, jobs in (("redline", 1), ("redline", None), ("dask", DASK_WORKERS))
            ]
            continue
        compared = {n for at in cfg["compare"].values() for n in at}
        specs = []
        for n in cfg["sizes"]:
            save = str(tmp / f"{section}-redline-{n}.npz") if n in compared else None
            specs.append(
                {"section": section, "method": "redline", "n": n, "n_jobs": None, "save": save}
            )
            if n in cfg["threads"]:
                specs.append({"section": section, "method": "redline", "n": n, "n_jobs": 1})
            for method, at in cfg["compare"].items():
                if n in at:
                    specs.append(
                        {
                            "section": section,
                            "method": method,
                            "n": n,
                            "n_jobs": None,
                            "save": str(tmp / f"{section}-{method}-{n}.npz"),
                        }
                    )
        specs.append(
            {
                "section": section,
                "method": "redline",
                "n": max(cfg["sizes"]),
                "n_jobs": 1,  # one thread: cProfile sees the work, not the waits
                "profile": True,
            }
        )
        plan[section] = specs
    return plan


def run_worker(
    cmd: list[str], *, failure: str, env: dict[str, str] | None = None, sample: bool = True
) -> tuple[list[dict], float]:
    """Run a benchmark worker command; its runs (the last line of its output) and, with
    ``sample``, the peak in MB of its memory and of the processes it forks
    (:func:`_tree_pss_mb`, sampled every 0.2 s; 0 without). Exits with ``failure`` and the
    worker's stderr when it fails."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        peak = 0.0
        while sample and child.poll() is None:
            peak = max(peak, _tree_pss_mb(child.pid))
            time.sleep(0.2)
        child.wait()
        out.seek(0)
        err.seek(0)
        if child.returncode:
            sys.exit(f"{failure}:\n{err.read()[-4000:]}")
        return json.loads(out.read().strip().splitlines()[-1]), peak


def may_fork(spec: dict) -> bool:
    """Whether a measurement may run in several processes (redline or dask with ``n_jobs``
    other than 1), whose joint memory only a sampler sees."""
    return spec["method"] in ("redline", "dask") and spec["n_jobs"] != 1


def measure_apart(cmd: list[str], spec: dict, *, failure: str,
                  env: dict[str, str] | None = None) -> dict:
    """One measurement (``cmd`` runs ``spec`` alone), timed without a memory sampler beside
    it: on 2 cores, reading ``smaps_rollup`` of a 2 GB process tree every 0.2 s takes ~20 %
    of a core and slowed a million-site screening by 2-3 s. A measurement that may fork
    (:func:`may_fork`) is run a second time, sampled, for its peak (``peak_tree_mb``; its
    time then as ``sampled_wall_s``); any other's peak is its own peak RSS."""
    (run,), _ = run_worker(cmd, failure=failure, env=env, sample=False)
    run["peak_tree_mb"] = run["peak_rss_mb"]
    if may_fork(spec):
        (sampled,), peak = run_worker(cmd, failure=failure, env=env)
        run["peak_tree_mb"] = round(max(peak, sampled["peak_rss_mb"]))
        run["peak_rss_mb"] = max(run["peak_rss_mb"], run["peak_tree_mb"])
        run["sampled_wall_s"] = sampled["wall_s"]
    return run


def _spawn(specs: list[dict], *, quick: bool) -> list[dict]:
    """Run ``specs``, each in a fresh interpreter (:func:`measure_apart`); with ``quick``, all
    in one, sampled (a smoke run: the process's forked workers run inside one measurement at a
    time, so the sampled peak is each measurement's only when there is one)."""
    def command(batch: list[dict]) -> list[str]:
        return [sys.executable, __file__, "--worker", json.dumps(batch),
                *(["--quick"] if quick else [])]

    failure = f"benchmark worker failed ({specs[0]['section']})"
    if not quick:
        return [measure_apart(command([spec]), spec, failure=failure) for spec in specs]
    runs, peak = run_worker(command(specs), failure=failure)
    for run in runs:
        run["peak_rss_mb"] = (
            max(run["peak_rss_mb"], round(peak)) if len(runs) == 1 else run["peak_rss_mb"]
        )
        run["peak_tree_mb"] = round(peak)
    return runs


def _tree_pss_mb(pid: int) -> float:
    """Memory (MB) of process ``pid`` and its descendants now: the sum of their proportional
    set sizes, so pages a forked worker shares with its parent count once (0 if it is gone)."""
    import psutil  # a dependency of distributed

    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in procs:
        try:
            rollup = Path(f"/proc/{proc.pid}/smaps_rollup").read_text()
        except OSError:  # finished meanwhile
            continue
        total += sum(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
    return total / 1024


def _all_slivers(pairs: list[tuple[int, int]], n: int, *, quick: bool) -> bool:
    """Whether every (site, feature) pair of the engine section is a sliver by redline's
    definition (nowhere :data:`redline.overlay.SLIVER_WIDTH_M` wide), computed by shapely."""
    import shapely
    from synthetic import make_complex_layer, make_engine_sites

    from redline.overlay import SLIVER_WIDTH_M

    if not pairs:
        return True
    layer = make_complex_layer(**(_QUICK_LAYER if quick else {}))
    sites = make_engine_sites(n)
    s, f = np.array(pairs).T
    common = shapely.intersection(sites.values[s], layer.geometry.values[f])
    return bool(shapely.is_empty(shapely.buffer(common, -SLIVER_WIDTH_M / 2)).all())


def _agreements(section: str, sizes: dict, tmp: Path, *, quick: bool) -> dict[str, dict]:
    """Every agreement check of ``section``; exits when one fails."""
    if section == "dask":
        out = {}
        for n in sizes["dask"]["sizes"]:
            one = np.load(tmp / f"dask-redline-{n}.npz")["verdict"]
            many = np.load(tmp / f"dask-dask-{n}.npz")["verdict"]
            out[f"dask@{n}"] = {"n": n, "identical_verdicts": bool(np.array_equal(one, many))}
            if not out[f"dask@{n}"]["identical_verdicts"]:
                sys.exit(f"dask: the dask path's verdicts differ from the single process at n={n}")
        return out
    out = {}
    for method, at in sizes[section]["compare"].items():
        for n in at:
            if section == "screening" and method == "baseline":
                check = _screening_agreement(n, tmp)
            elif section == "screening" and method == "overlaps":
                check = _agreement(section, n, tmp, ours="overlaps", theirs="baseline_layers")
            else:
                check = _agreement(section, n, tmp, theirs=method, quick=quick)
            key = {"baseline_layers": "-layers", "overlaps": "-overlaps"}.get(method, "")
            out[f"{section}{key}@{n}"] = check
    return out


def _agreement(
    section: str, n: int, tmp: Path, *, ours: str = "redline", theirs: str = "baseline",
    quick: bool = False,
) -> dict:
    """Exact agreement of ``ours`` with a baseline that does the same work."""
    mine = np.load(tmp / f"{section}-{ours}-{n}.npz")
    other = np.load(tmp / f"{section}-{theirs}-{n}.npz")
    if section == "engine":
        a = set(zip(mine["subject"].tolist(), mine["feature"].tolist(), strict=True))
        b = dict(zip(zip(other["subject"].tolist(), other["feature"].tolist(), strict=True),
                     other["area"].tolist(), strict=True))
        # the baseline keeps slivers, which redline reads as contacts: each must be one
        slivers = sorted(set(b) - a)
        total_a = float(mine["area"].sum())
        total_b = float(other["area"].sum()) - sum(b[pair] for pair in slivers)
        out = {
            "n": n,
            "pairs": len(a),
            "identical_pairs": a <= set(b) and _all_slivers(slivers, n, quick=quick),
            "baseline_slivers": len(slivers),
            "total_area_rel_diff": abs(total_a - total_b) / total_b,
        }
        ok = out["identical_pairs"] and out["total_area_rel_diff"] <= AREA_RTOL
    elif section == "screening":
        # engine pairs add up per feature; screening totals count overlapping features once
        out = {"n": n, **_layer_totals(mine, other,
                                       key="table_by_feature" if ours == "overlaps" else "table")}
        ok = out["max_total_area_rel_diff"] <= AREA_RTOL
    else:
        out = {"n": n, "max_abs_share_diff": float(np.abs(mine["shares"] - other["shares"]).max())}
        ok = out["max_abs_share_diff"] <= AREA_RTOL
    if not ok:
        sys.exit(f"{section}: {ours} and {theirs} disagree at n={n}: {out}")
    return out


def _layer_totals(mine: Any, other: Any, *, key: str = "table") -> dict:
    """Per-site overlap areas with the polygon layers of ``LAYER_OVERLAPS`` (``other[key]``)."""
    poly = other["polygonal"]
    x, y = mine["table"][poly], other[key][poly]
    # slivers (see SLIVER_AREA_M2): redline's contacts, the baseline's areas
    sliver = (x < y) & (y - x <= SLIVER_AREA_M2) & (y - x > AREA_RTOL * np.maximum(y, 1.0))
    x = np.where(sliver, y, x)
    totals = np.abs(x.sum(axis=0) - y.sum(axis=0)) / np.maximum(y.sum(axis=0), 1.0)
    return {
        "sites_compared": int(poly.sum()),
        "sliver_cells": int(sliver.sum()),
        "sliver_area_m2": float((y - mine["table"][poly])[sliver].sum()),
        "max_total_area_rel_diff": float(totals.max()),
        "max_site_area_abs_diff_m2": float(np.abs(x - y).max()),
    }


def _screening_agreement(n: int, tmp: Path) -> dict:
    """redline's screening against the like-for-like baseline.

    Asserted: the per-site areas of the six polygon layers (totals within 1e-9 relative); every
    overlap rule's per-site measure (area, length, or a point's hit), within 1e-9 of the site's
    own size, on the sites the rule applies to — for the corridor rules only where redline
    found at most one corridor feature (the baseline dissolves each class, redline keeps one
    polygon per line feature, so a site across two overlapping corridors counts their overlap
    once there and twice here); each proximity rule's nearest distance where the site does not
    touch the rule's features (``sjoin_nearest`` then reports 0, while redline still lists the
    other features within reach). Reported, not asserted: the raster answers (pixel counts
    against exact pixel fractions, and a different slope formula)."""
    from redline.rules import load_rules

    ours = np.load(tmp / f"screening-redline-{n}.npz")
    theirs = np.load(tmp / f"screening-baseline-{n}.npz")
    out: dict[str, Any] = {"n": n, **_layer_totals(ours, theirs)}
    ok = out["max_total_area_rel_diff"] <= AREA_RTOL
    ruleset = load_rules()
    overlap = [r.id for r in ruleset if r.test == "overlap"]
    near = [r.id for r in ruleset if r.test == "proximity"]
    assessable = ours["assessable"]
    scale = np.maximum(theirs["measure"].max(axis=1, initial=0.0), 1.0)[:, None]
    compared = assessable[:, None] & ours["applies"]
    single = compared & (ours["count"] <= 1)
    compared = np.where(ours["corridor"][None, :], single, compared)
    error = np.abs(ours["measure"] - theirs["measure"]) / scale
    # slivers: redline reads a grazing intersection nowhere 5 cm wide (or as wide as the bow of
    # a long edge across CRSs) as a contact, the baseline counts its area
    sliver = compared & (ours["measure"] < theirs["measure"]) & (
        theirs["measure"] - ours["measure"] <= SLIVER_AREA_M2) & (error > AREA_RTOL)
    worst = np.where(compared & ~sliver, error, 0.0).max(axis=0)
    out["overlap_rules"] = {
        rule: {
            "sites_compared": int(compared[:, i].sum()),
            "sites_with_overlap": int((compared[:, i] & (ours["measure"][:, i] > 0)).sum()),
            "max_rel_diff": float(worst[i]),
            "sliver_sites": int(sliver[:, i].sum()),
        }
        for i, rule in enumerate(overlap)
    }
    corridor_multi = (assessable[:, None] & ours["applies"] & (ours["count"] > 1))[
        :, ours["corridor"]
    ]
    out["corridor_sites_with_several_features"] = int(corridor_multi.any(axis=1).sum())
    ok &= bool((worst <= AREA_RTOL).all())
    apart = assessable[:, None] & ours["applies_near"] & ~(theirs["distance"] == 0)
    a, b = ours["distance"], theirs["distance"]
    same_missing = np.isnan(a) == np.isnan(b)
    both = ~np.isnan(a) & ~np.isnan(b)
    rel = np.where(both, np.abs(a - b) / np.maximum(np.where(both, b, 1.0), 1.0), 0.0)
    out["proximity_rules"] = {
        rule: {
            "sites_compared": int(apart[:, i].sum()),
            "sites_within_reach": int((apart[:, i] & ~np.isnan(b[:, i])).sum()),
            "sites_disagreeing": int((apart[:, i] & ~same_missing[:, i]).sum()),
            "max_rel_diff": float(np.where(apart[:, i], rel[:, i], 0.0).max()),
            "touching_sites_with_other_features_near": int(
                (assessable & (b[:, i] == 0) & ~np.isnan(a[:, i]) & (a[:, i] > 0)).sum()
            ),
        }
        for i, rule in enumerate(near)
    }
    ok &= all(
        v["sites_disagreeing"] == 0 and v["max_rel_diff"] <= AREA_RTOL
        for v in out["proximity_rules"].values()
    )
    out["rasters"] = _raster_agreement(ours, theirs, ruleset)
    if not ok:
        sys.exit(f"screening: redline and the like-for-like baseline disagree at n={n}: {out}")
    return out


def _with_superseded(kind: str, field: str, values: tuple[str, ...]) -> set[str]:
    """A selector's values and the superseded values read as them (three-zone reserves)."""
    from redline.schema import VALUE_SUCCESSORS

    old = VALUE_SUCCESSORS.get((kind, field), {})
    return {*values, *(value for value, new in old.items() if new in values)}


def _raster_agreement(ours: Any, theirs: Any, ruleset: Any) -> dict:
    """How far the baseline's pixel counts are from redline's exact fractions (reported)."""
    from redline.planning import load_planning

    names = load_planning().rasters["landcover"].class_names
    both = ~np.isnan(ours["shares"]).any(axis=1) & ~np.isnan(theirs["shares"]).any(axis=1)
    diff = np.abs(ours["shares"][both] - theirs["shares"][both])
    out: dict[str, Any] = {
        "sites_compared": int(both.sum()),
        # half the L1 distance: the share of a site's area put in another class, on average
        "mean_share_classed_differently": round(float(diff.sum(axis=1).mean() / 2), 5),
        "mean_abs_share_diff_by_class": {
            name: round(float(diff[:, i].mean()), 5) for i, name in enumerate(names)
        },
    }
    decisions = {}
    for rule in ruleset:
        if rule.test == "landcover_share":
            columns = [names.index(c) for c in rule.classes if c in names]
            x = ours["shares"][both][:, columns].sum(axis=1) >= rule.min_share
            y = theirs["shares"][both][:, columns].sum(axis=1) >= rule.min_share
            decisions[rule.id] = {
                "flagged_redline": int(x.sum()),
                "flagged_baseline": int(y.sum()),
                "same_decision_share": round(float((x == y).mean()), 4),
            }
    slope_ok = ~np.isnan(ours["slope"]).any(axis=1) & ~np.isnan(theirs["slope"]).any(axis=1)
    gap = np.abs(ours["slope"][slope_ok] - theirs["slope"][slope_ok])
    out["slope_sites_compared"] = int(slope_ok.sum())
    out["mean_abs_slope_mean_diff_deg"] = round(float(gap[:, 0].mean()), 3)
    out["mean_abs_slope_max_diff_deg"] = round(float(gap[:, 1].mean()), 3)
    out["landcover_rules"] = decisions
    return out


def _slope(runs: list[dict]) -> dict | None:
    """Log-log slope of wall time against n over the default-thread runs with n ≥ 1e4 (all
    runs in a quick run)."""
    pts = [
        (r["n"], r["wall_s"])
        for r in runs
        if r["method"] == "redline" and r["n_jobs"] is None and not r.get("profiled")
    ]
    big = [p for p in pts if p[0] >= 10_000]
    pts = big if len(big) >= 2 else pts
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return {
        "exponent": round(float(np.polyfit(x, y, 1)[0]), 3),
        "from_n": min(p[0] for p in pts),
        "to_n": max(p[0] for p in pts),
    }


def _find(runs: list[dict], method: str, n: int, n_jobs: int | None) -> dict | None:
    return next(
        (
            r
            for r in runs
            if r["method"] == method
            and r["n"] == n
            and r["n_jobs"] == n_jobs
            and not r.get("profiled")
        ),
        None,
    )


def _section_summary(section: str, runs: list[dict], sizes: dict) -> dict:
    if section == "dask":
        speedups = []
        for n in sizes["dask"]["sizes"]:
            one, many = _find(runs, "redline", n, 1), _find(runs, "dask", n, DASK_WORKERS)
            default = _find(runs, "redline", n, None)
            if one and many and default:
                speedups.append(
                    {
                        "n": n,
                        "partitions": many["data"]["partitions"],
                        "speedup_x": round(one["wall_s"] / many["wall_s"], 2),
                        "against_default_x": round(default["wall_s"] / many["wall_s"], 2),
                    }
                )
        return {"runs": runs, "speedups": speedups}
    cfg, at = sizes[section], sizes["ratio_at"][section]
    ratios = []
    for baseline, on in cfg["compare"].items():
        if baseline == "overlaps":
            continue
        for n in on:
            base = _find(runs, baseline, n, None)
            mine = [("redline", None), ("redline", 1)]
            if baseline == "baseline_layers":
                mine.append(("overlaps", None))
            for method, jobs in mine:
                ours = _find(runs, method, n, jobs)
                if base and ours:
                    ratios.append(
                        {
                            "n": n,
                            "method": method,
                            "n_jobs": jobs,
                            "baseline": baseline,
                            "wall_x": round(base["wall_s"] / ours["wall_s"], 2),
                            "cpu_x": round(base["cpu_s"] / ours["cpu_s"], 2),
                        }
                    )
    threads = []
    for n in cfg["threads"]:
        one, default = _find(runs, "redline", n, 1), _find(runs, "redline", n, None)
        if one and default:
            threads.append({"n": n, "speedup_x": round(one["wall_s"] / default["wall_s"], 2)})
    profiled = next(r for r in runs if r.get("profiled"))
    return {
        "runs": [r for r in runs if not r.get("profiled")],
        "ratios": ratios,
        "ratio_at": at,
        "threads": threads,
        "scaling_exponent": _slope(runs),
        "profile": {"n": profiled["n"], "wall_s": profiled["wall_s"], "top": profiled["profile"]},
    }


def _machine() -> dict:
    import geopandas
    import shapely

    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "geopandas": geopandas.__version__,
        "numpy": np.__version__,
    }


def _targets(result: dict) -> list[dict]:
    eng, scr, cls = result["engine"], result["screening"], result["classification"]

    def ratio(sec: dict, jobs: int | None) -> float | None:
        r = next(
            (
                r
                for r in sec["ratios"]
                if r["n"] == sec["ratio_at"]
                and r["n_jobs"] == jobs
                and r["method"] == "redline"
                and r["baseline"] == "baseline"
            ),
            None,
        )
        return None if r is None else r["wall_x"]

    def largest(sec: dict, key: str) -> tuple[int, float]:
        run = max(
            (r for r in sec["runs"] if r["method"] == "redline" and r["n_jobs"] is None),
            key=lambda r: r["n"],
        )
        return run["n"], run[key]

    rows = [
        (
            "engine ≥ 15× baseline, 1 thread",
            f"n={eng['ratio_at']:,}",
            ratio(eng, 1),
            TARGETS["engine_single_x"],
            "≥",
        ),
        (
            "engine ≥ 25× baseline, default threads",
            f"n={eng['ratio_at']:,}",
            ratio(eng, None),
            TARGETS["engine_threads_x"],
            "≥",
        ),
        (
            "screening, all rules ≥ 10× the naive baseline doing the same checks "
            "(like for like; not the polygon-layers-only baseline)",
            f"n={scr['ratio_at']:,}",
            ratio(scr, None),
            TARGETS["screening_x"],
            "≥",
        ),
        (
            "classification ≥ 6× baseline",
            f"n={cls['ratio_at']:,}",
            ratio(cls, None),
            TARGETS["classification_x"],
            "≥",
        ),
    ]
    n, wall = largest(scr, "wall_s")
    rows.append(
        (f"screening of {n:,} sites ≤ 180 s", f"n={n:,}", wall, TARGETS["screening_1e6_s"], "≤")
    )
    n, peak = largest(scr, "peak_rss_mb")
    rows.append(
        (
            f"screening of {n:,} sites peak ≤ 4 GB (with its worker processes)",
            f"n={n:,}",
            peak,
            TARGETS["screening_1e6_peak_mb"],
            "≤",
        )
    )
    n, wall = largest(cls, "wall_s")
    rows.append(
        (
            f"classification of {n:,} parcels ≤ 30 s",
            f"n={n:,}",
            wall,
            TARGETS["classification_1e6_s"],
            "≤",
        )
    )
    for name, sec in (("engine", eng), ("screening", scr), ("classification", cls)):
        for t in sec["threads"]:
            rows.append(
                (
                    f"{name}: default threads ≥ 1.6× n_jobs=1",
                    f"n={t['n']:,}",
                    t["speedup_x"],
                    TARGETS["threads_x"],
                    "≥",
                )
            )
        slope = sec["scaling_exponent"] or {}
        span = f"n={slope['from_n']:,}→{slope['to_n']:,}" if slope else ""
        rows.append(
            (
                f"{name}: scaling exponent ≤ 1.1",
                span,
                slope.get("exponent"),
                TARGETS["scaling_exponent"],
                "≤",
            )
        )
    for t in result.get("dask", {}).get("speedups", []):
        rows.append(
            (
                f"dask {DASK_WORKERS} workers ≥ 1.6× single process",
                f"n={t['n']:,}, {t['partitions']} partitions",
                t["speedup_x"],
                TARGETS["dask_x"],
                "≥",
            )
        )
    out = []
    for name, where, value, target, op in rows:
        met = None if value is None else (value >= target if op == "≥" else value <= target)
        out.append({"target": name, "at": where, "measured": value, "limit": target, "met": met})
    return out


def _markdown(result: dict) -> str:
    m = result["machine"]
    quick = " (quick smoke run)" if result["quick"] else ""
    lines = [
        "# redline benchmark results",
        "",
        f"Run {result['started']} → {result['finished']}{quick}; "
        "`make bench` (`.venv/bin/python benchmarks/run.py`). Figures: wall-clock seconds; "
        "`cpu_x` is the same ratio in CPU seconds (less sensitive to other load).",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM; {m['platform']}; "
        f"Python {m['python']}, shapely {m['shapely']} (GEOS {m['geos']}), geopandas "
        f"{m['geopandas']}, numpy {m['numpy']}. Load average (1/5/15 min) at start "
        f"{'/'.join(f'{v:.2f}' for v in result['load_average_start'])}, at end "
        f"{'/'.join(f'{v:.2f}' for v in result['load_average_end'])}.",
        "",
        "| pipeline | method | n | n_jobs | wall s | CPU s | items/s | peak MB (with workers) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    sections = [name for name in (*SECTIONS, "dask") if name in result]
    for name in sections:
        for r in result[name]["runs"]:
            jobs = r["n_jobs"] or "default"
            if r["method"] == "dask":
                jobs = f"{r['n_jobs']} workers, {r['data']['partitions']} partitions"
            lines.append(
                f"| {name} | {LABELS[name, r['method']]} | {r['n']:,} | {jobs} | "
                f"{r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['items_per_s']:,} | "
                f"{r['peak_rss_mb']:,} |"
            )
    lines += [
        "",
        "| ratio baseline time / redline time | redline | against | n | n_jobs | wall × | CPU × |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for name in SECTIONS:
        for r in result[name]["ratios"]:
            lines.append(
                f"| {name} | {LABELS[name, r['method']]} | {LABELS[name, r['baseline']]} | "
                f"{r['n']:,} | {r['n_jobs'] or 'default'} | {r['wall_x']} | {r['cpu_x']} |"
            )
    lines.append("")
    for r in result["screening"]["runs"]:
        if r["method"] == "baseline":
            lines.append(
                f"- {LABELS['screening', 'baseline']} at n={r['n']:,}: "
                f"{r['data']['raster_loop_s']:.2f} s of its {r['wall_s']:.2f} s in the per-site "
                "`rasterio.mask` loop (land cover and slope), the rest in the vector checks."
            )
    if "dask" in result:
        lines += [
            "",
            f"| dask, {DASK_WORKERS} workers | n | partitions | speedup × against n_jobs=1 "
            "(single process) | against the default n_jobs |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in result["dask"]["speedups"]:
            lines.append(
                f"| {LABELS['dask', 'dask']} | {r['n']:,} | {r['partitions']} | "
                f"{r['speedup_x']} | {r['against_default_x']} |"
            )
    if result["quick"]:
        lines += ["", "Quick smoke run: the sizes are far below those the targets are set at."]
    lines += ["", "| target | at | measured | limit | met |", "|---|---|---:|---:|---|"]
    for t in result["targets"]:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['target']} | {t['at']} | {t['measured']} | {t['limit']} | {met} |")
    for name in SECTIONS:
        p = result[name]["profile"]
        lines += [
            "",
            f"Profile of {name} at n={p['n']:,} (n_jobs=1, {p['wall_s']:.1f} s under cProfile), "
            "top functions by cumulative time:",
            "",
            "| function | calls | cumulative s | own s | share |",
            "|---|---:|---:|---:|---:|",
        ]
        for row in p["top"][:10]:
            lines.append(
                f"| `{row['function']}` | {row['calls']:,} | {row['cumulative_s']} | "
                f"{row['own_s']} | {row['share']:.0%} |"
            )
    lines += [
        "",
        "Agreement with the baselines (asserted as described in docs/performance.md; the "
        "raster figures of the like-for-like baseline are reported, not asserted):",
        "",
    ]
    lines += [f"- {key}: `{json.dumps(value)}`" for key, value in result["agreement"].items()]
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, < 1 min")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for results.json/.md")
    parser.add_argument(
        "--no-dask", action="store_true", help="skip the dask section (a 2-worker LocalCluster)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        specs = json.loads(args.worker)
        print(
            json.dumps(
                [
                    {**_measure(s, quick=args.quick), "profiled": s.get("profile", False)}
                    for s in specs
                ]
            )
        )
        return

    sizes = QUICK if args.quick else FULL
    started, load_start = time.strftime("%Y-%m-%dT%H:%M:%S"), os.getloadavg()
    result: dict[str, Any] = {
        "started": started,
        "quick": args.quick,
        "machine": _machine(),
        "load_average_start": load_start,
    }
    agreement = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sections = SECTIONS if args.no_dask else (*SECTIONS, "dask")
        for section, specs in _plan(sizes, tmp, sections).items():
            runs = []
            batches = [specs] if args.quick else [[s] for s in specs]
            for batch in batches:
                for run in _spawn(batch, quick=args.quick):
                    runs.append(run)
                    print(
                        f"{section:>14} {run['method']:>15} n={run['n']:>9,} "
                        f"n_jobs={run['n_jobs'] or 'default':>7}"
                        f"{' profiled' if run['profiled'] else ''}: "
                        f"{run['wall_s']:8.2f} s wall {run['cpu_s']:8.2f} s CPU "
                        f"{run['items_per_s']:>9,}/s peak {run['peak_rss_mb']:,} MB",
                        flush=True,
                    )
            agreement.update(_agreements(section, sizes, tmp, quick=args.quick))
            result[section] = _section_summary(section, runs, sizes)
    result["agreement"] = agreement
    result["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    result["load_average_end"] = os.getloadavg()
    result["targets"] = _targets(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / "results.md").write_text(_markdown(result), encoding="utf-8")
    for t in result["targets"]:
        print(f"{'met ' if t['met'] else 'MISS'} {t['target']} ({t['at']}): {t['measured']}")
    print(f"written {args.out / 'results.json'} and results.md")


if __name__ == "__main__":
    main()
