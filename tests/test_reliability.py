"""Fail closed, everywhere: every bad input of bad-inputs.md through the entry points.

Each case goes through what a user calls — ``load_planning`` (a manifest and its files),
``Planning(...)``, ``classify``, ``screen`` and the ``redline`` CLI — in both directions (a bad
planning layer, bad sites) and must end in a clear error or an explicit ``not_assessed`` with its
reason: never a ``clear`` for a site overlapping a red line, never fewer output rows than input
rows. The table in ``docs/bad-inputs.md`` names the test of every case; keep the two in step.

The one map here is tiny and hand-built in EPSG:4490 near Changchun: a province boundary, two
red lines and two main functional zones (key in the west, restricted in the east), screened with
a two-rule ruleset written for the tests, so every expected verdict is known by hand.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import struct
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Transformer
from shapely import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box
from typer.testing import CliRunner

from conftest import frame, inside, square
from redline import classify, screen
from redline.cli import app
from redline.crs import WORKING_CRS
from redline.errors import CRSError, GeometryError, LayerError, RedlineWarning, RuleError
from redline.io import WKT_COLUMN, read_layer, write_layer
from redline.planning import Planning, load_planning
from redline.rules import RuleSet, load_rules
from redline.screening import Screening

# The sites files written here carry no project type on purpose (general construction, the
# strictest reading); reading them warns so, which tests/test_sites.py checks.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*no project_type column:redline.errors.RedlineWarning")

# --- the one map: EPSG:4490 (lon, lat) near Changchun ------------------------------------------

BOUNDARY = box(125.0, 43.5, 125.8, 44.2)
REDLINE = box(125.30, 43.80, 125.40, 43.90)
REDLINE_2 = box(125.60, 44.00, 125.70, 44.10)
KEY_ZONE, RESTRICTED_ZONE = box(125.0, 43.5, 125.4, 44.2), box(125.4, 43.5, 125.8, 44.2)

IN_REDLINE = box(125.34, 43.84, 125.35, 43.85)  # wholly inside the red line: prohibited
IN_RESTRICTED = box(125.60, 43.84, 125.61, 43.85)  # restricted zone only: advisory
CLEAR = box(125.10, 43.60, 125.11, 43.61)  # key zone only: clear
GOOD_SITES = {"in": IN_REDLINE, "restricted": IN_RESTRICTED, "clear": CLEAR}
EXPECTED = {"in": "prohibited", "restricted": "advisory", "clear": "clear"}
BEIJING = box(116.40, 39.90, 116.41, 39.91)

RULES = """
[ruleset]
id = "reliability"
extends = false

[[rule]]
id = "T-REDLINE"
title_en = "Ecological red line (test)"
layer = "redlines"
test = "overlap"
severity = "prohibited"
severity_by_type = { linear_infrastructure = "conditional" }
clause = { document = "test clause", article = "1", date = "2022-08-16" }

[[rule]]
id = "T-RESTRICTED"
title_en = "Restricted zone (test)"
layer = "zoning"
where = { zone = "restricted" }
test = "overlap"
severity = "advisory"
clause = { document = "test clause", article = "2", date = "2010-12-21" }
"""
CLAUSE = 'clause = { document = "test clause", article = "1", date = "2022-08-16" }'

_TRANSFORMERS: dict[int, Transformer] = {}


def in_crs(geom: shapely.Geometry, epsg: int) -> shapely.Geometry:
    """``geom`` (EPSG:4490 lon/lat) with its coordinates computed in EPSG:``epsg`` by pyproj."""
    if epsg not in _TRANSFORMERS:
        _TRANSFORMERS[epsg] = Transformer.from_crs(4490, epsg, always_xy=True)
    t = _TRANSFORMERS[epsg]
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def swapped(geom: shapely.Geometry) -> shapely.Geometry:
    """``geom`` with x and y exchanged (lat/lon order)."""
    return shapely.transform(geom, lambda xy: xy[:, ::-1])


def layers_4490() -> dict[str, gpd.GeoDataFrame]:
    """The planning layers as a data provider would hand them over (Chinese values)."""
    return {
        "boundary": gpd.GeoDataFrame(
            {"feature_id": ["B1"], "level": ["province"]}, geometry=[BOUNDARY], crs=4490
        ),
        "redlines": gpd.GeoDataFrame(
            {"feature_id": ["R1", "R2"], "category": ["水源涵养", "生物多样性维护"]},
            geometry=[REDLINE, REDLINE_2],
            crs=4490,
        ),
        "zoning": gpd.GeoDataFrame(
            {
                "feature_id": ["Z1", "Z2"],
                "zone": ["重点开发区域", "限制开发区域"],
                "subtype": [None, "重点生态功能区"],
            },
            geometry=[KEY_ZONE, RESTRICTED_ZONE],
            crs=4490,
        ),
    }


def sites_of(
    geoms: dict[str, shapely.Geometry | None], *, crs: object = 4490, **columns: list
) -> gpd.GeoDataFrame:
    """Sites named by their keys, index labels ``s0, s1, …`` (not a RangeIndex)."""
    return gpd.GeoDataFrame(
        {"site_id": list(geoms), **columns},
        geometry=list(geoms.values()),
        crs=crs,
        index=[f"s{i}" for i in range(len(geoms))],
    )


def verdicts(result: Screening) -> dict[str, str]:
    return dict(zip(result.sites["site_id"], result.sites["verdict"], strict=True))


def reasons(result: Screening) -> dict[str, object]:
    return dict(zip(result.sites["site_id"], result.sites["not_assessed_reason"], strict=True))


def assert_fail_closed(result: Screening, sites: gpd.GeoDataFrame, overlapping: set[str]) -> None:
    """The invariants of every case: one row per input row, in order, never clear in a red line,
    a reason for every site not assessed."""
    assert len(result.sites) == len(sites)
    assert result.sites.index.equals(sites.index)
    assert result.sites["site_id"].tolist() == sites["site_id"].tolist()
    found = verdicts(result)
    assert all(found[s] != "clear" for s in overlapping), found
    blocked = result.sites["verdict"] == "not_assessed"
    assert result.sites.loc[blocked, "not_assessed_reason"].notna().all()


@pytest.fixture(scope="module")
def rules_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "reliability.toml"
    path.write_text(RULES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def rules(rules_path: Path) -> RuleSet:
    return load_rules(rules_path)


@pytest.fixture(scope="module")
def planning() -> Planning:
    return Planning(**layers_4490())


@pytest.fixture
def run(planning: Planning, rules: RuleSet) -> Callable[..., Screening]:
    def screen_sites(sites: gpd.GeoDataFrame, **kwargs: object) -> Screening:
        return screen(sites, planning, rules=rules, n_jobs=1, **kwargs)

    return screen_sites


# --- files: a planning folder with a manifest, sites files, the CLI ---------------------------

MANIFEST = """
[planning]
name = "reliability test map"

[layers.boundary]
path = "boundary.shp"
fields = { feature_id = "BSM", level = "级别" }

