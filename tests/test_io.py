"""Tests for redline.io: reading every bad input of bad-inputs.md that concerns files, and
atomic, checked writing. Every fixture file is built in tmp_path from code."""

from __future__ import annotations

import logging
import os
import shutil
import struct
from pathlib import Path

import fiona
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from redline.errors import CRSError, LayerError
from redline.io import WKT_COLUMN, read_layer, write_layer

BOXES = [shapely.box(125.0 + i, 43.0, 125.5 + i, 43.5) for i in range(3)]


def write_shapefile(folder: Path, name: str = "layer", n: int = 3) -> Path:
    """A plain 3-box shapefile in EPSG:4490 with an ASCII attribute."""
    gdf = gpd.GeoDataFrame({"n": list(range(n))}, geometry=BOXES[:n], crs=4490)
    path = folder / f"{name}.shp"
    pyogrio.write_dataframe(gdf, path)
    return path


def write_dbf(path: Path, fields: list[tuple[bytes, int]], rows: list[list[bytes]]) -> None:
    """Write a dBASE III table of character fields from raw bytes (code-page byte 0, no .cpg)."""
    header_len, record_len = 32 + 32 * len(fields) + 1, 1 + sum(w for _, w in fields)
    out = struct.pack("<BBBBIHH20x", 3, 124, 1, 1, len(rows), header_len, record_len)
    for name, width in fields:
        out += name.ljust(11, b"\0") + b"C" + bytes(4) + bytes([width, 0]) + bytes(14)
    out += b"\r"
    for row in rows:
        out += b" " + b"".join(v.ljust(w) for v, (_, w) in zip(row, fields, strict=True))
    path.write_bytes(out + b"\x1a")


def shapefile_with_text(
    folder: Path, names: list[str], values: list[str], codec: str, cpg: str | None = None
) -> Path:
    """A 3-record shapefile whose .dbf text is ``codec`` bytes; ``.cpg`` only if given."""
    path = write_shapefile(folder)
    path.with_suffix(".cpg").unlink()
    fields = [(n.encode(codec), 40) for n in names]
    write_dbf(path.with_suffix(".dbf"), fields, [[v.encode(codec)] * len(names) for v in values])
    if cpg is not None:
        path.with_suffix(".cpg").write_text(cpg)
    return path


# --- encodings ------------------------------------------------------------------------------

CN_VALUES = ["湿地公园", "自然保护区", "饮用水水源地"]
GB18030_ONLY = ["𠮷野家", "㐀", "湿地"]  # 𠮷 (U+20BB7) and 㐀 (U+3400) are not in GBK


def test_gbk_dbf_without_cpg_is_detected(tmp_path: Path) -> None:
    path = shapefile_with_text(tmp_path, ["名称"], CN_VALUES, "gbk")
    assert "Ã" in pyogrio.read_dataframe(path).columns[0]  # the stack alone gives mojibake
    gdf = read_layer(path)
    assert list(gdf.columns) == ["名称", "geometry"]
    assert gdf["名称"].tolist() == CN_VALUES
    assert gdf.attrs["redline"]["encoding"] == "GB18030"
    assert gdf.attrs["redline"]["encoding_source"] == "detected"


def test_ansi_936_cpg_is_mapped_to_cp936(tmp_path: Path) -> None:
    path = shapefile_with_text(tmp_path, ["名称"], CN_VALUES, "gbk", cpg="ANSI 936")
    assert pyogrio.read_dataframe(path).iloc[0, 0] != CN_VALUES[0]  # GDAL alone: mojibake
    gdf = read_layer(path)
    assert gdf["名称"].tolist() == CN_VALUES
    assert gdf.attrs["redline"]["encoding"] == "CP936"
    assert gdf.attrs["redline"]["encoding_source"] == ".cpg"


def test_gb18030_only_characters_without_cpg(tmp_path: Path) -> None:
    path = shapefile_with_text(tmp_path, ["名称"], GB18030_ONLY, "gb18030")
    gdf = read_layer(path)
    assert gdf["名称"].tolist() == GB18030_ONLY
    assert gdf.attrs["redline"]["encoding"] == "GB18030"


