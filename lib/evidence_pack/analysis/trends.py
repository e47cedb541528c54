"""IMD trends 2004-2025 for a district and its target areas (logic behind ``imd_trends.ipynb``).

Conventions: ``rank`` 1 = most deprived (LSOAs in England, or districts among districts);
``decile`` 1 = the most deprived 10% of LSOAs in England. Because England had 32,482 LSOAs
(2001 geography: IoD 2004-2010), 32,844 (2011: IoD 2015-2019) and 33,755 (2021: IoD 2025),
ranks are compared across releases as a *national percentile*: ``pct = 100 x rank / N``
(0 = most deprived end, 100 = least deprived). District ranks are compared with the number
of districts in that release (354 in 2004-2007, 326 in 2010-2015, 317 in 2019, 296 in 2025).

Every function takes data frames (the ``iod_lsoa`` / ``la_summary`` contracts in
docs/design.md), so it can be tested on small fixtures; ``load_*`` helpers read the store.
Sentences about these tables are in ``findings.trends``; charts in ``charts.trends``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from evidence_pack import config
from evidence_pack.sources import table_cache
from evidence_pack.sources.io import DataError
from evidence_pack.stores import lookups

#: The seven IMD domains (supplementary indices and sub-domains excluded).
DOMAINS: tuple[str, ...] = (
    "income", "employment", "education", "health", "crime", "barriers", "living_environment",
)
DOMAIN_LABELS: dict[str, str] = {
    "imd": "Index of Multiple Deprivation",
    "income": "Income",
    "employment": "Employment",
    "education": "Education, skills and training",
    "health": "Health and disability",
    "crime": "Crime",
    "barriers": "Barriers to housing and services",
    "living_environment": "Living environment",
    "idaci": "Income deprivation affecting children",
    "idaopi": "Income deprivation affecting older people",
    "children_young_people": "Children and young people (education)",
    "adult_skills": "Adult skills (education)",
    "geographical_barriers": "Geographical barriers (barriers)",
    "wider_barriers": "Wider barriers (barriers)",
    "indoors": "Indoors living environment",
    "outdoors": "Outdoors living environment",
}

#: Statistics of ``la_summary`` in the order they are shown; the first is the headline.
STATISTICS: tuple[str, ...] = (
    "average_score", "average_rank", "extent", "local_concentration",
    "proportion_most_deprived_10",
)
STAT_LABELS: dict[str, str] = {
    "average_score": "Rank of average score",
    "average_rank": "Rank of average rank",
    "extent": "Rank of extent",
    "local_concentration": "Rank of local concentration",
    "proportion_most_deprived_10": "Rank of proportion of LSOAs in most deprived 10%",
}


# --------------------------------------------------------------------------- loading


def load_la_summary() -> pd.DataFrame | None:
    """``la_summary.parquet`` (the district summaries of the ``iod`` module), or None when it
    has not been built."""
    path = config.PROCESSED_DIR / "la_summary.parquet"
    return pd.read_parquet(path) if path.exists() else None


# --------------------------------------------------------------------------- helpers


def n_lsoas(release: int) -> int:
    """LSOAs in England for the geography of ``release``."""
    return config.ENGLAND_LSOAS[config.RELEASE_VINTAGE[int(release)]]


def national_pct(rank: pd.Series | np.ndarray, release: int) -> np.ndarray:
    """National percentile of LSOA ranks (0 = most deprived end of England, 100 = least)."""
    return 100.0 * np.asarray(rank, dtype=float) / n_lsoas(release)


def _need(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(what, f"missing column(s) {missing}")


def district_sets(iod: pd.DataFrame, la_code: str, la_name: str | None = None,
                  lsoas_by_vintage: Mapping[int, Iterable[str]] | None = None
                  ) -> dict[int, pd.DataFrame]:
    """{release: DataFrame[lsoa_code, weight=1]} for the district's LSOAs in each release.

    Matches ``lad_code`` (and ``lad_name`` as a fall-back for releases published with
    pre-2009 district codes). A release without the district (one created since) takes
    ``lsoas_by_vintage[vintage]`` (``lsoa_geography.district_lsoas``: the LSOAs it is
    built from; see :func:`built_from_lsoas`). Raises DataError when a release has none.
    """
    _need(iod, ["release", "lsoa_code", "lad_code"], "iod_lsoa")
    hit = iod["lad_code"] == la_code
    if la_name is not None and "lad_name" in iod.columns:
        hit |= iod["lad_name"] == la_name
    sub = iod.loc[hit, ["release", "lsoa_code"]].drop_duplicates()
    out = {int(r): g[["lsoa_code"]].assign(weight=1.0).reset_index(drop=True)
           for r, g in sub.groupby("release")}
    for r in sorted(iod["release"].unique()):
        if int(r) in out:
            continue
        codes = list((lsoas_by_vintage or {}).get(config.RELEASE_VINTAGE[int(r)], ()))
        have = set(iod.loc[iod["release"] == r, "lsoa_code"])
        codes = sorted(c for c in codes if c in have)
        if not codes:
            raise DataError("iod_lsoa", f"no LSOAs for district {la_code} in release {r}")
        out[int(r)] = pd.DataFrame({"lsoa_code": codes, "weight": 1.0})
    return out


def built_from_lsoas(iod: pd.DataFrame, la_code: str, la_name: str | None = None) -> list[int]:
    """Releases of ``iod`` that do not know the district (created since): its figures for
    them are built from its LSOAs by :func:`district_sets`."""
    hit = iod["lad_code"] == la_code
    if la_name is not None and "lad_name" in iod.columns:
        hit |= iod["lad_name"] == la_name
    have = set(iod.loc[hit, "release"].astype(int))
    return sorted(int(r) for r in iod["release"].unique() if int(r) not in have)


def member_sets(members_by_vintage: Mapping[int, pd.DataFrame], releases: Iterable[int]
                ) -> dict[int, pd.DataFrame]:
    """{release: DataFrame[lsoa_code, weight]} from area members per LSOA vintage.

    ``members_by_vintage`` maps 2001/2011/2021 to ``areas.members(...)`` output for one area
    (columns ``lsoa_code`` and ``weight``: the share of that LSOA counted in the area).
    """
    out = {}
    for r in releases:
        v = config.RELEASE_VINTAGE[int(r)]
        m = members_by_vintage[v]
        _need(m, ["lsoa_code", "weight"], f"members {v}")
        out[int(r)] = (m.groupby("lsoa_code", as_index=False)["weight"].sum())
    return out


class _Groups(dict):
    """{(release, measure): rows} of an IoD frame, split once (repeated filtering of the
    whole store is the slow part of every table here)."""


def _groups(iod: pd.DataFrame | _Groups) -> _Groups:
    if isinstance(iod, _Groups):
        return iod
    cols = ["score", "rank", "decile"]
    g = _Groups()
    seen: list[tuple[pa.ChunkedArray, pd.Index]] = []
    for key, sub in iod.groupby(["release", "measure"], sort=False, observed=True):
        # an index of plain strings: its hash table is built once and reused by every
        # lookup (an Arrow string index is converted again at each reindex, ~5 ms); the
        # measures of a release list the same LSOAs in the same order, so they share one
        # index (one conversion and one hash table a release, not one a measure)
        arrow = pa.array(sub["lsoa_code"].array, from_pandas=True)
        arrow = arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])
        codes = next((ix for a, ix in seen if a.type == arrow.type and a.equals(arrow)), None)
        if codes is None:
            codes = pd.Index(np.asarray(sub["lsoa_code"], dtype=object), name="lsoa_code")
            seen.append((arrow, codes))
        g[(int(key[0]), str(key[1]))] = sub[cols].set_axis(codes)
    return g


def _select(iod: pd.DataFrame | _Groups, release: int, lsoas: pd.DataFrame, measure: str
            ) -> pd.DataFrame:
    g = _groups(iod)
    sub = g.get((int(release), measure))
    if sub is None:
        sub = pd.DataFrame(columns=["score", "rank", "decile"], dtype=float)
    vals = sub.reindex(lsoas["lsoa_code"].to_numpy())
    out = lsoas.reset_index(drop=True).copy()
    for c in ("score", "rank", "decile"):
        out[c] = vals[c].to_numpy()
    if out["rank"].isna().any():
        missing = out.loc[out["rank"].isna(), "lsoa_code"].iloc[0]
        raise DataError("iod_lsoa", f"LSOA {missing} has no {measure} rank in release {release}")
    return out


def _wquantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Weighted quantile (weights = LSOA shares; equals numpy's 'inverted_cdf' for weight 1)."""
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cw = np.cumsum(w)
    return float(v[np.searchsorted(cw, q * cw[-1] - 1e-9)])


