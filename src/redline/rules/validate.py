"""Validation of rules and clauses: every problem of a rule gathered by field, in one error.

:func:`check_rule` and :func:`check_clause` normalise a rule's or a clause's fields (canonical
values and project types, ISO dates) and list what is wrong with them, whether the values come
from a TOML file (:mod:`redline.rules.loader`) or from code (:class:`redline.rules.Rule`);
:func:`raise_problems` turns the list into one :class:`RuleProblemsError`. Clauses are tables
here; :mod:`redline.rules.model` makes them :class:`~redline.rules.Clause` values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

from redline.errors import ArgumentError, RuleError
from redline.rules.vocabulary import (
    CORRIDOR_FIELDS,
    CORRIDOR_SOURCES,
    CORRIDORS,
    EXEMPT,
    RULE_LAYERS,
    RULE_TESTS,
    SLOPE_STATISTICS,
    TESTS_BY_LAYER,
    canonical_project_type,
    canonical_selector_value,
    listing,
    selector_vocabulary,
)
from redline.schema import (
    CORRIDOR_CLASSES,
    GENERAL_CONSTRUCTION,
    LANDCOVER_CLASSES,
    LAYER_SPECS,
    PROJECT_TYPES,
    RASTER_KINDS,
    SEVERITIES,
    severity_rank,
)

__all__ = [
    "CLAUSE_KEYS",
    "FrozenMap",
    "Problem",
    "RuleProblemsError",
    "check_clause",
    "check_rule",
    "corridor_width_problems",
    "finite_number",
    "raise_problems",
]

#: Fields of a clause table (:class:`redline.rules.Clause`), in order.
CLAUSE_KEYS: Final = (
    "document", "article", "date", "document_en", "issuer", "number", "verified", "source", "note"
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


class FrozenMap(Mapping[K, V]):
    """An immutable, hashable, picklable mapping (rules are shared across processes).

    Parameters
    ----------
    data
        The items.

    Examples
    --------
    >>> widths = FrozenMap({"rivers.provincial": 1000.0})
    >>> widths["rivers.provincial"], hash(widths) == hash(FrozenMap(widths))
    (1000.0, True)
    """

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
    """A RuleError that also carries the (field, message) problems, so a loader can gather them.

    Parameters
    ----------
    message
        The error message.
    problems
        The (field, message) pairs.

    Examples
    --------
    >>> error = RuleProblemsError("rule 'X' is invalid", [("id", "missing")])
    >>> error.problems
    [('id', 'missing')]
    """

    def __init__(self, message: str, problems: list[Problem]) -> None:
        super().__init__(message)
        self.problems = problems


def raise_problems(what: str, problems: list[Problem]) -> None:
    """Raise one :class:`RuleProblemsError` listing every problem by field.

    Parameters
    ----------
    what
        What is invalid, e.g. ``"rule 'NR-CORE'"``.
    problems
        The (field, message) pairs.

    Raises
    ------
    RuleProblemsError
        Always.

    Examples
    --------
    >>> raise_problems("rule 'X'", [("id", "missing")])
    Traceback (most recent call last):
    ...
    redline.rules.validate.RuleProblemsError: rule 'X' is invalid (1 problem(s)):
      - field 'id': missing
    See docs/rules.md for the rule format.
    """
    lines = "\n".join(f"  - field {name!r}: {msg}" for name, msg in problems)
    raise RuleProblemsError(
        f"{what} is invalid ({len(problems)} problem(s)):\n{lines}\n"
        "See docs/rules.md for the rule format.",
        problems,
    )


def finite_number(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` if it is not a real number.

    Parameters
    ----------
    value
        A value read from a rules file or given in code.

    Returns
    -------
    float or None

    Examples
    --------
    >>> finite_number(3), finite_number(True), finite_number(float("nan")), finite_number("3")
    (3.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def check_clause(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Normalised clause fields (:data:`CLAUSE_KEYS`) and the problems with them.

    Parameters
    ----------
    values
        A clause table, by field.

    Returns
    -------
    values, problems
        The fields stripped and the date in ISO form (``verified`` a date or ``None``); the
        (field, message) problems.

    Examples
    --------
    >>> check_clause({"document": " 森林法 ", "article": "第十条", "date": "2019"})
    ({'document': '森林法', 'article': '第十条', 'date': '2019', 'document_en': '', 'issuer': '',
      'number': '', 'source': '', 'note': '', 'verified': None}, [])
    >>> check_clause({"document": "森林法", "article": "第十条", "date": "2019-02-30"})[1]
    [('date', "not a real date: '2019-02-30'")]
    """
    out: dict[str, Any] = {}
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
    for name in ("document_en", "issuer", "number", "source", "note"):
        value = values.get(name, "")
        if not isinstance(value, str):
            problems.append((name, f"expected a string, got {value!r}"))
        else:
            out[name] = value.strip()
    verified, verified_problems = _verified(values.get("verified"))
    problems += verified_problems
    out["verified"] = verified
    if verified is not None and not out.get("source"):
        problems.append(("source", "a verified clause names where its text was read (URL or "
                                   "document); give source, or verified = false and a note"))
    return out, problems


