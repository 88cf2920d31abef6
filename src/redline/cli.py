"""The ``redline`` command: batch screening and classification from files.

The CLI holds no logic: it reads, calls the library, writes, and turns redline's errors into
exit code 2 with the message.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from redline import schema
from redline.errors import RedlineError

app = typer.Typer(
    name="redline",
    help="Screen proposed construction sites against a province's ecological planning layers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

log = logging.getLogger("redline")


class FailOn(StrEnum):
    """Verdicts that make ``redline screen`` exit with code 1."""

    prohibited = "prohibited"
    conditional = "conditional"
    advisory = "advisory"
    never = "never"


PlanningOption = Annotated[
    Optional[Path],  # noqa: UP045 - typer needs Optional
    typer.Option(
        "--planning",
        "-p",
        help="Planning manifest (TOML); default: the bundled sample.",
        exists=True,
        dir_okay=False,
    ),
]
RulesOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--rules",
        "-r",
        help="Ruleset file extending the bundled Jilin rules.",
        exists=True,
        dir_okay=False,
    ),
]
CrsOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--crs", help="CRS to assume when the input file declares none, e.g. EPSG:4490."),
]
LayerOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--layer", help="Layer inside a GeoPackage, or sheet of an Excel workbook."),
]
VerboseOption = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More log output (-v info, -vv debug).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.")]
FieldsOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--fields",
        help="Site columns the built-in names (项目编号, 项目名称, 项目类型, 用途 …) do not "
        "find, e.g. site_id=编码,project_type=建设类型 (also [sites.fields] in the manifest).",
    ),
]
SITES_FORMATS = ".gpkg, .shp, .geojson, .csv, .xlsx or a 界址点坐标 .txt"


WorkersOption = Annotated[Optional[int], typer.Option(  # noqa: UP045
    "--workers", min=1, help="Run on a local dask cluster of N worker processes.")]
SchedulerOption = Annotated[Optional[str], typer.Option(  # noqa: UP045
    "--scheduler", help="Address of an existing dask scheduler, e.g. tcp://host:8786.")]
#: ``map.html`` is drawn only for inputs of at most this many sites.
MAP_MAX_SITES = 100_000


@contextlib.contextmanager
def _dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A dask client for --workers (a local cluster) or --scheduler (an existing one)."""
    if workers and scheduler:
        raise typer.BadParameter("give --workers or --scheduler, not both")
    if not (workers or scheduler):
        yield None
        return
    from distributed import Client, LocalCluster

    # distributed configures its loggers at import, at INFO: follow the CLI's verbosity instead
    logging.getLogger("distributed").setLevel(log.level)
    if scheduler:
        with Client(scheduler) as client:
            yield client
    else:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client


def _setup(verbose: int, quiet: bool) -> None:
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(level)
    warnings.formatwarning = _format_warning


def _format_warning(message: Warning | str, category: type[Warning], filename: str,
                    lineno: int, line: str | None = None) -> str:
    """A warning as one line, without the Python source line (shown also with -q), on a line
    of its own beside a progress bar (a terminal's bar line is cleared first)."""
    start = "\r\x1b[K" if sys.stderr.isatty() else "\n"
    return start + "warning: " + " ".join(str(message).split()) + "\n"


def _about(one_map: Any, ruleset: Any) -> str:
    """The line naming the one map and the ruleset a run used."""
    sample = " — illustrative sample, not official data" if one_map.illustrative else ""
    return (f"one map: {one_map.name or '(unnamed)'}{sample}; ruleset: {ruleset.id} "
            f"{ruleset.version}")


