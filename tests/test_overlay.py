"""Tests for the overlay engine: hand-computed cases, a geopandas.overlay oracle, subdivision
equality and properties."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from redline.crs import WORKING_CRS
from redline.errors import ArgumentError, GeometryError
from redline.overlay import (
    DISTANCE_COLUMNS,
    OVERLAP_COLUMNS,
    SELF_OVERLAP_COLUMNS,
    SLIVER_WIDTH_M,
    index_subjects,
    nearest_within,
    overlaps,
    overlay_geometries,
    prepare_layer,
    self_overlaps,
)


def layer_of(*geoms: shapely.Geometry, max_vertices: int = 256):
    return prepare_layer(
        gpd.GeoDataFrame(geometry=list(geoms), crs=WORKING_CRS), max_vertices=max_vertices
    )


def random_polygons(rng: np.random.Generator, n: int, *, spread: float, size: float) -> np.ndarray:
    """Star-shaped random polygons (valid, 5–40 vertices)."""
    out: list[shapely.Polygon] = []
    while len(out) < n:
        k = int(rng.integers(5, 40))
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        radii = rng.uniform(0.3, 1.0, k) * size
        cx, cy = rng.uniform(0, spread, 2)
        polygon = shapely.Polygon(np.c_[cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
        if polygon.is_valid:  # nearly equal angles can make a rare self-intersection
            out.append(polygon)
    return np.array(out, dtype=object)


def wiggly_corridor(length: float = 200_000.0, vertices: int = 4_000) -> shapely.Polygon:
    x = np.linspace(0, length, vertices)
    y = 3_000 * np.sin(x / 7_000) + 400 * np.sin(x / 900)
    return shapely.LineString(np.c_[x, y]).buffer(800, quad_segs=4)


# -- prepare_layer ---------------------------------------------------------------------------


def test_subdivision_covers_the_feature_exactly():
    corridor = wiggly_corridor()
    layer = layer_of(corridor, max_vertices=64)
    assert len(layer.parts) > 100
    assert shapely.get_num_coordinates(layer.parts).max() <= 64
    assert (layer.parent == 0).all()
    assert shapely.area(layer.parts).sum() == pytest.approx(corridor.area, rel=1e-12)
    gap = shapely.symmetric_difference(shapely.union_all(layer.parts), corridor)
    assert shapely.area(gap) < 1e-6


def test_subdivided_and_undivided_layers_give_the_same_overlaps():
    corridor = wiggly_corridor()
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 200_000, 3_000), rng.uniform(-4_500, 4_500, 3_000)
    w = rng.uniform(50, 3_000, 3_000)
    subjects = box(x, y, x + w, y + w)
    whole = overlaps(subjects, layer_of(corridor, max_vertices=10**9), n_jobs=1)
    split = overlaps(subjects, layer_of(corridor, max_vertices=32), n_jobs=1)
    assert len(layer_of(corridor, max_vertices=32).parts) > 200
    assert whole[["subject", "feature", "contact"]].equals(split[["subject", "feature", "contact"]])
    np.testing.assert_allclose(split["overlap_m2"], whole["overlap_m2"], rtol=1e-9)
    assert split["overlap_m2"].sum() == pytest.approx(whole["overlap_m2"].sum(), rel=1e-12)
    # Most subjects inside take the contains_properly shortcut and get their own area.
    inside = whole["overlap_share"] == 1.0
    assert inside.sum() > 100
    np.testing.assert_array_equal(
        whole.loc[inside, "overlap_m2"], shapely.area(subjects[whole.loc[inside, "subject"]])
    )


def test_prepare_layer_refuses_null_and_mixed_geometries():
    with pytest.raises(GeometryError, match=r"1 null or empty geometries \(features \['z2'\]\)"):
        prepare_layer(
            gpd.GeoDataFrame({"feature_id": ["z1", "z2"]}, geometry=[box(0, 0, 1, 1), None])
        )
    with pytest.raises(GeometryError, match=r"mixes geometry types.*\['LINESTRING', 'POLYGON'\]"):
        prepare_layer(
            gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])])
        )
    with pytest.raises(GeometryError, match="holds points"):
        prepare_layer(gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)]))
    with pytest.raises(ArgumentError, match="max_vertices must be at least 8; received 4"):
        layer_of(box(0, 0, 1, 1), max_vertices=4)


# -- overlaps: hand-computed -------------------------------------------------------------------


def test_overlaps_hand_computed():
    layer = layer_of(box(0, 0, 100, 100), box(100, 0, 200, 100))
    subjects = np.array(
        [
            box(60, 10, 160, 60),  # 40 × 50 in feature 0, 60 × 50 in feature 1
            box(10, 10, 20, 20),  # wholly inside feature 0
            box(0, 100, 50, 150),  # shares an edge with feature 0 only
            None,  # skipped
            box(500, 500, 600, 600),  # far away
        ],
        dtype=object,
    )
    out = overlaps(subjects, layer)
    assert tuple(out.columns) == OVERLAP_COLUMNS
    assert out[["subject", "feature"]].to_numpy().tolist() == [[0, 0], [0, 1], [1, 0], [2, 0]]
    np.testing.assert_allclose(out["overlap_m2"], [2000, 3000, 100, 0])
    np.testing.assert_allclose(out["overlap_share"], [0.4, 0.6, 1.0, 0.0])
    assert out["contact"].tolist() == [False, False, False, True]
    assert (out["overlap_m"] == 0).all()


def test_contact_along_a_slanted_edge_of_a_subdivided_feature():
    # The cut lines of the subdivision cross the shared slanted edge: the new vertices are
    # rounded, which must not turn the contact into a sliver of overlap.
    square = shapely.affinity.rotate(
        shapely.segmentize(box(0, 0, 1000, 1000), 10), 33, origin=(0, 0)
    )
    layer = layer_of(square, max_vertices=16)
    assert len(layer.parts) > 8
    a, b = np.asarray(square.exterior.coords)[[0, 100]]  # one whole edge of the square
    outward = np.array([a[1] - b[1], b[0] - a[0]]) / 1000 * -300
    neighbour = shapely.Polygon([a, b, b + outward, a + outward])
    assert shapely.area(shapely.intersection(neighbour, square)) < 1e-6
    out = overlaps([neighbour], layer)
    assert out["contact"].tolist() == [True]
    assert out["overlap_m2"].tolist() == [0.0]


def test_line_and_point_subjects():
    layer = layer_of(box(0, 0, 100, 100))
    subjects = [
        shapely.LineString([(50, 50), (150, 50)]),
        shapely.Point(10, 10),
        shapely.LineString([(0, 100), (50, 100)]),
        shapely.LineString([(100, 0), (150, 20)]),
    ]
    out = overlaps(subjects, layer)
    assert out["subject"].tolist() == [0, 1, 2, 3]
    np.testing.assert_allclose(out["overlap_m"], [50, 0, 50, 0])
    np.testing.assert_allclose(out["overlap_share"], [0.5, 1.0, 1.0, 0.0])
    assert out["contact"].tolist() == [False, False, False, True]
    assert (out["overlap_m2"] == 0).all()


def test_polygon_subjects_against_a_line_layer():
    river = shapely.LineString([(-50, 50), (250, 50)])
    out = overlaps([box(0, 0, 100, 100), box(0, 50, 10, 60)], layer_of(river, max_vertices=8))
    np.testing.assert_allclose(out["overlap_m"], [100, 10])
    assert out["overlap_share"].tolist() == [0.0, 0.0]
    assert out["contact"].tolist() == [False, False]


def test_overlaps_empty_results_keep_columns_and_types():
    out = overlaps([None, box(500, 500, 501, 501)], layer_of(box(0, 0, 1, 1)))
    assert tuple(out.columns) == OVERLAP_COLUMNS and out.empty
    assert out["contact"].dtype == bool and out["subject"].dtype == np.int64


def test_overlaps_argument_errors():
    layer = layer_of(box(0, 0, 1, 1))
    gdf = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)])
    with pytest.raises(TypeError, match=r"pass the geometries \(gdf.geometry\)"):
        overlaps(gdf, layer)
    with pytest.raises(TypeError, match=r"1-d array of geometries; received shape \(1, 1\)"):
        overlaps(np.array([[box(0, 0, 1, 1)]], dtype=object), layer)
    with pytest.raises(ArgumentError, match="n_jobs must be at least 1; received 0"):
        overlaps(gdf.geometry, layer, n_jobs=0)
    with pytest.raises(ArgumentError, match="chunk_size must be at least 1; received 0"):
        overlaps(gdf.geometry, layer, chunk_size=0)


# -- overlaps: oracle and properties ------------------------------------------------------------


def test_overlaps_agree_with_geopandas_overlay_on_random_polygons():
    rng = np.random.default_rng(7)
    features = random_polygons(rng, 150, spread=10_000, size=900)
    subjects = random_polygons(rng, 800, spread=10_000, size=300)
    left = gpd.GeoDataFrame(
        {"subject": np.arange(len(subjects))}, geometry=subjects, crs=WORKING_CRS
    )
    right = gpd.GeoDataFrame(
        {"feature": np.arange(len(features))}, geometry=features, crs=WORKING_CRS
    )
    oracle = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    oracle = (
        oracle.assign(area=oracle.area, rim=oracle.length)
        .groupby(["subject", "feature"])[["area", "rim"]]
        .sum()
        .reset_index()
    )
    # an intersection nowhere 5 cm wide (eroded by 2.5 cm, nothing is left) is a sliver: a
    # contact
    common = shapely.intersection(subjects[oracle["subject"]], features[oracle["feature"]])
    sliver = shapely.is_empty(shapely.buffer(common, -SLIVER_WIDTH_M / 2))
    assert 0 < sliver.sum() < 5  # the random case holds a grazing corner or two
    oracle = oracle[(oracle["area"] > 0) & ~sliver]
    oracle = oracle.sort_values(["subject", "feature"], ignore_index=True)
    ours = overlaps(subjects, layer_of(*features, max_vertices=16), chunk_size=100)
    measured = ours[~ours["contact"]].reset_index(drop=True)
    assert len(oracle) > 200
    assert measured[["subject", "feature"]].equals(oracle[["subject", "feature"]])
    np.testing.assert_allclose(measured["overlap_m2"], oracle["area"], rtol=1e-9)


def test_threads_and_chunks_do_not_change_the_result():
    rng = np.random.default_rng(11)
    layer = layer_of(*random_polygons(rng, 60, spread=5_000, size=700), max_vertices=16)
    subjects = random_polygons(rng, 600, spread=5_000, size=200)
    one = overlaps(subjects, layer, n_jobs=1, chunk_size=10_000)
    two = overlaps(subjects, layer, n_jobs=2, chunk_size=37)
    pd.testing.assert_frame_equal(one, two)
    # indexed once (as screening does for all its layers), with nulls among them
    with_nulls = np.insert(subjects.astype(object), [0, 300, 600], None)
    indexed = index_subjects(with_nulls, n_jobs=2, chunk_size=37)
    assert len(indexed.chunks) == 17  # 600 present subjects in chunks of 37
    again = overlaps(indexed, layer, n_jobs=2)
    shift = np.searchsorted([0, 301, 602], again["subject"], side="right")
    pd.testing.assert_frame_equal(again.assign(subject=again["subject"] - shift), one)


def test_distances_by_brute_force_whatever_the_threads_and_chunks():
    """Every (subject, feature) pair 0 < d <= max_distance apart, at the distance between the
    whole geometries (not a part's), sorted; several chunks and threads give the same."""
    rng = np.random.default_rng(12)
    features = random_polygons(rng, 40, spread=5_000, size=600)
    layer = layer_of(*features, max_vertices=16)
    subjects = random_polygons(rng, 400, spread=5_000, size=150)
    one = nearest_within(subjects, layer, max_distance=300, n_jobs=1, chunk_size=10_000)
    two = nearest_within(subjects, layer, max_distance=300, n_jobs=2, chunk_size=37)
    pd.testing.assert_frame_equal(one, two)
    indexed = index_subjects(subjects, chunk_size=37)
    pd.testing.assert_frame_equal(nearest_within(indexed, layer, max_distance=300), one)
    d = shapely.distance(subjects[:, None], features[None, :])
    s, f = np.nonzero((d > 0) & (d <= 300))
    assert len(s) > 100
    np.testing.assert_array_equal(one["subject"], s)
    np.testing.assert_array_equal(one["feature"], f)
    np.testing.assert_allclose(one["distance_m"], d[s, f], rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_intersection_and_difference_add_up_to_the_subject(seed):
    rng = np.random.default_rng(seed)
    feature = random_polygons(rng, 1, spread=100, size=80)[0]
    subjects = random_polygons(rng, 20, spread=100, size=40)
    out = overlaps(subjects, layer_of(feature, max_vertices=8))
    inside = np.zeros(len(subjects))
    inside[out["subject"]] = out["overlap_m2"]
    outside = shapely.area(shapely.difference(subjects, feature))
    # an intersection nowhere 5 cm wide (eroded by 2.5 cm, nothing is left) is a contact
    common = shapely.intersection(subjects, feature)
    sliver = (shapely.area(common) > 0) & shapely.is_empty(
        shapely.buffer(common, -SLIVER_WIDTH_M / 2)
    )
    expected = shapely.area(subjects) - np.where(sliver, shapely.area(common), 0.0)
    np.testing.assert_allclose(inside + outside, expected, rtol=1e-9)
    contact = np.zeros(len(subjects), dtype=bool)
    contact[out["subject"]] = out["contact"]
    assert contact[sliver].all()


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_permuting_subjects_and_features_permutes_the_pairs(seed):
    rng = np.random.default_rng(seed)
    features = random_polygons(rng, 12, spread=1_000, size=300)
    subjects = random_polygons(rng, 40, spread=1_000, size=150)
    ps, pf = rng.permutation(len(subjects)), rng.permutation(len(features))
    base = overlaps(subjects, layer_of(*features, max_vertices=8))
    moved = overlaps(subjects[ps], layer_of(*features[pf], max_vertices=8))
    moved["subject"], moved["feature"] = ps[moved["subject"]], pf[moved["feature"]]
    moved = moved.sort_values(["subject", "feature"], ignore_index=True)
    assert moved[["subject", "feature", "contact"]].equals(base[["subject", "feature", "contact"]])
    np.testing.assert_allclose(moved["overlap_m2"], base["overlap_m2"], rtol=1e-12)


# -- distances, geometries, self-overlaps ---------------------------------------------------------


def test_nearest_within_hand_computed():
    layer = layer_of(box(0, 0, 100, 100), box(300, 0, 400, 100), max_vertices=8)
    subjects = [box(130, 0, 150, 10), box(90, 0, 110, 10), shapely.Point(200, 300)]
    out = nearest_within(subjects, layer, max_distance=200)
    assert tuple(out.columns) == DISTANCE_COLUMNS
    assert out[["subject", "feature"]].to_numpy().tolist() == [[0, 0], [0, 1], [1, 1]]
    np.testing.assert_allclose(out["distance_m"], [30, 150, 190])
    assert nearest_within(subjects, layer, max_distance=10).empty
    with pytest.raises(ArgumentError, match="positive number of metres; received -1"):
        nearest_within(subjects, layer, max_distance=-1)


def test_nearest_within_a_subdivided_corridor_matches_the_whole():
    corridor = wiggly_corridor()
    points = shapely.points(
        np.random.default_rng(5).uniform([0, -8_000], [200_000, 8_000], (500, 2))
    )
    out = nearest_within(points, layer_of(corridor, max_vertices=32), max_distance=2_000)
    expected = shapely.distance(points, corridor)
    near = np.flatnonzero((expected > 0) & (expected <= 2_000))
    assert out["subject"].tolist() == near.tolist()
    np.testing.assert_allclose(out["distance_m"], expected[near], rtol=1e-9)


def test_overlay_geometries_match_the_overlap_areas():
    layer = layer_of(wiggly_corridor(), max_vertices=32)
    subjects = box(
        np.arange(0, 100_000, 5_000), -3_000, np.arange(0, 100_000, 5_000) + 2_000, 3_000
    )
    pairs = overlaps(subjects, layer)
    geoms = overlay_geometries(subjects, layer, pairs)
    np.testing.assert_allclose(shapely.area(geoms), pairs["overlap_m2"], rtol=1e-9)
    with pytest.raises(ArgumentError, match=r"missing \['feature'\]"):
        overlay_geometries(subjects, layer, pairs[["subject"]])


def test_self_overlaps_finds_overlapping_features_only():
    layer = layer_of(
        box(0, 0, 10, 10), box(10, 0, 20, 10), box(15, 5, 25, 15), box(1, 1, 2, 2), max_vertices=8
    )
    out = self_overlaps(layer)
    assert tuple(out.columns) == SELF_OVERLAP_COLUMNS
    assert out.to_numpy().tolist() == [[0, 3, 1.0], [1, 2, 25.0]]
    assert self_overlaps(layer, min_area_m2=2).to_numpy().tolist() == [[1, 2, 25.0]]
    assert self_overlaps(layer_of(box(0, 0, 1, 1), box(1, 0, 2, 1))).empty
    assert self_overlaps(
        layer_of(shapely.LineString([(0, 0), (1, 1)]), shapely.LineString([(0, 0), (1, 1)]))
    ).empty


def test_candidates_that_do_not_intersect_give_no_pairs():
    """Bounding boxes overlap but the geometries do not: no pair, and no crash on the empty
    set of part pairs (a regression: ``np.add.reduceat`` on nothing raised IndexError)."""
    layer = prepare_layer(gpd.GeoDataFrame(geometry=[shapely.Polygon([(0, 0), (10, 0), (0, 10)])]))
    pairs = overlaps([shapely.box(8, 8, 9, 9)], layer, n_jobs=1)
    assert pairs.empty
    assert list(pairs.columns) == list(OVERLAP_COLUMNS)
