"""Every run on record: ``run.json`` beside the outputs, and ``redline verify`` to re-run it.

A screening's outputs are only as good as the data and rules that made them. :func:`run_record`
describes a run: the sha256 of every input file (the planning manifest and each file it names,
Shapefile sidecars included; the ruleset files; the sites file), the ruleset id and version,
the versions of redline and of the geometry libraries (GEOS, PROJ, GDAL), the working CRS, every
option that can change a verdict, and when the run started and how long it took.
:func:`write_record` puts it in ``run.json`` and in the GeoPackage's metadata;
:func:`input_changes` and :func:`compare_outputs` are what :func:`redline.run.verify.verify`
(``redline verify``) checks when it re-runs a record.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sqlite3
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd

    from redline.planning import Planning
    from redline.rules import RuleSet
    from redline.screening import Screening

__all__ = [
    "RECORD_FILE",
    "Verification",
    "compare_outputs",
    "file_hash",
    "input_changes",
    "read_record",
    "run_record",
    "screening_record",
    "write_record",
]

#: Name of the record in an output folder.
RECORD_FILE = "run.json"
#: Version of the record's layout.
RECORD_FORMAT = 1
#: Key of the record in the GeoPackage's dataset metadata (GDAL metadata domain "").
GPKG_METADATA_KEY = "redline_run"
#: Sidecar files of a Shapefile that change what is read (geometry, index, attributes, CRS,
#: encoding).
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
#: Encoding of the outputs' CSVs (:data:`redline.report.CSV_ENCODING`; read here without
#: importing the writer, which imports this module).
_CSV_ENCODING = "utf-8-sig"
#: Columns of ``sites.csv`` compared by :func:`compare_outputs`.
_COMPARED_SITE_COLUMNS = ("verdict", "decisive_rule", "n_findings", "not_assessed_reason")
#: Columns of ``findings.csv`` that identify a finding, and the area compared (to the cm²).
_FINDING_KEY = ("site_id", "rule_id", "feature_id")


def file_hash(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's bytes, as hex.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        64 hexadecimal digits.

    Examples
    --------
    >>> from redline import datasets
    >>> len(file_hash(datasets.get_path("manifest")))
    64
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(path: Path) -> dict[str, str]:
    return {"path": str(path.resolve()), "sha256": file_hash(path)}


def _manifest_files(manifest: Path) -> dict[str, list[Path]]:
    """Files a planning manifest names, by layer kind (a Shapefile with its sidecars)."""
    content = tomllib.loads(manifest.read_text(encoding="utf-8"))
    files: dict[str, list[Path]] = {}
    for section in ("layers", "rasters"):
        for kind, entry in content.get(section, {}).items():
            path = manifest.parent / entry["path"]
            if path.suffix.lower() == ".shp":
                parts = [path.with_suffix(s) for s in _SHAPEFILE_PARTS]
                files[kind] = [p for p in parts if p.suffix in (".shp", ".shx", ".dbf")
                               or p.exists()]
            else:
                files[kind] = [path]
    return files


def _planning_files(planning: Planning) -> dict[str, list[Path]]:
    """Files a planning was read from: its manifest's, else each layer's recorded path."""
    manifest = getattr(planning, "manifest", None)
    if manifest is not None:
        return _manifest_files(Path(manifest))
    files: dict[str, list[Path]] = {}
    for kind in planning.kinds:
        if kind in planning.rasters:
            files[kind] = [Path(planning.rasters[kind].path)]
            continue
        path = planning[kind].attrs.get("redline", {}).get("path")
        if path is not None:
            files[kind] = [Path(path)]
    return files


def _ruleset_files(rules: RuleSet) -> list[Path]:
    """Files a ruleset was read from; the bundled ruleset is resolved inside the package."""
    out = []
    for source in rules.sources:
        if source.startswith("redline/rules/"):
            out.append(Path(str(resources.files("redline.rules").joinpath(
                source.removeprefix("redline/rules/")))))
        elif Path(source).is_file():
            out.append(Path(source))
    return out


def _rules_file(rules: RuleSet) -> str | None:
    """The user's ruleset file that :func:`redline.rules.load_rules` reads to rebuild ``rules``
    (the last one not bundled), or ``None`` for the bundled ruleset."""
    own = [s for s in rules.sources if not s.startswith("redline/rules/")]
    return str(Path(own[-1]).resolve()) if own else None


def _frame_hash(sites: gpd.GeoDataFrame) -> str:
    """sha256 of an in-memory sites table: every column's values and the geometry's WKB."""
    digest = hashlib.sha256()
    digest.update(str(sites.crs).encode())
    digest.update(pd.util.hash_pandas_object(
        pd.DataFrame(sites.drop(columns=sites.geometry.name)).astype(str), index=False
    ).to_numpy().tobytes())
    for wkb in sites.geometry.to_wkb():
        digest.update(wkb or b"")
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    import geopandas
    import pyogrio
    import pyproj
    import shapely

    return {
        "redline": version("redline"),
        "python": platform.python_version(),
        "geos": shapely.geos_version_string,
        "proj": pyproj.proj_version_str,
        "gdal": pyogrio.__gdal_version_string__,
        "shapely": shapely.__version__,
        "geopandas": geopandas.__version__,
        "pyogrio": pyogrio.__version__,
        "pyproj": pyproj.__version__,
    }


def run_record(
    planning: Planning,
    rules: RuleSet,
    *,
    sites: str | os.PathLike[str] | gpd.GeoDataFrame,
    options: Mapping[str, Any] | None = None,
    disabled: Sequence[str] = (),
    started: datetime | None = None,
    duration_s: float | None = None,
    summary: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Describe a screening run: inputs with their hashes, versions, CRS, options, timing.

    Parameters
    ----------
    planning
        The one map screened against (its manifest and every file it names are hashed).
    rules
        The ruleset in force (each of its files is hashed).
    sites
        The sites file, or the sites table when they were given in memory (its content is
        hashed; :func:`redline.run.verify.verify` cannot re-run such a record).
    options
        The options of the run that can change what it writes (``layer``, ``crs``,
        ``chunk_size``, ``rules`` file, ...), as given.
    disabled
        Rule ids disabled for the run (:attr:`redline.Screening.disabled`).
    started, duration_s
        When the run started (UTC) and how long it took, in seconds.
    summary
        Sites per verdict (:meth:`redline.Screening.summary`), recorded as counts.

    Returns
    -------
    dict
        JSON-ready: ``format``, ``started``, ``duration_s``, ``inputs`` (``manifest``,
        ``planning`` by kind, ``rules``, ``sites``: each ``path`` and ``sha256``), ``ruleset``
        (``id``, ``version``, ``title``), ``versions``, ``working_crs``, ``options``
        (with ``absent`` kinds and ``disabled`` rules) and ``verdicts``.

    Examples
    --------
    >>> from redline import datasets, load_planning
    >>> from redline.rules import load_rules
    >>> record = run_record(load_planning(), load_rules(), sites=datasets.get_path("sites"))
    >>> record["ruleset"]["id"], sorted(record["inputs"]["planning"])[:3]
    ('jilin', ['boundary', 'cultivated_land', 'dem'])
    >>> [Path(f["path"]).name for f in record["inputs"]["planning"]["zoning"]]
    ['zoning.shp', 'zoning.shx', 'zoning.dbf', 'zoning.prj', 'zoning.cpg']
    """
    manifest = getattr(planning, "manifest", None)
    if isinstance(sites, str | os.PathLike):
        sites_entry: dict[str, Any] = _entry(Path(sites))
    else:
        sites_entry = {"path": None, "sha256": _frame_hash(sites), "in_memory": True}
    return {
        "format": RECORD_FORMAT,
        "started": started.astimezone(UTC).isoformat(timespec="seconds") if started else None,
        "duration_s": None if duration_s is None else round(duration_s, 3),
        "inputs": {
            "manifest": _entry(Path(manifest)) if manifest is not None else None,
            "planning": {kind: [_entry(path) for path in paths]
                         for kind, paths in _planning_files(planning).items()},
            "rules": [_entry(path) for path in _ruleset_files(rules)],
            "sites": sites_entry,
        },
        "ruleset": {"id": rules.id, "version": rules.version, "title": rules.title},
        "versions": _versions(),
        "working_crs": {"name": planning.crs.name, "wkt": planning.crs.to_wkt()},
        "options": {
            "rules": _rules_file(rules),
            **dict(options or {}),
            "absent": sorted(getattr(planning, "absent", ())),
            "disabled": list(disabled),
        },
        "verdicts": (None if summary is None
                     else dict(zip(summary["verdict"], map(int, summary["sites"]), strict=True))),
    }


