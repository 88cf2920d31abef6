"""Folium maps of plannings and screenings, savable as self-contained offline HTML."""

from __future__ import annotations

from redline.maps.offline import inline_assets, render_html, save_map
from redline.maps.render import (
    BASEMAPS,
    GCJ02_HOSTS,
    PLANNING_ORDER,
    map_iframe,
    notebook_html,
    planning_map,
    screening_map,
)
from redline.maps.style import LAYER_LABELS, LEGEND_CLASS, PALETTES, Swatch

__all__ = [
    "BASEMAPS",
    "GCJ02_HOSTS",
    "LAYER_LABELS",
    "LEGEND_CLASS",
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
