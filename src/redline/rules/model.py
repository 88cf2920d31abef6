"""The rule model: clauses, rules and rulesets (values only; reading files is in ``loader``,
checking values in ``validate``, the vocabulary in ``vocabulary``).

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
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Final

import numpy as np
import pandas as pd

from redline.errors import LayerError, RedlineWarning, RuleError
from redline.rules.validate import (
    CLAUSE_KEYS,
    FrozenMap,
    Problem,
    check_clause,
    check_rule,
    corridor_width_problems,
    finite_number,
    raise_problems,
)
from redline.rules.vocabulary import (
    CORRIDOR_SOURCES,
    CORRIDORS,
    EXEMPT,
    RULE_FRAME_COLUMNS,
    canonical_project_type,
    canonical_selector_value,
    listing,
    selector_vocabulary,
)
from redline.schema import (
    CORRIDOR_CLASSES,
    GENERAL_CONSTRUCTION,
    PROJECT_TYPE_KINDS,
    VALUE_ALIASES,
    VALUE_SUCCESSORS,
    severity_rank,
)

__all__ = ["UNVERIFIED_FLAG", "Clause", "Rule", "RuleSet"]

#: Appended to the citation of a clause not verified against its text (``str(clause)``).
UNVERIFIED_FLAG: Final = "〔未核验 unverified〕"

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
    verified
        Date the article was checked against the text of the version cited (``verified =
        YYYY-MM-DD`` in files); ``None`` (``verified = false``) when it could not be.
    source
        Where the text was read: a URL or a document. Required when ``verified`` is set.
    note
        What the check found or why the text could not be verified.

    Examples
    --------
    >>> str(Clause("中华人民共和国自然保护区条例", "第二十六条", "2026-02-03", issuer="国务院"))
    '《中华人民共和国自然保护区条例》第二十六条（国务院，2026-02-03）〔未核验 unverified〕'
    >>> import datetime
    >>> str(Clause("中华人民共和国自然保护区条例", "第二十六条", "2026-02-03", issuer="国务院",
    ...            verified=datetime.date(2026, 12, 4), source="https://example.org/830"))
    '《中华人民共和国自然保护区条例》第二十六条（国务院，2026-02-03）'
    """

    document: str
    article: str
    date: str
    document_en: str = ""
    issuer: str = ""
    number: str = ""
    verified: dt.date | None = None
    source: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        values, problems = check_clause({f.name: getattr(self, f.name) for f in fields(self)})
        if problems:
            raise_problems("clause", problems)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __str__(self) -> str:
        details = "，".join(self._details(self.document))
        flag = "" if self.verified else UNVERIFIED_FLAG
        return (f"《{self.document}》{self.article}" + (f"（{details}）" if details else "")
                + flag)

    def _details(self, title: str) -> list[str]:
        """Issuer, number and date, without a date the title already gives ("…（2014）")."""
        date = self.date if self.date and self.date not in title else ""
        return [p for p in (self.issuer, self.number, date) if p]

    @property
    def en(self) -> str:
        """One-line English citation (the Chinese title where no English one is given).

        Examples
        --------
        >>> Clause("中华人民共和国自然保护区条例", "第二十六条", "2026-02-03",
        ...        document_en="Regulations on Nature Reserves", issuer="State Council").en
        'Regulations on Nature Reserves, 第二十六条 (State Council, 2026-02-03) [unverified]'
        """
        title = self.document_en or self.document
        details = ", ".join(self._details(title))
        flag = "" if self.verified else " [unverified]"
        return f"{title}, {self.article}" + (f" ({details})" if details else "") + flag


if tuple(f.name for f in fields(Clause)) != CLAUSE_KEYS:  # pragma: no cover - one format
    raise ImportError(f"Clause fields differ from validate.CLAUSE_KEYS {CLAUSE_KEYS}")


