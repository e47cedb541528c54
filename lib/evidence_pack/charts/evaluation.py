"""Evaluation charts: trajectories, the forest plot by area and the domain chart.

Figures are 7.5 in wide; every text is at least 9 pt, so at least 7 pt when a page scales the
figure to 6.3 in. Colours (Okabe-Ito, darkened) have at least 4.5:1 contrast on white.
Positions: England percentiles, 0 = most deprived.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from evidence_pack.analysis.evaluation_panel import (
    BASE,
    CONTEXT_DISTRICT_D1,
    CONTEXT_REGION_D1,
    MEASURE_LABELS,
    MEASURES,
    RELEASES,
)
from evidence_pack.findings.evaluation_tables import CONTEXT_LABELS, area_table, estimate_rows

#: Smallest font size used (points at the figure's own size).
FONT = 9
WORSE, BETTER, NEUTRAL = "#b34700", "#00734d", "#555555"  # contrast on white >= 4.5:1
TARGET, COMPARATOR = "#b34700", "#005a8c"


def _colour(lo: float, hi: float) -> str:
    return WORSE if hi < 0 else (BETTER if lo > 0 else NEUTRAL)


def plot_trajectories(res: Mapping[str, pd.DataFrame], group: str, title: str,
                      measure: str = "imd", context: bool = True,
                      decision: tuple[float, str] | None = None):
    """Line chart: mean England percentile of the target LSOAs and their comparators by
    release (and, with ``context``, the region's other most deprived LSOAs; for all the
    target areas together, ``group`` "all", the district's untargeted ones as well: a
    district figure, shown in the district's report only, so that an area's chart depends on
    its own neighbourhoods alone). ``decision``: (year as a decimal, label) of the targeting
    decision, drawn as a line."""
    traj = res["trajectories"]
    traj = traj[traj["measure"] == measure]
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    series = [(group, "Target LSOAs", dict(color=TARGET, lw=2.5, marker="o")),
              (f"{group}__comparators", "Matched comparators (elsewhere in England)",
               dict(color=COMPARATOR, lw=2.5, ls="--", marker="s"))]
    if context and group == "all":
        series.append((CONTEXT_DISTRICT_D1, CONTEXT_LABELS[CONTEXT_DISTRICT_D1],
                       dict(color="#a3367a", lw=1.2, marker=".")))
    if context:
        series.append((CONTEXT_REGION_D1, CONTEXT_LABELS[CONTEXT_REGION_D1],
                       dict(color="#666666", lw=1.2, marker=".")))
    for name, label, style in series:
        t = traj[traj["group"] == name].sort_values("release")
        if len(t):
            ax.plot(t["release"], t["mean_pct"], label=label, **style)
    if decision is not None:
        x, label = decision
        ax.axvline(x, color="black", lw=0.8, ls=":")
        ax.annotate(label, xy=(x, 1), xycoords=("data", "axes fraction"), xytext=(4, -4),
                    textcoords="offset points", va="top", fontsize=FONT,
                    bbox={"boxstyle": "square,pad=0.2", "fc": "white", "ec": "none"})
    ax.set_xticks(list(RELEASES))
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel("IoD release", fontsize=FONT)
    ax.set_ylabel("Average England percentile\n(0 = most deprived)", fontsize=FONT)
    ax.set_title(title, fontsize=FONT + 2)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=FONT)
    return fig


def plot_forest(res: Mapping[str, pd.DataFrame], names: Mapping[str, str],
                release: int = 2025, measure: str = "imd"):
    """Difference-in-differences by area with 95% intervals (percentile points of England)."""
    tab = area_table(res, names, release, measure).iloc[::-1].reset_index(drop=True)
    d = estimate_rows(res, release, measure)
    lookup = {("All target areas" if g == "all" else names.get(g, g)): (lo, hi) for g, lo, hi
              in zip(d["group"], d["ci_low"], d["ci_high"], strict=True)}
    fig, ax = plt.subplots(figsize=(7.5, 0.4 * len(tab) + 1.4))
    for i, r in tab.iterrows():
        lo, hi = lookup[r["Area"]]
        colour = _colour(lo, hi)
        ax.plot([lo, hi], [i, i], color=colour, lw=2)
        ax.plot(r["Difference (points)"], i, "o", color=colour,
                ms=8 if r["Area"] == "All target areas" else 5)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(tab)))
    ax.set_yticklabels([f"{a} ({n})" for a, n in zip(tab["Area"], tab["LSOAs (2001)"],
                                                       strict=True)])
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel(f"Change 2010 to {release} relative to matched comparators\n"
                  "(percentile points of England; below 0 = fell further behind)", fontsize=FONT)
    ax.set_title(f"{MEASURE_LABELS[measure]}: target areas against their comparators",
                 fontsize=FONT + 2)
    return fig


def plot_domains(res: Mapping[str, pd.DataFrame], group: str = "all", release: int = 2025):
    """Difference-in-differences by domain for one group, with 95% intervals."""
    d = res["did"]
    cluster = "area" if group == "all" else "lsoa"
    d = d[(d["group"] == group) & (d["release"] == release) & (d["cluster"] == cluster)]
    d = d.set_index("measure").reindex([m for m in MEASURES if m in set(d["measure"])])
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    y = np.arange(len(d))[::-1]
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        colour = _colour(r["ci_low"], r["ci_high"])
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=colour, lw=2)
        ax.plot(r["estimate"], yi, "o", color=colour)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels([MEASURE_LABELS[m] for m in d.index])
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel(f"Change {BASE} to {release} relative to matched comparators (points)",
                  fontsize=FONT)
    ax.set_title(f"By domain, IoD {release}", fontsize=FONT + 2)
    return fig
