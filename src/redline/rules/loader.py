"""Reading rulesets from TOML files: the bundled default and users' overrides.

A user's file either extends the bundled default (rules with the same id replace the
default's, ``disable = [...]`` removes rules, ``[corridors]`` and ``[proximity]`` values
override) or replaces it (``load_rules(path, extend=False)`` or ``[ruleset] extends = false``
in the file). Every problem in a file is gathered and raised as one
:class:`~redline.errors.RuleError` naming the file, the rule and the field.
"""

from __future__ import annotations

import functools
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from importlib import resources
from pathlib import Path
from typing import Any, Final

from redline.errors import RuleError
from redline.rules.model import Rule, RuleSet
from redline.rules.validate import (
    Problem,
    RuleProblemsError,
    check_rule,
    corridor_width_problems,
    finite_number,
)

__all__ = ["DEFAULT_RULES", "as_ruleset", "load_rules"]

logger = logging.getLogger(__name__)

#: Name of the bundled default ruleset inside the ``redline.rules`` package.
DEFAULT_RULES: Final = "jilin.toml"

_TOP_KEYS: Final = ("ruleset", "corridors", "proximity", "rule", "disable")
_RULESET_KEYS: Final = ("id", "version", "title", "extends")
_RULE_KEYS: Final = tuple(
    f.name for f in fields(Rule) if f.name not in ("distance_from_default", "origin")
)


def _read(path: Path | None) -> tuple[dict[str, Any], str]:
    """Parsed TOML document and a printable origin."""
    if path is None:
        resource = resources.files("redline.rules").joinpath(DEFAULT_RULES)
        origin, raw = f"redline/rules/{DEFAULT_RULES}", resource.read_bytes()
    else:
        origin = str(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise RuleError(
                f"rules file {origin} does not exist; give the path of a TOML ruleset "
                "(format: docs/rules.md), or omit it to use the bundled default."
            ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RuleError(
            f"rules file {origin} is not UTF-8 (byte {exc.start}); TOML files must be UTF-8 — "
            "re-save it as UTF-8 (e.g. from GB18030)."
        ) from None
    try:
        return tomllib.loads(text), origin
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(
            f"rules file {origin} is not valid TOML: {exc}. Check the syntax there (strings in "
            "double quotes, one [[rule]] table per rule)."
        ) from None


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"rivers": {"provincial": 1000}}`` → ``{"rivers.provincial": 1000}``."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _build(
    doc: Mapping[str, Any],
    origin: str,
    *,
    base: RuleSet | None,
) -> tuple[RuleSet | None, tuple[str, ...], list[str]]:
    """Ruleset, disabled ids and problem lines of one document (extending ``base`` if given)."""
    problems: list[str] = []

    def note(where: str, items: list[Problem]) -> None:
        problems.extend(f"{where}field {name!r}: {msg}" for name, msg in items)

    for key in doc:
        if key not in _TOP_KEYS:
            problems.append(f"unknown top-level key {key!r}; valid: {', '.join(_TOP_KEYS)}")

    head = doc.get("ruleset", {})
    if not isinstance(head, Mapping):
        problems.append("[ruleset] must be a table")
        head = {}
    for key in head:
        if key not in _RULESET_KEYS:
            problems.append(f"[ruleset] unknown key {key!r}; valid: {', '.join(_RULESET_KEYS)}")
    stem = Path(origin).stem
    ruleset_id, version = str(head.get("id", stem)), str(head.get("version", ""))
    title = str(head.get("title", ruleset_id))

    corridors = doc.get("corridors", {})
    widths: dict[str, Any] = {}
    if not isinstance(corridors, Mapping) or set(corridors) - {"half_width_m"}:
        problems.append(
            "[corridors] takes one table, [corridors.half_width_m] "
            "(metres on each side of the centreline)"
        )
    else:
        widths = _flatten(corridors.get("half_width_m", {}))
        note("", corridor_width_problems(widths))

    proximity = doc.get("proximity", {})
    distance_default: float | None = None
    if not isinstance(proximity, Mapping) or set(proximity) - {"distance_m"}:
        problems.append("[proximity] takes one key, distance_m (metres)")
    elif "distance_m" in proximity:
        distance_default = finite_number(proximity["distance_m"])
        if distance_default is None or distance_default <= 0:
            problems.append(
                f"[proximity] field 'distance_m': expected a positive number of "
                f"metres, got {proximity['distance_m']!r}"
            )
            distance_default = None
    inherited = distance_default or (base.proximity_distance_m if base else None)

    disable = doc.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        problems.append(f"'disable' must be a list of rule ids, got {disable!r}")
        disable = []
    if disable and base is None:
        problems.append(
            "'disable' only applies when the file extends the default ruleset; "
            "this file replaces it (extends = false), so leave the rules out instead"
        )
    elif base is not None:
        problems += [
            f"'disable': no rule {rid!r} in {base.id}; ids: {', '.join(base.ids)}"
            for rid in disable
            if rid not in base
        ]

    raw_rules = doc.get("rule", [])
    if not isinstance(raw_rules, list):
        problems.append("rules must be [[rule]] tables")
        raw_rules = []
    rules: list[Rule] = []
    positions: dict[str, int] = {}
    for number, raw in enumerate(raw_rules, start=1):
        if not isinstance(raw, Mapping):
            problems.append(f"rule #{number}: expected a [[rule]] table, got {raw!r}")
            continue
        label = f"rule {raw.get('id')!r} (#{number}) " if raw.get("id") else f"rule #{number} "
        unknown = [k for k in raw if k not in _RULE_KEYS]
        if unknown:
            problems.append(
                f"{label}unknown fields {', '.join(map(repr, unknown))}; valid: "
                f"{', '.join(_RULE_KEYS)}"
            )
        values = {k: v for k, v in raw.items() if k in _RULE_KEYS}
        if values.get("test") == "proximity" and "distance_m" not in values:
            if inherited is None:
                problems.append(
                    f"{label}field 'distance_m': missing, and there is no "
                    "[proximity] distance_m default to take it from"
                )
            else:
                values.update(distance_m=inherited, distance_from_default=True)
        normal, rule_problems = check_rule(values)
        note(label, rule_problems)
        rule_id = raw.get("id")
        if isinstance(rule_id, str):
            if rule_id in positions:
                problems.append(
                    f"{label}field 'id': duplicate id {rule_id!r} (also rule "
                    f"#{positions[rule_id]}); ids must be unique in a file"
                )
            elif rule_id in disable:
                problems.append(
                    f"{label}field 'id': contradiction: {rule_id!r} is both "
                    "defined and listed in 'disable'"
                )
            positions.setdefault(rule_id, number)
        if not rule_problems and not unknown:
            rules.append(Rule(**normal, origin=origin))

    if base is None and not rules and not raw_rules:
        problems.append(
            "no [[rule]] tables: a ruleset used on its own needs rules, or every site would "
            "read as clear; add rules, or extend the default (drop 'extends = false')"
        )
    if problems:
        return None, (), problems
    if base is not None:  # corridor rules of an extension may rely on the base's widths
        widths = {**base.corridor_half_widths_m, **widths}
    try:
        ruleset = RuleSet(
            id=ruleset_id,
            version=version,
            title=title,
            rules=tuple(rules),
            corridor_half_widths_m=widths,
            proximity_distance_m=distance_default,
            sources=(origin,),
        )
    except RuleProblemsError as exc:
        return None, (), [f"field {name!r}: {msg}" for name, msg in exc.problems]
    return ruleset, tuple(disable), []


