"""What changed between two planning versions, and which verdicts it flipped.

:func:`diff_planning` compares two one maps kind by kind: features added, removed, reshaped
(area gained and lost; length for line layers) and features whose attributes changed, matched
by ``feature_id`` (a layer without unique ids is matched by exact geometry: only added and
removed can then be told). :func:`write_diff` writes the change table as CSV, the changed areas
as a GeoPackage and an offline map. :func:`with_previous` and :func:`verdict_flips` compare a
screening with an earlier output folder: every site gets ``previous_verdict`` and ``changed``,
and each flip is traced to the planning change near the site that caused it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from redline import schema
from redline.crs import CHINA_LONLAT_BOUNDS
from redline.errors import LayerError

if TYPE_CHECKING:
    import folium

    from redline.planning import Planning
    from redline.screening import Screening

__all__ = [
    "CHANGE_COLUMNS",
    "DIFF_FILES",
    "FLIP_COLUMNS",
    "PlanningDiff",
    "diff_planning",
    "previous_verdicts",
    "verdict_flips",
    "with_previous",
    "write_diff",
    "write_flips",
]

#: Columns of :attr:`PlanningDiff.changes` (plus ``geometry``: the changed area).
CHANGE_COLUMNS = ("kind", "feature_id", "name", "change", "gained", "lost", "unit",
                  "attributes")
#: Files :func:`write_diff` writes, by role.
DIFF_FILES = {"changes": "changes.csv", "geopackage": "changes.gpkg", "map": "changes.html"}
#: File :func:`write_flips` writes into an output folder.
FLIPS_FILE = "verdict_changes.csv"
#: Columns of :func:`verdict_flips`.
FLIP_COLUMNS = ("site_id", "previous_verdict", "verdict", "cause")
#: Changes of geometry smaller than this (m² or m) are not reshapes: the coordinates were
#: rewritten (reprojection, rounding) without moving the line on the ground.
_RESHAPE_TOLERANCE = 0.01
#: Change kinds, with the colour the map draws them in.
_CHANGE_COLOURS = {"added": "#d7301f", "removed": "#2171b5", "reshaped": "#fd8d3c",
                   "attributes": "#6a51a3"}


@dataclass(frozen=True)
class PlanningDiff:
    """The differences between two plannings.

    Attributes
    ----------
    changes
        One row per changed feature, columns :data:`CHANGE_COLUMNS`; ``geometry`` is what
        changed on the ground (the feature for added and removed, the symmetric difference for
        reshaped, the feature for attribute changes), in the new planning's working CRS.
    old_name, new_name
        The plannings' names.

    Examples
    --------
    >>> from redline import load_planning
    >>> same = diff_planning(load_planning(), load_planning())
    >>> len(same.changes), int(same.summary()["added"].sum())
    (0, 0)
    """

    changes: gpd.GeoDataFrame
    old_name: str = ""
    new_name: str = ""

    def summary(self) -> pd.DataFrame:
        """Per kind: features added, removed, reshaped, with attribute changes; area gained
        and lost.

        Returns
        -------
        pandas.DataFrame
            Columns ``kind``, ``added``, ``removed``, ``reshaped``, ``attributes``,
            ``gained`` and ``lost`` (m², or m for line layers), one row per kind with changes.

        Examples
        --------
        >>> from redline import load_planning
        >>> list(diff_planning(load_planning(), load_planning()).summary().columns)
        ['kind', 'added', 'removed', 'reshaped', 'attributes', 'gained', 'lost']
        """
        c = self.changes
        counts = pd.crosstab(c["kind"], c["change"]).reindex(
            columns=list(_CHANGE_COLOURS), fill_value=0)
        areas = c.groupby("kind")[["gained", "lost"]].sum().round(2)
        table = counts.join(areas).reset_index()
        return table.reindex(columns=["kind", *_CHANGE_COLOURS, "gained", "lost"]).fillna(0)


def _load(planning: Planning | str | os.PathLike[str], crs: Any) -> Planning:
    from redline.planning import Planning, load_planning

    if isinstance(planning, Planning):
        return planning
    return load_planning(Path(planning), crs=crs)


def diff_planning(
    old: Planning | str | os.PathLike[str], new: Planning | str | os.PathLike[str]
) -> PlanningDiff:
    """Compare two plannings (or the manifests of two) kind by kind.

    Parameters
    ----------
    old, new
        The earlier and the later version. Both are compared in ``new``'s working CRS.

    Returns
    -------
    PlanningDiff

    Examples
    --------
    >>> from redline import load_planning
    >>> from redline.planning import Planning
    >>> sample = load_planning()
    >>> reserves = sample["reserves"]
    >>> grown = reserves.assign(geometry=reserves.geometry.buffer(100)).iloc[1:]
    >>> new = Planning(reserves=grown, crs=sample.crs)
    >>> diff = diff_planning(Planning(reserves=reserves, crs=sample.crs), new)
    >>> diff.summary()[["kind", "removed", "reshaped"]]
           kind  removed  reshaped
    0  reserves        1        17
    """
    new_planning = _load(new, None)
    old_planning = _load(old, new_planning.crs)
    frames = []
    for kind in dict.fromkeys([*old_planning.kinds, *new_planning.kinds]):
        if kind in schema.RASTER_KINDS or kind in getattr(old_planning, "rasters", {}):
            continue
        before = old_planning.get(kind)
        after = new_planning.get(kind)
        before = _empty_like(after) if before is None else before.to_crs(new_planning.crs)
        after = _empty_like(before) if after is None else after
        frames.append(_diff_layer(kind, before, after))
    changes = pd.concat(frames, ignore_index=True) if frames else _empty_changes(
        new_planning.crs)
    return PlanningDiff(gpd.GeoDataFrame(changes, geometry="geometry", crs=new_planning.crs),
                        old_name=old_planning.name, new_name=new_planning.name)


def _empty_like(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return layer.iloc[:0]


def _empty_changes(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS},
                            geometry=gpd.GeoSeries([], crs=crs))


def _has_ids(layer: gpd.GeoDataFrame) -> bool:
    """Whether ``feature_id`` identifies the layer's features."""
    return "feature_id" in layer and bool(layer["feature_id"].notna().all()) and bool(
        layer["feature_id"].is_unique)