def _verified(value: object) -> tuple[dt.date | None, list[Problem]]:
    """The date a clause was checked against its text, or ``None`` (``false``, absent)."""
    if value is None or value is False:
        return None, []
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            return None, [("verified", f"expected a date YYYY-MM-DD or false, got {value!r}")]
    if not isinstance(value, dt.date):
        return None, [("verified", f"expected a date YYYY-MM-DD or false, got {value!r}")]
    if value > dt.date.today():
        return None, [("verified", f"{value.isoformat()} is in the future")]
    return value, []


def _check_where(
    layer: str, where: object
) -> tuple[FrozenMap[str, tuple[str, ...]], list[Problem]]:
    problems: list[Problem] = []
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(where, Mapping):
        return FrozenMap(), [("where", f"expected a table of field = [values], got {where!r}")]
    if layer in RASTER_KINDS:
        problems = [("where", f"a {layer} rule has no selector; remove 'where'")] if where else []
        return FrozenMap(), problems
    if layer not in RULE_LAYERS:
        return FrozenMap(), []  # reported under 'layer'
    allowed_fields = CORRIDOR_FIELDS if layer == CORRIDORS else LAYER_SPECS[layer].fields
    for name, raw in where.items():
        label = f"where.{name}"
        if name not in allowed_fields:
            problems.append(
                (
                    label,
                    f"unknown field {name!r} for layer {layer!r}; valid: "
                    f"{listing(allowed_fields)}",
                )
            )
            continue
        items = [raw] if isinstance(raw, str | int) and not isinstance(raw, bool) else raw
        if not isinstance(items, list | tuple) or not items:
            problems.append((label, f"expected a value or a non-empty list of values, got {raw!r}"))
            continue
        values: list[str] = []
        for item in items:
            value = canonical_selector_value(layer, name, item)
            vocabulary = selector_vocabulary(layer, name)
            if value is None or (vocabulary is not None and value not in vocabulary):
                valid = listing(vocabulary) if vocabulary else "any non-empty text"
                problems.append(
                    (label, f"unknown value {item!r} for {layer}.{name}; valid: {valid}")
                )
            elif value not in values:
                values.append(value)
        out[name] = tuple(values)
    return FrozenMap(out), problems


