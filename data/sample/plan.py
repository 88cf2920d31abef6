"""The layers of a territorial-plan review (三区三线 and the registers a 用地预审 checks),
built in order from the planning layers (each kind from its own module)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import geopandas as gpd
import shapely

from sample.cultivated_land import make_cultivated_land
from sample.ecological_barrier import make_ecological_barrier
from sample.forest_land import make_forest_land
from sample.geohazard import make_geohazard
from sample.heritage import make_heritage
from sample.layers import Layers
from sample.national_parks import make_national_parks
from sample.river_management import make_river_management
from sample.urban_boundary import make_urban_boundary


@dataclass
class PlanLayers:
    urban_boundary: gpd.GeoDataFrame
    forest_land: gpd.GeoDataFrame
    national_parks: gpd.GeoDataFrame
    cultivated_land: gpd.GeoDataFrame
    geohazard: gpd.GeoDataFrame
    heritage: gpd.GeoDataFrame
    river_management: gpd.GeoDataFrame
    ecological_barrier: gpd.GeoDataFrame

    def frames(self) -> dict[str, gpd.GeoDataFrame]:
        """Layer kind → layer, in the order of the fields."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def build_plan_layers(layers: Layers) -> PlanLayers:
    urban = make_urban_boundary(layers)
    town = shapely.union_all(urban.geometry.values)
    return PlanLayers(
        urban,
        make_forest_land(layers, town),
        make_national_parks(layers, town),
        make_cultivated_land(layers, town),
        make_geohazard(layers, town),
        make_heritage(layers),
        make_river_management(layers),
        make_ecological_barrier(layers, town),
    )
