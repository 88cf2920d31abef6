"""Tests of redline.report: the 三线 table and the files a screening writes."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely import box

from conftest import frame, inside
from redline import schema, screen
from redline.planning import Planning
from redline.report import CSV_ENCODING, OUTPUT_FILES, three_lines_table, write_screening
from redline.screening import Screening

BOM = b"\xef\xbb\xbf"
RED, RED_M2 = "占用生态保护红线 occupies red line", "占用红线面积 red line m²"
FARM, FARM_M2 = "占用永久基本农田 occupies basic farmland", "占用农田面积 farmland m²"
OTHER, OTHER_M2 = "涉及其他管控图层 other controlled layers", "其他管控面积 other controlled m²"


@pytest.fixture(scope="module")
def hand(world: Planning) -> Screening:
    sites = frame(
        [
            {"site_id": "S1", "name": "红线边上的住宅", "project_type": "residential"},
            {"site_id": "S2", "name": "农田里的管线", "project_type": "linear_infrastructure"},
            {"site_id": "S3", "name": "风景区与禁止开发区", "project_type": "residential"},
            {"site_id": "S4", "name": "空地", "project_type": "residential"},
            {"site_id": "S5", "name": "无图形", "project_type": "residential"},
        ],
        [
            inside("redline", 1_970, 1_000, 2_070, 1_040),  # 30 m × 40 m inside the red line
            inside("farmland", 1_950, 0, 2_050, 100),  # 50 m × 100 m inside the farmland
            inside("scenic"),  # 200 m × 200 m inside the scenic area
            box(100, 100, 300, 300),
            None,
        ],
    )
    sites.index = pd.Index(["a", "b", "c", "d", "e"], name="key")
    return screen(sites, world)


def test_three_lines_by_hand(hand: Screening) -> None:
    table = three_lines_table(hand)
    assert table.index.equals(hand.sites.index)
    s1, s2, s3, s4, s5 = (table.loc[k] for k in "abcde")
    assert (s1["项目编号 site_id"], s1["项目名称 name"]) == ("S1", "红线边上的住宅")
    assert s1["结论 verdict"] == "禁止 prohibited"
    assert (s1[RED], s1[RED_M2]) == ("是 yes", 1_200.0)
    assert (s1[FARM], s1[FARM_M2]) == ("否 no", 0.0)
    assert (s1[OTHER], s1[OTHER_M2]) == ("", 0.0)
    assert (s2[RED], s2[FARM], s2[FARM_M2]) == ("否 no", "是 yes", 5_000.0)
    assert s2["结论 verdict"] == "需审批/有条件 conditional"
    assert s3[OTHER] == "风景名胜区/森林公园 scenic area" and s3[OTHER_M2] == 40_000.0
    assert (s4[RED], s4[FARM], s4[OTHER], s4["结论 verdict"]) == (
        "否 no",
        "否 no",
        "",
        "未发现冲突 clear",
    )
    assert s5[RED] == s5[FARM] == s5[OTHER] == "未评估 not assessed"
    assert s5["结论 verdict"] == "未评估 not_assessed"
    # no area next to "not assessed": a 0 there would read as "occupies nothing"
    assert pd.isna(s5[RED_M2]) and pd.isna(s5[FARM_M2]) and pd.isna(s5[OTHER_M2])
    assert hand.layer_overlaps.notna().all().all()  # the screening itself is untouched


def test_three_lines_lists_every_other_layer(world: Planning) -> None:
    # 100 m × 100 m inside the prohibited zone's east edge, and inside the core zone's corner
    sites = frame(
        [{"site_id": "X"}, {"site_id": "Y"}],
        [inside("zone_prohibited", 1_900, 900, 2_000, 1_000), inside("core", 0, 0, 100, 100)],
    )
    table = screen(sites, world).three_lines()
    assert table[OTHER].tolist() == ["禁止开发区域 prohibited zone", "自然保护区 nature reserve"]
    assert table[OTHER_M2].tolist() == [10_000.0, 10_000.0]


def test_summary(hand: Screening) -> None:
    summary = hand.summary()
    assert summary["verdict"].tolist() == list(schema.VERDICTS)
    assert summary["结论"].tolist() == [schema.VERDICT_LABELS[v] for v in schema.VERDICTS]
    assert summary.set_index("verdict")["sites"].to_dict() == {
        "not_assessed": 1,
        "prohibited": 1,
        "conditional": 2,
        "advisory": 0,
        "clear": 1,
    }


def test_to_file(hand: Screening, tmp_path: Path) -> None:
    written = hand.to_file(tmp_path / "out")
    assert set(written) == set(OUTPUT_FILES)
    assert all(path == tmp_path / "out" / OUTPUT_FILES[role] for role, path in written.items())
    gpkg = written["geopackage"]
    assert sorted(pyogrio.list_layers(gpkg)[:, 0]) == ["findings", "sites"]
    sites = gpd.read_file(gpkg, layer="sites")
    findings = gpd.read_file(gpkg, layer="findings")
    assert len(sites) == len(hand.sites) and len(findings) == len(hand.findings)
    assert sites["name"].tolist() == hand.sites["name"].tolist()  # Chinese text intact
    assert sites["verdict_zh"].tolist() == hand.sites["verdict_zh"].tolist()
    assert findings["conditions"].tolist() == hand.findings["conditions"].tolist()
    assert findings["feature_name"].tolist() == hand.findings["feature_name"].tolist()
    assert findings.crs == hand.findings.crs
    assert findings.geometry.area.round(6).tolist() == hand.findings.geometry.area.round(6).tolist()
    expected_rows = {
        "sites": len(hand.sites),
        "findings": len(hand.findings),
        "three_lines": len(hand.sites),
        "summary": len(schema.VERDICTS),
    }
    for role, rows in expected_rows.items():
        path = written[role]
        assert path.read_bytes().startswith(BOM), role
        table = pd.read_csv(path, encoding=CSV_ENCODING)
        assert len(table) == rows, role
    sites_csv = pd.read_csv(written["sites"], encoding=CSV_ENCODING)
    assert sites_csv["name"].tolist() == hand.sites["name"].tolist()
    three = pd.read_csv(written["three_lines"], encoding=CSV_ENCODING)
    assert three.loc[three["项目编号 site_id"] == "S1", RED_M2].item() == 1_200.0


def test_to_file_without_findings(world: Planning, tmp_path: Path) -> None:
    result = screen(frame([{"site_id": "A"}], [box(100, 100, 300, 300)]), world)
    written = write_screening(result, tmp_path)
    assert len(gpd.read_file(written["geopackage"], layer="findings")) == 0
    assert len(pd.read_csv(written["findings"], encoding=CSV_ENCODING)) == 0
    assert len(gpd.read_file(written["geopackage"], layer="sites")) == 1


def test_sample_to_file(sample_screening: Screening, tmp_path: Path) -> None:
    written = sample_screening.to_file(tmp_path)
    assert len(gpd.read_file(written["geopackage"], layer="sites")) == len(sample_screening.sites)
    assert len(pd.read_csv(written["findings"], encoding=CSV_ENCODING)) == len(
        sample_screening.findings
    )
    summary = pd.read_csv(written["summary"], encoding=CSV_ENCODING)
    assert (summary["sites"] > 0).all()
