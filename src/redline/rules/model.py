"""The rule model: clauses, rules and rulesets (values only; reading files is in ``loader``).

A :class:`Rule` says which layer features it looks at (``layer`` + ``where``), how a site is
tested against them (``test`` with its threshold), how severe a finding is for each project type
(``severity``, ``severity_by_type``, ``applies_to``) and which regulation clause it rests on
(:class:`Clause`). A :class:`RuleSet` is an ordered, versioned collection of rules plus the
corridor half-widths and the default proximity distance.

Every value is checked when it is built, whether it comes from a TOML file or from code: an
invalid rule raises one :class:`~redline.errors.RuleError` listing every problem by field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd

from redline.errors import ArgumentError, LayerError, RuleError
from redline.schema import (
    CORRIDOR_CLASSES,
    GENERAL_CONSTRUCTION,
    LANDCOVER_CLASSES,
    LAYER_SPECS,
    PROJECT_TYPE_ALIASES,
    PROJECT_TYPES,
    RASTER_KINDS,
    SEVERITIES,
    VALUE_ALIASES,
    VECTOR_KINDS,
    canonical_value,
    severity_rank,
)

__all__ = [
    "CORRIDORS",
    "CORRIDOR_FIELDS",
    "CORRIDOR_SOURCES",
    "EXEMPT",
    "RULE_FRAME_COLUMNS",
    "RULE_LAYERS",
    "RULE_TESTS",
    "SLOPE_STATISTICS",
    "TESTS_BY_LAYER",
    "Clause",
    "Rule",
    "RuleSet",
    "canonical_project_type",
]

#: Pseudo layer kind of the corridor polygons built from the line layers' centrelines.
CORRIDORS: Final = "corridors"
#: Line layer kinds that carry a ``corridor`` class and so can seed corridors.
CORRIDOR_SOURCES: Final = tuple(k for k, s in LAYER_SPECS.items() if "corridor" in s.required)
#: Attribute fields of the corridor layer (``redline.corridors.build_corridors``) a rule may
#: select on: ``source_layer`` is the line layer kind the corridor was built from, ``corridor``
#: its class.
CORRIDOR_FIELDS: Final = ("feature_id", "name", "source_layer", "corridor")
#: Layer kinds a rule may test. ``boundary`` is the assessed extent, not a rule layer.
RULE_LAYERS: Final = (*(k for k in VECTOR_KINDS if k != "boundary"), CORRIDORS, *RASTER_KINDS)
#: How a site is tested against a layer.
RULE_TESTS: Final = ("overlap", "proximity", "severance", "landcover_share", "slope")
#: Which tests make sense on which layer kind.
TESTS_BY_LAYER: Final = {
    **{
        kind: ("proximity",) if LAYER_SPECS[kind].geometry == "line" else ("overlap", "proximity")
        for kind in RULE_LAYERS
        if kind in LAYER_SPECS
    },
    CORRIDORS: ("overlap", "severance"),
    "landcover": ("landcover_share",),
    "dem": ("slope",),
}
#: Slope statistics a ``slope`` rule may compare with its threshold.
SLOPE_STATISTICS: Final = ("mean", "max")
#: Spelling of "no finding for this project type" in ``severity_by_type`` (``None`` in Python).
EXEMPT: Final = "exempt"
#: Columns of :meth:`RuleSet.to_frame`.
RULE_FRAME_COLUMNS: Final = (
    "id",
    "layer",
    "where",
    "test",
    "threshold",
    "severity",
    "untyped",
    "severity_by_type",
    "applies_to",
    "title_zh",
    "title_en",
    "conditions_zh",
    "conditions_en",
    "clause",
)

# Fields that belong to one test only; any other test must leave them unset.
_TEST_FIELDS: Final = {
    "distance_m": "proximity",
    "min_passage_m": "severance",
    "classes": "landcover_share",
    "min_share": "landcover_share",
    "max_slope_deg": "slope",
    "statistic": "slope",
}
_ID_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_DATE_RE: Final = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

K = TypeVar("K")
V = TypeVar("V")
Problem = tuple[str, str]  # (field, message)


class _FrozenMap(Mapping[K, V]):
    """An immutable, hashable, picklable mapping (rules are shared across processes)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __repr__(self) -> str:
        return repr(self._data)


class RuleProblemsError(RuleError):
    """A RuleError that also carries the (field, message) problems, so a loader can gather them."""

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


def _raise_problems(what: str, problems: list[Problem]) -> None:
    lines = "\n".join(f"  - field {name!r}: {msg}" for name, msg in problems)
    raise RuleProblemsError(
        f"{what} is invalid ({len(problems)} problem(s)):\n{lines}\n"
        "See docs/rules.md for the rule format.",
        problems,
    )


def _listing(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values)


