"""Every public name of redline is documented the numpydoc way, with an example that runs.

Public names are those in a module's ``__all__`` plus the public methods and properties of the
public classes defined in redline. Each needs an ``Examples`` section (the examples themselves
run as doctests: ``--doctest-modules`` over ``src/redline``); each function's or method's
``Parameters`` section names exactly its parameters, and one that returns something has a
``Returns`` (or ``Yields``) section. A small parser reads the sections, so the check needs no
numpydoc install. Every Examples section must also be one doctest collects: an example that
never runs would rot unnoticed.
"""

from __future__ import annotations

import doctest
import functools
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterator

import pytest

import redline
from redline import errors

#: Modules not walked, and why.
SKIPPED_MODULES = {
    "redline.__main__": "runs the command line on import",
    "redline.cli": "typer commands: their docstrings are the --help text",
}
#: Public names that need no Examples section, and why.
NO_EXAMPLES = {
    **{
        f"redline.errors.{name}": "exception class: raised by redline and caught by callers, "
        "not called; the raising functions show when it happens"
        for name in errors.__all__
    },
    "redline.planning.Planning.extent": "functools.cached_property: doctest does not collect "
    "its docstring, so an example there would never run; the Planning class docstring has it",
}

_SECTION_UNDERLINE = re.compile(r"^-{3,}$")


def _sections(doc: str) -> dict[str, list[str]]:
    """Numpydoc sections of a (cleaned) docstring: header → its lines."""
    lines = doc.splitlines()
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].strip() and _SECTION_UNDERLINE.match(lines[i + 1]):
            current = found.setdefault(lines[i].strip(), [])
            i += 2
            continue
        if current is not None:
            current.append(lines[i])
        i += 1
    return found


def _documented_names(lines: list[str]) -> list[str]:
    """Names of the entries of a Parameters-like section (``a, b : type`` lines at column 0)."""
    names = []
    for line in lines:
        if not line.strip() or line[0].isspace():
            continue
        head = line.split(" : ", 1)[0]
        names.extend(name.strip().lstrip("*") for name in head.split(","))
    return names


def _signature_names(func: Callable[..., object]) -> list[str]:
    params = inspect.signature(func).parameters.values()
    return [p.name for p in params if p.name not in ("self", "cls")]


def _members(cls: type) -> Iterator[tuple[str, object]]:
    """Public methods and properties a class defined in redline declares itself."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        value = inspect.unwrap(value) if callable(value) else value
        if inspect.isfunction(value) or isinstance(value, property | functools.cached_property):
            yield name, value


def _public() -> dict[str, object]:
    """Qualified name → object, for every public function, class, method and property."""
    found: dict[str, object] = {}
    for info in pkgutil.walk_packages(redline.__path__, "redline."):
        if info.name in SKIPPED_MODULES:
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = inspect.unwrap(getattr(module, name))  # functools.cache wrappers too
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants: documented by #: comments and the module docstring
            if not obj.__module__.startswith("redline."):
                continue
            key = f"{obj.__module__}.{obj.__qualname__}"
            found[key] = obj
            if inspect.isclass(obj):
                for member, value in _members(obj):
                    found[f"{key}.{member}"] = value
    return found


def _doc(obj: object) -> str:
    if isinstance(obj, property):
        obj = obj.fget
    elif isinstance(obj, functools.cached_property):
        obj = obj.func
    return inspect.cleandoc(getattr(obj, "__doc__", None) or "")


PUBLIC = _public()


def test_the_walk_finds_the_public_api() -> None:
    for name in (
        "redline.run.api.screen",
        "redline.crs.transformer",
        "redline.planning.Planning.summary",
        "redline.planning.Planning.extent",
        "redline.rules.model.RuleSet.merge",
        "redline.raster.RasterLayer",
        "redline.maps.style.Swatch",
    ):
        assert name in PUBLIC
    assert not any(name.startswith("redline.cli.") for name in PUBLIC)
    assert set(NO_EXAMPLES) <= set(PUBLIC), "exemptions for names that are no longer public"


def test_every_public_name_has_examples() -> None:
    missing = sorted(
        name
        for name, obj in PUBLIC.items()
        if name not in NO_EXAMPLES
        and not any(">>>" in line for line in _sections(_doc(obj)).get("Examples", []))
    )
    assert not missing, "public names without a runnable Examples section:\n  " + "\n  ".join(
        missing
    )


def test_every_example_runs_as_a_doctest() -> None:
    collected = set()
    for info in pkgutil.walk_packages(redline.__path__, "redline."):
        if info.name not in SKIPPED_MODULES:
            module = importlib.import_module(info.name)
            collected |= {t.name for t in doctest.DocTestFinder().find(module) if t.examples}
    never_run = sorted(
        name for name, obj in PUBLIC.items() if ">>>" in _doc(obj) and name not in collected
    )
    assert not never_run, "examples doctest does not collect:\n  " + "\n  ".join(never_run)


def _callables() -> Iterator[tuple[str, Callable[..., object]]]:
    for name, obj in PUBLIC.items():
        if inspect.isfunction(obj):
            yield name, obj


def test_parameters_sections_name_the_parameters() -> None:
    wrong = []
    for name, func in _callables():
        expected = _signature_names(func)
        documented = _documented_names(_sections(_doc(func)).get("Parameters", []))
        if expected and documented != expected:
            wrong.append(f"{name}: signature {expected}, Parameters section {documented}")
        elif not expected and documented:
            wrong.append(f"{name}: no parameters, Parameters section {documented}")
    assert not wrong, "Parameters sections out of step with the signatures:\n  " + "\n  ".join(
        wrong
    )


def test_classes_document_their_constructor() -> None:
    wrong = []
    for name, cls in PUBLIC.items():
        if not inspect.isclass(cls) or name in NO_EXAMPLES:
            continue
        expected = _signature_names(cls.__init__)
        sections = _sections(_doc(cls))
        documented = _documented_names(
            sections.get("Parameters", []) + sections.get("Attributes", [])
        )
        if set(expected) - set(documented):
            wrong.append(f"{name}: {sorted(set(expected) - set(documented))} not documented")
    assert not wrong, "constructor arguments without an entry:\n  " + "\n  ".join(wrong)


def test_functions_that_return_say_what() -> None:
    missing = []
    for name, func in _callables():
        returned = inspect.signature(func).return_annotation
        if returned in ("None", None, inspect.Signature.empty):
            continue
        sections = _sections(_doc(func))
        if "Returns" not in sections and "Yields" not in sections:
            missing.append(f"{name} -> {returned}")
    assert not missing, "functions without a Returns section:\n  " + "\n  ".join(missing)


@pytest.mark.parametrize(
    ("doc", "parameters"),
    [
        (
            "Summary.\n\nParameters\n----------\na, b : int\n    Two.\nc\n    Three.\n",
            ["a", "b", "c"],
        ),
        (
            "Summary.\n\nParameters\n----------\n**kwargs\n    Options.\n\nReturns\n-------\nx\n",
            ["kwargs"],
        ),
        ("Summary without sections.", []),
    ],
)
def test_the_section_parser(doc: str, parameters: list[str]) -> None:
    assert _documented_names(_sections(doc).get("Parameters", [])) == parameters
