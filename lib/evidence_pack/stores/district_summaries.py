"""District summaries of the IoD (``la_summary.parquet``): average rank, average score,
proportion of LSOAs in England's most deprived 10%, extent and local concentration, computed
for every release from the LSOA store and read from the official district tables (2015, 2019
File 10, 2025). Rank 1 = most deprived district. Caveats: docs/caveats/iod.md.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources.io import DataError
from evidence_pack.sources.iod_files import (
    read_official_2025,
    read_official_xlsx,
)
from evidence_pack.stores import lookups
from evidence_pack.stores.iod import POPULATION_FILE, check_releases, load

LA_SUMMARY_FILE = config.PROCESSED_DIR / "la_summary.parquet"


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
    rel = check_releases(releases)
    if rel is not None:
        filters.append(("release", "in", rel))
    if source is not None:
        filters.append(("source", "==", source))
    if lad_codes is not None:
        filters.append(("lad_code", "in", [lad_codes] if isinstance(lad_codes, str)
                        else list(lad_codes)))
    return pd.read_parquet(LA_SUMMARY_FILE, filters=filters or None)
