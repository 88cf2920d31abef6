"""Interactive folium maps of a planning ("one map") and of a screening's verdicts.

:func:`screening_map` draws the planning layers, the overlap of every finding and the sites
coloured by verdict, with a bilingual legend, tooltips, a findings popup per site, a layer
control, fullscreen and measure controls; :func:`planning_map` draws the planning layers alone.
Both return a :class:`folium.Map`; write it with :func:`redline.maps.save_map` (offline by
default).

Display geometry is not measuring geometry: planning layers, corridors and finding overlaps are
simplified in the working CRS (Douglas-Peucker with tolerance ``simplify_m``, topology
preserved; drawn outlines stay within 1.5 × ``simplify_m`` of the data — GEOS's ring-endpoint
step can exceed the tolerance slightly), then every coordinate is converted to EPSG:4326 and
rounded to 6 decimals (about 0.1 m) — here and nowhere else. Sites are drawn as given (only
rounded). Nothing drawn feeds back into a verdict.

Features are styled in the browser from a category key per feature and one palette
(:data:`redline.maps.style.PALETTES`); popups are assembled in the browser from one table of
rule texts and a compact list of findings per site, so a map of 10,000 sites stays small. Every
text taken from the data is HTML-escaped in Python before it reaches the page.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium import plugins
from folium.template import Template

from redline import schema
from redline.corridors import CORRIDOR_LAYERS
from redline.errors import CRSError, LayerError, RedlineWarning
from redline.maps.offline import render_html
from redline.maps.style import LAYER_LABELS, LEGEND_CLASS, LEGEND_CSS, PALETTES, legend_html

if TYPE_CHECKING:
    from redline.planning import Planning
    from redline.screening import Screening

__all__ = [
    "BASEMAPS",
    "GCJ02_HOSTS",
    "PLANNING_ORDER",
    "map_iframe",
    "notebook_html",
    "planning_map",
    "screening_map",
]

logger = logging.getLogger(__name__)

#: Named basemaps; ``None`` (no tiles) and XYZ URL templates are accepted too.
BASEMAPS: Final = ("osm", "tianditu")
#: Host names (and their sub-domains) of tile services that serve GCJ-02 (or BD-09) tiles,
#: which sit hundreds of metres off CGCS2000/WGS84 data.
GCJ02_HOSTS: Final = (
    "autonavi.com",
    "amap.com",
    "gaode.com",
    "qq.com",
    "gtimg.com",
    "tencent.com",
    "baidu.com",
    "bdimg.com",
    "bdstatic.com",
)
#: Planning layer groups, bottom to top.
PLANNING_ORDER: Final = (
    "zoning",
    "farmland",
    "scenic",
    "water_sources",
    "reserves",
    "redlines",
    "corridors",
    "boundary",
)
#: Decimals kept in EPSG:4326 coordinates (1e-6° is about 0.1 m).
COORDINATE_DECIMALS: Final = 6

_TIANDITU_URL: Final = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
    "&TILECOL={{x}}&tk={key}"
)
_TIANDITU_ATTRIBUTION: Final = '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a>'
_OSM_ATTRIBUTION: Final = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
_XYZ_PLACEHOLDERS: Final = ("{z}", "{x}")
_PANE_Z: Final = {
    **{kind: 401 + i for i, kind in enumerate(PLANNING_ORDER)},
    "sites": 440,
    "findings": 450,
}
_LEGEND_WIDTH_PX: Final = 340
#: View when there is nothing to fit: the province, ((south, west), (north, east)).
_JILIN_BOUNDS: Final = ((40.8, 121.6), (46.3, 131.3))
_INTERACTIVE: Final = frozenset({"sites", *PLANNING_ORDER} - {"boundary"})
_POPUP_HEADERS: Final = (
    "规则 Rule",
    "严重程度 Severity",
    "重叠 Overlap",
    "占比 Share",
    "距离 Distance (m)",
    "条款 Clause",
    "条件 Conditions",
)

# The browser side: styles features from their category key, builds tooltips and the findings
# popup from pre-escaped strings and numbers, registers every layer under redline.layers.
_RUNTIME_JS: Final = r"""
(function () {
  "use strict";
  var R = window.redline = {layers: {}};
  R.init = function (config, map) {
    R.config = config;
    R.map = map;
    L.control.scale({imperial: false}).addTo(map);
  };
  function num(x, digits) {
    if (x === null || x === undefined) return "–";
    return x.toLocaleString("en-US", {maximumFractionDigits: digits});
  }
  function siteTooltip(p) {
    var v = R.config.palettes.sites[p.v];
    return "<b>" + p.i + "</b>" + (p.n ? " " + p.n : "") + "<br>" + v.label;
  }
  function featureTooltip(palette) {
    return function (p) {
      return (p.n ? "<b>" + p.n + "</b><br>" : "") + R.config.palettes[palette][p.k].label;
    };
  }
  function sitePopup(p) {
    var c = R.config, v = c.palettes.sites[p.v], s = v.style;
    var h = ['<div class="redline-popup"><div class="rl-head"><b>', p.i, "</b>",
             p.n ? " " + p.n : "", "</div>",
             '<div class="rl-verdict" style="border-color:', s.color, ";background:",
             s.fillColor, '">', v.label, "</div>"];
    if (p.t) h.push("<div>项目类型 Project type: ", p.t, "</div>");
    if (p.r) h.push('<div class="rl-reason">未评估原因 Not assessed because: ', p.r, "</div>");
    if (!p.f || !p.f.length) {
      h.push("<div>无筛查发现 No findings</div>");
    } else {
      h.push("<table><thead><tr>");
      c.headers.forEach(function (t) { h.push("<th>", t, "</th>"); });
      h.push("</tr></thead><tbody>");
      p.f.forEach(function (f) {
        var rule = c.rules[f[0]], sev = c.severities[f[1]];
        var overlap = f[2] ? num(f[2], 0) + " m²" : (f[3] ? num(f[3], 1) + " m" : "–");
        h.push("<tr><td>", rule.t,
               f[6] ? '<br><span class="rl-feature">' + f[6] + "</span>" : "",
               f[7] ? '<br><span class="rl-feature">' + f[7] + "</span>" : "",
               '</td><td style="color:', sev.color, ';font-weight:600">', sev.label, "</td>",
               '<td class="rl-num">', overlap, '</td><td class="rl-num">',
               f[4] === null ? "–" : num(f[4] * 100, 1) + "%", '</td><td class="rl-num">',
               num(f[5], 0), "</td><td>", rule.c, "</td><td>", rule.z,
               '<br><span class="rl-en">', rule.e, "</span></td></tr>");
      });
      h.push("</tbody></table>");
    }
    h.push("</div>");
    return h.join("");
  }
  R.addLayer = function (name, palette, data, opts, group) {
    var styles = R.config.palettes[palette];
    var tooltip = opts.popup ? siteTooltip : featureTooltip(palette);
    var layer = L.geoJSON(data, {
      pane: opts.pane,
      interactive: opts.interactive,
      style: function (f) { return styles[f.properties.k].style; },
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 6, pane: opts.pane,
                                       interactive: opts.interactive});
      },
      onEachFeature: function (f, l) {
        if (!opts.interactive) return;
        l.bindTooltip(tooltip(f.properties), {sticky: true});
        if (opts.popup) {
          l.bindPopup(function () { return sitePopup(f.properties); },
                      {maxWidth: 720, minWidth: 320, maxHeight: 420});
        }
      }
    });
    group.addLayer(layer);
    R.layers[name] = layer;
    return layer;
  };
  R.legend = function (content, position) {
    var control = L.control({position: position});
    control.onAdd = function () {
      var div = L.DomUtil.create("div", "LEGEND_CLASS leaflet-control");
      div.id = "LEGEND_CLASS";
      div.innerHTML = content;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    control.addTo(R.map);
    R.legendControl = control;
  };
})();
""".replace("LEGEND_CLASS", LEGEND_CLASS)


class _Script(folium.MacroElement):
    """Raw JavaScript (and optional CSS) placed in the page in the order it is added."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        {%- if this.css %}<style>{{ this.css }}</style>{% endif %}
        {% endmacro %}
        {% macro script(this, kwargs) %}
        {{ this.code }}
        {% endmacro %}
        """
    )

    def __init__(self, code: str, *, css: str = "") -> None:
        super().__init__()
        self._name = "RedlineScript"
        self.code = code
        self.css = css


class _GeoLayer(folium.MacroElement):
    """GeoJSON features drawn by the runtime into the parent feature group."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = redline.addLayer({{ this.key|tojson }},
            {{ this.palette|tojson }}, {{ this.data }}, {{ this.options|tojson }},
            {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(
        self, key: str, palette: str, data: str, *, pane: str, interactive: bool, popup: bool
    ) -> None:
        super().__init__()
        self._name = "RedlineLayer"
        self.key = key
        self.palette = palette
        self.data = data
        self.options = {"pane": pane, "interactive": interactive, "popup": popup}


# -- public API ---------------------------------------------------------------------------------
def screening_map(
    screening: Screening,
    *,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    attribution: str | None = None,
    allow_gcj02: bool = False,
    simplify_m: float = 20.0,
    kinds: Iterable[str] | None = None,
    title: str | None = None,
    crs: Any = None,
) -> folium.Map:
    """Map of a screening: planning layers, finding overlaps and sites coloured by verdict.

    Sites are coloured by verdict (``not_assessed`` grey with a thick dashed black outline,
    never green); hovering shows the site's name and verdict, clicking opens a table of its
    findings (rule, severity, overlap m² and share, distance, clause, conditions). The overlap
    geometry of every overlap finding is highlighted above the sites. The view fits the sites.

    Display geometry is simplified (see the module docstring): verdicts are not affected.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.
    basemap
        ``None`` (no tiles; the default, right for offline files), ``"osm"``,
        ``"tianditu"`` (needs `tianditu_key`) or an XYZ URL template with ``{z}``, ``{x}``,
        ``{y}`` (e.g. an intranet tile server).
    tianditu_key
        Your Tianditu (天地图) key, for ``basemap="tianditu"``.
    attribution
        Attribution shown for a custom XYZ basemap (default: its host name).
    allow_gcj02
        Draw a basemap from a GCJ-02 provider (AMap/Gaode, Tencent, Baidu) anyway, with a
        :class:`~redline.errors.RedlineWarning`; refused by default because its tiles are
        offset from CGCS2000/WGS84 data by hundreds of metres.
    simplify_m
        Tolerance (metres, working CRS) of the display simplification of planning layers,
        corridors and overlaps; ``0`` draws them unsimplified.
    kinds
        Planning layer groups to draw (see :data:`PLANNING_ORDER`); default: all present.
    title
        Legend title; default names the number of sites.
    crs
        CRS of ``screening.sites`` when it declares none (sites screened with ``crs=``).

    Returns
    -------
    folium.Map

    Raises
    ------
    CRSError
        A GCJ-02 basemap without `allow_gcj02`, or sites without CRS and no `crs`.
    LayerError
        An unknown basemap, kind, or Tianditu without a key.

    Examples
    --------
    >>> from redline import datasets
    >>> from redline import screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")))
    >>> m = screening_map(result)
    >>> "建设项目选址 Proposed sites" in m.get_root().render()
    True
    """
    sites = screening.sites
    if sites.crs is None and crs is None:
        raise CRSError(
            "screening.sites declares no CRS (the sites were screened with crs=...), so they "
            "cannot be placed on the map; pass the same crs= to the map."
        )
    site_crs = sites.crs if sites.crs is not None else crs
    planning = screening.planning
    _check_simplify(simplify_m)
    draw_kinds = _check_kinds(kinds, planning)
    geoms = gpd.GeoSeries(np.asarray(sites.geometry.values), crs=site_crs).to_crs(4326)
    lonlat = _rounded(np.asarray(geoms.values))
    drawable = _drawable(lonlat)

    builder = _MapBuilder(
        _bounds(lonlat[drawable]) or _planning_bounds(planning) or _JILIN_BOUNDS,
        basemap=basemap,
        tianditu_key=tianditu_key,
        attribution=attribution,
        allow_gcj02=allow_gcj02,
    )
    _add_planning(builder, planning, draw_kinds, screening.rules.corridor_half_widths_m, simplify_m)

    findings = screening.findings
    rule_codes, rule_ids = pd.factorize(findings["rule_id"])
    overlap = (findings["overlap_m2"].fillna(0).to_numpy() > 0) | (
        findings["overlap_m"].fillna(0).to_numpy() > 0
    )
    # Mildest first, so the strictest overlap is drawn on top where several coincide.
    shown = findings[overlap]
    shown = shown.iloc[
        np.argsort(-shown["severity"].map(schema.severity_rank).to_numpy(), kind="stable")
    ]
    builder.add_features(
        "findings",
        "findings",
        _simplified(shown.geometry, simplify_m, planning.crs),
        [{"k": k} for k in shown["severity"]],
    )

    per_site = _site_findings(findings, rule_codes)
    site_ids = sites["site_id"].astype(str).to_numpy()
    names = sites["name"] if "name" in sites.columns else pd.Series(None, index=sites.index)
    props = []
    for sid, name, verdict, ptype, reason in zip(
        site_ids,
        names,
        sites["verdict"],
        sites["project_type_used"],
        sites["not_assessed_reason"],
        strict=True,
    ):
        p: dict[str, Any] = {"k": verdict, "v": verdict, "i": html.escape(sid)}
        if _present(name):
            p["n"] = html.escape(str(name))
        if _present(ptype):
            p["t"] = html.escape(f"{schema.PROJECT_TYPES.get(ptype, ptype)} {ptype}")
        if _present(reason):
            p["r"] = html.escape(str(reason))
        p["f"] = per_site.get(sid, [])
        props.append(p)
    keep = np.flatnonzero(drawable)
    builder.add_features(
        "sites", "sites", lonlat[keep], [props[i] for i in keep], rounded=True, popup=True
    )

    builder.config["rules"] = [_rule_entry(findings, rule_id) for rule_id in rule_ids]
    counts = sites["verdict"].value_counts().to_dict()
    builder.used["sites"] = set(schema.VERDICTS)
    missing = site_ids[~drawable]
    note = None
    if len(missing):
        shown_ids = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        note = (
            f"{len(missing):,} 个选址无可绘制的几何，未显示 / {len(missing):,} sites have no "
            f"drawable geometry and are not shown: {shown_ids}"
        )
        logger.warning("%d sites are not drawn (no drawable geometry): %s", len(missing), shown_ids)
    default_title = f"选址筛查 Site screening · {len(sites):,} 个选址 sites"
    return builder.finish(title=title or default_title, counts=counts, note=note)


def planning_map(
    planning: Planning,
    *,
    basemap: str | None = None,
    tianditu_key: str | None = None,
    attribution: str | None = None,
    allow_gcj02: bool = False,
    simplify_m: float = 20.0,
    kinds: Iterable[str] | None = None,
    corridor_half_widths_m: Mapping[str, float] | None = None,
    title: str | None = None,
) -> folium.Map:
    """Map of the planning layers alone, fitted to their extent.

    Display geometry is simplified (see the module docstring).

    Parameters
    ----------
    planning
        The one map.
    basemap, tianditu_key, attribution, allow_gcj02, simplify_m, kinds
        As in :func:`screening_map`.
    corridor_half_widths_m
        Corridor half-widths per ``"<layer>.<class>"``; default: the bundled ruleset's.
    title
        As in :func:`screening_map`; default the planning's name.

    Returns
    -------
    folium.Map

    Raises
    ------
    CRSError, LayerError
        As in :func:`screening_map`.

    Examples
    --------
    >>> from redline.planning import load_planning
    >>> m = planning_map(load_planning())
    >>> "自然保护区 Nature reserves" in m.get_root().render()
    True
    """
    _check_simplify(simplify_m)
    draw_kinds = _check_kinds(kinds, planning)
    if corridor_half_widths_m is None:
        from redline.rules import as_ruleset

        corridor_half_widths_m = as_ruleset(None).corridor_half_widths_m
    builder = _MapBuilder(
        _planning_bounds(planning) or _JILIN_BOUNDS,
        basemap=basemap,
        tianditu_key=tianditu_key,
        attribution=attribution,
        allow_gcj02=allow_gcj02,
    )
    _add_planning(builder, planning, draw_kinds, corridor_half_widths_m, simplify_m)
    builder.config["rules"] = []
    return builder.finish(title=title or planning.name or "规划图层 Planning layers")


def map_iframe(m: folium.Map, *, height: str = "520px", offline: bool = True) -> str:
    """HTML of an ``<iframe>`` showing the map (for Jupyter), assets inlined by default.

    The frame is wrapped in a ``<div>`` so that ``IPython.display.HTML`` shows it as it is.

    Parameters
    ----------
    m
        The map.
    height
        Height of the frame (CSS).
    offline
        Inline every asset (:func:`redline.maps.render_html`).

    Returns
    -------
    str
        The ``<div><iframe srcdoc=...></iframe></div>`` element.

    Examples
    --------
    >>> map_iframe(folium.Map(tiles=None)).startswith("<div><iframe")
    True
    """
    page = render_html(m, offline=offline)
    return (
        f'<div><iframe srcdoc="{html.escape(page, quote=True)}" style="width:100%;'
        f'height:{height};border:1px solid #ddd" allowfullscreen></iframe></div>'
    )


def notebook_html(
    obj: Screening | Planning,
    *,
    table_html: str | None = None,
    max_sites: int = 20_000,
    height: str = "520px",
) -> str:
    """Rich Jupyter display of a screening or planning: a summary table, then the map.

    Parameters
    ----------
    obj
        A :class:`~redline.screening.Screening` or :class:`~redline.planning.Planning`.
    table_html
        The summary shown above the map; default: ``obj.summary()`` as a table.
    max_sites
        Above this many sites the map is left out (call ``.map()`` to draw it).
    height
        Height of the map frame (CSS).

    Returns
    -------
    str
        HTML: the table, then the map in an ``<iframe>`` (:func:`map_iframe`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from redline import Planning
    >>> zones = gpd.GeoDataFrame({"zone": ["重点开发区域"]},
    ...                          geometry=[shapely.box(125.2, 43.7, 125.4, 43.9)], crs=4490)
    >>> page = notebook_html(Planning(zoning=zones))
    >>> page.startswith("<table"), "<iframe srcdoc=" in page
    (True, True)
    """
    from redline.screening import Screening

    if table_html is None:
        head = f"<p>{html.escape(repr(obj))}</p>" if isinstance(obj, Screening) else ""
        table_html = head + obj.summary().to_html(index=False)
    if isinstance(obj, Screening):
        if len(obj.sites) > max_sites:
            return table_html + (
                f"<p>{len(obj.sites):,} sites: the map is not drawn inline (more than "
                f"{max_sites:,}); call <code>.map()</code> and save it.</p>"
            )
        m = screening_map(obj)
    else:
        m = planning_map(obj)
    return table_html + map_iframe(m, height=height)


# -- building -----------------------------------------------------------------------------------
class _MapBuilder:
    """Collects layers, the palette entries they use and the runtime configuration."""

    def __init__(
        self,
        bounds: tuple[tuple[float, float], tuple[float, float]],
        *,
        basemap: str | None,
        tianditu_key: str | None,
        attribution: str | None,
        allow_gcj02: bool,
    ) -> None:
        tiles = _basemap_layers(
            basemap, tianditu_key=tianditu_key, attribution=attribution, allow_gcj02=allow_gcj02
        )
        (south, west), (north, east) = bounds
        m = folium.Map(
            location=[(south + north) / 2, (west + east) / 2],
            zoom_start=7,
            tiles=None,
        )
        # Only Leaflet itself: no marker icons, jQuery or Bootstrap are used (saves ~1.2 MB of
        # inlined assets per offline file).
        m.default_js = [(n, u) for n, u in folium.Map.default_js if n == "leaflet"]
        m.default_css = [(n, u) for n, u in folium.Map.default_css if n == "leaflet_css"]
        for tile in tiles:
            tile.add_to(m)
        self.runtime = _Script("", css=LEGEND_CSS)
        self.runtime.add_to(m)
        for name, z in _PANE_Z.items():
            folium.map.CustomPane(
                f"redline-{name}", z_index=z, pointer_events=name in _INTERACTIVE
            ).add_to(m)
        self.map = m
        self.bounds = bounds
        self.groups: dict[str, folium.FeatureGroup] = {}
        self.used: dict[str, set[str]] = {}
        self.config: dict[str, Any] = {}

    def add_features(
        self,
        group: str,
        palette: str,
        geoms: gpd.GeoSeries | np.ndarray,
        props: Sequence[dict[str, Any]],
        *,
        rounded: bool = False,
        popup: bool = False,
    ) -> None:
        """Add one GeoJSON layer (EPSG:4326 geometries, or already rounded ones)."""
        values = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms)
        if not rounded:
            values = _rounded(values)
        ok = ~(shapely.is_missing(values) | shapely.is_empty(values))
        values = values[ok]
        props = [p for p, keep in zip(props, ok, strict=True) if keep]
        if group not in self.groups:
            self.groups[group] = folium.FeatureGroup(
                name=LAYER_LABELS[group], overlay=True, control=True, show=True
            )
        self.used.setdefault(palette, set()).update(p["k"] for p in props)
        _GeoLayer(
            palette,
            palette,
            _feature_collection(values, props),
            pane=f"redline-{group}",
            interactive=group in _INTERACTIVE,
            popup=popup,
        ).add_to(self.groups[group])

    def finish(
        self, *, title: str, counts: Mapping[str, int] | None = None, note: str | None = None
    ) -> folium.Map:
        m = self.map
        for group in (*PLANNING_ORDER, "findings", "sites"):
            if group in self.groups:
                self.groups[group].add_to(m)
        palettes = {
            name: {
                key: {"style": swatch.leaflet(), "label": swatch.label}
                for key, swatch in PALETTES[name].items()
            }
            for name in PALETTES
        }
        severities = [
            {
                "label": html.escape(f"{schema.SEVERITY_LABELS[s]} {s}"),
                "color": PALETTES["sites"][s].color,
            }
            for s in schema.SEVERITIES
        ]
        config = {
            **self.config,
            "palettes": palettes,
            "severities": severities,
            "headers": list(_POPUP_HEADERS),
        }
        self.runtime.code = f"{_RUNTIME_JS}\nredline.init({_js(config)}, {m.get_name()});"
        legend = legend_html(self.used, title=title, counts=counts, note=note)
        _Script(f'redline.legend({_js(legend)}, "bottomright");').add_to(m)
        plugins.Fullscreen(
            position="topleft", title="全屏 Full screen", title_cancel="退出全屏 Exit full screen"
        ).add_to(m)
        plugins.MeasureControl(
            position="topleft",
            primary_length_unit="meters",
            secondary_length_unit="kilometers",
            primary_area_unit="sqmeters",
            secondary_area_unit="hectares",
        ).add_to(m)
        folium.LayerControl(position="topright", collapsed=True).add_to(m)
        (south, west), (north, east) = self.bounds
        # Keep the legend (bottom right, about 330 px wide) off the fitted sites.
        m.fit_bounds(
            [[south, west], [north, east]],
            padding_top_left=(24, 24),
            padding_bottom_right=(_LEGEND_WIDTH_PX, 24),
            max_zoom=15,
        )
        return m


