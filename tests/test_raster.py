"""Tests for redline.raster: land-cover shares and slope per site, on rasters built here."""

from __future__ import annotations

import math
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from pyproj import CRS, Geod, Transformer
from rasterio.transform import Affine

from redline import raster
from redline.crs import WORKING_CRS
from redline.errors import CRSError, GeometryError, LayerError
from redline.raster import (
    COVERAGE_COLUMN,
    SLOPE_COLUMNS,
    RasterSites,
    _mean_clamped,
    _ragged,
    landcover_shares,
    open_raster,
    slope_stats,
)

FOREST, WETLAND, GRASS = 20, 50, 30
#: exactextract keeps coverage fractions in single precision: shares are exact to ~1e-7.
EXACT = 1e-6
CLASSES = {FOREST: "forest", WETLAND: "wetland", GRASS: "grassland"}
CGCS2000 = CRS.from_epsg(4490)
GK_126E = CRS.from_epsg(4551)  # CGCS2000 3° Gauss-Krüger, CM 126°E, no zone prefix


def from_origin(left: float, top: float, xres: float, yres: float) -> Affine:
    """North-up grid transform (rasterio's own helper warns about Affine's ``*``)."""
    return Affine(xres, 0.0, left, 0.0, -yres, top)


def write(path: Path, array: np.ndarray, *, crs: CRS | None, transform, nodata=None) -> Path:
    """Write a single-band (or, for a 3-D array, multi-band) GeoTIFF."""
    bands = array if array.ndim == 3 else array[None]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=bands.shape[1],
        width=bands.shape[2],
        count=bands.shape[0],
        dtype=bands.dtype,
        crs=None if crs is None else crs.to_wkt(),
        transform=transform,
        nodata=nodata,
    ) as ds:
        ds.write(bands)
    return path


def sites(*geoms: shapely.Geometry | None, crs: CRS = WORKING_CRS) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs=crs)


# --- land cover in the working CRS: a 2×1 raster, forest | wetland, 30 m pixels -----------------


@pytest.fixture
def two_pixels(tmp_path: Path):
    path = write(
        tmp_path / "lc.tif",
        np.array([[FOREST, WETLAND]], dtype=np.uint8),
        crs=WORKING_CRS,
        transform=from_origin(0, 30, 30, 30),
        nodata=0,
    )
    return open_raster(path, kind="landcover", classes=CLASSES)


def test_open_raster_reads_the_file(two_pixels) -> None:
    assert two_pixels.kind == "landcover"
    assert two_pixels.bounds == (0.0, 0.0, 60.0, 30.0)
    assert two_pixels.nodata == 0
    assert two_pixels.crs.equals(WORKING_CRS)
    assert two_pixels.columns == ("share_forest", "share_grassland", "share_wetland", "coverage")


def test_site_smaller_than_a_pixel_gets_its_true_shares(two_pixels) -> None:
    straddling = shapely.box(27, 10, 37, 20)  # 3 m of 10 on forest, 7 m on wetland
    off_centre = shapely.box(1, 1, 6, 6)  # inside the forest pixel, far from its centre
    out = landcover_shares(sites(straddling, off_centre), two_pixels, crs=WORKING_CRS)
    assert out.loc[0, "share_forest"] == pytest.approx(0.3, abs=EXACT)
    assert out.loc[0, "share_wetland"] == pytest.approx(0.7, abs=EXACT)
    assert out.loc[1, "share_forest"] == pytest.approx(1.0, abs=EXACT)
    assert out.loc[1, "share_wetland"] == pytest.approx(0.0, abs=EXACT)
    assert out["share_grassland"].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(out[COVERAGE_COLUMN], 1.0, atol=EXACT)


def test_site_partly_outside_reports_coverage_and_shares_of_the_covered_part(two_pixels) -> None:
    half_out = shapely.box(50, 20, 70, 40)  # 10 × 10 of 20 × 20 m on wetland
    outside, null = shapely.box(500, 500, 510, 510), None
    out = landcover_shares(sites(half_out, outside, null), two_pixels, crs=WORKING_CRS)
    assert out.loc[0, COVERAGE_COLUMN] == pytest.approx(0.25, abs=EXACT)
    assert out.loc[0, "share_wetland"] == pytest.approx(1.0, abs=EXACT)
    for row in (1, 2):
        assert out.loc[row, COVERAGE_COLUMN] == 0
        assert out.loc[row, ["share_forest", "share_wetland", "share_grassland"]].isna().all()


