"""The "one map": every planning layer, typed, in one projected CRS, indexed once.

:class:`Planning` holds the vector layers in the canonical schema of :mod:`redline.schema`
(reprojected into the working CRS, geometries checked and repaired, each repair recorded) and the
rasters. :func:`load_planning` builds one from a TOML manifest that maps a dataset's own files,
field names and (Chinese) values onto the canonical ones.
"""

from __future__ import annotations

import dataclasses
import html
import logging
import threading
import tomllib
import warnings
from collections.abc import Callable, Iterable, Mapping
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from redline import schema
from redline.corridors import CORRIDOR_LAYERS, build_corridors
from redline.crs import (
    choose_working_crs,
    is_metric,
    lonlat_bounds,
    outside_extent,
    region_of,
    reprojection_bow,
    to_working,
)
from redline.errors import CRSError, GeometryError, IllustrativeDataWarning, LayerError
from redline.geometry import REPAIR_COLUMNS, null_or_empty, repair
from redline.io import read_layer
from redline.overlay import PreparedLayer, prepare_layer
from redline.raster import RasterLayer, open_raster

if TYPE_CHECKING:
    import folium

__all__ = ["Planning", "as_planning", "canonicalize", "load_planning"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class Planning:
    """The set of planning layers by kind, in one projected working CRS.

    Parameters
    ----------
    zoning, redlines, reserves, water_sources, farmland, scenic, rivers, roads_rails, boundary
        Vector layers in the canonical schema (see :data:`redline.schema.LAYER_SPECS`), in any
        declared CRS. ``feature_id`` and ``name`` are optional; canonical values may be given in
        their Chinese spelling (``"核心区"``). Inputs are not modified.
    urban_boundary, forest_land, national_parks, cultivated_land, geohazard, heritage
        More vector layers of a territorial-plan review (城镇开发边界, 林地, 国家公园, 耕地,
        地质灾害易发区/危险区, 文物保护范围/建设控制地带), in the same form.
    river_management, ecological_barrier
        河湖管理范围 and the 2014 opinions' ecological barriers (绿心, 屏障带), in the same form.
    landcover, dem
        Rasters: a :class:`redline.raster.RasterLayer` or a path (a land-cover path then needs
        ``landcover_classes``).
    landcover_classes
        Raster code to canonical land-cover class, for a ``landcover`` given as a path.
    crs
        The working CRS (projected, metres). Default: chosen from the data
        (:func:`redline.crs.choose_working_crs`): the layers' own CRS when they all share one
        projected metre CRS, else an equal-area conic fitted to the planning's extent. The
        choice and its reason are :attr:`crs_reason` and in :meth:`summary`.
    name
        A title shown in summaries and named in every output.
    illustrative
        The data are an illustrative sample, not official (the bundled sample is): loading
        it warns with :class:`~redline.errors.IllustrativeDataWarning`.
    absent
        Vector kinds the data owner declares absent: "there are none in this area", as distinct
        from "I do not have the data". Rules on an absent kind find nothing (a missing kind
        leaves the sites its rules apply to ``not_assessed``). A kind cannot be both given and
        declared absent.

    Attributes
    ----------
    crs
        The working CRS.
    crs_reason
        Why it was chosen.
    source_crs
        The CRS each vector layer was given in (kind → :class:`pyproj.CRS`): edges shared
        across a geographic and a projected CRS bow apart once reprojected, which the overlap
        tolerance allows for (:func:`redline.crs.reprojection_bow`).
    absent
        The kinds declared absent (a frozenset).
    region
        ``(minlon, minlat, maxlon, maxlat)`` where the planning's data lie: the boundary
        layer's box (else every layer's) widened by :data:`redline.crs.REGION_MARGIN_DEG`.
        Layers lying mostly apart from it are refused, sites not wholly inside it are
        ``not_assessed``.

    Raises
    ------
    LayerError
        Missing fields or unknown values (all problems in one message); a kind declared absent
        that is unknown, not a vector kind that rules read, or given as well.
    GeometryError
        Null or empty features, or geometries of the wrong family.
    CRSError
        A layer without CRS, or coordinates that do not fall in the planning's region (China,
        or the boundary layer's box with a margin).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> zones = gpd.GeoDataFrame({"zone": ["重点开发区域"]},
    ...                          geometry=[shapely.box(125.2, 43.7, 125.4, 43.9)], crs=4490)
    >>> planning = Planning(zoning=zones)
    >>> planning["zoning"].zone.tolist()
    ['key']
    >>> planning.extent is None  # no boundary layer: no extent check
    True
    >>> planning.crs.name, planning.absent
    ('CGCS2000 / Albers equal-area 43.5–44°N, CM 125.5°E (redline working CRS)', frozenset())
    >>> extent = load_planning().extent  # the bundled sample's province boundary
    >>> extent.geom_type, round(extent.area / 1e6, -3)  # km²
    ('Polygon', 191000.0)
    """

    #: The manifest the planning was loaded from (:func:`load_planning`); ``None`` when built
    #: from layers in memory.
    manifest: Path | None = None

    def __init__(
        self,
        *,
        zoning: gpd.GeoDataFrame | None = None,
        redlines: gpd.GeoDataFrame | None = None,
        reserves: gpd.GeoDataFrame | None = None,
        water_sources: gpd.GeoDataFrame | None = None,
        farmland: gpd.GeoDataFrame | None = None,
        scenic: gpd.GeoDataFrame | None = None,
        rivers: gpd.GeoDataFrame | None = None,
        roads_rails: gpd.GeoDataFrame | None = None,
        boundary: gpd.GeoDataFrame | None = None,
        urban_boundary: gpd.GeoDataFrame | None = None,
        forest_land: gpd.GeoDataFrame | None = None,
        national_parks: gpd.GeoDataFrame | None = None,
        cultivated_land: gpd.GeoDataFrame | None = None,
        geohazard: gpd.GeoDataFrame | None = None,
        heritage: gpd.GeoDataFrame | None = None,
        river_management: gpd.GeoDataFrame | None = None,
        ecological_barrier: gpd.GeoDataFrame | None = None,
        landcover: RasterLayer | str | Path | None = None,
        dem: RasterLayer | str | Path | None = None,
        landcover_classes: Mapping[int, str] | None = None,
        crs: Any = None,
        name: str = "",
        illustrative: bool = False,
        absent: Iterable[str] = (),
    ) -> None:
        given = {
            "zoning": zoning, "redlines": redlines, "reserves": reserves,
            "water_sources": water_sources, "farmland": farmland, "scenic": scenic,
            "rivers": rivers, "roads_rails": roads_rails, "boundary": boundary,
            "urban_boundary": urban_boundary, "forest_land": forest_land,
            "national_parks": national_parks, "cultivated_land": cultivated_land,
            "geohazard": geohazard, "heritage": heritage, "river_management": river_management,
            "ecological_barrier": ecological_barrier,
        }
        canonical: dict[str, gpd.GeoDataFrame] = {}
        problems: list[str] = []
        for kind, gdf in given.items():
            if gdf is None:
                continue
            if not isinstance(gdf, gpd.GeoDataFrame):
                raise TypeError(f"{kind} must be a GeoDataFrame, not {type(gdf).__name__}")
            layer, found = canonicalize(gdf, kind, source=gdf.attrs.get("redline", {}).get(
                "path", kind))
            canonical[kind] = layer
            problems.extend(found)
        if problems:
            raise LayerError("planning layers do not match the canonical schema:\n  - "
                             + "\n  - ".join(problems))
        self._assemble(canonical, landcover=landcover, dem=dem,
                       landcover_classes=landcover_classes, crs=crs, name=name,
                       illustrative=illustrative, absent=absent)

    @classmethod
    def _of_canonical(
        cls,
        layers: Mapping[str, gpd.GeoDataFrame],
        *,
        landcover: RasterLayer | None,
        dem: RasterLayer | None,
        crs: Any,
        name: str,
        illustrative: bool,
        absent: Iterable[str],
    ) -> Planning:
        """A planning of layers :func:`canonicalize` made already (:func:`load_planning`),
        which are not mapped a second time."""
        planning = cls.__new__(cls)
        planning._assemble(layers, landcover=landcover, dem=dem, landcover_classes=None,
                           crs=crs, name=name, illustrative=illustrative, absent=absent)
        return planning

    def _assemble(
        self,
        canonical: Mapping[str, gpd.GeoDataFrame],
        *,
        landcover: RasterLayer | str | Path | None,
        dem: RasterLayer | str | Path | None,
        landcover_classes: Mapping[int, str] | None,
        crs: Any,
        name: str,
        illustrative: bool,
        absent: Iterable[str],
    ) -> None:
        """Choose the working CRS; project, check and repair the canonical layers; open the
        rasters."""
        self.name = name
        self.illustrative = illustrative
        self.absent = frozenset(absent)
        problems = _absent_problems(self.absent, given=set(canonical))
        if problems:
            raise LayerError("planning layers do not match the canonical schema:\n  - "
                             + "\n  - ".join(problems))
        self.crs, self.crs_reason, self.region, lonlat = _working_crs(canonical, crs)
        self.source_crs = {kind: CRS.from_user_input(gdf.crs) for kind, gdf in canonical.items()}
        self._layers: dict[str, gpd.GeoDataFrame] = {}
        repairs = []
        for kind, gdf in canonical.items():
            layer, log_ = _project_and_repair(gdf, kind, working_crs=self.crs,
                                              region=self.region, lonlat=lonlat[kind])
            self._layers[kind] = layer
            repairs.append(log_)
        self.repairs = (pd.concat(repairs, ignore_index=True) if repairs
                        else pd.DataFrame(columns=list(REPAIR_COLUMNS)))
        self.rasters: dict[str, RasterLayer] = {}
        for kind, raster in (("landcover", landcover), ("dem", dem)):
            if raster is None:
                continue
            if not isinstance(raster, RasterLayer):
                raster = open_raster(raster, kind=kind,
                                     classes=landcover_classes if kind == "landcover" else None)
            self.rasters[kind] = raster
        self._init_caches()

    def _init_caches(self) -> None:
        """The caches of what is derived from the layers (built on first use, kept, dropped
        when pickled) and the lock under which threads build them once."""
        self._lock = threading.RLock()
        self._prepared: dict[str, PreparedLayer] = {}
        self._corridors: dict[tuple[tuple[str, float], ...],
                              tuple[gpd.GeoDataFrame, PreparedLayer] | None] = {}
        self._derived: dict[str, Any] = {}

    # -- access --------------------------------------------------------------------------
    @property
    def kinds(self) -> tuple[str, ...]:
        """Kinds present, vector layers first, in canonical order.

        Examples
        --------
        >>> load_planning().kinds
        ('zoning', 'redlines', 'reserves', 'water_sources', 'farmland', 'scenic', 'rivers',
         'roads_rails', 'boundary', 'urban_boundary', 'forest_land', 'national_parks',
         'cultivated_land', 'geohazard', 'heritage', 'river_management', 'ecological_barrier',
         'landcover', 'dem')
        """
        vectors = tuple(k for k in schema.VECTOR_KINDS if k in self._layers)
        return vectors + tuple(k for k in schema.RASTER_KINDS if k in self.rasters)

    def __contains__(self, kind: object) -> bool:
        return kind in self._layers or kind in self.rasters

    def __getitem__(self, kind: str) -> gpd.GeoDataFrame:
        """The canonical vector layer ``kind`` in the working CRS (a read-only view: copy it
        before changing it)."""
        if kind not in self._layers:
            present = ", ".join(self._layers) or "none"
            raise KeyError(f"no {kind!r} layer in this planning (vector layers present: {present})")
        return self._layers[kind]

    def get(self, kind: str) -> gpd.GeoDataFrame | None:
        """The vector layer ``kind``, or ``None`` when it is absent.

        ``planning[kind]`` raises :class:`KeyError` instead.

        Parameters
        ----------
        kind
            A vector layer kind (:data:`redline.schema.VECTOR_KINDS`).

        Returns
        -------
        geopandas.GeoDataFrame or None
            The canonical layer in the working CRS (a read-only view).

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> zones = gpd.GeoDataFrame({"zone": ["重点开发区域"]},
        ...                          geometry=[shapely.box(125.2, 43.7, 125.4, 43.9)], crs=4490)
        >>> planning = Planning(zoning=zones)
        >>> planning.get("zoning")[["feature_id", "zone"]]
          feature_id zone
        0   zoning-0  key
        >>> planning.get("redlines") is None
        True
        """
        return self._layers.get(kind)

    def sliver_bow(self, kind: str, subject_crs: Any) -> float:
        """How far reprojection can bow an edge that subjects given in ``subject_crs`` share
        with the layer ``kind`` (1/m; :func:`redline.crs.reprojection_bow` of the two CRSs the
        data came in), for the overlap tolerance (``sliver_bow`` of
        :func:`redline.overlay.overlaps`). A derived layer (corridors) counts the subjects'
        CRS only.

        Parameters
        ----------
        kind
            A layer kind (or ``"corridors"``).
        subject_crs
            The CRS the subjects were given in.

        Returns
        -------
        float

        Examples
        --------
        >>> planning = load_planning()  # its layers are in EPSG:4490
        >>> planning.sliver_bow("redlines", 4551) > 0, planning.sliver_bow("corridors", 4551)
        (True, 0.0)
        """
        return reprojection_bow((subject_crs, self.source_crs.get(kind)), self.region)

    def prepared(self, kind: str) -> PreparedLayer:
        """The overlay-ready form of layer ``kind`` (subdivided and indexed once, then cached).

        Parameters
        ----------
        kind
            A vector layer kind present in the planning.

        Returns
        -------
        PreparedLayer
            See :func:`redline.overlay.prepare_layer`.

        Raises
        ------
        KeyError
            The planning has no ``kind`` layer.

        Examples
        --------
        >>> planning = load_planning()
        >>> prepared = planning.prepared("redlines")
        >>> len(prepared), prepared is planning.prepared("redlines")
        (71, True)
        """
        with self._lock:  # threads sharing a planning prepare each layer once
            if kind not in self._prepared:
                self._prepared[kind] = prepare_layer(self[kind])
            return self._prepared[kind]

    def corridors(
        self, half_widths_m: Mapping[str, float]
    ) -> tuple[gpd.GeoDataFrame, PreparedLayer] | None:
        """Corridor polygons from the ``rivers`` and ``roads_rails`` lines, clipped to the
        extent, with their overlay-ready form; built once per set of half-widths.

        ``None`` when there are no line layers or no corridor reaches into the extent (a
        county's planning with no corridor in the county).

        Parameters
        ----------
        half_widths_m
            Half-width in metres on each side of the centreline, keyed ``"<layer>.<class>"``
            (:attr:`redline.rules.RuleSet.corridor_half_widths_m`).

        Returns
        -------
        tuple of (geopandas.GeoDataFrame, PreparedLayer) or None
            The corridors (columns :data:`redline.corridors.CORRIDOR_COLUMNS`) and their
            overlay-ready form.

        Examples
        --------
        >>> from redline.rules import load_rules
        >>> planning = load_planning()
        >>> corridors, prepared = planning.corridors(load_rules().corridor_half_widths_m)
        >>> corridors[["name", "source_layer", "corridor", "half_width_m"]].head(2)
                name source_layer    corridor  half_width_m
        0  第二松花江       rivers  provincial        1000.0
        1     松花江       rivers  provincial        1000.0
        """
        key = tuple(sorted(half_widths_m.items()))
        with self._lock:
            if key not in self._corridors:
                self._corridors[key] = self._build_corridors(half_widths_m)
            return self._corridors[key]

    def derived(self, name: str, build: Callable[[Planning], _T]) -> _T:
        """A value derived from this planning's layers, built once by ``build(self)`` and kept
        with the planning (so it lives and dies with it; threads build it once).

        Parameters
        ----------
        name
            The value's key; one name, one ``build``.
        build
            Computes the value from the planning.

        Returns
        -------
        object
            What ``build`` returned, the first time it was called for ``name``.

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> zones = gpd.GeoDataFrame({"zone": ["重点开发区域"]},
        ...                          geometry=[shapely.box(125.2, 43.7, 125.4, 43.9)], crs=4490)
        >>> planning = Planning(zoning=zones)
        >>> area = planning.derived("zoning.area", lambda p: float(p["zoning"].area.sum()))
        >>> round(area / 1e6), planning.derived("zoning.area", lambda p: 0.0) == area
        (358, True)
        """
        with self._lock:
            if name not in self._derived:
                self._derived[name] = build(self)
            return self._derived[name]

    def _build_corridors(
        self, half_widths_m: Mapping[str, float]
    ) -> tuple[gpd.GeoDataFrame, PreparedLayer] | None:
        lines = {k: self._layers[k] for k in CORRIDOR_LAYERS if k in self._layers}
        if not lines:
            return None
        if self.extent is not None:
            whole = build_corridors(lines, half_widths_m=half_widths_m)
            reach = shapely.area(shapely.intersection(np.asarray(whole.geometry.values),
                                                      self.extent))
            if not (reach > 0).any():
                return None
        features = build_corridors(lines, half_widths_m=half_widths_m, clip=self.extent)
        return features, prepare_layer(features)

    @cached_property
    def extent(self) -> shapely.Geometry | None:
        """The area the layers cover, in the working CRS: the province (or all) boundary
        features, else ``None`` (no extent check).

        Sites not wholly inside it are not assessed. (A cached property: doctest does not
        collect its docstring, so its example is in the class docstring.)
        """
        boundary = self._layers.get("boundary")
        if boundary is None:
            return None
        province = boundary[boundary["level"] == "province"]
        parts = province if len(province) else boundary
        return shapely.union_all(np.asarray(parts.geometry.values))

    def __getstate__(self) -> dict[str, Any]:
        # Prepared layers hold spatial indexes; rebuild them lazily after unpickling (dask).
        # A raster's read-only class table (a mappingproxy) cannot be pickled: send a dict.
        state = self.__dict__.copy()
        for cache in ("_lock", "_prepared", "_corridors", "_derived"):
            del state[cache]
        state["rasters"] = {kind: dataclasses.replace(raster, classes=dict(raster.classes))
                            for kind, raster in self.rasters.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["rasters"] = {
            kind: dataclasses.replace(raster, classes=MappingProxyType(raster.classes))
            for kind, raster in state["rasters"].items()
        }
        self.__dict__.update(state)
        self._init_caches()

    # -- display -------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """One row per layer — kind, Chinese and English names, feature count, source — then
        one per kind declared absent, then the working CRS and why it was chosen.

        Returns
        -------
        pandas.DataFrame
            Columns ``kind``, ``名称``, ``name``, ``features`` (``<NA>`` for rasters and the CRS
            row), ``repairs`` (features repaired on loading), ``source``, ``encoding`` (of the
            attribute text as read, e.g. detected GB18030; empty when not read from a file) and
            ``note`` ("declared absent" for absent kinds; the reason on the ``working_crs`` row,
            whose ``name`` is the CRS).

        Examples
        --------
        >>> load_planning().summary()[["kind", "name", "features"]].head(3)
               kind                             name  features
        0    zoning            Main functional zones        34
        1  redlines  Ecological protection red lines        71
        2  reserves                   Nature reserves        18
        >>> load_planning().summary().iloc[-1][["kind", "name", "note"]].tolist()
        ['working_crs', 'CGCS2000 / Albers equal-area 41.5–45.5°N, CM 126.5°E (redline working
         CRS)', "the layers are in EPSG:4490 (China Geodetic Coordinate System 2000), which is
         not projected in metres: an Albers equal-area conic fitted to the planning's extent
         (lon 121.65–131.28, lat 40.86–46.29), so that areas are exact"]
        """
        rows = []
        for kind in self.kinds:
            if kind in self._layers:
                gdf = self._layers[kind]
                spec = schema.LAYER_SPECS[kind]
                rows.append({
                    "kind": kind, "名称": spec.label_zh, "name": spec.label_en,
                    "features": len(gdf),
                    "repairs": int((self.repairs["layer"] == kind).sum()),
                    "source": gdf.attrs.get("redline", {}).get("path", "GeoDataFrame"),
                    "encoding": _encoding_note(gdf.attrs.get("redline", {})),
                    "note": "",
                })
            else:
                raster = self.rasters[kind]
                rows.append({"kind": kind, "名称": "土地覆盖" if kind == "landcover" else "高程",
                             "name": "Land cover" if kind == "landcover" else "Elevation",
                             "features": None, "repairs": 0, "source": str(raster.path),
                             "encoding": "", "note": ""})
        for kind in (k for k in schema.VECTOR_KINDS if k in self.absent):
            spec = schema.LAYER_SPECS[kind]
            rows.append({"kind": kind, "名称": spec.label_zh, "name": spec.label_en,
                         "features": 0, "repairs": 0, "source": "", "encoding": "",
                         "note": "declared absent (none in this area)"})
        rows.append({"kind": "working_crs", "名称": "工作坐标系", "name": self.crs.name,
                     "features": None, "repairs": 0, "source": "", "encoding": "",
                     "note": self.crs_reason})
        return pd.DataFrame(rows).astype({"features": "Int64"})

    def _bounds(self) -> tuple[float, ...] | None:
        if not self._layers:
            return None
        b = np.array([gdf.total_bounds for gdf in self._layers.values()])
        return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())

    def __repr__(self) -> str:
        bounds = self._bounds()
        extent = ("" if bounds is None else
                  " extent: {:.0f}, {:.0f} – {:.0f}, {:.0f} m\n".format(*bounds))
        lines = [f"Planning{' ' + repr(self.name) if self.name else ''}",
                 f" working CRS: {self.crs.name}", extent.rstrip("\n")]
        lines.append(f"  ({self.crs_reason})")
        for row in self.summary().iloc[:-1].itertuples():
            if row.note:
                lines.append(f"  {row.kind:<14} {row.note}")
                continue
            n = 0 if pd.isna(row.features) else int(row.features)
            count = "raster" if pd.isna(row.features) else f"{n} feature{'' if n == 1 else 's'}"
            fixes = f", {row.repairs} repaired" if row.repairs else ""
            text = f", text {row.encoding}" if row.encoding else ""
            lines.append(f"  {row.kind:<14} {count}{fixes}{text}")
        return "\n".join(line for line in lines if line)

    def _repr_html_(self) -> str:
        bounds = self._bounds()
        head = (f"<p><b>{html.escape(self.name or 'Planning')}</b><br>"
                f"working CRS: {html.escape(self.crs.name)} ({html.escape(self.crs_reason)})"
                + ("" if bounds is None else
                   "<br>extent: {:.0f}, {:.0f} – {:.0f}, {:.0f} m".format(*bounds))
                + f"<br>repairs: {len(self.repairs)}</p>")
        from redline.maps import notebook_html

        table = head + self.summary().iloc[:-1].to_html(index=False, na_rep="raster")
        return notebook_html(self, table_html=table)

    def map(self, **kwargs: Any) -> folium.Map:
        """Interactive map of the layers; options in :func:`redline.maps.planning_map`.

        Parameters
        ----------
        **kwargs
            Passed to :func:`redline.maps.planning_map`.

        Returns
        -------
        folium.Map

        Examples
        --------
        >>> import geopandas as gpd, shapely
        >>> zones = gpd.GeoDataFrame({"zone": ["重点开发区域"]},
        ...                          geometry=[shapely.box(125.2, 43.7, 125.4, 43.9)], crs=4490)
        >>> m = Planning(zoning=zones).map(basemap=None)
        >>> type(m).__name__
        'Map'
        """
        from redline.maps import planning_map

        return planning_map(self, **kwargs)


def canonicalize(
    gdf: gpd.GeoDataFrame,
    kind: str,
    *,
    source: str,
    fields: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Rename a layer's fields to the canonical ones and map its values to canonical values.

    Parameters
    ----------
    gdf
        The layer as read (not modified).
    kind
        Its layer kind.
    source
        File name or label used in messages.
    fields
        Canonical field name to the layer's own field name (identity when absent).
    values
        Per canonical field, the dataset's own value to canonical value.

    Returns
    -------
    layer, problems
        The canonical layer (every column of ``LAYER_SPECS[kind].fields``, + geometry,
        RangeIndex; values mapped onto canonical ones, an optional field the layer lacks all
        null, missing ids generated as ``"<kind>-<n>"``, missing names empty) and a list of
        problems found (empty when the layer is usable). A one-feature ``boundary`` layer needs
        no ``level``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> raw = gpd.GeoDataFrame({"BSM": ["BH01", None, "BH03"],
    ...                         "功能区": ["核心区", "缓冲区", "外围"]},
    ...                        geometry=[shapely.box(126.0, 42.0, 126.1, 42.1)] * 3, crs=4490)
    >>> fields = {"feature_id": "BSM", "zone": "功能区"}
    >>> layer, problems = canonicalize(raw, "reserves", source="demo.shp", fields=fields,
    ...                                values={"zone": {"外围": "experimental"}})
    >>> layer[["feature_id", "zone"]], problems
    (   feature_id          zone
    0        BH01          core
    1  reserves-1        buffer
    2        BH03  experimental, [])
    >>> canonicalize(raw, "reserves", source="demo.shp", fields=fields)[1]
    ["reserves (demo.shp): field '功能区' (zone) has 1 features with values that map to no
    canonical value: ['外围']; allowed: [...]; add them to the manifest's
    [layers.reserves.values.zone] table"]
    """
    if kind not in schema.LAYER_SPECS:
        valid = ", ".join(schema.VECTOR_KINDS)
        return gdf, [f"{source}: unknown layer kind {kind!r}; valid kinds: {valid}"]
    spec = schema.LAYER_SPECS[kind]
    fields = dict(fields or {})
    values = values or {}
    problems: list[str] = []
    if len(gdf) == 0:
        problems.append(f"{kind} ({source}): the layer has no features; an empty {kind} layer "
                        "would clear every site of it. Check the file (and `layer` in a "
                        "GeoPackage) or leave the kind out of the planning")
    unknown = set(fields) - set(spec.fields)
    if unknown:
        problems.append(f"{kind} ({source}): unknown canonical fields {sorted(unknown)}; "
                        f"valid: {list(spec.fields)}")
    unknown = set(values) - set(spec.fields)
    if unknown:
        problems.append(f"{kind} ({source}): value tables for unknown canonical fields "
                        f"{sorted(unknown)}; valid: {list(spec.fields)}")
    for name, table in values.items():
        allowed = schema.vocabulary(kind, name)
        wrong = {str(k): str(v) for k, v in table.items()
                 if allowed is not None and str(v) not in allowed}
        if wrong:
            problems.append(f"{kind} ({source}): [layers.{kind}.values.{name}] maps onto values "
                            f"that are not canonical: {wrong}; allowed: {list(allowed or ())}")
    out = gpd.GeoDataFrame(geometry=gdf.geometry.values, crs=gdf.crs)
    out.attrs = {"redline": dict(gdf.attrs.get("redline", {}), kind=kind)}
    required = _required(kind, len(gdf))
    for name in spec.fields:
        column = fields.get(name, name)
        if column not in gdf.columns:
            # an optional field left out reads as null: rules selecting on it match nothing
            out[name] = np.full(len(gdf), None, dtype=object)
            if name in required or name in fields:
                hint = (f"map it in the manifest: [layers.{kind}.fields] {name} = \"<field>\""
                        if name not in fields else "check the field name in the manifest")
                problems.append(f"{kind} ({source}): field {column!r} for {name!r} is missing; "
                                f"fields present: {[c for c in gdf.columns if c != 'geometry']}; "
                                f"{hint}")
            continue
        raw = gdf[column].to_numpy(dtype=object)
        if name == "feature_id":
            out[name] = raw
            continue
        # every field is mapped (Chinese spellings, the manifest's own table); a field with a
        # closed vocabulary must end up inside it, or rules selecting on it would miss features
        extra = {str(k): str(v) for k, v in values.get(name, {}).items()}
        given = pd.notna(raw)
        mapped = np.full(len(raw), None, dtype=object)
        lookup = {v: schema.canonical_value(kind, name, v, extra) for v in pd.unique(raw[given])}
        mapped[given] = [lookup[v] for v in raw[given]]
        allowed = schema.vocabulary(kind, name)
        bad = pd.isna(mapped) if name in required else np.zeros(len(raw), dtype=bool)
        if allowed is not None:
            bad |= pd.notna(mapped) & ~np.isin(mapped.astype(str), list(allowed))
        if bad.any():
            offending = sorted({str(v) if pd.notna(v) else "<missing>" for v in raw[bad]})[:10]
            problems.append(
                f"{kind} ({source}): field {column!r} ({name}) has {int(bad.sum())} "
                f"features with values that map to no canonical value: {offending}; "
                f"allowed: {list(allowed) if allowed else 'any non-empty text'}; add them "
                f"to the manifest's [layers.{kind}.values.{name}] table"
            )
        out[name] = mapped
    ids = (out["feature_id"].to_numpy(dtype=object) if "feature_id" in out
           else np.full(len(out), None, dtype=object))
    blank = pd.isna(ids) | (ids.astype(str) == "")  # features without an id get one
    out["feature_id"] = np.where(blank, [f"{kind}-{i}" for i in range(len(out))], ids.astype(str))
    duplicated = out["feature_id"][out["feature_id"].duplicated()].unique()
    if len(duplicated):
        problems.append(f"{kind} ({source}): feature ids are not unique: "
                        f"{list(duplicated[:10])}; give each feature its own id")
    out["name"] = out["name"].fillna("") if len(out) else out["name"]
    return gpd.GeoDataFrame(out[[*spec.fields, "geometry"]], crs=gdf.crs), problems


def _required(kind: str, n_features: int) -> set[str]:
    """The canonical fields a layer of ``kind`` with ``n_features`` features must fill: a
    one-feature boundary is the assessed extent whatever its level, so it needs none."""
    required = set(schema.LAYER_SPECS[kind].required)
    if kind == "boundary" and n_features == 1:
        required.discard("level")
    return required


def _absent_problems(absent: frozenset[str], *, given: set[str]) -> list[str]:
    """What is wrong with the kinds declared absent."""
    allowed = [k for k in schema.VECTOR_KINDS if k != "boundary"]
    problems = [f"absent: {kind!r} is not a layer kind rules read; declare one of {allowed}"
                for kind in sorted(absent - set(allowed))]
    problems += [f"absent: {kind!r} is declared absent but its layer is given as well; drop one"
                 for kind in sorted(absent & given)]
    return problems


def _working_crs(
    layers: Mapping[str, gpd.GeoDataFrame], crs: Any
) -> tuple[CRS, str, tuple[float, float, float, float], dict[str, np.ndarray]]:
    """The working CRS and why, the planning's region and each layer's lon/lat bounds.

    The region is the boundary layer's box (else every layer's) widened by
    :data:`~redline.crs.REGION_MARGIN_DEG`; rows of a layer lying apart from China do not count
    (such a layer is refused when it is checked against the region).
    """
    lonlat = {}
    for kind, gdf in layers.items():
        if gdf.crs is None:  # the message of to_working, which says how to declare one
            to_working(gdf.geometry, source=f"{kind} ({_source(gdf, kind)})")
        lonlat[kind] = lonlat_bounds(gdf)
    basis = [lonlat["boundary"]] if "boundary" in lonlat else list(lonlat.values())
    rows = np.concatenate(basis) if basis else np.empty((0, 4))
    rows = rows[np.isfinite(rows).all(axis=1) & ~outside_extent(rows)]
    box = region_of(rows, margin=0.0)
    if crs is not None:
        working = CRS.from_user_input(crs)
        reason = "given (crs= or the manifest's [planning] crs)"
    else:
        working, reason = choose_working_crs(
            [CRS.from_user_input(gdf.crs) for gdf in layers.values()], box)
    if not is_metric(working):
        raise CRSError(
            f"the working CRS must be projected with metre units; received {working.name}. "
            "Use an equal-area or Gauss-Krüger CRS such as EPSG:4551."
        )
    region = region_of(rows)
    return working, reason, region, lonlat


def _source(layer: gpd.GeoDataFrame, kind: str) -> str:
    return str(layer.attrs.get("redline", {}).get("path", kind))


def _project_and_repair(
    layer: gpd.GeoDataFrame,
    kind: str,
    *,
    working_crs: CRS,
    region: tuple[float, float, float, float],
    lonlat: np.ndarray,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Refuse null geometries, reproject into the working CRS once, repair what is invalid."""
    source = layer.attrs.get("redline", {}).get("path", kind)
    missing = null_or_empty(layer.geometry.values)
    if missing.any():
        ids = layer["feature_id"][missing].tolist()
        raise GeometryError(
            f"{kind} ({source}): {len(ids)} features have null or empty geometry: "
            f"{ids[:10]}{' …' if len(ids) > 10 else ''}. A planning layer with holes in it "
            "would pass sites it should stop: fix or remove these features in the source "
            "(a truncated file is the usual cause)."
        )
    attrs = layer.attrs
    # indexed by feature id so that a CRS error names the features, not row numbers
    projected = to_working(layer.set_index(layer["feature_id"].to_numpy()),
                           source=f"{kind} ({source})", working_crs=working_crs, region=region,
                           lonlat=lonlat)
    repaired, repairs = repair(projected, source=f"{kind} ({source})",
                               family=schema.LAYER_SPECS[kind].geometry, id_column="feature_id")
    repairs = repairs.assign(layer=kind)
    repaired.attrs = attrs
    return repaired.reset_index(drop=True), repairs


#: Keys a ``[layers.<kind>]`` table of a manifest may hold.
_LAYER_KEYS = frozenset({"path", "layer", "crs", "encoding", "fields", "values"})


def as_planning(planning: Planning | None) -> Planning:
    """``planning``, or the bundled sample one map for ``None``: the one place the default
    planning is loaded (as :func:`redline.rules.as_ruleset` is for rules).

    Parameters
    ----------
    planning
        What a caller passed as ``planning=``.

    Returns
    -------
    Planning

    Raises
    ------
    TypeError
        ``planning`` is neither a :class:`Planning` nor ``None``.

    Examples
    --------
    >>> planning = as_planning(None)
    >>> as_planning(planning) is planning, "redlines" in planning
    (True, True)
    """
    if planning is None:
        return load_planning()
    if not isinstance(planning, Planning):
        raise TypeError(f"planning must be a Planning or None, not {type(planning).__name__}")
    return planning


def _encoding_note(provenance: Mapping[str, Any]) -> str:
    """How a layer's text was decoded, e.g. ``"GB18030 (detected)"``; empty if not known."""
    codec = provenance.get("encoding")
    source = provenance.get("encoding_source")
    return f"{codec} ({source})" if codec and source else (codec or "")


def load_planning(
    path: str | Path | None = None, *, crs: Any = None, absent: Iterable[str] | None = None
) -> Planning:
    """Load the one map described by a TOML manifest.

    Parameters
    ----------
    path
        The manifest file. ``None`` loads the bundled, illustrative Jilin sample.
    crs
        Working CRS override (projected, metres); the manifest's ``[planning] crs`` otherwise,
        else chosen from the data (see :class:`Planning`).
    absent
        Kinds declared absent (see :class:`Planning`), added to the manifest's
        ``[planning] absent = [...]``.

    Returns
    -------
    Planning
        Named after the manifest's ``[planning] name`` (else the file name); ``illustrative``
        for the bundled sample and for a manifest with ``[planning] illustrative = true``.

    Raises
    ------
    LayerError
        A missing, non-UTF-8 or invalid manifest; unknown kinds or keys; layers that do not
        match the canonical schema (every problem in one message).
    GeometryError, CRSError
        As for :class:`Planning`.

    Warns
    -----
    IllustrativeDataWarning
        The one map is illustrative (the bundled sample): its verdicts are examples.

    Examples
    --------
    >>> planning = load_planning()
    >>> "redlines" in planning.kinds and "landcover" in planning.kinds
    True
    """
    if path is None:
        from redline.datasets import get_path

        path = get_path("manifest")
    path = Path(path)
    try:
        manifest = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LayerError(f"manifest {path} does not exist") from None
    except UnicodeDecodeError:
        raise LayerError(f"manifest {path} is not UTF-8 text; re-save it as UTF-8 (TOML files "
                         "are always UTF-8, also when the data files are GBK)") from None
    except tomllib.TOMLDecodeError as err:
        raise LayerError(f"manifest {path} is not valid TOML: {err}") from None
    root = path.parent
    layers_section = manifest.get("layers", {})
    rasters_section = manifest.get("rasters", {})
    unknown = (set(layers_section) - set(schema.VECTOR_KINDS)) | (
        set(rasters_section) - set(schema.RASTER_KINDS))
    if unknown:
        raise LayerError(
            f"manifest {path}: unknown layer kinds {sorted(unknown)}; vector kinds: "
            f"{list(schema.VECTOR_KINDS)}, raster kinds: {list(schema.RASTER_KINDS)}"
        )
    layers: dict[str, gpd.GeoDataFrame] = {}
    problems: list[str] = []
    for kind, entry in layers_section.items():
        if not isinstance(entry, dict):
            problems.append(f"[layers.{kind}] must be a table with at least 'path'")
            continue
        unknown_keys = set(entry) - _LAYER_KEYS
        if unknown_keys:
            problems.append(f"[layers.{kind}] has unknown keys {sorted(unknown_keys)}; "
                            f"valid keys: {sorted(_LAYER_KEYS)}")
        if "path" not in entry:
            problems.append(f"[layers.{kind}] has no 'path'")
            continue
        file = root / entry["path"]
        gdf = read_layer(file, layer=entry.get("layer"), crs=entry.get("crs"),
                         encoding=entry.get("encoding"))
        layer, found = canonicalize(gdf, kind, source=str(file), fields=entry.get("fields"),
                                    values=entry.get("values"))
        layers[kind] = layer
        problems.extend(found)
    if problems:
        raise LayerError(f"manifest {path}: the layers do not match the canonical schema:\n  - "
                         + "\n  - ".join(problems))
    rasters: dict[str, RasterLayer] = {}
    for kind, entry in rasters_section.items():
        if "path" not in entry:
            raise LayerError(f"manifest {path}: [rasters.{kind}] has no 'path'")
        classes = {int(k): str(v) for k, v in entry.get("classes", {}).items()}
        rasters[kind] = open_raster(root / entry["path"], kind=kind,
                                    classes=classes if kind == "landcover" else None)
    info = manifest.get("planning", {})
    declared = info.get("absent", [])
    if not isinstance(declared, list) or not all(isinstance(k, str) for k in declared):
        raise LayerError(f"manifest {path}: [planning] absent must be a list of layer kinds, "
                         f'e.g. absent = ["reserves"]; received {declared!r}')
    from redline.datasets import get_path

    illustrative = bool(info.get("illustrative", False)) or path.resolve() == Path(
        get_path("manifest")).resolve()
    planning = Planning._of_canonical(layers, landcover=rasters.get("landcover"),
                                      dem=rasters.get("dem"),
                                      crs=crs if crs is not None else info.get("crs"),
                                      name=info.get("name", path.stem),
                                      illustrative=illustrative,
                                      absent=[*declared, *(absent or ())])
    planning.manifest = path.resolve()
    if illustrative:
        warnings.warn(f"the one map {planning.name!r} ({path}) is an illustrative sample, not "
                      "official data: its verdicts are examples, never a planning decision. "
                      "Screen against your own one map: --planning MANIFEST on the command "
                      "line, load_planning(MANIFEST) in Python", IllustrativeDataWarning,
                      stacklevel=2)
    return planning
