"""A site's review report as HTML (self-contained, printable), PDF or Word (.docx).

The HTML is one file: styles inline, the map inset embedded as a PNG. The PDF is that HTML
printed by a headless Chromium-family browser (Chromium, Chrome or Microsoft Edge, which every
Windows 10/11 machine has), which lays out Chinese text with the system's fonts and embeds them.
The .docx is built with python-docx from the same :class:`~redline.review.content.SiteReview`.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from redline.errors import ReportError
from redline.review.content import FINDING_HEADINGS, NEAREST_HEADINGS, SiteReview, site_review
from redline.review.inset import CJK_FONTS, INSET_RADIUS_M, map_inset

if TYPE_CHECKING:
    import pandas as pd

    from redline.screening import Screening

__all__ = ["REPORT_FORMATS", "browser", "report_html", "write_report", "write_reports"]

#: Report formats by file suffix.
REPORT_FORMATS = ("html", "pdf", "docx")
#: Environment variable naming the browser used for PDF (a Chromium-family executable).
BROWSER_ENV = "REDLINE_BROWSER"
#: Heading of the avoidance section (reports with alternatives compared).
AVOIDANCE_HEADING = "八、避让比选与不可避让论证 Alternatives compared, and the evidence"
#: Browsers looked for on the PATH, then at the usual Windows and macOS places.
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
             "msedge", "microsoft-edge")
_BROWSER_PATHS = (
    r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
    r"C:\Program Files\Microsoft\Edge\Application\msedge.exe",
    r"C:\Program Files\Google\Chrome\Application\chrome.exe",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
)
_PDF_TIMEOUT_S = 120
_TEMPLATE = jinja2.Environment(
    loader=jinja2.PackageLoader("redline.review", "."),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
).get_template("report.html.j2")


def _number(value: Any, digits: int = 2) -> str:
    if value is None or isinstance(value, str):
        return "—" if value is None else value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "—" if math.isnan(number) else f"{number:,.{digits}f}"


def _share(value: Any) -> str:
    return "—" if value is None or math.isnan(float(value)) else f"{float(value):.1%}"


def _distance(value: Any) -> str:
    metres = float(value)
    if math.isnan(metres):
        return "—（图层无要素 empty layer）"
    return "0（接触或重叠 touches/overlaps）" if metres == 0 else (
        f"{metres:,.0f} m" if metres < 1000 else f"{metres / 1000:,.2f} km")


def _coordinate(review: SiteReview) -> Any:
    digits = 8 if review.point_axes[0].startswith("纬度") else 3
    return lambda value: f"{float(value):.{digits}f}"


def report_html(review: SiteReview, inset: bytes | None) -> str:
    """The report as one self-contained HTML page (printable on A4).

    Parameters
    ----------
    review
        From :func:`redline.review.site_review`.
    inset
        The map inset PNG (:func:`redline.review.map_inset`), or ``None``.

    Returns
    -------
    str

    Examples
    --------
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> page = report_html(site_review(result, "JL-0006"), None)
    >>> "禁止 prohibited" in page and "NR-CORE" in page and 'src="http' not in page
    True
    """
    return _TEMPLATE.render(
        r=review, inset=base64.b64encode(inset).decode("ascii") if inset else None,
        fmt=_number, pct=_share, dist=_distance, coord=_coordinate(review),
        finding_headings=FINDING_HEADINGS, nearest_headings=NEAREST_HEADINGS,
        radius_km=f"{INSET_RADIUS_M / 1000:g}", avoidance_heading=AVOIDANCE_HEADING,
    )


def browser() -> Path | None:
    """The Chromium-family browser used to print PDFs, or ``None`` when there is none.

    ``$REDLINE_BROWSER`` names it; otherwise Chromium, Chrome or Edge on the ``PATH`` or at
    their usual places.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> found = browser()
    >>> found is None or found.exists()
    True
    """
    given = os.environ.get(BROWSER_ENV)
    if given:
        return Path(given)
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return Path(found)
    return next((Path(p) for p in _BROWSER_PATHS if Path(p).exists()), None)


def _print_pdf(html: Path, pdf: Path) -> None:
    """Print ``html`` to ``pdf`` with the headless browser."""
    executable = browser()
    if executable is None or not executable.exists():
        raise ReportError(
            f"cannot write {pdf}: PDF reports are printed by a Chromium-family browser and none "
            f"was found. Install Chromium (Debian: apt-get install chromium), Chrome or Edge, "
            f"or name one with the {BROWSER_ENV} environment variable; or write .html/.docx."
        )
    with tempfile.TemporaryDirectory(prefix="redline-browser-") as profile:
        command = [
            str(executable), "--headless", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-pdf-header-footer", f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}", html.resolve().as_uri(),
        ]
        if sys.platform.startswith("linux") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=_PDF_TIMEOUT_S, check=False)
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise ReportError(f"{executable} could not print {pdf} (exit {done.returncode}): "
                          f"{done.stderr.strip()[-500:]}")
    _searchable(pdf)


def _searchable(pdf: Path) -> None:
    """Map radical code points back to the ideographs in the PDF's text layer.

    CJK fonts draw an ideograph and its radical form (民 U+6C11, ⺠ U+2EA0) with one glyph, and
    Chromium's PDF writer records the lowest code point of a glyph as its text: copied or
    searched text then reads 人⺠ for 人民. The fonts' ToUnicode tables are rewritten here.
    """
    import pypdf

    radicals = _radical_ideographs()
    bfchar = re.compile(rb"^(<[0-9A-Fa-f]+>\s+)<([0-9A-Fa-f]{4})>\s*$", re.MULTILINE)

    def ideograph(match: re.Match[bytes]) -> bytes:
        code = int(match.group(2), 16)
        return match.group(1) + b"<%04X>" % radicals.get(code, code)

    writer = pypdf.PdfWriter(clone_from=pdf)
    for page in writer.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for font in fonts.values():
            table = font.get_object().get("/ToUnicode")
            if table is not None:
                stream = table.get_object()
                stream.set_data(bfchar.sub(ideograph, stream.get_data()))
    with open(pdf, "wb") as handle:
        writer.write(handle)


@functools.cache
def _radical_ideographs() -> dict[int, int]:
    """Radical code point → the ideograph of the same glyph: the Kangxi radicals by their
    compatibility decomposition, the supplement's from the CJK fonts matplotlib finds."""
    table = {code: ord(unicodedata.normalize("NFKC", chr(code)))
             for code in range(0x2F00, 0x2FD6)}
    from fontTools.ttLib import TTCollection, TTFont
    from matplotlib import font_manager

    paths = {f.fname for f in font_manager.fontManager.ttflist if f.name in CJK_FONTS}
    for path in sorted(paths):
        fonts = (TTCollection(path, lazy=True).fonts if path.lower().endswith(".ttc")
                 else [TTFont(path, lazy=True)])
        for font in fonts[:1]:
            glyphs: dict[str, list[int]] = {}
            for code, glyph in font.getBestCmap().items():
                glyphs.setdefault(glyph, []).append(code)
            for codes in glyphs.values():
                radical = [c for c in codes if 0x2E80 <= c <= 0x2FDF]
                unified = [c for c in codes if 0x3400 <= c <= 0x9FFF]
                for code in radical if unified else ():
                    table.setdefault(code, unified[0])
    return table


