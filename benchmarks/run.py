"""redline benchmark: the overlay engine, screening and classification against the naive
``geopandas.overlay`` baseline, on deterministic synthetic data, in one run.

Sections (issue 7 §1):

- ``engine``: :func:`redline.overlay.overlaps` on a complex layer (10,000 polygons, ~2.8 M
  vertices, a 1,000 km river corridor) with sites of 1–10 ha, one and two threads, against
  ``geopandas.overlay`` + area; identical pair sets and total areas (asserted);
- ``screening``: :func:`redline.screen` on the bundled sample one map (every rule: corridors,
  rasters, proximity) against the baseline (one ``geopandas.overlay`` per polygon layer and
  per-site area sums), with the per-site areas checked against ``Screening.layer_overlaps``;
- ``classification``: :func:`redline.classify` of a parcel tessellation against the sample
  zoning, beside the same baseline (shares checked);
- threads (``n_jobs=1`` against the default), the scaling exponent (log-log slope of time
  against n) and a profile of the largest run.

Every measurement runs in its own subprocess, so ``peak_rss_mb`` is that measurement's own
(``--quick`` runs each section in one process instead). Results: ``results.json`` and
``results.md`` in ``--out`` (default ``benchmarks/results/``).

Run from the project root::

    .venv/bin/python benchmarks/run.py            # the full run (~20-30 min on 2 cores)
    .venv/bin/python benchmarks/run.py --quick --out /tmp/bench   # smoke run, < 1 min
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
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

import numpy as np  # noqa: E402

RESULTS = HERE / "results"
#: Relative tolerance on areas between redline and the baseline.
AREA_RTOL = 1e-9
#: Sizes of the full and the quick run.
FULL: dict[str, Any] = {
    "engine": {
        "sizes": [10_000, 100_000, 1_000_000],
        "baseline": [100_000],
        "threads": [100_000, 1_000_000],
    },
    "screening": {
        "sizes": [1_000, 10_000, 20_000, 100_000, 1_000_000],
        "baseline": [1_000, 10_000, 20_000, 100_000],
        "threads": [100_000],
    },
    "classification": {
        "sizes": [10_000, 100_000, 1_000_000],
        "baseline": [10_000, 100_000],
        "threads": [100_000, 1_000_000],
    },
    "ratio_at": {"engine": 100_000, "screening": 20_000, "classification": 100_000},
}
QUICK: dict[str, Any] = {
    "engine": {"sizes": [1_000, 4_000], "baseline": [1_000], "threads": [1_000, 4_000]},
    "screening": {"sizes": [500, 2_000], "baseline": [500], "threads": [2_000]},
    "classification": {"sizes": [1_000, 4_000], "baseline": [1_000], "threads": [4_000]},
    "ratio_at": {"engine": 1_000, "screening": 500, "classification": 1_000},
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
    "scaling_exponent": 1.1,
}
PROFILE_SKIP = ("decorators.py", "<genexpr>", "<lambda>", "<listcomp>", "built-in method builtins")


# -- workers (one measurement, in its own process) ----------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[..., Any], *, profile: bool) -> tuple[Any, float, float, list[dict]]:
    """Run ``fn``; wall and CPU seconds (CPU: every thread of the process), optional profile.

    ``fn(20)`` runs first, untimed: lazy imports, prepared layers, corridors and raster handles
    are set up once per process, as in any session that screens more than once.
    """
    fn(20)
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    out = fn()
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
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

    size = {"n_blobs": 999, "vertices": 276_000} if quick else {}
    layer = make_complex_layer(**size)
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
    import geopandas as gpd
    import pandas as pd
    from synthetic import make_sites

    from redline.geometry import prepare_subjects
    from redline.overlay import overlaps
    from redline.planning import load_planning
    from redline.screening import LAYER_OVERLAPS, screen

    t0 = time.perf_counter()
    planning = load_planning()
    sites = make_sites(planning, n)
    polygonal = sites.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    setup_s = time.perf_counter() - t0
    if method == "redline":

        def run(k: int = n) -> np.ndarray:
            result = screen(sites.iloc[:k], planning, n_jobs=n_jobs)
            return result.layer_overlaps[list(LAYER_OVERLAPS)].to_numpy()
    elif method == "overlaps":  # the baseline's work only, done by redline's engine

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
    else:

        def run(k: int = n) -> np.ndarray:
            left = sites.iloc[:k][polygonal[:k]].reset_index(names="row")[["row", "geometry"]]
            table = np.zeros((k, len(LAYER_OVERLAPS)))
            for column, (kind, selector) in enumerate(LAYER_OVERLAPS.values()):
                layer = planning[kind]
                if selector is not None:
                    layer = layer[layer[selector[0]] == selector[1]]
                pieces = gpd.overlay(
                    left, layer[["feature_id", "geometry"]], how="intersection", keep_geom_type=True
                )
                area = pd.Series(pieces.area.to_numpy()).groupby(pieces["row"].to_numpy()).sum()
                table[area.index.to_numpy(), column] = area.to_numpy()
            return table

    table, wall, cpu, rows = _timed(run, profile=profile)
    if save is not None:
        np.savez(save, table=table, polygonal=polygonal)
    return {
        "setup_s": setup_s,
        "wall_s": wall,
        "cpu_s": cpu,
        "profile": rows,
        "data": {"polygons": int(polygonal.sum()), "points_and_lines": int((~polygonal).sum())},
    }


def _classification(
    method: str, n: int, n_jobs: int | None, *, quick: bool, profile: bool, save: Path | None
) -> dict:
    import geopandas as gpd
    from synthetic import make_parcels

    from redline.planning import load_planning
    from redline.schema import ZONES
    from redline.zoning import classify

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


WORKERS = {"engine": _engine, "screening": _screening, "classification": _classification}


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


def _plan(sizes: dict, tmp: Path) -> dict[str, list[dict]]:
    """The measurements of each section (the largest size of each is profiled separately)."""
    plan: dict[str, list[dict]] = {}
    for section in WORKERS:
        cfg = sizes[section]
        specs = []
        for n in cfg["sizes"]:
            save = str(tmp / f"{section}-redline-{n}.npz") if n in cfg["baseline"] else None
            specs.append(
                {"section": section, "method": "redline", "n": n, "n_jobs": None, "save": save}
            )
            if n in cfg["threads"]:
                specs.append({"section": section, "method": "redline", "n": n, "n_jobs": 1})
            if n in cfg["baseline"] and section == "screening":
                specs.append(
                    {
                        "section": section,
                        "method": "overlaps",
                        "n": n,
                        "n_jobs": None,
                        "save": str(tmp / f"{section}-overlaps-{n}.npz"),
                    }
                )
            if n in cfg["baseline"]:
                specs.append(
                    {
                        "section": section,
                        "method": "baseline",
                        "n": n,
                        "n_jobs": None,
                        "save": str(tmp / f"{section}-baseline-{n}.npz"),
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


def _spawn(specs: list[dict], *, quick: bool) -> list[dict]:
    """Run ``specs`` in a fresh interpreter (one process for all of them)."""
    cmd = [sys.executable, __file__, "--worker", json.dumps(specs)]
    if quick:
        cmd.append("--quick")
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"benchmark worker failed ({specs[0]['section']}):\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _agreement(section: str, n: int, tmp: Path, *, method: str = "redline") -> dict:
    ours = np.load(tmp / f"{section}-{method}-{n}.npz")
    theirs = np.load(tmp / f"{section}-baseline-{n}.npz")
    if section == "engine":
        a = sorted(zip(ours["subject"].tolist(), ours["feature"].tolist(), strict=True))
        b = sorted(zip(theirs["subject"].tolist(), theirs["feature"].tolist(), strict=True))
        total_a, total_b = float(ours["area"].sum()), float(theirs["area"].sum())
        out = {
            "n": n,
            "pairs": len(a),
            "identical_pairs": a == b,
            "total_area_rel_diff": abs(total_a - total_b) / total_b,
        }
        ok = out["identical_pairs"] and out["total_area_rel_diff"] <= AREA_RTOL
    elif section == "screening":
        poly = theirs["polygonal"]
        x, y = ours["table"][poly], theirs["table"][poly]
        totals = np.abs(x.sum(axis=0) - y.sum(axis=0)) / np.maximum(y.sum(axis=0), 1.0)
        out = {
            "n": n,
            "sites_compared": int(poly.sum()),
            "max_total_area_rel_diff": float(totals.max()),
            "max_site_area_abs_diff_m2": float(np.abs(x - y).max()),
        }
        ok = out["max_total_area_rel_diff"] <= AREA_RTOL
    else:
        out = {"n": n, "max_abs_share_diff": float(np.abs(ours["shares"] - theirs["shares"]).max())}
        ok = out["max_abs_share_diff"] <= AREA_RTOL
    if not ok:
        sys.exit(f"{section}: redline and the baseline disagree at n={n}: {out}")
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
    cfg, at = sizes[section], sizes["ratio_at"][section]
    ratios = []
    for n in cfg["baseline"]:
        base = _find(runs, "baseline", n, None)
        for method, jobs in (("redline", None), ("redline", 1), ("overlaps", None)):
            ours = _find(runs, method, n, jobs)
            if base and ours:
                ratios.append(
                    {
                        "n": n,
                        "method": method,
                        "n_jobs": jobs,
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
                if r["n"] == sec["ratio_at"] and r["n_jobs"] == jobs and r["method"] == "redline"
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
            "screening ≥ 10× baseline",
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
            f"screening of {n:,} sites peak ≤ 4 GB",
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
        "| pipeline | method | n | n_jobs | wall s | CPU s | items/s | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in ("engine", "screening", "classification"):
        for r in result[name]["runs"]:
            lines.append(
                f"| {name} | {r['method']} | {r['n']:,} | {r['n_jobs'] or 'default'} | "
                f"{r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['items_per_s']:,} | "
                f"{r['peak_rss_mb']:,} |"
            )
    lines += [
        "",
        "| ratio baseline time / redline time | redline | n | n_jobs | wall × | CPU × |",
        "|---|---|---:|---:|---:|---:|",
    ]
    what = {"redline": "whole pipeline", "overlaps": "the baseline's work only (engine)"}
    for name in ("engine", "screening", "classification"):
        for r in result[name]["ratios"]:
            lines.append(
                f"| {name} | {what[r['method']]} | {r['n']:,} | {r['n_jobs'] or 'default'} | "
                f"{r['wall_x']} | {r['cpu_x']} |"
            )
    if result["quick"]:
        lines += ["", "Quick smoke run: the sizes are far below those the targets are set at."]
    lines += ["", "| target | at | measured | limit | met |", "|---|---|---:|---:|---|"]
    for t in result["targets"]:
        met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
        lines.append(f"| {t['target']} | {t['at']} | {t['measured']} | {t['limit']} | {met} |")
    for name in ("engine", "screening", "classification"):
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
    agreement = ", ".join(f"{k}: {json.dumps(v)}" for k, v in result["agreement"].items())
    lines += ["", f"Agreement with the baseline (asserted): {agreement}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, < 1 min")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for results.json/.md")
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
        for section, specs in _plan(sizes, tmp).items():
            runs = []
            batches = [specs] if args.quick else [[s] for s in specs]
            for batch in batches:
                for run in _spawn(batch, quick=args.quick):
                    runs.append(run)
                    print(
                        f"{section:>14} {run['method']:>8} n={run['n']:>9,} "
                        f"n_jobs={run['n_jobs'] or 'default':>7}"
                        f"{' profiled' if run['profiled'] else ''}: "
                        f"{run['wall_s']:8.2f} s wall {run['cpu_s']:8.2f} s CPU "
                        f"{run['items_per_s']:>9,}/s peak {run['peak_rss_mb']:,} MB",
                        flush=True,
                    )
            for n in sizes[section]["baseline"]:
                agreement[f"{section}@{n}"] = _agreement(section, n, tmp)
                if section == "screening":
                    agreement[f"{section}-overlaps@{n}"] = _agreement(
                        section, n, tmp, method="overlaps"
                    )
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
