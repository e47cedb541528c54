"""Risk factors for target areas outside the model's cohort (England's most deprived 10% on
the IMD 2010): the findings say the model does not apply, never crash or print "nan".

Real data: a district's own LSOAs from the IoD store, chosen by their IMD 2010 rank."""

from __future__ import annotations

import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.analysis import risk
from evidence_pack.findings import risk as risk_findings
from evidence_pack.findings import risk_tables

#: Blackpool (many LSOAs in the 2010 most deprived 10%, many not) and West Devon (none).
MIXED, OUTSIDE = ("E06000009", "Blackpool"), ("E07000047", "West Devon")


def _lsoas(code: str) -> pd.DataFrame:
    iod = pd.read_parquet(config.PROCESSED_DIR / "iod_lsoa.parquet",
                          columns=["release", "lsoa_code", "lad_code", "measure", "rank"])
    mine = iod[(iod["release"] == 2010) & (iod["measure"] == "imd") & (iod["lad_code"] == code)]
    if mine.empty:
        pytest.skip(f"{code} not in the IoD store")
    return mine.sort_values("rank")


def _write(path, code: str, name: str, areas: dict[str, list[str]]) -> str:
    text = (f"la_code: {code}\nla_name: {name}\nsource: drafted for a test\n"
            "lsoa_vintage: 2001\nareas:\n")
    for slug, codes in areas.items():
        text += (f"  - slug: {slug}\n    name: {slug.title()} Area\n    area_type: unclassified\n"
                 f"    lsoa_vintage: 2001\n    lsoas: [{', '.join(codes)}]\n")
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def outputs(processed):
    return risk.load_all()


@pytest.fixture(scope="module")
def outside(processed, tmp_path_factory):
    """West Devon's three most deprived LSOAs in two areas: none in the 2010 most deprived 10%."""
    codes = _lsoas(OUTSIDE[0])["lsoa_code"].head(3).tolist()
    p = _write(tmp_path_factory.mktemp("areas") / "westdevon.yml", *OUTSIDE,
               {"first": codes[:2], "second": codes[2:]})
    return risk.area_results(p)


@pytest.fixture(scope="module")
def mixed(processed, tmp_path_factory):
    """Blackpool: one area of its most deprived LSOA (in the cohort), one of its least."""
    m = _lsoas(MIXED[0])
    p = _write(tmp_path_factory.mktemp("areas") / "blackpool.yml", *MIXED,
               {"inner": m["lsoa_code"].head(1).tolist(), "outer": m["lsoa_code"].tail(1).tolist()})
    return risk.area_results(p)


def _findings(res, slugs, district, outputs, **kw) -> str:
    names = {"first": "First Area", "second": "Second Area", "inner": "Inner Area",
             "outer": "Outer Area"}
    return " ".join(risk_findings.area_findings(
        res, slugs, names, district[1], district[0], outputs["table"], outputs["predictions"],
        2025, 10, **kw))


@pytest.mark.mirror
def test_no_area_in_cohort_several_areas(outside, outputs):
    text = _findings(outside, ["first", "second"], OUTSIDE, outputs)
    assert risk_findings.cohort_members(outside, ["first", "second"], 2025) == 0
    assert text.startswith("None of West Devon's 3 target-area neighbourhoods was in England's "
                           "most deprived 10% on the IMD 2010")
    assert "does not apply" in text and "England-wide results below still hold" in text
    assert "nan" not in text.lower() and "long-term problems" in text
    assert risk_findings.no_cohort_note("West Devon", 10, True).startswith(
        "None of the target-area neighbourhoods of West Devon was")


@pytest.mark.mirror
def test_no_area_in_cohort_one_area(outside, outputs):
    """A one-area district's borough report (the default) and an area report."""
    assert "results below still hold" in _findings(outside, ["second"], OUTSIDE, outputs)
    text = _findings(outside, ["second"], OUTSIDE, outputs, england_where="in the borough report")
    assert text.startswith("Second Area's one neighbourhood was not in England's most deprived "
                           "10% on the IMD 2010")
    assert "results in the borough report still hold" in text
    assert "nan" not in text.lower() and "%" not in text.split(".")[0].replace("10%", "")


@pytest.mark.mirror
def test_some_areas_in_cohort(mixed, outputs):
    both = _findings(mixed, ["inner", "outer"], MIXED, outputs)
    assert risk_findings.cohort_members(mixed, ["inner"], 2025) == 1
    assert risk_findings.cohort_members(mixed, ["outer"], 2025) == 0
    assert "1 of the 2 areas had no neighbourhood in that group in 2010" in both
    assert "nan" not in both.lower()
    inner = _findings(mixed, ["inner"], MIXED, outputs)
    assert inner.startswith("Inner Area (1 neighbourhood, 1 in England's 2010 most deprived 10%)")
    outer = _findings(mixed, ["outer"], MIXED, outputs)
    assert "does not apply to it" in outer and "nan" not in outer.lower()


@pytest.mark.mirror
def test_table_caption_names_areas_outside_the_group(mixed, outside):
    names = {"inner": "Inner Area", "outer": "Outer Area", "first": "First Area",
             "second": "Second Area"}
    table = risk_tables.area_scores_table(mixed, ["inner", "outer"], names)
    assert table.loc[1, "Predicted 2025 (%)"] != table.loc[1, "Predicted 2025 (%)"]  # a dash
    note = risk_findings.outside_group_note(mixed, ["inner", "outer"], names, 2025, 10)
    assert note == (" A dash: none of the neighbourhoods of Outer Area was in England's most "
                    "deprived 10% on the IMD 2010, so the model makes no prediction for it.")
    assert risk_findings.outside_group_note(mixed, ["inner"], names, 2025, 10) == ""
    both = risk_findings.outside_group_note(outside, ["first", "second"], names, 2025, 10)
    assert "of First Area and Second Area was" in both and both.endswith("for them.")
