"""Risk factors: what went with a deprived neighbourhood improving, tested on all of England
(issue 5), and each target area scored.

Cohort: every LSOA (2011 boundaries) in the most deprived 10% of England on the IMD 2010
(published on 2001 LSOAs and carried to 2011 LSOAs with ``lookups.carry``); as a sensitivity,
the most deprived 20%. Outcomes: IMD 2019 (2011 LSOAs) and IMD 2025 (2021 LSOAs carried back
to 2011): ``improved`` = no longer in the most deprived 10% (20%) of England; ``pct_gain`` =
change in the percentile rank (percentage points of England's LSOAs ranked more deprived;
positive = relatively less deprived), comparable across releases with different LSOA counts.
Ranks: 1 = most deprived; deciles: 1 = most deprived 10%.

Factors (``FACTORS``) each state their measurement year; those measured after the 2010
baseline are flagged ``post_baseline`` in every output. The model is a logistic regression
(statsmodels) with standard errors clustered by district, continuous factors standardised
(odds ratios per standard deviation across the cohort), and an out-of-sample check by
grouped (district) cross-validation: AUC and calibration.

Outputs (``prepare``) in ``data/processed/``: ``risk_table.parquet`` (the analysis table),
``risk_odds.parquet`` (odds ratios), ``risk_cv.parquet`` (AUC, calibration bins),
``risk_predictions.parquet`` (per-LSOA predicted chances), ``risk_verdicts.parquet`` (the
2011 report's five factors point by point), ``risk_domains.parquet`` (domain outcomes),
``risk_scaling.parquet`` (means/SDs used to standardise).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, write_parquet
from evidence_pack.stores import census, economy, iod, lookups

BASELINE = 2010
OUTCOME_RELEASES: tuple[int, ...] = (2019, 2025)
COHORT_DECILES: tuple[int, ...] = (1, 2)  # most deprived 10% (main) and 20% (sensitivity)
#: Domains whose baseline decile-1 membership and later exit are reported (IMD 2010 names).
OUTCOME_MEASURES: tuple[str, ...] = ("imd", "income", "employment", "education", "health",
                                     "crime", "barriers", "living_environment")
GROUP = "lad_code"  # clustering and cross-validation unit: district (IoD 2019 boundaries)


def _one_thread():
    """Limit BLAS to one thread: these small fits run 10-100x slower when BLAS threads
    contend on a shared 2-core machine (measured by scripts/bench_risk.py)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


@dataclass(frozen=True)
class Factor:
    """One candidate predictor. ``year``: when it was measured. ``theme``: which of the 2011
    report's five factors it stands for ('baseline' for the control variables).
    ``expected``: the sign the report implies for improvement (+1, -1, 0 = no claim)."""

    name: str
    label: str
    theme: str
    year: str
    source: str
    expected: int = 0
    binary: bool = False
    unit: str = "score points"

    @property
    def post_baseline(self) -> bool:
        """True when measured (or ending) after the 2010 baseline."""
        return int(str(self.year)[-4:]) > BASELINE


THEMES: dict[str, str] = {
    "tenure": "Housing tenure",
    "skills": "Skill levels",
    "churn": "Population churn",
    "economy": "Economic performance of the wider sub-regional economy",
    "access": "Accessibility to lower-skilled jobs",
}

_F = [
    Factor("social_rented", "Households renting from a council or housing association (%)",
           "tenure", "2021", "Census 2021 TS054", -1, unit="percentage points"),
    Factor("private_rented", "Households renting privately or living rent free (%)",
           "tenure", "2021", "Census 2021 TS054", -1, unit="percentage points"),
    Factor("adult_skills", "Adult skills deprivation score (IoD 2010 sub-domain)",
           "skills", "2010", "IoD 2010 (data mostly 2008)", -1),
    Factor("churn", "Residents who moved in during the past year, MSOA (%)",
           "churn", "2021", "Census 2021 TS019 (MSOA)", -1, unit="percentage points"),
    Factor("gva_growth", "Real GVA growth of the ITL3 sub-region, 2010-2019 (% a year)",
           "economy", "2010-2019", "ONS regional GDP, GVA(B) deflated", +1,
           unit="percentage points a year"),
    Factor("geographical_barriers", "Geographical barriers score (road distance to services, "
           "IoD 2010 sub-domain)", "access", "2010", "IoD 2010", -1),
    Factor("road_distance", "Mean road distance to GP, school, shop, post office (km, IoD 2019)",
           "access", "2019", "IoD 2019 underlying indicators", -1, unit="km"),
    Factor("rural", "Rural LSOA (rural-urban classification 2011)", "access", "2011",
           "ONS RUC 2011", 0, binary=True, unit=""),
    Factor("jobs_access", "Travel time to employment centre with 500-4,999 jobs, public "
           "transport/walk (minutes, DfT JTS0501)", "access", "DfT JTS (user-supplied)",
           "DfT journey time statistics (optional)", -1, unit="minutes"),
    # baseline domain scores (IoD 2010), the controls
    Factor("income", "Income deprivation score 2010", "baseline", "2010", "IoD 2010",
           unit="(share of residents, 0-1)"),
    Factor("employment", "Employment deprivation score 2010", "baseline", "2010", "IoD 2010",
           unit="(share of working-age residents, 0-1)"),
    Factor("health", "Health deprivation score 2010", "baseline", "2010", "IoD 2010"),
    Factor("crime", "Crime score 2010", "baseline", "2010", "IoD 2010"),
    Factor("living_environment", "Living environment score 2010", "baseline", "2010",
           "IoD 2010"),
    Factor("children_young_people", "Children and young people education score 2010",
           "baseline", "2010", "IoD 2010"),
    Factor("wider_barriers", "Wider barriers (housing) score 2010", "baseline", "2010",
           "IoD 2010"),
]
FACTORS: dict[str, Factor] = {f.name: f for f in _F}

#: The model's factors in the default run (jobs_access joins when the DfT file is supplied).
DEFAULT_MODEL: tuple[str, ...] = (
    "social_rented", "private_rented", "adult_skills", "churn", "gva_growth",
    "geographical_barriers", "road_distance", "rural",
    "income", "employment", "health", "crime", "living_environment",
    "children_young_people", "wider_barriers",
)
#: The factor that stands for each report theme in the verdicts (first listed = headline).
THEME_FACTORS: dict[str, tuple[str, ...]] = {
    "tenure": ("social_rented", "private_rented"),
    "skills": ("adult_skills",),
    "churn": ("churn",),
    "economy": ("gva_growth",),
    "access": ("jobs_access", "geographical_barriers", "road_distance"),
}

OUT_FILES = {k: config.PROCESSED_DIR / f"risk_{k}.parquet" for k in
             ("table", "odds", "cv", "predictions", "verdicts", "domains", "scaling")}