def _listed(text: str) -> list[str]:
    """A comma-separated option as a list of stripped, non-empty items."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _fail(err: Exception) -> typer.Exit:
    typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=2)


@app.command()
def screen(
    sites: Annotated[
        Path,
        typer.Argument(help=f"Sites file ({SITES_FORMATS}).", exists=True, dir_okay=False),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    planning: PlanningOption = None,
    rules: RulesOption = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a site's verdict is this strict or stricter "
            "(not_assessed counts as strictest).",
        ),
    ] = FailOn.never,
    map_: Annotated[bool, typer.Option("--map/--no-map", help="Write map.html.")] = True,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline/--online", help="Inline every map asset so map.html needs no network."
        ),
    ] = True,
    basemap: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--basemap", help="Map tiles: none (default), osm, tianditu, or an XYZ URL template "
        "such as an intranet tile server.")] = None,
    tianditu_key: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--tianditu-key", envvar="TIANDITU_KEY", help="Tianditu (天地图) key for --basemap "
        "tianditu.")] = None,
    chunk_size: Annotated[int, typer.Option(
        "--chunk-size", min=1, help="Sites read and screened at a time; memory grows with it, "
        "not with the file.")] = 100_000,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    crs: CrsOption = None,
    layer: LayerOption = None,
    fields: FieldsOption = None,
    reports: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--reports", help="Write a review report per site into this folder.",
        file_okay=False)] = None,
    report_format: Annotated[str, typer.Option(
        "--report-format", help="Report formats, comma-separated: html, pdf, docx.")] = "html",
    report_verdicts: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--report-verdicts", help="Reports only for these verdicts, comma-separated, e.g. "
        "prohibited,conditional (default: every site).")] = None,
    compare: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--compare", help="An earlier output folder: add previous_verdict and changed to the "
        "sites and write verdict_changes.csv (each flip with its planning change).",
        exists=True, file_okay=False)] = None,
    absent: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--absent", help="Layer kinds there are none of in this area, comma-separated (e.g. "
        "reserves,water_sources): their rules find nothing. Not for data you do not have.")
    ] = None,
    disable: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--disable", help="Rules to switch off for this run, comma-separated ids or globs "
        "(e.g. LC-FOREST,SLOPE-*).")] = None,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Screen SITES and write verdicts, findings, the 三线 table and a map into --out."""
    from redline.batch import screen_file
    from redline.planning import load_planning
    from redline.rules import load_rules
    from redline.sites import manifest_fields, parse_fields

    _setup(verbose, quiet)
    try:
        site_fields = {**manifest_fields(planning), **parse_fields(fields)}
        declared = [k.strip() for k in (absent or "").split(",") if k.strip()]
        one_map = load_planning(planning, absent=declared)
        ruleset = load_rules(rules)
        if not quiet:
            typer.echo(_about(one_map, ruleset))
        previous = None
        if compare is not None:
            from redline.diff import previous_verdicts

            previous = previous_verdicts(compare)
        options = {"fail_on": fail_on.value, "map": map_, "offline": offline,
                   "basemap": basemap, "reports": None if reports is None else str(reports),
                   "report_format": report_format, "report_verdicts": report_verdicts,
                   "compare": None if compare is None else str(compare.resolve())}
        in_memory = map_ or reports is not None or compare is not None
        with _dask_client(workers, scheduler) as client:
            batch = screen_file(sites, out, planning=one_map, rules=ruleset, layer=layer,
                                crs=crs, fields=site_fields or None, chunk_size=chunk_size,
                                progress=not quiet, client=client,
                                gather_up_to=MAP_MAX_SITES if in_memory else 0,
                                options=options, previous=previous,
                                disable=disable or ())
        written = dict(batch.paths)
        if (reports is not None or compare is not None) and batch.screening is None:
            typer.echo(f"reports and verdict changes not written: {batch.n_sites:,} sites "
                       f"(they are written for at most {MAP_MAX_SITES:,})", err=True)
        elif compare is not None and batch.screening is not None:
            from redline.diff import write_flips

            written["verdict_changes"] = write_flips(batch.screening, compare, out,
                                                     echo=None if quiet else typer.echo)
        if reports is not None and batch.screening is not None:
            from redline.record import read_record
            from redline.review import write_reports

            files = write_reports(batch.screening, reports, formats=_listed(report_format),
                                  verdicts=_listed(report_verdicts) if report_verdicts else None,
                                  record=read_record(out), progress=not quiet)
            if not quiet:
                typer.echo(f"{len(files)} reports in {reports}")
        if map_ and batch.screening is not None:
            from redline.maps import save_map

            tiles = None if basemap in (None, "none") else basemap
            conflict_map = batch.screening.map(basemap=tiles, tianditu_key=tianditu_key)
            written["map"] = save_map(conflict_map, out / "map.html", offline=offline)
    except RedlineError as err:
        raise _fail(err) from err
    if not quiet:
        typer.echo(batch.summary.to_string(index=False))
        for role, path in written.items():
            typer.echo(f"{role:>12}: {path}")
        if map_ and batch.screening is None:
            typer.echo(f"map.html not written: {batch.n_sites:,} sites "
                       f"(maps are drawn for at most {MAP_MAX_SITES:,})")
    if fail_on is not FailOn.never:
        limit = schema.severity_rank(fail_on.value)
        counts = batch.summary.set_index("verdict")["sites"]
        if any(counts[v] for v in schema.VERDICTS if schema.severity_rank(v) <= limit):
            raise typer.Exit(code=1)


