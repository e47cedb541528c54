"""Evaluation (issue 7): did Rotherham's 2011 target areas do better than similar places?

The design, in one paragraph. The unit is the LSOA on its **2001** boundaries (the geography
of IMD 2010, on which the Cabinet chose its 11 areas in November 2011). Every IoD release is
put on that geography: 2004-2010 are published on it; 2015 and 2019 (LSOA 2011) and 2025
(LSOA 2021) are carried back to it with the ONS best-fit lookups (a 2001 LSOA takes the
weighted mean of the later LSOAs it became, weights = share of it that went to each), so no
LSOA is lost (counts asserted). Ranks are put on a common scale as **England percentiles**
(``100 * rank / number of LSOAs ranked``: 1 = most deprived 1% of England, higher = less
deprived), because England had 32,482, 32,844 and 33,755 LSOAs in the three geographies.
Each target LSOA gets ``k`` comparison LSOAs elsewhere in England (not in the treated
district) by nearest neighbours on standardised 2010 percentiles (IMD and its seven
domains) and the 2004->2010 IMD change, with an exact match on rural-urban class, with
replacement and a caliper. The difference-in-differences is the mean over target LSOAs of
(its change since 2010) minus (the mean change of its comparison set), in percentile points
of England; positive = the target LSOA moved further away from the most deprived end than
its comparators did. Intervals come from a bootstrap that resamples target LSOAs (or whole
areas, for all areas together) and, inside each, its comparison set.

This is an observational comparison, not an experiment (see docs/caveats/evaluation.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import areas
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, write_parquet, write_text
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


# --------------------------------------------------------------------------- the panel


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


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MatchSpec:
    """How comparison LSOAs are chosen (documented in the notebook and the caveats).

    ``weights``: relative weight of each standardised variable in the distance (the overall
    IMD 2010 position and the 2004->2010 trend count twice as much as each domain).
    ``caliper``: largest allowed distance, as the root-mean-square of the weighted
    standardised differences (in England standard deviations). A target LSOA with no
    candidate inside the caliper keeps its single nearest one, flagged ``outside_caliper``.
    """

    k: int = 5
    caliper: float = 0.2
    exact: tuple[str, ...] = ("ruc",)
    weights: Mapping[str, float] = field(default_factory=lambda: {
        "imd_2010": 2.0, "imd_trend_2004_2010": 2.0,
        **{col(d, BASE): 1.0 for d in DOMAINS}})

    def as_text(self) -> str:
        label = {"imd_2010": "IMD 2010 position", "imd_trend_2004_2010": "IMD change 2004-2010",
                 **{col(d, BASE): f"{MEASURE_LABELS[d].lower()} 2010" for d in DOMAINS}}
        exact = {"ruc": "rural-urban class"}
        names = ", ".join(f"{label.get(v, v)} (weight {w:g})" for v, w in self.weights.items())
        return (f"up to {self.k} nearest neighbours per target LSOA, with replacement, same "
                f"{', '.join(exact.get(e, e) for e in self.exact)}, within a distance of "
                f"{self.caliper:g} England standard deviations (root-mean-square over the "
                f"variables); variables: {names}")


def covariates(panel: pd.DataFrame) -> pd.DataFrame:
    """Matching variables from the panel: 2010 percentiles and the 2004->2010 IMD change."""
    cov = pd.DataFrame(index=panel.index)
    for m in MEASURES:
        if col(m, BASE) in panel:
            cov[col(m, BASE)] = panel[col(m, BASE)]
    cov["imd_trend_2004_2010"] = panel[col("imd", BASE)] - panel[col("imd", 2004)]
    return cov


def match(units: pd.DataFrame, treated: Sequence[str], exclude_lad: str | Iterable[str],
          spec: MatchSpec = MatchSpec()) -> pd.DataFrame:
    """Nearest-neighbour matches for each treated LSOA.

    ``units``: one row per LSOA (index = code) with the spec's variables, the exact-match
    columns and ``lad_code``. Candidates are all LSOAs outside ``exclude_lad`` with complete
    variables. Variables are standardised by their England standard deviation.
    Returns rows (treated, control, distance, rank, outside_caliper).
    """
    from scipy.spatial import cKDTree

    variables = [v for v in spec.weights if v in units.columns]
    if not variables:
        raise ValueError("no matching variables present in units")
    excl = {exclude_lad} if isinstance(exclude_lad, str) else set(exclude_lad)
    treated = [t for t in treated]
    data = units[variables].astype(float)
    sd = data.std(ddof=0).replace(0, 1.0)
    w = np.array([spec.weights[v] for v in variables], dtype=float)
    scale = np.sqrt(w / w.sum()) / sd.to_numpy()
    z = data.to_numpy() * scale
    complete = ~np.isnan(z).any(axis=1)
    index = pd.Index(units.index.to_numpy(dtype=object))
    tpos = index.get_indexer(np.asarray(treated, dtype=object))
    if (tpos < 0).any():
        missing = [t for t, p in zip(treated, tpos, strict=True) if p < 0]
        raise DataError("evaluation units", f"treated LSOA(s) not in the panel: {missing[:5]}")
    lad = units["lad_code"].to_numpy(dtype=object)
    is_treated = np.zeros(len(units), dtype=bool)
    is_treated[tpos] = True
    pool_mask = complete & ~np.isin(lad, np.array(sorted(excl), dtype=object)) & ~is_treated
    exact = list(spec.exact) if spec.exact else []
    keys = np.full(len(units), "all", dtype=object)
    for e in exact:
        keys = keys + "|" + units[e].astype(str).to_numpy(dtype=object)
    rows = []
    for key in pd.unique(keys[tpos]):
        tidx = tpos[keys[tpos] == key]
        cand = np.flatnonzero(pool_mask & (keys == key))
        bad = ~complete[tidx]
        if bad.any():
            raise DataError("evaluation units", "treated LSOA(s) lack matching variables: "
                            f"{list(units.index[tidx[bad]])}")
        if len(cand) == 0:
            raise DataError("evaluation units", f"no candidate LSOAs with {exact} = {key[4:]}")
        k = min(spec.k, len(cand))
        dist, idx = cKDTree(z[cand]).query(z[tidx], k=k)
        dist, idx = dist.reshape(len(tidx), k), idx.reshape(len(tidx), k)
        for i, t in enumerate(tidx):
            keep = dist[i] <= spec.caliper
            outside = not keep.any()
            if outside:
                keep = np.zeros(k, dtype=bool)
                keep[0] = True
            for r, (d, j) in enumerate(zip(dist[i][keep], idx[i][keep], strict=True), start=1):
                rows.append((units.index[t], units.index[cand[j]], float(d), r, outside))
    return pd.DataFrame(rows, columns=["treated", "control", "distance", "rank",
                                       "outside_caliper"])


def smd(a: np.ndarray, b: np.ndarray, wb: np.ndarray | None = None,
        sd_pooled: float | None = None) -> float:
    """Standardised mean difference (a - b) / pooled SD; ``wb`` weights the b group."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    wb = np.ones(len(b)) if wb is None else np.asarray(wb, float)
    mb = np.average(b, weights=wb)
    if sd_pooled is None:
        vb = np.average((b - mb) ** 2, weights=wb)
        sd_pooled = float(np.sqrt((a.var() + vb) / 2))
    return float((a.mean() - mb) / sd_pooled) if sd_pooled > 0 else 0.0


