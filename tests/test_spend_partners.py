"""Issue 13: CRA readers checked against the combined series, the partner mapping, region ->
district -> area conservation to the penny, the ledger override and a district outside
Yorkshire."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import areas, ledger, partner_spend
from evidence_pack.analysis.apportion import REST
from evidence_pack.sources import cra
from evidence_pack.sources.io import DataError

# ----------------------------------------------------------------------- readers (synthetic)


def test_region_key_and_function_labels():
    assert cra.region_key("ENGLAND_Yorkshire and The Humber") == "yorkshire and the humber"
    assert cra.region_key("East of England") == "east"
    assert cra.normalise_function("10. SOCIAL PROTECTION") == "10. Social protection"
    assert cra.normalise_function("4. Economic affairs - of which: transport") == \
        "4. of which: transport"
    assert cra.normalise_function("EU TRANSACTIONS") == "EU transactions"


def test_workbook_layout_change_is_one_clear_error(tmp_path):
    lay = cra.LAYOUTS[2014]
    cols = [h for h in lay.fields.values() if h and h != "HMT Subfunction"] + list(lay.years)
    p = tmp_path / "cra.xlsx"
    pd.DataFrame([["x"] * len(cols)], columns=cols).to_excel(p, sheet_name=lay.sheet,
                                                             index=False)
    with pytest.raises(DataError, match="HMT Subfunction"):
        cra.read_workbook(2014, p)


def test_workbook_reader_units_and_blanks(tmp_path):
    lay = cra.LAYOUTS[2010]
    row = {"Dept Name": "Department of Health", "HMT Functional Classification": "7. Health",
           "HMT Sub-functional Classification": "7.A Medical services", "CAP or CUR": "CUR",
           "CG, LG or PC": "CG", "ID or non-ID": "ID", "NUTS 1 region": "ENGLAND",
           **{y: "" for y in lay.years}}
    row["2009-10"] = 1.5  # GBP million
    p = tmp_path / "cra.xlsx"
    pd.DataFrame([row]).to_excel(p, sheet_name=lay.sheet, index=False)
    df = cra.read_workbook(2010, p)
    assert len(df) == 1 and df["gbp_thousands"].iloc[0] == 1500.0
    assert df["region"].iloc[0] == "england" and bool(df["identifiable"].iloc[0])


def test_check_totals_names_region_and_year():
    wb = pd.DataFrame({"publication": 2014, "region": ["london", "london"],
                       "year": ["2011-12", "2012-13"], "identifiable": True,
                       "gbp_thousands": [10.0, 20.0]})
    comb = pd.DataFrame({"region": ["london", "london"], "year": ["2011-12", "2012-13"],
                         "gbp_thousands": [10.0, 25.0]})
    with pytest.raises(DataError, match="london 2012-13"):
        cra.check_totals(wb, comb)
    assert cra.check_totals(wb, comb.assign(gbp_thousands=[10.0, 20.0]))["difference"].eq(0).all()


# ------------------------------------------------------------------------ mapping


def test_partner_mapping_rules():
    cfg = partner_spend.load_partner_config()
    rows = pd.DataFrame([
        ("LG", "Local Government England", "3. Public order and safety", "3.1 of which: other police services"),
        ("LG", "Local Government England", "3. Public order and safety", "3.2 Fire-protection services"),
        ("LG", "Local Government England", "10. Social protection", "10.6 Housing"),
        ("LG", "Local Government England", "9. Education", "9.2 Secondary education"),
        ("CG", "Department for Work and Pensions", "10. Social protection", "10.2 Old age; of which: pensions"),
        ("CG", "HM Revenue and Customs", "10. Social protection", "10.4 Family and children"),
        ("CG", "Department of Health", "7. Health", "7.A Medical services"),
        ("CG", "Department for Education", "9. Education", "9.2 Secondary education"),
        ("PC", "Local Government England", "6. Housing and community amenities", "6.1 of which: local authority housing"),
        ("CG", "Ministry of Justice", "3. Public order and safety", "3.4 Prisons"),
    ], columns=["sector", "department", "function", "subfunction"])
    m = partner_spend.map_partners(rows, cfg)
    assert m["partner"].tolist() == ["Police", "Fire", "DWP and HMRC", "Council", "DWP and HMRC",
                                     "DWP and HMRC", "NHS and public health",
                                     "Schools and education", "Housing", "Other"]
    assert m["driver"].tolist()[4] == "older_people" and m["driver"].tolist()[5] == "income_deprived"


def test_partner_config_rejects_unknown_driver(tmp_path):
    p = tmp_path / "partners.yml"
    p.write_text("partners:\n  Police: {driver: moon_phase}\nrules:\n  - {partner: Police}\n")
    with pytest.raises(DataError, match="moon_phase"):
        partner_spend.load_partner_config(p)


# ------------------------------------------------------------------- real workbooks


@pytest.mark.mirror
@pytest.mark.parametrize("publication", [2010, 2014, 2018])
def test_cra_workbooks_agree_with_combined_series(raw_data, publication):
    """Each workbook's identifiable total per English region (CRA 2010: England) and year
    equals the combined series' total, to GBP 1,000."""
    combined = cra.read_combined()
    wb = cra.read_workbook(publication)
    check = cra.check_totals(wb, combined)
    years = cra.LAYOUTS[publication].years
    expected = len(years) * (1 if publication == 2010 else 9) - (1 if publication == 2010 else 0)
    assert len(check) == expected  # CRA 2010's 2009-10 England is not in the combined file
    assert check["difference"].abs().max() <= 1.0


