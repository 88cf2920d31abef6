"""A county planner's first hour on the command line (issue #19, points 1–10; 11, the map, is
tested with the maps). Each test runs the ``redline`` command as a planner would: in-process
with typer's CliRunner, or as a process where what the terminal shows is the point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from redline import datasets, load_planning, read_sites
from redline.cli import RULES_TABLE_COLUMNS, app
from redline.errors import RedlineWarning
from redline.io import read_layer, write_layer
from redline.report import CSV_ENCODING
from redline.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def terminal(*args: object, timeout: float = 240) -> subprocess.CompletedProcess:
    """``python -m redline ARGS`` as a process: what a planner's terminal shows."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run([sys.executable, "-m", "redline", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, check=False, env=env, cwd=ROOT)


@pytest.fixture(scope="module")
def sample() -> gpd.GeoDataFrame:
    return read_sites(datasets.get_path("sites")).iloc[15:45]  # 15 verdicts depend on type


def verdicts(out: Path) -> pd.Series:
    sites = gpd.read_file(out / "screening.gpkg", layer="sites")
    return sites.set_index("site_id")["verdict"]


def test_1_chinese_columns_and_field_mapping(tmp_path, sample):
    canonical = tmp_path / "canonical.gpkg"
    write_layer(sample, canonical)
    assert run("screen", canonical, "--out", tmp_path / "a", "--no-map", "-q").exit_code == 0
    expected = verdicts(tmp_path / "a")
    chinese = tmp_path / "chinese.gpkg"
    write_layer(sample.rename(columns={"site_id": "项目编号", "name": "项目名称",
                                       "project_type": "项目类型"}), chinese)
    done = run("screen", chinese, "--out", tmp_path / "b", "--no-map", "-q")
    assert done.exit_code == 0, done.output
    pd.testing.assert_series_equal(verdicts(tmp_path / "b"), expected)
    three = pd.read_csv(tmp_path / "b" / "three_lines.csv", encoding=CSV_ENCODING)
    assert three["项目名称 name"].tolist() == sample["name"].tolist()  # names not blank
    own = tmp_path / "own.gpkg"
    write_layer(sample.rename(columns={"site_id": "编码", "project_type": "建设类型"}), own)
    with pytest.warns(RedlineWarning, match=r"no site_id column .*\['编码', 'name', '建设类型'"):
        warned = run("screen", own, "--out", tmp_path / "c", "--no-map", "-q")
    assert warned.exit_code == 0
    done = run("screen", own, "--out", tmp_path / "d", "--no-map", "-q",
               "--fields", "site_id=编码,project_type=建设类型")
    assert done.exit_code == 0, done.output
    pd.testing.assert_series_equal(verdicts(tmp_path / "d"), expected)
    manifest = tmp_path / "manifest.toml"
    sample_dir = Path(datasets.get_path("manifest")).parent
    text = Path(datasets.get_path("manifest")).read_text(encoding="utf-8")
    manifest.write_text(text.replace('path = "', f'path = "{sample_dir.as_posix()}/')
                        + '\n[sites.fields]\nsite_id = "编码"\nproject_type = "建设类型"\n',
                        encoding="utf-8")
    done = run("screen", own, "--out", tmp_path / "e", "--no-map", "-q", "--planning", manifest)
    assert done.exit_code == 0, done.output
    pd.testing.assert_series_equal(verdicts(tmp_path / "e"), expected)


def test_2_csv_gbk_and_excel_sites(tmp_path, sample):
    centres = sample.to_crs(4530).centroid.to_crs(4490)
    table = pd.DataFrame({"项目编号": sample["site_id"].to_numpy(), "项目类型":
                          sample["project_type"].to_numpy(), "lon": centres.x.to_numpy(),
                          "lat": centres.y.to_numpy()})
    csv = tmp_path / "项目清单.csv"
    table.to_csv(csv, index=False, encoding="gbk")  # Excel's CSV on Chinese Windows
    done = run("screen", csv, "--out", tmp_path / "csv", "--no-map", "-q", "--crs", "EPSG:4490")
    assert done.exit_code == 0, done.output
    assert verdicts(tmp_path / "csv").index.tolist() == sample["site_id"].tolist()
    xlsx = tmp_path / "项目清单.xlsx"
    table.to_excel(xlsx, index=False)
    done = run("screen", xlsx, "--out", tmp_path / "xlsx", "--no-map", "-q", "--crs", "EPSG:4490")
    assert done.exit_code == 0, done.output
    pd.testing.assert_series_equal(verdicts(tmp_path / "xlsx"), verdicts(tmp_path / "csv"))
    # the CSV classify writes (geometry in geometry_wkt) is a sites file too
    classified = tmp_path / "classified.csv"
    assert run("classify", csv, "--out", classified, "-q", "--crs", "EPSG:4490").exit_code == 0
    done = run("screen", classified, "--out", tmp_path / "wkt", "--no-map", "-q", "--crs",
               "EPSG:4490")
    assert done.exit_code == 0, done.output