[layers.redlines]
path = "redlines.shp"
fields = { feature_id = "BSM", category = "类型" }

[layers.zoning]
path = "zoning.shp"
fields = { feature_id = "BSM", zone = "功能区", subtype = "类型" }
"""
_SOURCE_FIELDS = {
    "feature_id": "BSM",
    "level": "级别",
    "category": "类型",
    "zone": "功能区",
    "subtype": "类型",
}


def write_shapefile(
    gdf: gpd.GeoDataFrame, path: Path, *, encoding: str = "UTF-8", cpg: str | None = "keep"
) -> Path:
    """Write ``gdf`` as a Shapefile in ``encoding``; ``cpg``: "keep" the .cpg GDAL writes,
    ``None`` to delete it (code-page byte 0 and no .cpg: GDAL falls back to Latin-1), or the
    text to put in it."""
    pyogrio.write_dataframe(gdf, path, encoding=encoding)
    if cpg != "keep":
        path.with_suffix(".cpg").unlink()
        if cpg is not None:
            path.with_suffix(".cpg").write_text(cpg)
    return path


def write_planning(
    folder: Path,
    *,
    encoding: str = "UTF-8",
    cpg: str | None = "keep",
    redlines: gpd.GeoDataFrame | None = None,
) -> Path:
    """The one map as Shapefiles with Chinese field names and a manifest; returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    layers = layers_4490()
    if redlines is not None:
        layers["redlines"] = redlines
    for kind, gdf in layers.items():
        source = gdf.rename(columns=_SOURCE_FIELDS)
        write_shapefile(source, folder / f"{kind}.shp", encoding=encoding, cpg=cpg)
    manifest = folder / "manifest.toml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    return manifest


def write_sites_shapefile(
    folder: Path,
    *,
    encoding: str = "UTF-8",
    cpg: str | None = "keep",
    geoms: dict[str, shapely.Geometry] = GOOD_SITES,
) -> Path:
    """The three good sites with Chinese names (field ``name``) as a Shapefile."""
    folder.mkdir(parents=True, exist_ok=True)
    sites = sites_of(geoms, name=["红线内项目", "限制开发区项目", "重点开发区项目"])
    return write_shapefile(
        sites.reset_index(drop=True), folder / "sites.shp", encoding=encoding, cpg=cpg
    )


def invoke(*args: object) -> object:
    """Run ``redline`` with ``args`` (paths turned to text); the click Result."""
    return CliRunner().invoke(app, [str(a) for a in args])


def cli_screen(sites: Path, manifest: Path, rules_path: Path, out: Path, *extra: object) -> object:
    return invoke(
        "screen",
        sites,
        "--out",
        out,
        "--planning",
        manifest,
        "--rules",
        rules_path,
        "--no-map",
        "--quiet",
        *extra,
    )


def screened_sites(out: Path) -> gpd.GeoDataFrame:
    return read_layer(out / "screening.gpkg", layer="sites")


def nothing_written(out: Path) -> bool:
    """No output file (and no temporary one) in ``out``, which may exist empty."""
    return not out.exists() or not any(out.iterdir())


def shx_entries(path: Path) -> np.ndarray:
    return np.frombuffer(path.with_suffix(".shx").read_bytes(), ">i4", offset=100).reshape(-1, 2)


def reverse_rings(path: Path) -> None:
    """Reverse every ring of every polygon record of a .shp in place (outer rings become
    counter-clockwise, as non-ESRI writers leave them)."""
    data = bytearray(path.read_bytes())
    for offset in shx_entries(path)[:, 0] * 2 + 8:
        n_parts, n_points = struct.unpack("<ii", data[offset + 36 : offset + 44])
        starts = [*struct.unpack(f"<{n_parts}i", data[offset + 44 : offset + 44 + 4 * n_parts])]
        first = offset + 44 + 4 * n_parts
        xy = np.frombuffer(bytes(data[first : first + 16 * n_points]), "<f8").reshape(-1, 2)
        ends = [*starts[1:], n_points]
        flipped = np.concatenate([xy[a:b][::-1] for a, b in zip(starts, ends, strict=True)])
        data[first : first + 16 * n_points] = flipped.tobytes()
    path.write_bytes(data)


def truncate_shp(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-30])


def remove(ext: str) -> Callable[[Path], None]:
    return lambda path: path.with_suffix(ext).unlink()


def swap_shx_entries(path: Path) -> None:
    """An .shx whose first and last entries are exchanged (same lengths: boxes)."""
    shx = bytearray(path.with_suffix(".shx").read_bytes())
    first, last = shx[100:108], shx[-8:]
    shx[100:108], shx[-8:] = last, first
    path.with_suffix(".shx").write_bytes(shx)


def shx_of_older_version(path: Path) -> None:
    """The .shx of a version of the file with one record fewer (header length rewritten)."""
    shx = bytearray(path.with_suffix(".shx").read_bytes()[:-8])
    shx[24:28] = struct.pack(">i", len(shx) // 2)
    path.with_suffix(".shx").write_bytes(shx)


def truncate_dbf(path: Path) -> None:
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:-5])


DAMAGE = [
    pytest.param(truncate_shp, r"redlines\.shp is truncated or damaged", id="truncated-shp"),
    pytest.param(remove(".dbf"), r"the \.dbf file \(attribute table\) is missing", id="no-dbf"),
    pytest.param(remove(".shx"), r"the \.shx file \(index\) is missing", id="no-shx"),
    pytest.param(swap_shx_entries, r"the \.shx does not match the \.shp", id="shx-reordered"),
    pytest.param(shx_of_older_version, r"the \.shx does not match the \.shp", id="shx-older"),
    pytest.param(truncate_dbf, r"redlines\.dbf is truncated or damaged", id="truncated-dbf"),
]


# === §1 CRS ==================================================================================


def test_no_crs_sites(run: Callable[..., Screening], planning: Planning) -> None:
    sites = sites_of(GOOD_SITES, crs=None)
    with pytest.raises(CRSError, match=r"sites: the data has no coordinate reference system"):
        run(sites)
    result = run(sites, crs="EPSG:4490")
    assert verdicts(result) == EXPECTED
    with pytest.raises(CRSError, match=r"parcels: the data has no coordinate reference system"):
        classify(sites, planning)


def test_no_crs_planning_layer(tmp_path: Path, rules: RuleSet) -> None:
    layers = layers_4490()
    layers["redlines"] = layers["redlines"].set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"redlines \(redlines\): the data has no coordinate ref"):
        Planning(**layers)
    manifest = write_planning(tmp_path)
    (tmp_path / "redlines.prj").unlink()
    with pytest.raises(CRSError, match=r"redlines\.shp: the file has no coordinate reference"):
        load_planning(manifest)
    manifest.write_text(
        MANIFEST.replace('path = "redlines.shp"', 'path = "redlines.shp"\ncrs = "EPSG:4490"')
    )
    result = screen(sites_of(GOOD_SITES), load_planning(manifest), rules=rules)
    assert verdicts(result) == EXPECTED