@pytest.mark.mirror
def test_yorkshire_2011_12_identifiable_total(raw_data):
    wb = cra.read_workbook(2014)
    y = wb[(wb["region"] == "yorkshire and the humber") & (wb["year"] == "2011-12")
           & wb["identifiable"]]
    assert y["gbp_thousands"].sum() / 1e6 == pytest.approx(44.33, abs=0.01)  # GBP bn


# -------------------------------------------------------- conservation, ledger, districts


def _rotherham():
    return areas.load_areas()


@pytest.mark.mirror
@pytest.mark.parametrize("year", ["2011-12", "2017-18"])
def test_conserved_to_the_penny_for_every_partner_and_driver(processed, year):
    a = _rotherham()
    cfg = partner_spend.load_partner_config()
    data = partner_spend.inputs(a, year, cfg)
    for partner in sorted(set(data.rows["partner"]) | set(data.council["partner"])):
        for drv in (None, *cfg.alternatives[partner]):
            force = {partner: drv} if drv else None
            shares, rec = partner_spend.partner_shares(a, year, cfg, force, only=[partner],
                                                       data=data)
            assert (rec["areas_pence"] + rec["rest_pence"] == rec["district_pence"]).all()
            assert int(shares["pence"].sum()) == int(rec["district_pence"].sum())
    # region -> districts: every district's share adds back to the region, to the penny
    rows = data.rows[data.rows["partner"] == "NHS and public health"]
    total = partner_spend.to_pence(rows["gbp_thousands"])
    for drv in sorted({d for alts in cfg.alternatives.values() for d in alts} | set(
            cfg.drivers.values())):
        t = partner_spend.district_driver(drv)
        t = t[t["region"] == "yorkshire and the humber"].set_index("lad_code")["value"]
        assert len(t) in (15, 21)  # 2019 districts; 15 after North Yorkshire (2023)
        assert int(partner_spend.apportion_pence(total, t).sum()) == total


@pytest.mark.mirror
def test_rotherham_totals_and_range(processed):
    a = _rotherham()
    df = partner_spend.modelled_partner_spend(a, "2011-12")
    assert list(df.columns) == partner_spend.COLUMNS
    d = df[df["area_slug"] == "district"]
    assert set(d["partner"]) == set(partner_spend.PARTNER_ORDER)
    assert 1.5e9 < d["gbp"].sum() < 3e9  # "in excess of a billion pounds"
    assert (d["gbp_low"] <= d["gbp"]).all() and (d["gbp"] <= d["gbp_high"]).all()
    council = d.set_index("partner")
    assert council.loc["Council", "gbp"] + council.loc["Schools and education", "gbp"] > 410e6
    by_slug = df[df["area_slug"] != "district"].groupby("partner")["gbp"].sum()
    assert np.allclose(by_slug.sort_index(), d.set_index("partner")["gbp"].sort_index())
    assert set(df["area_slug"]) == {*a.slugs, "rest", "district"}


@pytest.mark.mirror
def test_ledger_replaces_the_modelled_partner(processed, tmp_path):
    a = _rotherham()
    p = tmp_path / "ledger.csv"
    p.write_text("partner,service,financial_year,amount,geography_type,geography_code,driver\n"
                 "South Yorkshire Police,Neighbourhood policing,2011-12,\"£1,000,000\",area,canklow,\n"
                 "South Yorkshire Police,Response,2011-12,\"2,000,000.50\",borough,,crime\n")
    led = ledger.read_ledger(p, a)
    assert len(led.accepted) == 2
    df = partner_spend.modelled_partner_spend(a, "2011-12", ledger=led)
    police = df[df["partner"] == "Police"].set_index("area_slug")
    assert (police["source"] == "ledger").all()
    assert police.loc["district", "gbp"] == pytest.approx(3_000_000.50)
    assert police.loc["canklow", "gbp"] > 1_000_000
    assert police.loc["district", "gbp_low"] == police.loc["district", "gbp_high"]
    assert (df.loc[df["partner"] != "Police", "source"] == "modelled").all()


