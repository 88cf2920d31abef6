"""Tests for redline.rules: the rule model, the bundled Jilin ruleset and users' overrides."""

from __future__ import annotations

import datetime as dt
import pickle
import re
import textwrap
import warnings
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from redline.errors import ArgumentError, LayerError, RedlineWarning, RuleError
from redline.rules import (
    CORRIDORS,
    RULE_FRAME_COLUMNS,
    Clause,
    Rule,
    RuleSet,
    as_ruleset,
    canonical_project_type,
    load_rules,
)
from redline.schema import PROJECT_TYPES, SEVERITIES, severity_rank

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
TABLE_BEGIN = "<!-- BEGIN DEFAULT RULES TABLE (generated: RuleSet.to_markdown) -->"
TABLE_END = "<!-- END DEFAULT RULES TABLE -->"

CLAUSE = 'clause = { document = "测试条例", article = "第一条", date = "2020-01-01" }'


def write(tmp_path: Path, text: str, name: str = "county.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def rule_toml(**fields: str) -> str:
    """A valid overlap rule on red lines, with ``fields`` replacing or adding TOML lines."""
    lines = {
        "id": '"T-1"',
        "title_zh": '"测试"',
        "title_en": '"Test"',
        "layer": '"redlines"',
        "test": '"overlap"',
        "severity": '"prohibited"',
        "clause": CLAUSE.removeprefix("clause = "),
    }
    lines.update(fields)
    body = "\n".join(f"{k} = {v}" for k, v in lines.items() if v is not None)
    return f"[[rule]]\n{body}\n"


def load_one(tmp_path: Path, **fields: str) -> RuleSet:
    return load_rules(write(tmp_path, rule_toml(**fields)), extend=False)


# ------------------------------------------------------------------ the bundled ruleset


def test_bundled_ruleset_loads_and_covers_every_layer_kind() -> None:
    rules = load_rules()
    assert rules.id == "jilin" and len(rules) == len(set(rules.ids)) >= 20
    layers = set(rules.by_layer())
    assert layers == {
        "zoning",
        "redlines",
        "reserves",
        "water_sources",
        "farmland",
        "scenic",
        CORRIDORS,
        "landcover",
        "dem",
        "urban_boundary",
        "forest_land",
        "national_parks",
        "cultivated_land",
        "geohazard",
        "heritage",
        "river_management",
        "ecological_barrier",
    }
    assert rules.layers_needed() == layers - {CORRIDORS} | {"rivers", "roads_rails"}
    tests = {r.test for r in rules}
    assert tests == {"overlap", "proximity", "outside", "severance", "landcover_share", "slope"}


def test_every_bundled_rule_is_titled_conditioned_and_cited() -> None:
    for rule in load_rules():
        assert rule.title_zh and rule.title_en and rule.title_zh != rule.title_en, rule.id
        assert rule.conditions_zh and rule.conditions_en, rule.id
        assert rule.clause.document and rule.clause.article and rule.clause.date, rule.id
        assert re.fullmatch(r"\d{4}(-\d{2}-\d{2})?", rule.clause.date), rule.id


def test_bundled_citations_and_defaults() -> None:
    rules = load_rules()
    assert (
        str(rules["NR-CORE"].clause)
        == "《中华人民共和国自然保护区条例》第二十六条（国务院，国务院令第830号，2026-02-03）"
    )
    seed = rules["COR-PROVINCIAL"].clause
    assert (seed.document, seed.issuer, seed.number, seed.date) == (
        "关于吉林省生态城镇化的实施意见", "吉林省人民政府办公厅", "吉政办发〔2014〕32号",
        "2014-08-07")
    for rid in ("COR-PROVINCIAL-SEVER", "COR-SECONDARY-SEVER"):  # 避免形成生态孤岛
        assert [c.article for c in rules[rid].see_also] == ["二(一)3"]
    assert [rules[f"WS-{x}"].clause.article for x in ("LEVEL1", "LEVEL2", "QUASI")] == [
        "第六十五条",
        "第六十六条",
        "第六十七条",
    ]
    assert rules["ECO-REDLINE"].clause.number == "自然资发〔2022〕142号"
    assert rules["ZON-PROHIBITED"].clause.date == "2010-12-21"
    assert rules["FARM-BASIC"].clause.article == "第三十五条"
    assert {r.clause.article for r in rules if r.layer == CORRIDORS} == {"二(四)5"}
    assert dict(rules.corridor_half_widths_m) == {
        "rivers.provincial": 1000.0,
        "rivers.secondary": 300.0,
        "roads_rails.secondary": 100.0,
    }
    assert rules["COR-PROVINCIAL-SEVER"].min_passage_m == 500.0
    assert rules["COR-SECONDARY-SEVER"].min_passage_m == 100.0
    assert rules.proximity_distance_m == 1000.0
    for rid in ("PRX-REDLINE", "PRX-RESERVE", "PRX-WATER-L1"):
        assert rules[rid].distance_m == 1000.0 and rules[rid].distance_from_default
    assert rules["NR-CORE"].where == {"zone": ("core_protection",)}
    assert rules["NR-EXPERIMENTAL"].where == {"zone": ("general_control",)}
    assert "NR-BUFFER" not in rules


# ------------------------------------------------------------------ the activity × zone matrix


@pytest.mark.parametrize(
    ("rule_id", "project_type", "expected"),
    [
        ("ECO-REDLINE", "residential", "prohibited"),
        ("ECO-REDLINE", "住宅", "prohibited"),
        ("ECO-REDLINE", "linear_infrastructure", "conditional"),
        ("ECO-REDLINE", "道路", "conditional"),
        ("ECO-REDLINE", "research_monitoring", "conditional"),
        ("ECO-REDLINE", "mining", "prohibited"),
        ("ECO-REDLINE", None, "prohibited"),
        ("ECO-REDLINE", "", "prohibited"),
        ("ECO-REDLINE", "  ", "prohibited"),
        ("NR-CORE", "tourism", "prohibited"),
        ("NR-CORE", None, "prohibited"),
        ("NR-EXPERIMENTAL", "tourism", "conditional"),
        ("NR-EXPERIMENTAL", "industrial", "prohibited"),
        ("NR-EXPERIMENTAL", None, "prohibited"),
        ("WS-LEVEL1", "water_infrastructure", "conditional"),
        ("WS-LEVEL1", "residential", "prohibited"),
        ("WS-LEVEL2", "residential", "conditional"),
        ("WS-QUASI", "commercial", "advisory"),
        ("FARM-BASIC", "linear_infrastructure", "conditional"),
        ("FARM-BASIC", "commercial", "prohibited"),
        ("ZON-RESTRICTED-ECO", "tourism", "conditional"),
        ("ZON-RESTRICTED-ECO", None, "prohibited"),
        ("ZON-RESTRICTED-AGRI", "agriculture", None),
        ("COR-PROVINCIAL", "linear_infrastructure", "advisory"),
        ("COR-PROVINCIAL-SEVER", "linear_infrastructure", "conditional"),
        ("COR-PROVINCIAL-SEVER", "residential", "prohibited"),
        ("SLOPE-STEEP", "residential", "advisory"),
        ("SLOPE-STEEP", "agriculture", None),
        ("SLOPE-STEEP", None, "advisory"),
        ("SLOPE-CULTIVATION", "residential", None),
        ("SLOPE-CULTIVATION", "agriculture", "conditional"),
    ],
)
def test_severity_matrix(rule_id: str, project_type: str | None, expected: str | None) -> None:
    assert load_rules()[rule_id].severity_for(project_type) == expected


def test_untyped_sites_get_the_strictest_severity_of_every_rule() -> None:
    for rule in load_rules():
        general = rule.severity_for(None)
        assert general is not None
        assert severity_rank(general) <= severity_rank(rule.severity), rule.id
        for ptype in PROJECT_TYPES:
            found = rule.severity_for(ptype)
            assert found is None or severity_rank(general) <= severity_rank(found), (rule.id, ptype)


def test_severity_for_unknown_type_is_refused() -> None:
    with pytest.raises(ArgumentError, match=r"unknown project type 'housing'; valid: residential"):
        load_rules()["ECO-REDLINE"].severity_for("housing")


def test_severities_for_matches_the_per_site_loop() -> None:
    rule = load_rules()["ECO-REDLINE"]
    types = ["residential", None, "道路", np.nan, "", "tourism", "residential"]
    expected = [rule.severity_for(t) for t in types]
    assert list(rule.severities_for(types)) == expected
    assert list(rule.severities_for(pd.Series(types, index=[5, 3, 1, 0, 2, 4, 9]))) == expected
    assert rule.severities_for([]).shape == (0,)


def test_canonical_project_type() -> None:
    assert canonical_project_type("Residential") == "residential"
    assert canonical_project_type(float("nan")) == "general"
    with pytest.raises(ArgumentError, match="unknown project type"):
        canonical_project_type("spaceport")


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("fields", "pattern"),
    [
        (
            {"layer": '"reserve"'},
            r"rule 'T-1' \(#1\) field 'layer': unknown layer kind 'reserve'; "
            r"valid: zoning, redlines, reserves",
        ),
        ({"layer": '"boundary"'}, r"field 'layer': unknown layer kind 'boundary' \(boundary is"),
        ({"test": '"touches"'}, r"field 'test': unknown test 'touches'; valid: overlap, proximity"),
        (
            {"layer": '"rivers"'},
            r"field 'test': test 'overlap' does not apply to layer 'rivers'; "
            r"valid for rivers: proximity",
        ),
        (
            {"test": '"proximity"', "distance_m": "-5"},
            r"field 'distance_m': negative distance -5 m",
        ),
        ({"distance_m": "-5"}, r"field 'distance_m': negative distance"),
        (
            {"test": '"proximity"', "distance_m": "0"},
            r"field 'distance_m': a proximity rule with distance 0",
        ),
        (
            {"distance_m": "50"},
            r"field 'distance_m': applies only to test 'proximity', not 'overlap'",
        ),
        ({"min_share": "0.5"}, r"field 'min_share': applies only to test 'landcover_share'"),
        ({"clause": None}, r"field 'clause': missing: every rule cites"),
        (
            {"clause": '{ document = "测试条例", date = "2020-01-01" }'},
            r"field 'clause.article': required",
        ),
        (
            {"clause": '{ document = "", article = "第一条", date = "2020-01-01" }'},
            r"field 'clause.document': required",
        ),
        (
            {"clause": '{ document = "x", article = "第一条", date = "2020-13-01" }'},
            r"field 'clause.date': not a real date",
        ),
        (
            {"clause": '{ document = "x", article = "1", date = "2020", page = 3 }'},
            r"field 'clause': unknown keys page",
        ),
        (
            {"severity": '"forbidden"'},
            r"field 'severity': unknown severity 'forbidden'; valid: "
            r"prohibited, conditional, advisory",
        ),
        (
            {"severity_by_type": '{ housing = "conditional" }'},
            r"field 'severity_by_type.housing': unknown project type 'housing'; valid: residential",
        ),
        (
            {"severity_by_type": '{ tourism = "maybe" }'},
            r"field 'severity_by_type.tourism': unknown severity 'maybe'; valid: .*exempt",
        ),
        ({"applies_to": '["housing"]'}, r"field 'applies_to': unknown project type 'housing'"),
        (
            {"applies_to": '["tourism"]', "severity_by_type": '{ tourism = "exempt" }'},
            r"field 'severity_by_type.tourism': contradicts applies_to: 'tourism' is both listed "
            r"in "
            r"applies_to and exempt",
        ),
        (
            {"applies_to": '["tourism"]', "severity_by_type": '{ mining = "advisory" }'},
            r"contradicts applies_to: 'mining' is given a severity but applies_to",
        ),
        (
            {"severity_by_type": '{ general = "advisory" }'},
            r"field 'severity_by_type.general': 'advisory' for general construction is more "
            r"lenient",
        ),
        (
            {"where": '{ zone = ["core"] }'},
            r"field 'where.zone': unknown field 'zone' for layer 'redlines'; "
            r"valid: feature_id, name",
        ),
        (
            {"layer": '"reserves"', "where": '{ zone = ["cor"] }'},
            r"field 'where.zone': unknown value 'cor' for reserves.zone; valid: core, buffer",
        ),
        (
            {"layer": '"zoning"', "where": '{ subtype = ["ecologcal"] }'},
            r"unknown value 'ecologcal' for zoning.subtype; valid: agricultural, ecological",
        ),
        (
            {"layer": '"dem"', "test": '"slope"', "max_slope_deg": "95", "statistic": '"median"'},
            r"field 'max_slope_deg': a slope in degrees between 0 and 90.*\n.*field 'statistic': "
            r"unknown statistic 'median'",
        ),
        (
            {
                "layer": '"landcover"',
                "test": '"landcover_share"',
                "classes": '["marsh"]',
                "min_share": "1.5",
            },
            r"field 'classes': unknown land-cover classes marsh.*\n.*field 'min_share'",
        ),
        (
            {"layer": '"corridors"', "test": '"severance"'},
            r"field 'min_passage_m': a severance rule needs the minimum passage width",
        ),
        ({"title_zh": None, "title_en": None}, r"field 'title_zh': missing"),
        ({"id": '"bad id!"'}, r"field 'id': expected an identifier"),
        ({"severty": '"prohibited"'}, r"unknown fields 'severty'; valid: id, layer"),
    ],
)
def test_invalid_rule_field(tmp_path: Path, fields: dict[str, str], pattern: str) -> None:
    with pytest.raises(RuleError, match=r"rules file .*county\.toml has \d problem") as info:
        load_one(tmp_path, **fields)
    assert re.search(pattern, str(info.value)), str(info.value)


