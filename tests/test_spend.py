"""Baseline spend: RS/RA readers, ledger validation, apportionment and what-if."""

from __future__ import annotations

import functools
import random

import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.analysis import spend
from evidence_pack.findings import spend as spend_findings
from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError
from evidence_pack.stores import spend_returns

# ------------------------------------------------------------------------------ money


@pytest.mark.parametrize(
    "raw,pence",
    [("£1,234.50", 123450), ("(500)", -50000), ("-12", -1200), ("0.05", 5), (" 7 ", 700),
     ("£ 2,000", 200000)],
)
def test_parse_amount(raw, pence):
    assert spend.parse_amount_pence(raw) == pence


@pytest.mark.parametrize("raw", ["", None, "abc", "1.234", "£", "1,2.3.4", "12-"])
def test_parse_amount_rejects(raw):
    with pytest.raises(DataError):
        spend.parse_amount_pence(raw, path="x.csv", row=3)


def test_thousands_to_pence():
    assert spend.thousands_to_pence(410943.0) == 41_094_300_000
    assert spend.thousands_to_pence(-0.5) == -50_000


def test_apportion_conserves_to_penny():
    w = pd.Series([1.0, 1.0, 1.0], index=["a", "b", "c"])
    out = spend.apportion_pence(100, w)
    assert out.sum() == 100
    assert out.tolist() == [34, 33, 33]  # tie: the earlier LSOA gets the extra penny
    neg = spend.apportion_pence(-1001, pd.Series([3.0, 7.0], index=["x", "y"]))
    assert neg.sum() == -1001 and neg["y"] == -701


def test_apportion_conserves_random():
    rng = random.Random(7)
    for _ in range(200):
        n = rng.randint(1, 60)
        w = pd.Series([rng.random() * rng.choice([1, 1e3, 1e6]) for _ in range(n)])
        w.iloc[rng.randrange(n)] += 0.1
        total = rng.randint(-10**13, 10**13)
        out = spend.apportion_pence(total, w)
        assert int(out.sum()) == total
        assert (out.abs() <= abs(total) * w / w.sum() + 1).all()


def test_apportion_bad_weights():
    for bad in ([0.0, 0.0], [1.0, -1.0], [1.0, float("nan")]):
        with pytest.raises(DataError):
            spend.apportion_pence(10, pd.Series(bad, index=["a", "b"]))


# ----------------------------------------------------------------------- fixtures

WEIGHTS = pd.Series([120.0, 80.0, 300.0, 500.0, 7.0], index=["L1", "L2", "L3", "L4", "L5"])
MEMBERS = pd.DataFrame({"slug": ["east", "east", "west", "west"],
                        "lsoa_code": ["L1", "L2", "L3", "L5"],
                        "weight": [1.0, 1.0, 1.0, 0.4]})  # L5: 40% in west, 60% rest


def _config():
    return spend.Apportionment(services={"Education": "children"}, reasons={},
                               default="population", need="income_deprived")


def test_pieces_fractional_membership():
    p = spend.pieces(WEIGHTS, MEMBERS)
    by = p.groupby("slug")["driver"].sum()
    assert by["east"] == 200 and by["west"] == pytest.approx(302.8)
    assert by[spend.REST] == pytest.approx(500 + 4.2)
    assert p["driver"].sum() == pytest.approx(WEIGHTS.sum())


def test_pieces_rejects_double_assignment():
    bad = pd.concat([MEMBERS, pd.DataFrame({"slug": ["east"], "lsoa_code": ["L3"],
                                            "weight": [1.0]})])
    with pytest.raises(DataError, match="more than once"):
        spend.pieces(WEIGHTS, bad)


def test_area_baseline_conserves():
    out = spend.area_baseline(123_456_789, WEIGHTS, MEMBERS).set_index("slug")["pence"]
    assert out.sum() == 123_456_789
    assert set(out.index) == {"east", "west", spend.REST}
    legacy = MEMBERS.rename(columns={"slug": "area_slug"}).drop(columns="weight")
    assert spend.area_baseline(99, WEIGHTS, legacy)["pence"].sum() == 99


