"""Readers for the IoD files as published (MHCLG/DLUHC spreadsheets and the IMD R package's
.rda tables): which file holds which release and measure, and how to read it.

Every reader returns plain DataFrames; nothing here writes to ``data/processed``. The tidy
store that uses them is ``stores.iod``. Caveats: docs/caveats/iod.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError, read_rda_frame

DOMAINS: tuple[str, ...] = (
    "income", "employment", "education", "health", "crime", "barriers", "living_environment",
)


SUBDOMAINS: tuple[str, ...] = (
    "children_young_people", "adult_skills", "geographical_barriers", "wider_barriers",
    "indoors", "outdoors",
)


MEASURES: tuple[str, ...] = ("imd", *DOMAINS, "idaci", "idaopi", *SUBDOMAINS)


#: IMD domain weights (IoD2019 technical report), applied to exponentially transformed
#: domain scores (File 9) to give the IMD 2019 score.
IMD_WEIGHTS_2019: dict[str, float] = {
    "income": 0.225, "employment": 0.225, "education": 0.135, "health": 0.135,
    "crime": 0.093, "barriers": 0.093, "living_environment": 0.093,
}


COLUMNS = ["release", "lsoa_code", "lsoa_vintage", "lad_code", "lad_name", "measure",
           "score", "rank", "decile"]


@dataclass(frozen=True)
class Source:
    """One public LSOA table of a release and how its columns map to measures.

    ``measures`` maps measure -> (score column or None, rank column, decile column or None).
    ``kind`` is 'rda' (R data frame) or 'xlsx' (sheet ``sheet``, header on the first row).
    """

    dataset_id: str
    code_col: str
    measures: Mapping[str, tuple[str | None, str, str | None]] = field(default_factory=dict)
    lad_cols: tuple[str, str] | None = None
    kind: str = "rda"
    sheet: str | int = 0


def _sub(prefix: str, score: str = "_score", rank: str = "_rank", decile: str = "_decile"):
    return (f"{prefix}{score}" if score else None, f"{prefix}{rank}",
            f"{prefix}{decile}" if decile else None)


#: The six sub-domains as the IMD R package names them (2004, 2007 and 2010 tables).
_SUBDOMAINS_RDA = {
    "children_young_people": _sub("children_young_people_sub_domain"),
    "adult_skills": _sub("skills_sub_domain"),
    "geographical_barriers": _sub("geographical_barriers_sub_domain"),
    "wider_barriers": _sub("wider_barriers_sub_domain"),
    "indoors": _sub("indoors_sub_domain"),
    "outdoors": _sub("outdoors_sub_domain"),
}
_SUB_0407 = {
    "education": _sub("education_skills_and_training_domain"),
    "barriers": _sub("barriers_to_housing_and_services_domain"),
    "living_environment": _sub("living_environment_domain"),
    **_SUBDOMAINS_RDA,
}


_SUB_2007 = {**_SUB_0407,
             "indoors": _sub("indoors_sub_domain", decile="_rank_decile"),
             "outdoors": _sub("outdoors_sub_domain", decile="_rank_decile")}


_DOM_CAP = {"income": "Income", "employment": "Employment", "education": "Education",
            "health": "Health", "crime": "Crime", "barriers": "Housing_and_Access",
            "living_environment": "Environment"}


F9 = {"income": "Income", "employment": "Employment", "education": "Education",
       "health": "Health", "crime": "Crime", "barriers": "Barriers",
       "living_environment": "Living Environment"}


_F3 = {
    "idaci": (None, "Income Deprivation Affecting Children Index (IDACI) Rank (where 1 is most deprived)",
              "Income Deprivation Affecting Children Index (IDACI) Decile (where 1 is most "
              "deprived 10% of LSOAs)"),
    "idaopi": (None, "Income Deprivation Affecting Older People (IDAOPI) Rank (where 1 is most "
               "deprived)", "Income Deprivation Affecting Older People (IDAOPI) Decile (where 1 "
               "is most deprived 10% of LSOAs)"),
}


SOURCES: dict[int, list[Source]] = {
    2004: [
        Source("imd2004_england_lsoa01", "lsoa01_code", {"imd": _sub("IMD")},
               lad_cols=("lad04_code", "lad04_name")),
        Source("imd2004_england_lsoa01_subdomains", "lsoa01_code", _SUB_0407),
    ],
    2007: [
        Source("imd2007_england_lsoa01", "lsoa01_code", {"imd": _sub("IMD")},
               lad_cols=("lad07_code", "lad07_name")),
        Source("imd2007_england_lsoa01_subdomains", "lsoa01_code", _SUB_2007),
    ],
    2010: [
        Source("imd2010_england_lsoa01", "lsoa01_code",
               {"imd": _sub("IMD"), **{m: _sub(c) for m, c in _DOM_CAP.items()}}),
        Source("imd2010_england_lsoa01_subdomains", "lsoa01_code", dict(_SUBDOMAINS_RDA)),
    ],
    2015: [
        Source("imd2015_england_lsoa11", "lsoa11_code", {"imd": _sub("IMD")},
               lad_cols=("lad13_code", "lad13_name")),
        Source("imd2015_england_lsoa11_subdomains", "lsoa11_code", {
            "children_young_people": _sub("children_and_young_people_sub_domain"),
            "adult_skills": _sub("adult_skills_sub_domain"),
            "geographical_barriers": _sub("geographical_barriers_sub_domain"),
            "wider_barriers": _sub("wider_barriers_sub_domain"),
            "indoors": _sub("indoors_sub_domain"),
            "outdoors": _sub("outdoors_sub_domain"),
        }),
    ],
    2019: [
        Source("imd2019_england_lsoa11", "lsoa11_code",
               {"imd": _sub("IMD", score=""),
                **{m: _sub(c, score="") for m, c in _DOM_CAP.items()}}),
        Source("imd2019_england_lsoa11_subdomains", "lsoa11_code", {
            "children_young_people": _sub("Children_and_young_people", score=""),
            "adult_skills": _sub("Adult_skills", score=""),
            "geographical_barriers": _sub("Geographical_barriers", score=""),
            "wider_barriers": _sub("Wider_barriers", score=""),
            "indoors": _sub("Indoors", score=""),
            "outdoors": _sub("Outdoors", score=""),
        }),
        Source("file_3_iod2019_supplementary_indices_idaci_and_idaopi", "LSOA code (2011)", _F3,
               lad_cols=("Local Authority District code (2019)",
                         "Local Authority District name (2019)"),
               kind="xlsx", sheet="IoD2019 IDACI & IDAOPI"),
    ],
    2025: [
        Source("imd2025_england_lsoa21", "lsoa21_code", {
            "imd": _sub("IMD"),
            **{m: _sub(c) for m, c in {**_DOM_CAP, "barriers": "Housing_and_Services"}.items()},
        }),
        Source("imd2025_england_lsoa21_subdomains", "lsoa21_code", {
            "children_young_people": _sub("children_and_young_people"),
            "adult_skills": _sub("adult_skills"),
            "geographical_barriers": _sub("geographical_barriers"),
            "wider_barriers": _sub("wider_barriers"),
            "indoors": _sub("indoors"),
            "outdoors": _sub("outdoors"),
        }),
    ],
}


#: File 9 (IoD2019 transformed domain scores, LSOA 2011): the IMD 2019 score is derived.
FILE9 = Source("file_9_iod2019_transformed_scores", "LSOA code (2011)", kind="xlsx",
               sheet="IoD2019 Transformed Scores")


FILE6 = Source("file_6_iod2019_population_denominators", "LSOA code (2011)", kind="xlsx",
               sheet="Population Denominators")


FILE6_COLUMNS = {
    "Total population: mid 2015 (excluding prisoners)": "population",
    "Dependent Children aged 0-15: mid 2015 (excluding prisoners)": "children_0_15",
    "Population aged 16-59: mid 2015 (excluding prisoners)": "aged_16_59",
    "Older population aged 60 and over: mid 2015 (excluding prisoners)": "older_60_plus",
    "Working age population 18-59/64: for use with Employment Deprivation Domain "
    "(excluding prisoners)": "working_age",
}


#: Where each release's district (lad_code, lad_name) comes from when its main table
#: lacks them: dataset id of a lookup from that release's LSOAs to districts.
LAD_FROM_LOOKUP: dict[int, str] = {2010: "220", 2025: "lookup_lsoa21_ward24_ltla24"}


def raw_path(dataset_id: str, paths: Mapping[str, Path] | None) -> Path:
    if paths is not None and dataset_id in paths:
        return Path(paths[dataset_id])
    return catalogue.path_for(dataset_id)


def read_sheet(path: Path, sheet: str | int) -> pd.DataFrame:
    """A worksheet as a data frame, header on its first row (python-calamine, fast).

    DataError naming the file when it is not a readable workbook or lacks the sheet.
    """
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        ws = wb.get_sheet_by_index(sheet) if isinstance(sheet, int) else wb.get_sheet_by_name(sheet)
        rows = ws.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for corrupt or truncated files
        raise DataError(path, f"cannot be read as a workbook with sheet {sheet!r} "
                              f"({exc.__class__.__name__}: {exc})") from exc
    if not rows:
        raise DataError(path, f"sheet {sheet!r} is empty")
    header = [str(c).strip() if c is not None else "" for c in rows[0]]
    body = [r for r in rows[1:] if any(v not in (None, "") for v in r)]
    return pd.DataFrame(body, columns=header)


def read_table(src: Source, path: Path, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read one source table, checking that ``columns`` are present (DataError otherwise)."""
    wanted = list(dict.fromkeys([src.code_col, *(columns or [])]))
    if src.kind == "rda":
        return read_rda_frame(path, wanted)
    df = read_sheet(path, src.sheet)
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}")
    return df


