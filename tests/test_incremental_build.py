"""Incremental rebuilds on real data: after an area's name change, and after one of its LSOAs
is dropped, the reports a build re-runs (reusing the results it cached for the old file:
memoised results in build/memo, evaluation and risk frames per membership) equal those of a
cold build of the edited file in a fresh project root (no cached result at all), and no report
shows the old name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from evidence_pack import config
from evidence_pack.publish import build
from evidence_pack.sources import table_cache

ONLY = ["borough", "canklow", "east-dene"]
#: Notebooks whose results are cached: spend baseline (memo), evaluation and risk frames,
#: the profile's tables and the district's trend tables (memo, by slug; names joined at use),
#: and the briefing (borough only), which reads all of them.
NOTEBOOKS = ["baseline_spend", "evaluation", "risk_factors", "area_profile", "imd_trends",
             "briefing"]
#: The notebooks with a report per area.
AREA_NOTEBOOKS = [n for n in NOTEBOOKS if n != "briefing"]
EDITED, OLD_NAME, NEW_NAME = "east-dene", "East Dene", "Dene Park"


def _cold_root(tmp: Path) -> Path:
    """A project root with the processed data but none of the results cached per areas file."""
    root = tmp / "root"
    (root / "data").mkdir(parents=True)
    for sub in ("lib", "notebooks", "docs", "pyproject.toml"):
        (root / sub).symlink_to(config.ROOT / sub)
    for sub in config.PROCESSED_DIR.parent.iterdir():
        if sub.name != "processed":
            (root / "data" / sub.name).symlink_to(sub.resolve())

    def cached(folder: str, names: list[str]) -> list[str]:
        skip = [n for n in names if (Path(folder) / n / table_cache.MARKER).exists()]
        return [*skip, *(n for n in names if n.startswith("."))]

    shutil.copytree(config.PROCESSED_DIR, root / "data" / "processed", ignore=cached)
    return root


def _built(reports: Path) -> dict[str, tuple[dict, str]]:
    return {f"{p.parent.name}/{p.stem}": (json.loads(p.read_text()),
                                          p.with_suffix(".html").read_text())
            for p in sorted(reports.glob("*/*.json"))}


def _cold(tmp: Path, areas_file: Path, monkeypatch) -> dict[str, tuple[dict, str]]:
    root = _cold_root(tmp)
    shutil.copy(areas_file, tmp / "areas.yml")
    with monkeypatch.context() as m:  # the kernels read this root's data/processed
        m.setenv("EVIDENCE_PACK_ROOT", str(root))
        m.delenv("EVIDENCE_PACK_MEMO_DIR", raising=False)
        res = build.build(areas_file=tmp / "areas.yml", only=ONLY, notebooks=NOTEBOOKS,
                          pdf=False, jobs=2, progress=False, root=root,
                          reports_dir=tmp / "reports", build_dir=tmp / "build")
    assert not res.failures, res.failures
    return _built(tmp / "reports")


def _edit(areas_file: Path, **change) -> None:
    doc = yaml.safe_load(areas_file.read_text())
    area = next(a for a in doc["areas"] if a["slug"] == EDITED)
    if "name" in change:
        area["name"] = change["name"]
    if change.get("drop"):
        area["lsoas"] = area["lsoas"][:-1]
    areas_file.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


@pytest.mark.slow
@pytest.mark.mirror
def test_incremental_rebuilds_equal_cold_builds(processed, tmp_path, monkeypatch):
    monkeypatch.delenv("EVIDENCE_PACK_MEMO_DIR", raising=False)
    areas_file = tmp_path / "areas.yml"
    shutil.copy(config.DEFAULT_AREAS_FILE, areas_file)
    out, bld = tmp_path / "inc" / "reports", tmp_path / "inc" / "build"

    def incremental() -> build.BuildReport:
        res = build.build(areas_file=areas_file, only=ONLY, notebooks=NOTEBOOKS, pdf=False,
                          jobs=2, progress=False, reports_dir=out, build_dir=bld)
        assert not res.failures, res.failures
        return res

    incremental()
    for step, change, reran in (
            ("name", {"name": NEW_NAME}, {f"{t}/{n}" for t in ("borough", EDITED)
                                          for n in AREA_NOTEBOOKS} | {"borough/briefing"}),
            ("lsoa", {"drop": True}, {f"{t}/{n}" for t in ("borough", EDITED)
                                      for n in AREA_NOTEBOOKS} | {"borough/briefing"}
             | {"canklow/baseline_spend"})):  # canklow's evaluation uses its own LSOAs only
        _edit(areas_file, **change)
        res = incremental()
        assert {r.job_id for r in res.results} == reran, step  # and no other report
        got, cold = _built(out), _cold(tmp_path / f"cold-{step}", areas_file, monkeypatch)
        assert set(got) == set(cold)
        for key, (figures, html) in got.items():
            assert figures == cold[key][0], f"{step}: {key} differs from a cold build"
            assert OLD_NAME not in json.dumps(figures) and OLD_NAME not in html, (step, key)
        for key in (f"{EDITED}/evaluation", f"{EDITED}/area_profile", "borough/area_profile",
                    "borough/briefing"):
            assert NEW_NAME in got[key][1], (step, key)


@pytest.mark.mirror
def test_renamed_area_reuses_cached_frames_with_its_new_name(processed, tmp_path, monkeypatch):
    """Evaluation and risk frames are cached by membership: a renamed area reads them (no
    recomputation) and the risk frames show the new name; a dropped LSOA is a new key."""
    from evidence_pack.analysis import areas, evaluation, risk

    renamed = tmp_path / "renamed.yml"
    shutil.copy(config.DEFAULT_AREAS_FILE, renamed)
    _edit(renamed, name=NEW_NAME)
    before = risk.area_results(config.DEFAULT_AREAS_FILE)
    evaluation.load(config.DEFAULT_AREAS_FILE)
    assert areas.load_areas(renamed).membership_key() == areas.load_areas().membership_key()
    monkeypatch.setattr(risk, "_compute_area_results", lambda *a, **k: pytest.fail("recomputed"))
    monkeypatch.setattr(evaluation, "run", lambda *a, **k: pytest.fail("recomputed"))
    after = risk.area_results(renamed)
    evaluation.load(renamed)
    for key in ("areas_2025", "lsoas_2025"):
        names = dict(zip(after[key]["slug"], after[key]["name"], strict=False))
        assert names[EDITED] == NEW_NAME and OLD_NAME not in set(after[key]["name"])
        assert dict(zip(before[key]["slug"], before[key]["name"], strict=False))[EDITED] == OLD_NAME
        pd.testing.assert_frame_equal(before[key].drop(columns="name"),
                                      after[key].drop(columns="name"))
    _edit(renamed, drop=True)
    assert areas.load_areas(renamed).membership_key() != areas.load_areas().membership_key()