def test_all_problems_are_gathered_into_one_error(tmp_path: Path) -> None:
    text = (
        rule_toml(id='"A"', layer='"reserve"')
        + rule_toml(id='"B"', severity='"fatal"', clause=None)
        + rule_toml(id='"A"')
        + "[proximity]\ndistance_m = -1\n"
    )
    with pytest.raises(RuleError, match=r"county\.toml has 5 problem\(s\)") as info:
        load_rules(write(tmp_path, text), extend=False)
    message = str(info.value)
    assert "rule 'A' (#1) field 'layer'" in message
    assert "rule 'B' (#2) field 'severity'" in message
    assert "rule 'B' (#2) field 'clause'" in message
    assert "rule 'A' (#3) field 'id': duplicate id 'A' (also rule #1)" in message
    assert "[proximity] field 'distance_m'" in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[ruleset]\nid = "x"\nversion = 1.0.0\n')
    with pytest.raises(RuleError, match=r"county\.toml is not valid TOML: .*line 3"):
        load_rules(path)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"missing\.toml does not exist"):
        load_rules(tmp_path / "missing.toml")
    path = tmp_path / "gbk.toml"
    path.write_bytes('[ruleset]\ntitle = "县级规则"\n'.encode("gb18030"))
    with pytest.raises(RuleError, match=r"gbk\.toml is not UTF-8"):
        load_rules(path)
    bad = write(tmp_path, '[ruleset]\nextends = "no"\n')
    with pytest.raises(RuleError, match=r"'extends': expected true or false, got 'no'"):
        load_rules(bad)
    stray = write(tmp_path, "[rulez]\n[corridors]\nwidth = 3\n[ruleset]\nauthor = 'x'\n")
    with pytest.raises(
        RuleError,
        match=r"(?s)unknown top-level key 'rulez'.*\[ruleset\] unknown "
        r"key 'author'.*\[corridors\] takes one table",
    ):
        load_rules(stray)


