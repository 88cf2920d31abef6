"""Reading vector layers safely (:mod:`redline.io.read`) and writing outputs atomically
(:mod:`redline.io.write`)."""

from __future__ import annotations

from redline.io.read import iter_layer_chunks, read_layer
from redline.io.write import WKT_COLUMN, WRITE_DRIVERS, staged, write_layer

__all__ = [
    "WKT_COLUMN",
    "WRITE_DRIVERS",
    "iter_layer_chunks",
    "read_layer",
    "staged",
    "write_layer",
]