def check_codes(df: pd.DataFrame, code_col: str, path: Path, expected: int | None) -> None:
    codes = df[code_col]
    if codes.isna().any():
        raise DataError(path, "blank LSOA code", row=int(np.flatnonzero(codes.isna())[0]) + 2)
    dup = codes.duplicated(keep=False)
    if dup.any():
        first = int(np.flatnonzero(dup)[0])
        raise DataError(path, f"duplicate LSOA code {codes.iloc[first]!r} "
                              f"({int(codes.duplicated().sum())} duplicate row(s))", row=first + 2)
    if expected is not None and len(df) != expected:
        raise DataError(path, f"{len(df)} LSOAs, expected {expected} (every LSOA of England)")


def derive_decile(rank: pd.Series | np.ndarray, n: int, vintage: int) -> np.ndarray:
    """Deciles (1 = most deprived 10%) from ranks among ``n`` LSOAs.

    The rule reproduces each release's published IMD deciles: releases on 2001 LSOAs put rank
    r in decile floor((r - 1) * 10 / n) + 1; releases on 2011 and 2021 LSOAs in ceil(r * 10 / n).
    """
    r = np.asarray(rank, dtype="float64")
    if vintage == 2001:
        d = np.floor((r - 1) * 10 / n) + 1
    else:
        d = np.ceil(r * 10 / n)
    return d


