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

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError, atomic_path, read_rda_frame
from evidence_pack.sources.iod_files import (
    CENSUS21_POPULATION,
    COLUMNS,
    F9,
    FILE6,
    FILE9,
    IMD_WEIGHTS_2019,
    INDICATOR_SOURCES,
    LAD_FROM_LOOKUP,
    LEGACY_LAD_RELEASES,
    MEASURES,
    POPULATION_SOURCES,
    SOURCES,
    Source,
    check_codes,
    derive_decile,
    gss_for_legacy_districts,
    lads_from_lookup,
    raw_path,
    read_census21_population,
    read_file6,
    read_table,
)

IOD_FILE = config.PROCESSED_DIR / "iod_lsoa.parquet"
INDICATORS_FILE = config.PROCESSED_DIR / "iod_indicators.parquet"
POPULATION_FILE = config.PROCESSED_DIR / "lsoa_population.parquet"


# --------------------------------------------------------------------------- sources


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


def derive_imd2019_score(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """IMD 2019 score by LSOA 2011 = sum of File 9 transformed domain scores x the weights.

    File 9 scores are published to 3 decimals, so the derived score reproduces published
    ranks to within a place or two (ties after rounding); ranks are kept as published.
    """
    path = raw_path(FILE9.dataset_id, paths)
    cols = {m: f"{c} Score - exponentially transformed" for m, c in F9.items()}
    df = read_table(FILE9, path, cols.values())
    check_codes(df, FILE9.code_col, path, None)
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
        path = raw_path(src.dataset_id, paths)
        needed = [c for spec in src.measures.values() for c in spec if c]
        if src.lad_cols:
            needed += list(src.lad_cols)
        df = read_table(src, path, needed)
        check_codes(df, src.code_col, path, expected)
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
            raise DataError(raw_path(FILE9.dataset_id, paths), "LSOA(s) of IMD 2019 missing")
        _, rank, decile = arrays["imd"]
        arrays["imd"] = (imd["score"].to_numpy("float64")[where], rank, decile)
    if lads is None:
        lads = lads_from_lookup(release, paths)
        lk_path = raw_path(LAD_FROM_LOOKUP[release], paths)
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


def build_indicators(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """IoD2019/2025 underlying indicators, long: release, lsoa_code, lsoa_vintage, indicator, value."""
    frames = []
    for release, (dataset_id, code_col) in INDICATOR_SOURCES.items():
        path = raw_path(dataset_id, paths)
        df = read_rda_frame(path, [code_col])
        vintage = config.RELEASE_VINTAGE[release]
        check_codes(df, code_col, path, config.ENGLAND_LSOAS[vintage] if paths is None else None)
        long = df.melt(id_vars=[code_col], var_name="indicator", value_name="value")
        frames.append(pd.DataFrame({
            "release": np.int16(release), "lsoa_code": long[code_col].astype(str),
            "lsoa_vintage": np.int16(vintage), "indicator": long["indicator"].astype(str),
            "value": pd.to_numeric(long["value"], errors="coerce").astype("float64"),
        }))
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------- populations


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
        path = raw_path(dataset_id, paths)
        df = read_rda_frame(path, ["lsoa11_code", "total_population"])
        ages = [str(a) for a in range(90)] + ["90+"]
        missing = [a for a in ages if a not in df.columns]
        if missing:
            raise DataError(path, f"missing age column(s) {missing[:5]}")
        df = df[df["lsoa11_code"].astype(str).isin(england)]
        check_codes(df, "lsoa11_code", path, len(england) if paths is None else None)
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


# --------------------------------------------------------------------------- district summaries


# official tables -------------------------------------------------------------------


# --------------------------------------------------------------------------- reading


def check_releases(releases: Iterable[int] | None) -> list[int] | None:
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
    rel = check_releases(releases)
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


#: Frames read by ``_read_decoded`` in this process, keyed by the file's version and the
#: filters: every report of a build reads the same England-wide rows (~0.3-0.7 s a read);
#: each caller gets a copy (~0.05 s).
_READ: dict[tuple, pd.DataFrame] = {}
MAX_READS = 4


def _read_decoded(path: Path, filters: list | None,
                  dictionary: list[str] | None = None) -> pd.DataFrame:
    """Read parquet with filters; string columns come back as ``str``. Columns in
    ``dictionary`` are read dictionary-encoded and decoded in Arrow (much faster for
    repetitive strings than materialising them from the file). Once per process for the same
    file version (path, size, mtime) and filters; a copy each time."""
    st = Path(path).stat()
    key = (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, repr(filters), repr(dictionary))
    if key not in _READ:
        _READ[key] = _read_file(path, filters, dictionary)
        while len(_READ) > MAX_READS:
            _READ.pop(next(iter(_READ)))
    return _READ[key].copy()


def _read_file(path: Path, filters: list | None, dictionary: list[str] | None) -> pd.DataFrame:
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


def inputs() -> list[Path]:
    ids = [s.dataset_id for srcs in SOURCES.values() for s in srcs]
    ids += [FILE9.dataset_id, FILE6.dataset_id, *LAD_FROM_LOOKUP.values()]
    ids += [d for d, _ in INDICATOR_SOURCES.values()] + list(POPULATION_SOURCES.values())
    ids += [CENSUS21_POPULATION]
    return [catalogue.entry(i).raw_path() for i in dict.fromkeys(ids)]


def write_store(df: pd.DataFrame, target: Path) -> Path:
    """Write the store atomically with categorical columns as plain strings, so any reader
    (``pd.read_parquet`` included) gets ``str`` columns as the contract says."""
    import pyarrow as pa
    import pyarrow.parquet as pq


    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.string()))
    table = table.replace_schema_metadata(None)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return Path(target)