# --------------------------------------------------------------------------- district ranks


def district_ranks(la_summary: pd.DataFrame, la_code: str, measure: str = "imd",
                   la_name: str | None = None, releases: Iterable[int] | None = None
                   ) -> pd.DataFrame:
    """The district's rank among districts per release: one row per release, columns
    ``rank_<statistic>`` for each of ``STATISTICS`` present, ``n_districts``, ``source``,
    ``share_of_districts`` (rank of average score / n, 0-1; smaller = more deprived).

    Where a release has both an ``official`` and a ``computed`` figure, the official one wins.
    ``releases`` keeps only those releases.
    """
    _need(la_summary, ["release", "lad_code", "measure", "statistic", "rank", "n_districts",
                       "source"], "la_summary")
    hit = la_summary["lad_code"] == la_code
    if la_name is not None and "lad_name" in la_summary.columns:
        hit |= la_summary["lad_name"] == la_name
    sub = la_summary.loc[hit & (la_summary["measure"] == measure)].copy()
    if sub.empty:
        raise DataError("la_summary", f"no {measure} rows for district {la_code}")
    sub["_pref"] = (sub["source"] != "official").astype(int)
    sub = sub.sort_values(["release", "statistic", "_pref"]).drop_duplicates(
        ["release", "statistic"])
    wide = sub.pivot(index="release", columns="statistic", values="rank")
    wide = wide[[s for s in STATISTICS if s in wide.columns]]
    wide.columns = [f"rank_{c}" for c in wide.columns]
    head = sub.loc[sub["statistic"] == STATISTICS[0]].set_index("release")
    if head.empty:
        head = sub.drop_duplicates("release").set_index("release")
    out = wide.join(head[["n_districts", "source"]]).reset_index()
    for c in out.columns:
        if c.startswith("rank_") or c == "n_districts":
            out[c] = out[c].astype("Int64")
    if "rank_average_score" in out:
        out["share_of_districts"] = out["rank_average_score"] / out["n_districts"]
    if releases is not None:
        out = out[out["release"].isin([int(r) for r in releases])].reset_index(drop=True)
    return out


