"""Tests for redline.crs: refusing coordinates that cannot lie in the planning's region (Jilin's
box here), saying why, and reprojecting exactly as pyproj does."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from redline.crs import (
    JILIN_LONLAT_BOUNDS,
    WORKING_CRS,
    diagnose_crs,
    gauss_kruger_epsg,
    is_metric,
    lonlat_bounds,
    outside_extent,
    to_working,
)
from redline.errors import CRSError

# Changchun and Yanji, longitude/latitude (CGCS2000)
CHANGCHUN, YANJI = (125.32, 43.82), (129.51, 42.89)


def points(xy: list[tuple[float, float]], crs: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"n": range(len(xy))}, geometry=shapely.points(np.array(xy, dtype=float)), crs=crs
    )


def projected(epsg: int, lonlat: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """``lonlat`` in EPSG:``epsg``, computed by pyproj directly."""
    t = Transformer.from_crs(4490, epsg, always_xy=True)
    return [t.transform(x, y) for x, y in lonlat]


def test_no_crs() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(125, 43)])
    with pytest.raises(
        CRSError, match=r"zoning\.shp: the data has no coordinate .*crs='EPSG:4490'"
    ):
        to_working(gdf, source="zoning.shp")
    with pytest.raises(CRSError, match="without a CRS"):
        lonlat_bounds(gdf)


def test_crs_override_only_applies_without_crs() -> None:
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(*CHANGCHUN)])
    assert to_working(gdf, source="s", crs="EPSG:4490").crs == WORKING_CRS
    assert gdf.crs is None  # input untouched


def test_reprojection_matches_pyproj() -> None:
    gdf = points([CHANGCHUN, YANJI], crs=4490)
    out = to_working(gdf, source="sites")
    expected = Transformer.from_crs(4490, WORKING_CRS, always_xy=True).transform(
        [CHANGCHUN[0], YANJI[0]], [CHANGCHUN[1], YANJI[1]]
    )
    np.testing.assert_allclose(shapely.get_coordinates(out.geometry.values).T, expected, atol=1e-6)
    origin = to_working(points([(126.5, 43.5)], crs=4490), source="o")
    np.testing.assert_allclose(shapely.get_coordinates(origin.geometry.values), [[0, 0]], atol=1e-6)


def test_gauss_kruger_input_matches_pyproj() -> None:
    gk = points(projected(4551, [CHANGCHUN, YANJI]), crs=4551)  # CM 126°E, no zone prefix
    out = to_working(gk, source="gk")
    expected = to_working(points([CHANGCHUN, YANJI], crs=4490), source="ll")
    np.testing.assert_allclose(
        shapely.get_coordinates(out.geometry.values),
        shapely.get_coordinates(expected.geometry.values),
        atol=1e-3,
    )


def test_equal_area() -> None:
    """The working CRS is equal-area: a 0.1° cell's area matches the geodesic area."""
    cell = shapely.box(126.0, 43.0, 126.1, 43.1)
    projected_area = to_working(gpd.GeoDataFrame(geometry=[cell], crs=4490), source="c").area[0]
    geodesic = abs(CRS.from_epsg(4490).get_geod().geometry_area_perimeter(cell)[0])
    assert projected_area == pytest.approx(geodesic, rel=1e-6)
    assert is_metric(WORKING_CRS) and not is_metric(CRS.from_epsg(4490))


def test_lat_lon_swapped() -> None:
    swapped = points([(y, x) for x, y in (CHANGCHUN, YANJI)], crs=4490)
    with pytest.raises(CRSError, match=r"sites\.geojson: 2 of 2 features fall outside.*swapped"):
        to_working(swapped, source="sites.geojson")


def test_metres_labelled_as_degrees_names_the_prefix_epsg() -> None:
    metres = points(projected(4530, [CHANGCHUN, (126.2, 44.0)]), crs=4490)
    assert metres.geometry.x.min() > 42_000_000
    with pytest.raises(
        CRSError,
        match=r"geographic \(degrees\) but the coordinates are metres: they fit EPSG:4530 "
        r"\(CGCS2000 3° Gauss-Krüger zone 42, with prefix; Xian 1980: EPSG:2366; "
        r"Beijing 1954: EPSG:2418\)",
    ):
        to_working(metres, source="parcels.shp")


