"""Review reports (#14.2): one site's report as HTML, PDF and Word, read back and checked for
the verdict, the clause, the areas and the distances a reviewer checks, computed by hand on
the world of ``conftest.py``."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import docx
import geopandas as gpd
import pypdf
import pytest
import shapely
from typer.testing import CliRunner

from conftest import frame, inside
from redline import datasets, screen
from redline.cli import app
from redline.errors import ReportError
from redline.planning import Planning
from redline.review import browser, site_review, write_reports
from redline.screening import Screening

#: One site per verdict: id → (geometry, project type).
SITES = {
    "P": (inside("core"), None),  # reserve core: prohibited (NR-CORE)
    "C": (inside("zone_ecological"), "residential"),  # restricted ecological: conditional
    "A": (inside("zone_agricultural"), "residential"),  # restricted agricultural: advisory
    "K": (shapely.box(0, 0, 200, 300), None),  # far from everything: clear
    "N": (shapely.box(29_900, 0, 30_100, 300), None),  # across the province edge
}
VERDICTS = {"P": "prohibited", "C": "conditional", "A": "advisory", "K": "clear",
            "N": "not_assessed"}


@pytest.fixture(scope="module")
def result(world: Planning) -> Screening:
    sites = frame([{"site_id": k, "name": f"地块{k}", "project_type": t}
                   for k, (_, t) in SITES.items()], [g for g, _ in SITES.values()])
    return screen(sites, world)


def test_verdicts_of_the_fixture(result: Screening) -> None:
    assert dict(zip(result.sites.site_id, result.sites.verdict, strict=True)) == VERDICTS


def test_site_review_areas_distances_points(result: Screening) -> None:
    review = site_review(result, "K")
    assert review.area_m2 == pytest.approx(60_000.0)  # 200 m × 300 m
    assert review.area_ha == pytest.approx(6.0)
    assert review.area_mu == pytest.approx(90.0)  # 1 亩 = 2000/3 m²
    nearest = review.nearest.set_index("kind")["distance_m"]
    # red line RL-2 starts at (2000, 18000); the site's corner is (200, 300)
    assert nearest["redlines"] == pytest.approx(((2_000 - 200) ** 2 + (18_000 - 300) ** 2) ** 0.5,
                                                abs=0.1)
    assert nearest["rivers"] == pytest.approx(10_000 - 300, abs=0.1)  # river along y = 10 000
    assert nearest["roads_rails"] == pytest.approx(25_000 - 200, abs=0.1)  # road x = 25 000
    assert "boundary" not in nearest  # the site lies inside it: no distance to report
    points = review.boundary_points
    assert list(points["point"]) == ["J1", "J2", "J3", "J4"]  # closing point not repeated
    ring = list(shapely.get_exterior_ring(SITES["K"][0]).coords)[:4]
    # X is the northing, Y the easting (Chinese surveying convention)
    assert list(zip(points["y"], points["x"], strict=True)) == ring


def test_unknown_site_and_format(result: Screening, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no site 'nope'"):
        site_review(result, "nope")
    with pytest.raises(ReportError, match="suffix picks the format"):
        result.report("P", tmp_path / "P.txt")
    with pytest.raises(ReportError, match="verdicts among"):
        write_reports(result, tmp_path, verdicts=["forbidden"])


def _docx_text(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _pdf_text(path: Path) -> str:
    # Chromium maps some CJK glyphs to their Kangxi-radical code points (⽌ for 止): NFKC folds
    # them back, as a search in a PDF viewer does
    return unicodedata.normalize("NFKC", "\n".join(
        page.extract_text() for page in pypdf.PdfReader(path).pages))


def _plain(text: str) -> str:
    """Text without white space (where a renderer wraps lines), NFKC-folded (as _pdf_text)."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def _check(text: str, result: Screening, site_id: str) -> None:
    row = result.sites.set_index("site_id").loc[site_id]
    verdict = VERDICTS[site_id]
    assert _plain(f"{row['verdict_zh']} {verdict}") in _plain(text)
    if verdict == "not_assessed":
        assert _plain("outside the planning extent") in _plain(text)
        # the not-assessed notice comes before anything else
        assert text.index("NOT ASSESSED") < text.index("Project and site")
    elif verdict != "clear":
        assert row["decisive_rule"] in text
        assert _plain(row["decisive_clause"]) in _plain(text)
        assert "40,000.0" in text  # the overlap: the 200 m square lies inside the feature
    if site_id == "K":
        assert _plain("60,000.0 m² = 6.0000 公顷 ha = 90.00 亩 mu") in _plain(text)
        assert "9.70 km" in text  # to the river
    if site_id == "P":
        assert _plain("40,000.0 m² = 4.0000 公顷 ha = 60.00 亩 mu") in _plain(text)
        clause = result.rules["NR-CORE"].clause
        expected = (f"条款文本已于 {clause.verified} 核实" if clause.verified is not None
                    else "条款文本未经核实")
        assert _plain(expected) in _plain(text)


@pytest.mark.parametrize("site_id", list(SITES))
def test_html_and_docx_for_every_verdict(result: Screening, tmp_path: Path,
                                         site_id: str) -> None:
    html = result.report(site_id, tmp_path / f"{site_id}.html")
    page = html.read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="https?:', page)  # self-contained
    assert "data:image/png;base64," in page  # the map inset, embedded
    _check(re.sub(r"<[^>]+>", "", page), result, site_id)
    _check(_docx_text(result.report(site_id, tmp_path / f"{site_id}.docx")), result, site_id)


def test_pdf_for_every_verdict(result: Screening, tmp_path: Path) -> None:
    if browser() is None:
        pytest.skip("no Chromium-family browser to print PDFs")
    files = write_reports(result, tmp_path, formats=["pdf"])
    assert [f.name for f in files] == [f"{s}.pdf" for s in SITES]
    for path in files:
        _check(_pdf_text(path), result, path.stem)


def test_pdf_without_browser(result: Screening, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDLINE_BROWSER", str(tmp_path / "no-such-browser"))
    with pytest.raises(ReportError, match="REDLINE_BROWSER"):
        result.report("P", tmp_path / "P.pdf")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_cli_reports(tmp_path: Path) -> None:
    sites = gpd.read_file(datasets.get_path("sites")).head(12)
    path = tmp_path / "sites.gpkg"
    sites.to_file(path)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "screen", str(path), "--out", str(out), "--no-map", "-q", "--reports",
        str(out / "reports"), "--report-format", "html,docx", "--report-verdicts",
        "prohibited,conditional"])
    assert result.exit_code == 0, result.output
    table = gpd.read_file(out / "screening.gpkg", layer="sites")
    chosen = sorted(table.loc[table.verdict.isin(["prohibited", "conditional"]), "site_id"])
    written = sorted((out / "reports").iterdir())
    assert [p.name for p in written] == sorted(f"{s}.{f}" for s in chosen for f in
                                               ("html", "docx"))
    # the footer carries the run record of this run
    started = (out / "run.json").read_text(encoding="utf-8").split('"started": "')[1][:19]
    html = next(p for p in written if p.suffix == ".html")
    assert started in html.read_text(encoding="utf-8")