def test_3_the_one_map_is_named_and_the_sample_warns(tmp_path):
    shown = terminal("screen", datasets.get_path("sites"), "--out", tmp_path / "out", "--no-map")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == (
        "one map: 吉林省生态城镇化“一张图”示例数据 (illustrative sample, not official) — "
        "illustrative sample, not official data; ruleset: jilin 2.0")
    assert "warning: the one map" in shown.stderr and "--planning MANIFEST" in shown.stderr
    name = "吉林省生态城镇化“一张图”示例数据 (illustrative sample, not official)"
    for table in ("summary", "sites", "findings", "three_lines"):
        read = pd.read_csv(tmp_path / "out" / f"{table}.csv", encoding=CSV_ENCODING)
        assert read.columns[-3:].tolist() == ["planning", "illustrative", "ruleset"], table
        assert set(read["ruleset"]) == {"jilin 2.0"}, table
        assert set(read["illustrative"]) == {"yes"} and set(read["planning"]) == {name}, table
    assessment = pd.read_csv(tmp_path / "out" / "assessment.csv", encoding=CSV_ENCODING)
    assert assessment.set_index("item").loc[["planning", "ruleset"], "value"].tolist() == [
        name, "jilin 2.0"]


def test_4_classify_creates_its_output_folder(tmp_path):
    out = tmp_path / "new_folder" / "deeper" / "parcels.gpkg"
    done = run("classify", datasets.get_path("parcels"), "--out", out, "-q")
    assert done.exit_code == 0, done.output
    parcels = gpd.read_file(out)
    assert len(parcels) == 3272
    assert set(parcels["planning"]) == {load_planning().name}  # which one map, in the file
    assert set(parcels["illustrative"]) == {"yes"}
    failed = run("classify", tmp_path / "missing.csv", "--out", tmp_path / "n2" / "p.gpkg")
    assert failed.exit_code == 2 and not (tmp_path / "n2").exists()


def test_5_no_crs_message_speaks_cli_and_guesses_the_zone(tmp_path, sample):
    path = tmp_path / "gk.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        sample.to_crs(4530).set_crs(None, allow_override=True).to_file(path)
    done = run("screen", path, "--out", tmp_path / "out", "--no-map")
    assert done.exit_code == 2
    assert "zone prefix 42: EPSG:4530" in done.stderr
    assert "Pass --crs EPSG:4530 on the command line" in done.stderr
    done = run("screen", path, "--out", tmp_path / "out", "--no-map", "-q", "--crs", "EPSG:4530")
    assert done.exit_code == 0, done.output


def test_6_demo_installs_the_runtime_only_and_windows_is_documented(tmp_path):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo_recipe = makefile.split("\ndemo:")[1].split("\n\n")[0]
    assert "$(DEMO_STAMP)" in demo_recipe and "redline demo" in demo_recipe
    runtime = makefile.split("$(DEMO_STAMP): pyproject.toml")[1].split("\n\n")[0]
    assert "pip install -e .\n" in runtime + "\n" and "[test]" not in runtime
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Windows" in readme and "py -m pip install" in readme and "redline demo" in readme
    done = run("demo", "--out", tmp_path / "demo", "-q")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "demo" / "map.html").is_file()
    assert len(verdicts(tmp_path / "demo")) == 247


def test_7_rules_as_table_csv_and_markdown():
    ruleset = load_rules()
    table = run("rules")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].endswith(f"(jilin 2.0), {len(ruleset)} rules")
    table_lines = lines[:lines.index("")] if "" in lines else lines
    assert max(len(line) for line in table_lines) <= 120  # was 1,800 characters wide
    assert lines[1].split() == list(RULES_TABLE_COLUMNS)
    csv = run("rules", "--format", "csv")
    frame = pd.read_csv(pd.io.common.StringIO(csv.stdout))
    assert frame["id"].tolist() == list(ruleset.ids)
    assert frame["clause"].str.len().max() > 60  # whole texts, not cut
    markdown = run("rules", "--format", "markdown").stdout.splitlines()
    assert markdown[0].startswith("| id | ") and set(markdown[1]) == {"|", "-"}
    assert len(markdown) == 2 + len(ruleset)
    assert all(line.count(" | ") == markdown[0].count(" | ") for line in markdown[2:])