@app.command()
def classify(
    parcels: Annotated[
        Path,
        typer.Argument(help=f"Parcels file ({SITES_FORMATS}).", exists=True, dir_okay=False),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output file: .gpkg (default format), .csv or .geojson "
                     "(its folder is created)."),
    ],
    planning: PlanningOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
    crs: CrsOption = None,
    layer: LayerOption = None,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Classify PARCELS into key / restricted / prohibited zones and write them to --out."""
    from redline.io import write_layer
    from redline.planning import load_planning
    from redline.report import planning_provenance
    from redline.run.api import classify as run_classify
    from redline.sites import read_features

    _setup(verbose, quiet)
    if out.suffix == "":
        out = out.with_suffix(".gpkg")
    created = not out.parent.exists()
    try:
        one_map = load_planning(planning)
        if not quiet:
            typer.echo(f"one map: {one_map.name or '(unnamed)'}"
                       + (" — illustrative sample, not official data" if one_map.illustrative
                          else ""))
        data = read_features(parcels, layer=layer, crs=crs)
        with _dask_client(workers, scheduler) as client:
            if client is not None:
                from redline.run.executors import to_dask

                data = to_dask(data, client)
            result = run_classify(data, one_map, progress=not quiet)
        out.parent.mkdir(parents=True, exist_ok=True)
        about = planning_provenance(one_map)
        write_layer(result.assign(**about), out, metadata=about)
    except RedlineError as err:
        if created and out.parent.is_dir() and not any(out.parent.iterdir()):
            out.parent.rmdir()
        raise _fail(err) from err
    if not quiet:
        typer.echo(_zone_counts(result).to_string(index=False))
        typer.echo(f"wrote {out}")


def _zone_counts(result: Any) -> Any:
    """Parcels per dominant zone, with Chinese names; not-assessed parcels counted by name."""
    import pandas as pd

    zone = result["zone"].where(result["status"] != "not_assessed", "not_assessed")
    counts = zone.value_counts()
    labels = {**schema.ZONE_LABELS, "not_assessed": schema.VERDICT_LABELS["not_assessed"]}
    return pd.DataFrame({"zone": counts.index, "名称": [labels.get(z, "") for z in counts.index],
                         "parcels": counts.to_numpy()})


@app.command()
def layers(planning: PlanningOption = None) -> None:
    """Summarise the planning layers (kinds, feature counts, repairs)."""
    from redline.planning import load_planning

    try:
        typer.echo(repr(load_planning(planning)))
    except RedlineError as err:
        raise _fail(err) from err


class TableFormat(StrEnum):
    """How ``redline rules`` prints the rules."""

    table = "table"
    csv = "csv"
    markdown = "markdown"


#: Columns ``redline rules --format table`` shows (the full texts are in csv and markdown).
RULES_TABLE_COLUMNS = ("id", "layer", "test", "severity", "title_zh")


@app.command()
def rules(
    rules_file: RulesOption = None,
    format_: Annotated[TableFormat, typer.Option(
        "--format", "-f", help="table: one short line per rule; csv: every column, for a "
        "spreadsheet; markdown: every column, for a document.")] = TableFormat.table,
) -> None:
    """List the rules in force: id, layer, test, severity, clause (and whether it is verified)."""
    from redline.rules import load_rules

    try:
        ruleset = load_rules(rules_file)
    except RedlineError as err:
        raise _fail(err) from err
    table = ruleset.to_frame()
    if format_ is TableFormat.csv:
        typer.echo(table.to_csv(index=False), nl=False)
    elif format_ is TableFormat.markdown:
        typer.echo(_markdown(table))
    else:
        typer.echo(f"{ruleset.title} ({ruleset.id} {ruleset.version}), {len(table)} rules")
        shown = table[[c for c in RULES_TABLE_COLUMNS if c in table.columns]]
        typer.echo(shown.to_string(index=False, max_colwidth=40))
        unverified = table.loc[~table["clause_verified"], "id"].tolist()
        if unverified:
            typer.echo(f"\n{len(unverified)} of {len(table)} rules cite a clause not verified "
                       f"against its text (〔未核验 unverified〕; see clause_source): "
                       f"{', '.join(unverified)}")


def _markdown(table: Any) -> str:
    """A pipe table (no extra dependency): ``|`` in cells escaped, line breaks as spaces."""
    def cell(value: object) -> str:
        text = "" if value is None or (isinstance(value, float) and value != value) else str(value)
        return " ".join(text.split()).replace("|", "\\|")

    head = "| " + " | ".join(map(cell, table.columns)) + " |"
    rule = "|" + "---|" * len(table.columns)
    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([head, rule, *rows])


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("out/demo"),
    quiet: QuietOption = False,
) -> None:
    """Screen the bundled sample sites and write verdicts, findings, the 三线 table and the
    offline map into --out (what `make demo` does; the sample is illustrative)."""
    from redline import datasets

    screen(Path(datasets.get_path("sites")), out, quiet=quiet)


def _point(text: str, option: str) -> tuple[float, float]:
    """``X,Y`` from the command line."""
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected X,Y (two numbers), got {text!r}",
                                 param_hint=option) from None
    return x, y


@app.command()
def alternatives(
    sites: Annotated[
        Path,
        typer.Argument(help=f"Sites file ({SITES_FORMATS}).", exists=True, dir_okay=False),
    ],
    site_id: Annotated[str, typer.Option("--site-id", help="The site to place better.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    radius: Annotated[float, typer.Option(
        "--radius", min=1, help="How far (m) a candidate may move.")] = 2000,
    n: Annotated[int, typer.Option("--n", min=1, help="Candidates to keep.")] = 5,
    rotate: Annotated[bool, typer.Option(
        "--rotate/--no-rotate", help="Also try the footprint turned (45° steps).")] = True,
    project_type: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--project-type", help="Project type (default: the site's project_type column).")] = None,
    planning: PlanningOption = None,
    rules: RulesOption = None,
    crs: CrsOption = None,
    layer: LayerOption = None,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Better placements of one site within --radius metres, screened and ranked, into --out."""
    from redline.avoidance import alternatives as find_alternatives
    from redline.io import staged, write_layer
    from redline.planning import load_planning
    from redline.sites import read_sites

    _setup(verbose, quiet)
    try:
        data = read_sites(sites, layer=layer, crs=crs)
        ids = data["site_id"].astype(str) if "site_id" in data.columns else None
        if ids is None or not (ids == site_id).any():
            raise _fail(ValueError(f"{sites}: no site with site_id {site_id!r}; give one of "
                                   "its site_id values with --site-id"))
        found = find_alternatives(data[(ids == site_id).to_numpy()], load_planning(planning),
                                  project_type=project_type, radius_m=radius, n=n, rules=rules,
                                  rotate=rotate)
        with staged(out) as folder:
            write_layer(found, folder / "alternatives.gpkg")
            write_layer(found, folder / "alternatives.csv")
    except RedlineError as err:
        raise _fail(err) from err
    if not quiet:
        record = found.attrs["redline"]
        typer.echo(f"original: {record['original']['verdict']}, red line "
                   f"{record['original']['redline_m2']:.2f} m², farmland "
                   f"{record['original']['farmland_m2']:.2f} m²")
        typer.echo(found.drop(columns=found.geometry.name).to_string(index=False))
        if record["evidence"]:
            typer.echo(record["evidence"])
        typer.echo(f"wrote {out / 'alternatives.gpkg'}, {out / 'alternatives.csv'}")