def _lines(rows):
    cols = ["partner", "service", "financial_year", "geography_type", "geography_code",
            "driver", "pence"]
    return pd.DataFrame(rows, columns=cols)


def test_apportion_lines_conserve_and_route():
    lines = _lines([
        ("Council", "Education", "2011-12", "borough", "", "", 1_000_000_01),
        ("Council", "Roads", "2011-12", "borough", "", "", 333_333_33),
        ("Police", "PCSOs", "2011-12", "area", "east", "", 5_000_00),
        ("Police", "PCSOs", "2011-12", "lsoa", "L5", "", 1_000_00),
        ("NHS", "Clinics", "2011-12", "borough", "", "population", 77_77),
    ])
    weights = {"children": WEIGHTS * 0.2, "population": WEIGHTS}
    res = spend.apportion(lines, None, config_=_config(), weights=weights,
                          members={2011: MEMBERS, 2021: MEMBERS}, la_code="X", lsoa_vintage=2011)
    assert int(res["pence"].sum()) == int(lines["pence"].sum())
    per_line = res.groupby(["partner", "service", "geography_type"])["pence"].sum()
    for rec in lines.itertuples():
        assert per_line[(rec.partner, rec.service, rec.geography_type)] == rec.pence
    area_line = res[res["geography_type"] == "area"]
    assert area_line["slug"].tolist() == ["east"] and area_line["pence"].iloc[0] == 500_000
    lsoa_line = res[res["geography_type"] == "lsoa"].set_index("slug")["pence"]
    assert lsoa_line["west"] == 40_000 and lsoa_line[spend.REST] == 60_000
    assert set(res.loc[res["service"] == "Education", "driver_used"]) == {"children"}
    assert set(res.loc[res["service"] == "Roads", "driver_used"]) == {"population"}
    over = spend.apportion(lines, None, config_=_config(), weights=weights,
                           members={2011: MEMBERS}, la_code="X", lsoa_vintage=2011,
                           override={"Roads": "children"})
    assert set(over.loc[over["service"] == "Roads", "driver_used"]) == {"children"}


def test_area_table_and_sensitivity_conserve():
    lines = _lines([("Council", "Education", "2011-12", "borough", "", "", 10_000_000),
                    ("Council", "Roads", "2011-12", "borough", "", "", 2_500_001)])
    kw = dict(config_=_config(), weights={"children": WEIGHTS * 0.2, "population": WEIGHTS,
                                          "area": WEIGHTS[::-1].reset_index(drop=True)
                                          .set_axis(WEIGHTS.index)},
              members={2011: MEMBERS, 2021: MEMBERS}, la_code="X")
    res = spend.apportion(lines, None, **kw)
    pop = spend.area_measure("population", None, la_code="X", weights=WEIGHTS, members=MEMBERS)
    t = spend.area_table(res, None, pop, pop)
    assert t["spend_gbp"].sum() == pytest.approx(125_000.01)
    assert t["share_of_spend_pct"].sum() == pytest.approx(100)
    sens = spend.sensitivity(lines, None, ["population", "area", "crime"], **kw)
    for col in ("default", "population", "area"):
        assert sens[col].sum() == pytest.approx(125_000.01)
    assert "crime" not in sens.columns or sens["crime"].sum() == pytest.approx(125_000.01)


