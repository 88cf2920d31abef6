"""Chunk-parallel screening and classification (the names of :mod:`redline.run`, kept here).

The execution code lives in :mod:`redline.run`: entries in :mod:`redline.run.api`, forked
workers and dask in :mod:`redline.run.executors`, parts in :mod:`redline.run.parts`.
"""

from __future__ import annotations

from redline.run.api import (
    FORK_MIN_PARCELS,
    FORK_MIN_SITES,
    classify_dask,
    classify_forked,
    screen_dask,
    screen_forked,
)
from redline.run.executors import fork_workers, is_dask_frame
from redline.run.parts import Part, concat_screenings, raise_if_wholly_outside, screen_part

__all__ = [
    "FORK_MIN_PARCELS",
    "FORK_MIN_SITES",
    "Part",
    "classify_dask",
    "classify_forked",
    "concat_screenings",
    "fork_workers",
    "is_dask_frame",
    "raise_if_wholly_outside",
    "screen_dask",
    "screen_forked",
    "screen_part",
]
