"""Councils created since the 2011 LSOA lookups (a unitary formed from a county's districts):
the Revenue Outturn lines for years before the council existed (caveat SPEND-15).

Method, derived from the pack's own data (no council named in code):

* **Predecessor districts**: the districts of the 2011 LSOA lookup whose 2011 LSOAs lie in
  the new council (``stores.lsoa_geography.district_lsoas``), each taken in proportion to its
  2011 LSOAs that do (1 when the new council took it over whole).
* **Predecessor county**: the shire county whose DCLG E-code in that year's return shares the
  first three characters with the predecessor districts' E-codes (the returns' own coding of a
  county and its districts). It is taken in proportion to the share of the county's residents
  (ONS mid-2015, on 2011 LSOAs) living in the new council's predecessor districts.
* When a predecessor has no line that year (e.g. a district itself merged after the year) the
  predecessors cannot be added up soundly: the nearest year with the council's own lines (or
  its predecessors') is used instead, and said (``Basis.year_used``).

Amounts GBP thousand, cash, as the returns publish them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from evidence_pack.stores import iod, lsoa_geography, spend_returns

#: Residents used for the county share (mid-year estimate held in lsoa_population.parquet).
POPULATION_YEAR = 2015


@dataclass(frozen=True)
class Basis:
    """Where one council-year's lines come from. ``method``: "own" (the council's own
    return), "predecessors" or "first_year"; ``councils``: lad_code, ecode, la_name,
    la_class, share (0-1) of each predecessor used; ``year_used``: the return's year."""

    la_code: str
    year: str
    method: str
    year_used: str
    councils: pd.DataFrame = field(default_factory=pd.DataFrame)
    share_basis: str = ""


def predecessor_districts(la_code: str, new_lsoas: list[str] | None = None,
                          lsoa_lad: Mapping[str, str] | None = None) -> pd.Series:
    """Share (0-1) of each 2011 district's 2011 LSOAs lying in ``la_code`` (index: district
    code). Empty when ``la_code`` is itself a 2011 district."""
    lsoa_lad = lsoa_lad if lsoa_lad is not None else lsoa_geography.lsoa_districts(2011)
    if la_code in set(lsoa_lad.values()):
        return pd.Series(dtype=float)
    if new_lsoas is None:
        new_lsoas = lsoa_geography.district_lsoas(la_code, 2011)
    all_ = pd.Series(lsoa_lad, dtype=object)
    inside = all_[all_.index.isin(list(new_lsoas))].value_counts()
    total = all_[all_.isin(inside.index)].value_counts()
    return (inside / total.reindex(inside.index)).sort_index().rename("share")


def district_population(year: int = POPULATION_YEAR) -> pd.Series:
    """Residents by 2011 district (ONS mid-``year`` estimates summed over 2011 LSOAs)."""
    pop = pd.read_parquet(iod.POPULATION_FILE, columns=["lsoa_code", "population"],
                          filters=[("year", "==", year), ("lsoa_vintage", "==", 2011)])
    lad = pop["lsoa_code"].map(lsoa_geography.lsoa_districts(2011))
    return pop.groupby(lad)["population"].sum().astype(float)


def predecessor_councils(districts: pd.Series, returns_year: pd.DataFrame,
                         population: pd.Series) -> pd.DataFrame | None:
    """The predecessor councils with their shares, from ``districts`` (code -> share), one
    year's return rows (``lad_code``, ``ecode``, ``la_name``, ``la_class``) and residents by
    district. None when a predecessor district (or a county's district, for its share) is
    missing from that year's return or population, so no sound sum is possible."""
    auth = returns_year.drop_duplicates("ecode")[["lad_code", "ecode", "la_name", "la_class"]]
    by_lad = auth.dropna(subset=["lad_code"]).drop_duplicates("lad_code").set_index("lad_code")
    if districts.empty or not districts.index.isin(by_lad.index).all():
        return None
    rows = by_lad.loc[districts.index].reset_index().assign(share=districts.to_numpy())
    counties = []
    for prefix, group in rows[rows["la_class"] == "SD"].groupby(rows["ecode"].str[:3]):
        county = auth[(auth["ecode"].str[:3] == prefix) & (auth["la_class"] == "SC")]
        if county.empty:
            continue
        family = auth[(auth["ecode"].str[:3] == prefix) & (auth["la_class"] == "SD")]
        if family["lad_code"].isna().any() or not family["lad_code"].isin(population.index).all():
            return None
        mine = float((population.reindex(group["lad_code"]).to_numpy() * group["share"]).sum())
        counties.append(county.iloc[[0]].assign(
            share=mine / float(population.reindex(family["lad_code"]).sum())))
    return pd.concat([rows, *counties], ignore_index=True)