def _docx(review: SiteReview, inset: bytes | None, path: Path) -> None:
    """Write the report as a Word document."""
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    normal = document.styles["Normal"]
    normal.font.size = Pt(9.5)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    document.add_heading("建设项目选址生态保护审查报告 Site review report", level=1)
    if review.verdict == "not_assessed":
        alert = document.add_paragraph()
        alert.add_run(f"未评估 NOT ASSESSED：{review.reason}").bold = True
        document.add_paragraph("本地块未能评估，以下内容不构成“未发现冲突”的结论。"
                               "This site could not be assessed; nothing below means it is clear.")

    def table(rows: Iterable[Sequence[str]], header: Sequence[str] | None = None) -> None:
        rows = list(rows)
        width = len(header) if header else 2
        grid = document.add_table(rows=0, cols=width)
        grid.style = "Table Grid"
        for values in ([header] if header else []) + rows:
            cells = grid.add_row().cells
            for cell, value in zip(cells, values, strict=True):
                cell.text = str(value)
        if header:
            for cell in grid.rows[0].cells:
                for run in cell.paragraphs[0].runs:
                    run.bold = True

    document.add_heading("一、项目与地块 Project and site", level=2)
    table(review.project_rows())
    document.add_heading("二、结论 Verdict", level=2)
    verdict = document.add_paragraph()
    verdict.add_run(f"{review.verdict_zh} {review.verdict}").bold = True
    if review.decisive_rule:
        table([("决定性规则 decisive rule", f"{review.decisive_rule} {review.decisive_title}"),
               ("依据条款 clause", review.decisive_clause),
               ("条款核实 clause check", review.clause_note())])
    document.add_heading("三、“三线”核查表 Three-lines check", level=2)
    table((k, _number(v)) for k, v in review.three_lines.items())
    document.add_heading(f"四、审查发现 Findings ({len(review.findings)})", level=2)
    if len(review.findings):
        table(([f["rule"], f["severity"], f["feature"], _number(f["overlap_m2"], 1),
                _share(f["overlap_share"]), _number(f["distance_m"], 1),
                f["clause"] + ("" if f["clause_verified"] is True else " (未核实 unverified)"),
                f["conditions"]] for f in review.findings.to_dict("records")),
              header=list(FINDING_HEADINGS.values()))
    else:
        document.add_paragraph("无 None.")
    document.add_heading("五、与各类规划图层的最近距离 Distance to the nearest feature of each "
                         "layer", level=2)
    table(([n["layer"], _distance(n["distance_m"]), n["feature"]]
           for n in review.nearest.to_dict("records")), header=list(NEAREST_HEADINGS.values()))
    document.add_heading("六、位置图 Map", level=2)
    if inset:
        document.add_picture(io.BytesIO(inset), width=Cm(15))
    else:
        document.add_paragraph("地块无几何图形，无法制图。The site has no geometry to draw.")
    document.add_heading(f"七、界址点坐标 Boundary points ({review.dataset_crs})", level=2)
    coord = _coordinate(review)
    table(([p["part"], p["ring"], p["point"], coord(p["x"]), coord(p["y"])]
           for p in review.boundary_points.to_dict("records")),
          header=["部件 part", "圈号 ring", "点号 point", *review.point_axes])
    if len(review.comparison) or review.evidence:
        document.add_heading(AVOIDANCE_HEADING, level=2)
        if len(review.comparison):
            table(([_number(v) for v in row] for row in review.comparison.itertuples(index=False)),
                  header=[str(c) for c in review.comparison.columns])
        for statement in review.evidence:
            document.add_paragraph(statement)
    document.add_heading("运行记录 Run record", level=2)
    table(review.record_rows())
    document.save(str(path))