def _fail(origin: str, problems: list[str]) -> RuleError:
    lines = "\n".join(f"  - {p}" for p in problems)
    return RuleError(
        f"rules file {origin} has {len(problems)} problem(s):\n{lines}\n"
        "Fix them and load the file again (format: docs/rules.md)."
    )


@functools.cache
def _bundled() -> RuleSet:
    doc, origin = _read(None)
    ruleset, _, problems = _build(doc, origin, base=None)
    if ruleset is None:
        raise _fail(origin, problems)
    return ruleset


def load_rules(path: str | Path | None = None, *, extend: bool = True) -> RuleSet:
    """Load a ruleset: the bundled Jilin default, or a user's file on top of (or instead of) it.

    Parameters
    ----------
    path
        A TOML ruleset (format: ``docs/rules.md``); ``None`` for the bundled default.
    extend
        Extend the default with the file (rules with the same id replace the default's,
        ``disable`` removes rules, ``[corridors]`` / ``[proximity]`` override). ``False`` — or
        ``[ruleset] extends = false`` in the file — uses the file alone.

    Returns
    -------
    RuleSet

    Raises
    ------
    RuleError
        If the file is missing, not UTF-8, not valid TOML (the message gives the line), or has
        invalid rules: every problem is listed with the rule id and field.

    Examples
    --------
    >>> rules = load_rules()
    >>> rules["NR-CORE"].severity_for("tourism")
    'prohibited'
    >>> sorted(rules.layers_needed())[:3]
    ['cultivated_land', 'dem', 'ecological_barrier']
    """
    if path is None:
        return _bundled()
    path = Path(path)
    doc, origin = _read(path)
    head = doc.get("ruleset")
    file_extends = head.get("extends", True) if isinstance(head, Mapping) else True
    base = _bundled() if extend and file_extends is not False else None
    ruleset, disable, problems = _build(doc, origin, base=base)
    if not isinstance(file_extends, bool):
        problems.insert(
            0, f"[ruleset] field 'extends': expected true or false, got {file_extends!r}"
        )
    if ruleset is None or problems:
        raise _fail(origin, problems)
    if base is None:
        logger.info("loaded ruleset %s (%d rules) from %s", ruleset.id, len(ruleset), origin)
        return ruleset
    try:
        merged = base.merge(ruleset, disable=disable)
    except RuleError as exc:  # a merged-ruleset check, e.g. a corridor rule without a width
        raise _fail(origin, [str(exc)]) from None
    if not len(merged):
        raise _fail(origin, ["'disable' removes every rule, so every site would read as clear"])
    logger.info("extended ruleset %s with %s: %d rules", base.id, origin, len(merged))
    return merged


def as_ruleset(rules: RuleSet | str | Path | None) -> RuleSet:
    """``rules`` as a :class:`RuleSet`: ``None`` → the bundled default, a path → that file
    extending it, a ruleset → itself.

    Parameters
    ----------
    rules
        What a caller passed as ``rules=``.

    Returns
    -------
    RuleSet

    Raises
    ------
    TypeError
        If ``rules`` is none of these.

    Examples
    --------
    >>> default = as_ruleset(None)
    >>> default.id, as_ruleset(default) is default
    ('jilin', True)
    """
    if isinstance(rules, RuleSet):
        return rules
    if rules is None or isinstance(rules, str | Path):
        return load_rules(rules)
    raise TypeError(
        f"rules must be a RuleSet, a path to a TOML ruleset or None, got {type(rules).__name__}"
    )