@pytest.mark.mirror
def test_district_outside_yorkshire(processed):
    """Manchester (North West): its region's spend, shared and conserved the same way."""
    lsoas = pd.read_parquet(partner_spend.config.PROCESSED_DIR / "iod_lsoa.parquet",
                            columns=["lsoa_code"],
                            filters=[("release", "==", 2019), ("measure", "==", "imd"),
                                     ("lad_code", "==", "E08000003")])["lsoa_code"]
    codes = sorted(lsoas.unique())[:3]
    a = areas.parse_areas({"la_code": "E08000003", "la_name": "Manchester", "lsoa_vintage": 2011,
                           "areas": [{"slug": "test-area", "name": "Test area", "lsoas": codes,
                                      "lsoa_vintage": 2011, "area_type": "unclassified"}]},
                          "manchester.yml")
    assert partner_spend.district_region("E08000003") == "north west"
    rec = partner_spend.reconciliation(a, "2011-12")
    assert (rec["check_gbp"] == 0).all()
    df = partner_spend.modelled_partner_spend(a, "2011-12")
    assert set(df["area_slug"]) == {"test-area", "rest", "district"}
    assert df.loc[df["area_slug"] == "district", "gbp"].sum() > 1e9
    assert REST not in set(df["area_slug"])


# ----------------------------------------------------------------------- findings


def _table(slug_rows):
    rows = []
    for slug, pop in slug_rows:
        for partner, gbp in [("DWP and HMRC", 600e6), ("NHS and public health", 400e6),
                             ("Council", 300e6), ("Police", 50e6)]:
            g = gbp * (1 if slug == "district" else 0.01)
            rows.append({"area_slug": slug, "partner": partner, "gbp": g, "gbp_per_head": g / pop,
                         "gbp_low": g * 0.9, "gbp_high": g * 1.2, "source": "modelled"})
    return pd.DataFrame(rows)


def test_cabinet_claim_only_when_the_areas_file_has_it(tmp_path):
    from evidence_pack.findings import spend as words

    t = _table([("district", 265_000.0), ("canklow", 2_000.0), ("rest", 200_000.0)])
    bare = tmp_path / "bare.yml"
    bare.write_text("la_code: E08000018\nla_name: Rotherham\nareas: []\n")
    assert words.cabinet_claim(bare) is None
    text = " ".join(words.partner_findings(t, t, "2011-12", "2017-18", "Rotherham", "district",
                                           7_875.0, words.cabinet_claim(bare)))
    assert "billion" not in text and "Cabinet" not in text
    with_ref = tmp_path / "ref.yml"
    with_ref.write_text("la_code: E08000018\nla_name: Rotherham\nareas: []\nreference:\n"
                        "  public_spend_claim: in excess of a billion pounds is spent by the "
                        "public sector in Rotherham each year\n")
    claim = words.cabinet_claim(with_ref)
    text = " ".join(words.partner_findings(t, t, "2011-12", "2017-18", "Rotherham", "district",
                                           7_875.0, claim))
    assert "in excess of a billion pounds" in text and "£1.4bn" in text
    assert "consistent with" in text
    assert "£5,094 a head" in text and "£7,875 a head" in text
    # malformed reference blocks are read defensively
    odd = tmp_path / "odd.yml"
    odd.write_text("la_code: E08000018\nreference: [1, 2]\n")
    assert words.cabinet_claim(odd) is None


def test_area_findings_compare_with_rest_of_borough():
    from evidence_pack.findings import spend as words

    t = _table([("district", 265_000.0), ("canklow", 2_000.0), ("rest", 200_000.0)])
    text = " ".join(words.partner_findings(t, t, "2011-12", "2017-18", "Canklow", "canklow"))
    assert "£13.5m" in text and "rest of the borough" in text and "£6,750 a head" in text
    assert "GBP" not in text and ".00" not in text


@pytest.mark.mirror
@pytest.mark.parametrize("drop", [False, True])
def test_driver_parts_found_once_give_the_same_shares(processed, drop):
    """Every run of ``partner_shares`` on one ``Inputs`` reuses each driver's region values
    and district pieces: the same pence as fresh inputs, run by run, and as the plain
    functions, for the default areas and with one LSOA dropped from an area."""
    from dataclasses import replace

    a = _rotherham()
    if drop:
        big = next(x for x in a.areas if len(x.lsoas) > 1)
        a = replace(a, areas=[replace(x, lsoas=x.lsoas[1:]) if x is big else x
                              for x in a.areas])
    cfg = partner_spend.load_partner_config()
    shared = partner_spend.inputs(a, "2017-18", cfg)
    for partner, drivers in cfg.alternatives.items():
        for drv in drivers:
            got = partner_spend.partner_shares(a, "2017-18", cfg, {partner: drv},
                                               only=[partner], data=shared)
            fresh = partner_spend.partner_shares(a, "2017-18", cfg, {partner: drv},
                                                 only=[partner])
            pd.testing.assert_frame_equal(got[0], fresh[0], check_exact=True)
            pd.testing.assert_frame_equal(got[1], fresh[1], check_exact=True)
    assert shared.by_driver  # the parts were kept
    for drv, (values, piece_table) in shared.by_driver.items():
        pd.testing.assert_series_equal(values, partner_spend.region_values(drv, a.la_code))
        pd.testing.assert_frame_equal(piece_table, partner_spend.district_pieces(drv, a))
        assert partner_spend.district_to_areas(10**9, drv, a).equals(
            partner_spend.district_to_areas(10**9, drv, a, piece_table))
