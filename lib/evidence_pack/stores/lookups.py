"""LSOA crosswalks 2001 <-> 2011 <-> 2021 and ``carry()`` across vintages; the prepare stage
that also writes the LSOA geography (read and built in ``stores.lsoa_geography``).

Outputs in ``data/processed/`` (built by ``prepare``, called from ``iod.prepare``):

- ``lookup_lsoa01_lsoa11.parquet`` and ``lookup_lsoa11_lsoa21.parquet``: ``from_code``,
  ``to_code``, ``change`` (ONS flag: U unchanged, S split, M merged, X complex), ``weight``
  (share of the from-LSOA's population assigned to the to-LSOA; sums to 1 per from-LSOA),
  ``population`` (people in the from/to overlap: the basis of every weight), ``source``.
- ``lsoa_geography.parquet``: LSOA -> MSOA (with House of Commons Library names), ward,
  district, region and rural-urban class, for LSOA vintages 2001, 2011 and 2021.

How weights are set (docs/caveats/iod.md, IOD-7..IOD-10): each from/to pair gets an overlap
population; 2001 -> 2011: the 2011 LSOA's IoD2019 denominator (mid-2015) divided equally
among its 2001 parents; 2011 -> 2021: the 2011 LSOA's mid-2015 population shared among its
2021 children in proportion to their Census 2021 usual residents.

``carry`` moves LSOA values between vintages with one rule for every kind of change: the
value of a target LSOA is the overlap-population-weighted mean of its source LSOAs' values.
So a split LSOA's children inherit the parent's value, a merged LSOA takes the
population-weighted mean of its parents, and a complex (X) change mixes in proportion to the
people moved. ``how="most_deprived"`` instead takes the lowest (most deprived) value among
the sources; ``how="rerank"`` takes the weighted mean rank and re-ranks all of England on the
target geography (1..n), re-deriving deciles.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, read_rda_frame, write_parquet
from evidence_pack.stores import iod, lsoa_geography
from evidence_pack.stores.iod import derive_decile
from evidence_pack.stores.lsoa_geography import (  # noqa: F401  (re-exported: lookups.geography)
    GEOGRAPHY_COLUMNS,
    GEOGRAPHY_FILE,
    VINTAGES,
    _path,
    _rda,
    build_geography,
    district_lsoas,
    geography,
    lsoa_districts,
)

LOOKUP_01_11 = config.PROCESSED_DIR / "lookup_lsoa01_lsoa11.parquet"
LOOKUP_11_21 = config.PROCESSED_DIR / "lookup_lsoa11_lsoa21.parquet"
LOOKUP_COLUMNS = ["from_code", "to_code", "change", "weight", "population", "source"]

#: LSOA 2011 codes of England absent from the ONS LSOA 2001 -> 2011 lookup (220.csv and the
#: geographr copy list one 2011 LSOA per 2001 LSOA in complex changes). Each is added as a
#: child of the 2001 LSOAs in the same split/complex cluster (2001 LSOAs whose listed 2011
#: child has the same 2011 MSOA-level name, flag S or X), found by ``_missing_children``.
KNOWN_MISSING_LSOA11: tuple[str, ...] = ("E01032522", "E01032540", "E01032608", "E01033730")


# --------------------------------------------------------------------------- lookups


def read_ons_01_11(path: Path) -> pd.DataFrame:
    """ONS lookup 220 (LSOA 2001 -> LSOA 2011 -> LAD 2011), England rows only."""
    need = ["LSOA01CD", "LSOA11CD", "LSOA11NM", "CHGIND", "LAD11CD", "LAD11NM"]
    try:
        df = pd.read_csv(path, dtype=str)
    except Exception as exc:
        raise DataError(path, f"cannot be read as CSV ({exc})") from exc
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}")
    df = df[df["LSOA01CD"].str.startswith("E", na=False)]
    bad = ~df["CHGIND"].isin(["U", "S", "M", "X"])
    if bad.any():
        raise DataError(path, f"unknown change flag {df.loc[bad, 'CHGIND'].iloc[0]!r}",
                        row=int(df.index[bad][0]) + 2)
    if df.duplicated(["LSOA01CD", "LSOA11CD"]).any():
        raise DataError(path, "duplicate LSOA 2001 -> 2011 pair(s)")
    return df[need].reset_index(drop=True)


def _missing_children(ons: pd.DataFrame, all_lsoa11: pd.DataFrame) -> pd.DataFrame:
    """Rows (LSOA01CD, LSOA11CD, CHGIND) for 2011 LSOAs of England absent from the lookup.

    ``all_lsoa11`` has lsoa_code, lsoa_name of every 2011 LSOA. A missing LSOA's parents are
    the 2001 LSOAs flagged S or X whose 2011 children share its MSOA name ("Leeds 067").
    """
    missing = all_lsoa11[~all_lsoa11["lsoa_code"].isin(ons["LSOA11CD"])]
    rows = []
    msoa = ons["LSOA11NM"].str[:-1]
    for code, name in zip(missing["lsoa_code"], missing["lsoa_name"], strict=True):
        parents = ons.loc[(msoa == name[:-1]) & ons["CHGIND"].isin(["S", "X"]), "LSOA01CD"]
        if parents.empty:
            raise DataError(None, f"LSOA 2011 {code} ({name}) is not in the 2001 -> 2011 "
                                  "lookup and has no split/complex cluster to join")
        change = "X" if (ons.loc[ons["LSOA01CD"].isin(parents), "CHGIND"] == "X").any() else "S"
        rows += [{"LSOA01CD": p, "LSOA11CD": code, "CHGIND": change} for p in parents.unique()]
    return pd.DataFrame(rows, columns=["LSOA01CD", "LSOA11CD", "CHGIND"])


def england_lsoa11(paths: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Every LSOA 2011 of England (lsoa_code, lsoa_name, ltla21_code, ltla21_name), from
    geographr's LSOA 2011 -> district 2021 lookup."""
    df = _rda("lookup_lsoa11_ltla21", ["lsoa11_code", "lsoa11_name", "ltla21_code",
                                       "ltla21_name"], paths)
    df = df[df["lsoa11_code"].str.startswith("E")].rename(
        columns={"lsoa11_code": "lsoa_code", "lsoa11_name": "lsoa_name"})
    return df.reset_index(drop=True)


