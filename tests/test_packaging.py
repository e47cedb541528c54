"""One source of truth for dependencies: environment.yml must delegate to pyproject.toml."""

from __future__ import annotations

import ast
import contextlib
import re
import sys
import tomllib
from pathlib import Path

import yaml
from evidence_pack import config


def test_environment_yml_delegates_to_pyproject():
    env = yaml.safe_load((config.ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_blocks = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert pip_blocks == [["-e .[dev]"]] or pip_blocks == [['-e ".[dev]"']], pip_blocks
    conda_pkgs = [d for d in deps if isinstance(d, str)]
    # conda provides only the interpreter and pip; every library comes from pyproject
    assert sorted(p.split("=")[0] for p in conda_pkgs) == ["pip", "python"]
    py = tomllib.loads((config.ROOT / "pyproject.toml").read_text())
    assert py["project"]["requires-python"] == ">=3.11"
    assert any(c.startswith("python=3.11") for c in conda_pkgs)


def test_console_command_is_declared():
    py = tomllib.loads((config.ROOT / "pyproject.toml").read_text())
    assert py["project"]["scripts"]["evidence-pack"] == "evidence_pack.cli:main"


def _notebooks():
    return sorted((config.ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for path in _notebooks():
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.get("outputs"), f"{path.name} cell {i} has outputs: strip them"
                assert cell.get("execution_count") is None, f"{path.name} cell {i} has a count"


def test_every_notebook_takes_the_standard_parameters():
    import nbformat

    for path in _notebooks():
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
        src = tagged[0].source
        assert "area =" in src and "areas_file =" in src, f"{path.name}: parameters cell lacks area/areas_file"


# --------------------------------------------------------------------------- lock file

LOCK = config.ROOT / "requirements.lock"


def _name(req: str) -> str:
    from packaging.requirements import Requirement

    return Requirement(req).name.lower().replace("_", "-")


def _locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def _declared() -> list[str]:
    py = tomllib.loads((config.ROOT / "pyproject.toml").read_text())
    return py["project"]["dependencies"] + py["project"]["optional-dependencies"]["dev"]


def test_lock_pins_every_declared_dependency_with_hashes():
    from packaging.requirements import Requirement

    pins = _locked()
    for req in map(Requirement, _declared()):
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside pyproject's {req.specifier}: "
            "run `make lock`")
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in b for b in blocks if "==" in b), "every pin needs its hashes"


def test_lock_is_made_by_the_documented_command():
    makefile = (config.ROOT / "Makefile").read_text()
    cmd = re.search(r"^LOCK_CMD := (.+)$", makefile, re.MULTILINE).group(1).strip()
    assert cmd in LOCK.read_text().splitlines()[1], "requirements.lock header != make lock's command"
    assert "--require-hashes -r requirements.lock" in makefile


def _imports(paths: list[Path]) -> set[str]:
    found: set[str] = set()
    for p in paths:
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for n in ast.walk(tree):
            if isinstance(n, ast.Import):
                found |= {a.name.split(".")[0] for a in n.names}
            elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                found.add(n.module.split(".")[0])
    return found


def test_every_imported_package_is_declared():
    import importlib.metadata as md

    import nbformat

    paths = [*(config.ROOT / "lib").rglob("*.py"), *(config.ROOT / "scripts").glob("*.py"),
             *(config.ROOT / "tests").glob("*.py")]
    mods = _imports(paths)
    for nb_path in _notebooks():
        src = "\n".join(c.source for c in nbformat.read(nb_path, as_version=4).cells
                        if c.cell_type == "code" and not c.source.lstrip().startswith(("%", "!")))
        with contextlib.suppress(SyntaxError):
            tree = ast.parse(src)
            mods |= {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                     for a in n.names}
            mods |= {n.module.split(".")[0] for n in ast.walk(tree)
                     if isinstance(n, ast.ImportFrom) and n.module and n.level == 0}
    local = {"evidence_pack"} | {p.stem for p in paths}  # the project's own modules and scripts
    third = sorted(m for m in mods if m not in sys.stdlib_module_names and m not in local)
    declared = {_name(r) for r in _declared()}
    dists = md.packages_distributions()
    missing = [m for m in third
               if not {d.lower().replace("_", "-") for d in dists.get(m, [m])} & declared]
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
