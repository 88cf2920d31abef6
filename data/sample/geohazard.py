"""地质灾害危险区 and 易发区 (geological hazard danger zones and prone areas)."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from sample.common import blob, frame, polygonal, rng_for
from sample.layers import Layers

GEOHAZARDS = (  # name, hazard, level, centre, radii km
    ("临江滑坡危险区", "滑坡", "危险区", (126.97, 41.86), (1.4, 0.9)),
    ("舒兰采煤塌陷危险区", "地面塌陷", "危险区", (127.03, 44.47), (2.2, 1.5)),
    ("辽源采煤塌陷危险区", "地面塌陷", "危险区", (125.21, 42.97), (1.8, 1.2)),
    ("珲春采煤塌陷危险区", "地面塌陷", "危险区", (130.27, 42.95), (1.6, 1.1)),
    ("长白山区崩塌滑坡高易发区", "崩塌、滑坡", "高易发区", (127.65, 42.15), (26.0, 18.0)),
    ("浑江沿岸崩塌高易发区", "崩塌", "高易发区", (126.80, 41.80), (18.0, 9.0)),
    ("延边山区滑坡中易发区", "滑坡、泥石流", "中易发区", (129.20, 43.55), (25.0, 16.0)),
    ("辉发河流域中易发区", "滑坡", "中易发区", (126.40, 42.75), (18.0, 12.0)),
)


def make_geohazard(layers: Layers, urban: BaseGeometry) -> gpd.GeoDataFrame:
    """Danger zones (small, incl. the mining subsidence of Shulan, Liaoyuan and Hunchun) and
    prone areas (large, in the mountains), outside towns."""
    r = rng_for("geohazard")
    rows, geoms = [], []
    for i, (name, hazard, level, centre, radii) in enumerate(GEOHAZARDS):
        shape = blob(centre, radii, r, angle=r.uniform(0, 180), rough=0.25)
        rows.append({"feature_id": f"DZZH{i + 1:03d}", "name": name, "level": level,
                     "hazard": hazard})
        geoms.append(polygonal(shapely.difference(shapely.intersection(shape, layers.ref.outline),
                                                  urban), min_area=1e4))
    return frame(rows, geoms)
