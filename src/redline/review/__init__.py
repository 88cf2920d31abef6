"""Review reports: one document per site for the case file (HTML, PDF, Word).

:func:`site_review` gathers what a report says (:mod:`redline.review.content`),
:func:`map_inset` draws its static map offline (:mod:`redline.review.inset`), and
:func:`write_report` / :func:`write_reports` render it (:mod:`redline.review.render`).
:meth:`redline.Screening.report` is the short way to one site's report.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> import geopandas as gpd
>>> from redline import datasets, screen
>>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
>>> path = result.report("JL-0005", Path(tempfile.mkdtemp()) / "JL-0005.html")
>>> "未发现冲突 clear" in path.read_text(encoding="utf-8")
True
"""

from __future__ import annotations

from redline.review.content import MU_M2, SiteReview, site_review
from redline.review.inset import map_inset
from redline.review.render import (
    REPORT_FORMATS,
    browser,
    report_html,
    write_report,
    write_reports,
)

__all__ = [
    "MU_M2",
    "REPORT_FORMATS",
    "SiteReview",
    "browser",
    "map_inset",
    "report_html",
    "site_review",
    "write_report",
    "write_reports",
]