def _add_planning(
    builder: _MapBuilder,
    planning: Planning,
    kinds: Sequence[str],
    half_widths_m: Mapping[str, float],
    simplify_m: float,
) -> None:
    for kind in kinds:
        if kind == "corridors":
            lines = {k: planning[k] for k in CORRIDOR_LAYERS if k in planning}
            built = planning.corridors(half_widths_m)  # the screening's, when it built them
            if built is not None:  # None: no corridor reaches the planning extent
                corridors = built[0]
                builder.add_features(
                    "corridors",
                    "corridors",
                    _simplified(corridors.geometry, simplify_m, planning.crs),
                    _props(corridors["corridor"], corridors["name"]),
                )
            centre = pd.concat(
                [gdf[["name", "geometry"]].assign(k=k) for k, gdf in lines.items()],
                ignore_index=True,
            )
            builder.add_features(
                "corridors",
                "corridor_lines",
                _simplified(centre.geometry, simplify_m, planning.crs),
                _props(centre["k"], centre["name"]),
            )
            continue
        gdf = planning[kind]
        builder.add_features(
            kind,
            kind,
            _simplified(gdf.geometry, simplify_m, planning.crs),
            _props(_category(kind, gdf), gdf["name"]),
        )


def _check_kinds(kinds: Iterable[str] | None, planning: Planning) -> list[str]:
    present = [
        k
        for k in PLANNING_ORDER
        if (k == "corridors" and any(c in planning for c in CORRIDOR_LAYERS))
        or (k != "corridors" and planning.get(k) is not None)
    ]
    if kinds is None:
        return present
    if isinstance(kinds, str):
        raise TypeError(f"kinds must be a list of layer kinds, not the string {kinds!r}")
    wanted = list(kinds)
    unknown = [k for k in wanted if k not in PLANNING_ORDER]
    if unknown:
        raise LayerError(
            f"unknown map layer kinds {unknown}; valid kinds: {list(PLANNING_ORDER)} "
            "(rivers and roads_rails are drawn as 'corridors')"
        )
    absent = [k for k in wanted if k not in present]
    if absent:
        raise LayerError(
            f"the planning has no {absent} layer(s) to draw; layers present: {present}"
        )
    return [k for k in PLANNING_ORDER if k in wanted]