def finite_number(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` if it is not a real number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def canonical_project_type(value: object) -> str:
    """Canonical project type of ``value``; missing or blank means general construction.

    Parameters
    ----------
    value
        A canonical name (``"residential"``), a Chinese label or alias (``"住宅"``), or
        ``None`` / ``""`` / NaN for a site without a type.

    Returns
    -------
    str
        A key of :data:`redline.schema.PROJECT_TYPES`.

    Raises
    ------
    ArgumentError
        If the value is not a known project type; the message lists the valid names.

    Examples
    --------
    >>> canonical_project_type("道路"), canonical_project_type(None)
    ('linear_infrastructure', 'general')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return GENERAL_CONSTRUCTION
    text = str(value).strip()
    if not text:
        return GENERAL_CONSTRUCTION
    if text.lower() in PROJECT_TYPES:
        return text.lower()
    if text in PROJECT_TYPE_ALIASES:
        return PROJECT_TYPE_ALIASES[text]
    raise ArgumentError(
        f"unknown project type {text!r}; valid: {_listing(PROJECT_TYPES)} (or their Chinese "
        "labels in redline.schema.PROJECT_TYPES / PROJECT_TYPE_ALIASES); leave it empty for "
        "general construction."
    )


def _clause_problems(values: Mapping[str, Any]) -> tuple[dict[str, str], list[Problem]]:
    """Normalised clause fields and the problems with them."""
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for name in ("document", "article"):
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            problems.append((name, f"required: a non-empty string, got {value!r}"))
        else:
            out[name] = value.strip()
    date = values.get("date")
    if isinstance(date, dt.date):
        out["date"] = date.isoformat()[:10]
    elif isinstance(date, str) and _DATE_RE.match(date.strip()):
        text = date.strip()
        try:
            dt.date.fromisoformat((text + "-01-01")[:10])
        except ValueError:
            problems.append(("date", f"not a real date: {date!r}"))
        else:
            out["date"] = text
    else:
        problems.append(
            ("date", f"required: an ISO date YYYY-MM-DD (or YYYY-MM, YYYY), got {date!r}")
        )
    for name in ("document_en", "issuer", "number"):
        value = values.get(name, "")
        if not isinstance(value, str):
            problems.append((name, f"expected a string, got {value!r}"))
        else:
            out[name] = value.strip()
    return out, problems


@dataclass(frozen=True)
class Clause:
    """The regulation clause a rule cites.

    Parameters
    ----------
    document
        Title of the document in Chinese, e.g. ``"中华人民共和国自然保护区条例"``.
    article
        Article or section, e.g. ``"第三十二条"`` or ``"二(四)5"``.
    date
        ISO date of the version cited (``YYYY-MM-DD``; ``YYYY-MM`` or ``YYYY`` when only that
        much is known).
    document_en
        English title.
    issuer
        Issuing body, e.g. ``"国务院"``.
    number
        Document number (文号), e.g. ``"国发〔2010〕46号"``.

    Examples
    --------
    >>> str(Clause("中华人民共和国自然保护区条例", "第三十二条", "2017-10-07", issuer="国务院"))
    '《中华人民共和国自然保护区条例》第三十二条（国务院，2017-10-07）'
    """

    document: str
    article: str
    date: str
    document_en: str = ""
    issuer: str = ""
    number: str = ""

    def __post_init__(self) -> None:
        values, problems = _clause_problems({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            _raise_problems("clause", problems)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __str__(self) -> str:
        details = "，".join(p for p in (self.issuer, self.number, self.date) if p)
        return f"《{self.document}》{self.article}（{details}）"

    @property
    def en(self) -> str:
        """One-line English citation (the Chinese title where no English one is given).

        Examples
        --------
        >>> Clause("中华人民共和国自然保护区条例", "第三十二条", "2017-10-07",
        ...        document_en="Regulations on Nature Reserves", issuer="State Council").en
        'Regulations on Nature Reserves, 第三十二条 (State Council, 2017-10-07)'
        """
        details = ", ".join(p for p in (self.issuer, self.number, self.date) if p)
        return f"{self.document_en or self.document}, {self.article} ({details})"


def _vocabulary(layer: str, field_name: str) -> tuple[str, ...] | None:
    """Closed vocabulary of a selector field, or ``None`` where any value is allowed."""
    if layer == CORRIDORS:
        return {"source_layer": CORRIDOR_SOURCES, "corridor": CORRIDOR_CLASSES}.get(field_name)
    allowed = LAYER_SPECS[layer].required.get(field_name)
    if allowed is not None:
        return tuple(allowed)
    aliases = VALUE_ALIASES.get((layer, field_name))
    return tuple(dict.fromkeys(aliases.values())) if aliases else None


def _canonical_selector_value(layer: str, field_name: str, value: object) -> str | None:
    if layer == CORRIDORS:
        text = str(value).strip()
        vocabulary = _vocabulary(layer, field_name)
        return text if text and (vocabulary is None or text in vocabulary) else None
    return canonical_value(layer, field_name, value)


def _check_where(
    layer: str, where: object
) -> tuple[_FrozenMap[str, tuple[str, ...]], list[Problem]]:
    problems: list[Problem] = []
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(where, Mapping):
        return _FrozenMap(), [("where", f"expected a table of field = [values], got {where!r}")]
    if layer in RASTER_KINDS:
        problems = [("where", f"a {layer} rule has no selector; remove 'where'")] if where else []
        return _FrozenMap(), problems
    if layer not in RULE_LAYERS:
        return _FrozenMap(), []  # reported under 'layer'
    allowed_fields = CORRIDOR_FIELDS if layer == CORRIDORS else LAYER_SPECS[layer].fields
    for name, raw in where.items():
        label = f"where.{name}"
        if name not in allowed_fields:
            problems.append(
                (
                    label,
                    f"unknown field {name!r} for layer {layer!r}; valid: "
                    f"{_listing(allowed_fields)}",
                )
            )
            continue
        items = [raw] if isinstance(raw, str | int) and not isinstance(raw, bool) else raw
        if not isinstance(items, list | tuple) or not items:
            problems.append((label, f"expected a value or a non-empty list of values, got {raw!r}"))
            continue
        values: list[str] = []
        for item in items:
            value = _canonical_selector_value(layer, name, item)
            vocabulary = _vocabulary(layer, name)
            if value is None or (vocabulary is not None and value not in vocabulary):
                valid = _listing(vocabulary) if vocabulary else "any non-empty text"
                problems.append(
                    (label, f"unknown value {item!r} for {layer}.{name}; valid: {valid}")
                )
            elif value not in values:
                values.append(value)
        out[name] = tuple(values)
    return _FrozenMap(out), problems


def _check_types(name: str, raw: object, *, allow_exempt: bool) -> tuple[Any, list[Problem]]:
    """Canonical project types of ``applies_to`` (a list) or ``severity_by_type`` (a table)."""
    problems: list[Problem] = []
    valid = _listing(PROJECT_TYPES)

    def canonical(item: object) -> str | None:
        try:
            return canonical_project_type(item) if str(item).strip() else None
        except ArgumentError:
            return None

    if allow_exempt:
        if not isinstance(raw, Mapping):
            return _FrozenMap(), [
                (name, f"expected a table of project_type = severity, got {raw!r}")
            ]
        by_type: dict[str, str | None] = {}
        for key, severity in raw.items():
            ptype = canonical(key)
            if ptype is None:
                problems.append((f"{name}.{key}", f"unknown project type {key!r}; valid: {valid}"))
                continue
            if severity is None or severity == EXEMPT:
                by_type[ptype] = None
            elif severity in SEVERITIES:
                by_type[ptype] = severity
            else:
                problems.append(
                    (
                        f"{name}.{key}",
                        f"unknown severity {severity!r}; valid: {_listing(SEVERITIES)}, {EXEMPT}",
                    )
                )
        return _FrozenMap(by_type), problems
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        return (), [(name, f"expected a list of project types, got {raw!r}")]
    types: list[str] = []
    for item in items:
        ptype = canonical(item)
        if ptype is None:
            problems.append((name, f"unknown project type {item!r}; valid: {valid}"))
        elif ptype not in types:
            types.append(ptype)
    return tuple(types), problems


def check_rule(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Normalised rule fields and every problem with them (used by ``Rule`` and the loader)."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []

    def add(name: str, message: str) -> None:
        problems.append((name, message))

    rule_id = values.get("id")
    if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
        add(
            "id",
            f"expected an identifier of letters, digits, '-', '_' or '.' such as "
            f"'NR-CORE', got {rule_id!r}",
        )
    out["id"] = rule_id

    layer = values.get("layer")
    if layer not in RULE_LAYERS:
        hint = " (boundary is the assessed extent, not a rule layer)" if layer == "boundary" else ""
        add("layer", f"unknown layer kind {layer!r}{hint}; valid: {_listing(RULE_LAYERS)}")
    out["layer"] = layer

    test = values.get("test")
    if test not in RULE_TESTS:
        add("test", f"unknown test {test!r}; valid: {_listing(RULE_TESTS)}")
    elif layer in TESTS_BY_LAYER and test not in TESTS_BY_LAYER[layer]:
        add(
            "test",
            f"test {test!r} does not apply to layer {layer!r}; valid for {layer}: "
            f"{_listing(TESTS_BY_LAYER[layer])}",
        )
    out["test"] = test

    severity = values.get("severity")
    if severity not in SEVERITIES:
        add("severity", f"unknown severity {severity!r}; valid: {_listing(SEVERITIES)}")
    out["severity"] = severity

    clause = values.get("clause")
    if isinstance(clause, Clause):
        out["clause"] = clause
    elif clause is None:
        add(
            "clause",
            "missing: every rule cites the clause it rests on, e.g. clause = "
            '{ document = "...", article = "...", date = "YYYY-MM-DD" }',
        )
    elif isinstance(clause, Mapping):
        clause_values, clause_problems = _clause_problems(clause)
        problems.extend((f"clause.{n}", m) for n, m in clause_problems)
        unknown = set(clause) - {f.name for f in fields(Clause)}
        if unknown:
            add(
                "clause",
                f"unknown keys {_listing(sorted(unknown))}; valid: "
                f"{_listing(f.name for f in fields(Clause))}",
            )
        out["clause"] = None if clause_problems or unknown else Clause(**clause_values)
    else:
        add("clause", f"expected a table with document, article and date, got {clause!r}")

    see_also: list[Clause] = []
    raw_see_also = values.get("see_also", ())
    if not isinstance(raw_see_also, list | tuple):
        add("see_also", f"expected a list of clause tables, got {raw_see_also!r}")
        raw_see_also = ()
    for i, item in enumerate(raw_see_also):
        if isinstance(item, Clause):
            see_also.append(item)
            continue
        item_values, item_problems = _clause_problems(item if isinstance(item, Mapping) else {})
        problems.extend((f"see_also[{i}].{n}", m) for n, m in item_problems)
        if not item_problems:
            see_also.append(Clause(**item_values))
    out["see_also"] = tuple(see_also)

    for name in ("title_zh", "title_en", "conditions_zh", "conditions_en"):
        text = values.get(name) or ""
        if not isinstance(text, str):
            add(name, f"expected a string, got {text!r}")
            text = ""
        out[name] = text.strip()
    if not out["title_zh"] and not out["title_en"]:
        add("title_zh", "missing: give title_zh and/or title_en")
    out["title_zh"] = out["title_zh"] or out["title_en"]
    out["title_en"] = out["title_en"] or out["title_zh"]

    out["where"], where_problems = _check_where(str(layer), values.get("where") or {})
    problems.extend(where_problems)

    # Test parameters: each set only for its own test, each in range.
    for name, owner in _TEST_FIELDS.items():
        raw = values.get(name)
        unset = raw is None or raw == () or raw == [] or (name == "distance_m" and raw == 0)
        if not unset and test in RULE_TESTS and test != owner:
            add(name, f"applies only to test {owner!r}, not {test!r}; remove it")
    distance = finite_number(values.get("distance_m", 0.0))
    if distance is None:
        add("distance_m", f"expected a number of metres, got {values.get('distance_m')!r}")
    elif distance < 0:
        add(
            "distance_m",
            f"negative distance {distance:g} m; give 0 for overlap or a "
            "positive number of metres for proximity",
        )
    elif test == "proximity" and distance == 0:
        add(
            "distance_m",
            "a proximity rule with distance 0 finds nothing; give the distance in "
            "metres (> 0), or use test = 'overlap'",
        )
    out["distance_m"] = distance if distance is not None else 0.0
    out["distance_from_default"] = bool(values.get("distance_from_default", False))

    out["min_passage_m"] = None
    if test == "severance":
        passage = finite_number(values.get("min_passage_m"))
        if passage is None or passage <= 0:
            add(
                "min_passage_m",
                f"a severance rule needs the minimum passage width in metres "
                f"(> 0), got {values.get('min_passage_m')!r}",
            )
        out["min_passage_m"] = passage

    out["classes"], out["min_share"] = (), None
    if test == "landcover_share":
        raw_classes = values.get("classes")
        classes = [raw_classes] if isinstance(raw_classes, str) else raw_classes
        if not isinstance(classes, list | tuple) or not classes:
            add(
                "classes",
                f"a landcover_share rule needs a list of land-cover classes, got {raw_classes!r}",
            )
            classes = []
        unknown_classes = [c for c in classes if c not in LANDCOVER_CLASSES]
        if unknown_classes:
            add(
                "classes",
                f"unknown land-cover classes {_listing(unknown_classes)}; valid: "
                f"{_listing(LANDCOVER_CLASSES)}",
            )
        out["classes"] = tuple(dict.fromkeys(c for c in classes if c in LANDCOVER_CLASSES))
        share = finite_number(values.get("min_share"))
        if share is None or not 0 < share <= 1:
            add(
                "min_share",
                f"a share between 0 (exclusive) and 1, got {values.get('min_share')!r}",
            )
        out["min_share"] = share

    out["max_slope_deg"], out["statistic"] = None, None
    if test == "slope":
        slope = finite_number(values.get("max_slope_deg"))
        if slope is None or not 0 < slope < 90:
            add(
                "max_slope_deg",
                f"a slope in degrees between 0 and 90, got {values.get('max_slope_deg')!r}",
            )
        out["max_slope_deg"] = slope
        statistic = values.get("statistic")
        if statistic not in SLOPE_STATISTICS:
            add(
                "statistic",
                f"unknown statistic {statistic!r}; valid: {_listing(SLOPE_STATISTICS)}",
            )
        out["statistic"] = statistic

    by_type, type_problems = _check_types(
        "severity_by_type", values.get("severity_by_type") or {}, allow_exempt=True
    )
    applies_to, applies_problems = _check_types(
        "applies_to", values.get("applies_to") or (), allow_exempt=False
    )
    problems.extend(type_problems + applies_problems)
    out["severity_by_type"], out["applies_to"] = by_type, applies_to
    for ptype, value in by_type.items():
        if ptype == GENERAL_CONSTRUCTION:
            if severity in SEVERITIES and (
                value is None or severity_rank(value) > severity_rank(severity)
            ):
                add(
                    f"severity_by_type.{ptype}",
                    f"{value or EXEMPT!r} for general construction is more lenient than the "
                    f"rule's severity {severity!r}; untyped sites must get the strictest "
                    "reading",
                )
        elif applies_to and ptype not in applies_to:
            add(
                f"severity_by_type.{ptype}",
                f"contradicts applies_to: {ptype!r} is given a severity but applies_to "
                f"({_listing(applies_to)}) does not include it",
            )
        elif value is None and ptype in applies_to:
            add(
                f"severity_by_type.{ptype}",
                f"contradicts applies_to: {ptype!r} is both listed in applies_to and "
                f"exempt in severity_by_type; remove one",
            )
    return out, problems


@dataclass(frozen=True)
class Rule:
    """One screening rule: which features, which test, how severe, which clause.

    Parameters
    ----------
    id
        Short unique identifier, e.g. ``"NR-CORE"``.
    layer
        Layer kind tested: a vector kind, ``"corridors"`` or a raster kind (:data:`RULE_LAYERS`).
    test
        ``"overlap"``, ``"proximity"``, ``"severance"``, ``"landcover_share"`` or ``"slope"``.
    severity
        Severity of a finding for project types without their own entry.
    clause
        The clause the rule rests on.
    title_zh, title_en
        Short names for reports.
    where
        Selector on canonical values, e.g. ``{"zone": ("core", "buffer")}``; empty = every
        feature of the layer.
    distance_m
        0 for overlap; for proximity, a finding when the site does not overlap a selected
        feature but lies within this many metres of one.
    min_passage_m
        Severance: a finding when the site leaves no passage at least this wide through the
        corridor where it stands.
    classes, min_share
        Land-cover share: a finding when at least ``min_share`` of the site is covered by
        ``classes``.
    max_slope_deg, statistic
        Slope: a finding when the site's ``statistic`` (``"mean"``/``"max"``) slope reaches
        ``max_slope_deg``.
    severity_by_type
        Project type → severity, or ``None`` (``"exempt"`` in files) for no finding: the
        activity × zone matrix.
    applies_to
        Project types the rule applies to; empty = all. General construction (no type) is
        always included.
    conditions_zh, conditions_en
        Conditions and approvals a finding implies.
    see_also
        Further clauses (e.g. the provincial text adopting a national rule).
    distance_from_default
        True when ``distance_m`` came from the ruleset's ``[proximity]`` default.
    origin
        File the rule was read from (empty when built in code).

    Examples
    --------
    >>> rule = Rule("RL", "redlines", "overlap", "prohibited",
    ...             Clause("关于加强生态保护红线管理的通知（试行）", "一", "2022-08-16"),
    ...             title_en="Red line",
    ...             severity_by_type={"linear_infrastructure": "conditional"})
    >>> rule.severity_for("linear_infrastructure"), rule.severity_for(None)
    ('conditional', 'prohibited')
    """

    id: str
    layer: str
    test: str
    severity: str
    clause: Clause
    title_zh: str = ""
    title_en: str = ""
    where: Mapping[str, tuple[str, ...]] = field(default_factory=_FrozenMap)
    distance_m: float = 0.0
    min_passage_m: float | None = None
    classes: tuple[str, ...] = ()
    min_share: float | None = None
    max_slope_deg: float | None = None
    statistic: str | None = None
    severity_by_type: Mapping[str, str | None] = field(default_factory=_FrozenMap)
    applies_to: tuple[str, ...] = ()
    conditions_zh: str = ""
    conditions_en: str = ""
    see_also: tuple[Clause, ...] = ()
    distance_from_default: bool = field(default=False, compare=False)
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        values, problems = check_rule({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            _raise_problems(f"rule {self.id!r}", problems)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __hash__(self) -> int:
        return hash((self.id, self.layer, self.test, self.severity, self.clause))

    def severity_for(self, project_type: object = None) -> str | None:
        """Severity of a finding for a site of ``project_type``; ``None`` = no finding.

        A missing or blank type is general construction: the strictest severity the rule
        gives any type, unless ``severity_by_type`` names ``general`` itself.

        Parameters
        ----------
        project_type
            Anything :func:`canonical_project_type` accepts (Chinese labels included).

        Returns
        -------
        str or None
            A severity of :data:`redline.schema.SEVERITIES`, or ``None`` when the type is
            exempt or outside ``applies_to``.

        Raises
        ------
        ArgumentError
            If ``project_type`` is not a known project type.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> rule = load_rules()["WS-LEVEL2"]  # second-level water-source protection zone
        >>> rule.severity_for("residential"), rule.severity_for("科研监测")
        ('conditional', 'advisory')
        >>> rule.severity_for(None)  # general construction: the strictest reading
        'prohibited'
        """
        ptype = canonical_project_type(project_type)
        if ptype in self.severity_by_type:
            return self.severity_by_type[ptype]
        if ptype == GENERAL_CONSTRUCTION:
            found = [self.severity, *(s for s in self.severity_by_type.values() if s)]
            return min(found, key=severity_rank)
        if self.applies_to and ptype not in self.applies_to:
            return None
        return self.severity

    def severities_for(self, project_types: Sequence[object] | pd.Series) -> np.ndarray:
        """:meth:`severity_for` of many sites at once.

        Parameters
        ----------
        project_types
            One project type per site, in any spelling :meth:`severity_for` accepts.

        Returns
        -------
        numpy.ndarray
            Object array of severities, ``None`` where there is no finding.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> load_rules()["WS-LEVEL2"].severities_for(["住宅", None, "research_monitoring"])
        array(['conditional', 'prohibited', 'advisory'], dtype=object)
        """
        codes, uniques = pd.factorize(pd.Series(project_types, dtype=object), use_na_sentinel=True)
        table = np.array(
            [self.severity_for(u) for u in uniques] + [self.severity_for(None)], dtype=object
        )
        return table[codes] if len(codes) else np.array([], dtype=object)

    def select(self, layer_gdf: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the features of ``layer_gdf`` that the rule's ``where`` selects.

        Values are compared in canonical form, so Chinese source values (``核心区``) match
        canonical selectors (``core``). Null values never match.

        Parameters
        ----------
        layer_gdf
            Features of the rule's layer (any frame with the selector's columns).

        Returns
        -------
        numpy.ndarray
            Boolean mask, one entry per row; all ``True`` when ``where`` is empty.

        Raises
        ------
        LayerError
            If a selector field is not a column of ``layer_gdf``.

        Examples
        --------
        >>> import pandas as pd
        >>> from redline.rules import load_rules
        >>> load_rules()["NR-CORE"].select(pd.DataFrame({"zone": ["核心区", "buffer", None]}))
        array([ True, False, False])
        """
        mask = np.ones(len(layer_gdf), dtype=bool)
        for name, values in self.where.items():
            if name not in layer_gdf.columns:
                raise LayerError(
                    f"rule {self.id!r} selects on field {name!r} but the {self.layer} layer has "
                    f"no such column (columns: {_listing(layer_gdf.columns)}); map the source "
                    f"field onto {name!r} in the manifest's [layers.{self.layer}.fields] table."
                )
            codes, uniques = pd.factorize(layer_gdf[name], use_na_sentinel=True)
            hit = np.array(
                [_canonical_selector_value(self.layer, name, u) in values for u in uniques]
                + [False],
                dtype=bool,
            )
            mask &= hit[codes]
        return mask

    @property
    def threshold(self) -> str:
        """The test's threshold in words, e.g. ``"≤ 1000 m"`` or ``"wetland ≥ 50 %"``.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> rules = load_rules()
        >>> rules["PRX-REDLINE"].threshold, rules["LC-WETLAND"].threshold
        ('≤ 1000 m', 'wetland ≥ 50 %')
        """
        if self.test == "overlap":
            return "any area"
        if self.test == "proximity":
            return f"≤ {self.distance_m:g} m"
        if self.test == "severance":
            return f"passage < {self.min_passage_m:g} m"
        if self.test == "landcover_share":
            return f"{'+'.join(self.classes)} ≥ {100 * (self.min_share or 0):g} %"
        return f"{self.statistic} ≥ {self.max_slope_deg:g}°"


def corridor_width_problems(widths: Mapping[str, object]) -> list[Problem]:
    problems: list[Problem] = []
    for key, value in widths.items():
        parts = str(key).split(".")
        if len(parts) != 2 or parts[0] not in CORRIDOR_SOURCES or parts[1] not in CORRIDOR_CLASSES:
            problems.append(
                (
                    f"corridors.half_width_m.{key}",
                    f"expected '<layer>.<class>' with layer in {_listing(CORRIDOR_SOURCES)} and "
                    f"class in {_listing(CORRIDOR_CLASSES)}",
                )
            )
        number = finite_number(value)
        if number is None or number <= 0:
            problems.append(
                (
                    f"corridors.half_width_m.{key}",
                    f"expected a positive number of metres, got {value!r}",
                )
            )
    return problems


@dataclass(frozen=True)
class RuleSet:
    """An ordered, versioned set of rules with corridor half-widths and proximity default.

    Parameters
    ----------
    id, version, title
        Identify the ruleset in reports.
    rules
        The rules, in report order; ids are unique.
    corridor_half_widths_m
        Corridor half-width in metres **on each side of the centreline** (a corridor is
        twice as wide), keyed ``"<layer>.<class>"``, e.g. ``"rivers.provincial"``.
    proximity_distance_m
        Distance given to proximity rules that state none (``None`` = no default).
    sources
        Files the ruleset was read from, base first.

    Examples
    --------
    >>> from redline.rules import load_rules
    >>> rules = load_rules()
    >>> rules["ECO-REDLINE"].severity_for("residential")
    'prohibited'
    >>> rules.corridor_half_widths_m["rivers.provincial"]
    1000.0
    >>> rules.corridor_min_passage_m["provincial"]
    500.0
    """

    id: str
    version: str
    title: str
    rules: tuple[Rule, ...]
    corridor_half_widths_m: Mapping[str, float] = field(default_factory=_FrozenMap)
    proximity_distance_m: float | None = None
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        rules = tuple(self.rules)
        problems: list[Problem] = []
        if not all(isinstance(r, Rule) for r in rules):
            raise TypeError("RuleSet.rules must hold Rule objects")
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                problems.append(("rules", f"duplicate rule id {rule.id!r}"))
            seen.add(rule.id)
        width_problems = corridor_width_problems(self.corridor_half_widths_m)
        problems += width_problems
        bad_keys = {name.removeprefix("corridors.half_width_m.") for name, _ in width_problems}
        widths = _FrozenMap(
            {
                str(k): float(v)
                for k, v in self.corridor_half_widths_m.items()
                if str(k) not in bad_keys
            }
        )
        proximity = self.proximity_distance_m
        if proximity is not None and not (finite_number(proximity) or 0) > 0:
            problems.append(
                ("proximity.distance_m", f"expected a positive number of metres, got {proximity!r}")
            )
        for rule in rules:
            for key in self._width_keys(rule, widths) if rule.test == "severance" else ():
                if rule.min_passage_m is not None and rule.min_passage_m >= 2 * widths[key]:
                    problems.append(
                        (
                            f"rule {rule.id}",
                            f"min_passage_m {rule.min_passage_m:g} m is not narrower than the "
                            f"{key} corridor (2 × {widths[key]:g} m); no site could leave it",
                        )
                    )
            if rule.layer == CORRIDORS and not self._width_keys(rule, widths):
                problems.append(
                    (
                        f"rule {rule.id}",
                        f"selects corridors {dict(rule.where)} but no corridor "
                        f"half-width is set for them; add it under "
                        f"[corridors.half_width_m]",
                    )
                )
        if problems:
            _raise_problems(f"ruleset {self.id!r}", problems)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "corridor_half_widths_m", widths)
        object.__setattr__(self, "sources", tuple(self.sources))

    def __hash__(self) -> int:
        return hash((self.id, self.version, self.rules))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, rule_id: object) -> bool:
        return any(r.id == rule_id for r in self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(f"no rule {rule_id!r} in ruleset {self.id!r}; ids: {_listing(self.ids)}")

    @property
    def ids(self) -> tuple[str, ...]:
        """Rule ids in order.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> load_rules().ids[:3]
        ('ZON-PROHIBITED', 'ZON-RESTRICTED-ECO', 'ZON-RESTRICTED-AGRI')
        """
        return tuple(r.id for r in self.rules)

    def by_layer(self) -> dict[str, tuple[Rule, ...]]:
        """Rules grouped by layer kind, in rule order.

        Returns
        -------
        dict of str to tuple of Rule
            Layer kind (in order of first appearance) → its rules.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> [rule.id for rule in load_rules().by_layer()["redlines"]]
        ['ECO-REDLINE', 'PRX-REDLINE']
        """
        groups: dict[str, list[Rule]] = {}
        for rule in self.rules:
            groups.setdefault(rule.layer, []).append(rule)
        return {layer: tuple(group) for layer, group in groups.items()}

    @staticmethod
    def _width_keys(rule: Rule, widths: Mapping[str, float]) -> list[str]:
        sources = rule.where.get("source_layer", CORRIDOR_SOURCES)
        classes = rule.where.get("corridor", CORRIDOR_CLASSES)
        return [k for k in widths if k.split(".")[0] in sources and k.split(".")[1] in classes]

    def layers_needed(self) -> set[str]:
        """Planning layer kinds (vector and raster) the rules read.

        A corridors rule needs the line layers its corridors are built from (those with a
        half-width for the selected classes), not a ``corridors`` layer.

        Returns
        -------
        set of str
            Vector and raster layer kinds.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> sorted(load_rules().layers_needed())
        ['dem', 'farmland', 'landcover', 'redlines', 'reserves', 'rivers', 'roads_rails',
         'scenic', 'water_sources', 'zoning']
        """
        needed: set[str] = set()
        for rule in self.rules:
            if rule.layer == CORRIDORS:
                needed.update(
                    k.split(".")[0] for k in self._width_keys(rule, self.corridor_half_widths_m)
                )
            else:
                needed.add(rule.layer)
        return needed

    @property
    def corridor_min_passage_m(self) -> Mapping[str, float]:
        """Minimum passage width in metres by corridor class, from the severance rules.

        Each severance rule's ``min_passage_m`` applies to the classes its ``where`` selects.

        Raises
        ------
        RuleError
            If two severance rules give one class different minimum passages (test each rule
            with its own ``min_passage_m`` instead).

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> dict(load_rules().corridor_min_passage_m)
        {'provincial': 500.0, 'secondary': 100.0}
        """
        passages: dict[str, tuple[float, str]] = {}
        for rule in self.rules:
            if rule.test != "severance" or rule.min_passage_m is None:
                continue
            for cls in rule.where.get("corridor", CORRIDOR_CLASSES):
                seen = passages.setdefault(cls, (rule.min_passage_m, rule.id))
                if seen[0] != rule.min_passage_m:
                    raise RuleError(
                        f"severance rules {seen[1]!r} ({seen[0]:g} m) and {rule.id!r} "
                        f"({rule.min_passage_m:g} m) give {cls} corridors different minimum "
                        "passages; one minimum per class is supported here, so give both "
                        "rules the same min_passage_m or select different classes."
                    )
        return _FrozenMap({cls: passage for cls, (passage, _) in passages.items()})

    def merge(self, other: RuleSet, *, disable: Iterable[str] = ()) -> RuleSet:
        """This ruleset extended by ``other``.

        ``other``'s rules replace rules with the same id (in place) and new ones are appended;
        ids in ``disable`` are removed; ``other``'s corridor widths and proximity default
        override; rules whose distance came from the proximity default take the new default.

        Parameters
        ----------
        other
            The extension (e.g. a county's rules).
        disable
            Ids of this ruleset's rules to drop.

        Returns
        -------
        RuleSet
            A new ruleset with id and version ``"<self>+<other>"``; neither input changes.

        Raises
        ------
        RuleError
            If ``disable`` names a rule this ruleset does not have, or one ``other`` defines.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> jilin = load_rules()
        >>> county = RuleSet("county", "2024", "County rules", rules=(),
        ...                  corridor_half_widths_m={"rivers.provincial": 1500})
        >>> merged = jilin.merge(county, disable=["SLOPE-STEEP"])
        >>> merged.id, len(jilin), len(merged), merged.corridor_half_widths_m["rivers.provincial"]
        ('jilin+county', 25, 24, 1500.0)
        """
        disable = tuple(disable)
        problems = [
            ("disable", f"no rule {rid!r} to disable; ids: {_listing(self.ids)}")
            for rid in disable
            if rid not in self
        ]
        problems += [
            ("disable", f"contradiction: rule {rid!r} is both disabled and defined")
            for rid in disable
            if rid in other
        ]
        if problems:
            _raise_problems(f"extension {other.id!r} of ruleset {self.id!r}", problems)
        replacing = {r.id: r for r in other.rules}
        merged = [replacing.pop(r.id, r) for r in self.rules if r.id not in disable]
        merged += [r for r in other.rules if r.id in replacing]
        proximity = other.proximity_distance_m or self.proximity_distance_m
        if proximity is not None:
            merged = [
                replace(r, distance_m=proximity) if r.distance_from_default else r for r in merged
            ]
        return RuleSet(
            id=f"{self.id}+{other.id}",
            version=f"{self.version}+{other.version}",
            title=other.title or self.title,
            rules=tuple(merged),
            corridor_half_widths_m={**self.corridor_half_widths_m, **other.corridor_half_widths_m},
            proximity_distance_m=proximity,
            sources=(*self.sources, *other.sources),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per rule (columns :data:`RULE_FRAME_COLUMNS`), readable in notebooks.

        Returns
        -------
        pandas.DataFrame
            Selectors, thresholds and severities spelled out as text; ``untyped`` is the
            severity for a site without a project type.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> load_rules().to_frame().loc[:2, ["id", "layer", "test", "untyped"]]
                            id   layer     test      untyped
        0       ZON-PROHIBITED  zoning  overlap   prohibited
        1   ZON-RESTRICTED-ECO  zoning  overlap   prohibited
        2  ZON-RESTRICTED-AGRI  zoning  overlap  conditional
        """
        rows = [
            {
                "id": r.id,
                "layer": r.layer,
                "where": "; ".join(f"{k} = {', '.join(v)}" for k, v in r.where.items()) or "all",
                "test": r.test,
                "threshold": r.threshold,
                "severity": r.severity,
                "untyped": r.severity_for(None),
                "severity_by_type": "; ".join(
                    f"{t}: {s or EXEMPT}" for t, s in r.severity_by_type.items()
                ),
                "applies_to": ", ".join(r.applies_to) or "all",
                "title_zh": r.title_zh,
                "title_en": r.title_en,
                "conditions_zh": r.conditions_zh,
                "conditions_en": r.conditions_en,
                "clause": str(r.clause),
            }
            for r in self.rules
        ]
        return pd.DataFrame(rows, columns=list(RULE_FRAME_COLUMNS))

    def to_markdown(self) -> str:
        """Markdown tables of the rules, the corridor half-widths and the proximity default.

        Returns
        -------
        str
            The tables, newline-terminated (as in ``docs/rules.md``).

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> text = load_rules().to_markdown()
        >>> print(text.splitlines()[0])
        | id | layer | selector | test | threshold | default | untyped | per project type | ...
        >>> print(text.splitlines()[-1])
        Default proximity distance: 1000 m.
        """

        def cell(value: object) -> str:
            return str(value).replace("|", "\\|").replace("\n", " ")

        frame = self.to_frame()
        columns = {
            "id": "id",
            "layer": "layer",
            "where": "selector",
            "test": "test",
            "threshold": "threshold",
            "severity": "default",
            "untyped": "untyped",
            "severity_by_type": "per project type",
            "applies_to": "applies to",
            "clause": "clause",
        }
        lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
        lines += [
            "| " + " | ".join(cell(row[c]) for c in columns) + " |" for _, row in frame.iterrows()
        ]
        lines += ["", "| corridor | half-width each side (m) |", "|---|---|"]
        lines += [f"| {cell(k)} | {v:g} |" for k, v in self.corridor_half_widths_m.items()]
        proximity = self.proximity_distance_m
        lines += [
            "",
            f"Default proximity distance: {'none' if proximity is None else f'{proximity:g} m'}.",
        ]
        return "\n".join(lines) + "\n"
