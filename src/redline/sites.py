"""Sites files in, sites files out: one reading path for every format a planner holds.

:func:`read_sites` reads GeoPackage, Shapefile, GeoJSON (through :func:`redline.io.read_layer`
and its checks), CSV and Excel tables (a WKT column, or longitude/latitude or x/y columns) and
boundary-point coordinate files (界址点坐标 TXT, :mod:`redline.boundary_points`, recognised by
content). Whatever the format, the site fields come out under their canonical names
(``site_id``, ``name``, ``project_type``): found by the built-in aliases of
:data:`redline.schema.SITE_FIELD_ALIASES` (项目编号, 项目名称, 项目类型, 用途 …) or mapped by the
caller (``fields=``, ``--fields site_id=编码``, a manifest's ``[sites.fields]``). A file with no
id or no type column is read with a warning naming its columns: sites would be numbered by row
and screened as general construction, which changes verdicts.

The command line and Python read through the same functions (:func:`read_sites`, and
:func:`iter_sites` for a batch read in chunks).
"""

from __future__ import annotations

import io
import logging
import os
import tomllib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from redline import schema
from redline.boundary_points import (
    decode_text,
    is_boundary_point_file,
    read_boundary_points,
    write_boundary_points,
)
from redline.crs import guess_crs
from redline.errors import CRSError, LayerError, RedlineWarning
from redline.io import iter_layer_chunks, read_layer, write_layer

__all__ = [
    "COORDINATE_COLUMNS",
    "WKT_COLUMNS",
    "canonical_site_fields",
    "iter_sites",
    "manifest_fields",
    "parse_fields",
    "read_features",
    "read_sites",
    "write_sites",
]

log = logging.getLogger(__name__)

#: Column names (case-insensitive) a CSV or Excel table may hold its geometry in, as WKT.
WKT_COLUMNS = ("wkt", "geometry_wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape",
               "几何", "图形")
#: Pairs of columns (easting or longitude first; case-insensitive) that make point sites.
COORDINATE_COLUMNS = (
    ("lon", "lat"), ("lng", "lat"), ("longitude", "latitude"), ("经度", "纬度"),
    ("x", "y"), ("easting", "northing"), ("东坐标", "北坐标"),
)
_TABLES = (".csv", ".tsv", ".txt")
_EXCEL = (".xlsx", ".xlsm")


