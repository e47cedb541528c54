"""Census 2021 tidy tables: building, validation and aggregation (fixtures + mirror)."""

from __future__ import annotations

import pandas as pd
import pytest
from evidence_pack.sources.io import DataError
from evidence_pack.stores import census


def _tenure_raw(counts: dict[str, list[float]]) -> pd.DataFrame:
    labels = list(census.LSOA_TOPICS["tenure"][4])
    rows = []
    for code, ns in counts.items():
        for lab, n in zip(labels, ns, strict=True):
            rows.append({"lsoa21_code": code, "total_households": sum(ns), "tenure": lab, "n": n})
    return pd.DataFrame(rows)


@pytest.fixture
def tenure() -> pd.DataFrame:
    raw = _tenure_raw({
        "E01000001": [10, 20, 0, 30, 10, 20, 10, 0],   # 100 households, 40 social
        "E01000002": [50, 30, 0, 5, 5, 10, 0, 0],      # 100 households, 10 social
        "W01000001": [1, 1, 1, 1, 1, 1, 1, 1],         # Wales: dropped
    })
    return census.tidy_lsoa_topic(raw, "tenure")


def test_tidy_keeps_england_and_maps_categories(tenure):
    assert set(tenure["lsoa_code"]) == {"E01000001", "E01000002"}
    assert set(tenure["category"]) == set(census.LSOA_TOPICS["tenure"][4].values())
    row = tenure.query("lsoa_code == 'E01000001' and category == 'social_rented_council'")
    assert row["prop"].item() == pytest.approx(0.30)
    census.validate(tenure, "lsoa_code")


def test_unknown_category_is_an_error():
    raw = _tenure_raw({"E01000001": [1] * 8})
    raw.loc[3, "tenure"] = "Council house"
    with pytest.raises(DataError, match="unknown category 'Council house'"):
        census.tidy_lsoa_topic(raw, "tenure", source="x.rda")


def test_validate_catches_sum_mismatch_and_duplicates(tenure):
    bad = tenure.copy()
    bad.loc[0, "n"] += 5
    with pytest.raises(DataError, match="categories sum to 105, total is 100"):
        census.validate(bad, "lsoa_code", source="t.parquet")
    dup = pd.concat([tenure, tenure.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match="duplicate"):
        census.validate(dup, "lsoa_code")
    neg = tenure.copy()
    neg.loc[2, "n"] = float("nan")
    with pytest.raises(DataError, match="missing or negative"):
        census.validate(neg, "lsoa_code")


def test_shares_pool_counts_and_groups(tenure):
    s = census.shares(["E01000001", "E01000002"], table=tenure).set_index("category")
    assert s.loc["social_rented", "n"] == 50
    assert s.loc["social_rented", "total"] == 200
    assert s.loc["social_rented", "prop"] == pytest.approx(0.25)
    assert s.loc["owner_occupied", "prop"] == pytest.approx(110 / 200)
    one = census.shares(["E01000001"], table=tenure).set_index("category")
    assert one.loc["social_rented", "prop"] == pytest.approx(0.40)
    half = census.shares(["E01000001", "E01000002"], table=tenure,
                         weights={"E01000001": 1.0, "E01000002": 0.5}).set_index("category")
    assert half.loc["social_rented", "prop"] == pytest.approx(45 / 150)
    with pytest.raises(KeyError, match="E0999"):
        census.shares(["E0999"], table=tenure)


def test_compare_and_lsoa_measure(tenure):
    c = census.compare({"a": ["E01000001"], "England": None}, table=tenure)
    assert c.loc[("tenure", "social_rented"), "a"] == pytest.approx(0.40)
    assert c.loc[("tenure", "social_rented"), "England"] == pytest.approx(0.25)
    m = census.lsoa_measure("tenure", "social_rented", table=tenure)
    assert m["E01000002"] == pytest.approx(0.10)


def test_msoa_tidy_and_churn():
    mig = pd.DataFrame({"msoa21_code": ["E02000001", "W02000001"], "msoa21_name": ["A 001", "W"],
                        "all_usual_residents": [100.0, 10.0],
                        "address_one_year_ago_is_the_same": [85.0, 10.0],
                        "address_one_year_ago_is_student_or_boarding": [1.0, 0.0],
                        "migrant_from_within_uk": [10.0, 0.0],
                        "migrant_from_outside_uk": [4.0, 0.0]})
    prof = pd.DataFrame({"msoa21_code": ["E02000001", "W02000001"],
                         **{c: [v, 0.0] for c, v in zip(census.PROFICIENCY_COLUMNS,
                                                        [80.0, 8.0, 6.0, 3.0, 1.0], strict=True)},
                         census._PROF: [18.0, 0.0]})
    m = census.tidy_msoa(mig, prof)
    census.validate(m, "msoa_code")
    assert set(m["msoa_code"]) == {"E02000001"}
    churn = census.lsoa_measure("migration", "churn", table=m, key="msoa_code")
    assert churn["E02000001"] == pytest.approx(0.14)
    s = census.shares(None, ["proficiency"], table=m, key="msoa_code").set_index("category")
    assert s.loc["poor_english", "prop"] == pytest.approx(4 / 98)


def test_cross_check_detects_disagreement():
    raw = pd.DataFrame({"lsoa21_code": ["E01000001"] * 5, "total_households": [10.0] * 5,
                        "deprivation_dimensions": list(census.LSOA_TOPICS[
                            "household_deprivation"][4]), "n": [4.0, 3.0, 2.0, 1.0, 0.0]})
    tidy = census.tidy_lsoa_topic(raw, "household_deprivation")
    imd = pd.DataFrame({"lsoa21_code": ["E01000001"] * 5,
                        "households_number_deprivation_dimensions": [0.0, 1, 2, 3, 4],
                        "count": [4.0, 3.0, 2.0, 1.0, 0.0]})
    census.cross_check_deprivation(tidy, imd)
    imd.loc[1, "count"] = 9.0
    with pytest.raises(DataError, match="IMD package 9.0"):
        census.cross_check_deprivation(tidy, imd, source="imd.rda")


@pytest.mark.mirror
def test_real_census_tables(raw_data):
    census.prepare()
    lsoa = census.load_lsoa()
    assert lsoa["lsoa_code"].nunique() == 33_755
    assert set(lsoa["topic"]) == set(census.LSOA_TOPICS)
    census.validate(lsoa, "lsoa_code")
    eng = census.shares(None, ["tenure", "household_deprivation"]).set_index("category")
    # Census 2021 England: 17.1% of households socially rented; 51.6% deprived in 1+ dimension
    assert eng.loc["social_rented", "prop"] == pytest.approx(0.171, abs=0.001)
    assert eng.loc["deprived_1plus", "prop"] == pytest.approx(0.516, abs=0.002)
    msoa = census.load_msoa()
    assert msoa["msoa_code"].nunique() == 6_856
    churn = census.lsoa_measure("migration", "churn", key="msoa_code")
    assert 0.0 <= churn.min() and churn.max() < 1.0
