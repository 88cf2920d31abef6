"""Parts of one input: screening a partition or chunk on its own, and putting parts together.

Every site is screened on its own, so the parts' results put end to end are the
single-process result: same rows, columns, order and values. What one part cannot see is
checked on the whole input (``site_id`` unique across parts, :func:`concat_screenings`) or made
independent of the partitioning: a part whose sites all lie outside the planning's region is
screened with a stand-in *probe* site in the region (:func:`screen_part`), and the whole input is
refused only when no part holds a site in it (:func:`raise_if_wholly_outside`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from redline.crs import lonlat_bounds, outside_extent
from redline.errors import CRSError, LayerError
from redline.planning import Planning
from redline.rules import RuleSet
from redline.screening import SITE_COLUMNS, Screening, screen_frame, source_of

__all__ = ["Part", "concat_frames", "concat_screenings", "raise_if_wholly_outside", "screen_part"]

#: ``site_id`` of the stand-in site :func:`screen_part` adds to a part lying wholly outside the
#: planning's region.
_PROBE_ID = "\x00redline-probe"


def concat_screenings(parts: Sequence[Screening]) -> Screening:
    """Put screenings of disjoint sets of sites end to end, in the order given.

    Parameters
    ----------
    parts
        Screenings against the same planning object and equal rulesets.

    Returns
    -------
    Screening
        Sites, findings and layer overlaps of every part in order (findings renumbered).

    Raises
    ------
    ValueError
        No parts, or parts screened against different plannings or rulesets.
    LayerError
        The same ``site_id`` in two parts.

    Examples
    --------
    >>> from redline import datasets
    >>> from redline.planning import load_planning
    >>> from redline.rules import load_rules
    >>> planning, rules = load_planning(), load_rules()
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(8)
    >>> halves = [screen_frame(sites.iloc[:5], planning, rules),
    ...           screen_frame(sites.iloc[5:], planning, rules)]
    >>> concat_screenings(halves)
    Screening of 8 sites against 37 rules: prohibited 3, conditional 2, advisory 1, clear 2; ...
    """
    if not parts:
        raise ValueError("concat_screenings needs at least one Screening; received none")
    first = parts[0]
    for i, part in enumerate(parts):
        if part.planning is not first.planning or part.rules != first.rules:
            raise ValueError(
                f"screening {i} was made against another planning or ruleset than screening 0; "
                "only screenings against the same Planning object and equal rules can be "
                "combined: screen every part with the same planning and rules"
            )
    sites = concat_frames([p.sites for p in parts])
    ids = sites["site_id"].astype(str)
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        raise LayerError(
            f"{source_of(first.sites)}: site_id values are not unique: {sorted(set(dup))[:10]} "
            f"({len(dup)} rows, in different partitions or chunks); findings are reported by "
            "site_id, so each site needs its own"
        )
    findings = concat_frames([p.findings for p in parts]).reset_index(drop=True)
    layer_overlaps = pd.concat([p.layer_overlaps for p in parts])
    return Screening(
        sites=sites,
        findings=findings,
        layer_overlaps=layer_overlaps,
        planning=first.planning,
        rules=first.rules,
        disabled=first.disabled,
    )


# -- one partition ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """What :func:`screen_part` sends back for one partition or chunk.

    Attributes
    ----------
    sites, findings, layer_overlaps
        As in :class:`~redline.screening.Screening` (the caller holds planning and rules).
    inside
        The part holds a site in the planning's region.
    outside
        The error :func:`redline.screen` raised for the part alone because every site with a
        geometry lies outside the planning's region, else ``None``.

    Examples
    --------
    >>> import shapely
    >>> beijing = gpd.GeoDataFrame({"site_id": ["BJ-1"]}, crs=4490,
    ...                            geometry=[shapely.Point(116.4, 39.9)])
    >>> from redline.planning import load_planning
    >>> from redline.rules import load_rules
    >>> part = screen_part(beijing, load_planning(), load_rules())
    >>> part.inside, type(part.outside).__name__, part.sites["verdict"].tolist()
    (False, 'CRSError', ['not_assessed'])
    """

    sites: gpd.GeoDataFrame
    findings: gpd.GeoDataFrame
    layer_overlaps: pd.DataFrame
    inside: bool
    outside: CRSError | None

    def screening(self, planning: Planning, ruleset: RuleSet) -> Screening:
        """The part as a :class:`~redline.screening.Screening`.

        Parameters
        ----------
        planning, ruleset
            What the part was screened against.

        Returns
        -------
        Screening

        Examples
        --------
        >>> from redline import datasets
        >>> from redline.planning import load_planning
        >>> from redline.rules import load_rules
        >>> planning, rules = load_planning(), load_rules()
        >>> sites = gpd.read_file(datasets.get_path("sites")).head(3)
        >>> screen_part(sites, planning, rules).screening(planning, rules)
        Screening of 3 sites against 37 rules: conditional 1, advisory 1, clear 1; 3 findings
        """
        return Screening(
            sites=self.sites,
            findings=self.findings,
            layer_overlaps=self.layer_overlaps,
            planning=planning,
            rules=ruleset,
        )


def raise_if_wholly_outside(parts: Iterable[Part]) -> None:
    """Raise what :func:`redline.screen` raises for the whole input when no part holds a site in
    the planning's region but some hold sites outside it (the error of the first such part).

    Parameters
    ----------
    parts
        The parts of one input, from :func:`screen_part`.

    Raises
    ------
    CRSError
        No part holds a site in the planning's region.

    Examples
    --------
    >>> import shapely
    >>> from redline.planning import load_planning
    >>> from redline.rules import load_rules
    >>> planning, rules = load_planning(), load_rules()
    >>> beijing = gpd.GeoDataFrame({"site_id": ["BJ-1"]}, crs=4490,
    ...                            geometry=[shapely.Point(116.4, 39.9)])
    >>> changchun = gpd.GeoDataFrame({"site_id": ["CC-1"]}, crs=4490,
    ...                              geometry=[shapely.Point(125.3, 43.9)])
    >>> far, near = (screen_part(s, planning, rules) for s in (beijing, changchun))
    >>> raise_if_wholly_outside([far, near])  # one part in the region: nothing to raise
    >>> raise_if_wholly_outside([far])
    Traceback (most recent call last):
    ...
    redline.errors.CRSError: sites: 1 of 1 features fall outside the planning region ...
    """
    parts = list(parts)
    if not any(part.inside for part in parts):
        for part in parts:
            if part.outside is not None:
                raise part.outside


def screen_part(
    sites: gpd.GeoDataFrame,
    planning: Planning,
    ruleset: RuleSet,
    *,
    crs: Any = None,
    n_jobs: int | None = 1,
) -> Part:
    """Screen one partition or chunk (one core by default), independently of the partitioning.

    :func:`redline.screen` refuses sites that all lie outside the planning's region (a wrong
    CRS, most likely); for the whole input that is right, for one part of it not: a part of a
    national file can hold no site in the region at all. Such a part is screened with a
    stand-in point in it added (and removed from the result: every site is screened on its
    own), and the error it raised alone is returned so the caller can raise it when no part at
    all lies in the region (:func:`raise_if_wholly_outside`).

    Parameters
    ----------
    sites
        One partition or chunk, as for :func:`redline.screen`.
    planning, ruleset
        What to screen against.
    crs
        CRS to assume for sites that declare none.
    n_jobs
        Cores, as for :func:`redline.screen` (1 on a worker).

    Returns
    -------
    Part

    Examples
    --------
    >>> from redline import datasets
    >>> sites = gpd.read_file(datasets.get_path("sites")).head(3)
    >>> from redline.planning import load_planning
    >>> from redline.rules import load_rules
    >>> part = screen_part(sites, load_planning(), load_rules())
    >>> part.inside, part.outside, part.sites["verdict"].tolist()
    (True, None, ['conditional', 'clear', 'advisory'])
    """
    try:
        result = screen_frame(sites, planning, ruleset, crs=crs, n_jobs=n_jobs)
    except CRSError as err:
        if not _wholly_outside(sites, crs, planning.region):
            raise
        # without its traceback, which holds the part's data alive for as long as it is kept
        error = err.with_traceback(None)
        return _screen_with_probe(sites, planning, ruleset, crs=crs, n_jobs=n_jobs, error=error)
    geoms = np.asarray(sites.geometry.values)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return Part(
        sites=result.sites,
        findings=result.findings,
        layer_overlaps=_float(result.layer_overlaps),
        inside=bool(present.any()),
        outside=None,
    )


def _wholly_outside(
    sites: gpd.GeoDataFrame, crs: Any, region: tuple[float, float, float, float]
) -> bool:
    """Whether the sites have a CRS and every present one lies outside the planning's
    ``region`` (the case :func:`redline.crs.to_working` refuses)."""
    if sites.crs is None and crs is None:
        return False
    declared = sites if sites.crs is not None else sites.set_crs(crs)
    lonlat = lonlat_bounds(declared)
    present = ~np.isnan(lonlat).any(axis=1)
    return bool(present.any() and outside_extent(lonlat, region)[present].all())


def _screen_with_probe(
    sites: gpd.GeoDataFrame,
    planning: Planning,
    ruleset: RuleSet,
    *,
    crs: Any,
    n_jobs: int | None,
    error: CRSError,
) -> Part:
    declared = sites if sites.crs is not None else sites.set_crs(crs)
    west, south, east, north = planning.region  # a point inside it, where screen accepts sites
    lon, lat = (west + east) / 2, (south + north) / 2
    to_sites = pyproj.Transformer.from_crs(4326, declared.crs, always_xy=True)
    ids = (
        sites["site_id"].to_numpy(dtype=object)
        if "site_id" in sites.columns
        else np.array([str(i) for i in sites.index], dtype=object)
    )
    columns = {"site_id": [*ids, _PROBE_ID]}
    if "project_type" in sites.columns:
        columns["project_type"] = [*sites["project_type"].to_numpy(dtype=object), None]
    probe = gpd.GeoDataFrame(
        columns,
        geometry=[*declared.geometry.values, shapely.Point(to_sites.transform(lon, lat))],
        crs=declared.crs,
    )
    probe.attrs = sites.attrs
    result = screen_frame(probe, planning, ruleset, n_jobs=n_jobs)
    out = sites.copy()
    for column in SITE_COLUMNS:
        out[column] = result.sites[column].to_numpy()[:-1]
    findings = result.findings[result.findings["site_id"] != _PROBE_ID].reset_index(drop=True)
    overlaps = _float(result.layer_overlaps.iloc[:-1].set_axis(sites.index))
    return Part(sites=out, findings=findings, layer_overlaps=overlaps, inside=False, outside=error)


def _float(layer_overlaps: pd.DataFrame) -> pd.DataFrame:
    """Areas as float64 whatever the part holds (numpy's bincount of no pairs gives int64)."""
    return layer_overlaps.astype("float64")


# -- concatenation -----------------------------------------------------------------------------
def concat_frames(frames: Iterable[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Frames end to end, keeping their indexes, geometry column and CRS.

    Parameters
    ----------
    frames
        GeoDataFrames with the same columns (at least one); empty ones are skipped.

    Returns
    -------
    geopandas.GeoDataFrame

    Examples
    --------
    >>> import shapely
    >>> a = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(0, 0)], crs=3857)
    >>> b = gpd.GeoDataFrame({"n": [2]}, geometry=[shapely.Point(1, 1)], crs=3857, index=[7])
    >>> both = concat_frames([a, a.iloc[:0], b])
    >>> both["n"].to_dict(), both.crs.to_epsg()
    ({0: 1, 7: 2}, 3857)
    """
    frames = list(frames)
    non_empty = [f for f in frames if len(f)] or frames[:1]
    out = pd.concat(non_empty) if len(non_empty) > 1 else non_empty[0].copy()
    return gpd.GeoDataFrame(out, geometry=frames[0].geometry.name, crs=frames[0].crs)
