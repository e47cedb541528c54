"""Evaluation matching: comparison LSOAs for each target LSOA, and the balance they achieve.

Nearest neighbours (with replacement) on standardised 2010 percentiles and the 2004-2010 IMD
change, exact on the rural-urban class, within a caliper (a largest allowed distance, in
England standard deviations). Balance: standardised mean differences (SMD) before and after.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evidence_pack.analysis.evaluation_panel import BASE, DOMAINS, col
from evidence_pack.sources.io import DataError


@dataclass(frozen=True)
class MatchSpec:
    """How comparison LSOAs are chosen (described for readers by
    ``findings.evaluation.matching_text``).

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


def match(units: pd.DataFrame, treated: Sequence[str], exclude_lad: str | Iterable[str],
          spec: MatchSpec = MatchSpec()) -> pd.DataFrame:
    """Nearest-neighbour matches for each treated LSOA.

    ``units``: one row per LSOA (index = code) with the spec's variables, the exact-match
    columns and ``lad_code``. Candidates are all LSOAs outside ``exclude_lad`` with complete
    variables. Variables are standardised by their England standard deviation.
    Returns rows (treated, control, distance, rank, outside_caliper).
    """
    from scipy.spatial import cKDTree  # heavy import: only when matching


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
    return _balance(units, *_pool(units, exclude_lad), matches, variables)


def balance_by_group(units: pd.DataFrame, matches: pd.DataFrame, groups: pd.Series,
                     variables: Sequence[str], exclude_lad: str | Iterable[str]
                     ) -> pd.DataFrame:
    """``balance`` of all treated LSOAs (``group`` "all") then of each group's (``groups``:
    treated LSOA -> slug, in slug order), the units' positions found once for all."""
    index, outside = _pool(units, exclude_lad)
    parts = [_balance(units, index, outside, matches, variables).assign(group="all")]
    for slug, sub in groups.groupby(groups):
        parts.append(_balance(units, index, outside, matches[matches["treated"].isin(sub.index)],
                              variables).assign(group=str(slug)))
    return pd.concat(parts, ignore_index=True)


def _pool(units: pd.DataFrame, exclude_lad: str | Iterable[str]) -> tuple[pd.Index, np.ndarray]:
    """The units' codes as a plain-string index, and which units lie outside ``exclude_lad``."""
    excl = {exclude_lad} if isinstance(exclude_lad, str) else set(exclude_lad)
    index = pd.Index(units.index.to_numpy(dtype=object))
    outside = ~np.isin(units["lad_code"].to_numpy(dtype=object),
                       np.array(sorted(excl), dtype=object))
    return index, outside


def _balance(units: pd.DataFrame, index: pd.Index, outside: np.ndarray,
             matches: pd.DataFrame, variables: Sequence[str]) -> pd.DataFrame:
    """``balance`` given ``_pool``'s index and pool (positions and the pool on numpy arrays,
    not a filtered copy of ``units`` with its text columns, nor a label lookup a variable)."""
    treated = matches["treated"].unique()
    t_pos = _found(index, treated)
    c_pos = _found(index, matches["control"].to_numpy(dtype=object))
    in_pool = outside.copy()
    in_pool[t_pos] = False
    w = 1.0 / matches.groupby("treated")["control"].transform("count")
    rows = []
    for v in variables:
        vals = units[v].to_numpy(float)
        t = vals[t_pos]
        p = vals[in_pool]
        p = p[~np.isnan(p)]
        c = vals[c_pos]
        sd = float(np.sqrt((t.var() + p.var()) / 2))
        rows.append({
            "variable": v, "mean_treated": t.mean(), "mean_england_pool": p.mean(),
            "smd_before": smd(t, p, sd_pooled=sd),
            "mean_matched": float(np.average(c, weights=w)),
            "smd_after": smd(t, c, wb=w.to_numpy(), sd_pooled=sd),
        })
    return pd.DataFrame(rows)


def _found(index: pd.Index, codes) -> np.ndarray:
    """Positions of ``codes`` in ``index``; KeyError naming those not in it (as ``.loc``)."""
    pos = index.get_indexer(np.asarray(codes, dtype=object))
    if (pos < 0).any():
        missing = [c for c, p in zip(codes, pos, strict=True) if p < 0]
        raise KeyError(f"{len(missing)} LSOA(s) not in the units, e.g. {missing[:3]}")
    return pos
