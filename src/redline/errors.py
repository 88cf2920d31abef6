"""Exceptions and warnings raised by redline.

Every error says what was wrong, what was received, where (file, layer, feature id) and how to
fix it. The data errors also subclass :class:`ValueError` so that generic handlers still work.
"""

from __future__ import annotations

__all__ = [
    "ArgumentError",
    "CRSError",
    "GeometryError",
    "IllustrativeDataWarning",
    "LayerError",
    "RedlineError",
    "RedlineWarning",
    "ReportError",
    "RuleError",
]


class RedlineError(Exception):
    """Root of every error redline raises on purpose."""


class ArgumentError(RedlineError, ValueError):
    """An argument of a call is out of range or unknown (``n_jobs``, ``chunk_size``,
    ``max_vertices``, a project type): the caller's mistake, not the data's."""


class CRSError(RedlineError, ValueError):
    """A coordinate reference system is missing, wrong, or gives coordinates outside Jilin."""


class LayerError(RedlineError, ValueError):
    """A layer or file cannot be read safely: missing fields, unknown values, bad encoding."""


class GeometryError(RedlineError, ValueError):
    """Geometries are null, empty, or cannot be repaired without changing what they protect."""


class RuleError(RedlineError, ValueError):
    """A ruleset file or rule is malformed."""


class ReportError(RedlineError):
    """A review report cannot be written: an unknown format, or no browser to print a PDF."""


class RedlineWarning(UserWarning):
    """A recoverable problem that redline repaired and recorded (e.g. a geometry repair)."""


class IllustrativeDataWarning(RedlineWarning):
    """The one map is the bundled illustrative sample (or a manifest that says it is
    illustrative): its verdicts are examples, never a planning decision.

    The test suite uses the sample on purpose and ignores this warning (``pyproject.toml``);
    the tests that check it is given catch it with ``pytest.warns``.
    """