def screening_record(screening: Screening) -> dict[str, Any]:
    """The record of a screening made in Python (:attr:`Screening.started` and its duration).

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.

    Returns
    -------
    dict
        As :func:`run_record`; the sites are the file they were read from when known
        (``sites.attrs["redline"]["path"]``), else their content.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> record = screening_record(screen(gpd.read_file(datasets.get_path("sites")).head(3)))
    >>> record["inputs"]["sites"]["in_memory"], record["duration_s"] > 0
    (True, True)
    """
    path = screening.sites.attrs.get("redline", {}).get("path")
    return run_record(
        screening.planning, screening.rules,
        sites=path if path is not None else screening.sites,
        disabled=getattr(screening, "disabled", ()),
        started=screening.started, duration_s=screening.duration_s,
        summary=screening.summary(),
    )


def write_record(record: Mapping[str, Any], directory: str | os.PathLike[str]) -> Path:
    """Write ``run.json`` into ``directory`` and the same record into its ``screening.gpkg``.

    The GeoPackage keeps it as dataset metadata under :data:`GPKG_METADATA_KEY`
    (``ogrinfo``/``pyogrio.read_info(path)["dataset_metadata"]`` show it).

    Parameters
    ----------
    record
        From :func:`run_record`.
    directory
        An output folder.

    Returns
    -------
    pathlib.Path
        The ``run.json`` written.

    Examples
    --------
    >>> import tempfile
    >>> import pyogrio
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(3))
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = result.to_file(folder)  # writes run.json too
    >>> read_record(folder)["ruleset"]["id"]
    'jilin'
    >>> meta = pyogrio.read_info(folder / "screening.gpkg", layer="sites")["dataset_metadata"]
    >>> json.loads(meta["redline_run"]) == read_record(folder)
    True
    """
    directory = Path(directory)
    text = json.dumps(record, ensure_ascii=False, indent=2)
    path = directory / RECORD_FILE
    tmp = path.with_name(f".{RECORD_FILE}.tmp")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)
    gpkg = directory / "screening.gpkg"
    if gpkg.exists():
        _gpkg_metadata(gpkg, json.dumps(record, ensure_ascii=False))
    return path


