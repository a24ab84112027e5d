"""The packages of ``simulator/`` import each other in one direction, and never each other's privates.

The graph is read from the source (the AST), not by importing, so an import hidden inside a
function counts like one at the top of a file: a lazy import only delays a cycle, it does not
remove it. Imports under ``if TYPE_CHECKING:`` are left out (they never run). The nodes are the
top-level subpackages and modules (``simulator.engine``, ``simulator.cli``...); the package
``simulator`` itself is the node ``simulator``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "simulator"


def _node(dotted: str, known: set[str]) -> str:
    """The graph node of a module: ``simulator.engine.station`` -> ``simulator.engine``;
    ``simulator.__version__`` (a name, not a module) -> ``simulator``."""
    parts = dotted.split(".")
    if len(parts) >= 2 and ".".join(parts[:2]) in known:
        return ".".join(parts[:2])
    return parts[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every Import/ImportFrom node, except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph(root: Path = PACKAGE) -> tuple[dict[str, set[str]], list[str], dict[tuple[str, str], str]]:
    """``(edges, private_imports, where)``: node -> nodes it imports; one line per import of
    another node's ``_private`` name; and a ``file:line`` for each edge (the first one seen)."""
    files = sorted(root.rglob("*.py"))
    top = root.name
    known = {f"{top}.{p.stem if p.is_file() else p.name}" for p in root.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    edges: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], str] = {}
    private: list[str] = []
    for path in files:
        rel = path.relative_to(root.parent).with_suffix("").parts
        module = ".".join(rel[:-1] if rel[-1] == "__init__" else rel)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        source = _node(module, known)
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                # `from . import x` imports the module x; `from .m import x` imports from m
                targets = [f"{target}.{a.name}" for a in node.names] if not node.module else [target]
                names = [a.name for a in node.names]
            else:
                targets = [a.name for a in node.names]
                names = []
            for dotted in targets:
                if dotted.split(".")[0] != top:
                    continue
                dest = _node(dotted, known)
                if dest == source:
                    continue
                edges[source].add(dest)
                where.setdefault((source, dest), f"{path.relative_to(root.parent)}:{node.lineno}")
                hidden = [p for p in dotted.split(".") + names if p.startswith("_") and not p.startswith("__")]
                if hidden:
                    private.append(f"{path.relative_to(root.parent)}:{node.lineno}: {source} imports {', '.join(hidden)} from {dest}")
    return dict(edges), private, where


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component of more than one node
    (Tarjan's algorithm), so every tangle is reported once, whatever its size."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    nodes = sorted(set(edges) | {d for ds in edges.values() for d in ds})

    def visit(v: str) -> None:  # the graph has a few dozen nodes: recursion depth is no concern
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
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
            if len(component) > 1 or v in edges.get(v, ()):
                components.append(sorted(component))

    for v in nodes:
        if v not in index:
            visit(v)
    return [_cycle_within(component, edges) for component in sorted(components)]


def _cycle_within(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the first node of a strongly connected component (breadth-first)."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(edges.get(v, ())):
                if w not in members:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if w not in previous:
                    previous[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"{component} is not strongly connected")


def _shown(cycle: list[str], where: dict[tuple[str, str], str]) -> str:
    return "  " + " -> ".join(cycle) + "\n" + "\n".join(f"    {a} -> {b} at {where.get((a, b), '?')}" for a, b in zip(cycle, cycle[1:]))


# --- the cycle finder itself, on graphs whose answer is known ------------------------------------


def test_the_cycle_finder_reports_each_tangle_once_with_a_path_that_closes():
    edges = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},  # a -> b -> c -> a
        "d": {"e"},
        "e": set(),  # d, e: no cycle
        "x": {"y"},
        "y": {"x"},  # x <-> y
    }
    cycles = find_cycles(edges)
    assert cycles == [["a", "b", "c", "a"], ["x", "y", "x"]]


def test_the_cycle_finder_finds_nothing_in_a_layered_graph():
    assert find_cycles({"cli": {"runner", "engine"}, "runner": {"engine"}, "engine": {"units"}, "units": set()}) == []


def test_the_graph_reader_sees_lazy_imports_and_skips_type_checking_ones(tmp_path):
    root = tmp_path / "simulator"
    (root / "low").mkdir(parents=True)
    (root / "high").mkdir()
    (root / "__init__.py").write_text("")
    (root / "low" / "__init__.py").write_text("")
    (root / "high" / "__init__.py").write_text("from ..low import thing\n")
    (root / "low" / "thing.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..high import x\n"
        "def f():\n    from simulator.high.mod import _secret\n"
    )
    edges, private, _ = import_graph(root)
    assert edges == {"simulator.high": {"simulator.low"}, "simulator.low": {"simulator.high"}}
    assert private == ["simulator/low/thing.py:5: simulator.low imports _secret from simulator.high"]
    assert find_cycles(edges) == [["simulator.high", "simulator.low", "simulator.high"]]


# --- the package ----------------------------------------------------------------------------------


def test_the_packages_of_simulator_import_each_other_without_cycles():
    edges, _, where = import_graph()
    cycles = find_cycles(edges)
    assert not cycles, "import cycles between packages (lazy imports count):\n" + "\n".join(_shown(c, where) for c in cycles)


def test_no_package_imports_another_packages_private_names():
    _, private, _ = import_graph()
    assert not private, "imports of another package's _private names:\n" + "\n".join(private)
