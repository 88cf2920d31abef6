"""Reading vector layers safely.

:func:`read_layer` reads any OGR vector format with pyogrio and refuses what would otherwise be
read wrongly without a word: a Shapefile without its ``.dbf`` or ``.shx``, a truncated ``.shp``,
``.shx`` or ``.dbf``, an ``.shx`` that does not index the ``.shp`` record by record (shapes
paired with another feature's attributes), records that come back with no geometry although the
file stores one, GBK/GB18030 text decoded as Latin-1, counter-clockwise outer rings read as
holes, and data with no CRS. It neither reprojects nor repairs (see :mod:`redline.crs` and
:mod:`redline.geometry`); writing is in :mod:`redline.io.write`.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
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
from pyogrio.errors import DataLayerError, DataSourceError, FieldError

from redline.errors import ArgumentError, CRSError, LayerError
from redline.geometry import drop_z

__all__ = [
    "SHAPEFILE_SIDECARS",
    "gdal_codec",
    "iter_layer_chunks",
    "listed",
    "read_layer",
    "sidecar",
]

logger = logging.getLogger(__name__)

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
#: The files of one Shapefile, by extension.
SHAPEFILE_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")
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
        return gdal_codec(self.encoding)

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


def sidecar(path: Path, ext: str) -> Path | None:
    """The file beside ``path`` with the same stem and extension ``ext`` (any case).

    Parameters
    ----------
    path
        A file, e.g. a ``.shp``.
    ext
        The sidecar's extension in lower case, e.g. ``".dbf"``.

    Returns
    -------
    pathlib.Path or None
        The sidecar, ``None`` when there is none.

    Examples
    --------
    >>> from redline import datasets
    >>> sidecar(Path(datasets.get_path("redlines")), ".dbf").name
    'redlines.dbf'
    """
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
            f"(records {listed(beyond)}); the file is truncated. Copy it again from its source."
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
        f"do not point at the .shp record of the same position (records {listed(bad)}), so "
        "shapes would be paired with another feature's attributes. The .shx belongs to another "
        "version of the file: copy the matching .shx, or delete it and let GDAL rebuild it "
        "from the .shp (ogrinfo --config SHAPE_RESTORE_SHX YES <file>.shp)."
    )


def _required_sidecar(path: Path, ext: str, shown: Path) -> Path:
    """The ``.shx`` or ``.dbf`` beside ``path``, refusing to go on without it."""
    found = sidecar(path, ext)
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
    cpg = sidecar(dbf, ".cpg")
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
        return layer, pyogrio.read_info(path, layer=layer, encoding=gdal_codec(encoding))
    except (DataSourceError, DataLayerError, UnicodeDecodeError) as exc:
        raise LayerError(f"{shown}: cannot be read: {exc}") from exc


def gdal_codec(encoding: str | None) -> str | None:
    """Python's canonical name of ``encoding``, which GDAL's iconv also knows ("latin-1" and
    "936" it does not).

    Parameters
    ----------
    encoding
        Any name Python knows, or ``None``.

    Returns
    -------
    str or None

    Examples
    --------
    >>> gdal_codec("936"), gdal_codec("UTF8"), gdal_codec(None)
    ('gbk', 'utf-8', None)
    """
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
            f"geometry (records {listed(fid[damaged])}); the records are damaged or truncated. "
            "Copy the file again from its source or repair it in a GIS."
        )


def listed(values: np.ndarray, limit: int = 10) -> str:
    """The first ``limit`` values, comma-separated, and how many more (for messages).

    Parameters
    ----------
    values
        Record or row numbers, ids.
    limit
        How many to show.

    Returns
    -------
    str

    Examples
    --------
    >>> listed(np.arange(12))
    '0, 1, 2, 3, 4, 5, 6, 7, 8, 9 and 2 more'
    """
    shown = ", ".join(str(v) for v in values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
