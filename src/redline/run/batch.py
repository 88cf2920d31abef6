"""Screening files larger than memory: read in chunks, screen each, write incrementally.

:func:`screen_file` writes the same files as ``write_screening(screen(read_layer(path)))``
(same rows, order and values) while holding one chunk of sites at a time. The outputs grow in a
temporary folder inside the output folder and are moved into place only when every chunk has
been screened and the files check out, so a failure leaves the previous outputs as they were.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio
from tqdm.auto import tqdm

from redline.diff import with_previous
from redline.errors import LayerError
from redline.io import staged, write_layer
from redline.planning import Planning, as_planning
from redline.record import run_record, write_record
from redline.report import (
    CSV_ENCODING,
    OUTPUT_FILES,
    assessment_table,
    per_site_tables,
    provenance,
)
from redline.rules import RuleSet, as_ruleset
from redline.run.executors import broadcast, check_jobs, dask_map, to_dask
from redline.run.parts import Part, concat_screenings, screen_part
from redline.screening import Screening, disabled_rules, source_of
from redline.sites import iter_sites

if TYPE_CHECKING:
    import distributed

__all__ = ["BatchScreening", "screen_file"]

log = logging.getLogger(__name__)

_GPKG_LAYERS = ("sites", "findings")
_CSV_ROLES = ("sites", "findings", "three_lines")


@dataclass(frozen=True)
class BatchScreening:
    """What :func:`screen_file` wrote.

    Attributes
    ----------
    paths
        Role → file, for the roles of :data:`redline.report.OUTPUT_FILES`.
    summary
        Sites per verdict, as :meth:`redline.Screening.summary`.
    n_sites, n_findings, n_chunks
        Totals over the file.
    screening
        The whole screening in memory when the file held at most ``gather_up_to`` sites (for a
        map), else ``None``.

    Examples
    --------
    >>> import tempfile
    >>> from redline import datasets
    >>> out = screen_file(datasets.get_path("sites"), tempfile.mkdtemp(), gather_up_to=1000)
    >>> out
    BatchScreening(paths={'geopackage': ...}, n_sites=247, n_findings=687, n_chunks=1)
    >>> out.summary
            verdict       结论  sites
    0  not_assessed      未评估      2
    1    prohibited       禁止     71
    2   conditional  需审批/有条件     94
    3      advisory       提示     25
    4         clear    未发现冲突     55
    >>> len(out.screening.sites)
    247
    """

    paths: dict[str, Path]
    summary: pd.DataFrame = field(repr=False)
    n_sites: int
    n_findings: int
    n_chunks: int
    screening: Screening | None = field(default=None, repr=False)


def screen_file(
    sites_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    planning: Planning | None = None,
    rules: RuleSet | str | Path | None = None,
    layer: str | None = None,
    crs: Any = None,
    fields: dict[str, str] | None = None,
    chunk_size: int = 100_000,
    n_jobs: int | None = None,
    progress: bool = False,
    client: distributed.Client | None = None,
    gather_up_to: int = 0,
    options: Mapping[str, Any] | None = None,
    previous: pd.Series | None = None,
    disable: Iterable[str] = (),
) -> BatchScreening:
    """Screen a sites file chunk by chunk and write the screening outputs into ``out_dir``.

    Parameters
    ----------
    sites_path
        Sites file of any format :func:`redline.sites.read_sites` reads (GeoPackage,
        Shapefile, CSV, Excel, boundary-point TXT …), read in chunks by
        :func:`redline.sites.iter_sites`.
    out_dir
        Output folder (created if needed); receives the files of
        :data:`redline.report.OUTPUT_FILES`.
    planning, rules
        As for :func:`redline.screen`; loaded once.
    layer
        Layer name inside a multi-layer file.
    crs
        CRS to assume for sites that declare none (as for :func:`redline.screen`).
    fields
        Canonical site field → the file's column (as for :func:`redline.sites.read_sites`).
    chunk_size
        Sites per chunk: memory use grows with it, not with the file (results do not depend
        on it).
    n_jobs
        Cores per chunk without a client (default: all): see :func:`redline.screen`.
    progress
        Show a progress bar over the chunks.
    client
        A ``distributed.Client``: each chunk is split over its workers (planning sent once).
    gather_up_to
        Also return the whole :class:`~redline.screening.Screening` when the file holds at most
        this many sites (e.g. to draw a map); memory then grows with the file up to that size.
    options
        Further options of the run to put on record in ``run.json`` (e.g. the command line's).
    previous
        Verdicts of an earlier run by ``site_id`` (:func:`redline.diff.previous_verdicts`):
        the sites get ``previous_verdict`` and ``changed``.

    disable
        Rules to switch off (ids or globs), as for :func:`redline.screen`.
    Returns
    -------
    BatchScreening

    Raises
    ------
    LayerError
        Unreadable file, missing ``site_id`` values, or a ``site_id`` used twice (within a
        chunk or across chunks).
    CRSError
        Sites without CRS (and no ``crs=``), or none of them in the planning's region.

    Examples
    --------
    >>> import tempfile
    >>> from redline import datasets
    >>> out = screen_file(datasets.get_path("sites"), tempfile.mkdtemp(), chunk_size=200)
    >>> out.n_sites, out.n_chunks, sorted(out.paths) == sorted(OUTPUT_FILES)
    (247, 2, True)
    """
    started, clock = datetime.now(UTC), time.perf_counter()
    planning = as_planning(planning)
    ruleset, disabled = disabled_rules(as_ruleset(rules), disable)
    jobs = check_jobs(n_jobs)
    out_dir = Path(out_dir)
    with staged(out_dir) as tmp:
        writer = _Writer(tmp, assessment_table(planning, ruleset, disabled))
        try:
            seen: set[str] = set()
            inside, outside = False, None  # for the all-outside check, over the whole file
            gathered: list[Screening] | None = [] if gather_up_to > 0 else None
            chunks = iter_sites(sites_path, chunk_size=chunk_size, layer=layer, crs=crs,
                                fields=fields)
            refs = broadcast(client, planning=planning, ruleset=ruleset) if client else None
            n_chunks = 0
            first = next(chunks)  # always yielded, empty for an empty file: the bar's total
            features = first.attrs["redline"]["features"]
            with tqdm(desc="screening", unit=" sites", total=features if features >= 0 else None,
                      disable=not progress) as bar:
                for chunk in itertools.chain([first], chunks):
                    for part in _screen_chunk(
                        chunk, planning, ruleset, crs=crs, n_jobs=jobs, client=client, refs=refs
                    ):
                        _check_unique(part.sites, seen)
                        screening = replace(part.screening(planning, ruleset), disabled=disabled)
                        if previous is not None:
                            screening = with_previous(screening, previous)
                        writer.add(screening)
                        if gathered is not None:
                            gathered.append(screening)
                            if writer.n_sites > gather_up_to:
                                gathered = None
                        inside = inside or part.inside
                        outside = outside or part.outside
                    n_chunks += 1
                    bar.update(len(chunk))
            if outside is not None and not inside:
                raise outside
            paths = writer.finish()
            paths["record"] = write_record(run_record(
                planning, ruleset, sites=sites_path, summary=writer.summary,
                options={"layer": layer, "crs": None if crs is None else str(crs),
                         "fields": fields, "chunk_size": chunk_size, **dict(options or {})},
                started=started, duration_s=time.perf_counter() - clock, disabled=disabled,
            ), tmp)
        finally:
            writer.close()
    written = {role: out_dir / path.name for role, path in paths.items()}
    log.info("screened %d sites in %d chunks into %s", writer.n_sites, n_chunks, out_dir)
    return BatchScreening(
        paths=written,
        summary=writer.summary,
        n_sites=writer.n_sites,
        n_findings=writer.n_findings,
        n_chunks=n_chunks,
        screening=concat_screenings(gathered) if gathered else None,
    )


def _screen_chunk(
    chunk: gpd.GeoDataFrame,
    planning: Planning,
    ruleset: RuleSet,
    *,
    crs: Any,
    n_jobs: int,
    client: distributed.Client | None,
    refs: list[Any] | None,
) -> list[Part]:
    """One chunk: screened here on ``n_jobs`` cores, or split over the client's workers."""
    if client is None:
        return [screen_part(chunk, planning, ruleset, crs=crs, n_jobs=n_jobs)]
    return dask_map(client, screen_part, to_dask(chunk, client), refs or [], {"crs": crs},
                    progress=False, desc="screening")


def _check_unique(sites: gpd.GeoDataFrame, seen: set[str]) -> None:
    """Refuse site ids already used by an earlier chunk; remember this chunk's."""
    ids = sites["site_id"].astype(str).tolist()
    again = sorted(seen.intersection(ids))
    if again:
        raise LayerError(
            f"{source_of(sites)}: site_id values are not unique: {again[:10]} (used again in rows "
            f"{sites.index[sites['site_id'].astype(str).isin(again)][:10].tolist()}, across "
            "chunks); findings are reported by site_id, so each site needs its own"
        )
    seen.update(ids)


class _Writer:
    """The screening outputs, appended part by part in ``folder``."""

    def __init__(self, folder: Path, assessment: pd.DataFrame) -> None:
        self.folder = folder
        self.assessment = assessment
        self.gpkg = folder / OUTPUT_FILES["geopackage"]
        self.handles: dict[str, IO[str]] = {}
        self.rows = dict.fromkeys(_CSV_ROLES, 0)
        self.layers: set[str] = set()
        self.empty_findings: gpd.GeoDataFrame | None = None
        self.summary = pd.DataFrame()
        self.about: dict[str, str] = {}
        self.n_sites = self.n_findings = 0

    def add(self, screening: Screening) -> None:
        self.about = provenance(screening)
        sites = gpd.GeoDataFrame(screening.sites).reset_index(drop=True)
        findings = screening.findings
        self._layer(sites, "sites")
        if len(findings):
            self._layer(findings, "findings")
        elif self.empty_findings is None:
            self.empty_findings = findings
        for role, table in per_site_tables(screening).items():
            self._csv(role, table)
        summary = screening.summary()
        if self.summary.empty:
            self.summary = summary
        else:
            self.summary = self.summary.assign(sites=self.summary["sites"] + summary["sites"])
        self.n_sites += len(sites)
        self.n_findings += len(findings)

    def _layer(self, gdf: gpd.GeoDataFrame, name: str) -> None:
        # "Unknown" geometry type: later chunks may hold other types than the first.
        pyogrio.write_dataframe(
            gdf,
            self.gpkg,
            layer=name,
            driver="GPKG",
            append=name in self.layers,
            geometry_type="Unknown",
            layer_metadata=None if name in self.layers else self.about,
        )
        self.layers.add(name)

    def _csv(self, role: str, table: pd.DataFrame) -> None:
        first = role not in self.handles
        if first:
            path = self.folder / OUTPUT_FILES[role]
            self.handles[role] = open(path, "w", encoding=CSV_ENCODING, newline="")  # noqa: SIM115
        table.to_csv(self.handles[role], index=False, header=first)
        self.rows[role] += len(table)

    def finish(self) -> dict[str, Path]:
        """Complete and check the files; role → path inside the folder."""
        if "findings" not in self.layers and self.empty_findings is not None:
            write_layer(self.empty_findings, self.gpkg, layer="findings", metadata=self.about)
            self.layers.add("findings")
        self.close()
        paths = {"geopackage": self.gpkg}
        for name in _GPKG_LAYERS:
            expected = self.n_sites if name == "sites" else self.n_findings
            got = pyogrio.read_info(self.gpkg, layer=name)["features"]
            if got != expected:
                raise LayerError(
                    f"{self.gpkg}: layer {name!r} holds {got} rows, "
                    f"{expected} were written. Nothing was replaced."
                )
        for role in _CSV_ROLES:
            path = self.folder / OUTPUT_FILES[role]
            got = sum(
                len(block)
                for block in pd.read_csv(
                    path,
                    encoding=CSV_ENCODING,
                    dtype=str,
                    keep_default_na=False,
                    usecols=[0],
                    chunksize=200_000,
                )
            )
            if got != self.rows[role]:
                raise LayerError(
                    f"{path}: holds {got} rows, {self.rows[role]} were written. "
                    "Nothing was replaced."
                )
            paths[role] = path
        paths["summary"] = write_layer(
            self.summary.assign(**self.about), self.folder / OUTPUT_FILES["summary"],
            encoding=CSV_ENCODING,
        )
        paths["assessment"] = write_layer(
            self.assessment, self.folder / OUTPUT_FILES["assessment"], encoding=CSV_ENCODING
        )
        return {role: paths[role] for role in OUTPUT_FILES if role in paths}

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()
