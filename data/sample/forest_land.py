"""林地 (forest land) by protection level, in the eastern mountains."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from sample.common import KM, blob, frame, polygonal, rng_for, to_metres
from sample.layers import Layers
from sample.zoning import plains_east_edge

FOREST_BLOBS = (  # forest area, centre, radii km, protection level, public-welfare forest
    ("敦化", (127.60, 42.70), (24.0, 16.0), "Ⅱ级", "国家级二级公益林"),
    ("汪清", (128.70, 43.45), (22.0, 15.0), "Ⅱ级", "地方公益林"),
    ("临江", (127.10, 41.90), (18.0, 14.0), "Ⅲ级", "地方公益林"),
    ("图们", (129.40, 43.20), (20.0, 14.0), "Ⅲ级", "商品林"),
    ("桦甸", (126.70, 42.45), (15.0, 11.0), "Ⅳ级", "商品林"),
    ("和龙", (128.90, 42.35), (16.0, 12.0), "Ⅳ级", "商品林"),
)


def east_mountains(layers: Layers) -> BaseGeometry:
    """The eastern mountains: the province east of the central plains."""
    lat = np.arange(40.5, 46.6, 0.05)
    ring = [*zip(plains_east_edge(lat) + 0.15, lat, strict=True), (131.5, 46.5), (131.5, 40.5)]
    return shapely.intersection(to_metres(Polygon(ring)), layers.ref.outline)


def make_forest_land(layers: Layers, urban: BaseGeometry) -> gpd.GeoDataFrame:
    """林地 by protection level: level I around the forest reserves of the east, invented blobs
    of levels II–IV in the mountains; never in a town."""
    r = rng_for("forest-land")
    outside_towns = shapely.difference(east_mountains(layers), urban.buffer(500.0))
    level1 = shapely.intersection(
        shapely.union_all([layers.reserve_outer[s].buffer(2 * KM)
                           for s in ("长白山", "珲春东北虎", "龙湾")]),
        outside_towns,
    )
    rows = [{"feature_id": "LD0001", "name": "长白山等保护区周边Ⅰ级保护林地",
             "protection_level": "Ⅰ级", "public_welfare": "国家级一级公益林"}]
    geoms = [polygonal(level1)]
    taken = level1
    lakes = shapely.union_all(list(layers.lakes.values()))
    for i, (place, centre, radii, level, welfare) in enumerate(FOREST_BLOBS):
        shape = blob(centre, radii, r, angle=r.uniform(0, 180), rough=0.3)
        part = polygonal(shapely.difference(shapely.intersection(shape, outside_towns),
                                            shapely.union_all([taken, lakes])), min_area=1e5)
        if part.is_empty:
            continue
        taken = shapely.union(taken, part)
        rows.append({"feature_id": f"LD{i + 2:04d}", "name": f"{place}林区{level}林地",
                     "protection_level": level, "public_welfare": welfare})
        geoms.append(part)
    return frame(rows, geoms)
