"""The seed's targets per administrative unit, computed from the one map.

Beyond site rules, the 2014 Jilin opinions (吉政办发〔2014〕32号 一(三)) set measurable targets.
:func:`indicators` computes, for every unit of the boundary layer at one level, each indicator
the one map can answer — forest cover, the effective protection of natural wetland, the share
under each main-function zone and each control line — with its target, whether it is met, the
clause and the data used. An indicator the data cannot answer is ``not_assessed`` with what is
missing, never a made-up number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redline import schema
from redline.errors import LayerError
from redline.planning import Planning, as_planning
from redline.raster import landcover_shares

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "INDICATORS", "INDICATOR_COLUMNS", "LEVELS", "Indicator", "indicator_chart", "indicators",
    "units",
]

#: Boundary levels :func:`indicators` reports on (``"all"``: every unit).
LEVELS = ("province", "prefecture", "county", "all")
#: Columns of the table :func:`indicators` returns.
INDICATOR_COLUMNS = (
    "unit_id", "unit", "level", "indicator", "indicator_zh", "value", "target", "met", "status",
    "clause", "clause_verified", "data_used", "note",
)
#: Share of a unit the land-cover raster must cover for land-cover indicators (as screening).
_FULL_COVERAGE = 0.999

_SEED = "《关于吉林省生态城镇化的实施意见》（吉林省人民政府办公厅，吉政办发〔2014〕32号）一(三)"
_SEED_NOTE = ("target as the project's issue #18 references it; the paragraph's wording could "
              "not be retrieved (only the document's identity and headings were read), so the "
              "target must be checked against the gazetted text")
_ZONING_PLAN = "《全国主体功能区规划》（国发〔2010〕46号）"
_THREE_LINES = "《关于在国土空间规划中统筹划定落实三条控制线的指导意见》（厅字〔2019〕48号）"


@dataclass(frozen=True)
class Indicator:
    """One indicator: its names, target and the clause that sets it.

    Attributes
    ----------
    id, label_zh
        Identifier and Chinese name.
    target
        The share to reach (``None``: descriptive, no target).
    clause, clause_verified, clause_note
        Where the target is set, whether its wording was read, and why not.
    formula
        How the value is computed.

    Examples
    --------
    >>> INDICATORS["forest_cover"].target
    0.45
    """

    id: str
    label_zh: str
    target: float | None
    clause: str
    clause_verified: bool
    clause_note: str
    formula: str


def _shares(prefix: str, kinds: Mapping[str, str], clause: str, formula: str
            ) -> dict[str, Indicator]:
    return {f"{prefix}_{kind}": Indicator(f"{prefix}_{kind}", label, None, clause, False,
                                          "a descriptive share, no target", formula)
            for kind, label in kinds.items()}


#: The indicators, by id.
INDICATORS: Mapping[str, Indicator] = {
    "forest_cover": Indicator(
        "forest_cover", "森林覆盖率", 0.45, _SEED, False, _SEED_NOTE,
        "forest area (land cover, exact pixel fractions) ÷ the unit's area"),
    "natural_wetland_protection": Indicator(
        "natural_wetland_protection", "自然湿地有效保护率", 0.56, _SEED, False, _SEED_NOTE,
        "natural wetland (land cover) inside nature reserves, national parks, ecological red "
        "lines or wetland parks ÷ all natural wetland in the unit"),
    "builtup_green_space": Indicator(
        "builtup_green_space", "建成区绿地率", 0.38, _SEED, False, _SEED_NOTE,
        "green space inside the built-up area (建成区) ÷ the built-up area"),
    **_shares("zone_share", {zone: f"{label}面积占比" for zone, label in (
        ("key", "重点开发区域"), ("restricted", "限制开发区域"), ("prohibited", "禁止开发区域"),
        ("optimized", "优化开发区域"), ("unzoned", "未划主体功能区"))},
        _ZONING_PLAN, "area under the zone class ÷ the unit's area"),
    **_shares("control_share", {"redlines": "生态保护红线面积占比",
                                "farmland": "永久基本农田面积占比",
                                "urban_boundary": "城镇开发边界面积占比"},
              _THREE_LINES, "area inside the layer's features ÷ the unit's area"),
}


def units(planning: Planning, *, by: str = "prefecture") -> gpd.GeoDataFrame:
    """The boundary layer's units at level ``by`` (working CRS).

    Parameters
    ----------
    planning
        The one map; it needs a ``boundary`` layer.
    by
        ``"province"``, ``"prefecture"``, ``"county"`` or ``"all"``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``feature_id``, ``name``, ``level`` and geometry of each unit.

    Raises
    ------
    LayerError
        No boundary layer, an unknown level, or no unit at that level.

    Examples
    --------
    >>> units(as_planning(None))["name"].head(3).tolist()
    ['长春市', '吉林市', '四平市']
    """
    if by not in LEVELS:
        raise LayerError(f"by={by!r} is not a boundary level; use one of {list(LEVELS)}")
    if "boundary" not in planning:
        raise LayerError("indicators are computed per unit of the boundary layer, and the "
                         "planning has none; add a [layers.boundary] with the units' outlines")
    layer = planning["boundary"]
    level = layer["level"] if "level" in layer.columns else pd.Series(None, index=layer.index)
    chosen = layer if by == "all" else layer[(level == by).to_numpy()]
    if chosen.empty:
        present = sorted({str(v) for v in level.dropna()}) or ["none"]
        raise LayerError(f"the boundary layer has no {by}-level unit (levels present: "
                         f"{present}); choose by= one of those, or 'all'")
    return gpd.GeoDataFrame({"feature_id": chosen["feature_id"].to_numpy(),
                             "name": chosen["name"].to_numpy(),
                             "level": level[chosen.index].to_numpy()},
                            geometry=chosen.geometry.to_numpy(), crs=planning.crs)


def indicators(planning: Planning | None = None, *, by: str = "prefecture") -> pd.DataFrame:
    """Every indicator of :data:`INDICATORS` for every unit at level ``by``.

    Areas are measured in the planning's working CRS, land cover with exact pixel fractions
    (as screening does). A unit whose data are missing or do not cover it gets the row with
    ``status`` ``not_assessed``, no value and the reason in ``note``. When only some of the
    layers a share counts are present, the value is a lower bound: a target it reaches is met,
    one it misses is unknown (``met`` empty) and the note names the missing layers.

    Parameters
    ----------
    planning
        The one map (default: the bundled illustrative sample); it needs a boundary layer.
    by
        The units' level: ``"province"``, ``"prefecture"``, ``"county"`` or ``"all"``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INDICATOR_COLUMNS`: one row per unit and indicator; ``value`` and
        ``target`` are shares (0–1).

    Raises
    ------
    LayerError
        See :func:`units`.

    Examples
    --------
    >>> table = indicators(by="province")  # the bundled illustrative sample
    >>> row = table.set_index("indicator").loc["forest_cover"]
    >>> row["unit"], round(float(row["value"]), 3), float(row["target"]), row["met"]
    ('吉林省', 0.476, 0.45, True)
    """
    planning = as_planning(planning)
    found = units(planning, by=by)
    area = found.area.to_numpy()
    rows: list[dict[str, object]] = []
    rows += _landcover_rows(found, area, planning)
    rows += _zone_rows(found, planning)
    rows += _control_rows(found, area, planning)
    table = pd.DataFrame(rows, columns=[c for c in INDICATOR_COLUMNS if c not in (
        "indicator_zh", "target", "clause", "clause_verified")] + ["position"])
    order = {name: i for i, name in enumerate(INDICATORS)}
    table = table.sort_values(["position", "indicator"], key=lambda c: c.map(order)
                              if c.name == "indicator" else c, kind="stable")
    spec = [INDICATORS[name] for name in table["indicator"]]
    table["indicator_zh"] = [s.label_zh for s in spec]
    table["target"] = [np.nan if s.target is None else s.target for s in spec]
    table["clause"] = [s.clause for s in spec]
    table["clause_verified"] = [s.clause_verified for s in spec]
    table["note"] = [_join(note, s.clause_note) for note, s in zip(table["note"], spec,
                                                                    strict=True)]
    return table[list(INDICATOR_COLUMNS)].reset_index(drop=True)


def indicator_chart(table: pd.DataFrame, indicator: str) -> Figure:
    """Bar chart of one indicator per unit against its target.

    Parameters
    ----------
    table
        The result of :func:`indicators`.
    indicator
        One of its indicators.

    Returns
    -------
    matplotlib.figure.Figure
        Bars per unit (hatched grey where not assessed), the target as a dashed line.

    Raises
    ------
    LayerError
        ``indicator`` is not in ``table``.

    Examples
    --------
    >>> figure = indicator_chart(indicators(), "forest_cover")
    >>> figure.axes[0].get_title()
    '森林覆盖率 forest_cover'
    """
    from matplotlib import font_manager
    from matplotlib.figure import Figure

    installed = {font.name for font in font_manager.fontManager.ttflist}
    fonts = [name for name in _CJK_FONTS if name in installed] + ["DejaVu Sans"]
    rows = table[table["indicator"] == indicator]
    if rows.empty:
        raise LayerError(f"indicator {indicator!r} is not in the table; it holds "
                         f"{sorted(set(table['indicator']))}")
    figure = Figure(figsize=(max(4.0, 0.6 * len(rows) + 1.5), 3.2), layout="constrained")
    axes = figure.subplots()
    values = rows["value"].to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    colours = ["#1a9850" if m is True else "#d73027" if m is False else "#969696"
               for m in rows["met"]]
    axes.bar(range(len(rows)), np.where(missing, 0, values) * 100, color=colours)
    axes.bar(np.flatnonzero(missing), np.full(missing.sum(), 2.0), color="none",
             edgecolor="#969696", hatch="//", label="未评估 not assessed")
    target = rows["target"].dropna()
    if len(target):
        axes.axhline(float(target.iloc[0]) * 100, color="#333333", linestyle="--",
                     label=f"目标 target {float(target.iloc[0]):.0%}")
    axes.set_xticks(range(len(rows)), [str(u) for u in rows["unit"]], rotation=45, ha="right",
                    fontfamily=fonts)
    axes.set_ylabel("%")
    axes.set_title(f"{rows['indicator_zh'].iloc[0]} {indicator}", fontfamily=fonts)
    if missing.any() or len(target):
        axes.legend(prop={"family": fonts, "size": 8})
    return figure


#: Font families used for Chinese text in charts where installed (Debian's Noto CJK, Windows'
#: YaHei / SimHei), before matplotlib's default.
_CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Microsoft YaHei", "SimHei",
              "WenQuanYi Zen Hei")


# -- indicators ------------------------------------------------------------------------------
def _row(unit: pd.Series, position: int, indicator: str, value: float | None, *,
         data_used: str, note: str = "", lower_bound: bool = False) -> dict[str, object]:
    spec = INDICATORS[indicator]
    if value is None or not np.isfinite(value):
        met, status, value = None, "not_assessed", np.nan
    else:
        status = "assessed"
        met = None if spec.target is None else bool(value >= spec.target - 1e-12)
        if lower_bound and met is False:
            met = None
    return {"unit_id": unit["feature_id"], "unit": unit["name"], "level": unit["level"],
            "indicator": indicator, "value": value, "met": met, "status": status,
            "data_used": data_used, "note": note, "position": position}


def _landcover_rows(found: gpd.GeoDataFrame, area: np.ndarray,
                    planning: Planning) -> list[dict[str, object]]:
    """Forest cover, natural-wetland protection and the built-up green-space rate."""
    rows = []
    raster = planning.rasters.get("landcover")
    protective, missing = _protected_area(planning)
    if raster is not None:
        whole = landcover_shares(found.geometry, raster, crs=planning.crs)
        inside = shapely.intersection(found.geometry.to_numpy(), protective)
        guarded = landcover_shares(gpd.GeoSeries(inside, crs=planning.crs), raster,
                                   crs=planning.crs)
    for i, unit in found.iterrows():
        position = int(np.flatnonzero(found.index == i)[0])
        if raster is None:
            for name in ("forest_cover", "natural_wetland_protection"):
                rows.append(_row(unit, position, name, None, data_used="",
                                 note="needs the landcover raster, which the planning lacks"))
        else:
            coverage = float(whole["coverage"].iloc[position])
            short = (f"the landcover raster covers only {coverage:.1%} of the unit"
                     if coverage < _FULL_COVERAGE else "")
            share = whole.iloc[position]
            forest = share.get("share_forest", 0.0) * coverage * area[position]
            rows.append(_row(unit, position, "forest_cover",
                             None if short else forest / area[position],
                             data_used="landcover (forest); boundary", note=short))
            wetland = share.get("share_wetland", 0.0) * coverage * area[position]
            kept = guarded.iloc[position]
            protected = (0.0 if inside[position].is_empty else
                         kept.get("share_wetland", 0.0) * kept["coverage"]
                         * inside[position].area)
            note = short or ("no natural wetland in the unit" if wetland == 0 else "")
            if missing and not note:
                note = (f"lower bound: the {', '.join(missing)} layer(s) that protect wetland "
                        "are missing")
            rows.append(_row(unit, position, "natural_wetland_protection",
                             None if note and not note.startswith("lower") else
                             protected / wetland,
                             data_used="landcover (wetland); " + ", ".join(
                                 k for k in _PROTECTIVE if k in planning),
                             note=note, lower_bound=bool(missing)))
        rows.append(_row(unit, position, "builtup_green_space", None, data_used="",
                         note="needs the built-up area (建成区) outline and urban green space "
                              "(城市绿地) data, which are not layers of the one map; a 30 m land "
                              "cover cannot see urban parks"))
    return rows


#: Layers whose features count as protecting natural wetland, with the features that do.
_PROTECTIVE: Mapping[str, tuple[str, str] | None] = {
    "reserves": None, "national_parks": None, "redlines": None,
    "scenic": ("category", "wetland_park"),
}


def _protected_area(planning: Planning) -> tuple[shapely.Geometry, list[str]]:
    """The union of the features protecting wetland, and the protective kinds missing."""
    parts, missing = [], []
    absent: frozenset[str] = getattr(planning, "absent", frozenset())
    for kind, selector in _PROTECTIVE.items():
        if kind not in schema.LAYER_SPECS:
            continue
        if kind not in planning:
            if kind not in absent:
                missing.append(kind)
            continue
        layer = planning[kind]
        if selector is not None:
            field, value = selector
            if field not in layer.columns:
                continue
            layer = layer[(layer[field] == value).to_numpy()]
        parts.extend(layer.geometry.to_numpy())
    return shapely.union_all(np.asarray(parts, dtype=object)), missing


def _zone_rows(found: gpd.GeoDataFrame, planning: Planning) -> list[dict[str, object]]:
    """Share of each unit under each main-function zone class (the classification's shares)."""
    rows = []
    if "zoning" not in planning:
        for position, (_, unit) in enumerate(found.iterrows()):
            for name in INDICATORS:
                if name.startswith("zone_share_"):
                    rows.append(_row(unit, position, name, None, data_used="",
                                     note="needs the zoning layer, which the planning lacks"))
        return rows
    from redline.zoning import classify_frame

    # a unit drawn from the boundary layer can stick out of the extent by a hair (prefecture and
    # province outlines digitised apart): such a unit is classified on its part 1 cm inside the
    # extent (its shares move by about its perimeter × 1 cm ÷ its area: 1e-6 for a county)
    geoms = found.geometry.to_numpy().copy()
    if planning.extent is not None:
        out = ~shapely.covers(planning.extent, geoms)
        geoms[out] = shapely.intersection(geoms[out], planning.extent.buffer(-0.01))
    inside = gpd.GeoDataFrame(geometry=geoms, crs=found.crs)
    shares = classify_frame(inside, planning, n_jobs=1)
    for position, (_, unit) in enumerate(found.iterrows()):
        for name in INDICATORS:
            if name.startswith("zone_share_"):
                column = "share_" + name.removeprefix("zone_share_")
                rows.append(_row(unit, position, name, float(shares[column].iloc[position]),
                                 data_used="zoning; boundary",
                                 note=str(shares["not_assessed_reason"].iloc[position] or "")
                                 if pd.notna(shares["not_assessed_reason"].iloc[position])
                                 else ""))
    return rows


def _control_rows(found: gpd.GeoDataFrame, area: np.ndarray,
                  planning: Planning) -> list[dict[str, object]]:
    """Share of each unit inside each control line's features (their union)."""
    rows = []
    absent: frozenset[str] = getattr(planning, "absent", frozenset())
    geoms = found.geometry.to_numpy().copy()
    for name in INDICATORS:
        if not name.startswith("control_share_"):
            continue
        kind = name.removeprefix("control_share_")
        present = kind in planning
        union = shapely.union_all(planning[kind].geometry.to_numpy()) if present else None
        for position, (_, unit) in enumerate(found.iterrows()):
            if present:
                value = shapely.intersection(geoms[position], union).area / area[position]
                rows.append(_row(unit, position, name, value, data_used=f"{kind}; boundary"))
            elif kind in absent:
                rows.append(_row(unit, position, name, 0.0, data_used="",
                                 note=f"{kind} declared absent in this planning"))
            else:
                rows.append(_row(unit, position, name, None, data_used="",
                                 note=f"needs the {kind} layer, which the planning lacks"))
    return rows


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)
