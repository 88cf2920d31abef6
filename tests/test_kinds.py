"""The layer kinds of a territorial-plan review (issue #13) — urban development boundary, forest
land, national parks, cultivated land, geological hazards, heritage, river management zones and
the 2014 opinions' ecological barriers — through Python, the manifest, the CLI, the map and the
三线 table; and the ``outside`` rule test.

Sites are placed on the hand-built world of ``conftest.py``: each new kind is a 2 km square of
its own (rows y = -12 000 and -18 000); the urban development boundary is the province less the
square ``outside_town`` (x -4 000 … -2 000, y -18 000 … -16 000). Every expected area, length
and share below is worked out by hand from those squares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, Point, box
from typer.testing import CliRunner

from conftest import ANCHORS, frame, inside, square, territorial_vectors
from redline import datasets, schema, screen
from redline.cli import app
from redline.crs import WORKING_CRS
from redline.errors import LayerError
from redline.maps import planning_map, screening_map
from redline.maps.style import PALETTES, value_label_zh
from redline.planning import Planning, load_planning
from redline.report import CSV_ENCODING, HA_M2, MU_M2, OUTPUT_FILES, three_lines_table
from redline.rules import RuleSet, load_rules
from redline.screening import LAYER_OVERLAPS, Screening
from test_maps import layer_data, legend

NEW_KINDS = (
    "urban_boundary", "forest_land", "national_parks", "cultivated_land", "geohazard",
    "heritage", "river_management", "ecological_barrier",
)
X0, Y0 = ANCHORS["outside_town"]  # lower-left corner of the square outside the boundary


def findings_of(result: Screening, site_id: str) -> dict[str, str]:
    rows = result.findings[result.findings["site_id"] == site_id]
    return dict(zip(rows["rule_id"], rows["severity"], strict=True))


# -- each kind through Python: the rule it carries, by project type -------------------------------
KIND_CASES = {
    # site id: (square, project type, the findings expected: rule → severity)
    "forest-1-industry": ("forest_1", "industrial", {"FOREST-LEVEL1": "prohibited"}),
    "forest-1-restoration": ("forest_1", "ecological_restoration", {"FOREST-LEVEL1": "advisory"}),
    "forest-2-housing": ("forest_2", "residential", {"FOREST-LAND": "conditional"}),
    "forest-2-restoration": ("forest_2", "ecological_restoration", {}),
    "park-core-tourism": ("park_core", "tourism", {"NP-CORE": "prohibited"}),
    "park-core-research": ("park_core", "research_monitoring", {"NP-CORE": "conditional"}),
    "park-general-housing": ("park_general", "residential", {"NP-GENERAL": "prohibited"}),
    "park-general-road": ("park_general", "linear_infrastructure", {"NP-GENERAL": "conditional"}),
    "cultivated-housing": ("cultivated", "residential", {"CULT-LAND": "conditional"}),
    "black-soil-housing": (
        "black_soil", "residential", {"CULT-LAND": "conditional", "CULT-BLACK-SOIL": "conditional"}
    ),
    "black-soil-farm": (
        "black_soil", "agriculture", {"CULT-LAND": "advisory", "CULT-BLACK-SOIL": "advisory"}
    ),
    "geo-danger-housing": ("geo_danger", "residential", {"GEO-DANGER": "prohibited"}),
    "geo-danger-monitoring": ("geo_danger", "research_monitoring", {"GEO-DANGER": "conditional"}),
    "geo-prone-housing": ("geo_prone", "residential", {"GEO-PRONE": "conditional"}),
    "heritage-shop": ("heritage_protection", "commercial", {"HER-PROTECTION": "prohibited"}),
    "heritage-pipe": (
        "heritage_protection", "linear_infrastructure", {"HER-PROTECTION": "conditional"}
    ),
    "heritage-control-housing": ("heritage_control", "residential", {"HER-CONTROL": "conditional"}),
    "river-housing": ("river_management", "residential", {"RIV-MANAGEMENT": "conditional"}),
    "barrier-industry": ("barrier", "industrial", {"ECO-BARRIER": "conditional"}),
    "barrier-housing": ("barrier", "residential", {"ECO-BARRIER": "advisory"}),
    "barrier-restoration": ("barrier", "ecological_restoration", {}),
    "untyped-in-forest-1": ("forest_1", None, {"FOREST-LEVEL1": "prohibited"}),
}


@pytest.fixture(scope="module")
def kinds_screening(world: Planning) -> Screening:
    sites = frame(
        [{"site_id": sid, "project_type": ptype} for sid, (_, ptype, _) in KIND_CASES.items()],
        [inside(name) for name, _, _ in KIND_CASES.values()],
    )
    return screen(sites, world)


@pytest.mark.parametrize("site_id", list(KIND_CASES))
def test_each_new_kind_gives_its_rule_by_project_type(
    kinds_screening: Screening, site_id: str
) -> None:
    expected = KIND_CASES[site_id][2]
    assert findings_of(kinds_screening, site_id) == expected
    verdict = kinds_screening.sites.set_index("site_id").loc[site_id, "verdict"]
    strictest = min(expected.values(), key=schema.severity_rank) if expected else "clear"
    assert verdict == strictest
    for rule_id in expected:  # a 200 m square wholly inside the feature
        found = kinds_screening.findings
        hit = found[(found["site_id"] == site_id) & (found["rule_id"] == rule_id)]
        assert hit["overlap_m2"].iloc[0] == pytest.approx(40_000.0)
        assert hit["overlap_share"].iloc[0] == pytest.approx(1.0)


def test_new_kinds_are_optional_for_a_planning_without_rules_on_them() -> None:
    zones = gpd.GeoDataFrame({"zone": ["key"], "subtype": [None]},
                             geometry=[box(0, 0, 10_000, 10_000)],
                             crs=WORKING_CRS)
    planning = Planning(zoning=zones)
    assert not set(NEW_KINDS) & set(planning.kinds)
    rules = _only(*(rule.id for rule in load_rules() if rule.layer == "zoning"))
    result = screen(frame([{"site_id": "a"}], [box(100, 100, 300, 300)]), planning, rules=rules)
    assert result.sites["verdict"].tolist() == ["clear"]
    measured = [name for name, (kind, _) in LAYER_OVERLAPS.items() if kind in NEW_KINDS]
    assert len(measured) == len(NEW_KINDS)
    assert result.layer_overlaps[measured].isna().all().all()  # no layer, no measure


def test_a_missing_new_kind_needed_by_a_rule_is_not_assessed(
    make_planning: Any,
) -> None:
    planning = make_planning(forest_land=None)
    result = screen(frame([{"site_id": "a", "project_type": "residential"}],
                          [box(100, 100, 300, 300)]), planning)
    reason = result.sites["not_assessed_reason"].iloc[0]
    assert result.sites["verdict"].iloc[0] == "not_assessed"
    assert "forest_land" in reason and "FOREST-" in reason


# -- the `outside` test --------------------------------------------------------------------------
OUTSIDE_CASES = {
    # site id: (geometry, project type)
    "in-town": (box(100, 100, 300, 300), "residential"),
    "out-of-town": (inside("outside_town"), "residential"),
    "straddling": (box(X0 - 100, Y0 + 900, X0 + 100, Y0 + 1_100), "industrial"),
    "edge-sharing": (box(X0 - 200, Y0 + 900, X0, Y0 + 1_100), "commercial"),
    "tourism-out": (inside("outside_town"), "tourism"),
    "untyped-out": (inside("outside_town"), None),
    "road-across": (LineString([(X0 - 500, Y0 + 1_000), (X0 + 1_000, Y0 + 1_000)]), None),
    "well-out": (Point(X0 + 500, Y0 + 500), "residential"),
    "well-in": (Point(500, 500), "residential"),
}


@pytest.fixture(scope="module")
def outside(world: Planning) -> Screening:
    sites = frame(
        [{"site_id": sid, "project_type": ptype} for sid, (_, ptype) in OUTSIDE_CASES.items()],
        [geom for geom, _ in OUTSIDE_CASES.values()],
    )
    return screen(sites, world)


def test_outside_inside_and_partly(outside: Screening) -> None:
    hits = outside.findings[outside.findings["rule_id"] == "UB-OUTSIDE"].set_index("site_id")
    assert set(hits.index) == {"out-of-town", "straddling", "untyped-out", "road-across",
                               "well-out"}
    assert (hits["severity"] == "conditional").all()
    whole = hits.loc["out-of-town"]
    assert (whole["overlap_m2"], whole["overlap_share"]) == (pytest.approx(40_000.0), 1.0)
    assert whole.geometry.area == pytest.approx(40_000.0)
    part = hits.loc["straddling"]  # 200 m × 200 m, the east half in the square
    assert part["overlap_m2"] == pytest.approx(20_000.0)
    assert part["overlap_share"] == pytest.approx(0.5)
    assert part.geometry.area == pytest.approx(20_000.0)
    assert part.geometry.bounds == pytest.approx((X0, Y0 + 900, X0 + 100, Y0 + 1_100))
    assert part["measure"] == "partly outside: 20,000.00 m² (50%)"
    road = hits.loc["road-across"]  # 1 500 m long, 1 000 m of it in the square
    assert road["overlap_m"] == pytest.approx(1_000.0) and road["overlap_m2"] == 0.0
    assert road["overlap_share"] == pytest.approx(2 / 3)
    assert road.geometry.length == pytest.approx(1_000.0)
    assert hits.loc["well-out", "overlap_share"] == 1.0
    assert pd.isna(hits["feature_id"]).all() and pd.isna(hits["distance_m"]).all()
    verdicts = outside.sites.set_index("site_id")["verdict"]
    assert verdicts["in-town"] == verdicts["edge-sharing"] == verdicts["well-in"] == "clear"
    assert verdicts["tourism-out"] == "clear"  # the rule applies to housing, commerce, industry


def test_outside_in_the_three_lines_table(outside: Screening) -> None:
    table = outside.three_lines().set_index("项目编号 site_id")
    status = table["城镇开发边界 urban development boundary"]
    assert status["in-town"] == status["edge-sharing"] == status["well-in"] == "内 inside"
    assert status["out-of-town"] == status["well-out"] == "外 outside"
    assert status["straddling"] == status["road-across"] == "部分在外 partly outside"
    area = table["开发边界外面积 outside the boundary m²"]
    assert (area["in-town"], area["straddling"], area["out-of-town"]) == (0.0, 20_000.0, 40_000.0)
    assert table.loc["straddling", "开发边界外面积 outside the boundary 公顷 ha"] == 2.0
    assert table.loc["straddling", "开发边界外面积 outside the boundary 亩"] == 30.0
    assert table.loc["road-across", "开发边界外长度 outside the boundary length m"] == 1_000.0
    assert pd.isna(area["road-across"])  # a line has a length, no area
    assert table.loc["well-out", "开发边界外点数 points outside"] == 1


def test_outside_boundary_of_overlapping_features_is_their_union() -> None:
    """Two boundary features overlapping each other: the part outside is outside both."""
    halves = frame([{"feature_id": "A"}, {"feature_id": "B"}],
                   [box(-30_000, -30_000, X0 + 1_500, 30_000), box(X0 + 500, -30_000, 30_000,
                                                                   30_000)])
    planning = Planning(urban_boundary=halves)
    site = box(X0 + 400, Y0 + 900, X0 + 1_600, Y0 + 1_100)  # 1 200 m × 200 m, all inside
    result = screen(frame([{"site_id": "s", "project_type": "residential"}], [site]), planning,
                    rules=_only("UB-OUTSIDE"))
    assert result.findings.empty
    # 1 100 m of the 1 200 m in each feature: 440 000 m² summed, 240 000 m² (the site) once
    assert result.layer_overlaps.loc[0, "urban_boundary"] == pytest.approx(240_000.0)


# -- the 三线 table: measures by hand --------------------------------------------------------------
@pytest.fixture(scope="module")
def measured(make_planning: Any) -> Screening:
    """The world with a scenic feature that covers the reserve core square: land in both is
    counted once in "other controlled"."""
    scenic = frame(
        [{"feature_id": "SC-1", "name": "风景区", "category": "scenic_area"},
         {"feature_id": "SC-2", "name": "森林公园", "category": "forest_park"}],
        [square("scenic"), square("core")],
    )
    planning = make_planning(scenic=scenic)
    x, y = ANCHORS["redline"]
    sites = frame(
        [
            {"site_id": "road", "project_type": "linear_infrastructure"},
            {"site_id": "mast", "project_type": "research_monitoring"},
            {"site_id": "both", "project_type": "research_monitoring"},
            {"site_id": "field", "project_type": "agriculture"},
            {"site_id": "wood", "project_type": "residential"},
            {"site_id": "gone", "project_type": "residential"},
        ],
        [
            LineString([(x - 500, y + 1_000), (x + 1_000, y + 1_000)]),  # 1 000 m in the line
            Point(x + 1_000, y + 1_000),
            inside("core"),  # 200 m × 200 m in the core and in the forest park on it
            inside("black_soil", 900, 900, 1_200, 1_100),  # 300 m × 200 m of black soil
            inside("forest_2", 900, 900, 1_000, 1_200),  # 100 m × 300 m of forest land
            None,
        ],
    )
    return screen(sites, planning)


def test_three_lines_line_and_point_sites_read_yes(measured: Screening) -> None:
    table = three_lines_table(measured).set_index("项目编号 site_id")
    road, mast = table.loc["road"], table.loc["mast"]
    assert road["占用生态保护红线 occupies red line"] == "是 yes"
    assert road["占用红线长度 red line length m"] == 1_000.0
    assert pd.isna(road["占用红线面积 red line m²"]) and pd.isna(road["红线内点数 red line points"])
    assert mast["占用生态保护红线 occupies red line"] == "是 yes"
    assert mast["红线内点数 red line points"] == 1
    assert pd.isna(mast["占用红线长度 red line length m"])


def test_three_lines_other_controlled_is_the_union(measured: Screening) -> None:
    both = measured.three_lines().set_index("项目编号 site_id").loc["both"]
    assert both["涉及其他管控图层 other controlled layers"] == (
        "自然保护区 nature reserve; 风景名胜区/森林公园 scenic area")
    assert measured.layer_overlaps.loc[2, "reserves"] == pytest.approx(40_000.0)
    assert measured.layer_overlaps.loc[2, "scenic"] == pytest.approx(40_000.0)
    assert both["其他管控面积 other controlled m²"] == 40_000.0  # not 80 000: counted once
    assert both["其他管控面积 other controlled 公顷 ha"] == 4.0
    assert both["其他管控面积 other controlled 亩"] == 60.0


def test_three_lines_cultivated_and_forest_in_three_units(measured: Screening) -> None:
    table = measured.three_lines().set_index("项目编号 site_id")
    field, wood = table.loc["field"], table.loc["wood"]
    assert field["占用耕地面积 cultivated land m²"] == 60_000.0
    assert field["占用耕地面积 cultivated land 公顷 ha"] == 6.0
    assert field["占用耕地面积 cultivated land 亩"] == 90.0  # 60 000 / (2000 / 3)
    assert field["占用林地面积 forest land m²"] == 0.0
    assert wood["占用林地面积 forest land m²"] == 30_000.0
    assert wood["占用林地面积 forest land 亩"] == 45.0
    assert wood["占用林地面积 forest land 公顷 ha"] == 3.0
    assert pytest.approx(666.6666667) == MU_M2 and HA_M2 == 10_000.0


def test_three_lines_not_assessed_keeps_every_measure_blank(measured: Screening) -> None:
    gone = measured.three_lines().set_index("项目编号 site_id").loc["gone"]
    measures = [c for c in gone.index if c.endswith(("m²", "ha", "亩", "length m", "points"))
                or "点数" in c]
    assert len(measures) >= 20 and gone[measures].isna().all()
    assert gone["城镇开发边界 urban development boundary"] == "未评估 not assessed"


def test_three_lines_sample_road_across_a_red_line(sample_screening: Screening) -> None:
    """The sample's 通榆至乾安公路改建工程 runs 47.8 km in a red line: 是, with its length."""
    table = sample_screening.three_lines().set_index("项目名称 name")
    road = table.loc["通榆至乾安公路改建工程"]
    assert road["占用生态保护红线 occupies red line"] == "是 yes"
    assert road["占用红线长度 red line length m"] == pytest.approx(47_808.38, abs=0.01)
    jl7 = sample_screening.three_lines().set_index("项目编号 site_id").loc["JL-0007"]
    # reserve and prohibited zone on the same 17 229.81 m²: once, not 2 × 17 229.81
    assert jl7["其他管控面积 other controlled m²"] == 17_229.81