_LOOKUP_CACHE: dict[tuple[str, int, int], pd.DataFrame] = {}


def lads_from_lookup(release: int, paths: Mapping[str, Path] | None) -> pd.DataFrame:
    """lsoa_code -> lad_code, lad_name for releases whose tables carry no district."""
    dataset_id = LAD_FROM_LOOKUP[release]
    path = raw_path(dataset_id, paths)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _LOOKUP_CACHE:
        _LOOKUP_CACHE[key] = _read_lad_lookup(dataset_id, path)
    return _LOOKUP_CACHE[key].copy()


def _read_lad_lookup(dataset_id: str, path: Path) -> pd.DataFrame:
    if dataset_id == "220":
        try:
            lk = pd.read_csv(path, usecols=["LSOA01CD", "LAD11CD", "LAD11NM"], dtype=str)
        except ValueError as exc:
            raise DataError(path, f"missing column(s): {exc}") from exc
        lk = lk.rename(columns={"LSOA01CD": "lsoa_code", "LAD11CD": "lad_code",
                                "LAD11NM": "lad_name"})
    else:
        lk = read_rda_frame(path, ["lsoa21_code", "ltla24_code", "ltla24_name"])
        lk = lk.rename(columns={"lsoa21_code": "lsoa_code", "ltla24_code": "lad_code",
                                "ltla24_name": "lad_name"})
    lk = lk[["lsoa_code", "lad_code", "lad_name"]].drop_duplicates()
    # A 2001 LSOA split across 2011 LSOAs stays in one district; keep one row per LSOA and
    # refuse a lookup that puts one LSOA in two districts.
    per = lk.groupby("lsoa_code")["lad_code"].nunique()
    if (per > 1).any():
        raise DataError(path, f"LSOA(s) in more than one district: {list(per[per > 1].index[:5])}")
    return lk.drop_duplicates("lsoa_code")


