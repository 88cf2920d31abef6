"""Size budget of the offline screening map: the sample "one map" plus synthetic sites.

Budget (issue 17): the conflict map of 100,000 sites is at most 30 MB of HTML and interactive
in at most 5 s in headless Chromium (issue 5's earlier budget: 10,000 sites under 25 MB).
This script generates the sites (random boxes of 80-600 m inside the province, in the working
CRS, random project types; a fixed seed), screens them with :func:`redline.screen`,
writes the offline map with :func:`redline.maps.save_map` and opens it in the system Chromium
(Playwright; no browser download). Time to load is the page's own clock
(``performance.now()``) when every layer is drawn and the legend is on the map; "interactive"
then adds a zoom to a city and a hover, timed until the next painted frame.

Run from the project root::

    .venv/bin/python benchmarks/map_size.py                 # 100,000 sites
    .venv/bin/python benchmarks/map_size.py --sites 10000 --keep out/map_10000.html

Results go to ``benchmarks/results/map_size.json`` (or ``map_size_<n>.json`` for other sizes).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
from synthetic import centres_inside, rectangles  # noqa: E402

from redline import schema, screen  # noqa: E402
from redline.maps import save_map, screening_map  # noqa: E402
from redline.planning import Planning, load_planning  # noqa: E402

RESULTS = HERE / "results"
BUDGET = {"sites": 100_000, "html_mb": 30, "load_s": 5}
CHROMIUM = Path("/usr/bin/chromium")
READY = (
    "() => window.redline !== undefined && redline.legendControl !== undefined"
    " && redline.sites !== undefined"
)
# Zoom to a city (outlines of its cells are built), move the mouse; seconds until painted.
INTERACT = """() => new Promise(done => { const t0 = performance.now();
  redline.map.setView([43.88, 125.32], 12, {animate: false});
  redline.map.fire('mousemove', {latlng: L.latLng(43.88, 125.32),
    containerPoint: L.point(640, 400), layerPoint: L.point(640, 400)});
  requestAnimationFrame(() => requestAnimationFrame(() =>
    done((performance.now() - t0) / 1000))); })"""
log = logging.getLogger("map_size")


def make_sites(planning: Planning, n: int, *, seed: int = 5) -> gpd.GeoDataFrame:
    """``n`` rotated boxes (80-600 m sides) whose centres lie inside the province."""
    rng = np.random.default_rng(seed)
    centres = centres_inside(planning.extent, n, rng)
    half = rng.uniform(40.0, 300.0, size=(n, 2))
    angle = rng.uniform(0.0, np.pi, size=n)
    types = np.array([*schema.PROJECT_TYPES, None], dtype=object)
    return gpd.GeoDataFrame(
        {
            "site_id": [f"S{i:05d}" for i in range(n)],
            "name": [f"合成选址 synthetic site {i}" for i in range(n)],
            "project_type": rng.choice(types, size=n),
        },
        geometry=rectangles(centres, half, angle),
        crs=planning.crs,
    )


def load_time(path: Path, *, runs: int) -> list[tuple[float, float, float]]:
    """Per run (fresh browser context): seconds from navigation start to a fully drawn map,
    CPU seconds of the page's main thread until then (robust on a busy machine), and seconds
    of the first zoom-in after it."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for _ in range(runs):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                cdp = context.new_cdp_session(page)
                cdp.send("Performance.enable")
                page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
                page.wait_for_function(READY, timeout=120_000)
                # Two animation frames: the browser has painted what the scripts drew.
                page.evaluate(
                    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                )
                loaded = page.evaluate("() => performance.now()") / 1000
                metrics = {
                    m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]
                }
                times.append((loaded, metrics["ThreadTime"], page.evaluate(INTERACT)))
                if errors:
                    raise RuntimeError(f"the page raised errors: {errors[:3]}")
                context.close()
        finally:
            browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sites", type=int, default=BUDGET["sites"])
    parser.add_argument("--runs", type=int, default=3, help="browser loads to time")
    parser.add_argument("--simplify-m", type=float, default=20.0)
    parser.add_argument("--keep", type=Path, help="also keep the HTML file here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    load_start = [round(x, 1) for x in os.getloadavg()]
    planning = load_planning()
    sites = make_sites(planning, args.sites)
    t0 = time.perf_counter()
    result = screen(sites, planning)
    t_screen = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = screening_map(result, simplify_m=args.simplify_m)
    with tempfile.TemporaryDirectory() as tmp:
        path = save_map(m, Path(tmp) / "map.html", offline=True)
        t_map = time.perf_counter() - t0
        size = path.stat().st_size
        loads = load_time(path, runs=args.runs) if CHROMIUM.is_file() else []
        if args.keep:
            args.keep.parent.mkdir(parents=True, exist_ok=True)
            args.keep.write_bytes(path.read_bytes())
    figures = {
        "sites": args.sites,
        "findings": len(result.findings),
        "verdicts": result.sites["verdict"].value_counts().to_dict(),
        "simplify_m": args.simplify_m,
        "screen_s": round(t_screen, 2),
        "build_and_save_s": round(t_map, 2),
        "html_mb": round(size / 1e6, 2),
        "load_s": [round(t, 2) for t, _, _ in loads],
        "load_main_thread_cpu_s": [round(c, 2) for _, c, _ in loads],
        "first_zoom_s": [round(t, 2) for _, _, t in loads],
        "budget": {"html_mb": BUDGET["html_mb"], "load_s": BUDGET["load_s"]},
        "within_budget": size / 1e6 <= BUDGET["html_mb"]
        and bool(loads)
        and statistics.median(t for t, _, _ in loads) <= BUDGET["load_s"],
        "load_average": {"start": load_start, "end": [round(x, 1) for x in os.getloadavg()]},
        "cores": os.cpu_count(),
        "machine": platform.platform(),
    }
    name = "map_size.json" if args.sites == BUDGET["sites"] else f"map_size_{args.sites}.json"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(
        json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    log.info(json.dumps(figures, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