def test_cpg_that_does_not_decode_falls_back_to_detection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = shapefile_with_text(tmp_path, ["名称"], GB18030_ONLY, "gb18030", cpg="GBK")
    with caplog.at_level(logging.WARNING, logger="redline.io"):
        gdf = read_layer(path)
    assert gdf["名称"].tolist() == GB18030_ONLY
    assert gdf.attrs["redline"]["encoding_source"] == "detected"
    assert "the .cpg says 'GBK', which does not decode" in caplog.text


def test_utf8_cpg_over_gbk_bytes_is_not_trusted(tmp_path: Path) -> None:
    path = shapefile_with_text(tmp_path, ["名称"], CN_VALUES, "gbk", cpg="UTF-8")
    with pytest.raises(UnicodeDecodeError):
        pyogrio.read_dataframe(path)  # the stack crashes on it
    assert read_layer(path)["名称"].tolist() == CN_VALUES


def test_utf8_without_cpg_is_detected(tmp_path: Path) -> None:
    path = shapefile_with_text(tmp_path, ["名称"], CN_VALUES, "utf-8")
    gdf = read_layer(path)
    assert gdf["名称"].tolist() == CN_VALUES
    assert gdf.attrs["redline"]["encoding"] == "UTF-8"


def test_explicit_encoding_is_checked(tmp_path: Path) -> None:
    path = shapefile_with_text(tmp_path, ["名称"], GB18030_ONLY, "gb18030")
    with pytest.raises(LayerError, match=r"layer\.shp: the attribute table is not valid GBK"):
        read_layer(path, encoding="GBK")
    gdf = read_layer(path, encoding="GB18030")
    assert gdf["名称"].tolist() == GB18030_ONLY
    assert gdf.attrs["redline"]["encoding_source"] == "argument"


def test_undecodable_text_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = shapefile_with_text(tmp_path, ["name"], ["café", "crème", "ok"], "latin-1")
    with pytest.raises(
        LayerError, match=r"cannot tell the text encoding.*field b'name'.*encoding="
    ):
        read_layer(path)
    assert read_layer(path, encoding="latin-1")["name"].tolist() == ["café", "crème", "ok"]


# --- damaged shapefiles ---------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "what"), [(".dbf", "attribute table"), (".shx", "index")])
def test_missing_sidecar_is_refused(tmp_path: Path, ext: str, what: str) -> None:
    path = write_shapefile(tmp_path)
    path.with_suffix(ext).unlink()
    with pytest.raises(LayerError, match=rf"layer\.shp: the \{ext} file \({what}\) is missing"):
        read_layer(path)


def test_truncated_shp_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-30])
    assert pyogrio.read_dataframe(path).geometry.isna().sum() == 1  # silently null
    with pytest.raises(
        LayerError,
        match=rf"layer\.shp is truncated or damaged: its header declares {len(data)} bytes "
        rf"but the file has {len(data) - 30}",
    ):
        read_layer(path)


def test_truncated_shp_with_rewritten_header_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path)
    data = bytearray(path.read_bytes()[:-30])
    data[24:28] = struct.pack(">i", len(data) // 2)
    path.write_bytes(data)
    with pytest.raises(LayerError, match=r"1 of 3 records extend past the end .*records 2\)"):
        read_layer(path)


def test_truncated_shx_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path)
    shx = path.with_suffix(".shx")
    shx.write_bytes(shx.read_bytes()[:-8])
    with pytest.raises(LayerError, match=r"layer\.shx is truncated or damaged"):
        read_layer(path)


def test_truncated_dbf_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path)
    dbf = path.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:-5])
    with pytest.raises(LayerError, match=r"layer\.dbf is truncated or damaged: .* 3 records"):
        read_layer(path)


