"""Readers of HM Treasury's Country and Regional Analysis (CRA) workbooks and the combined
PESA series, as republished by PESAParser (Thomas Forth), Open Government Licence v3.0.

Three workbook layouts, one parameterised reader (``read_workbook``):

| publication | catalogue id                              | years (outturn)     | unit        | regions              |
|-------------|-------------------------------------------|---------------------|-------------|----------------------|
| CRA 2010    | pesa_2010_database_tables_chapter10       | 2004-05 to 2009-10  | GBP million | England (no regions) |
| CRA 2014    | cra_2014_combined_database_for_publication | 2009-10 to 2012-13 | GBP thousand | 9 English regions   |
| CRA 2018    | cra_2018_database_for_publication_rvsd    | 2013-14 to 2017-18  | GBP thousand | 9 English regions   |

CRA 2014 also carries 2013-14 *plans*; they are not read. The combined series
(``parsedcombinedpesa_zip``, 1999-00 to 2017-18, GBP nominal, per region and HMT
function) is read by ``read_combined``; it is the independent total each workbook is
checked against (``check_totals``). Every layout is checked on read: a missing column is one
DataError naming the file and the column.

Tidy columns (``COLUMNS``): publication, region (a key: "yorkshire and the humber",
"england", "scotland", ...), year, department, organisation (blank before 2018), function,
subfunction, capital_or_current (CAP/CUR), sector (CG central government, LG local
government, PC public corporations, BOE), identifiable (True for ID spend),
gbp_thousands (cash, outturn).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError

COLUMNS = ["publication", "region", "year", "department", "organisation", "function",
           "subfunction", "capital_or_current", "sector", "identifiable", "gbp_thousands"]


@dataclass(frozen=True)
class CraLayout:
    """One CRA workbook layout: where each tidy field is and the unit of the money."""

    publication: int
    dataset: str
    sheet: str  # the data sheet's name starts with this
    years: tuple[str, ...]
    to_thousands: float  # multiply the published figure by this for GBP thousand
    fields: dict[str, str]  # tidy field -> workbook header ("" = not in this layout)


def _fields(department: str, organisation: str, function: str, subfunction: str, cap: str,
            sector: str, ident: str, region: str) -> dict[str, str]:
    return {"department": department, "organisation": organisation, "function": function,
            "subfunction": subfunction, "capital_or_current": cap, "sector": sector,
            "identifiable": ident, "region": region}


LAYOUTS: dict[int, CraLayout] = {lay.publication: lay for lay in (
    CraLayout(2010, "pesa_2010_database_tables_chapter10", "CRA 2010 Chapter 10 DB",
              ("2004-05", "2005-06", "2006-07", "2007-08", "2008-09", "2009-10"), 1000.0,
              _fields("Dept Name", "", "HMT Functional Classification",
                      "HMT Sub-functional Classification", "CAP or CUR", "CG, LG or PC",
                      "ID or non-ID", "NUTS 1 region")),
    CraLayout(2014, "cra_2014_combined_database_for_publication", "CRA14 combined database",
              ("2009-10", "2010-11", "2011-12", "2012-13"), 1.0,
              _fields("Department", "", "HMT Function", "HMT Subfunction", "CAP or CUR",
                      "CG, LG or PC", "ID/non-ID", "NUTS Region")),
    CraLayout(2018, "cra_2018_database_for_publication_rvsd", "CRA 2018 database",
              ("2013-14", "2014-15", "2015-16", "2016-17", "2017-18"), 1.0,
              _fields("Department Name", "Organisation Name", "HMT Function", "HMT Subfunction",
                      "CAP or CUR", "CG, LG, PC, BOE", "ID/non-ID", "NUTS Region")),
)}

COMBINED = "parsedcombinedpesa_zip"


def dataset_for_year(year: str) -> str:
    """The catalogue id of the latest CRA publication covering financial ``year`` ("2011-12")."""
    covering = [lay for lay in LAYOUTS.values() if year in lay.years]
    if not covering:
        raise ValueError(f"no Country and Regional Analysis in the pack covers {year!r}")
    return max(covering, key=lambda lay: lay.publication).dataset

#: Region keys of England's nine regions (NUTS 1 / ITL 1).
ENGLISH_REGIONS = ("north east", "north west", "yorkshire and the humber", "east midlands",
                   "west midlands", "east", "london", "south east", "south west")


def region_key(name: object) -> str:
    """A region label as a key: "ENGLAND_Yorkshire and The Humber" -> "yorkshire and the
    humber"; "East of England" -> "east"; "Not Identifiable" -> "not identifiable"."""
    text = str(name).strip()
    text = re.sub(r"^ENGLAND_", "", text)
    key = " ".join(text.replace("&", "and").lower().split())
    return {"east of england": "east"}.get(key, key)


