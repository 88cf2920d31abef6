"""The static map inset of a review report, drawn offline with matplotlib.

The site, the planning features within a few kilometres, the overlaps hatched, a scale bar, a
north arrow (true north at the site, which the working CRS's grid north is not) and a
coordinate grid in the working CRS. No tiles and no network: only the planning's own layers.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from redline import schema

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from redline.review.content import SiteReview
    from redline.screening import Screening

__all__ = ["CJK_FONTS", "INSET_RADIUS_M", "map_inset"]

#: Planning features are drawn within this distance of the site (metres).
INSET_RADIUS_M = 2000.0
#: Fill colour per layer kind (unknown kinds are grey).
_COLOURS = {
    "zoning": "#636363", "redlines": "#e31a1c", "reserves": "#33a02c",
    "water_sources": "#1f78b4", "farmland": "#ffd92f", "scenic": "#b15928",
    "rivers": "#1f78b4", "roads_rails": "#4d4d4d", "boundary": "#000000",
}
#: Kinds drawn as outlines (they cover the whole view; a fill would hide the others).
_OUTLINED = frozenset({"zoning", "boundary"})
#: Fonts tried for Chinese labels; without any of them the labels are English only.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei",
              "PingFang SC", "WenQuanYi Micro Hei")
_SCALE_STEPS_M = (50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000)


def map_inset(screening: Screening, review: SiteReview, *, radius_m: float = INSET_RADIUS_M,
              dpi: int = 150) -> bytes | None:
    """Draw the site and its surroundings as a PNG.

    Parameters
    ----------
    screening
        The screening the review comes from (its planning layers and findings).
    review
        The site's review (:func:`redline.review.site_review`).
    radius_m
        Features within this distance of the site are drawn; the view is at least this wide
        on each side of the site.
    dpi
        Resolution of the PNG (the figure is 16 × 14 cm).

    Returns
    -------
    bytes or None
        The PNG, or ``None`` when the site has no geometry to draw.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> from redline.review import site_review
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> png = map_inset(result, site_review(result, "JL-0006"), dpi=40)
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    site = review.working_geometry
    if site is None:
        return None
    minx, miny, maxx, maxy = site.bounds
    half = max(maxx - minx, maxy - miny) / 2 * 1.3 + radius_m
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    view = shapely.box(cx - half, cy - half, cx + half, cy + half)
    cjk = _cjk_font()

    figure = Figure(figsize=(16 / 2.54, 14 / 2.54), dpi=dpi)
    ax = figure.add_subplot()
    handles = []
    planning = screening.planning
    for kind in planning.kinds:
        if kind in planning.rasters:
            continue
        layer = planning[kind]
        near = layer.iloc[layer.sindex.query(view, predicate="intersects")]
        if not len(near):
            continue
        colour = _COLOURS.get(kind, "#969696")
        spec = schema.LAYER_SPECS.get(kind)
        label = (f"{spec.label_zh} {spec.label_en}" if cjk else spec.label_en) if spec else kind
        geometries = near.geometry.to_numpy()
        outline = kind in _OUTLINED or (spec is not None and spec.geometry == "line")
        if kind in _OUTLINED:
            geometries = shapely.boundary(geometries)
        shapes = gpd.GeoSeries(shapely.intersection(geometries, view))
        shapes = shapes[~shapes.is_empty]
        if not len(shapes):
            continue
        if outline:
            shapes.plot(ax=ax, color=colour, linewidth=1.2 if kind in _OUTLINED else 1.6,
                        linestyle="--" if kind in _OUTLINED else "-")
        else:
            shapes.plot(ax=ax, facecolor=colour, edgecolor=colour, alpha=0.3, linewidth=1.0)
        handles.append(_patch(colour, label, line=outline,
                              dashed=kind in _OUTLINED))
    findings = screening.findings
    overlaps = findings[(findings["site_id"].astype(str) == review.site_id)
                        & (findings["overlap_m2"] > 0)]
    if len(overlaps):
        gpd.GeoSeries(overlaps.geometry.to_numpy()).plot(
            ax=ax, facecolor="none", edgecolor="#7a0177", hatch="////", linewidth=0.5)
        handles.append(_patch("none", "重叠 overlap" if cjk else "overlap", hatch="////"))
    gpd.GeoSeries([site]).plot(ax=ax, facecolor="none", edgecolor="#d7301f", linewidth=2.2,
                               markersize=60, color="#d7301f" if site.geom_type in (
                                   "Point", "MultiPoint", "LineString", "MultiLineString")
                               else None)
    handles.append(_patch("none", f"地块 site {review.site_id}" if cjk
                          else f"site {review.site_id}", edge="#d7301f"))
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.grid(True, linewidth=0.4, color="#888888", alpha=0.6)
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.tick_params(labelsize=6)
    ax.set_xlabel("x (m)", fontsize=7)
    ax.set_ylabel("y (m)", fontsize=7)
    ax.set_title(planning.crs.name, fontsize=7)
    _scale_bar(ax, half)
    _north_arrow(ax, screening, cx, cy, half)
    legend = ax.legend(handles=handles, loc="lower left", fontsize=6, framealpha=0.85)
    if cjk:
        for text in legend.get_texts():
            text.set_fontfamily([cjk, "DejaVu Sans"])
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _cjk_font() -> str | None:
    """A Chinese font matplotlib can use here, if any."""
    from matplotlib import font_manager

    names = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def _patch(colour: str, label: str, *, line: bool = False, dashed: bool = False,
           hatch: str | None = None, edge: str | None = None) -> object:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if line:
        return Line2D([], [], color=colour, linewidth=1.5, label=label,
                      linestyle="--" if dashed else "-")
    return Patch(facecolor=colour, edgecolor=edge or "#7a0177", hatch=hatch, label=label,
                 alpha=0.35 if edge is None and hatch is None else 1.0)


def _scale_bar(ax: Axes, half: float) -> None:
    """A bar of a round length about a quarter of the view, bottom right."""
    target = half / 2
    length = max((s for s in _SCALE_STEPS_M if s <= target), default=_SCALE_STEPS_M[0])
    x1, x0 = ax.get_xlim()[1] - half * 0.08, ax.get_xlim()[1] - half * 0.08 - length
    y = ax.get_ylim()[0] + half * 0.08
    ax.plot([x0, x1], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    ax.plot([x0, x0 + length / 2], [y, y], color="white", linewidth=1.5, solid_capstyle="butt")
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text((x0 + x1) / 2, y + half * 0.03, text, ha="center", va="bottom", fontsize=7)


def _north_arrow(ax: Axes, screening: Screening, cx: float, cy: float, half: float) -> None:
    """An arrow to true north at the site's centre, top right."""
    crs = screening.planning.crs
    to_geo = Transformer.from_crs(crs, 4326, always_xy=True)
    from_geo = Transformer.from_crs(4326, crs, always_xy=True)
    lon, lat = to_geo.transform(cx, cy)
    nx, ny = from_geo.transform(lon, lat + 0.01)
    direction = np.array([nx - cx, ny - cy])
    direction /= np.hypot(*direction)
    x0, y0 = cx + half * 0.82, cy + half * 0.62
    tip = (x0 + direction[0] * half * 0.2, y0 + direction[1] * half * 0.2)
    ax.annotate("N", xy=tip, xytext=(x0, y0), ha="center", va="top", fontsize=9,
                fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black",
                                               "linewidth": 1.5})