def test_dbf_from_another_shapefile_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path)
    write_dbf(path.with_suffix(".dbf"), [(b"n", 4)], [[b"1"], [b"2"]])
    with pytest.raises(LayerError, match=r"the \.dbf has 2 records but the \.shx has 3"):
        read_layer(path)


def test_garbage_record_is_refused(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path)
    shx = np.frombuffer(path.with_suffix(".shx").read_bytes(), ">i4", offset=100).reshape(-1, 2)
    data = bytearray(path.read_bytes())
    start = int(shx[1, 0]) * 2 + 8
    data[start : start + 4] = struct.pack("<i", 99)  # not a shape type
    path.write_bytes(data)
    assert pyogrio.read_dataframe(path).geometry.isna().tolist() == [False, True, False]
    with pytest.raises(LayerError, match=r"1 records have shape data .* \(records 1\)"):
        read_layer(path)


def test_real_null_shapes_are_kept(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"n": [0, 1]}, geometry=[BOXES[0], None], crs=4490)
    pyogrio.write_dataframe(gdf, tmp_path / "nulls.shp")
    back = read_layer(tmp_path / "nulls.shp")
    assert back.geometry.isna().tolist() == [False, True]


def reverse_rings(path: Path) -> None:
    """Reverse every ring of every polygon record in a .shp, in place (CW ↔ CCW)."""
    shx = np.frombuffer(path.with_suffix(".shx").read_bytes(), ">i4", offset=100).reshape(-1, 2)
    data = bytearray(path.read_bytes())
    for offset in shx[:, 0] * 2 + 8:
        n_parts, n_points = struct.unpack("<ii", data[offset + 36 : offset + 44])
        starts = [*struct.unpack(f"<{n_parts}i", data[offset + 44 : offset + 44 + 4 * n_parts])]
        first = offset + 44 + 4 * n_parts
        points = np.frombuffer(bytes(data[first : first + 16 * n_points]), "<f8").reshape(-1, 2)
        flipped = np.concatenate(
            [points[a:b][::-1] for a, b in zip(starts, [*starts[1:], n_points], strict=True)]
        )
        data[first : first + 16 * n_points] = flipped.tobytes()
    path.write_bytes(data)


def test_counter_clockwise_outer_ring(tmp_path: Path) -> None:
    shell, hole = [(0, 0), (0, 4), (4, 4), (4, 0)], [(1, 1), (2, 1), (2, 2), (1, 2)]
    gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Polygon(shell, [hole])], crs=3857)
    path = tmp_path / "ccw.shp"
    pyogrio.write_dataframe(gdf, path)
    reverse_rings(path)
    raw = pyogrio.read_dataframe(path).geometry[0]
    assert raw.area == -15.0 and not raw.contains(shapely.Point(3, 3))  # the hazard
    geom = read_layer(path).geometry[0]
    assert geom.is_valid
    assert geom.area == 15.0
    assert geom.contains(shapely.Point(3, 3))
    assert not geom.contains(shapely.Point(1.5, 1.5))  # the hole is still a hole
    assert pyogrio.get_gdal_config_option("OGR_ORGANIZE_POLYGONS") is None  # restored


# --- CRS, Z, file names, layers -------------------------------------------------------------


def test_missing_prj_needs_crs(tmp_path: Path) -> None:
    path = write_shapefile(tmp_path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"layer\.shp: the file has no coordinate reference .*crs="):
        read_layer(path)
    assert read_layer(path, crs="EPSG:4490").crs.to_epsg() == 4490


def test_declared_crs_wins_over_argument(tmp_path: Path) -> None:
    assert read_layer(write_shapefile(tmp_path), crs="EPSG:4326").crs.to_epsg() == 4490


def test_z_is_dropped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ring = [(125, 43, 200), (126, 43, 210), (126, 44, 220), (125, 43, 200)]
    gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Polygon(ring)], crs=4490)
    pyogrio.write_dataframe(gdf, tmp_path / "z.gpkg")
    with caplog.at_level(logging.INFO, logger="redline"):
        back = read_layer(tmp_path / "z.gpkg")
    assert not back.has_z.any()
    assert back.geometry[0].equals(shapely.force_2d(gdf.geometry[0]))
    assert "dropped Z/M coordinates of 1 features" in caplog.text