def _category(kind: str, gdf: gpd.GeoDataFrame) -> pd.Series:
    """Palette key of every feature of a planning layer."""
    if kind == "zoning":
        zone = gdf["zone"].astype(str)
        subtype = (
            gdf["subtype"].astype(object) if "subtype" in gdf else pd.Series(None, index=gdf.index)
        )
        split = (zone == "restricted") & subtype.isin(["agricultural", "ecological"])
        return zone.where(~split, zone + "." + subtype.astype(str))
    if kind == "reserves":
        return gdf["zone"].astype(str)
    if kind in ("water_sources", "boundary"):
        return gdf["level"].astype(str)
    return pd.Series(kind, index=gdf.index)


def _props(keys: pd.Series, names: pd.Series) -> list[dict[str, Any]]:
    return [
        {"k": k, "n": html.escape(str(n))} if _present(n) else {"k": k}
        for k, n in zip(keys, names, strict=True)
    ]


def _site_findings(findings: gpd.GeoDataFrame, rule_codes: np.ndarray) -> dict[str, list[Any]]:
    """Per site id, its findings as compact rows for the popup: rule index, severity index,
    overlap m², overlap m, share, distance m, feature name, measure (texts escaped)."""
    severity = findings["severity"].map({s: i for i, s in enumerate(schema.SEVERITIES)})
    columns = zip(
        findings["site_id"].astype(str),
        rule_codes.tolist(),
        severity.tolist(),
        _numbers(findings["overlap_m2"], 0),
        _numbers(findings["overlap_m"], 1),
        _numbers(findings["overlap_share"], 4),
        _numbers(findings["distance_m"], 1),
        _texts(findings["feature_name"]),
        _texts(findings["measure"]),
        strict=True,
    )
    out: dict[str, list[Any]] = {}
    for sid, *row in columns:
        out.setdefault(sid, []).append(row)
    return out


