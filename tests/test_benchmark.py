"""The benchmark's smoke run: keeps ``benchmarks/run.py`` from rotting (issue 7 §1).

Runs ``benchmarks/run.py --quick`` in a subprocess and checks that every section of the JSON
is there (the dask section included), that redline and the baselines agreed (the script asserts
it and exits non-zero otherwise), that the screening target is judged against the like-for-like
baseline and that the Markdown table names the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("engine", "screening", "classification")


def test_quick_benchmark_writes_every_section(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert result["quick"] is True
    for key in ("cpu", "cores", "ram_gb", "python", "shapely", "geos", "geopandas"):
        assert result["machine"][key], key
    assert len(result["load_average_start"]) == len(result["load_average_end"]) == 3
    for section in SECTIONS:
        part = result[section]
        methods = {(r["method"], r["n_jobs"]) for r in part["runs"]}
        assert {("redline", None), ("redline", 1), ("baseline", None)} <= methods, section
        for run in part["runs"]:
            assert run["wall_s"] > 0 and run["cpu_s"] >= 0 and run["peak_rss_mb"] > 0
            assert run["items_per_s"] > 0
        assert part["ratios"] and part["threads"], section
        assert part["scaling_exponent"]["from_n"] < part["scaling_exponent"]["to_n"]
        assert part["profile"]["top"], section
    engine = next(v for k, v in result["agreement"].items() if k.startswith("engine@"))
    assert engine["identical_pairs"] and engine["total_area_rel_diff"] <= 1e-9
    assert {"baseline_layers", "overlaps"} <= {r["method"] for r in result["screening"]["runs"]}
    like = next(v for k, v in result["agreement"].items() if k.startswith("screening@"))
    assert like["max_total_area_rel_diff"] <= 1e-9
    assert {"ZON-PROHIBITED", "COR-PROVINCIAL"} <= set(like["overlap_rules"])
    assert all(v["max_rel_diff"] <= 1e-9 for v in like["overlap_rules"].values())
    assert all(v["sites_disagreeing"] == 0 for v in like["proximity_rules"].values())
    assert 0 <= like["rasters"]["mean_share_classed_differently"] < 0.1
    layers = next(v for k, v in result["agreement"].items() if k.startswith("screening-layers@"))
    assert layers["max_total_area_rel_diff"] <= 1e-9
    judged = {(r["method"], r["baseline"]) for r in result["screening"]["ratios"]}
    assert {("redline", "baseline"), ("redline", "baseline_layers")} <= judged
    dask = result["dask"]
    assert {r["method"] for r in dask["runs"]} == {"redline", "dask"}
    assert dask["speedups"] and all(
        v["identical_verdicts"] for k, v in result["agreement"].items() if k.startswith("dask@")
    )
    classification = next(
        v for k, v in result["agreement"].items() if k.startswith("classification@")
    )
    assert classification["max_abs_share_diff"] <= 1e-9
    names = {t["target"] for t in result["targets"]}
    assert any("engine ≥ 15×" in n for n in names) and any("scaling" in n for n in names)
    assert any("like for like" in n for n in names) and any("dask 2 workers" in n for n in names)
    table = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert result["machine"]["cpu"] in table and "| target |" in table