def test_empty_rulesets_are_refused(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match=r"no \[\[rule\]\] tables: a ruleset used on its own"):
        load_rules(write(tmp_path, '[ruleset]\nid = "empty"\n'), extend=False)
    every = ", ".join(f'"{rid}"' for rid in load_rules().ids)
    with pytest.raises(RuleError, match=r"'disable' removes every rule"):
        load_rules(write(tmp_path, f"disable = [{every}]\n", "all.toml"))


def test_proximity_rule_without_distance_needs_a_default(tmp_path: Path) -> None:
    with pytest.raises(
        RuleError, match=r"field 'distance_m': missing, and there is no \[proximity\]"
    ):
        load_one(tmp_path, test='"proximity"')
    ruleset = load_rules(
        write(tmp_path, "[proximity]\ndistance_m = 250\n" + rule_toml(test='"proximity"')),
        extend=False,
    )
    assert ruleset["T-1"].distance_m == 250.0


def test_corridor_widths_are_validated(tmp_path: Path) -> None:
    text = (
        "[corridors.half_width_m]\n"
        "rivers.tertiary = 10\nroads.secondary = 5\nrivers.secondary = -1\n"
    ) + rule_toml()
    with pytest.raises(RuleError, match=r"has 3 problem") as info:
        load_rules(write(tmp_path, text), extend=False)
    message = str(info.value)
    assert "field 'corridors.half_width_m.rivers.tertiary': expected '<layer>.<class>'" in message
    assert "field 'corridors.half_width_m.roads.secondary': expected '<layer>.<class>'" in message
    assert "field 'corridors.half_width_m.rivers.secondary': expected a positive number" in message
    lonely = rule_toml(layer='"corridors"', where='{ corridor = ["provincial"] }')
    with pytest.raises(RuleError, match=r"selects corridors .* but no corridor half-width is set"):
        load_rules(write(tmp_path, lonely), extend=False)