def post_baseline(factor: str) -> bool:
    """True when ``factor`` is measured after the 2010 baseline. KeyError for unknown names."""
    if factor not in FACTORS:
        raise KeyError(f"unknown factor {factor!r}; known: {list(FACTORS)}")
    return FACTORS[factor].post_baseline


# --------------------------------------------------------------------------- outcomes


def outcomes(base: pd.DataFrame, later: pd.DataFrame, n_base: int, n_later: int,
             max_decile: int = 1, source: str = "<frame>") -> pd.DataFrame:
    """Outcome of each LSOA in deciles 1..``max_decile`` at baseline.

    ``base`` and ``later``: lsoa_code, rank (1 = most deprived), on the same LSOA vintage;
    ``n_base``/``n_later``: LSOAs ranked in each release (for percentiles and deciles).
    Baseline decile and later decile are both taken from the rank as ceil(10 x rank / n),
    so a carried (averaged) rank is classed consistently. Returns lsoa_code, rank_base,
    rank_later, pct_base, pct_later (percentile of rank, 0-100), decile_base, decile_later,
    improved (1 if it left deciles 1..max_decile) and pct_gain (pct_later - pct_base).
    Raises DataError on duplicate codes or a cohort LSOA absent from ``later``.
    """
    for name, df in (("base", base), ("later", later)):
        missing = {"lsoa_code", "rank"} - set(df.columns)
        if missing:
            raise DataError(source, f"{name} frame lacks columns {sorted(missing)}")
        dup = df["lsoa_code"].duplicated()
        if dup.any():
            raise DataError(source, f"{name} frame has duplicate lsoa_code "
                            f"{df.loc[dup, 'lsoa_code'].iloc[0]}",
                            row=int(np.flatnonzero(dup.to_numpy())[0]))
    b = base[["lsoa_code", "rank"]].rename(columns={"rank": "rank_base"})
    b = b.assign(decile_base=rank_decile(b["rank_base"], n_base))
    cohort = b[b["decile_base"] <= max_decile]
    out = cohort.merge(later[["lsoa_code", "rank"]].rename(columns={"rank": "rank_later"}),
                       on="lsoa_code", how="left", validate="one_to_one")
    lost = out["rank_later"].isna()
    if lost.any():
        raise DataError(source, f"{int(lost.sum())} cohort LSOA(s) missing from the later "
                        f"release, e.g. {out.loc[lost, 'lsoa_code'].iloc[0]}")
    out["decile_later"] = rank_decile(out["rank_later"], n_later)
    out["pct_base"] = 100 * out["rank_base"] / n_base
    out["pct_later"] = 100 * out["rank_later"] / n_later
    out["improved"] = (out["decile_later"] > max_decile).astype(int)
    out["pct_gain"] = out["pct_later"] - out["pct_base"]
    cols = ["lsoa_code", "rank_base", "rank_later", "pct_base", "pct_later", "decile_base",
            "decile_later", "improved", "pct_gain"]
    return out[cols].reset_index(drop=True)


def rank_decile(rank: pd.Series | np.ndarray, n: int) -> np.ndarray:
    """Decile (1 = most deprived 10%) of a rank among ``n``: ceil(10 x rank / n), 1..10."""
    r = np.asarray(rank, dtype=float)
    return np.clip(np.ceil(10 * r / n), 1, 10).astype(int)


# --------------------------------------------------------------------------- joining


def join_factors(base: pd.DataFrame, frames: Mapping[str, pd.DataFrame],
                 key: str = "lsoa_code") -> pd.DataFrame:
    """Left-join factor frames onto ``base`` (one row per LSOA) on ``key``, one-to-one.

    Every frame must have unique keys (DataError otherwise); the result has exactly
    ``len(base)`` rows in the same order: no LSOA lost or duplicated. Frames keyed on
    another geography (MSOA, district, ITL3) are joined by the caller through a lookup first.
    """
    if base[key].duplicated().any():
        raise DataError(None, f"base table has duplicate {key}")
    out = base
    for name, f in frames.items():
        if f[key].duplicated().any():
            dup = f.loc[f[key].duplicated(), key].iloc[0]
            raise DataError(None, f"factor frame {name!r} has duplicate {key} {dup}")
        clash = (set(f.columns) - {key}) & set(out.columns)
        if clash:
            raise DataError(None, f"factor frame {name!r} repeats columns {sorted(clash)}")
        out = out.merge(f, on=key, how="left", validate="one_to_one")
    if len(out) != len(base):
        raise DataError(None, f"join changed the row count {len(base)} -> {len(out)}")
    return out


def via_lookup(values: pd.DataFrame, lookup: pd.DataFrame, from_key: str,
               to_key: str = "lsoa_code") -> pd.DataFrame:
    """Attach values held on a larger geography (e.g. MSOA churn, ITL3 growth) to LSOAs.

    ``lookup``: one row per LSOA (``to_key``) with its ``from_key``; ``values``: one row per
    ``from_key``. Returns one row per LSOA of the lookup (DataError if the lookup repeats one).
    """
    if lookup[to_key].duplicated().any():
        raise DataError(None, f"lookup repeats {to_key} {lookup.loc[lookup[to_key].duplicated(), to_key].iloc[0]}")
    if values[from_key].duplicated().any():
        raise DataError(None, f"values repeat {from_key}")
    out = lookup[[to_key, from_key]].merge(values, on=from_key, how="left",
                                            validate="many_to_one")
    return out.drop(columns=[from_key])


# --------------------------------------------------------------------------- modelling


