"""Evaluation and risk results for another district's areas file: computed once per file
(cached by its content), reused by every later report, and written for that district alone."""

from __future__ import annotations

import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.analysis import evaluation, risk
from evidence_pack.findings import evaluation as ev_findings
from evidence_pack.findings import risk as risk_findings

LA_CODE, LA_NAME = "E06000009", "Blackpool"


@pytest.fixture(scope="module")
def areas_file(processed, tmp_path_factory):
    iod = pd.read_parquet(config.PROCESSED_DIR / "iod_lsoa.parquet",
                          columns=["release", "lsoa_code", "lad_code", "measure", "rank"])
    mine = iod[(iod["release"] == 2010) & (iod["measure"] == "imd") & (iod["lad_code"] == LA_CODE)]
    codes = mine.sort_values("rank")["lsoa_code"].head(3).tolist()
    if len(codes) < 3:
        pytest.skip(f"{LA_NAME} not in the IoD store")
    text = (f"la_code: {LA_CODE}\nla_name: {LA_NAME}\nsource: drafted for a test\n"
            "lsoa_vintage: 2001\nareas:\n"
            f"  - slug: first\n    name: First Area\n    area_type: unclassified\n"
            f"    lsoa_vintage: 2001\n    lsoas: [{codes[0]}, {codes[1]}]\n"
            f"  - slug: second\n    name: Second Area\n    area_type: unclassified\n"
            f"    lsoa_vintage: 2001\n    lsoas: [{codes[2]}]\n")
    p = tmp_path_factory.mktemp("areas") / "blackpool.yml"
    p.write_text(text)
    return p


@pytest.mark.mirror
def test_evaluation_cached_per_areas_file(areas_file, monkeypatch):
    res = evaluation.load(areas_file)
    assert set(res["matches"]["area_slug"]) == {"first", "second"}
    monkeypatch.setattr(evaluation, "run", lambda *a, **k: pytest.fail("recomputed"))
    again = evaluation.load(areas_file)  # from the cache: run is never called
    pd.testing.assert_frame_equal(res["did"], again["did"])
    names = {"first": "First Area", "second": "Second Area"}
    text = " ".join(ev_findings.key_findings(res, "all", names, LA_NAME)
                    + ev_findings.key_findings(res, "second", names, LA_NAME))
    assert LA_NAME in text and "Rotherham" not in text
    assert ev_findings.decision(None) is None


@pytest.mark.mirror
def test_risk_area_results_cached_per_areas_file(areas_file, monkeypatch):
    res = risk.area_results(areas_file)
    assert set(res["areas_2025"]["slug"]) == {"first", "second"}
    monkeypatch.setattr(risk, "_compute_area_results",
                        lambda *a, **k: pytest.fail("recomputed"))
    again = risk.area_results(areas_file)
    pd.testing.assert_frame_equal(res["factors_2025"], again["factors_2025"])
    out = risk.load_all()
    names = {"first": "First Area", "second": "Second Area"}
    text = " ".join(risk_findings.area_findings(res, ["first", "second"], names, LA_NAME,
                                                LA_CODE, out["table"], out["predictions"],
                                                2025, 10))
    assert LA_NAME in text and "Rotherham" not in text
