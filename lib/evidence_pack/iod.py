"""The tidy English Indices of Deprivation store, 2004-2025, and district summaries.

``prepare()`` reads the public files (through ``catalogue.path_for``) and writes to
``data/processed/``:

- ``iod_lsoa.parquet``: one row per release x LSOA x measure (see docs/design.md). Releases
  2004, 2007 and 2010 are on 2001 LSOAs, 2015 and 2019 on 2011 LSOAs, 2025 on 2021 LSOAs.
  ``rank`` 1 = most deprived LSOA in England; ``decile`` 1 = most deprived 10%.
- ``iod_indicators.parquet``: the IoD2019 (LSOA 2011) and IoD2025 (LSOA 2021) underlying
  indicators, long.
- ``lsoa_population.parquet``: population denominators by LSOA (IoD2019 File 6, mid-2015,
  LSOA 2011; ONS mid-2017/2019/2020 estimates, LSOA 2011, from demographr).
- ``la_summary.parquet``: district summaries (average rank, average score, proportion of
  LSOAs in the most deprived 10%, extent, local concentration), computed and official.
- the lookups of ``evidence_pack.lookups`` (built from here: the prepare stages are fixed).

IoD scores are not a time series: compare releases on ranks and deciles
(``lookups.rank_change``). Caveats: docs/caveats/iod.md (IOD-n).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import catalogue, config
from .io import DataError, read_rda_frame, write_parquet

IOD_FILE = config.PROCESSED_DIR / "iod_lsoa.parquet"
INDICATORS_FILE = config.PROCESSED_DIR / "iod_indicators.parquet"
POPULATION_FILE = config.PROCESSED_DIR / "lsoa_population.parquet"
LA_SUMMARY_FILE = config.PROCESSED_DIR / "la_summary.parquet"

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


# --------------------------------------------------------------------------- sources


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


_SUB_0407 = {
    "education": _sub("education_skills_and_training_domain"),
    "barriers": _sub("barriers_to_housing_and_services_domain"),
    "living_environment": _sub("living_environment_domain"),
    "children_young_people": _sub("children_young_people_sub_domain"),
    "adult_skills": _sub("skills_sub_domain"),
    "geographical_barriers": _sub("geographical_barriers_sub_domain"),
    "wider_barriers": _sub("wider_barriers_sub_domain"),
    "indoors": _sub("indoors_sub_domain"),
    "outdoors": _sub("outdoors_sub_domain"),
}
_SUB_2007 = {**_SUB_0407,
             "indoors": _sub("indoors_sub_domain", decile="_rank_decile"),
             "outdoors": _sub("outdoors_sub_domain", decile="_rank_decile")}
_DOM_CAP = {"income": "Income", "employment": "Employment", "education": "Education",
            "health": "Health", "crime": "Crime", "barriers": "Housing_and_Access",
            "living_environment": "Environment"}
_F9 = {"income": "Income", "employment": "Employment", "education": "Education",
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
        Source("imd2010_england_lsoa01_subdomains", "lsoa01_code", {
            "children_young_people": _sub("children_young_people_sub_domain"),
            "adult_skills": _sub("skills_sub_domain"),
            "geographical_barriers": _sub("geographical_barriers_sub_domain"),
            "wider_barriers": _sub("wider_barriers_sub_domain"),
            "indoors": _sub("indoors_sub_domain"),
            "outdoors": _sub("outdoors_sub_domain"),
        }),
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


def _path(dataset_id: str, paths: Mapping[str, Path] | None) -> Path:
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


def _check_codes(df: pd.DataFrame, code_col: str, path: Path, expected: int | None) -> None:
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


def _measure_arrays(release: int, src: Source, df: pd.DataFrame, path: Path
                    ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """measure -> (score, rank, decile) float arrays in the table's row order."""
    n = len(df)
    vintage = config.RELEASE_VINTAGE[release]
    out = {}
    for measure, (score_col, rank_col, decile_col) in src.measures.items():
        rank = pd.to_numeric(df[rank_col], errors="coerce").to_numpy("float64")
        if np.isnan(rank).any():
            raise DataError(path, f"missing or non-numeric rank in {rank_col!r}",
                            row=int(np.flatnonzero(np.isnan(rank))[0]) + 2)
        if rank.min() < 1 or rank.max() > n:
            raise DataError(path, f"rank {rank_col!r} outside 1..{n}")
        if decile_col is not None:
            decile = pd.to_numeric(df[decile_col], errors="coerce").to_numpy("float64")
            if np.isnan(decile).any():
                decile = np.where(np.isnan(decile), derive_decile(rank, n, vintage), decile)
        else:
            decile = derive_decile(rank, n, vintage)
        score = (pd.to_numeric(df[score_col], errors="coerce").to_numpy("float64")
                 if score_col else np.full(n, np.nan))
        out[measure] = (score, rank, decile)
    return out


