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
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import quote, urlsplit

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium import plugins
from folium.elements import JSCSSMixin
from folium.template import Template

from redline import schema
from redline.corridors import CORRIDOR_LAYERS
from redline.crs import CHINA_LONLAT_BOUNDS
from redline.errors import CRSError, LayerError, RedlineWarning
from redline.maps.encode import PRECISION, columns, encode_geometries, encode_points
from redline.maps.offline import render_html
from redline.maps.style import LAYER_LABELS, LEGEND_CLASS, LEGEND_CSS, PALETTES, legend_html

if TYPE_CHECKING:
    from redline.planning import Planning
    from redline.screening import Screening

__all__ = [
    "BASEMAPS",
    "CLEAR_AS_POINTS_ABOVE",
    "GCJ02_HOSTS",
    "LABEL_ZOOM",
    "MIN_SITE_PX",
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
_BASE_ORDER: Final = ("zoning", "farmland")
_TOP_ORDER: Final = ("scenic", "water_sources", "reserves", "redlines", "corridors", "boundary")
#: Planning layer groups, bottom to top: every vector kind with a palette is drawn; kinds
#: without a place here go above farmland and below the protected areas.
PLANNING_ORDER: Final = (
    *_BASE_ORDER,
    *(k for k in schema.VECTOR_KINDS if k in PALETTES and k not in _BASE_ORDER + _TOP_ORDER),
    *_TOP_ORDER,
)
#: Decimals kept in EPSG:4326 coordinates (1e-6° is about 0.1 m).
COORDINATE_DECIMALS: Final = PRECISION

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
_LEGEND_WIDTH_PX: Final = 350
#: View when there is nothing to fit: China, ((south, west), (north, east)).
_CHINA_BOUNDS: Final = (
    (CHINA_LONLAT_BOUNDS[1], CHINA_LONLAT_BOUNDS[0]),
    (CHINA_LONLAT_BOUNDS[3], CHINA_LONLAT_BOUNDS[2]),
)
_INTERACTIVE: Final = frozenset({"sites", *PLANNING_ORDER} - {"boundary"})
#: Planning layers whose fills fade when zoomed in (all filled ones).
_FADED: Final = frozenset(PLANNING_ORDER) - {"boundary"}
_POPUP_HEADERS: Final = (
    "规则 Rule",
    "严重程度 Severity",
    "重叠 Overlap",
    "占比 Share",
    "距离 Distance (m)",
    "条款 Clause",
    "条件 Conditions",
)
#: A site smaller than this (pixels, its longer side on screen) is drawn as a dot as well.
MIN_SITE_PX: Final = 10
#: From this zoom on, sites carry their id as a label (at most ``_MAX_LABELS`` in view).
LABEL_ZOOM: Final = 13
_MAX_LABELS: Final = 300
#: Above this many sites, sites with no conflict are drawn as dots only by default.
CLEAR_AS_POINTS_ABOVE: Final = 10_000
#: Grid (degrees) whose cells the page builds site outlines for when they come into view;
#: sites visible as outlines from this zoom or less are built at once.
_CELL_DEGREES: Final = 0.25
_BIG_SITE_ZOOM: Final = 8
#: From this zoom on, planning fills fade to this share of their opacity.
_FADE_ZOOM: Final = 10
_FADE: Final = 0.4
_SEARCH_JS: Final = "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.js"
_SEARCH_CSS: Final = "https://cdn.jsdelivr.net/npm/leaflet-search@2.9.7/dist/leaflet-search.min.css"

# The browser side: decodes the compact layers, draws them on one canvas, builds tooltips and
# the findings popup from pre-escaped strings and numbers, dots, labels and the search box.
_RUNTIME_JS: Final = (
    (Path(__file__).with_name("runtime.js"))
    .read_text(encoding="utf-8")
    .replace("LEGEND_CLASS", LEGEND_CLASS)
)


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
    """A planning layer drawn by the runtime into the parent feature group."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = redline.addLayer({{ this.key|tojson }},
            {{ this.palette|tojson }}, {{ this.data }}, {{ this.options|tojson }},
            {{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, palette: str, data: str, *, interactive: bool, fade: bool) -> None:
        super().__init__()
        self._name = "RedlineLayer"
        self.key = key
        self.palette = palette
        self.data = data
        self.options = {"interactive": interactive, "fade": fade}


class _Sites(JSCSSMixin, folium.MacroElement):
    """The sites (parent group) and their overlaps (`findings` group), with the search box."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        redline.addSites({{ this.data }}, {{ this._parent.get_name() }},
            {{ this.findings.get_name() }});
        {% endmacro %}
        """
    )
    default_js = [("leaflet_search_js", _SEARCH_JS)]  # noqa: RUF012 (folium's API)
    default_css = [("leaflet_search_css", _SEARCH_CSS)]  # noqa: RUF012

    def __init__(self, data: str, findings: folium.FeatureGroup) -> None:
        super().__init__()
        self._name = "RedlineSites"
        self.data = data
        self.findings = findings


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
    clear_as_points: bool | None = None,
) -> folium.Map:
    """Map of a screening: planning layers, finding overlaps and sites coloured by verdict.

    Sites are coloured by verdict (``not_assessed`` grey with a thick dashed black outline,
    never green); hovering shows the site's name and verdict, clicking opens a table of its
    findings (rule, severity, overlap m² and share, distance, clause, conditions). The overlap
    geometry of every overlap finding is highlighted above the sites. The view fits the sites.
    A site smaller than :data:`MIN_SITE_PX` pixels at the current zoom is drawn as a dot in its
    verdict's colour as well, so that every site can be seen and told apart at province zoom;
    close in (zoom :data:`LABEL_ZOOM` and more) sites carry their id as a label. A search box
    finds a site by id or name. ``known_verdict`` (where the screening has it) is shown beside
    ``not_assessed``; kinds the planning declares absent are named in the legend.

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
        Map title (top of the map and legend); default names the number of sites. The line
        under it always names the planning and the ruleset (id and version).
    crs
        CRS of ``screening.sites`` when it declares none (sites screened with ``crs=``).
    clear_as_points
        Draw sites with no conflict as dots only, not their outlines (a lighter file);
        default: when there are more than :data:`CLEAR_AS_POINTS_ABOVE` sites.

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
    lonlat = np.asarray(geoms.values)
    drawable = _drawable(lonlat)

    builder = _MapBuilder(
        _bounds(lonlat[drawable]) or _planning_bounds(planning) or _CHINA_BOUNDS,
        basemap=basemap,
        tianditu_key=tianditu_key,
        attribution=attribution,
        allow_gcj02=allow_gcj02,
    )
    _add_planning(builder, planning, draw_kinds, screening.rules.corridor_half_widths_m, simplify_m)

    findings = screening.findings
    rule_codes, rule_ids = pd.factorize(findings["rule_id"])
    strings: dict[str, int] = {}
    per_site = _site_findings(findings, rule_codes, strings)
    site_ids = sites["site_id"].astype(str).to_numpy()
    names = sites["name"] if "name" in sites.columns else pd.Series(None, index=sites.index)
    known = sites.get("known_verdict", pd.Series(None, index=sites.index))
    # Mildest first, so that the strictest sites are drawn on top.
    keep = np.flatnonzero(drawable)
    rank = sites["verdict"].map(schema.severity_rank).to_numpy()[keep]
    keep = keep[np.argsort(-rank, kind="stable")]
    verdicts = sites["verdict"].to_numpy()
    if clear_as_points is None:
        clear_as_points = len(sites) > CLEAR_AS_POINTS_ABOVE
    shapes = lonlat[keep].copy()
    if clear_as_points:
        shapes[verdicts[keep] == "clear"] = None
    ids = site_ids[keep].tolist()
    types = sites["project_type_used"].to_numpy()[keep].tolist()
    table: dict[str, list[Any]] = {
        "i": [html.escape(sid) for sid in ids],
        "n": [_text(v) for v in names.to_numpy()[keep].tolist()],
        "k": verdicts[keep].tolist(),
        "kv": [v if _present(v) else None for v in known.to_numpy()[keep].tolist()],
        "t": [
            html.escape(f"{schema.PROJECT_TYPES.get(t, t)} {t}") if _present(t) else None
            for t in types
        ],
        "r": [_text(v) for v in sites["not_assessed_reason"].to_numpy()[keep].tolist()],
        "f": [per_site.get(sid, []) for sid in ids],
    }

    overlap = (findings["overlap_m2"].fillna(0).to_numpy() > 0) | (
        findings["overlap_m"].fillna(0).to_numpy() > 0
    )
    position_of = {sid: i for i, sid in reversed(list(enumerate(site_ids[keep].tolist())))}
    site_of = findings["site_id"].astype(str).map(position_of).to_numpy()
    drawn = overlap & pd.notna(site_of)
    shown = findings[drawn]
    # Mildest first, so the strictest overlap is drawn on top where several coincide.
    order = np.argsort(-shown["severity"].map(schema.severity_rank).to_numpy(), kind="stable")
    shown = shown.iloc[order]
    # Per site, its overlaps as "<severity code><geometry>" joined by ","; codes count from
    # the mildest severity, so the page can draw the strictest last. An overlap that is the
    # whole site is its code alone (the page draws the site's outline); one geometry several
    # findings share is drawn once, in the strictest severity.
    severities = [v for v in reversed(schema.SEVERITIES) if v in set(shown["severity"])]
    code = {v: str(i) for i, v in enumerate(severities)}
    outlines = encode_geometries(shapes)
    at = site_of[drawn][order].astype(int)
    whole = (shown["overlap_share"].to_numpy() >= 1.0 - 1e-9) & np.array(
        [outlines[s] is not None for s in at.tolist()], dtype=bool)
    encoded = np.full(len(shown), "", dtype=object)
    encoded[~whole] = encode_geometries(
        _simplified(shown.geometry[~whole], simplify_m, planning.crs).values)
    per_site_overlaps: list[dict[str, str]] = [{} for _ in range(len(keep))]
    for site, severity, geometry in zip(at.tolist(), shown["severity"], encoded, strict=True):
        if geometry is not None:
            per_site_overlaps[site][geometry] = code[severity]  # mildest first: strictest stays
    builder.used["findings"] = set(shown["severity"])
    builder.add_sites(
        {
            "g": outlines,
            "p": encode_points(shapely.get_coordinates(shapely.point_on_surface(lonlat[keep]))),
            "b": _dot_zoom(lonlat[keep], shapes).tolist(),
            "o": [",".join(c + g for g, c in sorted(found.items(), key=lambda gc: gc[1]))
                  if found else None for found in per_site_overlaps],
            "os": severities,
            **columns(table, dictionary=["k", "kv", "t"]),
        }
    )

    builder.config["rules"] = [_rule_entry(findings, rule_id) for rule_id in rule_ids]
    builder.config["strings"] = list(strings)
    counts = sites["verdict"].value_counts().to_dict()
    builder.used["sites"] = set(schema.VERDICTS)
    missing = site_ids[~drawable]
    notes = []
    if len(missing):
        shown_ids = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
        notes.append(
            f"{len(missing):,} 个选址无可绘制的几何，未显示 / {len(missing):,} sites have no "
            f"drawable geometry and are not shown: {shown_ids}"
        )
        logger.warning("%d sites are not drawn (no drawable geometry): %s", len(missing), shown_ids)
    if clear_as_points:
        notes.append("未发现冲突的选址以圆点表示 Sites with no conflict are drawn as dots")
    if screening.disabled:
        notes.append("停用规则 rules disabled: " + ", ".join(screening.disabled))
    default_title = f"选址筛查 Site screening · {len(sites):,} 个选址 sites"
    source = (
        f"一张图 Planning: {planning.name or '未命名 unnamed'} · 规则集 Ruleset: "
        f"{screening.rules.id} {screening.rules.version}"
    )
    return builder.finish(
        title=title or default_title,
        source=source,
        counts=counts,
        notes=notes,
        absent=getattr(planning, "absent", ()),
    )


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
        _planning_bounds(planning) or _CHINA_BOUNDS,
        basemap=basemap,
        tianditu_key=tianditu_key,
        attribution=attribution,
        allow_gcj02=allow_gcj02,
    )
    _add_planning(builder, planning, draw_kinds, corridor_half_widths_m, simplify_m)
    builder.config["rules"] = []
    return builder.finish(
        title=title or planning.name or "规划图层 Planning layers",
        source=f"一张图 Planning: {planning.name or '未命名 unnamed'}",
        absent=getattr(planning, "absent", ()),
    )


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
        # Only Leaflet and the search box: no marker icons, jQuery or Bootstrap are used (saves
        # ~1.2 MB of inlined assets per offline file).
        m.default_js = [(n, u) for n, u in folium.Map.default_js if n == "leaflet"]
        m.default_css = [(n, u) for n, u in folium.Map.default_css if n == "leaflet_css"]
        for tile in tiles:
            tile.add_to(m)
        self.runtime = _Script("", css=LEGEND_CSS)
        self.runtime.add_to(m)
        self.map = m
        self.bounds = bounds
        self.groups: dict[str, folium.FeatureGroup] = {}
        self.used: dict[str, set[str]] = {}
        self.config: dict[str, Any] = {}

    def group(self, name: str) -> folium.FeatureGroup:
        """The layer-control group `name`, created on first use."""
        if name not in self.groups:
            self.groups[name] = folium.FeatureGroup(
                name=LAYER_LABELS.get(name, name), overlay=True, control=True, show=True
            )
        return self.groups[name]

    def add_features(
        self,
        group: str,
        palette: str,
        geoms: gpd.GeoSeries | np.ndarray,
        props: Sequence[dict[str, Any]],
    ) -> None:
        """Add one planning layer (EPSG:4326 geometries; ``props`` with key ``k``, maybe ``n``)."""
        values = np.asarray(geoms.values if isinstance(geoms, gpd.GeoSeries) else geoms)
        encoded = encode_geometries(values)
        kept = [i for i, g in enumerate(encoded) if g is not None]
        keys = [props[i]["k"] for i in kept]
        self.used.setdefault(palette, set()).update(keys)
        data = {
            "g": [encoded[i] for i in kept],
            **columns({"k": keys, "n": [props[i].get("n") for i in kept]}, dictionary=["k"]),
        }
        _GeoLayer(
            palette,
            palette,
            _js(data),
            interactive=group in _INTERACTIVE,
            fade=group in _FADED,
        ).add_to(self.group(group))

    def add_sites(self, data: dict[str, Any]) -> None:
        """Add the sites and their overlaps (the data :func:`screening_map` assembles)."""
        _Sites(_js(data), self.group("findings")).add_to(self.group("sites"))

    def finish(
        self,
        *,
        title: str,
        source: str | None = None,
        counts: Mapping[str, int] | None = None,
        notes: Sequence[str] = (),
        absent: Iterable[str] = (),
    ) -> folium.Map:
        m = self.map
        order = [g for g in (*PLANNING_ORDER, "findings", "sites") if g in self.groups]
        for group in order:
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
        heading = f"<b>{html.escape(title)}</b>"
        if source:
            heading += f"<br><span>{html.escape(source)}</span>"
        config = {
            **self.config,
            "palettes": palettes,
            "severities": severities,
            "headers": list(_POPUP_HEADERS),
            "title": heading,
            "cell": _CELL_DEGREES,
            "bigZoom": _BIG_SITE_ZOOM,
            "labelZoom": LABEL_ZOOM,
            "maxLabels": _MAX_LABELS,
            "fadeZoom": _FADE_ZOOM,
            "fade": _FADE,
        }
        self.runtime.code = f"{_RUNTIME_JS}\nredline.init({_js(config)}, {m.get_name()});"
        legend = legend_html(
            self.used, title=title, source=source, counts=counts, notes=notes, absent=absent
        )
        _Script(
            f'redline.legend({_js(legend)}, "bottomleft");'
            f"redline.stack([{', '.join(self.groups[g].get_name() for g in order)}]);"
        ).add_to(m)
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
        # Keep the legend (bottom left, about 330 px wide) off the fitted sites.
        m.fit_bounds(
            [[south, west], [north, east]],
            padding_top_left=(_LEGEND_WIDTH_PX, 48),
            padding_bottom_right=(24, 24),
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
    if kind in ("reserves", "national_parks", "heritage"):
        return gdf["zone"].astype(str)
    if kind in ("water_sources", "boundary", "geohazard"):
        return gdf["level"].astype(str)
    if kind == "forest_land":
        return gdf["protection_level"].astype(str)
    if kind == "ecological_barrier":
        return gdf["category"].astype(str)
    if kind == "cultivated_land" and "black_soil" in gdf:
        black = (gdf["black_soil"] == "yes").to_numpy()
        return pd.Series(np.where(black, "cultivated_land.black_soil", kind), index=gdf.index)
    return pd.Series(kind, index=gdf.index)


def _props(keys: pd.Series, names: pd.Series) -> list[dict[str, Any]]:
    return [
        {"k": k, "n": html.escape(str(n))} if _present(n) else {"k": k}
        for k, n in zip(keys, names, strict=True)
    ]


def _site_findings(
    findings: gpd.GeoDataFrame, rule_codes: np.ndarray, strings: dict[str, int]
) -> dict[str, list[Any]]:
    """Per site id, its findings as compact rows for the popup: rule index, severity index,
    overlap m², overlap m, share (1/10,000), distance m, feature name, measure (the texts
    escaped, as indexes into `strings`, which grows); trailing blanks left out."""
    severity = findings["severity"].map({s: i for i, s in enumerate(schema.SEVERITIES)})
    columns = zip(
        findings["site_id"].astype(str),
        rule_codes.tolist(),
        severity.tolist(),
        _numbers(findings["overlap_m2"], 0),
        _numbers(findings["overlap_m"], 1),
        _numbers(findings["overlap_share"] * 10_000, 0),
        _numbers(findings["distance_m"], 1),
        _codes(findings["feature_name"], strings),
        _codes(findings["measure"], strings),
        strict=True,
    )
    out: dict[str, list[Any]] = {}
    for sid, *row in columns:
        while row[-1] is None:  # trailing blanks are left out
            row.pop()
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


def _codes(values: pd.Series, strings: dict[str, int]) -> list[int | None]:
    """Index of each escaped text in `strings` (added when new); ``None`` when absent."""
    return [
        strings.setdefault(html.escape(str(v)), len(strings)) if _present(v) else None
        for v in values
    ]


def _text(value: object) -> str | None:
    return html.escape(str(value)) if _present(value) else None


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


def _dot_zoom(lonlat: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """Per site, the first zoom at which its shape spans :data:`MIN_SITE_PX` pixels (Web
    Mercator, 256-pixel tiles); below it the site is drawn as a dot too. 99 for points and
    for sites drawn as dots only (``shapes`` missing)."""
    west, south, east, north = shapely.bounds(lonlat).T
    y = np.log(np.tan(np.pi / 4 + np.radians(np.array([south, north])) / 2)) / (2 * np.pi)
    size = np.maximum((east - west) / 360, np.abs(y[1] - y[0]))  # share of the world's width
    with np.errstate(divide="ignore"):
        zoom = np.ceil(np.log2(MIN_SITE_PX / (256 * size)))
    zoom = np.clip(np.nan_to_num(zoom, posinf=99), 0, 99)
    zoom[shapely.is_missing(shapes) | (size == 0)] = 99
    return zoom.astype(int)


def _js(value: object) -> str:
    """JSON for inline ``<script>``: UTF-8 kept, nothing that could close the element or
    open a template tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = text.replace("</", "<\\/").replace("<!--", "<\\u0021--")
    # The page passes through Jinja once more (branca): no "{{", "{%" or "{#" may remain. In
    # compact JSON an object's brace is followed by a quote or "}", so these are in strings.
    return re.sub(r"\{(?=[{%#])", r"\\u007b", text)


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
