"""Tables and files a reviewer reads: the verdict summary, the 三线 table, GeoPackage and CSV.

Everything here reads a :class:`~redline.screening.Screening`; nothing recomputes geometry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redline import schema
from redline.io import staged, write_layer
from redline.overlay import SLIVER_WIDTH_M, SLIVER_WIDTH_MAX_M
from redline.record import screening_record, write_record
from redline.screening import OUTSIDE_TOLERANCE
from redline.sites import write_sites

if TYPE_CHECKING:
    from redline.planning import Planning
    from redline.rules import RuleSet
    from redline.screening import Screening

__all__ = [
    "BOUNDARY_POINTS_FILE",
    "OUTPUT_FILES",
    "assessment_table",
    "per_site_tables",
    "planning_provenance",
    "provenance",
    "three_lines_table",
    "write_screening",
]

#: Files :func:`write_screening` writes, by role.
OUTPUT_FILES = {
    "geopackage": "screening.gpkg",
    "sites": "sites.csv",
    "findings": "findings.csv",
    "three_lines": "three_lines.csv",
    "summary": "summary.csv",
    "record": "run.json",
    "assessment": "assessment.csv",
}
#: The sites as a boundary-point coordinate file, written on request.
BOUNDARY_POINTS_FILE = "sites.txt"
#: CSVs carry a byte-order mark so that Excel on Chinese Windows reads them as UTF-8.
CSV_ENCODING = "utf-8-sig"

_YES, _NO = "是 yes", "否 no"
_NOT_ASSESSED, _NO_LAYER = "未评估 not assessed", "无图层 no layer"
#: Square metres in one 亩 (mu) and one 公顷 (hectare).
MU_M2, HA_M2 = 2000 / 3, 10_000.0
#: Controlled layers in the 三线 table besides the three lines, cultivated and forest land:
#: column key of :attr:`~redline.screening.Screening.layer_overlaps` → label.
_OTHER_CONTROLLED = {
    "reserves": "自然保护区 nature reserve",
    "water_sources": "饮用水水源保护区 water source zone",
    "scenic": "风景名胜区/森林公园 scenic area",
    "prohibited_zone": "禁止开发区域 prohibited zone",
    "national_parks": "国家公园 national park",
    "heritage": "文物保护范围/建设控制地带 heritage zone",
    "river_management": "河湖管理范围 river management zone",
    "geohazard_danger": "地质灾害危险区 geohazard danger zone",
    "ecological_barrier": "生态屏障/绿心 ecological barrier",
}
_URBAN = {"inside": "内 inside", "outside": "外 outside", "partly": "部分在外 partly outside"}


def three_lines_table(screening: Screening) -> pd.DataFrame:
    """The 三线 table reviewers expect: per site, the three control lines (生态保护红线,
    永久基本农田, 城镇开发边界), cultivated and forest land, and other controlled land.

    Measures are the site's overlap with each layer as drawn, whatever the rules decide (an
    exempt project type still occupies the layer), counted once where features overlap.
    Occupation is "是" for any overlap of any geometry: polygons show the area (m² to 0.01,
    公顷, 亩 with 1 亩 = 2000/3 m²), lines the length in m, points the number of points inside.
    Other controlled land is the area of the union of those layers.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``screening.sites``; bilingual column names. Sites that were not assessed
        read "未评估 not assessed" and have blank measures, never 0; measures of another
        geometry type (the area of a line) are blank; a layer the planning lacks reads
        "无图层 no layer" (or blank).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> table = three_lines_table(screen(gpd.read_file(datasets.get_path("sites")).head(8)))
    >>> table[["项目编号 site_id", "占用红线面积 red line m²", "占用红线面积 red line 亩"]].tail(3)
      项目编号 site_id  占用红线面积 red line m²  占用红线面积 red line 亩
    5      JL-0006             44611.65             66.92
    6      JL-0007             17229.81             25.84
    7      JL-0008              5887.94              8.83
    """
    sites = screening.sites
    overlaps = screening.layer_overlaps.copy()
    assessed = sites["verdict"].to_numpy() != "not_assessed"
    overlaps.loc[~assessed] = np.nan  # no measure beside "not assessed": 0 would read as none
    dim = shapely.get_dimensions(np.asarray(sites.geometry.values))
    columns: dict[str, object] = {
        "项目编号 site_id": sites["site_id"].to_numpy(),
        "项目名称 name": sites["name"].to_numpy() if "name" in sites else None,
        "结论 verdict": (sites["verdict_zh"].astype(str) + " "
                       + sites["verdict"].astype(str)).to_numpy(),
        "已知结论 known verdict": _known(sites),
    }

    def measures(values: np.ndarray, area: str, length: str = "", points: str = "") -> None:
        """Area ``"<area> m²"`` (and 公顷, 亩) of polygon sites, length of lines, points."""
        polygon = np.where(dim == 2, values, np.nan)
        columns[f"{area} m²"] = np.round(polygon, 2)
        columns[f"{area} 公顷 ha"] = np.round(polygon / HA_M2, 4)
        columns[f"{area} 亩"] = np.round(polygon / MU_M2, 2)
        if length:
            columns[length] = np.round(np.where(dim == 1, values, np.nan), 2)
        if points:
            columns[points] = np.where(dim == 0, values, np.nan)

    def occupied(values: np.ndarray) -> np.ndarray:
        labels = np.where(values > 0, _YES, _NO).astype(object)
        labels[np.isnan(values)] = _NO_LAYER
        labels[~assessed] = _NOT_ASSESSED
        return labels

    for key, occupies, zh, en in (
        ("redlines", "占用生态保护红线 occupies red line", "红线", "red line"),
        ("farmland", "占用永久基本农田 occupies basic farmland", "农田", "farmland"),
    ):
        values = overlaps[key].to_numpy(dtype=float)
        columns[occupies] = occupied(values)
        measures(values, f"占用{zh}面积 {en}", f"占用{zh}长度 {en} length m",
                 f"{zh}内点数 {en} points")
    inside = overlaps["urban_boundary"].to_numpy(dtype=float)
    own = overlaps["site_measure"].to_numpy(dtype=float)
    outside = np.maximum(own - inside, 0.0)
    tolerance = np.where(dim == 0, 0.5, OUTSIDE_TOLERANCE)
    status = np.where(outside <= tolerance, _URBAN["inside"],
                      np.where(inside <= tolerance, _URBAN["outside"], _URBAN["partly"]))
    status = status.astype(object)
    status[np.isnan(inside)] = _NO_LAYER
    status[~assessed] = _NOT_ASSESSED
    columns["城镇开发边界 urban development boundary"] = status
    measures(outside, "开发边界外面积 outside the boundary",
             "开发边界外长度 outside the boundary length m", "开发边界外点数 points outside")
    measures(overlaps["cultivated_land"].to_numpy(dtype=float), "占用耕地面积 cultivated land")
    measures(overlaps["forest_land"].to_numpy(dtype=float), "占用林地面积 forest land")
    others = overlaps[list(_OTHER_CONTROLLED)].to_numpy(dtype=float)
    names = np.array(list(_OTHER_CONTROLLED.values()), dtype=object)
    columns["涉及其他管控图层 other controlled layers"] = [
        "; ".join(names[np.nan_to_num(row) > 0]) if row_assessed else _NOT_ASSESSED
        for row, row_assessed in zip(others, assessed, strict=True)
    ]
    measures(overlaps["other_controlled"].to_numpy(dtype=float), "其他管控面积 other controlled")
    return pd.DataFrame(columns, index=sites.index)


def planning_provenance(planning: Planning) -> dict[str, str]:
    """How every output names a one map: ``planning`` (its name) and ``illustrative``
    (``"yes"`` for the bundled sample or a manifest saying so).

    Parameters
    ----------
    planning
        The one map.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> from redline.planning import load_planning
    >>> planning_provenance(load_planning())["illustrative"]
    'yes'
    """
    return {
        "planning": planning.name or "(unnamed one map)",
        "illustrative": "yes" if getattr(planning, "illustrative", False) else "no",
    }


def provenance(screening: Screening) -> dict[str, str]:
    """What a screening was made against, as every output names it: the one map and the
    ruleset.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.

    Returns
    -------
    dict of str to str
        ``planning`` (the one map's name), ``illustrative`` (``"yes"`` for the bundled sample
        or a manifest saying so) and ``ruleset`` (id and version). ``summary.csv`` carries
        them as columns, the GeoPackage as metadata of its layers.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> about = provenance(screen(gpd.read_file(datasets.get_path("sites")).head(1)))
    >>> about["illustrative"], about["ruleset"]
    ('yes', 'jilin 2.0')
    """
    rules = screening.rules
    return {**planning_provenance(screening.planning), "ruleset": f"{rules.id} {rules.version}"}


def per_site_tables(screening: Screening) -> dict[str, pd.DataFrame]:
    """The CSV tables of a screening that hold rows per site or finding — ``sites``,
    ``findings`` and ``three_lines`` — each ending with the :func:`provenance` columns, so that
    a table read on its own still names the one map and the ruleset.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.

    Returns
    -------
    dict of str to pandas.DataFrame
        Role (as in :data:`OUTPUT_FILES`) → table, without geometry.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> tables = per_site_tables(screen(gpd.read_file(datasets.get_path("sites")).head(2)))
    >>> tables["findings"].columns[-3:].tolist(), tables["sites"]["ruleset"].iloc[0]
    (['planning', 'illustrative', 'ruleset'], 'jilin 2.0')
    """
    about = provenance(screening)
    sites = pd.DataFrame(screening.sites).reset_index(drop=True)
    tables = {
        "sites": sites.drop(columns=screening.sites.geometry.name),
        "findings": pd.DataFrame(screening.findings.drop(columns="geometry")),
        "three_lines": screening.three_lines(),
    }
    return {role: table.assign(**about) for role, table in tables.items()}


def _known(sites: pd.DataFrame) -> np.ndarray:
    """What the findings in hand say, in both languages (blank where nothing was assessed)."""
    known = sites["known_verdict"] if "known_verdict" in sites else sites["verdict"]
    return np.array([f"{schema.VERDICT_LABELS[v]} {v}" if isinstance(v, str) else None
                     for v in known], dtype=object)


def assessment_table(
    planning: Planning, rules: RuleSet, disabled: Sequence[str] = ()
) -> pd.DataFrame:
    """What a screening assessed against, for its output folder (``assessment.csv``): the one
    map and the ruleset, the working CRS and why, the layers loaded, declared absent and
    missing, the rules disabled and the overlap tolerance.

    Parameters
    ----------
    planning, rules, disabled
        The screening's :attr:`~redline.screening.Screening.planning`, ``rules`` and
        ``disabled``.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` and ``value`` (lists joined by ", ", empty when there is none).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(3), disable=["SLOPE-*"])
    >>> table = assessment_table(result.planning, result.rules, result.disabled)
    >>> table.set_index("item").loc["rules_disabled", "value"]
    'SLOPE-STEEP, SLOPE-CULTIVATION'
    """
    needed = {rule.layer for rule in rules} - {"corridors"}
    if any(rule.layer == "corridors" for rule in rules):
        needed |= {key.split(".")[0] for key in rules.corridor_half_widths_m}
    order = [*schema.VECTOR_KINDS, *schema.RASTER_KINDS]
    missing = [k for k in order if k in needed and k not in planning and k not in planning.absent]
    rows = {
        "planning": planning_provenance(planning)["planning"],
        "ruleset": f"{rules.id} {rules.version}",
        "working_crs": planning.crs.name,
        "working_crs_reason": planning.crs_reason,
        "layers": ", ".join(planning.kinds),
        "declared_absent": ", ".join(k for k in order if k in planning.absent),
        "missing_layers": ", ".join(missing),
        "rules_disabled": ", ".join(disabled),
        "sliver_width_m": str(SLIVER_WIDTH_M),
        "sliver_width_max_m": str(SLIVER_WIDTH_MAX_M),
    }
    return pd.DataFrame({"item": list(rows), "value": list(rows.values())})


def write_screening(
    screening: Screening, directory: str | Path, *, boundary_points: bool = False
) -> dict[str, Path]:
    """Write a screening's outputs into ``directory`` (created if needed), each atomically.

    ``run.json`` records the run (:func:`redline.record.screening_record`). The files are
    staged and moved into place together (:func:`redline.io.staged`): a failure
    leaves earlier outputs in ``directory`` as they were. CSVs are UTF-8 with a byte-order mark
    (:data:`CSV_ENCODING`) so that Excel reads the Chinese text. Every CSV but
    ``assessment.csv`` ends with columns naming the one map and the ruleset, and the
    GeoPackage's layer metadata holds them (:func:`provenance`).

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.
    directory
        Output folder.
    boundary_points
        Also write the sites as a boundary-point coordinate file (role ``boundary_points``,
        :data:`BOUNDARY_POINTS_FILE`; see :func:`redline.sites.write_sites`).

    Returns
    -------
    dict
        Role → path, for the roles of :data:`OUTPUT_FILES` (and ``boundary_points``).

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> paths = write_screening(result, Path(tempfile.mkdtemp()) / "run")
    >>> paths["three_lines"].name, len(pd.read_csv(paths["sites"], encoding=CSV_ENCODING))
    ('three_lines.csv', 8)
    """
    directory = Path(directory)
    sites = gpd.GeoDataFrame(screening.sites).reset_index(drop=True)
    about = provenance(screening)
    tables = {
        **per_site_tables(screening),
        "summary": screening.summary().assign(**about),
        "assessment": assessment_table(screening.planning, screening.rules, screening.disabled),
    }
    with staged(directory) as folder:  # all files move into place together, or none
        gpkg = folder / OUTPUT_FILES["geopackage"]
        write_layer(sites, gpkg, layer="sites", metadata=about)
        write_layer(screening.findings, gpkg, layer="findings", metadata=about)
        for role, table in tables.items():
            write_layer(table, folder / OUTPUT_FILES[role], encoding=CSV_ENCODING)
        write_record(screening_record(screening), folder)  # run.json, GeoPackage metadata
        written = dict(OUTPUT_FILES)
        if boundary_points:
            write_sites(screening.sites, folder / BOUNDARY_POINTS_FILE)
            written["boundary_points"] = BOUNDARY_POINTS_FILE
    return {role: directory / name for role, name in written.items()}