def test_non_utf8_file_name(tmp_path: Path) -> None:
    source = shapefile_with_text(tmp_path, ["名称"], CN_VALUES, "gbk", cpg="CP936")
    stem = "湿地".encode("gbk")
    folder = os.fsencode(tmp_path / "gbk")
    os.mkdir(folder)
    for part in source.parent.glob("layer.*"):
        shutil.copy(part, os.path.join(folder, stem + part.suffix.encode()))
    path = os.fsdecode(os.path.join(folder, stem + b".shp"))
    with pytest.raises(UnicodeEncodeError):
        pyogrio.read_dataframe(path)  # the stack cannot open it
    gdf = read_layer(path)
    assert gdf["名称"].tolist() == CN_VALUES
    assert gdf.attrs["redline"]["path"] == path


def test_layers_of_a_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    for name, n in (("a", 1), ("b", 2)):
        gdf = gpd.GeoDataFrame({"n": range(n)}, geometry=BOXES[:n], crs=4490)
        pyogrio.write_dataframe(gdf, path, layer=name)
    with pytest.raises(LayerError, match=r"two\.gpkg: the file holds 2 layers \(a, b\); pass"):
        read_layer(path)
    with pytest.raises(LayerError, match=r"no layer 'c'; the file holds: a, b"):
        read_layer(path, layer="c")
    gdf = read_layer(path, layer="b")
    assert len(gdf) == 2
    assert gdf.attrs["redline"] == {
        "path": str(path),
        "layer": "b",
        "driver": "GPKG",
        "encoding": "UTF-8",
        "encoding_source": "driver",
    }


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"nowhere\.gpkg: no such file"):
        read_layer(tmp_path / "nowhere.gpkg")
    (tmp_path / "junk.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(LayerError, match=r"junk\.gpkg: not a readable vector file"):
        read_layer(tmp_path / "junk.gpkg")


def test_columns_are_passed_through(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"a": [1], "b": ["x"]}, geometry=BOXES[:1], crs=4490)
    pyogrio.write_dataframe(gdf, tmp_path / "ab.gpkg")
    assert list(read_layer(tmp_path / "ab.gpkg", columns=["b"]).columns) == ["b", "geometry"]


# --- writing --------------------------------------------------------------------------------


@pytest.fixture(params=[".gpkg", ".geojson", ".shp"])
def ext(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sample() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": CN_VALUES, "level": [1, 2, 3], "share": [0.5, 0.25, 1.0]},
        geometry=BOXES,
        crs=4490,
        index=[10, 11, 12],
    )


def test_round_trip(tmp_path: Path, ext: str, sample: gpd.GeoDataFrame) -> None:
    path = write_layer(sample, tmp_path / f"out{ext}")
    assert path == tmp_path / f"out{ext}"
    back = read_layer(path)
    assert list(back.columns) == ["名称", "level", "share", "geometry"]
    assert back["名称"].tolist() == CN_VALUES
    assert back["level"].tolist() == [1, 2, 3]
    assert back["share"].tolist() == [0.5, 0.25, 1.0]
    assert back.crs.to_epsg() == 4490
    assert shapely.equals(np.asarray(back.geometry.values), BOXES).all()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".redline")] == []


def test_round_trip_read_by_fiona(tmp_path: Path, ext: str, sample: gpd.GeoDataFrame) -> None:
    path = write_layer(sample, tmp_path / f"out{ext}")
    with fiona.open(path) as src:
        rows = [(f.properties["名称"], f.properties["level"], f.geometry.type) for f in src]
    assert rows == [(v, i + 1, "Polygon") for i, v in enumerate(CN_VALUES)]


