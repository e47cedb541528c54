"""Councils created since 2019: their baseline years come from their predecessor councils
(spend_predecessors; caveat SPEND-15). Unit tests on small frames, then the mirror."""

from __future__ import annotations

import pandas as pd
import pytest
from evidence_pack.analysis import areas, partner_spend, spend, spend_predecessors
from evidence_pack.findings import spend as words
from evidence_pack.sources.io import DataError
from evidence_pack.stores import lsoa_geography

SERVICES = [("Education", "Education services"), ("Central services", "Central services")]


def _rows(year: str, lad: str | None, ecode: str, name: str, cls: str,
          values: tuple[float, float]) -> list[dict]:
    out = [{"year": year, "source": "RS", "lad_code": lad, "ecode": ecode, "la_name": name,
            "la_class": cls, "service": s, "service_label": label, "line": "service",
            "net_current_expenditure_gbp_thousands": v}
           for (s, label), v in zip(SERVICES, values, strict=True)]
    out.append({**out[0], "service": "Total service expenditure", "service_label": "TOTAL",
                "line": "total_service_expenditure",
                "net_current_expenditure_gbp_thousands": sum(values)})
    return out


def _table() -> pd.DataFrame:
    """New unitary N (E06999901, own lines from 2023-24) formed from districts A and B
    (county family E99) and half of a county whose third district D stays outside."""
    rows = []
    for y in ("2011-12", "2012-13"):
        rows += _rows(y, "E07999901", "E9931", "Alpha", "SD", (10.0, 2.0))
        rows += _rows(y, "E07999902", "E9932", "Beta", "SD", (20.0, 4.0))
        rows += _rows(y, "E07999903", "E9933", "Delta", "SD", (40.0, 8.0))
        rows += _rows(y, "E10999999", "E9920", "Shire", "SC", (100.0, 50.0))
        rows += _rows(y, "E08999999", "E8801", "Elsewhere", "MD", (7.0, 7.0))
    # 2013-14: Beta is missing from the return (merged), so predecessors cannot be summed
    rows += _rows("2013-14", "E07999901", "E9931", "Alpha", "SD", (11.0, 2.0))
    rows += _rows("2013-14", "E10999999", "E9920", "Shire", "SC", (100.0, 50.0))
    rows += _rows("2023-24", "E06999901", "E9901", "Newshire", "UA", (300.0, 60.0))
    return pd.DataFrame(rows)


DISTRICTS = pd.Series({"E07999901": 1.0, "E07999902": 1.0})
POP = pd.Series({"E07999901": 100.0, "E07999902": 100.0, "E07999903": 200.0})


@pytest.fixture
def fake_geography(monkeypatch):
    monkeypatch.setattr(spend_predecessors, "predecessor_districts", lambda code: DISTRICTS
                        if code == "E06999901" else pd.Series(dtype=float))
    monkeypatch.setattr(spend_predecessors, "district_population", lambda: POP)


def test_predecessor_districts_from_lsoas():
    lsoa_lad = {"L1": "A", "L2": "A", "L3": "B", "L4": "C", "L5": "C", "L6": "X"}
    got = spend_predecessors.predecessor_districts("NEW", ["L1", "L2", "L3", "L4"], lsoa_lad)
    assert got.to_dict() == {"A": 1.0, "B": 1.0, "C": 0.5}
    assert spend_predecessors.predecessor_districts("A", ["L1"], lsoa_lad).empty


def test_county_taken_by_its_residents_share():
    t = _table()
    c = spend_predecessors.predecessor_councils(DISTRICTS, t[t["year"] == "2011-12"], POP)
    assert c.set_index("la_name")["share"].to_dict() == {"Alpha": 1.0, "Beta": 1.0,
                                                         "Shire": 0.5}
    # a predecessor missing from the year's return, or a county district without residents
    assert spend_predecessors.predecessor_councils(DISTRICTS, t[t["year"] == "2013-14"],
                                                   POP) is None
    assert spend_predecessors.predecessor_councils(DISTRICTS, t[t["year"] == "2011-12"],
                                                   POP.drop("E07999903")) is None


def test_basis_own_predecessors_and_nearest_year(fake_geography):
    t = _table()
    b = spend_predecessors.basis("E06999901", "2011-12", table=t)
    assert (b.method, b.year_used) == ("predecessors", "2011-12")
    b = spend_predecessors.basis("E06999901", "2013-14", table=t)  # nearest: 2012-13
    assert (b.method, b.year_used) == ("predecessors", "2012-13")
    assert spend_predecessors.basis("E06999901", "2023-24", table=t).method == "own"
    assert spend_predecessors.basis("E08999999", "2011-12", table=t).method == "own"
    b = spend_predecessors.basis("E08999999", "2023-24", table=t)  # nearest own year
    assert (b.method, b.year_used) == ("own", "2012-13")
    assert spend_predecessors.basis("E06000000", "2011-12", table=t).method == "none"