def test_zone_prefix_under_a_crs_without_one() -> None:
    prefixed = points(projected(4530, [CHANGCHUN]), crs=4551)
    with pytest.raises(
        CRSError,
        match=r"EPSG:4551 .*carry a Gauss-Krüger zone prefix but the CRS has none: "
        r"they fit EPSG:4530",
    ):
        to_working(prefixed, source="zoning.shp")


def test_no_zone_prefix_under_a_crs_with_one() -> None:
    bare = points(projected(4551, [CHANGCHUN]), crs=4530)
    with pytest.raises(
        CRSError,
        match=r"EPSG:4530 .*expects a Gauss-Krüger zone prefix .*for this region without a zone "
        r"prefix that is usually EPSG:4549, 4550, 4551, 4552, 4553 \(CGCS2000 3° Gauss-Krüger "
        r"CM 120°E, 123°E, 126°E, 129°E, 132°E\)",
    ):
        to_working(bare, source="zoning.shp", region=JILIN_LONLAT_BOUNDS)


def test_neighbouring_zone_shifts_out_of_jilin() -> None:
    hunchun = [(130.4, 42.9)]  # east Jilin, made in CM 129°E, labelled CM 132°E: lands at ~133.4°E
    wrong = points(projected(4552, hunchun), crs=4553)
    with pytest.raises(CRSError, match=r"neighbouring 3° zone"):
        to_working(wrong, source="x", region=JILIN_LONLAT_BOUNDS)
    assert to_working(wrong, source="x").crs == WORKING_CRS  # in China, so plausible there


def test_projected_crs_with_degrees() -> None:
    with pytest.raises(CRSError, match=r"look like degrees: declare the file as EPSG:4490"):
        to_working(points([CHANGCHUN], crs=4551), source="x")


def test_require_inside() -> None:
    gdf = points([CHANGCHUN, (100.0, 30.0), (126.0, 95.0)], crs=4490)
    gdf.index = ["a", "b", "c"]
    with pytest.raises(CRSError, match=r"x: 1 of 3 features fall outside China "
                                       r"\(lon 73–136, lat 3–54\) .*features c\."):
        to_working(gdf, source="x", region=JILIN_LONLAT_BOUNDS)
    # elsewhere in China is fine while some feature reaches the region; none reaching it is not
    assert len(to_working(gdf.iloc[:2], source="x", region=JILIN_LONLAT_BOUNDS)) == 2
    with pytest.raises(CRSError, match=r"x: 1 of 1 features fall outside the planning region "
                                       r"\(lon 121–132, lat 40.5–47\) .*features b\."):
        to_working(gdf.iloc[[1]], source="x", region=JILIN_LONLAT_BOUNDS)
    # sites: latitude 95° does not raise
    out = to_working(gdf, source="x", require_inside=False, region=JILIN_LONLAT_BOUNDS)
    assert out.index.tolist() == ["a", "b", "c"]
    assert np.isfinite(shapely.get_coordinates(out.geometry.values[:2])).all()
    with pytest.raises(CRSError, match="1 of 1 features fall outside"):
        to_working(gdf.iloc[[1]], source="x", require_inside=False, region=JILIN_LONLAT_BOUNDS)


def test_null_geometries_pass() -> None:
    gdf = points([CHANGCHUN], crs=4490)
    gdf.loc[1, "geometry"] = None
    out = to_working(gdf, source="x")
    assert out.geometry.isna().tolist() == [False, True]
    only_null = gpd.GeoDataFrame(geometry=[None], crs=4490)
    assert to_working(only_null, source="x").geometry.isna().all()


