"""Reading vector layers safely and writing outputs atomically.

:func:`read_layer` reads any OGR vector format with pyogrio and refuses what would otherwise be
read wrongly without a word: a Shapefile without its ``.dbf`` or ``.shx``, a truncated ``.shp``,
``.shx`` or ``.dbf``, an ``.shx`` that does not index the ``.shp`` record by record (shapes
paired with another feature's attributes), records that come back with no geometry although the
file stores one, GBK/GB18030 text decoded as Latin-1, counter-clockwise outer rings read as
holes, and data with no CRS. It neither reprojects nor repairs (see :mod:`redline.crs` and
:mod:`redline.geometry`).

:func:`write_layer` writes GeoPackage, GeoJSON, Shapefile or CSV into a temporary folder next to
the target, reads the result back, and only then moves it into place. Shapefile limits (10-byte
field names, 254-byte strings, the encoding's repertoire, no datetimes, one geometry type, no
empty geometries) are checked before writing and reported together. Neither Shapefile nor CSV
tells a null text value from an empty one; GeoPackage keeps every distinction.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError
from pyogrio.errors import GeometryError as OGRGeometryError

from redline.errors import ArgumentError, CRSError, LayerError
from redline.geometry import drop_z

__all__ = ["WRITE_DRIVERS", "iter_layer_chunks", "read_layer", "staged", "write_layer"]

logger = logging.getLogger(__name__)

#: File extensions :func:`write_layer` accepts and the OGR driver each one uses.
WRITE_DRIVERS: Mapping[str, str] = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".shp": "ESRI Shapefile",
    ".csv": "CSV",
}
#: Column holding the geometry as WKT when a GeoDataFrame is written to CSV.
WKT_COLUMN = "geometry_wkt"

#: ``.cpg`` values (upper case, spaces removed) that name a codec GDAL and Python agree on.
_CPG_CODECS: Mapping[str, str] = {
    "UTF-8": "UTF-8",
    "UTF8": "UTF-8",
    "936": "CP936",
    "CP936": "CP936",
    "ANSI936": "CP936",  # GDAL reads "ANSI 936" as Latin-1
    "GBK": "GBK",
    "GB2312": "GB2312",
    "GB18030": "GB18030",
}
#: Encodings tried, in order, for a DBF without a usable ``.cpg``.
_DETECT_CODECS = ("UTF-8", "GB18030")
_SHP_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
_SHP_MAX_NAME_BYTES, _SHP_MAX_TEXT_BYTES = 10, 254
_NULL_SHAPE_WORDS = 2  # a null-shape record holds only its shape type (2 16-bit words)


def read_layer(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
    columns: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Read one vector layer (Shapefile, GeoPackage, GeoJSON, ...) without silent losses.

    Parameters
    ----------
    path
        File to read.
    layer
        Layer name inside a multi-layer file (GeoPackage); required when there are several.
    crs
        CRS to assume when the file declares none (a Shapefile without ``.prj``). Ignored when
        the file has one.
    encoding
        Text encoding of a Shapefile's ``.dbf``; by default taken from a ``.cpg`` the codec of
        which is known and checked, else detected (strict UTF-8, then strict GB18030).
    columns
        Attribute columns to read (default all).

    Returns
    -------
    geopandas.GeoDataFrame
        Two-dimensional geometries in the file's own CRS, RangeIndex. ``attrs["redline"]`` holds
        the provenance: ``path``, ``layer``, ``driver``, ``encoding`` and ``encoding_source``
        (``"argument"``, ``".cpg"``, ``"detected"`` or ``"driver"``).

    Raises
    ------
    LayerError
        Missing or damaged file, missing ``.dbf``/``.shx``, an ``.shx`` that does not match the
        ``.shp``, inconsistent record counts, damaged records, undecodable text, unknown or
        ambiguous layer.
    CRSError
        The file has no CRS and ``crs`` is not given.

    Examples
    --------
    >>> from redline import datasets
    >>> zoning = read_layer(datasets.get_path("zoning"))
    >>> len(zoning), zoning.crs.to_epsg(), list(zoning.columns)
    (34, 4490, ['BSM', '名称', '功能区', '类型', 'geometry'])
    >>> info = zoning.attrs["redline"]
    >>> info["driver"], info["encoding"], info["encoding_source"]
    ('ESRI Shapefile', 'UTF-8', '.cpg')
    """
    path = Path(path)
    with _checked_source(path, layer=layer, encoding=encoding) as source:
        if source.info["crs"] is None and crs is None:
            raise _no_crs(path)
        try:
            with _gdal_config(source.gdal_config):
                gdf = pyogrio.read_dataframe(
                    source.readable,
                    layer=source.layer,
                    encoding=source.codec,
                    columns=columns,
                    fid_as_index=source.is_shp,
                )
        except (DataSourceError, DataLayerError, FieldError, UnicodeDecodeError) as exc:
            raise LayerError(f"{path}: cannot be read: {exc}") from exc
    if source.shx_words is not None:
        _check_shapefile_geometries(gdf, source.shx_words, shown=path)
    gdf = gdf.reset_index(drop=True)
    gdf[gdf.geometry.name] = gpd.GeoSeries(
        drop_z(np.asarray(gdf.geometry.values), source=path), crs=gdf.crs
    )
    if gdf.crs is None:
        gdf = gdf.set_crs(crs)
    elif crs is not None:
        logger.info("%s: the file declares %s; crs=%r ignored", path, gdf.crs.name, crs)
    gdf.attrs["redline"] = source.provenance(path)
    return gdf


