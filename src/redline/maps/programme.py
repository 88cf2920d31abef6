"""Maps of the seed's programme: indicator choropleths and the order of ecological migration.

Both start from :func:`redline.maps.planning_map` (the same controls, styling family and
offline assets as the other maps) and add their own layers: one choropleth per indicator
(units coloured by value, outlined where the target is met), or the settlements coloured by
their rank in the order of migration over the protected areas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import branca.colormap
import branca.element
import folium
import numpy as np
import pandas as pd

from redline.maps.render import planning_map

if TYPE_CHECKING:
    from redline.migration import Migration
    from redline.planning import Planning

__all__ = ["ORDER_COLOURS", "indicator_map", "migration_map"]

#: Marker colour by rank in the order of migration (1 first), and for settlements not concerned.
ORDER_COLOURS = {1: "#a50f15", 2: "#e6550d", 3: "#fdae6b", 4: "#31a354", None: "#969696"}
#: The choropleths' colour ramp (ColorBrewer YlGn, light to dark green).
_YLGN = ("#ffffe5", "#d9f0a3", "#78c679", "#238443", "#004529")
#: Outline of a unit that meets its indicator's target / misses it / cannot tell.
_MET_OUTLINE = {True: "#1a9850", False: "#d73027", None: "#737373"}


def indicator_map(table: pd.DataFrame, planning: Planning, *,
                  indicators: list[str] | None = None, **kwargs: Any) -> folium.Map:
    """Choropleths of indicators per unit: one layer per indicator, the first shown.

    Parameters
    ----------
    table
        The result of :func:`redline.indicators`.
    planning
        The one map the table was computed from (its boundary layer draws the units).
    indicators
        Indicators to draw (default: every one with a value for some unit).
    **kwargs
        Passed to :func:`redline.maps.planning_map` (``basemap``, ``title`` …).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from redline import indicators, load_planning
    >>> planning = load_planning()
    >>> m = indicator_map(indicators(planning), planning, indicators=["forest_cover"])
    >>> "森林覆盖率" in m.get_root().render()
    True
    """
    kwargs.setdefault("title", f"{planning.name or 'redline'} — 指标 Indicators")
    m = planning_map(planning, kinds=["boundary"], **kwargs)
    boundary = planning["boundary"].set_index("feature_id").to_crs(4326)
    chosen = indicators or [name for name, rows in table.groupby("indicator", sort=False)
                            if rows["value"].notna().any()]
    legends = []
    for i, name in enumerate(chosen):
        rows = table[table["indicator"] == name].set_index("unit_id")
        values = rows["value"].astype(float)
        finite = values[np.isfinite(values)]
        high = max(float(finite.max()) if len(finite) else 1.0, float(rows["target"].max())
                   if rows["target"].notna().any() else 0.0, 1e-9)
        scale = branca.colormap.LinearColormap(_YLGN, vmin=0, vmax=high)
        label = f"{rows['indicator_zh'].iloc[0]} {name}"
        layer = folium.FeatureGroup(name=label, show=i == 0)
        for unit_id, row in rows.iterrows():
            value = row["value"]
            met = None if pd.isna(row["met"]) else bool(row["met"])
            shown = "未评估 not assessed" if pd.isna(value) else f"{value:.1%}"
            target = "" if pd.isna(row["target"]) else f" / 目标 target {row['target']:.0%}"
            fill = "#ffffff" if pd.isna(value) else scale(value)
            folium.GeoJson(
                boundary.geometry.loc[unit_id].__geo_interface__,
                style_function=lambda _f, fill=fill, met=met: {
                    "fillColor": fill, "fillOpacity": 0.7,
                    "color": _MET_OUTLINE[met], "weight": 2.5 if met is not None else 1},
                # a tooltip, not a popup: folium's popups need jQuery, which the offline maps
                # do not load
                tooltip=f"<b>{row['unit']}</b><br>{label}: {shown}{target}"
                        + (f"<br><small>{row['status']}: {row['note']}</small>"
                           if row["status"] == "not_assessed" else ""),
            ).add_to(layer)
        layer.add_to(m)
        stops = "".join(f'<span style="background:{scale(v)}">&nbsp;{v:.0%}&nbsp;</span>'
                        for v in np.linspace(0, high, 5))
        legends.append(f"<div><b>{label}</b><br>{stops}</div>")
    outline = " ".join(f'<span style="border:2px solid {c}">&nbsp;{t}&nbsp;</span>'
                       for c, t in ((_MET_OUTLINE[True], "达标 met"),
                                    (_MET_OUTLINE[False], "未达标 missed"),
                                    (_MET_OUTLINE[None], "无目标/未评估 no target")))
    page = m.get_root()
    assert isinstance(page, branca.element.Figure)  # a map's root is always its page
    page.html.add_child(folium.Element(
        '<div class="redline-indicator-legend" style="position:absolute;bottom:24px;left:10px;'
        'z-index:800;background:#fff;padding:6px 8px;font:12px sans-serif;max-width:420px;'
        f'box-shadow:0 1px 4px rgba(0,0,0,.3)">{"".join(legends)}<div>{outline}</div></div>'))
    return m


def migration_map(migration: Migration, **kwargs: Any) -> folium.Map:
    """The settlements coloured by their rank in the order of migration.

    Parameters
    ----------
    migration
        The result of :func:`redline.migration_order`.
    **kwargs
        Passed to :func:`redline.maps.planning_map`.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from redline.migration import _example_settlements, migration_order
    >>> m = migration_map(migration_order(_example_settlements()))
    >>> "生态移民" in m.get_root().render()
    True
    """
    planning = migration.planning
    kinds = [k for k in ("boundary", "reserves", "national_parks", "forest_land") if k in planning]
    kwargs.setdefault("title", "生态移民次序 Order of ecological migration")
    m = planning_map(planning, kinds=kinds, **kwargs)
    layer = folium.FeatureGroup(name="居民点 Settlements (生态移民次序)")
    points = migration.settlements.geometry.to_crs(4326).representative_point()
    for (_, row), point in zip(migration.settlements.iterrows(), points, strict=True):
        if point is None or point.is_empty:
            continue
        order = None if pd.isna(row["order"]) else int(row["order"])
        where = (f"{row['protected_area']} {row['zone_zh']}（第 {order} 批 rank {order}）"
                 if order else "不涉及 not concerned" if row["status"] == "assessed"
                 else f"未评估 not assessed: {row['not_assessed_reason']}")
        name = row.get("name", row.name)
        folium.CircleMarker(
            (point.y, point.x), radius=4 + 2 * np.log10(1 + row["population_used"]),
            color=ORDER_COLOURS[order], fill=True, fill_opacity=0.85, weight=1,
            tooltip=f"{name}: {where}; 人口 population {row['population_used']:,.0f}",
        ).add_to(layer)
    layer.add_to(m)
    return m
