"""Issue 11 items 3, 4, 10 for the partner ledger: strict amounts, vectorised sharing that
gives the same pence as the one-line-at-a-time method, formula cells neutralised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import apportion, ledger
from evidence_pack.sources.io import DataError


@pytest.mark.parametrize("raw,pence", [
    ("1234.5", 123450), ("1,234.50", 123450), ("GBP 1,234", 123400), ("£1,234.50", 123450),
    ("(500)", -50000), ("gbp1234", 123400), ("1,234,567.89", 123456789), ("£ 2,000", 200000),
])
def test_amounts_accepted(raw, pence):
    assert ledger.parse_amount_pence(raw) == pence


@pytest.mark.parametrize("raw,why", [
    ("12,50", "groups of three"), ("1,2,3,4", "groups of three"), ("1 2", "not a money"),
    ("1.2.3", "decimal point"), ("12.345", "two decimal"), ("1234,5", "groups of three"),
    ("12345678901234567890", "ceiling"), ("10000000000.01", "ceiling"), ("=1+1", "not a money"),
    ("£", "not a money"), ("1e6", "not a money"),
])
def test_amounts_rejected_with_row_and_reason(raw, why):
    with pytest.raises(DataError) as exc:
        ledger.parse_amount_pence(raw, path="ledger.csv", row=7)
    assert why in str(exc.value) and "ledger.csv" in str(exc.value) and "7" in str(exc.value)


def test_ceiling_is_inclusive():
    assert ledger.parse_amount_pence("10,000,000,000") == ledger.CEILING_PENCE


def test_twenty_digit_amount_is_one_rejected_row(tmp_path):
    p = tmp_path / "ledger.csv"
    p.write_text("partner,service,financial_year,amount,geography_type,geography_code,driver\n"
                 "Police,Patrol,2011-12,12345678901234567890,area,canklow,\n"
                 "Police,Patrol,2011-12,\"1,000\",area,canklow,\n")
    led = ledger.read_ledger(p, known={"area": {"canklow"}, "lsoa": set(), "ward": set()})
    assert len(led.accepted) == 1 and int(led.accepted["pence"].iloc[0]) == 100_000
    assert led.rejected["row"].tolist() == [2] and "ceiling" in led.rejected["reason"].iloc[0]


def test_rejections_csv_neutralises_formulas(tmp_path):
    p = tmp_path / "ledger.csv"
    p.write_text("partner,service,financial_year,amount,geography_type,geography_code,driver\n"
                 "=1+1,@SUM(A1),2011-12,+5,area,-x,\n")
    led = ledger.read_ledger(p, known={"area": set(), "lsoa": set(), "ward": set()})
    out = led.write_rejections(tmp_path / "rejected.csv")
    text = out.read_text()
    for cell in ("'=1+1", "'@SUM(A1)", "'+5", "'-x"):
        assert cell in text
    assert ",=1+1" not in text and "\n=1+1" not in text


def test_neutralise_leaves_numbers_and_plain_text():
    df = pd.DataFrame({"a": ["ok", "-3", "=x"], "n": [-3, 4, 5]})
    out = ledger.neutralise_formulas(df)
    assert out["a"].tolist() == ["ok", "'-3", "'=x"] and out["n"].tolist() == [-3, 4, 5]


def test_apportion_many_matches_one_at_a_time():
    rng = np.random.default_rng(3)
    w = pd.Series(rng.random(150) * rng.choice([1, 1e3], 150))
    totals = rng.integers(-10**12, 10**12, 300)
    totals[:5] = [0, 1, -1, 149, 151]
    m = apportion.apportion_many(totals, w)
    assert (m.sum(axis=1) == totals).all()
    for i in range(0, 300, 37):
        one = apportion.apportion_pence(int(totals[i]), w).to_numpy()
        assert np.abs(m[i] - one).max() <= 1 and one.sum() == m[i].sum()


def test_share_lines_sums_to_slugs():
    p = pd.DataFrame({"lsoa_code": ["a", "b", "c", "a"], "slug": ["x", "rest", "x", "rest"],
                      "driver": [1.0, 2.0, 3.0, 0.5]})
    s = apportion.share_lines(np.array([1000, 7, -333]), p)
    assert list(s.columns) == ["x", "rest"]
    assert s.sum(axis=1).tolist() == [1000, 7, -333]


def test_ledger_source_names_the_file_not_the_folder():
    from evidence_pack.findings import spend_tables

    text = spend_tables.ledger_source("/home/analyst/secret/partners/ledger 2011.xlsx")
    assert "ledger 2011.xlsx" in text and "/home" not in text and "secret" not in text
    assert "Users" not in spend_tables.ledger_source("C:/Users/x/ledger.csv")
    assert "Users" not in spend_tables.ledger_source(r"C:\Users\x\ledger.csv")