def balance(units: pd.DataFrame, matches: pd.DataFrame, variables: Sequence[str],
            exclude_lad: str | Iterable[str]) -> pd.DataFrame:
    """Balance table: means and standardised mean differences before and after matching.

    Before = treated vs every candidate LSOA in England (outside the treated district);
    after = treated vs matched comparators, each comparison set weighted 1/size so each
    treated LSOA counts once. Both SMDs use the same (before) pooled SD.
    """
    excl = {exclude_lad} if isinstance(exclude_lad, str) else set(exclude_lad)
    treated = matches["treated"].unique()
    pool = units[~units["lad_code"].isin(excl) & ~units.index.isin(treated)]
    w = 1.0 / matches.groupby("treated")["control"].transform("count")
    rows = []
    for v in variables:
        t = units.loc[treated, v].to_numpy(float)
        p = pool[v].dropna().to_numpy(float)
        c = units.loc[matches["control"], v].to_numpy(float)
        sd = float(np.sqrt((t.var() + p.var()) / 2))
        rows.append({
            "variable": v, "mean_treated": t.mean(), "mean_england_pool": p.mean(),
            "smd_before": smd(t, p, sd_pooled=sd),
            "mean_matched": float(np.average(c, weights=w)),
            "smd_after": smd(t, c, wb=w.to_numpy(), sd_pooled=sd),
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- estimates


def bootstrap_draws(n_c: np.ndarray, clusters: np.ndarray, n_boot: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Resampling draws shared by every measure and release of one estimate.

    Returns ``weights`` (n_boot, n): how many times each treated row is drawn when whole
    clusters are resampled with replacement (a row per cluster = LSOA resampling), and
    ``cols`` (n_boot, n, kmax): for each row, its comparison set resampled with replacement
    (indices into the row's ``n_c`` comparators).
    """
    ids, inv = np.unique(clusters, return_inverse=True)
    g = len(ids)
    counts = rng.multinomial(g, np.full(g, 1.0 / g), size=n_boot)  # (B, g)
    weights = counts[:, inv].astype(float)
    kmax = int(n_c.max())
    cols = (rng.random((n_boot, len(n_c), kmax)) * n_c[None, :, None]).astype(int)
    return weights, cols


def _did_replicates(d_t: np.ndarray, d_c: np.ndarray, weights: np.ndarray,
                    cols: np.ndarray) -> np.ndarray:
    """Bootstrap replicates of mean_i(d_t - mean of resampled comparators), (n_boot,)."""
    n = len(d_t)
    cmean = d_c[np.arange(n)[None, :, None], cols].mean(axis=2)  # (B, n)
    return ((d_t[None, :] - cmean) * weights).sum(axis=1) / weights.sum(axis=1)


def did(panel: pd.DataFrame, matches: pd.DataFrame, groups: pd.Series,
        measures: Sequence[str] = MEASURES, releases: Sequence[int] = (*PRE, *POST),
        n_boot: int = 999, seed: int = 20110, cluster: str = "lsoa",
        group_name: str | None = None) -> pd.DataFrame:
    """Difference-in-differences in England percentile points, relative to 2010.

    ``groups``: treated LSOA -> area (slug). For each release t and measure, the estimate is
    mean_i[(y_i,t - y_i,2010) - mean_j in M(i) (y_j,t - y_j,2010)]. For t before 2010 the
    same formula gives the pre-period gap (0 = parallel before targeting). ``cluster`` =
    "lsoa" resamples treated LSOAs, "area" resamples whole areas; both resample each
    comparison set. Returns group, measure, release, estimate, ci_low, ci_high (95%),
    n_treated, n_comparators, mean changes, cluster.
    """
    rng = np.random.default_rng(seed)
    treated = list(groups.index)
    m = matches[matches["treated"].isin(treated)]
    sizes = m.groupby("treated")["control"].count().reindex(treated)
    kmax = int(sizes.max())
    ctrl = np.full((len(treated), kmax), "", dtype=object)
    order = {t: i for i, t in enumerate(treated)}
    for t, sub in m.groupby("treated"):
        ctrl[order[t], :len(sub)] = sub.sort_values("rank")["control"].to_numpy()
    n_c = sizes.to_numpy(int)
    clusters = (pd.factorize(groups.to_numpy())[0] if cluster == "area"
                else np.arange(len(treated)))
    weights, cols = bootstrap_draws(n_c, clusters, n_boot, rng)
    rows = []
    for meas in measures:
        if col(meas, BASE) not in panel:
            continue
        for rel in releases:
            c = col(meas, rel)
            if c not in panel:
                continue
            change = panel[c] - panel[col(meas, BASE)]
            d_t = change.reindex(treated).to_numpy(float)
            d_c = np.full(ctrl.shape, np.nan)
            filled = ctrl != ""
            d_c[filled] = change.reindex(ctrl[filled]).to_numpy(float)
            if np.isnan(d_t).any() or np.isnan(d_c[filled]).any():
                continue
            est = float(np.mean(d_t - np.nanmean(d_c, axis=1)))
            boot = _did_replicates(d_t, d_c, weights, cols)
            lo, hi = np.percentile(boot, [2.5, 97.5])
            rows.append({
                "group": group_name or "all", "measure": meas, "release": int(rel),
                "estimate": est, "ci_low": float(lo), "ci_high": float(hi),
                "treated_change": float(np.mean(d_t)),
                "comparator_change": float(np.mean(np.nanmean(d_c, axis=1))),
                "n_treated": len(treated), "n_comparators": int(m["control"].nunique()),
                "n_clusters": int(len(np.unique(clusters))), "cluster": cluster,
            })
    return pd.DataFrame(rows)


def did_by_area(panel: pd.DataFrame, matches: pd.DataFrame, groups: pd.Series,
                n_boot: int = 999, seed: int = 20110, **kw) -> pd.DataFrame:
    """``did`` for all areas together (areas resampled as clusters, and LSOAs as a check)
    and for each area (its LSOAs resampled; one-LSOA areas: comparators only)."""
    parts = [did(panel, matches, groups, n_boot=n_boot, seed=seed, cluster="area",
                 group_name="all", **kw),
             did(panel, matches, groups, n_boot=n_boot, seed=seed, cluster="lsoa",
                 group_name="all", **kw)]
    for slug, sub in groups.groupby(groups):
        parts.append(did(panel, matches, sub, n_boot=n_boot, seed=seed, cluster="lsoa",
                         group_name=str(slug), **kw))
    return pd.concat(parts, ignore_index=True)


def context_changes(panel: pd.DataFrame, members: Mapping[str, Sequence[str]],
                    measures: Sequence[str] = MEASURES, n_boot: int = 999,
                    seed: int = 20110) -> pd.DataFrame:
    """Mean change since 2010 (percentile points) for context groups, bootstrap over LSOAs."""
    rng = np.random.default_rng(seed)
    rows = []
    for name, codes in members.items():
        codes = list(codes)
        if not codes:
            continue
        for meas in measures:
            for rel in (*PRE, *POST):
                if col(meas, rel) not in panel:
                    continue
                d = (panel.loc[codes, col(meas, rel)] - panel.loc[codes, col(meas, BASE)]
                     ).dropna().to_numpy()
                if len(d) == 0:
                    continue
                boot = d[rng.integers(0, len(d), (n_boot, len(d)))].mean(axis=1)
                lo, hi = np.percentile(boot, [2.5, 97.5])
                rows.append({"group": name, "measure": meas, "release": rel,
                             "change": float(d.mean()), "ci_low": float(lo),
                             "ci_high": float(hi), "n_lsoas": len(d)})
    return pd.DataFrame(rows)


def trajectories(panel: pd.DataFrame, members: Mapping[str, Sequence[str]],
                 matches: pd.DataFrame | None = None,
                 measures: Sequence[str] = MEASURES) -> pd.DataFrame:
    """Mean England percentile per release for named groups of LSOAs (long).

    With ``matches``, each named group that is a set of treated LSOAs also gets its
    comparators as ``<name>__comparators`` (each comparison set weighted 1/size).
    """
    rows = []
    for name, codes in members.items():
        codes = list(codes)
        sets: list[tuple[str, pd.Series]] = [(name, pd.Series(1.0, index=codes))]
        if matches is not None:
            mm = matches[matches["treated"].isin(codes)]
            if len(mm):
                w = 1.0 / mm.groupby("treated")["control"].transform("count")
                sets.append((f"{name}__comparators",
                             pd.Series(w.to_numpy(), index=mm["control"].to_numpy())))
        for label, wts in sets:
            for meas in measures:
                for rel in RELEASES:
                    c = col(meas, rel)
                    if c not in panel:
                        continue
                    v = panel[c].reindex(wts.index).to_numpy(float)
                    ok = ~np.isnan(v)
                    if not ok.any():
                        continue
                    rows.append({"group": label, "measure": meas, "release": rel,
                                 "mean_pct": float(np.average(v[ok], weights=wts.to_numpy()[ok])),
                                 "n_lsoas": int(len(set(wts.index[ok])))})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- monitoring

#: Indicators published in 2019 that were replaced or split in 2025 (not compared).
REPLACED_2025: dict[str, str] = {
    "mood_and_anxiety_disorders_indicator": "replaced in 2025 by a broader mental health "
    "indicator (mental_health_indicator)",
    "household_overcrowding_indicator": "split in 2025 into rooms- and bedrooms-based measures",
    "road_distance_to_a_post_office_indicator_km": "road distances replaced in 2025 by a "
    "connectivity score",
    "road_distance_to_a_primary_school_indicator_km": "road distances replaced in 2025 by a "
    "connectivity score",
    "road_distance_to_general_store_or_supermarket_indicator_km": "road distances replaced in "
    "2025 by a connectivity score",
    "road_distance_to_a_gp_surgery_indicator_km": "road distances replaced in 2025 by a "
    "connectivity score",
}
#: Indicators whose name is the same in both releases but whose definition moved (compared
#: by position in England only, with this note).
CHANGED_SAME_NAME: dict[str, str] = {
    "income_score": "benefits counted changed (Universal Credit roll-out)",
    "employment_score": "benefits counted changed (Universal Credit roll-out)",
    "idaci_score": "benefits counted changed (Universal Credit roll-out)",
    "idaopi_score": "benefits counted changed (Universal Credit roll-out)",
    "adult_skills_and_english_language_proficiency_indicator": "Census 2011 in 2019, Census "
    "2021 in 2025",
}
#: Indicators measured for whole districts and spread to their LSOAs: shown, never flagged.
DISTRICT_LEVEL: frozenset[str] = frozenset({
    "homelessness_indicator_rate_per_1000_households",
    "core_homelessness_rate_percent_of_households",
})
#: Rate-type domain scores from iod_lsoa added to the monitoring table (proportions of people).
SCORE_MEASURES: tuple[str, ...] = ("income", "employment", "idaci", "idaopi")
#: A change in position of at least this many points of England's LSOAs counts as a movement.
DIRECTION_THRESHOLD = 5.0


def _norm_indicator(name: str) -> str:
    return str(name).replace("per_1_000", "per_1000")


def indicator_polarity(values: pd.Series, imd_rank: pd.Series) -> int:
    """+1 when a higher value means more deprivation, -1 otherwise: +1 if the indicator's
    mean is higher in England's most deprived tenth of LSOAs (IMD rank) than in the least
    deprived tenth of the same release."""
    v = values.to_numpy(dtype=float)
    r = imd_rank.reindex(values.index).to_numpy(dtype=float)
    ok = ~np.isnan(v) & ~np.isnan(r)
    if ok.sum() < 20:
        return 1
    v, r = v[ok], r[ok]
    lo, hi = np.quantile(r, [0.1, 0.9])
    return 1 if v[r <= lo].mean() >= v[r >= hi].mean() else -1


def monitoring(indicators: pd.DataFrame, members: Mapping[int, pd.DataFrame],
               imd_rank: Mapping[int, pd.Series], first: int = 2019,
               last: int = 2025) -> pd.DataFrame:
    """Per area and indicator: value and England position in ``first`` and ``last``.

    ``indicators``: long (release, lsoa_code, indicator, value), each release on its own
    LSOA vintage. ``members``: release -> areas.members(...) frame at that release's
    vintage (slug, name, lsoa_code, weight). The area value is the member-weighted mean
    of its LSOAs; ``position`` = % of England's LSOAs less deprived than that value (50 =
    England's middle LSOA, higher = worse). Direction compares positions (not raw values,
    whose scales differ between releases): worsening if the position rose by at least
    ``DIRECTION_THRESHOLD`` points. ``red_red`` = worse than England's middle LSOA in
    ``last`` and worsening. Count indicators (numerators) are left out.
    """
    names = pd.Series(indicators["indicator"].unique())
    names = names[~names.str.endswith("_numerator")]
    keymap = {n: _norm_indicator(n) for n in names}
    per_release: dict[int, pd.DataFrame] = {}
    for rel in (first, last):
        sub = indicators[(indicators["release"] == rel) & indicators["indicator"].isin(names)]
        wide = sub.pivot_table(index="lsoa_code", columns="indicator", values="value",
                               aggfunc="first")
        wide.index = pd.Index(wide.index.to_numpy(dtype=object))
        rank = imd_rank[rel].copy()
        rank.index = pd.Index(rank.index.to_numpy(dtype=object))
        rank = rank[~rank.index.duplicated()].reindex(wide.index)
        mem = members[rel]
        rows = []
        for name in wide.columns:
            vals = wide[name]
            pol = indicator_polarity(vals, rank)
            clean = vals.dropna().to_numpy(dtype=float)
            sorted_vals = np.sort(clean * pol)
            median = float(np.median(clean))
            for slug, m in mem.groupby("slug"):
                v = vals.reindex(m["lsoa_code"].to_numpy(dtype=object)).to_numpy(dtype=float)
                w = m["weight"].to_numpy(dtype=float)
                ok = ~np.isnan(v)
                if not ok.any():
                    continue
                val = float(np.average(v[ok], weights=w[ok]))
                below = np.searchsorted(sorted_vals, val * pol, side="left")
                ties = np.searchsorted(sorted_vals, val * pol, side="right") - below
                rows.append({"slug": slug, "key": keymap[name], "indicator": name,
                             "value": val, "england_median": median,
                             "position": 100.0 * (below + 0.5 * ties) / len(sorted_vals),
                             "worse": (val - median) * pol > 0, "polarity": pol})
        per_release[rel] = pd.DataFrame(rows)
    a, b = per_release[first], per_release[last]
    out = a.merge(b, on=["slug", "key"], how="outer", suffixes=(f"_{first}", f"_{last}"))
    out["indicator"] = out[f"indicator_{last}"].fillna(out[f"indicator_{first}"])
    both = out[f"value_{first}"].notna() & out[f"value_{last}"].notna()
    out["comparable"] = both
    shift = out[f"position_{last}"] - out[f"position_{first}"]
    out["direction"] = np.select(
        [~both, shift >= DIRECTION_THRESHOLD, shift <= -DIRECTION_THRESHOLD],
        ["not comparable", "worsening", "improving"], "little change")
    out["worse_than_england"] = (out[f"worse_{last}"].fillna(out[f"worse_{first}"]).astype(bool)
                                 & ~out["key"].isin(DISTRICT_LEVEL))
    out["red_red"] = both & out[f"worse_{last}"].fillna(False).astype(bool) & (
        out["direction"] == "worsening") & ~out["key"].isin(DISTRICT_LEVEL)

    def note(row) -> str:
        k = row["key"]
        if k in REPLACED_2025:
            return REPLACED_2025[k]
        if k in DISTRICT_LEVEL:
            return "a district-wide figure spread to every LSOA: says nothing about the area"
        if k in CHANGED_SAME_NAME:
            return CHANGED_SAME_NAME[k]
        if not row["comparable"]:
            return f"only published in {last if pd.isna(row[f'value_{first}']) else first}"
        return ""

    out["note"] = out.apply(note, axis=1) if len(out) else pd.Series(dtype=str)
    keep = ["slug", "indicator", f"value_{first}", f"position_{first}", f"value_{last}",
            f"position_{last}", f"england_median_{last}", "comparable", "direction",
            "worse_than_england", "red_red", "note"]
    return out[keep].sort_values(["slug", "comparable", "indicator"],
                                 ascending=[True, False, True]).reset_index(drop=True)


# --------------------------------------------------------------------------- glue


def _processed(name: str) -> Path:
    return config.PROCESSED_DIR / name


def _read(name: str, **kw) -> pd.DataFrame:
    path = _processed(name)
    if not path.exists():
        raise DataError(path, "not built yet: run `evidence-pack prepare` (stage iod)")
    return pd.read_parquet(path, **kw)


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


#: IoD 2019 numerators and the File 6 (mid-2015) denominators that make the domain rates.
RATE_DENOMINATORS: dict[str, tuple[str, str]] = {
    "income": ("income_domain_numerator", "population"),
    "employment": ("employment_domain_numerator", "working_age"),
    "idaci": ("income_deprivation_affecting_children_index_idaci_numerator", "children_0_15"),
    "idaopi": ("income_deprivation_affecting_older_people_index_idaopi_numerator",
               "older_60_plus"),
}


def rate_indicators(ind: pd.DataFrame, iod: pd.DataFrame) -> pd.DataFrame:
    """Income, employment, IDACI and IDAOPI rates (share of people) as ``<measure>_score``.

    2025: the published domain scores. 2019: numerator / the IoD 2019 denominator (File 6,
    mid-2015 populations in ``lsoa_population.parquet``), since the 2019 LSOA table carries
    ranks but no scores. Empty when the inputs are missing.
    """
    frames = []
    s25 = iod[(iod["release"] == 2025) & iod["measure"].isin(SCORE_MEASURES) & iod["score"].notna()]
    if len(s25):
        frames.append(pd.DataFrame({"release": 2025, "lsoa_code": s25["lsoa_code"],
                                    "lsoa_vintage": s25["lsoa_vintage"],
                                    "indicator": s25["measure"] + "_score",
                                    "value": s25["score"]}))
    pop_path = _processed("lsoa_population.parquet")
    if pop_path.exists():
        pop = pd.read_parquet(pop_path)
        pop = pop[(pop["lsoa_vintage"] == 2011) & (pop["year"] == 2015)].set_index("lsoa_code")
        i19 = ind[ind["release"] == 2019]
        for measure, (num, den) in RATE_DENOMINATORS.items():
            if den not in pop.columns or pop.empty:
                continue
            n = i19[i19["indicator"] == num].set_index("lsoa_code")["value"]
            n = n[~n.index.duplicated()].reindex(pop.index)
            d = pop[den]
            # the published file leaves small numerators blank (fewer than 5 people):
            # counted as 0 here, which only matters for England's least deprived LSOAs
            rate = (n.fillna(0.0) / d.where(d > 0)).dropna()
            frames.append(pd.DataFrame({"release": 2019, "lsoa_code": rate.index,
                                        "lsoa_vintage": 2011, "indicator": f"{measure}_score",
                                        "value": rate.to_numpy()}))
    cols = ["release", "lsoa_code", "lsoa_vintage", "indicator", "value"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def _areas_digest(areas_file: Path) -> str:
    return hashlib.sha256(Path(areas_file).read_bytes()).hexdigest()[:16]


def run(areas_file: str | Path = config.DEFAULT_AREAS_FILE, spec: MatchSpec = MatchSpec(),
        n_boot: int = 999, seed: int = 20110) -> dict[str, pd.DataFrame]:
    """Everything the notebook shows, computed from the processed store.

    Returns frames: units (panel + attributes + group flags for the LSOAs used), matches,
    balance, did, context, trajectories, monitoring.
    """

    areas_file = Path(areas_file)
    if not areas_file.is_absolute():
        areas_file = config.ROOT / areas_file
    area_set = areas.load_areas(areas_file)
    iod = _read("iod_lsoa.parquet", columns=["release", "lsoa_code", "lsoa_vintage", "lad_code",
                                              "lad_name", "measure", "score", "rank"])
    geo = _read("lsoa_geography.parquet", columns=["lsoa_code", "lsoa_vintage", "region_name",
                                                    "ruc"])
    panel = build_panel(iod)
    expected = config.ENGLAND_LSOAS[UNIT_VINTAGE]
    if len(panel) != expected:
        raise DataError("iod_lsoa.parquet", f"{len(panel)} LSOAs 2001 in the panel, England "
                        f"had {expected}")
    attrs = unit_attributes(geo, iod[(iod["release"] == BASE) & (iod["measure"] == "imd")])
    units = panel.join(attrs).join(covariates(panel)[["imd_trend_2004_2010"]])

    mem01 = areas.members(area_set, 2001)
    groups = (mem01.drop_duplicates("lsoa_code").set_index("lsoa_code")["slug"])
    groups.index = groups.index.astype(str)
    lad = area_set.la_code
    matches = match(units, list(groups.index), lad, spec)
    variables = list(spec.weights)
    bal = pd.concat([balance(units, matches, variables, lad).assign(group="all")] + [
        balance(units, matches[matches["treated"].isin(sub.index)], variables, lad)
        .assign(group=str(slug)) for slug, sub in groups.groupby(groups)], ignore_index=True)
    est = did_by_area(panel, matches, groups, n_boot=n_boot, seed=seed)

    region = units.loc[groups.index, "region_name"].mode().iloc[0]
    in_lad = units["lad_code"] == lad
    # sensitivity: comparators from outside the region only (no spill-over from neighbours)
    region_lads = set(units.loc[units["region_name"] == region, "lad_code"])
    far = match(units, list(groups.index), region_lads, spec)
    est = pd.concat([est, did(panel, far, groups, n_boot=n_boot, seed=seed, cluster="area",
                              group_name=SENSITIVITY_OUTSIDE_REGION)], ignore_index=True)
    d1 = units[col("imd", BASE)] <= 10.0
    context = {
        CONTEXT_REST: units.index[in_lad & ~units.index.isin(groups.index)],
        CONTEXT_DISTRICT_D1: units.index[in_lad & d1 & ~units.index.isin(groups.index)],
        CONTEXT_REGION_D1: units.index[(units["region_name"] == region) & d1 & ~in_lad],
    }
    ctx = context_changes(panel, context, n_boot=n_boot, seed=seed)
    ctx["region_name"] = region
    named = {"all": list(groups.index), **{str(s): list(g.index) for s, g in
                                              groups.groupby(groups)}}
    traj = pd.concat([trajectories(panel, named, matches), trajectories(panel, context)],
                     ignore_index=True)

    ind = _read("iod_indicators.parquet")
    ind = pd.concat([ind, rate_indicators(ind, iod)], ignore_index=True)
    imd_rank = {r: iod[(iod["release"] == r) & (iod["measure"] == "imd")]
                .drop_duplicates("lsoa_code").set_index("lsoa_code")["rank"] for r in (2019, 2025)}
    mons = monitoring(ind, {2019: areas.members(area_set, 2011),
                            2025: areas.members(area_set, 2021)}, imd_rank)

    used = set(groups.index) | set(matches["control"]) | set().union(*map(set, context.values()))
    flags = pd.DataFrame(index=units.index)
    flags["area_slug"] = groups.reindex(units.index)
    flags["comparator"] = units.index.isin(matches["control"])
    for name, codes in context.items():
        flags[name] = units.index.isin(codes)
    out_units = units.join(flags).loc[sorted(used)].reset_index()
    return {"units": out_units, "matches": matches.assign(area_slug=matches["treated"].map(groups)),
            "balance": bal, "did": est, "context": ctx, "trajectories": traj,
            "monitoring": mons}


def _outputs() -> dict[str, Path]:
    names = (*OUTPUT_NAMES, "context")
    return {n: _processed(f"evaluation_{n}.parquet") for n in names}


def _inputs() -> list[Path]:
    return [_processed(n) for n in ("iod_lsoa.parquet", "lookup_lsoa01_lsoa11.parquet",
                                    "lookup_lsoa11_lsoa21.parquet", "lsoa_geography.parquet",
                                    "iod_indicators.parquet")] + [config.DEFAULT_AREAS_FILE,
                                                                  Path(__file__)]


def prepare(force: bool = False) -> list[Path]:
    """Stage "evaluation": write data/processed/evaluation_*.parquet for the default areas file.

    Skips when every output is newer than every input (unless ``force``).
    """
    outs = _outputs()
    meta = _processed("evaluation_meta.json")
    ins = _inputs()
    if not force and is_fresh([*outs.values(), meta], ins):
        return [*outs.values(), meta]
    spec = MatchSpec()
    res = run(config.DEFAULT_AREAS_FILE, spec)
    for name, path in outs.items():
        write_parquet(res[name], path)
    write_text(json.dumps({"areas_file": str(config.DEFAULT_AREAS_FILE.relative_to(config.ROOT)),
                           "areas_digest": _areas_digest(config.DEFAULT_AREAS_FILE),
                           "spec": {**asdict(spec), "weights": dict(spec.weights)},
                           "spec_text": spec.as_text()}, indent=2), meta)
    return [*outs.values(), meta]


def load(areas_file: str | Path = config.DEFAULT_AREAS_FILE) -> dict[str, pd.DataFrame]:
    """The evaluation frames for ``areas_file``: from data/processed when they were built for
    this very file (same content), otherwise computed now (``run``, a few seconds)."""
    path = Path(areas_file)
    if not path.is_absolute():
        path = config.ROOT / path
    meta = _processed("evaluation_meta.json")
    outs = _outputs()
    if meta.exists() and all(p.exists() for p in outs.values()):
        info = json.loads(meta.read_text())
        if info.get("areas_digest") == _areas_digest(path):
            return {n: pd.read_parquet(p) for n, p in outs.items()}
    return run(path)


# --------------------------------------------------------------------------- for the notebook

CONTEXT_LABELS: dict[str, str] = {
    CONTEXT_REST: "Rest of the district (not targeted)",
    CONTEXT_DISTRICT_D1: "Other most-deprived-10% LSOAs in the district (not targeted)",
    CONTEXT_REGION_D1: "Most-deprived-10% LSOAs elsewhere in the region",
}


def indicator_label(name: str) -> str:
    """A readable label for an IoD indicator column name."""
    special = {"income_score": "Income deprivation rate", "employment_score":
               "Employment deprivation rate", "idaci_score": "Income deprivation affecting "
               "children (IDACI) rate", "idaopi_score": "Income deprivation affecting older "
               "people (IDAOPI) rate"}
    if name in special:
        return special[name]
    text = name.removesuffix("_indicator").replace("_indicator_", " ").replace("_", " ")
    text = text.replace("per 1 000", "per 1,000").replace("per 1000", "per 1,000")
    return text[:1].upper() + text[1:]


def _interval_text(d: pd.DataFrame) -> list[str]:
    """The 95% intervals of estimate rows as "+a.b to +c.d" (percentile points)."""
    return [f"{lo:+.1f} to {hi:+.1f}" for lo, hi in zip(d["ci_low"], d["ci_high"], strict=True)]


def did_table(res: Mapping[str, pd.DataFrame], group: str = "all",
              releases: Sequence[int] = POST, cluster: str | None = None) -> pd.DataFrame:
    """Estimates for one group (``all`` or an area slug) by measure and release, readable."""
    d = res["did"]
    d = d[(d["group"] == group) & d["release"].isin(releases)]
    if cluster is None:
        cluster = "area" if group == "all" else "lsoa"
    d = d[d["cluster"] == cluster]
    out = pd.DataFrame({
        "Measure": d["measure"].map(MEASURE_LABELS),
        "Change to": d["release"].map(lambda r: f"IoD {r}"),
        "Target LSOAs (points)": d["treated_change"],
        "Comparators (points)": d["comparator_change"],
        "Difference (points)": d["estimate"],
        "95% interval": _interval_text(d),
        "Reading": [reading(lo, hi) for lo, hi in zip(d["ci_low"], d["ci_high"], strict=True)],
    })
    return out.reset_index(drop=True)


def pretrend_table(res: Mapping[str, pd.DataFrame], group: str = "all") -> pd.DataFrame:
    """IMD position in 2004 and 2007 relative to 2010: targets, comparators and the gap."""
    d = res["did"]
    cluster = "area" if group == "all" else "lsoa"
    d = d[(d["group"] == group) & (d["measure"] == "imd") & d["release"].isin(PRE)
          & (d["cluster"] == cluster)]
    return pd.DataFrame({
        "Release": d["release"].map(lambda r: f"IMD {r}"),
        "Target LSOAs: position then minus 2010": d["treated_change"],
        "Comparators: position then minus 2010": d["comparator_change"],
        "Gap (points)": d["estimate"],
        "95% interval": _interval_text(d),
        "Reading": ["moved alike" if lo <= 0 <= hi else "did not move alike"
                    for lo, hi in zip(d["ci_low"], d["ci_high"], strict=True)],
    }).reset_index(drop=True)


def reading(lo: float, hi: float) -> str:
    """Plain words for an interval of the difference (positive = targets did better)."""
    if lo > 0:
        return "targets did better"
    if hi < 0:
        return "targets did worse"
    return "no clear difference"


def area_table(res: Mapping[str, pd.DataFrame], names: Mapping[str, str],
               release: int = 2025, measure: str = "imd") -> pd.DataFrame:
    """One row per area (and all areas): LSOAs, comparators, change, difference, interval."""
    d = res["did"]
    d = d[(d["release"] == release) & (d["measure"] == measure)]
    d = d[((d["group"] == "all") & (d["cluster"] == "area"))
          | ~d["group"].isin(["all", SENSITIVITY_OUTSIDE_REGION])]
    traj = res["trajectories"]
    rows = []
    for _, r in d.iterrows():
        t = traj[(traj["group"] == r["group"]) & (traj["measure"] == measure)].set_index(
            "release")["mean_pct"]
        rows.append({
            "Area": "All target areas" if r["group"] == "all" else names.get(r["group"],
                                                                              r["group"]),
            "LSOAs (2001)": int(r["n_treated"]), "Comparators": int(r["n_comparators"]),
            f"Position {BASE}": t.get(BASE, np.nan), f"Position {release}": t.get(release,
                                                                                  np.nan),
            "Difference (points)": r["estimate"],
            "95% interval": f"{r['ci_low']:+.1f} to {r['ci_high']:+.1f}",
            "Reading": reading(r["ci_low"], r["ci_high"]),
        })
    out = pd.DataFrame(rows)
    return pd.concat([out[out["Area"] == "All target areas"],
                      out[out["Area"] != "All target areas"].sort_values("Area")],
                     ignore_index=True)


def balance_table(res: Mapping[str, pd.DataFrame], group: str = "all") -> pd.DataFrame:
    """The balance table of one group (``all`` or an area slug) with readable names."""
    b = res["balance"]
    b = b[b["group"] == group] if "group" in b.columns else b
    label = {"imd_trend_2004_2010": "IMD change 2004 to 2010 (points)",
             **{col(m, BASE): f"{MEASURE_LABELS[m]} {BASE}" for m in MEASURES}}
    return pd.DataFrame({
        "Variable (England percentile)": b["variable"].map(label),
        "Target LSOAs": b["mean_treated"], "All other LSOAs in England": b["mean_england_pool"],
        "SMD before": b["smd_before"], "Matched comparators": b["mean_matched"],
        "SMD after": b["smd_after"],
    })


def monitoring_table(res: Mapping[str, pd.DataFrame], slug: str,
                     comparable_only: bool = False) -> pd.DataFrame:
    """The monitoring table for one area, readable (positions: % of England's LSOAs less
    deprived than the area; 50 = England's middle)."""
    m = res["monitoring"]
    m = m[m["slug"] == slug]
    if comparable_only:
        m = m[m["comparable"]]
    flag = np.where(m["red_red"], "RED-RED: worse than England and worsening",
                    np.where(m["worse_than_england"], "worse than England", "not worse"))
    flag = np.where(m["indicator"].map(_norm_indicator).isin(DISTRICT_LEVEL),
                    "district-wide figure (not flagged)", flag)
    return pd.DataFrame({
        "Indicator": m["indicator"].map(indicator_label),
        "Value 2019": m["value_2019"], "Position 2019": m["position_2019"],
        "Value 2025": m["value_2025"], "Position 2025": m["position_2025"],
        "England middle 2025": m["england_median_2025"],
        "Direction": m["direction"], "Status": flag, "Note": m["note"],
    }).reset_index(drop=True)


def red_red_summary(res: Mapping[str, pd.DataFrame], names: Mapping[str, str]) -> pd.DataFrame:
    """Per area: comparable indicators, how many worse than England, worsening, red-red."""
    m = res["monitoring"]
    m = m[m["comparable"]]
    rows = []
    for slug, g in m.groupby("slug"):
        rr = g[g["red_red"]]["indicator"].map(indicator_label)
        rows.append({"Area": names.get(slug, slug), "Comparable indicators": len(g),
                     "Worse than England (2025)": int(g["worse_than_england"].sum()),
                     "Worsening": int((g["direction"] == "worsening").sum()),
                     "Improving": int((g["direction"] == "improving").sum()),
                     "Red-red": int(len(rr)), "Red-red indicators": "; ".join(rr) or "none"})
    return pd.DataFrame(rows).sort_values("Area", ignore_index=True)


def plot_trajectories(res: Mapping[str, pd.DataFrame], group: str, title: str,
                      measure: str = "imd", context: bool = True, ax=None):
    """Line chart: mean England percentile of the target LSOAs and their comparators by
    release (and, with ``context``, the context groups). Returns the figure."""
    import matplotlib.pyplot as plt

    traj = res["trajectories"]
    traj = traj[traj["measure"] == measure]
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 4.2))
    else:
        fig = ax.figure
    series = [(group, "Target LSOAs", dict(color="#d55e00", lw=2.5, marker="o")),
              (f"{group}__comparators", "Matched comparators (elsewhere in England)",
               dict(color="#0072b2", lw=2.5, ls="--", marker="s"))]
    if context:
        series += [(CONTEXT_DISTRICT_D1, CONTEXT_LABELS[CONTEXT_DISTRICT_D1],
                    dict(color="#cc79a7", lw=1.2, marker=".")),
                   (CONTEXT_REGION_D1, CONTEXT_LABELS[CONTEXT_REGION_D1],
                    dict(color="#999999", lw=1.2, marker="."))]
    for name, label, style in series:
        t = traj[traj["group"] == name].sort_values("release")
        if len(t):
            ax.plot(t["release"], t["mean_pct"], label=label, **style)
    ax.axvline(2011.85, color="black", lw=0.8, ls=":")
    ax.annotate("Cabinet targets the areas\n(November 2011)", xy=(2011.85, ax.get_ylim()[0]),
                xytext=(4, 4), textcoords="offset points", va="bottom", fontsize=8)
    ax.set_xticks(list(RELEASES))
    ax.set_xlabel("IoD release")
    ax.set_ylabel("Average England percentile\n(0 = most deprived)")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=8)
    return fig


def plot_forest(res: Mapping[str, pd.DataFrame], names: Mapping[str, str],
                release: int = 2025, measure: str = "imd"):
    """Difference-in-differences by area with 95% intervals (points of England)."""
    import matplotlib.pyplot as plt

    tab = area_table(res, names, release, measure)
    tab = tab.iloc[::-1].reset_index(drop=True)
    d = res["did"]
    d = d[(d["release"] == release) & (d["measure"] == measure)]
    d = d[((d["group"] == "all") & (d["cluster"] == "area"))
          | ~d["group"].isin(["all", SENSITIVITY_OUTSIDE_REGION])]
    lookup = {("All target areas" if g == "all" else names.get(g, g)): (lo, hi) for g, lo, hi
              in zip(d["group"], d["ci_low"], d["ci_high"], strict=True)}
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(tab) + 1.2))
    for i, r in tab.iterrows():
        lo, hi = lookup[r["Area"]]
        colour = "#d55e00" if hi < 0 else ("#009e73" if lo > 0 else "#555555")
        ax.plot([lo, hi], [i, i], color=colour, lw=2)
        ax.plot(r["Difference (points)"], i, "o", color=colour,
                ms=8 if r["Area"] == "All target areas" else 5)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(tab)))
    ax.set_yticklabels([f"{a} ({n})" for a, n in zip(tab["Area"], tab["LSOAs (2001)"],
                                                       strict=True)])
    ax.set_xlabel(f"Change 2010 to {release} relative to matched comparators\n"
                  "(percentile points of England; below 0 = fell further behind)")
    ax.set_title(f"{MEASURE_LABELS[measure]}: target areas against their comparators")
    return fig


