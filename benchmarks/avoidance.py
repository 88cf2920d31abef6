"""Benchmark of the avoidance searches on the bundled sample (run by ``make bench``).

Times one site's better placements (:func:`redline.alternatives`, the issue's target: ≤ 5 s)
and a 50 km road across the Second Songhua corridor and a red-line belt
(:func:`redline.route`) at 10 m resolution and at the default resolution. Writes
``benchmarks/results/avoidance.json`` and prints a Markdown table.

Usage: ``python benchmarks/avoidance.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import geopandas as gpd

import redline
from redline import datasets

RESULTS = Path(__file__).parent / "results" / "avoidance.json"
#: A 50 km road east of Jilin City, across the Songhua corridor (CGCS2000 lon/lat).
ROAD = ((126.25, 43.70), (126.87, 43.74))


def timed(repeat: int, run: Any) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs of ``run()``, and its last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best is kept)")
    repeat = parser.parse_args().repeat
    planning = redline.load_planning()
    planning.prepared("redlines")  # layers and corridors prepared once, as in a session
    sites = gpd.read_file(datasets.get_path("sites"))
    site = sites[sites.site_id == "JL-0020"]
    rows = []
    seconds, found = timed(repeat, lambda: redline.alternatives(site, planning, radius_m=2000))
    best = found.iloc[0]
    rows.append({"case": "alternatives: one site, 2 km, 8 turns",
                 "candidates": found.attrs["redline"]["candidates"], "seconds": seconds,
                 "result": f"best {best['verdict']}, moved {best['moved_m']:g} m"})
    for label, options in (("route: 50 km at 10 m, 5 km margin, no alternatives",
                            {"resolution_m": 10, "margin_m": 5_000, "alternatives": 0}),
                           ("route: 50 km, default resolution and margin, 3 alternatives", {})):
        seconds, r = timed(1 if options else repeat,
                           lambda options=options: redline.route(*ROAD, planning, width_m=30,
                                                                 **options))
        rows.append({"case": label, "cells": int(r.search_area.area / r.resolution_m ** 2),
                     "resolution_m": r.resolution_m, "seconds": seconds,
                     "result": f"chosen {r.alignments['length_m'].iloc[0] / 1000:.1f} km "
                               f"({r.verdict}), straight "
                               f"{r.alignments['length_m'].iloc[1] / 1000:.1f} km; "
                               f"{len(r.alignments) - 2} alternatives"})
    RESULTS.parent.mkdir(exist_ok=True)
    record = {"machine": platform.platform(), "python": platform.python_version(),
              "when": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}
    RESULTS.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("| case | size | seconds | result |\n|---|---:|---:|---|")
    for row in rows:
        size = (f"{row['candidates']:,} candidates" if "candidates" in row
                else f"{row['cells']:,} cells of {row['resolution_m']:g} m")
        print(f"| {row['case']} | {size} | {row['seconds']:.2f} | {row['result']} |")


if __name__ == "__main__":
    main()