def write_layer(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    encoding: str = "UTF-8",
    rename: Mapping[str, str] | None = None,
) -> Path:
    """Write ``gdf`` atomically and check what was written.

    The file is written into a temporary folder beside ``path``, read back (row count and field
    names compared), then moved into place; on any failure nothing at ``path`` changes. Writing
    a layer into an existing GeoPackage keeps its other layers.

    Parameters
    ----------
    gdf
        Data to write; not modified. A plain DataFrame can be written to ``.csv`` or ``.gpkg``.
        A named, multi-level or non-integer index is written as columns (as geopandas does).
    path
        Target file; the extension picks the format (see :data:`WRITE_DRIVERS`). CSV holds the
        geometry as WKT in column ``geometry_wkt``.
    layer
        Layer name inside a GeoPackage (default: the file stem).
    encoding
        Text encoding of Shapefile and CSV output (GeoPackage and GeoJSON are always UTF-8).
    rename
        Column renames applied before writing, e.g. to fit Shapefile's 10-byte field names.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    LayerError
        Unknown extension; unknown ``rename`` keys; values a Shapefile/CSV cannot hold (each
        offending field listed); a read-back that differs from what was written.

    Examples
    --------
    >>> import tempfile
    >>> from redline import datasets
    >>> sites = read_layer(datasets.get_path("sites")).head(3)
    >>> out = write_layer(sites, Path(tempfile.mkdtemp()) / "sites.shp",
    ...                   rename={"project_type": "proj_type"})  # 10-byte Shapefile names
    >>> out.name, list(read_layer(out).columns)
    ('sites.shp', ['site_id', 'name', 'proj_type', '县市', 'note', 'geometry'])
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in WRITE_DRIVERS:
        raise LayerError(
            f"{path}: cannot write files ending {path.suffix!r}; "
            f"use one of {', '.join(WRITE_DRIVERS)} (.gpkg keeps everything intact)"
        )
    data = _index_as_columns(_renamed(gdf, rename, shown=path))
    spatial = isinstance(data, gpd.GeoDataFrame)
    if not spatial and ext in (".shp", ".geojson"):
        raise LayerError(
            f"{path}: the data has no geometry column; write it as .csv or .gpkg instead"
        )
    if ext in (".shp", ".csv"):
        _preflight(data, ext=ext, encoding=encoding, shown=path)
    layer_name = None
    if ext == ".gpkg":
        layer_name = layer or path.stem
        _require_utf8(layer_name, what="layer name", hint="pass layer='<ascii name>'")
    _require_utf8(str(path.parent.resolve()), what="folder", hint="write into another folder")
    tmp = Path(tempfile.mkdtemp(prefix=".redline-", dir=path.parent))
    try:
        target = tmp / f"out{ext}"  # an ASCII name: GDAL cannot open non-UTF-8 file names
        if ext == ".gpkg" and path.exists():
            shutil.copy2(path, target)
        if ext == ".csv":
            _write_csv(data, target, encoding=encoding)
        else:
            try:
                pyogrio.write_dataframe(
                    data,
                    target,
                    layer=layer_name,
                    driver=WRITE_DRIVERS[ext],
                    encoding=_gdal_codec(encoding) if ext == ".shp" else None,
                )
            except (
                DataSourceError,
                DataLayerError,
                FieldError,
                FeatureError,
                OGRGeometryError,
            ) as exc:
                raise LayerError(f"{path}: GDAL could not write the data: {exc}") from exc
        _check_written(data, target, layer=layer_name, encoding=encoding, shown=path)
        _move_into_place(tmp, target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("wrote %d rows to %s", len(data), path)
    return path


def iter_layer_chunks(
    path: str | os.PathLike[str],
    *,
    chunk_size: int,
    layer: str | None = None,
    crs: object | None = None,
    encoding: str | None = None,
) -> Iterator[gpd.GeoDataFrame]:
    """Read one vector layer ``chunk_size`` features at a time, with :func:`read_layer`'s checks.

    The file checks, encoding detection and layer lookup run once; every chunk then gets the
    per-record checks and is what :func:`read_layer` would return for those rows: its index
    continues the previous chunk's (a RangeIndex over the whole file), and every field has the
    dtype a whole read gives it (an integer field with a null anywhere is float64 in every chunk;
    a text field null throughout one chunk is still text).
    ``attrs["redline"]`` is :func:`read_layer`'s plus ``features`` (the layer's feature count,
    -1 when the driver cannot tell).

    Parameters
    ----------
    path
        File to read.
    chunk_size
        Features per chunk (the last one may hold fewer). The first chunk is always yielded,
        empty for an empty layer.
    layer, crs, encoding
        As for :func:`read_layer`.

    Yields
    ------
    geopandas.GeoDataFrame

    Raises
    ------
    LayerError
        As :func:`read_layer`.
    ArgumentError
        ``chunk_size`` is not a positive integer.
    CRSError
        The file has no CRS and ``crs`` is not given.

    Notes
    -----
    Memory holds one chunk at a time for GeoPackage, Shapefile and FlatGeobuf; GDAL parses a
    GeoJSON file whole.

    Examples
    --------
    >>> from redline import datasets
    >>> chunks = list(iter_layer_chunks(datasets.get_path("parcels"), chunk_size=1000))
    >>> [len(chunk) for chunk in chunks], chunks[-1].index[0]
    ([1000, 1000, 1000, 272], 3000)
    >>> chunks[0].attrs["redline"]["features"]
    3272
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ArgumentError(
            f"chunk_size must be a positive whole number of features; received {chunk_size!r}"
        )
    path = Path(path)
    with _checked_source(path, layer=layer, encoding=encoding) as source:
        if source.info["crs"] is None and crs is None:
            raise _no_crs(path)
        provenance = {**source.provenance(path), "features": int(source.info["features"])}
        try:
            dtypes = _whole_read_dtypes(source.readable, source.info, layer=source.layer,
                                        encoding=source.codec)
            start = 0
            while True:
                with _gdal_config(source.gdal_config):
                    gdf = pyogrio.read_dataframe(
                        source.readable,
                        layer=source.layer,
                        encoding=source.codec,
                        fid_as_index=source.is_shp,
                        skip_features=start,
                        max_features=chunk_size,
                    )
                if start and not len(gdf):
                    return
                if source.shx_words is not None:
                    _check_shapefile_geometries(gdf, source.shx_words, shown=path)
                gdf.index = pd.RangeIndex(start, start + len(gdf))
                gdf[gdf.geometry.name] = gpd.GeoSeries(
                    drop_z(np.asarray(gdf.geometry.values), source=path),
                    crs=gdf.crs,
                    index=gdf.index,
                )
                gdf = gdf.astype({c: t for c, t in dtypes.items() if gdf[c].dtype != t})
                if gdf.crs is None:
                    gdf = gdf.set_crs(crs)
                gdf.attrs["redline"] = dict(provenance)
                yield gdf
                if len(gdf) < chunk_size:
                    return
                start += chunk_size
        except (DataSourceError, DataLayerError, FieldError, UnicodeDecodeError) as exc:
            raise LayerError(f"{path}: cannot be read: {exc}") from exc


