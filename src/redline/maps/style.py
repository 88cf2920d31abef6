"""Colours, labels and the legend of redline's maps.

One :class:`Swatch` per drawn category (a zoning class, a reserve zone, a verdict, ...), grouped
by map layer in :data:`PALETTES`. The renderer styles every feature from these and the legend is
built from the same swatches, so every colour on the map has a legend entry. Chinese names of
canonical values come from :mod:`redline.schema`; only the English captions are written here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

from redline import schema

__all__ = [
    "LAYER_LABELS",
    "LEGEND_CLASS",
    "PALETTES",
    "Swatch",
    "legend_html",
    "value_label_zh",
]

#: CSS class (and element id) of the legend, for tests and custom stylesheets.
LEGEND_CLASS: Final = "redline-legend"


@dataclass(frozen=True)
class Swatch:
    """How one category is drawn, and its legend caption.

    Parameters
    ----------
    label_zh, label_en
        Legend caption in Chinese and English.
    color
        Outline (or line) colour.
    fill
        Fill colour; ``None`` for lines and outlines only.
    fill_opacity, weight, dash
        Leaflet ``fillOpacity``, ``weight`` (px) and ``dashArray``.

    Examples
    --------
    >>> PALETTES["sites"]["prohibited"]
    Swatch(label_zh='禁止', label_en='prohibited', color='#a50f15', fill='#de2d26',
           fill_opacity=0.5, weight=2.5, dash=None)
    """

    label_zh: str
    label_en: str
    color: str
    fill: str | None = None
    fill_opacity: float = 0.35
    weight: float = 1.0
    dash: str | None = None

    @property
    def label(self) -> str:
        """Caption ``"中文 English"`` (HTML-escaped).

        Examples
        --------
        >>> Swatch("核心区", "core & buffer", "#000000").label
        '核心区 core &amp; buffer'
        """
        return html.escape(f"{self.label_zh} {self.label_en}")

    def leaflet(self) -> dict[str, object]:
        """Leaflet path options.

        Returns
        -------
        dict
            ``color``, ``weight``, ``opacity`` and ``fill``; ``fillColor`` and ``fillOpacity``
            when filled; ``dashArray`` when dashed.

        Examples
        --------
        >>> PALETTES["redlines"]["redlines"].leaflet()
        {'color': '#e31a1c', 'weight': 1.5, 'opacity': 1.0, 'fill': True, 'fillColor': '#fc9272',
         'fillOpacity': 0.25}
        """
        style: dict[str, object] = {
            "color": self.color,
            "weight": self.weight,
            "opacity": 1.0,
            "fill": self.fill is not None,
        }
        if self.fill is not None:
            style |= {"fillColor": self.fill, "fillOpacity": self.fill_opacity}
        if self.dash is not None:
            style["dashArray"] = self.dash
        return style

    def legend_icon(self) -> str:
        """A small HTML swatch: a filled box, or a line for unfilled styles.

        Returns
        -------
        str
            An ``<i>`` element styled inline.

        Examples
        --------
        >>> print(PALETTES["redlines"]["redlines"].legend_icon())
        <i class="rl-box" style="background:rgba(252,146,114,0.25);border:1.5px solid #e31a1c"></i>
        >>> PALETTES["corridor_lines"]["rivers"].legend_icon()
        '<i class="rl-line" style="border-top:1.6px solid #2b8cbe"></i>'
        """
        border = f"{max(self.weight, 1.5):g}px {'dashed' if self.dash else 'solid'} {self.color}"
        if self.fill is None:
            return f'<i class="rl-line" style="border-top:{border}"></i>'
        return (
            f'<i class="rl-box" style="background:{_rgba(self.fill, self.fill_opacity)};'
            f'border:{border}"></i>'
        )


def value_label_zh(kind: str, field: str, value: str) -> str:
    """Chinese name of a canonical value: its longest built-in alias in :mod:`redline.schema`.

    Parameters
    ----------
    kind, field
        Layer kind and canonical field.
    value
        A canonical value of that field.

    Returns
    -------
    str
        The Chinese name; ``value`` itself when it has no built-in alias.

    Examples
    --------
    >>> value_label_zh("reserves", "zone", "core")
    '核心区'
    >>> value_label_zh("rivers", "corridor", "provincial")
    '省级生态廊道'
    """
    aliases = [zh for zh, v in schema.VALUE_ALIASES.get((kind, field), {}).items() if v == value]
    if not aliases:
        return value
    return max(aliases, key=len)


def _swatches(
    kind: str,
    field: str,
    styles: Mapping[str, tuple[str, str, dict[str, Any]]],
) -> dict[str, Swatch]:
    """Swatches of a canonical field's values: value → (English caption, colour, options)."""
    return {
        value: Swatch(value_label_zh(kind, field, value), en, colour, **options)
        for value, (en, colour, options) in styles.items()
    }


