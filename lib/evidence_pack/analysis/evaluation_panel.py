"""Evaluation panel: every IoD release 2004-2025 on the 2001 LSOAs, as England percentiles.

The unit is the LSOA on its 2001 boundaries (the geography of IMD 2010, on which the target
areas were chosen). 2015 and 2019 (LSOA 2011) and 2025 (LSOA 2021) are carried back with the
ONS best-fit lookups (``lookups.carry``, overlap-population-weighted mean), so no LSOA is lost.
Percentile = 100 * rank / LSOAs ranked: near 0 = most deprived, 100 = least deprived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from evidence_pack.sources.io import DataError
from evidence_pack.stores import lookups

#: Measures put on the panel (overall IMD and the seven domains; same names in every release).
MEASURES: tuple[str, ...] = ("imd", "income", "employment", "education", "health", "crime",
                             "barriers", "living_environment")


DOMAINS: tuple[str, ...] = MEASURES[1:]


BASE = 2010


PRE: tuple[int, ...] = (2004, 2007)


POST: tuple[int, ...] = (2015, 2019, 2025)


RELEASES: tuple[int, ...] = (*PRE, BASE, *POST)


UNIT_VINTAGE = 2001


MEASURE_LABELS: dict[str, str] = {
    "imd": "Index of Multiple Deprivation", "income": "Income", "employment": "Employment",
    "education": "Education, skills and training", "health": "Health and disability",
    "crime": "Crime", "barriers": "Barriers to housing and services",
    "living_environment": "Living environment",
}


#: ``did`` group of the sensitivity run with comparators from outside the region only.
SENSITIVITY_OUTSIDE_REGION = "all_outside_region"


#: Names of the context groups (not matched; shown beside the estimates).
CONTEXT_REST = "rest_of_district"


CONTEXT_DISTRICT_D1 = "district_other_decile1"


CONTEXT_REGION_D1 = "region_decile1"


OUTPUT_NAMES: tuple[str, ...] = ("units", "matches", "balance", "did", "trajectories",
                                 "monitoring")


def col(measure: str, release: int) -> str:
    """Panel column for a measure and release: England percentile (1 = most deprived 1%)."""
    return f"{measure}_{release}"


def percentiles(iod: pd.DataFrame) -> pd.DataFrame:
    """Add ``pct`` = 100 * rank / n (n = LSOAs ranked in that release and measure).

    ``iod`` is long like ``iod_lsoa.parquet`` (release, lsoa_code, lsoa_vintage, measure,
    rank). Rank 1 = most deprived, so pct near 0 = most deprived, 100 = least deprived.
    """
    need = {"release", "lsoa_code", "lsoa_vintage", "measure", "rank"}
    missing = need - set(iod.columns)
    if missing:
        raise DataError("iod_lsoa.parquet", f"missing column(s) {sorted(missing)}")
    out = iod.loc[iod["rank"].notna(), list(need)].copy()
    n = out.groupby(["release", "measure"])["rank"].transform("count")
    out["pct"] = 100.0 * out["rank"].astype(float) / n
    return out


def build_panel(iod: pd.DataFrame, pairs: Mapping[int, pd.DataFrame] | None = None,
                measures: Sequence[str] = MEASURES) -> pd.DataFrame:
    """Wide panel: one row per LSOA 2001, columns ``<measure>_<release>`` = England percentile.

    Releases on LSOA 2011/2021 are carried back to the 2001 LSOAs with ``lookups.carry``
    (``how="mean"``: each 2001 LSOA takes the overlap-population-weighted mean of the later
    LSOAs it became; merged LSOAs share their successor's value). ``pairs`` (vintage ->
    from_code/to_code/population pairs from that vintage to 2001) is for tests; by default
    the lookups module's crosswalks. The row count is the number of LSOAs ranked in IMD
    2010, and every one must have a value in every release (DataError otherwise).
    """

    long = percentiles(iod[iod["measure"].isin(measures)])
    base = long[(long["release"] == BASE) & (long["measure"] == "imd")]
    if base.empty:
        raise DataError("iod_lsoa.parquet", "no IMD 2010 ranks: cannot define the LSOA 2001 units")
    units = pd.Index(sorted(base["lsoa_code"].astype(str).unique()), dtype=object)
    parts = []
    for vintage, grp in long.groupby("lsoa_vintage"):
        wide = grp.pivot_table(index="lsoa_code", columns=["measure", "release"], values="pct",
                               aggfunc="first")
        cols = [col(m, int(r)) for m, r in wide.columns]
        wide.columns = cols
        wide.index = pd.Index(wide.index.astype(str), name="lsoa_code")
        if int(vintage) != UNIT_VINTAGE:
            carried = lookups.carry(wide.reset_index(), cols, int(vintage), UNIT_VINTAGE,
                                    how="mean", pairs=None if pairs is None else pairs[int(vintage)])
            wide = carried.set_index("lsoa_code")[cols]
        wide.index = pd.Index(wide.index.to_numpy(dtype=object))
        part = wide.reindex(units)
        for release in grp["release"].unique():
            rel_cols = [c for c in cols if c.endswith(f"_{int(release)}")]
            lost = part[rel_cols].isna().all(axis=1)
            if lost.any():
                raise DataError("iod_lsoa.parquet", f"{int(lost.sum())} LSOA(s) 2001 lost when "
                                f"putting release {int(release)} (LSOA {int(vintage)}) on the 2001 "
                                f"LSOAs (first: {lost[lost].index[0]})")
        parts.append(part)
    panel = pd.concat(parts, axis=1)
    panel.index.name = "lsoa_code"
    if len(panel) != len(units):
        raise DataError("iod_lsoa.parquet", f"panel has {len(panel)} rows, expected {len(units)}")
    return panel


def covariates(panel: pd.DataFrame) -> pd.DataFrame:
    """Matching variables from the panel: 2010 percentiles and the 2004->2010 IMD change."""
    cov = pd.DataFrame(index=panel.index)
    for m in MEASURES:
        if col(m, BASE) in panel:
            cov[col(m, BASE)] = panel[col(m, BASE)]
    cov["imd_trend_2004_2010"] = panel[col("imd", BASE)] - panel[col("imd", 2004)]
    return cov


def unit_attributes(geo: pd.DataFrame, iod2010: pd.DataFrame) -> pd.DataFrame:
    """District (as in IMD 2010), region and rural-urban class of each LSOA 2001.

    ``geo``: the 2001 rows of ``lsoa_geography.parquet`` (region, ``ruc`` class).
    """
    base = iod2010.drop_duplicates("lsoa_code").set_index("lsoa_code")[["lad_code", "lad_name"]]
    base.index = pd.Index(base.index.to_numpy(dtype=object), name="lsoa_code")
    g01 = geo[geo["lsoa_vintage"] == UNIT_VINTAGE].drop_duplicates("lsoa_code")
    g01 = g01.set_index(pd.Index(g01["lsoa_code"].to_numpy(dtype=object)))
    out = base.join(g01[["region_name", "ruc"]])
    lost = out["ruc"].isna() | out["region_name"].isna()
    if lost.any():
        raise DataError("lsoa_geography.parquet", f"{int(lost.sum())} LSOA(s) 2001 without a "
                        f"region or rural-urban class (first: {out.index[lost][0]})")
    return out
