"""Tests for the evaluation: matching, balance, difference-in-differences, carrying, monitoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.analysis import evaluation as ev
from evidence_pack.analysis import evaluation_did as dd
from evidence_pack.analysis import evaluation_match as mt
from evidence_pack.analysis import evaluation_monitoring as mon
from evidence_pack.analysis import evaluation_panel as pnl
from evidence_pack.findings import evaluation_tables as tables
from evidence_pack.sources.io import DataError

SPEC = mt.MatchSpec(k=5, caliper=0.5)


def _synthetic(effect: float, n: int = 4000, n_treated: int = 24, seed: int = 1):
    """A synthetic England: latent deprivation drives 2010 positions, the 2004-2010 trend
    and the later change (regression to the mean), so naive comparisons are biased. The
    treated LSOAs (district "T", chosen among the most deprived) get ``effect`` percentile
    points added to every later release."""
    rng = np.random.default_rng(seed)
    latent = rng.uniform(0, 100, n)
    codes = [f"E{i:05d}" for i in range(n)]
    units = pd.DataFrame(index=pd.Index(codes, name="lsoa_code"))
    units["lad_code"] = [f"L{i % 50:02d}" for i in range(n)]
    units["ruc"] = np.where(rng.random(n) < 0.8, "urban", "rural")
    panel = pd.DataFrame(index=units.index)
    for d in pnl.MEASURES:
        panel[pnl.col(d, 2010)] = np.clip(latent + rng.normal(0, 6, n), 0.1, 100)
    trend = 0.08 * (50 - latent) + rng.normal(0, 2, n)
    panel[pnl.col("imd", 2004)] = panel[pnl.col("imd", 2010)] - trend
    panel[pnl.col("imd", 2007)] = panel[pnl.col("imd", 2010)] - trend / 2
    deprived = np.flatnonzero(latent < 12)
    treated_idx = rng.choice(deprived, n_treated, replace=False)
    units.iloc[treated_idx, units.columns.get_loc("lad_code")] = "T"
    treated = units.index[treated_idx]
    for i, rel in enumerate(pnl.POST, start=1):
        for d in pnl.MEASURES:
            change = 0.1 * i * (50 - latent) + rng.normal(0, 3, n)
            panel[pnl.col(d, rel)] = panel[pnl.col(d, 2010)] + change
            panel.loc[treated, pnl.col(d, rel)] += effect
    units = units.join(panel).join(pnl.covariates(panel)[["imd_trend_2004_2010"]])
    groups = pd.Series([f"area{i % 4}" for i in range(n_treated)], index=treated)
    return units, panel, groups


@pytest.mark.parametrize("effect", [6.0, 0.0])
def test_did_recovers_built_in_effect(effect):
    units, panel, groups = _synthetic(effect)
    matches = mt.match(units, list(groups.index), "T", SPEC)
    est = dd.did(panel, matches, groups, n_boot=499, cluster="lsoa")
    post = est[est["release"].isin(pnl.POST)]
    assert len(post) == len(pnl.MEASURES) * len(pnl.POST)
    imd = post[post["measure"] == "imd"].set_index("release")
    for rel in pnl.POST:
        row = imd.loc[rel]
        assert row["ci_low"] <= effect <= row["ci_high"], row
        assert abs(row["estimate"] - effect) < 2.5
    if effect:
        assert (imd["ci_low"] > 0).all()  # a real effect is detected
    else:
        assert (imd["ci_low"] <= 0).all() and (imd["ci_high"] >= 0).all()


def test_naive_comparison_is_biased_but_matching_is_not():
    units, panel, groups = _synthetic(0.0)
    change = panel[pnl.col("imd", 2025)] - panel[pnl.col("imd", 2010)]
    naive = change[groups.index].mean() - change[units["lad_code"] != "T"].mean()
    assert abs(naive) > 5  # regression to the mean makes the deprived look better
    matches = mt.match(units, list(groups.index), "T", SPEC)
    est = dd.did(panel, matches, groups, n_boot=199, measures=["imd"], releases=[2025])
    assert abs(est.loc[0, "estimate"]) < 2.5


def test_balance_improves_after_matching():
    units, _, groups = _synthetic(0.0)
    matches = mt.match(units, list(groups.index), "T", SPEC)
    bal = mt.balance(units, matches, list(SPEC.weights), "T")
    assert set(bal["variable"]) == set(SPEC.weights)
    assert (bal["smd_after"].abs() < bal["smd_before"].abs()).all()
    assert (bal["smd_before"].abs() > 1).all() and (bal["smd_after"].abs() < 0.25).all()


def test_matching_rules():
    units, _, groups = _synthetic(0.0)
    matches = mt.match(units, list(groups.index), "T", SPEC)
    assert set(matches["treated"]) == set(groups.index)  # every treated LSOA is matched
    assert not units.loc[matches["control"], "lad_code"].eq("T").any()  # outside the district
    assert (units.loc[matches["treated"], "ruc"].to_numpy()
            == units.loc[matches["control"], "ruc"].to_numpy()).all()  # exact on class
    inside = matches[~matches["outside_caliper"]]
    assert (inside["distance"] <= SPEC.caliper).all()
    assert matches.groupby("treated").size().max() <= SPEC.k
    tight = mt.match(units, list(groups.index), "T", mt.MatchSpec(k=5, caliper=1e-9))
    assert tight.groupby("treated").size().eq(1).all() and tight["outside_caliper"].all()


def test_area_cluster_bootstrap_is_wider_with_area_shocks():
    units, panel, groups = _synthetic(0.0, n_treated=40)
    # a shock shared by all LSOAs of one area: clustering by area must widen the interval
    shock = groups.map({"area0": 8.0, "area1": -8.0, "area2": 4.0, "area3": -4.0})
    for rel in pnl.POST:
        panel.loc[groups.index, pnl.col("imd", rel)] += shock.to_numpy()
    matches = mt.match(units, list(groups.index), "T", SPEC)
    kw = dict(n_boot=499, measures=["imd"], releases=[2025])
    by_lsoa = dd.did(panel, matches, groups, cluster="lsoa", **kw).iloc[0]
    by_area = dd.did(panel, matches, groups, cluster="area", **kw).iloc[0]
    assert (by_area["ci_high"] - by_area["ci_low"]) > (by_lsoa["ci_high"] - by_lsoa["ci_low"])
    assert by_area["n_clusters"] == 4


def _tiny_store():
    """2001: a, b, c, d. 2011: a->X, b split into Y1 (60% of its people) and Y2 (40%), c and
    d merge into Z. 2021: X->X, Y1->Y1, Y2 split equally into W1 and W2, Z->Z. ``pairs``
    run from each later vintage back to 2001 with the overlap populations, as
    ``lookups.lookup(later, 2001)`` gives them."""
    pairs = {
        2011: pd.DataFrame({"from_code": ["X", "Y1", "Y2", "Z", "Z"],
                            "to_code": ["a", "b", "b", "c", "d"],
                            "population": [100.0, 60.0, 40.0, 80.0, 120.0]}),
        2021: pd.DataFrame({"from_code": ["X", "Y1", "W1", "W2", "Z", "Z"],
                            "to_code": ["a", "b", "b", "b", "c", "d"],
                            "population": [100.0, 60.0, 20.0, 20.0, 80.0, 120.0]}),
    }
    rows = []
    for rel, codes, ranks in [
        (2004, ["a", "b", "c", "d"], [1, 2, 3, 4]),
        (2010, ["a", "b", "c", "d"], [4, 3, 2, 1]),
        (2015, ["X", "Y1", "Y2", "Z"], [1, 2, 3, 4]),
        (2025, ["X", "Y1", "W1", "W2", "Z"], [5, 1, 2, 3, 4]),
    ]:
        vintage = {2004: 2001, 2010: 2001, 2015: 2011, 2025: 2021}[rel]
        for c, r in zip(codes, ranks, strict=True):
            rows.append({"release": rel, "lsoa_code": c, "lsoa_vintage": vintage,
                         "measure": "imd", "rank": r})
    return pd.DataFrame(rows), pairs


def test_no_lsoa_lost_across_geography_changes():
    iod, pairs = _tiny_store()
    panel = pnl.build_panel(iod, pairs, measures=["imd"])
    assert len(panel) == 4 and list(panel.index) == ["a", "b", "c", "d"]  # count asserted
    assert panel.notna().all().all()  # every 2001 LSOA has every release
    # 2015: b = 0.6*Y1 + 0.4*Y2 (England percentiles among 4 LSOAs: 50 and 75)
    assert panel.loc["b", "imd_2015"] == pytest.approx(0.6 * 50 + 0.4 * 75)
    assert panel.loc["c", "imd_2015"] == panel.loc["d", "imd_2015"] == pytest.approx(100)
    # 2025 (5 LSOAs): b = 0.6*Y1 + 0.2*W1 + 0.2*W2
    assert panel.loc["b", "imd_2025"] == pytest.approx(0.6 * 20 + 0.2 * 40 + 0.2 * 60)
    assert panel.loc["a", "imd_2025"] == pytest.approx(100)


def test_lost_lsoa_raises():
    iod, pairs = _tiny_store()
    iod = iod[~((iod["release"] == 2015) & (iod["lsoa_code"] == "X"))]
    with pytest.raises(DataError, match="lost"):
        pnl.build_panel(iod, pairs, measures=["imd"])


def test_monitoring_flags_red_red_and_keeps_like_with_like():
    rng = np.random.default_rng(0)
    codes19 = [f"A{i}" for i in range(200)]
    codes25 = [f"B{i}" for i in range(200)]
    rank19 = pd.Series(np.arange(1, 201), index=codes19)
    rank25 = pd.Series(np.arange(1, 201), index=codes25)
    # a deprivation indicator: high values where rank is low (most deprived)
    base = 200 - np.arange(200) + rng.normal(0, 1, 200)
    rows = [{"release": 2019, "lsoa_code": c, "lsoa_vintage": 2011, "indicator": "bad_thing",
             "value": v} for c, v in zip(codes19, base, strict=True)]
    rows += [{"release": 2025, "lsoa_code": c, "lsoa_vintage": 2021, "indicator": "bad_thing",
              "value": v} for c, v in zip(codes25, base, strict=True)]
    rows += [{"release": 2019, "lsoa_code": c, "lsoa_vintage": 2011,
              "indicator": "mood_and_anxiety_disorders_indicator", "value": v}
             for c, v in zip(codes19, base, strict=True)]
    rows += [{"release": 2025, "lsoa_code": "B0", "lsoa_vintage": 2021,
              "indicator": "income_domain_numerator", "value": 50.0}]
    # a district-wide figure that worsens like bad_thing: shown, never flagged
    rows += [{**r, "indicator": "homelessness_indicator_rate_per_1000_households"
              if r["release"] == 2019 else "homelessness_indicator_rate_per_1_000_households"}
             for r in rows if r["indicator"] == "bad_thing"]
    ind = pd.DataFrame(rows)
    # area "worse": at position ~60 in 2019 (index 80), ~90 in 2025 (index 20): red-red
    # area "better": position ~90 in 2019, ~70 in 2025: improving, still worse than England
    mem = {2019: pd.DataFrame({"slug": ["worse", "better"], "name": ["W", "B"],
                               "lsoa_code": ["A80", "A20"], "weight": [1.0, 1.0]}),
           2025: pd.DataFrame({"slug": ["worse", "better"], "name": ["W", "B"],
                               "lsoa_code": ["B20", "B60"], "weight": [1.0, 1.0]})}
    out = mon.monitoring(ind, mem, {2019: rank19, 2025: rank25})
    # England's part computed once (evaluation.england_inputs) gives the same table
    england = mon.england_positions(ind, {2019: rank19, 2025: rank25})
    pd.testing.assert_frame_equal(mon.monitoring(None, mem, None, england=england), out)
    assert "income_domain_numerator" not in set(out["indicator"])  # counts left out
    bad = out[out["indicator"] == "bad_thing"].set_index("slug")
    assert bad.loc["worse", "direction"] == "worsening" and bad.loc["worse", "red_red"]
    assert bad.loc["better", "direction"] == "improving" and not bad.loc["better", "red_red"]
    assert bad.loc["better", "worse_than_england"]
    homeless = out[out["indicator"].str.startswith("homelessness")].set_index("slug")
    assert len(homeless) == 2 and homeless["comparable"].all()  # 1000 vs 1_000: same indicator
    assert homeless.loc["worse", "direction"] == "worsening" and not homeless["red_red"].any()
    mood = out[out["indicator"] == "mood_and_anxiety_disorders_indicator"]
    assert (~mood["comparable"]).all() and (mood["direction"] == "not comparable").all()
    assert not mood["red_red"].any() and mood["note"].str.contains("mental health").all()


@pytest.mark.mirror
def test_rotherham_evaluation_on_the_mirror(processed):
    for name in ("lookup_lsoa01_lsoa11.parquet", "lsoa_geography.parquet",
                 "iod_indicators.parquet"):
        if not (config.PROCESSED_DIR / name).exists():
            pytest.skip(f"{name} not built")
    res = ev.load()
    units = res["units"]
    treated = units[units["area_slug"].notna()]
    assert treated["lad_code"].eq(config.DEFAULT_LA_CODE).all()
    m = res["matches"]
    assert set(m["treated"]) == set(treated["lsoa_code"])
    assert not units.set_index("lsoa_code").loc[m["control"], "lad_code"].eq(
        config.DEFAULT_LA_CODE).any()
    bal = res["balance"]
    bal = bal[bal["group"] == "all"]
    assert len(bal) == len(mt.MatchSpec().weights)
    assert (bal["smd_after"].abs() < bal["smd_before"].abs()).all()
    assert (bal["smd_after"].abs() < 0.25).all()
    d = res["did"]
    assert {"all", *treated["area_slug"]} <= set(d["group"])
    assert d[["estimate", "ci_low", "ci_high"]].notna().all().all()
    assert (d["ci_low"] <= d["estimate"]).all() and (d["estimate"] <= d["ci_high"]).all()
    # every target LSOA has every release 2004-2025 on the 2001 geography (no LSOA lost)
    for rel in pnl.RELEASES:
        assert treated[pnl.col("imd", rel)].notna().all()
    assert set(res["monitoring"]["slug"]) == set(treated["area_slug"])


def test_excluded_indicators_counts_the_not_comparable_of_one_area():
    mon = pd.DataFrame({"slug": ["a", "a", "a", "b"], "comparable": [True, False, False, False]})
    assert tables.excluded_indicators({"monitoring": mon}, "a") == 2
    assert tables.excluded_indicators({"monitoring": mon}, "b") == 1