def test_no_crs_sites_file_cli(tmp_path: Path, rules_path: Path) -> None:
    manifest = write_planning(tmp_path / "planning")
    sites = write_sites_shapefile(tmp_path / "sites")
    sites.with_suffix(".prj").unlink()
    result = cli_screen(sites, manifest, rules_path, tmp_path / "out")
    assert result.exit_code == 2
    assert "sites.shp: the file has no coordinate reference system" in result.output
    assert nothing_written(tmp_path / "out")
    result = cli_screen(sites, manifest, rules_path, tmp_path / "out", "--crs", "EPSG:4490")
    assert result.exit_code == 0, result.output
    back = screened_sites(tmp_path / "out")
    assert dict(zip(back.site_id, back.verdict, strict=True)) == EXPECTED


@pytest.mark.parametrize("crs", [4326, 4551, 4530, 3857, WORKING_CRS], ids=str)
def test_sites_in_another_crs_are_reprojected(run: Callable[..., Screening], crs: object) -> None:
    """Sites in EPSG:4490 against layers in the working CRS: redline reprojects the sites, so
    any CRS gives the verdicts and overlap areas of the sites reprojected beforehand."""
    sites = sites_of({**GOOD_SITES, "edge": box(125.39, 43.89, 125.41, 43.91)})
    base = run(sites)
    moved = run(sites.to_crs(crs))
    assert verdicts(moved) == verdicts(base) == {**EXPECTED, "edge": "prohibited"}
    np.testing.assert_allclose(moved.findings["overlap_m2"], base.findings["overlap_m2"], rtol=1e-6)
    np.testing.assert_allclose(
        moved.layer_overlaps.to_numpy(), base.layer_overlaps.to_numpy(), rtol=1e-6
    )
    assert moved.sites.crs == sites.to_crs(crs).crs  # the caller's sites keep their CRS


def test_layers_in_different_crss(run: Callable[..., Screening], rules: RuleSet) -> None:
    layers = layers_4490()
    mixed = Planning(
        boundary=layers["boundary"].to_crs(3857),
        redlines=layers["redlines"].to_crs(4551),
        zoning=layers["zoning"].to_crs(4326),
    )
    sites = sites_of({**GOOD_SITES, "edge": box(125.39, 43.89, 125.41, 43.91)})
    base = run(sites)
    other = screen(sites, mixed, rules=rules, n_jobs=1)
    assert verdicts(other) == verdicts(base)
    np.testing.assert_allclose(other.findings["overlap_m2"], base.findings["overlap_m2"], rtol=1e-6)


# (id, CRS the data declares, how the bad feature's coordinates are made, message)
CRS_CASES = [
    pytest.param(4490, swapped, r"latitude and longitude look swapped", id="lat-lon-swapped"),
    pytest.param(
        4490,
        lambda g: in_crs(g, 4551),
        r"geographic \(degrees\) but the coordinates are metres",
        id="metres-as-degrees",
    ),
    pytest.param(
        4551,
        lambda g: g,
        r"projected \(metres\) but the coordinates look like degrees",
        id="degrees-as-metres",
    ),
    pytest.param(
        4551,
        lambda g: in_crs(g, 4530),
        r"carry a Gauss-Krüger zone prefix but the CRS has none: they fit EPSG:4530",
        id="gk-prefix-under-4551",
    ),
    pytest.param(
        4530,
        lambda g: in_crs(g, 4551),
        r"expects a Gauss-Krüger zone prefix in the eastings but they have none",
        id="gk-no-prefix-under-4530",
    ),
    pytest.param(
        4490,
        lambda g: shapely.affinity.translate(g, -8.94, -3.94),
        r"degrees but outside the planning region",
        id="outside-jilin",
    ),
]


def declared(geom: shapely.Geometry, epsg: int) -> shapely.Geometry:
    """``geom`` written correctly in EPSG:``epsg``."""
    return geom if epsg == 4490 else in_crs(geom, epsg)


@pytest.mark.parametrize(("epsg", "bad", "message"), CRS_CASES)
def test_wrong_coordinates_in_every_site_are_refused(
    run: Callable[..., Screening],
    planning: Planning,
    epsg: int,
    bad: Callable[[shapely.Geometry], shapely.Geometry],
    message: str,
) -> None:
    sites = sites_of({k: bad(g) for k, g in GOOD_SITES.items()}, crs=epsg)
    outside = "3 of 3 features fall outside the planning region"
    with pytest.raises(CRSError, match=rf"sites: {outside}.*{message}"):
        run(sites)
    with pytest.raises(CRSError, match=rf"parcels: {outside}.*{message}"):
        classify(sites, planning)


@pytest.mark.parametrize(("epsg", "bad", "message"), CRS_CASES)
def test_wrong_coordinates_in_some_sites_are_not_assessed(
    run: Callable[..., Screening],
    planning: Planning,
    epsg: int,
    bad: Callable[[shapely.Geometry], shapely.Geometry],
    message: str,
) -> None:
    geoms = {k: declared(g, epsg) for k, g in GOOD_SITES.items()}
    sites = sites_of({**geoms, "bad": bad(IN_REDLINE)}, crs=epsg)
    result = run(sites)
    assert_fail_closed(result, sites, overlapping={"in", "bad"})
    assert verdicts(result) == {**EXPECTED, "bad": "not_assessed"}
    assert reasons(result)["bad"] == "coordinates outside the planning region"
    parcels = classify(sites, planning)
    assert parcels["status"].tolist() == ["assessed"] * 3 + ["not_assessed"]
    assert parcels["not_assessed_reason"].iloc[3] == "coordinates outside the planning region"


@pytest.mark.parametrize(("epsg", "bad", "message"), CRS_CASES)
def test_wrong_coordinates_in_a_planning_layer_are_refused(
    epsg: int, bad: Callable[[shapely.Geometry], shapely.Geometry], message: str
) -> None:
    layers = layers_4490()
    red = layers["redlines"]
    # a feature elsewhere in China is kept beside one in the region (a provincial layer used
    # for a county): there the whole layer is moved
    elsewhere = "outside the planning region" in message
    layers["redlines"] = gpd.GeoDataFrame(
        red.drop(columns="geometry"),
        geometry=[bad(REDLINE) if elsewhere else declared(REDLINE, epsg), bad(REDLINE_2)],
        crs=epsg,
    )
    count, where, ids = ("2 of 2", "the planning region", "R1, R2") if elsewhere else (
        "1 of 2", "China", "R2")
    with pytest.raises(
        CRSError,
        match=rf"redlines \(redlines\): {count} features fall outside "
        rf"{where}.*features {ids}\..*{message}",
    ):
        Planning(**layers)


def test_wrong_coordinates_in_a_manifest_layer_name_the_file(tmp_path: Path) -> None:
    red = layers_4490()["redlines"]
    manifest = write_planning(tmp_path, redlines=red.set_geometry(red.geometry.map(swapped)))
    with pytest.raises(
        CRSError,
        match=r"redlines \(.*redlines\.shp\): 2 of 2 features fall "
        r"outside China .*latitude and longitude look swapped",
    ):
        load_planning(manifest)


