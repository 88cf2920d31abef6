"""文物保护单位: protection ranges and construction-control zones."""

from __future__ import annotations

import geopandas as gpd
import shapely

from sample.common import KM, blob, frame, polygonal, rng_for
from sample.layers import Layers

HERITAGE_SITES = (  # name, level, centre, radii km of the protection range
    ("高句丽王城、王陵及贵族墓葬（丸都山城）", "全国重点文物保护单位", (126.165, 41.155),
     (0.9, 0.7)),
    ("西古城遗址", "全国重点文物保护单位", (129.07, 42.63), (0.6, 0.5)),
    ("叶赫部城址", "全国重点文物保护单位", (124.57, 43.00), (0.7, 0.5)),
)


def make_heritage(layers: Layers) -> gpd.GeoDataFrame:
    """A protection range and a 1 km construction-control zone around it, per site."""
    r = rng_for("heritage")
    rows, geoms = [], []
    for i, (name, level, centre, radii) in enumerate(HERITAGE_SITES):
        protection = blob(centre, radii, r, angle=r.uniform(0, 180), rough=0.15)
        control = shapely.difference(protection.buffer(1 * KM, quad_segs=8), protection)
        for j, (zone, shape) in enumerate((("保护范围", protection), ("建设控制地带", control))):
            rows.append({"feature_id": f"WWBH{i + 1:02d}{j + 1}", "name": f"{name}{zone}",
                         "zone": zone, "site": name, "level": level})
            geoms.append(polygonal(shapely.intersection(shape, layers.ref.outline)))
    return frame(rows, geoms)