def compare_reported(ranks: pd.DataFrame, reported: Mapping[int, int],
                     districts_of: Mapping[int, int] | None = None) -> pd.DataFrame:
    """A reference document's district ranks (release -> rank of average score; the areas
    file's ``reference.district_ranks``, with ``districts_of`` where it states how many
    districts) beside the data's rank of average score."""
    rows = []
    for release, rank in sorted(reported.items()):
        n = (districts_of or {}).get(release)
        got = ranks.loc[ranks["release"] == release]
        data_rank = got["rank_average_score"].iloc[0] if len(got) else pd.NA
        data_n = got["n_districts"].iloc[0] if len(got) else pd.NA
        basis = got["source"].iloc[0] if len(got) else pd.NA
        rows.append({"release": release, "reported_rank": rank, "reported_of": n,
                     "data_rank": data_rank, "data_of": data_n, "basis": basis,
                     "difference": (int(data_rank) - rank) if len(got) else pd.NA,
                     "agrees": bool(len(got)) and int(data_rank) == rank
                     and (n is None or int(data_n) == n)})
    return pd.DataFrame(rows)


def rank_direction(ranks: pd.DataFrame, col: str = "rank_average_score") -> list[str]:
    """Plain words for each release-to-release move of a district rank."""
    out = []
    prev = None
    for r in ranks.itertuples():
        rank, n = getattr(r, col), r.n_districts
        if prev is not None and pd.notna(rank) and pd.notna(prev[1]):
            word = ("more deprived" if rank < prev[1] else "less deprived" if rank > prev[1]
                    else "unchanged")
            out.append(f"{prev[0]} -> {r.release}: {prev[1]} -> {rank} of {n} ({word} "
                       "relative to other districts)")
        prev = (r.release, rank)
    return out


