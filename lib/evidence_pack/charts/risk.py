"""Risk-factor charts: the odds-ratio forest plot, calibration, and where the target LSOAs
sit among England's cohort. Figures 7.5 in wide or less, text at least 9 pt (7 pt or more
when printed at 6.3 in); colours with at least 4.5:1 contrast on white.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from evidence_pack.analysis.risk_spec import FACTORS, OUTCOME_RELEASES

FONT = 9
BEFORE, AFTER, MARK = "#00734d", "#b34700", "#a3175a"


def plot_odds(odds: pd.DataFrame, release: int, cohort: int):
    """Odds ratios per standard deviation with 95% intervals, log scale; colour = whether
    the factor was known at 2010 or measured after."""
    full = odds[(odds["model"] == "full") & (odds["release"] == release)
                & (odds["cohort"] == cohort)]
    d = full.assign(label=full["factor"].map(lambda f: textwrap.fill(FACTORS[f].label, 44)))
    d = d.iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(d) + 1.6))
    colours = np.where(d["post_baseline"], AFTER, BEFORE)
    y = np.arange(len(d))
    ax.errorbar(d["odds_ratio"], y, xerr=[d["odds_ratio"] - d["ci_low"],
                d["ci_high"] - d["odds_ratio"]], fmt="none", ecolor=colours, elinewidth=1.5)
    ax.scatter(d["odds_ratio"], y, c=colours, zorder=3)
    ax.axvline(1, color="#666666", lw=1)
    ax.set_xscale("log")
    ax.set_xticks([0.25, 0.5, 1, 2, 4], ["0.25", "0.5", "1", "2", "4"])
    ax.set_xticks([], minor=True)
    ax.set_xlim(min(0.2, d["ci_low"].min() * 0.9), max(2.5, d["ci_high"].max() * 1.1))
    ax.set_yticks(y, d["label"])
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel("Odds multiplier per standard deviation\n(log scale; below 1 = less likely "
                  "to leave)", fontsize=FONT)
    ax.set_title(f"What went with leaving the most deprived {cohort}% by {release}",
                 fontsize=FONT + 2)
    ax.scatter([], [], c=BEFORE, label="known at 2010")
    ax.scatter([], [], c=AFTER, label="measured after 2010")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=FONT)
    return fig


def plot_calibration(cv: pd.DataFrame, cohort: int):
    """Predicted against observed share leaving, by tenth of predicted chance (districts
    held out), one line per outcome release."""
    cal = cv[(cv["kind"] == "calibration") & (cv["cohort"] == cohort)]
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for r, m, c in zip(OUTCOME_RELEASES, ("o", "s"), ("#005a8c", AFTER), strict=True):
        s = cal[cal["release"] == r]
        ax.plot(100 * s["predicted"], 100 * s["observed"], marker=m, color=c, label=f"{r}")
    ax.plot([0, 100], [0, 100], color="#666666", lw=1, ls="--")
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel("Predicted chance of leaving (%)", fontsize=FONT)
    ax.set_ylabel("Observed share that left (%)", fontsize=FONT)
    ax.set_title(f"Calibration on districts held out (most deprived {cohort}%)",
                 fontsize=FONT + 1)
    ax.legend(title="Outcome release", fontsize=FONT, title_fontsize=FONT)
    return fig


def plot_predictions(cohort_p: pd.Series, target_p: pd.Series, district: str, release: int,
                     cohort: int):
    """Histogram of predicted chances across England's cohort, the target LSOAs marked."""
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.hist(100 * cohort_p, bins=40, color="#bbbbbb", label="England's cohort")
    for p in 100 * target_p:
        ax.axvline(p, color=MARK, lw=1, alpha=0.8)
    ax.plot([], [], color=MARK, label=f"{district} target LSOAs")
    ax.tick_params(labelsize=FONT)
    ax.set_xlabel(f"Predicted chance of leaving the most deprived {cohort}% by {release} (%)",
                  fontsize=FONT)
    ax.set_ylabel("LSOAs", fontsize=FONT)
    ax.legend(fontsize=FONT)
    return fig
