"""The order of ecological migration (生态移民): who moves out of protected areas, and first.

The 2014 Jilin opinions (二(一)4) move population out of nature reserves in the order core →
buffer → experimental zone, and out of forest areas. Under the 2026 nature-reserve regulation
the zones are the core protection zone (the former core and buffer zones) and the general
control zone (the former experimental zone). :func:`migration_order` places every settlement in
the strictest zone it reaches and ranks it; settlements outside every such area are listed as
not concerned, and a settlement that cannot be placed is ``not_assessed`` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from redline import schema
from redline.errors import LayerError
from redline.geometry import NOT_ASSESSED_COLUMN, prepare_subjects
from redline.overlay import overlaps
from redline.planning import Planning, as_planning, load_planning

if TYPE_CHECKING:
    import folium

__all__ = ["MIGRATION_COLUMNS", "MIGRATION_ORDER", "POPULATION_COLUMNS", "Migration",
           "migration_order"]

#: Rank of each zone in the order of migration (1 first). Reserve and national-park zones of
#: both schemes; forest land after every protected-area zone.
MIGRATION_ORDER: Mapping[str, int] = {
    "core": 1, "core_protection": 1, "buffer": 2, "experimental": 3, "general_control": 3,
    "forest_land": 4,
}
#: Chinese names of the zones.
ZONE_LABELS: Mapping[str, str] = {
    "core": "核心区", "core_protection": "核心保护区", "buffer": "缓冲区", "experimental": "实验区",
    "general_control": "一般控制区", "forest_land": "林区",
}
#: Layer kinds a settlement is placed in, in the order they are read.
AREA_KINDS = ("reserves", "national_parks", "forest_land")
#: Where a settlement's population is read from (first present).
POPULATION_COLUMNS = ("population", "人口", "人口数", "常住人口", "户籍人口")
#: Columns :func:`migration_order` adds to the settlements.
MIGRATION_COLUMNS = (
    "area_kind", "protected_area", "zone", "zone_zh", "zone_2026", "order", "concerned",
    "population_used", "status", "not_assessed_reason",
)


@dataclass(frozen=True)
class Migration:
    """The result of :func:`migration_order`.

    Attributes
    ----------
    settlements
        The caller's settlements (index, columns, geometry kept) plus
        :data:`MIGRATION_COLUMNS`, in the order of migration (rank, then population, largest
        first); settlements not concerned and not assessed last.
    summary
        Per protected area and zone: ``order``, ``settlements``, ``population``, ranked.
    planning
        The one map the settlements were placed on.
    missing
        Layer kinds the order reads that the planning lacks (their areas were not assessed).

    Examples
    --------
    >>> result = migration_order(_example_settlements())
    >>> result.summary[["protected_area", "zone", "order", "population"]]
                  protected_area          zone  order  population
    0  吉林长白山国家级自然保护区          core      1         120
    1  吉林长白山国家级自然保护区        buffer      2         300
    """

    settlements: gpd.GeoDataFrame
    summary: pd.DataFrame
    planning: Planning = field(repr=False)
    missing: tuple[str, ...] = ()

    def map(self, **kwargs: Any) -> folium.Map:
        """Map of the settlements coloured by their rank, over the protected areas.

        Parameters
        ----------
        **kwargs
            Passed to :func:`redline.maps.migration_map`.

        Returns
        -------
        folium.Map

        Examples
        --------
        >>> type(migration_order(_example_settlements()).map()).__name__
        'Map'
        """
        from redline.maps.programme import migration_map

        return migration_map(self, **kwargs)

    def to_file(self, directory: str | Path) -> dict[str, Path]:
        """Write the settlements (GeoPackage, CSV) and the summary (CSV) into ``directory``.

        Parameters
        ----------
        directory
            Output folder, created if needed.

        Returns
        -------
        dict of str to pathlib.Path
            Role → path.

        Examples
        --------
        >>> import tempfile
        >>> paths = migration_order(_example_settlements()).to_file(tempfile.mkdtemp())
        >>> sorted(p.name for p in paths.values())
        ['migration.gpkg', 'migration_summary.csv', 'settlements.csv']
        """
        from redline.io import staged, write_layer
        from redline.report import CSV_ENCODING

        directory = Path(directory)
        with staged(directory) as folder:
            write_layer(self.settlements, folder / "migration.gpkg", layer="settlements")
            write_layer(self.settlements, folder / "settlements.csv", encoding=CSV_ENCODING)
            self.summary.to_csv(folder / "migration_summary.csv", index=False,
                                encoding=CSV_ENCODING)
        return {"geopackage": directory / "migration.gpkg",
                "settlements": directory / "settlements.csv",
                "summary": directory / "migration_summary.csv"}


def migration_order(
    settlements: gpd.GeoDataFrame,
    planning: Planning | None = None,
    *,
    population: str | None = None,
    crs: Any = None,
) -> Migration:
    """Place settlements in protected-area zones and rank them in the order of migration.

    A settlement (point or polygon) is placed in the strictest zone any part of it lies in:
    a nature reserve's or national park's core (or core protection) zone ranks 1, a buffer zone
    2, an experimental (general control) zone 3, forest land (``forest_land`` layer) 4. Zones
    drawn in the three-zone scheme are also given their 2026 zone (``zone_2026``: core and
    buffer → core protection, experimental → general control).

    Parameters
    ----------
    settlements
        Points or polygons in any declared CRS, with a population column (not modified).
    planning
        The one map (default: the bundled illustrative sample).
    population
        The population column; default the first of :data:`POPULATION_COLUMNS` present.
    crs
        CRS to assume when ``settlements`` declares none.

    Returns
    -------
    Migration

    Raises
    ------
    LayerError
        No population column, non-numeric or negative population, or a planning with none of
        :data:`AREA_KINDS`.

    Examples
    --------
    >>> result = migration_order(_example_settlements())
    >>> result.settlements[["name", "zone", "zone_2026", "order", "concerned"]]
      name    zone        zone_2026  order  concerned
    0   村甲    core  core_protection      1       True
    1   村乙  buffer  core_protection      2       True
    2   村丙     NaN              NaN   <NA>      False
    """
    if not isinstance(settlements, gpd.GeoDataFrame):
        raise TypeError(f"settlements must be a GeoDataFrame, not {type(settlements).__name__}")
    planning = as_planning(planning)
    source = str(settlements.attrs.get("redline", {}).get("path", "settlements"))
    people = _population(settlements, population, source=source)
    kinds = [k for k in AREA_KINDS if k in planning]
    if not kinds:
        raise LayerError(f"the planning has none of the layers the migration order reads "
                         f"({', '.join(AREA_KINDS)}); add a reserves layer")
    ready = prepare_subjects(settlements, source=source, working_crs=planning.crs, crs=crs,
                             extent=planning.extent)
    n = len(settlements)
    best = np.full(n, 99)
    area_kind = np.full(n, None, dtype=object)
    name = np.full(n, None, dtype=object)
    zone = np.full(n, None, dtype=object)
    for kind in kinds:
        layer = planning[kind]
        pairs = overlaps(ready.geometry.to_numpy(), planning.prepared(kind), n_jobs=1)
        inside = pairs[(pairs["overlap_m2"] > 0) | (pairs["overlap_share"] > 0)]
        for subject, feature in zip(inside["subject"], inside["feature"], strict=True):
            zone_value = "forest_land" if kind == "forest_land" else layer["zone"].iloc[feature]
            rank = MIGRATION_ORDER.get(zone_value)
            if rank is not None and rank < best[subject]:
                best[subject], zone[subject], area_kind[subject] = rank, zone_value, kind
                name[subject] = _area_name(layer, feature)
    reasons = ready[NOT_ASSESSED_COLUMN].to_numpy(dtype=object)
    assessed = pd.isna(reasons)
    concerned = (best < 99) & assessed
    successors: Mapping[str, str] = schema.VALUE_SUCCESSORS.get(("reserves", "zone"), {})
    for values in (area_kind, name, zone):
        values[~concerned] = None
    out = settlements.copy()
    added = {
        "area_kind": area_kind,
        "protected_area": name,
        "zone": zone,
        "zone_zh": [ZONE_LABELS.get(z) if c else None
                    for z, c in zip(zone, concerned, strict=True)],
        "zone_2026": [successors.get(z, z if z in ("core_protection", "general_control") else None)
                      if c else None for z, c in zip(zone, concerned, strict=True)],
        "order": pd.array(np.where(concerned, best, 0), dtype="Int64"),
        "concerned": concerned,
        "population_used": people,
        "status": np.where(assessed, "assessed", "not_assessed"),
        "not_assessed_reason": reasons,
    }
    added["order"][~concerned] = pd.NA
    for column, values in added.items():
        out[column] = values
    ranked = out.assign(_rank=np.where(concerned, best, np.where(assessed, 100, 101)),
                        _people=-people.to_numpy(dtype=float))
    out = out.loc[ranked.sort_values(["_rank", "_people"], kind="stable").index]
    return Migration(settlements=out, summary=_summary(out), planning=planning,
                     missing=tuple(k for k in AREA_KINDS if k in schema.LAYER_SPECS
                                   and k not in planning
                                   and k not in getattr(planning, "absent", ())))


def _population(settlements: gpd.GeoDataFrame, column: str | None, *,
                source: str) -> pd.Series:
    names = (column,) if column else POPULATION_COLUMNS
    found = next((c for c in names if c in settlements.columns), None)
    if found is None:
        raise LayerError(f"{source}: no population column (looked for {list(names)}; columns: "
                         f"{list(settlements.columns)}); name it with population='…'")
    values = pd.to_numeric(settlements[found], errors="coerce")
    bad = values.isna() & settlements[found].notna() | (values < 0)
    if bad.any():
        raise LayerError(f"{source}: population column {found!r} holds values that are not "
                         f"non-negative numbers in rows {list(settlements.index[bad][:10])}")
    return values.fillna(0)


def _area_name(layer: gpd.GeoDataFrame, feature: int) -> object:
    for column in ("reserve", "park", "name"):
        if column in layer.columns and pd.notna(layer[column].iloc[feature]):
            return layer[column].iloc[feature]
    return layer["feature_id"].iloc[feature]


def _summary(settlements: gpd.GeoDataFrame) -> pd.DataFrame:
    concerned = pd.DataFrame(settlements[settlements["concerned"]])
    table = (concerned.groupby(["protected_area", "zone"], sort=False)
             .agg(order=("order", "first"), settlements=("order", "size"),
                  population=("population_used", "sum"))
             .reset_index())
    table["zone_zh"] = [ZONE_LABELS[z] for z in table["zone"]]
    table["population"] = table["population"].round().astype("int64")
    table = table.sort_values(["order", "population"], ascending=[True, False], kind="stable")
    return table[["protected_area", "zone", "zone_zh", "order", "settlements",
                  "population"]].reset_index(drop=True)


def _example_settlements() -> gpd.GeoDataFrame:
    """Three villages: in Changbaishan's core zone, its buffer zone, and outside (doctests)."""
    import shapely

    planning = load_planning()
    reserves = planning["reserves"].set_index("feature_id")
    changchun = gpd.GeoSeries([shapely.Point(125.32, 43.88)], crs=4490).to_crs(planning.crs)
    points = [reserves.geometry["ZRBHQ011"].representative_point(),  # core zone
              reserves.geometry["ZRBHQ012"].representative_point(),  # buffer zone
              changchun.iloc[0]]
    return gpd.GeoDataFrame({"name": ["村甲", "村乙", "村丙"], "population": [120, 300, 80]},
                            geometry=points, crs=planning.crs)