def plot_domains(res: Mapping[str, pd.DataFrame], group: str = "all", release: int = 2025):
    """Difference-in-differences by domain for one group, with 95% intervals."""
    import matplotlib.pyplot as plt

    d = res["did"]
    cluster = "area" if group == "all" else "lsoa"
    d = d[(d["group"] == group) & (d["release"] == release) & (d["cluster"] == cluster)]
    d = d.set_index("measure").reindex([m for m in MEASURES if m in set(d["measure"])])
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    y = np.arange(len(d))[::-1]
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        colour = ("#d55e00" if r["ci_high"] < 0 else "#009e73" if r["ci_low"] > 0
                  else "#555555")
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=colour, lw=2)
        ax.plot(r["estimate"], yi, "o", color=colour)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([MEASURE_LABELS[m] for m in d.index])
    ax.set_xlabel(f"Change 2010 to {release} relative to matched comparators (points)")
    ax.set_title(f"By domain, IoD {release}")
    return fig


def key_findings(res: Mapping[str, pd.DataFrame], group: str, names: Mapping[str, str],
                 district: str, release: int = 2025) -> list[str]:
    """Plain-English findings for the top of the notebook, written from the results."""
    d = res["did"]
    cluster = "area" if group == "all" else "lsoa"
    row = d[(d["group"] == group) & (d["measure"] == "imd") & (d["release"] == release)
            & (d["cluster"] == cluster)].iloc[0]
    traj = res["trajectories"]
    t = traj[(traj["group"] == group) & (traj["measure"] == "imd")].set_index("release")
    c = traj[(traj["group"] == f"{group}__comparators") & (traj["measure"] == "imd")].set_index(
        "release")
    who = ("The target neighbourhoods" if group == "all" else names.get(group, group))
    n = int(row["n_treated"])
    verb = "were" if group == "all" else "was"
    out = [
        f"{who} ({n} LSOA{'s' if n != 1 else ''} on the 2001 boundaries) {verb}"
        f"{' on average' if n != 1 else ''} at "
        f"percentile {t.loc[BASE, 'mean_pct']:.1f} of England in IMD {BASE} (0 = most "
        f"deprived, 50 = the middle) and at percentile {t.loc[release, 'mean_pct']:.1f} in "
        f"IoD {release}.",
        f"{int(row['n_comparators'])} matched comparison LSOAs elsewhere in England, as deprived "
        f"in 2010 and on the same path over 2004-2010, moved from percentile "
        f"{c.loc[BASE, 'mean_pct']:.1f} to {c.loc[release, 'mean_pct']:.1f}.",
    ]
    verdict = reading(row["ci_low"], row["ci_high"])
    if verdict == "targets did worse":
        what = "fell further behind"
    elif verdict == "targets did better":
        what = "did better"
    else:
        what = "did neither clearly better nor clearly worse"
    subject = "the target neighbourhoods" if group == "all" else who
    out.append(f"Relative to those comparators, {subject} {what}: a difference of "
               f"{row['estimate']:+.1f} percentile points by {release} (95% interval "
               f"{row['ci_low']:+.1f} to {row['ci_high']:+.1f}).")
    if group != "all" and n == 1:
        out.append("With a single LSOA the interval reflects only how much its comparators "
                   "differ from one another, not chance movements of the LSOA itself: read it "
                   "as too narrow.")
    pre = d[(d["group"] == group) & (d["measure"] == "imd") & (d["release"] == 2007)
            & (d["cluster"] == cluster)]
    if len(pre):
        p = pre.iloc[0]
        par = ("moved in parallel" if p["ci_low"] <= 0 <= p["ci_high"] else
               "did not move quite in parallel")
        out.append(f"Before the decision the two groups {par} (2007-2010 gap "
                   f"{p['estimate']:+.1f} points, interval {p['ci_low']:+.1f} to "
                   f"{p['ci_high']:+.1f}); they were matched on 2004-2010, so this is a check "
                   "of the matching, not a test of the policy.")
    if group == "all":
        areas = d[~d["group"].isin(["all", SENSITIVITY_OUTSIDE_REGION]) & (d["measure"] == "imd")
                  & (d["release"] == release)]
        worse = int((areas["ci_high"] < 0).sum())
        better = int((areas["ci_low"] > 0).sum())
        rest = len(areas) - worse - better
        text = (f"Area by area: {worse} of {len(areas)} areas fell clearly further behind their "
                f"comparators by {release} and {better} did clearly better")
        text += f"; {rest} show no clear difference." if rest else "."
        single = int(areas.loc[areas["cluster"] == "lsoa", "n_treated"].eq(1).sum())
        if single:
            text += (f" {single} area{'s are' if single != 1 else ' is'} a single LSOA, whose "
                     "intervals are too narrow.")
        out.append(text)
        sens = d[(d["group"] == SENSITIVITY_OUTSIDE_REGION) & (d["measure"] == "imd")
                 & (d["release"] == release)]
        if len(sens):
            sv = sens.iloc[0]
            out.append(f"With comparators taken only from outside the region (no neighbouring "
                       f"districts), the difference is {sv['estimate']:+.1f} points (interval "
                       f"{sv['ci_low']:+.1f} to {sv['ci_high']:+.1f}).")
    ctx = res["context"]
    ctx = ctx[(ctx["measure"] == "imd") & (ctx["release"] == release)].set_index("group")
    if CONTEXT_DISTRICT_D1 in ctx.index and CONTEXT_REST in ctx.index:
        o, r = ctx.loc[CONTEXT_DISTRICT_D1], ctx.loc[CONTEXT_REST]
        out.append(f"For context, {district}'s other most-deprived-10% LSOAs that were not "
                   f"targeted ({int(o['n_lsoas'])}) moved by {o['change']:+.1f} points and the "
                   f"rest of {district} by {r['change']:+.1f} points over the same years.")
    out.append("This compares like with like as far as public data allow; it does not show "
               "cause. Targeting was a policy choice, not an experiment, and no record says how "
               "much was actually redirected to each area.")
    return out