def test_null_and_empty_geometries_survive_geopackage(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"n": [0, 1, 2]}, geometry=[BOXES[0], None, shapely.Polygon()], crs=4490)
    back = read_layer(write_layer(gdf, tmp_path / "ne.gpkg"))
    assert back.geometry.isna().tolist() == [False, True, False]
    assert back.geometry.is_empty.tolist() == [False, False, True]
    with fiona.open(tmp_path / "ne.gpkg") as src:
        assert [f.geometry is None for f in src] == [False, True, False]


def test_datetimes_and_long_names_survive_geopackage(tmp_path: Path) -> None:
    when = pd.to_datetime(["2024-05-01 08:30", "2024-06-01 00:00", None])
    gdf = gpd.GeoDataFrame({"审批日期时间记录": when}, geometry=BOXES, crs=4490)
    back = read_layer(write_layer(gdf, tmp_path / "dt.gpkg"))
    assert back["审批日期时间记录"].tolist()[:2] == when.tolist()[:2]
    assert pd.isna(back["审批日期时间记录"][2])


def test_named_index_is_written(tmp_path: Path, sample: gpd.GeoDataFrame) -> None:
    sites = sample.rename_axis("site_id")
    back = read_layer(write_layer(sites, tmp_path / "sites.gpkg"))
    assert back["site_id"].tolist() == [10, 11, 12]
    plain = read_layer(write_layer(sample.reset_index(drop=True), tmp_path / "plain.gpkg"))
    assert "index" not in plain.columns


def test_mixed_geometry_types_to_shapefile(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"n": [1, 2]}, geometry=[BOXES[0], shapely.LineString([(0, 0), (1, 1)])], crs=4490
    )
    with pytest.raises(LayerError, match=r"(?s)mixed\.shp: .*mix lines, polygons .*write \.gpkg"):
        write_layer(gdf, tmp_path / "mixed.shp")
    assert list(tmp_path.iterdir()) == []
    assert len(read_layer(write_layer(gdf, tmp_path / "mixed.gpkg"))) == 2


def test_unknown_extension(tmp_path: Path, sample: gpd.GeoDataFrame) -> None:
    with pytest.raises(LayerError, match=r"'\.kml'; use one of \.gpkg, \.geojson, \.shp, \.csv"):
        write_layer(sample, tmp_path / "out.kml")


def test_shapefile_preflight_lists_every_problem(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {
            "保护区名称": ["a", "b", "c"],  # 10 bytes in GBK: fits
            "自然保护区名称": ["a", "b", "c"],  # 14 bytes in GBK
            "note": ["x" * 300, "y", "z"],
            "name": ["𠮷", "b", "c"],  # not in GBK
            "when": pd.to_datetime(["2024-01-01"] * 3),
        },
        geometry=BOXES,
        crs=4490,
    )
    with pytest.raises(LayerError, match=r"cannot write without losing data") as info:
        write_layer(gdf, tmp_path / "out.shp", encoding="GBK")
    message = str(info.value)
    assert "保护区名称'" not in message.replace("自然保护区名称", "")
    assert "field name '自然保护区名称' is 14 bytes in GBK" in message
    assert "field 'note': a value is 300 bytes" in message
    assert "field 'name': '𠮷' has characters GBK lacks" in message
    assert "field 'when' holds datetimes" in message
    assert "rename=" in message
    assert list(tmp_path.iterdir()) == []


def test_rename_fits_shapefile(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"自然保护区名称": CN_VALUES}, geometry=BOXES, crs=4490)
    with pytest.raises(LayerError, match=r"'自然保护区名称' is 21 bytes in UTF-8"):
        write_layer(gdf, tmp_path / "out.shp")
    path = write_layer(gdf, tmp_path / "out.shp", rename={"自然保护区名称": "名称"})
    assert read_layer(path)["名称"].tolist() == CN_VALUES
    assert "自然保护区名称" in gdf.columns  # input untouched
    with pytest.raises(LayerError, match=r"rename names columns that do not exist: \['x'\]"):
        write_layer(gdf, tmp_path / "out.shp", rename={"x": "y"})


