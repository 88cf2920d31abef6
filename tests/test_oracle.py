"""Oracle tests of screening's fast paths (issue 17) on random sites of the sample world.

- Raster statistics (:mod:`redline.raster` measures the pixels under every site itself, with
  numpy) against exactextract run directly on the same rasters: land-cover shares with
  exactextract's spherical pixel weights on the sample's geographic land-cover raster, and
  mean / maximum slope on a DEM whose Horn slope is known in closed form.
- Severance's shortcut (pairs that cannot sever are decided without a window when only the
  severing pairs are asked for) against the full evaluation of every pair.

The random sites mix rotated rectangles of 0.25–16 ha, concave (L-shaped) sites, sites with a
hole, two-part sites, lines and points, some across the province's border (partly on nodata).
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource
from rasterio.transform import Affine

from redline.corridors import severance
from redline.crs import WORKING_CRS
from redline.planning import Planning
from redline.raster import landcover_shares, open_raster, slope_stats

#: exactextract keeps coverage fractions in single precision.
EXACT = 1e-6
#: Points and lines are assessed on a buffer of this many metres (the raster default).
LINE_BUFFER_M = 5.0


def rectangles(rng: np.random.Generator, centres: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Rotated rectangles of the given areas (aspect 1–3) around ``centres``."""
    aspect = rng.uniform(1.0, 3.0, len(area))
    half_w, half_h = np.sqrt(area * aspect) / 2, np.sqrt(area / aspect) / 2
    angle = rng.uniform(0.0, np.pi, len(area))
    corners = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)], dtype=float)
    x = corners[None, :, 0] * half_w[:, None]
    y = corners[None, :, 1] * half_h[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    ring = np.stack([centres[:, :1] + x * cos - y * sin, centres[:, 1:] + x * sin + y * cos], -1)
    return shapely.polygons(ring)


def mixed_sites(rng: np.random.Generator, centres: np.ndarray, size: float) -> np.ndarray:
    """Sites of every shape around ``centres``; ``size``: typical side in metres."""
    n = len(centres)
    area = np.exp(rng.uniform(np.log((size / 4) ** 2), np.log((size * 1.6) ** 2), n))
    geoms = rectangles(rng, centres, area)
    kind = rng.integers(0, 10, n)
    for i in np.flatnonzero(kind >= 6):
        x, y = centres[i]
        side = math.sqrt(area[i])
        if kind[i] == 6:  # concave: an L
            geoms[i] = shapely.union(
                shapely.box(x, y, x + side, y + side / 3), shapely.box(x, y, x + side / 3, y + side)
            )
        elif kind[i] == 7:  # a hole
            geoms[i] = shapely.box(x, y, x + side, y + side).difference(
                shapely.box(x + side / 3, y + side / 3, x + 2 * side / 3, y + 2 * side / 3)
            )
        elif kind[i] == 8:  # two parts, or a bent line
            if rng.random() < 0.5:
                geoms[i] = shapely.MultiPolygon(
                    [
                        shapely.box(x, y, x + side / 2, y + side / 2),
                        shapely.box(x + side, y, x + 1.5 * side, y + side / 3),
                    ]
                )
            else:
                geoms[i] = shapely.LineString(
                    [(x, y), (x + 3 * side, y + side), (x + side, y + 4 * side)]
                )
        else:
            geoms[i] = shapely.Point(x, y)
    return geoms


def centres_in(region: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    xmin, ymin, xmax, ymax = region.bounds
    points = np.empty((0, 2))
    while len(points) < n:
        xy = rng.uniform((xmin, ymin), (xmax, ymax), (4 * n, 2))
        points = np.concatenate([points, xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]])
    return points[:n]


@pytest.fixture(scope="module")
def province_sites(sample_planning: Planning) -> gpd.GeoSeries:
    """1,500 sites over the province; a third near its border (partly on nodata)."""
    rng = np.random.default_rng(17)
    extent = sample_planning.extent
    border = extent.boundary.buffer(1_500)
    centres = np.concatenate([centres_in(extent, 1_000, rng), centres_in(border, 500, rng)])
    return gpd.GeoSeries(mixed_sites(rng, centres, 250.0), crs=WORKING_CRS)


def in_raster_crs(sites: gpd.GeoSeries, crs: object) -> gpd.GeoDataFrame:
    """The sites as redline assesses them (points and lines buffered) in the raster's CRS."""
    geoms = sites.to_numpy().copy()
    thin = ~sites.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    geoms[thin] = shapely.buffer(geoms[thin], LINE_BUFFER_M)  # shapely's 8 segments a quarter
    frame = gpd.GeoDataFrame({"site": np.arange(len(sites))}, geometry=geoms, crs=sites.crs)
    return frame.to_crs(crs)


def test_landcover_shares_equal_exactextract(
    sample_planning: Planning, province_sites: gpd.GeoSeries
) -> None:
    layer = sample_planning.rasters["landcover"]
    ours = landcover_shares(province_sites, layer, crs=WORKING_CRS)
    with rasterio.open(layer.path) as ds:
        oracle = exact_extract(
            ds,
            in_raster_crs(province_sites, ds.crs),
            [
                "unique",
                "frac(coverage_weight=area_spherical_m2)",
                "count(coverage_weight=area_cartesian)",
            ],
            include_cols=["site"],
            output="pandas",
        )
    area = shapely.area(in_raster_crs(province_sites, layer.crs).geometry.to_numpy())
    coverage = oracle["count"].to_numpy() / area
    partial = (coverage > 0.01) & (coverage < 0.99)
    assert partial.sum() >= 30  # sites across the border are measured on their covered part
    np.testing.assert_allclose(ours["coverage"], coverage, atol=EXACT)
    expected = np.zeros((len(province_sites), len(layer.class_names)))
    for row, (codes, fracs) in enumerate(zip(oracle["unique"], oracle["frac"], strict=True)):
        for code, frac in zip(codes, fracs, strict=True):
            expected[row, layer.class_names.index(layer.classes[int(code)])] += frac
    shares = ours[[f"share_{name}" for name in layer.class_names]].to_numpy()
    covered = coverage > 0
    np.testing.assert_allclose(shares[covered], expected[covered], atol=EXACT)
    assert np.isnan(shares[~covered]).all()
    mixed = ((expected > 0.05) & (expected < 0.95)).any(axis=1)
    assert mixed.sum() >= 20  # sites straddling pixels of several classes


def test_slope_stats_equal_exactextract_on_a_known_slope(tmp_path: Path) -> None:
    # z = a x² + b y on 30 m pixels: Horn's slope is exactly atan(hypot(2 a x, b)) away from
    # the grid's edge (central differences are exact on a quadratic).
    a, b, pixel, n = 2e-4, 0.05, 30.0, 200
    left, top = -3_000.0, 3_000.0
    x = left + pixel * (np.arange(n) + 0.5)
    y = top - pixel * (np.arange(n) + 0.5)
    dem = (a * x[None, :] ** 2 + b * y[:, None]).astype(np.float64)
    transform = Affine(pixel, 0.0, left, 0.0, -pixel, top)
    path = tmp_path / "dem.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=n,
        width=n,
        count=1,
        dtype="float64",
        crs=WORKING_CRS.to_wkt(),
        transform=transform,
    ) as ds:
        ds.write(dem, 1)
    slope = np.degrees(np.arctan(np.hypot(2 * a * x[None, :], np.full((n, 1), b))))
    slope = np.broadcast_to(slope, (n, n)).astype(np.float32)  # redline keeps slope in float32
    rng = np.random.default_rng(5)
    inner = shapely.box(left + 400, top - pixel * n + 400, left + pixel * n - 400, top - 400)
    sites = gpd.GeoSeries(mixed_sites(rng, centres_in(inner, 400, rng), 60.0), crs=WORKING_CRS)
    ours = slope_stats(sites, open_raster(path, kind="dem"), crs=WORKING_CRS)
    oracle = exact_extract(
        NumPyRasterSource(slope, left, top - pixel * n, left + pixel * n, top),
        in_raster_crs(sites, WORKING_CRS),
        ["mean", "max", "count"],
        include_cols=["site"],
        output="pandas",
    )
    np.testing.assert_allclose(ours["slope_mean_deg"], oracle["mean"], rtol=0, atol=1e-5)
    np.testing.assert_array_equal(ours["slope_max_deg"], oracle["max"])
    np.testing.assert_allclose(ours["coverage"], 1.0, atol=EXACT)
    assert ours["slope_max_deg"].nunique() > 50  # sites over many different columns