def test_what_if_conserves():
    lines = _lines([("Council", "Roads", "2011-12", "borough", "", "", 9_999_999_99)])
    res = spend.apportion(lines, None, config_=_config(), weights={"population": WEIGHTS},
                          members={2011: MEMBERS}, la_code="X")
    pop = pd.Series({"east": 200.0, "west": 302.8, spend.REST: 504.2})
    need = pd.Series({"east": 50.0, "west": 10.0, spend.REST: 40.0})
    w = spend.shift_to_core_offer(res, "Roads", 0.15, pop, need).set_index("slug")
    assert w["after_pence"].sum() == w["before_pence"].sum() == 9_999_999_99
    assert w.loc[spend.REST, "moved_pence"] == -round(0.15 * w.loc[spend.REST, "before_pence"])
    assert w["moved_pence"].sum() == 0
    assert w.loc["east", "moved_pence"] == pytest.approx(5 * w.loc["west", "moved_pence"], abs=6)
    assert w.loc["east", "per_head_after_gbp"] > w.loc["east", "per_head_before_gbp"]
    with pytest.raises(ValueError):
        spend.shift_to_core_offer(res, "Roads", 1.5, pop, need)
    pot = spend.small_pot("£10,000.01", need)
    assert pot["allocation_gbp"].sum() == pytest.approx(10_000.01)
    assert set(pot["slug"]) == {"east", "west"}


def test_real_terms_with_fixture_deflator():
    df = pd.DataFrame({"year": ["2011-12", "2012-13", "2023-24"],
                       "net_current_expenditure_gbp_thousands": [100.0, 110.0, 120.0]})
    defl = pd.Series({"2011-12": 100.0, "2012-13": 110.0})
    out = spend.real_terms(df, "2011-12", deflator=defl)
    assert out["real_2011_12_prices"].tolist()[:2] == [100.0, 100.0]
    assert pd.isna(out["real_2011_12_prices"].iloc[2])


# ------------------------------------------------------------------------------ ledger

HEADER = "partner,service,financial_year,amount,geography_type,geography_code,driver\n"
KNOWN = {"area": {"east"}, "lsoa": {"E01007677"}, "ward": {"E05000001"}}


def test_read_ledger_rejects_and_reconciles(tmp_path):
    p = tmp_path / "ledger.csv"
    p.write_text(HEADER + "\n".join([
        'Police,PCSOs,2011-12,"£1,234.50",area,east,',          # 2 ok
        "Police,PCSOs,2011-12,500,borough,,population",           # 3 ok
        "Police,PCSOs,2011-12,,borough,,population",              # 4 blank amount
        "NHS,GP,2011-12,10,area,nowhere,",                        # 5 unknown area
        "NHS,GP,2011-12,10,borough,,astrology",                   # 6 unknown driver
        'Police,PCSOs,2011-12,"£1,234.50",area,east,',          # 7 duplicate of 2
        "NHS,GP,2011-12,(250.10),area,east,",                     # 8 negative
        "NHS,GP,2011-12,12.345,area,east,",                       # 9 malformed
        "NHS,GP,2011-12,5,lsoa,E01999999,",                       # 10 unknown LSOA
        "NHS,GP,2011-12,5,lsoa,E01007677,",                       # 11 ok
        "NHS,GP,2011-12,5,ward,E05000001,",                       # 12 ward without driver
        "NHS,GP,2011-12,5,estate,x,",                             # 13 unknown geography type
        "NHS,GP,2011/12,5,area,east,",                            # 14 bad year
        ",GP,2011-12,5,area,east,",                               # 15 blank partner
        "NHS,GP,2011-12,5,borough,,",                             # 16 borough w/o driver
        "NHS,GP,2011-12,0,area,east,",                            # 17 zero
    ]) + "\n")
    led = spend.read_ledger(p, known=KNOWN)
    acc, rej = led
    assert len(acc) + len(rej) == 16
    assert acc["row"].tolist() == [2, 3, 11]
    assert acc["pence"].tolist() == [123450, 50000, 500]
    reasons = dict(zip(rej["row"], rej["reason"], strict=True))
    expect = {4: "blank", 5: "unknown area", 6: "unknown driver", 7: "duplicate of row 2",
              8: "negative", 9: "more than two decimal places", 10: "unknown LSOA", 12: "driver is blank",
              13: "unknown geography_type", 14: "financial_year", 15: "partner is blank",
              16: "driver is blank", 17: "zero"}
    assert set(reasons) == set(expect)
    for row, word in expect.items():
        assert word in reasons[row], (row, reasons[row])
    rec = led.reconciliation
    assert rec.loc["input", "rows"] == rec.loc["accepted", "rows"] + rec.loc["rejected", "rows"]
    assert rec.loc["input", "pence"] == rec.loc["accepted", "pence"] + rec.loc["rejected", "pence"]
    assert rec.loc["accepted", "pence"] == 173950
    assert rec.loc["rejected", "rows_without_amount"] == 2  # blank and malformed
    out = led.write_rejections(tmp_path / "rejected.csv")
    assert len(pd.read_csv(out)) == len(rej)