@app.command()
def route(
    start: Annotated[str, typer.Option("--from", help="Start point X,Y (in --crs).")],
    end: Annotated[str, typer.Option("--to", help="End point X,Y (in --crs).")],
    width: Annotated[float, typer.Option("--width", min=0.1, help="Corridor width (m).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    via: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--via", help="A point X,Y the alignment must pass (repeat for several).")] = None,
    crs: Annotated[str, typer.Option(
        "--crs", help="CRS of the coordinates.")] = "EPSG:4490",
    project_type: Annotated[str, typer.Option(
        "--project-type", help="Project type the rules are read for.")] = "linear_infrastructure",
    resolution: Annotated[Optional[float], typer.Option(  # noqa: UP045
        "--resolution", min=0.1, help="Grid cell size (m); default from width and distance.")]
    = None,
    n_alternatives: Annotated[int, typer.Option(
        "--alternatives", min=0, help="Distinct other alignments to compare.")] = 3,
    planning: PlanningOption = None,
    rules: RulesOption = None,
    map_: Annotated[bool, typer.Option("--map/--no-map", help="Write map.html.")] = True,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
) -> None:
    """The least-conflict alignment between --from and --to, compared (比选), into --out."""
    from redline.avoidance import route as find_route
    from redline.planning import load_planning

    _setup(verbose, quiet)
    points = [_point(start, "--from"), *(_point(v, "--via") for v in via or ()),
              _point(end, "--to")]
    try:
        found = find_route(points[0], points[-1], load_planning(planning), width_m=width,
                           project_type=project_type, rules=rules, resolution_m=resolution,
                           via=points[1:-1], alternatives=n_alternatives, crs=crs)
        written = found.to_file(out)
        if map_:
            from redline.maps import save_map

            written["map"] = save_map(found.map(basemap=None), out / "map.html")
    except RedlineError as err:
        raise _fail(err) from err
    if not quiet:
        typer.echo(found.comparison().to_string(index=False))
        for statement in found.evidence["statement"]:
            typer.echo(statement)
        for role, path in written.items():
            typer.echo(f"{role:>12}: {path}")