# --------------------------------------------------------------------------- decile 1 counts


def decile_counts(iod: pd.DataFrame, sets: Mapping[int, pd.DataFrame], measure: str = "imd"
                  ) -> pd.DataFrame:
    """Per release: LSOAs (weighted), LSOAs in England's most deprived 10% and 20%, shares,
    the median national percentile and the most deprived LSOA's national rank."""
    if not isinstance(iod, _Groups):
        _need(iod, ["release", "lsoa_code", "measure", "rank", "decile"], "iod_lsoa")
    iod = _groups(iod)
    rows = []
    for release, lsoas in sorted(sets.items()):
        d = _select(iod, release, lsoas, measure)
        w = d["weight"].to_numpy(float)
        pct = national_pct(d["rank"], release)
        rows.append({
            "release": release, "lsoas": w.sum(),
            "decile1": float((w * (d["decile"] == 1)).sum()),
            "decile1_2": float((w * (d["decile"] <= 2)).sum()),
            "median_pct": _wquantile(pct, w, 0.5),
            "most_deprived_rank": int(d["rank"].min()),
            "england_lsoas": n_lsoas(release),
        })
    out = pd.DataFrame(rows)
    out["share_decile1"] = out["decile1"] / out["lsoas"]
    out["share_decile1_2"] = out["decile1_2"] / out["lsoas"]
    return out


# --------------------------------------------------------------------------- domains


def domain_profile(iod: pd.DataFrame, sets: Mapping[int, pd.DataFrame],
                   measures: Iterable[str] = DOMAINS) -> pd.DataFrame:
    """Per release x domain: share of the LSOAs in England's most deprived 10% on that domain,
    and the median national percentile (low = more deprived). Domains a release lacks are
    left out."""
    rows = []
    iod = _groups(iod)
    for release, lsoas in sorted(sets.items()):
        have = {m for (r, m) in iod if r == int(release)}
        for m in measures:
            if m not in have:
                continue
            d = _select(iod, release, lsoas, m)
            w = d["weight"].to_numpy(float)
            rows.append({"release": release, "measure": m,
                         "share_decile1": float((w * (d["decile"] == 1)).sum() / w.sum()),
                         "median_pct": _wquantile(national_pct(d["rank"], release), w, 0.5)})
    return pd.DataFrame(rows, columns=["release", "measure", "share_decile1", "median_pct"])


def domain_ranks(la_summary: pd.DataFrame, la_code: str, la_name: str | None = None,
                 statistic: str = "average_score", measures: Iterable[str] = DOMAINS
                 ) -> pd.DataFrame:
    """District rank among districts on each domain per release (wide: release x measure)."""
    hit = la_summary["lad_code"] == la_code
    if la_name is not None and "lad_name" in la_summary.columns:
        hit |= la_summary["lad_name"] == la_name
    sub = la_summary.loc[hit & la_summary["measure"].isin(list(measures))
                         & (la_summary["statistic"] == statistic)].copy()
    if sub.empty:
        return pd.DataFrame(columns=["release", *measures])
    sub["_pref"] = (sub["source"] != "official").astype(int)
    sub = sub.sort_values(["release", "measure", "_pref"]).drop_duplicates(["release", "measure"])
    wide = sub.pivot(index="release", columns="measure", values="rank")
    return wide[[m for m in measures if m in wide.columns]].astype("Int64").reset_index()


def complete_releases(profile: pd.DataFrame, measures: Iterable[str] = DOMAINS) -> list[int]:
    """Releases of a ``domain_profile`` that hold every one of ``measures``."""
    need = set(measures)
    have = profile.groupby("release")["measure"].agg(set)
    return [int(r) for r, m in have.items() if need <= m]


