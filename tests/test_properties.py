"""Properties of the engine, classification, screening and repair over generated geometries.

Hypothesis builds the sites, parcels and raw features; the one map is small, hand-built in the
working CRS around its origin (126.5°E, 43.5°N, inside Jilin) and built once per module, since
building a :class:`~redline.planning.Planning` costs far more than one example. Site coordinates
lie on a half-metre grid offset from the layers' whole-metre edges, so no site touches a feature
or sits exactly at a proximity threshold: on such knife edges a reprojection round trip may move
a vertex by 1e-9 m and flip a verdict legitimately.

Every property runs :data:`EXAMPLES` examples (1,000 by default); set
``REDLINE_PROPERTY_EXAMPLES`` to run more or fewer.
"""

from __future__ import annotations

import functools
import os
import random
import warnings
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from shapely import MultiPolygon, Polygon, box

from redline import classify, schema, screen
from redline.crs import WORKING_CRS
from redline.errors import RedlineWarning
from redline.geometry import repair
from redline.overlay import SLIVER_WIDTH_M, overlaps, prepare_layer
from redline.planning import Planning
from redline.rules import RuleSet, load_rules
from redline.screening import Screening
from redline.zoning import ZONE_STRICTNESS

EXAMPLES = int(os.environ.get("REDLINE_PROPERTY_EXAMPLES", "1000"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    report_multiple_bugs=False,
)


def layer(columns: dict, geoms: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=WORKING_CRS)


# --- the one map (working CRS, metres; the boundary is ±10 km) -----------------------------------

BUFFER_RING = box(-7_000, 2_000, -3_000, 6_000).difference(box(-6_000, 3_000, -4_000, 5_000))
LAYERS = {
    "boundary": layer({"level": ["province"]}, [box(-10_000, -10_000, 10_000, 10_000)]),
    "zoning": layer(
        {"zone": ["key", "restricted", "prohibited"], "subtype": [None, "ecological", None]},
        [
            box(-10_000, -10_000, 0, 10_000),
            box(0, -10_000, 10_000, 10_000),
            box(-2_000, -3_000, 3_000, 1_000),
        ],  # overlaps both: bad data classify must resolve
    ),
    "redlines": layer(
        {"category": ["a", "b"]},
        [box(-5_000, -5_000, -2_000, -1_000), box(3_000, 2_000, 6_000, 4_000)],
    ),
    "reserves": layer(
        {"zone": ["core", "buffer"], "reserve": ["r", "r"], "level": ["1", "1"]},
        [box(-6_000, 3_000, -4_000, 5_000), BUFFER_RING],
    ),
}
#: Extra protected features for the "adding a feature" property.
EXTRA = {
    "redlines": layer({"category": ["c"]}, [box(-1_000, 5_000, 2_000, 8_000)]),
    "reserves": layer(
        {"zone": ["buffer"], "reserve": ["s"], "level": ["1"]}, [box(4_000, -8_000, 8_000, -5_000)]
    ),
    "zoning": layer(
        {"zone": ["restricted"], "subtype": ["ecological"]}, [box(-9_000, -9_000, -6_000, -6_000)]
    ),
}
RULES = """
[ruleset]
id = "properties"
extends = false

[[rule]]
id = "P-REDLINE"
title_en = "Red line"
layer = "redlines"
test = "overlap"
severity = "prohibited"
severity_by_type = { linear_infrastructure = "conditional" }
clause = { document = "test", article = "1", date = "2022" }

[[rule]]
id = "P-BUFFER"
title_en = "Reserve buffer zone"
layer = "reserves"
where = { zone = "buffer" }
test = "overlap"
severity = "conditional"
clause = { document = "test", article = "2", date = "2022" }

[[rule]]
id = "P-NEAR"
title_en = "Near a red line"
layer = "redlines"
test = "proximity"
distance_m = 500
severity = "advisory"
clause = { document = "test", article = "3", date = "2022" }

[[rule]]
id = "P-RESTRICTED"
title_en = "Restricted zone"
layer = "zoning"
where = { zone = "restricted" }
test = "overlap"
severity = "advisory"
severity_by_type = { ecological_restoration = "exempt" }
clause = { document = "test", article = "4", date = "2022" }
"""
PROJECT_TYPES = [
    None,
    "residential",
    "industrial",
    "linear_infrastructure",
    "ecological_restoration",
]


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    path = tmp_path_factory.mktemp("rules") / "properties.toml"
    path.write_text(RULES, encoding="utf-8")
    return load_rules(path)


@pytest.fixture(scope="module")
def planning() -> Planning:
    return Planning(**LAYERS)


@pytest.fixture(scope="module")
def planning_plus() -> Planning:
    """:func:`planning` with one more feature in each protected layer."""
    return Planning(
        **{
            kind: pd.concat([gdf, EXTRA[kind]], ignore_index=True) if kind in EXTRA else gdf
            for kind, gdf in LAYERS.items()
        }
    )


# --- strategies -------------------------------------------------------------------------------
# The composites draw from strategies built once (below each one, or by lists_of): building a
# strategy on every draw costs Hypothesis more than drawing from it.

SIDE = st.integers(1, 2_500)


@functools.cache
def lists_of(elements: st.SearchStrategy, **bounds: Any) -> st.SearchStrategy:
    """``st.lists(elements, **bounds)``, built once per distinct arguments."""
    return st.lists(elements, **bounds)


@st.composite
def boxes(draw: st.DrawFn, *, span: int = 9_000) -> Polygon:
    """An axis-aligned box with corners on the half-metre grid."""
    x, y = draw(st.integers(-span, span)), draw(st.integers(-span, span))
    return box(x + 0.5, y + 0.5, x + 0.5 + draw(SIDE), y + 0.5 + draw(SIDE))


@st.composite
def footprints(draw: st.DrawFn) -> shapely.Geometry:
    """A site: a box or the union of up to three (possibly a MultiPolygon)."""
    return shapely.union_all(draw(lists_of(BOX, min_size=1, max_size=3)))


BOX = boxes()
FOOTPRINT = footprints()
PROJECT_TYPE = st.sampled_from(PROJECT_TYPES)


@st.composite
def site_frames(draw: st.DrawFn, *, max_size: int = 4) -> gpd.GeoDataFrame:
    geoms = draw(lists_of(FOOTPRINT, min_size=1, max_size=max_size))
    types = draw(lists_of(PROJECT_TYPE, min_size=len(geoms), max_size=len(geoms)))
    return gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(len(geoms))], "project_type": types},
        geometry=geoms,
        crs=WORKING_CRS,
    )


