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
