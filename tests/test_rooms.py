"""The rooms keep their doors: crawler ← audits ← api ← the command, image hashing beside the
crawler, the sample store on its own, and no module in an import circle.

Read from the source itself (every import statement, at the top of a module or inside a
function, relative ones resolved), so a change that reaches upward fails here the day it is
made. ARCHITECTURE.md draws the same rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# room -> the rooms of ours it may import (itself always)
MAY_IMPORT = {
    "imaging": set(),
    "crawler": {"imaging"},
    "audits": {"crawler", "imaging"},
    "api": {"audits", "crawler", "imaging"},
    "storeaudit": {"api", "audits", "crawler", "imaging"},
    "demostore": set(),
    "bench": {"storeaudit", "api", "audits", "crawler", "imaging", "demostore"},
}
ROOMS = set(MAY_IMPORT)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def sources() -> dict[str, Path]:
    found = {}
    for room in ROOMS:
        for path in (ROOT / room).rglob("*.py"):
            found[module_name(path)] = path
    return found


SOURCES = sources()


def imports_of(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file; `from X import y` names X.y when that is a
    module of ours, else X."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.append((node.lineno, sub if sub in SOURCES else target))
    return out


def graph() -> dict[str, set[str]]:
    return {name: {t for _, t in imports_of(name, path) if t in SOURCES and t != name}
            for name, path in SOURCES.items()}


def test_the_rooms_are_where_the_design_says():
    assert {"crawler", "audits", "api", "storeaudit", "imaging"} <= {
        n.split(".")[0] for n in SOURCES}
    assert "audits.notify" in SOURCES and "storeaudit.cli" in SOURCES


def test_no_module_imports_upward_or_into_a_room_it_may_not_enter():
    wrong = []
    for name, path in sorted(SOURCES.items()):
        room = name.split(".")[0]
        for line, target in imports_of(name, path):
            other = target.split(".")[0]
            if other in ROOMS | {"tests"} and other != room and other not in MAY_IMPORT[room]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({room}) imports {target}")
    assert wrong == [], "\n".join(wrong)


def test_no_import_circle():
    edges = graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    assert circles == [], "modules that import each other: " + "; ".join(
        " <-> ".join(c) for c in circles)


@pytest.mark.parametrize("source, target, expected", [
    ("audits.engine", "from .rules import RULES", "audits.rules"),
    ("audits.rules.prices", "from ..catalog import CatalogEntry", "audits.catalog"),
    ("audits.rules", "from . import titles", "audits.rules.titles"),
    ("storeaudit.cli.store", "from ..demo import run_demo", "storeaudit.demo"),
])
def test_relative_imports_are_read_as_python_reads_them(source, target, expected, tmp_path):
    """The checks above are only as good as this reading of an import."""
    path = SOURCES[source]
    copy = tmp_path / path.name
    copy.write_text(target + "\n", encoding="utf-8")
    assert [t for _, t in imports_of(source, copy)] == [expected]
