"""No private name of ours crosses a module boundary (issue 22: `_Builder` did, to dodge a cycle).

A leading underscore says "only this module relies on it"; another module, a test or a script that
imports it (`from sesmonitor.x import _y`) or reaches into it (`x._y` on a module of ours) makes a
rename there break code elsewhere. Shared things get a public name in the module that owns them.
Import cycles are import-linter's ("No import cycles between siblings", pyproject.toml).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("operator/sesmonitor", "tests", "scripts", "benchmarks")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_our_module(name: str) -> bool:
    try:
        return name.startswith("sesmonitor") and importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def private_crossings(source: str, is_module: Callable[[str], bool] = _is_our_module) -> list[str]:
    """Each use in `source` of a private name of another sesmonitor module, as "line: what"."""
    found = []
    modules: set[str] = set()  # local names bound to a sesmonitor module
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("sesmonitor")
        ):
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
                elif is_module(f"{node.module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(a.asname for a in node.names if a.asname and a.name.startswith("sesmonitor"))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if _private(node.attr) and node.value.id in modules:
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_check_finds_an_imported_and_a_reached_private_name() -> None:
    source = (
        "from sesmonitor.render.rules import _Builder, rule_groups\n"
        "from sesmonitor.render import rules as r\n"
        "import sesmonitor.render.promql as q\n"
        "r._Scope, q.duration, r.__name__, self._own\n"
    )
    modules = {"sesmonitor.render.rules", "sesmonitor.render.promql"}
    assert private_crossings(source, modules.__contains__) == [
        "1: from sesmonitor.render.rules import _Builder",
        "4: r._Scope",
    ]


def test_no_private_name_crosses_a_module() -> None:
    files = sorted(f for top in SOURCES for f in (ROOT / top).rglob("*.py"))
    assert len(files) > 150  # the whole tree was walked
    crossings = [
        f"{f.relative_to(ROOT)}:{hit}"
        for f in files
        for hit in private_crossings(f.read_text(), _is_our_module)
    ]
    assert crossings == []