_ZONING = {
    key: replace(swatch, fill_opacity=0.22, weight=0.6)
    for key, swatch in {
        **_swatches(
            "zoning",
            "zone",
            {
                "optimized": ("optimized development", "#c51b7d", {"fill": "#f1b6da"}),
                "key": ("key development", "#d94801", {"fill": "#fdae6b"}),
                "restricted": ("restricted development", "#78c679", {"fill": "#d9f0a3"}),
                "prohibited": ("prohibited development", "#006837", {"fill": "#31a354"}),
            },
        ),
        "restricted.agricultural": Swatch(
            f"{value_label_zh('zoning', 'zone', 'restricted')}（"
            f"{value_label_zh('zoning', 'subtype', 'agricultural')}）",
            "restricted: main agricultural area",
            "#d4b106",
            "#fee391",
        ),
        "restricted.ecological": Swatch(
            f"{value_label_zh('zoning', 'zone', 'restricted')}（"
            f"{value_label_zh('zoning', 'subtype', 'ecological')}）",
            "restricted: key ecological function area",
            "#41ab5d",
            "#a1d99b",
        ),
    }.items()
}

_RESERVES = _swatches(
    "reserves",
    "zone",
    {
        "core": ("core zone", "#3f007d", {"fill": "#54278f", "fill_opacity": 0.55}),
        "buffer": ("buffer zone", "#54278f", {"fill": "#807dba", "fill_opacity": 0.45}),
        "experimental": (
            "experimental zone",
            "#6a51a3",
            {"fill": "#bcbddc", "fill_opacity": 0.45},
        ),
        "core_protection": (
            "core protection zone",
            "#49006a",
            {"fill": "#7a0177", "fill_opacity": 0.5},
        ),
        "general_control": (
            "general control zone",
            "#7a0177",
            {"fill": "#d4b9da", "fill_opacity": 0.45},
        ),
    },
)
_WATER = _swatches(
    "water_sources",
    "level",
    {
        "1": ("level-1 protection zone", "#08306b", {"fill": "#08519c", "fill_opacity": 0.5}),
        "2": ("level-2 protection zone", "#2171b5", {"fill": "#4292c6", "fill_opacity": 0.4}),
        "quasi": ("quasi-protection zone", "#4292c6", {"fill": "#9ecae1", "fill_opacity": 0.4}),
    },
)
_CORRIDORS = {
    cls: Swatch(
        value_label_zh("rivers", "corridor", cls),
        f"{cls} ecological corridor",
        colour,
        fill,
        fill_opacity=opacity,
        weight=0.6,
    )
    for cls, colour, fill, opacity in (
        ("provincial", "#01665e", "#35978f", 0.3),
        ("secondary", "#35978f", "#80cdc1", 0.25),
    )
}
_CORRIDOR_LINES = {
    kind: Swatch(
        schema.LAYER_SPECS[kind].label_zh,
        f"{schema.LAYER_SPECS[kind].label_en} (corridor centre lines)",
        colour,
        weight=1.6,
        dash=dash,
    )
    for kind, colour, dash in (("rivers", "#2b8cbe", None), ("roads_rails", "#525252", "5 3"))
}
_BOUNDARY = _swatches(
    "boundary",
    "level",
    {
        "province": ("province", "#252525", {"weight": 2.5}),
        "prefecture": ("prefecture", "#525252", {"weight": 1.2, "dash": "6 4"}),
        "county": ("county", "#969696", {"weight": 0.8, "dash": "2 3"}),
    },
)

