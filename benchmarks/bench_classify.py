"""Benchmark: ``redline.classify`` against the naive ``geopandas.overlay`` baseline.

Synthetic, deterministic data (``synthetic.py``): ~6,000 wiggly zoning cells (2.4 M vertices)
and a cadastral tessellation of 150 m parcels (a jittered grid). Each measurement runs in its
own subprocess so its peak memory (``ru_maxrss``) is its own. Results go to
``benchmarks/results/classify.json``.

Run from the project root::

    .venv/bin/python benchmarks/bench_classify.py            # 1e4, 1e5, 1e6; baseline to 1e5
    .venv/bin/python benchmarks/bench_classify.py --sizes 10000 --baseline-max 10000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

RESULTS = HERE / "results" / "classify.json"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _planning():
    from synthetic import make_zoning

    from redline.planning import Planning

    return Planning(zoning=make_zoning())


def worker(method: str, n: int, n_jobs: int | None) -> dict[str, float | int | str | None]:
    """One timed run in this process; returns its figures."""
    import numpy as np
    from synthetic import make_parcels

    t0 = time.perf_counter()
    planning = _planning()
    parcels = make_parcels(n)
    zoning = planning["zoning"]
    if method == "classify":
        from redline.zoning import _zoning_layer

        _zoning_layer(planning)  # prepare once (subdivide, index, check overlaps): setup
    setup_s = time.perf_counter() - t0
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    if method == "classify":
        from redline.zoning import classify

        out = classify(parcels, planning, n_jobs=n_jobs)
        shares = out["share_restricted"].to_numpy()
    else:
        import geopandas as gpd

        pieces = gpd.overlay(parcels.reset_index(names="row"), zoning, how="intersection",
                             keep_geom_type=True)
        area = pieces.assign(area=pieces.area).groupby(["row", "zone"])["area"].sum()
        table = area.unstack(fill_value=0.0).reindex(range(n), fill_value=0.0)
        shares = (table["restricted"] / parcels.area).to_numpy()
    seconds = time.perf_counter() - t0
    return {
        "method": method, "n": n, "n_jobs": n_jobs, "seconds": round(seconds, 3),
        "parcels_per_s": round(n / seconds), "setup_s": round(setup_s, 3),
        "rss_before_mb": round(rss_before), "peak_rss_mb": round(_peak_mb()),
        "checksum_share_restricted": float(np.nansum(shares)),
    }


def check(n: int) -> dict[str, float | int]:
    """Largest difference between classify's shares and the baseline's, on the same data."""
    import geopandas as gpd
    import numpy as np
    from synthetic import make_parcels

    from redline.schema import ZONES
    from redline.zoning import classify

    planning = _planning()
    parcels = make_parcels(n)
    ours = classify(parcels, planning)[[f"share_{z}" for z in ZONES]].to_numpy()
    pieces = gpd.overlay(parcels.reset_index(names="row"), planning["zoning"],
                         how="intersection", keep_geom_type=True)
    area = pieces.assign(area=pieces.area).groupby(["row", "zone"])["area"].sum()
    table = area.unstack(fill_value=0.0).reindex(index=range(n), columns=list(ZONES),
                                                 fill_value=0.0)
    theirs = table.to_numpy() / parcels.area.to_numpy()[:, None]
    return {"n": n, "max_abs_share_difference": float(np.abs(ours - theirs).max())}


def _spawn(*args: str) -> dict:
    cmd = [sys.executable, __file__, *args]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1e4, 1e5, 1e6])
    parser.add_argument("--baseline-max", type=float, default=1e5,
                        help="largest size the naive baseline is timed at")
    parser.add_argument("--check-size", type=float, default=1e4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", choices=["classify", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--n-jobs", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.simplefilter("ignore", FutureWarning)
    if args.worker:
        print(json.dumps(worker(args.worker, args.n, args.n_jobs)))
        return
    if args.check:
        print(json.dumps(check(args.n)))
        return

    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    load_start = os.getloadavg()
    runs = []
    for size in (int(s) for s in args.sizes):
        for n_jobs in (None, 1):
            run = _spawn("--worker", "classify", "--n", str(size),
                         *([] if n_jobs is None else ["--n-jobs", str(n_jobs)]))
            print(f"classify n={size:>9,} n_jobs={n_jobs or 'all'}: {run['seconds']:8.2f} s "
                  f"{run['parcels_per_s']:>9,} parcels/s  peak {run['peak_rss_mb']:,} MB",
                  flush=True)
            runs.append(run)
        if size <= args.baseline_max:
            run = _spawn("--worker", "baseline", "--n", str(size))
            print(f"baseline n={size:>9,}:            {run['seconds']:8.2f} s "
                  f"{run['parcels_per_s']:>9,} parcels/s  peak {run['peak_rss_mb']:,} MB",
                  flush=True)
            runs.append(run)
    ratios = []
    for size in sorted({r["n"] for r in runs}):
        base = [r for r in runs if r["n"] == size and r["method"] == "baseline"]
        for r in runs:
            if base and r["n"] == size and r["method"] == "classify":
                ratios.append({"n": size, "n_jobs": r["n_jobs"],
                               "speedup_vs_baseline": round(base[0]["seconds"] / r["seconds"],
                                                            2)})
    agreement = _spawn("--check", "--n", str(int(args.check_size)))
    result = {
        "benchmark": "classify",
        "started": started,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "processor": platform.processor(),
                    "load_average_start": load_start, "load_average_end": os.getloadavg()},
        "data": {"zoning_cells": 6000, "zoning_vertices": 2_406_000,
                 "parcel": "jittered 150 m grid (≈2.25 ha)", "crs": "redline WORKING_CRS"},
        "runs": runs,
        "speedups": ratios,
        "agreement": agreement,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for ratio in ratios:
        print(f"speedup n={ratio['n']:,} n_jobs={ratio['n_jobs'] or 'all'}: "
              f"{ratio['speedup_vs_baseline']}×")
    print(f"max |share difference| vs overlay at n={agreement['n']:,}: "
          f"{agreement['max_abs_share_difference']:.2e}")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