@app.command()
def indicators(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    by: Annotated[str, typer.Option(
        "--by", help="Units: province, prefecture, county or all.")] = "prefecture",
    planning: PlanningOption = None,
    quiet: QuietOption = False,
) -> None:
    """The seed's targets per unit: indicators.csv, indicators.gpkg, map.html and charts."""
    from redline.io import staged, write_layer
    from redline.maps import save_map
    from redline.maps.programme import indicator_map
    from redline.planning import load_planning
    from redline.report import CSV_ENCODING
    from redline.targets import indicator_chart
    from redline.targets import indicators as compute
    from redline.targets import units as boundary_units

    try:
        one_map = load_planning(planning)
        table = compute(one_map, by=by)
        wide = table.pivot(index="unit_id", columns="indicator", values="value")
        places = boundary_units(one_map, by=by).set_index("feature_id")
        with staged(out) as folder:
            table.to_csv(folder / "indicators.csv", index=False, encoding=CSV_ENCODING)
            write_layer(places.join(wide[list(dict.fromkeys(table["indicator"]))])
                        .reset_index(), folder / "indicators.gpkg")
            save_map(indicator_map(table, one_map), folder / "map.html")
            (folder / "charts").mkdir()
            for name in table.loc[table["target"].notna(), "indicator"].unique():
                indicator_chart(table, name).savefig(folder / "charts" / f"{name}.png", dpi=120)
    except RedlineError as err:
        raise _fail(err) from err
    if not quiet:
        shown = table[table["target"].notna()][["unit", "indicator_zh", "value", "target", "met"]]
        typer.echo(shown.to_string(index=False))
        typer.echo(f"wrote {out}")


@app.command()
def migration(
    settlements: Annotated[
        Path,
        typer.Argument(help="Settlements file (points or polygons with a population column).",
                       exists=True, dir_okay=False),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    population: Annotated[Optional[str], typer.Option(  # noqa: UP045
        "--population", help="The population column (default: population, 人口 …).")] = None,
    planning: PlanningOption = None,
    crs: CrsOption = None,
    layer: LayerOption = None,
    quiet: QuietOption = False,
) -> None:
    """The order of ecological migration out of protected areas: tables and map into --out."""
    from redline.io import read_layer
    from redline.maps import save_map
    from redline.migration import migration_order
    from redline.planning import load_planning

    try:
        result = migration_order(read_layer(settlements, layer=layer, crs=crs),
                                 load_planning(planning), population=population)
        written = result.to_file(out)
        written["map"] = save_map(result.map(), out / "map.html")
    except RedlineError as err:
        raise _fail(err) from err
    if not quiet:
        typer.echo(result.summary.to_string(index=False))
        for role, path in written.items():
            typer.echo(f"{role:>12}: {path}")


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="Manifest of the earlier planning version.",
                                        exists=True, dir_okay=False)],
    new: Annotated[Path, typer.Argument(help="Manifest of the later planning version.",
                                        exists=True, dir_okay=False)],
    out: Annotated[Optional[Path], typer.Option(  # noqa: UP045
        "--out", "-o", help="Write changes.csv, changes.gpkg and changes.html here.")] = None,
    verbose: VerboseOption = 0,
) -> None:
    """Features added, removed, reshaped and re-attributed between two planning versions."""
    from redline.diff import diff_planning, write_diff

    _setup(verbose, quiet=True)
    try:
        changes = diff_planning(old, new)
        typer.echo(changes.summary().to_string(index=False) if len(changes.changes)
                   else "no changes")
        if out is not None:
            for role, path in write_diff(changes, out).items():
                typer.echo(f"{role:>12}: {path}")
    except RedlineError as err:
        raise _fail(err) from err


@app.command()
def verify(
    directory: Annotated[
        Path, typer.Argument(help="Output folder with run.json.", exists=True, file_okay=False)
    ],
    verbose: VerboseOption = 0,
) -> None:
    """Re-run what DIRECTORY's run.json describes: exit 0 same, 1 differ, 2 input missing."""
    from redline.run.verify import verify as run_verify

    _setup(verbose, quiet=True)
    try:
        result = run_verify(directory)
    except (RedlineError, FileNotFoundError) as err:
        raise _fail(err) from err
    typer.echo(result.message(), err=result.code != 0)
    raise typer.Exit(code=result.code)


def main() -> None:  # pragma: no cover - console entry for `python -m redline`
    """Run the CLI."""
    sys.exit(app())
