"""Tests for the risk-factor analysis (issue 5): outcomes, joins, model, verdicts, areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import risk
from evidence_pack.analysis import risk_areas as ra
from evidence_pack.analysis import risk_inputs as inputs
from evidence_pack.analysis import risk_model as model
from evidence_pack.analysis import risk_spec as spec
from evidence_pack.findings import risk as frisk
from evidence_pack.sources.io import DataError

# ----------------------------------------------------------------------------- outcomes


def _frames():
    # 20 LSOAs: decile = ceil(10 * rank / 20) -> ranks 1-2 decile 1, 3-4 decile 2, ...
    base = pd.DataFrame({"lsoa_code": list("ABCDEF"), "rank": [1, 2, 3, 4, 10, 20]})
    later = pd.DataFrame({"lsoa_code": list("ABCDEF"), "rank": [2, 9, 1, 4, 5, 20]})
    return base, later


def test_outcomes_most_deprived_decile():
    out = model.outcomes(*_frames(), n_base=20, n_later=20).set_index("lsoa_code")
    assert list(out.index) == ["A", "B"]  # deciles 1 at baseline only
    assert list(out["decile_base"]) == [1, 1]
    assert out.loc["A", "improved"] == 0 and out.loc["B", "improved"] == 1
    assert out.loc["B", "pct_gain"] == pytest.approx(100 * 9 / 20 - 100 * 2 / 20)


def test_outcomes_20pc_sensitivity_and_release_sizes():
    out = model.outcomes(*_frames(), n_base=20, n_later=40, max_decile=2).set_index("lsoa_code")
    assert list(out.index) == ["A", "B", "C", "D"] and out.index.is_unique
    # later n = 40: ranks 2, 9, 1, 4 are deciles 1, 3, 1, 1 -> only B left the 20%
    assert list(out["decile_later"]) == [1, 3, 1, 1]
    assert list(out["improved"]) == [0, 1, 0, 0]
    assert out.loc["D", "pct_gain"] == pytest.approx(100 * 4 / 40 - 100 * 4 / 20)


def test_outcomes_errors():
    base, later = _frames()
    with pytest.raises(DataError, match="missing from the later"):
        model.outcomes(base, later.iloc[1:], 20, 20)
    with pytest.raises(DataError, match="duplicate"):
        model.outcomes(pd.concat([base, base.iloc[:1]]), later, 20, 20)


def test_rank_decile_edges():
    assert list(model.rank_decile([1, 10, 11, 100], 100)) == [1, 1, 2, 10]


def test_post_baseline_flags():
    assert spec.post_baseline("social_rented") and spec.post_baseline("churn")
    assert spec.post_baseline("gva_growth")  # 2010-2019
    assert not spec.post_baseline("adult_skills")
    assert not spec.post_baseline("geographical_barriers")
    with pytest.raises(KeyError):
        spec.post_baseline("nonsense")


# ----------------------------------------------------------------------------- joins


def test_join_factors_keeps_every_lsoa_once():
    base = pd.DataFrame({"lsoa_code": ["a", "b", "c", "d"]})
    tenure = pd.DataFrame({"lsoa_code": ["a", "b", "c", "d", "e"], "social_rented": range(5)})
    road = pd.DataFrame({"lsoa_code": ["a", "c"], "road_distance": [1.0, 2.0]})
    out = model.join_factors(base, {"tenure": tenure, "road": road})
    assert len(out) == 4 and out["lsoa_code"].tolist() == ["a", "b", "c", "d"]
    assert out["road_distance"].isna().sum() == 2  # missing stays missing, not dropped
    with pytest.raises(DataError, match="duplicate"):
        model.join_factors(base, {"t": pd.concat([tenure, tenure.iloc[:1]])})
    with pytest.raises(DataError, match="repeats columns"):
        model.join_factors(base, {"t": tenure, "t2": tenure})


def test_via_lookup_msoa_to_lsoa_counts():
    lookup = pd.DataFrame({"lsoa_code": ["a", "b", "c", "d"], "msoa_code": ["M1", "M1", "M2", "M3"]})
    churn = pd.DataFrame({"msoa_code": ["M1", "M2"], "churn": [10.0, 20.0]})
    out = model.via_lookup(churn, lookup, "msoa_code")
    assert len(out) == 4 and out["lsoa_code"].is_unique
    assert out.set_index("lsoa_code")["churn"].to_dict() == pytest.approx(
        {"a": 10.0, "b": 10.0, "c": 20.0, "d": np.nan}, nan_ok=True)
    with pytest.raises(DataError):
        model.via_lookup(churn, pd.concat([lookup, lookup.iloc[:1]]), "msoa_code")


def _synthetic_inputs(n: int = 200, seed: int = 1):
    rng = np.random.default_rng(seed)
    codes = [f"E01{i:06d}" for i in range(n)]
    score = rng.normal(size=n)
    base = pd.DataFrame({"lsoa_code": codes, "imd_score": score,
                         "imd_rank": pd.Series(-score).rank(method="first").astype(int)})
    for m in ("income", "adult_skills"):
        base[f"{m}_score"] = score + rng.normal(scale=0.5, size=n)
    later = {2019: pd.DataFrame({"lsoa_code": codes, "imd_rank": rng.permutation(n) + 1}),
             2025: pd.DataFrame({"lsoa_code": codes, "imd_rank": rng.permutation(n) + 1})}
    districts = pd.DataFrame({"lsoa_code": codes, "lad_code": [f"D{i % 7}" for i in range(n)],
                              "lad_name": [f"District {i % 7}" for i in range(n)]})
    tenure = pd.DataFrame({"lsoa_code": codes, "social_rented": rng.uniform(0, 80, n)})
    churn = model.via_lookup(pd.DataFrame({"msoa_code": ["M0", "M1", "M2"],
                                          "churn": [5.0, 10.0, 15.0]}),
                            pd.DataFrame({"lsoa_code": codes,
                                          "msoa_code": [f"M{i % 3}" for i in range(n)]}),
                            "msoa_code")
    return base, later, districts, {"tenure": tenure, "churn": churn}


def test_build_table_counts_and_columns():
    base, later, districts, frames = _synthetic_inputs()
    t = inputs.build_table(base, later, districts, frames, n=200)
    assert len(t) == 40 and t["lsoa_code"].is_unique  # most deprived 20% of 200
    assert int(t["cohort10"].sum()) == 20
    assert set(t.loc[t["cohort10"], "imd_rank"]) == set(range(1, 21))
    assert t.loc[~t["cohort10"], "improved10_2019"].isna().all()
    assert t.loc[t["cohort10"], "improved10_2019"].notna().all()
    for col in ("social_rented", "churn", "income", "adult_skills", "lad_code",
                "improved20_2025", "pct_gain_2025"):
        assert col in t.columns and t[col].notna().all(), col
    rows = t.set_index("lsoa_code")
    later19 = later[2019].set_index("lsoa_code")["imd_rank"]
    expect = (np.ceil(10 * later19[rows.index] / 200) > 2).astype(int)
    assert (rows["improved20_2019"] == expect).all()


def test_build_table_rejects_unmapped_district():
    base, later, districts, frames = _synthetic_inputs()
    worst = base.sort_values("imd_rank")["lsoa_code"].iloc[0]
    with pytest.raises(DataError, match="no district"):
        inputs.build_table(base, later, districts[districts["lsoa_code"] != worst], frames, n=200)


# ----------------------------------------------------------------------------- model


def _logit_data(n=4000, beta=0.8, seed=0, n_groups=80):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    noise = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1.0 + beta * x)))).astype(int)
    return pd.DataFrame({"lsoa_code": [f"L{i}" for i in range(n)], "y": y, "x": x,
                         "noise": noise, "lad_code": rng.integers(0, n_groups, n)})


def test_logit_recovers_known_effect():
    df = _logit_data()
    _, table = model.fit_logit(df, "y", ["x", "noise"])
    t = table.set_index("factor")
    assert abs(np.log(t.loc["x", "odds_ratio"]) - 0.8) < 0.12
    assert t.loc["x", "ci_low"] < np.exp(0.8) < t.loc["x", "ci_high"]
    assert t.loc["noise", "ci_low"] < 1 < t.loc["noise", "ci_high"]
    assert (t["n"] == 4000).all()


def test_standardised_odds_ratio_is_per_sd():
    df = _logit_data(beta=0.8)
    df["x10"] = df["x"] * 10 + 3  # same effect on a scale with SD 10
    z, scaling = model.standardise(df, ["x10"])
    assert z["x10"].std() == pytest.approx(1.0)
    _, table = model.fit_logit(z, "y", ["x10"])
    assert abs(np.log(table.loc[0, "odds_ratio"]) - 0.8) < 0.12
    assert scaling.loc[0, "sd"] == pytest.approx(df["x10"].std())


def test_grouped_cv_holds_out_whole_districts():
    df = _logit_data()
    cv = model.grouped_cv(df, "y", ["x"], n_splits=5)
    assert len(cv) == len(df)
    assert (cv.groupby("lad_code")["fold"].nunique() == 1).all()
    # theoretical AUC of a logit with slope 0.8 on N(0,1) is about 0.71
    a = model.auc(cv["y"], cv["p_oof"])
    assert 0.66 < a < 0.76
    cal = model.calibration(cv["y"], cv["p_oof"])
    assert cal["n"].sum() == len(df) and len(cal) == 10
    assert (cal["observed"] - cal["predicted"]).abs().max() < 0.08


def test_verdicts():
    odds = pd.DataFrame([
        ("full", "social_rented", 0.6, 0.5, 0.8), ("each", "social_rented", 0.9, 0.7, 1.1),
        ("full", "churn", 1.6, 1.3, 1.9), ("each", "churn", 1.9, 1.5, 2.2),
        ("full", "gva_growth", 1.1, 0.9, 1.4), ("each", "gva_growth", 1.9, 1.4, 2.5),
        ("full", "adult_skills", 0.9, 0.7, 1.1), ("each", "adult_skills", 1.0, 0.8, 1.2),
    ], columns=["model", "factor", "odds_ratio", "ci_low", "ci_high"])
    v = model.verdicts(odds, ["social_rented", "churn", "gva_growth", "adult_skills"])
    got = v.set_index("factor")["verdict"].to_dict()
    assert got == {"social_rented": "holds", "churn": "opposite",
                   "gva_growth": "holds only on its own", "adult_skills": "not supported"}
    assert v.set_index("factor").loc["social_rented", "post_baseline"]


def test_explain_verdicts_written_from_numbers():
    v = pd.DataFrame([{"theme": "churn", "report_factor": spec.THEMES["churn"],
                       "factor": "churn", "verdict": "opposite", "or_full": 1.8,
                       "ci_low_full": 1.5, "ci_high_full": 2.2, "or_each": 1.7,
                       "ci_low_each": 1.4, "ci_high_each": 2.1, "release": 2025, "cohort": 10}])
    scaling = pd.DataFrame({"factor": ["churn"], "mean": [10.0], "sd": [5.1], "binary": [False],
                            "cohort": [10]})
    e = frisk.explain_verdicts(v, scaling)
    text = e.loc[0, "sentence"]
    assert "goes the other way" in text and "multiplied by 1.80" in text and "5.1 percentage points" in text
    assert "after the 2010 starting point" in text
    assert frisk.explain_verdicts(v, scaling, release=2019).empty


def test_vulnerability_percentiles():
    members = pd.DataFrame({"slug": ["a", "a"], "name": ["A", "A"],
                            "lsoa_code": ["L1", "L2"], "weight": [1.0, 1.0]})
    vals = pd.DataFrame({"lsoa_code": [f"L{i}" for i in range(1, 11)],
                         "key": "housing_in_poor_condition_indicator", "kind": "indicator",
                         "value": [0.9, 0.7, 0.1, 0.2, 0.3, 0.4, 0.5, 0.05, 0.15, 0.25]})
    v = ra.vulnerability({2019: members}, values={2019: vals})
    row = v[v["key"] == "housing_in_poor_condition_indicator"].iloc[0]
    assert row["value"] == pytest.approx(0.8)  # mean of 0.9 and 0.7
    assert row["percentile"] == pytest.approx(90.0)  # 9 of 10 LSOAs lower
    assert row["level"] == "worst 10%"
    assert row["problem"].startswith("Poor quality housing")


# ----------------------------------------------------------------------------- mirror


@pytest.fixture(scope="module")
def built(processed):
    from evidence_pack import config

    if not (config.PROCESSED_DIR / "lookup_lsoa11_lsoa21.parquet").exists():
        pytest.skip("lookups not built")
    risk.prepare()
    return {k: risk.load(k) for k in risk.OUT_FILES}


@pytest.mark.mirror
def test_england_cohort(built):
    t = built["table"]
    assert t["lsoa_code"].is_unique
    # 10% and 20% of England's 32,844 LSOA 2011 on the carried IMD 2010 rank
    assert int(t["cohort10"].sum()) == 3284 and len(t) == 6568
    assert t["imd_rank"].max() == 6568 and set(t["imd_decile"]) == {1, 2}
    for r in spec.OUTCOME_RELEASES:
        share = t.loc[t["cohort10"], f"improved10_{r}"].mean()
        assert 0.1 < share < 0.4, (r, share)
    preds = built["predictions"]
    assert not preds.duplicated(["lsoa_code", "release", "cohort"]).any()
    assert preds["p_model"].between(0, 1).all()
    cv = built["cv"].query("kind == 'auc'")
    assert len(cv) == 4 and cv["auc"].between(0.6, 0.99).all()
    odds = built["odds"]
    assert odds.loc[odds["factor"] == "social_rented", "post_baseline"].all()
    assert not odds.loc[odds["factor"] == "adult_skills", "post_baseline"].any()


@pytest.mark.mirror
def test_rotherham_areas_scored(built):
    from evidence_pack.analysis import areas

    a = areas.load_areas()
    s = ra.score_areas(areas.members(a, 2011), release=2025, outputs=built)
    assert len(s["areas"]) == len(a.areas) == 11
    assert s["lsoas"]["lsoa_code"].nunique() == 24
    assert s["areas"]["predicted"].between(0, 1).all()
    assert (s["areas"]["observed_improving"] <= s["areas"]["in_cohort"]).all()
    assert set(s["factors"]["slug"]) == {x.slug for x in a.areas}
    v = ra.vulnerability({2019: areas.members(a, 2011), 2025: areas.members(a, 2021)})
    assert set(v["theme"]) == set(ra.VULNERABILITY)
    assert v["percentile"].between(0, 100).all()


@pytest.mark.mirror
def test_similar_neighbourhoods_as_defined_per_member(built):
    """Each area's similar neighbourhoods (the pool outside a district, looked up once per
    district) are the union, per member LSOA, of the k nearest cohort LSOAs outside that
    LSOA's own district, found one LSOA at a time; the vulnerability split by key gives the
    figures of a filter per key."""
    from evidence_pack.analysis import areas

    a = areas.load_areas()
    m11 = areas.members(a, 2011)
    s = ra.score_areas(m11, release=2025, outputs=built)
    table = built["table"]
    data = table[table["cohort10"]]
    zs, _ = model.standardise(data, ra.SIMILARITY_FACTORS)
    sim_pool = zs.set_index("lsoa_code")[list(ra.SIMILARITY_FACTORS)].dropna()
    lsoas = s["lsoas"]
    for slug in [x.slug for x in a.areas]:
        inc = lsoas[(lsoas["slug"] == slug) & lsoas["in_cohort"] & lsoas["p_model"].notna()]
        sims: list[str] = []
        for code in inc["lsoa_code"]:
            district = table.loc[table["lsoa_code"] == code, "lad_code"].iloc[0]
            own = set(table.loc[table["lad_code"] == district, "lsoa_code"])
            pool = sim_pool[[c not in own for c in sim_pool.index]]
            sims.extend(ra.similar(pool, sim_pool.loc[code], list(ra.SIMILARITY_FACTORS), 50))
        sims = list(dict.fromkeys(sims))
        row = s["areas"].set_index("slug").loc[slug]
        assert row["similar_n"] == len(sims)
        expected = data.set_index("lsoa_code").loc[sims, "improved10_2025"].mean() if sims \
            else np.nan
        assert row["similar_observed"] == pytest.approx(expected, nan_ok=True)
    vals = ra.england_values(2019)
    key = "housing_in_poor_condition_indicator"
    v = ra.vulnerability({2019: m11}, values={2019: vals})
    ser = vals[vals["key"] == key].dropna(subset=["value"]).set_index("lsoa_code")["value"]
    first = m11[m11["slug"] == a.areas[0].slug]
    got = v[(v["key"] == key) & (v["slug"] == a.areas[0].slug)]["value"].iloc[0]
    w = ser.reindex(first["lsoa_code"])
    ok = w.notna().to_numpy()
    assert got == pytest.approx(np.average(w.to_numpy()[ok], weights=first["weight"].to_numpy()[ok]))