def standardise(df: pd.DataFrame, factors: Iterable[str],
                scaling: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """z-scores of continuous factors (binary ones kept 0/1), using ``scaling`` (factor,
    mean, sd) if given, else the frame's own mean and SD. Returns (z frame, scaling)."""
    factors = list(factors)
    rows = []
    z = df.copy()
    for f in factors:
        binary = f in FACTORS and FACTORS[f].binary
        if scaling is not None and f in set(scaling["factor"]):
            s = scaling.set_index("factor").loc[f]
            mean, sd = float(s["mean"]), float(s["sd"])
        else:
            mean, sd = (0.0, 1.0) if binary else (float(df[f].mean()), float(df[f].std()))
        if not binary:
            if not sd > 0:
                raise DataError(None, f"factor {f!r} has no variation")
            z[f] = (df[f] - mean) / sd
        rows.append({"factor": f, "mean": mean, "sd": sd, "binary": binary})
    return z, pd.DataFrame(rows)


def _single_threaded(fn):
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _one_thread():
            return fn(*args, **kwargs)
    return wrapper


@_single_threaded
def fit_logit(df: pd.DataFrame, outcome: str, factors: list[str], group: str = GROUP):
    """Logistic regression of ``outcome`` (0/1) on ``factors`` (complete cases) with standard
    errors clustered by ``group``. Returns (statsmodels results, odds-ratio table with
    factor, odds_ratio, ci_low, ci_high (95%), p_value, n, post_baseline)."""
    import statsmodels.api as sm

    data = df[[outcome, group, *factors]].dropna()
    if data[outcome].nunique() < 2:
        raise DataError(None, f"outcome {outcome!r} does not vary in {len(data)} rows")
    x = sm.add_constant(data[factors].astype(float), has_constant="add")
    groups = pd.factorize(data[group])[0]
    res = sm.Logit(data[outcome].astype(float), x).fit(
        disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": groups})
    return res, _coef_table(res, factors, len(data), exp=True)


@_single_threaded
def fit_ols(df: pd.DataFrame, outcome: str, factors: list[str], group: str = GROUP):
    """Linear regression of a continuous outcome (e.g. pct_gain), SEs clustered by group.
    Returns (results, table with factor, coef, ci_low, ci_high, p_value, n, post_baseline)."""
    import statsmodels.api as sm

    data = df[[outcome, group, *factors]].dropna()
    x = sm.add_constant(data[factors].astype(float), has_constant="add")
    groups = pd.factorize(data[group])[0]
    res = sm.OLS(data[outcome].astype(float), x).fit(
        cov_type="cluster", cov_kwds={"groups": groups})
    return res, _coef_table(res, factors, len(data), exp=False)


def _coef_table(res, factors: list[str], n: int, exp: bool) -> pd.DataFrame:
    ci = res.conf_int()
    f = np.exp if exp else (lambda v: v)
    col = "odds_ratio" if exp else "coef"
    return pd.DataFrame({
        "factor": factors,
        col: f(res.params[factors].to_numpy()),
        "ci_low": f(ci.loc[factors, 0].to_numpy()),
        "ci_high": f(ci.loc[factors, 1].to_numpy()),
        "p_value": res.pvalues[factors].to_numpy(),
        "n": n,
        "post_baseline": [post_baseline(x) if x in FACTORS else False for x in factors],
    })


@_single_threaded
def grouped_cv(df: pd.DataFrame, outcome: str, factors: list[str], group: str = GROUP,
               n_splits: int = 5, seed: int = 2011) -> pd.DataFrame:
    """Out-of-fold predicted chances from the logistic model, whole districts held out.

    Districts are shuffled (seeded) into ``n_splits`` folds; each fold's districts are
    predicted from a model fitted without them (unpenalised, like the main model). Returns
    the complete-case rows with lsoa_code (if present), the outcome, ``fold`` and ``p_oof``.
    """
    import statsmodels.api as sm

    cols = [c for c in ["lsoa_code"] if c in df.columns]
    data = df[[*cols, outcome, group, *factors]].dropna().reset_index(drop=True)
    districts = pd.unique(data[group])
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(rng.permutation(districts), np.arange(len(districts)) % n_splits,
                       strict=True))
    data["fold"] = data[group].map(fold_of).astype(int)
    x = np.column_stack([np.ones(len(data)), data[factors].to_numpy(float)])
    y = data[outcome].to_numpy(float)
    p = np.full(len(data), np.nan)
    for k in range(n_splits):
        te = data["fold"].to_numpy() == k
        model = sm.Logit(y[~te], x[~te]).fit(disp=0, maxiter=200)
        p[te] = model.predict(x[te])
    data["p_oof"] = p
    return data[[*cols, outcome, group, "fold", "p_oof"]]


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (probability a random improver outranks a non-improver)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(np.asarray(y, int), np.asarray(p, float)))


