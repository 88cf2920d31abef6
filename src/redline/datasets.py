"""Paths of the bundled sample data (ILLUSTRATIVE SAMPLE, NOT OFFICIAL DATA).

The sample is an invented but geographically plausible Jilin "one map": planning layers as
Shapefiles in CGCS2000 with Chinese field names and values, a ``manifest.toml`` mapping them to
the canonical schema, land-cover and DEM rasters, proposed sites, cadastral-like parcels and
settlements with their population (for the order of ecological migration). It is built by
``data/make_sample.py``; ``PROVENANCE.md`` beside the files says what is real and what is made
up. The data folder lives at ``data/sample_shapefiles`` in the source tree (an editable
install finds it there).

Examples
--------
>>> get_path("manifest").name
'manifest.toml'
>>> get_path("zoning").suffix
'.shp'
>>> "sites" in available()
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from redline.schema import VECTOR_KINDS

__all__ = ["DATA_DIR", "available", "get_path"]

#: Folder of the bundled sample data (source tree layout: <repo>/data/sample_shapefiles).
DATA_DIR: Final = Path(__file__).resolve().parents[2] / "data" / "sample_shapefiles"

#: Short names of the bundled files other than the planning layers (which go by their kind).
_NAMED: Final = {
    "manifest": "manifest.toml",
    "sites": "sites.gpkg",
    "parcels": "parcels.gpkg",
    "landcover": "landcover.tif",
    "dem": "dem.tif",
    "provenance": "PROVENANCE.md",
    "settlements": "settlements.gpkg",
}


def _files() -> dict[str, str]:
    return {**_NAMED, **{kind: f"{kind}.shp" for kind in VECTOR_KINDS}}


def _data_dir() -> Path:
    if not DATA_DIR.is_dir():
        raise FileNotFoundError(
            f"the bundled sample data folder {DATA_DIR} does not exist. The sample data ships "
            "with the source tree, not the wheel: install redline from a checkout "
            "(pip install -e .) or rebuild the data with `python data/make_sample.py`."
        )
    return DATA_DIR


def available() -> list[str]:
    """Short names accepted by :func:`get_path`, in a stable order.

    Any file name inside the data folder (e.g. ``"zoning.dbf"``) is accepted too.

    Returns
    -------
    list of str
        The named sample files first, then the planning layer kinds.

    Examples
    --------
    >>> available()[:5]
    ['manifest', 'sites', 'parcels', 'landcover', 'dem']
    """
    return list(_files())


def get_path(name: str) -> Path:
    """Path of a bundled sample file.

    Parameters
    ----------
    name
        A short name (``"manifest"``, ``"sites"``, ``"parcels"``, ``"landcover"``, ``"dem"``,
        ``"provenance"``, ``"settlements"`` or a planning layer kind such as ``"zoning"``), or
        the name of any file in the data folder (``"zoning.dbf"``).

    Raises
    ------
    ValueError
        ``name`` is neither a short name nor a file in the data folder.
    FileNotFoundError
        The data folder or the named file is missing.

    Returns
    -------
    pathlib.Path
        Absolute path of the file.

    Examples
    --------
    >>> get_path("sites").name
    'sites.gpkg'
    >>> get_path("reserves.prj").exists()
    True
    """
    files = _files()
    folder = _data_dir()
    if name in files:
        path = folder / files[name]
    elif name and Path(name).name == name and (folder / name).is_file():
        path = folder / name
    else:
        raise ValueError(
            f"unknown sample data name {name!r}: use one of {', '.join(files)}, or the name "
            f"of a file in {folder}"
        )
    if not path.is_file():
        raise FileNotFoundError(
            f"bundled sample file {path} is missing: rebuild it with `python data/make_sample.py`"
        )
    return path