def _check_types(name: str, raw: object, *, allow_exempt: bool) -> tuple[Any, list[Problem]]:
    """Canonical project types of ``applies_to`` (a list) or ``severity_by_type`` (a table)."""
    problems: list[Problem] = []
    valid = listing(PROJECT_TYPES)

    def canonical(item: object) -> str | None:
        try:
            return canonical_project_type(item) if str(item).strip() else None
        except ArgumentError:
            return None

    if allow_exempt:
        if not isinstance(raw, Mapping):
            return FrozenMap(), [
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
                        f"unknown severity {severity!r}; valid: {listing(SEVERITIES)}, {EXEMPT}",
                    )
                )
        return FrozenMap(by_type), problems
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
    """Normalised rule fields and every problem with them (used by ``Rule`` and the loader).

    Parameters
    ----------
    values
        A rule's fields by name (as in a ``[[rule]]`` table); clauses (``clause``, each of
        ``see_also``) as tables.

    Returns
    -------
    values, problems
        The fields normalised (canonical values and project types, clauses as normalised
        tables) and the (field, message) problems; the values are meaningful only when
        there are no problems.

    Examples
    --------
    >>> clause = {"document": "森林法", "article": "第十条", "date": "2019-12-28"}
    >>> values, problems = check_rule({"id": "F", "layer": "reserves", "test": "overlap",
    ...                                "severity": "severe", "clause": clause})
    >>> problems
    [('severity', "unknown severity 'severe'; valid: prohibited, conditional, advisory"),
     ('title_zh', 'missing: give title_zh and/or title_en')]
    >>> values, problems = check_rule({"id": "F", "layer": "reserves", "test": "overlap",
    ...                                "severity": "prohibited", "clause": clause,
    ...                                "where": {"zone": "核心区"}, "title_en": "Forest"})
    >>> problems, values["where"], values["clause"]["document"]
    ([], {'zone': ('core',)}, '森林法')
    """
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
        add("layer", f"unknown layer kind {layer!r}{hint}; valid: {listing(RULE_LAYERS)}")
    out["layer"] = layer

    test = values.get("test")
    if test not in RULE_TESTS:
        add("test", f"unknown test {test!r}; valid: {listing(RULE_TESTS)}")
    elif layer in TESTS_BY_LAYER and test not in TESTS_BY_LAYER[layer]:
        add(
            "test",
            f"test {test!r} does not apply to layer {layer!r}; valid for {layer}: "
            f"{listing(TESTS_BY_LAYER[layer])}",
        )
    out["test"] = test

    severity = values.get("severity")
    if severity not in SEVERITIES:
        add("severity", f"unknown severity {severity!r}; valid: {listing(SEVERITIES)}")
    out["severity"] = severity

    clause = values.get("clause")
    if clause is None:
        add(
            "clause",
            "missing: every rule cites the clause it rests on, e.g. clause = "
            '{ document = "...", article = "...", date = "YYYY-MM-DD" }',
        )
    elif isinstance(clause, Mapping):
        clause_values, clause_problems = check_clause(clause)
        problems.extend((f"clause.{n}", m) for n, m in clause_problems)
        unknown = set(clause) - set(CLAUSE_KEYS)
        if unknown:
            add(
                "clause",
                f"unknown keys {listing(sorted(unknown))}; valid: {listing(CLAUSE_KEYS)}",
            )
        out["clause"] = None if clause_problems or unknown else clause_values
    else:
        add("clause", f"expected a table with document, article and date, got {clause!r}")

    see_also: list[dict[str, str]] = []
    raw_see_also = values.get("see_also", ())
    if not isinstance(raw_see_also, list | tuple):
        add("see_also", f"expected a list of clause tables, got {raw_see_also!r}")
        raw_see_also = ()
    for i, item in enumerate(raw_see_also):
        item_values, item_problems = check_clause(item if isinstance(item, Mapping) else {})
        problems.extend((f"see_also[{i}].{n}", m) for n, m in item_problems)
        if not item_problems:
            see_also.append(item_values)
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
                f"unknown land-cover classes {listing(unknown_classes)}; valid: "
                f"{listing(LANDCOVER_CLASSES)}",
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
                f"unknown statistic {statistic!r}; valid: {listing(SLOPE_STATISTICS)}",
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
                f"({listing(applies_to)}) does not include it",
            )
        elif value is None and ptype in applies_to:
            add(
                f"severity_by_type.{ptype}",
                f"contradicts applies_to: {ptype!r} is both listed in applies_to and "
                f"exempt in severity_by_type; remove one",
            )
    return out, problems


def corridor_width_problems(widths: Mapping[str, object]) -> list[Problem]:
    """Problems with a ``[corridors.half_width_m]`` table.

    Parameters
    ----------
    widths
        Half-width in metres by ``"<layer>.<class>"``.

    Returns
    -------
    list of (str, str)
        The (field, message) problems; empty when every key and width is valid.

    Examples
    --------
    >>> corridor_width_problems({"rivers.provincial": 1000.0})
    []
    >>> [name for name, _ in corridor_width_problems({"lakes.provincial": 1000.0})]
    ['corridors.half_width_m.lakes.provincial']
    """
    problems: list[Problem] = []
    for key, value in widths.items():
        parts = str(key).split(".")
        if len(parts) != 2 or parts[0] not in CORRIDOR_SOURCES or parts[1] not in CORRIDOR_CLASSES:
            problems.append(
                (
                    f"corridors.half_width_m.{key}",
                    f"expected '<layer>.<class>' with layer in {listing(CORRIDOR_SOURCES)} and "
                    f"class in {listing(CORRIDOR_CLASSES)}",
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
