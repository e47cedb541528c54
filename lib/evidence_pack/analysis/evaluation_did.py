"""Evaluation estimates: difference-in-differences with bootstrap intervals, context changes
and trajectories, all in percentile points of England (relative to IMD 2010).

Positive = the target LSOAs moved further from the most deprived end than their comparators.
Intervals: 95% percentile bootstrap resampling target LSOAs (or whole areas) and, inside each,
its comparison set (999 draws, fixed seed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evidence_pack.analysis.evaluation_panel import BASE, MEASURES, POST, PRE, RELEASES, col


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


def _at(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values`` at ``positions`` (NaN where a position is -1: not in the panel)."""
    out = values[positions]
    out[positions < 0] = np.nan
    return out


def _positions(panel: pd.DataFrame, codes: list[str]) -> np.ndarray:
    """Positions of ``codes`` in the panel's index; KeyError naming the codes not in it (as
    ``panel.loc[codes]`` raises)."""
    pos = panel.index.get_indexer(pd.Index(codes, dtype=object))
    if (pos < 0).any():
        missing = [c for c, p in zip(codes, pos, strict=True) if p < 0]
        raise KeyError(f"{len(missing)} LSOAs not in the panel, e.g. {missing[:3]}")
    return pos


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
    filled = ctrl != ""
    # positions in the panel, found once (a code not in the panel: -1, read as NaN)
    t_pos = panel.index.get_indexer(pd.Index(treated, dtype=object))
    c_pos = panel.index.get_indexer(pd.Index(ctrl[filled], dtype=object))
    rows = []
    for meas in measures:
        if col(meas, BASE) not in panel:
            continue
        base = panel[col(meas, BASE)].to_numpy(float)
        for rel in releases:
            c = col(meas, rel)
            if c not in panel:
                continue
            change = panel[c].to_numpy(float) - base
            d_t = _at(change, t_pos)
            d_c = np.full(ctrl.shape, np.nan)
            d_c[filled] = _at(change, c_pos)
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
        pos = _positions(panel, codes)  # found once a group, not twice a measure and release
        for meas in measures:
            for rel in (*PRE, *POST):
                if col(meas, rel) not in panel:
                    continue
                d = (panel[col(meas, rel)].to_numpy(float)[pos]
                     - panel[col(meas, BASE)].to_numpy(float)[pos])
                d = d[~np.isnan(d)]
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
    # the panel's columns as one float matrix, read once (not a column a set and release)
    cols = [(meas, rel, col(meas, rel)) for meas in measures for rel in RELEASES
            if col(meas, rel) in panel]
    values = panel[[c for _, _, c in cols]].to_numpy(float)
    index = pd.Index(panel.index.to_numpy(dtype=object))
    for name, codes in members.items():
        codes = list(codes)
        sets: list[tuple[str, np.ndarray, np.ndarray]] = [
            (name, np.asarray(codes, dtype=object), np.ones(len(codes)))]
        if matches is not None:
            mm = matches[matches["treated"].isin(codes)]
            if len(mm):
                w = 1.0 / mm.groupby("treated")["control"].transform("count")
                sets.append((f"{name}__comparators", mm["control"].to_numpy(dtype=object),
                             w.to_numpy()))
        for label, labels, weights in sets:
            # positions found once a set, not once a measure and release (-1: not in the panel)
            pos = index.get_indexer(labels)
            block = values[pos]
            block[pos < 0] = np.nan
            distinct = pd.factorize(labels)[0]  # the set's LSOAs counted once each
            for j, (meas, rel, _) in enumerate(cols):
                v = block[:, j]
                ok = ~np.isnan(v)
                if not ok.any():
                    continue
                rows.append({"group": label, "measure": meas, "release": rel,
                             "mean_pct": float(np.average(v[ok], weights=weights[ok])),
                             "n_lsoas": int(len(np.unique(distinct[ok])))})
    return pd.DataFrame(rows)
