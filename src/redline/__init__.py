"""redline: screen proposed construction sites against Jilin's ecological planning layers."""

from __future__ import annotations

import logging

from redline.avoidance import Route, alternatives, route
from redline.errors import (
    ArgumentError,
    CRSError,
    GeometryError,
    IllustrativeDataWarning,
    LayerError,
    RedlineError,
    RedlineWarning,
    RuleError,
)
from redline.migration import Migration, migration_order
from redline.planning import Planning, load_planning
from redline.run.api import classify, screen
from redline.screening import Screening
from redline.sites import read_sites, write_sites
from redline.targets import indicators

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ArgumentError",
    "CRSError",
    "GeometryError",
    "IllustrativeDataWarning",
    "LayerError",
    "Migration",
    "Planning",
    "RedlineError",
    "RedlineWarning",
    "Route",
    "RuleError",
    "Screening",
    "__version__",
    "alternatives",
    "classify",
    "indicators",
    "load_planning",
    "migration_order",
    "read_sites",
    "route",
    "screen",
    "write_sites",
]
