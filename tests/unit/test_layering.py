"""Dependencies point one way: core <- platforms <- scheduler <- bot <- medremind, with no cycle.

Every import in the service's packages is read with ``ast``, at any depth (a function-level import
is a dependency too; only ``if TYPE_CHECKING:`` blocks are left out, since they never run). An
import of a package later in :data:`LAYERS` than the importing module's own fails, and so does a
cycle between modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lower first: a module may import from its own package and the packages before it.
LAYERS = ("core", "platforms", "scheduler", "bot", "medremind")


def _modules(root: Path) -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, str, int]]:
    """``(module, name or "", line)`` for every import that runs, relative ones resolved."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                yield from _imports(child, module, is_package)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name, node.lineno
        yield from _imports(node, module, is_package)


def _graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    modules = _modules(root)
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        edges: dict[str, int] = {}
        for base, imported, line in _imports(tree, name, path.name == "__init__.py"):
            # ``from pkg import module`` depends on the module, not on the package's own code.
            target = f"{base}.{imported}" if f"{base}.{imported}" in modules else base
            # A module's own packages (their __init__) are part of importing it: not an edge.
            if target in modules and target != name and not name.startswith(target + "."):
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def upward_imports(graph: dict[str, dict[str, int]]) -> list[str]:
    """Every import of a later layer than the importing module's, as a readable line."""
    return [
        f"{source} (line {line}) imports {target}"
        for source, edges in sorted(graph.items())
        for target, line in sorted(edges.items())
        if _layer(target) > _layer(source)
    ]


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Cycles found by a depth-first walk, each as ``[a, b, ..., a]``."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_no_import_points_to_a_higher_layer() -> None:
    upward = upward_imports(_graph())
    order = " < ".join(LAYERS)
    assert not upward, f"imports against the layering {order}:\n" + "\n".join(upward)


def test_no_import_cycle_between_modules() -> None:
    cycles = import_cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_walk_sees_imports_at_every_depth() -> None:
    # The checks above mean something only if function-level and relative imports are seen.
    graph = _graph()
    assert "medremind.web_workers" in graph["medremind.cli"]  # imported inside a function
    assert all(target.split(".")[0] in LAYERS for edges in graph.values() for target in edges)


def test_the_checks_catch_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    files = {
        "core/__init__.py": "",
        "core/kernel.py": "def f():\n    from platforms.adapter import x\n",
        "platforms/__init__.py": "",
        "platforms/adapter.py": "from . import other\nx = 1\n",
        "platforms/other.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from bot import engine\nfrom platforms.adapter import x\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = _graph(tmp_path)
    assert upward_imports(graph) == ["core.kernel (line 2) imports platforms.adapter"]
    assert import_cycles(graph) == [["platforms.adapter", "platforms.other", "platforms.adapter"]]