def test_lonlat_bounds_vectorised() -> None:
    xy = projected(4551, [CHANGCHUN, YANJI])
    gdf = gpd.GeoDataFrame(
        geometry=[shapely.box(*xy[0], *np.add(xy[0], 1000)), None, shapely.Point(xy[1])],
        crs=4551,
    )
    out = lonlat_bounds(gdf)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out[0, :2], CHANGCHUN, atol=1e-3)  # corner within ~100 m
    assert out[0, 2] - out[0, 0] == pytest.approx(1000 / 80_400, rel=0.01)  # 1 km at 43.8°N
    assert np.isnan(out[1]).all()
    np.testing.assert_allclose(out[2], [*YANJI, *YANJI], atol=1e-9)
    assert outside_extent(out, JILIN_LONLAT_BOUNDS).tolist() == [False, False, False]


def test_outside_extent() -> None:
    lonlat = np.array(
        [
            [125.0, 43.0, 126.0, 44.0],
            [131.0, 43.0, 133.0, 44.0],  # crosses the eastern edge
            [np.nan] * 4,
            [np.inf] * 4,
        ]
    )
    assert outside_extent(lonlat, JILIN_LONLAT_BOUNDS).tolist() == [False, True, False, True]
    assert outside_extent(lonlat).tolist() == [False, False, False, True]  # China
    assert outside_extent(lonlat, (130.0, 42.0, 134.0, 45.0)).tolist() == [True, False, False, True]
    assert JILIN_LONLAT_BOUNDS == (121.0, 40.5, 132.0, 47.0)


@pytest.mark.parametrize(
    ("zone", "prefix", "code", "name"),
    [
        (42, True, 4530, "3-degree Gauss-Kruger zone 42"),
        (42, False, 4551, "3-degree Gauss-Kruger CM 126E"),
        (43, False, 4552, "3-degree Gauss-Kruger CM 129E"),
        (21, True, 4499, "Gauss-Kruger zone 21"),
        (21, False, 4510, "Gauss-Kruger CM 123E"),
    ],
)
def test_gauss_kruger_epsg(zone: int, prefix: bool, code: int, name: str) -> None:
    assert gauss_kruger_epsg(zone=zone, prefix=prefix) == code
    assert CRS.from_epsg(code).name == f"CGCS2000 / {name}"


def test_gauss_kruger_epsg_unknown_zone() -> None:
    assert gauss_kruger_epsg(zone=50, prefix=True) is None
    assert gauss_kruger_epsg(zone=24, prefix=False) is None


def test_diagnose_degrees_outside_the_region() -> None:
    message = diagnose_crs((100.0, 30.0, 101.0, 31.0), CRS.from_epsg(4490), JILIN_LONLAT_BOUNDS)
    assert message == ("the coordinates are degrees but outside the planning region (lon 121–132, "
                       "lat 40.5–47): check the data's location")


@pytest.mark.parametrize("epsg", [4490, 4551, 4530])
def test_lonlat_bounds_within_a_region_tells_the_same_inside_and_outside(epsg: int) -> None:
    """With ``within``, a set lying inside the region gets its whole box per feature (each
    still inside, nulls still NaN); a set reaching out gets the per-feature boxes."""
    inside = points(projected(epsg, [CHANGCHUN, YANJI]), crs=epsg)
    inside.loc[2, "geometry"] = None
    one_by_one = lonlat_bounds(inside)
    fast = lonlat_bounds(inside, within=JILIN_LONLAT_BOUNDS)
    assert (outside_extent(fast, JILIN_LONLAT_BOUNDS)
            == outside_extent(one_by_one, JILIN_LONLAT_BOUNDS)).all()
    assert np.isnan(fast[2]).all() and not np.isnan(fast[:2]).any()
    # the set's box holds every feature's (a projected box's image is larger than its corners')
    assert (fast[:2, :2] <= one_by_one[:2, :2] + 1e-12).all()
    assert (fast[:2, 2:] >= one_by_one[:2, 2:] - 1e-12).all()
    reaching = points(projected(epsg, [CHANGCHUN, (133.0, 43.0)]), crs=epsg)
    np.testing.assert_array_equal(lonlat_bounds(reaching, within=JILIN_LONLAT_BOUNDS),
                                  lonlat_bounds(reaching))
    assert outside_extent(lonlat_bounds(reaching, within=JILIN_LONLAT_BOUNDS),
                          JILIN_LONLAT_BOUNDS).tolist() == [False, True]