def _gpkg_metadata(gpkg: Path, text: str) -> None:
    """Store ``text`` as GDAL dataset metadata (the GeoPackage metadata extension)."""
    from xml.sax.saxutils import escape

    xml = (f'<GDALMultiDomainMetadata><Metadata><MDI key="{GPKG_METADATA_KEY}">{escape(text)}'
           "</MDI></Metadata></GDALMultiDomainMetadata>")
    with sqlite3.connect(gpkg) as db:
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS gpkg_metadata (
                id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
                md_scope TEXT NOT NULL DEFAULT 'dataset',
                md_standard_uri TEXT NOT NULL, mime_type TEXT NOT NULL DEFAULT 'text/xml',
                metadata TEXT NOT NULL DEFAULT '');
            CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
                reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT,
                row_id_value INTEGER,
                timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
                md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
                CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
                CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
            """
        )
        for table, column, scope in (("gpkg_metadata", None, "read-write"),
                                     ("gpkg_metadata_reference", None, "read-write")):
            db.execute(
                "INSERT INTO gpkg_extensions (table_name, column_name, extension_name, "
                "definition, scope) SELECT ?, ?, 'gpkg_metadata', "
                "'http://www.geopackage.org/spec121/#extension_metadata', ? WHERE NOT EXISTS "
                "(SELECT 1 FROM gpkg_extensions WHERE table_name = ? "
                "AND extension_name = 'gpkg_metadata')",
                (table, column, scope, table),
            )
        old = [row[0] for row in db.execute(
            "SELECT md_file_id FROM gpkg_metadata_reference WHERE reference_scope = 'geopackage'")]
        db.executemany("DELETE FROM gpkg_metadata_reference WHERE md_file_id = ?",
                       [(i,) for i in old])
        db.executemany("DELETE FROM gpkg_metadata WHERE id = ?", [(i,) for i in old])
        cursor = db.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', 'http://gdal.org', 'text/xml', ?)", (xml,))
        db.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, md_file_id) "
            "VALUES ('geopackage', ?)", (cursor.lastrowid,))


def read_record(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an output folder's ``run.json``.

    Parameters
    ----------
    directory
        An output folder written by ``redline screen`` or :meth:`redline.Screening.to_file`.

    Returns
    -------
    dict
        The record (see :func:`run_record`).

    Raises
    ------
    FileNotFoundError
        The folder has no ``run.json``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / RECORD_FILE).write_text('{"format": 1}', encoding="utf-8")
    >>> read_record(folder)
    {'format': 1}
    """
    path = Path(directory) / RECORD_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: the folder holds no run record "
                                "(written by `redline screen` and Screening.to_file)")
    result: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return result