def _weights(pairs: pd.DataFrame) -> pd.DataFrame:
    """Add ``weight`` = overlap population / the from-LSOA's total (equal split if all 0)."""
    tot = pairs.groupby("from_code")["population"].transform("sum")
    n = pairs.groupby("from_code")["population"].transform("size")
    pairs["weight"] = np.where(tot > 0, pairs["population"] / tot.where(tot > 0, 1), 1 / n)
    return pairs


def build_01_11(paths: Mapping[str, Path] | None = None,
                lsoa11: pd.DataFrame | None = None,
                pop11: pd.Series | None = None) -> pd.DataFrame:
    """LSOA 2001 -> 2011 crosswalk (``LOOKUP_COLUMNS``), complete for England.

    ``lsoa11``: every 2011 LSOA (lsoa_code, lsoa_name) - default ``england_lsoa11()``;
    ``pop11``: population by 2011 LSOA - default IoD2019 File 6 (mid-2015).
    Overlap population = the 2011 LSOA's population / its number of 2001 parents.
    """

    path = _path("220", paths)
    ons = read_ons_01_11(path)
    if lsoa11 is None:
        lsoa11 = england_lsoa11(paths)
    if pop11 is None:
        pop11 = iod.read_file6(paths).set_index("lsoa_code")["population"]
    extra = _missing_children(ons, lsoa11)
    pairs = pd.concat([ons.assign(source="ONS lookup 220"),
                       extra.assign(source="added: missing from ONS lookup 220 (IOD-8)")],
                      ignore_index=True)
    pairs = pairs.rename(columns={"LSOA01CD": "from_code", "LSOA11CD": "to_code",
                                  "CHGIND": "change"})
    unknown = set(pairs["to_code"]) - set(pop11.index)
    if unknown:
        raise DataError(path, f"{len(unknown)} LSOA 2011 code(s) not in England's list, "
                              f"e.g. {sorted(unknown)[:3]}")
    n_par = pairs.groupby("to_code")["from_code"].transform("size")
    pairs["population"] = pairs["to_code"].map(pop11).to_numpy("float64") / n_par
    pairs = _weights(pairs)
    _check_complete(pairs, 2001, 2011, path)
    return pairs[LOOKUP_COLUMNS].sort_values(["from_code", "to_code"]).reset_index(drop=True)