_VERDICT_STYLES = {
    "not_assessed": ("not assessed", "#000000", "#9e9e9e", 0.6, 3.0, "6 4"),
    "prohibited": ("prohibited", "#a50f15", "#de2d26", 0.5, 2.5, None),
    "conditional": ("conditional (approval needed)", "#a63603", "#fd8d3c", 0.5, 2.5, None),
    "advisory": ("advisory", "#8c6d00", "#fed976", 0.55, 2.5, None),
    "clear": ("no conflict found", "#006d2c", "#74c476", 0.45, 2.0, None),
}
_SITES = {
    verdict: Swatch(schema.VERDICT_LABELS[verdict], en, colour, fill, opacity, weight, dash)
    for verdict, (en, colour, fill, opacity, weight, dash) in _VERDICT_STYLES.items()
}
_FINDING_STYLES = {
    "prohibited": ("#67000d", "#a50f15"),
    "conditional": ("#7f2704", "#d94801"),
    "advisory": ("#665200", "#d4a106"),
}
_FINDINGS = {
    severity: Swatch(
        f"冲突重叠（{schema.SEVERITY_LABELS[severity]}）",
        f"overlap, {_VERDICT_STYLES[severity][0]}",
        colour,
        fill,
        fill_opacity=0.8,
        weight=1.5,
    )
    for severity, (colour, fill) in _FINDING_STYLES.items()
}


def _single(kind: str, colour: str, fill: str, opacity: float, weight: float) -> dict[str, Swatch]:
    spec = schema.LAYER_SPECS[kind]
    return {kind: Swatch(spec.label_zh, spec.label_en, colour, fill, opacity, weight)}


_URBAN_BOUNDARY = {
    "urban_boundary": Swatch(
        schema.LAYER_SPECS["urban_boundary"].label_zh,
        schema.LAYER_SPECS["urban_boundary"].label_en,
        "#6a3d9a",
        None,
        weight=2.0,
        dash="8 4",
    )
}
_FOREST = _swatches(
    "forest_land",
    "protection_level",
    {
        "I": (
            "forest land, protection level I",
            "#00441b",
            {"fill": "#006d2c", "fill_opacity": 0.5},
        ),
        "II": ("forest land, level II", "#006d2c", {"fill": "#41ab5d", "fill_opacity": 0.4}),
        "III": ("forest land, level III", "#238b45", {"fill": "#a1d99b", "fill_opacity": 0.35}),
        "IV": ("forest land, level IV", "#41ab5d", {"fill": "#e5f5e0", "fill_opacity": 0.35}),
    },
)
_PARKS = _swatches(
    "national_parks",
    "zone",
    {
        "core_protection": (
            "national park core protection zone",
            "#3f007d",
            {"fill": "#6a51a3", "fill_opacity": 0.5, "weight": 1.5},
        ),
        "general_control": (
            "national park general control zone",
            "#54278f",
            {"fill": "#dadaeb", "fill_opacity": 0.4, "weight": 1.5},
        ),
    },
)
_CULTIVATED = {
    "cultivated_land": Swatch("耕地", "cultivated land", "#d8b365", "#f6e8c3", 0.3, 0.4),
    "cultivated_land.black_soil": Swatch(
        "耕地（黑土地）", "cultivated land, black soil", "#8c510a", "#bf812d", 0.3, 0.4
    ),
}
_GEOHAZARD = _swatches(
    "geohazard",
    "level",
    {
        "danger": ("geohazard danger zone", "#7f0000", {"fill": "#d7301f", "fill_opacity": 0.5}),
        "high": ("geohazard prone area, high", "#b30000", {"fill": "#fc8d59", "fill_opacity": 0.3}),
        "medium": (
            "geohazard prone area, medium",
            "#d7301f",
            {"fill": "#fdbb84", "fill_opacity": 0.3},
        ),
        "low": ("geohazard prone area, low", "#ef6548", {"fill": "#fee8c8", "fill_opacity": 0.3}),
    },
)
_HERITAGE = _swatches(
    "heritage",
    "zone",
    {
        "protection": (
            "heritage protection range",
            "#662506",
            {"fill": "#993404", "fill_opacity": 0.55, "weight": 1.5},
        ),
        "construction_control": (
            "heritage construction-control zone",
            "#993404",
            {"fill": "#fec44f", "fill_opacity": 0.35, "weight": 1.2, "dash": "4 3"},
        ),
    },
)
_BARRIER = _swatches(
    "ecological_barrier",
    "category",
    {
        "green_heart": (
            "green heart",
            "#00441b",
            {"fill": "#74c476", "fill_opacity": 0.3, "weight": 1.5},
        ),
        "barrier_belt": (
            "ecological barrier belt",
            "#006d2c",
            {"fill": "#c7e9c0", "fill_opacity": 0.3, "weight": 1.5, "dash": "6 3"},
        ),
    },
)


