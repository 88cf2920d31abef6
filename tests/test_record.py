"""Runs on record and planning versions (#14.3, #14.4): ``run.json``, ``redline verify``,
``redline diff`` and ``redline screen --compare``, on the world of ``conftest.py`` written as
files with a manifest, in a version 1 and a version 2 with features added, moved, removed and
re-attributed."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

import redline
from conftest import LANDCOVER_CLASSES, frame, inside, square, world_vectors
from redline import load_planning
from redline.cli import app
from redline.diff import diff_planning
from redline.record import file_hash, read_record
from redline.report import CSV_ENCODING
from redline.run.verify import verify

runner = CliRunner()
#: The red line added in version 2, over site S-NEW.
NEW_REDLINE = shapely.box(-500.0, -500.0, 1_500.0, 1_500.0)
#: How far version 2 moves red line RL-2 east (further than its 2 km side: no overlap left).
SHIFT_M = 5_000.0
#: Sites: id → geometry. Verdicts in version 1 → version 2 in the comments.
SITES = {
    "S-NEW": shapely.box(100, 100, 300, 300),  # clear → prohibited (the added red line)
    "S-WS1": inside("ws1"),  # prohibited → clear (water-source zone WS-1 removed)
    "S-RL2": inside("near_redline"),  # prohibited → clear (red line RL-2 moved 5 km away)
    "S-CORE": inside("core"),  # prohibited in both
}


def write_version(folder: Path, rasters: dict[str, Path], *, version: int) -> Path:
    """The world as GeoPackages and a manifest; version 2 holds the changes."""
    folder.mkdir(parents=True)
    layers = world_vectors()
    if version == 2:
        red = layers["redlines"]
        moved = red.geometry.where(red.feature_id != "RL-2",
                                   red.geometry.translate(xoff=SHIFT_M))
        layers["redlines"] = pd.concat([
            red.set_geometry(moved),
            frame([{"feature_id": "RL-3", "name": "新增红线"}], [NEW_REDLINE]),
        ], ignore_index=True)
        water = layers["water_sources"]
        layers["water_sources"] = water[water.feature_id != "WS-1"]
        layers["scenic"] = layers["scenic"].assign(name="风景区（扩）")
    lines = ["[planning]", f'name = "world v{version}"', ""]
    for kind, gdf in layers.items():
        gdf.to_file(folder / f"{kind}.gpkg", layer=kind)
        lines += [f"[layers.{kind}]", f'path = "{kind}.gpkg"', ""]
    for kind, path in rasters.items():
        shutil.copy(path, folder / path.name)
        lines += [f"[rasters.{kind}]", f'path = "{path.name}"', ""]
    lines += ["[rasters.landcover.classes]",
              *(f'{code} = "{name}"' for code, name in LANDCOVER_CLASSES.items())]
    manifest = folder / "manifest.toml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory,
             world_rasters: dict[str, Path]) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("versions")
    sites = frame([{"site_id": k, "project_type": ""} for k in SITES], list(SITES.values()))
    sites.to_file(root / "sites.gpkg", layer="sites")
    return (write_version(root / "v1", world_rasters, version=1),
            write_version(root / "v2", world_rasters, version=2), root / "sites.gpkg")


def screen_into(out: Path, manifest: Path, sites: Path, *extra: object) -> object:
    result = runner.invoke(app, ["screen", str(sites), "--out", str(out), "--planning",
                                 str(manifest), "--no-map", "-q", *map(str, extra)])
    assert result.exit_code == 0, result.output
    return result


def verdicts(out: Path) -> dict[str, str]:
    table = pd.read_csv(out / "sites.csv", encoding=CSV_ENCODING)
    return dict(zip(table.site_id, table.verdict, strict=True))


def test_run_json(versions: tuple[Path, Path, Path], tmp_path: Path) -> None:
    v1, _, sites = versions
    out = tmp_path / "out"
    screen_into(out, v1, sites, "--chunk-size", 3)
    record = read_record(out)
    inputs = record["inputs"]
    assert inputs["manifest"] == {"path": str(v1.resolve()), "sha256": file_hash(v1)}
    assert inputs["sites"]["sha256"] == file_hash(sites)
    assert inputs["planning"]["redlines"][0]["sha256"] == file_hash(v1.parent / "redlines.gpkg")
    assert sorted(inputs["planning"]) == sorted([*world_vectors(), "landcover", "dem"])
    assert Path(inputs["rules"][0]["path"]).name == "jilin.toml"
    assert record["ruleset"]["id"] == "jilin"
    assert {"redline", "geos", "proj", "gdal"} <= set(record["versions"])
    assert record["working_crs"]["name"] == load_planning(v1).crs.name
    assert record["options"]["chunk_size"] == 3
    assert record["options"]["absent"] == [] and record["options"]["disabled"] == []
    assert record["duration_s"] > 0 and record["started"].endswith("+00:00")
    assert record["verdicts"]["prohibited"] == 3 and record["verdicts"]["clear"] == 1
    meta = pyogrio.read_info(out / "screening.gpkg", layer="sites")["dataset_metadata"]
    assert json.loads(meta["redline_run"]) == record


def test_verify_replays_absent_kinds_and_disabled_rules(versions: tuple[Path, Path, Path],
                                                       tmp_path: Path) -> None:
    """A run with --absent and --disable verifies: the re-run declares and disables the same."""
    v1, _, sites = versions
    planning = tmp_path / "planning"
    shutil.copytree(v1.parent, planning)
    manifest = planning / "manifest.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace('[layers.scenic]\npath = "scenic.gpkg"\n', ""),
                        encoding="utf-8")
    assert "scenic" not in load_planning(manifest, absent=["scenic"]).kinds
    out = tmp_path / "out"
    screen_into(out, manifest, sites, "--absent", "scenic", "--disable", "LC-*,SLOPE-*")
    options = read_record(out)["options"]
    assert options["absent"] == ["scenic"]
    assert "LC-FOREST" in options["disabled"] and "SLOPE-STEEP" in options["disabled"]
    assert "not_assessed" not in verdicts(out).values()
    result = verify(out)
    assert (result.code, dict(result.changed_sites), result.other_changes) == (0, {}, ())


def test_verify_of_sites_screened_in_memory(versions: tuple[Path, Path, Path],
                                            tmp_path: Path) -> None:
    """Sites given as a GeoDataFrame have no file to read again: verify says so (exit 2)."""
    v1, _, sites = versions
    out = tmp_path / "out"
    redline.screen(gpd.read_file(sites), load_planning(v1)).to_file(out)
    result = verify(out)
    assert result.code == 2
    assert result.missing == ("sites: given in memory, not from a file",)
    cli = runner.invoke(app, ["verify", str(out)])
    assert cli.exit_code == 2
    assert "given in memory" in cli.output


def test_verify_same_then_changed_then_missing(versions: tuple[Path, Path, Path],
                                               tmp_path: Path) -> None:
    v1, v2, sites = versions
    planning = tmp_path / "planning"
    shutil.copytree(v1.parent, planning)
    out = tmp_path / "out"
    screen_into(out, planning / "manifest.toml", sites)
    assert verify(out).code == 0
    ok = runner.invoke(app, ["verify", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "verified" in ok.output

    # the red lines file is replaced by version 2's (RL-2 moved, RL-3 added)
    shutil.copy(v2.parent / "redlines.gpkg", planning / "redlines.gpkg")
    result = verify(out)
    assert result.code == 1
    assert result.changed_inputs == (f"redlines: {(planning / 'redlines.gpkg').resolve()}",)
    assert dict(result.changed_sites) == {"S-NEW": ("clear", "prohibited"),
                                          "S-RL2": ("prohibited", "clear")}
    failed = runner.invoke(app, ["verify", str(out)])
    assert failed.exit_code == 1
    assert "input changed: redlines" in failed.output
    assert "site S-NEW: clear -> prohibited" in failed.output

    (planning / "farmland.gpkg").unlink()
    missing = runner.invoke(app, ["verify", str(out)])
    assert missing.exit_code == 2
    assert "input missing: farmland" in missing.output


def test_diff(versions: tuple[Path, Path, Path], tmp_path: Path) -> None:
    v1, v2, _ = versions
    changes = diff_planning(v1, v2).changes.set_index(["kind", "feature_id"])
    assert sorted(changes.index) == [("redlines", "RL-2"), ("redlines", "RL-3"),
                                     ("scenic", "SC-1"), ("water_sources", "WS-1")]
    assert changes.loc[("redlines", "RL-3"), "change"] == "added"
    assert changes.loc[("redlines", "RL-3"), "gained"] == pytest.approx(NEW_REDLINE.area)
    assert changes.loc[("water_sources", "WS-1"), "change"] == "removed"
    assert changes.loc[("water_sources", "WS-1"), "lost"] == pytest.approx(square("ws1").area)
    moved = changes.loc[("redlines", "RL-2")]
    # moved further than its side: all 4 km² gained in the new place, all lost in the old
    assert moved["change"] == "reshaped"
    assert moved["gained"] == pytest.approx(4e6) and moved["lost"] == pytest.approx(4e6)
    assert moved["geometry"].area == pytest.approx(8e6)  # the changed area: old and new place
    assert changes.loc[("scenic", "SC-1"), "change"] == "attributes"
    assert changes.loc[("scenic", "SC-1"), "attributes"] == "name: 风景区 → 风景区（扩）"

    out = tmp_path / "diff"
    result = runner.invoke(app, ["diff", str(v1), str(v2), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "changes.csv", encoding=CSV_ENCODING)
    assert sorted(table.change) == ["added", "attributes", "removed", "reshaped"]
    areas = gpd.read_file(out / "changes.gpkg")
    assert len(areas) == 4 and areas.area.sum() == pytest.approx(
        NEW_REDLINE.area + 4e6 + 8e6 + square("scenic").area)
    page = (out / "changes.html").read_text(encoding="utf-8")
    assert "RL-3" in page
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?:', page)  # offline map


def test_compare(versions: tuple[Path, Path, Path], tmp_path: Path) -> None:
    v1, v2, sites = versions
    before, after = tmp_path / "before", tmp_path / "after"
    screen_into(before, v1, sites)
    assert verdicts(before) == {"S-NEW": "clear", "S-WS1": "prohibited",
                                "S-RL2": "prohibited", "S-CORE": "prohibited"}
    result = runner.invoke(app, ["screen", str(sites), "--out", str(after), "--planning",
                                 str(v2), "--no-map", "--compare", str(before)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(after / "sites.csv", encoding=CSV_ENCODING).set_index("site_id")
    assert table.loc["S-NEW", "previous_verdict"] == "clear"
    assert table["changed"].to_dict() == {"S-NEW": True, "S-WS1": True, "S-RL2": True,
                                          "S-CORE": False}
    flips = pd.read_csv(after / "verdict_changes.csv", encoding=CSV_ENCODING).set_index(
        "site_id")
    assert sorted(flips.index) == ["S-NEW", "S-RL2", "S-WS1"]
    assert flips.loc["S-NEW", "cause"] == "redlines RL-3 新增红线 added (overlaps the site)"
    assert flips.loc["S-WS1", "cause"].startswith("water_sources WS-1 一级 removed")
    assert "redlines RL-2 红线二 reshaped (overlaps the site)" in flips.loc["S-RL2", "cause"]
    assert "S-NEW: clear -> prohibited" in result.output
