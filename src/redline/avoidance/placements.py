"""Better placements for a site: the same footprint moved and turned, every candidate screened.

:func:`alternatives` lays candidate footprints of the site's shape and area on a grid of
offsets within a radius (and, if asked, turned in steps of 45°), keeps those inside the
planning extent, screens them all in one batch with the same rules, and ranks them: verdict,
then the area of the control lines occupied, then the distance moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from redline import schema
from redline.errors import GeometryError
from redline.planning import Planning, as_planning
from redline.rules import RuleSet, as_ruleset, canonical_project_type
from redline.screening import PROJECT_TYPE_COLUMNS, screen_frame

__all__ = ["ALTERNATIVE_COLUMNS", "alternatives"]

#: Columns of the frame :func:`alternatives` returns (plus ``geometry``).
ALTERNATIVE_COLUMNS = (
    "rank", "verdict", "verdict_zh", "n_findings", "decisive_rule", "redline_m2", "farmland_m2",
    "moved_m", "rotation_deg", "better_than_original",
)
#: Occupation differences below this are equal (areas of one footprint moved, in m²).
_AREA_TOLERANCE_M2 = 0.01
#: Offsets per radius: candidates lie on a square grid of ``radius_m / STEPS`` spacing.
STEPS = 8
#: Turns tried with ``rotate=True``.
ROTATIONS_DEG = (0, 45, 90, 135, 180, 225, 270, 315)


def alternatives(
    site: gpd.GeoDataFrame | gpd.GeoSeries,
    planning: Planning | None = None,
    *,
    project_type: str | None = None,
    radius_m: float = 2000,
    n: int = 5,
    rules: RuleSet | str | Path | None = None,
    rotate: bool = True,
) -> gpd.GeoDataFrame:
    """Placements of ``site`` within ``radius_m`` that conflict less, best first.

    Candidates keep the site's shape and area: the footprint moved on a grid of offsets
    ``radius_m / 8`` apart (those within ``radius_m``) and, with ``rotate``, turned about its
    centroid in steps of 45°. Candidates not wholly inside the planning extent are dropped;
    the rest are screened with the same rules and ranked by verdict (clear first,
    not assessed last), then by the area of ecological red line and permanent basic farmland
    occupied, then by the distance moved.

    Parameters
    ----------
    site
        One site (a one-row GeoDataFrame or GeoSeries, any declared CRS).
    planning
        The one map; ``None`` loads the bundled illustrative sample.
    project_type
        The project's type; default the site's ``project_type`` column, else general
        construction.
    radius_m
        How far a candidate may move (its centroid), in metres.
    n
        How many candidates to return.
    rules
        Ruleset (or a file extending the bundled one); ``None``: the bundled ruleset.
    rotate
        Also try the footprint turned.

    Returns
    -------
    geopandas.GeoDataFrame
        Up to ``n`` candidates in the site's CRS, columns :data:`ALTERNATIVE_COLUMNS`;
        ``better_than_original`` says whether each ranks above the site as drawn. When none
        does, the frame's ``attrs["redline"]["evidence"]`` says so, and the rows are the least
        conflicting placements found. The original's own screening is in
        ``attrs["redline"]["original"]``.

    Raises
    ------
    GeometryError
        ``site`` is not exactly one non-empty geometry.

    Examples
    --------
    >>> from redline import datasets
    >>> sites = gpd.read_file(datasets.get_path("sites"))
    >>> site = sites[sites.site_id == "JL-0020"]  # housing in a level-1 water-source zone
    >>> found = alternatives(site, radius_m=2000, n=3)
    >>> found.attrs["redline"]["original"]["verdict"]
    'prohibited'
    >>> found[["verdict", "moved_m", "rotation_deg", "better_than_original"]]
           verdict  moved_m  rotation_deg  better_than_original
    0  conditional    250.0           0.0                  True
    1  conditional    250.0          45.0                  True
    2  conditional    250.0          90.0                  True
    """
    if not isinstance(site, gpd.GeoDataFrame | gpd.GeoSeries):
        raise TypeError(f"site must be a GeoDataFrame or GeoSeries, not {type(site).__name__}")
    if len(site) != 1 or site.geometry.iloc[0] is None or site.geometry.iloc[0].is_empty:
        raise GeometryError(f"alternatives: give exactly one site with a geometry, got "
                            f"{len(site)} rows")
    if site.crs is None:
        raise GeometryError("alternatives: the site has no CRS; set one with "
                            "site.set_crs('EPSG:...')")
    planning = as_planning(planning)
    ruleset = as_ruleset(rules)
    kind = canonical_project_type(project_type if project_type is not None
                                  else _column(site, PROJECT_TYPE_COLUMNS))
    shape = site.geometry.to_crs(planning.crs).iloc[0]
    candidates, moved, turned = _candidates(shape, radius_m=radius_m, rotate=rotate,
                                            extent=planning.extent)
    ids = ["original", *(f"candidate-{i}" for i in range(1, len(candidates)))]
    result = screen_frame(gpd.GeoDataFrame({"site_id": ids, "project_type": kind},
                                           geometry=candidates, crs=planning.crs),
                          planning, ruleset)
    table = pd.DataFrame({
        "verdict": result.sites["verdict"].to_numpy(),
        "verdict_zh": result.sites["verdict_zh"].to_numpy(),
        "n_findings": result.sites["n_findings"].to_numpy(),
        "decisive_rule": result.sites["decisive_rule"].to_numpy(),
        "redline_m2": np.nan_to_num(result.layer_overlaps["redlines"].to_numpy()),
        "farmland_m2": np.nan_to_num(result.layer_overlaps["farmland"].to_numpy()),
        "moved_m": moved, "rotation_deg": turned,
    })
    table["_verdict_rank"] = [_rank(v) for v in table["verdict"]]
    table["_occupied"] = table["redline_m2"] + table["farmland_m2"]
    rank0, occupied0 = table.loc[0, "_verdict_rank"], table.loc[0, "_occupied"]
    table["better_than_original"] = (table["_verdict_rank"] < rank0) | (
        (table["_verdict_rank"] == rank0) & (table["_occupied"] < occupied0 - _AREA_TOLERANCE_M2))
    order = ["_verdict_rank", "_occupied", "moved_m", "rotation_deg"]
    original = table.iloc[0].drop(["_verdict_rank", "_occupied"]).to_dict()
    ranked = table.iloc[1:].sort_values(order, kind="stable").head(n)
    out = gpd.GeoDataFrame(
        ranked.drop(columns=["_verdict_rank", "_occupied"]).reset_index(drop=True),
        geometry=list(candidates[ranked.index.to_numpy()]), crs=planning.crs,
    ).to_crs(site.crs)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    evidence = None if out["better_than_original"].any() else (
        f"在 {radius_m:g} m 范围内（{len(candidates) - 1} 个同形同面积方案）没有比原选址"
        f"冲突更少的位置；冲突最少的方案见表。 No placement within {radius_m:g} m "
        f"({len(candidates) - 1} candidates of the same shape and area) conflicts less than "
        "the site as drawn; the least conflicting ones are listed."
    )
    out.attrs["redline"] = {"original": original, "evidence": evidence,
                            "candidates": len(candidates) - 1}
    return out


def _candidates(shape: shapely.Geometry, *, radius_m: float, rotate: bool,
                extent: shapely.Geometry | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The original (first) and its moved/turned copies inside ``extent``; distance moved and
    turn of each."""
    step = radius_m / STEPS
    offsets = np.arange(-STEPS, STEPS + 1) * step
    dx, dy = (a.ravel() for a in np.meshgrid(offsets, offsets))
    within = np.hypot(dx, dy) <= radius_m + 1e-9
    dx, dy = dx[within], dy[within]
    centre = shape.centroid
    turns = ROTATIONS_DEG if rotate else (0,)
    shapes, moved, turned = [], [], []
    for angle in turns:
        turned_shape = affinity.rotate(shape, angle, origin=centre) if angle else shape
        for x, y in zip(dx, dy, strict=True):
            if angle == 0 and x == 0 and y == 0:
                continue  # the original, added first below
            shapes.append(affinity.translate(turned_shape, x, y))
            moved.append(float(np.hypot(x, y)))
            turned.append(float(angle))
    geoms = np.array([shape, *shapes], dtype=object)
    moved_all, turned_all = np.array([0.0, *moved]), np.array([0.0, *turned])
    if extent is not None:
        shapely.prepare(extent)
        keep = shapely.contains(extent, geoms)
        keep[0] = True  # the original is always screened, inside or not
        geoms, moved_all, turned_all = geoms[keep], moved_all[keep], turned_all[keep]
    return geoms, moved_all, turned_all


def _rank(verdict: str) -> int:
    """0 for clear … 3 for prohibited, 4 for not assessed (never better than anything)."""
    return 4 if verdict == "not_assessed" else len(schema.VERDICTS) - 1 - schema.VERDICTS.index(
        verdict)


def _column(site: gpd.GeoDataFrame | gpd.GeoSeries, names: tuple[str, ...]) -> Any:
    if isinstance(site, gpd.GeoDataFrame):
        for name in names:
            if name in site.columns:
                return site[name].iloc[0]
    return None