#: Map layer → category key → swatch. Planning kinds use canonical values as keys (zoning:
#: ``zone`` or ``"restricted.<subtype>"``); ``sites`` uses verdicts, ``findings`` severities,
#: ``corridors`` corridor classes, ``corridor_lines`` the line layer kinds.
PALETTES: Final[Mapping[str, Mapping[str, Swatch]]] = MappingProxyType(
    {
        "zoning": MappingProxyType(_ZONING),
        "farmland": MappingProxyType(_single("farmland", "#bf812d", "#f6e8c3", 0.55, 0.5)),
        "scenic": MappingProxyType(_single("scenic", "#ae017e", "#f768a1", 0.3, 1.5)),
        "water_sources": MappingProxyType(_WATER),
        "reserves": MappingProxyType(_RESERVES),
        "redlines": MappingProxyType(_single("redlines", "#e31a1c", "#fc9272", 0.25, 1.5)),
        "corridors": MappingProxyType(_CORRIDORS),
        "corridor_lines": MappingProxyType(_CORRIDOR_LINES),
        "boundary": MappingProxyType(_BOUNDARY),
        "urban_boundary": MappingProxyType(_URBAN_BOUNDARY),
        "forest_land": MappingProxyType(_FOREST),
        "national_parks": MappingProxyType(_PARKS),
        "cultivated_land": MappingProxyType(_CULTIVATED),
        "geohazard": MappingProxyType(_GEOHAZARD),
        "heritage": MappingProxyType(_HERITAGE),
        "river_management": MappingProxyType(
            _single("river_management", "#0570b0", "#74a9cf", 0.35, 0.8)
        ),
        "ecological_barrier": MappingProxyType(_BARRIER),
        "findings": MappingProxyType(_FINDINGS),
        "sites": MappingProxyType(_SITES),
    }
)

_SPECIAL_LABELS: Final = {
    "corridors": "生态廊道 Ecological corridors",
    "findings": "冲突重叠部分 Conflict overlaps",
    "sites": "建设项目选址 Proposed sites",
}
_NOT_GROUPS: Final = ("corridor_lines",)

#: Names of the map's layer groups (layer control and legend headings), Chinese and English:
#: every palette's, planning kinds named as in :data:`redline.schema.LAYER_SPECS`.
LAYER_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        name: _SPECIAL_LABELS.get(name)
        or f"{schema.LAYER_SPECS[name].label_zh} {schema.LAYER_SPECS[name].label_en}"
        for name in PALETTES
        if name not in _NOT_GROUPS
    }
)

#: Palettes shown under each layer group's legend heading: sites and overlaps first.
_LEGEND_GROUPS: Final = MappingProxyType(
    {
        "sites": ("sites",),
        "findings": ("findings",),
        **{
            name: (name, "corridor_lines") if name == "corridors" else (name,)
            for name in LAYER_LABELS
            if name not in ("sites", "findings")
        },
    }
)

LEGEND_CSS: Final = """
.leaflet-container { background: #f4f4f0; font-family: "Noto Sans CJK SC", "Source Han Sans SC",
  "Microsoft YaHei", "PingFang SC", "Helvetica Neue", Arial, sans-serif; }
.redline-legend { background: rgba(255, 255, 255, 0.94); padding: 6px 10px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35); font-size: 12px; line-height: 1.35;
  max-height: calc(100vh - 250px); overflow-y: auto; max-width: 330px; color: #222; }
.redline-legend .rl-source { color: #444; margin-bottom: 2px; }
.redline-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%);
  z-index: 800; background: rgba(255, 255, 255, 0.9); padding: 4px 12px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0, 0, 0, 0.3); font-size: 13px; text-align: center;
  pointer-events: none; max-width: 46%; color: #222; }
.redline-title span { font-size: 11px; color: #444; }
.redline-north { background: rgba(255, 255, 255, 0.85); border-radius: 4px; padding: 2px;
  line-height: 0; }
.leaflet-tooltip.rl-label { background: rgba(255, 255, 255, 0.8); border: 0; box-shadow: none;
  padding: 0 3px; font-size: 11px; font-weight: 600; color: #111; }
.leaflet-tooltip.rl-label::before { display: none; }
.redline-legend summary { font-weight: 600; font-size: 13px; cursor: pointer; }
.redline-legend .rl-title { font-weight: 600; margin: 4px 0 2px; }
.redline-legend h4 { font-size: 12px; margin: 7px 0 2px; color: #444; }
.redline-legend div.rl-entry { display: flex; align-items: center; gap: 6px; margin: 1px 0; }
.redline-legend .rl-note { color: #a50f15; margin-top: 6px; max-width: 300px; }
.redline-legend i.rl-box { display: inline-block; width: 16px; height: 11px; flex: none;
  box-sizing: border-box; }
.redline-legend i.rl-line { display: inline-block; width: 18px; height: 0; flex: none; }
.redline-popup { font-size: 12px; }
.redline-popup .rl-head { font-size: 13px; margin-bottom: 4px; }
.redline-popup .rl-verdict { display: inline-block; padding: 1px 6px; border: 2px solid;
  border-radius: 3px; font-weight: 600; margin-bottom: 4px; }
.redline-popup .rl-reason { color: #a50f15; margin: 3px 0; }
.redline-popup .rl-known { font-weight: 600; margin: 2px 0; }
.redline-popup table { border-collapse: collapse; margin-top: 4px; }
.redline-popup th, .redline-popup td { border: 1px solid #ccc; padding: 2px 4px;
  vertical-align: top; text-align: left; }
.redline-popup th { background: #f0f0f0; white-space: nowrap; }
.redline-popup td.rl-num { text-align: right; white-space: nowrap; }
.redline-popup .rl-en, .redline-popup .rl-feature { color: #555; }
"""


