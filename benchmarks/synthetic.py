"""Deterministic synthetic inputs for the benchmarks (fixed seeds, working CRS).

- :func:`make_complex_layer` and :func:`make_engine_sites`: the engine benchmark's complex
  polygon layer (10,000 features, ~2.8 M vertices, a 1,000 km river corridor) and sites of 1–10 ha;
- :func:`make_sites`: sites over the sample one map (0.25–16 ha polygons, some points and lines);
- :func:`make_parcels`: a cadastral tessellation (jittered 150 m grid) centred in the province.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from redline.crs import WORKING_CRS
from redline.planning import Planning
from redline.schema import PROJECT_TYPES

__all__ = [
    "centres_inside",
    "make_complex_layer",
    "make_engine_sites",
    "make_parcels",
    "make_sites",
    "rectangles",
]

PARCEL_SIZE = 150.0


def make_parcels(
    n: int, *, centre: tuple[float, float] = (0.0, 0.0), seed: int = 1
) -> gpd.GeoDataFrame:
    """``n`` parcels of about 150 × 150 m: a jittered-grid tessellation centred on ``centre``."""
    rng = np.random.default_rng(seed)
    nx = int(np.ceil(np.sqrt(n)))
    ny = int(np.ceil(n / nx))
    gx = (np.arange(nx + 1) - nx / 2) * PARCEL_SIZE + centre[0]
    gy = (np.arange(ny + 1) - ny / 2) * PARCEL_SIZE + centre[1]
    vx, vy = np.meshgrid(gx, gy, indexing="ij")
    vx = vx + rng.uniform(-0.3, 0.3, vx.shape) * PARCEL_SIZE
    vy = vy + rng.uniform(-0.3, 0.3, vy.shape) * PARCEL_SIZE
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    i, j = i.ravel()[:n], j.ravel()[:n]
    corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1), (i, j)]
    ring = np.stack([np.stack([vx[a, b], vy[a, b]], axis=-1) for a, b in corners], axis=1)
    return gpd.GeoDataFrame(
        {"parcel_id": np.arange(n)}, geometry=shapely.polygons(ring), crs=WORKING_CRS
    )


def make_sites(
    planning: Planning, n: int, *, seed: int = 2, points: float = 0.03, lines: float = 0.03
) -> gpd.GeoDataFrame:
    """``n`` sites inside the planning extent: rotated rectangles of 0.25–16 ha (log-uniform
    area, aspect 1–3), with a share of points and of lines (100–2,000 m); random project types."""
    rng = np.random.default_rng(seed)
    centres = centres_inside(planning.extent, n, rng)
    area = np.exp(rng.uniform(np.log(2_500.0), np.log(160_000.0), n))
    aspect = rng.uniform(1.0, 3.0, n)
    angle = rng.uniform(0.0, np.pi, n)
    geoms = rectangles(centres, _half_sides(area, aspect), angle)
    kind = rng.random(n)
    is_point = kind < points
    is_line = (kind >= points) & (kind < points + lines)
    geoms[is_point] = shapely.points(centres[is_point])
    length = rng.uniform(100.0, 2_000.0, is_line.sum())
    dx, dy = np.cos(angle[is_line]) * length / 2, np.sin(angle[is_line]) * length / 2
    c = centres[is_line]
    geoms[is_line] = shapely.linestrings(
        np.stack(
            [
                np.column_stack([c[:, 0] - dx, c[:, 1] - dy]),
                np.column_stack([c[:, 0] + dx, c[:, 1] + dy]),
            ],
            axis=1,
        )
    )
    types = np.array([*PROJECT_TYPES, None], dtype=object)
    return gpd.GeoDataFrame(
        {"site_id": [f"S{i:07d}" for i in range(n)], "project_type": rng.choice(types, size=n)},
        geometry=geoms,
        crs=planning.crs,
    )


#: Side of the square region of the complex layer (m).
COMPLEX_SIDE = 400_000.0


def make_complex_layer(
    *, seed: int = 3, n_blobs: int = 9_999, vertices: int = 2_760_000
) -> gpd.GeoDataFrame:
    """A complex polygon layer like the reference of issue 7: ``n_blobs`` wiggly polygons over
    400 × 400 km with a heavy-tailed size (Pareto vertex counts, 96 to 50,000 vertices, radius
    growing with the square root of the count: a few province-scale polygons, many small
    ones; features may overlap, as different red-line types do) and one 1,000 km river
    corridor (a 1 km wide buffer of a meandering line): ~2.8 M vertices in all."""
    rng = np.random.default_rng(seed)
    counts = np.minimum(96 * rng.random(n_blobs) ** (-1 / 1.5), 50_000)
    counts = np.maximum(np.round(counts * vertices / counts.sum()), 16).astype(np.int64)
    centre = rng.uniform(-COMPLEX_SIDE / 2, COMPLEX_SIDE / 2, (n_blobs, 2))
    radius = 100.0 * np.sqrt(counts)
    phase = rng.uniform(0, 2 * np.pi, (n_blobs, 3))
    blob = np.repeat(np.arange(n_blobs), counts)
    k = np.arange(len(blob)) - np.repeat(np.cumsum(counts) - counts, counts)
    theta = 2 * np.pi * k / counts[blob]
    r = radius[blob] * (
        1
        + 0.15 * np.sin(3 * theta + phase[blob, 0])
        + 0.06 * np.sin(7 * theta + phase[blob, 1])
        + 0.02 * np.sin(31 * theta + phase[blob, 2])
    )
    xy = centre[blob] + np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    blobs = shapely.polygons(shapely.linearrings(xy, indices=blob))
    # The river: 1,000 km of meanders across the region (the meander amplitude solved for the
    # length), a vertex every 50 m, buffered 500 m.
    s = np.linspace(0.0, 1.0, 20_001)
    x = (s - 0.5) * COMPLEX_SIDE * 0.9

    def course(amplitude: float) -> shapely.LineString:
        wave = np.sin(2 * np.pi * 2.3 * s) + 0.15 * np.sin(2 * np.pi * 41 * s)
        return shapely.linestrings(x, amplitude * wave)

    low, high = 0.0, COMPLEX_SIDE
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if course(mid).length < 1_000_000.0 else (low, mid)
    line = course(low)
    river = shapely.buffer(shapely.segmentize(line, 50.0), 500.0, quad_segs=4)
    geoms = np.concatenate([blobs, [river]])
    return gpd.GeoDataFrame(
        {"feature_id": [f"C{q:05d}" for q in range(len(geoms))]},
        geometry=geoms,
        crs=WORKING_CRS,
    )


def make_engine_sites(n: int, *, seed: int = 4) -> gpd.GeoSeries:
    """``n`` rotated rectangles of 1–10 ha spread uniformly over the complex layer's region."""
    rng = np.random.default_rng(seed)
    half_side = COMPLEX_SIDE / 2
    centres = rng.uniform(-half_side, half_side, (n, 2))
    area = rng.uniform(10_000.0, 100_000.0, n)
    aspect = rng.uniform(1.0, 2.5, n)
    angle = rng.uniform(0.0, np.pi, n)
    return gpd.GeoSeries(rectangles(centres, _half_sides(area, aspect), angle), crs=WORKING_CRS)


def centres_inside(extent: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points drawn uniformly inside ``extent`` (rejection sampling on its bounds)."""
    shapely.prepare(extent)
    xmin, ymin, xmax, ymax = extent.bounds
    centres = np.empty((0, 2))
    while len(centres) < n:
        xy = rng.uniform((xmin, ymin), (xmax, ymax), size=(2 * n, 2))
        inside = shapely.contains_xy(extent, xy[:, 0], xy[:, 1])
        centres = np.concatenate([centres, xy[inside]])[:n]
    return centres


def rectangles(centres: np.ndarray, half: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rectangles of half-sides ``half`` (n × 2), rotated by ``angle`` about ``centres``."""
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)], dtype=float)
    local = corners[None] * half[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    ring = np.stack(
        [
            centres[:, :1] + local[..., 0] * cos - local[..., 1] * sin,
            centres[:, 1:] + local[..., 0] * sin + local[..., 1] * cos,
        ],
        axis=-1,
    )
    return shapely.polygons(ring)


def _half_sides(area: np.ndarray, aspect: np.ndarray) -> np.ndarray:
    """Half-sides of rectangles of the given areas and aspect ratios."""
    return np.column_stack([np.sqrt(area * aspect), np.sqrt(area / aspect)]) / 2
