"""Boundary-point coordinate files (界址点坐标 TXT): every variant real files show, each
malformed case, the write-back, and screening from a TXT file.

The plots are rectangles whose areas are known by hand (100 m × 200 m = 2 ha). They lie near
Jilin city: CGCS2000 3° zone 42 (central meridian 126°E), northing 4 861 200 m, easting
512 300 m, i.e. 12.3 km east of 126°E at 43.89°N: 126 + 12 300 / (111 320 · cos 43.89°)
= 126.1533°E.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS
from typer.testing import CliRunner

from redline import datasets, read_sites, screen, write_sites
from redline.boundary_points import (
    LAND_USE_PROJECT_TYPES,
    boundary_point_crs,
    is_boundary_point_file,
    read_boundary_points,
    write_boundary_points,
)
from redline.cli import app
from redline.errors import CRSError, LayerError, RedlineWarning
from redline.schema import PROJECT_TYPES

HEADER = """[属性描述]
格式版本号=1.01
数据产生单位=某某测绘有限公司
坐标系={system}
几度分带={width}
投影类型=高斯克吕格
计量单位=米
带号={zone}
精度=0.001
转换参数=,,,,,,
[地块坐标]
"""
N0, E0 = 4861200.0, 512300.0


def rect(n: float, e: float, dn: float, de: float, *, ring: int = 1, prefix: str = "42",
         start: int = 1, close: bool = True) -> list[str]:
    """Point lines of a rectangle (clockwise, as surveyors list them), X northing, Y easting."""
    corners = [(n, e), (n + dn, e), (n + dn, e + de), (n, e + de)]
    if close:
        corners.append(corners[0])
    labels = [f"J{start + i}" for i in range(4)] + ([f"J{start}"] if close else [])
    return [f"{label},{ring},{x:.3f},{prefix}{y:.3f}"
            for label, (x, y) in zip(labels, corners, strict=True)]


def plot(count: int | str, area: float | str, number: str, name: str, use: str = "工业用地",
         code: str = "0601", kind: str = "面") -> str:
    return f"{count},{area},{number},{name},{kind},,{use},{code},@"


def txt(tmp_path: Path, lines: list[str], *, system: str = "2000国家大地坐标系", width: int = 3,
        zone: int | str = 42, encoding: str = "gbk", bom: bool = False,
        name: str = "site.txt") -> Path:
    path = tmp_path / name
    text = HEADER.format(system=system, width=width, zone=zone) + "\n".join(lines) + "\n"
    data = text.replace("\n", "\r\n").encode(encoding)  # Windows line ends, as tools write
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


ONE_PLOT = [plot(5, "2.0000", "A-01", "某某项目用地"), *rect(N0, E0, 200, 100)]


def test_zone_prefix_gbk(tmp_path):
    sites = read_boundary_points(txt(tmp_path, ONE_PLOT))
    assert sites.crs.to_epsg() == 4530  # CGCS2000 3° zone 42 with the prefix
    assert sites.attrs["redline"]["encoding"] == "GB18030"
    assert sites.attrs["redline"]["zone_prefix"] is True
    row = sites.iloc[0]
    assert (row.site_id, row["name"], row.land_use, row.land_class) == (
        "A-01", "某某项目用地", "工业用地", "0601")
    assert row.project_type == "industrial"
    assert row.area_ha == pytest.approx(2.0)
    assert row.declared_area_ha == 2.0 and row.declared_points == 5
    assert pd.isna(row.input_warning) and pd.isna(row.input_problem)
    lonlat = sites.to_crs(4490).geometry.iloc[0].bounds
    assert lonlat[0] == pytest.approx(126.1533, abs=5e-4)  # the west edge, by hand
    assert lonlat[1] == pytest.approx(43.886, abs=2e-3)


@pytest.mark.parametrize("bom", [False, True])
def test_no_prefix_utf8(tmp_path, bom):
    lines = [plot(5, "2.0000", "A-01", "某某项目用地"), *rect(N0, E0, 200, 100, prefix="")]
    sites = read_boundary_points(txt(tmp_path, lines, encoding="utf-8", bom=bom))
    assert sites.crs.to_epsg() == 4551  # CM 126°E, no prefix
    assert sites.attrs["redline"]["encoding"] == "UTF-8"
    assert sites.attrs["redline"]["zone_prefix"] is False
    with_prefix = read_boundary_points(txt(tmp_path, ONE_PLOT, name="p.txt"))
    a, b = sites.to_crs(4490).geometry.iloc[0], with_prefix.to_crs(4490).geometry.iloc[0]
    assert a.hausdorff_distance(b) < 1e-8  # the same place either way (degrees)


def test_holes_by_containment_whatever_the_numbering(tmp_path):
    outer = rect(N0, E0, 200, 200)  # 4 ha
    hole = rect(N0 + 50, E0 + 50, 50, 50, ring=2, start=6)  # 0.25 ha
    sites = read_boundary_points(txt(tmp_path, [plot(10, "3.7500", "H", "带扣除地块"),
                                                *outer, *hole]))
    geom = sites.geometry.iloc[0]
    assert geom.geom_type == "Polygon" and len(geom.interiors) == 1
    assert sites.area_ha.iloc[0] == pytest.approx(3.75)
    assert pd.isna(sites.input_warning.iloc[0])
    # the hole listed first as ring 1: still the hole (containment, not numbering, decides)
    swapped = [*rect(N0 + 50, E0 + 50, 50, 50, ring=1), *rect(N0, E0, 200, 200, ring=2)]
    again = read_boundary_points(txt(tmp_path, [plot(10, "3.7500", "H", "x"), *swapped],
                                     name="swapped.txt"))
    assert again.area_ha.iloc[0] == pytest.approx(3.75)
    # a second ring outside the first is a second part, not a hole
    parts = [*rect(N0, E0, 100, 100), *rect(N0 + 500, E0, 100, 100, ring=2)]
    two = read_boundary_points(txt(tmp_path, [plot(10, "2.0000", "P", "飞地"), *parts],
                                   name="parts.txt"))
    assert two.geometry.iloc[0].geom_type == "MultiPolygon"
    assert two.area_ha.iloc[0] == pytest.approx(2.0)


def test_several_plots_and_land_use_types(tmp_path):
    lines = [plot(5, "2.0000", "A-01", "一号地块", use="城镇住宅用地"), *rect(N0, E0, 200, 100),
             plot(5, "1.0000", "A-02", "二号地块", use="公路用地"),
             *rect(N0 + 1000, E0, 100, 100),
             plot(5, "1.0000", "A-03", "三号地块", use="其他草地"),
             *rect(N0 + 2000, E0, 100, 100)]
    sites = read_boundary_points(txt(tmp_path, lines))
    assert sites.site_id.tolist() == ["A-01", "A-02", "A-03"]
    assert sites.project_type[:2].tolist() == ["residential", "linear_infrastructure"]
    assert pd.isna(sites.project_type[2])  # 其他草地: no project type, general construction
    assert sites.land_use.tolist() == ["城镇住宅用地", "公路用地", "其他草地"]
    assert sites.area_ha.round(6).tolist() == [2.0, 1.0, 1.0]
    assert sites.line.tolist() == [12, 18, 24]  # header lines of the plots


def test_land_use_table_maps_onto_project_types():
    assert set(LAND_USE_PROJECT_TYPES.values()) <= set(PROJECT_TYPES)


@pytest.mark.parametrize(("system", "width", "zone", "prefix", "epsg"), [
    ("1980西安坐标系", 3, 42, "42", 2366),
    ("西安80", 3, 42, "", 2387),
    ("1954北京坐标系", 6, 21, "21", 21421),
    ("2000国家大地坐标系", 6, 21, "", 4510),
])
def test_datums_and_zone_widths(tmp_path, system, width, zone, prefix, epsg):
    lines = [plot(5, "2.0000", "A", "x"), *rect(N0, E0, 200, 100, prefix=prefix)]
    path = txt(tmp_path, lines, system=system, width=width, zone=zone)
    if "2000" in system:
        sites = read_boundary_points(path)
    else:
        with pytest.warns(RedlineWarning, match="ballpark offset only"):
            sites = read_boundary_points(path)
    assert sites.crs.to_epsg() == epsg
    assert sites.area_ha.iloc[0] == pytest.approx(2.0)


def test_epsg_table_matches_pyproj():
    for datum, name in [("CGCS2000", "CGCS2000"), ("Xian 1980", "Xian 1980"),
                        ("Beijing 1954", "Beijing 1954")]:
        for zone in (25, 41, 42, 45):
            crs = boundary_point_crs(datum, zone_width=3, zone=zone, prefix=True)
            assert crs.name == f"{name} / 3-degree Gauss-Kruger zone {zone}"
            crs = boundary_point_crs(datum, zone_width=3, zone=zone, prefix=False)
            assert crs.name == f"{name} / 3-degree Gauss-Kruger CM {3 * zone}E"
        for zone in (13, 21, 23):
            crs = boundary_point_crs(datum, zone_width=6, zone=zone, prefix=True)
            assert crs.name == f"{name} / Gauss-Kruger zone {zone}"
            crs = boundary_point_crs(datum, zone_width=6, zone=zone, prefix=False)
            assert crs.name == f"{name} / Gauss-Kruger CM {6 * zone - 3}E"


def test_zone_number_disagreeing_with_the_prefix(tmp_path):
    with pytest.warns(RedlineWarning, match="带号=41 but the eastings carry zone 42"):
        sites = read_boundary_points(txt(tmp_path, ONE_PLOT, zone=41))
    assert sites.crs.to_epsg() == 4530  # what the coordinates say


@pytest.mark.parametrize("close", [True, False])
def test_ring_closed_or_not(tmp_path, close):
    count = 5 if close else 4
    lines = [plot(count, "2.0000", "A", "x"), *rect(N0, E0, 200, 100, close=close)]
    sites = read_boundary_points(txt(tmp_path, lines))
    assert sites.area_ha.iloc[0] == pytest.approx(2.0)
    assert pd.isna(sites.input_warning.iloc[0])


def test_point_count_with_or_without_the_closing_point(tmp_path):
    lines = [plot(4, "2.0000", "A", "x"), *rect(N0, E0, 200, 100)]  # 5 lines, 4 points
    assert pd.isna(read_boundary_points(txt(tmp_path, lines)).input_warning.iloc[0])


def test_declared_area_and_point_count_checked(tmp_path):
    lines = [plot(5, "2.0080", "OK", "0.4 % off"), *rect(N0, E0, 200, 100),
             plot(5, "2.0200", "AREA", "1 % off"), *rect(N0 + 1000, E0, 200, 100),
             plot(9, "2.0000", "COUNT", "wrong count"), *rect(N0 + 2000, E0, 200, 100)]
    with pytest.warns(RedlineWarning, match="2 of 3 plots do not check out"):
        sites = read_boundary_points(txt(tmp_path, lines))
    notes = dict(zip(sites.site_id, sites.input_warning, strict=True))
    assert pd.isna(notes["OK"])
    assert notes["AREA"] == ("declared area 2.0200 ha, the boundary encloses 2.0000 ha "
                             "(-0.99%)")
    assert notes["COUNT"] == "declared 9 points, the plot lists 5"
    assert sites.input_problem.isna().all()  # a mismatch is a note, not a reason to skip


def test_invalid_ring_is_not_assessed(tmp_path):
    n, e = N0, E0
    bowtie = [f"J1,1,{n:.3f},42{e:.3f}", f"J2,1,{n + 200:.3f},42{e + 100:.3f}",
              f"J3,1,{n + 200:.3f},42{e:.3f}", f"J4,1,{n:.3f},42{e + 100:.3f}",
              f"J1,1,{n:.3f},42{e:.3f}"]
    lines = [plot(5, "2.0000", "OK", "good"), *rect(N0 + 1000, E0, 200, 100),
             plot(5, "2.0000", "BAD", "crossing"), *bowtie]
    with pytest.warns(RedlineWarning, match="plot BAD .*not a valid polygon"):
        sites = read_boundary_points(txt(tmp_path, lines))
    assert sites.input_problem.iloc[1].startswith("ring 1 is not a valid polygon (Self-")
    result = screen(sites)
    verdicts = result.sites.set_index("site_id")
    assert verdicts.loc["BAD", "verdict"] == "not_assessed"
    assert verdicts.loc["BAD", "not_assessed_reason"] == sites.input_problem.iloc[1]
    assert verdicts.loc["OK", "verdict"] != "not_assessed"


@pytest.mark.parametrize(("lines", "header", "match"), [
    ([plot(5, "2", "A", "x"), "J1,1,4861200.000,42512300.000", "J2,1,4861400.OOO,42512300.000"],
     {}, r"site.txt, line 14: X='4861400.OOO', Y='42512300.000' are not numbers"),
    (["J1,1,4861200.000,42512300.000", plot(5, "2", "A", "x")], {},
     r"site.txt, line 12: a point before any plot header; start each plot"),
    (ONE_PLOT, {"system": "地方坐标系"}, r"line 4: unknown 坐标系 '地方坐标系'; write 2000国家"),
    ([plot(5, "2", "A", "x"), "J1,1,4861200.000,42512300.000", "J2,1,4861400.000,512300.000"],
     {}, r"line 14: eastings mix values with and without the zone prefix"),
    ([*ONE_PLOT, plot(5, "2", "A-01", "again"), *rect(N0 + 1000, E0, 200, 100)], {},
     r"line 18: plot number 'A-01' is used again \(lines 12, 18\)"),
    ([plot(5, "2", "A", "x"), "J1,1,4861200.000"], {}, r"line 13: a point line needs 点号"),
    ([plot(5, "二", "A", "x"), *rect(N0, E0, 200, 100)], {}, r"line 12: 地块面积 .* '二'"),
    ([plot(5, "2", "A", "x", kind="体"), *rect(N0, E0, 200, 100)], {}, r"line 12: 记录图形属性"),
    (ONE_PLOT, {"width": 4}, r"line 5: 几度分带='4'; write 几度分带=3 or 几度分带=6"),
    ([], {}, r"no plot"),
])
def test_malformed_files_name_file_line_and_fix(tmp_path, lines, header, match):
    with pytest.raises(LayerError, match=match):
        read_boundary_points(txt(tmp_path, lines, **header))


def test_unknown_section_and_unit(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("[属性描述]\n计量单位=度\n[地块坐标]\n" + "\n".join(ONE_PLOT), encoding="utf-8")
    with pytest.raises(LayerError, match=r"line 2: 计量单位=度: .*metres"):
        read_boundary_points(path)
    path.write_text("[属性描述]\n[其他]\n", encoding="utf-8")
    with pytest.raises(LayerError, match=r"line 2: unknown section \[其他\]"):
        read_boundary_points(path)


def test_no_coordinate_system(tmp_path):
    path = tmp_path / "s.txt"
    lines = [plot(5, "2", "A", "x"), *rect(N0, E0, 200, 100, prefix="")]
    path.write_text("[地块坐标]\n" + "\n".join(lines), encoding="utf-8")
    with pytest.raises(CRSError, match=r"does not say its coordinate system .* --crs EPSG"):
        read_boundary_points(path)
    assert read_boundary_points(path, crs="EPSG:4551").crs.to_epsg() == 4551


def test_detected_by_content_not_extension(tmp_path):
    path = txt(tmp_path, ONE_PLOT, name="宗地界址点.dat")
    assert is_boundary_point_file(path)
    assert not is_boundary_point_file(datasets.get_path("sites"))
    sites = read_sites(path)  # any extension: the content decides
    assert sites.site_id.tolist() == ["A-01"] and sites.crs.to_epsg() == 4530


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_write_and_read_back(tmp_path, encoding):
    outer = shapely.box(42512300, 4861200, 42512500, 4861400)
    holed = outer.difference(shapely.box(42512350, 4861250, 42512400, 4861300))
    parts = shapely.MultiPolygon([shapely.box(42513000, 4861200, 42513100, 4861300),
                                  shapely.box(42513200, 4861200, 42513300, 4861300)])
    sites = gpd.GeoDataFrame({"site_id": ["H", "M"], "name": ["带洞", "两块"],
                              "project_type": ["industrial", "住宅"]},
                             geometry=[holed, parts], crs=4530)
    path = write_boundary_points(sites, tmp_path / "out.txt", encoding=encoding)
    back = read_boundary_points(path)
    assert back.site_id.tolist() == ["H", "M"]
    assert back.land_use.tolist() == ["工业", "住宅"]
    assert back.project_type[1] == "residential"  # 住宅 is a land use of the table
    assert back.area_ha.round(6).tolist() == [3.75, 2.0]
    for a, b in zip(back.geometry, sites.geometry, strict=True):
        assert a.symmetric_difference(b).area < 1e-6
    assert back.input_warning.isna().all()  # declared area and count written consistently


def test_write_from_another_crs_picks_the_zone(tmp_path):
    sites = read_sites(datasets.get_path("sites")).head(4)  # EPSG:4490, around 125–126°E
    path = write_sites(sites, tmp_path / "dossier.txt")
    back = read_sites(path)
    lon = sites.geometry.union_all().centroid.x
    assert back.crs.to_epsg() == 4513 + round(lon / 3) - 25
    assert np.allclose(back.area, sites.to_crs(back.crs).area, rtol=1e-5)
    refused = gpd.GeoDataFrame(geometry=[None], crs=4530)
    with pytest.raises(LayerError, match="have no geometry"):
        write_boundary_points(refused, tmp_path / "x.txt")
    with pytest.raises(LayerError, match="cannot be written in GBK"):
        write_boundary_points(sites.assign(name="𠀀"), tmp_path / "x.txt")
    assert not (tmp_path / "x.txt").exists()


def test_screening_to_file_writes_boundary_points(tmp_path):
    sites = read_sites(datasets.get_path("sites")).head(3)
    paths = screen(sites).to_file(tmp_path / "run", boundary_points=True)
    back = read_sites(paths["boundary_points"])
    assert back.site_id.tolist() == sites.site_id.tolist()


def test_cli_screens_a_txt_file(tmp_path):
    lines = [plot(5, "2.0000", "A-01", "某某项目用地"), *rect(N0, E0, 200, 100)]
    path = txt(tmp_path, lines, name="界址点.txt")
    runner = CliRunner()
    done = runner.invoke(app, ["screen", str(path), "--out", str(tmp_path / "out"), "--no-map",
                               "-q"])
    assert done.exit_code == 0, done.output
    out = gpd.read_file(tmp_path / "out" / "screening.gpkg", layer="sites")
    assert out.site_id.tolist() == ["A-01"]
    assert out.project_type_used.tolist() == ["industrial"]
    expected = screen(read_sites(path)).sites
    assert out.verdict.tolist() == expected.verdict.tolist()
    bad = txt(tmp_path, [plot(5, "2", "A", "x"), "J1,1,48612OO.0,42512300.0"], name="bad.txt")
    done = runner.invoke(app, ["screen", str(bad), "--out", str(tmp_path / "o2"), "--no-map"])
    assert done.exit_code == 2
    assert f"{bad}, line 13:" in done.stderr and "write the coordinates in metres" in done.stderr


def test_crs_of_epsg_codes_are_projected_metres():
    crs = boundary_point_crs("CGCS2000", zone_width=3, zone=42, prefix=True)
    assert crs == CRS.from_epsg(4530) and crs.axis_info[0].unit_name == "metre"
    with pytest.raises(CRSError, match="no CGCS2000 3° Gauss-Krüger CRS for zone 50"):
        boundary_point_crs("CGCS2000", zone_width=3, zone=50, prefix=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        boundary_point_crs("Xian 1980", zone_width=3, zone=42, prefix=False)  # no warning here
