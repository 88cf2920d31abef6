"""Least-conflict alignments for linear projects, and the evidence that a crossing is unavoidable.

:func:`route` searches a least-cost path between two points over the rules' cost surface
(:mod:`redline.avoidance.costs`): scikit-image's minimum-cost-path search on a grid, the
staircase of grid steps then straightened wherever a straight stretch costs no more. It
compares the chosen alignment with the straight line and with distinct alternatives (比选), screens
each one's corridor with the same rules, and argues each control line the chosen alignment
still crosses (不可避让论证): the least crossing of that line any alignment in the search area can
make, found by a search that minimises that crossing alone.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from skimage.draw import line as grid_line
from skimage.graph import MCP_Geometric

from redline.avoidance.costs import (
    CONTROL_LINES,
    SEVERITY_COSTS,
    Grid,
    cost_surface,
    feature_mask,
    impassable,
)
from redline.errors import GeometryError
from redline.planning import Planning, as_planning
from redline.rules import RuleSet, as_ruleset, canonical_project_type
from redline.screening import Screening, screen_frame

if TYPE_CHECKING:
    import folium

__all__ = ["ALIGNMENT_COLUMNS", "Route", "route"]

#: Columns of :attr:`Route.alignments` (plus ``geometry``, the centreline).
ALIGNMENT_COLUMNS = (
    "alignment", "length_m", "verdict", "verdict_zh", "n_findings", "decisive_rule",
    "redlines_crossing_m", "redlines_m2", "farmland_crossing_m", "farmland_m2",
)
#: Cells a grid may hold before the default resolution is coarsened.
_MAX_CELLS = 4_000_000


@dataclass(frozen=True)
class Route:
    """The result of :func:`route`: the chosen alignment, the alignments compared, the evidence.

    Attributes
    ----------
    alignments
        One row per compared alignment, the chosen one first, then the straight line and the
        alternatives: centreline geometry and :data:`ALIGNMENT_COLUMNS`, in the working CRS.
    screening
        The screening of every alignment's corridor (``site_id`` = the alignment's name).
    crossings
        Per alignment and planning feature it meets: layer kind, feature, length of centreline
        inside (m), corridor area inside (m²), and the number of times it crosses a line
        feature (rivers, roads).
    evidence
        Per control line the chosen alignment crosses: the least crossing any alignment in the
        search area can make, and the statement a 不可避让论证 quotes.
    width_m, resolution_m, project_type
        The search's settings.
    search_area
        The searched rectangle (working CRS).

    Examples
    --------
    >>> r = _example()  # a red-line band with a gap between (0, 0) and (1000, 0)
    >>> r.verdict, round(r.line.length), r.evidence.empty
    ('clear', 1241, True)
    """

    alignments: gpd.GeoDataFrame
    screening: Screening = field(repr=False)
    crossings: pd.DataFrame = field(repr=False)
    evidence: pd.DataFrame = field(repr=False)
    width_m: float
    resolution_m: float
    project_type: str
    search_area: shapely.Polygon = field(repr=False)

    @property
    def line(self) -> shapely.LineString:
        """The chosen alignment's centreline (working CRS).

        Returns
        -------
        shapely.LineString

        Examples
        --------
        >>> _example().line.length > 0
        True
        """
        return self.alignments.geometry.iloc[0]

    @property
    def corridor(self) -> shapely.Polygon:
        """The chosen alignment's corridor: the centreline widened to ``width_m``.

        Returns
        -------
        shapely.Polygon

        Examples
        --------
        >>> r = _example()
        >>> round(r.corridor.area / r.line.length)  # the width
        20
        """
        return _corridor(self.line, self.width_m)

    @property
    def verdict(self) -> str:
        """The chosen alignment's verdict.

        Returns
        -------
        str

        Examples
        --------
        >>> _example().verdict
        'clear'
        """
        return str(self.alignments["verdict"].iloc[0])

    def comparison(self) -> pd.DataFrame:
        """The 比选 table: every compared alignment's length, control-line crossings, verdict.

        Returns
        -------
        pandas.DataFrame
            Bilingual column names, the chosen alignment first.

        Examples
        --------
        >>> _example().comparison().iloc[:, :2]
          方案 alignment  长度 length m
        0       chosen        1240.7
        1     straight        1000.0
        """
        table = pd.DataFrame(self.alignments.drop(columns="geometry"))
        return pd.DataFrame({
            "方案 alignment": table["alignment"],
            "长度 length m": table["length_m"].round(1),
            "穿越生态保护红线 red line crossing m": table["redlines_crossing_m"].round(1),
            "占用生态保护红线 red line m²": table["redlines_m2"].round(2),
            "穿越永久基本农田 farmland crossing m": table["farmland_crossing_m"].round(1),
            "占用永久基本农田 farmland m²": table["farmland_m2"].round(2),
            "结论 verdict": table["verdict_zh"] + " " + table["verdict"],
            "决定规则 decisive rule": table["decisive_rule"],
        }).reset_index(drop=True)

    def map(self, **kwargs: Any) -> folium.Map:
        """Interactive map of the compared alignments' corridors with their findings.

        Parameters
        ----------
        **kwargs
            Passed to :func:`redline.maps.screening_map`.

        Returns
        -------
        folium.Map

        Examples
        --------
        >>> type(_example().map(basemap=None)).__name__
        'Map'
        """
        from redline.maps import screening_map

        kwargs.setdefault("title", "线性工程比选 Route alternatives")
        return screening_map(self.screening, **kwargs)

    def report(self, path: str | Path) -> Path:
        """Write the chosen alignment's review report, with the alignments compared (比选) and
        the evidence of a 不可避让论证 as its avoidance section; the suffix picks the format.

        Parameters
        ----------
        path
            ``.html``, ``.pdf`` or ``.docx`` (see :func:`redline.review.write_report`).

        Returns
        -------
        pathlib.Path
            ``path``.

        Examples
        --------
        >>> import tempfile
        >>> page = _example().report(Path(tempfile.mkdtemp()) / "route.html")
        >>> text = page.read_text(encoding="utf-8")
        >>> "避让比选" in text and "straight" in text
        True
        """
        from redline.review import write_report

        chosen = str(self.alignments["alignment"].iloc[0])
        return write_report(self.screening, chosen, path, comparison=self.comparison(),
                            evidence=tuple(self.evidence["statement"]))

    def to_file(self, directory: str | Path) -> dict[str, Path]:
        """Write the alignments (GeoPackage), the comparison, crossings and evidence (CSV),
        the chosen alignment's report (HTML, :meth:`report`) and the screening of the
        alignments into ``directory``.

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
        >>> paths = _example().to_file(Path(tempfile.mkdtemp()) / "route")
        >>> {"alignments.gpkg", "evidence.csv"} <= {p.name for p in paths.values()}
        True
        """
        from redline.io import staged, write_layer
        from redline.report import CSV_ENCODING, write_screening

        directory = Path(directory)
        corridors = self.alignments.set_geometry(
            [_corridor(g, self.width_m) for g in self.alignments.geometry], crs=self.alignments.crs)
        with staged(directory) as folder:
            paths = {
                "alignments": write_layer(self.alignments, folder / "alignments.gpkg",
                                          layer="centrelines"),
            }
            write_layer(corridors, paths["alignments"], layer="corridors")
            for role, table in (("comparison", self.comparison()),
                                ("crossings", self.crossings), ("evidence", self.evidence)):
                path = folder / f"{role}.csv"
                table.to_csv(path, index=False, encoding=CSV_ENCODING)
                paths[role] = path
            paths["report"] = self.report(folder / "report.html")
        paths = {role: directory / path.name for role, path in paths.items()}
        paths.update(write_screening(self.screening, directory / "screening"))
        return paths


def route(
    start: Any,
    end: Any,
    planning: Planning | None = None,
    *,
    width_m: float,
    project_type: str = "linear_infrastructure",
    rules: RuleSet | str | Path | None = None,
    resolution_m: float | None = None,
    via: Sequence[Any] = (),
    alternatives: int = 3,
    crs: Any = "EPSG:4490",
    margin_m: float | None = None,
) -> Route:
    """The least-conflict alignment of a linear project between two points, compared (比选).

    The search runs on a grid over the rectangle around the points (``margin_m`` beyond them):
    each cell costs 1 per metre plus :data:`redline.avoidance.costs.SEVERITY_COSTS` for every
    rule that would give the project a finding there, so the path avoids prohibited features
    wherever it can, then conditional ones, then advisory ones, then length. Cells outside the
    planning extent cannot be crossed.

    Parameters
    ----------
    start, end
        ``(x, y)`` pairs or shapely Points in ``crs``.
    planning
        The one map; ``None`` loads the bundled illustrative sample.
    width_m
        The project's width (road, railway or pipeline corridor).
    project_type
        Project type the rules are read for.
    rules
        Ruleset (or a file extending the bundled one); ``None``: the bundled ruleset.
    resolution_m
        Cell size; default: a quarter of the width, coarsened for long routes so that the grid
        holds at most about four million cells, rounded up to whole metres.
    via
        Points the alignment must pass, in order.
    alternatives
        How many distinct other alignments to compare (found by penalising the neighbourhood
        of those already found).
    crs
        CRS of the coordinates (default CGCS2000 longitude/latitude).
    margin_m
        Search beyond the points' bounding box; default a third of the distance, at least
        2 km.

    Returns
    -------
    Route

    Raises
    ------
    GeometryError
        A point outside the planning extent, or no passable path between the points.

    Examples
    --------
    >>> r = _example()
    >>> r.alignments[["alignment", "redlines_crossing_m"]]
      alignment  redlines_crossing_m
    0    chosen                  0.0
    1  straight                200.0
    """
    if width_m <= 0:
        raise ValueError(f"width_m must be positive, got {width_m!r}")
    planning = as_planning(planning)
    ruleset = as_ruleset(rules)
    kind = canonical_project_type(project_type)
    points = _to_working([start, *via, end], crs=crs, working=planning.crs)
    distance = float(np.hypot(*np.diff(points, axis=0).T).sum())
    margin = margin_m if margin_m is not None else max(distance / 3, 2_000.0)
    span = np.ptp(points, axis=0) + 2 * margin
    resolution = resolution_m or float(np.ceil(max(width_m / 4,
                                                   np.sqrt(np.prod(span) / _MAX_CELLS))))
    grid = Grid.around(points, resolution_m=resolution, margin_m=margin, crs=planning.crs)
    cost = cost_surface(grid, planning, ruleset, kind, width_m=width_m)
    cells = [grid.cell(x, y) for x, y in points]
    blocked = [i for i, (r, c) in enumerate(cells) if not np.isfinite(cost[r, c])]
    if blocked:
        raise GeometryError(
            f"route: point(s) {blocked} (0 = start) lie outside the planning extent or too close "
            f"to its edge for a {width_m:g} m corridor; move them inside the area the one map "
            "covers"
        )
    chosen = _search(cost, cells, grid, ends=points)
    lines = {"chosen": chosen, "straight": shapely.LineString(points)}
    for i, line in enumerate(_alternatives(cost, cells, grid, points, [chosen], alternatives,
                                           spread=max(distance / 15, 10 * resolution)), 1):
        lines[f"alternative-{i}"] = line
    screening = screen_frame(
        gpd.GeoDataFrame({"site_id": list(lines), "name": list(lines), "project_type": kind},
                         geometry=[_corridor(g, width_m) for g in lines.values()],
                         crs=planning.crs),
        planning, ruleset)
    crossings = _crossings(lines, planning, width_m)
    table = _alignments(lines, screening, crossings, crs=planning.crs)
    evidence = _evidence(table, planning, grid, width_m, cells, points)
    return Route(alignments=table, screening=screening, crossings=crossings,
                 evidence=evidence, width_m=float(width_m), resolution_m=float(resolution),
                 project_type=kind, search_area=grid.box)


# -- search --------------------------------------------------------------------------------
def _search(cost: np.ndarray, cells: list[tuple[int, int]], grid: Grid,
            ends: np.ndarray) -> shapely.LineString:
    """The least-cost path through ``cells`` in order, straightened, as a centreline from the
    first of ``ends`` to the last (the exact points, not their cells' centres)."""
    path: list[np.ndarray] = []
    for a, b in itertools.pairwise(cells):
        mcp = MCP_Geometric(cost, fully_connected=True)
        mcp.find_costs([a], [b])
        steps = np.asarray(mcp.traceback(b))
        if not np.isfinite(cost[tuple(steps.T)]).all() or len(steps) == 0:
            raise GeometryError("route: no passable path joins the points inside the planning "
                                "extent; check that they lie in one connected part of it")
        path.append(steps if not path else steps[1:])
    vertices = _straighten(np.concatenate(path), cost, grid.resolution_m)
    inner = [grid.centre(r, c) for r, c in vertices[1:-1]]
    return shapely.LineString([tuple(ends[0]), *inner, tuple(ends[-1])])


def _straighten(steps: np.ndarray, cost: np.ndarray, resolution: float) -> np.ndarray:
    """The vertices of ``steps`` (grid cells) that a cost-aware Douglas–Peucker keeps: a
    stretch becomes straight when the straight line costs no more than the steps it replaces.
    """
    if len(steps) < 3:
        return steps
    values = cost[tuple(steps.T)]
    run = np.hypot(*np.diff(steps, axis=0).T) * resolution * (values[:-1] + values[1:]) / 2
    along = np.concatenate([[0.0], np.cumsum(run)])

    def straight_cost(i: int, j: int) -> float:
        rows, cols = grid_line(*steps[i], *steps[j])
        return float(np.hypot(*(steps[j] - steps[i])) * resolution * cost[rows, cols].mean())

    keep, todo = {0, len(steps) - 1}, [(0, len(steps) - 1)]
    while todo:
        i, j = todo.pop()
        if j - i < 2 or straight_cost(i, j) <= (along[j] - along[i]) * (1 + 1e-9):
            continue
        a, b = steps[i], steps[j]
        inner = steps[i + 1:j]
        d = b - a
        offset = np.abs(d[0] * (inner[:, 1] - a[1]) - d[1] * (inner[:, 0] - a[0]))
        k = i + 1 + (int(offset.argmax()) if offset.max() > 0 else (j - i) // 2 - 1)
        keep.add(k)
        todo.extend([(i, k), (k, j)])
    return steps[sorted(keep)]


def _alternatives(cost: np.ndarray, cells: list[tuple[int, int]], grid: Grid,
                  ends: np.ndarray, found: list[shapely.LineString], n: int, *,
                  spread: float) -> Iterable[shapely.LineString]:
    """Up to ``n`` alignments at least ``spread`` (Hausdorff) from each other and from
    ``found``: each search doubles the cost of the cells within ``spread`` of the alignment
    the previous search found, so that searches move away from every alignment seen."""
    penalised = cost.copy()
    kept, last = list(found), found[-1]
    for _ in range(3 * n):
        if len(kept) - len(found) >= n:
            return
        penalised[feature_mask(grid, [last], widen_m=spread)] *= 2
        try:
            last = _search(penalised, cells, grid, ends)
        except GeometryError:
            return
        if all(shapely.hausdorff_distance(last, other) >= spread for other in kept):
            kept.append(last)
            yield last


# -- measures ------------------------------------------------------------------------------
def _corridor(line: shapely.LineString, width_m: float) -> shapely.Polygon:
    return shapely.buffer(line, width_m / 2, cap_style="flat", join_style="round")


def _crossings(lines: Mapping[str, shapely.LineString], planning: Planning,
               width_m: float) -> pd.DataFrame:
    """Per alignment and vector feature met: centreline length and corridor area inside a
    polygon feature, or the number of times the centreline crosses a line feature."""
    rows = []
    for kind in planning.kinds:
        if kind in planning.rasters or kind == "boundary":
            continue
        layer = planning[kind]
        polygonal = layer.geom_type.str.contains("Polygon").all()
        for name, line in lines.items():
            corridor = _corridor(line, width_m)
            hit = layer.sindex.query(corridor, predicate="intersects")
            for at in hit:
                feature = layer.geometry.iloc[at]
                met = shapely.intersection(line, feature)
                rows.append({
                    "alignment": name, "layer": kind,
                    "feature_id": layer["feature_id"].iloc[at],
                    "feature_name": layer["name"].iloc[at],
                    "length_m": float(met.length) if polygonal else 0.0,
                    "area_m2": float(shapely.intersection(corridor, feature).area)
                    if polygonal else 0.0,
                    "line_crossings": 0 if polygonal else int(shapely.get_num_points(met)
                                                              or shapely.get_num_geometries(met)),
                })
    columns = ["alignment", "layer", "feature_id", "feature_name", "length_m", "area_m2",
               "line_crossings"]
    return pd.DataFrame(rows, columns=columns)


def _alignments(lines: Mapping[str, shapely.LineString], screening: Screening,
                crossings: pd.DataFrame, *, crs: CRS) -> gpd.GeoDataFrame:
    sites = screening.sites.set_index("site_id")
    by_kind = crossings.groupby(["alignment", "layer"])[["length_m", "area_m2"]].sum()

    def measure(name: str, kind: str, column: str) -> float:
        return float(by_kind[column].get((name, kind), 0.0))

    table = {
        "alignment": list(lines),
        "length_m": [line.length for line in lines.values()],
        "verdict": [sites.at[name, "verdict"] for name in lines],
        "verdict_zh": [sites.at[name, "verdict_zh"] for name in lines],
        "n_findings": [int(sites.at[name, "n_findings"]) for name in lines],
        "decisive_rule": [sites.at[name, "decisive_rule"] for name in lines],
    }
    for kind in CONTROL_LINES:
        table[f"{kind}_crossing_m"] = [measure(name, kind, "length_m") for name in lines]
        table[f"{kind}_m2"] = [measure(name, kind, "area_m2") for name in lines]
    return gpd.GeoDataFrame(table, geometry=list(lines.values()), crs=crs)


def _evidence(table: gpd.GeoDataFrame, planning: Planning, grid: Grid, width_m: float,
              cells: list[tuple[int, int]], ends: np.ndarray) -> pd.DataFrame:
    """Per control line the chosen alignment crosses, the least crossing of it any alignment
    in the search area makes: a search whose only costs are that line's cells (and length,
    to break ties)."""
    rows = []
    area_km = tuple(round(v / 1000, 1) for v in np.ptp(
        np.asarray(grid.box.exterior.coords), axis=0))
    for kind, label in CONTROL_LINES.items():
        crossing = float(table[f"{kind}_crossing_m"].iloc[0])
        if kind not in planning or crossing == 0:
            continue
        features = planning[kind].geometry.to_numpy()
        cost = np.ones(grid.shape)
        cost[feature_mask(grid, features, widen_m=width_m / 2)] += SEVERITY_COSTS["prohibited"]
        cost[impassable(grid, planning, width_m=width_m)] = np.inf
        least = _search(cost, cells, grid, ends)
        least_m = float(shapely.intersection(least, shapely.union_all(features)).length)
        unavoidable = least_m > 0
        rows.append({
            "control_line": label, "chosen_crossing_m": round(crossing, 1),
            "least_crossing_m": round(least_m, 1), "resolution_m": grid.resolution_m,
            "unavoidable": unavoidable,
            "statement": (
                f"在搜索范围（{area_km[0]} km × {area_km[1]} km）内，起终点之间的任何线位均须穿越"
                f"{label.split()[0]}，最短穿越长度为 {least_m:.0f} m（栅格分辨率 "
                f"{grid.resolution_m:g} m）。 Every alignment between the end points within the "
                f"search area ({area_km[0]} km × {area_km[1]} km) crosses the "
                f"{label.split(' ', 1)[1]}; the least crossing is {least_m:.0f} m (at "
                f"{grid.resolution_m:g} m resolution)."
                if unavoidable else
                f"在搜索范围内存在不穿越{label.split()[0]}的线位。 An alignment avoiding the "
                f"{label.split(' ', 1)[1]} exists within the search area."
            ),
        })
    columns = ["control_line", "chosen_crossing_m", "least_crossing_m", "resolution_m",
               "unavoidable", "statement"]
    return pd.DataFrame(rows, columns=columns)


# -- inputs --------------------------------------------------------------------------------
def _to_working(values: Sequence[Any], *, crs: Any, working: CRS) -> np.ndarray:
    """``values`` (points or ``(x, y)`` pairs in ``crs``) as working-CRS coordinates."""
    points = []
    for value in values:
        point = value if isinstance(value, shapely.Point) else shapely.Point(*value)
        if point.is_empty or not np.isfinite(shapely.get_coordinates(point)).all():
            raise GeometryError(f"route: {value!r} is not a point with finite coordinates")
        points.append(point)
    series = gpd.GeoSeries(points, crs=crs).to_crs(working)
    coords = shapely.get_coordinates(series.to_numpy())
    if not np.isfinite(coords).all():
        raise GeometryError(f"route: the points do not transform from {CRS(crs).name} into the "
                            "working CRS; check the crs= argument (longitude first)")
    return coords


@functools.cache
def _example() -> Route:
    """A red-line band with a gap: the route goes through the gap (docstring examples)."""
    band = gpd.GeoDataFrame(
        geometry=[shapely.box(500_400, 4_799_000, 500_600, 4_800_300),
                  shapely.box(500_400, 4_800_400, 500_600, 4_801_000)], crs=4551)
    world = Planning(redlines=band, crs=4551)
    rules = RuleSet(id="example", version="1", title="red line only",
                    rules=(as_ruleset(None)["ECO-REDLINE"],))
    return route((500_000, 4_800_000), (501_000, 4_800_000), world, width_m=20, rules=rules,
                 resolution_m=10, alternatives=0, crs=4551, margin_m=600)