def _keys(layer: gpd.GeoDataFrame, by_id: bool) -> pd.Index:
    """Feature ids, or (without usable ids) the geometry's normalised WKB."""
    if by_id:
        return pd.Index(layer["feature_id"].astype(str))
    return pd.Index(shapely.to_wkb(shapely.normalize(layer.geometry.to_numpy()), hex=True))


def _diff_layer(kind: str, old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> pd.DataFrame:
    line = schema.LAYER_SPECS[kind].geometry == "line" if kind in schema.LAYER_SPECS else False
    measure = shapely.length if line else shapely.area
    by_id = _has_ids(old) and _has_ids(new)
    old = old.set_axis(_keys(old, by_id))
    new = new.set_axis(_keys(new, by_id))
    fields = [c for c in new.columns if c in old.columns and c not in ("geometry", "feature_id")]
    rows: list[dict[str, Any]] = []

    def row(key: str, change: str, feature: pd.Series, geometry: Any, gained: float,
            lost: float, attributes: str = "") -> None:
        rows.append({"kind": kind, "feature_id": feature.get("feature_id") if by_id else None,
                     "name": feature.get("name"), "change": change, "gained": gained,
                     "lost": lost, "unit": "m" if line else "m²", "attributes": attributes,
                     "geometry": geometry})

    for key in new.index.difference(old.index):
        feature = new.loc[key]
        row(key, "added", feature, feature.geometry, float(measure(feature.geometry)), 0.0)
    for key in old.index.difference(new.index):
        feature = old.loc[key]
        row(key, "removed", feature, feature.geometry, 0.0, float(measure(feature.geometry)))
    common = new.index.intersection(old.index)
    if by_id and len(common):
        a, b = old.loc[common], new.loc[common]
        gained = measure(shapely.difference(b.geometry.to_numpy(), a.geometry.to_numpy()))
        lost = measure(shapely.difference(a.geometry.to_numpy(), b.geometry.to_numpy()))
        for i, key in enumerate(common):
            changed = [f"{f}: {a.at[key, f]} → {b.at[key, f]}" for f in fields
                       if not _same(a.at[key, f], b.at[key, f])]
            reshaped = gained[i] > _RESHAPE_TOLERANCE or lost[i] > _RESHAPE_TOLERANCE
            if reshaped:
                moved = shapely.symmetric_difference(a.at[key, "geometry"],
                                                     b.at[key, "geometry"])
                row(key, "reshaped", b.loc[key], moved, float(gained[i]), float(lost[i]),
                    "; ".join(changed))
            elif changed:
                row(key, "attributes", b.loc[key], b.at[key, "geometry"], 0.0, 0.0,
                    "; ".join(changed))
    return pd.DataFrame(rows, columns=[*CHANGE_COLUMNS, "geometry"])


def _same(a: object, b: object) -> bool:
    """Equal attribute values, two missing values included."""
    if _present(a) and _present(b):
        return bool(a == b)
    return not _present(a) and not _present(b)


def write_diff(diff: PlanningDiff, directory: str | os.PathLike[str], *,
               offline: bool = True) -> dict[str, Path]:
    """Write the changes: ``changes.csv``, ``changes.gpkg`` (the changed areas) and
    ``changes.html`` (an offline map), moved into place together.

    Parameters
    ----------
    diff
        From :func:`diff_planning`.
    directory
        Output folder (created if needed).
    offline
        Inline the map's assets (:func:`redline.maps.save_map`).

    Returns
    -------
    dict of str to pathlib.Path
        Role → path, for the roles of :data:`DIFF_FILES`.

    Examples
    --------
    >>> import tempfile
    >>> from redline import load_planning
    >>> paths = write_diff(diff_planning(load_planning(), load_planning()), tempfile.mkdtemp())
    >>> sorted(p.name for p in paths.values())
    ['changes.csv', 'changes.gpkg', 'changes.html']
    """
    from redline.io import staged, write_layer
    from redline.maps import save_map
    from redline.report import CSV_ENCODING

    directory = Path(directory)
    changes = diff.changes
    with staged(directory) as folder:
        write_layer(pd.DataFrame(changes.drop(columns="geometry")),
                    folder / DIFF_FILES["changes"], encoding=CSV_ENCODING)
        write_layer(changes.assign(geometry=changes.geometry.where(~changes.geometry.is_empty,
                                                                   None)),
                    folder / DIFF_FILES["geopackage"], layer="changes")
        save_map(_diff_map(diff), folder / DIFF_FILES["map"], offline=offline)
    return {role: directory / name for role, name in DIFF_FILES.items()}


def _diff_map(diff: PlanningDiff) -> folium.Map:
    """The changed areas on a map without tiles, one layer per kind of change."""
    import folium

    changes = diff.changes[~diff.changes.geometry.is_empty & diff.changes.geometry.notna()]
    shown = changes.to_crs(4326)
    if len(shown):
        minx, miny, maxx, maxy = shown.total_bounds
        bounds = [[miny, minx], [maxy, maxx]]
    else:
        west, south, east, north = CHINA_LONLAT_BOUNDS  # nothing to fit: China
        bounds = [[south, west], [north, east]]
    m = folium.Map(tiles=None, control_scale=True)
    m.fit_bounds(bounds)
    for change, colour in _CHANGE_COLOURS.items():
        part = shown[shown["change"] == change]
        if not len(part):
            continue
        table = part[["kind", "feature_id", "name", "change", "gained", "lost", "attributes",
                      "geometry"]].assign(gained=part["gained"].round(1),
                                          lost=part["lost"].round(1))
        folium.GeoJson(
            table.to_json(drop_id=True), name=f"{change} ({len(part)})",
            style_function=lambda _, colour=colour: {"color": colour, "fillColor": colour,
                                                     "weight": 2, "fillOpacity": 0.35},
            tooltip=folium.GeoJsonTooltip(fields=["kind", "feature_id", "name", "change",
                                                  "gained", "lost", "attributes"]),
        ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def previous_verdicts(directory: str | os.PathLike[str]) -> pd.Series:
    """The verdicts of an earlier output folder, by ``site_id``.

    Parameters
    ----------
    directory
        An output folder of ``redline screen`` or :meth:`redline.Screening.to_file`.

    Returns
    -------
    pandas.Series
        ``verdict`` indexed by ``site_id`` (text).

    Raises
    ------
    LayerError
        The folder has no ``sites.csv``.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> folder = tempfile.mkdtemp()
    >>> _ = screen(gpd.read_file(datasets.get_path("sites")).head(3)).to_file(folder)
    >>> previous_verdicts(folder).to_dict()
    {'JL-0001': 'conditional', 'JL-0002': 'clear', 'JL-0003': 'advisory'}
    """
    from redline.report import CSV_ENCODING, OUTPUT_FILES

    path = Path(directory) / OUTPUT_FILES["sites"]
    if not path.is_file():
        raise LayerError(f"--compare {directory}: no {OUTPUT_FILES['sites']} there; give the "
                         "output folder of an earlier `redline screen`")
    table = pd.read_csv(path, encoding=CSV_ENCODING, dtype=str, keep_default_na=False,
                        usecols=["site_id", "verdict"])
    return pd.Series(table["verdict"].to_numpy(), index=table["site_id"].to_numpy(),
                     name="previous_verdict")


def with_previous(screening: Screening, previous: pd.Series) -> Screening:
    """The screening with ``previous_verdict`` and ``changed`` on every site.

    Parameters
    ----------
    screening
        The new screening.
    previous
        From :func:`previous_verdicts`.

    Returns
    -------
    Screening
        A site absent from the earlier run has no ``previous_verdict`` (missing) and
        ``changed`` ``True``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(2))
    >>> before = pd.Series({"JL-0001": "clear"})
    >>> with_previous(result, before).sites[["site_id", "previous_verdict", "changed"]]
       site_id previous_verdict  changed
    0  JL-0001            clear     True
    1  JL-0002              NaN     True
    """
    import dataclasses

    sites = screening.sites
    lookup = previous.to_dict()
    before = np.array([lookup.get(s) for s in sites["site_id"].astype(str)], dtype=object)
    changed = before != sites["verdict"].to_numpy(dtype=object)
    out = sites.assign(previous_verdict=before, changed=changed)
    return dataclasses.replace(screening, sites=out)


def verdict_flips(screening: Screening, previous_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Each site whose verdict changed since an earlier run, with the change that caused it.

    The cause is read from the planning: the features added, removed or reshaped (per
    :func:`diff_planning` between the earlier run's manifest and this screening's planning)
    that touch the site or lie within the distance of a proximity rule of the ruleset. When the
    earlier run's planning files were replaced in place (so the old version is gone) or did not
    change, the cause names what the records say changed instead.

    Parameters
    ----------
    screening
        The new screening (with ``previous_verdict`` from :func:`with_previous`, or not).
    previous_dir
        The earlier output folder (``sites.csv`` and ``run.json``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FLIP_COLUMNS`, one row per flipped site.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> folder = tempfile.mkdtemp()
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> _ = result.to_file(folder)
    >>> len(verdict_flips(result, folder))
    0
    """
    from redline.record import read_record

    if "previous_verdict" not in screening.sites:
        screening = with_previous(screening, previous_verdicts(previous_dir))
    sites = screening.sites
    flipped = sites[sites["changed"].to_numpy(dtype=bool)]
    if not len(flipped):
        return pd.DataFrame(columns=list(FLIP_COLUMNS))
    causes = _causes(screening, flipped, read_record(previous_dir))
    return pd.DataFrame({
        "site_id": flipped["site_id"].astype(str).to_numpy(),
        "previous_verdict": flipped["previous_verdict"].to_numpy(dtype=object),
        "verdict": flipped["verdict"].to_numpy(dtype=object),
        "cause": causes,
    })


def write_flips(screening: Screening, previous_dir: str | os.PathLike[str],
                directory: str | os.PathLike[str],
                echo: Callable[[str], object] | None = None) -> Path:
    """Write :func:`verdict_flips` as ``verdict_changes.csv`` into ``directory``.

    Parameters
    ----------
    screening
        The new screening.
    previous_dir
        The earlier output folder.
    directory
        The new output folder.
    echo
        Called with a summary of the flips (e.g. ``print``), when given.

    Returns
    -------
    pathlib.Path
        The CSV written.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> before, after = tempfile.mkdtemp(), tempfile.mkdtemp()
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(3))
    >>> _ = result.to_file(before)
    >>> write_flips(result, before, after, echo=print).name
    verdicts changed for 0 of 3 sites
    'verdict_changes.csv'
    """
    from redline.io import write_layer
    from redline.report import CSV_ENCODING

    flips = verdict_flips(screening, previous_dir)
    path = write_layer(flips, Path(directory) / FLIPS_FILE, encoding=CSV_ENCODING)
    if echo is not None:
        echo(f"verdicts changed for {len(flips)} of {len(screening.sites)} sites")
        for flip in flips.itertuples():
            echo(f"  {flip.site_id}: {flip.previous_verdict} -> {flip.verdict}: {flip.cause}")
    return path


def _causes(screening: Screening, flipped: gpd.GeoDataFrame,
            record: Mapping[str, Any]) -> list[str]:
    """Per flipped site: the planning changes near it, else what the records say changed."""
    from redline.record import file_hash

    old_manifest = (record.get("inputs", {}).get("manifest") or {}).get("path")
    new_manifest = getattr(screening.planning, "manifest", None)
    same_files = old_manifest is not None and new_manifest is not None and (
        Path(old_manifest).resolve() == Path(new_manifest).resolve())
    changed_inputs = [
        f"{kind} {Path(entry['path']).name}" for kind, entries in
        record.get("inputs", {}).get("planning", {}).items() for entry in entries
        if Path(entry["path"]).is_file() and file_hash(entry["path"]) != entry["sha256"]
    ]
    if old_manifest is None or not Path(old_manifest).is_file() or same_files:
        reason = ("planning files changed in place (the earlier version is gone): "
                  + ", ".join(changed_inputs) if changed_inputs
                  else "no planning change on record: the rules, the site or the options changed")
        return [reason] * len(flipped)
    changes = diff_planning(old_manifest, screening.planning).changes
    reach = max([rule.distance_m for rule in screening.rules if rule.test == "proximity"]
                + [0.0])
    geometry = flipped.geometry.to_crs(screening.planning.crs).to_numpy()
    causes = []
    tree = shapely.STRtree(changes.geometry.to_numpy())
    for site in geometry:
        if site is None or shapely.is_empty(site):
            causes.append("the site has no geometry")
            continue
        near = tree.query(site, predicate="dwithin", distance=reach) if len(changes) else []
        if not len(near):
            causes.append("no planning change near the site: the rules, the site or the "
                          "options changed")
            continue
        found = changes.iloc[near].assign(
            distance=shapely.distance(changes.geometry.to_numpy()[near], site)
        ).sort_values("distance")
        causes.append("; ".join(
            f"{c.kind} {c.feature_id}{' ' + str(c.name) if _present(c.name) else ''} "
            f"{c.change} ({_where(float(c.distance))})"
            for c in found.itertuples()
        ))
    return causes


def _where(distance: float) -> str:
    return "overlaps the site" if distance == 0 else f"{distance:,.0f} m away"


def _present(value: object) -> bool:
    return not (value is None or value is pd.NA
                or (isinstance(value, float) and np.isnan(value)))