def build_11_21(paths: Mapping[str, Path] | None = None, pop11: pd.Series | None = None,
                pop21: pd.Series | None = None) -> pd.DataFrame:
    """LSOA 2011 -> 2021 crosswalk from the ONS lookup (geographr copy), England rows.

    Overlap population = the 2011 LSOA's mid-2015 population x the 2021 child's share of
    Census 2021 usual residents among that 2011 LSOA's 2021 children.
    """

    path = _path("lookup_lsoa11_lsoa21_ltla22", paths)
    df = read_rda_frame(path, ["lsoa11_code", "lsoa21_code", "change_code"])
    df = df[df["lsoa11_code"].astype(str).str.startswith("E")]
    bad = ~df["change_code"].isin(["U", "S", "M", "X"])
    if bad.any():
        raise DataError(path, f"unknown change flag {df.loc[bad, 'change_code'].iloc[0]!r}")
    if df.duplicated(["lsoa11_code", "lsoa21_code"]).any():
        raise DataError(path, "duplicate LSOA 2011 -> 2021 pair(s)")
    pairs = pd.DataFrame({"from_code": df["lsoa11_code"].astype(str).to_numpy(),
                          "to_code": df["lsoa21_code"].astype(str).to_numpy(),
                          "change": df["change_code"].astype(str).to_numpy(),
                          "source": "ONS LSOA 2011 -> 2021 lookup (geographr)"})
    if pop11 is None:
        pop11 = iod.read_file6(paths).set_index("lsoa_code")["population"]
    if pop21 is None:
        pop21 = iod.read_census21_population(paths).set_index("lsoa_code")["population"]
    p21 = pairs["to_code"].map(pop21).fillna(0).to_numpy("float64")
    tot21 = pd.Series(p21).groupby(pairs["from_code"].to_numpy()).transform("sum").to_numpy()
    n = pairs.groupby("from_code")["to_code"].transform("size").to_numpy()
    share = np.where(tot21 > 0, p21 / np.where(tot21 > 0, tot21, 1), 1 / n)
    pairs["population"] = pairs["from_code"].map(pop11).to_numpy("float64") * share
    if pairs["population"].isna().any():
        miss = pairs.loc[pairs["population"].isna(), "from_code"].iloc[0]
        raise DataError(path, f"LSOA 2011 {miss} has no population")
    pairs = _weights(pairs)
    _check_complete(pairs, 2011, 2021, path)
    return pairs[LOOKUP_COLUMNS].sort_values(["from_code", "to_code"]).reset_index(drop=True)


def _check_complete(pairs: pd.DataFrame, a: int, b: int, path: Path | None) -> None:
    """Every LSOA of England of both vintages appears; weights sum to 1 per from-LSOA."""
    n_from, n_to = pairs["from_code"].nunique(), pairs["to_code"].nunique()
    if n_from != config.ENGLAND_LSOAS[a] or n_to != config.ENGLAND_LSOAS[b]:
        raise DataError(path, f"lookup {a}->{b} covers {n_from} and {n_to} LSOAs, expected "
                              f"{config.ENGLAND_LSOAS[a]} and {config.ENGLAND_LSOAS[b]}")
    s = pairs.groupby("from_code")["weight"].sum()
    if (s - 1).abs().max() > 1e-9:
        raise DataError(path, "weights do not sum to 1 per from-LSOA")


# --------------------------------------------------------------------------- reading


