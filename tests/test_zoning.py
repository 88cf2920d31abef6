"""Tests for parcel classification: hand-computed cases, an overlay oracle and properties."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

from redline import classify
from redline.crs import WORKING_CRS
from redline.errors import ArgumentError, LayerError, RedlineWarning
from redline.overlay import overlaps
from redline.planning import Planning
from redline.schema import ZONES
from redline.zoning import CLASSIFY_COLUMNS, UNZONED

SHARES = [f"share_{c}" for c in (*ZONES, UNZONED)]


def zoning(rows: list[tuple[str, str, str | None, shapely.Geometry]], crs=WORKING_CRS):
    ids, zones, subtypes, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"feature_id": ids, "zone": zones, "subtype": subtypes}, geometry=list(geoms), crs=crs
    )


def parcels_of(*geoms: shapely.Geometry | None, crs=WORKING_CRS, index=None):
    return gpd.GeoDataFrame(
        {"owner": [f"p{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=crs, index=index
    )


@pytest.fixture(scope="module")
def grid() -> Planning:
    """A 3 × 3 km grid of 1 km zones (one with a 200 m hole), unzoned beyond x = 3000."""
    classes = [
        "key",
        "restricted",
        "prohibited",
        "optimized",
        "restricted",
        "key",
        "prohibited",
        "key",
        "restricted",
    ]
    rows = []
    for k, zone in enumerate(classes):
        i, j = divmod(k, 3)
        cell = box(i * 1000, j * 1000, (i + 1) * 1000, (j + 1) * 1000)
        if k == 4:
            cell = cell.difference(box(1400, 1400, 1600, 1600))
        subtype = {"key": "urban", "restricted": "ecological"}.get(zone)
        rows.append((f"Z{k}", zone, subtype, cell))
    return Planning(zoning=zoning(rows))


# -- hand-computed ------------------------------------------------------------------------------


def test_parcel_70_percent_key_30_percent_prohibited():
    planning = Planning(
        zoning=zoning(
            [
                ("K1", "重点开发区域", "urban", box(0, 0, 700, 1000)),
                ("P1", "prohibited", None, box(700, 0, 1000, 1000)),
            ]
        )
    )
    out = classify(parcels_of(box(0, 0, 1000, 200)), planning)
    row = out.iloc[0]
    assert row["share_key"] == pytest.approx(0.7, abs=1e-12)
    assert row["share_prohibited"] == pytest.approx(0.3, abs=1e-12)
    assert row[["share_restricted", "share_optimized", "share_unzoned"]].tolist() == [0, 0, 0]
    assert (row["zone"], row["zone_strictest"], row["subtype"], row["zone_feature_id"]) == (
        "key",
        "prohibited",
        "urban",
        "K1",
    )
    assert row["split"] and row["status"] == "assessed" and pd.isna(row["not_assessed_reason"])


def test_parcel_in_a_hole_of_a_zone_is_unzoned(grid):
    out = classify(parcels_of(box(1450, 1450, 1550, 1550), box(1400, 1450, 1500, 1500)), grid)
    assert out["share_unzoned"].tolist() == [1.0, 1.0]
    assert out["zone"].tolist() == [UNZONED, UNZONED]
    assert out["zone_strictest"].tolist() == [UNZONED, UNZONED]
    assert out["subtype"].isna().all() and not out["split"].any()


def test_edge_contact_is_reported_by_the_engine_and_never_counted(grid):
    # Inside the key cell Z0, sharing its top edge (y = 1000) with the restricted cell Z1.
    parcel = box(100, 900, 300, 1000)
    out = classify(parcels_of(parcel), grid)
    assert out["share_key"].tolist() == [1.0]
    assert out["share_restricted"].tolist() == [0.0]
    assert out["zone_strictest"].tolist() == ["key"] and not out["split"].any()
    pairs = overlaps([parcel], grid.prepared("zoning"))
    assert pairs[["feature", "overlap_m2", "contact"]].to_numpy().tolist() == [
        [0, 20_000.0, False],
        [1, 0.0, True],
    ]


def test_parcel_in_lonlat_against_a_gauss_kruger_planning():
    x0, y0 = 540_000.0, 4_820_000.0  # CGCS2000 GK CM 126°E, near 126.5°E 43.5°N
    planning = Planning(
        zoning=zoning(
            [
                ("K", "key", None, box(x0, y0, x0 + 600, y0 + 1000)),
                ("R", "restricted", "agricultural", box(x0 + 600, y0, x0 + 1000, y0 + 1000)),
            ],
            crs="EPSG:4551",
        ),
        crs="EPSG:4551",
    )
    local = gpd.GeoSeries(
        [shapely.segmentize(box(x0 + 100, y0 + 100, x0 + 900, y0 + 300), 5)], crs="EPSG:4551"
    )
    parcels = gpd.GeoDataFrame({"name": ["a"]}, geometry=local.to_crs(4326))
    out = classify(parcels, planning)
    assert out.crs == parcels.crs and out.geometry.equals(parcels.geometry)
    assert out["share_key"].iloc[0] == pytest.approx(500 / 800, abs=1e-6)
    assert out["share_restricted"].iloc[0] == pytest.approx(300 / 800, abs=1e-6)
    assert out["zone"].iloc[0] == "key" and out["zone_strictest"].iloc[0] == "restricted"


def test_parcels_that_cannot_be_assessed_get_no_zone(grid):
    bow_tie = shapely.Polygon([(100, 100), (900, 900), (900, 100), (100, 900)])
    parcels = parcels_of(
        None, bow_tie, shapely.Point(500, 500), box(100, 100, 200, 200), index=["a", "b", "c", "d"]
    )
    with pytest.warns(RedlineWarning, match="repaired 1 invalid"):
        out = classify(parcels, grid)
    assessed = out["status"] == "assessed"
    assert assessed.tolist() == [False, False, False, True]
    assert out.loc[~assessed, SHARES].isna().all().all()
    assert out.loc[~assessed, ["zone", "zone_strictest", "subtype"]].isna().all().all()
    assert not out.loc[~assessed, "split"].any()
    reasons = out["not_assessed_reason"].tolist()
    assert reasons[0] == "null geometry"
    assert reasons[1].startswith("invalid geometry")
    assert reasons[2] == "the parcel is not a polygon; classification measures areas"
    assert pd.isna(reasons[3]) and out.loc["d", "zone"] == "key"


def test_overlapping_zoning_features_warn_once_and_count_once():
    planning = Planning(
        zoning=zoning(
            [
                ("K", "key", "urban", box(0, 0, 1000, 1000)),
                ("P", "prohibited", None, box(500, 0, 1500, 1000)),
                ("P2", "prohibited", None, box(1400, 0, 1600, 1000)),
            ]
        )
    )
    with pytest.warns(
        RedlineWarning,
        match=r"2 pairs of features overlap.*K & P \(500,000.0 m²\)"
        r"; P & P2 \(100,000.0 m²\).*counted once, for the strictest class",
    ):
        out = classify(parcels_of(box(0, 0, 1500, 1000), box(0, 0, 400, 100)), planning)
    assert out["share_key"].iloc[0] == pytest.approx(500 / 1500, abs=1e-12)
    assert out["share_prohibited"].iloc[0] == pytest.approx(1000 / 1500, abs=1e-12)
    assert out[SHARES].sum(axis=1).tolist() == pytest.approx([1.0, 1.0], abs=1e-12)
    assert out["zone_feature_id"].tolist() == ["P", "K"]


def test_tolerance_decides_which_small_overlaps_count(grid):
    parcel = box(1000 - 0.5, 500, 1100, 501)  # 0.5 m² in key Z0, 100 m² in optimized Z3
    default = classify(parcels_of(parcel), grid)
    assert default[["zone", "zone_strictest", "split"]].iloc[0].tolist() == [
        "optimized",
        "optimized",
        False,
    ]
    fine = classify(parcels_of(parcel), grid, tolerance_m2=0.1)
    assert fine[["zone", "zone_strictest", "split"]].iloc[0].tolist() == [
        "optimized",
        "optimized",
        True,
    ]
    tiny = classify(parcels_of(box(2100, 100, 2100.5, 100.5)), grid)  # 0.25 m², prohibited
    assert tiny["zone_strictest"].tolist() == ["prohibited"]


def test_output_keeps_the_callers_frame_and_does_not_mutate_it(grid):
    parcels = parcels_of(box(10, 10, 20, 20), box(2990, 10, 3010, 20), index=[7, 3])
    before = parcels.copy()
    out = classify(parcels, grid, progress=True)
    pd.testing.assert_frame_equal(parcels, before)
    assert list(out.columns) == ["owner", "geometry", *CLASSIFY_COLUMNS]
    assert out.index.tolist() == [7, 3] and out.crs == parcels.crs
    assert out["share_unzoned"].tolist() == pytest.approx([0.0, 0.5])
    # Classifying a result again replaces the columns.
    again = classify(out, grid)
    pd.testing.assert_frame_equal(again, out)


def test_errors(grid):
    with pytest.raises(TypeError, match="parcels must be a GeoDataFrame, not list"):
        classify([box(0, 0, 1, 1)], grid)
    with pytest.raises(ArgumentError, match="tolerance_m2 must be a non-negative area"):
        classify(parcels_of(box(0, 0, 1, 1)), grid, tolerance_m2=-1)
    no_zoning = Planning(redlines=gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=WORKING_CRS))
    with pytest.raises(LayerError, match=r"no 'zoning' layer \(kinds present: \['redlines'\]\)"):
        classify(parcels_of(box(0, 0, 1, 1)), no_zoning)


# -- oracle and properties --------------------------------------------------------------------


def random_parcels(seed: int, n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-200, 3200, n), rng.uniform(-200, 3000, n)
    w, h = rng.uniform(1, 500, n), rng.uniform(1, 500, n)
    polys = shapely.polygons(
        np.stack(
            [
                np.c_[x, y],
                np.c_[x + w, y + 0.3 * h],
                np.c_[x + 0.8 * w, y + h],
                np.c_[x - 0.2 * w, y + 0.7 * h],
                np.c_[x, y],
            ],
            axis=1,
        )
    )
    return parcels_of(*polys)


def test_shares_agree_with_a_geopandas_overlay_oracle(grid):
    parcels = random_parcels(2, 400)
    out = classify(parcels, grid)
    zones = grid["zoning"]
    pieces = gpd.overlay(
        parcels.reset_index(names="row"), zones, how="intersection", keep_geom_type=True
    )
    sums = (
        pieces.assign(area=pieces.area)
        .pivot_table(index="row", columns="zone", values="area", aggfunc="sum")
        .reindex(index=range(len(parcels)), columns=list(ZONES))
        .fillna(0.0)
    )
    expected = sums.to_numpy() / parcels.area.to_numpy()[:, None]
    got = out[[f"share_{c}" for c in ZONES]].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_shares_sum_to_one(grid, seed):
    out = classify(random_parcels(seed, 30), grid)
    shares = out[SHARES].to_numpy()
    assert ((shares >= 0) & (shares <= 1)).all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, atol=1e-9)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_permuting_parcels_changes_nothing(grid, seed):
    parcels = random_parcels(seed, 40)
    perm = np.random.default_rng(seed).permutation(len(parcels))
    base = classify(parcels, grid)
    moved = classify(parcels.iloc[perm], grid)
    pd.testing.assert_frame_equal(moved.loc[base.index], base)