def test_gbk_shapefile_round_trip(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame({"名称": CN_VALUES}, geometry=BOXES, crs=4490)
    path = write_layer(gdf, tmp_path / "gbk.shp", encoding="GBK")
    assert path.with_suffix(".dbf").read_bytes().count("湿地公园".encode("gbk")) == 1
    back = read_layer(path)
    assert back["名称"].tolist() == CN_VALUES
    assert back.attrs["redline"]["encoding_source"] == ".cpg"


def test_csv(tmp_path: Path, sample: gpd.GeoDataFrame) -> None:
    back = pd.read_csv(write_layer(sample, tmp_path / "out.csv"))
    assert list(back.columns) == ["名称", "level", "share", WKT_COLUMN]
    assert shapely.equals(shapely.from_wkt(back[WKT_COLUMN].to_numpy()), BOXES).all()
    table = pd.DataFrame({"名称": CN_VALUES})
    assert pd.read_csv(write_layer(table, tmp_path / "t.csv")).equals(table)
    with pytest.raises(LayerError, match=r"(?s)'𠮷' has characters GBK lacks.*encoding='UTF-8'"):
        write_layer(pd.DataFrame({"名称": ["𠮷"]}), tmp_path / "g.csv", encoding="GBK")
    with pytest.raises(LayerError, match=r"has no geometry column; write it as \.csv or \.gpkg"):
        write_layer(table, tmp_path / "t.shp")


def test_plain_table_to_geopackage(tmp_path: Path) -> None:
    table = pd.DataFrame({"名称": CN_VALUES, "n": [1, 2, 3]})
    path = write_layer(table, tmp_path / "t.gpkg", layer="summary")
    back = pyogrio.read_dataframe(path, layer="summary", read_geometry=False)
    assert back.equals(table)


def test_second_layer_keeps_the_first(tmp_path: Path, sample: gpd.GeoDataFrame) -> None:
    path = tmp_path / "report.gpkg"
    write_layer(sample, path, layer="sites")
    write_layer(sample.iloc[:1], path, layer="findings")
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["findings", "sites"]
    assert len(read_layer(path, layer="sites")) == 3
    write_layer(sample.iloc[:2], path, layer="sites")  # overwrite one layer
    assert len(read_layer(path, layer="sites")) == 2
    assert len(read_layer(path, layer="findings")) == 1


def test_failed_write_leaves_the_old_file(
    tmp_path: Path, sample: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_layer(sample, tmp_path / "out.shp")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    write = pyogrio.write_dataframe

    def partial(df: gpd.GeoDataFrame, target: Path, **kwargs: object) -> None:
        write(df.iloc[:1], target, **kwargs)  # writes a prefix only

    monkeypatch.setattr(pyogrio, "write_dataframe", partial)
    with pytest.raises(LayerError, match=r"1 rows .* read back, 3 rows .* written. Nothing"):
        write_layer(sample, path)

    def crash(df: gpd.GeoDataFrame, target: Path, **kwargs: object) -> None:
        Path(target).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(pyogrio, "write_dataframe", crash)
    with pytest.raises(OSError, match="disk full"):
        write_layer(sample, path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_overwriting_a_shapefile_removes_stale_sidecars(
    tmp_path: Path, sample: gpd.GeoDataFrame
) -> None:
    path = write_layer(sample, tmp_path / "out.shp")
    path.with_suffix(".qix").write_bytes(b"old spatial index")
    write_layer(sample.iloc[:2], path)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".cpg", ".dbf", ".prj", ".shp", ".shx"]
    assert len(read_layer(path)) == 2


def test_gdal_write_errors_become_layer_errors(
    tmp_path: Path, sample: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise pyogrio.errors.DataSourceError("read-only file system")

    monkeypatch.setattr(pyogrio, "write_dataframe", refuse)
    with pytest.raises(LayerError, match=r"out\.gpkg: GDAL could not write the data: read-only"):
        write_layer(sample, tmp_path / "out.gpkg")
    assert list(tmp_path.iterdir()) == []
