"""Area profiles: domains, drivers, census context, CNI, rurality, findings (fixtures + mirror)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import profile
from evidence_pack.findings import profile as profile_findings
from evidence_pack.stores import census

N = 33_755  # England's LSOAs in 2021: percentiles use the real denominator


def _iod() -> pd.DataFrame:
    """Four LSOAs of release 2025: A1, A2 (the area, very deprived), B1, B2 (rest of borough)."""
    ranks = {"A1": 10, "A2": 200, "B1": 20_000, "B2": 30_000}
    rows = []
    for code, r in ranks.items():
        for m in ("imd", *profile.IMD_WEIGHTS):
            rr = r if m != "health" else max(1, r // 10)     # health even worse
            rows.append({"release": 2025, "lsoa_code": code, "lsoa_vintage": 2021,
                         "lad_code": "D", "lad_name": "Dee", "measure": m, "score": 1.0,
                         "rank": rr, "decile": int(np.ceil(10 * rr / N))})
    return pd.DataFrame(rows)


def _sets():
    return {"Area": pd.DataFrame({"lsoa_code": ["A1", "A2"], "weight": [1.0, 0.5]}),
            "Dee": pd.DataFrame({"lsoa_code": ["A1", "A2", "B1", "B2"], "weight": 1.0}),
            "England": None}


def _census() -> pd.DataFrame:
    rows = []
    data = {"A1": (60, 40, 50, 50), "A2": (20, 80, 10, 90), "B1": (10, 90, 5, 95),
            "B2": (5, 95, 5, 95)}
    for code, (soc, own, dis, notdis) in data.items():
        for cat, n in (("social_rented_council", soc), ("owned_outright", own)):
            rows.append({"lsoa_code": code, "topic": "tenure", "category": cat, "n": float(n),
                         "total": 100.0, "prop": n / 100})
        for cat, n in (("disabled", dis), ("not_disabled", notdis)):
            rows.append({"lsoa_code": code, "topic": "disability", "category": cat,
                         "n": float(n), "total": 100.0, "prop": n / 100})
    return pd.DataFrame(rows)


def test_exp_transform_matches_the_imd_definition():
    x = profile.exp_transform(np.array([1, N]), N)
    assert x[0] == pytest.approx(100.0)          # most deprived -> 100
    assert x[1] == pytest.approx(-23 * np.log(1 - (1 - np.exp(-100 / 23)) / N))
    assert x[1] < 0.01


def test_domain_table_and_drivers():
    iod, sets = _iod(), _sets()
    dom = profile.domain_table(iod, sets).set_index(["area", "measure"])
    assert dom.loc[("Area", "imd"), "share_decile1"] == 1.0
    assert dom.loc[("Dee", "imd"), "share_decile1"] == 0.5
    # median neighbourhood (weights 1 and 0.5): the rank-10 LSOA holds two thirds of the weight
    assert dom.loc[("Area", "imd"), "median_pct"] == pytest.approx(100 * 10 / N)
    drv = profile.drivers(iod, sets)
    assert drv.groupby("area")["share"].sum().to_numpy() == pytest.approx(1.0)
    # equal ranks on every domain but health: income/employment (22.5%) lead
    assert profile.top_drivers(drv, "Area", 2) == ["income", "employment"]
    area = drv.loc[drv["area"] == "Area"].set_index("measure")
    assert (area["vs_england"] > 1).all()


def test_population_and_census_table():
    sets, cen = _sets(), _census()
    pop = profile.population(sets, census_lsoa=cen).set_index("area")
    assert pop.loc["Area", "residents"] == 150 and pop.loc["Dee", "households"] == 400
    tab = profile.census_table(sets, rows=[("tenure", "social_rented"),
                                           ("disability", "disabled")], census_lsoa=cen)
    t = tab.set_index("category")
    assert t.loc["social_rented", "Area"] == pytest.approx((60 + 10) / 150)
    assert t.loc["disabled", "England"] == pytest.approx(70 / 400)
    assert t.loc["social_rented", "measure"] == "Social rented"


def test_msoa_cni_and_rurality():
    sets = _sets()
    msoa = pd.DataFrame({"msoa_code": ["M1"] * 4 + ["M2"] * 4, "msoa_name": None,
                         "topic": ["migration"] * 2 + ["proficiency"] * 2
                         + ["migration"] * 2 + ["proficiency"] * 2,
                         "category": ["moved_within_uk", "same_address", "english_none",
                                      "main_language_english"] * 2,
                         "n": [20.0, 80, 5, 95, 5, 95, 0, 100], "total": 100.0, "prop": 0.0})
    of = pd.Series({"A1": "M1", "A2": "M1", "B1": "M2", "B2": "M2"})
    mc = profile.msoa_context(sets, msoa_of=of, census_msoa=msoa).set_index("area")
    assert mc.loc["Area", "churn"] == pytest.approx(0.20)
    assert mc.loc["Dee", "churn"] == pytest.approx(0.125) and mc.loc["England", "msoas"] == 2
    cni = pd.DataFrame({"lsoa_code": ["A1", "A2", "B1", "B2"],
                        **{f"{k}_score": [4.0, 2.0, 1.0, 1.0] for k in profile.CNI_DOMAINS},
                        **{f"{k}_rank": [1.0, 2.0, 3.0, 4.0] for k in profile.CNI_DOMAINS},
                        "left_behind": [True, False, False, False]})
    ct = profile.cni_table(sets, cni).set_index("area")   # n = 4: top 10% = rank <= 0.4
    assert ct.loc["Area", "cni_score"] == pytest.approx((4 + 1) / 1.5)
    assert ct.loc["Area", "cni_top10"] == 0 and ct.loc["England", "left_behind"] == 1
    ruc = pd.DataFrame({"lsoa_code": ["A1", "A2", "B1", "B2"], "ruc_code": "x",
                        "classification": ["Urban", "Urban", "Rural", "Rural"], "ruc": "x"})
    r = profile.rurality(sets, ruc)
    assert profile.dominant_class(r, "Area") == ("Urban", 1.0)


def test_key_findings_from_data():
    iod, sets, cen = _iod(), _sets(), _census()
    pop = profile.population(sets, census_lsoa=cen)
    dom = profile.domain_table(iod, sets)
    drv = profile.drivers(iod, sets)
    tab = profile.census_table(sets, rows=[("tenure", "social_rented"),
                                           ("disability", "disabled")], census_lsoa=cen)
    cni = pd.DataFrame({"area": list(sets), **{f"{k}_top10": [0.5, 0.25, 0.1]
                                                for k in profile.CNI_DOMAINS}})
    f = profile_findings.key_findings("Area", "Dee", pop, dom, drv, tab, cni)
    text = " ".join(f)
    assert "150 residents" in text and "37.5% of Dee's residents" in text
    assert "all 1.5 neighbourhoods are in England's most deprived 10% (against 50% of Dee's)" \
        in text
    assert "Social rented" not in text and "social rented 47% (Dee 24%)" in text
    fb = profile_findings.key_findings("Dee", "Dee", pop, dom, drv, tab, cni)
    assert "2 of its 4 neighbourhoods (50%)" in " ".join(fb)
    assert "(England" in " ".join(fb)


@pytest.mark.mirror
def test_rotherham_profile_real(processed):
    from evidence_pack.analysis import areas
    from evidence_pack.stores import iod as iod_mod

    aset = areas.load_areas()
    i25 = iod_mod.load(releases=[2025], measures=["imd", *profile.IMD_WEIGHTS])
    sets = profile.area_sets(aset, areas.members(aset, 2021), i25, slugs=["canklow"])
    assert list(sets) == ["Canklow", "Rotherham", "England"]
    pop = profile.population(sets).set_index("area")
    assert pop.loc["Rotherham", "lsoas"] == 170
    assert 260_000 < pop.loc["Rotherham", "residents"] < 270_000   # Census 2021: 265,800
    dom = profile.domain_table(i25, sets).set_index(["area", "measure"])
    assert dom.loc[("England", "imd"), "share_decile1"] == pytest.approx(0.1, abs=0.001)
    assert dom.loc[("Canklow", "imd"), "share_decile1"] == 1.0
    cen = profile.census_table(sets).set_index("category")
    assert cen.loc["social_rented", "Canklow"] > cen.loc["social_rented", "Rotherham"]
    assert census.shares(None, ["tenure"]).set_index("category").loc[
        "social_rented", "prop"] == pytest.approx(cen.loc["social_rented", "England"])


def test_combined_set_and_overview_findings():
    iod, cen = _iod(), _census()
    sets = {"A": pd.DataFrame({"lsoa_code": ["A1"], "weight": [1.0]}),
            "B": pd.DataFrame({"lsoa_code": ["A2"], "weight": [1.0]})}
    both = pd.concat(list(sets.values()))
    sets = {**sets, "All": both, "Dee": pd.DataFrame({"lsoa_code": ["A1", "A2", "B1", "B2"],
                                                      "weight": 1.0}), "England": None}
    pop = profile.population(sets, census_lsoa=cen)
    dom = profile.domain_table(iod, sets)
    drv = profile.drivers(iod, sets)
    tab = profile.census_table(sets, rows=[("tenure", "social_rented")], census_lsoa=cen)
    f = profile_findings.overview_findings(dom, drv, tab, ["A", "B"], pop=pop, combined="All",
                                           borough="Dee", reported_share=0.15)
    text = " ".join(f)
    assert "hold 50.0% of Dee's residents" in text and "the 2011 report said 15%" in text
    assert "2 of the 2 target areas still have every neighbourhood" in text
    assert "Most deprived target area: A" in text
    assert "1 of the 2 areas have 40% or more" in text


def test_weighted_median_matches_numpy_for_equal_weights():
    v = np.array([5.0, 1.0, 9.0, 3.0])
    assert profile.weighted_median(v, np.ones(4)) == np.quantile(v, 0.5, method="inverted_cdf")
    assert profile.weighted_median(v, np.array([0, 0, 1, 0])) == 9.0


def test_area_table_puts_the_area_first_with_short_labels():
    dom = pd.DataFrame({"area": ["A", "A", "Dee", "Dee", "England", "England"],
                        "measure": ["imd", "income"] * 3, "median_pct": [1, 2, 30, 40, 50, 50]})
    t = profile.area_table(dom, "A", ["Dee", "England"], "median_pct")
    assert list(t.columns) == ["Measure", "A", "Dee", "England"]
    assert t["Measure"].tolist() == ["IMD", "Income"]
    assert t["A"].tolist() == [1, 2]


def test_england_census_shares_once_equal_the_direct_computation(processed):
    """The memoised England column of the census and MSOA tables equals census.shares of
    the whole table (what every report computed before)."""
    census_store = census
    topics = ("household_deprivation", "tenure")
    t = census_store.load_lsoa()
    direct = census_store.shares(None, list(topics), table=t.loc[t["topic"].isin(list(topics))])
    pd.testing.assert_frame_equal(profile.england_shares(topics), direct)
    pd.testing.assert_frame_equal(profile.england_shares(topics), direct)  # from the memo
    pd.testing.assert_frame_equal(
        profile.england_shares(("migration", "proficiency"), "msoa"),
        census_store.shares(None, ["migration", "proficiency"], table=census_store.load_msoa(),
                            key="msoa_code"))


def test_cni_and_rurality_read_from_their_files_once_per_version(processed):
    """The R files behind the community-need and rurality tables are read (memoised by the
    file's version): every English LSOA 2021, the same frame each call, each call a copy."""
    for load, cols in ((profile.load_cni, ["lsoa_code", "lsoa_name", "left_behind"]),
                       (profile.load_ruc, ["lsoa_code", "ruc_code", "classification", "ruc"])):
        a, b = load(), load()
        assert set(cols) <= set(a.columns) and len(a) > 30_000
        assert a["lsoa_code"].str.startswith("E").all() and a is not b
        pd.testing.assert_frame_equal(a, b)


@pytest.mark.mirror
def test_weight_matrix_equals_a_lookup_of_each_code_on_real_sets(processed):
    """The weights of England's LSOAs in Rotherham's sets (unique codes: each set's codes
    looked up among them) and of a tidy frame's repeated codes (each code looked up in the
    set) equal a plain dictionary lookup, 0 outside the set, 1 everywhere for England."""
    from evidence_pack.analysis import areas
    from evidence_pack.stores import iod as iod_mod

    aset = areas.load_areas()
    i25 = iod_mod.load(releases=[2025], measures=["imd"])
    sets = profile.area_sets(aset, areas.members(aset, 2021), i25)
    codes = i25["lsoa_code"]
    repeated = census.load_lsoa().query("topic in ['tenure', 'ethnicity']")["lsoa_code"]
    assert codes.is_unique and not repeated.is_unique
    for c in (codes, repeated):
        wm = profile._weight_matrix(sets, c)
        assert wm.shape == (len(c), len(sets))
        for j, s in enumerate(sets.values()):
            look = {} if s is None else dict(zip(s["lsoa_code"], s["weight"], strict=True))
            want = np.ones(len(c)) if s is None else np.array([look.get(x, 0.0) for x in c])
            np.testing.assert_array_equal(wm[:, j], want)
            np.testing.assert_array_equal(profile._weight_matrix({"set": s}, c)[:, 0], want)
    assert (profile._weight_matrix(sets, codes)[:, :-2] > 0).sum() > 0  # the areas hold LSOAs
