"""Tests for evidence_pack.iod: the tidy IoD store, indicators, populations, district summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadr
import pytest
from evidence_pack import config
from evidence_pack.sources import iod_files
from evidence_pack.sources.io import DataError
from evidence_pack.stores import district_summaries, iod, iod_stage

# ----------------------------------------------------------------------------- fixtures


def _imd2015(n: int = 20) -> pd.DataFrame:
    rank = np.arange(1, n + 1, dtype=float)
    return pd.DataFrame({
        "lsoa11_code": [f"E0100{i:04d}" for i in range(n)],
        "lsoa11_name": [f"Town {i:03d}A" for i in range(n)],
        "lad13_code": ["E08000018"] * (n // 2) + ["E08000019"] * (n - n // 2),
        "lad13_name": ["Rotherham"] * (n // 2) + ["Sheffield"] * (n - n // 2),
        "IMD_score": 60.0 - rank,
        "IMD_rank": rank,
        "IMD_decile": np.ceil(rank * 10 / n),
    })


def _sub2015(codes: pd.Series) -> pd.DataFrame:
    n = len(codes)
    out = {"lsoa11_code": codes}
    rank = np.arange(n, 0, -1, dtype=float)
    for sd in ["children_and_young_people", "adult_skills", "geographical_barriers",
               "wider_barriers", "indoors", "outdoors"]:
        out[f"{sd}_sub_domain_score"] = rank / 10
        out[f"{sd}_sub_domain_rank"] = rank
        out[f"{sd}_sub_domain_decile"] = np.ceil(rank * 10 / n)
    return pd.DataFrame(out)


def _write(tmp_path, name: str, df: pd.DataFrame):
    p = tmp_path / f"{name}.rda"
    pyreadr.write_rdata(str(p), df, df_name=name)
    return p


def _paths(tmp_path, main: pd.DataFrame, sub: pd.DataFrame | None = None) -> dict:
    sub = _sub2015(main["lsoa11_code"]) if sub is None else sub
    return {"imd2015_england_lsoa11": _write(tmp_path, "imd2015_england_lsoa11", main),
            "imd2015_england_lsoa11_subdomains":
                _write(tmp_path, "imd2015_england_lsoa11_subdomains", sub)}


# ----------------------------------------------------------------------------- unit tests


def test_build_release_tidy_long(tmp_path):
    main = _imd2015()
    out = iod.build_release(2015, _paths(tmp_path, main), expected_rows=20)
    assert list(out.columns) == iod.COLUMNS
    assert len(out) == 20 * 7  # imd + six sub-domains
    assert set(out["measure"]) == {"imd", "children_young_people", "adult_skills",
                                   "geographical_barriers", "wider_barriers", "indoors",
                                   "outdoors"}
    imd = out[out["measure"] == "imd"].set_index("lsoa_code")
    assert imd.loc["E01000000", "rank"] == 1 and imd.loc["E01000000", "decile"] == 1
    assert imd.loc["E01000000", "lad_code"] == "E08000018"
    assert (out["lsoa_vintage"] == 2011).all() and (out["release"] == 2015).all()
    assert not out.duplicated(["lsoa_code", "measure"]).any()


def test_duplicate_lsoa_code_names_file_and_row(tmp_path):
    main = _imd2015()
    main.loc[5, "lsoa11_code"] = main.loc[4, "lsoa11_code"]
    paths = _paths(tmp_path, main, _sub2015(_imd2015()["lsoa11_code"]))
    with pytest.raises(DataError, match="duplicate LSOA code") as err:
        iod.build_release(2015, paths, expected_rows=20)
    assert "imd2015_england_lsoa11.rda" in str(err.value) and err.value.row == 6


def test_missing_column_names_file(tmp_path):
    main = _imd2015().drop(columns=["IMD_rank"])
    with pytest.raises(DataError, match=r"missing column.*IMD_rank") as err:
        iod.build_release(2015, _paths(tmp_path, main, _sub2015(_imd2015()["lsoa11_code"])),
                          expected_rows=20)
    assert err.value.path.endswith("imd2015_england_lsoa11.rda")


def test_row_count_checked_against_england(tmp_path):
    with pytest.raises(DataError, match="20 LSOAs, expected 32844"):
        iod.build_release(2015, _paths(tmp_path, _imd2015()))


def test_codes_must_agree_across_a_release(tmp_path):
    main = _imd2015()
    sub = _sub2015(main["lsoa11_code"].str.replace("E0100001", "E0199991"))
    with pytest.raises(DataError, match="LSOA codes differ"):
        iod.build_release(2015, _paths(tmp_path, main, sub), expected_rows=20)


def test_rank_out_of_range_rejected(tmp_path):
    main = _imd2015()
    main.loc[3, "IMD_rank"] = 999
    with pytest.raises(DataError, match="outside 1..20"):
        iod.build_release(2015, _paths(tmp_path, main), expected_rows=20)


def test_unknown_release():
    with pytest.raises(DataError, match="unknown release 1999"):
        iod.build_release(1999)


def test_truncated_rda_rejected(tmp_path):
    paths = _paths(tmp_path, _imd2015())
    p = paths["imd2015_england_lsoa11"]
    p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(DataError, match="cannot be read"):
        iod.build_release(2015, paths, expected_rows=20)


def test_truncated_workbook_rejected(tmp_path):
    p = tmp_path / "book.xlsx"
    pd.DataFrame({"a": [1, 2]}).to_excel(p, index=False, sheet_name="S")
    assert list(iod_files.read_sheet(p, "S").columns) == ["a"]
    p.write_bytes(p.read_bytes()[:300])
    with pytest.raises(DataError, match="book.xlsx.*cannot be read"):
        iod_files.read_sheet(p, "S")


def test_derive_decile_rules():
    n = 32482
    r = np.array([1, 3249, 3250, 32482])  # floor((r - 1) * 10 / n) + 1
    assert iod.derive_decile(r, n, 2001).tolist() == [1, 1, 2, 10]
    assert iod.derive_decile(np.array([1, 10, 11, 100]), 100, 2011).tolist() == [1, 1, 2, 10]


def test_load_rejects_unknown_release_and_measure(tmp_path):
    p = tmp_path / "iod.parquet"
    pd.DataFrame({c: [] for c in iod.COLUMNS}).to_parquet(p)
    with pytest.raises(DataError, match="unknown release"):
        iod.load(releases=[2001], path=p)
    with pytest.raises(DataError, match="unknown measure"):
        iod.load(measures=["wealth"], path=p)


def _districts() -> pd.DataFrame:
    # 10 LSOAs in England; district A holds ranks 1, 2, 6 and B ranks 3, 4, 5, 7..10
    return pd.DataFrame({
        "lad_code": ["A", "A", "A", "B", "B", "B", "B", "B", "B", "B"],
        "lad_name": ["Aville"] * 3 + ["Bton"] * 7,
        "rank": [1, 2, 6, 3, 4, 5, 7, 8, 9, 10],
        "score": [50.0, 40.0, 10.0, 30.0, 25.0, 20.0, 8.0, 6.0, 4.0, 2.0],
        "population": [100.0, 300.0, 600.0, 100, 100, 100, 100, 100, 100, 100],
    })


def test_district_summary_definitions():
    out = district_summaries.summarise_districts(_districts(), n_lsoas=10).set_index(["lad_code", "statistic"])
    v = out["value"]
    # reversed ranks (n + 1 - rank): A = 10, 9, 5
    assert v["A", "average_rank"] == pytest.approx((10 * 100 + 9 * 300 + 5 * 600) / 1000)
    assert v["A", "average_score"] == pytest.approx((50 * 100 + 40 * 300 + 10 * 600) / 1000)
    assert v["A", "proportion_most_deprived_10"] == pytest.approx(1 / 3)  # rank 1 of 10
    assert v["B", "proportion_most_deprived_10"] == 0
    # extent: rank 1 -> percentile 10 (weight 1); rank 2 -> percentile 20 (weight
    # 0.95 - 9 x 0.9 / 19); rank 6 -> percentile 60 (weight 0)
    w20 = 0.95 - 9 * 0.9 / 19
    assert v["A", "extent"] == pytest.approx((100 + w20 * 300) / 1000)
    # local concentration: the most deprived LSOAs holding 10% of A's people (100 of 1000):
    # exactly the rank-1 LSOA -> reversed rank 10
    assert v["A", "local_concentration"] == pytest.approx(10)
    # B: 10% of 700 = 70 people, all from its most deprived LSOA (rank 3 -> reversed 8)
    assert v["B", "local_concentration"] == pytest.approx(8)
    assert out.loc[("A", "average_rank"), "rank"] == 1
    assert out.loc[("B", "average_rank"), "n_districts"] == 2


def test_local_concentration_takes_part_of_the_crossing_lsoa():
    df = pd.DataFrame({"lad_code": ["A"] * 3, "lad_name": "A", "rank": [1, 2, 3],
                       "score": [3.0, 2.0, 1.0], "population": [5.0, 20.0, 75.0]})
    v = district_summaries.summarise_districts(df, 3).set_index("statistic")["value"]
    # 10% of 100 = 10 people: 5 from rank 1 (reversed 3) and 5 from rank 2 (reversed 2)
    assert v["local_concentration"] == pytest.approx(2.5)


def test_district_summary_rejects_missing_population():
    df = _districts()
    df.loc[2, "population"] = np.nan
    with pytest.raises(DataError, match="population"):
        district_summaries.summarise_districts(df, 10)


def test_extent_weights():
    w = district_summaries.extent_weight(np.array([1, 10, 11, 30, 31, 100]), 100)
    assert w.tolist() == pytest.approx([1, 1, 0.95, 0.05, 0, 0])


def _quiet_side(staging):
    (staging / iod.POPULATION_FILE.name).write_bytes(b"new")
    return pd.DataFrame(), {}, pd.DataFrame()


def test_failed_build_leaves_old_outputs(tmp_path, monkeypatch):
    from evidence_pack.stores import lookups

    targets = {}
    for mod, name in [(iod, "IOD_FILE"), (iod, "INDICATORS_FILE"), (iod, "POPULATION_FILE"),
                      (district_summaries, "LA_SUMMARY_FILE"), (lookups, "LOOKUP_01_11"),
                      (lookups, "LOOKUP_11_21"), (lookups, "GEOGRAPHY_FILE")]:
        p = tmp_path / getattr(mod, name).name
        p.write_bytes(b"old")
        monkeypatch.setattr(mod, name, p)
        targets[name] = p
    monkeypatch.setattr(config, "PROCESSED_DIR", tmp_path)
    monkeypatch.setattr(iod_stage, "_build_side_outputs", _quiet_side)

    def broken(paths=None):
        raise DataError("imd2019_england_lsoa11.rda", "missing column(s) ['IMD_rank']")

    monkeypatch.setattr(iod, "build_store", broken)
    with pytest.raises(DataError, match="IMD_rank"):
        iod_stage.prepare(force=True)
    assert all(p.read_bytes() == b"old" for p in targets.values())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".iod-staging")]


# ----------------------------------------------------------------------------- mirror


@pytest.fixture(scope="module")
def store(processed) -> pd.DataFrame:
    return iod.load()


@pytest.mark.mirror
def test_every_lsoa_in_every_release(store):
    for release, vintage in config.RELEASE_VINTAGE.items():
        imd = store[(store["release"] == release) & (store["measure"] == "imd")]
        assert len(imd) == config.ENGLAND_LSOAS[vintage], release
        assert imd["lsoa_code"].is_unique
        assert (imd["lsoa_vintage"] == vintage).all()
        assert imd["rank"].min() == 1 and imd["rank"].max() == len(imd)
        assert set(imd["decile"]) == set(range(1, 11))
    assert not store.duplicated(["release", "lsoa_code", "measure"]).any()


@pytest.mark.mirror
def test_measures_per_release(store):
    have = store.groupby("release")["measure"].agg(set)
    assert set(iod_files.DOMAINS) <= have[2010] and set(iod_files.DOMAINS) <= have[2019]
    assert set(iod_files.DOMAINS) <= have[2025]
    assert {"idaci", "idaopi"} <= have[2019]
    for r in config.RELEASES:
        assert set(iod_files.SUBDOMAINS) <= have[r], r


@pytest.mark.mirror
def test_districts_per_release(store):
    n = store[store["measure"] == "imd"].groupby("release")["lad_code"].nunique()
    assert n.to_dict() == {2004: 354, 2007: 354, 2010: 326, 2015: 326, 2019: 317, 2025: 296}
    roth = store[(store["lad_code"] == config.DEFAULT_LA_CODE) & (store["measure"] == "imd")]
    assert roth.groupby("release")["lsoa_code"].nunique().to_dict() == {
        2004: 166, 2007: 166, 2010: 166, 2015: 167, 2019: 167, 2025: 170}


@pytest.mark.mirror
def test_imd2019_scores_derived_from_file9_follow_published_ranks(store):
    imd = store[(store["release"] == 2019) & (store["measure"] == "imd")]
    assert imd["score"].notna().all()
    derived = imd["score"].rank(ascending=False, method="first")
    assert (derived - imd["rank"]).abs().max() <= 5  # File 9 is rounded to 3 dp
    assert np.corrcoef(derived, imd["rank"])[0, 1] > 0.99999


@pytest.mark.mirror
def test_derived_deciles_match_published_rule(store):
    # 2019 sub-domain and IDACI deciles are published; the derivation rule must reproduce them
    for release in (2010, 2019, 2025):
        x = store[store["release"] == release]
        vintage = config.RELEASE_VINTAGE[release]
        d = iod.derive_decile(x["rank"], config.ENGLAND_LSOAS[vintage], vintage)
        assert (d == x["decile"]).mean() > 0.999, release


@pytest.mark.mirror
def test_population_and_indicators(processed):
    pop = pd.read_parquet(iod.POPULATION_FILE)
    assert pop.groupby("year").size().to_dict() == {2015: 32844, 2017: 32844, 2019: 32844,
                                                    2020: 32844, 2021: 33755}
    assert set(pop.loc[pop["year"] == 2021, "lsoa_vintage"]) == {2021}
    f6 = pop[pop["year"] == 2015]
    assert 54.5e6 < f6["population"].sum() < 55e6
    assert (f6["children_0_15"] + f6["aged_16_59"] + f6["older_60_plus"]
            - f6["population"]).abs().max() < 1e-6
    ind = pd.read_parquet(iod.INDICATORS_FILE, columns=["release", "lsoa_code"])
    assert ind.groupby("release")["lsoa_code"].nunique().to_dict() == {2019: 32844, 2025: 33755}


@pytest.fixture(scope="module")
def file10_2019(processed) -> pd.DataFrame:
    s = district_summaries.la_summary(releases=[2019])
    c = s[s["source"] == "computed"]
    o = s[s["source"] == "official"]
    return c.merge(o, on=["lad_code", "measure", "statistic"], suffixes=("_c", "_o"))


@pytest.mark.mirror
def test_computed_2019_imd_summaries_equal_file10(file10_2019):
    m = file10_2019[file10_2019["measure"] == "imd"]
    assert m.groupby("statistic")["lad_code"].nunique().to_dict() == dict.fromkeys(
        district_summaries.STATISTICS, 317)
    # values within the rounding of File 10 (and of File 6 and File 9, see IOD-11)
    tol = {"average_rank": 0.2, "average_score": 0.001, "proportion_most_deprived_10": 6e-5,
           "extent": 6e-5, "local_concentration": 0.2}
    for stat, t in tol.items():
        x = m[m["statistic"] == stat]
        assert (x["value_c"] - x["value_o"]).abs().max() <= t, stat
    for stat in ("average_rank", "average_score", "proportion_most_deprived_10", "extent"):
        x = m[m["statistic"] == stat]
        assert (x["rank_c"] == x["rank_o"]).all(), stat
    # local concentration: ranks equal except where File 10's own values tie within 0.05
    x = m[m["statistic"] == "local_concentration"]
    off = x[x["rank_c"] != x["rank_o"]]
    assert len(off) <= 2
    for _, row in off.iterrows():
        near = x[(x["value_o"] - row["value_o"]).abs() < 0.05]
        assert len(near) >= 2 and set(off["rank_o"]) <= set(near["rank_o"])


@pytest.mark.mirror
def test_computed_2019_domain_summaries_close_to_file10(file10_2019):
    m = file10_2019[file10_2019["measure"].isin(["income", "employment", "education",
                                                  "health", "crime", "living_environment"])]
    assert (m["value_c"] - m["value_o"]).abs().max() < 0.3
    assert (m["rank_c"] == m["rank_o"]).all()


@pytest.mark.mirror
def test_la_summary_contract(processed):
    s = district_summaries.la_summary()
    assert list(s.columns) == district_summaries.SUMMARY_COLUMNS
    assert set(s["source"]) == {"computed", "official"}
    comp = s[(s["source"] == "computed") & (s["measure"] == "imd")]
    assert comp.groupby("release")["lad_code"].nunique().to_dict() == {
        2004: 354, 2007: 354, 2010: 326, 2015: 326, 2019: 317, 2025: 296}
    off = s[(s["source"] == "official") & (s["measure"] == "imd")]
    assert off.groupby("release")["lad_code"].nunique().to_dict() == {2015: 326, 2019: 317,
                                                                      2025: 296}
    assert s["population_basis"].notna().all()
    assert not s.duplicated(["release", "source", "lad_code", "measure", "statistic"]).any()


@pytest.mark.mirror
def test_rotherham_district_ranks(processed):
    s = district_summaries.la_summary(lad_codes=[config.DEFAULT_LA_CODE])
    imd = s[(s["measure"] == "imd") & (s["statistic"] == "average_score")]
    rank = imd.set_index(["release", "source"])["rank"]
    # The 2011 Cabinet report: IMD 2007 68th, IMD 2010 53rd of 326 (rank of average score).
    # Computed with mid-2015 populations (the only ones in the mirror) they come within 2.
    assert abs(rank[2007, "computed"] - 68) <= 2
    assert abs(rank[2010, "computed"] - 53) <= 2
    assert rank[2019, "computed"] == rank[2019, "official"] == 44
    roth = iod.load(releases=[2010], measures=["imd"], lad_codes=[config.DEFAULT_LA_CODE])
    assert len(roth) == 166 and int((roth["decile"] == 1).sum()) == 28


def test_load_reads_the_file_once_and_gives_each_caller_its_own_copy(processed, monkeypatch):
    calls = []
    orig = iod._read_file
    monkeypatch.setattr(iod, "_read_file", lambda *a: (calls.append(1), orig(*a))[1])
    iod._READ.clear()
    a = iod.load(releases=[2025], measures=["imd"])
    a.loc[a.index[0], "score"] = -1.0  # a caller's change stays in its copy
    b = iod.load(releases=[2025], measures=["imd"])
    assert len(calls) == 1 and b["score"].iloc[0] != -1.0 and b is not a
    pd.testing.assert_frame_equal(b, orig(iod.IOD_FILE, [("release", "in", [2025]),
                                                          ("measure", "in", ["imd"])],
                                          ["lsoa_code", "lad_code", "lad_name", "measure"]))
    iod.load(releases=[2019], measures=["imd"])  # other filters: read
    assert len(calls) == 2
