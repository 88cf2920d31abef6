"""Screening speed of this tree against an earlier revision, measured interleaved in one run.

On a shared machine absolute timings drift with the load; the ratio between two revisions
measured one after the other, repeatedly, does not. This script checks the base revision out
into a temporary git worktree and runs ``benchmarks/run.py --worker`` of each tree (each on
its own ``src``) in turn: ``redline.screen`` of the benchmark's synthetic sites with
``n_jobs=1`` and with the default, and the naive overlay of the polygon layers alone
(:func:`run._naive_layers`, this tree's). Each measurement is its own process, timed
without a memory sampler beside it; its peak memory, with its forked workers, comes from a
second, sampled run (:func:`run.measure_apart`).

Run from the project root::

    .venv/bin/python benchmarks/revisions.py --base 72740c2 --sizes 20000 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import measure_apart  # noqa: E402


def _measure(tree: Path, spec: dict) -> dict:
    """One measurement by ``tree``'s own benchmark worker, timed without a memory sampler;
    its peak memory (with its forked workers) from a second, sampled run
    (:func:`run.measure_apart`)."""
    cmd = [sys.executable, str(tree / "benchmarks" / "run.py"), "--worker", json.dumps([spec])]
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return measure_apart(cmd, spec, failure=f"benchmark worker failed in {tree}", env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the revision to compare with")
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--jobs", nargs="+", default=["1", "default"], help="n_jobs values: 1, 2, default"
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive overlay")
    parser.add_argument("--out", type=Path, help="JSON file for every measurement")
    args = parser.parse_args()
    base = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.base],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    jobs_values = [None if j == "default" else int(j) for j in args.jobs]
    plan = [] if args.no_naive else [("naive layers", ROOT, "baseline_layers", None)]
    for jobs in jobs_values:
        plan += [(base, None, "redline", jobs), ("this tree", ROOT, "redline", jobs)]
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(old), base],
            check=True,
            capture_output=True,
        )
        try:
            for n in args.sizes:
                for repeat in range(args.repeats):
                    for label, tree, method, jobs in plan:
                        spec = {"section": "screening", "method": method, "n": n, "n_jobs": jobs}
                        run = {"tree": label, "repeat": repeat, "load": os.getloadavg()[0]}
                        run.update(_measure(tree or old, spec))
                        runs.append(run)
                        print(
                            f"{label:>12} {method:>15} n={n:>9,} n_jobs={jobs or 'default':>7}: "
                            f"{run['wall_s']:7.2f} s wall {run['cpu_s']:7.2f} s CPU "
                            f"peak {run['peak_rss_mb']:,} MB (load {run['load']:.1f})",
                            flush=True,
                        )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False
            )
    print("\nmedians (wall s / CPU s):")
    for n in args.sizes:
        for label, _, method, jobs in plan:
            mine = [
                r
                for r in runs
                if r["n"] == n
                and r["tree"] == label
                and r["method"] == method
                and r["n_jobs"] == jobs
            ]
            wall = statistics.median(r["wall_s"] for r in mine)
            cpu = statistics.median(r["cpu_s"] for r in mine)
            peak = max(r["peak_rss_mb"] for r in mine)
            print(
                f"  n={n:,} {label} {method} n_jobs={jobs or 'default'}: {wall:.2f} / {cpu:.2f}"
                f" (peak {peak:,} MB)"
            )
    if args.out:
        args.out.write_text(json.dumps({"base": base, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
