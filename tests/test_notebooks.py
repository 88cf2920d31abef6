"""The planner notebooks: committed without outputs, and each runs top to bottom.

Every notebook in ``notebooks/`` is executed with nbclient in a fresh kernel of the Python that
runs pytest: the ``python3`` kernel spec resolves to ``sys.executable`` when ipykernel is
installed in the same environment, and a first injected cell checks the kernel's ``sys.prefix``.
A cell that raises fails the test, and so does a :class:`redline.errors.RedlineWarning` printed
by any cell: the notebooks are held to the same rule as the test suite (redline's own warnings
are errors).
The working directory is a temporary folder, so the files the notebooks write land there; every
HTML map they write is then opened in headless Chromium (``browser.open_page``) and must load
without errors and without network requests.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from browser import CHROMIUM, open_page

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: The notebooks issues 8, 15 and 18 ask for, in reading order.
EXPECTED = (
    "01_quick_start",
    "02_classify_parcels",
    "03_bring_your_own_data",
    "04_rules",
    "05_batch",
    "06_programme",
    "07_avoidance",
    "08_boundary_points",
    "09_desk",
)
#: Seconds a cell may run before the notebook fails.
CELL_TIMEOUT_S = 120
#: Seconds a whole notebook may take: twice the 60 s each is written for, so that a loaded CI
#: machine does not fail but a notebook that has grown much slower does.
NOTEBOOK_BUDGET_S = 120
_KERNEL_CHECK = "import sys\nprint(sys.prefix)"


def _ids(path: Path) -> str:
    return path.stem


def test_every_notebook_is_present() -> None:
    assert tuple(path.stem for path in NOTEBOOKS) == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} carry outputs or execution counts; strip them before "
        "committing (Jupyter: Edit > Clear Outputs of All Cells, then save)"
    )
    assert "widgets" not in nb.metadata, f"{path.name}: widget state saved in the metadata"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids)
def test_notebook_runs(path: Path, tmp_path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_KERNEL_CHECK))
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}")
    elapsed = time.perf_counter() - start

    kernel_prefix = "".join(out.get("text", "") for out in nb.cells[0].outputs).strip()
    assert kernel_prefix == sys.prefix, (
        f"the notebook ran in the environment {kernel_prefix}, not in the one running the "
        f"tests ({sys.prefix}); install ipykernel into this environment"
    )
    warned = [
        (i, out["text"])
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.get("name") == "stderr" and "RedlineWarning" in out.get("text", "")
    ]
    assert not warned, f"{path.name}: cells printed a RedlineWarning: {warned}"
    assert elapsed < NOTEBOOK_BUDGET_S, f"{path.name} took {elapsed:.0f} s"
    _check_maps(sorted(tmp_path.rglob("*.html")))


def _check_maps(maps: list[Path]) -> None:
    """Open every map a notebook wrote in Chromium: no errors, no request leaving the machine.

    Without Chromium the check is left out (it fails under ``CI=true``, as the browser tests do).
    """
    if not maps:
        return
    if not CHROMIUM.is_file():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is absent: cannot check the maps {maps}")
        return
    for html in maps:
        with open_page(html) as session:
            assert not session.errors, f"{html.name}: {session.errors}"
            assert not session.external_requests, f"{html.name}: {session.external_requests}"