# -- the manifest -----------------------------------------------------------------------------
def test_new_kinds_through_a_manifest_with_chinese_fields(tmp_path: Path, world: Planning) -> None:
    renames = {
        "forest_land": {"protection_level": "等级", "public_welfare": "公益林"},
        "national_parks": {"zone": "分区", "park": "公园"},
        "cultivated_land": {"black_soil": "黑土"},
        "geohazard": {"level": "分区"},
        "heritage": {"zone": "范围"},
        "ecological_barrier": {"category": "类型"},
    }
    lines = ['[planning]', 'name = "测试"']
    for kind, gdf in territorial_vectors().items():
        fields = {"feature_id": "BSM", "name": "名称", **renames.get(kind, {})}
        out = gdf.rename(columns=fields)
        if kind == "heritage":  # a spelling only this dataset uses
            out["范围"] = out["范围"].replace({"保护范围": "保护区划"})
        out.to_file(tmp_path / f"{kind}.shp", encoding="UTF-8")
        lines += ["", f"[layers.{kind}]", f'path = "{kind}.shp"', f"[layers.{kind}.fields]"]
        lines += [f'{canon} = "{src}"' for canon, src in fields.items() if canon in gdf]
    lines += ["[layers.heritage.values.zone]", '"保护区划" = "protection"']
    (tmp_path / "m.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    planning = load_planning(tmp_path / "m.toml")
    assert set(planning.kinds) == set(NEW_KINDS)
    for kind in NEW_KINDS:
        pd.testing.assert_frame_equal(
            pd.DataFrame(planning[kind].drop(columns="geometry")),
            pd.DataFrame(world[kind].drop(columns="geometry")), check_dtype=False)
    assert planning["forest_land"]["protection_level"].tolist() == ["I", "II"]
    assert planning["heritage"]["zone"].tolist() == ["protection", "construction_control"]


def test_a_value_outside_a_new_kind_vocabulary_is_refused(tmp_path: Path) -> None:
    forest = territorial_vectors()["forest_land"].assign(protection_level=["Ⅴ级", "II"])
    with pytest.raises(LayerError, match=r"protection_level.*Ⅴ级.*\[layers\.forest_land\.values"):
        Planning(forest_land=forest)


@pytest.mark.parametrize(
    ("kind", "field_name", "value", "canonical"),
    [
        ("forest_land", "protection_level", "Ⅰ级保护林地", "I"),
        ("forest_land", "protection_level", 3, "III"),
        ("forest_land", "public_welfare", "国家级一级公益林", "national_1"),
        ("national_parks", "zone", "一般控制区", "general_control"),
        ("cultivated_land", "black_soil", "是", "yes"),
        ("geohazard", "level", "地质灾害危险区", "danger"),
        ("geohazard", "level", "中易发区", "medium"),
        ("heritage", "zone", "建控地带", "construction_control"),
        ("ecological_barrier", "category", "生态绿心", "green_heart"),
    ],
)
def test_chinese_aliases_of_the_new_kinds(
    kind: str, field_name: str, value: object, canonical: str
) -> None:
    assert schema.canonical_value(kind, field_name, value) == canonical


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_lists_the_new_kinds_and_writes_the_three_lines(tmp_path: Path) -> None:
    runner = CliRunner()
    layers = runner.invoke(app, ["layers"])
    assert layers.exit_code == 0, layers.output
    for kind in NEW_KINDS:
        assert kind in layers.stdout
    rules = runner.invoke(app, ["rules"])
    for rule_id in ("UB-OUTSIDE", "FOREST-LEVEL1", "NP-CORE", "CULT-BLACK-SOIL", "GEO-DANGER",
                    "HER-PROTECTION", "RIV-MANAGEMENT", "ECO-BARRIER"):
        assert rule_id in rules.stdout
    sites = gpd.read_file(datasets.get_path("sites"))
    straddling = sites[sites["note"].fillna("").str.contains("一半在城镇开发边界外")]
    path = tmp_path / "s.gpkg"
    straddling.to_file(path)
    result = runner.invoke(app, ["screen", str(path), "--out", str(tmp_path / "o"), "--no-map"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "o" / OUTPUT_FILES["three_lines"], encoding=CSV_ENCODING)
    assert table["城镇开发边界 urban development boundary"].tolist() == ["部分在外 partly outside"]
    outside_m2 = table["开发边界外面积 outside the boundary m²"].iloc[0]
    assert 0 < outside_m2 < straddling.to_crs(WORKING_CRS).area.iloc[0]
    found = pd.read_csv(tmp_path / "o" / OUTPUT_FILES["findings"], encoding=CSV_ENCODING)
    row = found[found["rule_id"] == "UB-OUTSIDE"].iloc[0]
    assert row["overlap_m2"] == pytest.approx(outside_m2, abs=0.005)


# -- the map -----------------------------------------------------------------------------------
def test_every_value_of_the_new_kinds_has_a_swatch() -> None:
    assert set(schema.FOREST_LEVELS) == set(PALETTES["forest_land"])
    assert set(schema.PARK_ZONES) == set(PALETTES["national_parks"])
    assert set(schema.GEOHAZARD_LEVELS) == set(PALETTES["geohazard"])
    assert set(schema.HERITAGE_ZONES) == set(PALETTES["heritage"])
    assert set(schema.BARRIER_KINDS) == set(PALETTES["ecological_barrier"])
    for kind in ("urban_boundary", "river_management", "cultivated_land"):
        assert kind in PALETTES[kind]
    assert value_label_zh("forest_land", "protection_level", "I") == "Ⅰ级保护林地"


def test_map_draws_and_explains_the_new_kinds(kinds_screening: Screening) -> None:
    page = screening_map(kinds_screening).get_root().render()
    text = legend(page)
    for kind in NEW_KINDS:
        assert f'redline.addLayer("{kind}",' in page, kind
        keys = {f["properties"]["k"] for f in layer_data(page, kind)["features"]}
        assert keys and keys <= set(PALETTES[kind]), kind
        for key in keys:
            assert PALETTES[kind][key].label in text, (kind, key)
    assert "耕地（黑土地） cultivated land, black soil" in text
    assert "城镇开发边界 Urban development boundary" in text


def test_planning_map_of_the_new_kinds_only(world: Planning) -> None:
    page = planning_map(world, kinds=["forest_land", "urban_boundary"],
                        basemap=None).get_root().render()
    assert 'redline.addLayer("forest_land",' in page
    assert 'redline.addLayer("reserves",' not in page


def test_layer_overlaps_hold_a_value_per_kind(kinds_screening: Screening) -> None:
    overlaps = kinds_screening.layer_overlaps
    assert overlaps.notna().all().all()
    site = np.flatnonzero(kinds_screening.sites["site_id"] == "black-soil-housing")[0]
    assert overlaps.iloc[site]["cultivated_land"] == pytest.approx(40_000.0)
    assert overlaps.iloc[site]["site_measure"] == pytest.approx(40_000.0)
    assert shapely.area(inside("black_soil")) == 40_000.0


def _only(*rule_ids: str) -> RuleSet:
    """The bundled ruleset reduced to ``rule_ids``."""
    rules = load_rules()
    return rules.merge(RuleSet("none", "1", "", rules=()),
                       disable=[r for r in rules.ids if r not in rule_ids])
