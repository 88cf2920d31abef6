"""The 2014 opinions' 二(四)5 barriers: the 长吉 green heart and the barrier belts."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from sample.common import KM, blob, frame, meander, polygonal, rng_for
from sample.layers import Layers


def make_ecological_barrier(layers: Layers, urban: BaseGeometry) -> gpd.GeoDataFrame:
    """The 长吉 "green heart" between Changchun and Jilin and the 大黑山 and 双阳–松花湖 barrier
    belts (invented outlines), outside towns."""
    r = rng_for("ecological-barrier")
    heart = shapely.difference(blob((125.98, 43.66), (16.0, 10.0), r, angle=15.0, rough=0.2),
                               urban)
    dahei = meander(((125.45, 43.20), (125.75, 43.62), (126.05, 44.05), (126.30, 44.45)), r,
                    amp=2 * KM).buffer(5 * KM)
    shuangyang = meander(((125.70, 43.47), (126.10, 43.52), (126.50, 43.60)), r,
                         amp=1.5 * KM).buffer(4 * KM)
    belts = [shapely.difference(b, shapely.union_all([urban, heart])) for b in (dahei, shuangyang)]
    rows = [
        {"feature_id": "STPZ001", "name": "长吉“绿心”", "category": "绿心"},
        {"feature_id": "STPZ002", "name": "大黑山生态屏障带", "category": "生态屏障"},
        {"feature_id": "STPZ003", "name": "双阳—松花湖生态屏障带", "category": "生态屏障"},
    ]
    geoms = [polygonal(shapely.intersection(g, layers.ref.outline)) for g in (heart, *belts)]
    return frame(rows, geoms)