def test_wrong_coordinates_in_a_sites_file_cli(tmp_path: Path, rules_path: Path) -> None:
    manifest = write_planning(tmp_path / "planning")
    sites = sites_of({k: swapped(g) for k, g in GOOD_SITES.items()}, crs=4326)
    path = tmp_path / "sites.geojson"
    pyogrio.write_dataframe(sites, path)
    result = cli_screen(path, manifest, rules_path, tmp_path / "out")
    assert result.exit_code == 2
    assert "3 of 3 features fall outside the planning region" in result.output
    assert "latitude and longitude look swapped" in result.output


def test_neighbouring_gauss_kruger_zone(run: Callable[..., Screening]) -> None:
    """Coordinates of zone CM 126°E labelled as CM 129°E land ~250 km east, outside this
    planning's region (its boundary's box with a 1° margin): refused, with the codes that fit
    the region. (Data whose shift stays inside the region, in a province wider than the
    margin, is screened where it lands: docs/bad-inputs.)"""
    sites = sites_of({k: in_crs(g, 4551) for k, g in GOOD_SITES.items()}, crs=4552)
    with pytest.raises(CRSError, match=r"3 of 3 features fall outside the planning region .*"
                                       r"neighbouring 3° zone.*EPSG:4550, 4551"):
        run(sites)


# === §1 text encoding =========================================================================


@pytest.mark.parametrize("cpg", [None, "ANSI 936"], ids=["no-cpg", "cpg-ANSI-936"])
def test_gbk_planning_layers_via_manifest(tmp_path: Path, rules: RuleSet, cpg: str | None) -> None:
    manifest = write_planning(tmp_path, encoding="GBK", cpg=cpg)
    raw = pyogrio.read_dataframe(tmp_path / "zoning.shp")
    assert "功能区" not in raw.columns  # the hazard: GDAL decodes the names as Latin-1
    planning = load_planning(manifest)
    assert planning["zoning"]["zone"].tolist() == ["key", "restricted"]
    assert planning["redlines"]["category"].tolist() == ["水源涵养", "生物多样性维护"]
    provenance = planning["zoning"].attrs["redline"]
    assert provenance["encoding_source"] == ("detected" if cpg is None else ".cpg")
    result = screen(sites_of(GOOD_SITES), planning, rules=rules)
    assert verdicts(result) == EXPECTED


@pytest.mark.parametrize("cpg", [None, "ANSI 936"], ids=["no-cpg", "cpg-ANSI-936"])
def test_gbk_sites_file_cli(tmp_path: Path, rules_path: Path, cpg: str | None) -> None:
    manifest = write_planning(tmp_path / "planning")
    sites = write_sites_shapefile(tmp_path / "sites", encoding="GBK", cpg=cpg)
    result = cli_screen(sites, manifest, rules_path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    back = screened_sites(tmp_path / "out")
    assert back["name"].tolist() == ["红线内项目", "限制开发区项目", "重点开发区项目"]
    assert dict(zip(back.site_id, back.verdict, strict=True)) == EXPECTED


def garble(dbf: Path, text: str) -> None:
    """Overwrite the UTF-8 bytes of ``text`` in a .dbf with 0xFF, valid in no encoding."""
    data = dbf.read_bytes()
    raw = text.encode("utf-8")
    assert data.count(raw) == 1
    dbf.write_bytes(data.replace(raw, b"\xff" * len(raw)))


def test_undecodable_text_is_refused(tmp_path: Path, rules_path: Path) -> None:
    """Text that is neither UTF-8 nor GB18030 is refused, not guessed."""
    manifest = write_planning(tmp_path / "planning", cpg=None)
    garble(tmp_path / "planning" / "redlines.dbf", "水源涵养")
    with pytest.raises(LayerError, match=r"redlines\.shp: cannot tell the text encoding"):
        load_planning(manifest)
    sites = write_sites_shapefile(tmp_path / "sites", cpg=None)
    garble(sites.with_suffix(".dbf"), "红线内项目")
    result = cli_screen(sites, write_planning(tmp_path / "ok"), rules_path, tmp_path / "out")
    assert result.exit_code == 2
    assert "sites.shp: cannot tell the text encoding" in result.output


# === §1 geometries ============================================================================

X0, Y0, D = 125.34, 43.84, 0.01  # IN_REDLINE's corner and size
BOWTIE = Polygon([(X0, Y0), (X0 + D, Y0 + D), (X0 + D, Y0), (X0, Y0 + D)])
HOLE_OUTSIDE = Polygon(
    IN_REDLINE.exterior.coords, [box(X0 + 2 * D, Y0, X0 + 2.5 * D, Y0 + D / 2).exterior.coords]
)
OVERLAPPING_PARTS = MultiPolygon(
    [IN_REDLINE, box(X0 + D / 2, Y0 + D / 2, X0 + 1.5 * D, Y0 + 1.5 * D)]
)
SPIKE = Polygon(
    [
        (X0, Y0),
        (X0 + D, Y0),
        (X0 + D, Y0 + D),
        (X0 + D / 2, Y0 + D),
        (X0 + D / 2, Y0 + D + 1e-7),
        (X0 + D / 2 + 1e-9, Y0 + D),
        (X0, Y0 + D),
    ]
)
DIAGONAL = LineString([(X0, Y0), (X0 + D, Y0 + D)])

# site geometry (all inside the red line when they have a footprint), screen verdict and reason,
# whether a repair warning is expected, classify status and reason
SITE_GEOMETRIES = [
    pytest.param(None, "not_assessed", "null geometry", False, "null geometry", id="null"),
    pytest.param(Polygon(), "not_assessed", "empty geometry", False, "empty geometry", id="empty"),
    pytest.param(
        BOWTIE,
        "not_assessed",
        "invalid geometry could not be repaired safely (area changed from a raw area near 0)",
        True,
        "same",
        id="bow-tie",
    ),
    pytest.param(
        HOLE_OUTSIDE,
        "not_assessed",
        "invalid geometry could not be repaired safely (area changed 67%)",
        True,
        "same",
        id="hole-outside-shell",
    ),
    pytest.param(
        OVERLAPPING_PARTS,
        "not_assessed",
        "invalid geometry could not be repaired safely (area changed 13%)",
        True,
        "same",
        id="overlapping-parts",
    ),
    pytest.param(SPIKE, "prohibited", None, True, None, id="tiny-self-intersection-repaired"),
    pytest.param(shapely.force_3d(IN_REDLINE), "prohibited", None, False, None, id="3d"),
    pytest.param(
        GeometryCollection([IN_REDLINE, box(X0, Y0 - 2 * D, X0 + D, Y0 - D)]),
        "prohibited",
        None,
        False,
        None,
        id="collection-of-polygons",
    ),
    pytest.param(
        GeometryCollection([IN_REDLINE, DIAGONAL]),
        "not_assessed",
        "mixes polygons with lines or points (split it into separate subjects)",
        False,
        "same",
        id="mixed-collection",
    ),
    pytest.param(
        shapely.orient_polygons(IN_REDLINE, exterior_cw=False),
        "prohibited",
        None,
        False,
        None,
        id="ccw-outer-ring",
    ),
    pytest.param(
        DIAGONAL,
        "prohibited",
        None,
        False,
        "the parcel is not a polygon; classification measures areas",
        id="line",
    ),
    pytest.param(
        Point(X0, Y0),
        "prohibited",
        None,
        False,
        "the parcel is not a polygon; classification measures areas",
        id="point",
    ),
]


@pytest.mark.parametrize(("geom", "verdict", "reason", "repairs", "parcel_reason"), SITE_GEOMETRIES)
def test_bad_site_geometries(
    run: Callable[..., Screening],
    planning: Planning,
    geom: shapely.Geometry | None,
    verdict: str,
    reason: str | None,
    repairs: bool,
    parcel_reason: str | None,
) -> None:
    sites = sites_of({**GOOD_SITES, "case": geom})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RedlineWarning)
        result = run(sites)
        parcels = classify(sites, planning)
    assert sum(issubclass(w.category, RedlineWarning) for w in caught) == 2 * repairs
    assert_fail_closed(result, sites, overlapping={"in", "case"})
    assert verdicts(result) == {**EXPECTED, "case": verdict}
    assert reasons(result)["case"] == reason or (
        reason is None and pd.isna(reasons(result)["case"])
    )
    expected = reason if parcel_reason == "same" else parcel_reason
    status = "assessed" if expected is None else "not_assessed"
    assert parcels["status"].tolist() == ["assessed"] * 3 + [status]
    assert len(parcels) == len(sites) and parcels.index.equals(sites.index)
    if expected is None:
        assert parcels["zone"].iloc[3] == "key"
    else:
        assert parcels["not_assessed_reason"].iloc[3] == expected


