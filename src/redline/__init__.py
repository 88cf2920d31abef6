"""redline: screen proposed construction sites against Jilin's ecological planning layers."""

from __future__ import annotations

import logging

from redline.errors import (
    CRSError,
    GeometryError,
    LayerError,
    RedlineError,
    RedlineWarning,
    RuleError,
)

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "CRSError",
    "GeometryError",
    "LayerError",
    "RedlineError",
    "RedlineWarning",
    "RuleError",
    "__version__",
]
