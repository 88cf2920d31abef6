"""Rules as data: the rule model, the bundled Jilin ruleset and loading users' rulesets.

A rule names a layer kind and a selector on canonical values, a test (overlap, proximity,
corridor severance, land-cover share, slope) with its threshold, a severity per project type
and the regulation clause it rests on. The bundled ``jilin.toml`` encodes the 2014 Jilin
ecological-urbanisation opinions and the national rules they rest on; a county extends or
replaces it with its own TOML file. The format is documented in ``docs/rules.md``.

Examples
--------
>>> from redline.rules import load_rules
>>> rules = load_rules()
>>> rules["ECO-REDLINE"].severity_for("linear_infrastructure")
'conditional'
>>> str(rules["WS-LEVEL1"].clause)
'《中华人民共和国水污染防治法》第六十五条（全国人民代表大会常务委员会，2017-06-27）'
"""

from __future__ import annotations

from redline.rules.loader import DEFAULT_RULES, as_ruleset, load_rules
from redline.rules.model import Clause, Rule, RuleSet
from redline.rules.vocabulary import (
    CORRIDOR_FIELDS,
    CORRIDOR_SOURCES,
    CORRIDORS,
    EXEMPT,
    RULE_FRAME_COLUMNS,
    RULE_LAYERS,
    RULE_TESTS,
    SLOPE_STATISTICS,
    TESTS_BY_LAYER,
    canonical_project_type,
)

__all__ = [
    "CORRIDORS",
    "CORRIDOR_FIELDS",
    "CORRIDOR_SOURCES",
    "DEFAULT_RULES",
    "EXEMPT",
    "RULE_FRAME_COLUMNS",
    "RULE_LAYERS",
    "RULE_TESTS",
    "SLOPE_STATISTICS",
    "TESTS_BY_LAYER",
    "Clause",
    "Rule",
    "RuleSet",
    "as_ruleset",
    "canonical_project_type",
    "load_rules",
]