@dataclass(frozen=True)
class Verification:
    """What :func:`redline.run.verify.verify` found.

    Attributes
    ----------
    code
        0 the outputs are reproduced; 1 they differ; 2 an input is missing (nothing re-run).
    missing
        Inputs that no longer exist (or were never files).
    changed_inputs
        Inputs whose sha256 differs from the record: ``"kind: path"``.
    changed_sites
        ``site_id`` → (recorded verdict, verdict now), for sites whose verdict changed.
    other_changes
        Other differences: sites added or gone, decisive rules, findings.

    Examples
    --------
    >>> Verification(code=0).message()
    'verified: the inputs are unchanged and the re-run reproduces the outputs'
    """

    code: int
    missing: tuple[str, ...] = ()
    changed_inputs: tuple[str, ...] = ()
    changed_sites: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    other_changes: tuple[str, ...] = ()

    def message(self) -> str:
        """The finding in words, one problem a line.

        Returns
        -------
        str

        Examples
        --------
        >>> print(Verification(code=1, changed_inputs=("redlines: /d/redlines.shp",),
        ...                    changed_sites={"S1": ("clear", "prohibited")}).message())
        differs from the record:
          input changed: redlines: /d/redlines.shp
          site S1: clear -> prohibited
        """
        if self.code == 0 and not self.changed_inputs:
            return "verified: the inputs are unchanged and the re-run reproduces the outputs"
        if self.code == 2:
            return "cannot re-run: " + "; ".join(f"input missing: {m}" for m in self.missing)
        lines = [f"input changed: {name}" for name in self.changed_inputs]
        lines += [f"site {site}: {old} -> {new}" for site, (old, new) in
                  self.changed_sites.items()]
        lines += list(self.other_changes)
        head = "differs from the record:" if self.code else (
            "the outputs are reproduced, but inputs changed:")
        return "\n".join([head, *(f"  {line}" for line in lines)])


