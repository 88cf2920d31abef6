"""Folium maps of plannings and screenings, savable as self-contained offline HTML."""

from __future__ import annotations

from redline.maps.offline import inline_assets, render_html, save_map
from redline.maps.render import (
    BASEMAPS,
    CLEAR_AS_POINTS_ABOVE,
    GCJ02_HOSTS,
    LABEL_ZOOM,
    MIN_SITE_PX,
    PLANNING_ORDER,
    map_iframe,
    notebook_html,
    planning_map,
    screening_map,
)
from redline.maps.style import LAYER_LABELS, LEGEND_CLASS, PALETTES, Swatch

__all__ = [
    "BASEMAPS",
    "CLEAR_AS_POINTS_ABOVE",
    "GCJ02_HOSTS",
    "LABEL_ZOOM",
    "LAYER_LABELS",
    "LEGEND_CLASS",
    "MIN_SITE_PX",
    "PALETTES",
    "PLANNING_ORDER",
    "Swatch",
    "inline_assets",
    "map_iframe",
    "notebook_html",
    "planning_map",
    "render_html",
    "save_map",
    "screening_map",
]
