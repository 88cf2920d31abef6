"""Boundary-point coordinate files (界址点坐标 TXT), read and written.

The exchange format of the land-administration electronic submission system (电子报盘), which
CASS and most Chinese surveying software export for 用地预审 / 用地报批 dossiers::

    [属性描述]
    坐标系=2000国家大地坐标系
    几度分带=3
    带号=42
    计量单位=米
    [地块坐标]
    5,1.0000,A-01,某某项目用地,面,,工业用地,0601,@
    J1,1,4861200.000,42512300.000
    ...

Each plot has a header line ending in ``@`` (point count, area in hectares, plot number, name,
geometry kind 点/线/面, map sheet, land use 用途, land-class code 地类编码) followed by its points
``点号,圈号,X,Y``: **X is the northing, Y the easting**, the easting with or without the zone
number as a prefix. Ring 1 is the outer boundary, further ring numbers holes (or further
parts). Nothing is trusted alone: the zone prefix is read from the coordinates and checked
against 带号, rings are nested by containment whatever their numbers and orientation, the
declared area and point count are checked against the geometry.

Problems of the file (unreadable lines, an unknown coordinate system, points before any plot)
raise :class:`~redline.errors.LayerError` naming the file, the line and the fix. Problems of one
plot's geometry (a ring that crosses itself, rings that cross each other, fewer than three
points) leave the file readable: the plot gets the reason in column ``input_problem``
(:data:`redline.schema.INPUT_PROBLEM`), which screening and classification read as
``not_assessed``; a declared area or point count that does not match gets a note in column
``input_warning`` and a :class:`~redline.errors.RedlineWarning`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from redline.errors import CRSError, LayerError, RedlineWarning
from redline.schema import (
    GENERAL_CONSTRUCTION,
    INPUT_PROBLEM,
    INPUT_WARNING,
    PROJECT_TYPE_ALIASES,
    PROJECT_TYPES,
)

__all__ = [
    "LAND_USE_PROJECT_TYPES",
    "boundary_point_crs",
    "decode_text",
    "is_boundary_point_file",
    "read_boundary_points",
    "write_boundary_points",
]

#: Relative difference between declared and computed area above which a plot is reported.
AREA_TOLERANCE = 0.005

#: Declared land use (地块用途, words of 《土地利用现状分类》 and of dossiers) → redline project
#: type. A use not listed keeps its text in ``land_use`` and no project type: general
#: construction, the strictest reading.
LAND_USE_PROJECT_TYPES: Mapping[str, str] = {
    "住宅用地": "residential", "城镇住宅用地": "residential", "农村宅基地": "residential",
    "城镇住宅": "residential", "住宅": "residential",
    "工业用地": "industrial", "工业": "industrial", "仓储用地": "industrial",
    "物流仓储用地": "industrial", "工矿仓储用地": "industrial",
    "商业用地": "commercial", "商服用地": "commercial", "商业服务业用地": "commercial",
    "商业服务业设施用地": "commercial", "商务金融用地": "commercial",
    "零售商业用地": "commercial", "批发市场用地": "commercial", "餐饮用地": "commercial",
    "旅馆用地": "commercial",
    "商住用地": "commercial",
    "风景名胜设施用地": "tourism", "旅游用地": "tourism",
    "交通运输用地": "linear_infrastructure", "公路用地": "linear_infrastructure",
    "铁路用地": "linear_infrastructure", "轨道交通用地": "linear_infrastructure",
    "管道运输用地": "linear_infrastructure", "城镇村道路用地": "linear_infrastructure",
    "水工建筑用地": "water_infrastructure", "水利设施用地": "water_infrastructure",
    "水域及水利设施用地": "water_infrastructure",
    "采矿用地": "mining", "盐田": "mining",
    "设施农用地": "agriculture", "农业设施建设用地": "agriculture",
    "公共管理与公共服务用地": "public_service", "公共设施用地": "public_service",
    "机关团体用地": "public_service", "科教用地": "public_service",
    "医卫慈善用地": "public_service", "文体娱乐用地": "public_service",
    "公用设施用地": "public_service",
    "科研用地": "research_monitoring",
    "能源设施用地": "energy", "供电用地": "energy",
}

_ATTRIBUTES, _PLOTS = "[属性描述]", "[地块坐标]"
_KINDS = {"面": "polygon", "线": "line", "点": "point"}
#: (datum, 3° or 6°, prefix) → EPSG code of the first zone or central meridian, and that
#: zone / meridian. Codes run consecutively (checked against pyproj in the tests).
_EPSG_BASES: Mapping[tuple[str, int, bool], tuple[int, int]] = {
    ("CGCS2000", 3, True): (4513, 25), ("CGCS2000", 3, False): (4534, 75),
    ("CGCS2000", 6, True): (4491, 13), ("CGCS2000", 6, False): (4502, 75),
    ("Xian 1980", 3, True): (2349, 25), ("Xian 1980", 3, False): (2370, 75),
    ("Xian 1980", 6, True): (2327, 13), ("Xian 1980", 6, False): (2338, 75),
    ("Beijing 1954", 3, True): (2401, 25), ("Beijing 1954", 3, False): (2422, 75),
    ("Beijing 1954", 6, True): (21413, 13), ("Beijing 1954", 6, False): (21453, 75),
}
_DATUM_WORDS = (
    ("CGCS2000", ("2000", "CGCS")),
    ("Xian 1980", ("西安", "1980", "80", "XIAN")),
    ("Beijing 1954", ("北京", "1954", "54", "BEIJING")),
)
_DATUM_LABELS = {"CGCS2000": "2000国家大地坐标系", "Xian 1980": "1980西安坐标系",
                 "Beijing 1954": "1954北京坐标系"}
_SNIFF_BYTES = 4096


def is_boundary_point_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a boundary-point coordinate file, judged by its content.

    Parameters
    ----------
    path
        Any file.

    Returns
    -------
    bool
        ``True`` when the start of the file holds a ``[属性描述]`` or ``[地块坐标]`` section
        (in GBK, GB18030 or UTF-8).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "site.dat"
    >>> _ = path.write_bytes("[地块坐标]\\n".encode("gbk"))
    >>> is_boundary_point_file(path)
    True
    """
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError:
        return False
    for codec in ("utf-8-sig", "gb18030"):
        text = head.decode(codec, errors="ignore")
        if _ATTRIBUTES in text or _PLOTS in text:
            return True
    return False