#: Releases whose tables carry pre-2009 district codes (e.g. Rotherham 00CF).
LEGACY_LAD_RELEASES: tuple[int, ...] = (2004, 2007)


def gss_for_legacy_districts(lads: pd.DataFrame, paths: Mapping[str, Path] | None = None,
                             ) -> pd.DataFrame:
    """Replace pre-2009 district codes (``00CF``) by the 2011 GSS code of the same district.

    An old district gets the GSS code of the 2011 district (ONS lookup 220) that holds exactly
    the same 2001 LSOAs; districts abolished in the 2009 reorganisation (no identical 2011
    district) keep their old code. Names are kept as published.
    """
    lk = lads_from_lookup(2010, paths)[["lsoa_code", "lad_code"]].rename(
        columns={"lad_code": "lad11"})
    m = lads.merge(lk, on="lsoa_code", how="left")
    old_sets = m.groupby("lad_code")["lsoa_code"].agg(frozenset)
    new_sets = lk.groupby("lad11")["lsoa_code"].agg(frozenset)
    new_by_set = {v: k for k, v in new_sets.items()}
    mapping = {old: new_by_set[s] for old, s in old_sets.items() if s in new_by_set}
    out = lads.copy()
    out["lad_code"] = out["lad_code"].map(mapping).fillna(out["lad_code"])
    return out


INDICATOR_SOURCES: dict[int, tuple[str, str]] = {
    2019: ("imd2019_england_lsoa11_indicators", "lsoa11_code"),
    2025: ("imd2025_england_lsoa21_indicators", "lsoa21_code"),
}


POPULATION_SOURCES: dict[int, str] = {
    2017: "population17_lsoa11", 2019: "population19_lsoa11", 2020: "population20_lsoa11",
}


