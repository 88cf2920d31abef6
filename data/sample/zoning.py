"""Main functional zones (主体功能区): prefecture cells, key development zones, the
agricultural region."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from sample.common import (
    KM,
    PREFECTURES,
    TOWNS,
    Warp,
    frame,
    meander,
    noise1d,
    polygonal,
    polygons_of,
    radial_profile,
    rng_for,
    star,
    to_metres,
    xy,
)
from sample.reserves import RESERVES


def make_cells(outline: Polygon) -> dict[str, BaseGeometry]:
    """Approximate prefecture units: warped Voronoi cells of the seats, clipped to the outline."""
    seats = [Point(xy(p[1])) for p in PREFECTURES]
    cells = shapely.get_parts(
        shapely.voronoi_polygons(MultiPoint(seats), extend_to=outline.envelope.buffer(300 * KM))
    )
    warp = Warp(rng_for("cells"), amp=6 * KM, wavelengths=(140 * KM, 70 * KM, 23 * KM))
    out: dict[str, BaseGeometry] = {}
    for (name, *_), seat in zip(PREFECTURES, seats, strict=True):
        cell = next(c for c in cells if c.contains(seat))
        out[name] = warp.apply(cell, step=2 * KM)
    names = list(out)
    for name in names[:-1]:  # the last unit takes the remainder so the units tile the outline
        out[name] = polygonal(shapely.intersection(out[name], outline), min_area=1.0)
    out[names[-1]] = polygonal(
        shapely.difference(outline, shapely.union_all([out[n] for n in names[:-1]])), min_area=1.0
    )
    for name, seat in zip(names, seats, strict=True):
        if not out[name].contains(seat):
            raise ValueError(f"warped prefecture cell {name} lost its seat")
    return out


def make_agri_region() -> Polygon:
    """The central plains (农产品主产区 candidates) between a wiggly west and east edge."""
    lat = np.arange(40.0, 47.5, 0.01)
    west = np.interp(
        lat,
        (40.0, 43.0, 43.8, 44.5, 45.0, 45.5, 47.5),
        (123.6, 123.6, 123.8, 123.7, 123.95, 124.4, 124.9),
    )
    east = plains_east_edge(lat)
    r = rng_for("agri-edges")
    west = (
        west
        + 0.13 * noise1d(lat, r, (1.7, 0.9, 0.43, 0.21))
        + 0.015 * noise1d(lat, r, (0.05, 0.031))
    )
    east = (
        east
        + 0.15 * noise1d(lat, r, (1.9, 0.8, 0.37, 0.19))
        + 0.015 * noise1d(lat, r, (0.06, 0.027))
    )
    ring = np.vstack([np.column_stack([west, lat]), np.column_stack([east, lat])[::-1]])
    return to_metres(Polygon(ring))


def plains_east_edge(lat: np.ndarray) -> np.ndarray:
    """Longitude where the central plains meet the eastern mountains (smooth, no noise)."""
    return np.interp(
        lat,
        (40.0, 41.5, 42.5, 43.0, 43.5, 44.0, 44.5, 45.0, 47.5),
        (125.0, 125.0, 125.3, 125.6, 126.0, 126.35, 126.9, 127.3, 127.5),
    )


def make_key_shapes() -> list[tuple[str, Polygon, Polygon]]:
    """Key development zones: wiggly circles around seats and towns, plus the Changchun–Jilin
    corridor. Each comes with its city core (no farmland there)."""
    out = []
    r = rng_for("key-zones")
    places = [(n, p, rad) for n, p, _, _, rad in PREFECTURES]
    places += [(n, p, rad) for n, (p, rad) in TOWNS.items() if rad > 0]
    for name, centre, radius in places:
        profile = radial_profile(r, rough=0.22)
        shape = star(
            xy(centre), (radius * KM, radius * KM * r.uniform(0.8, 1.0)), r.uniform(0, 180), profile
        )
        core = star(
            xy(centre), (radius * 0.45 * KM, radius * 0.45 * KM), 0.0, radial_profile(r, rough=0.1)
        )
        out.append((name, shape, core))
    corridor = meander((PREFECTURES[0][1], (125.9, 43.90), PREFECTURES[1][1]), r, amp=3 * KM)
    shape = Warp(r, amp=1.5 * KM, wavelengths=(30 * KM, 11 * KM)).apply(
        corridor.buffer(7 * KM), step=1 * KM
    )
    out.append(("长吉一体化", polygonal(shape), Polygon()))
    return out


def prefecture_of(cells: dict[str, BaseGeometry], geom: BaseGeometry) -> str:
    """The prefecture holding most of ``geom`` (or its representative point)."""
    pt = (
        geom.representative_point()
        if geom.geom_type != "LineString"
        else geom.interpolate(0.5, normalized=True)
    )
    for name, cell in cells.items():
        if cell.contains(pt):
            return name
    return min(cells, key=lambda n: cells[n].distance(pt))


def make_zoning(
    outline: Polygon,
    cells: dict[str, BaseGeometry],
    key_shapes: list[tuple[str, Polygon, Polygon]],
    agri: Polygon,
    reserve_outer: dict[str, BaseGeometry],
    scenic: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Tile the outline: prohibited areas first, key zones next, the rest restricted."""
    rows: list[dict[str, object]] = []
    geoms: list[BaseGeometry] = []
    taken = Polygon()
    protected = [(RESERVES[i].name, g) for i, g in enumerate(reserve_outer.values())]
    protected += list(zip(scenic["name"], scenic.geometry, strict=True))
    for name, geom in protected:
        piece = polygonal(
            shapely.difference(shapely.intersection(geom, outline), taken), min_area=1e4
        )
        if piece.is_empty:
            continue
        taken = shapely.union(taken, piece)
        rows.append({"name": f"{name}（禁止开发区域）", "zone": "禁止开发区域", "subtype": None})
        geoms.append(piece)
    prohibited = taken
    key = shapely.difference(
        shapely.intersection(shapely.union_all([s for _, s, _ in key_shapes]), outline), prohibited
    )
    rest = shapely.difference(shapely.difference(outline, prohibited), key)
    groups = (
        ("重点开发区域", "城市化地区", key),
        ("限制开发区域", "农产品主产区", shapely.intersection(rest, agri)),
        ("限制开发区域", "重点生态功能区", shapely.difference(rest, agri)),
    )
    names = list(cells)
    for zone, subtype, area in groups:
        pieces = {n: shapely.intersection(area, cells[n]) for n in names[:-1]}
        pieces[names[-1]] = shapely.difference(area, shapely.union_all(list(pieces.values())))
        for pref, piece in pieces.items():
            poly = polygonal(piece)
            if poly.area < 1e6:  # under 1 km²: left to the neighbouring unit of the same class
                continue
            if subtype == "城市化地区":
                label = f"{pref}重点开发区域"
            elif subtype == "农产品主产区":
                label = f"{pref}农产品主产区"
            elif poly.centroid.x > xy((125.5, 43.5))[0]:
                label = f"长白山森林生态功能区（{pref}）"
            else:
                label = f"西部草原湿地生态功能区（{pref}）"
            rows.append({"name": label, "zone": zone, "subtype": subtype})
            geoms.append(poly)
    # Pieces under 1 km² that were skipped: merge each into the feature it touches most.
    out = frame(rows, geoms)
    gap = polygonal(shapely.difference(outline, shapely.union_all(out.geometry.values)))
    for part in polygons_of(gap):
        shared = shapely.length(shapely.intersection(out.geometry.values, part.boundary))
        if shared.max() > 0:
            j = int(np.argmax(shared))
            out.loc[out.index[j], "geometry"] = polygonal(shapely.union(out.geometry.iloc[j], part))
    out.insert(0, "feature_id", [f"ZTGN{i + 1:03d}" for i in range(len(out))])
    return out