def test_8_9_10_what_the_terminal_shows(tmp_path, sample):
    """Warnings are one line without source; progress starts with a count of sites; classify
    prints zones with Chinese names and counts not-assessed parcels by name; -q shows no bar."""
    path = tmp_path / "sites.gpkg"
    odd = sample.assign(project_type=sample["project_type"].where(
        sample["site_id"] != "JL-0016", "火星基地"))
    write_layer(odd, path)
    shown = terminal("screen", path, "--out", tmp_path / "out", "--no-map")
    assert shown.returncode == 0, shown.stderr
    warnings = [line for line in shown.stderr.splitlines() if line.startswith("warning:")]
    unknown = next(line for line in warnings if "火星基地" in line)
    assert "residential 住宅, industrial 工业" in unknown
    assert "warnings.warn(" not in shown.stderr and "RedlineWarning" not in shown.stderr
    bar = [line for line in shown.stderr.replace("\r", "\n").splitlines()
           if line.startswith("screening")]
    assert bar and "0chunk" not in bar[0] and "/30" in bar[0]
    parcels = read_layer(datasets.get_path("parcels")).head(40)
    parcels.loc[parcels.index[:2], "geometry"] = None  # two parcels not assessed
    source = tmp_path / "parcels.gpkg"
    write_layer(parcels, source)
    quiet = terminal("classify", source, "--out", tmp_path / "c.gpkg", "-q")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "" and "classifying" not in quiet.stderr and "%|" not in quiet.stderr
    loud = run("classify", source, "--out", tmp_path / "c.csv")
    assert loud.exit_code == 0, loud.output
    assert "NaN" not in loud.stdout
    counts = {line.split()[0]: line.split() for line in loud.stdout.splitlines()[2:-1]}
    assert counts["not_assessed"] == ["not_assessed", "未评估", "2"]
    table = pd.read_csv(tmp_path / "c.csv")
    assessed = table[table["status"] == "assessed"]
    shares = assessed.filter(like="share_").to_numpy()
    assert ((shares == 0) | (shares >= 1e-12)).all()  # no 7.77e-16 noise
    assert (assessed["zone_zh"] == assessed["zone"].map(
        {"key": "重点开发区域", "restricted": "限制开发区域", "prohibited": "禁止开发区域",
         "optimized": "优化开发区域", "unzoned": "未划定"})).all()
    albers = "+proj=aea +lat_1=41.5 +lat_2=45.5 +lat_0=43.5 +lon_0=126.5 +ellps=GRS80"
    assert assessed["area_m2"].sum() == pytest.approx(  # equal-area: the parcels' true areas
        parcels.geometry.iloc[2:].to_crs(albers).area.sum(), rel=1e-9)


def test_10_layers_singular_and_encoding(tmp_path):
    zoning = read_layer(datasets.get_path("zoning")).head(1)
    folder = tmp_path / "one"
    folder.mkdir()
    write_layer(zoning, folder / "zoning.shp", encoding="GBK")
    (folder / "zoning.cpg").unlink()  # the encoding must be detected
    (folder / "manifest.toml").write_text(
        '[planning]\nname = "一个图层"\n[layers.zoning]\npath = "zoning.shp"\n'
        '[layers.zoning.fields]\nfeature_id = "BSM"\nname = "名称"\nzone = "功能区"\n'
        'subtype = "类型"\n', encoding="utf-8")
    done = run("layers", "--planning", folder / "manifest.toml")
    assert done.exit_code == 0, done.output
    line = next(line for line in done.stdout.splitlines() if line.strip().startswith("zoning"))
    assert line.split(None, 1)[1] == "1 feature, text GB18030 (detected)"


def test_10_clause_does_not_repeat_its_year():
    from redline.rules import Clause

    clause = Clause("吉林省关于推进生态城镇化的意见（2014）", "二(四)5", "2014")
    assert str(clause).count("2014") == 1 and clause.en.count("2014") == 1
    for rule in load_rules():
        date = rule.clause.date
        if date and date in rule.clause.document:
            assert str(rule.clause).count(date) == 1, str(rule.clause)