def test_council_lines_sum_the_predecessors_to_the_penny(fake_geography):
    t = _table()
    lines = spend.council_lines("E06999901", "2011-12", table=t)
    # Education: 10 + 20 + 0.5 x 100 = 80 thousand; central: 2 + 4 + 0.5 x 50 = 31 thousand
    by = lines.groupby("service")["pence"].sum()
    assert by.to_dict() == {"Central services": 3_100_000, "Education": 8_000_000}
    assert lines["pence"].dtype.kind == "i"
    assert (lines["partner"] == "Newshire council (RS net current expenditure of its "
            "predecessor councils)").all()
    assert any("Shire, 50.0%" in s for s in lines["source_line"])
    own = spend.council_lines("E06999901", "2023-24", table=t)
    assert own["pence"].sum() == 36_000_000
    assert (own["partner"] == "Newshire council (RS net current expenditure)").all()
    with pytest.raises(DataError, match="no RS 2011-12 lines for E06000000"):
        spend.council_lines("E06000000", "2011-12", table=t)


def test_service_series_fills_years_before_the_council(fake_geography):
    t = _table()
    s = spend.service_series("E06999901", table=t, deflator=pd.Series(dtype=float))
    tse = s[s["line"] == "total_service_expenditure"].set_index("year")
    assert tse["net_current_expenditure_gbp_thousands"].to_dict() == {
        "2011-12": 111.0, "2012-13": 111.0, "2023-24": 360.0}  # 2013-14 cannot be summed
    assert (s["service"] != "Net current expenditure").all()


def test_reader_sentence_names_the_councils_and_the_share(fake_geography):
    t = _table()
    text = words.basis_note(spend_predecessors.basis("E06999901", "2011-12", table=t),
                            "Newshire")
    assert text == ["Newshire council did not exist in 2011-12: its spend for that year is the "
                    "spend of the councils whose area it took over, Alpha and Beta district "
                    "councils in full and 50% of Shire county council's (the share of the "
                    "county's residents living in Newshire, ONS mid-2015)."]
    later = words.basis_note(spend_predecessors.basis("E06999901", "2013-14", table=t),
                             "Newshire")
    assert "no Revenue Outturn of its own for 2013-14" in later[0] and "2012-13" in later[0]
    assert words.basis_note(spend_predecessors.basis("E08999999", "2011-12", table=t),
                            "Elsewhere") == []


# ----------------------------------------------------------------------------- mirror

CUMBERLAND = "E06000063"


def _cumberland() -> areas.AreaSet:
    codes = lsoa_geography.district_lsoas(CUMBERLAND, 2021)[:4]
    return areas.parse_areas({"la_code": CUMBERLAND, "la_name": "Cumberland",
                              "lsoa_vintage": 2021,
                              "areas": [{"slug": "test-area", "name": "Test area",
                                         "lsoas": codes, "lsoa_vintage": 2021,
                                         "area_type": "unclassified"}]}, "cumberland.yml")


@pytest.mark.mirror
def test_cumberland_predecessors_from_the_lookups(processed):
    b = spend.council_basis(CUMBERLAND, "2011-12")
    assert (b.method, b.year_used) == ("predecessors", "2011-12")
    c = b.councils.set_index("la_class")
    assert sorted(c.loc["SD", "lad_code"]) == ["E07000026", "E07000028", "E07000029"]
    assert (c.loc["SD", "share"] == 1.0).all()
    assert 0.5 < float(c.loc["SC", "share"]) < 0.6  # the county's residents in the three
    assert spend.council_basis("E08000018", "2011-12").method == "own"  # Rotherham


@pytest.mark.mirror
def test_cumberland_baseline_2011_12_and_latest(processed):
    a = _cumberland()
    first = spend.baseline(a, "2011-12")
    last = spend.baseline(a, "2023-24")
    assert 350e6 < first.lines["pence"].sum() / 100 < 450e6  # about GBP 398m
    assert last.basis.method == "own" and 400e6 < last.lines["pence"].sum() / 100 < 520e6
    for b in (first, last):  # areas plus rest = the district's lines, to the penny
        assert int(b.apportioned["pence"].sum()) == int(b.lines["pence"].sum())
    series = spend.service_series(CUMBERLAND)
    assert {"2011-12", "2023-24"} <= set(series["year"])
    rec = partner_spend.reconciliation(a, "2011-12")
    assert (rec["check_gbp"] == 0).all()
    p = partner_spend.modelled_partner_spend(a, "2011-12")
    d = p[p["area_slug"] == "district"].set_index("partner")
    assert d.loc["Council", "gbp"] + d.loc["Schools and education", "gbp"] > 350e6
    assert set(p["area_slug"]) == {"test-area", "rest", "district"}


def test_trend_note_only_when_the_series_starts_before_the_council(fake_geography):
    t = _table()
    s = spend.service_series("E06999901", table=t, deflator=pd.Series(dtype=float))
    first = spend.first_own_year("E06999901", table=t)
    assert first == "2023-24"
    assert words.series_note(s, "Newshire", first) == [
        "Newshire council's first Revenue Outturn is for 2023-24: the years from 2011-12 are "
        "the spend of the councils whose area it took over, added up as the key findings "
        "describe."]
    own = spend.service_series("E08999999", table=t, deflator=pd.Series(dtype=float))
    assert words.series_note(own, "Elsewhere", spend.first_own_year("E08999999", table=t)) == []
