"""The rules' vocabulary: the layers a rule may test and how, the fields and values its
selector may name, and project types (all read from :mod:`redline.schema`, in the terms of
rules).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

from redline.errors import ArgumentError
from redline.schema import (
    CORRIDOR_CLASSES,
    GENERAL_CONSTRUCTION,
    LAYER_SPECS,
    PROJECT_TYPE_ALIASES,
    PROJECT_TYPES,
    RASTER_KINDS,
    VECTOR_KINDS,
    canonical_value,
    project_type_listing,
    vocabulary,
)

__all__ = [
    "CORRIDORS",
    "CORRIDOR_FIELDS",
    "CORRIDOR_SOURCES",
    "EXEMPT",
    "RULE_FRAME_COLUMNS",
    "RULE_LAYERS",
    "RULE_TESTS",
    "SLOPE_STATISTICS",
    "TESTS_BY_LAYER",
    "canonical_project_type",
    "canonical_selector_value",
    "listing",
    "selector_vocabulary",
]

#: Pseudo layer kind of the corridor polygons built from the line layers' centrelines.
CORRIDORS: Final = "corridors"
#: Line layer kinds that carry a ``corridor`` class and so can seed corridors.
CORRIDOR_SOURCES: Final = tuple(k for k, s in LAYER_SPECS.items() if "corridor" in s.required)
#: Attribute fields of the corridor layer (``redline.corridors.build_corridors``) a rule may
#: select on: ``source_layer`` is the line layer kind the corridor was built from, ``corridor``
#: its class.
CORRIDOR_FIELDS: Final = ("feature_id", "name", "source_layer", "corridor")
#: Layer kinds a rule may test. ``boundary`` is the assessed extent, not a rule layer.
RULE_LAYERS: Final = (*(k for k in VECTOR_KINDS if k != "boundary"), CORRIDORS, *RASTER_KINDS)
#: How a site is tested against a layer.
RULE_TESTS: Final = ("overlap", "proximity", "outside", "severance", "landcover_share", "slope")
#: Which tests make sense on which layer kind.
TESTS_BY_LAYER: Final = {
    **{
        kind: ("proximity",)
        if LAYER_SPECS[kind].geometry == "line"
        else ("overlap", "proximity", "outside")
        for kind in RULE_LAYERS
        if kind in LAYER_SPECS
    },
    CORRIDORS: ("overlap", "severance"),
    "landcover": ("landcover_share",),
    "dem": ("slope",),
}
#: Slope statistics a ``slope`` rule may compare with its threshold.
SLOPE_STATISTICS: Final = ("mean", "max")
#: Spelling of "no finding for this project type" in ``severity_by_type`` (``None`` in Python).
EXEMPT: Final = "exempt"
#: Columns of :meth:`RuleSet.to_frame`.
RULE_FRAME_COLUMNS: Final = (
    "id",
    "layer",
    "where",
    "test",
    "threshold",
    "severity",
    "untyped",
    "severity_by_type",
    "applies_to",
    "title_zh",
    "title_en",
    "conditions_zh",
    "conditions_en",
    "clause",
    "clause_verified",
    "clause_source",
)


def listing(values: Iterable[object]) -> str:
    """Values as a comma-separated list, for messages that name what is valid.

    Parameters
    ----------
    values
        Anything printable.

    Returns
    -------
    str

    Examples
    --------
    >>> listing(["mean", "max"])
    'mean, max'
    """
    return ", ".join(str(v) for v in values)


def canonical_project_type(value: object) -> str:
    """Canonical project type of ``value``; missing or blank means general construction.

    Parameters
    ----------
    value
        A canonical name (``"residential"``), a Chinese label or alias (``"住宅"``), or
        ``None`` / ``""`` / NaN for a site without a type.

    Returns
    -------
    str
        A key of :data:`redline.schema.PROJECT_TYPES`.

    Raises
    ------
    ArgumentError
        If the value is not a known project type; the message lists the valid names.

    Examples
    --------
    >>> canonical_project_type("道路"), canonical_project_type(None)
    ('linear_infrastructure', 'general')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return GENERAL_CONSTRUCTION
    text = str(value).strip()
    if not text:
        return GENERAL_CONSTRUCTION
    if text.lower() in PROJECT_TYPES:
        return text.lower()
    if text in PROJECT_TYPE_ALIASES:
        return PROJECT_TYPE_ALIASES[text]
    raise ArgumentError(
        f"unknown project type {text!r}; valid: {project_type_listing()} (more Chinese "
        "spellings in redline.schema.PROJECT_TYPE_ALIASES); leave it empty for general "
        "construction."
    )


def selector_vocabulary(layer: str, field_name: str) -> tuple[str, ...] | None:
    """Closed vocabulary of a selector field, or ``None`` where any value is allowed.

    Parameters
    ----------
    layer
        A rule layer kind (:data:`RULE_LAYERS`).
    field_name
        A field a rule's ``where`` may select on.

    Returns
    -------
    tuple of str or None

    Examples
    --------
    >>> selector_vocabulary("reserves", "zone")
    ('core', 'buffer', 'experimental', 'core_protection', 'general_control')
    >>> selector_vocabulary("corridors", "source_layer")
    ('rivers', 'roads_rails')
    """
    if layer == CORRIDORS:
        return {"source_layer": CORRIDOR_SOURCES, "corridor": CORRIDOR_CLASSES}.get(field_name)
    return vocabulary(layer, field_name)


def canonical_selector_value(layer: str, field_name: str, value: object) -> str | None:
    """``value`` of a selector field in canonical form (Chinese spellings mapped), or ``None``.

    Parameters
    ----------
    layer
        A rule layer kind.
    field_name
        The selector field.
    value
        A value as written in a rule or found in a layer.

    Returns
    -------
    str or None
        The canonical value, ``None`` when it maps to none.

    Examples
    --------
    >>> canonical_selector_value("reserves", "zone", "核心区")
    'core'
    """
    if layer == CORRIDORS:
        text = str(value).strip()
        vocabulary = selector_vocabulary(layer, field_name)
        return text if text and (vocabulary is None or text in vocabulary) else None
    return canonical_value(layer, field_name, value)