def lookup(from_vintage: int, to_vintage: int,
           frames: Mapping[Path, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Pairs (from_code, to_code, change, weight, population) between adjacent or any vintages.

    Reverse directions swap codes and recompute ``weight`` as the share of the (new) from-LSOA;
    2001 <-> 2021 composes the two steps through 2011 (overlap populations multiplied by
    the share of the middle LSOA going each way).
    """
    for v in (from_vintage, to_vintage):
        if v not in VINTAGES:
            raise DataError(None, f"unknown LSOA vintage {v!r}; known: {list(VINTAGES)}")
    if from_vintage == to_vintage:
        raise DataError(None, "from_vintage and to_vintage are the same")
    lo, hi = sorted((from_vintage, to_vintage))
    if (lo, hi) == (2001, 2021):
        a = lookup(2001, 2011, frames)
        b = lookup(2011, 2021, frames)
        m = a.merge(b[["from_code", "to_code", "weight", "change"]], left_on="to_code",
                    right_on="from_code", suffixes=("", "_b"))
        m["population"] = m["population"] * m["weight_b"]
        m["change"] = np.where((m["change"] == "U") & (m["change_b"] == "U"), "U", "X")
        pairs = m[["from_code", "to_code_b", "change", "population"]].rename(
            columns={"to_code_b": "to_code"})
        pairs = pairs.groupby(["from_code", "to_code"], as_index=False).agg(
            change=("change", "max"), population=("population", "sum"))
        pairs["source"] = "composed 2001->2011->2021"
        pairs = _weights(pairs)[LOOKUP_COLUMNS]
    else:
        f = LOOKUP_01_11 if lo == 2001 else LOOKUP_11_21
        if frames is not None and f in frames:
            pairs = frames[f].copy()
        elif not f.exists():
            raise FileNotFoundError(f"{f} not built: run `evidence-pack prepare`")
        else:
            pairs = pd.read_parquet(f)
    if from_vintage > to_vintage:
        pairs = pairs.rename(columns={"from_code": "to_code", "to_code": "from_code"})
        pairs["change"] = pairs["change"].map({"U": "U", "S": "M", "M": "S", "X": "X"})
        pairs = _weights(pairs)[LOOKUP_COLUMNS]
    return pairs


def carry(frame: pd.DataFrame, value_cols: Iterable[str], from_vintage: int, to_vintage: int,
          how: str = "mean", by: Iterable[str] = (), code_col: str = "lsoa_code",
          pairs: pd.DataFrame | None = None, complete: bool | None = None) -> pd.DataFrame:
    """Move LSOA values from one vintage's LSOAs to another's.

    ``how``: 'mean' - overlap-population-weighted mean of the source LSOAs' values (splits
    inherit, merges average); 'most_deprived' - the minimum of the sources' values (for ranks
    and deciles, 1 = most deprived); 'rerank' - columns named 'rank' or '<x>_rank' get the
    weighted mean rank re-ranked within each ``by`` group to 1..n on the target geography
    (n = LSOAs in England), columns named 'decile' or '<x>_decile' are re-derived from the
    matching rank, and any other column is carried as with 'mean'.
    ``by``: columns identifying separate series (e.g. release, measure) carried side by side.
    Returns ``by`` + ``code_col`` (target codes) + value columns + ``n_sources``.
    When the input holds every LSOA of England (``complete``, inferred when None), the
    output must hold every target LSOA exactly once per group (DataError otherwise).
    """
    value_cols, by = list(value_cols), list(by)
    if how not in ("mean", "most_deprived", "rerank"):
        raise ValueError(f"how must be 'mean', 'most_deprived' or 'rerank', not {how!r}")
    missing = [c for c in [code_col, *value_cols, *by] if c not in frame.columns]
    if missing:
        raise DataError(None, f"carry: missing column(s) {missing}")
    if frame.duplicated([*by, code_col]).any():
        dup = frame.loc[frame.duplicated([*by, code_col]), code_col].iloc[0]
        raise DataError(None, f"carry: duplicate LSOA code {dup!r}")
    if from_vintage == to_vintage:
        out = frame[[*by, code_col, *value_cols]].copy()
        out["n_sources"] = 1
        return out.reset_index(drop=True)
    pairs = lookup(from_vintage, to_vintage) if pairs is None else pairs
    known = set(pairs["from_code"])
    unknown = set(frame[code_col]) - known
    if unknown:
        raise DataError(None, f"carry: {len(unknown)} code(s) are not {from_vintage} LSOAs, "
                              f"e.g. {sorted(unknown)[:3]}")
    n_groups = frame.groupby(by).ngroups if by else 1
    if complete is None:
        complete = len(frame) == n_groups * len(known)
    m = frame[[*by, code_col, *value_cols]].merge(
        pairs[["from_code", "to_code", "population"]], left_on=code_col, right_on="from_code")
    keys = [*by, "to_code"]
    rank_cols = [c for c in value_cols if c == "rank" or c.endswith("_rank")]
    if how == "most_deprived":
        out = m.groupby(keys, as_index=False, sort=False).agg(
            **{c: (c, "min") for c in value_cols}, n_sources=("from_code", "size"))
    else:
        w = m["population"].to_numpy("float64")
        w = np.where(w > 0, w, 1e-9)  # zero-population overlaps still count, barely
        parts = {"_w": w}
        for c in value_cols:
            v = m[c].to_numpy("float64")
            ok = ~np.isnan(v)
            parts[f"_s_{c}"] = np.where(ok, v * w, 0.0)
            parts[f"_w_{c}"] = np.where(ok, w, 0.0)
        tmp = pd.concat([m[keys].reset_index(drop=True), pd.DataFrame(parts)], axis=1)
        g = tmp.groupby(keys, sort=False)
        agg = g.sum()
        out = pd.DataFrame(index=agg.index)
        for c in value_cols:
            den = agg[f"_w_{c}"]
            out[c] = (agg[f"_s_{c}"] / den.where(den > 0)).astype("float64")
        out["n_sources"] = g.size()
        out = out.reset_index()
    out = out.rename(columns={"to_code": code_col})
    if complete:
        n_to = pairs["to_code"].nunique()
        sizes = out.groupby(by).size() if by else pd.Series([len(out)])
        if (sizes != n_to).any() or out.duplicated([*by, code_col]).any():
            raise DataError(None, f"carry {from_vintage}->{to_vintage}: expected {n_to} LSOAs "
                                  f"per series, got {sorted(set(sizes))}")
    if how == "rerank":
        if not complete:
            raise DataError(None, "carry(how='rerank') needs every LSOA of England")
        n = config.ENGLAND_LSOAS[to_vintage]
        for c in rank_cols:
            out[c] = (out.groupby(by)[c] if by else out[c]).rank(method="first").astype("int64")
        for c in [c for c in value_cols if _is_decile(c)]:
            base = c[: -len("decile")] + "rank" if c != "decile" else "rank"
            if base not in out.columns:
                raise DataError(None, f"carry(how='rerank'): {c!r} needs a rank column {base!r}")

            out[c] = derive_decile(out[base], n, to_vintage).astype("int64")
    return out[[*by, code_col, *value_cols, "n_sources"]].reset_index(drop=True)


def _is_decile(col: str) -> bool:
    return col == "decile" or col.endswith("_decile")


def rank_change(release_a: int, release_b: int, measure: str = "imd",
                to_vintage: int | None = None) -> pd.DataFrame:
    """Change in rank and decile of each LSOA between two IoD releases on one geography.

    Each release's ranks are carried to ``to_vintage`` LSOAs (default: release_b's vintage)
    with ``carry(how='rerank')`` - a release already on that geography keeps its published
    ranks and deciles - then compared: ``rank_change`` = rank_b - rank_a (positive = less
    deprived relative to England), ``decile_change`` = decile_b - decile_a. Scores are not
    compared: they are not a time series (IOD-1).
    """

    to_vintage = to_vintage or config.RELEASE_VINTAGE.get(release_b)
    sides = []
    for tag, release in (("a", release_a), ("b", release_b)):
        df = iod.load(releases=[release], measures=[measure])
        if df.empty:
            raise DataError(iod.IOD_FILE, f"release {release} has no measure {measure!r}")
        v = config.RELEASE_VINTAGE[release]
        c = carry(df, ["rank", "decile"], v, to_vintage, how="rerank")
        sides.append(c[["lsoa_code", "rank", "decile"]].rename(
            columns={"rank": f"rank_{tag}", "decile": f"decile_{tag}"}))
    out = sides[0].merge(sides[1], on="lsoa_code", how="outer", validate="one_to_one")
    if out.isna().any().any() or len(out) != config.ENGLAND_LSOAS[to_vintage]:
        raise DataError(iod.IOD_FILE, "rank_change: releases do not cover the same LSOAs")
    out["rank_change"] = out["rank_b"] - out["rank_a"]
    out["decile_change"] = out["decile_b"] - out["decile_a"]
    out.insert(1, "lsoa_vintage", to_vintage)
    out.insert(2, "measure", measure)
    out.insert(3, "release_a", release_a)
    out.insert(4, "release_b", release_b)
    return out


# --------------------------------------------------------------------------- prepare


INPUT_IDS = ("220", "lookup_lsoa11_lsoa21_ltla22", "file_6_iod2019_population_denominators", "ethnicity21_lsoa21",
             "lookup_lsoa11_msoa11", "msoa_names_2011", "lookup_lsoa11_ward17",
             "cni2019_england_ward17", "lookup_lsoa11_ltla21", "lookup_ltla21_region21",
             "ruc11_lsoa11", "lookup_lsoa21_ward24_ltla24", "msoa_names_2021csv",
             "lookup_ltla24_region24", "ruc21_lsoa21")


def build_all(population: pd.DataFrame | None = None) -> dict[Path, pd.DataFrame]:
    """The three lookup outputs in memory, by target path. ``population`` is the
    ``lsoa_population`` frame when the caller has it (saves re-reading File 6 / Census)."""

    if population is not None:
        f6 = population[(population["lsoa_vintage"] == 2011) & (population["year"] == 2015)]
        c21 = population[(population["lsoa_vintage"] == 2021) & (population["year"] == 2021)]
        pop11 = f6.set_index("lsoa_code")["population"]
        pop21 = c21.set_index("lsoa_code")["population"]
    else:
        pop11 = iod.read_file6().set_index("lsoa_code")["population"]
        pop21 = None
    lsoa11 = england_lsoa11()
    a = build_01_11(lsoa11=lsoa11, pop11=pop11)
    b = build_11_21(pop11=pop11, pop21=pop21)
    return {LOOKUP_01_11: a, LOOKUP_11_21: b,
            GEOGRAPHY_FILE: build_geography(l0111=a, lsoa11=lsoa11)}


def prepare(force: bool = False, population: pd.DataFrame | None = None) -> list[Path]:
    """Build the two crosswalks and the LSOA geography (skipped when newer than inputs).
    Nothing is written unless all three build."""
    outputs = [LOOKUP_01_11, LOOKUP_11_21, GEOGRAPHY_FILE]
    inputs = ([catalogue.entry(i).raw_path() for i in INPUT_IDS]
              + [Path(__file__), Path(lsoa_geography.__file__)])
    if not force and is_fresh(outputs, inputs):
        return outputs
    t0 = time.perf_counter()
    frames = build_all(population)
    for path, df in frames.items():
        write_parquet(df, path)
    print(f"  lookups: {len(frames[LOOKUP_01_11]):,} + {len(frames[LOOKUP_11_21]):,} pairs, "
          f"geography in {time.perf_counter() - t0:.1f} s")
    return outputs


# --------------------------------------------------------------------------- LSOA -> district, crosswalk mass


def crosswalk_mass(from_vintage: int, to_vintage: int) -> pd.DataFrame:
    """Pairs of LSOAs across two vintages (a copy of the cached table); see cached_crosswalk."""
    return cached_crosswalk(from_vintage, to_vintage).copy()


@lru_cache(maxsize=6)
def cached_crosswalk(from_vintage: int, to_vintage: int) -> pd.DataFrame:
    """Pairs of LSOAs across two vintages with the people they share: from_code, to_code,
    mass (``lookups.lookup``'s overlap population; either direction, 2001<->2021 composed)."""
    if {from_vintage, to_vintage} - set(VINTAGES) or from_vintage == to_vintage:
        raise ValueError(f"bad vintages {from_vintage}->{to_vintage}")
    pairs = lookup(from_vintage, to_vintage)
    mass = pairs["population"].astype("float64").clip(lower=1e-9)
    return pd.DataFrame({"from_code": pairs["from_code"], "to_code": pairs["to_code"],
                         "mass": mass.to_numpy()})