def test_rule_built_in_code_is_validated() -> None:
    clause = Clause("测试条例", "第一条", "2020-01-01")
    with pytest.raises(
        RuleError, match=r"(?s)rule 'X' is invalid \(2 problem\(s\)\).*'layer'.*'severity'"
    ):
        Rule("X", "reserve", "overlap", "fatal", clause, title_en="x")
    with pytest.raises(RuleError, match=r"field 'date': required: an ISO date"):
        Clause("测试条例", "第一条", "21 Dec 2010")
    with pytest.raises(RuleError, match=r"duplicate rule id 'X'"):
        rule = Rule("X", "redlines", "overlap", "advisory", clause, title_en="x")
        RuleSet("s", "1", "s", (rule, rule))


# ------------------------------------------------------------------ overriding and extending


COUNTY = """\
disable = ["LC-FOREST"]

[ruleset]
id = "fusong"
version = "2024"
title = "抚松县规则"

[corridors.half_width_m]
rivers.provincial = 1500

[proximity]
distance_m = 2000

[[rule]]
id = "NR-CORE"
title_zh = "自然保护区核心保护区（县级从严）"
title_en = "Nature reserve core protection zone (county, stricter)"
layer = "reserves"
where = { zone = ["core_protection"] }
test = "overlap"
severity = "prohibited"
clause = { document = "中华人民共和国自然保护区条例", article = "第二十六条", date = "2026-02-03" }

[[rule]]
id = "CTY-BUFFER-2KM"
title_zh = "保护区外围 2 公里"
title_en = "Within 2 km of a reserve core"
layer = "reserves"
where = { zone = "核心区" }
test = "proximity"
distance_m = 2000
severity = "conditional"
clause = { document = "抚松县国土空间总体规划", article = "第五章", date = "2023" }
"""