def _rule_entry(findings: gpd.GeoDataFrame, rule_id: str) -> dict[str, str]:
    row = findings.loc[findings["rule_id"] == rule_id].iloc[0]
    return {
        "t": html.escape(f"{rule_id} {row['rule_title']}"),
        "c": html.escape(str(row["clause"])),
        "z": html.escape(str(row["conditions"])) if _present(row["conditions"]) else "",
        "e": html.escape(str(row["conditions_en"])) if _present(row["conditions_en"]) else "",
    }


def _numbers(values: pd.Series, decimals: int) -> list[float | int | None]:
    array = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    rounded = np.round(array, decimals)
    return [
        None if not math.isfinite(v) else (int(v) if decimals == 0 else v) for v in rounded.tolist()
    ]


def _texts(values: pd.Series) -> list[str | None]:
    return [html.escape(str(v)) if _present(v) else None for v in values]


def _present(value: object) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip() != ""


# -- geometry -----------------------------------------------------------------------------------
def _simplified(geoms: gpd.GeoSeries, simplify_m: float, crs: Any) -> gpd.GeoSeries:
    """Simplify in the working CRS (metres), then convert to EPSG:4326."""
    values = np.asarray(geoms.values)
    if simplify_m > 0:
        values = shapely.simplify(values, simplify_m, preserve_topology=True)
    return gpd.GeoSeries(values, crs=crs).to_crs(4326)


