"""Tests for evidence_pack.iod: the tidy IoD store, indicators, populations, district summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadr
import pytest
from evidence_pack import config, iod
from evidence_pack.io import DataError

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
    assert list(iod.read_sheet(p, "S").columns) == ["a"]
    p.write_bytes(p.read_bytes()[:300])
    with pytest.raises(DataError, match="book.xlsx.*cannot be read"):
        iod.read_sheet(p, "S")


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
    assert set(iod.DOMAINS) <= have[2010] and set(iod.DOMAINS) <= have[2019]
    assert set(iod.DOMAINS) <= have[2025]
    assert {"idaci", "idaopi"} <= have[2019]
    for r in config.RELEASES:
        assert set(iod.SUBDOMAINS) <= have[r], r


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
                                                    2020: 32844}
    f6 = pop[pop["year"] == 2015]
    assert 54.5e6 < f6["population"].sum() < 55e6
    assert (f6["children_0_15"] + f6["aged_16_59"] + f6["older_60_plus"]
            - f6["population"]).abs().max() < 1e-6
    ind = pd.read_parquet(iod.INDICATORS_FILE, columns=["release", "lsoa_code"])
    assert ind.groupby("release")["lsoa_code"].nunique().to_dict() == {2019: 32844, 2025: 33755}