def _whole_read_dtypes(
    path: Path, info: Mapping, *, layer: str, encoding: str | None
) -> dict[str, object]:
    """The dtype a whole read gives the fields whose dtype a chunk could get otherwise.

    Integer and boolean fields holding a null anywhere are float64 in a whole read (int64 or
    bool in a chunk without nulls); text fields holding any value are text (object in a chunk
    where they are all null). One row of each telling kind is read to learn the dtype.
    """
    found: dict[str, object] = {}
    for name, dtype in zip(info["fields"], info["dtypes"], strict=True):
        if str(dtype).startswith(("int", "uint")) or str(dtype) == "bool":
            test = "IS NULL"
        elif str(dtype) == "object":
            test = "IS NOT NULL"
        else:
            continue
        quoted = '"' + str(name).replace('"', '""') + '"'
        row = pyogrio.read_dataframe(
            path,
            layer=layer,
            encoding=encoding,
            columns=[name],
            read_geometry=False,
            where=f"{quoted} {test}",
            max_features=1,
        )
        if len(row):
            found[str(name)] = row[name].dtype
    return found


@contextlib.contextmanager
def staged(directory: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary folder whose files move into ``directory`` together when the block ends.

    Outputs that belong together (a screening's GeoPackage and CSVs) are written into the
    staging folder and moved into place only when all of them were written: a failure leaves
    the previous outputs in ``directory`` untouched, and removes ``directory`` if the block
    created it.

    Parameters
    ----------
    directory
        The final folder (created if needed).

    Yields
    ------
    pathlib.Path
        The staging folder, inside ``directory``; removed when the block ends.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "run"
    >>> with staged(out) as folder:
    ...     _ = (folder / "a.csv").write_text("x")
    >>> sorted(p.name for p in out.iterdir())
    ['a.csv']
    """
    directory = Path(directory)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".redline-", dir=directory))
    try:
        yield folder
        for path in sorted(folder.iterdir()):
            os.replace(path, directory / path.name)
    except BaseException:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- reading helpers ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """A vector file after the checks every read makes (see :func:`_checked_source`)."""

    readable: Path  # the file, or an ASCII-named link to it
    is_shp: bool
    shx_words: np.ndarray | None  # record lengths from the .shx (Shapefiles)
    encoding: str | None
    encoding_source: str
    layer: str
    info: Mapping

    @property
    def codec(self) -> str | None:
        return _gdal_codec(self.encoding)

    @property
    def gdal_config(self) -> dict[str, str]:
        # counter-clockwise outer rings (non-ESRI writers) must not become holes
        return {"OGR_ORGANIZE_POLYGONS": "DEFAULT"} if self.is_shp else {}

    def provenance(self, path: Path) -> dict[str, object]:
        return {
            "path": str(path),
            "layer": self.layer,
            "driver": self.info["driver"],
            "encoding": self.encoding or self.info["encoding"],
            "encoding_source": self.encoding_source,
        }


@contextlib.contextmanager
def _checked_source(path: Path, *, layer: str | None, encoding: str | None) -> Iterator[_Source]:
    """Open ``path`` for reading after the Shapefile consistency checks and the DBF encoding
    detection, which whole and chunked reads share."""
    if not path.is_file():
        raise LayerError(f"{path}: no such file")
    is_shp = path.suffix.lower() == ".shp"
    with _utf8_alias(path) as readable:
        shx_words = None
        encoding_source = "argument" if encoding else "driver"
        if is_shp:
            shx_words, dbf = _check_shapefile(readable, shown=path)
            encoding, encoding_source = _dbf_encoding(dbf, encoding=encoding, shown=path)
        layer_name, info = _layer_info(readable, layer=layer, encoding=encoding, shown=path)
        yield _Source(readable, is_shp, shx_words, encoding, encoding_source, layer_name, info)


def _no_crs(path: Path) -> CRSError:
    return CRSError(
        f"{path}: the file has no coordinate reference system (no .prj or CRS). Pass "
        "crs='EPSG:4490' (or the CRS the data was made in) when reading it, or add a .prj file."
    )



@contextlib.contextmanager
def _utf8_alias(path: Path) -> Iterator[Path]:
    """``path``, or a symlink to it (and its sidecars) under a UTF-8 name GDAL can open."""
    try:
        str(path.resolve()).encode("utf-8")
    except UnicodeEncodeError:
        pass
    else:
        yield path
        return
    stem = os.fsencode(path.stem).lower()
    with tempfile.TemporaryDirectory(prefix="redline-") as tmp:
        try:
            for entry in os.scandir(os.fsencode(path.parent.resolve())):
                name, dot, ext = entry.name.rpartition(b".")
                if dot and name.lower() == stem:
                    alias = os.path.join(os.fsencode(tmp), b"layer." + ext)
                    os.symlink(os.path.abspath(entry.path), alias)
        except OSError as exc:
            raise LayerError(
                f"{path}: the file name is not valid UTF-8 and no alias could be made ({exc}); "
                "rename the file (and its sidecars) to a UTF-8 or ASCII name"
            ) from exc
        logger.info("%s: non-UTF-8 file name, read through a temporary alias", path)
        yield Path(tmp) / f"layer{path.suffix}"


def _sidecar(path: Path, ext: str) -> Path | None:
    """The file beside ``path`` with the same stem and extension ``ext`` (any case)."""
    for candidate in (path.with_suffix(ext), path.with_suffix(ext.upper())):
        if candidate.is_file():
            return candidate
    matches = [
        p for p in path.parent.glob(f"{path.stem}.*") if p.suffix.lower() == ext and p.is_file()
    ]
    return matches[0] if matches else None


def _check_shapefile(path: Path, *, shown: Path) -> tuple[np.ndarray, Path]:
    """Check the .shp/.shx/.dbf headers agree with the files.

    Returns
    -------
    words : numpy.ndarray
        Content length of each record in 16-bit words, from the ``.shx``.
    dbf : pathlib.Path
        The ``.dbf`` file.
    """
    shx_path, dbf = _required_sidecar(path, ".shx", shown), _required_sidecar(path, ".dbf", shown)
    shp_size = path.stat().st_size
    for part, size in ((path, shp_size), (shx_path, shx_path.stat().st_size)):
        with open(part, "rb") as f:
            header = f.read(100)
        declared = struct.unpack(">i", header[24:28])[0] * 2 if len(header) == 100 else None
        if declared != size:
            raise LayerError(
                f"{shown}: {part.name} is truncated or damaged: its header declares "
                f"{declared} bytes but the file has {size}. Copy the file again from its source."
            )
    shx = shx_path.read_bytes()
    if (len(shx) - 100) % 8:
        raise LayerError(f"{shown}: the .shx size {len(shx)} is not 100 + 8 × records")
    index = np.frombuffer(shx, dtype=">i4", offset=100).reshape(-1, 2).astype(np.int64)
    ends = (index[:, 0] + index[:, 1]) * 2 + 8
    beyond = np.flatnonzero(ends > shp_size)
    if beyond.size:
        raise LayerError(
            f"{shown}: {beyond.size} of {len(index)} records extend past the end of the .shp "
            f"(records {_first(beyond)}); the file is truncated. Copy it again from its source."
        )
    _check_shx_matches_shp(path, index, shp_size=shp_size, shown=shown)
    n_dbf = _dbf_record_count(dbf, shown=shown)
    if n_dbf != len(index):
        raise LayerError(
            f"{shown}: the .dbf has {n_dbf} records but the .shx has {len(index)}; the files "
            "do not belong together or one is truncated."
        )
    return index[:, 1], dbf


def _check_shx_matches_shp(path: Path, index: np.ndarray, *, shp_size: int, shown: Path) -> None:
    """Refuse an ``.shx`` that does not list the ``.shp`` records one by one, in order.

    GDAL finds each record through the ``.shx`` and pairs it with the ``.dbf`` row of the same
    position, so an index from another version of the file (or with entries out of order)
    silently attaches shapes to another feature's attributes. The records of a ``.shp`` follow
    each other from byte 100 to the end (8-byte header: record number, content length in 16-bit
    words); the ``.shx`` must give exactly those offsets and lengths.
    """
    if not len(index):
        return
    offsets, words = index[:, 0], index[:, 1]
    expected = np.empty_like(offsets)
    expected[0] = 50  # the records start after the 100-byte file header
    expected[1:] = offsets[:-1] + 4 + words[:-1]
    wrong = offsets != expected
    if not wrong.any() and (offsets[-1] + 4 + words[-1]) * 2 == shp_size:
        shp = np.memmap(path, dtype=np.uint8, mode="r")
        at = offsets[:, None] * 2 + np.arange(4, 8)  # the content length of each record header
        wrong = np.frombuffer(shp[at].tobytes(), dtype=">i4") != words
        if not wrong.any():
            return
    elif not wrong.any():
        wrong = np.zeros(len(index), dtype=bool)
        wrong[-1] = True  # the .shp holds more after the last record the .shx lists
    bad = np.flatnonzero(wrong)
    raise LayerError(
        f"{shown}: the .shx does not match the .shp: {bad.size} of {len(index)} index entries "
        f"do not point at the .shp record of the same position (records {_first(bad)}), so "
        "shapes would be paired with another feature's attributes. The .shx belongs to another "
        "version of the file: copy the matching .shx, or delete it and let GDAL rebuild it "
        "from the .shp (ogrinfo --config SHAPE_RESTORE_SHX YES <file>.shp)."
    )


def _required_sidecar(path: Path, ext: str, shown: Path) -> Path:
    """The ``.shx`` or ``.dbf`` beside ``path``, refusing to go on without it."""
    found = _sidecar(path, ext)
    if found is None:
        what = "attribute table" if ext == ".dbf" else "index"
        raise LayerError(
            f"{shown}: the {ext} file ({what}) is missing. GDAL would read the geometries "
            f"alone and lose every attribute (.dbf) or refuse to open (.shx). Copy the "
            f"{ext} file that belongs to this shapefile next to it."
        )
    return found


def _dbf_record_count(dbf: Path, *, shown: Path) -> int:
    """Record count of a DBF, checked against its size."""
    with open(dbf, "rb") as f:
        header = f.read(32)
    if len(header) < 32:
        raise LayerError(f"{shown}: {dbf.name} is too short to be a dBASE file")
    n, header_len, record_len = struct.unpack("<IHH", header[4:12])
    expected, size = header_len + n * record_len, dbf.stat().st_size
    if size not in (expected, expected + 1):  # +1: optional end-of-file marker 0x1A
        raise LayerError(
            f"{shown}: {dbf.name} is truncated or damaged: its header declares {n} records of "
            f"{record_len} bytes ({expected} bytes with the header) but the file has {size}."
        )
    return n


def _dbf_text(dbf: Path) -> dict[str, bytes]:
    """Raw bytes of a DBF's field names and of each character field's values.

    Values of one field are joined by newlines (not a valid trailing byte in UTF-8 or GB18030,
    so a character cut at the end of a value still fails to decode). Deleted records skipped.
    """
    data = dbf.read_bytes()
    n, header_len, record_len = struct.unpack("<IHH", data[4:12])
    fields, names, pos, offset = [], [], 32, 1  # offset 1: the deletion flag
    while pos + 32 <= header_len and data[pos] != 0x0D:
        raw = data[pos : pos + 32]
        names.append(raw[:11].split(b"\0", 1)[0])
        if raw[11:12] == b"C":
            fields.append((names[-1], offset, raw[16]))
        offset += raw[16]
        pos += 32
    records = np.frombuffer(data, dtype=np.uint8, count=n * record_len, offset=header_len)
    records = records.reshape(n, record_len)
    records = records[records[:, 0] != ord("*")]
    newline = np.full((len(records), 1), ord("\n"), dtype=np.uint8)
    text = {"field names": b"\n".join(names)}
    for name, start, width in fields:
        block = np.hstack([records[:, start : start + width], newline])
        text[f"field {name!r}"] = block.tobytes()
    return text


def _undecodable(text: Mapping[str, bytes], codec: str) -> str | None:
    """Describe the first part of ``text`` that is not valid ``codec``, or ``None``."""
    for where, blob in text.items():
        try:
            blob.decode(codec)
        except UnicodeDecodeError as exc:
            return f"{where}: bytes {blob[exc.start : exc.end + 3]!r}"
    return None


def _dbf_encoding(dbf: Path, *, encoding: str | None, shown: Path) -> tuple[str, str]:
    """Choose the DBF text encoding: argument, a usable ``.cpg``, or detection."""
    text = _dbf_text(dbf)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise LayerError(f"{shown}: unknown encoding {encoding!r}") from exc
        if bad := _undecodable(text, encoding):
            raise LayerError(
                f"{shown}: the attribute table is not valid {encoding} ({bad}); "
                f"try encoding='GB18030' or encoding='UTF-8'"
            )
        return encoding, "argument"
    cpg = _sidecar(dbf, ".cpg")
    if cpg is not None:
        declared = cpg.read_bytes().decode("ascii", "replace").strip()
        codec = _CPG_CODECS.get(declared.upper().replace(" ", ""))
        if codec and not _undecodable(text, codec):
            return codec, ".cpg"
        logger.warning(
            "%s: the .cpg says %r, which %s; detecting the encoding instead",
            shown,
            declared,
            "does not decode the attribute table" if codec else "is not a codec redline trusts",
        )
    problems = {}
    for codec in _DETECT_CODECS:
        if not (bad := _undecodable(text, codec)):
            logger.info("%s: attribute table decoded as %s (detected)", shown, codec)
            return codec, "detected"
        problems[codec] = bad
    detail = "; ".join(f"not {c} ({bad})" for c, bad in problems.items())
    raise LayerError(
        f"{shown}: cannot tell the text encoding of the attribute table: {detail}. "
        "Pass encoding= (e.g. encoding='CP1252') to read_layer or add a .cpg file."
    )


def _layer_info(
    path: Path, *, layer: str | None, encoding: str | None, shown: Path
) -> tuple[str, dict]:
    """The layer to read (checked to exist, unambiguous) and its pyogrio info."""
    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except DataSourceError as exc:
        raise LayerError(f"{shown}: not a readable vector file: {exc}") from exc
    if layer is None:
        if len(names) > 1:
            raise LayerError(
                f"{shown}: the file holds {len(names)} layers ({', '.join(names)}); "
                "pass layer= to choose one"
            )
        layer = names[0]
    elif layer not in names:
        raise LayerError(f"{shown}: no layer {layer!r}; the file holds: {', '.join(names)}")
    try:
        return layer, pyogrio.read_info(path, layer=layer, encoding=_gdal_codec(encoding))
    except (DataSourceError, DataLayerError, UnicodeDecodeError) as exc:
        raise LayerError(f"{shown}: cannot be read: {exc}") from exc


def _gdal_codec(encoding: str | None) -> str | None:
    """Python's canonical name of ``encoding``, which GDAL's iconv also knows ("latin-1" and
    "936" it does not)."""
    return None if encoding is None else codecs.lookup(encoding).name


@contextlib.contextmanager
def _gdal_config(options: Mapping[str, str]) -> Iterator[None]:
    """Set GDAL config options for the duration of the block, then restore the old values."""
    old = {key: pyogrio.get_gdal_config_option(key) for key in options}
    pyogrio.set_gdal_config_options(dict(options))
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def _check_shapefile_geometries(gdf: gpd.GeoDataFrame, words: np.ndarray, *, shown: Path) -> None:
    """Refuse records read back without geometry although the .shp stores a shape for them."""
    fid = np.asarray(gdf.index, dtype=np.int64)
    damaged = np.flatnonzero(
        shapely.is_missing(np.asarray(gdf.geometry.values)) & (words[fid] > _NULL_SHAPE_WORDS)
    )
    if damaged.size:
        raise LayerError(
            f"{shown}: {damaged.size} records have shape data in the .shp but came back without "
            f"geometry (records {_first(fid[damaged])}); the records are damaged or truncated. "
            "Copy the file again from its source or repair it in a GIS."
        )


def _first(values: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


# --- writing helpers ------------------------------------------------------------------------


def _renamed(
    gdf: gpd.GeoDataFrame | pd.DataFrame, rename: Mapping[str, str] | None, *, shown: Path
) -> gpd.GeoDataFrame | pd.DataFrame:
    if not rename:
        return gdf
    unknown = sorted(set(rename) - set(gdf.columns))
    if unknown:
        raise LayerError(
            f"{shown}: rename names columns that do not exist: {unknown}; "
            f"columns: {list(gdf.columns)}"
        )
    return gdf.rename(columns=dict(rename))


def _index_as_columns(data: pd.DataFrame) -> pd.DataFrame:
    """Move a named, multi-level or non-integer index into columns so that it is written."""
    index = data.index
    named = any(name is not None for name in index.names)
    if named or index.nlevels > 1 or not pd.api.types.is_integer_dtype(index):
        return data.reset_index()
    return data


def _require_utf8(text: str, *, what: str, hint: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LayerError(f"the {what} {text!r} is not valid UTF-8; {hint}") from exc


def _preflight(data: pd.DataFrame, *, ext: str, encoding: str, shown: Path) -> None:
    """Raise one LayerError listing every field a Shapefile or CSV would damage."""
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise LayerError(f"{shown}: unknown encoding {encoding!r}") from exc
    geometry = data.geometry.name if isinstance(data, gpd.GeoDataFrame) else None
    problems = []
    if geometry is not None and ext == ".shp":
        geoms = np.asarray(data.geometry.values)
        kinds = np.unique(shapely.get_dimensions(geoms[~shapely.is_missing(geoms)]))
        if len(kinds) > 1:
            names = ", ".join(("points", "lines", "polygons")[k] for k in kinds)
            problems.append(f"the geometries mix {names} (a Shapefile holds one type)")
        empty = np.flatnonzero(shapely.is_empty(geoms))
        if empty.size:
            problems.append(
                f"{empty.size} features have empty geometries (rows {_first(empty)}), which a "
                "Shapefile stores as null shapes; set them to None if that is meant"
            )
    for name in data.columns:
        if name == geometry:
            continue
        label = str(name)
        try:
            size = len(label.encode(encoding))
        except UnicodeEncodeError:
            problems.append(f"field name {label!r} cannot be written in {encoding}")
            size = 0
        if ext == ".shp" and size > _SHP_MAX_NAME_BYTES:
            problems.append(
                f"field name {label!r} is {size} bytes in {encoding} "
                f"(Shapefile keeps {_SHP_MAX_NAME_BYTES})"
            )
        column = data[name]
        if ext == ".shp" and pd.api.types.is_datetime64_any_dtype(column):
            problems.append(f"field {label!r} holds datetimes (Shapefile stores them as text)")
        if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        for value in column.dropna().astype(str).unique():
            try:
                size = len(value.encode(encoding))
            except UnicodeEncodeError:
                problems.append(f"field {label!r}: {value!r} has characters {encoding} lacks")
                break
            if ext == ".shp" and size > _SHP_MAX_TEXT_BYTES:
                problems.append(
                    f"field {label!r}: a value is {size} bytes "
                    f"(Shapefile keeps {_SHP_MAX_TEXT_BYTES}): {value[:20]!r}..."
                )
                break
    if problems:
        hint = (
            "pass rename={'long name': 'short'} for names, or write .gpkg, which keeps all of it"
            if ext == ".shp"
            else "pass encoding='UTF-8'"
        )
        raise LayerError(
            f"{shown}: cannot write without losing data:\n  - "
            + "\n  - ".join(problems)
            + f"\n{hint}"
        )


def _write_csv(data: pd.DataFrame, target: Path, *, encoding: str) -> None:
    if isinstance(data, gpd.GeoDataFrame):
        geometry = data.geometry
        data = pd.DataFrame(data.drop(columns=geometry.name))
        data[WKT_COLUMN] = shapely.to_wkt(np.asarray(geometry.values))
    data.to_csv(target, index=False, encoding=encoding)


def _check_written(
    data: pd.DataFrame, target: Path, *, layer: str | None, encoding: str, shown: Path
) -> None:
    """Read back the row count and field names of ``target`` and compare with ``data``."""
    expected = [str(c) for c in data.columns]
    if isinstance(data, gpd.GeoDataFrame):
        expected.remove(str(data.geometry.name))
    if target.suffix == ".csv":
        back = pd.read_csv(target, encoding=encoding, dtype=str, keep_default_na=False)
        rows, fields = len(back), [c for c in back.columns if c != WKT_COLUMN]
    else:
        info = pyogrio.read_info(target, layer=layer)
        rows, fields = info["features"], [str(f) for f in info["fields"]]
    if rows != len(data) or fields != expected:
        raise LayerError(
            f"{shown}: the written file does not match the data: {rows} rows and fields "
            f"{fields} read back, {len(data)} rows and fields {expected} written. "
            "Nothing was replaced."
        )


def _move_into_place(tmp: Path, target: Path, path: Path) -> None:
    """Move ``target`` (and, for a Shapefile, its sidecars) from ``tmp`` to ``path``."""
    if path.suffix.lower() != ".shp":
        os.replace(target, path)
        return
    written = {p.suffix.lower(): p for p in tmp.iterdir() if p.stem == target.stem}
    for ext in _SHP_SIDECARS:  # stale sidecars of an older file would describe the wrong data
        old = _sidecar(path, ext)
        if old is not None and ext not in written:
            old.unlink()
    for ext, p in written.items():
        if ext != ".shp":
            os.replace(p, path.with_suffix(ext))
    os.replace(written[".shp"], path)  # last: the .shp appears only when the rest is there