def test_read_ledger_excel_and_empty_apportion(tmp_path):
    p = tmp_path / "ledger.xlsx"
    pd.DataFrame([["NHS", "GP", "2011-12", "£1,000.00", "area", "east", ""],
                  ["NHS", "GP", "2011-12", "abc", "area", "east", ""]],
                 columns=spend.LEDGER_COLUMNS).to_excel(p, index=False)
    led = spend.read_ledger(p, known=KNOWN)
    assert led.accepted["pence"].tolist() == [100000] and len(led.rejected) == 1
    empty = spend.apportion(led.accepted.iloc[0:0], None, config_=_config(), la_code="X")
    assert empty.empty and "pence" in empty.columns


def test_read_ledger_missing_columns(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("partner,amount\nX,1\n")
    with pytest.raises(DataError, match="missing column"):
        spend.read_ledger(p, known=KNOWN)


def test_ledger_template_reads_empty():
    led = spend.read_ledger(spend.LEDGER_TEMPLATE, known=KNOWN)
    assert len(led.accepted) == len(led.rejected) == 0
    header = spend.LEDGER_TEMPLATE.read_text().splitlines()[0].split(",")
    assert header == spend.LEDGER_COLUMNS


# -------------------------------------------------------------------- configuration


def test_apportionment_config_covers_every_service():
    cfg = spend.load_apportionment()
    assert {name for name, _ in spend_returns.SERVICE_RULES} <= set(cfg.services)
    assert all(cfg.reasons[s] for s in cfg.services)
    assert cfg.need in spend.DRIVERS and cfg.default in spend.DRIVERS
    over = spend.load_apportionment(overrides={"Education": "population"})
    assert over.driver_for("Education") == "population"
    assert cfg.driver_for("Unlisted service") == cfg.default


def test_apportionment_config_rejects_unknown_driver(tmp_path):
    p = tmp_path / "a.yml"
    p.write_text("services:\n  Education: {driver: horoscopes, reason: x}\n")
    with pytest.raises(DataError, match="unknown driver"):
        spend.load_apportionment(p)


# ---------------------------------------------------------------- readers (synthetic)

@pytest.mark.parametrize("label,name", [
    ("Education services", "Education"), ("TOTAL EDUCATION SERVICES", "Education"),
    ("Highways roads and transport services", "Highways and transport"),
    ("TOTAL CHILDRENS SOCIAL CARE (total of lines 310 to 330)", "Children's social care"),
    ("Children Social Care", "Children's social care"), ("Social care", "Social care (children and adults)"),
    ("TOTAL HOUSING SERVICES (GFRA only)  (total of lines 401 to 489)", "Housing (general fund)"),
    ("TOTAL OTHER SERVICES (exclude Public Health)", "Other services"),
    ("Early years", None), ("Court services", "Courts"),
])
def test_harmonise_service(label, name):
    assert spend_returns.harmonise_service(label) == name


def _grid(services, rows, extra_header_cols=("Region",)):
    header = ["E-code", "Local authority", *extra_header_cols, "Class", *services,
              "TOTAL SERVICE EXPENDITURE (total of lines 190 to 698)",
              "Housing benefits", "NET CURRENT EXPENDITURE (TOTAL OF LINES 699 TO 748)"]
    grid = [["Revenue Outturn Summary (RS): test"], ["Net current expenditure (£ thousand)"],
            [], header]
    for ecode, name, vals in rows:
        grid.append([ecode, name, "YH", "MD", *vals, sum(vals), 5, sum(vals) + 5])
    return grid


RS_SERVICES = ["Education services", "Highways and transport services", "Children Social Care",
               "Adult Social Care", "Housing services (GFRA only)",
               "Cultural and related services", "Environmental and regulatory services",
               "Planning and development services", "Police services",
               "Fire and rescue services", "Central services", "Other services"]


def test_parse_rows_synthetic_rs():
    rows = _grid(RS_SERVICES, [("E4403", "Rotherham", list(range(1, 13))),
                               ("E0101", "Bath", [0] * 12)])
    rows += [[None, "ENGLAND"], ["E4403", "Rotherham again below the class table"]]
    lay = spend_returns.layout_for("RS", "2011-12")
    df = spend_returns.parse_rows(rows, lay, "2011-12")
    r = df[df["ecode"] == "E4403"].set_index("line")
    assert r.loc["service", "net_current_expenditure_gbp_thousands"].sum() == 78
    assert r.loc["total_service_expenditure", "net_current_expenditure_gbp_thousands"] == 78
    assert r.loc["net_current_expenditure", "net_current_expenditure_gbp_thousands"] == 83
    assert df["ecode"].nunique() == 2 and (df["year"] == "2011-12").all()


def test_parse_rows_rejects_unknown_service_and_duplicates():
    lay = spend_returns.layout_for("RS", "2011-12")
    with pytest.raises(DataError, match="unrecognised service column"):
        spend_returns.parse_rows(_grid([*RS_SERVICES, "Astrology"], [("E1", "X", [1] * 13)]),
                                 lay, "2011-12")
    rows = _grid(RS_SERVICES, [("E4403", "A", [1] * 12), ("E4403", "A", [1] * 12)])
    with pytest.raises(DataError, match="appears twice"):
        spend_returns.parse_rows(rows, lay, "2011-12")
    with pytest.raises(DataError, match="E-code"):
        spend_returns.parse_rows([["no header"]], lay, "2011-12")


def test_parse_rows_synthetic_ra_uses_subtotals():
    services = []
    for s in RS_SERVICES:
        services += [f"{s} detail line", f"TOTAL {s.upper()}"]
    vals = []
    for k in range(len(RS_SERVICES)):
        vals += [k, k]  # detail then subtotal
    lay = spend_returns.layout_for("RA", "2016-17")
    df = spend_returns.parse_rows(_grid(services, [("E4403", "Rotherham", vals)]), lay, "2016-17")
    svc = df[df["line"] == "service"]
    assert len(svc) == 12 and svc["service_label"].str.startswith("TOTAL").all()
    assert svc["net_current_expenditure_gbp_thousands"].sum() == sum(range(12))


def test_attach_ons_codes():
    df = pd.DataFrame({"year": ["2010-11", "2015-16", "2010-11"], "ecode": ["E4403"] * 2 + ["E9"],
                       "ons_code": [None, "E08000018", None]})
    out = spend_returns.attach_ons_codes(df)
    assert out["lad_code"].tolist()[:2] == ["E08000018", "E08000018"]
    assert pd.isna(out["lad_code"].iloc[2])


# ----------------------------------------------------------------- readers (mirror)

ROTHERHAM_ECODE = "E4403"


@functools.cache
def _read(source: str, year: str) -> pd.DataFrame:
    return spend_returns.read_workbook(source, year)


@pytest.mark.mirror
@pytest.mark.parametrize("source,year", spend_returns.workbooks())
def test_workbook_rotherham_services_sum_to_total_row(raw_data, source, year):
    """Each layout on the mirror: Rotherham's service lines add up to the workbook's own
    TOTAL SERVICE EXPENDITURE (RA budgets round each subtotal to GBP 1k: tolerance 2)."""
    df = _read(source, year)
    assert df["ecode"].nunique() > 300
    r = df[df["ecode"] == ROTHERHAM_ECODE]
    assert r["la_name"].iloc[0] == "Rotherham"
    v = r.groupby("line")["net_current_expenditure_gbp_thousands"]
    services = r[r["line"] == "service"]
    assert services["service"].is_unique and len(services) >= 11
    total = v.sum()["total_service_expenditure"]
    assert total > 300_000  # GBP thousand
    tol = 0.5 if source == "RS" else 2.0
    assert abs(v.sum()["service"] - total) <= tol
    assert v.sum()["net_current_expenditure"] > total
    codes = set(r["ons_code"].dropna())
    assert codes <= {config.DEFAULT_LA_CODE}
    if year >= {"RS": "2014-15", "RA": "2017-18"}[source]:
        assert codes == {config.DEFAULT_LA_CODE}  # the workbook has an ONS code column


@pytest.mark.mirror
@pytest.mark.parametrize("source,year,tse,nce", [
    ("RS", "2007-08", 421_373, 497_861), ("RS", "2011-12", 410_943, 509_382),
    ("RS", "2023-24", 421_064, 492_182), ("RA", "2013-14", 412_102, 520_796),
])
def test_rotherham_known_totals(raw_data, source, year, tse, nce):
    r = _read(source, year)
    r = r[r["ecode"] == ROTHERHAM_ECODE].set_index("line")["net_current_expenditure_gbp_thousands"]
    assert r["total_service_expenditure"] == tse and r["net_current_expenditure"] == nce


@pytest.mark.mirror
@pytest.mark.parametrize("dataset", ["rs2011_12", "rs2016_17"])
def test_engines_agree(raw_data, dataset):
    source, year = dataset[:2].upper(), f"{dataset[2:6]}-{dataset[7:]}"
    a = _read(source, year)
    b = spend_returns.read_workbook(source, year, engine="native")
    pd.testing.assert_frame_equal(a, b)
    assert catalogue.path_for(dataset).exists()


# ------------------------------------------------------------ drivers on real data


@pytest.mark.mirror
def test_drivers_and_baseline_on_real_data(processed):
    from evidence_pack.analysis import areas

    for name in ("population", "income_deprived", "social_rented", "crime"):
        w = spend.driver_weights(name)
        assert len(w) in (167, 170) and (w >= 0).all() and w.sum() > 0
    assert 240_000 < spend.driver_weights("population").sum() < 280_000
    a = areas.load_areas()
    table = pd.DataFrame({
        "lad_code": config.DEFAULT_LA_CODE, "year": "2011-12", "source": "RS",
        "line": "service", "la_name": "Rotherham", "service": ["Education", "Police"],
        "service_label": ["Education services", "Police services"],
        "net_current_expenditure_gbp_thousands": [227_226.0, 12.345]})
    lines = spend.council_lines(table=table)
    res = spend.apportion(lines, a)
    assert int(res["pence"].sum()) == 22_722_600_000 + 1_234_500
    assert set(res["slug"]) == {*a.slugs, spend.REST}


def test_ward_line_shared_within_ward_only():
    lines = _lines([("NHS", "Clinics", "2011-12", "ward", "W1", "population", 1_000_001)])
    res = spend.apportion(lines, None, config_=_config(), weights={"population": WEIGHTS},
                          members={2011: MEMBERS}, la_code="X", ward_lsoas={"W1": ("L1", "L4")})
    by = res.set_index("slug")["pence"]
    assert by.sum() == 1_000_001 and set(by.index) == {"east", spend.REST}
    assert by["east"] == round(1_000_001 * 120 / 620)
    with pytest.raises(DataError, match="no LSOAs"):
        spend.apportion(lines.assign(geography_code="W9"), None, config_=_config(),
                        weights={"population": WEIGHTS}, members={2011: MEMBERS}, la_code="X",
                        ward_lsoas={"W1": ("L1",)})


@pytest.mark.mirror
def test_rotherham_baseline_conserves_rs_total(processed):
    """The default run: RS 2011-12 shared to the 11 areas + rest = the workbook's total
    service expenditure, to the penny; findings are written from the data."""
    from evidence_pack.analysis import areas

    a = areas.load_areas()
    b = spend.baseline(a, "2011-12")
    assert int(b.apportioned["pence"].sum()) == 410_943 * 100_000
    assert b.areas["spend_gbp"].sum() == pytest.approx(410_943_000)
    assert set(b.areas["slug"]) == {*a.slugs, spend.REST}
    series = spend.service_series(a.la_code, deflator=pd.Series({"2011-12": 100.0,
                                                                 "2023-24": 130.0}))
    last = spend.baseline(a, "2023-24")
    sens = spend.sensitivity(b.lines, a, ["population"])
    text = " ".join(spend_findings.key_findings(a, b, last, series, sens))
    assert "£410.9m" in text and "2023-24" in text and "modelled" in text.lower()
    # Issue 12: a fall in council education spend is explained (academy conversion).
    assert "academies" in text and "£227" in text


@pytest.mark.mirror
def test_area_spend_tables_and_the_council_range_in_one_sentence(processed):
    """An area report (issue 12): its two years in one table each (the same money as the
    per-year tables, services in the returns' order), and the council-only range of the
    drivers inside the council sentence, not as a sentence of its own after the all-partner
    range."""
    from evidence_pack.analysis import areas
    from evidence_pack.findings import spend_tables

    a = areas.load_areas()
    first, last = spend.baseline(a, "2011-12"), spend.baseline(a, "2023-24")
    both = spend_tables.area_services_by_year([first, last], "canklow")
    for b in (first, last):
        one = spend_tables.service_area_table(b, "canklow", {}).set_index("service")["£"]
        assert both.set_index("Service")[f"{b.year} (£)"].dropna().astype(int).to_dict() \
            == one.to_dict()
    assert list(both["Service"][:2]) == ["Education", "Highways and transport"]
    assert both["Shared by"].notna().all()
    names = {x.slug: x.name for x in a.areas}
    view = spend_tables.area_view_by_year([first, last], "canklow", names)
    assert list(view["year"]) == ["2011-12"] * 3 + ["2023-24"] * 3
    series = spend.service_series(a.la_code, deflator=pd.Series({"2011-12": 100.0}))
    sens = spend.sensitivity(first.lines, a, ["population", "income_deprived"])
    text = spend_findings.key_findings(a, first, last, series, sens, area="canklow")
    council = [s for s in text if "council service spend" in s]
    assert len(council) == 1 and "under other drivers" in council[0]
    assert not any(s.startswith("Under alternative drivers") for s in text)


@pytest.mark.mirror
def test_district_drivers_from_england_values_equal_a_read_of_the_district(processed):
    """A district's LSOAs (Rotherham, Northumberland) and each of its drivers taken from
    England's values,
    read once per process, equals what a read of the district's LSOAs alone gives; residents
    of a list of LSOAs likewise (same values, same order)."""
    from evidence_pack.analysis import spend_drivers as sd

    for la in ("E08000018", "E06000057"):
        for vintage, release in ((2011, 2019), (2021, 2025)):  # England's rows read once
            one = sd._processed("iod_lsoa.parquet", ["lsoa_code"],
                                [("release", "==", release), ("measure", "==", "imd"),
                                 ("lad_code", "==", la)])
            assert sd.district_lsoas(la, vintage) == tuple(sorted(one["lsoa_code"].unique()))
        for name, d in sd.DRIVERS.items():
            codes = list(sd.district_lsoas(la, d.vintage))
            direct = sd._lsoa_values(name, codes).reindex(codes).astype(float)
            got = sd.driver_weights(name, la)
            pd.testing.assert_series_equal(got, direct, check_names=False)
            assert got.name == name and got.notna().all()
        codes = list(sd.district_lsoas(la, 2021))
        direct = sd._processed("census21_lsoa.parquet", ["lsoa_code", "total"],
                               [("topic", "==", "ethnicity"), ("lsoa_code", "in", codes)])
        direct = direct.drop_duplicates("lsoa_code").set_index("lsoa_code")["total"].astype(float)
        pd.testing.assert_series_equal(sd.residents_2021(codes), direct)
    everyone = sd.residents_2021()
    everyone.iloc[0] = -1.0  # a copy: the process's England series is not changed
    assert sd.residents_2021().iloc[0] > 0
