"""Backtest: the key figures of built reports equal the committed snapshot
(``tests/snapshots/key_figures.json``, written by ``scripts/update_key_figures_snapshot.py``).

A refactor must leave every figure where it was; a deliberate change updates the snapshot
in the same commit."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from evidence_pack import config
from evidence_pack.publish import build

SNAPSHOT = Path(__file__).parent / "snapshots" / "key_figures.json"


def _differences(expected: object, got: object, where: str) -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        out = [f"{where}.{k}: missing" for k in expected if k not in got]
        out += [f"{where}.{k}: not in snapshot" for k in got if k not in expected]
        for k in expected.keys() & got.keys():
            out += _differences(expected[k], got[k], f"{where}.{k}")
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [f"{where}: {len(got)} items, snapshot has {len(expected)}"]
        return [d for i, (a, b) in enumerate(zip(expected, got, strict=True))
                for d in _differences(a, b, f"{where}[{i}]")]
    if isinstance(expected, float) and isinstance(got, int | float):
        return [] if math.isclose(expected, got, rel_tol=1e-9, abs_tol=1e-9) else [
            f"{where}: {got!r} != snapshot {expected!r}"]
    return [] if expected == got else [f"{where}: {got!r} != snapshot {expected!r}"]


def test_differences_are_found():
    assert _differences({"a": 1.0, "b": ["x"]}, {"a": 1.0, "b": ["x"]}, "r") == []
    assert _differences({"a": 1.0}, {"a": 1.1}, "r") == ["r.a: 1.1 != snapshot 1.0"]
    assert _differences({"a": ["x"]}, {"a": ["y"]}, "r") == ["r.a[0]: 'y' != snapshot 'x'"]
    assert _differences({"a": 1}, {}, "r") == ["r.a: missing"]


def test_snapshot_covers_the_default_pack():
    snap = json.loads(SNAPSHOT.read_text())
    assert len(snap) >= 60
    assert {k.split("/")[0] for k in snap} >= {"borough", "canklow", "east-dene"}


@pytest.mark.slow
@pytest.mark.mirror
def test_built_reports_match_snapshot(processed, tmp_path):
    """Build the borough and one area (every notebook, HTML only) and compare."""
    snap = json.loads(SNAPSHOT.read_text())
    result = build.build(only=["borough", "canklow"], pdf=False, jobs=2, progress=False,
                         reports_dir=tmp_path / "reports", build_dir=tmp_path / "build")
    assert not result.failures, result.failures
    got = {f"{p.parent.name}/{p.stem}": json.loads(p.read_text())
           for p in sorted((tmp_path / "reports").glob("*/*.json"))}
    assert len(got) >= 10
    diffs = [d for key, figures in got.items()
             for d in _differences(snap.get(key), figures, key)]
    assert not diffs, "\n".join(diffs[:20])


def test_reports_on_disk_match_snapshot():
    """Whatever default pack is on disk (after `make pack`) matches too."""
    on_disk = sorted(config.REPORTS_DIR.glob("*/*.json"))
    if not on_disk:
        pytest.skip("no built pack in reports/ (make pack)")
    snap = json.loads(SNAPSHOT.read_text())
    diffs = [d for p in on_disk if f"{p.parent.name}/{p.stem}" in snap
             for d in _differences(snap[f"{p.parent.name}/{p.stem}"], json.loads(p.read_text()),
                                   f"{p.parent.name}/{p.stem}")]
    assert not diffs, "\n".join(diffs[:20])
