"""The import structure stays as the README's architecture section draws it.

``lint-imports`` (run by .ci/run) checks the layer contracts in pyproject.toml; it has no
contract for "no cycles at all", so this test builds the import graph itself with grimp
(import-linter's graph builder, which sees imports inside functions too) and fails on any
cycle between modules.
"""
from __future__ import annotations

import ast
import sys

import grimp
from conftest import ROOT

PACKAGES = ("crawler", "schedules", "pipelines")


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and
    modules importing themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1 or module in graph.find_modules_directly_imported_by(module):
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_is_part_of_an_import_cycle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    assert len(graph.modules) > 80  # the whole project was read, not an empty graph
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("a", "a.b", "a.c", "a.d"):
        graph.add_module(module)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.d")
    graph.add_import(importer="a.d", imported="a.b")
    assert cycles(graph) == [["a.b", "a.c", "a.d"]]


def test_imports_inside_functions_are_the_measured_exceptions():
    """Imports belong at the top of a module; the few inside functions say why, with the
    start-up figure that justifies them."""
    inside: list[str] = []
    for path in sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    inside.append(f"{path.relative_to(ROOT)}:{function.name}")
    assert sorted(inside) == ["crawler/bench.py:bare", "crawler/cli/relevance.py:_learning",
                              "crawler/cli/relevance.py:_learning", "pipelines/analysis/pool.py:_page"]
