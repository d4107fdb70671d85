"""The floor plan holds: small modules, no import cycle in the engine, the CI command is the README's.

import-linter (run by the README's test command) checks the layers; a cycle inside one layer
(two modules of `hybridal/loop/` importing each other) is not a layer violation, so it is checked
here, on the same import graph (grimp, import-linter's engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 300
PACKAGES = ("hybridal", "sweeps", "analysis")


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_300_lines(package):
    long = {
        str(p.relative_to(REPO)): n
        for p in sorted((REPO / package).rglob("*.py"))
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by concept): {long}"


def import_cycles(package: str) -> list[list[str]]:
    """Strongly connected components of more than one module in `package`'s import graph (Tarjan)."""
    import grimp

    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in sorted(graph.find_modules_directly_imported_by(m)):
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            component = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                component.append(n)
                if n == m:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for m in modules:
        if m not in index:
            visit(m)
    return cycles


def test_the_engine_has_no_import_cycle():
    assert import_cycles("hybridal") == []


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "circular"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from circular import b\n")
    (pkg / "b.py").write_text("from circular import c\n")
    (pkg / "c.py").write_text("from circular import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("circular") == [["circular.a", "circular.b", "circular.c"]]


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{ci}\n```" in (REPO / "README.md").read_text()
    assert "ruff check" in ci and "mypy" in ci and "lint-imports" in ci and "pytest" in ci
