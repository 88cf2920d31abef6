"""Compact encoding of the features a map page carries: geometry strings and column tables.

A map of 100,000 sites written as GeoJSON spends most of its bytes on coordinate text and
repeated keys. Here every geometry becomes one short string of Google's Encoded Polyline
Algorithm Format (precision 6, i.e. 1e-6 degrees, about 0.1 m — the rounding the maps always
applied), coordinates in ``lat, lon`` order, each piece's first point absolute and the rest as
differences:

* a polygon part is ``"P"`` followed by its rings (exterior first) separated by spaces;
* a line part is ``"L"`` followed by one encoded line; a point part ``"O"`` and one point;
* the parts of a multi-geometry or collection are separated by ``";"``.

Neither separator nor the type letters' position can be confused with the encoding, whose
characters are ``?`` (63) to ``~`` (126). The page decodes the strings (``redline.decode`` in
the map's runtime); :func:`encode_geometries` does the encoding for whole arrays at once with
numpy, since a per-coordinate encoder in Python would take tens of seconds for a large map.
Feature properties travel as columns (:func:`columns`), repeated texts as indexes into a table.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import shapely

__all__ = ["PRECISION", "columns", "encode_geometries", "encode_points"]

#: Decimal digits kept (1e-6 degrees is about 0.1 m).
PRECISION: Final = 6
_SCALE: Final = 10**PRECISION
_POINT, _LINE, _RING, _POLYGON = 0, 1, 2, 3
_TYPE_LETTER: Final = {_POINT: "O", _LINE: "L", _RING: "L", _POLYGON: "P"}


def encode_geometries(values: np.ndarray) -> list[str | None]:
    """Encode EPSG:4326 geometries as compact strings (see the module docstring).

    Parameters
    ----------
    values
        Shapely geometries in longitude/latitude; missing or empty ones give ``None``.

    Returns
    -------
    list of str or None
        One string per geometry.

    Examples
    --------
    >>> encode_geometries(np.array([shapely.Point(125.5, 43.25), None]))
    ['O_twnqA_e|jnF', None]
    >>> encode_geometries(np.array([shapely.box(125, 43, 125.001, 43.001)]))
    ['P_ko_qAoqmlmFo}@??n}@n}@??o}@']
    """
    values = np.asarray(values, dtype=object)
    parts, owner = _single_parts(values)
    kinds = shapely.get_type_id(parts)
    is_polygon = kinds == _POLYGON
    # Pieces are what one encoded string holds: a ring, a line or a point.
    rings, ring_owner = shapely.get_rings(parts[is_polygon], return_index=True)
    polygon_parts = np.flatnonzero(is_polygon)
    pieces = np.concatenate([parts[~is_polygon], rings])
    piece_part = np.concatenate([np.flatnonzero(~is_polygon), polygon_parts[ring_owner]])
    order = np.argsort(piece_part, kind="stable")
    pieces, piece_part = pieces[order], piece_part[order]
    text = _encode_pieces(pieces)
    first = np.flatnonzero(np.r_[True, piece_part[1:] != piece_part[:-1]])[: len(pieces)]
    last = np.r_[first[1:], len(pieces)][: len(first)]
    letters = [_TYPE_LETTER[k] for k in kinds.tolist()]
    owners = owner.tolist()
    geometries: list[list[str]] = [[] for _ in range(len(values))]
    for start, stop, part in zip(
        first.tolist(), last.tolist(), piece_part[first].tolist(), strict=True
    ):
        body = text[start] if stop == start + 1 else " ".join(text[start:stop])
        geometries[owners[part]].append(letters[part] + body)
    return [";".join(found) if found else None for found in geometries]


def encode_points(lonlat: np.ndarray) -> str:
    """Encode ``(n, 2)`` longitude/latitude pairs as one polyline string (differences chain).

    Parameters
    ----------
    lonlat
        Coordinates, one row per point.

    Returns
    -------
    str
        The encoded string; the page decodes it into ``n`` points in the same order.

    Examples
    --------
    >>> encode_points(np.array([[125.5, 43.25], [125.500001, 43.25]]))
    '_twnqA_e|jnF?A'
    """
    if len(lonlat) == 0:
        return ""
    return _encode(np.asarray(lonlat, dtype=float)[:, ::-1], np.array([0]))[0]


def columns(
    table: Mapping[str, Sequence[Any]], *, dictionary: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """Feature properties as columns; the columns named in `dictionary` as codes into tables.

    Parameters
    ----------
    table
        Column name to one value per feature (JSON-serialisable).
    dictionary
        Columns stored as integer codes into a list of their distinct values (``None`` stays
        ``None``).

    Returns
    -------
    dict
        ``{"c": {name: values or codes}, "d": {name: distinct values}}``.

    Examples
    --------
    >>> columns({"k": ["a", "b", "a"], "n": ["x", None, "z"]}, dictionary=["k"])
    {'c': {'k': [0, 1, 0], 'n': ['x', None, 'z']}, 'd': {'k': ['a', 'b']}}
    """
    out: dict[str, dict[str, Any]] = {"c": {}, "d": {}}
    for name, values in table.items():
        if name not in dictionary:
            out["c"][name] = list(values)
            continue
        distinct: dict[Any, int] = {}
        out["c"][name] = [
            None if v is None else distinct.setdefault(v, len(distinct)) for v in values
        ]
        out["d"][name] = list(distinct)
    return out


def _single_parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points, lines and polygons of each geometry (multi-parts and collections opened)."""
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    parts = values[present]
    owner = np.flatnonzero(present)
    while len(parts) and (shapely.get_type_id(parts) > _POLYGON).any():
        parts, index = shapely.get_parts(parts, return_index=True)
        owner = owner[index]
    keep = ~shapely.is_empty(parts)
    return parts[keep], owner[keep]


def _encode_pieces(pieces: np.ndarray) -> list[str]:
    coords, index = shapely.get_coordinates(pieces, return_index=True)
    starts = np.searchsorted(index, np.arange(len(pieces)))
    return _encode(coords[:, ::-1], starts)


def _encode(latlon: np.ndarray, starts: np.ndarray) -> list[str]:
    """Polyline-encode rows of ``lat, lon``; a new difference chain begins at each start."""
    units = np.round(latlon * _SCALE).astype(np.int64)
    delta = units.copy()
    delta[1:] -= units[:-1]
    delta[starts] = units[starts]
    values = delta.ravel()
    zigzag = (values << 1) ^ (values >> 63)
    n_chunks = np.ones(len(zigzag), dtype=np.int64)
    rest = zigzag >> 5
    while rest.any():
        n_chunks += rest > 0
        rest >>= 5
    chunk = np.arange(n_chunks.sum()) - np.repeat(np.cumsum(n_chunks) - n_chunks, n_chunks)
    repeated = np.repeat(zigzag, n_chunks)
    more = chunk < np.repeat(n_chunks, n_chunks) - 1
    chars = (((repeated >> (5 * chunk)) & 31) | (more * 32)) + 63
    text = chars.astype(np.uint8).tobytes().decode("ascii")
    # Character offset where each piece begins (two values per coordinate).
    ends = np.concatenate([[0], np.cumsum(n_chunks.reshape(-1, 2).sum(axis=1))])
    bounds = np.append(starts, len(units))
    return [text[ends[a] : ends[b]] for a, b in itertools.pairwise(bounds.tolist())]