RADIUS = st.integers(50, 3_000)
ANGLE = st.integers(0, 3_599)


@st.composite
def star_polygons(draw: st.DrawFn) -> Polygon:
    """A simple polygon, often concave, of 3–60 vertices: radii around a centre by angle."""
    n = draw(st.integers(3, 60))
    cx, cy = draw(st.integers(-3_000, 3_000)), draw(st.integers(-3_000, 3_000))
    radii = np.array(draw(lists_of(RADIUS, min_size=n, max_size=n)), float)
    angles = (
        np.sort(np.array(draw(lists_of(ANGLE, min_size=n, max_size=n, unique=True)), float))
        * np.pi
        / 1_800
    )
    ring = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
    return shapely.make_valid(Polygon(ring), method="structure", keep_collapsed=False)


POINT = st.tuples(st.integers(-20, 20), st.integers(-20, 20))
SHELL = st.lists(POINT, min_size=3, max_size=10)
HOLES = st.lists(boxes(span=20).map(lambda b: shapely.affinity.scale(b, 0.3, 0.3)), max_size=2)


@st.composite
def raw_features(draw: st.DrawFn) -> Polygon | MultiPolygon:
    """A feature as drawn, often invalid: shells in any vertex order (bow-ties, spikes, rings
    wound twice), simple holes anywhere (inside, across or outside the shell), and
    MultiPolygons whose parts overlap."""

    def polygon() -> Polygon:
        shell, holes = draw(SHELL), draw(HOLES)
        return Polygon(shell, [h.exterior.coords for h in holes])

    parts = [polygon() for _ in range(draw(st.integers(1, 3)))]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


# --- helpers ----------------------------------------------------------------------------------


def quiet_screen(sites: gpd.GeoDataFrame, planning: Planning, rules: RuleSet) -> Screening:
    return screen(sites, planning, rules=rules, n_jobs=1)


def ranks(result: Screening) -> dict[str, int]:
    """Strictness of each site's verdict by site_id: 0 (not assessed) is the strictest."""
    sites = result.sites
    return {
        site: schema.severity_rank(verdict)
        for site, verdict in zip(sites["site_id"], sites["verdict"], strict=True)
    }


