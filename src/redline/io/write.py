"""Writing outputs atomically.

:func:`write_layer` writes GeoPackage, GeoJSON, Shapefile or CSV into a temporary folder next to
the target, reads the result back, and only then moves it into place. Shapefile limits (10-byte
field names, 254-byte strings, the encoding's repertoire, no datetimes, one geometry type, no
empty geometries) are checked before writing and reported together. Neither Shapefile nor CSV
tells a null text value from an empty one; GeoPackage keeps every distinction. :func:`staged`
moves outputs that belong together into place together.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError
from pyogrio.errors import GeometryError as OGRGeometryError

from redline.errors import LayerError
from redline.io.read import SHAPEFILE_SIDECARS, gdal_codec, listed, sidecar

__all__ = ["WKT_COLUMN", "WRITE_DRIVERS", "staged", "write_layer"]

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
_SHP_MAX_NAME_BYTES, _SHP_MAX_TEXT_BYTES = 10, 254


def write_layer(
    gdf: gpd.GeoDataFrame | pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    encoding: str = "UTF-8",
    rename: Mapping[str, str] | None = None,
    metadata: Mapping[str, str] | None = None,
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
    metadata
        Key → text stored as the layer's metadata (GeoPackage; ignored by other formats).

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
    >>> from redline.io import read_layer
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
                    encoding=gdal_codec(encoding) if ext == ".shp" else None,
                    layer_metadata=dict(metadata) if metadata and ext == ".gpkg" else None,
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
                f"{empty.size} features have empty geometries (rows {listed(empty)}), which a "
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
        # every digit kept (the default rounds to 6 decimals: 0.1 m in degrees)
        data[WKT_COLUMN] = shapely.to_wkt(np.asarray(geometry.values), rounding_precision=-1)
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
    for ext in SHAPEFILE_SIDECARS:  # stale sidecars of an older file would describe the wrong data
        old = sidecar(path, ext)
        if old is not None and ext not in written:
            old.unlink()
    for ext, p in written.items():
        if ext != ".shp":
            os.replace(p, path.with_suffix(ext))
    os.replace(written[".shp"], path)  # last: the .shp appears only when the rest is there
