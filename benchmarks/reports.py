"""Time of review reports: 100 sample sites as HTML, Word and PDF (issue #14.2).

Screens the bundled sample, takes the first 100 sites (every verdict among them) and writes
their reports with :func:`redline.review.write_reports`, one format at a time, timing each run
(the map inset and the content are built in each run, as a batch would). PDFs are printed by
the system's headless Chromium. Wall and CPU seconds are both recorded (CPU includes the
browser processes): on a shared machine the CPU time is the steadier figure. Results go to
``benchmarks/results/reports.json``.

Run from the project root::

    .venv/bin/python benchmarks/reports.py            # 100 sites
    .venv/bin/python benchmarks/reports.py --sites 20
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from redline import datasets, screen  # noqa: E402
from redline.io import read_layer  # noqa: E402
from redline.review import browser, write_reports  # noqa: E402

RESULTS = HERE / "results" / "reports.json"


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the browser)."""
    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100)
    args = parser.parse_args()
    result = screen(read_layer(datasets.get_path("sites")).head(args.sites))
    verdicts = result.sites["verdict"].value_counts().to_dict()
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("html", "docx", "pdf"):
            start, start_cpu = time.perf_counter(), _cpu()
            files = write_reports(result, Path(tmp) / fmt, formats=[fmt])
            timings[fmt] = round(time.perf_counter() - start, 1)
            cpu[fmt] = round(_cpu() - start_cpu, 1)
            sizes[fmt] = sum(f.stat().st_size for f in files) // len(files)
            print(f"{len(files)} {fmt} reports: {timings[fmt]} s wall, {cpu[fmt]} s CPU "
                  f"(with the browser's), {sizes[fmt] / 1e3:.0f} kB each", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "sites": args.sites, "verdicts": verdicts, "seconds": timings, "cpu_seconds": cpu,
        "bytes_each": sizes, "load_average": os.getloadavg(),
        "browser": str(browser()), "machine": platform.platform(),
        "cpus": os.cpu_count(),
    }, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
