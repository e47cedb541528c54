"""Evaluation tables for readers: readable labels, intervals and readings (no sentences).

Positions are England percentiles, 0 = most deprived; differences in percentile points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from evidence_pack.analysis.evaluation_monitoring import DISTRICT_LEVEL, norm_indicator
from evidence_pack.analysis.evaluation_panel import (
    BASE,
    CONTEXT_DISTRICT_D1,
    CONTEXT_REGION_D1,
    CONTEXT_REST,
    MEASURE_LABELS,
    MEASURES,
    POST,
    PRE,
    SENSITIVITY_OUTSIDE_REGION,
    col,
)
from evidence_pack.findings.format import signed

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


def interval(lo: float, hi: float) -> str:
    """A 95% interval in percentile points: "+1.2 to -0.4" (no negative zero)."""
    return f"{signed(lo)} to {signed(hi)}"


def _interval_text(d: pd.DataFrame) -> list[str]:
    """The 95% intervals of estimate rows (percentile points)."""
    return [interval(lo, hi) for lo, hi in zip(d["ci_low"], d["ci_high"], strict=True)]


def estimate_rows(res: Mapping[str, pd.DataFrame], release: int = 2025,
                  measure: str = "imd") -> pd.DataFrame:
    """The did rows shown by area: all areas together (areas resampled) and each area."""
    d = res["did"]
    d = d[(d["release"] == release) & (d["measure"] == measure)]
    return d[((d["group"] == "all") & (d["cluster"] == "area"))
             | ~d["group"].isin(["all", SENSITIVITY_OUTSIDE_REGION])]


def context_table(res: Mapping[str, pd.DataFrame], district: str,
                  releases: Sequence[int] = POST) -> pd.DataFrame:
    """Change in IMD position since 2010 for the groups that were not targeted (not matched),
    named for the district and its region."""
    ctx = res["context"]
    ctx = ctx[(ctx["measure"] == "imd") & ctx["release"].isin(releases)]
    region = str(ctx["region_name"].iloc[0]) if len(ctx) else "the region"
    labels = {k: v.replace("the region", region).replace("the district", district)
              for k, v in CONTEXT_LABELS.items()}
    return pd.DataFrame({
        "Group": ctx["group"].map(labels), "Change to": "IoD " + ctx["release"].astype(str),
        "LSOAs (2001)": ctx["n_lsoas"], "Change since 2010 (points)": ctx["change"],
        "95% interval": _interval_text(ctx)}).reset_index(drop=True)


def comparator_districts(res: Mapping[str, pd.DataFrame], slug: str | None = None,
                         top: int = 12) -> pd.DataFrame:
    """Districts providing the most comparator LSOAs (all areas, or one area's)."""
    m = res["matches"]
    m = m if slug is None else m[m["area_slug"] == slug]
    units = res["units"].set_index("lsoa_code")
    return (units.loc[m["control"], "lad_name"].value_counts().rename_axis("District")
            .reset_index(name="Comparator LSOAs").head(top))


def reading(lo: float, hi: float) -> str:
    """Plain words for an interval of the difference (positive = targets did better)."""
    if lo > 0:
        return "targets did better"
    if hi < 0:
        return "targets did worse"
    return "no clear difference"


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


def area_table(res: Mapping[str, pd.DataFrame], names: Mapping[str, str],
               release: int = 2025, measure: str = "imd") -> pd.DataFrame:
    """One row per area (and all areas): LSOAs, comparators, change, difference, interval."""
    d = estimate_rows(res, release, measure)
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
            "95% interval": interval(r["ci_low"], r["ci_high"]),
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
        "Standardised difference before": b["smd_before"],
        "Matched comparators": b["mean_matched"],
        "Standardised difference after": b["smd_after"],
    })


#: Monitoring directions in words: they compare England percentiles, not raw values.
DIRECTION_WORDS: dict[str, str] = {
    "worsening": "towards the most deprived", "improving": "away from the most deprived",
    "little change": "little change in position", "not comparable": "not comparable"}


def monitoring_table(res: Mapping[str, pd.DataFrame], slug: str,
                     comparable_only: bool = False) -> pd.DataFrame:
    """The monitoring table for one area, readable. Positions are England percentiles on the
    indicator, 0 = most deprived (% of England's LSOAs more deprived than the area; 50 =
    England's middle), the orientation used everywhere in the pack."""
    m = res["monitoring"]
    m = m[m["slug"] == slug]
    if comparable_only:
        m = m[m["comparable"]]
    flag = np.where(m["red_red"], "worse than England and worsening",
                    np.where(m["worse_than_england"], "worse than England", "not worse"))
    flag = np.where(m["indicator"].map(norm_indicator).isin(DISTRICT_LEVEL),
                    "district-wide figure (not flagged)", flag)
    return pd.DataFrame({
        "Indicator": m["indicator"].map(indicator_label),
        "Value 2019": m["value_2019"], "Percentile 2019": 100 - m["position_2019"],
        "Value 2025": m["value_2025"], "Percentile 2025": 100 - m["position_2025"],
        "England middle 2025": m["england_median_2025"],
        "England percentile 2019 to 2025": m["direction"].map(DIRECTION_WORDS),
        "Status": flag, "Note": m["note"],
    }).reset_index(drop=True)


def excluded_indicators(res: Mapping[str, pd.DataFrame], slug: str) -> int:
    """How many of an area's monitoring indicators are not comparable between the releases
    (changed definition, or published in one release only)."""
    m = res["monitoring"]
    return int(((m["slug"] == slug) & ~m["comparable"].astype(bool)).sum())


def red_red_summary(res: Mapping[str, pd.DataFrame], names: Mapping[str, str]) -> pd.DataFrame:
    """Per area: comparable indicators, how many worse than England, worsening, and both."""
    m = res["monitoring"]
    m = m[m["comparable"]]
    rows = []
    for slug, g in m.groupby("slug"):
        rr = g[g["red_red"]]["indicator"].map(indicator_label)
        rows.append({"Area": names.get(slug, slug), "Comparable indicators": len(g),
                     "Worse than England (2025)": int(g["worse_than_england"].sum()),
                     "Worsening": int((g["direction"] == "worsening").sum()),
                     "Improving": int((g["direction"] == "improving").sum()),
                     "Worse and worsening": int(len(rr)),
                     "Which (worse and worsening)": "; ".join(rr) or "none"})
    return pd.DataFrame(rows).sort_values("Area", ignore_index=True)
