"""Benchmark the England-wide risk model (issue 5 quality bar: fit in under 20 s).

Times, on the real analysis table (``risk_table.parquet``; built by ``evidence-pack prepare``
or, if absent, here): the main fit (logistic model with district-clustered SEs, 10% cohort,
2010->2025) with its grouped cross-validation, and every model the stage fits
(2 outcome releases x 2 cohorts x full, one-at-a-time, percentile-gain and CV models).
Without the processed store it falls back to a synthetic England-sized cohort.

``--notebooks``: times ``notebooks/risk_factors.ipynb`` for the borough and one area
(papermill with a fresh kernel, then run after run in one warm process; see
``bench_evaluation.time_notebook``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_evaluation import time_notebook
from evidence_pack.analysis import risk
from evidence_pack.analysis import risk_model as model
from evidence_pack.analysis import risk_spec as spec


def _table() -> tuple[pd.DataFrame, str]:
    try:
        return risk.load("table"), "real analysis table"
    except FileNotFoundError:
        pass
    try:
        t0 = time.perf_counter()
        risk.prepare()
        print(f"prepare risk (inputs + table + models): {time.perf_counter() - t0:.1f} s")
        return risk.load("table"), "real analysis table"
    except Exception as exc:  # no processed store: synthetic stand-in of the same size
        print(f"processed store unavailable ({exc.__class__.__name__}); synthetic cohort")
    rng = np.random.default_rng(0)
    n = 6568
    df = pd.DataFrame({f: rng.normal(size=n) for f in spec.DEFAULT_MODEL})
    df["rural"] = (rng.random(n) < 0.02).astype(float)
    df["imd_score"] = rng.normal(size=n)
    df["lsoa_code"] = [f"E01{i:06d}" for i in range(n)]
    df["lad_code"] = rng.integers(0, 250, n).astype(str)
    df["cohort10"] = np.arange(n) < n // 2
    lin = df[list(spec.DEFAULT_MODEL)].to_numpy() @ np.linspace(-0.5, 0.5, len(spec.DEFAULT_MODEL))
    for r in spec.OUTCOME_RELEASES:
        p = 1 / (1 + np.exp(-(lin - 1.3)))
        df[f"improved20_{r}"] = (rng.random(n) < p).astype(int)
        df[f"improved10_{r}"] = df[f"improved20_{r}"].where(df["cohort10"])
        df[f"pct_gain_{r}"] = lin + rng.normal(size=n)
    return df, "synthetic cohort"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebooks", action="store_true", help="time the notebook per report")
    ap.add_argument("--area", default="canklow", help="the area run beside the borough")
    ap.add_argument("--notebooks-dir", type=Path, default=None)
    args = ap.parse_args()
    if args.notebooks:
        time_notebook("risk_factors", ["borough", args.area], notebooks_dir=args.notebooks_dir)
        return
    table, what = _table()
    factors = model.model_factors(table)
    cohort = table[table["cohort10"]]
    print(f"{what}: {int(table['cohort10'].sum()):,} LSOAs (10%), {len(table):,} (20%), "
          f"{len(factors)} factors")
    import statsmodels.api  # noqa: F401  (import time is not fit time)

    t0 = time.perf_counter()
    z, _ = model.standardise(cohort, factors)
    _, odds = model.fit_logit(z, "improved10_2025", factors)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    cv = model.grouped_cv(z, "improved10_2025", factors)
    t_cv = time.perf_counter() - t0
    print(f"main fit (logit, clustered SEs, {len(z):,} rows): {t_fit:.2f} s")
    print(f"grouped 5-fold CV by district: {t_cv:.2f} s (AUC {model.auc(cv['improved10_2025'], cv['p_oof']):.3f})")
    t0 = time.perf_counter()
    out = model.run_models(table, factors)
    t_all = time.perf_counter() - t0
    print(f"all models ({len(out['odds'])} coefficient rows, 4 CV runs): {t_all:.2f} s")
    print(f"England-wide fit total (main fit + CV): {t_fit + t_cv:.2f} s (target < 20 s)")


if __name__ == "__main__":
    main()
