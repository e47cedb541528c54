"""LSOA geography (``lsoa_geography.parquet``): LSOA -> MSOA (House of Commons Library
names), ward, district, region and rural-urban class for LSOA vintages 2001, 2011 and 2021;
the LSOAs of a district on any vintage, including districts created since 2019 (built from
their 2021 LSOAs), and one clear line for a code that is not a current English district.

Districts: 2001 and 2011 LSOAs carry the districts of 2021 (their best-fit 2011 LSOA's),
2021 LSOAs those of 2024. Caveats: docs/caveats/iod.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError, read_rda_frame

GEOGRAPHY_FILE = config.PROCESSED_DIR / "lsoa_geography.parquet"
VINTAGES: tuple[int, ...] = (2001, 2011, 2021)
GEOGRAPHY_COLUMNS = ["lsoa_code", "lsoa_vintage", "msoa_code", "msoa_name", "ward_code",
                     "ward_name", "lad_code", "lad_name", "region_code", "region_name", "ruc",
                     "ruc_code"]
#: Countries by the first letter of a GSS code (district codes W06, S12, N09).
_COUNTRY = {"W": "Wales", "S": "Scotland", "N": "Northern Ireland"}


def _path(dataset_id: str, paths: Mapping[str, Path] | None) -> Path:
    if paths is not None and dataset_id in paths:
        return Path(paths[dataset_id])
    return catalogue.path_for(dataset_id)


def _rda(dataset_id: str, cols: list[str], paths: Mapping[str, Path] | None) -> pd.DataFrame:
    df = read_rda_frame(_path(dataset_id, paths), cols)
    return df[cols].astype(str).replace({"nan": np.nan, "None": np.nan})


def _names_csv(dataset_id: str, paths: Mapping[str, Path] | None) -> pd.DataFrame:
    path = _path(dataset_id, paths)
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except Exception as exc:
        raise DataError(path, f"cannot be read as CSV ({exc})") from exc


def build_geography(l0111: pd.DataFrame, lsoa11: pd.DataFrame,
                    paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """``lsoa_geography.parquet``: one row per LSOA x vintage (2001, 2011, 2021).

    2011: MSOA 2011 + House of Commons Library name, ward 2017 (names where the Community
    Needs Index ward table has them), district 2021, region 2021, RUC 2011. 2021: MSOA 2021
    (from the LSOA name) + HCL name, ward 2024, district 2024, region 2024, RUC 2021. 2001:
    the geography of the 2011 LSOA taking the largest share of its population.
    ``l0111``: the 2001 -> 2011 lookup; ``lsoa11``: ``lookups.england_lsoa11()``.
    """
    # 2011
    msoa = _rda("lookup_lsoa11_msoa11", ["lsoa11_code", "msoa11_code"], paths)
    n11 = _names_csv("msoa_names_2011", paths)
    need = ["msoa11cd", "msoa11hclnm"]
    if any(c not in n11.columns for c in need):
        raise DataError(_path("msoa_names_2011", paths), f"missing column(s) {need}")
    ward = _rda("lookup_lsoa11_ward17", ["lsoa11_code", "ward17_code"], paths)
    wnames = _rda("cni2019_england_ward17", ["ward17_code", "ward17_name"], paths)
    lad = lsoa11.rename(
        columns={"lsoa_code": "lsoa11_code"})[["lsoa11_code", "ltla21_code", "ltla21_name"]]
    reg = _rda("lookup_ltla21_region21", ["ltla21_code", "region21_code", "region21_name"],
               paths)
    ruc = _rda("ruc11_lsoa11", ["lsoa11_code", "ruc11_code", "classification"], paths)
    g11 = (lad[lad["lsoa11_code"].str.startswith("E")]
           .merge(msoa, on="lsoa11_code", how="left")
           .merge(n11[need], left_on="msoa11_code", right_on="msoa11cd", how="left")
           .merge(ward, on="lsoa11_code", how="left")
           .merge(wnames.drop_duplicates("ward17_code"), on="ward17_code", how="left")
           .merge(reg, on="ltla21_code", how="left")
           .merge(ruc, on="lsoa11_code", how="left"))
    g11 = pd.DataFrame({
        "lsoa_code": g11["lsoa11_code"], "lsoa_vintage": 2011,
        "msoa_code": g11["msoa11_code"], "msoa_name": g11["msoa11hclnm"],
        "ward_code": g11["ward17_code"], "ward_name": g11["ward17_name"],
        "lad_code": g11["ltla21_code"], "lad_name": g11["ltla21_name"],
        "region_code": g11["region21_code"], "region_name": g11["region21_name"],
        "ruc": g11["classification"], "ruc_code": g11["ruc11_code"]})
    # 2021
    w24 = _rda("lookup_lsoa21_ward24_ltla24", ["lsoa21_code", "lsoa21_name", "ward24_code",
                                               "ward24_name", "ltla24_code", "ltla24_name"],
               paths)
    w24 = w24[w24["lsoa21_code"].str.startswith("E")]
    n21 = _names_csv("msoa_names_2021csv", paths)
    need21 = ["msoa21cd", "msoa21nm", "msoa21hclnm"]
    if any(c not in n21.columns for c in need21):
        raise DataError(_path("msoa_names_2021csv", paths), f"missing column(s) {need21}")
    reg24 = _rda("lookup_ltla24_region24", ["ltla24_code", "region24_code", "region24_name"],
                 paths)
    ruc21 = _rda("ruc21_lsoa21", ["lsoa21_code", "ruc21_code", "classification"], paths)
    w24 = w24.assign(msoa21nm=w24["lsoa21_name"].str[:-1])
    g21 = (w24.merge(n21[need21], on="msoa21nm", how="left")
           .merge(reg24, on="ltla24_code", how="left")
           .merge(ruc21, on="lsoa21_code", how="left"))
    g21 = pd.DataFrame({
        "lsoa_code": g21["lsoa21_code"], "lsoa_vintage": 2021,
        "msoa_code": g21["msoa21cd"], "msoa_name": g21["msoa21hclnm"],
        "ward_code": g21["ward24_code"], "ward_name": g21["ward24_name"],
        "lad_code": g21["ltla24_code"], "lad_name": g21["ltla24_name"],
        "region_code": g21["region24_code"], "region_name": g21["region24_name"],
        "ruc": g21["classification"], "ruc_code": g21["ruc21_code"]})
    # 2001 via the best-fit 2011 LSOA
    best = (l0111.sort_values(["from_code", "weight", "to_code"], ascending=[True, False, True])
            .drop_duplicates("from_code"))
    g01 = best[["from_code", "to_code"]].merge(g11.drop(columns="lsoa_vintage"),
                                               left_on="to_code", right_on="lsoa_code")
    g01 = g01.drop(columns=["lsoa_code", "to_code"]).rename(columns={"from_code": "lsoa_code"})
    g01["lsoa_vintage"] = 2001
    out = pd.concat([g01, g11, g21], ignore_index=True)[GEOGRAPHY_COLUMNS]
    out["lsoa_vintage"] = out["lsoa_vintage"].astype("int16")
    counts = out.groupby("lsoa_vintage")["lsoa_code"].nunique().to_dict()
    sizes = out.groupby("lsoa_vintage").size().to_dict()
    for v in VINTAGES:
        if counts.get(v) != config.ENGLAND_LSOAS[v] or sizes.get(v) != config.ENGLAND_LSOAS[v]:
            raise DataError(GEOGRAPHY_FILE, f"LSOA {v} geography has {sizes.get(v)} rows for "
                                            f"{counts.get(v)} LSOAs, expected "
                                            f"{config.ENGLAND_LSOAS[v]}")
    return out.sort_values(["lsoa_vintage", "lsoa_code"]).reset_index(drop=True)


def geography(vintage: int = 2021) -> pd.DataFrame:
    """Rows of ``lsoa_geography.parquet`` for one LSOA vintage."""
    if vintage not in VINTAGES:
        raise DataError(GEOGRAPHY_FILE, f"unknown LSOA vintage {vintage!r}")
    return pd.read_parquet(GEOGRAPHY_FILE, filters=[("lsoa_vintage", "==", vintage)])


@lru_cache(maxsize=4)
def lsoa_districts(vintage: int) -> dict[str, str]:
    """LSOA code -> district code for every English LSOA of ``vintage`` (2001, 2011, 2021)."""
    if vintage not in VINTAGES:
        raise ValueError(f"vintage must be one of {VINTAGES}, not {vintage!r}")
    geo = geography(vintage)
    return dict(zip(geo["lsoa_code"].tolist(), geo["lad_code"].tolist(), strict=True))


@lru_cache(maxsize=4)
def _district_names() -> dict[str, tuple[str, int]]:
    """District code -> (name, latest LSOA vintage it appears on)."""
    geo = pd.read_parquet(GEOGRAPHY_FILE, columns=["lad_code", "lad_name", "lsoa_vintage"])
    last = geo.sort_values("lsoa_vintage").drop_duplicates("lad_code", keep="last")
    return {c: (str(n), int(v)) for c, n, v in zip(last["lad_code"], last["lad_name"],
                                                    last["lsoa_vintage"], strict=True)}


def check_district(la_code: str) -> tuple[str, bool]:
    """(district name, created since the 2001/2011 LSOA lookups?) for a current English
    district code; DataError with one clear line for a Welsh, Scottish, Northern Irish,
    retired or unknown code."""
    code = str(la_code).strip().upper()
    if code[:1] in _COUNTRY:
        raise DataError(None, f"{code} is a district code of {_COUNTRY[code[0]]}: the pack "
                              "covers English districts only (the indices differ by nation)")
    names = _district_names()
    if code not in names:
        raise DataError(None, f"{code} is not an English district code in the LSOA lookups "
                              "(expected a code like E08000018)")
    name, last = names[code]
    if last != 2021:
        old = {c for c, lad in lsoa_districts(last).items() if lad == code}
        now = lsoa_districts(2021)
        pairs = _pairs_to_2021(last)
        new = sorted({now[c] for c in pairs.loc[pairs["from_code"].isin(old), "to_code"]
                      if c in now})
        names_new = ", ".join(f"{names[c][0]} ({c})" for c in new if c in names) or "unknown"
        raise DataError(None, f"{code} ({name}) is a retired district code; its area is now "
                              f"in {names_new}: use that code")
    created = code not in set(lsoa_districts(2011).values())
    return name, created


def district_lsoas(la_code: str, vintage: int) -> list[str]:
    """The district's LSOAs of ``vintage``, sorted. A district created since the 2011
    lookups (e.g. North Yorkshire, Cumberland) has no 2001/2011 rows: its LSOAs of those
    vintages are the ones whose people live, on 2021 boundaries, in its 2021 LSOAs (new
    districts are unions of old ones, so no LSOA is shared with a neighbour)."""
    own = sorted(c for c, lad in lsoa_districts(vintage).items() if lad == la_code)
    if own or vintage == 2021:
        return own
    now = {c for c, lad in lsoa_districts(2021).items() if lad == la_code}
    if not now:
        return []
    other = lsoa_districts(vintage)
    pairs = _pairs_to_2021(vintage)
    hit = pairs.loc[pairs["to_code"].isin(now), "from_code"]
    return sorted(c for c in set(hit) if c in other)


@lru_cache(maxsize=2)
def _pairs_to_2021(vintage: int) -> pd.DataFrame:
    files = {2011: config.PROCESSED_DIR / "lookup_lsoa11_lsoa21.parquet"}
    if vintage == 2011:
        return pd.read_parquet(files[2011], columns=["from_code", "to_code"])
    a = pd.read_parquet(config.PROCESSED_DIR / "lookup_lsoa01_lsoa11.parquet",
                        columns=["from_code", "to_code"])
    b = pd.read_parquet(files[2011], columns=["from_code", "to_code"])
    m = a.merge(b, left_on="to_code", right_on="from_code", suffixes=("", "_21"))
    return pd.DataFrame({"from_code": m["from_code"], "to_code": m["to_code_21"]})