def legend_html(
    used: Mapping[str, Iterable[str]],
    *,
    title: str,
    source: str | None = None,
    counts: Mapping[str, int] | None = None,
    notes: Sequence[str] = (),
    absent: Iterable[str] = (),
) -> str:
    """HTML of the legend: one heading per layer group, one entry per category drawn.

    Parameters
    ----------
    used
        Palette name → category keys present on the map (others are left out).
    title
        Heading of the legend (plain text; escaped here).
    source
        The line naming the planning and ruleset, under the title (plain text).
    counts
        Number of sites per verdict, shown after the verdict captions.
    notes
        Warning lines shown under the entries (plain text; escaped here).
    absent
        Layer kinds the planning declares absent, listed under their own heading.

    Returns
    -------
    str
        A ``<details>`` element (styled by :data:`LEGEND_CSS`, class :data:`LEGEND_CLASS` on
        its container); click its summary to fold it.

    Examples
    --------
    >>> print(legend_html({"sites": ["prohibited"]}, title="Demo", counts={"prohibited": 1200},
    ...                   absent=["reserves"]))
    <details open><summary>图例 Legend</summary><div class="rl-title">Demo</div><h4>建设项目选址
    Proposed sites</h4><div class="rl-entry"><i class="rl-box" ...></i><span>禁止 prohibited
    (1,200)</span></div><h4>声明不存在的图层 Declared
    absent</h4><div class="rl-entry"><span>自然保护区 Nature reserves</span></div></details>
    """
    counts = counts or {}
    parts = [
        f'<details open><summary>图例 Legend</summary><div class="rl-title">'
        f"{html.escape(title)}</div>"
    ]
    if source:
        parts.append(f'<div class="rl-source">{html.escape(source)}</div>')
    for group, palettes in _LEGEND_GROUPS.items():
        entries = []
        for palette in palettes:
            keys = set(used.get(palette, ()))
            for key, swatch in PALETTES[palette].items():
                if key not in keys:
                    continue
                count = f" ({counts[key]:,})" if palette == "sites" and key in counts else ""
                entries.append(
                    f'<div class="rl-entry">{swatch.legend_icon()}<span>{swatch.label}'
                    f"{count}</span></div>"
                )
        if entries:
            parts.append(f"<h4>{html.escape(LAYER_LABELS[group])}</h4>{''.join(entries)}")
    declared = sorted(set(absent))
    if declared:
        parts.append("<h4>声明不存在的图层 Declared absent</h4>")
        parts.extend(
            f'<div class="rl-entry"><span>{html.escape(_kind_label(kind))}</span></div>'
            for kind in declared
        )
    parts.extend(f'<div class="rl-note">{html.escape(note)}</div>' for note in notes)
    parts.append("</details>")
    return "".join(parts)


def _kind_label(kind: str) -> str:
    spec = schema.LAYER_SPECS.get(kind)
    return f"{spec.label_zh} {spec.label_en}" if spec is not None else kind


def _rgba(colour: str, opacity: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{opacity:g})"
