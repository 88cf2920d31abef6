"""Avoidance: placements and routes on hand-built worlds whose answers are known.

The worlds are in EPSG:4551 (CGCS2000 Gauss-Krüger, CM 126°E) around (500 km, 4,800 km), inside
Jilin, with a ruleset of the one red-line rule, so that every site is assessed on the red line
alone and the best answer can be worked out by hand.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from redline import Planning, datasets, screen
from redline.avoidance import alternatives, route
from redline.avoidance.costs import Grid, cost_surface
from redline.cli import app
from redline.errors import GeometryError
from redline.rules import RuleSet, load_rules

X0, Y0 = 500_000.0, 4_800_000.0


@pytest.fixture(scope="module")
def red_line_only() -> RuleSet:
    return RuleSet(id="test", version="1", title="red line only",
                   rules=(load_rules()["ECO-REDLINE"],))


def world(*boxes: tuple[float, float, float, float]) -> Planning:
    return Planning(redlines=gpd.GeoDataFrame(
        {"name": [f"red line {i}" for i in range(len(boxes))]},
        geometry=[shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes],
        crs=4551), crs=4551)


# -- routes ------------------------------------------------------------------------------------
def test_a_route_goes_through_the_gap_in_a_red_line_band(red_line_only: RuleSet) -> None:
    # a band 200 m wide across the way, with a 100 m gap 300–400 m north of the straight line
    planning = world((400, -1000, 600, 300), (400, 400, 600, 1000))
    r = route((X0, Y0), (X0 + 1000, Y0), planning, width_m=20, rules=red_line_only,
              resolution_m=10, alternatives=0, crs=4551, margin_m=600)
    chosen = r.alignments.iloc[0]
    assert chosen["alignment"] == "chosen"
    assert chosen["redlines_crossing_m"] == 0 and chosen["redlines_m2"] == 0
    assert chosen["verdict"] == "clear"
    gap = shapely.box(X0 + 400, Y0 + 300, X0 + 600, Y0 + 400)
    assert r.line.intersection(gap).length == pytest.approx(200, abs=1e-6)  # through the gap
    assert r.corridor.intersection(planning["redlines"].union_all()).area == 0
    straight = r.alignments.set_index("alignment").loc["straight"]
    assert straight["redlines_crossing_m"] == pytest.approx(200)
    assert straight["redlines_m2"] == pytest.approx(200 * 20)
    assert straight["verdict"] == "conditional"  # linear infrastructure in a red line
    assert r.evidence.empty  # nothing crossed: nothing to argue
    # the detour: start → gap → end, not a staircase (a handful of vertices)
    assert 1000 < r.line.length < 1300
    assert shapely.get_num_points(r.line) <= 6


def test_a_band_without_gap_is_crossed_at_its_width_and_the_evidence_says_so(
    red_line_only: RuleSet,
) -> None:
    planning = world((400, -3000, 600, 3000))
    r = route((X0, Y0 + 150), (X0 + 1000, Y0 - 100), planning, width_m=20,
              rules=red_line_only, resolution_m=10, alternatives=0, crs=4551, margin_m=500)
    chosen = r.alignments.iloc[0]
    assert chosen["redlines_crossing_m"] == pytest.approx(200, abs=10)  # one cell
    row = r.evidence.iloc[0]
    assert row["unavoidable"]
    assert row["least_crossing_m"] == pytest.approx(200, abs=10)
    assert "生态保护红线" in row["statement"] and "least crossing is" in row["statement"]
    assert "10 m resolution" in row["statement"]
    # the straight line between the offset end points crosses the band obliquely: longer
    straight = r.alignments.set_index("alignment").loc["straight"]
    assert straight["redlines_crossing_m"] == pytest.approx(200 * np.hypot(1000, 250) / 1000)


@pytest.mark.parametrize("suffix", ["html", "docx"])
def test_the_route_report_compares_the_alignments_and_quotes_the_evidence(
    red_line_only: RuleSet, tmp_path, suffix: str,  # type: ignore[no-untyped-def]
) -> None:
    """The chosen alignment's review report ends with the 比选 table (the crossing lengths of
    both alignments) and the 不可避让论证 statement."""
    planning = world((400, -3000, 600, 3000))
    r = route((X0, Y0 + 150), (X0 + 1000, Y0 - 100), planning, width_m=20,
              rules=red_line_only, resolution_m=10, alternatives=0, crs=4551, margin_m=500)
    path = r.report(tmp_path / f"route.{suffix}")
    if suffix == "docx":
        import docx

        document = docx.Document(str(path))
        cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
        text = "\n".join([p.text for p in document.paragraphs] + cells)
    else:
        text = path.read_text(encoding="utf-8")
    assert "八、避让比选与不可避让论证" in text
    table = r.comparison()
    crossing = "穿越生态保护红线 red line crossing m"
    assert table["方案 alignment"].tolist() == ["chosen", "straight"]
    for value in table[crossing]:
        assert f"{value:,.2f}" in text  # 200-odd m for the chosen, 206.2 m for the straight
    assert r.evidence["statement"].iloc[0] in text
    assert table["结论 verdict"].tolist() == ["需审批/有条件 conditional"] * 2
    assert text.count("需审批/有条件 conditional") >= 3  # the verdict section and both rows


def test_alternatives_are_distinct_and_each_is_screened_as_reported(
    red_line_only: RuleSet,
) -> None:
    planning = world((400, -3000, 600, 3000))
    r = route((X0, Y0), (X0 + 1000, Y0), planning, width_m=20, rules=red_line_only,
              resolution_m=20, alternatives=2, crs=4551, margin_m=800)
    names = list(r.alignments["alignment"])
    assert names[:2] == ["chosen", "straight"] and len(names) >= 3
    lines = r.alignments.geometry.to_numpy()
    for i, name in enumerate(names):
        if name.startswith("alternative"):
            assert shapely.hausdorff_distance(lines[i], lines[0]) > 0
    again = screen(gpd.GeoDataFrame({"site_id": names, "project_type": r.project_type},
                                    geometry=[line.buffer(10, cap_style="flat")
                                              for line in lines], crs=planning.crs),
                   planning, rules=red_line_only)
    assert list(again.sites["verdict"]) == list(r.alignments["verdict"])
    table = r.comparison()
    assert list(table["方案 alignment"]) == names


def test_route_refuses_points_outside_the_planning_extent(red_line_only: RuleSet) -> None:
    boundary = gpd.GeoDataFrame({"level": ["county"]},
                                geometry=[shapely.box(X0 - 2000, Y0 - 2000, X0 + 2000, Y0 + 2000)],
                                crs=4551)
    planning = Planning(boundary=boundary, crs=4551)
    with pytest.raises(GeometryError, match=r"point\(s\) \[1\].*outside the planning extent"):
        route((X0, Y0), (X0 + 5000, Y0), planning, width_m=20, rules=red_line_only,
              resolution_m=50, alternatives=0, crs=4551)


def test_cost_surface_widens_features_by_half_the_width(red_line_only: RuleSet) -> None:
    planning = world((0, 0, 100, 100))
    grid = Grid.around(np.array([[X0 - 100, Y0 - 100], [X0 + 200, Y0 + 200]]),
                       resolution_m=10, margin_m=0, crs=planning.crs)
    narrow = cost_surface(grid, planning, red_line_only, "linear_infrastructure", width_m=0)
    wide = cost_surface(grid, planning, red_line_only, "linear_infrastructure", width_m=40)
    assert (narrow > 1).sum() == 10 * 10  # the 100 m square: 10 × 10 cells
    # widened by 20 m: 14 × 14 cells; the rounded corners still touch the corner cells (their
    # nearest point is √200 ≈ 14.1 m from the square's corner, less than 20 m)
    assert (wide > 1).sum() == 14 * 14
    assert set(np.unique(wide)) == {1.0, 100_001.0}  # a control line: red line


# -- placements --------------------------------------------------------------------------------
def test_the_best_placement_is_the_nearest_one_clear_of_the_red_line(
    red_line_only: RuleSet,
) -> None:
    # a 100 m square whose west 70 m lie in a red line that ends at x = 1000
    planning = world((0, -3000, 1000, 3000))
    site = gpd.GeoDataFrame({"site_id": ["S"]},
                            geometry=[shapely.box(X0 + 930, Y0, X0 + 1030, Y0 + 100)], crs=4551)
    found = alternatives(site, planning, radius_m=400, n=3, rules=red_line_only)
    original = found.attrs["redline"]["original"]
    assert original["verdict"] == "prohibited"  # general construction in a red line
    assert original["redline_m2"] == pytest.approx(70 * 100)
    best = found.iloc[0]
    # candidates lie on a 50 m grid: 50 m east still overlaps 20 m, 100 m east is clear
    assert best["verdict"] == "clear" and best["redline_m2"] == 0
    assert best["moved_m"] == pytest.approx(100) and best["rotation_deg"] == 0
    assert best.geometry.bounds == pytest.approx((X0 + 1030, Y0, X0 + 1130, Y0 + 100))
    assert best["better_than_original"] and found.attrs["redline"]["evidence"] is None
    assert list(found["rank"]) == [1, 2, 3]
    assert found.geometry.area.to_numpy() == pytest.approx(100 * 100)  # same area


def test_no_better_placement_is_said_with_the_least_occupation(red_line_only: RuleSet) -> None:
    planning = world((-5000, -5000, 5000, 5000))
    site = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 50)], crs=4551)
    found = alternatives(site, planning, radius_m=500, n=2, rules=red_line_only, rotate=False)
    assert not found["better_than_original"].any()
    assert "No placement within 500 m" in found.attrs["redline"]["evidence"]
    assert found["redline_m2"].to_numpy() == pytest.approx([5000, 5000])
    assert found.attrs["redline"]["candidates"] == 196  # 197 grid offsets within 8 steps − 1


def test_every_candidate_rescreened_gets_the_verdict_reported_for_it() -> None:
    sites = gpd.read_file(datasets.get_path("sites"))
    site = sites[sites.site_id == "JL-0020"]  # housing in a level-1 water-source zone
    found = alternatives(site, radius_m=2000, n=5)
    assert found.attrs["redline"]["original"]["verdict"] == "prohibited"
    assert found["better_than_original"].all()
    again = screen(found.assign(site_id=[f"c{i}" for i in range(len(found))],
                                project_type=site["project_type"].iloc[0]))
    assert list(again.sites["verdict"]) == list(found["verdict"])
    assert found.crs == site.crs


def test_alternatives_refuses_more_than_one_site() -> None:
    sites = gpd.read_file(datasets.get_path("sites")).head(2)
    with pytest.raises(GeometryError, match="exactly one site"):
        alternatives(sites)


# -- command line --------------------------------------------------------------------------
def test_cli_alternatives_writes_the_ranked_candidates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = CliRunner().invoke(app, ["alternatives", str(datasets.get_path("sites")),
                                    "--site-id", "JL-0020", "--radius", "2000", "--n", "3",
                                    "--out", str(tmp_path / "alt")])
    assert done.exit_code == 0, done.output
    written = gpd.read_file(tmp_path / "alt" / "alternatives.gpkg")
    assert list(written["rank"]) == [1, 2, 3]
    assert "original: prohibited" in done.output


def test_cli_alternatives_names_an_unknown_site(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = CliRunner().invoke(app, ["alternatives", str(datasets.get_path("sites")),
                                    "--site-id", "nope", "--out", str(tmp_path / "alt")])
    assert done.exit_code == 2
    assert "no site with site_id 'nope'" in done.output


def test_cli_route_writes_comparison_evidence_and_map(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # across the Second Songhua below Jilin City: the provincial corridor is unavoidable
    done = CliRunner().invoke(app, ["route", "--from", "126.45,43.80", "--to", "126.65,43.80",
                                    "--width", "30", "--alternatives", "1",
                                    "--out", str(tmp_path / "route")])
    assert done.exit_code == 0, done.output
    out = tmp_path / "route"
    assert {"alignments.gpkg", "comparison.csv", "crossings.csv", "evidence.csv",
            "map.html", "report.html"} <= {p.name for p in out.iterdir()}
    lines = gpd.read_file(out / "alignments.gpkg", layer="centrelines")
    assert list(lines["alignment"][:2]) == ["chosen", "straight"]