def boundary_point_crs(datum: str, *, zone_width: int, zone: int, prefix: bool) -> CRS:
    """The EPSG CRS of Gauss-Krüger coordinates in a boundary-point file.

    Parameters
    ----------
    datum
        ``"CGCS2000"``, ``"Xian 1980"`` or ``"Beijing 1954"``.
    zone_width
        3 or 6 (几度分带).
    zone
        The zone number (带号).
    prefix
        Whether the eastings carry the zone number (``42512345.6`` rather than ``512345.6``).

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        A zone the datum has no Gauss-Krüger CRS for.

    Examples
    --------
    >>> boundary_point_crs("CGCS2000", zone_width=3, zone=42, prefix=True).to_epsg()
    4530
    >>> boundary_point_crs("CGCS2000", zone_width=3, zone=42, prefix=False).to_epsg()
    4551
    >>> boundary_point_crs("Xian 1980", zone_width=3, zone=42, prefix=True).name
    'Xian 1980 / 3-degree Gauss-Kruger zone 42'
    """
    base, first = _EPSG_BASES[(datum, zone_width, prefix)]
    if prefix:
        offset, last = zone - first, (45 if zone_width == 3 else 23) - first
    else:  # numbered by central meridian: 3 × zone (3°) or 6 × zone − 3 (6°)
        meridian = 3 * zone if zone_width == 3 else 6 * zone - 3
        offset = (meridian - first) // zone_width
        last = (135 - first) // zone_width
    if not 0 <= offset <= last:
        raise CRSError(f"there is no {datum} {zone_width}° Gauss-Krüger CRS for zone {zone}")
    return CRS.from_epsg(base + offset)


@dataclass
class _Plot:
    line: int
    header: list[str]
    points: list[tuple[int, str, float, float]] = field(default_factory=list)  # line, ring, x, y


