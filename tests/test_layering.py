"""The tree reads as layers: no import cycle, and only the CLI imports the CLI.

Every module under venvprobe/ is parsed (not imported) and every import in
it counts, also one inside a function (the lazy imports that keep start-up
fast are still dependencies), except under ``if TYPE_CHECKING:``.  A module's
own parent packages are left out: Python initialises them before the module
anyway, whoever imports whom.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import venvprobe

PACKAGE = Path(venvprobe.__file__).resolve().parent
CLI = ("venvprobe.commands", "venvprobe._cli")
ENTRY_POINTS = ("venvprobe.__main__",)  # `python -m venvprobe` runs the CLI


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: Dict[str, Path] = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str:
    """*name* if it is one of our modules, else the longest of our modules it is inside (a name in it)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> Set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: Set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(_resolve(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                found.add(_resolve(f"{base}.{alias.name}") or _resolve(base))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    ancestors = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
    return {m for m in found if m and m != module and m not in ancestors}


GRAPH: Dict[str, Set[str]] = {m: _imports(m) for m in MODULES}


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    on_stack: Set[str] = set()
    stack: List[str] = []
    out: List[List[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def test_the_graph_sees_imports():
    # guard against a test that passes because it reads nothing
    assert "venvprobe.fleet" in GRAPH["venvprobe.commands.compare"]
    assert "venvprobe.report" in GRAPH["venvprobe"]  # lazy, inside build_report()
    assert "venvprobe.expectations" in GRAPH["venvprobe.compare"]


def test_no_import_cycle():
    assert _cycles(GRAPH) == []


def test_a_cycle_is_found():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_only_the_cli_imports_the_cli():
    def is_cli(name: str) -> bool:
        return any(name == c or name.startswith(c + ".") for c in CLI)

    offenders = {m: sorted(filter(is_cli, deps)) for m, deps in GRAPH.items() if not is_cli(m) and m not in ENTRY_POINTS}
    assert {m: deps for m, deps in offenders.items() if deps} == {}


def test_commands_never_import_each_other():
    """What several commands share lives in commands/__init__ or commands/_options."""
    shared = {"venvprobe.commands", "venvprobe.commands._options"}
    commands = {m for m in GRAPH if m.startswith("venvprobe.commands.") and m not in shared}
    assert len(commands) >= 12
    assert {m: sorted(GRAPH[m] & commands) for m in commands if GRAPH[m] & commands} == {}
