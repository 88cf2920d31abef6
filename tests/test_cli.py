"""Tests of the ``redline`` command (typer app, run in-process with CliRunner)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from typer.testing import CliRunner

from redline import datasets, schema
from redline.cli import app
from redline.report import CSV_ENCODING, OUTPUT_FILES
from redline.rules import load_rules
from redline.zoning import CLASSIFY_COLUMNS

runner = CliRunner()


def run(*args: object) -> object:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def few_sites(sample_sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Five sample sites (enough for the error paths, fast to screen)."""
    return sample_sites.iloc[:5].copy()


def test_screen_sample_fail_on_prohibited(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(
        "screen", datasets.get_path("sites"), "--out", out, "--no-map", "--fail-on", "prohibited"
    )
    assert result.exit_code == 1, result.output  # the sample has prohibited sites
    for name in OUTPUT_FILES.values():
        assert (out / name).is_file(), name
    assert not (out / "map.html").exists()
    summary = pd.read_csv(out / OUTPUT_FILES["summary"], encoding=CSV_ENCODING)
    for row in summary.itertuples():  # the one-screen summary prints every verdict's count
        assert row.sites > 0
        assert any(
            line.split()[:1] == [row.verdict] and line.split()[-1] == str(row.sites)
            for line in result.stdout.splitlines()
        ), (row, result.stdout)
    assert str(out / "screening.gpkg") in result.stdout
    assert sorted(pyogrio.list_layers(out / "screening.gpkg")[:, 0]) == ["findings", "sites"]


def test_screen_exit_zero_and_quiet(tmp_path: Path, few_sites: gpd.GeoDataFrame) -> None:
    path = tmp_path / "few.gpkg"
    few_sites.to_file(path)
    result = run("screen", path, "--out", tmp_path / "out", "--no-map", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    sites = gpd.read_file(tmp_path / "out" / "screening.gpkg", layer="sites")
    assert sites["site_id"].tolist() == few_sites["site_id"].tolist()
    assert set(sites["verdict"]) <= set(schema.VERDICTS)


def test_screen_file_without_crs(tmp_path: Path, few_sites: gpd.GeoDataFrame) -> None:
    path = tmp_path / "no_crs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        pyogrio.write_dataframe(few_sites.set_crs(None, allow_override=True), path)
    result = run("screen", path, "--out", tmp_path / "out", "--no-map")
    assert result.exit_code == 2
    assert "no coordinate reference system" in result.stderr
    assert "crs" in result.stderr and str(path) in result.stderr
    assert not list((tmp_path / "out").glob("*"))  # nothing half-written
    fixed = run("screen", path, "--out", tmp_path / "out", "--no-map", "--crs", "EPSG:4490", "-q")
    assert fixed.exit_code == 0, fixed.output


def test_screen_swapped_lat_lon(tmp_path: Path, few_sites: gpd.GeoDataFrame) -> None:
    swapped = few_sites.to_crs(4326)
    swapped["geometry"] = shapely.transform(swapped.geometry.values, lambda xy: xy[:, ::-1])
    path = tmp_path / "swapped.geojson"
    swapped.to_file(path)
    result = run("screen", path, "--out", tmp_path / "out", "--no-map")
    assert result.exit_code == 2
    assert "swapped" in result.stderr


def test_screen_bad_rules_file(tmp_path: Path, few_sites: gpd.GeoDataFrame) -> None:
    rules = tmp_path / "county.toml"
    rules.write_text('[[rule]]\nid = "X"\nlayer = "reserve"\n', encoding="utf-8")
    path = tmp_path / "few.gpkg"
    few_sites.to_file(path)
    result = run("screen", path, "--out", tmp_path / "out", "--no-map", "--rules", rules)
    assert result.exit_code == 2
    assert "county.toml" in result.stderr and "'layer'" in result.stderr


def test_classify_to_geopackage_and_csv(tmp_path: Path) -> None:
    parcels = datasets.get_path("parcels")
    result = run("classify", parcels, "--out", tmp_path / "x.gpkg", "-q")
    assert result.exit_code == 0, result.output
    classified = gpd.read_file(tmp_path / "x.gpkg")
    n = pyogrio.read_info(parcels)["features"]
    assert len(classified) == n
    assert set(CLASSIFY_COLUMNS) <= set(classified.columns)
    result = run("classify", parcels, "--out", tmp_path / "x.csv")
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'x.csv'}" in result.stdout
    table = pd.read_csv(tmp_path / "x.csv")
    assert len(table) == n and set(CLASSIFY_COLUMNS) <= set(table.columns)
    assert table["zone"].tolist() == classified["zone"].tolist()


def test_layers_and_rules_print() -> None:
    layers = run("layers")
    assert layers.exit_code == 0, layers.output
    for kind in ("zoning", "redlines", "reserves", "boundary", "landcover", "dem"):
        assert kind in layers.stdout
    rules = run("rules")
    assert rules.exit_code == 0, rules.output
    for rule_id in ("ECO-REDLINE", "NR-CORE", "COR-PROVINCIAL-SEVER", "SLOPE-STEEP"):
        assert rule_id in rules.stdout
    # the rules whose clause could not be verified against its text are named
    unverified = [r.id for r in load_rules() if r.clause.verified is None]
    last = rules.stdout.strip().splitlines()[-1]
    assert last.startswith(f"{len(unverified)} of {len(load_rules())} rules cite a clause not "
                           "verified against its text")
    assert last.endswith(", ".join(unverified)) and "NR-EXPERIMENTAL" in unverified


def test_console_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "redline", "rules"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "FARM-BASIC" in done.stdout