def test_nodata_pixels_are_not_covered(tmp_path: Path) -> None:
    array = np.array([[FOREST, 0, WETLAND]], dtype=np.uint8)
    layer = open_raster(
        write(
            tmp_path / "lc.tif",
            array,
            crs=WORKING_CRS,
            transform=from_origin(0, 30, 30, 30),
            nodata=0,
        ),
        kind="landcover",
        classes=CLASSES,
    )
    site = shapely.box(20, 0, 40, 30)  # 10 m on forest, 10 m on nodata
    out = landcover_shares(sites(site), layer, crs=WORKING_CRS)
    assert out.loc[0, COVERAGE_COLUMN] == pytest.approx(0.5, abs=EXACT)
    assert out.loc[0, "share_forest"] == pytest.approx(1.0, abs=EXACT)
    assert out.loc[0, "share_wetland"] == 0


def test_shares_match_shapely_overlaps_on_random_sites(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    codes = rng.choice([FOREST, WETLAND, GRASS], size=(4, 5)).astype(np.uint8)
    layer = open_raster(
        write(tmp_path / "lc.tif", codes, crs=WORKING_CRS, transform=from_origin(-75, 60, 30, 30)),
        kind="landcover",
        classes=CLASSES,
    )
    x, y = rng.uniform(-75, 65, 40), rng.uniform(-60, 50, 40)
    boxes = shapely.box(x, y, x + rng.uniform(2, 40, 40), y + rng.uniform(2, 40, 40))
    out = landcover_shares(sites(*boxes), layer, crs=WORKING_CRS)
    for k, site in enumerate(boxes):
        on = {FOREST: 0.0, WETLAND: 0.0, GRASS: 0.0}
        for (r, c), code in np.ndenumerate(codes):
            pixel = shapely.box(-75 + 30 * c, 60 - 30 * (r + 1), -75 + 30 * (c + 1), 60 - 30 * r)
            on[int(code)] += site.intersection(pixel).area
        covered = sum(on.values())
        assert out.loc[k, COVERAGE_COLUMN] == pytest.approx(covered / site.area, abs=EXACT)
        for code, name in CLASSES.items():
            assert out.loc[k, f"share_{name}"] == pytest.approx(on[code] / covered, abs=EXACT)


def test_sites_are_reprojected_into_a_projected_raster(tmp_path: Path) -> None:
    # Oracle: the site reprojected with pyproj, intersected with the pixels in shapely.
    to_gk = Transformer.from_crs(WORKING_CRS, GK_126E, always_xy=True)
    x0, y0 = to_gk.transform(0.0, 0.0)
    left, top = math.floor(x0) - 30, math.floor(y0) + 15
    layer = open_raster(
        write(
            tmp_path / "lc.tif",
            np.array([[FOREST, WETLAND]], np.uint8),
            crs=GK_126E,
            transform=from_origin(left, top, 30, 30),
        ),
        kind="landcover",
        classes=CLASSES,
    )
    site = shapely.box(-8, -6, 6, 5)
    in_gk = shapely.transform(site, lambda x, y: to_gk.transform(x, y), interleaved=False)
    west = in_gk.intersection(shapely.box(left, top - 30, left + 30, top)).area / in_gk.area
    out = landcover_shares(sites(site), layer, crs=WORKING_CRS)
    assert 0.2 < west < 0.8
    assert out.loc[0, "share_forest"] == pytest.approx(west, abs=EXACT)
    assert out.loc[0, "share_wetland"] == pytest.approx(1 - west, abs=EXACT)


def test_sites_are_reprojected_into_a_geographic_raster(tmp_path: Path) -> None:
    # The working CRS's central meridian, 126.5°E, is the line x = 0: the pixel border.
    pixel = 0.001
    layer = open_raster(
        write(
            tmp_path / "lc.tif",
            np.array([[FOREST, WETLAND]], np.uint8),
            crs=CGCS2000,
            transform=from_origin(126.5 - pixel, 43.5 + pixel, pixel, pixel),
        ),
        kind="landcover",
        classes=CLASSES,
    )
    site = shapely.box(-9, 30, 21, 60)  # 30 % west of x = 0
    out = landcover_shares(sites(site), layer, crs=WORKING_CRS)
    assert out.loc[0, "share_forest"] == pytest.approx(0.3, abs=1e-3)
    assert out.loc[0, "share_wetland"] == pytest.approx(0.7, abs=1e-3)
    assert out.loc[0, COVERAGE_COLUMN] == pytest.approx(1.0, abs=EXACT)


def test_points_and_lines_are_assessed_on_a_buffer(two_pixels) -> None:
    point = shapely.Point(30, 15)  # on the border: half of the buffer disc each side
    line = shapely.LineString([(10, 15), (40, 15)])  # 20 m + 5 m cap on forest, 10 + 5 wetland
    out = landcover_shares(sites(point, line), two_pixels, crs=WORKING_CRS, line_buffer_m=5.0)
    assert out.loc[0, "share_forest"] == pytest.approx(0.5, abs=EXACT)
    assert out.loc[1, "share_forest"] == pytest.approx(
        shapely.buffer(line, 5).intersection(shapely.box(0, 0, 30, 30)).area
        / shapely.buffer(line, 5).area,
        abs=EXACT,
    )
    np.testing.assert_allclose(out[COVERAGE_COLUMN], 1.0, atol=EXACT)


def test_index_is_kept_and_arrays_are_accepted(two_pixels) -> None:
    boxes = [shapely.box(1, 1, 5, 5), shapely.box(40, 1, 45, 5)]
    named = gpd.GeoSeries(boxes, index=["north", "south"], crs=WORKING_CRS)
    by_name = landcover_shares(named, two_pixels, crs=WORKING_CRS)
    assert list(by_name.index) == ["north", "south"]
    by_array = landcover_shares(np.array(boxes, dtype=object), two_pixels, crs=WORKING_CRS)
    assert list(by_array.index) == [0, 1]
    np.testing.assert_array_equal(by_array.to_numpy(), by_name.to_numpy())


@pytest.mark.parametrize("geographic", [False, True], ids=["projected", "lon-lat"])
def test_batch_equals_one_site_at_a_time(tmp_path: Path, geographic: bool) -> None:
    """A site's shares do not depend on the other sites of its batch (which set the window
    read), to the last bit: a forked chunk and one process give the same numbers."""
    rng = np.random.default_rng(3)
    codes = rng.choice([FOREST, WETLAND, GRASS], size=(30, 40)).astype(np.uint8)
    codes[5:9, 5:9] = 0
    if geographic:  # ~0.00035° ≈ 30 m, around the working CRS's origin (126.5°E, 43.5°N)
        crs, transform = CGCS2000, from_origin(126.4928, 43.5040, 0.00035, 0.00027)
    else:
        crs, transform = WORKING_CRS, from_origin(-600, 450, 30, 30)
    layer = open_raster(write(tmp_path / "lc.tif", codes, crs=crs, transform=transform,
                              nodata=0), kind="landcover", classes=CLASSES)
    x, y = rng.uniform(-650, 650, 60), rng.uniform(-500, 500, 60)
    batch = sites(*shapely.box(x, y, x + 70, y + 50))
    together = landcover_shares(batch, layer, crs=WORKING_CRS)
    alone = pd.concat(
        [landcover_shares(batch.iloc[[k]], layer, crs=WORKING_CRS) for k in range(len(batch))]
    )
    assert together[COVERAGE_COLUMN].between(0.2, 1.0).sum() > 30  # most sites on the raster
    pd.testing.assert_frame_equal(together, alone, rtol=0, atol=0)


# --- slope ---------------------------------------------------------------------------------------


def plane_dem(tmp_path: Path, degrees: float, *, name: str = "dem.tif", nodata=None) -> Path:
    """20 × 20 DEM, 30 m pixels in the working CRS, rising east at ``degrees``."""
    x = -300 + 30 * (np.arange(20) + 0.5)
    z = np.tile(x * math.tan(math.radians(degrees)) + 500, (20, 1)).astype(np.float32)
    if nodata is not None:
        z[8:11, 8:11] = nodata
    return write(
        tmp_path / name, z, crs=WORKING_CRS, transform=from_origin(-300, 300, 30, 30), nodata=nodata
    )


def test_slope_of_a_tilted_plane(tmp_path: Path) -> None:
    dem = open_raster(plane_dem(tmp_path, 30), kind="dem")
    inside, at_edge = shapely.box(-100, -80, 50, 40), shapely.box(-300, 200, -250, 300)
    out = slope_stats(sites(inside, at_edge, None), dem, crs=WORKING_CRS)
    assert list(out.columns) == list(SLOPE_COLUMNS)
    np.testing.assert_allclose(out.loc[[0, 1], "slope_mean_deg"], 30, atol=0.01)
    assert (out.loc[[0, 1], "slope_max_deg"] >= out.loc[[0, 1], "slope_mean_deg"] - 1e-9).all()
    np.testing.assert_allclose(out.loc[[0, 1], "slope_max_deg"], 30, atol=0.01)
    np.testing.assert_allclose(out.loc[[0, 1], COVERAGE_COLUMN], 1.0, atol=EXACT)
    assert (
        out.loc[2, COVERAGE_COLUMN] == 0
        and out.loc[2, ["slope_mean_deg", "slope_max_deg"]].isna().all()
    )


def test_slope_max_is_over_every_pixel_touched(tmp_path: Path) -> None:
    z = np.zeros((6, 6), dtype=np.float32)
    z[:, 3:] = 30 * math.tan(math.radians(45))  # a 30 m step between columns 2 and 3
    dem = open_raster(
        write(tmp_path / "dem.tif", z, crs=WORKING_CRS, transform=from_origin(0, 180, 30, 30)),
        kind="dem",
    )
    flat_middle_of_pixel = shapely.box(5, 65, 25, 85)  # column 0: flat
    touching_step = shapely.box(50, 65, 61, 85)  # mostly column 1, 1 m into column 2
    out = slope_stats(sites(flat_middle_of_pixel, touching_step), dem, crs=WORKING_CRS)
    assert out.loc[0, "slope_max_deg"] == pytest.approx(0.0, abs=EXACT)
    # Column 2 sees the step: dz/dx = (30 - 0) / (2 × 30 m) → atan(0.5) = 26.57°.
    assert out.loc[1, "slope_max_deg"] == pytest.approx(math.degrees(math.atan(0.5)), abs=1e-4)
    assert out.loc[1, "slope_mean_deg"] < out.loc[1, "slope_max_deg"] / 5


def test_slope_next_to_nodata_stays_exact_and_nodata_is_not_covered(tmp_path: Path) -> None:
    dem = open_raster(plane_dem(tmp_path, 30, nodata=-9999), kind="dem")
    # Pixels 8..10 (x -60..30, y 60..-30) are nodata.
    beside, over = shapely.box(-90, 0, -62, 30), shapely.box(-75, 0, -45, 30)
    out = slope_stats(sites(beside, over), dem, crs=WORKING_CRS)
    np.testing.assert_allclose(out["slope_mean_deg"], 30, atol=0.01)
    assert out.loc[0, COVERAGE_COLUMN] == pytest.approx(1.0, abs=EXACT)
    assert out.loc[1, COVERAGE_COLUMN] == pytest.approx(0.5, abs=EXACT)


@pytest.mark.parametrize("direction", ["east", "north"])
def test_slope_of_a_geographic_dem_is_in_metres(tmp_path: Path, direction: str) -> None:
    geod, degrees, pixel = Geod(ellps="GRS80"), 20.0, 0.0005
    lon = 126.49 + pixel * (np.arange(40) + 0.5)
    lat = 43.51 - pixel * (np.arange(40) + 0.5)
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    if direction == "east":
        _, _, metres = geod.inv(np.full_like(lon_grid, 126.49), lat_grid, lon_grid, lat_grid)
    else:
        _, _, metres = geod.inv(lon_grid, np.full_like(lat_grid, 43.49), lon_grid, lat_grid)
    z = (np.asarray(metres) * math.tan(math.radians(degrees))).astype(np.float64)
    dem = open_raster(
        write(
            tmp_path / "dem.tif",
            z,
            crs=CGCS2000,
            transform=from_origin(126.49, 43.51, pixel, pixel),
        ),
        kind="dem",
    )
    out = slope_stats(sites(shapely.box(-300, -100, 300, 300)), dem, crs=WORKING_CRS)
    assert out.loc[0, COVERAGE_COLUMN] == pytest.approx(1.0, abs=EXACT)
    assert out.loc[0, "slope_mean_deg"] == pytest.approx(degrees, abs=0.5)
    assert out.loc[0, "slope_max_deg"] >= out.loc[0, "slope_mean_deg"]


def test_slope_is_recomputed_when_the_dem_changes(tmp_path: Path) -> None:
    path = plane_dem(tmp_path, 10)
    site = sites(shapely.box(-50, -50, 50, 50))
    before = slope_stats(site, open_raster(path, kind="dem"), crs=WORKING_CRS)
    plane_dem(tmp_path, 40)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    after = slope_stats(site, open_raster(path, kind="dem"), crs=WORKING_CRS)
    assert before.loc[0, "slope_mean_deg"] == pytest.approx(10, abs=0.01)
    assert after.loc[0, "slope_mean_deg"] == pytest.approx(40, abs=0.01)


def test_points_and_lines_get_a_slope(tmp_path: Path) -> None:
    dem = open_raster(plane_dem(tmp_path, 30), kind="dem")
    out = slope_stats(
        sites(shapely.Point(0, 0), shapely.LineString([(0, 0), (100, 50)])), dem, crs=WORKING_CRS
    )
    np.testing.assert_allclose(out["slope_mean_deg"], 30, atol=0.01)
    np.testing.assert_allclose(out[COVERAGE_COLUMN], 1.0, atol=EXACT)


# --- sites prepared once for several rasters ----------------------------------------------------


def test_prepared_sites_give_what_each_summary_gives(tmp_path: Path) -> None:
    pixel = 0.0005
    geographic = open_raster(
        write(
            tmp_path / "lc.tif",
            np.array([[FOREST, WETLAND], [GRASS, FOREST]], np.uint8),
            crs=CGCS2000,
            transform=from_origin(126.5 - pixel, 43.5 + pixel, pixel, pixel),
        ),
        kind="landcover",
        classes=CLASSES,
    )
    dem = open_raster(plane_dem(tmp_path, 20), kind="dem")
    holed = shapely.box(-30, -20, 30, 40).difference(shapely.box(-5, 0, 5, 10))
    several = shapely.MultiPolygon([shapely.box(-40, -40, -20, -25), shapely.box(10, 5, 25, 30)])
    batch = sites(shapely.box(-10, 0, 12, 25), holed, None, shapely.Point(3, 4), several)
    prepared = RasterSites(batch, crs=WORKING_CRS)
    for _ in range(2):  # the reprojected sites are kept and reused
        pd.testing.assert_frame_equal(
            prepared.landcover_shares(geographic),
            landcover_shares(batch, geographic, crs=WORKING_CRS),
            rtol=0,
            atol=0,
        )
        pd.testing.assert_frame_equal(
            prepared.slope_stats(dem), slope_stats(batch, dem, crs=WORKING_CRS), rtol=0, atol=0
        )


@pytest.mark.parametrize(
    "geoms",
    [
        [shapely.box(0, 0, 1, 2), shapely.Point(0, 0).buffer(3)],
        [shapely.box(0, 0, 9, 9).difference(shapely.box(2, 2, 3, 3)), shapely.box(0, 0, 1, 1)],
        [shapely.box(0, 0, 1, 1), shapely.MultiPolygon([shapely.box(2, 2, 3, 3)] * 2)],
        [],
    ],
    ids=["polygons", "a hole", "a multipolygon", "none"],
)
def test_ragged_arrays_are_shapely_s(geoms: list) -> None:
    polygons = np.array(geoms, dtype=object)
    coords, ring_end, polygon_end, site_end = _ragged(polygons)
    if not geoms:
        assert coords.shape == (0, 2) and list(ring_end) == list(site_end) == [0]
        return
    _, expected, offsets = shapely.to_ragged_array(polygons)
    np.testing.assert_array_equal(coords, expected)
    np.testing.assert_array_equal(ring_end, offsets[0])
    np.testing.assert_array_equal(polygon_end, offsets[1])
    np.testing.assert_array_equal(
        site_end, offsets[2] if len(offsets) == 3 else np.arange(len(geoms) + 1)
    )


def test_clamped_means_are_the_plain_formula_s_bit_for_bit() -> None:
    def positive(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # mean of max(u, 0), a → b
        with np.errstate(divide="ignore", invalid="ignore"):
            one = np.maximum(a, b) ** 2 / (2 * np.abs(a - b))
        return np.where((a >= 0) & (b >= 0), (a + b) / 2, np.where((a <= 0) & (b <= 0), 0.0, one))

    rng = np.random.default_rng(5)
    special = np.array([-1.0, -1e-17, -0.0, 0.0, 1e-17, 0.5, 1 - 1e-16, 1.0, 1 + 2e-16, 1.5, 2.0])
    a = np.concatenate([np.repeat(special, len(special)), rng.uniform(-2, 3, 5000)])
    b = np.concatenate([np.tile(special, len(special)), rng.uniform(-2, 3, 5000)])
    expected = positive(a, b) - positive(a - 1, b - 1)
    np.testing.assert_array_equal(_mean_clamped(a, b), expected)
    np.testing.assert_array_equal(np.signbit(_mean_clamped(a, b)), np.signbit(expected))


def test_blocks_of_sites_change_no_pixel_sum(tmp_path: Path, monkeypatch) -> None:
    rng = np.random.default_rng(11)
    layer = open_raster(
        write(
            tmp_path / "lc.tif",
            rng.choice([FOREST, WETLAND, GRASS], size=(40, 50)).astype(np.uint8),
            crs=WORKING_CRS,
            transform=from_origin(-750, 600, 30, 30),
        ),
        kind="landcover",
        classes=CLASSES,
    )
    x, y = rng.uniform(-700, 600, 80), rng.uniform(-550, 500, 80)
    batch = sites(*shapely.buffer(shapely.points(x, y), rng.uniform(5, 120, 80)))
    whole = landcover_shares(batch, layer, crs=WORKING_CRS)
    monkeypatch.setattr(raster, "_PAIRS_PER_BLOCK", 64)
    pd.testing.assert_frame_equal(
        landcover_shares(batch, layer, crs=WORKING_CRS), whole, rtol=0, atol=0
    )


def test_groups_of_sites_change_no_summary(tmp_path: Path, monkeypatch) -> None:
    """Sites measured in groups (a million at once would hold gigabytes of pixels) get what
    they get in one: polygons with holes, multipolygons, lines and points, a site off the
    raster, groups of 7 across all of them."""
    rng = np.random.default_rng(12)
    layer = open_raster(
        write(tmp_path / "lc.tif", rng.choice([FOREST, WETLAND, GRASS], size=(40, 50))
              .astype(np.uint8), crs=WORKING_CRS, transform=from_origin(-750, 600, 30, 30)),
        kind="landcover", classes=CLASSES,
    )
    dem = open_raster(plane_dem(tmp_path, 12.0), kind="dem")
    x, y = rng.uniform(-700, 600, 40), rng.uniform(-550, 500, 40)
    discs = shapely.buffer(shapely.points(x, y), rng.uniform(5, 120, 40))
    holed = shapely.difference(discs[:10], shapely.buffer(shapely.points(x[:10], y[:10]), 3))
    geoms = [*holed, *discs[10:30], shapely.union(discs[30], discs[31]),
             shapely.LineString([(x[32], y[32]), (x[33], y[33])]), shapely.Point(x[34], y[34]),
             None, shapely.box(5000, 5000, 5100, 5100), *discs[35:]]
    batch = sites(*geoms)
    assert len(raster.RasterSites(batch, crs=WORKING_CRS)._sites.rows) == 39  # None skipped
    shares = landcover_shares(batch, layer, crs=WORKING_CRS)
    slopes = slope_stats(batch, dem, crs=WORKING_CRS)
    assert shares["coverage"].between(0.99, 1.0).sum() > 30 and shares["coverage"].iloc[34] == 0
    monkeypatch.setattr(raster, "_SITES_PER_GROUP", 7)
    pd.testing.assert_frame_equal(landcover_shares(batch, layer, crs=WORKING_CRS), shares,
                                  rtol=0, atol=0)
    pd.testing.assert_frame_equal(slope_stats(batch, dem, crs=WORKING_CRS), slopes,
                                  rtol=0, atol=0)


# --- errors --------------------------------------------------------------------------------------


def test_raster_without_crs_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "no_crs.tif",
        np.ones((2, 2), np.uint8),
        crs=None,
        transform=from_origin(0, 60, 30, 30),
    )
    with pytest.raises(CRSError, match=r"no_crs\.tif.*no coordinate reference system"):
        open_raster(path, kind="landcover", classes=CLASSES)


def test_unknown_class_codes_are_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "lc.tif",
        np.array([[FOREST, 7, 99]], np.uint8),
        crs=WORKING_CRS,
        transform=from_origin(0, 30, 30, 30),
    )
    with pytest.raises(LayerError, match=r"lc\.tif: land-cover codes 7, 99 are not in the class"):
        open_raster(path, kind="landcover", classes=CLASSES)