def test_county_file_extends_the_default(tmp_path: Path) -> None:
    base = load_rules()
    rules = load_rules(write(tmp_path, COUNTY))
    assert rules.id == "jilin+fusong" and rules.version == "2.0+2024"
    assert rules.sources == ("redline/rules/jilin.toml", str(tmp_path / "county.toml"))
    # replaced in place, stricter for research; the new rule appended; one disabled
    assert rules.ids.index("NR-CORE") == base.ids.index("NR-CORE")
    assert rules["NR-CORE"].severity_for("research_monitoring") == "prohibited"
    assert base["NR-CORE"].severity_for("research_monitoring") == "conditional"
    assert rules.ids[-1] == "CTY-BUFFER-2KM" and rules["CTY-BUFFER-2KM"].where == {
        "zone": ("core",)
    }
    assert "LC-FOREST" not in rules and len(rules) == len(base)
    # wider provincial river corridor; the others keep the default
    widths = rules.corridor_half_widths_m
    assert widths["rivers.provincial"] == 1500.0 and widths["rivers.secondary"] == 300.0
    # proximity rules that took the default follow the new one; explicit distances stay
    assert rules["PRX-REDLINE"].distance_m == 2000.0
    assert rules["CTY-BUFFER-2KM"].distance_m == 2000.0
    assert base["PRX-REDLINE"].distance_m == 1000.0


def test_replacing_instead_of_extending(tmp_path: Path) -> None:
    text = COUNTY.replace('disable = ["LC-FOREST"]\n', "")
    path = write(tmp_path, text)
    rules = load_rules(path, extend=False)
    assert rules.ids == ("NR-CORE", "CTY-BUFFER-2KM") and rules.id == "fusong"
    path2 = write(tmp_path, text.replace("[ruleset]\n", "[ruleset]\nextends = false\n"), "own.toml")
    assert load_rules(path2).ids == rules.ids


def test_disable_problems(tmp_path: Path) -> None:
    unknown = write(tmp_path, 'disable = ["NR-CORPS"]\n')
    with pytest.raises(
        RuleError, match=r"'disable': no rule 'NR-CORPS' in jilin; ids: ZON-PROHIBITED"
    ):
        load_rules(unknown)
    both = write(tmp_path, 'disable = ["T-1"]\n' + rule_toml(), "both.toml")
    with pytest.raises(RuleError, match=r"'disable' only applies when the file extends"):
        load_rules(both, extend=False)
    both_ext = write(tmp_path, 'disable = ["NR-CORE"]\n' + rule_toml(id='"NR-CORE"'), "b2.toml")
    with pytest.raises(RuleError, match=r"contradiction: 'NR-CORE' is both defined and listed in"):
        load_rules(both_ext)


def test_extension_corridor_rule_uses_the_default_widths(tmp_path: Path) -> None:
    text = rule_toml(
        id='"COR-PROVINCIAL-SEVER"',
        layer='"corridors"',
        test='"severance"',
        where='{ corridor = ["provincial"] }',
        min_passage_m="800",
    )
    rules = load_rules(write(tmp_path, text))
    assert rules["COR-PROVINCIAL-SEVER"].min_passage_m == 800.0
    assert rules.corridor_half_widths_m["rivers.provincial"] == 1000.0
    assert rules.corridor_min_passage_m == {"provincial": 800.0, "secondary": 100.0}