def write_report(screening: Screening, site_id: str, path: str | os.PathLike[str], *,
                 record: Mapping[str, Any] | None = None,
                 comparison: pd.DataFrame | None = None, evidence: Sequence[str] = ()) -> Path:
    """Write one site's review report; the suffix of ``path`` picks the format.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.
    site_id
        The site.
    path
        ``.html`` (self-contained, printable), ``.pdf`` (printed from the HTML by a headless
        Chromium-family browser, see :func:`browser`) or ``.docx``.
    record
        The run record for the footer (default: the screening's own,
        :func:`redline.record.screening_record`).
    comparison, evidence
        An avoidance section (避让比选): the alternatives compared and the statements of a
        不可避让论证 (:meth:`redline.avoidance.Route.report` gives them); none by default.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ReportError
        An unknown suffix, or a PDF without a browser to print it.
    LayerError
        No site has this ``site_id``.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> out = write_report(result, "JL-0006", Path(tempfile.mkdtemp()) / "JL-0006.html")
    >>> "NR-CORE" in out.read_text(encoding="utf-8")
    True
    """
    review = site_review(screening, site_id, record=record, comparison=comparison,
                         evidence=evidence)
    return _write(review, map_inset(screening, review), Path(path))


def _write(review: SiteReview, inset: bytes | None, path: Path) -> Path:
    """Write one report file, by suffix, through a temporary name."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in REPORT_FORMATS:
        raise ReportError(f"cannot write a report as {path.name!r}: the suffix picks the format, "
                          f"one of {', '.join('.' + f for f in REPORT_FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        if suffix == "docx":
            _docx(review, inset, tmp)
        elif suffix == "html":
            tmp.write_text(report_html(review, inset), encoding="utf-8")
        else:
            html = path.with_name(f".{path.stem}.print.html")
            try:
                html.write_text(report_html(review, inset), encoding="utf-8")
                _print_pdf(html, tmp)
            finally:
                html.unlink(missing_ok=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_reports(
    screening: Screening,
    directory: str | os.PathLike[str],
    *,
    formats: Sequence[str] = ("html",),
    verdicts: Sequence[str] | None = None,
    record: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> list[Path]:
    """Write the review report of every site (or those of some verdicts) into ``directory``.

    Parameters
    ----------
    screening
        The result of :func:`redline.screen`.
    directory
        Output folder; files are named ``<site_id>.<format>``.
    formats
        Any of :data:`REPORT_FORMATS`.
    verdicts
        Only sites with these verdicts (default: every site).
    record
        The run record for the footers (default: the screening's own).
    progress
        Show a progress bar.

    Returns
    -------
    list of pathlib.Path
        The files written, site by site.

    Raises
    ------
    ReportError
        An unknown format or verdict.

    Examples
    --------
    >>> import tempfile
    >>> import geopandas as gpd
    >>> from redline import datasets, screen
    >>> result = screen(gpd.read_file(datasets.get_path("sites")).head(8))
    >>> files = write_reports(result, tempfile.mkdtemp(), verdicts=["prohibited"])
    >>> [f.name for f in files]
    ['JL-0006.html', 'JL-0007.html', 'JL-0008.html']
    """
    from tqdm.auto import tqdm

    from redline import schema
    from redline.record import screening_record

    unknown = sorted(set(formats) - set(REPORT_FORMATS))
    wrong = sorted(set(verdicts or ()) - set(schema.VERDICTS))
    if unknown or wrong or not formats:
        raise ReportError(f"report formats must be among {list(REPORT_FORMATS)} (got "
                          f"{list(formats)}) and verdicts among {list(schema.VERDICTS)} (got "
                          f"{list(verdicts or ())})")
    sites = screening.sites
    chosen = sites if verdicts is None else sites[sites["verdict"].isin(list(verdicts))]
    record = record if record is not None else screening_record(screening)
    directory = Path(directory)
    written = []
    for site_id in tqdm(chosen["site_id"].astype(str), desc="reports", unit="site",
                        disable=not progress):
        review = site_review(screening, site_id, record=record)
        inset = map_inset(screening, review)
        name = "".join("_" if c in '\\/:*?"<>|' else c for c in site_id)
        written += [_write(review, inset, directory / f"{name}.{fmt}") for fmt in formats]
    return written