def test_severance_shortcut_equals_the_full_evaluation(sample_planning: Planning) -> None:
    corridors = sample_planning.corridors(
        {"rivers.provincial": 1000.0, "rivers.secondary": 300.0, "roads_rails.secondary": 100.0}
    )
    assert corridors is not None
    features = corridors[0]
    rng = np.random.default_rng(11)
    # sites on and beside the centrelines, small to wider than a secondary corridor
    lines = features["centreline"].to_numpy()
    pick = rng.integers(0, len(lines), 160)
    along = shapely.line_interpolate_point(lines[pick], rng.random(160), normalized=True)
    offset = rng.normal(0.0, features["half_width_m"].to_numpy()[pick])
    centres = shapely.get_coordinates(along) + np.column_stack([offset, offset * 0.3])
    sites = gpd.GeoSeries(mixed_sites(rng, centres, 400.0), crs=WORKING_CRS)
    subject, feature = shapely.STRtree(features.geometry.to_numpy()).query(
        sites.to_numpy(), predicate="intersects"
    )
    pairs = pd.DataFrame({"subject": subject, "feature": feature})
    passage = {"provincial": 500.0, "secondary": 100.0}
    full = severance(sites, features, pairs, min_passage_m=passage, widths_of="all")
    fast = severance(sites, features, pairs, min_passage_m=passage, widths_of="severing")
    assert 40 <= full["severs"].sum() <= len(pairs) - 40  # both outcomes, many of each
    pd.testing.assert_series_equal(fast["severs"], full["severs"])
    cut = full["severs"].to_numpy()
    pd.testing.assert_frame_equal(fast[cut], full[cut])
    assert fast.loc[~cut, ["passage_m", "corridor_passage_m"]].isna().all().all()
