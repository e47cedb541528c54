"""One source of truth for dependencies: environment.yml must delegate to pyproject.toml."""

from __future__ import annotations

import tomllib

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