def worst_domains(profile: pd.DataFrame, release: int, n: int = 3) -> list[str]:
    """The ``n`` domains with the highest share of LSOAs in the most deprived 10% in
    ``release`` (ties broken by the lower median national percentile)."""
    sub = profile.loc[profile["release"] == release]
    sub = sub.sort_values(["share_decile1", "median_pct"], ascending=[False, True])
    return sub["measure"].head(n).tolist()


# --------------------------------------------------------------------------- the gap


def gap(iod: pd.DataFrame, sets: Mapping[int, pd.DataFrame], low: float = 0.1,
        high: float = 0.9, measure: str = "imd") -> pd.DataFrame:
    """The spread between the most and least deprived LSOAs of a set, per release.

    ``pct_low``/``pct_high``: national percentile of the LSOA at the ``low``/``high`` quantile
    of the set (``pct_low`` is the more deprived end); ``pct_spread`` = high - low in
    percentile points. ``score_most``/``score_least``: IMD scores at the most deprived
    (quantile ``high`` of scores) and least deprived (``low``) ends; ``score_gap`` = their
    difference. ``widened`` compares each gap with the previous release (None for the first).
    """
    rows = []
    iod = _groups(iod)
    for release, lsoas in sorted(sets.items()):
        d = _select(iod, release, lsoas, measure)
        w = d["weight"].to_numpy(float)
        pct = national_pct(d["rank"], release)
        row = {"release": release, "pct_low": _wquantile(pct, w, low),
               "pct_high": _wquantile(pct, w, high)}
        sc = d["score"].to_numpy(float)
        ok = ~np.isnan(sc)
        if ok.any():
            row["score_most"] = _wquantile(sc[ok], w[ok], high)
            row["score_least"] = _wquantile(sc[ok], w[ok], low)
        rows.append(row)
    out = pd.DataFrame(rows)
    out["pct_spread"] = out["pct_high"] - out["pct_low"]
    if "score_most" in out:
        out["score_gap"] = out["score_most"] - out["score_least"]
    else:
        out["score_gap"] = np.nan
    for col, name in (("pct_spread", "spread_widened"), ("score_gap", "score_gap_widened")):
        prev = out[col].shift()
        out[name] = [None if (pd.isna(p) or pd.isna(c)) else bool(c > p)
                     for p, c in zip(prev, out[col], strict=True)]
    return out


def change_by_group(iod: pd.DataFrame, lsoas: pd.DataFrame, base: int, later: int,
                    groups: int = 5, measure: str = "imd") -> pd.DataFrame:
    """IMD score change between two releases on the same LSOA geography, by the set's
    deprivation fifths at ``base`` (group 1 = the most deprived fifth of the set).

    Shows whether a rise in deprivation was concentrated in the most deprived areas.
    """
    if config.RELEASE_VINTAGE[base] != config.RELEASE_VINTAGE[later]:
        raise ValueError(f"{base} and {later} use different LSOA geographies")
    a = _select(iod, base, lsoas, measure)
    b = _select(iod, later, lsoas, measure)
    d = a.merge(b[["lsoa_code", "score", "rank"]], on="lsoa_code", suffixes=("_base", "_later"))
    d["group"] = pd.qcut(d["rank_base"].rank(method="first"), groups, labels=False) + 1
    d["pct_change"] = (national_pct(d["rank_later"], later) - national_pct(d["rank_base"], base))
    out = d.groupby("group").agg(lsoas=("lsoa_code", "size"), score_base=("score_base", "mean"),
                                 score_later=("score_later", "mean"),
                                 pct_change=("pct_change", "mean")).reset_index()
    out["score_change"] = out["score_later"] - out["score_base"]
    return out


# --------------------------------------------------------------------------- areas over time


def target_area_sets(area_set, members: Mapping[int, pd.DataFrame], releases: Iterable[int],
                     slugs: Iterable[str] | None = None) -> dict[str, dict[int, pd.DataFrame]]:
    """{area name: ``member_sets``} for every target area in the areas file's order, or only
    ``slugs`` (an area's report needs its own: the others cost ~0.1 s each, for nothing).
    ``members``: ``areas.members(area_set, vintage)`` for each LSOA vintage."""
    keep = None if slugs is None else set(slugs)
    releases = list(releases)
    return {a.name: member_sets({v: m[m["slug"] == a.slug] for v, m in members.items()}, releases)
            for a in area_set.areas if keep is None or a.slug in keep}


