"""The map holds: the import rules between stage packages (pyproject's [tool.importlinter], explained in
ARCHITECTURE.md) are kept, there are no import cycles, and imports sit at the top of modules unless a heavy
dependency is loaded late on purpose, with a comment saying so."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
LINT = [
    sys.executable,
    "-c",
    "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
]


def lint(cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}
    return subprocess.run(LINT, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_import_rules_are_kept():
    """lint-imports passes on the package as it is."""
    done = lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_a_wrong_import_breaks_the_rules(tmp_path):
    """An upward import (the store importing the command line) makes lint-imports fail, naming the contract."""
    shutil.copytree(ROOT / "watcher", tmp_path / "watcher")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "watcher" / "store" / "sqlite.py"
    target.write_text(target.read_text() + "\nfrom watcher.cli import main  # a deliberate wrong arrow\n")
    done = lint(tmp_path)
    assert done.returncode != 0
    assert "Stages are layered BROKEN" in done.stdout
    assert "watcher.store.sqlite -> watcher.cli" in done.stdout


def cycles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), imports inside functions included."""
    adj = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in adj:
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    """No module reaches itself through imports, counting imports inside functions too."""
    assert cycles(grimp.build_graph("watcher")) == []


def test_the_cycle_finder_finds_a_cycle(tmp_path):
    """The cycle check is not vacuous: two modules importing each other are reported."""
    pkg = tmp_path / "cyc"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from cyc import b\n")
    (pkg / "b.py").write_text("def f():\n    from cyc import a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert cycles(grimp.build_graph("cyc")) == [["cyc.a", "cyc.b"]]
    finally:
        sys.path.remove(str(tmp_path))


def _says_late(lines: list[str], at: int) -> bool:
    """Whether the import on line ``at`` (0-based), or the block of imports and blank lines just above it, carries a
    'loaded late' comment."""
    while at >= 0:
        line = lines[at].strip()
        if "loaded late" in line:
            return True
        if line and not line.startswith(("from ", "import ")):
            return False
        at -= 1
    return False


def late_imports(path: Path) -> list[str]:
    """Imports inside functions without a 'loaded late' comment on the line or the line above."""
    text = path.read_text()
    lines = text.splitlines()
    bad = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, (ast.Import, ast.ImportFrom)):
                here = lines[inner.lineno - 1]
                if not _says_late(lines, inner.lineno - 1):
                    bad.append(f"{path.relative_to(ROOT)}:{inner.lineno}: {here.strip()}")
    return sorted(set(bad))


def test_imports_inside_functions_say_why():
    """Every import inside a function is a deliberate late load of a heavy dependency, with a comment."""
    found = [line for path in sorted((ROOT / "watcher").rglob("*.py")) for line in late_imports(path)]
    assert found == []