def test_merge_of_built_rulesets() -> None:
    base = load_rules()
    clause = Clause("测试条例", "第一条", "2020-01-01")
    extra = Rule(
        "PRX-REDLINE",
        "redlines",
        "proximity",
        "conditional",
        clause,
        title_en="near",
        distance_m=50.0,
    )
    merged = base.merge(
        RuleSet("x", "2", "x", (extra,), proximity_distance_m=300.0), disable=["SLOPE-STEEP"]
    )
    assert merged["PRX-REDLINE"].distance_m == 50.0
    assert merged["PRX-RESERVE"].distance_m == 300.0
    assert "SLOPE-STEEP" not in merged and "SLOPE-STEEP" in base
    with pytest.raises(RuleError, match=r"no rule 'NOPE' to disable"):
        base.merge(RuleSet("x", "2", "x", ()), disable=["NOPE"])


def test_as_ruleset(tmp_path: Path) -> None:
    base = load_rules()
    assert as_ruleset(None) is base and as_ruleset(base) is base
    assert "T-1" in as_ruleset(write(tmp_path, rule_toml()))
    with pytest.raises(TypeError, match="rules must be a RuleSet"):
        as_ruleset(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------ selecting features


def test_select_on_a_small_geodataframe() -> None:
    reserves = gpd.GeoDataFrame(
        {"zone": ["core", "buffer", "experimental", "核心区", None, "core_protection"]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(6)],
        index=[10, 11, 12, 13, 14, 15],
        crs="EPSG:3857",
    )
    rules = load_rules()
    # the 2026 two zones; three-zone data read core, buffer → core_protection, experimental →
    # general_control, and the findings say so
    assert rules["NR-CORE"].select(reserves).tolist() == [True, True, False, True, False, True]
    assert rules["NR-EXPERIMENTAL"].select(reserves).tolist() == [False, False, True, False,
                                                                  False, False]
    assert rules["NR-CORE"].value_mappings(reserves).tolist() == [
        "zone: core → core_protection", "zone: buffer → core_protection", None,
        "zone: core → core_protection", None, None]
    assert rules["PRX-RESERVE"].select(reserves).all()
    assert rules["NR-CORE"].select(reserves.iloc[:0]).shape == (0,)
    with pytest.raises(
        LayerError,
        match=r"rule 'NR-CORE' selects on field 'zone' but the reserves "
        r"layer has no such column",
    ):
        rules["NR-CORE"].select(reserves.rename(columns={"zone": "功能区"}))


def test_select_matches_numeric_water_levels() -> None:
    water = pd.DataFrame({"level": [1, 2.0, "quasi", "一级保护区"]})
    assert load_rules()["WS-LEVEL1"].select(water).tolist() == [True, False, False, True]


def test_select_on_corridors_by_source_layer() -> None:
    corridors = pd.DataFrame(
        {
            "source_layer": ["rivers", "roads_rails", "rivers"],
            "corridor": ["provincial", "secondary", "secondary"],
        }
    )
    clause = Clause("测试条例", "第一条", "2020-01-01")
    rule = Rule(
        "C",
        CORRIDORS,
        "overlap",
        "advisory",
        clause,
        title_en="c",
        where={"source_layer": "roads_rails"},
    )
    assert rule.select(corridors).tolist() == [False, True, False]
    assert load_rules()["COR-SECONDARY"].select(corridors).tolist() == [False, True, True]


def test_corridor_min_passage_by_class() -> None:
    rules = load_rules()
    assert rules.corridor_min_passage_m == {"provincial": 500.0, "secondary": 100.0}
    clause = Clause("测试条例", "第一条", "2020-01-01")
    other = Rule(
        "SEV-2",
        CORRIDORS,
        "severance",
        "advisory",
        clause,
        title_en="s",
        where={"corridor": "secondary"},
        min_passage_m=150.0,
    )
    clash = rules.merge(RuleSet("x", "1", "x", (other,), {"rivers.secondary": 300.0}))
    with pytest.raises(
        RuleError,
        match=r"severance rules 'COR-SECONDARY-SEVER' \(100 m\) and "
        r"'SEV-2' \(150 m\) give secondary corridors different",
    ):
        clash.corridor_min_passage_m  # noqa: B018
    too_wide = replace(other, id="COR-SECONDARY-SEVER", min_passage_m=250.0)
    with pytest.raises(
        RuleError,
        match=r"min_passage_m 250 m is not narrower than the "
        r"roads_rails.secondary corridor \(2 × 100 m\)",
    ):
        rules.merge(RuleSet("x", "1", "x", (too_wide,), {"rivers.secondary": 300.0}))


# ------------------------------------------------------------------ values and tables


def test_rules_are_hashable_and_picklable() -> None:
    rules = load_rules()
    again = pickle.loads(pickle.dumps(rules))
    assert again == rules and hash(again) == hash(rules)
    assert len({*rules, *again}) == len(rules)
    assert again["NR-CORE"].select(pd.DataFrame({"zone": ["core"]})).tolist() == [True]


def test_clause_citations() -> None:
    clause = load_rules()["ZON-PROHIBITED"].clause
    assert (  # not verified against its text: every printed citation says so
        str(clause)
        == "《全国主体功能区规划》第九章 禁止开发区域（国务院，国发〔2010〕46号，2010-12-21）"
        "〔未核验 unverified〕"
    )
    assert clause.en.startswith("National Plan for Major Function-Oriented Zones, 第九章")
    assert clause.en.endswith("[unverified]") and clause.verified is None and clause.note
    verified = load_rules()["FARM-BASIC"].clause
    assert verified.verified == dt.date(2026, 12, 4) and verified.source.startswith("http")
    assert str(verified).endswith("2019-08-26）")


def test_to_frame() -> None:
    frame = load_rules().to_frame()
    assert tuple(frame.columns) == RULE_FRAME_COLUMNS
    row = frame.set_index("id").loc["ECO-REDLINE"]
    assert row["untyped"] == "prohibited" and row["where"] == "all"
    assert "linear_infrastructure: conditional" in row["severity_by_type"]
    assert set(frame["severity"]) <= set(SEVERITIES)


def test_docs_county_example_loads(tmp_path: Path) -> None:
    text = DOCS.read_text(encoding="utf-8")
    example = text.split("<!-- BEGIN COUNTY EXAMPLE -->", 1)[1].split("<!-- END COUNTY", 1)[0]
    toml = example.split("```toml\n", 1)[1].split("```", 1)[0]
    rules = load_rules(write(tmp_path, toml, "fusong.toml"))
    assert rules.corridor_half_widths_m["rivers.provincial"] == 1500.0
    assert rules["NR-CORE"].severity_for("research_monitoring") == "prohibited"
    assert rules["FS-RESERVE-3KM"].distance_m == 3000.0 and "PRX-RESERVE" not in rules


def test_docs_table_matches_the_bundled_ruleset() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert TABLE_BEGIN in text and TABLE_END in text, "docs/rules.md lost its table markers"
    table = text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip("\n") + "\n"
    assert table == load_rules().to_markdown(), (
        "docs/rules.md is out of date; regenerate the table with "
        "`python -c 'import redline.rules as r; print(r.load_rules().to_markdown())'`"
    )


# ------------------------------------------------------------------ clause verification


def test_every_bundled_clause_is_verified_or_says_why() -> None:
    checked = []
    for rule in load_rules():
        for clause in (rule.clause, *rule.see_also):
            if clause.verified is not None:
                assert "http" in clause.source, (rule.id, clause)  # where the text was read
                checked.append(clause)
            else:
                assert len(clause.note) > 40, (rule.id, clause)  # what could not be read
    assert len(checked) >= 16 and min(c.verified for c in checked) == dt.date(2026, 12, 4)


def test_clause_verification_fields(tmp_path: Path) -> None:
    base = {"document": "某条例", "article": "第一条", "date": "2020-01-01"}
    clause = Clause(**base, verified="2026-12-01", source="https://example.org/a")  # type: ignore[arg-type]
    assert clause.verified == dt.date(2026, 12, 1) and not str(clause).endswith("〕")
    assert Clause(**base, verified=False, note="not found").verified is None  # type: ignore[arg-type]
    with pytest.raises(RuleError, match=r"field 'source': a verified clause names where"):
        Clause(**base, verified=dt.date(2026, 12, 1))
    with pytest.raises(RuleError, match=r"field 'verified': expected a date YYYY-MM-DD or false"):
        Clause(**base, verified="yesterday", source="x")  # type: ignore[arg-type]
    with pytest.raises(RuleError, match=r"field 'verified': 2999-01-01 is in the future"):
        Clause(**base, verified=dt.date(2999, 1, 1), source="x")
    # a TOML date literal, as the bundled file writes it
    rules = load_rules(write(tmp_path, rule_toml(id='"CTY-V"').replace(
        'date = "2020-01-01" }',
        'date = "2020-01-01", verified = 2026-11-30, source = "county gazette 12" }')))
    assert rules["CTY-V"].clause.verified == dt.date(2026, 11, 30)
    frame = rules.to_frame().set_index("id")
    assert frame.loc["CTY-V", "clause_verified"] and frame.loc["CTY-V", "clause_source"] == (
        "county gazette 12")
    assert not frame.loc["ZON-PROHIBITED", "clause_verified"]
    assert "Title, issuer, number" in frame.loc["ZON-PROHIBITED", "clause_source"]


# ------------------------------------------------------------------ the cells the law changed


@pytest.mark.parametrize(
    ("rule_id", "project_type", "expected"),
    [
        ("NR-CORE", "research_monitoring", "conditional"),  # 2026 art. 26 (一)
        ("NR-CORE", "ecological_restoration", "conditional"),
        ("NR-EXPERIMENTAL", "residential", "prohibited"),  # general control zone
        ("NR-EXPERIMENTAL", "commercial", "prohibited"),
        ("NR-EXPERIMENTAL", "public_service", "conditional"),
        ("NR-EXPERIMENTAL", "wind", "prohibited"),
        ("NR-EXPERIMENTAL", "power_grid", "conditional"),
        ("WS-QUASI", "industrial", "conditional"),  # art. 67: only heavy polluters
        ("WS-QUASI", "mining", "conditional"),
        ("WS-QUASI", None, "conditional"),
        ("WS-LEVEL2", "solar_pv", "conditional"),  # art. 66: no discharge
        ("WS-LEVEL2", "wind", "conditional"),
        ("WS-LEVEL2", "power_grid", "conditional"),
        ("WS-LEVEL2", "energy", "prohibited"),
        ("FARM-BASIC", "solar_pv", "prohibited"),  # 自然资办发〔2023〕12号
        ("FARM-BASIC", "energy", "prohibited"),  # energy takes its strictest kind
        ("FARM-BASIC", "power_grid", "conditional"),  # art. 35
        ("FARM-BASIC", "national_major", "conditional"),
        ("FARM-BASIC", "facility_agriculture", "conditional"),
        ("FARM-BASIC", "wind", "prohibited"),
        ("SCN-SCENIC-AREA", "wind", "prohibited"),  # 2026 wind notice
        ("SCN-SCENIC-AREA", "solar_pv", "conditional"),
        ("SCN-PROTECTED", "wind", "prohibited"),
        ("SCN-PROTECTED", "residential", "conditional"),  # 森林公园管理办法 art. 6
        ("SCN-PROTECTED", "commercial", "conditional"),
        ("SCN-PROTECTED", "tourism", "conditional"),
        ("SCN-PROTECTED", "public_service", "conditional"),
        ("SCN-PROTECTED", None, "prohibited"),
        ("LC-FOREST", "residential", "conditional"),  # 森林法 art. 37
        ("LC-FOREST", "research_monitoring", "advisory"),
        ("LC-FOREST", "ecological_restoration", None),
        ("ECO-REDLINE", "national_major", "conditional"),  # 厅字〔2019〕48号
        ("ECO-REDLINE", "power_grid", "conditional"),
        ("ECO-REDLINE", "solar_pv", "prohibited"),
        ("ECO-REDLINE", "energy", "prohibited"),
        ("ZON-PROHIBITED", "power_grid", "conditional"),
        ("COR-PROVINCIAL-SEVER", "power_grid", "conditional"),
        ("ZON-RESTRICTED-ECO", "industrial", "prohibited"),  # unchanged: text not read
    ],
)
def test_changed_matrix_cells(rule_id: str, project_type: str | None, expected: str | None) -> None:
    assert load_rules()[rule_id].severity_for(project_type) == expected


def test_energy_takes_the_strictest_of_its_kinds() -> None:
    for rule in load_rules():
        kinds = [rule.severity_for(k) for k in ("energy", "solar_pv", "wind", "power_grid")]
        found = [k for k in kinds if k]
        assert kinds[0] == (min(found, key=severity_rank) if found else None), rule.id
    assert canonical_project_type("光伏电站") == "solar_pv"
    assert canonical_project_type("输电线路") == "power_grid"
    assert canonical_project_type("国家重大项目") == "national_major"


# ------------------------------------------------------------------ unmapped selector values


def test_a_rule_selecting_a_value_no_feature_has_warns_about_unmapped_values() -> None:
    rule = load_rules()["SCN-SCENIC-AREA"]
    spelled = pd.DataFrame({"category": ["国家级风景名胜区", "森林公园", None]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rule.select(spelled).tolist() == [True, False, False]  # built-in spellings
        assert not rule.select(pd.DataFrame({"category": ["forest_park"]})).any()  # known value
        assert not rule.select(pd.DataFrame({"category": []})).any()
    unmapped = pd.DataFrame({"category": ["风景区", "森林公园", "风景区"]})
    with pytest.warns(RedlineWarning, match=r"rule 'SCN-SCENIC-AREA' selects scenic.category = "
                      r"\['scenic_area'\] but no feature has that value.*\['风景区'\].*"
                      r"\[layers.scenic.values.category\]"):
        assert not rule.select(unmapped).any()


def test_the_sample_screening_warns_about_no_selector(sample_planning) -> None:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for rule in load_rules():
            if rule.layer in sample_planning and rule.where:
                rule.select(sample_planning[rule.layer])
