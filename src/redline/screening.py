"""Screen proposed construction sites against the planning layers and a ruleset.

:func:`screen` is the product's main job: per site a verdict (the strictest severity among its
findings, ``clear`` when there is none, ``not_assessed`` with the reason when the site cannot be
assessed) and the findings behind it, each citing the regulation clause. With a partial one map
(a layer an applicable rule reads is missing, or raster data do not cover the site) a site with
a ``prohibited`` finding is ``prohibited`` — nothing the missing data could add is stricter —
and any other is ``not_assessed``, its reason naming every missing layer; ``known_verdict``
says what the findings in hand give. Findings come from the
overlay engine (overlaps and proximity), corridor severance and raster statistics; the rules
(:mod:`redline.rules`) decide which of those are findings and how severe.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import logging
import types
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geopandas.array import from_shapely

from redline import schema
from redline.corridors import CORRIDOR_LAYERS, severance
from redline.errors import ArgumentError, LayerError, RedlineWarning, RuleError
from redline.geometry import prepare_subject_arrays
from redline.overlay import (
    IndexedSubjects,
    PreparedLayer,
    index_subjects,
    near_pairs,
    overlap_pairs,
    pair_geometries,
)
from redline.planning import Planning
from redline.raster import RasterSites
from redline.rules import CORRIDORS, Rule, RuleSet, canonical_project_type
from redline.sites import canonical_site_fields

if TYPE_CHECKING:
    import folium

__all__ = [
    "FINDING_COLUMNS",
    "LAYER_OVERLAPS",
    "SITE_COLUMNS",
    "Screening",
    "concat_findings",
    "disabled_rules",
    "findings_columns",
    "screen_frame",
    "site_ids",
    "source_of",
]

log = logging.getLogger(__name__)

#: Columns :func:`screen` adds to the caller's sites.
SITE_COLUMNS = (
    "site_id", "project_type_used", "verdict", "verdict_zh", "n_findings", "decisive_rule",
    "decisive_clause", "not_assessed_reason", "known_verdict",
)
#: Where a site's project type is read from: the column, or its Shapefile-truncated name.
PROJECT_TYPE_COLUMNS = ("project_type", "project_ty")
#: Columns of :attr:`Screening.findings` (plus ``geometry``).
FINDING_COLUMNS = (
    "site_id", "rule_id", "rule_title", "layer", "feature_id", "feature_name", "severity",
    "severity_zh", "overlap_m2", "overlap_m", "overlap_share", "distance_m", "measure",
    "clause", "clause_verified", "conditions", "conditions_en", "value_mapping",
)
#: Share of a site's area that raster data must cover for the raster rules to assess it; below
#: it the uncovered part could hold the wetland or the steep slope (exactextract's coverage
#: ratios are single precision, so a fully covered site can read 0.99999).
_FULL_COVERAGE = 0.999
#: Column types of the findings that do not depend on what was found (a batch with no feature
#: ids or measures among its findings gets the same types as one with them).
_FINDING_DTYPES: dict[str, Any] = {
    "subject": np.int64, "overlap_m2": np.float64, "overlap_m": np.float64,
    "overlap_share": np.float64, "distance_m": np.float64, "clause_verified": np.bool_,
    # Text is kept as Python objects: a rule's texts are then one shared string for all its
    # findings, where an Arrow string column would copy them into every row (about 0.8 kB a
    # finding: 2 GB for a million sites).
    **{name: object for name in ("site_id", "rule_id", "rule_title", "layer", "feature_id",
                                 "feature_name", "severity", "severity_zh", "measure",
                                 "clause", "conditions", "conditions_en", "value_mapping")},
}
#: Findings of one rule as column arrays, before they become one frame.
_Columns = dict[str, np.ndarray]
#: Findings columns sent coded between processes (:func:`findings_columns`): a rule's or a
#: feature's texts and the geometries, repeated over many findings.
_CODED_COLUMNS = ("rule_id", "rule_title", "layer", "feature_id", "feature_name", "severity",
                  "severity_zh", "clause", "conditions", "conditions_en", "value_mapping",
                  "geometry")
#: The findings' columns the verdicts read (:func:`_with_verdicts`).
_VERDICT_COLUMNS = ("subject", "severity", "rule_id", "clause")
#: Controlled polygon layers whose overlap with every site is measured whatever the rules say
#: (the basis of the 三线 table): column of :attr:`Screening.layer_overlaps` → layer kind, and
#: the selector on it (``None``: every feature).
LAYER_OVERLAPS = {
    "redlines": ("redlines", None),
    "farmland": ("farmland", None),
    "urban_boundary": ("urban_boundary", None),
    "cultivated_land": ("cultivated_land", None),
    "forest_land": ("forest_land", None),
    "reserves": ("reserves", None),
    "water_sources": ("water_sources", None),
    "scenic": ("scenic", None),
    "prohibited_zone": ("zoning", ("zone", "prohibited")),
    "national_parks": ("national_parks", None),
    "heritage": ("heritage", None),
    "river_management": ("river_management", None),
    "geohazard_danger": ("geohazard", ("level", "danger")),
    "ecological_barrier": ("ecological_barrier", None),
}
#: Columns of :data:`LAYER_OVERLAPS` that make up "other controlled land" in the 三线 table;
#: their union (land in two of them counted once) is the column ``other_controlled``.
OTHER_CONTROLLED = (
    "reserves", "water_sources", "scenic", "prohibited_zone", "national_parks", "heritage",
    "river_management", "geohazard_danger", "ecological_barrier",
)
#: An ``outside`` finding needs more of the site outside than this (m² for polygons, m for
#: lines; any point for points): less is floating-point noise along a shared edge.
OUTSIDE_TOLERANCE = 0.01


@dataclass(frozen=True)
class Screening:
    """The result of :func:`screen`.

    Attributes
    ----------
    sites
        The caller's sites (index, columns and geometry kept) plus :data:`SITE_COLUMNS`.
    findings
        One row per (site, rule, layer feature), columns :data:`FINDING_COLUMNS`; geometry is the
        overlap (or the site, for proximity and raster findings), in the working CRS.
    layer_overlaps
        Every site's overlap with every controlled layer of :data:`LAYER_OVERLAPS` (the union
        of its features) whatever the rules say, in the site's own measure: m² for polygons,
        m for lines, the number of points for points; ``other_controlled``, the union of the
        :data:`OTHER_CONTROLLED` layers; ``site_measure``, the site's own area, length or
        number of points. NaN where the planning lacks the layer. The basis of the 三线
        table. Indexed like ``sites``.
    planning, rules
        What the sites were screened against (``rules`` without the disabled ones).
    started, duration_s
        When :func:`redline.screen` started (UTC) and how long it took, in seconds (``None`` for a
        screening put together from parts); recorded in ``run.json``.
    disabled
        Ids of the rules switched off for this run (``screen(..., disable=...)``).

    Examples
    --------
    >>> import redline
    >>> from redline import datasets
    >>> result = redline.screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> result
    Screening of 8 sites against 37 rules: prohibited 3, conditional 2, advisory 1, clear 2; ...
    >>> result.sites[["site_id", "verdict", "decisive_rule"]].tail(4)
       site_id     verdict   decisive_rule
    4  JL-0005       clear            None
    5  JL-0006  prohibited         NR-CORE
    6  JL-0007  prohibited  ZON-PROHIBITED
    7  JL-0008  prohibited  ZON-PROHIBITED
    >>> result.findings.query("site_id == 'JL-0006'")[["rule_id", "severity", "overlap_m2"]]
              rule_id     severity  overlap_m2
    5         NR-CORE   prohibited     44611.7
    6   FOREST-LEVEL1   prohibited     44611.7
    7  ZON-PROHIBITED  conditional     44611.7
    8     ECO-REDLINE  conditional     44611.7
    9   SCN-PROTECTED  conditional     44611.7
    """

    sites: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    layer_overlaps: pd.DataFrame
    planning: Planning = field(repr=False)
    rules: RuleSet = field(repr=False)
    started: datetime | None = field(default=None, repr=False, compare=False)
    duration_s: float | None = field(default=None, repr=False, compare=False)
    disabled: tuple[str, ...] = field(default=(), repr=False)

    def summary(self) -> pd.DataFrame:
        """Sites per verdict, strictest first, with Chinese labels.

        Returns
        -------
        pandas.DataFrame
            Columns ``verdict``, ``结论`` and ``sites``, one row per verdict of
            :data:`redline.schema.VERDICTS` (zero counts included).

        Examples
        --------
        >>> import redline
        >>> from redline import datasets
        >>> redline.screen(gpd.read_file(datasets.get_path("sites")).head(8)).summary()
                verdict       结论  sites
        0  not_assessed      未评估      0
        1    prohibited       禁止      3
        2   conditional  需审批/有条件      2
        3      advisory       提示      1
        4         clear    未发现冲突      2
        """
        counts = self.sites["verdict"].value_counts()
        return pd.DataFrame({
            "verdict": list(schema.VERDICTS),
            "结论": [schema.VERDICT_LABELS[v] for v in schema.VERDICTS],
            "sites": [int(counts.get(v, 0)) for v in schema.VERDICTS],
        })

    def three_lines(self) -> pd.DataFrame:
        """The 三线 table: per site, red line, basic farmland, other controlled layers occupied.

        Returns
        -------
        pandas.DataFrame
            See :func:`redline.report.three_lines_table`.

        Examples
        --------
        >>> import redline
        >>> from redline import datasets
        >>> result = redline.screen(gpd.read_file(datasets.get_path("sites")).head(8))
        >>> table = result.three_lines()
        >>> table.iloc[7][["项目编号 site_id", "占用红线面积 red line m²",
        ...                 "城镇开发边界 urban development boundary",
        ...                 "其他管控面积 other controlled m²", "其他管控面积 other controlled 亩"]]
        项目编号 site_id                                JL-0008
        占用红线面积 red line m²                          5887.94
        城镇开发边界 urban development boundary         外 outside
        其他管控面积 other controlled m²                  5887.94
        其他管控面积 other controlled 亩                     8.83
        Name: 7, dtype: object
        """
        from redline.report import three_lines_table

        return three_lines_table(self)

    def to_file(
        self, directory: str | Path, *, boundary_points: bool = False
    ) -> dict[str, Path]:
        """Write the GeoPackage (layers ``sites``, ``findings``), CSVs and the 三线 table.

        Parameters
        ----------
        directory
            Output folder, created if needed; see :func:`redline.report.write_screening`.
        boundary_points
            Also write the sites as a boundary-point coordinate file (界址点坐标,
            ``sites.txt``, GBK), the format a land-use dossier takes.

        Returns
        -------
        dict of str to pathlib.Path
            Role → path, for the roles of :data:`redline.report.OUTPUT_FILES`.

        Examples
        --------
        >>> import tempfile
        >>> import redline
        >>> from redline import datasets
        >>> result = redline.screen(gpd.read_file(datasets.get_path("sites")).head(8))
        >>> paths = result.to_file(Path(tempfile.mkdtemp()) / "run")
        >>> sorted(path.name for path in paths.values())
        ['assessment.csv', 'findings.csv', 'run.json', 'screening.gpkg', 'sites.csv',
         'summary.csv',
         'three_lines.csv']
        """
        from redline.report import write_screening

        return write_screening(self, directory, boundary_points=boundary_points)

    def report(self, site_id: str, path: str | Path) -> Path:
        """Write one site's review report; the suffix picks ``.html``, ``.pdf`` or ``.docx``.

        Parameters
        ----------
        site_id
            The site.
        path
            The report file; see :func:`redline.review.write_report`.

        Returns
        -------
        pathlib.Path
            ``path``.

        Examples
        --------
        >>> import tempfile
        >>> import redline
        >>> from redline import datasets
        >>> result = redline.screen(gpd.read_file(datasets.get_path("sites")).head(8))
        >>> result.report("JL-0006", Path(tempfile.mkdtemp()) / "JL-0006.docx").suffix
        '.docx'
        """
        from redline.review import write_report

        return write_report(self, site_id, path)

    def map(self, **kwargs: Any) -> folium.Map:
        """Interactive map of the verdicts; options in :func:`redline.maps.screening_map`.

        Parameters
        ----------
        **kwargs
            Passed to :func:`redline.maps.screening_map`.

        Returns
        -------
        folium.Map

        Examples
        --------
        >>> import redline
        >>> from redline import datasets
        >>> result = redline.screen(gpd.read_file(datasets.get_path("sites")).head(8))
        >>> type(result.map(basemap=None)).__name__
        'Map'
        """
        from redline.maps import screening_map

        return screening_map(self, **kwargs)

    def _repr_html_(self) -> str:
        from redline.maps import notebook_html

        return notebook_html(self)

    def __repr__(self) -> str:
        counts = ", ".join(f"{row.verdict} {row.sites}" for row in self.summary().itertuples()
                           if row.sites)
        return (f"Screening of {len(self.sites)} sites against {len(self.rules)} rules: "
                f"{counts or 'no sites'}; {len(self.findings)} findings")


def screen_frame(
    sites: gpd.GeoDataFrame,
    planning: Planning,
    ruleset: RuleSet,
    *,
    crs: Any = None,
    n_jobs: int | None = None,
    progress: bool = False,
) -> Screening:
    """Screen a frame of sites in this process: the kernel of :func:`redline.screen`.

    :func:`redline.screen` is the entry: it takes defaults, dask frames and large batches
    (forked workers) and calls this on each part; call it directly to screen in this process.

    Parameters
    ----------
    sites
        A GeoDataFrame of sites, as for :func:`redline.screen`; the site fields are also found
        under their usual names (项目编号, 项目名称, 项目类型, 用途 …:
        :data:`redline.schema.SITE_FIELD_ALIASES`, by
        :func:`redline.sites.canonical_site_fields`).
    planning
        The one map.
    ruleset
        The rules.
    crs
        CRS to assume for sites that declare none.
    n_jobs
        Threads of the overlay engine (default: every available core). Results do not
        depend on it.
    progress
        Show a progress bar over the layers.

    Returns
    -------
    Screening
        Per site the verdict, and ``known_verdict``: what the findings in hand say (the
        verdict itself for an assessed site; for a site ``not_assessed`` because layers or
        raster data are missing, the verdict the findings found so far give; ``None`` where the
        site's geometry could not be assessed).

    Raises
    ------
    LayerError
        Missing or duplicate ``site_id`` values.
    CRSError
        Sites without CRS (and no ``crs=``), or none of them in the planning's region.
    RuleError
        A ``disable`` entry that matches no rule.

    Examples
    --------
    >>> from redline import datasets
    >>> from redline.planning import load_planning
    >>> from redline.rules import load_rules
    >>> sites = gpd.read_file(datasets.get_path("sites"))
    >>> result = screen_frame(sites, load_planning(), load_rules(), n_jobs=1)
    >>> sorted(set(result.sites.verdict)) == sorted(schema.VERDICTS)
    True
    """
    if not isinstance(sites, gpd.GeoDataFrame):
        raise TypeError(f"sites must be a GeoDataFrame, not {type(sites).__name__}")
    source = source_of(sites)
    sites = canonical_site_fields(sites, source=source)  # 项目编号, 项目类型, 用途 … understood
    ids = site_ids(sites)
    types = _project_types(sites, source=source)
    geoms, reasons = prepare_subject_arrays(sites, source=source, working_crs=planning.crs,
                                            crs=crs, extent=planning.extent,
                                            region=planning.region, stacklevel=2)
    run = _Run(geoms=geoms, types=types, planning=planning, ruleset=ruleset, n_jobs=n_jobs,
               severity=_severities(ruleset, types),
               source_crs=crs if crs is not None else sites.crs)

    by_layer = ruleset.by_layer()
    overlap_layers = {kind for kind, _ in LAYER_OVERLAPS.values() if kind in planning}
    findings: list[_Columns | None] = []
    layer_pairs: dict[str, _Columns] = {}
    gaps: list[_Gap] = []
    layers: Iterable[str] = [*by_layer, *sorted(overlap_layers - set(by_layer))]
    if progress:
        from tqdm.auto import tqdm

        layers = tqdm(layers, desc="screening", unit="layer")
    for layer in layers:
        layer_rules = by_layer.get(layer, ())
        for rule in layer_rules:
            missing = _missing_layers(rule, ruleset, planning)
            if missing:
                applies = _applies((rule,), run)
                gaps.extend(_Gap(applies, kind, rule.id) for kind in missing)
        if not _present(layer, planning):
            continue
        if layer in planning.rasters:
            found, coverage = _raster_findings(layer, layer_rules, run)
            applies, present = _applies(layer_rules, run), ~pd.isna(run.geoms)
            gaps.append(_Gap(applies & present & (coverage == 0), None,
                             f"no {layer} data under the site"))
            gaps.append(_Gap(applies & present & (coverage > 0) & (coverage < _FULL_COVERAGE),
                             None, f"{layer} data cover only part of the site (nodata or off "
                             "the raster); the rest could hold what the rules look for"))
        else:
            found, layer_pairs[layer] = _vector_findings(layer, layer_rules, run)
        findings.extend(found)

    table, columns = _findings_table(findings, ids=ids, order=ruleset.ids,
                                     crs=planning.crs)
    out = _with_verdicts(sites, columns, reasons=reasons, gaps=_gap_reasons(gaps, len(sites)),
                         ids=ids, types=types)
    layer_overlaps = _layer_overlaps(run, layer_pairs, index=sites.index)
    return Screening(sites=out, findings=table, layer_overlaps=layer_overlaps,
                     planning=planning, rules=ruleset)


def disabled_rules(ruleset: RuleSet, disable: Iterable[str]) -> tuple[RuleSet, tuple[str, ...]]:
    """``ruleset`` without the rules ``disable`` names, and the ids switched off.

    Parameters
    ----------
    ruleset
        The rules in force.
    disable
        Rule ids or shell-style globs (``"SLOPE-*"``, case-sensitive); a string may hold several
        separated by commas.

    Returns
    -------
    ruleset, disabled
        A ruleset without those rules (``ruleset`` itself when nothing is disabled), and their
        ids in ruleset order.

    Raises
    ------
    RuleError
        An entry that matches no rule (a misspelt id would otherwise leave the rule on).

    Examples
    --------
    >>> from redline.rules import load_rules
    >>> rules, off = disabled_rules(load_rules(), ["SLOPE-*", "LC-FOREST"])
    >>> off, len(rules)
    (('LC-FOREST', 'SLOPE-STEEP', 'SLOPE-CULTIVATION'), 34)
    >>> disabled_rules(load_rules(), "SLOPE-STEP")
    Traceback (most recent call last):
    ...
    redline.errors.RuleError: disable: no rule matches 'SLOPE-STEP'; rule ids: ...
    """
    entries = [disable] if isinstance(disable, str) else list(disable)
    patterns = [part.strip() for entry in entries for part in str(entry).split(",")
                if part.strip()]
    if not patterns:
        return ruleset, ()
    unknown = [p for p in patterns if not fnmatch.filter(ruleset.ids, p)]
    if unknown:
        raise RuleError(f"disable: no rule matches {', '.join(map(repr, unknown))}; rule ids: "
                        f"{', '.join(ruleset.ids)}")
    off = tuple(i for i in ruleset.ids if any(fnmatch.fnmatchcase(i, p) for p in patterns))
    kept = tuple(rule for rule in ruleset if rule.id not in off)
    return dataclasses.replace(ruleset, rules=kept), off


# -- inputs ----------------------------------------------------------------------------------
def source_of(frame: pd.DataFrame, default: str = "sites") -> str:
    """The file a frame was read from (:func:`redline.io.read_layer` records it), for messages.

    Parameters
    ----------
    frame
        Sites or parcels.
    default
        What to call a frame not read from a file.

    Returns
    -------
    str

    Examples
    --------
    >>> from redline import datasets
    >>> from redline.io import read_layer
    >>> source_of(read_layer(datasets.get_path("sites"))).endswith("sites.gpkg")
    True
    >>> source_of(gpd.GeoDataFrame())
    'sites'
    """
    return str(frame.attrs.get("redline", {}).get("path", default))


def site_ids(sites: gpd.GeoDataFrame) -> np.ndarray:
    """Each site's id as text: its ``site_id`` (stripped), else its row label.

    Parameters
    ----------
    sites
        Sites, with or without a ``site_id`` column.

    Returns
    -------
    numpy.ndarray
        Object array of unique, non-blank texts.

    Raises
    ------
    LayerError
        Blank or duplicate ``site_id`` values (the message names them and the file).

    Examples
    --------
    >>> import shapely
    >>> sites = gpd.GeoDataFrame({"site_id": [" A-1", "A-2"]}, geometry=[shapely.Point(0, 0)] * 2)
    >>> site_ids(sites).tolist(), site_ids(sites.drop(columns="site_id")).tolist()
    (['A-1', 'A-2'], ['0', '1'])
    >>> site_ids(sites.assign(site_id=["A-1", "A-1"]))
    Traceback (most recent call last):
    ...
    redline.errors.LayerError: sites: site_id values are not unique: ['A-1'] (2 rows); ...
    """
    source = source_of(sites)
    if "site_id" not in sites.columns:
        return np.array([str(i) for i in sites.index], dtype=object)
    ids = sites["site_id"]
    values = ids.to_numpy(dtype=object)
    if all(type(v) is str for v in values):  # plain text: Python's strip, as pandas' str.strip
        text = np.array([v.strip() for v in values], dtype=object)
        if len(set(text)) == len(text) and not (text == "").any():
            return text
    blank = ids.isna().to_numpy() | (ids.astype(str).str.strip() == "").to_numpy()
    if blank.any():
        raise LayerError(f"{source}: {int(blank.sum())} sites have no site_id (rows "
                         f"{list(sites.index[blank][:10])}); give every site an id, or drop "
                         "the column to use the row index")
    text = ids.astype(str).str.strip()
    dup = text[text.duplicated(keep=False)]
    if len(dup):
        raise LayerError(
            f"{source}: site_id values are not unique: {sorted(set(dup))[:10]} "
            f"({len(dup)} rows); findings are reported by site_id, so each site needs its own"
        )
    return text.to_numpy(dtype=object)


def _project_types(sites: gpd.GeoDataFrame, *, source: str) -> np.ndarray:
    """Canonical project type per site. Blank is general construction; an unknown type is
    screened as general construction too (the strictest reading, never a more lenient one),
    with one warning listing the unknown values. A Shapefile cuts the column name to
    ``project_ty`` (10 bytes): that spelling is read too, or every type would be lost."""
    column = next((c for c in PROJECT_TYPE_COLUMNS if c in sites.columns), None)
    if column is None:
        return _repeat(schema.GENERAL_CONSTRUCTION, len(sites))
    codes, uniques = pd.factorize(sites[column], use_na_sentinel=True)
    canonical, unknown = [], []
    for value in uniques:
        try:
            canonical.append(canonical_project_type(value))
        except ArgumentError:
            unknown.append(str(value))
            canonical.append(schema.GENERAL_CONSTRUCTION)
    if unknown:
        warnings.warn(
            f"{source}: unknown project_type values {sorted(unknown)[:10]} are screened as "
            f"general construction (the strictest reading); valid types: "
            f"{schema.project_type_listing()} (and more Chinese spellings: "
            "redline.schema.PROJECT_TYPE_ALIASES)",
            RedlineWarning, stacklevel=3,
        )
    table = np.array([*canonical, schema.GENERAL_CONSTRUCTION], dtype=object)
    return table[codes]


def _missing_layers(rule: Rule, ruleset: RuleSet, planning: Planning) -> list[str]:
    """Planning layers ``rule`` reads that ``planning`` lacks and does not declare absent. A
    corridors rule reads every line layer with a corridor half-width for the classes it selects
    (secondary corridors: rivers *and* roads_rails), so that a missing roads layer is never
    read as no roads."""
    if rule.layer != CORRIDORS:
        return [] if rule.layer in planning or rule.layer in planning.absent else [rule.layer]
    sources = rule.where.get("source_layer", CORRIDOR_LAYERS)
    classes = rule.where.get("corridor", schema.CORRIDOR_CLASSES)
    needed = {key.split(".")[0] for key in ruleset.corridor_half_widths_m
              if key.split(".")[0] in sources and key.split(".")[1] in classes}
    return sorted(kind for kind in needed if kind not in planning and kind not in planning.absent)


def _present(layer: str, planning: Planning) -> bool:
    """Whether ``planning`` holds what the rules on ``layer`` are assessed on."""
    if layer == CORRIDORS:
        return any(kind in planning for kind in CORRIDOR_LAYERS)
    return layer in planning


def _severities(ruleset: RuleSet, types: np.ndarray) -> dict[str, np.ndarray]:
    """Each rule's severity for each site (``None``: no finding), looked up once per run and
    project type."""
    codes, uniques = pd.factorize(types)  # canonical types: none is missing
    return {rule.id: np.array([rule.severity_for(u) for u in uniques], dtype=object)[codes]
            for rule in ruleset}


def _applies(rules: Iterable[Rule], run: _Run) -> np.ndarray:
    """Sites for which at least one of ``rules`` could give a finding."""
    out = np.zeros(len(run.types), dtype=bool)
    for rule in rules:
        out |= pd.notna(run.severity[rule.id])
    return out


@dataclass(frozen=True)
class _Gap:
    """Sites (``mask``) a missing layer leaves unassessed (``kind``, read by rule ``text``), or
    raster data do not cover (``kind`` ``None``, ``text`` the reason)."""

    mask: np.ndarray
    kind: str | None
    text: str


def _gap_reasons(gaps: list[_Gap], n: int) -> np.ndarray:
    """Per site, the reason naming every missing layer (with the rules that read it) and every
    raster gap; ``None`` where data are complete. One text per combination of gaps."""
    out = np.full(n, None, dtype=object)
    gaps = [gap for gap in gaps if gap.mask.any()]
    if not gaps:
        return out
    matrix = np.column_stack([gap.mask for gap in gaps])
    has = matrix.any(axis=1)
    patterns, inverse = np.unique(matrix[has], axis=0, return_inverse=True)
    texts = []
    for row in patterns:
        chosen = [gap for gap, on in zip(gaps, row, strict=True) if on]
        rules: dict[str, list[str]] = {}
        for gap in chosen:
            if gap.kind is not None and gap.text not in rules.setdefault(gap.kind, []):
                rules[gap.kind].append(gap.text)
        parts = []
        if rules:
            parts.append("layers needed by its rules are missing: " + ", ".join(
                f"{kind!r} ({', '.join(ids)})" for kind, ids in sorted(rules.items())))
        parts += [gap.text for gap in chosen if gap.kind is None]
        texts.append("; ".join(parts))
    out[has] = np.array(texts, dtype=object)[inverse.ravel()]
    return out


# -- per layer ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Run:
    """What every layer's assessment reads: the sites in the working CRS and their types, and
    what is derived from the sites once for all layers."""

    geoms: np.ndarray
    types: np.ndarray
    planning: Planning
    ruleset: RuleSet
    n_jobs: int | None
    severity: dict[str, np.ndarray]  # rule id → severity per site (see _severities)
    source_crs: Any  # the CRS the sites were given in

    @functools.cached_property
    def indexed(self) -> IndexedSubjects:
        """The sites chunked and indexed once for the overlay engine."""
        return index_subjects(self.geoms, n_jobs=self.n_jobs)

    @functools.cached_property
    def raster_sites(self) -> RasterSites:
        """The sites checked, buffered and flattened once for every raster layer."""
        return RasterSites(self.geoms, crs=self.planning.crs)


def _vector_findings(
    layer: str, rules: Iterable[Rule], run: _Run
) -> tuple[list[_Columns | None], _Columns]:
    """Findings of the overlap, proximity and severance rules on one vector layer, and the
    overlap pairs (for the layer totals; columns of :data:`redline.overlay.OVERLAP_COLUMNS`).

    Pairs stay column arrays throughout: frames cost more than the geometry of a small batch.
    """
    rules = tuple(rules)
    if layer == CORRIDORS:
        corridors = run.planning.corridors(run.ruleset.corridor_half_widths_m)
        if corridors is None:  # no corridor reaches the extent, where every assessed site is
            return [], {}
        features, prepared = corridors
    else:
        features, prepared = run.planning[layer], run.planning.prepared(layer)
    found_pairs = overlap_pairs(run.indexed, prepared, n_jobs=run.n_jobs, geometries=True,
                                sliver_bow=run.planning.sliver_bow(layer, run.source_crs))
    contact = found_pairs["contact"]
    touching, pairs = _take(found_pairs, contact), _take(found_pairs, ~contact)
    reach = max((r.distance_m for r in rules if r.test == "proximity"), default=0.0)
    near = None
    if reach > 0:
        nearby = near_pairs(run.indexed, prepared, max_distance=reach, n_jobs=run.n_jobs)
        near = {  # edge contact: 0 m away
            "subject": np.concatenate([nearby["subject"], touching["subject"]]),
            "feature": np.concatenate([nearby["feature"], touching["feature"]]),
            "distance_m": np.concatenate([nearby["distance_m"],
                                          np.zeros(len(touching["subject"]))]),
        }
    found = []
    for rule in rules:
        selected = rule.select(features)
        if rule.test == "overlap":
            hits = _take(pairs, selected[pairs["feature"]])
            found.append(_rows(rule, hits, run, features=features, prepared=prepared))
        elif rule.test == "outside":
            hits, geometry, text = _outside(_take(pairs, selected[pairs["feature"]]), prepared,
                                            run)
            found.append(_rows(rule, hits, run, measure=text, geometry=geometry))
        elif rule.test == "proximity" and near is not None:
            within = near["distance_m"] <= rule.distance_m
            hits = _take(near, selected[near["feature"]] & within)
            found.append(_rows(rule, hits, run, features=features))
        elif rule.test == "severance":
            # only sites whose project type the rule can give a finding (severance is costly)
            applies = _applies((rule,), run)[pairs["subject"]]
            candidates = _take(pairs, selected[pairs["feature"]] & applies)
            min_passage = cast(float, rule.min_passage_m)  # required of severance rules
            cut = severance(gpd.GeoSeries(run.geoms, crs=run.planning.crs), features,
                            pd.DataFrame(candidates), min_passage_m=min_passage,
                            widths_of="severing")
            severs = cut["severs"].to_numpy(dtype=bool)
            passage = cut["passage_m"].to_numpy()[severs]
            found.append(_rows(rule, _take(candidates, severs), run, features=features,
                               prepared=prepared,
                               measure=[f"widest passage left {p:,.0f} m" for p in passage]))
    return found, pairs


def _take(columns: _Columns, rows: np.ndarray) -> _Columns:
    """The ``rows`` (a mask or positions) of every column."""
    return {name: values[rows] for name, values in columns.items()}


def _layer_overlaps(run: _Run, layer_pairs: dict[str, _Columns], *,
                    index: pd.Index) -> pd.DataFrame:
    """:attr:`Screening.layer_overlaps` from the overlap pairs of every vector layer."""
    columns: dict[str, np.ndarray] = {}
    groups: dict[str, tuple[PreparedLayer, _Columns]] = {}
    for name, (kind, selector) in LAYER_OVERLAPS.items():
        if kind not in layer_pairs:  # declared absent: none occupied; missing: unknown
            columns[name] = np.full(len(run.geoms), 0.0 if kind in run.planning.absent
                                    else np.nan)
            continue
        pairs = layer_pairs[kind]
        if selector is not None:
            field_name, value = selector
            chosen = run.planning[kind][field_name].to_numpy()[pairs["feature"]] == value
            pairs = _take(pairs, chosen)
        groups[name] = (run.planning.prepared(kind), pairs)
        columns[name] = _covered(run.geoms, [groups[name]])[0]
    others = [groups[name] for name in OTHER_CONTROLLED if name in groups]
    columns["other_controlled"] = (_covered(run.geoms, others)[0] if others
                                   else np.full(len(run.geoms), np.nan))
    columns["site_measure"] = _own_measure(run.geoms)
    return pd.DataFrame(columns, index=index)


def _own_measure(geoms: np.ndarray) -> np.ndarray:
    """Area (polygons), length (lines) or number of points (points) of each geometry; 0 for
    none."""
    out = np.zeros(len(geoms))
    dim = shapely.get_dimensions(geoms)
    out[dim == 2] = shapely.area(geoms[dim == 2])
    out[dim == 1] = shapely.length(geoms[dim == 1])
    out[dim == 0] = shapely.get_num_geometries(geoms[dim == 0])
    return out


def _covered(
    geoms: np.ndarray, groups: list[tuple[PreparedLayer, _Columns]], *, geometry: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The part of each site covered by the union of the features in ``groups`` (a prepared
    layer with overlap pairs on it, contacts excluded).

    Returns its measure in the site's own dimension (m², m, points: features that overlap one
    another are counted once), and, with ``geometry``, its shape (``None`` where nothing is
    covered). A site lying in one feature, or met by one feature only, takes the engine's
    measure; only the others are intersected and dissolved here.
    """
    n = len(geoms)
    measure, shape = np.zeros(n), np.full(n, None, dtype=object)
    subject: np.ndarray = (np.concatenate([pairs["subject"] for _, pairs in groups]) if groups
                           else np.empty(0, dtype=np.int64))
    if not len(subject):
        return measure, shape
    dim = shapely.get_dimensions(geoms)
    pair_dim = dim[subject]
    pair_measure = np.concatenate([
        np.where(dim[pairs["subject"]] == 2, pairs["overlap_m2"], pairs["overlap_m"])
        for _, pairs in groups])
    share = np.concatenate([pairs["overlap_share"] for _, pairs in groups])
    count = np.bincount(subject, minlength=n)
    whole = np.zeros(n, dtype=bool)
    whole[subject[(share >= 1.0) & (pair_dim > 0)]] = True
    measure[whole] = _own_measure(geoms[whole])
    shape[whole] = geoms[whole]
    single = (count[subject] == 1) & ~whole[subject] & (pair_dim > 0) & (not geometry)
    measure[subject[single]] = pair_measure[single]
    todo = ~whole & (count > 0)
    todo[subject[single]] = False
    if not todo.any():
        return measure, shape
    pieces, owner = [], []
    for prepared, pairs in groups:
        wanted = todo[pairs["subject"]]
        s, f = pairs["subject"][wanted], pairs["feature"][wanted]
        pieces.append(pair_geometries(geoms, prepared, s, f))
        owner.append(s)
    piece, site = np.concatenate(pieces), np.concatenate(owner)
    order = np.argsort(site, kind="stable")
    sites, first = np.unique(site[order], return_index=True)
    dissolved = np.array([shapely.union_all(part) for part in np.split(piece[order], first[1:])],
                         dtype=object)
    shape[sites] = dissolved
    measure[sites] = np.where(
        dim[sites] == 2, shapely.area(dissolved),
        np.where(dim[sites] == 1, shapely.length(dissolved),
                 shapely.get_num_geometries(dissolved)))
    return measure, shape


def _outside(pairs: _Columns, prepared: PreparedLayer,
             run: _Run) -> tuple[_Columns, np.ndarray, list[str]]:
    """Sites with more than :data:`OUTSIDE_TOLERANCE` of themselves outside the union of the
    features of ``pairs`` (an ``outside`` rule): hit rows, the outside part of each, and the
    measure text."""
    covered, inside = _covered(run.geoms, [(prepared, pairs)], geometry=True)
    own = _own_measure(run.geoms)
    outside = np.maximum(own - covered, 0.0)
    dim = shapely.get_dimensions(run.geoms)
    hit = np.flatnonzero(outside > np.where(dim == 0, 0.5, OUTSIDE_TOLERANCE))
    partly = pd.notna(inside[hit])
    geometry = run.geoms[hit].copy()
    geometry[partly] = shapely.difference(run.geoms[hit][partly], inside[hit][partly])
    share = outside[hit] / own[hit]
    unit = np.select([dim[hit] == 2, dim[hit] == 1], ["m²", "m"], "points")
    text = [f"{'partly outside' if part else 'outside'}: {value:,.2f} {u} ({fraction:.0%})"
            for part, value, u, fraction in zip(partly, outside[hit], unit, share, strict=True)]
    hits = {
        "subject": hit,
        "overlap_m2": np.where(dim[hit] == 2, outside[hit], 0.0),
        "overlap_m": np.where(dim[hit] == 1, outside[hit], 0.0),
        "overlap_share": share,
    }
    return hits, geometry, text


def _raster_findings(
    layer: str, rules: Iterable[Rule], run: _Run
) -> tuple[list[_Columns | None], np.ndarray]:
    """Findings of the land-cover / slope rules, and the share of each site with raster data."""
    raster, sites = run.planning.rasters[layer], run.raster_sites
    stats = sites.landcover_shares(raster) if layer == "landcover" else sites.slope_stats(raster)
    found = []
    for rule in rules:
        if rule.test == "landcover_share":
            # A class the land-cover table does not map is on none of the raster's pixels:
            # share 0 where the site is covered (NaN, no finding, where it is not).
            shares = stats.reindex(columns=[f"share_{c}" for c in rule.classes])
            covered = stats["coverage"].to_numpy() > 0
            value = shares.fillna(0.0).sum(axis=1).where(covered)
            label = "+".join(rule.classes)
            hit = (value >= rule.min_share).to_numpy()
            text = [f"{label} {v:.0%} of the site" for v in value[hit]]
            hits = {"subject": np.flatnonzero(hit), "overlap_share": value[hit].to_numpy()}
        else:  # a slope is no share of the site: it is in the measure text only
            value = stats[f"slope_{rule.statistic}_deg"]
            hit = (value >= rule.max_slope_deg).to_numpy()
            text = [f"{rule.statistic} slope {v:.1f}°" for v in value[hit]]
            hits = {"subject": np.flatnonzero(hit)}
        found.append(_rows(rule, hits, run, measure=text))
    return found, stats["coverage"].to_numpy()


def _rows(
    rule: Rule,
    hits: _Columns,
    run: _Run,
    *,
    features: gpd.GeoDataFrame | None = None,
    prepared: PreparedLayer | None = None,
    measure: Iterable[str] | None = None,
    geometry: np.ndarray | None = None,
) -> _Columns | None:
    """Findings of one rule from its candidate rows (column arrays: ``subject``, and
    ``feature`` for vector layers), keeping those the site's project type makes a finding,
    with its severity.

    Returned as column arrays (``None`` when there is none): one frame is built for all rules
    at the end, since a frame per rule costs more than the geometry of a small batch.
    """
    subject = hits["subject"].astype(np.int64)
    severity = run.severity[rule.id][subject]
    keep = pd.notna(severity)
    if not keep.any():
        return None
    hits, subject = _take(hits, keep), subject[keep]
    n = len(subject)

    def constant(value: object) -> np.ndarray:
        return _repeat(value, n)

    def number(column: str) -> np.ndarray:
        if column not in hits:
            return np.full(n, np.nan)
        return hits[column].astype(np.float64)

    rows: _Columns = {
        "subject": subject,
        "rule_id": constant(rule.id),
        "rule_title": constant(f"{rule.title_zh} / {rule.title_en}"),
        "layer": constant(rule.layer),
        "severity": severity[keep].astype(object),
        "measure": constant(None) if measure is None
        else np.asarray(list(measure), dtype=object)[keep],
        "clause": constant(str(rule.clause)),
        "clause_verified": np.full(n, rule.clause.verified is not None),
        "value_mapping": constant(None),
        "conditions": constant(rule.conditions_zh),
        "conditions_en": constant(rule.conditions_en),
        "overlap_m2": number("overlap_m2"),
        "overlap_m": number("overlap_m"),
        "overlap_share": number("overlap_share"),
        "distance_m": np.zeros(n) if prepared is not None else number("distance_m"),
        "feature_id": constant(None),
        "feature_name": constant(None),
    }
    if features is not None:
        feature = hits["feature"].astype(np.int64)
        rows["feature_id"] = features["feature_id"].to_numpy(dtype=object)[feature]
        rows["feature_name"] = features["name"].to_numpy(dtype=object)[feature]
        if rule.where:  # the superseded zone values the selection read as those in force
            rows["value_mapping"] = rule.value_mappings(features)[feature]
    # overlap findings carry the overlap itself (the engine's, where it found it whole;
    # outside findings the part outside); the others the site
    if geometry is not None:
        rows["geometry"] = geometry[keep]
    elif prepared is None:
        rows["geometry"] = run.geoms[subject]
    else:
        rows["geometry"] = hits["geometry"].copy()
        todo = np.flatnonzero(pd.isna(rows["geometry"]))
        rows["geometry"][todo] = pair_geometries(run.geoms, prepared, subject[todo],
                                                 hits["feature"][todo].astype(np.int64))
    return rows


def _repeat(value: object, n: int) -> np.ndarray:
    """``n`` references to one ``value`` (``np.full`` would copy a string into every element:
    a rule's texts, repeated over millions of findings, would fill gigabytes)."""
    out = np.empty(n, dtype=object)
    out[:] = value
    return out


# -- outputs -----------------------------------------------------------------------------------
def _findings_table(parts: list[_Columns | None], *, ids: np.ndarray,
                    order: tuple[str, ...], crs: Any) -> tuple[gpd.GeoDataFrame, _Columns]:
    """All findings, strictest first within each site, in a fixed order (sites as given, then
    severity, rule order in the ruleset, feature id) so that batch and per-site runs agree;
    and what the verdicts read of them as arrays (:data:`_VERDICT_COLUMNS`).

    ``parts`` are consumed: each column is dropped from them once gathered, and sorted in
    place, so that a million sites' findings are never held twice."""
    found = [p for p in parts if p is not None]
    parts.clear()
    if found:
        columns = _concat_columns(found)
        # sort keys from each column's distinct values (a handful of severities and rules)
        codes, uniques = pd.factorize(columns["severity"])
        rank = np.array([schema.severity_rank(v) for v in uniques])[codes]
        position = {rule_id: i for i, rule_id in enumerate(order)}
        codes, uniques = pd.factorize(columns["rule_id"])
        rule = np.array([position[v] for v in uniques])[codes]
        codes, uniques = pd.factorize(columns["feature_id"], use_na_sentinel=False)
        text = np.array(["" if pd.isna(v) else str(v) for v in uniques], dtype=object)
        feature = np.unique(text, return_inverse=True)[1][codes]
        at = np.lexsort((feature, rule, rank, columns["subject"]))
        for name, values in columns.items():
            columns[name] = values[at]
        columns["site_id"] = ids[columns["subject"]]
        codes, uniques = pd.factorize(columns["severity"])
        columns["severity_zh"] = np.array([schema.SEVERITY_LABELS[v] for v in uniques],
                                          dtype=object)[codes]
        table = _frame(columns, FINDING_COLUMNS, crs=crs)
        return table, {name: columns[name] for name in _VERDICT_COLUMNS}
    return _no_findings(id(crs), crs).copy(), _no_finding_columns()


def findings_columns(table: gpd.GeoDataFrame, *, held: np.ndarray | None = None
                     ) -> dict[str, Any]:
    """A findings table as column arrays to send between processes (:func:`concat_findings`
    puts them back together).

    Columns whose values repeat over many findings are sent as positions into their distinct
    objects, each object sent once: a rule's title, clause and conditions, a feature's id and
    name, and the geometries (a site's own is most of its findings'). Objects are told apart by
    identity, so every value comes back as it was (``None`` and NaN included). A geometry the
    receiver holds too (``held``) is sent as its position there; the others as WKB, made in
    one vectorised call where pickling calls back into Python for each geometry.

    Parameters
    ----------
    table
        :attr:`Screening.findings`.
    held
        Geometries the receiving process holds as the same objects: a forked worker's chunk of
        the caller's sites, whose own geometries are most of their findings'.

    Returns
    -------
    dict
        Column name → its values (a numpy array), or their coded form.

    Examples
    --------
    >>> from redline import datasets
    >>> from redline.planning import load_planning
    >>> from redline.rules import load_rules
    >>> sites = gpd.read_file(datasets.get_path("sites"))
    >>> table = screen_frame(sites, load_planning(), load_rules()).findings
    >>> columns = findings_columns(table)
    >>> columns["clause"].decoded().tolist() == table["clause"].tolist()
    True
    >>> type(columns["measure"]).__name__  # texts of each finding: as they are
    'ndarray'
    """
    columns: dict[str, Any] = {}
    for name in table.columns:
        values = table[name].to_numpy()
        if name == "geometry":
            columns[name] = _Coded.of(values, wkb=True, held=held)
        else:
            columns[name] = _Coded.of(values) if name in _CODED_COLUMNS else values
    return columns


@dataclass(frozen=True)
class _Coded:
    """A column as positions into its distinct objects (see :func:`findings_columns`):
    ``codes`` per row (16 bits where they fit); per distinct object, its position in the
    receiver's held array (``held_at``, -1 where it is not held); ``values`` the distinct
    objects not held, as WKB where ``wkb``."""

    codes: np.ndarray
    values: np.ndarray
    held_at: np.ndarray | None = None
    wkb: bool = False

    @classmethod
    def of(cls, values: np.ndarray, *, wkb: bool = False,
           held: np.ndarray | None = None) -> _Coded:
        """``values`` coded by object identity (geometries as WKB with ``wkb``; those in
        ``held`` as their positions there)."""
        codes, uniques = pd.factorize(_identities(values))  # hashing: no sort
        distinct = np.empty(len(uniques), dtype=object)
        distinct[codes] = values  # all rows of a code hold the same object
        held_at = None
        if held is not None:
            held_at = _positions(uniques, _identities(held))
            distinct = distinct[held_at < 0]
        small = len(uniques) <= np.iinfo(np.int16).max
        return cls(codes.astype(np.int16 if small else np.int32),
                   shapely.to_wkb(distinct) if wkb else distinct, held_at, wkb)

    def distinct(self, held: np.ndarray | None = None) -> np.ndarray:
        """The distinct objects, in code order (``held``: the array the sender named)."""
        sent = shapely.from_wkb(self.values) if self.wkb else self.values
        if self.held_at is None:
            return sent
        if held is None:
            raise ValueError("this column refers to held objects: pass the held array")
        out = np.empty(len(self.held_at), dtype=object)
        mine = self.held_at >= 0
        out[mine] = held[self.held_at[mine]]
        out[~mine] = sent
        return out

    def decoded(self, held: np.ndarray | None = None) -> np.ndarray:
        """The column: one reference per row to its value."""
        return self.distinct(held)[self.codes]


def _identities(values: np.ndarray) -> np.ndarray:
    """Each object's identity: the reference its element holds, read as an integer (CPython's
    ``id`` of the object). Read from the array's memory: ``map(id, values)`` calls back into
    Python per element, 9 ms for a chunk's 185,000 findings per column against 1 ms."""
    values = np.ascontiguousarray(values, dtype=object)  # kept alive while read
    interface = {"shape": values.shape, "typestr": np.dtype(np.intp).str,
                 "data": (values.ctypes.data, True), "version": 3}
    return np.array(types.SimpleNamespace(__array_interface__=interface), dtype=np.int64)


def _positions(ids: np.ndarray, among: np.ndarray) -> np.ndarray:
    """Where each of ``ids`` is in ``among`` (any one of its places), -1 where it is not."""
    if not len(among):
        return np.full(len(ids), -1, dtype=np.int64)
    order = np.argsort(among, kind="stable")
    at = np.minimum(np.searchsorted(among, ids, sorter=order), len(among) - 1)
    return np.where(among[order[at]] == ids, order[at], -1)


def concat_findings(parts: list[dict[str, Any]], *, crs: Any,
                    held: list[np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Findings tables sent as :func:`findings_columns` (by worker processes), end to end.

    Parameters
    ----------
    parts
        Each :func:`findings_columns` of a findings table. Consumed: each column is dropped
        from them once gathered.
    crs
        The tables' CRS (the working CRS).
    held
        Per part, the geometries it was sent against (``held=`` of :func:`findings_columns`).

    Returns
    -------
    geopandas.GeoDataFrame
        The rows of every part in order, columns :data:`FINDING_COLUMNS` and ``geometry``.

    Examples
    --------
    >>> from redline import datasets
    >>> from redline.planning import load_planning
    >>> from redline.rules import load_rules
    >>> planning, rules = load_planning(), load_rules()
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(8)
    >>> tables = [screen_frame(sites.iloc[:5], planning, rules).findings,
    ...           screen_frame(sites.iloc[5:], planning, rules).findings]
    >>> parts = [findings_columns(table) for table in tables]
    >>> both = concat_findings(parts, crs=planning.crs)
    >>> both.equals(pd.concat(tables, ignore_index=True)), both.crs == planning.crs, parts
    (True, True, [])
    """
    return _frame(_concat_columns(parts, held), FINDING_COLUMNS, crs=crs)


def _concat_columns(parts: list[dict[str, Any]],
                    held: list[np.ndarray] | None = None) -> _Columns:
    """The columns of ``parts`` end to end (a coded one decoded part by part into its place in
    the column: no codes end to end, 30 MB a column at a million sites, all fresh pages),
    dropped from the parts (``parts`` is emptied) as each is gathered, so that a million
    sites' findings are never held twice."""
    held = held if held is not None else [None] * len(parts)  # type: ignore[list-item]
    columns: _Columns = {}
    for name in list(parts[0]):
        pieces = [part.pop(name) for part in parts]
        if not isinstance(pieces[0], _Coded):
            columns[name] = np.concatenate(pieces)
            continue
        ends = np.cumsum([0, *(len(piece.codes) for piece in pieces)])
        column = np.empty(ends[-1], dtype=object)
        for piece, h, start, stop in zip(pieces, held, ends[:-1], ends[1:], strict=True):
            np.take(piece.distinct(h), piece.codes, out=column[start:stop])
        columns[name] = column
    parts.clear()
    return columns


@functools.lru_cache(maxsize=16)
def _no_findings(crs_id: int, crs: Any) -> gpd.GeoDataFrame:
    """The findings table of a batch without findings (callers copy it), per CRS object
    (``crs_id``: an equal CRS of another name is another table's)."""
    return _frame(_no_finding_columns(), FINDING_COLUMNS, crs=crs)


def _no_finding_columns() -> _Columns:
    columns = {name: np.empty(0, dtype=_FINDING_DTYPES[name])
               for name in ["subject", *FINDING_COLUMNS]}
    columns["geometry"] = np.empty(0, dtype=object)
    return columns


def _frame(columns: _Columns, names: Iterable[str], *, crs: Any) -> gpd.GeoDataFrame:
    """The ``names`` columns, with their :data:`_FINDING_DTYPES`, and the ``geometry``, without
    copying them: the dtype given keeps pandas from turning the texts into string columns, and
    one Series per column from stacking a million findings' columns into blocks (7x faster
    at 100,000 findings than stacking, and no second copy)."""
    data = {name: pd.Series(columns[name], dtype=_FINDING_DTYPES[name], copy=False)
            for name in names}
    data["geometry"] = gpd.GeoSeries(from_shapely(columns["geometry"], crs=crs), copy=False)
    return gpd.GeoDataFrame(data, geometry="geometry", copy=False)


def _with_verdicts(sites: gpd.GeoDataFrame, findings: _Columns, *, reasons: np.ndarray,
                   gaps: np.ndarray, ids: np.ndarray, types: np.ndarray) -> gpd.GeoDataFrame:
    """The caller's sites with the verdict columns: the strictest finding (the first of each
    site's, in ``findings``' columns) decides; a reason not to assess the geometry
    (``reasons``) overrides everything; missing data (``gaps``) override all but a
    ``prohibited`` finding."""
    n = len(sites)
    subject = findings["subject"]
    at, first = np.unique(subject, return_index=True)
    known = _repeat("clear", n)
    decisive = np.full(n, None, dtype=object)
    clause = np.full(n, None, dtype=object)
    known[at] = findings["severity"][first]
    decisive[at] = findings["rule_id"][first]
    clause[at] = findings["clause"][first]
    blocked = pd.notna(reasons)
    gap = pd.notna(gaps) & ~blocked & (known != "prohibited")
    verdict = known.copy()
    verdict[blocked | gap] = "not_assessed"
    decisive[blocked | gap], clause[blocked | gap] = None, None
    why = reasons.copy()
    why[gap] = gaps[gap]
    known[blocked] = None
    out = sites.copy()
    columns = {
        "site_id": ids, "project_type_used": types, "verdict": verdict,
        "verdict_zh": [schema.VERDICT_LABELS[v] for v in verdict],
        "n_findings": np.bincount(subject, minlength=n), "decisive_rule": decisive,
        "decisive_clause": clause, "not_assessed_reason": why, "known_verdict": known,
    }
    # text columns that may be all missing are object whatever the batch holds
    text = ("decisive_rule", "decisive_clause", "not_assessed_reason", "known_verdict")
    added = {}
    for name, values in columns.items():
        value = pd.Series(values, index=out.index, dtype=object) if name in text else values
        if name in out.columns or not out.index.is_unique:  # replaced where it is
            out[name] = value
        else:
            added[name] = value
    if not added:
        return out
    # new columns joined at once: adding them one by one rebuilds the column labels each time
    joined = pd.concat([out, pd.DataFrame(added, index=out.index)], axis=1)
    joined.attrs = out.attrs  # concat keeps them only where every part has the same
    joined.flags.allows_duplicate_labels = out.flags.allows_duplicate_labels
    return joined