def area_trend(iod: pd.DataFrame, area_sets: Mapping[str, Mapping[int, pd.DataFrame]],
               measure: str = "imd") -> pd.DataFrame:
    """Long table: area x release with LSOAs, decile-1 LSOAs, share and median percentile.

    ``area_sets`` maps an area name to ``{release: members}`` (see ``member_sets``).
    """
    parts = []
    iod = _groups(iod)
    for name, sets in area_sets.items():
        t = decile_counts(iod, sets, measure)
        t.insert(0, "area", name)
        parts.append(t)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


@table_cache.memo  # one release's England ranks: the same for every report (~0.1 s each)
def _rerank(frame: pd.DataFrame, value_cols: list[str], from_vintage: int, to_vintage: int,
            how: str) -> pd.DataFrame:
    """``lookups.carry`` of a whole release, computed once per kernel."""
    return lookups.carry(frame, value_cols, from_vintage, to_vintage, how=how)


def carried_ranks(iod: pd.DataFrame, releases: Iterable[int], to_vintage: int = 2021,
                  measure: str = "imd", carry=None) -> pd.DataFrame:
    """Every release's LSOA ranks and deciles carried to one LSOA geography.

    Uses ``lookups.carry(how="rerank")`` (population-weighted mean rank of the source LSOAs,
    re-ranked 1..n over England's LSOAs of ``to_vintage``, deciles re-derived); a release
    already on ``to_vintage`` keeps its published ranks. ``iod`` must hold every English LSOA
    of each release for ``measure``. Returns release, lsoa_code, rank, decile, pct.
    """
    if carry is None:
        carry = _rerank
    parts = []
    for r in releases:
        sub = iod.loc[(iod["release"] == r) & (iod["measure"] == measure),
                      ["lsoa_code", "rank", "decile"]]
        if sub.empty:
            raise DataError("iod_lsoa", f"release {r} has no {measure} rows")
        c = carry(sub, ["rank", "decile"], config.RELEASE_VINTAGE[int(r)], to_vintage,
                  how="rerank")
        parts.append(c[["lsoa_code", "rank", "decile"]].assign(release=int(r)))
    out = pd.concat(parts, ignore_index=True)
    out["pct"] = 100.0 * out["rank"] / config.ENGLAND_LSOAS[to_vintage]
    return out[["release", "lsoa_code", "rank", "decile", "pct"]]


def lsoa_changes(carried: pd.DataFrame, lsoas: Iterable[str], first: int, last: int
                 ) -> pd.DataFrame:
    """For LSOAs on one geography: rank and decile in ``first`` and ``last`` and the change
    (positive rank change = less deprived relative to the rest of England)."""
    lsoas = list(lsoas)
    sub = carried.loc[carried["lsoa_code"].isin(lsoas) & carried["release"].isin([first, last])]
    w = sub.pivot(index="lsoa_code", columns="release", values=["rank", "decile"])
    out = pd.DataFrame({
        "lsoa_code": w.index,
        f"rank_{first}": w[("rank", first)].to_numpy(), f"rank_{last}": w[("rank", last)].to_numpy(),
        f"decile_{first}": w[("decile", first)].to_numpy(),
        f"decile_{last}": w[("decile", last)].to_numpy(),
    })
    out["rank_change"] = out[f"rank_{last}"] - out[f"rank_{first}"]
    out["decile_change"] = out[f"decile_{last}"] - out[f"decile_{first}"]
    return out.reset_index(drop=True)


def split(iod: pd.DataFrame) -> _Groups:
    """Split an IoD frame by (release, measure) once; pass the result instead of the frame to
    ``decile_counts``, ``domain_profile``, ``gap``, ``change_by_group`` and ``area_trend`` when
    calling several of them (saves re-filtering the whole store each time)."""
    return _groups(iod)