def read_sites(
    path: str | os.PathLike[str],
    *,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Read a sites file of any format redline accepts, with its site fields named canonically.

    Parameters
    ----------
    path
        GeoPackage, Shapefile, GeoJSON (any vector format GDAL reads), CSV / TSV, Excel
        (``.xlsx``) or a boundary-point coordinate file (界址点坐标 TXT, by content).
    crs
        CRS to assume when the file declares none (CSV, Excel, a Shapefile without ``.prj``).
    encoding
        Text encoding; by default detected (Shapefile ``.cpg`` and DBF bytes; for text files a
        UTF-8 byte-order mark, strict UTF-8, then GB18030, which reads GBK).
    layer
        Layer inside a GeoPackage, or sheet of an Excel workbook.
    fields
        Canonical site field → the file's column, e.g. ``{"site_id": "编码"}``, for columns
        the built-in aliases do not know. Given fields win over aliases.

    Returns
    -------
    geopandas.GeoDataFrame
        The sites in the file's CRS; ``site_id``, ``name`` and ``project_type`` under those
        names where the file has them; ``attrs["redline"]`` with the provenance (``path``,
        ``driver``, ``encoding`` …) and ``site_fields`` (canonical field → source column).

    Raises
    ------
    LayerError
        An unreadable file (naming the line or feature and the fix), a table without geometry
        columns, a ``fields`` entry naming an unknown field or a missing column.
    CRSError
        No CRS in the file and none given: the message says which CRS the coordinates fit.

    Warns
    -----
    RedlineWarning
        No id column or no project-type column found (the columns are listed), and the notes
        of a boundary-point file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "sites.csv"
    >>> _ = path.write_bytes("项目编号,项目名称,项目类型,经度,纬度\\n"
    ...                      "A-1,光明小区,住宅,125.30,43.80\\n".encode("gbk"))
    >>> sites = read_sites(path, crs="EPSG:4490")
    >>> sites[["site_id", "name", "project_type"]]
      site_id  name project_type
    0     A-1  光明小区           住宅
    >>> sites.attrs["redline"]["encoding"], sites.geometry.iloc[0].wkt
    ('GB18030', 'POINT (125.3 43.8)')
    """
    gdf = read_features(path, crs=crs, encoding=encoding, layer=layer)
    return _canonical(gdf, fields, source=Path(path))


def read_features(
    path: str | os.PathLike[str],
    *,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read features (sites, parcels) from any file :func:`read_sites` reads, columns as they
    are.

    Parameters
    ----------
    path, crs, encoding, layer
        As for :func:`read_sites`.

    Returns
    -------
    geopandas.GeoDataFrame
        The features in the file's CRS, with ``attrs["redline"]`` (the provenance).

    Raises
    ------
    LayerError, CRSError
        As for :func:`read_sites`.

    Examples
    --------
    >>> from redline import datasets
    >>> parcels = read_features(datasets.get_path("parcels"))
    >>> len(parcels), parcels.crs.to_epsg()
    (3272, 4490)
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if is_boundary_point_file(path):
        return read_boundary_points(path, crs=crs, encoding=encoding)
    if suffix in _EXCEL:
        return _read_excel(path, crs=crs, sheet=layer)
    if suffix in _TABLES:
        return _read_table(path, crs=crs, encoding=encoding)
    _require_declared_crs(path, layer=layer, crs=crs)
    return read_layer(path, layer=layer, crs=crs, encoding=encoding)


def iter_sites(
    path: str | os.PathLike[str],
    *,
    chunk_size: int,
    crs: object | None = None,
    encoding: str | None = None,
    layer: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """:func:`read_sites` in chunks of ``chunk_size`` sites, for files larger than memory.

    Vector files are read chunk by chunk (:func:`redline.io.iter_layer_chunks`); tables and
    boundary-point files are read whole, then sliced. Every chunk has the canonical site
    fields; the warnings of a missing id or type column are given once.

    Parameters
    ----------
    path
        As for :func:`read_sites`.
    chunk_size
        Sites per chunk.
    crs, encoding, layer, fields
        As for :func:`read_sites`.

    Yields
    ------
    geopandas.GeoDataFrame
        ``attrs["redline"]["features"]`` holds the number of sites in the file (-1 when the
        driver cannot tell).

    Raises
    ------
    LayerError, CRSError
        As :func:`read_sites`.

    Examples
    --------
    >>> from redline import datasets
    >>> [len(c) for c in iter_sites(datasets.get_path("sites"), chunk_size=100)]
    [100, 100, 47]
    """
    path = Path(path)
    if _read_whole(path):
        whole = read_sites(path, crs=crs, encoding=encoding, layer=layer, fields=fields)
        provenance = {**whole.attrs["redline"], "features": len(whole)}
        for start in range(0, max(len(whole), 1), chunk_size):
            chunk = whole.iloc[start:start + chunk_size]
            chunk.attrs["redline"] = provenance
            yield chunk
        return
    _require_declared_crs(path, layer=layer, crs=crs)
    chunks = iter_layer_chunks(path, chunk_size=chunk_size, layer=layer, crs=crs,
                               encoding=encoding)
    for number, chunk in enumerate(chunks):
        if number:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RedlineWarning)  # said for the first chunk
                yield _canonical(chunk, fields, source=path)
        else:
            yield _canonical(chunk, fields, source=path)


def write_sites(
    sites: gpd.GeoDataFrame, path: str | os.PathLike[str], *, encoding: str | None = None
) -> Path:
    """Write sites in the format the file name says, atomically.

    Parameters
    ----------
    sites
        Sites with a declared CRS.
    path
        ``.txt``: a boundary-point coordinate file (界址点坐标, GBK by default, in the sites'
        Gauss-Krüger CRS or the CGCS2000 3° zone of their centre); ``.gpkg``, ``.shp``,
        ``.geojson``, ``.csv``: through :func:`redline.io.write_layer`.
    encoding
        Text encoding of TXT, CSV and Shapefile output (default GBK for TXT, UTF-8 otherwise).

    Returns
    -------
    pathlib.Path
        The written file, read back and checked.

    Raises
    ------
    LayerError
        What the format cannot hold (see :func:`redline.boundary_points.write_boundary_points`
        and :func:`redline.io.write_layer`).

    Examples
    --------
    >>> import tempfile
    >>> from redline import datasets
    >>> sites = read_sites(datasets.get_path("sites")).head(3)
    >>> path = write_sites(sites, Path(tempfile.mkdtemp()) / "sites.txt")
    >>> back = read_sites(path)
    >>> back.crs.to_epsg(), back["site_id"].tolist()
    (4530, ['JL-0001', 'JL-0002', 'JL-0003'])
    >>> bool(np.allclose(back.area, sites.to_crs(back.crs).area, rtol=1e-5))  # mm coordinates
    True
    """
    path = Path(path)
    if path.suffix.lower() == ".txt":
        return write_boundary_points(sites, path, encoding=encoding or "GBK")
    return write_layer(sites, path, encoding=encoding or "UTF-8")


def parse_fields(text: str | None) -> dict[str, str]:
    """Parse a field mapping given on the command line: ``"site_id=编码,project_type=类型"``.

    Parameters
    ----------
    text
        Comma-separated ``canonical=column`` pairs; ``None`` or empty for none.

    Returns
    -------
    dict of str to str

    Raises
    ------
    LayerError
        A pair without ``=`` or an unknown canonical field (the valid ones are listed).

    Examples
    --------
    >>> parse_fields("site_id=编码, project_type=建设类型")
    {'site_id': '编码', 'project_type': '建设类型'}
    """
    out: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in (text or "").replace("，", ",").split(","))):
        key, sep, column = (part.strip() for part in pair.partition("="))
        if not sep or not key or not column:
            raise LayerError(f"--fields: {pair!r} is not field=column; e.g. "
                             "--fields site_id=编码,project_type=建设类型")
        out[key] = column
    _check_field_names(out, where="--fields")
    return out


def manifest_fields(path: str | os.PathLike[str] | None) -> dict[str, str]:
    """The ``[sites.fields]`` table of a planning manifest (canonical field → column).

    Parameters
    ----------
    path
        A planning manifest (TOML); ``None`` for none.

    Returns
    -------
    dict of str to str
        Empty when the manifest has no ``[sites.fields]``.

    Raises
    ------
    LayerError
        The table names an unknown canonical field.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "manifest.toml"
    >>> _ = path.write_text('[sites.fields]\\nsite_id = "编码"\\n', encoding="utf-8")
    >>> manifest_fields(path)
    {'site_id': '编码'}
    """
    if path is None:
        return {}
    try:
        manifest = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LayerError(f"manifest {path}: cannot be read: {exc}") from exc
    table = manifest.get("sites", {}).get("fields", {})
    out = {str(k): str(v) for k, v in table.items()}
    _check_field_names(out, where=f"manifest {path} [sites.fields]")
    return out


# -- helpers -----------------------------------------------------------------------------------
def _read_whole(path: Path) -> bool:
    """Whether ``path`` is read whole (a table or boundary-point file, not a vector file)."""
    suffix = path.suffix.lower()
    return suffix in _EXCEL or suffix in _TABLES or is_boundary_point_file(path)


def _check_field_names(fields: Mapping[str, str], *, where: str) -> None:
    unknown = sorted(set(fields) - set(schema.SITE_FIELDS))
    if unknown:
        raise LayerError(f"{where}: unknown site fields {unknown}; the site fields are "
                         f"{list(schema.SITE_FIELDS)}")


def canonical_site_fields(
    sites: gpd.GeoDataFrame, fields: Mapping[str, str] | None = None, *, source: object = "sites"
) -> gpd.GeoDataFrame:
    """The sites with their id, name and type columns under the canonical names.

    Columns are found by ``fields`` first, then by the built-in aliases
    (:func:`redline.schema.site_column`); a column already holding a canonical name that a
    given mapping replaces is kept as ``<name>_original``. :func:`redline.screen` calls this
    on every input, so a frame read by other means is understood the same way.

    Parameters
    ----------
    sites
        Sites; not modified (returned as is when nothing is renamed).
    fields
        Canonical site field → column, as for :func:`read_sites`.
    source
        File or name used in messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Where columns were renamed, ``attrs["redline"]["site_fields"]`` maps each canonical
        field found to its source column.

    Raises
    ------
    LayerError
        ``fields`` names an unknown canonical field or a missing column.

    Examples
    --------
    >>> import shapely
    >>> sites = gpd.GeoDataFrame({"编号": ["A"], "用途": ["光伏"]},
    ...                          geometry=[shapely.Point(125.3, 43.8)], crs=4490)
    >>> list(canonical_site_fields(sites).columns)
    ['site_id', 'project_type', 'geometry']
    """
    fields = dict(fields or {})
    _check_field_names(fields, where=f"{source}: fields")
    columns = [c for c in sites.columns if c != sites.geometry.name]
    missing = sorted(column for column in fields.values() if column not in sites.columns)
    if missing:
        raise LayerError(f"{source}: the field mapping names columns the file does not have: "
                         f"{missing}; its columns: {columns}")
    found = {name: fields.get(name) or schema.site_column(columns, name)
             for name in schema.SITE_FIELDS}
    rename: dict[str, str] = {}
    for name, column in found.items():
        if column is None or column == name:
            continue
        if name in sites.columns:  # a given mapping wins over a column of the canonical name
            rename[name] = f"{name}_original"
        rename[column] = name
    if not rename:
        return sites
    out = sites.rename(columns=rename)
    out.attrs = {**sites.attrs, "redline": {**sites.attrs.get("redline", {}),
                                            "site_fields": {k: v for k, v in found.items() if v}}}
    return out


def _canonical(gdf: gpd.GeoDataFrame, fields: Mapping[str, str] | None, *,
               source: Path) -> gpd.GeoDataFrame:
    """:func:`canonical_site_fields`, warning when no id or no type column is found."""
    out = canonical_site_fields(gdf, fields, source=source)
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    found = {name: name in out.columns for name in schema.SITE_FIELDS}
    effects = {"site_id": "sites are numbered by row",
               "project_type": "every site is screened as general construction (the strictest "
               "reading)"}
    for name, effect in effects.items():
        if not found[name]:
            aliases = ", ".join(schema.SITE_FIELD_ALIASES[name][:4])
            warnings.warn(
                f"{source}: no {name} column ({aliases} …) among the columns {columns}: "
                f"{effect}; map one with --fields {name}=<column> (fields= in Python, "
                "[sites.fields] in a manifest)", RedlineWarning, stacklevel=3)
    return out


def _require_declared_crs(path: Path, *, layer: str | None, crs: object | None) -> None:
    """Refuse a vector file without CRS (and no ``crs``), naming the CRS its coordinates fit."""
    if crs is not None or not path.exists():
        return
    try:
        info = pyogrio.read_info(path, layer=layer, force_total_bounds=True)
    except Exception:
        return
    if info.get("crs") is None:
        bounds = info.get("total_bounds")
        raise _no_crs(path, None if bounds is None else tuple(map(float, bounds)))


def _no_crs(path: Path, bounds: Sequence[float] | None) -> CRSError:
    finite = bounds is not None and len(bounds) == 4 and bool(np.isfinite(bounds).all())
    code, looks = guess_crs(tuple(bounds)) if finite else (  # type: ignore[arg-type]
        None, "the file holds no coordinates to tell the CRS by")
    suggestion = code or "EPSG:<code>"
    return CRSError(
        f"{path}: the file has no coordinate reference system (no .prj or CRS); {looks}. "
        f"Pass --crs {suggestion} on the command line (crs='{suggestion}' in Python), or add "
        "a .prj file."
    )


def _read_table(path: Path, *, crs: object | None, encoding: str | None) -> gpd.GeoDataFrame:
    text, codec, codec_source = decode_text(path, encoding)
    sep = "\t" if path.suffix.lower() == ".tsv" or ("\t" in text.split("\n", 1)[0]
                                                    and "," not in text.split("\n", 1)[0]) else ","
    try:
        table = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LayerError(f"{path}: not a readable table: {exc}; save it as CSV (comma "
                         "separated) with one header line") from exc
    provenance = {"path": str(path), "layer": None, "driver": "CSV", "encoding": codec,
                  "encoding_source": codec_source}
    return _table_sites(table, path, crs=crs, provenance=provenance)


def _read_excel(path: Path, *, crs: object | None, sheet: str | None) -> gpd.GeoDataFrame:
    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except Exception as exc:
        raise LayerError(f"{path}: not a readable Excel workbook ({exc}); save it again as "
                         ".xlsx, or as CSV") from exc
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheet is None and len(names) > 1:
            raise LayerError(f"{path}: the workbook holds {len(names)} sheets "
                             f"({', '.join(names)}); choose one with --layer NAME (layer= in "
                             "Python)")
        if sheet is not None and sheet not in names:
            raise LayerError(f"{path}: no sheet {sheet!r}; the workbook holds: {', '.join(names)}")
        table = pd.read_excel(book, sheet_name=sheet or names[0], dtype=str,
                              keep_default_na=False)
    provenance = {"path": str(path), "layer": sheet or names[0], "driver": "XLSX",
                  "encoding": None, "encoding_source": None}
    return _table_sites(table, path, crs=crs, provenance=provenance)


def _table_sites(table: pd.DataFrame, path: Path, *, crs: object | None,
                 provenance: Mapping[str, object]) -> gpd.GeoDataFrame:
    """Sites from a table: its WKT column, else a pair of coordinate columns."""
    table.columns = [str(c).strip() for c in table.columns]
    table = table.replace("", None)
    folded = {c.lower(): c for c in reversed(table.columns)}
    wkt = next((folded[n] for n in WKT_COLUMNS if n in folded), None)
    pair = next(((folded[x], folded[y]) for x, y in COORDINATE_COLUMNS
                 if x in folded and y in folded), None)
    if wkt is not None:
        geometry = _wkt(table[wkt], path)
        data = table.drop(columns=wkt)
    elif pair is not None:
        geometry = _points(table, pair, path)
        data = table.drop(columns=list(pair))
    else:
        raise LayerError(
            f"{path}: no geometry: the table needs a WKT column (one of {', '.join(WKT_COLUMNS)}) "
            f"or coordinate columns (lon/lat, 经度/纬度, x/y with --crs); its columns: "
            f"{list(table.columns)}")
    if crs is None:
        bounds = tuple(float(v) for v in shapely.total_bounds(geometry))
        raise _no_crs(path, bounds)
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, index=data.index), crs=crs)
    gdf.attrs["redline"] = dict(provenance)
    return gdf.reset_index(drop=True)


def _wkt(values: pd.Series, path: Path) -> np.ndarray:
    geoms = shapely.from_wkt(values.to_numpy(dtype=object), on_invalid="ignore")
    bad = np.flatnonzero(shapely.is_missing(geoms) & values.notna().to_numpy())
    if bad.size:
        raise LayerError(f"{path}, line {bad[0] + 2}: column {values.name!r} holds "
                         f"{str(values.iloc[bad[0]])[:40]!r}, which is not WKT ({bad.size} such "
                         "rows); write e.g. POLYGON ((x y, ...)) or leave it empty")
    return geoms


def _points(table: pd.DataFrame, pair: tuple[str, str], path: Path) -> np.ndarray:
    coords = []
    for column in pair:
        text = table[column]
        number = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
        bad = np.flatnonzero(number.isna().to_numpy() & text.notna().to_numpy())
        if bad.size:
            raise LayerError(f"{path}, line {bad[0] + 2}: column {column!r} holds "
                             f"{text.iloc[bad[0]]!r}, not a number ({bad.size} such rows); "
                             "write decimal degrees or metres")
        coords.append(number.to_numpy(dtype=float))
    x, y = coords
    geoms = shapely.points(x, y)
    geoms[np.isnan(x) | np.isnan(y)] = None  # a row without coordinates: not assessed
    return geoms
