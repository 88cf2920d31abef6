"""国家公园 (national parks): the Jilin part of 东北虎豹国家公园."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from sample.common import KM, blob, frame, polygonal, rng_for
from sample.layers import Layers


def make_national_parks(layers: Layers, urban: BaseGeometry) -> gpd.GeoDataFrame:
    """东北虎豹国家公园 (east of Hunchun and Wangqing): the Hunchun tiger reserve and an invented
    northern block as 核心保护区, the rest 一般控制区."""
    r = rng_for("national-park")
    park = shapely.difference(
        shapely.intersection(blob((130.55, 43.40), (42.0, 30.0), r, angle=40.0, rough=0.2),
                             layers.ref.outline),
        urban.buffer(1 * KM),
    )
    core = shapely.intersection(
        shapely.union_all([layers.reserve_outer["珲春东北虎"],
                           blob((130.35, 43.70), (14.0, 10.0), r, angle=10.0, rough=0.25)]),
        park,
    )
    rows = [
        {"feature_id": "GJGY011", "name": "东北虎豹国家公园核心保护区", "zone": "核心保护区",
         "park": "东北虎豹国家公园"},
        {"feature_id": "GJGY012", "name": "东北虎豹国家公园一般控制区", "zone": "一般控制区",
         "park": "东北虎豹国家公园"},
    ]
    return frame(rows, [polygonal(core), polygonal(shapely.difference(park, core))])
