"""The package's layout rules (STYLE.md 14-16): no import cycles between qtnet's modules, no
private name imported from another module, nothing above the engine branching on a
backend's name, and the code lint-clean (ruff, as configured in pyproject.toml)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "qtnet"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(), str(p)) for p in PACKAGE.rglob("*.py")}


def _imports(tree: ast.Module, known: set[str]):
    """``(module, name)`` for every qtnet import in ``tree``, at any depth (lazy ones too)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("qtnet"):
                    yield alias.name, None
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("qtnet"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                yield (sub, None) if sub in known else (node.module, alias.name)


def import_graph() -> dict[str, set[str]]:
    """Module -> the qtnet modules it imports. An import of a package counts as an import of
    its ``__init__``, except from inside that package (a module reaching its own package's
    ``__init__`` is how relative siblings are found, and is reported separately)."""
    modules = _modules()
    graph = {}
    for name, tree in modules.items():
        graph[name] = {target for target, _ in _imports(tree, set(modules))
                       if target != name and not name.startswith(target + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_private_names_imported_across_modules():
    modules = _modules()
    offenders = [f"{name} imports {target}.{imported}"
                 for name, tree in modules.items()
                 for target, imported in _imports(tree, set(modules))
                 if imported and imported.startswith("_") and not imported.startswith("__")]
    assert not offenders, "\n".join(offenders)


def test_nothing_above_the_engine_branches_on_a_backend_name():
    pattern = re.compile(r"""(==|!=|\bin)\s*\(?\s*["'](dense|mps)["']""")
    offenders = [f"{path.relative_to(PACKAGE.parent)}:{i}: {line.strip()}"
                 for path in PACKAGE.rglob("*.py") if "tn" not in path.relative_to(PACKAGE).parts
                 for i, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert not offenders, "\n".join(offenders)


def test_ruff_finds_nothing():
    root = PACKAGE.parent
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format",
                             "concise", "qtnet", "scripts", "tests"],
                            cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