def test_raster_outside_china_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path / "far.tif",
        np.ones((2, 2), np.float32),
        crs=CGCS2000,
        transform=from_origin(10, 50, 0.01, 0.01),
    )
    with pytest.raises(CRSError, match=r"far\.tif: the dem raster does not reach China"):
        open_raster(path, kind="dem")


def test_swapped_axes_are_diagnosed(tmp_path: Path) -> None:
    path = write(
        tmp_path / "swapped.tif",
        np.ones((2, 2), np.float32),
        crs=CGCS2000,
        transform=from_origin(43.0, 126.0, 0.01, 0.01),
    )
    with pytest.raises(CRSError, match="look swapped"):
        open_raster(path, kind="dem")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "slope"}, r"unknown raster kind 'slope'; expected one of landcover, dem"),
        ({"kind": "landcover"}, r"needs its class table"),
        ({"kind": "landcover", "classes": {20: "jungle"}}, r"unknown classes: 20='jungle'"),
        ({"kind": "landcover", "classes": {"x": "forest"}}, r"not integers: 'x'"),
        ({"kind": "dem", "classes": {20: "forest"}}, r"classes were given for a DEM"),
    ],
)
def test_bad_options_are_refused(tmp_path: Path, kwargs: dict, message: str) -> None:
    path = write(
        tmp_path / "lc.tif",
        np.array([[FOREST]], np.uint8),
        crs=WORKING_CRS,
        transform=from_origin(0, 30, 30, 30),
    )
    with pytest.raises(LayerError, match=message):
        open_raster(path, **kwargs)


