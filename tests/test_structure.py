"""The shape of the package, read from its source: imports go one way, privates stay private.

The imports are read from the syntax trees of ``src/redline`` (every ``import`` statement,
also inside functions, since a function-level import is a run-time dependency all the same;
only those under ``if TYPE_CHECKING:`` are left out). Importing ``redline.a.b`` also runs the
package ``redline/__init__.py``, which re-exports the entries; that implicit step is no edge
here, or every module would be in a cycle with the package's front door.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import redline

SRC = Path(redline.__file__).parent
#: The execution code: how work runs, apart from what it is (issue #16).
EXECUTION = ("redline.run", "redline.parallel", "redline.batch")
#: Modules that re-export the entries (front doors), and the command line that calls them.
FRONT_DOORS = ("redline", "redline.parallel", "redline.batch", "redline.cli", "redline.__main__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
            else:
                stack.append(child)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module an ``from ... import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str) -> set[str]:
    """The redline modules ``module`` imports at run time."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "redline")
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            if source.split(".")[0] != "redline":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in MODULES else source)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _is_execution(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in EXECUTION)


def test_the_walk_reads_the_imports():
    assert {"redline.run.executors", "redline.run.parts", "redline.zoning"} <= GRAPH[
        "redline.run.api"
    ]
    assert "redline.overlay" in GRAPH["redline.screening"]
    assert "redline.datasets" in GRAPH["redline.planning"]  # imported inside a function
    assert "redline.maps" not in GRAPH["redline.overlay"]
    # a cycle is found when there is one
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]


def test_no_import_cycle_involves_the_execution_code():
    tangled = [sorted(c) for c in _cycles(GRAPH) if any(_is_execution(m) for m in c)]
    assert not tangled, f"import cycles through the execution code: {tangled}"


def test_kernels_and_engine_do_not_reach_the_entries():
    """Only the front doors import the entries, parts and batch; the engine may use the
    executors (the one core count), which import nothing of redline but its errors."""
    entries = {"redline.run.api", "redline.run.parts", "redline.run.batch"}
    reaching = {
        module: sorted(GRAPH[module] & entries)
        for module in MODULES
        if not _is_execution(module) and module not in FRONT_DOORS and GRAPH[module] & entries
    }
    assert not reaching, f"modules that call the entries back: {reaching}"
    assert GRAPH["redline.run.executors"] <= {"redline.errors"}
    assert not GRAPH["redline.run"], "redline.run imports nothing, so the engine can use executors"


def _private_uses(module: str) -> Iterator[str]:
    """``_private`` names of other redline modules that ``module`` imports or reaches into."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}  # local name -> redline module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "redline":
                    aliases[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            if source.split(".")[0] != "redline":
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    yield f"from {source} import {alias.name} (line {node.lineno})"
                if f"{source}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and aliases[node.value.id] != module
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            yield f"{aliases[node.value.id]}.{node.attr} (line {node.lineno})"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_uses_another_modules_private_names(module):
    used = list(_private_uses(module))
    assert not used, f"{module} uses private names of other modules: {used}"


def test_the_private_check_finds_a_private_import(tmp_path, monkeypatch):
    fake = tmp_path / "redline" / "fake.py"
    fake.parent.mkdir()
    fake.write_text(
        "from redline.overlay import _chunks\nimport redline.geometry as g\ng._structure\n"
    )
    monkeypatch.setitem(MODULES, "redline.fake", fake)
    assert [use.split(" (")[0] for use in _private_uses("redline.fake")] == [
        "from redline.overlay import _chunks",
        "redline.geometry._structure",
    ]