def _tidy_text(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip().str.replace(r"\s+", " ", regex=True)


def read_workbook(publication: int, path: Path | None = None) -> pd.DataFrame:
    """One CRA workbook as tidy rows (``COLUMNS``); blank cells are dropped, zeros kept."""
    lay = LAYOUTS[publication]
    path = Path(path) if path is not None else catalogue.path_for(lay.dataset)
    book = pd.ExcelFile(path, engine="calamine")
    sheets = [s for s in book.sheet_names if s.strip().startswith(lay.sheet)]
    if not sheets:
        raise DataError(path, f"no sheet named like {lay.sheet!r} (found {book.sheet_names})")
    raw = pd.read_excel(book, sheet_name=sheets[0], dtype=object)
    raw.columns = [str(c).strip() for c in raw.columns]
    wanted = [h for h in lay.fields.values() if h] + list(lay.years)
    missing = [h for h in wanted if h not in raw.columns]
    if missing:
        raise DataError(path, f"layout changed: column(s) {missing} not found", row=1)
    out = pd.DataFrame({f: (_tidy_text(raw[h]) if h else "") for f, h in lay.fields.items()})
    out["region"] = out["region"].map(region_key)
    out["capital_or_current"] = out["capital_or_current"].str.upper()
    out["sector"] = out["sector"].str.upper().replace({"LA": "LG"})
    out["identifiable"] = out["identifiable"].str.upper().eq("ID")
    out["function"] = out["function"].map(normalise_function)
    values = raw[list(lay.years)].apply(pd.to_numeric, errors="coerce") * lay.to_thousands
    values.index = out.index
    long = out.join(values).melt(id_vars=list(lay.fields), value_vars=list(lay.years),
                                 var_name="year", value_name="gbp_thousands")
    long = long[long["gbp_thousands"].notna()].reset_index(drop=True)
    long["publication"] = publication
    return long[COLUMNS]


def normalise_function(label: str) -> str:
    """HMT function labels differ in case and wording between publications ("10. SOCIAL
    PROTECTION", "4. Economic affairs - of which: transport", "4. of which: transport"):
    one spelling, e.g. "4. of which: transport", "10. Social protection"."""
    text = re.sub(r"^(\d+)\. [A-Za-z ]+ - of which:", r"\1. of which:", str(label).strip())
    head, _, rest = text.partition(". ")
    if not rest:
        return {"EU TRANSACTIONS": "EU transactions"}.get(text.upper(), text)
    rest = rest.lower()
    return f"{head}. {rest if rest.startswith('of which') else rest[:1].upper() + rest[1:]}"


def read_combined(path: Path | None = None) -> pd.DataFrame:
    """The combined PESA series: region, year, function, subfunction, capital_or_current,
    gbp_thousands (nominal), population (the file's own mid-year estimate). Summary rows
    (UK/total lines) are left out."""
    path = Path(path) if path is not None else catalogue.path_for(COMBINED)
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.lower().endswith(".csv")]
        if not names:
            raise DataError(path, "no CSV inside the zip")
        with z.open(names[0]) as f:
            raw = pd.read_csv(f, dtype={"HMTSubfunction": str}, low_memory=False)
    need = ["FinancialYear", "Geography", "Value", "HMTFunction", "HMTSubfunction",
            "CAPorCUR", "Population"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise DataError(path, f"layout changed: column(s) {missing} not found", row=1)
    raw = raw[~raw["Geography"].str.contains("expenditure", case=False, na=False)]
    return pd.DataFrame({
        "region": raw["Geography"].map(region_key), "year": raw["FinancialYear"],
        "function": raw["HMTFunction"].fillna("").map(normalise_function),
        "subfunction": raw["HMTSubfunction"].fillna(""),
        "capital_or_current": raw["CAPorCUR"].str.upper(),
        "gbp_thousands": raw["Value"] / 1000, "population": raw["Population"],
    }).dropna(subset=["gbp_thousands"]).reset_index(drop=True)


def region_totals(df: pd.DataFrame) -> pd.Series:
    """Identifiable spend (GBP thousand) by region and year."""
    d = df[df["identifiable"]] if "identifiable" in df else df
    return d.groupby(["region", "year"])["gbp_thousands"].sum()


def check_totals(workbook: pd.DataFrame, combined: pd.DataFrame, tolerance: float = 1.0
                 ) -> pd.DataFrame:
    """Compare a workbook's identifiable totals per English region (and England) and year
    with the combined series. (The combined series counts Scotland, Wales and Northern
    Ireland twice for 2004-05 to 2008-09, where the CRA 2010 workbook spells them in two
    cases, so the devolved countries are not compared.) Returns the comparison (region, year, workbook, combined, difference in GBP
    thousand); raises DataError naming the first region/year that differs by more than
    ``tolerance`` thousand."""
    a = region_totals(workbook).rename("workbook")
    b = region_totals(combined).rename("combined")
    both = pd.concat([a, b], axis=1, join="inner").reset_index()
    both = both[both["region"].isin([*ENGLISH_REGIONS, "england"])].reset_index(drop=True)
    both["difference"] = both["workbook"] - both["combined"]
    bad = both[both["difference"].abs() > tolerance]
    if len(bad):
        r = bad.iloc[0]
        pub = int(workbook["publication"].iloc[0]) if len(workbook) else "?"
        raise DataError(f"CRA {pub}", f"{r['region']} {r['year']}: identifiable total "
                        f"{r['workbook']:,.0f} thousand against {r['combined']:,.0f} in the "
                        "combined series", row=f"{r['region']} {r['year']}")
    return both
