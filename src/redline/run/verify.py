"""``redline verify``: re-run what an output folder's ``run.json`` describes, and compare.

The record itself (what is hashed, how outputs are compared) is :mod:`redline.record`; this
module runs it again, so it sits with the execution code.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from redline.planning import load_planning
from redline.record import Verification, compare_outputs, input_changes, read_record
from redline.rules import load_rules
from redline.run.batch import screen_file

__all__ = ["verify"]


def verify(directory: str | os.PathLike[str]) -> Verification:
    """Re-run what an output folder's ``run.json`` describes and compare with its outputs.

    Every recorded input is hashed again (:func:`redline.record.input_changes`); the sites are
    screened again with the recorded planning manifest, working CRS, kinds declared absent,
    rules, rules disabled and options, and the
    result is compared with the folder's ``sites.csv`` and ``findings.csv``
    (:func:`redline.record.compare_outputs`).

    Parameters
    ----------
    directory
        An output folder with ``run.json``, ``sites.csv`` and ``findings.csv``.

    Returns
    -------
    Verification
        ``code`` 0 (same), 1 (differ: the inputs whose hash changed, the sites whose verdict
        changed) or 2 (an input is missing, nothing re-run).

    Examples
    --------
    >>> from redline import datasets
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = screen_file(datasets.get_path("sites"), folder, chunk_size=100)
    >>> verify(folder).code
    0
    """
    directory = Path(directory)
    record = read_record(directory)
    missing, changed = input_changes(record)
    if missing:
        return Verification(code=2, missing=tuple(missing), changed_inputs=tuple(changed))
    options = record["options"]
    manifest = record["inputs"]["manifest"]
    planning = load_planning(manifest["path"] if manifest else None,
                             crs=record["working_crs"]["wkt"], absent=options.get("absent", ()))
    rules = load_rules(options.get("rules"))
    with tempfile.TemporaryDirectory(dir=directory, prefix=".verify-") as again:
        screen_file(record["inputs"]["sites"]["path"], again, planning=planning, rules=rules,
                    layer=options.get("layer"), crs=options.get("crs"),
                    fields=options.get("fields"), chunk_size=options.get("chunk_size", 100_000),
                    disable=options.get("disabled", ()))
        sites_changed, other = compare_outputs(directory, again)
    differ = bool(sites_changed or other or changed)
    return Verification(code=1 if differ else 0, changed_inputs=tuple(changed),
                        changed_sites=sites_changed, other_changes=tuple(other))