def read_boundary_points(
    path: str | os.PathLike[str], *, crs: object | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read a boundary-point coordinate file (界址点坐标 TXT) into sites.

    Parameters
    ----------
    path
        The file (any extension: the content decides).
    crs
        CRS to assume when the file does not say (no ``坐标系`` or no ``带号`` for eastings
        without the zone prefix). Ignored when the file says.
    encoding
        Text encoding; by default detected (a UTF-8 byte-order mark, strict UTF-8, then
        GB18030, which reads GBK).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per plot in the file's Gauss-Krüger CRS: ``site_id`` (地块编号, else the plot's
        position), ``name``, ``project_type`` (from 用途 by :data:`LAND_USE_PROJECT_TYPES`,
        else empty), ``land_use``, ``land_class``, ``sheet``, ``declared_area_ha``,
        ``declared_points``, ``area_ha`` (computed), ``input_warning``, ``input_problem``,
        ``line`` (of the plot's header) and the geometry.
        ``attrs["redline"]`` holds ``path``, ``driver`` (``"boundary points"``), ``encoding``,
        ``encoding_source`` and ``zone_prefix``.

    Raises
    ------
    LayerError
        A line that cannot be read, points before any plot, a plot number used twice, eastings
        mixing zone prefixes, an unknown coordinate system or unit (file, line and fix).
    CRSError
        The file does not say its coordinate system and ``crs`` is not given.

    Warns
    -----
    RedlineWarning
        Declared area or point count off (each plot noted in ``input_warning``), a plot not
        assessable, 带号 disagreeing with the eastings' prefix, Xi'an 1980 or Beijing 1954
        coordinates (converted with a ballpark offset only).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> text = '''[属性描述]
    ... 坐标系=2000国家大地坐标系
    ... 几度分带=3
    ... 带号=42
    ... [地块坐标]
    ... 5,1.0000,A-01,某某项目用地,面,,工业用地,0601,@
    ... J1,1,4861200.000,42512300.000
    ... J2,1,4861300.000,42512300.000
    ... J3,1,4861300.000,42512400.000
    ... J4,1,4861200.000,42512400.000
    ... J1,1,4861200.000,42512300.000
    ... '''
    >>> path = Path(tempfile.mkdtemp()) / "site.txt"
    >>> _ = path.write_bytes(text.encode("gbk"))
    >>> sites = read_boundary_points(path)
    >>> sites.crs.to_epsg(), sites.attrs["redline"]["encoding"]
    (4530, 'GB18030')
    >>> sites[["site_id", "name", "project_type", "area_ha"]]
      site_id    name project_type  area_ha
    0    A-01  某某项目用地   industrial      1.0
    """
    path = Path(path)
    text, codec, codec_source = decode_text(path, encoding)
    settings, plots = _parse(text, path)
    if not plots:
        raise LayerError(f"{path}: no plot ([地块坐标] header line ending in '@' followed by "
                         "point lines 点号,圈号,X,Y); the file holds no site")
    prefix, zone_from_y = _zone_prefix(plots, path)
    file_crs = _file_crs(settings, prefix=prefix, zone_from_y=zone_from_y, path=path)
    if file_crs is None:
        if crs is None:
            raise CRSError(
                f"{path}: the file does not say its coordinate system (坐标系, 带号). Add "
                "坐标系=2000国家大地坐标系, 几度分带=3 and 带号=<zone> under [属性描述], or pass "
                "--crs EPSG:<code> on the command line (crs= in Python)."
            )
        file_crs = CRS.from_user_input(crs)
    rows = [_plot_row(plot, k, path) for k, plot in enumerate(plots, start=1)]
    sites = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=file_crs)
    _check_ids(sites, path)
    noted = sites[INPUT_WARNING].notna() | sites[INPUT_PROBLEM].notna()
    if noted.any():
        notes = [f"plot {row.site_id} (line {row.line}): "
                 f"{'; '.join(v for v in (row.input_problem, row.input_warning) if v)}"
                 for row in sites[noted].itertuples()]
        warnings.warn(f"{path}: {int(noted.sum())} of {len(sites)} plots do not check out: "
                      + " | ".join(notes[:5]) + (" ..." if len(notes) > 5 else ""),
                      RedlineWarning, stacklevel=2)
    sites.attrs["redline"] = {"path": str(path), "layer": None, "driver": "boundary points",
                              "encoding": codec, "encoding_source": codec_source,
                              "zone_prefix": prefix}
    return sites


def write_boundary_points(
    sites: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    crs: object | None = None,
    encoding: str = "GBK",
) -> Path:
    """Write sites as a boundary-point coordinate file (界址点坐标 TXT), atomically.

    Parameters
    ----------
    sites
        Polygons (written as 面; holes and further parts as rings 2, 3, …), lines (线) or
        points (点), with optional ``site_id``, ``name``, ``land_use`` (else the Chinese name
        of ``project_type``), ``land_class`` and ``sheet``. Null or empty geometries are
        refused.
    path
        Target file.
    crs
        A CGCS2000, Xi'an 1980 or Beijing 1954 Gauss-Krüger CRS (with or without the zone
        prefix). Default: the sites' own CRS when it is one, else the CGCS2000 3° zone with
        prefix that holds the sites' centre.
    encoding
        ``"GBK"`` (what most dossier systems read) or ``"UTF-8"``.

    Returns
    -------
    pathlib.Path
        The written file, read back and compared with ``sites`` before it replaced ``path``.

    Raises
    ------
    LayerError
        Null or empty geometries, text the encoding cannot hold, a CRS the format cannot name.

    Examples
    --------
    >>> import tempfile
    >>> site = gpd.GeoDataFrame({"site_id": ["A-01"], "name": ["某某项目用地"]},
    ...     geometry=[shapely.box(42512300, 4861200, 42512400, 4861300)], crs=4530)
    >>> path = write_boundary_points(site, Path(tempfile.mkdtemp()) / "site.txt")
    >>> print(path.read_text(encoding="gbk").split("[地块坐标]")[1].strip())
    5,1.0000,A-01,某某项目用地,面,,,,@
    J1,1,4861200.000,42512400.000
    J2,1,4861200.000,42512300.000
    J3,1,4861300.000,42512300.000
    J4,1,4861300.000,42512400.000
    J1,1,4861200.000,42512400.000
    """
    path = Path(path)
    if sites.crs is None and crs is None:
        raise CRSError(f"{path}: the sites have no CRS; set one before writing them")
    target = CRS.from_user_input(crs) if crs is not None else _writable_crs(sites)
    datum, zone_width, zone, _prefix = _describe_gk(target, path)
    data = sites.to_crs(target)
    geoms = np.asarray(data.geometry.values)
    bad = np.flatnonzero(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if bad.size:
        raise LayerError(f"{path}: {bad.size} sites have no geometry (rows {bad[:10].tolist()}); "
                         "a boundary-point file needs every plot's points")
    lines = [_ATTRIBUTES, "格式版本号=1.01", "数据产生单位=redline",
             f"数据产生日期={dt.date.today():%Y-%m-%d}", f"坐标系={_DATUM_LABELS[datum]}",
             f"几度分带={zone_width}", "投影类型=高斯克吕格", "计量单位=米", f"带号={zone}",
             "精度=0.001", "转换参数=,,,,,,", _PLOTS]
    types = data["project_type"] if "project_type" in data else pd.Series(None, index=data.index)
    for k, (row, geom, ptype) in enumerate(zip(data.itertuples(), geoms, types, strict=True), 1):
        site_id = _text(getattr(row, "site_id", None)) or str(k)
        land_use = _text(getattr(row, "land_use", None)) or _land_use(_text(ptype))
        points = _geometry_points(geom)
        kind = {2: "面", 1: "线", 0: "点"}[int(shapely.get_dimensions(geom))]
        area = shapely.area(geom) / 1e4
        header = [str(len(points)), f"{area:.4f}", site_id, _text(getattr(row, "name", None)),
                  kind, _text(getattr(row, "sheet", None)), land_use,
                  _text(getattr(row, "land_class", None)), "@"]
        lines.append(",".join(field.replace(",", "，") for field in header))
        for label, ring, x, y in points:  # X northing, Y easting (with the prefix if the CRS has)
            lines.append(f"{label},{ring},{y:.3f},{x:.3f}")
    try:
        payload = ("\r\n".join(lines) + "\r\n").encode(encoding)
    except UnicodeEncodeError as exc:
        raise LayerError(f"{path}: {exc.object[exc.start:exc.end]!r} cannot be written in "
                         f"{encoding}; pass encoding='UTF-8'") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=".redline-", suffix=".txt", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RedlineWarning)  # the source's own notes
            back = read_boundary_points(tmp, encoding=encoding)
        # coordinates are written to the millimetre: areas agree within perimeter × 1 mm
        slack = shapely.length(geoms) * 1e-3 + 1e-9 * shapely.area(geoms)
        if len(back) != len(data) or (np.abs(back.area.to_numpy() - shapely.area(geoms))
                                      > slack).any():
            raise LayerError(f"{path}: the written file does not read back as the sites "
                             f"({len(back)} plots of {len(data)}, or other areas); nothing "
                             "was replaced")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# -- reading ---------------------------------------------------------------------------------
def decode_text(
    path: str | os.PathLike[str], encoding: str | None = None
) -> tuple[str, str, str]:
    """A text file's content in the encoding given or detected, as DBF text is detected.

    Parameters
    ----------
    path
        The file.
    encoding
        Its encoding; ``None`` detects it: a UTF-8 byte-order mark, strict UTF-8, then strict
        GB18030 (a superset of GBK and GB2312, Excel's CSV default on Chinese Windows).

    Returns
    -------
    tuple of (str, str, str)
        The text (without a byte-order mark), the codec and where it came from
        (``"argument"``, ``"byte-order mark"`` or ``"detected"``).

    Raises
    ------
    LayerError
        The file cannot be read, or is not text in the given or any detected encoding.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = path.write_bytes("名称\\n".encode("gbk"))
    >>> decode_text(path)
    ('名称\\n', 'GB18030', 'detected')
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LayerError(f"{path}: cannot be read: {exc}") from exc
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding, "argument"
        except (LookupError, UnicodeDecodeError) as exc:
            raise LayerError(f"{path}: not readable as {encoding} ({exc}); leave the encoding "
                             "out to detect it") from exc
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "UTF-8", "byte-order mark"
    for codec in ("UTF-8", "GB18030"):
        try:
            return raw.decode(codec), codec, "detected"
        except UnicodeDecodeError:
            continue
    raise LayerError(f"{path}: the text is neither UTF-8 nor GBK/GB18030; re-save it in one of "
                     "them or pass the encoding (--encoding on the command line)")


def _parse(text: str, path: Path) -> tuple[dict[str, tuple[int, str]], list[_Plot]]:
    """The ``[属性描述]`` settings (key → line, value) and the plots with their points."""
    settings: dict[str, tuple[int, str]] = {}
    plots: list[_Plot] = []
    section = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            if line not in (_ATTRIBUTES, _PLOTS):
                raise _line_error(path, number, f"unknown section {line}",
                                  f"the format has {_ATTRIBUTES} and {_PLOTS} only")
            section = line
            continue
        if section == _ATTRIBUTES:
            key, sep, value = line.partition("=")
            if not sep:
                raise _line_error(path, number, f"{line!r} is not key=value",
                                  "write it as 坐标系=2000国家大地坐标系 or remove it")
            settings[key.strip()] = (number, value.strip())
        elif section == _PLOTS:
            fields = [f.strip() for f in re.split(r"[,，]", line)]
            if fields[-1] == "@" or line.endswith("@"):
                plots.append(_Plot(number, fields[:-1] if fields[-1] == "@" else fields))
            elif not plots:
                raise _line_error(path, number, "a point before any plot header",
                                  "start each plot with its header line ending in ',@'")
            else:
                plots[-1].points.append(_point(fields, number, path))
        else:
            raise _line_error(path, number, "text before the first section",
                              f"start the file with {_ATTRIBUTES} or {_PLOTS}")
    return settings, plots


def _point(fields: list[str], number: int, path: Path) -> tuple[int, str, float, float]:
    if len(fields) < 4:
        raise _line_error(path, number, f"a point line needs 点号,圈号,X,Y; it has {len(fields)} "
                          "fields", "complete the line (X northing, Y easting, metres)")
    try:
        x, y = float(fields[2]), float(fields[3])
    except ValueError:
        raise _line_error(path, number, f"X={fields[2]!r}, Y={fields[3]!r} are not numbers",
                          "write the coordinates in metres with a decimal point") from None
    if not (np.isfinite(x) and np.isfinite(y)):
        raise _line_error(path, number, "a coordinate is not finite", "write it in metres")
    return number, fields[1] or "1", x, y


def _line_error(path: Path, number: int, what: str, fix: str) -> LayerError:
    return LayerError(f"{path}, line {number}: {what}; {fix}")


def _zone_prefix(plots: list[_Plot], path: Path) -> tuple[bool, int | None]:
    """Whether the eastings carry the zone number, and that zone (the same on every point)."""
    lines = np.array([p[0] for plot in plots for p in plot.points])
    eastings = np.array([p[3] for plot in plots for p in plot.points])
    if not eastings.size:
        return False, None
    prefixed = eastings >= 1e7
    if prefixed.any() and not prefixed.all():
        first = int(lines[prefixed != prefixed[0]][0])
        raise _line_error(path, first, "eastings mix values with and without the zone prefix "
                          f"(line {int(lines[0])} has {eastings[0]:.3f})",
                          "write every Y with the zone number in front (8 integer digits) or "
                          "none (6)")
    if not prefixed[0]:
        return False, None
    zones = (eastings // 1e6).astype(int)
    if (zones != zones[0]).any():
        first = int(lines[zones != zones[0]][0])
        raise _line_error(path, first, f"the eastings' zone prefixes differ ({zones[0]} and "
                          f"{zones[zones != zones[0]][0]})", "a file holds one zone: split it")
    return True, int(zones[0])


def _file_crs(settings: dict[str, tuple[int, str]], *, prefix: bool, zone_from_y: int | None,
              path: Path) -> CRS | None:
    """The CRS the file declares (``None`` when it says too little), checked."""
    unit = settings.get("计量单位")
    if unit and unit[1] not in ("米", "m", "M", "metre", "meter"):
        raise _line_error(path, unit[0], f"计量单位={unit[1]}: redline reads coordinates in "
                          "metres", "convert the coordinates to metres (计量单位=米)")
    system = settings.get("坐标系")
    if system is None or not system[1]:
        return None
    datum = next((d for d, words in _DATUM_WORDS
                  if any(w in system[1].upper() for w in words)), None)
    if datum is None:
        raise _line_error(path, system[0], f"unknown 坐标系 {system[1]!r}",
                          "write 2000国家大地坐标系, 1980西安坐标系 or 1954北京坐标系")
    width_entry = settings.get("几度分带")
    zone_entry = settings.get("带号")
    declared_zone = None
    if zone_entry and zone_entry[1]:
        try:
            declared_zone = int(float(zone_entry[1]))
        except ValueError:
            raise _line_error(path, zone_entry[0], f"带号={zone_entry[1]!r} is not a number",
                              "write the zone number, e.g. 带号=42") from None
    zone = zone_from_y if zone_from_y is not None else declared_zone
    if zone is None:
        return None
    if zone_from_y is not None and declared_zone is not None and declared_zone != zone_from_y:
        warnings.warn(f"{path}, line {zone_entry[0] if zone_entry else '?'}: 带号={declared_zone} "
                      f"but the eastings carry zone {zone_from_y}; zone {zone_from_y} is used "
                      "(what the coordinates say): correct 带号", RedlineWarning, stacklevel=4)
    if width_entry and width_entry[1]:
        try:
            width = int(float(width_entry[1]))
        except ValueError:
            width = 0
        if width not in (3, 6):
            raise _line_error(path, width_entry[0], f"几度分带={width_entry[1]!r}",
                              "write 几度分带=3 or 几度分带=6")
    else:
        width = 3 if zone >= 24 else 6  # 3° zones in China are 25–45, 6° zones 13–23
    try:
        found = boundary_point_crs(datum, zone_width=width, zone=zone, prefix=prefix)
    except CRSError as exc:
        where = zone_entry[0] if zone_entry else system[0]
        raise _line_error(path, where, str(exc), "check 带号 and 几度分带") from None
    if datum != "CGCS2000":
        warnings.warn(f"{path}: {datum} coordinates are converted to CGCS2000 by PROJ with a "
                      "ballpark offset only (no official datum-shift parameters are bundled): "
                      "positions can be off by tens of metres; convert the file to CGCS2000 "
                      "with the bureau's parameters before relying on a result near a boundary",
                      RedlineWarning, stacklevel=4)
    return found


def _plot_row(plot: _Plot, position: int, path: Path) -> dict[str, object]:
    header = plot.header + [""] * (8 - len(plot.header))
    count, area, number, name, kind_text, sheet, land_use, land_class = header[:8]
    land_use = land_use.strip()
    kind = _KINDS.get(kind_text.strip() or "面")
    if kind is None:
        raise _line_error(path, plot.line, f"记录图形属性 {kind_text!r}", "write 面, 线 or 点")
    declared_area = _number(area, path, plot.line, "地块面积 (hectares)")
    declared_points = _number(count, path, plot.line, "界址点数")
    geometry, problem, points = _plot_geometry(plot, kind)
    notes = []
    area_ha = float(shapely.area(geometry)) / 1e4 if geometry is not None else np.nan
    if kind == "polygon" and declared_area and problem is None:
        off = area_ha / declared_area - 1
        if abs(off) > AREA_TOLERANCE:
            notes.append(f"declared area {declared_area:.4f} ha, the boundary encloses "
                         f"{area_ha:.4f} ha ({off:+.2%})")
    if declared_points is not None and declared_points not in points:
        notes.append(f"declared {declared_points:g} points, the plot lists {points[0]}")
    if not plot.points:
        problem = "the plot has no points"
    return {
        "site_id": number or str(position),
        "name": name or None,
        "project_type": LAND_USE_PROJECT_TYPES.get(land_use),
        "land_use": land_use or None,
        "land_class": land_class or None,
        "sheet": sheet or None,
        "declared_area_ha": declared_area,
        "declared_points": declared_points,
        "area_ha": round(area_ha, 6),
        INPUT_WARNING: "; ".join(notes) or None,
        INPUT_PROBLEM: problem,
        "line": plot.line,
        "geometry": geometry,
    }


def _number(text: str, path: Path, line: int, what: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise _line_error(path, line, f"{what} {text!r} is not a number",
                          "write a number or leave the field empty") from None


def _plot_geometry(
    plot: _Plot, kind: str
) -> tuple[shapely.Geometry | None, str | None, tuple[int, ...]]:
    """The plot's geometry, the reason it cannot be assessed (or ``None``), and the point
    counts the header may declare (with and without the closing repeats)."""
    rings: list[tuple[str, list[tuple[float, float]]]] = []
    for _line, ring, x, y in plot.points:  # a new ring where the ring number changes
        if not rings or rings[-1][0] != ring:
            rings.append((ring, []))
        rings[-1][1].append((y, x))  # easting, northing
    arrays = [(ring, np.asarray(pts, dtype=float)) for ring, pts in rings]
    closing = sum(1 for _, a in arrays if len(a) > 1 and (a[0] == a[-1]).all())
    total = len(plot.points)
    counts = (total, total - closing, total + len(arrays) - closing)
    if not arrays:
        return None, "the plot has no points", counts
    if kind == "point":
        return shapely.multipoints(np.vstack([a for _, a in arrays])), None, counts
    if kind == "line":
        lines = [shapely.linestrings(a) for _, a in arrays if len(a) >= 2]
        geom = lines[0] if len(lines) == 1 else shapely.multilinestrings(lines)
        return geom, None if lines else "a line needs two points", counts
    polygons = []
    for ring, coords in arrays:
        if len(coords) > 1 and (coords[0] == coords[-1]).all():
            coords = coords[:-1]
        if len(np.unique(coords, axis=0)) < 3:
            return (shapely.multipoints(coords) if len(coords) else None,
                    f"ring {ring} has fewer than 3 distinct points", counts)
        polygon = shapely.Polygon(coords)
        if not polygon.is_valid:
            return (polygon, f"ring {ring} is not a valid polygon "
                    f"({shapely.is_valid_reason(polygon)})", counts)
        polygons.append((ring, polygon))
    return (*_nest(polygons), counts)


def _nest(rings: list[tuple[str, shapely.Polygon]]) -> tuple[shapely.Geometry, str | None]:
    """Outer rings and holes by containment (largest first), whatever their numbers say."""
    shells: list[tuple[shapely.Polygon, list[shapely.Polygon]]] = []
    for ring, polygon in sorted(rings, key=lambda r: -r[1].area):
        for shell, holes in shells:
            if shell.contains(polygon):
                if any(hole.intersects(polygon) for hole in holes):
                    return shell, f"ring {ring} overlaps another hole of its outer ring"
                holes.append(polygon)
                break
            if shell.intersects(polygon) and not shell.touches(polygon):
                return shell, f"ring {ring} crosses another ring of the plot"
        else:
            shells.append((polygon, []))
    parts = [shapely.Polygon(shell.exterior, [h.exterior for h in holes])
             for shell, holes in shells]
    geom = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    geom = shapely.orient_polygons(geom)
    if not geom.is_valid:
        return geom, f"the rings do not form a valid polygon ({shapely.is_valid_reason(geom)})"
    return geom, None


def _check_ids(sites: gpd.GeoDataFrame, path: Path) -> None:
    dup = sites["site_id"].duplicated(keep=False)
    if dup.any():
        first = sites[dup].iloc[0]
        lines = sites.loc[sites["site_id"] == first["site_id"], "line"].tolist()
        raise LayerError(f"{path}, line {lines[1]}: plot number {first['site_id']!r} is used "
                         f"again (lines {', '.join(map(str, lines))}); give each plot its own "
                         "地块编号")


# -- writing ---------------------------------------------------------------------------------
def _writable_crs(sites: gpd.GeoDataFrame) -> CRS:
    """The sites' CRS when the format can name it, else the CGCS2000 3° zone (with prefix)
    of their centre."""
    own = CRS.from_user_input(sites.crs)
    if _gk_entry(own.to_epsg()) is not None:
        return own
    lon = float(sites.to_crs(4490).geometry.union_all().centroid.x)
    return boundary_point_crs("CGCS2000", zone_width=3, zone=round(lon / 3), prefix=True)


def _gk_entry(epsg: int | None) -> tuple[str, int, int, bool] | None:
    """Datum, zone width, zone number and prefix of one of the format's EPSG codes."""
    for (datum, width, prefix), (base, first) in _EPSG_BASES.items():
        offset = -1 if epsg is None else epsg - base
        if 0 <= offset < (21 if width == 3 else 11):  # zones 25–45 / 13–23, CM 75°–135°E
            if prefix:
                return datum, width, first + offset, prefix
            meridian = first + offset * width
            return datum, width, meridian // 3 if width == 3 else (meridian + 3) // 6, prefix
    return None


def _describe_gk(target: CRS, path: Path) -> tuple[str, int, int, bool]:
    found = _gk_entry(target.to_epsg())
    if found is None:
        raise LayerError(f"{path}: a boundary-point file holds CGCS2000, Xi'an 1980 or Beijing "
                         f"1954 Gauss-Krüger coordinates, not {target.name}; pass "
                         "crs='EPSG:4530' (or the zone of the sites)")
    return found


def _geometry_points(geom: shapely.Geometry) -> list[tuple[str, int, float, float]]:
    """Labelled points (J1, J2, …; a ring's closing point repeats its first label) with their
    ring number, easting and northing."""
    parts = shapely.get_parts(geom)
    rings: list[np.ndarray] = []
    for part in parts:
        if part.geom_type == "Polygon":
            oriented = shapely.orient_polygons(part, exterior_cw=True)
            rings.append(shapely.get_coordinates(oriented.exterior))
            rings.extend(shapely.get_coordinates(r) for r in oriented.interiors)
        else:
            rings.append(shapely.get_coordinates(part))
    out, label = [], 0
    for number, coords in enumerate(rings, start=1):
        closed = len(coords) > 2 and (coords[0] == coords[-1]).all()
        first = label + 1
        for i, (x, y) in enumerate(coords):
            if closed and i == len(coords) - 1:
                out.append((f"J{first}", number, float(x), float(y)))
            else:
                label += 1
                out.append((f"J{label}", number, float(x), float(y)))
    return out


def _land_use(project_type: str) -> str:
    """The Chinese words for a project type (canonical or already Chinese), for 地块用途."""
    if project_type in PROJECT_TYPES and project_type != GENERAL_CONSTRUCTION:
        return PROJECT_TYPES[project_type]
    return project_type if project_type in PROJECT_TYPE_ALIASES else ""


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()