def test_chinese_class_labels_and_string_codes_are_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "lc.tif",
        np.array([[FOREST, WETLAND]], np.uint8),
        crs=WORKING_CRS,
        transform=from_origin(0, 30, 30, 30),
    )
    layer = open_raster(path, kind="landcover", classes={"20": "林地", "50": "wetland"})
    assert dict(layer.classes) == {FOREST: "forest", WETLAND: "wetland"}


@pytest.mark.parametrize(
    ("array", "kind", "message"),
    [
        (np.ones((2, 2, 2), np.uint8), "dem", r"has 2 bands"),
        (np.full((2, 2), 20.0, np.float32), "landcover", r"integer class codes.*float32"),
    ],
)
def test_bad_files_are_refused(tmp_path: Path, array: np.ndarray, kind: str, message: str) -> None:
    path = write(tmp_path / "bad.tif", array, crs=WORKING_CRS, transform=from_origin(0, 60, 30, 30))
    classes = CLASSES if kind == "landcover" else None
    with pytest.raises(LayerError, match=message):
        open_raster(path, kind=kind, classes=classes)


def test_missing_file_is_a_layer_error(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"missing\.tif: cannot open the dem raster"):
        open_raster(tmp_path / "missing.tif", kind="dem")


def test_wrong_inputs_to_the_summaries_are_refused(two_pixels, tmp_path: Path) -> None:
    box = shapely.box(1, 1, 5, 5)
    dem = open_raster(plane_dem(tmp_path, 5), kind="dem")
    with pytest.raises(LayerError, match="expected a dem layer, got a landcover layer"):
        slope_stats(sites(box), two_pixels, crs=WORKING_CRS)
    with pytest.raises(LayerError, match="expected a landcover layer, got a dem layer"):
        landcover_shares(sites(box), dem, crs=WORKING_CRS)
    with pytest.raises(CRSError, match="projected CRS in metres"):
        landcover_shares(sites(box, crs=CGCS2000), two_pixels, crs=CGCS2000)
    with pytest.raises(CRSError, match=r"differs from crs="):
        landcover_shares(sites(box, crs=GK_126E), two_pixels, crs=WORKING_CRS)
    with pytest.raises(GeometryError, match="line_buffer_m must be a positive"):
        slope_stats(sites(box), dem, crs=WORKING_CRS, line_buffer_m=0)
    bow_tie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    with pytest.raises(GeometryError, match=r"1 site polygons are invalid \(sites 1\)"):
        landcover_shares(sites(box, bow_tie), two_pixels, crs=WORKING_CRS)
