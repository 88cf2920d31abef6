"""Screening files larger than memory (the names of :mod:`redline.run.batch`, kept here)."""

from __future__ import annotations

from redline.run.batch import BatchScreening, screen_file

__all__ = ["BatchScreening", "screen_file"]
