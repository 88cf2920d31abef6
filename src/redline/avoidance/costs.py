"""The cost surface of a search area: what it costs a project of one type to cross each cell.

A route search needs the rules as a raster: every cell of a grid over the search area gets the
cost of one metre of alignment through it — 1 on land no rule concerns, more where a rule would
give the project a finding (:data:`SEVERITY_COSTS`), nothing passable outside the planning
extent. Features are widened by half the project's width first, so that a centreline kept out
of a cell keeps the whole corridor out of the feature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from affine import Affine
from pyproj import CRS

from redline.planning import Planning
from redline.rules import CORRIDORS, Rule, RuleSet

__all__ = [
    "CONTROL_LINES", "RASTERISED_TESTS", "SEVERITY_COSTS", "Grid", "cost_surface", "feature_mask",
    "impassable",
]

#: Control lines a linear project may occupy only when it cannot avoid them (自然资发〔2022〕142号;
#: 《土地管理法》第三十五条), with their labels.
CONTROL_LINES: Mapping[str, str] = {"redlines": "生态保护红线 ecological red line",
                                    "farmland": "永久基本农田 permanent basic farmland"}
#: Cost of one metre of alignment in a cell where a rule gives the project a finding of that
#: severity, on top of the 1 every metre costs; ``control_line`` is a conditional overlap of a
#: :data:`CONTROL_LINES` kind. The steps are far apart so that a route gives up a long detour
#: before one metre of a stricter conflict: it avoids prohibited features wherever the search
#: area allows, then the control lines, then other conditional features, then advisory ones.
SEVERITY_COSTS: Mapping[str, float] = {"advisory": 4.0, "conditional": 1_000.0,
                                       "control_line": 100_000.0, "prohibited": 1_000_000.0}
#: Rule tests the cost surface encodes. Severance (corridor continuity), land-cover and slope
#: rules are assessed when the alignment is screened, but do not steer the search.
RASTERISED_TESTS = ("overlap", "proximity", "outside")


@dataclass(frozen=True)
class Grid:
    """A north-up grid of square cells in a projected CRS.

    Attributes
    ----------
    transform
        Affine transform of the cell corners (rasterio convention).
    shape
        Rows, columns.
    resolution_m
        Cell size in metres.
    crs
        The projected CRS of the cell coordinates.

    Examples
    --------
    >>> grid = Grid.around(np.array([[0.0, 0.0], [1000.0, 0.0]]), resolution_m=10,
    ...                    margin_m=100, crs=CRS.from_epsg(4547))
    >>> grid.shape
    (20, 120)
    >>> grid.cell(0.0, 0.0), grid.centre(10, 10)
    ((10, 10), (5.0, -5.0))
    """

    transform: Affine
    shape: tuple[int, int]
    resolution_m: float
    crs: CRS

    @classmethod
    def around(cls, points: np.ndarray, *, resolution_m: float, margin_m: float,
               crs: CRS) -> Grid:
        """The grid covering ``points`` with ``margin_m`` around them.

        Parameters
        ----------
        points
            ``(n, 2)`` coordinates in ``crs``.
        resolution_m
            Cell size.
        margin_m
            Space kept around the points' bounding box.
        crs
            Their CRS.

        Returns
        -------
        Grid

        Examples
        --------
        >>> Grid.around(np.array([[5.0, 5.0]]), resolution_m=1, margin_m=2,
        ...             crs=CRS.from_epsg(4547)).shape
        (4, 4)
        """
        xmin, ymin = points.min(axis=0) - margin_m
        xmax, ymax = points.max(axis=0) + margin_m
        cols = max(1, int(np.ceil((xmax - xmin) / resolution_m)))
        rows = max(1, int(np.ceil((ymax - ymin) / resolution_m)))
        transform = Affine(resolution_m, 0.0, xmin, 0.0, -resolution_m, ymin + rows * resolution_m)
        return cls(transform=transform, shape=(rows, cols), resolution_m=float(resolution_m),
                   crs=crs)

    @property
    def box(self) -> shapely.Polygon:
        """The grid's outline.

        Returns
        -------
        shapely.Polygon

        Examples
        --------
        >>> Grid.around(np.array([[5.0, 5.0]]), resolution_m=1, margin_m=2,
        ...             crs=CRS.from_epsg(4547)).box.bounds
        (3.0, 3.0, 7.0, 7.0)
        """
        rows, cols = self.shape
        x0, y1 = self.transform.c, self.transform.f
        return shapely.box(x0, y1 - rows * self.resolution_m, x0 + cols * self.resolution_m, y1)

    def cell(self, x: float, y: float) -> tuple[int, int]:
        """Row and column of the cell holding ``(x, y)``.

        Parameters
        ----------
        x, y
            Coordinates in the grid's CRS.

        Returns
        -------
        tuple of int

        Examples
        --------
        >>> grid = Grid.around(np.array([[0.0, 0.0]]), resolution_m=10, margin_m=20,
        ...                    crs=CRS.from_epsg(4547))
        >>> grid.cell(-15.0, 15.0)
        (0, 0)
        """
        col, row = ~self.transform @ (x, y)
        return (min(max(int(row), 0), self.shape[0] - 1),
                min(max(int(col), 0), self.shape[1] - 1))

    def centre(self, row: float, col: float) -> tuple[float, float]:
        """Coordinates of a cell's centre.

        Parameters
        ----------
        row, col
            Cell position.

        Returns
        -------
        tuple of float

        Examples
        --------
        >>> grid = Grid.around(np.array([[0.0, 0.0]]), resolution_m=10, margin_m=20,
        ...                    crs=CRS.from_epsg(4547))
        >>> grid.centre(0, 0)
        (-15.0, 15.0)
        """
        x, y = self.transform @ (col + 0.5, row + 0.5)
        return float(x), float(y)


def feature_mask(grid: Grid, geometries: Iterable[shapely.Geometry], *,
                 widen_m: float = 0.0) -> np.ndarray:
    """Cells touched by ``geometries`` widened by ``widen_m``.

    Parameters
    ----------
    grid
        The grid.
    geometries
        Shapes in the grid's CRS.
    widen_m
        Buffer applied first (half a project's width: a centreline outside the widened shape
        keeps the project's corridor outside the shape).

    Returns
    -------
    numpy.ndarray
        Boolean, ``grid.shape``; every cell the widened shapes touch is ``True``.

    Examples
    --------
    >>> grid = Grid.around(np.array([[0.0, 0.0], [100.0, 100.0]]), resolution_m=10,
    ...                    margin_m=0, crs=CRS.from_epsg(4547))
    >>> int(feature_mask(grid, [shapely.box(0, 0, 30, 100)]).sum())  # 3 columns × 10 rows
    30
    """
    window = grid.box
    shapes = np.asarray(list(geometries), dtype=object)
    if len(shapes) == 0:
        return np.zeros(grid.shape, dtype=bool)
    shapes = shapes[shapely.intersects(shapes, window.buffer(widen_m + grid.resolution_m))]
    if widen_m > 0:
        shapes = shapely.buffer(shapes, widen_m)
    shapes = shapes[~shapely.is_empty(shapes)]
    if len(shapes) == 0:
        return np.zeros(grid.shape, dtype=bool)
    return rasterio.features.geometry_mask(shapes, out_shape=grid.shape,
                                           transform=grid.transform, all_touched=True,
                                           invert=True)


def cost_surface(
    grid: Grid,
    planning: Planning,
    ruleset: RuleSet,
    project_type: str,
    *,
    width_m: float,
    costs: Mapping[str, float] = SEVERITY_COSTS,
) -> np.ndarray:
    """Cost of one metre of a ``project_type`` alignment through each cell of ``grid``.

    Every rule of :data:`RASTERISED_TESTS` that gives ``project_type`` a finding adds its
    severity's cost to the cells where it would: inside the selected features (``overlap``),
    within the rule's distance of them (``proximity``), or outside them (``outside``). Rules on
    a layer the planning lacks add nothing (the alignment's screening reports the gap). Cells
    outside the planning extent are impassable (``inf``).

    Parameters
    ----------
    grid
        The search grid, in the planning's working CRS.
    planning
        The one map.
    ruleset
        The rules.
    project_type
        Canonical project type of the alignment.
    width_m
        The project's width (features are widened by half of it).
    costs
        Cost per metre by severity (and ``control_line``), added to 1.

    Returns
    -------
    numpy.ndarray
        Float costs, ``grid.shape``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> band = gpd.GeoDataFrame(geometry=[shapely.box(500_400, 4.7995e6, 500_600, 4.8005e6)],
    ...                         crs=4551)
    >>> planning = Planning(redlines=band, crs=4551)
    >>> from redline.rules import load_rules
    >>> grid = Grid.around(np.array([[500_000, 4.8e6], [501_000, 4.8e6]]), resolution_m=50,
    ...                    margin_m=100, crs=planning.crs)
    >>> cost = cost_surface(grid, planning, load_rules(), "linear_infrastructure", width_m=0)
    >>> sorted(set(cost[2].tolist()))  # within 1 km of it (advisory); inside it (control line)
    [5.0, 100005.0]
    """
    cost = np.ones(grid.shape, dtype=np.float64)
    for rule in ruleset:
        severity = rule.severity_for(project_type)
        if severity is None or rule.test not in RASTERISED_TESTS:
            continue
        features = _features(rule, planning, ruleset)
        if features is None:
            continue
        selected = features.geometry.to_numpy()[rule.select(features)]
        if rule.test == "outside":
            cost[_outside(grid, shapely.union_all(selected), width_m)] += costs[severity]
            continue
        reach = width_m / 2 + (rule.distance_m if rule.test == "proximity" else 0.0)
        if severity == "conditional" and rule.test == "overlap" and rule.layer in CONTROL_LINES:
            severity = "control_line"
        cost[feature_mask(grid, selected, widen_m=reach)] += costs[severity]
    cost[impassable(grid, planning, width_m=width_m)] = np.inf
    return cost


def impassable(grid: Grid, planning: Planning, *, width_m: float) -> np.ndarray:
    """Cells a corridor of ``width_m`` centred in them would take outside the planning extent.

    Parameters
    ----------
    grid
        The search grid, in the planning's working CRS.
    planning
        The one map (no extent: every cell is passable).
    width_m
        The corridor's width.

    Returns
    -------
    numpy.ndarray
        Boolean, ``grid.shape``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> area = gpd.GeoDataFrame({"level": ["county"]},
    ...                         geometry=[shapely.box(5e5, 4.8e6, 500_100, 4_800_100)], crs=4551)
    >>> grid = Grid.around(np.array([[5e5, 4.8e6], [500_200, 4_800_100]]), resolution_m=10,
    ...                    margin_m=0, crs=CRS.from_epsg(4551))
    >>> blocked = impassable(grid, Planning(boundary=area, crs=4551), width_m=0)
    >>> int(blocked[:, :10].sum()), int(blocked[:, 11:].sum())  # column 10 touches the edge
    (0, 90)
    """
    if planning.extent is None:
        return np.zeros(grid.shape, dtype=bool)
    return _outside(grid, planning.extent, width_m)


def _outside(grid: Grid, area: shapely.Geometry, width_m: float) -> np.ndarray:
    """Cells where a corridor of ``width_m`` centred in the cell could reach outside ``area``:
    every cell the rest of the grid, widened by half the width, touches."""
    return feature_mask(grid, [grid.box.difference(area)], widen_m=width_m / 2)


def _features(rule: Rule, planning: Planning, ruleset: RuleSet) -> gpd.GeoDataFrame | None:
    """The features ``rule`` reads, or ``None`` when the planning lacks them or they are a
    raster."""
    if rule.layer == CORRIDORS:
        built = planning.corridors(ruleset.corridor_half_widths_m)
        return None if built is None else built[0]
    if rule.layer in planning.rasters or rule.layer not in planning:
        return None
    return planning[rule.layer]
