"""Tests for evidence_pack.lookups: crosswalks, carry() across LSOA vintages, geography."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.sources.io import DataError
from evidence_pack.stores import lookups

# A tiny crosswalk: A unchanged -> a; B split -> b1 (pop 100), b2 (pop 300);
# C and D merged -> cd (pop 400, 200 each); E complex -> e1, e2.
PAIRS = pd.DataFrame({
    "from_code": ["A", "B", "B", "C", "D", "E", "E"],
    "to_code": ["a", "b1", "b2", "cd", "cd", "e1", "e2"],
    "change": ["U", "S", "S", "M", "M", "X", "X"],
    "population": [50.0, 100.0, 300.0, 100.0, 300.0, 10.0, 30.0],
    "source": "test",
})


def _pairs() -> pd.DataFrame:
    return lookups._weights(PAIRS.copy())[lookups.LOOKUP_COLUMNS]


def _frame(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"lsoa_code": list(values), "score": list(values.values())})


def test_weights_are_shares_of_the_from_lsoa():
    p = _pairs().set_index("to_code")
    assert p.loc["b1", "weight"] == pytest.approx(0.25)
    assert p.loc["b2", "weight"] == pytest.approx(0.75)
    assert p.loc["a", "weight"] == 1 and (p.loc["cd", "weight"] == 1).all()
    assert _pairs().groupby("from_code")["weight"].sum().tolist() == pytest.approx([1] * 5)


def test_split_children_inherit_parent_value():
    out = lookups.carry(_frame({"A": 1, "B": 7, "C": 2, "D": 4, "E": 9}), ["score"], 2001,
                        2011, pairs=_pairs()).set_index("lsoa_code")
    assert out.loc["b1", "score"] == 7 and out.loc["b2", "score"] == 7
    assert out.loc["a", "score"] == 1
    assert out.loc["e1", "score"] == 9 and out.loc["e2", "score"] == 9


def test_merge_takes_population_weighted_mean_of_parents():
    out = lookups.carry(_frame({"A": 1, "B": 7, "C": 2, "D": 4, "E": 9}), ["score"], 2001,
                        2011, pairs=_pairs()).set_index("lsoa_code")
    assert out.loc["cd", "score"] == pytest.approx((2 * 100 + 4 * 300) / 400)
    assert out.loc["cd", "n_sources"] == 2


def test_most_deprived_rule_takes_lowest_rank():
    df = pd.DataFrame({"lsoa_code": list("ABCDE"), "rank": [5, 4, 1, 3, 2]})
    out = lookups.carry(df, ["rank"], 2001, 2011, how="most_deprived",
                        pairs=_pairs()).set_index("lsoa_code")
    assert out.loc["cd", "rank"] == 1


def test_reverse_direction_split_becomes_merge(tmp_path, monkeypatch):
    f = tmp_path / "l0111.parquet"
    _pairs().to_parquet(f)
    monkeypatch.setattr(lookups, "LOOKUP_01_11", f)
    back = lookups.lookup(2011, 2001)
    assert set(back.loc[back["from_code"] == "cd", "to_code"]) == {"C", "D"}
    assert back.loc[back["from_code"] == "cd", "weight"].sum() == pytest.approx(1)
    assert set(back.loc[back["to_code"] == "B", "change"]) == {"M"}
    out = lookups.carry(pd.DataFrame({"lsoa_code": ["a", "b1", "b2", "cd", "e1", "e2"],
                                      "score": [1.0, 2.0, 6.0, 3.0, 8.0, 8.0]}),
                        ["score"], 2011, 2001, pairs=back).set_index("lsoa_code")
    assert out.loc["B", "score"] == pytest.approx((2 * 100 + 6 * 300) / 400)
    assert out.loc["C", "score"] == 3 and out.loc["D", "score"] == 3
    assert len(out) == 5


def test_no_lsoa_lost_or_duplicated_and_groups_kept_apart():
    df = pd.concat([_frame({"A": 1, "B": 7, "C": 2, "D": 4, "E": 9}).assign(release=r)
                    for r in (2004, 2010)], ignore_index=True)
    out = lookups.carry(df, ["score"], 2001, 2011, by=["release"], pairs=_pairs())
    assert out.groupby("release").size().tolist() == [6, 6]
    assert not out.duplicated(["release", "lsoa_code"]).any()


def test_incomplete_input_is_allowed_but_rerank_is_not():
    out = lookups.carry(_frame({"B": 7}), ["score"], 2001, 2011, pairs=_pairs())
    assert sorted(out["lsoa_code"]) == ["b1", "b2"]
    with pytest.raises(DataError, match="needs every LSOA"):
        lookups.carry(pd.DataFrame({"lsoa_code": ["B"], "rank": [1]}), ["rank"], 2001, 2011,
                      how="rerank", pairs=_pairs())


def test_rerank_gives_ranks_1_to_n_and_deciles(monkeypatch):
    monkeypatch.setitem(config.ENGLAND_LSOAS, 2011, 6)
    df = pd.DataFrame({"lsoa_code": list("ABCDE"), "rank": [5, 4, 1, 3, 2],
                       "decile": [9, 7, 2, 5, 3]})
    out = lookups.carry(df, ["rank", "decile"], 2001, 2011, how="rerank",
                        pairs=_pairs()).set_index("lsoa_code")
    assert sorted(out["rank"]) == [1, 2, 3, 4, 5, 6]
    # cd: weighted mean rank (1 x 100 + 3 x 300) / 400 = 2.5, after e1 and e2 (rank 2 each)
    assert out.loc["cd", "rank"] == 3
    assert out["decile"].between(1, 10).all()
    assert out.loc[out["rank"] == 6, "decile"].item() == 10


def test_rerank_leaves_scores_as_weighted_means(monkeypatch):
    monkeypatch.setitem(config.ENGLAND_LSOAS, 2011, 6)
    df = pd.DataFrame({"lsoa_code": list("ABCDE"), "imd_rank": [5, 4, 1, 3, 2],
                       "imd_score": [10.0, 20.0, 50.0, 30.0, 40.0]})
    out = lookups.carry(df, ["imd_rank", "imd_score"], 2001, 2011, how="rerank",
                        pairs=_pairs()).set_index("lsoa_code")
    assert sorted(out["imd_rank"]) == [1, 2, 3, 4, 5, 6]
    assert out.loc["cd", "imd_score"] == pytest.approx((50 * 100 + 30 * 300) / 400)


def test_bad_input_errors():
    with pytest.raises(DataError, match="duplicate LSOA code 'A'"):
        lookups.carry(_frame({"A": 1}).pipe(lambda d: pd.concat([d, d])), ["score"], 2001,
                      2011, pairs=_pairs())
    with pytest.raises(DataError, match="not 2001 LSOAs"):
        lookups.carry(_frame({"Z": 1}), ["score"], 2001, 2011, pairs=_pairs())
    with pytest.raises(DataError, match="missing column"):
        lookups.carry(_frame({"A": 1}), ["rank"], 2001, 2011, pairs=_pairs())
    with pytest.raises(DataError, match="unknown LSOA vintage 2005"):
        lookups.lookup(2005, 2011)


def _ons_csv(tmp_path, rows: list[tuple[str, str, str, str]]):
    df = pd.DataFrame(rows, columns=["LSOA01CD", "LSOA11CD", "LSOA11NM", "CHGIND"])
    df["LSOA01NM"] = df["LSOA11NM"]
    df["LAD11CD"], df["LAD11NM"] = "E08000018", "Rotherham"
    p = tmp_path / "220.csv"
    df.to_csv(p, index=False)
    return p


def test_lookup_01_11_adds_missing_child_to_its_complex_cluster(tmp_path, monkeypatch):
    p = _ons_csv(tmp_path, [("E1", "F1", "Town 001A", "U"), ("E2", "F2", "Town 002A", "X"),
                            ("E3", "F2", "Town 002A", "X")])
    lsoa11 = pd.DataFrame({"lsoa_code": ["F1", "F2", "F3"],
                           "lsoa_name": ["Town 001A", "Town 002A", "Town 002B"]})
    pop = pd.Series({"F1": 100.0, "F2": 200.0, "F3": 50.0})
    monkeypatch.setitem(config.ENGLAND_LSOAS, 2001, 3)
    monkeypatch.setitem(config.ENGLAND_LSOAS, 2011, 3)
    out = lookups.build_01_11({"220": p}, lsoa11=lsoa11, pop11=pop)
    f3 = out[out["to_code"] == "F3"]
    assert set(f3["from_code"]) == {"E2", "E3"} and set(f3["change"]) == {"X"}
    assert out.groupby("from_code")["weight"].sum().tolist() == pytest.approx([1, 1, 1])


def test_lookup_01_11_rejects_bad_flag_and_missing_column(tmp_path):
    p = _ons_csv(tmp_path, [("E1", "F1", "Town 001A", "Q")])
    with pytest.raises(DataError, match="220.csv.*unknown change flag 'Q'"):
        lookups.read_ons_01_11(p)
    pd.DataFrame({"LSOA01CD": ["E1"]}).to_csv(p, index=False)
    with pytest.raises(DataError, match="220.csv.*missing column"):
        lookups.read_ons_01_11(p)


# ----------------------------------------------------------------------------- mirror


@pytest.mark.mirror
def test_crosswalks_cover_england(processed):
    a = pd.read_parquet(lookups.LOOKUP_01_11)
    b = pd.read_parquet(lookups.LOOKUP_11_21)
    assert a["from_code"].nunique() == 32482 and a["to_code"].nunique() == 32844
    assert b["from_code"].nunique() == 32844 and b["to_code"].nunique() == 33755
    for p in (a, b):
        assert set(p["change"]) == {"U", "S", "M", "X"}
        assert np.allclose(p.groupby("from_code")["weight"].sum(), 1)
    added = a[a["source"].str.startswith("added")]
    assert sorted(added["to_code"].unique()) == sorted(lookups.KNOWN_MISSING_LSOA11)


@pytest.mark.mirror
def test_carry_every_release_to_every_vintage_without_loss(processed):
    from evidence_pack.stores import iod

    df = iod.load(releases=[2010, 2019, 2025], measures=["imd"])
    for v_from, release in ((2001, 2010), (2011, 2019), (2021, 2025)):
        part = df[df["release"] == release]
        for v_to in lookups.VINTAGES:
            out = lookups.carry(part, ["rank", "decile"], v_from, v_to, how="rerank")
            assert len(out) == config.ENGLAND_LSOAS[v_to] and out["lsoa_code"].is_unique
            if v_to == v_from:  # same geography: published ranks (with their ties) kept
                assert (out["rank"].to_numpy() == part["rank"].to_numpy()).all()
                continue
            assert sorted(out["rank"]) == list(range(1, config.ENGLAND_LSOAS[v_to] + 1))


@pytest.mark.mirror
def test_rank_change_rotherham(processed):
    from evidence_pack.stores import iod

    rc = lookups.rank_change(2010, 2019)
    assert len(rc) == 32844
    roth = iod.load(releases=[2019], measures=["imd"], lad_codes=[config.DEFAULT_LA_CODE])
    r = rc[rc["lsoa_code"].isin(roth["lsoa_code"])]
    assert len(r) == 167
    # unchanged 2001->2011 LSOAs keep the published 2019 rank on the 2011 geography
    published = roth.set_index("lsoa_code")["rank"]
    assert (r.set_index("lsoa_code")["rank_b"] == published).all()


@pytest.mark.mirror
def test_geography(processed):
    g = pd.read_parquet(lookups.GEOGRAPHY_FILE)
    assert g.groupby("lsoa_vintage").size().to_dict() == {2001: 32482, 2011: 32844,
                                                          2021: 33755}
    roth = g[g["lad_code"] == config.DEFAULT_LA_CODE]
    assert roth.groupby("lsoa_vintage").size().to_dict() == {2001: 166, 2011: 167, 2021: 170}
    assert g[["msoa_code", "msoa_name", "lad_code", "region_code", "ruc"]].notna().all().all()
    assert set(roth["region_name"]) == {"Yorkshire and The Humber"}
