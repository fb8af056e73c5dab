"""The package dependency graph of skillmap, measured from its source (issue 23, fault 3).

Every reference from one skillmap module to another counts, wherever it sits: top-level
imports, imports inside functions (lazy ones), ``TYPE_CHECKING`` blocks, and module names
written as strings (``import_module("skillmap.x")``, ``f"skillmap.x.{name}"``). A module
belongs to its stage package: ``skillmap/encoder/onnx.py`` to ``encoder``,
``skillmap/io.py`` to ``io``; ``skillmap/__init__.py`` is the root facade, ``skillmap``.

Run it to print the graph: ``python -m tests.helpers.layers`` (from the repository root).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "skillmap"
_MODULE_NAME = re.compile(r"skillmap(\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass(frozen=True)
class Edge:
    """One reference from a module to another skillmap module."""

    source: str      # importing module, dotted
    target: str      # imported module (or module.attribute), dotted
    line: int
    lazy: bool       # inside a function (or a string resolved at run time)


def module_name(path: Path, root: Path = PACKAGE_DIR) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def stage_of(module: str) -> str:
    """``skillmap.encoder.onnx`` -> ``encoder``; the root package itself -> ``skillmap``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _is_module(path: Path) -> bool:
    return path.is_dir() or path.with_suffix(".py").is_file()


def module_edges(path: Path, root: Path = PACKAGE_DIR) -> list[Edge]:
    """Every skillmap module that ``path`` refers to, with the line and whether it is lazy."""
    source = module_name(path, root)
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    edges: list[Edge] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            lazy = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                     ast.Lambda))
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = (_resolve_relative(source, is_package, child.level, child.module)
                        if child.level else child.module or "")
                # `from skillmap import x`: x may be a subpackage or an attribute of the root
                targets = [f"{base}.{alias.name}" if base == "skillmap" and _is_module(
                    root / alias.name) else base for alias in child.names]
            elif isinstance(child, ast.Constant) and isinstance(child.value, str):
                match = _MODULE_NAME.fullmatch(child.value.split(":")[0])
                if match:
                    targets, lazy = [match.group(0)], True
            elif isinstance(child, ast.JoinedStr) and child.values:
                head = child.values[0]
                if isinstance(head, ast.Constant) and isinstance(head.value, str):
                    match = _MODULE_NAME.match(head.value)
                    if match:
                        targets, lazy = [match.group(0).rstrip(".")], True
            for target in targets:
                if target == "skillmap" or target.startswith("skillmap."):
                    edges.append(Edge(source, target, child.lineno, lazy))
            visit(child, lazy)

    visit(tree, False)
    return edges


def all_edges(root: Path = PACKAGE_DIR) -> list[Edge]:
    return [edge for path in sorted(root.rglob("*.py")) for edge in module_edges(path, root)]


def stage_graph(root: Path = PACKAGE_DIR) -> dict[str, dict[str, list[Edge]]]:
    """stage -> {stage it imports: [the edges that do it]}, self-references left out."""
    graph: dict[str, dict[str, list[Edge]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        graph[stage_of(module_name(path, root))]  # every stage is a node, even a leaf
    for edge in all_edges(root):
        source, target = stage_of(edge.source), stage_of(edge.target)
        if source != target:
            graph[source][target].append(edge)
    return {stage: dict(targets) for stage, targets in graph.items()}


def reachable(graph: dict[str, dict[str, list[Edge]]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = list(graph.get(start, {}))
    while todo:
        stage = todo.pop()
        if stage not in seen:
            seen.add(stage)
            todo.extend(graph.get(stage, {}))
    return seen


def mutual_pairs(graph: dict[str, dict[str, list[Edge]]]) -> list[tuple[str, str]]:
    """Pairs of stages that reach each other (each pair once): the cycles, as pairs."""
    reach = {stage: reachable(graph, stage) for stage in graph}
    return sorted((a, b) for a in graph for b in reach[a] if a < b and a in reach.get(b, ()))


def describe(graph: dict[str, dict[str, list[Edge]]]) -> str:
    lines = [f"{stage:<13} -> {', '.join(sorted(graph[stage])) or '-'}" for stage in sorted(graph)]
    pairs = mutual_pairs(graph)
    lines.append(f"{len(pairs)} pairs of stages reach each other"
                 + (": " + ", ".join(f"{a}<->{b}" for a, b in pairs) if pairs else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe(stage_graph()))