def input_changes(record: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """The recorded inputs that are missing, and those whose sha256 changed.

    Parameters
    ----------
    record
        From :func:`read_record`.

    Returns
    -------
    (list of str, list of str)
        Missing inputs (or given in memory) and changed inputs, each ``"kind: path"``.

    Examples
    --------
    >>> from redline import datasets, load_planning
    >>> from redline.rules import load_rules
    >>> record = run_record(load_planning(), load_rules(), sites=datasets.get_path("sites"))
    >>> input_changes(record)
    ([], [])
    """
    missing, changed = [], []
    for kind, entry in _inputs(record):
        path = entry.get("path")
        if path is None:
            missing.append(f"{kind}: given in memory, not from a file")
        elif not Path(path).is_file():
            missing.append(f"{kind}: {path}")
        elif file_hash(path) != entry["sha256"]:
            changed.append(f"{kind}: {path}")
    return missing, changed


def compare_outputs(recorded: str | os.PathLike[str], again: str | os.PathLike[str]
                    ) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Compare two output folders' ``sites.csv`` and ``findings.csv``.

    Parameters
    ----------
    recorded
        The folder on record.
    again
        The folder of the re-run.

    Returns
    -------
    (dict, list of str)
        ``site_id`` → (verdict on record, verdict now) for the sites whose verdict changed,
        and every other difference in words (sites added or gone, decisive rule, finding
        count, reason; findings gone, new, or with another overlap to the cm²).

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = screen(gpd.read_file(datasets.get_path("sites")).head(3)).to_file(folder)
    >>> compare_outputs(folder, folder)
    ({}, [])
    """
    tables = {
        name: [pd.read_csv(Path(folder) / f"{name}.csv", encoding=_CSV_ENCODING, dtype=str,
                           keep_default_na=False) for folder in (recorded, again)]
        for name in ("sites", "findings")
    }
    changed, other = _compare_sites(*tables["sites"])
    return changed, other + _compare_findings(*tables["findings"])


def _inputs(record: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    inputs = record["inputs"]
    out = [("manifest", inputs["manifest"])] if inputs.get("manifest") else []
    out += [(kind, entry) for kind, entries in inputs["planning"].items() for entry in entries]
    out += [("rules", entry) for entry in inputs["rules"]]
    out.append(("sites", inputs["sites"]))
    return out


def _compare_sites(old: pd.DataFrame, new: pd.DataFrame
                   ) -> tuple[dict[str, tuple[str, str]], list[str]]:
    old, new = old.set_index("site_id"), new.set_index("site_id")
    other = [f"site {s}: no longer screened" for s in old.index.difference(new.index)]
    other += [f"site {s}: new" for s in new.index.difference(old.index)]
    common = old.index.intersection(new.index)
    a, b = old.loc[common], new.loc[common]
    flips = a.index[a["verdict"] != b["verdict"]]
    changed = {str(s): (str(a.at[s, "verdict"]), str(b.at[s, "verdict"])) for s in flips}
    for column in _COMPARED_SITE_COLUMNS[1:]:
        for site in a.index[(a[column] != b[column]) & (a["verdict"] == b["verdict"])]:
            other.append(f"site {site}: {column} {a.at[site, column]!r} -> "
                         f"{b.at[site, column]!r}")
    return changed, other


def _compare_findings(old: pd.DataFrame, new: pd.DataFrame) -> list[str]:
    def keyed(table: pd.DataFrame) -> pd.Series:
        area = pd.to_numeric(table["overlap_m2"], errors="coerce").round(2)
        return pd.Series(area.to_numpy(), index=pd.MultiIndex.from_frame(
            table[list(_FINDING_KEY)])).groupby(level=[0, 1, 2]).sum()

    a, b = keyed(old), keyed(new)
    out = [f"finding gone: {' / '.join(k)}" for k in a.index.difference(b.index)]
    out += [f"finding new: {' / '.join(k)}" for k in b.index.difference(a.index)]
    common = a.index.intersection(b.index)
    moved = common[(a[common] - b[common]).abs().to_numpy() > 0.01]
    out += [f"finding {' / '.join(k)}: overlap {a[k]:.2f} -> {b[k]:.2f} m²" for k in moved]
    return out