def read_file6(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """IoD2019 File 6 denominators (mid-2015, excluding prisoners), LSOA 2011, all England."""
    path = raw_path(FILE6.dataset_id, paths)
    df = read_table(FILE6, path, FILE6_COLUMNS)
    check_codes(df, FILE6.code_col, path, config.ENGLAND_LSOAS[2011] if paths is None else None)
    out = df[[FILE6.code_col, *FILE6_COLUMNS]].rename(
        columns={FILE6.code_col: "lsoa_code", **FILE6_COLUMNS})
    for c in FILE6_COLUMNS.values():
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        if out[c].isna().any():
            raise DataError(path, f"missing value in {c!r}",
                            row=int(np.flatnonzero(out[c].isna())[0]) + 2)
    out["lsoa_code"] = out["lsoa_code"].astype(str)
    return out


CENSUS21_POPULATION = "ethnicity21_lsoa21"


def read_census21_population(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Census 2021 usual residents by LSOA 2021 (England), from demographr's ethnicity table."""
    path = raw_path(CENSUS21_POPULATION, paths)
    df = read_rda_frame(path, ["lsoa21_code", "total_residents"])
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")]
    df = df.drop_duplicates(["lsoa21_code", "total_residents"])
    check_codes(df, "lsoa21_code", path, config.ENGLAND_LSOAS[2021] if paths is None else None)
    return pd.DataFrame({"lsoa_code": df["lsoa21_code"].astype(str).to_numpy(),
                         "population": df["total_residents"].to_numpy("float64")})


_SHEET_MEASURE = {"IMD": "imd", "Income": "income", "Employment": "employment",
                  "Education": "education", "Health": "health", "Crime": "crime",
                  "Barriers": "barriers", "Living": "living_environment", "IDACI": "idaci",
                  "IDAOPI": "idaopi"}


_HEADER_STAT = {
    "average rank": "average_rank", "average score": "average_score",
    "proportion of lsoas in most deprived 10% nationally": "proportion_most_deprived_10",
    "extent": "extent", "local concentration": "local_concentration",
}


OFFICIAL_XLSX = {2015: "2015_local_authority_district_summaries",
                 2019: "file_10_iod2019_local_authority_district_summaries_lower_tier"}


def _header_stat(header: str) -> tuple[str, bool] | None:
    h = " ".join(header.lower().split())
    h = h.split(" - ", 1)[1] if " - " in h else h
    is_rank = h.startswith("rank of ")
    h = h[len("rank of "):] if is_rank else h
    stat = _HEADER_STAT.get(h)
    return (stat, is_rank) if stat else None


def read_official_xlsx(release: int, path: Path | None = None) -> pd.DataFrame:
    """An official district summary workbook (IoD2015 summaries, IoD2019 File 10), long."""
    path = path or catalogue.path_for(OFFICIAL_XLSX[release])
    frames = []
    for sheet, measure in _SHEET_MEASURE.items():
        df = read_sheet(path, sheet)
        code, name = df.columns[0], df.columns[1]
        if "code" not in code.lower() or "name" not in name.lower():
            raise DataError(path, f"sheet {sheet!r}: first columns are not district code/name")
        check_codes(df, code, path, None)
        cols: dict[str, dict[str, str]] = {}
        for c in df.columns[2:]:
            hs = _header_stat(c)
            if hs:
                cols.setdefault(hs[0], {})["rank" if hs[1] else "value"] = c
        if "average_rank" not in cols:
            raise DataError(path, f"sheet {sheet!r}: no average rank column")
        for stat, cc in cols.items():
            if set(cc) != {"value", "rank"}:
                raise DataError(path, f"sheet {sheet!r}: {stat} lacks its value or rank column")
            frames.append(pd.DataFrame({
                "lad_code": df[code].astype(str), "lad_name": df[name].astype(str),
                "measure": measure, "statistic": stat,
                "value": pd.to_numeric(df[cc["value"]], errors="raise").astype("float64"),
                "rank": pd.to_numeric(df[cc["rank"]], errors="raise").astype("int64"),
                "n_districts": len(df)}))
    out = pd.concat(frames, ignore_index=True)
    out["release"] = release
    return out


_2025_PREFIX = {"imd": "imd", "income": "income", "employment": "employment",
                "education": "education_skills_and_training",
                "health": "health_deprivation_and_disability", "crime": "crime",
                "barriers": "barriers_to_housing_and_services",
                "living_environment": "living_environment"}


_2025_STAT = {"average_rank": ("average_rank", "rank_of_average_rank"),
              "average_score": ("average_score", "rank_of_average_score"),
              "proportion_most_deprived_10": (
                  "proportion_of_lso_as_in_most_deprived_10_percent_nationally",
                  "rank_of_proportion_of_lso_as_in_most_deprived_10_percent_nationally")}


def read_official_2025(path: Path | None = None) -> pd.DataFrame:
    """The IoD2025 district (2024 LTLA) summaries as republished by the IMD R package."""
    path = path or catalogue.path_for("imd2025_england_ltla24")
    df = read_rda_frame(path, ["ltla24_code", "ltla24_name"])
    check_codes(df, "ltla24_code", path, None)
    specs = []
    for measure, prefix in _2025_PREFIX.items():
        for stat, (v, r) in _2025_STAT.items():
            specs.append((measure, stat, f"{prefix}_{v}", f"{prefix}_{r}"))
    specs += [("imd", "extent", "imd25_extent", "imd25_rank_of_extent"),
              ("imd", "local_concentration", "imd25_local_concentration",
               "imd25_rank_of_local_concentration")]
    missing = [c for _, _, v, r in specs for c in (v, r) if c not in df.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing[:4]}")
    frames = [pd.DataFrame({
        "lad_code": df["ltla24_code"].astype(str), "lad_name": df["ltla24_name"].astype(str),
        "measure": m, "statistic": st, "value": df[v].astype("float64"),
        "rank": df[r].astype("int64"), "n_districts": len(df)}) for m, st, v, r in specs]
    out = pd.concat(frames, ignore_index=True)
    out["release"] = 2025
    return out
