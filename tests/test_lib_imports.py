"""Every module of nnlib imports on its own, and no two modules import each other in a circle.

The import graph is read from the source with ``ast`` (every ``import`` and ``from ... import``,
also those inside functions), so a circle hidden behind an import done late, inside a function,
is found too: layers may use models' building blocks only if models do not use layers.
"""
import ast
import importlib
import pkgutil
from pathlib import Path

import pytest

import nnlib

ROOT = Path(nnlib.__file__).parent


def _modules():
    """{dotted name: path} of nnlib and all its modules and packages."""
    found = {"nnlib": ROOT / "__init__.py"}
    for info in pkgutil.walk_packages([str(ROOT)], prefix="nnlib."):
        spec = importlib.util.find_spec(info.name)
        found[info.name] = Path(spec.origin)
    return found


MODULES = _modules()


def _package_of(name, path):
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _imports(name, path):
    """The nnlib modules that ``name`` imports (a package's __init__ counts as its own module)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(name, path).split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for a in node.names:
                sub = f"{target}.{a.name}"
                out.add(sub if sub in MODULES else target)
    return {m for m in out if m in MODULES and m != name}


def _graph():
    return {name: _imports(name, path) for name, path in MODULES.items()}


def _cycle(graph):
    """One import circle as a list of module names, or None (depth-first search)."""
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = "done"
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name):
    importlib.import_module(name)


def test_the_import_graph_has_no_circle():
    cycle = _cycle(_graph())
    assert cycle is None, "import circle: " + " → ".join(cycle)


def test_the_circle_finder_finds_a_circle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_imports_inside_functions():
    graph = _graph()
    assert "nnlib.graph" in graph["nnlib.layers.base"]
    assert "nnlib.models" not in graph["nnlib.layers.base"]
    assert "nnlib.initializers" in graph["nnlib.layers.dense"]