def planning_with_redline(geom: shapely.Geometry | None) -> Planning:
    layers = layers_4490()
    layers["redlines"] = gpd.GeoDataFrame(
        {"feature_id": ["R1", "R9"], "category": ["x", "y"]}, geometry=[REDLINE_2, geom], crs=4490
    )
    return Planning(**layers)


@pytest.mark.parametrize(
    ("geom", "message"),
    [
        pytest.param(None, r"1 features have null or empty geometry: \['R9'\]", id="null"),
        pytest.param(Polygon(), r"1 features have null or empty geometry: \['R9'\]", id="empty"),
        pytest.param(
            Point(X0, Y0),
            r"1 features hold no polygon geometry .*features R9",
            id="point-in-polygon-layer",
        ),
    ],
)
def test_planning_features_without_area_are_refused(
    geom: shapely.Geometry | None, message: str
) -> None:
    with pytest.raises(GeometryError, match=rf"redlines \(redlines\): {message}"):
        planning_with_redline(geom)


# raw red-line geometry, a site lying inside what the author drew, the logged repair reason
RED = (125.30, 43.80, 0.1)  # corner and size of the red line
RX, RY, RD = RED
PLANNING_GEOMETRIES = [
    pytest.param(
        Polygon([(RX, RY), (RX + RD, RY + RD), (RX + RD, RY), (RX, RY + RD)]),
        box(RX + 0.01, RY + 0.04, RX + 0.015, RY + 0.06),
        r"Self-intersection",
        id="bow-tie",
    ),
    pytest.param(
        Polygon(
            box(RX, RY, RX + RD, RY + RD).exterior.coords,
            [box(RX + 2 * RD, RY, RX + 2.5 * RD, RY + RD / 2).exterior.coords],
        ),
        box(RX + 0.01, RY + 0.01, RX + 0.02, RY + 0.02),
        r"Hole lies outside shell",
        id="hole-outside-shell",
    ),
    pytest.param(
        MultiPolygon(
            [
                box(RX, RY, RX + RD, RY + RD),
                box(RX + RD / 2, RY + RD / 2, RX + 1.5 * RD, RY + 1.5 * RD),
            ]
        ),
        box(RX + 0.06, RY + 0.06, RX + 0.07, RY + 0.07),
        r"Self-intersection",
        id="overlapping-parts",
    ),
    pytest.param(
        GeometryCollection(
            [box(RX, RY, RX + RD, RY + RD), LineString([(RX, RY), (RX + RD, RY + RD)])]
        ),
        box(RX + 0.06, RY + 0.06, RX + 0.07, RY + 0.07),
        r"GeometryCollection; dropped 1 parts of another family",
        id="mixed-collection",
    ),
    pytest.param(  # GEOS's first structure pass returns two parts sharing the doubled edge
        Polygon(
            [
                (RX, RY + RD),
                (RX, RY + RD / 2),
                (RX + RD / 2, RY),
                (RX, RY),
                (RX, RY + RD / 2),
                (RX + RD / 2, RY),
            ]
        ),
        box(RX + 0.005, RY + 0.005, RX + 0.015, RY + 0.015),
        r"Ring Self-intersection",
        id="ring-twice-along-an-edge",
    ),
]


@pytest.mark.parametrize(("raw", "site", "reason"), PLANNING_GEOMETRIES)
def test_invalid_planning_geometries_are_repaired_and_recorded(
    rules: RuleSet, raw: shapely.Geometry, site: shapely.Geometry, reason: str
) -> None:
    with pytest.warns(RedlineWarning, match=r"redlines \(redlines\): repaired 1 geometries"):
        planning = planning_with_redline(raw)
    log = planning.repairs
    assert log["feature_id"].tolist() == ["R9"]
    assert log["layer"].tolist() == ["redlines"]
    assert log["reason"].str.contains(reason).all()
    assert planning["redlines"].geometry.is_valid.all()
    sites = sites_of({"site": site})
    result = screen(sites, planning, rules=rules, n_jobs=1)
    assert verdicts(result) == {"site": "prohibited"}
    site_area = float(gpd.GeoSeries([site], crs=4490).to_crs(WORKING_CRS).area.iloc[0])
    red = result.findings[result.findings["rule_id"] == "T-REDLINE"]
    assert red["overlap_m2"].sum() == pytest.approx(site_area, rel=1e-9)  # not 0: no hole


