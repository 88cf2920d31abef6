"""Folium maps of plannings and screenings, savable as self-contained offline HTML."""

from __future__ import annotations

from redline.maps.offline import inline_assets, save_map

__all__ = ["inline_assets", "save_map"]