_LOOKUP_CACHE: dict[tuple[str, int, int], pd.DataFrame] = {}


def _lads_from_lookup(release: int, paths: Mapping[str, Path] | None) -> pd.DataFrame:
    """lsoa_code -> lad_code, lad_name for releases whose tables carry no district."""
    dataset_id = LAD_FROM_LOOKUP[release]
    path = _path(dataset_id, paths)
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
    lk = _lads_from_lookup(2010, paths)[["lsoa_code", "lad_code"]].rename(
        columns={"lad_code": "lad11"})
    m = lads.merge(lk, on="lsoa_code", how="left")
    old_sets = m.groupby("lad_code")["lsoa_code"].agg(frozenset)
    new_sets = lk.groupby("lad11")["lsoa_code"].agg(frozenset)
    new_by_set = {v: k for k, v in new_sets.items()}
    mapping = {old: new_by_set[s] for old, s in old_sets.items() if s in new_by_set}
    out = lads.copy()
    out["lad_code"] = out["lad_code"].map(mapping).fillna(out["lad_code"])
    return out


def derive_imd2019_score(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """IMD 2019 score by LSOA 2011 = sum of File 9 transformed domain scores x the weights.

    File 9 scores are published to 3 decimals, so the derived score reproduces published
    ranks to within a place or two (ties after rounding); ranks are kept as published.
    """
    path = _path(FILE9.dataset_id, paths)
    cols = {m: f"{c} Score - exponentially transformed" for m, c in _F9.items()}
    df = read_table(FILE9, path, cols.values())
    _check_codes(df, FILE9.code_col, path, None)
    score = sum(pd.to_numeric(df[cols[m]], errors="raise") * w
                for m, w in IMD_WEIGHTS_2019.items())
    return pd.DataFrame({"lsoa_code": df[FILE9.code_col].astype(str), "score": score})


def build_release(release: int, paths: Mapping[str, Path] | None = None,
                  expected_rows: int | None = None) -> pd.DataFrame:
    """The long table (``COLUMNS``) of one release, from its public files.

    ``paths`` overrides catalogue paths by dataset id (tests); ``expected_rows`` defaults
    to the number of LSOAs in England for the release's vintage. DataError on bad input.
    """
    if release not in SOURCES:
        raise DataError(None, f"unknown release {release!r}; known: {list(SOURCES)}")
    vintage = config.RELEASE_VINTAGE[release]
    expected = config.ENGLAND_LSOAS[vintage] if expected_rows is None else expected_rows
    arrays: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    lads: pd.DataFrame | None = None
    codes: pd.Index | None = None
    for src in SOURCES[release]:
        path = _path(src.dataset_id, paths)
        needed = [c for spec in src.measures.values() for c in spec if c]
        if src.lad_cols:
            needed += list(src.lad_cols)
        df = read_table(src, path, needed)
        _check_codes(df, src.code_col, path, expected)
        these = pd.Index(df[src.code_col].astype(str))
        if codes is None:
            codes, pos = these, np.arange(len(these))
        else:
            pos = codes.get_indexer(these)
            if (pos < 0).any() or len(these) != len(codes):
                n_diff = len(these.symmetric_difference(codes))
                raise DataError(path, f"LSOA codes differ from the release's main table "
                                      f"({n_diff} code(s) in one but not the other)")
        if src.lad_cols and lads is None:
            lads = pd.DataFrame({"lsoa_code": these,
                                 "lad_code": df[src.lad_cols[0]].astype(str).to_numpy(),
                                 "lad_name": df[src.lad_cols[1]].astype(str).to_numpy()})
        for measure, (score, rank, decile) in _measure_arrays(release, src, df, path).items():
            if measure in arrays:
                raise DataError(path, f"release {release}: measure {measure!r} given twice")
            order = np.empty(len(pos), dtype=np.int64)
            order[pos] = np.arange(len(pos))
            arrays[measure] = (score[order], rank[order], decile[order])
    assert codes is not None
    if release == 2019:
        imd = derive_imd2019_score(paths)
        where = pd.Index(imd["lsoa_code"]).get_indexer(codes)
        if (where < 0).any():
            raise DataError(_path(FILE9.dataset_id, paths), "LSOA(s) of IMD 2019 missing")
        _, rank, decile = arrays["imd"]
        arrays["imd"] = (imd["score"].to_numpy("float64")[where], rank, decile)
    if lads is None:
        lads = _lads_from_lookup(release, paths)
        lk_path = _path(LAD_FROM_LOOKUP[release], paths)
        missing = codes.difference(pd.Index(lads["lsoa_code"]))
        if len(missing):
            raise DataError(lk_path, f"{len(missing)} LSOA(s) of release {release} have no "
                                     f"district, e.g. {sorted(missing)[:3]}")
    if release in LEGACY_LAD_RELEASES:
        lads = gss_for_legacy_districts(lads, paths)
    at = pd.Index(lads["lsoa_code"]).get_indexer(codes)
    lad_codes, lad_uniques = pd.factorize(lads["lad_code"].to_numpy(dtype=object)[at])
    name_codes, name_uniques = pd.factorize(lads["lad_name"].to_numpy(dtype=object)[at])
    k, n = len(arrays), len(codes)
    cat = pd.Categorical.from_codes
    return pd.DataFrame({
        "release": np.full(k * n, release, dtype="int16"),
        "lsoa_code": cat(np.tile(np.arange(n), k), categories=codes.astype(object)),
        "lsoa_vintage": np.full(k * n, vintage, dtype="int16"),
        "lad_code": cat(np.tile(lad_codes, k), categories=pd.Index(lad_uniques, dtype=object)),
        "lad_name": cat(np.tile(name_codes, k), categories=pd.Index(name_uniques, dtype=object)),
        "measure": cat(np.repeat(np.arange(k), n), categories=pd.Index(list(arrays),
                                                                        dtype=object)),
        "score": np.concatenate([a[0] for a in arrays.values()]),
        "rank": np.concatenate([a[1] for a in arrays.values()]),
        "decile": np.concatenate([a[2] for a in arrays.values()]),
    })


def _union(cols: list[pd.Categorical]) -> pd.Categorical:
    from pandas.api.types import union_categoricals

    return union_categoricals(cols)


def _finish(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Contract columns: strings held as categoricals (dictionary-encoded in parquet), rows
    ordered by release then measure (source order within)."""
    cols = {}
    for c in COLUMNS:
        if isinstance(parts[0][c].dtype, pd.CategoricalDtype):
            cols[c] = _union([p[c].array for p in parts])
        else:
            cols[c] = np.concatenate([p[c].to_numpy() for p in parts])
    key = cols["release"].astype("int64") * 100 + pd.Categorical(
        np.asarray(cols["measure"].categories)[cols["measure"].codes],
        categories=list(MEASURES)).codes
    order = np.argsort(key, kind="stable")
    out = pd.DataFrame({c: (v.take(order) if isinstance(v, pd.Categorical) else v[order])
                        for c, v in cols.items()})
    out["release"] = out["release"].astype("int16")
    out["lsoa_vintage"] = out["lsoa_vintage"].astype("int16")
    out["score"] = out["score"].astype("float64")
    out["rank"] = np.round(out["rank"].to_numpy("float64")).astype("int32")
    out["decile"] = np.round(out["decile"].to_numpy("float64")).astype("int8")
    return out


def build_store(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Every release, long, in the contract's column types (strings as categoricals)."""
    return _finish([build_release(r, paths) for r in SOURCES])


# --------------------------------------------------------------------------- indicators


INDICATOR_SOURCES: dict[int, tuple[str, str]] = {
    2019: ("imd2019_england_lsoa11_indicators", "lsoa11_code"),
    2025: ("imd2025_england_lsoa21_indicators", "lsoa21_code"),
}


def build_indicators(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """IoD2019/2025 underlying indicators, long: release, lsoa_code, lsoa_vintage, indicator, value."""
    frames = []
    for release, (dataset_id, code_col) in INDICATOR_SOURCES.items():
        path = _path(dataset_id, paths)
        df = read_rda_frame(path, [code_col])
        vintage = config.RELEASE_VINTAGE[release]
        _check_codes(df, code_col, path, config.ENGLAND_LSOAS[vintage] if paths is None else None)
        long = df.melt(id_vars=[code_col], var_name="indicator", value_name="value")
        frames.append(pd.DataFrame({
            "release": np.int16(release), "lsoa_code": long[code_col].astype(str),
            "lsoa_vintage": np.int16(vintage), "indicator": long["indicator"].astype(str),
            "value": pd.to_numeric(long["value"], errors="coerce").astype("float64"),
        }))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- populations


POPULATION_SOURCES: dict[int, str] = {
    2017: "population17_lsoa11", 2019: "population19_lsoa11", 2020: "population20_lsoa11",
}


def read_file6(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """IoD2019 File 6 denominators (mid-2015, excluding prisoners), LSOA 2011, all England."""
    path = _path(FILE6.dataset_id, paths)
    df = read_table(FILE6, path, FILE6_COLUMNS)
    _check_codes(df, FILE6.code_col, path, config.ENGLAND_LSOAS[2011] if paths is None else None)
    out = df[[FILE6.code_col, *FILE6_COLUMNS]].rename(
        columns={FILE6.code_col: "lsoa_code", **FILE6_COLUMNS})
    for c in FILE6_COLUMNS.values():
        out[c] = pd.to_numeric(out[c], errors="coerce").astype("float64")
        if out[c].isna().any():
            raise DataError(path, f"missing value in {c!r}",
                            row=int(np.flatnonzero(out[c].isna())[0]) + 2)
    out["lsoa_code"] = out["lsoa_code"].astype(str)
    return out


def build_population(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Populations by LSOA used as weights (``lsoa_population.parquet``).

    ``year`` 2015 with ``source`` 'IoD2019 File 6' (the IoD2019 denominators: mid-2015,
    excluding prisoners) and 2017, 2019, 2020 with ``source`` 'ONS SAPE (demographr)' (mid-year
    estimates). All on LSOA 2011, England only. ``working_age`` is 18-59/64 (File 6) or
    16-64 (ONS); ``children_0_15`` ages 0-15; ``older_60_plus`` 60 and over.
    """
    f6 = read_file6(paths)
    frames = [f6.assign(year=2015, source="IoD2019 File 6 (mid-2015, excl. prisoners)")]
    england = set(f6["lsoa_code"])
    for year, dataset_id in POPULATION_SOURCES.items():
        path = _path(dataset_id, paths)
        df = read_rda_frame(path, ["lsoa11_code", "total_population"])
        ages = [str(a) for a in range(90)] + ["90+"]
        missing = [a for a in ages if a not in df.columns]
        if missing:
            raise DataError(path, f"missing age column(s) {missing[:5]}")
        df = df[df["lsoa11_code"].astype(str).isin(england)]
        _check_codes(df, "lsoa11_code", path, len(england) if paths is None else None)
        a = df[ages].to_numpy("float64")
        frames.append(pd.DataFrame({
            "lsoa_code": df["lsoa11_code"].astype(str).to_numpy(),
            "population": df["total_population"].to_numpy("float64"),
            "children_0_15": a[:, :16].sum(axis=1),
            "aged_16_59": a[:, 16:60].sum(axis=1),
            "older_60_plus": a[:, 60:].sum(axis=1),
            "working_age": a[:, 16:65].sum(axis=1),
            "year": year,
            "source": "ONS mid-year estimate (demographr)",
        }))
    out = pd.concat(frames, ignore_index=True)
    out.insert(1, "lsoa_vintage", 2011)
    c21 = read_census21_population(paths)
    out = pd.concat([out, c21.assign(lsoa_vintage=2021, year=2021,
                                     source="Census 2021 usual residents (demographr)")],
                    ignore_index=True)
    out["year"] = out["year"].astype("int16")
    out["lsoa_vintage"] = out["lsoa_vintage"].astype("int16")
    return out[["lsoa_code", "lsoa_vintage", "year", "population", "children_0_15",
                "older_60_plus", "working_age", "aged_16_59", "source"]]


CENSUS21_POPULATION = "ethnicity21_lsoa21"


def read_census21_population(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Census 2021 usual residents by LSOA 2021 (England), from demographr's ethnicity table."""
    path = _path(CENSUS21_POPULATION, paths)
    df = read_rda_frame(path, ["lsoa21_code", "total_residents"])
    df = df[df["lsoa21_code"].astype(str).str.startswith("E")]
    df = df.drop_duplicates(["lsoa21_code", "total_residents"])
    _check_codes(df, "lsoa21_code", path, config.ENGLAND_LSOAS[2021] if paths is None else None)
    return pd.DataFrame({"lsoa_code": df["lsoa21_code"].astype(str).to_numpy(),
                         "population": df["total_residents"].to_numpy("float64")})


# --------------------------------------------------------------------------- district summaries

STATISTICS: tuple[str, ...] = ("average_rank", "average_score", "proportion_most_deprived_10",
                               "extent", "local_concentration")
#: Statistics the IoD publishes for the IMD only (domains get the first three).
IMD_ONLY_STATISTICS = ("extent", "local_concentration")
SUMMARY_COLUMNS = ["release", "lad_code", "lad_name", "measure", "statistic", "value", "rank",
                   "n_districts", "source", "population_basis"]

#: Population column of ``lsoa_population`` weighting each measure (IoD technical reports:
#: employment by working-age people, IDACI by children, IDAOPI by older people).
MEASURE_POPULATION = {"employment": "working_age", "idaci": "children_0_15",
                      "idaopi": "older_60_plus"}

POPULATION_BASIS = {
    2004: "IoD2019 File 6 mid-2015 population (excl. prisoners) carried to 2001 LSOAs by the "
          "lookup weights (IOD-7); the IoD2004 denominators are not in the mirror",
    2007: "IoD2019 File 6 mid-2015 population (excl. prisoners) carried to 2001 LSOAs by the "
          "lookup weights (IOD-7); the IoD2007 denominators are not in the mirror",
    2010: "IoD2019 File 6 mid-2015 population (excl. prisoners) carried to 2001 LSOAs by the "
          "lookup weights (IOD-7); the IoD2010 denominators are not in the mirror",
    2015: "IoD2019 File 6 mid-2015 population (excl. prisoners); the IoD2015 denominators "
          "(mid-2012) are not in the mirror",
    2019: "IoD2019 File 6 mid-2015 population (excl. prisoners): the IoD2019 denominators",
    2025: "Census 2021 usual residents by LSOA 2021 (all ages, every measure); the IoD2025 "
          "denominators are not in the mirror",
}


def extent_weight(rank: np.ndarray, n: int) -> np.ndarray:
    """Extent weights by LSOA rank (1 = most deprived) among ``n`` LSOAs.

    Percentile p = ceil(rank x 100 / n). p <= 10: weight 1; p = 11..30: a sliding scale from
    0.95 (p = 11) down to 0.05 (p = 30); p > 30: 0 (IoD technical reports).
    """
    p = np.ceil(np.asarray(rank, dtype="float64") * 100 / n)
    w = np.where(p <= 10, 1.0, np.where(p <= 30, 0.95 - (p - 11) * 0.9 / 19, 0.0))
    return w


def _district_stats(lad: np.ndarray, n_lads: int, rank: np.ndarray, score: np.ndarray,
                    pop: np.ndarray, n_lsoas: int, statistics: Iterable[str]) -> dict:
    """The summary statistics as arrays indexed by district number (``lad`` = 0..n_lads-1)."""
    rank = rank.astype("float64")
    rr = n_lsoas + 1 - rank
    tot = np.bincount(lad, pop, n_lads)
    out: dict[str, np.ndarray] = {}
    wanted = list(statistics)
    if "average_rank" in wanted:
        out["average_rank"] = np.bincount(lad, pop * rr, n_lads) / tot
    if "average_score" in wanted and not np.isnan(score).any():
        out["average_score"] = np.bincount(lad, pop * score, n_lads) / tot
    if "proportion_most_deprived_10" in wanted:
        top = (np.ceil(rank * 10 / n_lsoas) <= 1).astype("float64")
        out["proportion_most_deprived_10"] = (np.bincount(lad, top, n_lads)
                                              / np.bincount(lad, None, n_lads))
    if "extent" in wanted:
        out["extent"] = np.bincount(lad, pop * extent_weight(rank, n_lsoas), n_lads) / tot
    if "local_concentration" in wanted:
        order = np.lexsort((rank, lad))
        lad_s, pop_s, rr_s = lad[order], pop[order], rr[order]
        cum = np.cumsum(pop_s)
        start = np.concatenate([[0], np.cumsum(np.bincount(lad_s, None, n_lads))[:-1]])
        before = cum - pop_s - np.concatenate([[0], cum])[start][lad_s]
        part = np.clip(0.1 * tot[lad_s] - before, 0, pop_s)
        out["local_concentration"] = (np.bincount(lad_s, part * rr_s, n_lads)
                                      / np.bincount(lad_s, part, n_lads))
    return out


def _rank_districts(values: np.ndarray) -> np.ndarray:
    """Rank among districts, 1 = highest value (most deprived); ties share the lowest rank."""
    return pd.Series(values).rank(ascending=False, method="min").to_numpy("int64")


def summarise_districts(lsoa: pd.DataFrame, n_lsoas: int,
                        statistics: Iterable[str] = STATISTICS) -> pd.DataFrame:
    """District summary measures from LSOA ranks, scores and populations.

    ``lsoa``: lad_code, lad_name, rank (1 = most deprived of ``n_lsoas``), score (may be NaN),
    population. Definitions (IoD technical reports): LSOA ranks are reversed so the most
    deprived has the highest (n + 1 - rank); average rank and average score are population-
    weighted means; proportion = share of the district's LSOAs in the most deprived 10%
    (ceil decile rule) - a count, not population-weighted; extent = population-weighted mean of
    ``extent_weight``; local concentration = population-weighted mean reversed rank of the
    district's most deprived LSOAs holding exactly 10% of its population (the LSOA crossing the
    10% line counts for the part needed). Each statistic is ranked among the districts with
    rank 1 = most deprived (highest value; ties share the lowest rank).
    Returns lad_code, lad_name, statistic, value, rank, n_districts.
    """
    pop = lsoa["population"].to_numpy("float64")
    if np.isnan(pop).any() or (pop < 0).any():
        raise DataError(None, "district summary: missing or negative LSOA population")
    lad, uniques = pd.factorize(lsoa["lad_code"], sort=True)
    names = lsoa.groupby("lad_code")["lad_name"].first().reindex(uniques).to_numpy()
    stats = _district_stats(lad, len(uniques), lsoa["rank"].to_numpy("float64"),
                            lsoa["score"].to_numpy("float64"), pop, n_lsoas, statistics)
    frames = [pd.DataFrame({"lad_code": np.asarray(uniques, dtype=object), "lad_name": names,
                            "statistic": stat, "value": v, "rank": _rank_districts(v),
                            "n_districts": len(uniques)}) for stat, v in stats.items()]
    return pd.concat(frames, ignore_index=True)


def _population_2001(pop11: pd.DataFrame, pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """LSOA 2011 populations (all columns) carried to 2001 LSOAs with the lookup's overlap
    populations: each 2001 LSOA gets, of every 2011 LSOA it overlaps, the overlap's share."""
    from . import lookups

    pairs = lookups.lookup(2001, 2011) if pairs is None else pairs
    p = pop11.set_index("lsoa_code")
    share = pairs["population"].to_numpy() / p["population"].reindex(pairs["to_code"]).to_numpy()
    cols = [c for c in ("population", "children_0_15", "older_60_plus", "working_age")
            if c in p.columns]
    parts = p[cols].reindex(pairs["to_code"]).to_numpy() * share[:, None]
    out = pd.DataFrame(parts, columns=cols)
    out["lsoa_code"] = pairs["from_code"].to_numpy()
    return out.groupby("lsoa_code", as_index=False)[cols].sum()


def release_populations(release: int, pop: pd.DataFrame | None = None,
                        pairs01: pd.DataFrame | None = None) -> pd.DataFrame:
    """The LSOA populations used to weight ``release``'s district summaries (see
    ``POPULATION_BASIS``): lsoa_code, population, children_0_15, older_60_plus, working_age."""
    pop = pd.read_parquet(POPULATION_FILE) if pop is None else pop
    f6 = pop[(pop["lsoa_vintage"] == 2011) & (pop["year"] == 2015)].drop(
        columns=["lsoa_vintage", "year", "source"])
    vintage = config.RELEASE_VINTAGE[release]
    if vintage == 2011:
        return f6.reset_index(drop=True)
    if vintage == 2001:
        return _population_2001(f6, pairs01)
    c21 = pop[(pop["lsoa_vintage"] == 2021) & (pop["year"] == 2021)]
    out = c21[["lsoa_code", "population"]].reset_index(drop=True)
    for c in ("children_0_15", "older_60_plus", "working_age"):
        out[c] = out["population"]
    return out


def computed_summaries(store: pd.DataFrame | None = None, pop: pd.DataFrame | None = None,
                       pairs01: pd.DataFrame | None = None) -> pd.DataFrame:
    """District summaries of every release and measure computed from the LSOA store."""
    store = load() if store is None else store
    pop = pd.read_parquet(POPULATION_FILE) if pop is None else pop
    frames = []
    releases = store["release"].to_numpy()
    lsoa_all, lsoa_uniques = pd.factorize(store["lsoa_code"])
    lad_all, lad_uniques_all = pd.factorize(store["lad_code"])
    lad_first = np.unique(lad_all, return_index=True)[1]
    lad_names_all = store["lad_name"].iloc[lad_first].to_numpy()
    measures_all, m_uniques = pd.factorize(store["measure"])
    rank_all = store["rank"].to_numpy("float64")
    score_all = store["score"].to_numpy("float64")
    for release in sorted(np.unique(releases)):
        release = int(release)
        sel = releases == release
        n = config.ENGLAND_LSOAS[config.RELEASE_VINTAGE[release]]
        rp = release_populations(release, pop, pairs01)
        codes = lsoa_all[sel]
        used = np.unique(codes)
        idx_u = pd.Index(rp["lsoa_code"]).get_indexer(lsoa_uniques[used])
        if (idx_u < 0).any():
            raise DataError(POPULATION_FILE, f"release {release}: LSOA(s) without a population, "
                                             f"e.g. {lsoa_uniques[used][int(np.argmax(idx_u < 0))]}")
        idx = np.full(len(lsoa_uniques), -1)
        idx[used] = idx_u
        pops = {c: rp[c].to_numpy("float64")[idx[codes]]
                for c in ("population", "children_0_15", "older_60_plus", "working_age")}
        lad_used, lad = np.unique(lad_all[sel], return_inverse=True)
        lad_uniques = np.asarray(lad_uniques_all[lad_used], dtype=object)
        names = lad_names_all[lad_used]
        measures, rank, score = measures_all[sel], rank_all[sel], score_all[sel]
        for mi in np.unique(measures):
            measure = m_uniques[mi]
            rows = measures == mi
            col = MEASURE_POPULATION.get(str(measure), "population")
            stats = STATISTICS if measure == "imd" else [
                s for s in STATISTICS if s not in IMD_ONLY_STATISTICS]
            res = _district_stats(lad[rows], len(lad_uniques), rank[rows], score[rows],
                                  pops[col][rows], n, stats)
            for stat, v in res.items():
                frames.append(pd.DataFrame({
                    "release": release, "lad_code": lad_uniques,
                    "lad_name": names, "measure": str(measure), "statistic": stat, "value": v,
                    "rank": _rank_districts(v), "n_districts": len(lad_uniques)}))
    out = pd.concat(frames, ignore_index=True)
    out["source"] = "computed"
    out["population_basis"] = out["release"].map(POPULATION_BASIS)
    return out[SUMMARY_COLUMNS]


# official tables -------------------------------------------------------------------

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
        _check_codes(df, code, path, None)
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
    _check_codes(df, "ltla24_code", path, None)
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


def official_summaries() -> pd.DataFrame:
    """Every official district summary in the mirror (2015, 2019 File 10, 2025)."""
    frames = [read_official_xlsx(2015), read_official_xlsx(2019), read_official_2025()]
    out = pd.concat(frames, ignore_index=True)
    out["source"] = "official"
    out["population_basis"] = out["release"].map({
        2015: "published IoD2015 district summaries (IoD2015 denominators)",
        2019: "published IoD2019 File 10 (IoD2019 File 6 denominators)",
        2025: "published IoD2025 district summaries (IMD R package ltla24 table)"})
    return out[SUMMARY_COLUMNS]


def build_la_summary(store: pd.DataFrame | None = None, pop: pd.DataFrame | None = None,
                     pairs01: pd.DataFrame | None = None,
                     official: pd.DataFrame | None = None) -> pd.DataFrame:
    """``la_summary.parquet``: computed summaries for every release plus the official ones."""
    official = official_summaries() if official is None else official
    out = pd.concat([computed_summaries(store, pop, pairs01), official], ignore_index=True)
    out["release"] = out["release"].astype("int16")
    out["rank"] = out["rank"].astype("int32")
    out["n_districts"] = out["n_districts"].astype("int16")
    return out.sort_values(["release", "source", "measure", "statistic", "lad_code"],
                           kind="stable").reset_index(drop=True)


def la_summary(releases: Iterable[int] | int | None = None, source: str | None = None,
               lad_codes: Iterable[str] | str | None = None) -> pd.DataFrame:
    """Rows of ``la_summary.parquet`` filtered by release, source and district."""
    if not LA_SUMMARY_FILE.exists():
        raise FileNotFoundError(f"{LA_SUMMARY_FILE} not built: run `evidence-pack prepare`")
    filters = []
    rel = _check_releases(releases)
    if rel is not None:
        filters.append(("release", "in", rel))
    if source is not None:
        filters.append(("source", "==", source))
    if lad_codes is not None:
        filters.append(("lad_code", "in", [lad_codes] if isinstance(lad_codes, str)
                        else list(lad_codes)))
    return pd.read_parquet(LA_SUMMARY_FILE, filters=filters or None)


# --------------------------------------------------------------------------- reading


def _check_releases(releases: Iterable[int] | None) -> list[int] | None:
    if releases is None:
        return None
    releases = [int(r) for r in ([releases] if isinstance(releases, int) else releases)]
    bad = [r for r in releases if r not in config.RELEASE_VINTAGE]
    if bad:
        raise DataError(IOD_FILE, f"unknown release(s) {bad}; known: {list(config.RELEASES)}")
    return releases


def load(releases: Iterable[int] | int | None = None, measures: Iterable[str] | str | None = None,
         lad_codes: Iterable[str] | str | None = None, path: Path | None = None) -> pd.DataFrame:
    """Rows of ``iod_lsoa.parquet`` (contract columns), filtered on read.

    ``lad_codes`` are districts of each release's own geography (Rotherham is E08000018 in
    every release; 2004/2007 districts abolished in 2009 keep their old codes, IOD-5).
    String columns come back as ``str``. Raises DataError for unknown releases or measures.
    """
    path = path or IOD_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} not built: run `evidence-pack prepare`")
    filters = []
    rel = _check_releases(releases)
    if rel is not None:
        filters.append(("release", "in", rel))
    if measures is not None:
        measures = [measures] if isinstance(measures, str) else list(measures)
        bad = [m for m in measures if m not in MEASURES]
        if bad:
            raise DataError(path, f"unknown measure(s) {bad}; known: {list(MEASURES)}")
        filters.append(("measure", "in", measures))
    if lad_codes is not None:
        lad_codes = [lad_codes] if isinstance(lad_codes, str) else list(lad_codes)
        filters.append(("lad_code", "in", lad_codes))
    return _read_decoded(path, filters, ["lsoa_code", "lad_code", "lad_name", "measure"])


def _read_decoded(path: Path, filters: list | None,
                  dictionary: list[str] | None = None) -> pd.DataFrame:
    """Read parquet with filters; string columns come back as ``str``. Columns in
    ``dictionary`` are read dictionary-encoded and decoded in Arrow (much faster for
    repetitive strings than materialising them from the file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path, filters=filters or None, read_dictionary=dictionary)
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    return table.to_pandas()


def wide(release: int, measures: Iterable[str] | None = None,
         values: tuple[str, ...] = ("score", "rank", "decile")) -> pd.DataFrame:
    """One row per LSOA of ``release``: lsoa_code, lad_code, lad_name and ``<measure>_<value>``."""
    df = load(releases=[release], measures=measures)
    idx = ["lsoa_code", "lsoa_vintage", "lad_code", "lad_name"]
    w = df.pivot(index=idx, columns="measure", values=list(values))
    w.columns = [f"{m}_{v}" for v, m in w.columns]
    order = [f"{m}_{v}" for m in MEASURES for v in values if f"{m}_{v}" in w.columns]
    return w[order].reset_index()


# --------------------------------------------------------------------------- prepare


def _inputs() -> list[Path]:
    ids = [s.dataset_id for srcs in SOURCES.values() for s in srcs]
    ids += [FILE9.dataset_id, FILE6.dataset_id, *LAD_FROM_LOOKUP.values()]
    ids += [d for d, _ in INDICATOR_SOURCES.values()] + list(POPULATION_SOURCES.values())
    ids += [CENSUS21_POPULATION]
    return [catalogue.entry(i).raw_path() for i in dict.fromkeys(ids)]


def _fresh(outputs: list[Path], inputs: list[Path]) -> bool:
    if not all(p.exists() for p in outputs):
        return False
    newest_in = max(p.stat().st_mtime for p in [*inputs, Path(__file__)] if p.exists())
    return min(p.stat().st_mtime for p in outputs) > newest_in


def write_store(df: pd.DataFrame, target: Path) -> Path:
    """Write the store atomically with categorical columns as plain strings, so any reader
    (``pd.read_parquet`` included) gets ``str`` columns as the contract says."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .io import atomic_path

    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    table = table.replace_schema_metadata(None)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return Path(target)


def _build_side_outputs(staging: Path
                        ) -> tuple[pd.DataFrame, dict[Path, pd.DataFrame], pd.DataFrame]:
    """Worker: write the populations into ``staging``; return them, the lookup frames (by
    final path) and the official district summaries."""
    from . import lookups

    pop = build_population()
    write_parquet(pop, staging / POPULATION_FILE.name)
    return pop, lookups.build_all(pop), official_summaries()


def prepare(force: bool = False) -> list[Path]:
    """Build the IoD store, indicators, populations, lookups and district summaries.

    A full rebuild writes every output into a staging folder and moves them into
    ``data/processed/`` only when all have been built: bad input leaves the old files.
    """
    import os
    import shutil
    import tempfile
    from concurrent.futures import ProcessPoolExecutor

    from . import lookups

    outputs = [IOD_FILE, INDICATORS_FILE, POPULATION_FILE]
    lookup_files = [lookups.LOOKUP_01_11, lookups.LOOKUP_11_21, lookups.GEOGRAPHY_FILE]
    if force or not _fresh(outputs, _inputs()):
        t0 = time.perf_counter()
        config.PROCESSED_DIR.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".iod-staging-", dir=config.PROCESSED_DIR))
        try:
            # Indicators, populations and lookups are built in a second process while this
            # one builds the store (two cores; reading the bzip2 R files is CPU-bound).
            with ProcessPoolExecutor(max_workers=1) as pool:
                side = pool.submit(_build_side_outputs, staging)
                store = build_store()
                write_store(store, staging / IOD_FILE.name)
                write_parquet(build_indicators(), staging / INDICATORS_FILE.name)
                pop, frames, official = side.result()
            for path, df in frames.items():
                write_parquet(df, staging / path.name)
            summary = build_la_summary(store, pop, frames[lookups.LOOKUP_01_11], official)
            write_parquet(summary, staging / LA_SUMMARY_FILE.name)
            for path in [*outputs, *lookup_files, LA_SUMMARY_FILE]:
                os.replace(staging / path.name, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        print(f"  iod: {len(store):,} LSOA rows, lookups, {len(summary):,} summary rows in "
              f"{time.perf_counter() - t0:.1f} s")
        return [*outputs, *lookup_files, LA_SUMMARY_FILE]
    written = outputs + lookups.prepare(force=force)
    summary_inputs = [*_inputs(), *written,
                      *(catalogue.entry(i).raw_path() for i in
                        (*OFFICIAL_XLSX.values(), "imd2025_england_ltla24"))]
    if not _fresh([LA_SUMMARY_FILE], summary_inputs):
        write_parquet(build_la_summary(), LA_SUMMARY_FILE)
    return [*written, LA_SUMMARY_FILE]