def calibration(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Observed vs predicted share improving by tenth of predicted chance: bin, n,
    predicted (mean p), observed (share with y = 1)."""
    d = pd.DataFrame({"y": np.asarray(y, int), "p": np.asarray(p, float)})
    d["bin"] = pd.qcut(d["p"].rank(method="first"), bins, labels=False) + 1
    g = d.groupby("bin").agg(n=("y", "size"), predicted=("p", "mean"), observed=("y", "mean"))
    return g.reset_index()


def verdicts(odds: pd.DataFrame, factors_present: Iterable[str]) -> pd.DataFrame:
    """The report's five factors point by point, written from the odds ratios.

    ``odds`` holds rows for model 'full' and 'each' (factor adjusted only for baseline
    deprivation) with factor, odds_ratio, ci_low, ci_high. For each theme the factors in
    ``THEME_FACTORS`` that were in the model are judged: 'holds' when the 95% interval
    excludes 1 in the direction the report implies in the full model, 'holds only on its own'
    when it does so adjusted for baseline deprivation but not in the full model, 'opposite'
    when the interval excludes 1 the other way, else 'not supported'.
    """
    present = set(factors_present)
    rows = []
    for theme, names in THEME_FACTORS.items():
        for name in names:
            if name not in present:
                continue
            f = FACTORS[name]
            r = {"theme": theme, "report_factor": THEMES[theme], "factor": name,
                 "label": f.label, "year": f.year, "post_baseline": f.post_baseline,
                 "expected": "lower chance" if f.expected < 0 else "higher chance"}
            judged = {}
            for model in ("full", "each"):
                row = odds[(odds["model"] == model) & (odds["factor"] == name)]
                if row.empty:
                    judged[model] = None
                    continue
                o = row.iloc[0]
                r[f"or_{model}"], r[f"ci_low_{model}"], r[f"ci_high_{model}"] = (
                    o["odds_ratio"], o["ci_low"], o["ci_high"])
                if o["ci_high"] < 1:
                    judged[model] = -1
                elif o["ci_low"] > 1:
                    judged[model] = +1
                else:
                    judged[model] = 0
            if judged.get("full") == f.expected:
                r["verdict"] = "holds"
            elif judged.get("full") == -f.expected and judged.get("full") != 0:
                r["verdict"] = "opposite"
            elif judged.get("each") == f.expected:
                r["verdict"] = "holds only on its own"
            else:
                r["verdict"] = "not supported"
            rows.append(r)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- areas


def contributions(z: pd.DataFrame, coefs: Mapping[str, float],
                  reference: pd.Series) -> pd.DataFrame:
    """Each factor's pull on the log-odds of improving, relative to a reference profile:
    coef x (z - reference z). Positive = weighs for improving. Rows as ``z``."""
    out = pd.DataFrame(index=z.index)
    for f, b in coefs.items():
        out[f] = b * (z[f] - reference[f])
    return out


def similar(z: pd.DataFrame, target: pd.Series, factors: list[str], k: int = 50) -> pd.Index:
    """Index of the ``k`` cohort LSOAs nearest ``target`` on standardised ``factors``
    (Euclidean distance), i.e. similar neighbourhoods at baseline."""
    d = ((z[factors] - target[factors]) ** 2).sum(axis=1, min_count=len(factors))
    return d.dropna().nsmallest(k).index


# --------------------------------------------------------------------------- DfT (optional)


def read_jts0501(path: Path) -> pd.DataFrame:
    """Read the user-supplied DfT JTS0501 table: lsoa_code and ``jobs_access`` (minutes by
    public transport/walk to the nearest employment centre with 500-4,999 jobs, column
    ``500EmpPTt``). The sheet with the latest year is used; header row located by the
    ``LSOA_code`` cell. Raises DataError naming the file when the layout is not found."""
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    best = None
    for name, raw in sheets.items():
        hits = np.argwhere(raw.astype(str).apply(lambda c: c.str.strip().str.lower())
                           .to_numpy() == "lsoa_code")
        if len(hits) == 0:
            continue
        r, c = hits[0]
        head = raw.iloc[r].astype(str).str.strip().tolist()
        if "500EmpPTt" not in head:
            continue
        year = pd.to_numeric(pd.Series([name]).str.extract(r"(\d{4})")[0]).iloc[0]
        if best is None or (year if year == year else 0) > best[0]:
            best = (year if year == year else 0, raw, r, c, head)
    if best is None:
        raise DataError(path, "no sheet with an 'LSOA_code' header and a '500EmpPTt' column")
    _, raw, r, c, head = best
    body = raw.iloc[r + 1:]
    out = pd.DataFrame({"lsoa_code": body.iloc[:, c].astype(str).str.strip(),
                        "jobs_access": pd.to_numeric(body.iloc[:, head.index("500EmpPTt")],
                                                     errors="coerce")})
    out = out[out["lsoa_code"].str.match(r"^E010\d{5}$")]
    if out.empty:
        raise DataError(path, "no English LSOA codes under the LSOA_code header")
    return out.drop_duplicates("lsoa_code").reset_index(drop=True)


# --------------------------------------------------------------------------- inputs

#: IoD measures read at baseline (2010 scores, carried to 2011 LSOAs).
BASE_MEASURES: tuple[str, ...] = (*OUTCOME_MEASURES, "adult_skills", "children_young_people",
                                  "geographical_barriers", "wider_barriers")
ROAD_DISTANCE_INDICATORS: tuple[str, ...] = (
    "road_distance_to_a_post_office_indicator_km",
    "road_distance_to_a_primary_school_indicator_km",
    "road_distance_to_general_store_or_supermarket_indicator_km",
    "road_distance_to_a_gp_surgery_indicator_km",
)
N11 = config.ENGLAND_LSOAS[2011]


def _carry(df: pd.DataFrame, from_vintage: int, to_vintage: int, value_cols: list[str],
           how: str) -> pd.DataFrame:
    """Carry per-LSOA values across vintages with the shared ``lookups.carry`` (``how``:
    'mean' = overlap-population-weighted mean, for scores and shares; 'rerank' = weighted
    mean rank re-ranked 1..n on the target LSOAs). Returns lsoa_code + value_cols."""

    out = lookups.carry(df[["lsoa_code", *value_cols]], value_cols, from_vintage, to_vintage,
                        how=how)
    return out[["lsoa_code", *value_cols]]


def release_on_2011(release: int, measures: Iterable[str]) -> pd.DataFrame:
    """One row per LSOA 2011: ``<m>_score`` (NaN where the release has none) and ``<m>_rank``
    among England's 2011 LSOAs. Native 2011 releases keep their published ranks; others have
    scores carried with ``lookups.carry`` (population-weighted mean) and ranks carried and
    re-ranked 1..n on 2011 LSOAs (``how='rerank'``, caveat RISK-5)."""

    measures = list(measures)
    w = iod.wide(release, measures, values=("score", "rank"))
    vintage = int(w["lsoa_vintage"].iloc[0])
    if vintage == 2011:
        cols = ["lsoa_code"] + [c for m in measures for c in (f"{m}_score", f"{m}_rank")
                                if c in w.columns]
        return w[cols].reset_index(drop=True)
    score_cols = [f"{m}_score" for m in measures if f"{m}_score" in w.columns]
    rank_cols = [f"{m}_rank" for m in measures if f"{m}_rank" in w.columns]
    scores = _carry(w, vintage, 2011, score_cols, how="mean")
    ranks = _carry(w, vintage, 2011, rank_cols, how="rerank")
    return scores.merge(ranks, on="lsoa_code", validate="one_to_one")


def district_lookup() -> pd.DataFrame:
    """LSOA 2011 -> district (IoD 2019's: lad_code, lad_name), one row per LSOA."""

    d = iod.load(releases=[2019], measures="imd")
    return d[["lsoa_code", "lad_code", "lad_name"]].drop_duplicates("lsoa_code")


def tenure_on_2011() -> pd.DataFrame:
    """Census 2021 tenure shares (% of households) carried from LSOA 2021 to LSOA 2011
    (population-weighted mean of the shares). Owner occupied includes shared ownership;
    private rented includes living rent free (``census.GROUPS``)."""

    cols = {}
    for k in ("social_rented", "private_rented", "owner_occupied"):
        cols[k] = 100 * census.lsoa_measure("tenure", k)
    df = pd.DataFrame(cols).rename_axis("lsoa_code").reset_index()
    return _carry(df, 2021, 2011, list(cols), how="mean")


def churn_on_2011() -> pd.DataFrame:
    """Census 2021 churn (% of residents who moved in during the year, MSOA 2021) given to
    each LSOA 2021 of the MSOA, then carried to LSOA 2011 (mean)."""

    ch = (100 * census.lsoa_measure("migration", "churn", key="msoa_code")).rename("churn")
    geo = lookups.geography(2021)[["lsoa_code", "msoa_code"]]
    per21 = via_lookup(ch.reset_index(), geo, "msoa_code")
    return _carry(per21, 2021, 2011, ["churn"], how="mean")


def road_distance_2019() -> pd.DataFrame:
    """Mean of the four IoD 2019 road-distance indicators (km), LSOA 2011."""

    ind = pd.read_parquet(iod.INDICATORS_FILE, filters=[("release", "=", 2019)])
    ind = ind[ind["indicator"].isin(ROAD_DISTANCE_INDICATORS)]
    if ind["indicator"].nunique() != len(ROAD_DISTANCE_INDICATORS):
        raise DataError(iod.INDICATORS_FILE, "IoD 2019 road-distance indicators missing")
    w = ind.pivot_table(index="lsoa_code", columns="indicator", values="value")
    return w.mean(axis=1).rename("road_distance").reset_index()


def rural_2011() -> pd.DataFrame:
    """Rural (1) / urban (0) from the 2011 rural-urban classification, LSOA 2011."""

    g = lookups.geography(2011)[["lsoa_code", "ruc"]]
    return pd.DataFrame({"lsoa_code": g["lsoa_code"],
                         "rural": g["ruc"].astype(str).str.lower().str.startswith("rural")
                         .astype(float).where(g["ruc"].notna())})


def gva_growth(start: int = BASELINE, end: int = 2019) -> pd.DataFrame:
    """Real GVA growth (% a year) of each LSOA 2011's ITL3 sub-region, ``start``-``end``."""

    g = economy.itl3_growth(start, end)[["itl3_code", "itl3_name", "annual_pct"]]
    lk = economy.lsoa_itl3(2011)[["lsoa_code", "itl3_code"]]
    out = lk.merge(g.rename(columns={"annual_pct": "gva_growth"}), on="itl3_code",
                   how="left", validate="many_to_one")
    return out


def jobs_access() -> pd.DataFrame | None:
    """DfT JTS0501 travel time to jobs if the user supplied the file, else None (proxies)."""
    p = catalogue.optional_path("dft_jts0501_lsoa")
    return read_jts0501(p) if p is not None else None


# --------------------------------------------------------------------------- analysis table


def build_table(base: pd.DataFrame, later: Mapping[int, pd.DataFrame], districts: pd.DataFrame,
                factor_frames: Mapping[str, pd.DataFrame], n: int = N11) -> pd.DataFrame:
    """The England-wide analysis table: one row per LSOA 2011 in the most deprived 20% on
    the IMD 2010 (``cohort10`` marks the most deprived 10%).

    ``base``: lsoa_code, ``<m>_score`` and ``<m>_rank`` for the IMD and domains at 2010 (on
    2011 LSOAs, ``n`` of them ranked); ``later``: release -> lsoa_code, ``imd_rank`` (2011 LSOAs);
    ``districts``: lsoa_code, lad_code, lad_name; ``factor_frames``: name -> lsoa_code + the
    factor columns. Columns: lsoa_code, lad_code, lad_name, cohort10, imd_score, imd_rank,
    imd_decile (2010), the baseline scores under their factor names, for each release r
    ``imd_rank_r``, ``improved10_r`` (left the most deprived 10%; cohort10 rows only),
    ``improved20_r`` (left the most deprived 20%), ``pct_gain_r``; then the factors.
    """
    b = base.rename(columns={"imd_rank": "rank"})
    cohort = None
    for r, lat in sorted(later.items()):
        lat = lat.rename(columns={"imd_rank": "rank"})[["lsoa_code", "rank"]]
        n_later = int(lat["rank"].notna().sum())
        o20 = outcomes(b[["lsoa_code", "rank"]], lat, n, n_later, max_decile=2,
                       source=f"IMD {r}")
        o20 = o20.rename(columns={"improved": f"improved20_{r}", "pct_gain": f"pct_gain_{r}",
                                  "rank_later": f"imd_rank_{r}"})
        o20[f"improved10_{r}"] = np.where(o20["decile_base"] == 1,
                                          (o20["decile_later"] > 1).astype(float), np.nan)
        keep = ["lsoa_code", f"imd_rank_{r}", f"improved10_{r}", f"improved20_{r}",
                f"pct_gain_{r}"]
        if cohort is None:
            cohort = o20[["lsoa_code", "rank_base", "decile_base", *keep[1:]]]
        else:
            cohort = cohort.merge(o20[keep], on="lsoa_code", validate="one_to_one")
    cohort = cohort.rename(columns={"rank_base": "imd_rank", "decile_base": "imd_decile"})
    cohort.insert(1, "cohort10", cohort["imd_decile"] == 1)
    scores = base[["lsoa_code"] + [c for c in base.columns if c.endswith("_score")]]
    scores = scores.rename(columns=lambda c: c.removesuffix("_score") if c != "imd_score"
                           else c)
    out = join_factors(cohort, {"districts": districts[["lsoa_code", "lad_code", "lad_name"]],
                                "baseline": scores.drop(columns=[c for c in ("imd_rank",)
                                                                 if c in scores]),
                                **factor_frames})
    if out["lad_code"].isna().any():
        raise DataError(None, f"{int(out['lad_code'].isna().sum())} cohort LSOAs have no district")
    front = ["lsoa_code", "lad_code", "lad_name", "cohort10", "imd_score", "imd_rank",
             "imd_decile"]
    return out[front + [c for c in out.columns if c not in front]]


def domain_outcomes(base: pd.DataFrame, later: Mapping[int, pd.DataFrame],
                    measures: Iterable[str] = OUTCOME_MEASURES, n: int = N11) -> pd.DataFrame:
    """Domain by domain: LSOAs (2011) in the domain's most deprived 10% in 2010, and how many
    had left it by each later release. Columns measure, release, cohort, improved, share."""
    rows = []
    for m in measures:
        if f"{m}_rank" not in base.columns:
            continue
        b = base[["lsoa_code", f"{m}_rank"]].rename(columns={f"{m}_rank": "rank"}).dropna()
        for r, lat in sorted(later.items()):
            if f"{m}_rank" not in lat.columns:
                continue
            la = lat[["lsoa_code", f"{m}_rank"]].rename(columns={f"{m}_rank": "rank"}).dropna()
            o = outcomes(b.merge(la[["lsoa_code"]], on="lsoa_code"), la, n, len(la),
                         source=f"{m} {r}")
            rows.append({"measure": m, "release": r, "cohort": len(o),
                         "improved": int(o["improved"].sum()),
                         "share": float(o["improved"].mean()),
                         "median_pct_gain": float(o["pct_gain"].median())})
    return pd.DataFrame(rows)


def model_factors(table: pd.DataFrame, factors: Iterable[str] = DEFAULT_MODEL) -> list[str]:
    """The factors in ``factors`` present in the table (plus jobs_access when supplied)."""
    fs = [f for f in factors if f in table.columns]
    if "jobs_access" in table.columns and table["jobs_access"].notna().any() \
            and "jobs_access" not in fs:
        fs.append("jobs_access")
    return fs


def run_models(table: pd.DataFrame, factors: list[str],
               releases: Iterable[int] = OUTCOME_RELEASES,
               cohorts: Iterable[int] = (10, 20), n_splits: int = 5) -> dict[str, pd.DataFrame]:
    """Fit every model: for each outcome release and cohort (10% main, 20% sensitivity) the
    full logistic model, each non-baseline factor alone with the baseline IMD score, the
    linear model of percentile gain, and grouped cross-validation.

    Returns frames: odds (model, release, cohort, factor, odds_ratio/coef, ci, p, n,
    post_baseline), cv (release, cohort, auc, auc_in_sample, auc_imd_only (the 2010 IMD
    score alone, districts held out), n, plus calibration rows),
    predictions (lsoa_code, release, cohort, p_model, p_oof), scaling.
    """
    with _one_thread():
        return _run_models(table, factors, releases, cohorts, n_splits)


def _run_models(table, factors, releases, cohorts, n_splits) -> dict[str, pd.DataFrame]:
    odds, cvs, preds, scal = [], [], [], []
    for c in cohorts:
        data = table[table["cohort10"]] if c == 10 else table
        z, scaling = standardise(data, [*factors, "imd_score"])
        scal.append(scaling.assign(cohort=c))
        for r in releases:
            y = f"improved{c}_{r}"
            tag = {"release": r, "cohort": c}
            res, t = fit_logit(z, y, factors)
            odds.append(t.assign(model="full", outcome=y, **tag))
            for f in factors:
                if FACTORS[f].theme == "baseline":
                    continue
                _, t1 = fit_logit(z, y, ["imd_score", f])
                odds.append(t1[t1["factor"] == f].assign(model="each", outcome=y, **tag))
            _, tl = fit_ols(z, f"pct_gain_{r}", factors)
            odds.append(tl.assign(model="ols_pct_gain", outcome=f"pct_gain_{r}", **tag))
            cv = grouped_cv(z, y, factors, n_splits=n_splits)
            cv0 = grouped_cv(z, y, ["imd_score"], n_splits=n_splits)
            cc = z[["lsoa_code", y, *factors]].dropna()
            p_in = res.predict(np.column_stack([np.ones(len(cc)), cc[factors].to_numpy(float)]))
            cal = calibration(cv[y], cv["p_oof"]).assign(kind="calibration", **tag)
            cvs.append(pd.DataFrame([{"kind": "auc", **tag, "n": len(cv),
                                      "auc": auc(cv[y], cv["p_oof"]),
                                      "auc_in_sample": auc(cc[y], p_in),
                                      "auc_imd_only": auc(cv0[y], cv0["p_oof"]),
                                      "observed_share": float(cv[y].mean()),
                                      "n_districts": int(cv[GROUP].nunique())}]))
            cvs.append(cal)
            pr = cc[["lsoa_code"]].assign(p_model=np.asarray(p_in), **tag)
            pr = pr.merge(cv[["lsoa_code", "p_oof"]], on="lsoa_code", how="left",
                          validate="one_to_one")
            preds.append(pr)
    return {"odds": pd.concat(odds, ignore_index=True), "cv": pd.concat(cvs, ignore_index=True),
            "predictions": pd.concat(preds, ignore_index=True),
            "scaling": pd.concat(scal, ignore_index=True)}


# --------------------------------------------------------------------------- prepare / load


def _inputs() -> list[Path]:
    return [iod.IOD_FILE, iod.INDICATORS_FILE, config.PROCESSED_DIR / "census21_lsoa.parquet",
            config.PROCESSED_DIR / "census21_msoa.parquet",
            catalogue.entry("regionalgrossdomesticproductgdpallitlregions").raw_path()]


def build_all() -> dict[str, pd.DataFrame]:
    """Read every input and build the analysis table and all model outputs (no writing)."""
    base = release_on_2011(BASELINE, BASE_MEASURES)
    later = {r: release_on_2011(r, OUTCOME_MEASURES) for r in OUTCOME_RELEASES}
    frames = {"tenure": tenure_on_2011(), "churn": churn_on_2011(),
              "road_distance": road_distance_2019(), "rural": rural_2011(),
              "gva_growth": gva_growth()}
    jobs = jobs_access()
    if jobs is not None:
        frames["jobs_access"] = jobs
    table = build_table(base, later, district_lookup(), frames, n=int(base["imd_rank"].max()))
    out = run_models(table, model_factors(table))
    out["table"] = table
    out["domains"] = domain_outcomes(base, later, n=int(base["imd_rank"].max()))
    odds = out["odds"]
    out["verdicts"] = pd.concat(
        [verdicts(odds[(odds["release"] == r) & (odds["cohort"] == c)], model_factors(table))
         .assign(release=r, cohort=c) for r in OUTCOME_RELEASES for c in (10, 20)],
        ignore_index=True)
    return out


def prepare(force: bool = False) -> list[Path]:
    """Build ``risk_*.parquet`` in data/processed/ (skipped when newer than the inputs)."""
    outputs = list(OUT_FILES.values())
    if not force and _stage_fresh(outputs, _inputs()):
        return outputs
    t0 = time.perf_counter()
    out = build_all()
    for key, path in OUT_FILES.items():
        write_parquet(out[key], path)
    t = out["table"]
    print(f"  risk: cohort {int(t['cohort10'].sum()):,} (10%) / {len(t):,} (20%) LSOAs, "
          f"{time.perf_counter() - t0:.1f} s")
    return outputs


def load(name: str) -> pd.DataFrame:
    """One risk output by key (table, odds, cv, predictions, verdicts, domains, scaling)."""
    if name not in OUT_FILES:
        raise KeyError(f"unknown risk output {name!r}; choose from {list(OUT_FILES)}")
    path = OUT_FILES[name]
    if not path.exists():
        raise FileNotFoundError(f"{path} not built: run `evidence-pack prepare risk`")
    return pd.read_parquet(path)


# --------------------------------------------------------------------------- target areas

#: Baseline factors used to find similar neighbourhoods (IoD 2010 domain/sub-domain scores).
SIMILARITY_FACTORS: tuple[str, ...] = ("income", "employment", "health", "crime",
                                       "living_environment", "children_young_people",
                                       "adult_skills", "wider_barriers",
                                       "geographical_barriers")


def score_areas(members11: pd.DataFrame, release: int = 2025, cohort: int = 10,
                k_similar: int = 50, outputs: Mapping[str, pd.DataFrame] | None = None
                ) -> dict[str, pd.DataFrame]:
    """Score target areas against the England-wide model.

    ``members11``: slug, name, lsoa_code (2011), weight (``areas.members(set, 2011)``).
    Returns ``lsoas`` (one row per member LSOA: in_cohort, IMD ranks, predicted chance
    (in-sample ``p_model`` and district-held-out ``p_oof``), observed ``improved``),
    ``areas`` (per area: LSOAs, in cohort, predicted chance (weighted mean), expected and
    observed number improving, and the same for similar neighbourhoods), and ``factors``
    (per area x factor: the area's value, the England cohort's and similar neighbourhoods'
    mean, and the pull on the log-odds of improving vs each: positive = weighs for).
    Similar neighbourhoods: the ``k_similar`` cohort LSOAs outside the area's district
    nearest each member LSOA on the baseline scores in ``SIMILARITY_FACTORS``.
    """
    o = outputs or {k: load(k) for k in ("table", "odds", "predictions", "scaling")}
    table, odds, preds, scaling = o["table"], o["odds"], o["predictions"], o["scaling"]
    data = table[table["cohort10"]] if cohort == 10 else table
    y = f"improved{cohort}_{release}"
    sc = scaling[scaling["cohort"] == cohort]
    factors = list(odds[(odds["model"] == "full") & (odds["release"] == release)
                        & (odds["cohort"] == cohort)]["factor"])
    coefs = odds[(odds["model"] == "full") & (odds["release"] == release)
                 & (odds["cohort"] == cohort)].set_index("factor")["odds_ratio"].map(np.log)
    z, _ = standardise(data, factors, scaling=sc)
    z = z.set_index("lsoa_code")
    zs, _ = standardise(data, SIMILARITY_FACTORS)
    pr = preds[(preds["release"] == release) & (preds["cohort"] == cohort)]
    lsoas = members11.merge(
        table[["lsoa_code", "lad_code", "imd_rank", "imd_decile", f"imd_rank_{release}", y]],
        on="lsoa_code", how="left", validate="many_to_one")
    in_data = set(data["lsoa_code"])  # (Series.isin on pandas 3 strings is slow)
    lsoas["in_cohort"] = [c in in_data for c in lsoas["lsoa_code"]]
    lsoas = lsoas.merge(pr[["lsoa_code", "p_model", "p_oof"]], on="lsoa_code", how="left",
                        validate="many_to_one").rename(columns={y: "improved"})
    sim_pool = zs.set_index("lsoa_code")[list(SIMILARITY_FACTORS)].dropna()
    area_rows, factor_rows = [], []
    england_ref = pd.Series(0.0, index=factors)  # z = 0 is the cohort mean (binary: share)
    for f in factors:
        if FACTORS[f].binary:
            england_ref[f] = float(data[f].mean())
    for slug, g in lsoas.groupby("slug", sort=False):
        inc = g[g["in_cohort"] & g["p_model"].notna()]
        w = inc["weight"]
        sims: list[str] = []
        for code in inc["lsoa_code"]:
            district = table.loc[table["lsoa_code"] == code, "lad_code"].iloc[0]
            own = set(table.loc[table["lad_code"] == district, "lsoa_code"])
            pool = sim_pool[[c not in own for c in sim_pool.index]]
            sims.extend(similar(pool, sim_pool.loc[code], list(SIMILARITY_FACTORS), k_similar))
        sims = list(dict.fromkeys(sims))
        sim_rows = data.set_index("lsoa_code").loc[sims] if sims else data.iloc[:0]
        sim_pred = pr.set_index("lsoa_code").reindex(sims)["p_model"]
        area_rows.append({
            "slug": slug, "name": g["name"].iloc[0], "lsoas": len(g),
            "in_cohort": int(g["in_cohort"].sum()),
            "predicted": float(np.average(inc["p_model"], weights=w)) if len(inc) else np.nan,
            "predicted_oof": float(np.average(inc["p_oof"], weights=w)) if len(inc) else np.nan,
            "expected_improving": float((inc["p_model"] * w).sum()),
            "observed_improving": float((inc["improved"] * w).sum()),
            "similar_n": len(sims),
            "similar_predicted": float(sim_pred.mean()) if sims else np.nan,
            "similar_observed": float(sim_rows[y].mean()) if sims else np.nan,
        })
        if not len(inc):
            continue
        zi = z.loc[inc["lsoa_code"], factors]
        z_area = (zi.mul(w.to_numpy(), axis=0).sum() / w.sum())
        z_sim = z.loc[sims, factors].mean() if sims else england_ref
        raw_area = (data.set_index("lsoa_code").loc[inc["lsoa_code"], factors]
                    .mul(w.to_numpy(), axis=0).sum() / w.sum())
        for f in factors:
            ref_e = england_ref[f] if FACTORS[f].binary else 0.0
            factor_rows.append({
                "slug": slug, "factor": f, "label": FACTORS[f].label,
                "theme": FACTORS[f].theme, "year": FACTORS[f].year,
                "post_baseline": FACTORS[f].post_baseline,
                "odds_ratio": float(np.exp(coefs[f])),
                "value_area": float(raw_area[f]),
                "value_england_cohort": float(data[f].mean()),
                "value_similar": float(sim_rows[f].mean()) if sims else np.nan,
                "pull_vs_england": float(coefs[f] * (z_area[f] - ref_e)),
                "pull_vs_similar": float(coefs[f] * (z_area[f] - z_sim[f])),
            })
    return {"lsoas": lsoas, "areas": pd.DataFrame(area_rows),
            "factors": pd.DataFrame(factor_rows)}


# --------------------------------------------------------------------------- vulnerability

#: The 2011 report's list of long-term problems (section 7.2) -> IoD 2019/2025 evidence.
#: (theme, release, kind, key, label). kind: 'indicator' (iod_indicators, higher = worse),
#: 'rate' (employment numerator / working-age population, %), 'domain' (IoD domain rank).
VULNERABILITY: dict[str, str] = {
    "health": "Poor health including mental health, and high rates of disability",
    "skills": "Low educational attainment and low adult skills",
    "worklessness": "High levels of long-term unemployment and sickness",
    "crime": "High crime and anti-social behaviour",
    "housing": "Poor quality housing and environmental problems",
}
_I = "indicator"
DOMAIN_LABEL = "{} domain (% of England less deprived)"
VULNERABILITY_INDICATORS: tuple[tuple[str, int, str, str, str], ...] = (
    ("health", 2019, _I, "comparative_illness_and_disability_ratio_indicator",
     "Illness and disability ratio (100 = England average)"),
    ("health", 2019, _I, "years_of_potential_life_lost_indicator", "Years of potential life lost"),
    ("health", 2019, _I, "mood_and_anxiety_disorders_indicator", "Mood and anxiety disorders"),
    ("health", 2025, _I, "comparative_illness_and_disability_ratio_indicator",
     "Illness and disability ratio (100 = England average)"),
    ("health", 2025, _I, "years_of_potential_life_lost_indicator", "Years of potential life lost"),
    ("health", 2025, _I, "mental_health_indicator", "Mental health"),
    ("skills", 2019, _I, "adult_skills_and_english_language_proficiency_indicator",
     "Adults without qualifications or English (share)"),
    ("skills", 2019, _I, "staying_on_in_education_post_16_indicator",
     "Not staying on in education after 16 (share)"),
    ("skills", 2019, _I, "entry_to_higher_education_indicator",
     "Not entering higher education (share)"),
    ("skills", 2019, "domain", "education", DOMAIN_LABEL.format("Education, skills and training")),
    ("skills", 2025, _I, "adult_skills_and_english_language_proficiency_indicator",
     "Adults without qualifications or English (share)"),
    ("skills", 2025, _I, "entry_to_higher_education_indicator",
     "Not entering higher education (share)"),
    ("skills", 2025, "domain", "education", DOMAIN_LABEL.format("Education, skills and training")),
    ("worklessness", 2019, "rate", "employment_domain_numerator",
     "Working-age people out of work through unemployment, sickness or disability (%)"),
    ("worklessness", 2019, "domain", "employment", DOMAIN_LABEL.format("Employment")),
    ("worklessness", 2025, "domain", "employment", DOMAIN_LABEL.format("Employment")),
    ("crime", 2019, "domain", "crime", DOMAIN_LABEL.format("Crime")),
    ("crime", 2025, _I, "anti_social_behaviour_rate_per_1_000_at_risk_population",
     "Anti-social behaviour per 1,000 residents"),
    ("crime", 2025, _I, "violence_with_injury_rate_per_1_000_at_risk_population",
     "Violence with injury per 1,000 residents"),
    ("crime", 2025, _I, "burglary_rate_per_1_000_at_risk_properties",
     "Burglary per 1,000 properties"),
    ("crime", 2025, "domain", "crime", DOMAIN_LABEL.format("Crime")),
    ("housing", 2019, _I, "housing_in_poor_condition_indicator",
     "Housing in poor condition (share)"),
    ("housing", 2019, _I, "houses_without_central_heating_indicator",
     "Homes without central heating (share)"),
    ("housing", 2019, _I, "household_overcrowding_indicator", "Overcrowded households (share)"),
    ("housing", 2019, _I, "air_quality_indicator", "Air quality"),
    ("housing", 2019, "domain", "living_environment", DOMAIN_LABEL.format("Living environment")),
    ("housing", 2025, _I, "household_overcrowding_indicator_bedrooms",
     "Overcrowded households, bedrooms (share)"),
    ("housing", 2025, "domain", "living_environment", DOMAIN_LABEL.format("Living environment")),
)


def england_values(release: int) -> pd.DataFrame:
    """Every LSOA's value of each vulnerability measure for ``release`` (its own LSOA vintage):
    lsoa_code, key, kind, value (higher = worse; for domains the rank turned into the share of
    England less deprived, 0-100)."""

    specs = [s for s in VULNERABILITY_INDICATORS if s[1] == release]
    ind_keys = [s[3] for s in specs if s[2] in (_I, "rate")]
    ind = pd.read_parquet(iod.INDICATORS_FILE, filters=[("release", "=", release)])
    ind = ind[ind["indicator"].isin(ind_keys)][["lsoa_code", "indicator", "value"]]
    frames = []
    for key in ind_keys:
        v = ind[ind["indicator"] == key][["lsoa_code", "value"]].assign(key=key)
        kind = next(s[2] for s in specs if s[3] == key)
        if kind == "rate":
            pop = pd.read_parquet(iod.POPULATION_FILE)
            pop = pop.sort_values("year").drop_duplicates("lsoa_code")  # IoD 2019 denominators
            v = v.merge(pop[["lsoa_code", "working_age"]], on="lsoa_code", how="left")
            v["value"] = 100 * v["value"] / v["working_age"]
            v = v.drop(columns="working_age")
        frames.append(v.assign(kind=kind))
    doms = [s[3] for s in specs if s[2] == "domain"]
    if doms:
        d = iod.load(releases=[release], measures=doms)
        n = d.groupby("measure")["rank"].transform("count")
        frames.append(pd.DataFrame({"lsoa_code": d["lsoa_code"], "key": d["measure"],
                                    "kind": "domain",
                                    "value": 100 * (1 - (d["rank"] - 1) / n)}))
    return pd.concat(frames, ignore_index=True)


def vulnerability(members: Mapping[int, pd.DataFrame],
                  values: Mapping[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """For each area, the report's five long-term problems as the IoD 2019 and 2025 show them.

    ``members``: release -> areas.members() on that release's LSOA vintage (2019: 2011,
    2025: 2021). ``values``: release -> ``england_values(release)`` (read when None). The
    area's value is the member-weighted mean over its LSOAs; ``percentile`` = share of
    England's LSOAs with a lower (better) value, 0-100. ``level``: 'worst 10%' (>= 90),
    'worst 20%' (>= 80), 'worse than average' (>= 50) or 'better than average'.
    Columns: slug, theme, problem, release, key, label, value, england_median, percentile,
    level.
    """
    rows = []
    for release, m in members.items():
        vals = values[release] if values is not None else england_values(release)
        for theme, rel, kind, key, label in VULNERABILITY_INDICATORS:
            if rel != release:
                continue
            ev = vals[vals["key"] == key].dropna(subset=["value"])
            ser = ev.set_index("lsoa_code")["value"]
            sorted_vals = np.sort(ser.to_numpy())
            for slug, g in m.groupby("slug", sort=False):
                v = ser.reindex(g["lsoa_code"])
                ok = v.notna().to_numpy()
                if not ok.any():
                    continue
                val = float(np.average(v.to_numpy()[ok], weights=g["weight"].to_numpy()[ok]))
                pct = 100 * np.searchsorted(sorted_vals, val, side="left") / len(sorted_vals)
                rows.append({"slug": slug, "theme": theme, "problem": VULNERABILITY[theme],
                             "release": release, "key": key, "kind": kind, "label": label,
                             "value": val, "england_median": float(np.median(sorted_vals)),
                             "percentile": float(pct), "level": _level(pct)})
    return pd.DataFrame(rows)


def _level(pct: float) -> str:
    if pct >= 90:
        return "worst 10%"
    if pct >= 80:
        return "worst 20%"
    if pct >= 50:
        return "worse than average"
    return "better than average"


def explain_verdicts(v: pd.DataFrame, scaling: pd.DataFrame, release: int = 2025,
                     cohort: int = 10) -> pd.DataFrame:
    """One plain-English sentence per factor judged in ``verdicts`` (for ``release`` and
    ``cohort``), written from the odds ratios and the SD of each factor. Columns theme,
    report_factor, factor, verdict, sentence."""
    sel = v[(v["release"] == release) & (v["cohort"] == cohort)]
    sd = scaling[scaling["cohort"] == cohort].set_index("factor")["sd"]
    rows = []
    for _, r in sel.iterrows():
        f = FACTORS[r["factor"]]
        per = f"per {sd[r['factor']]:.1f} {f.unit} more" if not f.binary else "if rural"
        if r["theme"] == "tenure":
            per += " (in place of owner occupation)"
        when = (f"Measured in {f.year}, after the 2010 baseline, so it may reflect the change "
                "as much as predict it." if f.post_baseline
                else f"Measured in {f.year}, at the baseline.")
        verdict = {"holds": "holds", "opposite": "goes the other way",
                   "holds only on its own": "holds on its own but not once the other "
                   "factors are allowed for", "not supported": "is not supported"}[r["verdict"]]
        sentence = (
            f"{THEMES[r['theme']]}, measured as {_lower_first(f.label.split(' (')[0])}: the report's claim "
            f"{verdict}. The odds of leaving the most deprived {cohort}% by {release} were "
            f"x{r['or_full']:.2f} {per} (95% interval {r['ci_low_full']:.2f} to "
            f"{r['ci_high_full']:.2f}) with every factor in the model, and x{r['or_each']:.2f} "
            f"({r['ci_low_each']:.2f} to {r['ci_high_each']:.2f}) allowing only for how "
            f"deprived the neighbourhood was in 2010. {when}")
        rows.append({"theme": r["theme"], "report_factor": r["report_factor"],
                     "factor": r["factor"], "verdict": r["verdict"], "sentence": sentence})
    return pd.DataFrame(rows)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _stage_fresh(outputs: list[Path], inputs: list[Path]) -> bool:
    """The shared freshness rule, with this module's code counted as an input."""
    return is_fresh(outputs, [*inputs, Path(__file__)])