def _check_simplify(simplify_m: object) -> None:
    if not (isinstance(simplify_m, int | float) and math.isfinite(simplify_m) and simplify_m >= 0):
        raise LayerError(
            f"simplify_m must be a finite number of metres >= 0, got {simplify_m!r}; "
            "use 0 to draw unsimplified geometry"
        )


def _rounded(values: np.ndarray) -> np.ndarray:
    return shapely.transform(values, lambda xy: np.round(xy, COORDINATE_DECIMALS))


def _drawable(lonlat: np.ndarray) -> np.ndarray:
    """Geometries Leaflet can draw: present, not empty, finite lon/lat within range."""
    ok = ~(shapely.is_missing(lonlat) | shapely.is_empty(lonlat))
    coords, index = shapely.get_coordinates(lonlat, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    bad |= (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    ok &= np.bincount(index[bad], minlength=len(lonlat)) == 0
    return ok


def _bounds(lonlat: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]] | None:
    if len(lonlat) == 0:
        return None
    west, south, east, north = shapely.total_bounds(lonlat)
    return (float(south), float(west)), (float(north), float(east))


def _planning_bounds(
    planning: Planning,
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    layers = [planning[k] for k in schema.VECTOR_KINDS if planning.get(k) is not None]
    if not layers:
        return None
    boxes = np.array([gdf.total_bounds for gdf in layers])
    box = shapely.box(*boxes[:, :2].min(axis=0), *boxes[:, 2:].max(axis=0))
    return _bounds(np.asarray(gpd.GeoSeries([box], crs=planning.crs).to_crs(4326).values))


def _feature_collection(values: np.ndarray, props: Sequence[dict[str, Any]]) -> str:
    geometry = shapely.to_geojson(values)
    features = ",".join(
        f'{{"type":"Feature","geometry":{g},"properties":{_js(p)}}}'
        for g, p in zip(geometry.tolist(), props, strict=True)
    )
    return f'{{"type":"FeatureCollection","features":[{features}]}}'


def _js(value: object) -> str:
    """JSON for inline ``<script>``: UTF-8 kept, nothing that could close the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


# -- basemaps -----------------------------------------------------------------------------------
def _basemap_layers(
    basemap: str | None, *, tianditu_key: str | None, attribution: str | None, allow_gcj02: bool
) -> list[folium.TileLayer]:
    """Tile layers of the basemap option (empty for ``None``)."""
    if basemap is None:
        return []
    if not isinstance(basemap, str):
        raise TypeError(f"basemap must be None or a string, not {type(basemap).__name__}")
    name = basemap.strip().lower()
    if name == "osm":
        return [
            folium.TileLayer(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                attr=_OSM_ATTRIBUTION,
                name="OpenStreetMap",
                max_zoom=19,
            )
        ]
    if name == "tianditu":
        key = _tianditu_key(tianditu_key)
        return [
            folium.TileLayer(
                _TIANDITU_URL.format(layer=layer, key=key),
                attr=_TIANDITU_ATTRIBUTION,
                name=label,
                subdomains="01234567",
                overlay=overlay,
                max_zoom=18,
            )
            for layer, label, overlay in (
                ("vec", "天地图矢量 Tianditu vector", False),
                ("cva", "天地图注记 Tianditu labels", True),
            )
        ]
    if not all(p in basemap for p in _XYZ_PLACEHOLDERS) or "{y}" not in basemap.replace(
        "{-y}", "{y}"
    ):
        raise LayerError(
            f"unknown basemap {basemap!r}: use None (no tiles), one of {list(BASEMAPS)}, or an "
            "XYZ URL template containing {z}, {x} and {y} "
            "(e.g. 'http://tiles.intranet/{z}/{x}/{y}.png')"
        )
    host = (urlsplit(basemap).hostname or "").lower()
    provider = next((h for h in GCJ02_HOSTS if host == h or host.endswith("." + h)), None)
    if provider is not None:
        message = (
            f"basemap {basemap!r} is served by {provider}, whose tiles are in GCJ-02 (or "
            "BD-09), China's obfuscated coordinate system: CGCS2000/WGS84 planning data and "
            "sites would be drawn hundreds of metres off the streets and rivers under them"
        )
        if not allow_gcj02:
            raise CRSError(
                f"{message}. Use basemap='tianditu', 'osm', an intranet CGCS2000/WGS84 tile "
                "server, or pass allow_gcj02=True to draw it anyway."
            )
        warnings.warn(
            f"{message}; drawn because allow_gcj02=True. Do not judge positions against it.",
            RedlineWarning,
            stacklevel=4,
        )
    return [
        folium.TileLayer(
            basemap,
            attr=attribution or html.escape(host or "custom tiles"),
            name="底图 Basemap",
        )
    ]


def _tianditu_key(key: str | None) -> str:
    if key is None or not str(key).strip():
        raise LayerError(
            "basemap='tianditu' needs your Tianditu key: pass tianditu_key='...' (apply for a "
            "free browser key at https://console.tianditu.gov.cn/), or use basemap=None for an "
            "offline map"
        )
    key = str(key).strip()
    if not re.fullmatch(r"[0-9A-Za-z]+", key):
        raise LayerError(
            f"tianditu_key must be letters and digits only (a 32-character key), got {key!r}"
        )
    return quote(key)