def winding_numbers(ring: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Winding number of closed ``ring`` around each of ``points`` (Sunday's algorithm)."""
    x0, y0 = ring[:-1, 0], ring[:-1, 1]
    x1, y1 = ring[1:, 0], ring[1:, 1]
    px, py = points[:, [0]], points[:, [1]]
    left = (x1 - x0) * (py - y0) - (px - x0) * (y1 - y0)
    up = (y0 <= py) & (y1 > py) & (left > 0)
    down = (y0 > py) & (y1 <= py) & (left < 0)
    return up.sum(axis=1) - down.sum(axis=1)


def drawn_interior(feature: Polygon | MultiPolygon, points: np.ndarray) -> np.ndarray:
    """Points the author drew inside ``feature``: inside a shell (non-zero winding), outside
    its holes; any part of a MultiPolygon. Computed from the raw rings, without GEOS."""
    inside = np.zeros(len(points), dtype=bool)
    for part in shapely.get_parts(feature):
        here = winding_numbers(np.asarray(part.exterior.coords), points) != 0
        for hole in part.interiors:
            here &= winding_numbers(np.asarray(hole.coords), points) == 0
        inside |= here
    return inside


# --- §2 properties ----------------------------------------------------------------------------


@PROPERTY
@given(subjects=st.lists(footprints(), min_size=1, max_size=5), feature=star_polygons())
def test_overlap_and_remainder_add_up_to_the_subject(
    subjects: list[shapely.Geometry], feature: Polygon
) -> None:
    """area(A∩B) + area(A−B) = area(A), with B split into parts of at most 8 vertices."""
    geoms = np.array(subjects, dtype=object)
    prepared = prepare_layer(layer({}, [feature]), max_vertices=8)
    pairs = overlaps(geoms, prepared, n_jobs=1)
    inside = np.zeros(len(geoms))
    inside[pairs["subject"].to_numpy()] = pairs["overlap_m2"].to_numpy()
    outside = shapely.area(shapely.difference(geoms, feature))
    area = shapely.area(geoms)
    # An overlap of at most contact_m2 (1e-6 m²) is edge contact by definition, reported as 0,
    # and so is a sliver: an intersection nowhere SLIVER_WIDTH_M (5 cm) wide.
    common = shapely.intersection(geoms, feature)
    sliver = shapely.is_empty(shapely.buffer(common, -SLIVER_WIDTH_M / 2))
    measured = np.where(sliver, 0.0, shapely.area(common))
    np.testing.assert_allclose(inside + outside, area - (shapely.area(common) - measured),
                               rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(inside, measured, rtol=1e-9, atol=1e-6)
    share = pairs["overlap_share"].to_numpy()
    np.testing.assert_allclose(share, inside[pairs["subject"]] / area[pairs["subject"]], rtol=1e-9)


@pytest.fixture(scope="module")
def zoned(planning: Planning) -> shapely.Geometry:
    """The part of the map that is zoned: the union of the zoning features."""
    return shapely.union_all(np.asarray(planning["zoning"].geometry.values))


@PROPERTY
@given(parcels=st.lists(footprints(), min_size=1, max_size=5))
def test_classification_shares_sum_to_one(
    planning: Planning, zoned: shapely.Geometry, parcels: list[shapely.Geometry]
) -> None:
    frame = gpd.GeoDataFrame(geometry=parcels, crs=WORKING_CRS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RedlineWarning)  # the overlapping zoning features
        out = classify(frame, planning, n_jobs=1)
    assessed = out["status"].to_numpy() == "assessed"
    columns = [f"share_{z}" for z in (*ZONE_STRICTNESS, "unzoned")]
    shares = np.column_stack([out[c].to_numpy(dtype=float) for c in columns])[assessed]
    assert ((shares >= 0) & (shares <= 1 + 1e-12)).all()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    geoms = np.asarray(frame.geometry.values)[assessed]
    expected = shapely.area(shapely.intersection(geoms, zoned)) / shapely.area(geoms)
    np.testing.assert_allclose(1 - shares[:, -1], expected, atol=1e-9)
    inside = shapely.covers(planning.extent, np.asarray(frame.geometry.values))
    assert (assessed == inside).all()  # only parcels outside the boundary are not assessed


@PROPERTY
@given(
    sites=site_frames(),
    grow=st.lists(st.one_of(boxes(), st.integers(1, 1_500)), min_size=4, max_size=4),
)
def test_larger_sites_and_more_features_are_never_less_strict(
    planning: Planning,
    planning_plus: Planning,
    rules: RuleSet,
    sites: gpd.GeoDataFrame,
    grow: list,
) -> None:
    """Enlarging a site, or adding a feature to a protected layer, never makes a verdict
    milder (not_assessed counts as the strictest)."""
    small = list(sites["site_id"])
    large = [f"{s}+" for s in small]
    grown = [
        shapely.union(g, extra) if isinstance(extra, Polygon) else g.buffer(extra, quad_segs=2)
        for g, extra in zip(sites.geometry, grow, strict=False)
    ]
    both = gpd.GeoDataFrame(  # the sites, then the enlarged copies
        {"site_id": small + large, "project_type": list(sites["project_type"]) * 2},
        geometry=[*sites.geometry, *grown],
        crs=sites.crs,
    )
    base, more = (
        ranks(quiet_screen(both, planning, rules)),
        ranks(quiet_screen(both, planning_plus, rules)),
    )
    assert list(base) == list(more) == small + large
    assert all(base[b] <= base[s] for s, b in zip(small, large, strict=True))
    assert all(more[site] <= base[site] for site in base)
    assert all(more[b] <= more[s] for s, b in zip(small, large, strict=True))


SITE_KEYS = ("site_id", "verdict", "decisive_rule", "n_findings", "not_assessed_reason")
FINDING_KEYS = ("site_id", "rule_id", "feature_id", "severity")


def comparable(*results: Screening) -> tuple[dict, dict]:
    """Verdicts and findings of ``results`` together (chunks of one batch) keyed by site,
    independent of site order: column arrays, sites sorted by site_id, findings by site, rule
    and feature."""

    def columns(frames: list[pd.DataFrame], names: tuple[str, ...]) -> dict:
        return {name: np.concatenate([f[name].to_numpy() for f in frames]) for name in names}

    sites = columns([r.sites for r in results], SITE_KEYS)
    order = np.argsort(sites["site_id"], kind="stable")
    findings = columns([r.findings for r in results], (*FINDING_KEYS, "overlap_m2", "distance_m"))
    features = findings["feature_id"].astype(str)
    keys = list(zip(findings["site_id"], findings["rule_id"], features, strict=True))
    at = np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.intp)
    return (
        {name: values[order] for name, values in sites.items()},
        {name: values[at] for name, values in findings.items()},
    )


def assert_same(results: tuple[Screening, ...], base: Screening, *, areas: dict) -> None:
    sites, findings = comparable(*results)
    base_sites, base_findings = comparable(base)
    for name in SITE_KEYS:
        np.testing.assert_array_equal(sites[name], base_sites[name], err_msg=name)
    for name in FINDING_KEYS:
        np.testing.assert_array_equal(findings[name], base_findings[name], err_msg=name)
    scale = np.array([areas[site] for site in findings["site_id"]])  # relative to the site's own
    np.testing.assert_allclose(
        findings["overlap_m2"], base_findings["overlap_m2"], rtol=1e-6, atol=0
    )
    np.testing.assert_allclose(
        findings["overlap_m2"] / scale, base_findings["overlap_m2"] / scale, rtol=0, atol=1e-6
    )
    np.testing.assert_allclose(
        findings["distance_m"], base_findings["distance_m"], rtol=1e-6, atol=1e-6
    )


@PROPERTY
@given(
    sites=site_frames(max_size=5), order=st.randoms(use_true_random=False), cut=st.integers(0, 5)
)
def test_crs_order_and_chunks_change_nothing(
    planning: Planning, rules: RuleSet, sites: gpd.GeoDataFrame, order: random.Random, cut: int
) -> None:
    """The same sites in EPSG:4326 in another order, and screened in two chunks — the first
    in EPSG:4490, the second in EPSG:4551 — give the same verdicts, findings and areas (within
    1e-6 relative). Three screenings per example cover the three CRSs, order and chunking."""
    areas = dict(zip(sites["site_id"], sites.area, strict=True))
    perm = list(range(len(sites)))
    order.shuffle(perm)
    base = quiet_screen(sites.to_crs(4326).iloc[perm], planning, rules)
    assert base.sites["site_id"].tolist() == sites["site_id"].iloc[perm].tolist()
    first, second = (
        quiet_screen(sites.iloc[:cut].to_crs(4490), planning, rules),
        quiet_screen(sites.iloc[cut:].to_crs(4551), planning, rules),
    )
    assert first.sites.index.append(second.sites.index).equals(sites.index)
    assert_same((first, second), base, areas=areas)
    np.testing.assert_allclose(
        pd.concat([first.layer_overlaps, second.layer_overlaps])
        .loc[sites.index]
        .to_numpy(dtype=float),
        base.layer_overlaps.loc[sites.index].to_numpy(dtype=float),
        rtol=1e-6,
    )


@PROPERTY
@given(feature=raw_features())
@example(  # GEOS's structure method reads a ring with a spike along its first edge as empty
    feature=Polygon([(1, 1), (3, 0), (1, 1), (0, 2), (3, 0), (1, 1)])
)
@example(  # GEOS's structure method first returns two parts sharing the doubled edge: invalid
    feature=Polygon([(0, 1), (0, 0), (1, -1), (0, -1), (0, 0), (1, -1)])
)
@example(  # GEOS's floating-point union of the repaired parts drops a whole triangle
    feature=shapely.from_wkt(
        "MULTIPOLYGON (((0 1, -1 -1, 3 2, 0 1)), ((-1 -1, 3 2, 1 -1, -2 0, -1 -1)))"
    )
)
@example(  # GEOS's structure method drops the face (1 0, 0 -1, 2 0) of a ring run thrice
    feature=shapely.from_wkt("POLYGON ((0 0, 1 0, 0 -1, 2 0, 0 -1, 0 0, 2 0, 0 -1, 0 0))")
)
def test_repair_never_shrinks_a_protected_area(feature: Polygon | MultiPolygon) -> None:
    """Every point the author drew inside a feature (and off its edges) stays inside the
    repaired feature, whatever the raw feature's faults."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RedlineWarning)
        fixed, _ = repair(
            layer({"feature_id": ["f"]}, [feature]),
            source="raw",
            family="polygon",
            id_column="feature_id",
        )
    repaired = fixed.geometry.iloc[0]
    assert repaired.is_valid
    xmin, ymin, xmax, ymax = shapely.bounds(feature)
    xs, ys = np.meshgrid(np.arange(xmin, xmax, 0.5) + 0.125, np.arange(ymin, ymax, 0.5) + 0.125)
    points = np.column_stack([xs.ravel(), ys.ravel()])
    drawn = points[drawn_interior(feature, points)]
    shapely.prepare(repaired)
    covered = shapely.intersects_xy(repaired, drawn[:, 0], drawn[:, 1])  # a point: covers
    missed = shapely.points(drawn[~covered])
    edges = shapely.union_all([shapely.boundary(p) for p in shapely.get_parts(feature)])
    assert (shapely.distance(missed, edges) <= 1e-6).all()  # only points on the raw edges


def test_the_map_gives_every_verdict(planning: Planning, rules: RuleSet) -> None:
    """The map and rules reach every verdict, so the properties above are not vacuous."""
    sites = gpd.GeoDataFrame(
        {"site_id": ["red", "buffer", "near", "clear", "outside"], "project_type": None},
        geometry=[
            box(-4_000.5, -4_000.5, -3_000.5, -3_000.5),  # in a red line
            box(-6_500.5, 2_500.5, -6_000.5, 3_000.5),  # in the reserve's buffer ring
            box(-1_800.5, -3_000.5, -1_700.5, -2_900.5),  # 200 m from a red line
            box(-8_000.5, -8_000.5, -7_000.5, -7_000.5),  # key zone only
            box(9_500.5, 9_500.5, 10_500.5, 10_500.5),
        ],  # across the boundary
        crs=WORKING_CRS,
    )
    result = quiet_screen(sites, planning, rules)
    assert result.sites["verdict"].tolist() == [
        "prohibited",
        "conditional",
        "advisory",
        "clear",
        "not_assessed",
    ]


def test_drawn_interior_follows_the_rings() -> None:
    """The oracle of the repair property: a bow-tie's lobes and overlapping parts are inside,
    a hole drawn outside its shell adds nothing, a ring wound twice encloses its middle."""
    points = np.array([[0.2, 1.0], [1.8, 1.0], [1.0, 1.8], [3.5, 0.5], [5.0, 5.0]])
    bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    assert drawn_interior(bowtie, points).tolist() == [True, True, False, False, False]
    hole_outside = Polygon(box(0, 0, 2, 2).exterior.coords, [box(3, 0, 4, 1).exterior.coords])
    assert drawn_interior(hole_outside, points).tolist() == [True, True, True, False, False]
    overlapping = MultiPolygon([box(0, 0, 2, 2), box(1, 1, 3, 3)])
    assert drawn_interior(overlapping, points).tolist() == [True, True, True, False, False]
    twice = Polygon([(0, 0), (2, 0), (2, 2), (0, 2), (0, 0), (2, 0), (2, 2), (0, 2)])
    assert winding_numbers(np.asarray(twice.exterior.coords), points[:1]).tolist() == [2]
