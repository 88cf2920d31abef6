"""What a site's review report says, gathered from a screening (no rendering here).

:func:`site_review` collects, for one site: the project and the site (id, name, type, area in
m², 公顷 and 亩, prefecture and county from the boundary layer), the verdict and the decisive
rule with its clause (and whether that clause's text was verified), the 三线 row, every finding,
the distance to the nearest feature of each planning layer kind (findings or not), the
boundary points J1…Jn in the dataset's CRS, and the run record. Every renderer reads the same
:class:`SiteReview`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redline import schema
from redline.errors import LayerError

if TYPE_CHECKING:
    from redline.screening import Screening

__all__ = ["MU_M2", "SiteReview", "site_review"]

#: Square metres in one 亩 (mu): 1 亩 = 2000/3 m² (1 公顷 = 15 亩).
MU_M2 = 2000 / 3
#: Columns of :attr:`SiteReview.findings` and their bilingual headings.
FINDING_HEADINGS = {
    "rule": "规则 rule",
    "severity": "严重程度 severity",
    "feature": "图斑 feature",
    "overlap_m2": "重叠面积 overlap m²",
    "overlap_share": "占地块比例 share of site",
    "distance_m": "距离 distance m",
    "clause": "依据条款 clause",
    "conditions": "条件与说明 conditions",
}
#: Columns of :attr:`SiteReview.nearest` and their bilingual headings.
NEAREST_HEADINGS = {
    "layer": "图层 layer",
    "distance_m": "最近距离 nearest m",
    "feature": "最近图斑 nearest feature",
}
#: Canonical fields that tell a feature's class, shown beside its name.
_CLASS_FIELDS = ("zone", "level", "corridor", "category", "subtype")


@dataclass(frozen=True)
class SiteReview:
    """Everything a site's review report shows, in the order it shows it.

    Attributes
    ----------
    site_id, name, project_type, project_type_zh
        The site; ``project_type`` is the canonical type it was judged as.
    area_m2
        Area of the site in the working CRS (equal-area unless overridden); ``nan`` without
        geometry. :attr:`area_ha` and :attr:`area_mu` convert it.
    prefecture, county
        Names from the planning's boundary layer (largest overlap), ``""`` when unknown.
    verdict, verdict_zh, reason
        The verdict, its Chinese label and, for ``not_assessed``, the reason.
    decisive_rule, decisive_title, decisive_clause, clause_verified, clause_source
        The rule that set the verdict, its title, its clause and whether the clause's text was
        checked (a date, ``None`` when not verified; the rule's source when given).
    three_lines
        The site's row of :meth:`redline.Screening.three_lines`, heading → value.
    findings
        One row per finding, columns of :data:`FINDING_HEADINGS` plus ``clause_verified``.
    nearest
        Per planning layer kind, the nearest feature and its distance (columns of
        :data:`NEAREST_HEADINGS`).
    boundary_points
        ``part``, ``ring``, ``point`` (J1…Jn), ``x``, ``y`` in the dataset's CRS (see
        :attr:`point_axes`).
    dataset_crs, point_axes
        The CRS of the sites as given, and the headings of the two coordinate columns.
    planning_name, ruleset
        What the site was screened against (``"id version"`` of the ruleset).
    comparison, evidence
        Avoidance (避让比选), when the site is one of several alternatives compared: the
        comparison table (e.g. :meth:`redline.avoidance.Route.comparison`) and the statements
        of a 不可避让论证; empty otherwise (the report then has no such section).
    record
        The run record (:func:`redline.record.run_record`) for the footer.
    site, working_geometry
        The site's row as screened and its geometry in the working CRS (for the map inset).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> review = site_review(result, "JL-0006")
    >>> review.verdict, review.decisive_rule, review.prefecture
    ('prohibited', 'NR-CORE', '延边朝鲜族自治州')
    >>> round(review.area_m2), round(review.area_ha, 2), round(review.area_mu, 1)
    (44612, 4.46, 66.9)
    """

    site_id: str
    name: str
    project_type: str
    project_type_zh: str
    area_m2: float
    prefecture: str
    county: str
    verdict: str
    verdict_zh: str
    reason: str
    decisive_rule: str
    decisive_title: str
    decisive_clause: str
    clause_verified: dt.date | None
    clause_source: str
    three_lines: Mapping[str, Any]
    findings: pd.DataFrame
    nearest: pd.DataFrame
    boundary_points: pd.DataFrame
    dataset_crs: str
    point_axes: tuple[str, str]
    planning_name: str
    ruleset: str
    comparison: pd.DataFrame = field(default_factory=pd.DataFrame)
    evidence: tuple[str, ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)
    site: gpd.GeoDataFrame = field(default_factory=gpd.GeoDataFrame, repr=False)
    working_geometry: shapely.Geometry | None = field(default=None, repr=False)

    @property
    def area_ha(self) -> float:
        """Area in 公顷 (hectares).

        Examples
        --------
        >>> dataclasses.replace(_EMPTY, area_m2=20000.0).area_ha
        2.0
        """
        return self.area_m2 / 10_000

    @property
    def area_mu(self) -> float:
        """Area in 亩 (1 亩 = 2000/3 m²).

        Examples
        --------
        >>> dataclasses.replace(_EMPTY, area_m2=2000.0).area_mu
        3.0
        """
        return self.area_m2 / MU_M2

    def project_rows(self) -> list[tuple[str, str]]:
        """The project-and-site table: bilingual heading, value.

        Returns
        -------
        list of (str, str)

        Examples
        --------
        >>> dict(dataclasses.replace(_EMPTY, area_m2=20000.0).project_rows())["面积 area"]
        '20,000.0 m² = 2.0000 公顷 ha = 30.00 亩 mu'
        """
        area = ("—" if np.isnan(self.area_m2) else
                f"{self.area_m2:,.1f} m² = {self.area_ha:.4f} 公顷 ha = {self.area_mu:.2f} 亩 mu")
        return [
            ("项目编号 site id", self.site_id),
            ("项目名称 name", self.name or "—"),
            ("项目类型 project type", f"{self.project_type_zh} {self.project_type}"),
            ("面积 area", area),
            ("所在市（州） prefecture", self.prefecture or "—"),
            ("所在县（市、区） county", self.county or "—"),
            ("规划数据 planning data", self.planning_name),
            ("规则集 ruleset", self.ruleset),
        ]

    def clause_note(self) -> str:
        """Whether the decisive clause's text was verified, in words ("" without a rule).

        Returns
        -------
        str

        Examples
        --------
        >>> dataclasses.replace(_EMPTY, decisive_rule="NR-CORE").clause_note()
        '条款文本未经核实 — clause text not verified against the text in force'
        """
        if not self.decisive_rule:
            return ""
        if self.clause_verified is None:
            return "条款文本未经核实 — clause text not verified against the text in force"
        source = f"（{self.clause_source}）" if self.clause_source else ""
        return f"条款文本已于 {self.clause_verified} 核实{source} — clause text verified"

    def record_rows(self) -> list[tuple[str, str]]:
        """The run record as footer lines: heading, value (hashes shortened to 12 digits).

        Returns
        -------
        list of (str, str)

        Examples
        --------
        >>> rows = dataclasses.replace(_EMPTY, record={"started": "2026-01-02T03:04:05+00:00",
        ...                                             "duration_s": 1.5}).record_rows()
        >>> rows[0]
        ('开始时间 started', '2026-01-02T03:04:05+00:00 (1.5 s)')
        """
        record = self.record
        if not record:
            return []
        duration = record.get("duration_s")
        rows = [("开始时间 started", f"{record.get('started') or '—'}"
                 + ("" if duration is None else f" ({duration} s)"))]
        ruleset = record.get("ruleset")
        if ruleset:
            rows.append(("规则集 ruleset", f"{ruleset['id']} {ruleset['version']}"))
        versions = record.get("versions")
        if versions:
            rows.append(("软件版本 versions",
                         ", ".join(f"{k} {v}" for k, v in versions.items())))
        if record.get("working_crs"):
            rows.append(("工作坐标系 working CRS", record["working_crs"]["name"]))
        inputs = record.get("inputs", {})
        files = [("manifest", inputs.get("manifest")), ("sites", inputs.get("sites")),
                 *(("rules", e) for e in inputs.get("rules", ())),
                 *((kind, e) for kind, entries in inputs.get("planning", {}).items()
                   for e in entries)]
        for kind, entry in files:
            if entry:
                where = entry.get("path") or "(in memory)"
                rows.append((f"sha256 {kind}", f"{entry['sha256'][:12]}… {where}"))
        options = {k: v for k, v in record.get("options", {}).items() if v not in (None, [])}
        rows.append(("选项 options", ", ".join(f"{k}={v}" for k, v in options.items()) or "—"))
        return rows


def site_review(screening: Screening, site_id: str,
                record: Mapping[str, Any] | None = None, *,
                comparison: pd.DataFrame | None = None,
                evidence: Sequence[str] = ()) -> SiteReview:
    """Gather what the report on one site of a screening shows.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.
    site_id
        The site.
    record
        The run record for the footer; default :func:`redline.record.screening_record`.
    comparison, evidence
        The alternatives compared and the statements of the evidence, for the report's
        avoidance section (see :class:`SiteReview`); none by default.

    Returns
    -------
    SiteReview

    Raises
    ------
    LayerError
        No site has this ``site_id``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> review = site_review(result, "JL-0006")
    >>> review.findings["overlap_m2"].tolist()
    [44611.7, 44611.7, 44611.7, 44611.7, 44611.7]
    >>> review.findings["rule"].str.split().str[0].tolist()
    ['NR-CORE', 'FOREST-LEVEL1', 'ZON-PROHIBITED', 'ECO-REDLINE', 'SCN-PROTECTED']
    >>> review.boundary_points.iloc[0]["point"]
    'J1'
    """
    from redline.record import screening_record

    sites = screening.sites
    rows = np.flatnonzero(sites["site_id"].astype(str).to_numpy() == str(site_id))
    if not len(rows):
        raise LayerError(f"no site {site_id!r} in this screening; its site_ids run "
                         f"{sites['site_id'].iloc[0]!r} … {sites['site_id'].iloc[-1]!r}")
    site = sites.iloc[rows[:1]]
    row = site.iloc[0]
    one = _one_site(screening, site)
    geometry = site.geometry.iloc[0]
    working = None
    if geometry is not None and not geometry.is_empty:
        working = site.geometry.to_crs(screening.planning.crs).iloc[0]
    area = float(shapely.area(working)) if working is not None else float("nan")
    prefecture, county = _places(screening, working)
    rule_id = row.get("decisive_rule")
    rule = screening.rules[rule_id] if isinstance(rule_id, str) and rule_id else None
    clause = rule.clause if rule is not None else None
    three = one.three_lines()
    project_type = str(row.get("project_type_used") or schema.GENERAL_CONSTRUCTION)
    axes, points = _boundary_points(geometry, site.crs)
    return SiteReview(
        site_id=str(row["site_id"]),
        name=_text(row.get("name")),
        project_type=project_type,
        project_type_zh=schema.PROJECT_TYPES.get(project_type, project_type),
        area_m2=area,
        prefecture=prefecture,
        county=county,
        verdict=str(row["verdict"]),
        verdict_zh=str(row["verdict_zh"]),
        reason=_text(row.get("not_assessed_reason")),
        decisive_rule=rule.id if rule is not None else "",
        decisive_title=" / ".join(t for t in (rule.title_zh, rule.title_en) if t) if rule else "",
        decisive_clause=_text(row.get("decisive_clause")),
        clause_verified=getattr(clause, "verified", None),
        clause_source=str(getattr(clause, "source", "") or ""),
        three_lines={str(k): v for k, v in three.iloc[0].items()} if len(three) else {},
        findings=_findings(one),
        nearest=_nearest(screening, working),
        boundary_points=points,
        dataset_crs=site.crs.name if site.crs is not None else "",
        point_axes=axes,
        planning_name=screening.planning.name,
        ruleset=f"{screening.rules.id} {screening.rules.version}",
        comparison=comparison if comparison is not None else pd.DataFrame(),
        evidence=tuple(evidence),
        record=record if record is not None else screening_record(screening),
        site=site,
        working_geometry=working,
    )


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value)


def _one_site(screening: Screening, site: gpd.GeoDataFrame) -> Screening:
    """The screening restricted to one site (for the tables computed per screening)."""
    findings = screening.findings
    return dataclasses.replace(
        screening, sites=site,
        findings=findings[findings["site_id"].astype(str) == str(site["site_id"].iloc[0])],
        layer_overlaps=screening.layer_overlaps.loc[site.index],
    )


def _places(screening: Screening, geometry: shapely.Geometry | None) -> tuple[str, str]:
    """Prefecture and county holding most of the site, from the boundary layer."""
    boundary = screening.planning.get("boundary")
    if boundary is None or geometry is None:
        return "", ""
    found = []
    for level in ("prefecture", "county"):
        layer = boundary[boundary["level"] == level]
        hits = layer.iloc[layer.sindex.query(geometry, predicate="intersects")]
        if not len(hits):
            found.append("")
            continue
        shares = shapely.area(shapely.intersection(hits.geometry.to_numpy(), geometry))
        names = hits["name"] if "name" in hits else hits["feature_id"]
        found.append(str(names.iloc[int(np.argmax(shares))]))
    return found[0], found[1]


def _findings(screening: Screening) -> pd.DataFrame:
    """The findings as a reviewer reads them: rule and title, feature, measures, clause."""
    f = screening.findings

    def joined(*columns: str) -> list[str]:
        return [" ".join(_text(v) for v in values if _text(v))
                for values in zip(*(f[c] if c in f else [""] * len(f) for c in columns),
                                  strict=True)]

    verified = f["clause_verified"] if "clause_verified" in f else pd.Series(pd.NA, f.index)
    table = pd.DataFrame({
        "rule": joined("rule_id", "rule_title"),
        "severity": joined("severity_zh", "severity"),
        "feature": joined("layer", "feature_id", "feature_name"),
        "overlap_m2": f["overlap_m2"].to_numpy(dtype=float).round(1),
        "overlap_share": f["overlap_share"].to_numpy(dtype=float),
        "distance_m": f["distance_m"].to_numpy(dtype=float).round(1),
        "clause": f["clause"].to_numpy(dtype=object),
        "conditions": joined("conditions", "conditions_en"),
        "clause_verified": verified.to_numpy(dtype=object),
    })
    return table.reset_index(drop=True)


def _nearest(screening: Screening, geometry: shapely.Geometry | None) -> pd.DataFrame:
    """Per vector layer kind (not the boundary), the nearest feature and its distance."""
    rows = []
    planning = screening.planning
    for kind in planning.kinds:
        if kind in planning.rasters or kind == "boundary":
            continue
        spec = schema.LAYER_SPECS.get(kind)
        label = f"{spec.label_zh} {spec.label_en}" if spec is not None else kind
        layer = planning[kind]
        distance, feature = float("nan"), "—"
        if geometry is not None and len(layer):
            (_, (i,)), (d,) = layer.sindex.nearest(geometry, return_distance=True,
                                                   return_all=False)
            distance, feature = float(d), _feature_label(layer.iloc[int(i)])
        rows.append({"kind": kind, "layer": label, "distance_m": round(distance, 1),
                     "feature": feature})
    return pd.DataFrame(rows, columns=["kind", *NEAREST_HEADINGS])


def _feature_label(feature: pd.Series) -> str:
    classes = [str(feature[c]) for c in _CLASS_FIELDS
               if c in feature and _text(feature[c])]
    parts = [_text(feature.get("feature_id")), _text(feature.get("name"))]
    label = " ".join(p for p in parts if p)
    return f"{label} ({', '.join(classes)})" if classes else label


def _boundary_points(geometry: shapely.Geometry | None, crs: Any
                     ) -> tuple[tuple[str, str], pd.DataFrame]:
    """J1…Jn per ring in the dataset's CRS: X is the northing and Y the easting (Chinese
    surveying convention) in a projected CRS; latitude and longitude in a geographic one."""
    geographic = crs is not None and crs.is_geographic
    axes = (("纬度 latitude", "经度 longitude") if geographic
            else ("X (北 northing)", "Y (东 easting)"))
    columns = ["part", "ring", "point", "x", "y"]
    if geometry is None or geometry.is_empty:
        return axes, pd.DataFrame(columns=columns)
    rows = []
    for part_no, part in enumerate(getattr(geometry, "geoms", [geometry]), start=1):
        rings = ([part.exterior, *part.interiors] if part.geom_type == "Polygon"
                 else [part])
        number = 0
        for ring_no, ring in enumerate(rings, start=1):
            coords = np.asarray(ring.coords)[:, :2]
            if ring.geom_type == "LinearRing":
                coords = coords[:-1]  # the closing point repeats J1
            for east, north in coords:
                number += 1
                rows.append((part_no, ring_no, f"J{number}", north, east))
    return axes, pd.DataFrame(rows, columns=columns)


_EMPTY = SiteReview(
    site_id="", name="", project_type="", project_type_zh="", area_m2=0.0, prefecture="",
    county="", verdict="clear", verdict_zh="", reason="", decisive_rule="", decisive_title="",
    decisive_clause="", clause_verified=None, clause_source="", three_lines={},
    findings=pd.DataFrame(), nearest=pd.DataFrame(), boundary_points=pd.DataFrame(),
    dataset_crs="", point_axes=("", ""), planning_name="", ruleset="",
)