def test_geometry_still_invalid_after_repair(
    run: Callable[..., Screening], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should GEOS hand back an invalid repair, the feature is refused and the site is not
    assessed: an invalid geometry is never measured."""
    monkeypatch.setattr(shapely, "make_valid", lambda geoms, **kwargs: geoms)
    with pytest.raises(
        GeometryError,
        match=r"redlines \(redlines\): 1 features are still invalid after repair \(features R9",
    ):
        planning_with_redline(BOWTIE)
    sites = sites_of({**GOOD_SITES, "case": BOWTIE})
    with pytest.warns(RedlineWarning, match=r"1 changed area by more than 1%, collapsed or"):
        result = run(sites)
    assert_fail_closed(result, sites, overlapping={"in", "case"})
    assert reasons(result)["case"] == "invalid geometry is still invalid after repair"


def test_3d_planning_layer(rules: RuleSet) -> None:
    planning = planning_with_redline(shapely.force_3d(REDLINE))
    assert not shapely.has_z(planning["redlines"].geometry).any()
    assert len(planning.repairs) == 0
    assert verdicts(screen(sites_of(GOOD_SITES), planning, rules=rules)) == EXPECTED


def test_null_shape_in_a_planning_file(tmp_path: Path) -> None:
    red = layers_4490()["redlines"]
    manifest = write_planning(tmp_path, redlines=red.set_geometry([REDLINE, None], crs=4490))
    with pytest.raises(
        GeometryError,
        match=r"redlines \(.*redlines\.shp\): 1 features have "
        r"null or empty geometry: \['R2'\]",
    ):
        load_planning(manifest)


def holed(geom: Polygon, hole: Polygon) -> Polygon:
    return Polygon(geom.exterior.coords, [hole.exterior.coords])


def test_ccw_outer_rings_in_a_planning_file(tmp_path: Path, rules: RuleSet) -> None:
    red = layers_4490()["redlines"]
    with_hole = holed(REDLINE, box(125.31, 43.81, 125.32, 43.82))  # away from IN_REDLINE
    manifest = write_planning(tmp_path, redlines=red.set_geometry([with_hole, REDLINE_2], crs=4490))
    reverse_rings(tmp_path / "redlines.shp")
    raw = pyogrio.read_dataframe(tmp_path / "redlines.shp").geometry
    assert raw.iloc[0].area < 0  # the hazard: the outer ring reads as a hole
    assert not raw.iloc[0].contains(IN_REDLINE.centroid)
    result = screen(sites_of(GOOD_SITES), load_planning(manifest), rules=rules)
    assert verdicts(result) == EXPECTED


def test_ccw_outer_rings_in_a_sites_file_cli(tmp_path: Path, rules_path: Path) -> None:
    manifest = write_planning(tmp_path / "planning")
    with_hole = holed(IN_REDLINE, box(X0 + 0.004, Y0 + 0.004, X0 + 0.006, Y0 + 0.006))
    sites = write_sites_shapefile(tmp_path / "sites", geoms={**GOOD_SITES, "in": with_hole})
    reverse_rings(sites)
    raw = pyogrio.read_dataframe(sites).geometry.iloc[0]
    assert raw.area < 0 and not raw.contains(Point(X0 + 0.001, Y0 + 0.001))  # the hazard
    result = cli_screen(sites, manifest, rules_path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    back = screened_sites(tmp_path / "out")
    assert dict(zip(back.site_id, back.verdict, strict=True)) == EXPECTED


def test_bad_geometries_in_a_sites_file_cli(tmp_path: Path, rules_path: Path) -> None:
    """Every row in, every row out, through files: null, empty and unrepairable sites are
    written with their reason."""
    manifest = write_planning(tmp_path / "planning")
    sites = sites_of({**GOOD_SITES, "null": None, "empty": Polygon(), "bowtie": BOWTIE})
    path = tmp_path / "sites.gpkg"
    pyogrio.write_dataframe(sites.reset_index(drop=True), path)
    with pytest.warns(RedlineWarning, match=r"repaired 1 invalid subject geometries"):
        result = cli_screen(path, manifest, rules_path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    back = screened_sites(tmp_path / "out")
    assert back["site_id"].tolist() == list(sites["site_id"])
    assert back["verdict"].tolist() == [*EXPECTED.values(), *["not_assessed"] * 3]
    assert back["not_assessed_reason"].iloc[3:].str.len().gt(0).all()
    table = pd.read_csv(tmp_path / "out" / "sites.csv", encoding="utf-8-sig")
    assert len(table) == len(sites)


# === §1 damaged files =========================================================================


@pytest.mark.parametrize(("damage", "message"), DAMAGE)
def test_damaged_planning_shapefile(
    tmp_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    manifest = write_planning(tmp_path)
    damage(tmp_path / "redlines.shp")
    with pytest.raises(LayerError, match=rf"{re.escape(str(tmp_path))}/redlines\.shp: .*{message}"):
        load_planning(manifest)


@pytest.mark.parametrize(("damage", "message"), DAMAGE)
def test_damaged_sites_shapefile_cli(
    tmp_path: Path, rules_path: Path, damage: Callable[[Path], None], message: str
) -> None:
    manifest = write_planning(tmp_path / "planning")
    sites = write_sites_shapefile(tmp_path / "sites")
    damage(sites)
    result = cli_screen(sites, manifest, rules_path, tmp_path / "out")
    assert result.exit_code == 2
    assert f"{sites}: " in result.output
    assert re.search(message.replace("redlines", "sites"), result.output), result.output
    assert nothing_written(tmp_path / "out")


def test_reordered_shx_would_swap_attributes(tmp_path: Path) -> None:
    """The hazard behind the ``shx-reordered`` case: GDAL follows the .shx without a word, so
    site ``in`` gets another site's shape."""
    sites = write_sites_shapefile(tmp_path)
    swap_shx_entries(sites)
    raw = pyogrio.read_dataframe(sites)
    assert raw.geometry.iloc[0].equals(CLEAR) and raw["site_id"].iloc[0] == "in"
    with pytest.raises(
        LayerError, match=r"the \.shx does not match the \.shp: .* \(records 0, 1, 2\)"
    ):
        read_layer(sites)


# === §1 site attributes and rules =============================================================


def test_duplicate_site_ids(
    run: Callable[..., Screening], tmp_path: Path, rules_path: Path
) -> None:
    sites = sites_of({**GOOD_SITES, "x": CLEAR})
    sites.loc["s3", "site_id"] = " in "
    with pytest.raises(LayerError, match=r"site_id values are not unique: \['in'\] \(2 rows\)"):
        run(sites)
    blank = sites.assign(site_id=["a", "b", None, ""])
    with pytest.raises(LayerError, match=r"2 sites have no site_id \(rows \['s2', 's3'\]\)"):
        run(blank)
    path = tmp_path / "sites.gpkg"
    pyogrio.write_dataframe(sites.reset_index(drop=True), path)
    result = cli_screen(path, write_planning(tmp_path / "planning"), rules_path, tmp_path / "out")
    assert result.exit_code == 2
    assert "site_id values are not unique" in result.output


def test_unknown_project_type_is_screened_as_general_construction(
    run: Callable[..., Screening], tmp_path: Path, rules_path: Path
) -> None:
    sites = sites_of(
        {"road": IN_REDLINE, "unknown": IN_REDLINE, "untyped": IN_REDLINE},
        project_type=["道路", "spaceport", None],
    )
    with pytest.warns(
        RedlineWarning,
        match=r"unknown project_type values \['spaceport'\] are "
        r"screened as general construction",
    ):
        result = run(sites)
    assert result.sites["project_type_used"].tolist() == [
        "linear_infrastructure",
        "general",
        "general",
    ]
    assert verdicts(result) == {
        "road": "conditional",
        "unknown": "prohibited",
        "untyped": "prohibited",
    }
    path = tmp_path / "sites.gpkg"
    pyogrio.write_dataframe(sites.reset_index(drop=True), path)
    with pytest.warns(RedlineWarning, match=r"unknown project_type"):
        cli = cli_screen(path, write_planning(tmp_path / "planning"), rules_path, tmp_path / "o")
    assert cli.exit_code == 0, cli.output
    assert screened_sites(tmp_path / "o")["verdict"].tolist() == [
        "conditional",
        "prohibited",
        "prohibited",
    ]


def test_project_type_field_cut_by_a_shapefile(
    run: Callable[..., Screening], tmp_path: Path
) -> None:
    """A Shapefile cannot hold ``project_type`` (12 bytes): GDAL writes ``project_ty``, which
    screening reads too, so the road crossing a red line keeps its type (conditional)."""
    sites = sites_of({"road": IN_REDLINE}, project_type=["道路"])
    with pytest.warns(RuntimeWarning, match=r"'project_type' to 'project_ty'"):
        pyogrio.write_dataframe(sites.reset_index(drop=True), tmp_path / "sites.shp")
    result = run(read_layer(tmp_path / "sites.shp"))
    assert result.sites[["project_type_used", "verdict"]].values.tolist() == [
        ["linear_infrastructure", "conditional"]
    ]


RULE = """
[[rule]]
id = "X-1"
title_en = "bad rule"
layer = "{layer}"
test = "{test}"
{distance}
severity = "prohibited"
{clause}
"""
BAD_RULES = [
    pytest.param(
        dict(layer="redline", test="overlap", distance="", clause=CLAUSE),
        r"rule 'X-1' \(#1\) field 'layer': unknown layer kind 'redline'",
        id="unknown-kind",
    ),
    pytest.param(
        dict(layer="redlines", test="proximity", distance="distance_m = -5", clause=CLAUSE),
        r"rule 'X-1' \(#1\) field 'distance_m': negative distance -5 m",
        id="negative-distance",
    ),
    pytest.param(
        dict(layer="redlines", test="overlap", distance="", clause=""),
        r"rule 'X-1' \(#1\) field 'clause': missing",
        id="missing-clause",
    ),
]


@pytest.mark.parametrize(("fields", "message"), BAD_RULES)
def test_bad_ruleset(
    tmp_path: Path, planning: Planning, fields: dict[str, str], message: str
) -> None:
    path = tmp_path / "county.toml"
    path.write_text(RULE.format(**fields), encoding="utf-8")
    with pytest.raises(RuleError, match=rf"(?s)rules file .*county\.toml has 1 problem.*{message}"):
        screen(sites_of(GOOD_SITES), planning, rules=path)
    manifest = write_planning(tmp_path / "planning")
    sites = write_sites_shapefile(tmp_path / "sites")
    result = cli_screen(sites, manifest, path, tmp_path / "out")
    assert result.exit_code == 2
    assert "county.toml has 1 problem" in result.output
    assert nothing_written(tmp_path / "out")


# === §1 empty input ===========================================================================


def empty_sites() -> gpd.GeoDataFrame:
    return sites_of(GOOD_SITES, name=["a", "b", "c"]).iloc[:0]


def test_empty_sites_give_an_empty_screening(
    run: Callable[..., Screening], planning: Planning
) -> None:
    result = run(empty_sites())
    assert len(result.sites) == 0 and len(result.findings) == 0
    assert result.summary()["sites"].tolist() == [0] * 5
    assert len(classify(empty_sites(), planning)) == 0


def test_empty_sites_write_empty_layers(run: Callable[..., Screening], tmp_path: Path) -> None:
    written = run(empty_sites()).to_file(tmp_path / "out")
    assert sorted(pyogrio.list_layers(written["geopackage"])[:, 0]) == ["findings", "sites"]
    assert len(read_layer(written["geopackage"], layer="sites")) == 0
    for role in ("sites", "findings", "three_lines"):
        assert len(pd.read_csv(written[role], encoding="utf-8-sig")) == 0


def test_empty_sites_file_cli(tmp_path: Path, rules_path: Path) -> None:
    path = tmp_path / "sites.gpkg"
    pyogrio.write_dataframe(empty_sites().reset_index(drop=True), path)
    result = cli_screen(path, write_planning(tmp_path / "planning"), rules_path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert len(screened_sites(tmp_path / "out")) == 0


def test_site_near_a_feature_it_does_not_touch(rules: RuleSet) -> None:
    """A site inside the bounding box of a triangular red line but outside the triangle."""
    triangle = Polygon([(125.30, 43.80), (125.40, 43.80), (125.30, 43.90)])
    planning = planning_with_redline(triangle)
    sites = sites_of({"near": box(125.38, 43.88, 125.39, 43.89)})
    assert verdicts(screen(sites, planning, rules=rules, n_jobs=1)) == {"near": "clear"}


# === §3 writes that lose nothing ==============================================================

WRITTEN_SITES = {**GOOD_SITES, "null": None, "empty": Polygon()}
NAMES = ["红线内项目", "限制开发区项目", "", None, "空"]


FIELDS = [
    "site_id",
    "name",
    "project_type_used",
    "verdict",
    "verdict_zh",
    "n_findings",
    "decisive_rule",
    "decisive_clause",
    "not_assessed_reason",
    "known_verdict",
]


@pytest.fixture
def screened(run: Callable[..., Screening]) -> Screening:
    return run(sites_of(WRITTEN_SITES, name=NAMES))


def check_values(back: pd.DataFrame, result: Screening, *, names: list) -> None:
    assert len(back) == len(result.sites)
    for column in ("site_id", "verdict", "verdict_zh", "project_type_used"):
        assert back[column].tolist() == result.sites[column].tolist()
    assert back["n_findings"].astype(int).tolist() == result.sites["n_findings"].tolist()
    got = [None if pd.isna(v) else v for v in back["name"]]
    assert got == names


@pytest.mark.parametrize("ext", [".gpkg", ".geojson"])
def test_screening_sites_round_trip(screened: Screening, tmp_path: Path, ext: str) -> None:
    path = write_layer(screened.sites, tmp_path / f"sites{ext}")
    back = read_layer(path)
    assert list(back.columns) == ["index", *FIELDS, "geometry"]  # the caller's index too
    assert back["index"].tolist() == list(screened.sites.index)
    check_values(back, screened, names=NAMES)
    assert back.geometry.isna().tolist() == [False, False, False, True, False]
    assert back.geometry.is_empty.tolist() == [False, False, False, False, True]
    assert back["not_assessed_reason"].tolist()[3:] == ["null geometry", "empty geometry"]


def test_screening_sites_round_trip_csv(screened: Screening, tmp_path: Path) -> None:
    path = write_layer(screened.sites, tmp_path / "sites.csv", encoding="utf-8-sig")
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == ["index", *FIELDS, WKT_COLUMN]
    check_values(
        back, screened, names=["红线内项目", "限制开发区项目", "", "", "空"]
    )  # CSV: null = ""
    assert back[WKT_COLUMN].tolist()[3:] == ["", "POLYGON EMPTY"]  # null and empty stay apart


SHP_RENAME = {
    "project_type_used": "ptype_used",
    "decisive_rule": "rule",
    "decisive_clause": "clause",
    "not_assessed_reason": "na_reason",
    "known_verdict": "known",
}


def test_screening_sites_to_shapefile(screened: Screening, tmp_path: Path) -> None:
    path = tmp_path / "sites.shp"
    with pytest.raises(LayerError, match=r"cannot write without losing data") as err:
        write_layer(screened.sites, path)
    for problem in (
        "'project_type_used' is 17 bytes",
        "'not_assessed_reason' is 19 bytes",
        "'known_verdict' is 13 bytes",
        "1 features have empty geometries (rows 4)",
    ):
        assert problem in str(err.value)
    assert list(tmp_path.iterdir()) == []
    sites = screened.sites.copy()
    sites.loc[sites.geometry.is_empty, "geometry"] = None
    back = read_layer(write_layer(sites, path, rename=SHP_RENAME)).rename(
        columns={v: k for k, v in SHP_RENAME.items()}
    )
    check_values(
        back, screened, names=["红线内项目", "限制开发区项目", None, None, "空"]
    )  # "" = null
    assert back.geometry.isna().tolist() == [False, False, False, True, True]


def test_to_file_round_trip(screened: Screening, tmp_path: Path) -> None:
    written = screened.to_file(tmp_path / "out")
    sites = read_layer(written["geopackage"], layer="sites")
    check_values(sites, screened, names=NAMES)
    assert sites.geometry.isna().tolist() == [False, False, False, True, False]
    assert sites.geometry.is_empty.tolist() == [False, False, False, False, True]
    findings = read_layer(written["geopackage"], layer="findings")
    assert len(findings) == len(screened.findings) == 2
    assert findings["rule_id"].tolist() == screened.findings["rule_id"].tolist()
    np.testing.assert_allclose(
        findings.to_crs(WORKING_CRS).area, screened.findings.geometry.area, rtol=1e-9
    )
    table = pd.read_csv(written["sites"], encoding="utf-8-sig", keep_default_na=False)
    assert table["site_id"].tolist() == list(WRITTEN_SITES)
    assert len(pd.read_csv(written["three_lines"], encoding="utf-8-sig")) == len(WRITTEN_SITES)
    assert not list((tmp_path / "out").glob(".redline-*"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def interrupt_after(monkeypatch: pytest.MonkeyPatch, calls: int) -> None:
    """Let ``calls`` GDAL writes succeed, then write half a file and fail (a full disk)."""
    write = pyogrio.write_dataframe
    count = {"n": 0}

    def flaky(df: gpd.GeoDataFrame, target: Path, **kwargs: object) -> None:
        count["n"] += 1
        if count["n"] <= calls:
            return write(df, target, **kwargs)
        write(df.iloc[: len(df) // 2], target, **kwargs)
        raise OSError("No space left on device")

    monkeypatch.setattr(pyogrio, "write_dataframe", flaky)


@pytest.mark.parametrize("calls", [0, 1], ids=["first-write", "second-write"])
def test_interrupted_to_file_keeps_the_previous_run(
    screened: Screening,
    run: Callable[..., Screening],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    calls: int,
) -> None:
    """A write that fails part-way (the first file, or a later one) leaves the previous run's
    files as they were and no staging folder."""
    out = tmp_path / "out"
    screened.to_file(out)
    before = snapshot(out)
    rerun = run(sites_of(GOOD_SITES))
    interrupt_after(monkeypatch, calls=calls)
    with pytest.raises(OSError, match="No space left"):
        rerun.to_file(out)
    assert snapshot(out) == before
    assert not list(out.glob(".redline-*"))


def test_damaged_copy_of_the_sample_is_refused(tmp_path: Path) -> None:
    """The bundled sample, copied and damaged the way a transfer damages files, fails loudly."""
    from redline.datasets import DATA_DIR

    folder = tmp_path / "sample"
    shutil.copytree(DATA_DIR, folder)
    truncate_shp(folder / "redlines.shp")
    with pytest.raises(LayerError, match=r"redlines\.shp is truncated or damaged"):
        load_planning(folder / "manifest.toml")


def test_the_bad_inputs_table_names_tests_that_exist() -> None:
    """docs/bad-inputs.md names the test of every case (``R::`` this file, ``P::`` the
    properties, ``S::`` sites files, ``B::`` boundary-point files, ``O::`` the one-map tests):
    each row names one, and each one named is a test there."""
    import test_boundary_points
    import test_one_maps
    import test_properties
    import test_record
    import test_review
    import test_sites

    table = Path(__file__).resolve().parents[1] / "docs" / "bad-inputs.md"
    rows = [
        line
        for line in table.read_text(encoding="utf-8").splitlines()
        if line.startswith("| ") and not line.endswith("| test |")  # not a header
    ]
    modules = {"R": sys.modules[__name__], "P": test_properties, "S": test_sites,
               "B": test_boundary_points, "O": test_one_maps, "V": test_review,
               "D": test_record}
    named = [re.findall(r"`([RPSBOVD])::(test_[\w*]+)(?:\[[^\]`]+\])?`", row) for row in rows]
    assert len(rows) > 50 and all(named), [r for r, n in zip(rows, named, strict=True) if not n]
    missing = [  # a name may be a glob: the tests of one case across entry points
        f"{m}::{pattern}"
        for found in named
        for m, pattern in found
        if not fnmatch.filter(dir(modules[m]), pattern)
    ]
    assert not missing


@pytest.mark.parametrize(
    ("category", "verdict"),
    [("风景名胜区", "prohibited"), ("国家级风景名胜区", "prohibited"), ("风景区", "conditional")],
)
def test_scenic_category_spellings(
    make_planning: Callable[..., Planning], category: str, verdict: str
) -> None:
    """An industrial site in a scenic area: the usual Chinese categories map onto scenic_area
    without a manifest table, so SCN-SCENIC-AREA fires (prohibited); an unmapped spelling
    cannot fire it, and screening says so instead of passing quietly to the milder rule."""
    scenic = frame([{"feature_id": "SC-1", "name": "景区", "category": category}],
                   [square("scenic")])
    sites = gpd.GeoDataFrame({"site_id": ["plant"], "project_type": ["industrial"]},
                             geometry=[inside("scenic")], crs=WORKING_CRS)
    planning = make_planning(scenic=scenic)
    if verdict == "prohibited":
        result = screen(sites, planning)
        assert result.findings["rule_id"].tolist() == ["SCN-SCENIC-AREA", "SCN-PROTECTED"]
    else:
        with pytest.warns(RedlineWarning, match=r"rule 'SCN-SCENIC-AREA' selects scenic.category"
                          r" = \['scenic_area'\] but no feature has that value.*'风景区'"):
            result = screen(sites, planning)
        assert result.findings["rule_id"].tolist() == ["SCN-PROTECTED"]
    assert result.sites["verdict"].tolist() == [verdict]