def _table(value: object) -> object:
    """A :class:`Clause` as the table :func:`~redline.rules.validate.check_rule` reads."""
    return asdict(value) if isinstance(value, Clause) else value



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
        ``"overlap"``, ``"proximity"``, ``"outside"`` (a finding when part of the site lies
        outside the selected features, e.g. outside the urban development boundary),
        ``"severance"``, ``"landcover_share"`` or ``"slope"``.
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
    where: Mapping[str, tuple[str, ...]] = field(default_factory=FrozenMap)
    distance_m: float = 0.0
    min_passage_m: float | None = None
    classes: tuple[str, ...] = ()
    min_share: float | None = None
    max_slope_deg: float | None = None
    statistic: str | None = None
    severity_by_type: Mapping[str, str | None] = field(default_factory=FrozenMap)
    applies_to: tuple[str, ...] = ()
    conditions_zh: str = ""
    conditions_en: str = ""
    see_also: tuple[Clause, ...] = ()
    distance_from_default: bool = field(default=False, compare=False)
    origin: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        given["clause"] = _table(self.clause)
        if isinstance(self.see_also, list | tuple):
            given["see_also"] = [_table(c) for c in self.see_also]
        values, problems = check_rule(given)
        if problems:
            raise_problems(f"rule {self.id!r}", problems)
        values["clause"] = Clause(**values["clause"])
        values["see_also"] = tuple(Clause(**c) for c in values["see_also"])
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __hash__(self) -> int:
        return hash((self.id, self.layer, self.test, self.severity, self.clause))

    def severity_for(self, project_type: object = None) -> str | None:
        """Severity of a finding for a site of ``project_type``; ``None`` = no finding.

        A missing or blank type is general construction: the strictest severity the rule
        gives any type, unless ``severity_by_type`` names ``general`` itself. A general type
        with finer kinds (:data:`redline.schema.PROJECT_TYPE_KINDS`: ``energy`` → ``solar_pv``,
        ``wind``, ``power_grid``) gets the strictest severity of itself and its kinds.

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
        LayerError
            If ``project_type`` is not a known project type.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> rule = load_rules()["WS-LEVEL2"]  # second-level water-source protection zone
        >>> rule.severity_for("residential"), rule.severity_for("科研监测")
        ('conditional', 'advisory')
        >>> rule.severity_for(None)  # general construction: the strictest reading
        'prohibited'
        >>> rule.severity_for("solar_pv"), rule.severity_for("energy")  # energy: its strictest
        ('conditional', 'prohibited')
        """
        ptype = canonical_project_type(project_type)
        if ptype == GENERAL_CONSTRUCTION and ptype not in self.severity_by_type:
            found = [self.severity, *(s for s in self.severity_by_type.values() if s)]
            return min(found, key=severity_rank)
        own = [self._own_severity(t) for t in (ptype, *PROJECT_TYPE_KINDS.get(ptype, ()))]
        return min((s for s in own if s), key=severity_rank, default=None)

    def _own_severity(self, ptype: str) -> str | None:
        """Severity the rule states for ``ptype`` itself (not its kinds)."""
        if ptype in self.severity_by_type:
            return self.severity_by_type[ptype]
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
        canonical selectors (``core``); a value of a superseded scheme matches the value in
        force that replaces it (:data:`redline.schema.VALUE_SUCCESSORS`: a three-zone reserve's
        ``buffer`` matches ``core_protection``). Null values never match.

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

        Warns
        -----
        RedlineWarning
            When no feature has a value the rule selects while some of the layer's values map
            to no known value of the field (an unmapped spelling would silently never match).

        Examples
        --------
        >>> import pandas as pd
        >>> from redline.rules import load_rules
        >>> zones = pd.DataFrame({"zone": ["核心区", "buffer", "实验区", None]})
        >>> load_rules()["NR-CORE"].select(zones)
        array([ True,  True, False, False])
        """
        return self._selection(layer_gdf)[0]

    def value_mappings(self, layer_gdf: pd.DataFrame) -> np.ndarray:
        """Per feature, the superseded value the selection read as the value in force.

        Parameters
        ----------
        layer_gdf
            Features of the rule's layer.

        Returns
        -------
        numpy.ndarray
            Object array: ``"zone: buffer → core_protection"`` for a selected feature matched
            through :data:`redline.schema.VALUE_SUCCESSORS`, else ``None``.

        Examples
        --------
        >>> import pandas as pd
        >>> from redline.rules import load_rules
        >>> rule = load_rules()["NR-CORE"]
        >>> rule.value_mappings(pd.DataFrame({"zone": ["缓冲区", "核心保护区"]}))
        array(['zone: buffer → core_protection', None], dtype=object)
        """
        return self._selection(layer_gdf, warn=False)[1]

    def _selection(self, layer_gdf: pd.DataFrame, *, warn: bool = True
                   ) -> tuple[np.ndarray, np.ndarray]:
        mask = np.ones(len(layer_gdf), dtype=bool)
        notes = np.full(len(layer_gdf), None, dtype=object)
        for name, values in self.where.items():
            if name not in layer_gdf.columns:
                raise LayerError(
                    f"rule {self.id!r} selects on field {name!r} but the {self.layer} layer has "
                    f"no such column (columns: {listing(layer_gdf.columns)}); map the source "
                    f"field onto {name!r} in the manifest's [layers.{self.layer}.fields] table."
                )
            codes, uniques = pd.factorize(layer_gdf[name], use_na_sentinel=True)
            canonical = [canonical_selector_value(self.layer, name, u) for u in uniques]
            successors: Mapping[str, str] = VALUE_SUCCESSORS.get((self.layer, name), {})
            direct = [value in values for value in canonical]
            mapped = [
                None if hit or successors.get(str(value)) not in values
                else f"{name}: {value} → {successors[str(value)]}"
                for value, hit in zip(canonical, direct, strict=True)
            ]
            hit = np.array([d or m is not None for d, m in zip(direct, mapped, strict=True)]
                           + [False], dtype=bool)
            if warn and len(layer_gdf) and not hit.any():
                self._warn_unmapped(name, values, uniques, canonical)
            mask &= hit[codes]
            note = np.array([*mapped, None], dtype=object)[codes]
            notes = np.where(pd.notna(note) & pd.notna(notes),
                             notes.astype(str) + "; " + note.astype(str),
                             np.where(pd.notna(note), note, notes))
        notes[~mask] = None
        return mask, notes

    def _warn_unmapped(self, name: str, values: tuple[str, ...], uniques: Sequence[object],
                       canonical: Sequence[str | None]) -> None:
        """Warn that no feature has a selected value while some values map to nothing known."""
        known = selector_vocabulary(self.layer, name) or tuple(
            dict.fromkeys(VALUE_ALIASES.get((self.layer, name), {}).values()))
        if not known:
            return
        successors: Mapping[str, str] = VALUE_SUCCESSORS.get((self.layer, name), {})
        unmapped = sorted({str(raw) for raw, value in zip(uniques, canonical, strict=True)
                           if value is None or (value not in known and value not in successors)})
        if unmapped:
            warnings.warn(
                f"rule {self.id!r} selects {self.layer}.{name} = {list(values)} but no feature "
                f"has that value, and the layer holds values that map to no known {name}: "
                f"{unmapped[:10]}. The rule cannot fire on them: map them onto "
                f"{list(known)} in the manifest's [layers.{self.layer}.values.{name}] table.",
                RedlineWarning, stacklevel=3,
            )

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
        if self.test == "outside":
            return "any part outside"
        if self.test == "proximity":
            return f"≤ {self.distance_m:g} m"
        if self.test == "severance":
            return f"passage < {self.min_passage_m:g} m"
        if self.test == "landcover_share":
            return f"{'+'.join(self.classes)} ≥ {100 * (self.min_share or 0):g} %"
        return f"{self.statistic} ≥ {self.max_slope_deg:g}°"


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
    corridor_half_widths_m: Mapping[str, float] = field(default_factory=FrozenMap)
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
        widths = FrozenMap(
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
            raise_problems(f"ruleset {self.id!r}", problems)
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
        raise KeyError(f"no rule {rule_id!r} in ruleset {self.id!r}; ids: {listing(self.ids)}")

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
        ['cultivated_land', 'dem', 'ecological_barrier', 'farmland', 'forest_land', 'geohazard',
         'heritage', 'landcover', 'national_parks', 'redlines', 'reserves', 'river_management',
         'rivers', 'roads_rails', 'scenic', 'urban_boundary', 'water_sources', 'zoning']
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
        return FrozenMap({cls: passage for cls, (passage, _) in passages.items()})

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
        ('jilin+county', 37, 36, 1500.0)
        """
        disable = tuple(disable)
        problems = [
            ("disable", f"no rule {rid!r} to disable; ids: {listing(self.ids)}")
            for rid in disable
            if rid not in self
        ]
        problems += [
            ("disable", f"contradiction: rule {rid!r} is both disabled and defined")
            for rid in disable
            if rid in other
        ]
        if problems:
            raise_problems(f"extension {other.id!r} of ruleset {self.id!r}", problems)
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
            severity for a site without a project type; ``clause_verified`` whether the clause
            was checked against its text, ``clause_source`` where (or, when it was not, why).

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
                "clause_verified": r.clause.verified is not None,
                "clause_source": r.clause.source if r.clause.verified else r.clause.note,
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
            "verified": "verified",
        }
        frame["verified"] = [r.clause.verified.isoformat() if r.clause.verified else "**no**"
                             for r in self.rules]
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