def basis(la_code: str, year: str, source: str = "RS", table: pd.DataFrame | None = None,
          districts: pd.Series | None = None, population: pd.Series | None = None) -> Basis:
    """How ``la_code``'s ``year`` lines are found: its own (non-blank) lines, else its
    predecessors' that year, else the nearest year (later first on a tie) where either is
    possible (``year_used`` then differs from ``year``); ``method`` "none" when nothing is.
    ``table``: the council spend store (``spend_returns.load``)."""
    df = table if table is not None else spend_returns.load()
    value = "net_current_expenditure_gbp_thousands"
    src = df[(df["source"] == source) & (df["line"] == spend_returns.SERVICE)
             & df[value].notna()]
    own_years = set(src.loc[src["lad_code"] == la_code, "year"].unique())
    years = sorted(set(src["year"].unique()), key=lambda y: (y != year, abs(_start(y) - _start(year)),
                                                     -_start(y)))
    for y in years:
        if y in own_years:
            return Basis(la_code, year, "own", y)
        if districts is None:
            districts = predecessor_districts(la_code)
        if districts.empty:
            continue
        if population is None:
            population = district_population()
        councils = predecessor_councils(districts, src[src["year"] == y], population)
        if councils is not None:
            return Basis(la_code, year, "predecessors", y, councils,
                         f"residents, ONS mid-{POPULATION_YEAR}")
    return Basis(la_code, year, "none", year)


def _start(year: str) -> int:
    """2011 for "2011-12"."""
    return int(str(year)[:4])


def basis_lines(b: Basis, source: str = "RS", table: pd.DataFrame | None = None
                ) -> pd.DataFrame:
    """The service rows (store columns plus ``share`` and ``predecessor``) the basis
    points at: the council's own rows, or each predecessor's rows with its share."""
    df = table if table is not None else spend_returns.load()
    sel = df[(df["year"] == b.year_used) & (df["source"] == source)
             & (df["line"] == spend_returns.SERVICE)]
    if b.method != "predecessors":
        sel = sel[sel["lad_code"] == b.la_code] if b.method == "own" else sel.iloc[:0]
        return sel.assign(share=1.0, predecessor="")
    rows = sel.merge(b.councils[["ecode", "share"]], on="ecode")
    return rows.assign(predecessor=rows["la_name"])


def predecessor_series(la_code: str, source: str = "RS", table: pd.DataFrame | None = None
                       ) -> pd.DataFrame:
    """The store's rows (every line, share-weighted sums over the predecessors) for each
    year before ``la_code`` has its own lines and its predecessors can be added up that same
    year; ``la_name`` is the new council's name. Empty for a council with its own lines."""
    df = table if table is not None else spend_returns.load()
    value = "net_current_expenditure_gbp_thousands"
    src = df[(df["source"] == source) & df[value].notna()]
    own = src[src["lad_code"] == la_code]
    own_years = set(own["year"].unique())
    first_own = min(own_years) if own_years else "9999"
    before = sorted(y for y in set(src["year"].unique()) if y < first_own)
    districts = predecessor_districts(la_code) if before else pd.Series(dtype=float)
    if districts.empty:
        return df.iloc[:0]
    population = district_population()
    frames = []
    for year in before:
        b = basis(la_code, year, source, df, districts, population)
        if b.method != "predecessors" or b.year_used != year:
            continue
        rows = src[src["year"] == year].merge(b.councils[["ecode", "share"]], on="ecode")
        rows[value] = rows[value] * rows["share"]
        frames.append(rows.groupby(["year", "source", "service", "service_label", "line"],
                                   sort=False, as_index=False)[value].sum())
    if not frames:
        return df.iloc[:0]
    out = pd.concat(frames, ignore_index=True)
    name = df.loc[df["lad_code"] == la_code, "la_name"]
    return out.assign(lad_code=la_code, ecode="", la_name=name.iloc[-1] if len(name) else la_code,
                      la_class="")[list(df.columns)]


def first_own_year(la_code: str, source: str = "RS", table: pd.DataFrame | None = None
                   ) -> str | None:
    """The first year ``la_code`` has its own (non-blank) service lines, or None."""
    df = table if table is not None else spend_returns.load()
    own = df[(df["lad_code"] == la_code) & (df["source"] == source)
             & (df["line"] == spend_returns.SERVICE)
             & df["net_current_expenditure_gbp_thousands"].notna()]
    return min(own["year"]) if len(own) else None
