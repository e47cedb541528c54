"""Tests for the ONS regional GDP reader, growth, deflator and LSOA -> ITL3 assignment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.sources.io import DataError
from evidence_pack.stores import economy

YEARS = [2009, 2010, 2011]
# code -> (level, name, values per measure per year)
REGIONS = {
    "UK": ("UK", "United Kingdom"),
    "TLB": ("Other", "England"),
    "TLE31": ("ITL3", "Barnsley, Doncaster and Rotherham"),
    "TLE32": ("ITL3", "Sheffield"),
}
VALUES = {
    "gva_current": {"UK": [90, 95, 100], "TLB": [80, 85, 90], "TLE31": [10, 11, 12],
                    "TLE32": [20, 20, 22]},
    "gdp_current": {"UK": [100, 105, 110], "TLB": [88, 90, 99], "TLE31": [11, 12, 13],
                    "TLE32": [22, 22, 24]},
    "population": {c: [1, 1, 1] for c in REGIONS},
    "gva_deflator": {"UK": [90, 95, 100], "TLB": [80, 100, 120], "TLE31": [80, 100, 120],
                     "TLE32": [100, 100, 100]},
    "gdp_cvm": {"UK": [110, 110, 110], "TLB": [110, 100, 90], "TLE31": [12, 12, 12],
                "TLE32": [22, 22, 24]},
    "gdp_cvm_per_head": {c: [1, 1, 1] for c in REGIONS},
}


def _workbook(path, break_title: bool = False) -> str:
    with pd.ExcelWriter(path) as xw:
        for sheet, (measure, title) in economy.SHEETS.items():
            head = "Table 5: something else" if break_title and sheet == "Table 5" else title
            rows = [[head + " ...", None, None,
                     *[None] * len(YEARS)],
                    ["ITL", "ITL code", "Region name", *[float(y) for y in YEARS]]]
            for code, (level, name) in REGIONS.items():
                vals = list(VALUES[measure][code])
                if measure == "gdp_cvm_per_head" and code == "TLE32":
                    vals[0] = "u"  # suppressed cell
                rows.append([level, code, name, *vals])
            pd.DataFrame(rows).to_excel(xw, sheet_name=sheet, header=False, index=False)
    economy.regional_gdp.cache_clear()
    return str(path)


def test_reader_tidy_and_derived_gva_cvm(tmp_path):
    p = _workbook(tmp_path / "gdp.xlsx")
    df = economy.regional_gdp(p)
    # 7 measures (6 read + gva_cvm) x 4 regions x 3 years, no duplicates
    assert len(df) == 7 * 4 * 3
    assert not df.duplicated(["itl_code", "measure", "year"]).any()
    v = df.set_index(["measure", "itl_code", "year"])["value"]
    assert v[("gva_cvm", "TLE31", 2011)] == pytest.approx(12 / 120 * 100)
    assert np.isnan(v[("gdp_cvm_per_head", "TLE32", 2009)])  # 'u' -> NaN


def test_reader_rejects_unexpected_title(tmp_path):
    p = _workbook(tmp_path / "bad.xlsx", break_title=True)
    with pytest.raises(DataError, match="Table 5"):
        economy.regional_gdp(p)


def test_itl3_growth(tmp_path):
    p = _workbook(tmp_path / "gdp.xlsx")
    g = economy.itl3_growth(2009, 2011, measure="gva_current", path=p).set_index("itl3_code")
    assert list(g.index) == ["TLE31", "TLE32"]  # ITL3 only
    assert g.loc["TLE31", "growth_pct"] == pytest.approx(20.0)
    assert g.loc["TLE32", "annual_pct"] == pytest.approx((1.1 ** 0.5 - 1) * 100)
    with pytest.raises(KeyError):
        economy.itl3_growth(2009, 2030, path=p)


def test_gdp_deflator_calendar_and_financial(tmp_path):
    p = _workbook(tmp_path / "gdp.xlsx")
    d = economy.gdp_deflator(2010, area="England", path=p)
    # England GDP current / CVM = 0.8, 0.9, 1.1 -> rebased on 2010
    assert d[2010] == pytest.approx(100)
    assert d[2011] == pytest.approx(1.1 / 0.9 * 100)
    f = economy.gdp_deflator("2009-10", area="England", basis="financial", path=p)
    assert list(f.index) == ["2009-10", "2010-11"]  # no extrapolation past the data
    fy10 = (0.75 * 90 + 0.25 * 99) / (0.75 * 100 + 0.25 * 90)
    fy09 = (0.75 * 88 + 0.25 * 90) / (0.75 * 110 + 0.25 * 100)
    assert f["2010-11"] == pytest.approx(fy10 / fy09 * 100)
    uk = economy.gdp_deflator(2009, area="UK", path=p)
    assert uk[2011] == pytest.approx(110.0)  # 110/110 over 100/110
    with pytest.raises(KeyError):
        economy.gdp_deflator(2030, path=p)


def test_assign_points_keeps_every_point():
    import geopandas as gpd
    from shapely.geometry import Point, box

    itl3 = gpd.GeoDataFrame({"itl3_code": ["A", "B"], "itl3_name": ["a", "b"]},
                            geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=27700)
    pts = gpd.GeoDataFrame({"lsoa_code": ["p1", "p2", "p3", "p4"]},
                           geometry=[Point(1, 1), Point(15, 5), Point(10, 5), Point(25, 5)],
                           crs=27700)
    out = economy.assign_points_itl3(pts, itl3)
    assert len(out) == 4 and out["lsoa_code"].is_unique
    got = dict(zip(out["lsoa_code"], out["itl3_code"], strict=True))
    assert got["p1"] == "A" and got["p2"] == "B"
    assert got["p4"] == "B"  # outside every polygon: nearest
    assert got["p3"] in {"A", "B"}


@pytest.mark.mirror
def test_real_workbook(raw_data):
    economy.regional_gdp.cache_clear()
    g = economy.itl3_growth(2010, 2019).set_index("itl3_code")
    assert len(g) == 179
    assert g.loc["TLE31", "itl3_name"] == "Barnsley, Doncaster and Rotherham"
    assert 0 < g.loc["TLE31", "growth_pct"] < 50
    d = economy.gdp_deflator(2019)
    assert d[2019] == pytest.approx(100) and d.index.min() == 1998 and d.index.max() == 2021
    assert d[2010] < d[2019]
    f = economy.gdp_deflator("2019-20", basis="financial")
    assert f.index[-1] == "2020-21"


@pytest.mark.mirror
def test_itl3_boundaries(raw_data):
    g = economy.itl3_boundaries()
    assert len(g) == 179 and g.crs.to_epsg() == 27700
    assert g["itl3_code"].is_unique


@pytest.mark.mirror
def test_rotherham_lsoas_in_barnsley_doncaster_rotherham(raw_data):
    lk = economy.lsoa_itl3(2011)
    assert lk["lsoa_code"].is_unique
    eng = lk[lk["lsoa_code"].str.startswith("E01")]
    assert len(eng) == 32844
    rotherham = {"E01007677", "E01007714", "E01007790", "E01007668"}  # Canklow, Town Centre...
    assert set(lk.loc[lk["lsoa_code"].isin(rotherham), "itl3_code"]) == {"TLE31"}
