"""The package's shape: stage folders whose imports point one way, no import cycles, no
package imports hidden inside functions, and a size limit per module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "lib" / "evidence_pack"

#: Each stage may import itself and the stages listed (config is everyone's).
ALLOWED: dict[str, set[str]] = {
    "sources": {"sources"},
    "stores": {"sources", "stores"},
    "analysis": {"sources", "stores", "analysis"},
    "findings": {"sources", "stores", "analysis", "findings"},
    "charts": {"sources", "stores", "analysis", "findings", "charts"},
    "publish": {"sources", "stores", "analysis", "findings", "charts", "publish"},
}
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported evidence_pack module, imported at module level?)"""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "evidence_pack"):
            for a in node.names:
                full = f"{node.module}.{a.name}"
                found.append((full if full in _modules() else node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("evidence_pack"):
                    found.append((a.name, id(node) in top))
    return found


def _stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else None


def test_stage_folders_exist():
    for stage in ("sources", "stores", "analysis", "charts", "publish"):
        assert (PKG / stage / "__init__.py").exists(), stage


def test_no_package_import_inside_functions():
    hidden = [f"{m}: {imp}" for m, p in _modules().items() for imp, top in _imports(p)
              if not top]
    assert not hidden, hidden


def test_imports_point_down_the_pipeline():
    wrong = []
    for m, p in _modules().items():
        stage = _stage(m)
        if stage is None:
            continue
        for imp, _ in _imports(p):
            target = _stage(imp)
            if target is not None and target not in ALLOWED[stage]:
                wrong.append(f"{m} -> {imp}")
    assert not wrong, wrong


def test_no_import_cycles():
    graph = {m: {imp for imp, _ in _imports(p) if imp in _modules() and imp != m}
             for m, p in _modules().items()}
    # drop package __init__ edges (evidence_pack, evidence_pack.stores ...)
    graph = {m: {i for i in g if i.count(".") >= 1} for m, g in graph.items()}
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in graph.get(m, ()):
            if state.get(n) == 1:
                pytest.fail("import cycle: " + " -> ".join([*stack, m, n]))
            if n not in state:
                visit(n, [*stack, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])


def test_the_command_lines_lazy_table_names_real_functions():
    """``cli.COMMANDS`` is the one place the package imports a module by name, when a heavy
    subcommand runs: every entry must name an existing function of the package, and the
    table must cover every subcommand that is not run by ``cli`` itself."""
    from evidence_pack import cli

    assert set(cli.COMMANDS) == {"prepare", "areas draft", "build", "build --districts"}
    for name, target in cli.COMMANDS.items():
        module, _, function = target.partition(":")
        assert module in _modules(), (name, module)
        assert callable(cli.command(name)), name
    source = (PKG / "cli.py").read_text()
    tree = ast.parse(source)
    by_name = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
               and getattr(n.func, "attr", "") == "import_module"]
    assert len(by_name) == 1  # only through ``command``


def test_starting_the_command_line_imports_no_heavy_library():
    """``evidence-pack`` starts without pandas, matplotlib or geopandas (about 1.1 s of CPU
    when every subcommand's module was imported at the top): a build imports what it needs."""
    import os
    import subprocess
    import sys

    code = ("import sys, evidence_pack.cli; print(' '.join(m for m in ('pandas', 'numpy', "
            "'matplotlib', 'geopandas', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(PKG.parent)})
    assert out.stdout.strip() == ""
