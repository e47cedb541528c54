"""Risk factors: outcomes, joins and the England-wide models.

Outcome: an LSOA in England's most deprived 10% (20%) on the IMD 2010 that left it by a later
release. Model: logistic regression (statsmodels), standard errors clustered by district,
continuous factors standardised (odds ratios per standard deviation across the cohort), with
grouped (district) cross-validation for AUC and calibration. Ranks: 1 = most deprived.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from evidence_pack.analysis.risk_spec import (
    DEFAULT_MODEL,
    FACTORS,
    GROUP,
    OUTCOME_RELEASES,
    THEME_FACTORS,
    THEMES,
    post_baseline,
)
from evidence_pack.sources.io import DataError


def _one_thread():
    """Limit BLAS to one thread: these small fits run 10-100x slower when BLAS threads
    contend on a shared 2-core machine (measured by scripts/bench_risk.py)."""

    return threadpool_limits(limits=1)


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
    import statsmodels.api as sm  # heavy (seconds): only when fitting


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
    import statsmodels.api as sm  # heavy (seconds): only when fitting


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
    import statsmodels.api as sm  # heavy (seconds): only when fitting


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


def model_factors(table: pd.DataFrame, factors: Iterable[str] = DEFAULT_MODEL) -> list[str]:
    """The factors in ``factors`` present in the table."""
    return [f for f in factors if f in table.columns]


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
