"""Charts of deprivation trends for ``imd_trends``: each returns (Figure, alt text). Text is at
least 9 pt on a 7.5-inch figure (at least 7 pt when printed at A4 text width); dark text on
light fills and white text only on dark fills (contrast at least 4.5:1).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from evidence_pack.analysis.trends import DOMAIN_LABELS, DOMAINS

FONT = 9


def text_colour(rgba) -> str:
    """Black or white, whichever contrasts more with a fill (WCAG relative luminance)."""
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"
DARK_RED = "#9e1b1b"
LIGHT_RED = "#f4a582"
BLUE = "#0b5394"


def district_rank_chart(ranks: pd.DataFrame, la_name: str) -> tuple[Figure, str]:
    """Rank of average IMD score among districts, as a share of districts (top = most
    deprived). ``ranks``: release, rank_average_score, n_districts."""
    r = ranks.dropna(subset=["rank_average_score"])
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    share = 100 * r["rank_average_score"].astype(float) / r["n_districts"].astype(float)
    ax.plot(r["release"], share, marker="o", color=BLUE)
    for x, y, k, n in zip(r["release"], share, r["rank_average_score"], r["n_districts"],
                          strict=True):
        ax.annotate(f"{int(k)} of {int(n)}", (x, y), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=FONT)
    ax.set_ylim(0, float(share.max()) * 1.5)
    ax.invert_yaxis()
    ax.set_xticks(r["release"])
    ax.set_ylabel("Rank as % of districts\n(top = most deprived)")
    ax.set_title(f"{la_name}: rank of average IMD score among districts")
    alt = (f"Line chart of {la_name}'s rank of average IMD score among English districts: "
           + "; ".join(f"{int(k)} of {int(n)} in {int(x)}" for x, k, n in
                       zip(r["release"], r["rank_average_score"], r["n_districts"], strict=True))
           + ".")
    return fig, alt


def decile_bar_chart(counts: pd.DataFrame, name: str) -> tuple[Figure, str]:
    """Neighbourhoods in England's most deprived 10% and the next 10%, per release."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    x = counts["release"].astype(str)
    ax.bar(x, counts["decile1"], color=DARK_RED, label="most deprived 10%")
    ax.bar(x, counts["decile1_2"] - counts["decile1"], bottom=counts["decile1"],
           color=LIGHT_RED, label="next 10%")
    for i, a in enumerate(counts["decile1"]):
        if a > 0:
            ax.text(i, a / 2, f"{a:.0f}", ha="center", va="center", color="white", fontsize=FONT)
    ax.set_ylabel("Neighbourhoods")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, max(1.0, float(counts["decile1_2"].max())) * 1.35)
    ax.set_title(f"{name}: neighbourhoods in England's most deprived 10% and 20%")
    ax.legend(loc="upper left", ncol=2, fontsize=FONT)
    alt = (f"Bar chart of {name}'s neighbourhoods in England's most deprived 10%: "
           + ", ".join(f"{d:.0f} in {r}" for r, d in zip(counts["release"], counts["decile1"],
                                                         strict=True))
           + "; the lighter part of each bar adds those in the next 10%.")
    return fig, alt


def domain_table(domains: pd.DataFrame) -> pd.DataFrame:
    """Wide table: domain label x release of the % of neighbourhoods in England's most
    deprived 10% on that domain (releases without a domain are blank)."""
    tab = domains.pivot(index="measure", columns="release", values="share_decile1") * 100
    tab = tab.loc[[m for m in DOMAINS if m in tab.index]]
    tab.index = [DOMAIN_LABELS[m] for m in tab.index]
    tab.columns = [str(c) for c in tab.columns]
    return tab


def domain_heatmap(domains: pd.DataFrame, name: str) -> tuple[Figure, str]:
    """Heat map of :func:`domain_table`."""
    tab = domain_table(domains)
    values = tab.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    vmax = max(1.0, float(np.nanmax(values)) if np.isfinite(values).any() else 1.0)
    im = ax.imshow(values, cmap="Reds", aspect="auto", vmin=0, vmax=vmax)
    ax.set_xticks(range(tab.shape[1]), tab.columns)
    ax.set_yticks(range(tab.shape[0]), tab.index)
    for i in range(tab.shape[0]):
        for j in range(tab.shape[1]):
            v = tab.iat[i, j]
            if pd.notna(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=FONT,
                        color=text_colour(im.cmap(im.norm(v))))
    ax.grid(False)
    ax.set_title(f"{name}: % of neighbourhoods in England's most deprived 10%, by domain")
    fig.colorbar(im, ax=ax, label="%")
    alt = (f"Heat map of the share of {name}'s neighbourhoods in England's most deprived 10% "
           "on each domain and release. " + " ".join(
               f"{r}: " + ", ".join(f"{DOMAIN_LABELS[m]} {100 * v:.0f}%" for m, v in
                                    domains[domains.release == r].set_index("measure")
                                    ["share_decile1"].items()) + "."
               for r in sorted(domains["release"].unique())))
    return fig, alt


def spread_chart(spread: pd.DataFrame, la_name: str) -> tuple[Figure, str]:
    """Band of the 10th to 90th percentile neighbourhoods on England's ranking."""
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.fill_between(spread["release"], spread["pct_low"], spread["pct_high"], color="#9fc5e8",
                    alpha=0.7, label="10th to 90th percentile neighbourhood")
    ax.plot(spread["release"], spread["pct_low"], marker="o", color=DARK_RED,
            label="10th percentile (more deprived end)")
    ax.plot(spread["release"], spread["pct_high"], marker="o", color=BLUE,
            label="90th percentile (less deprived end)")
    ax.set_xticks(spread["release"])
    ax.set_ylim(0, 100)
    ax.set_ylabel("National percentile\n(0 = most deprived)")
    ax.set_title(f"{la_name}: spread of its neighbourhoods on England's ranking")
    ax.legend(loc="upper left", fontsize=FONT)
    alt = (f"Band chart of {la_name}'s 10th and 90th percentile neighbourhoods on England's "
           "ranking (0 = most deprived): " + "; ".join(
               f"{r}: {a:.0f} to {b:.0f}" for r, a, b in
               zip(spread["release"], spread["pct_low"], spread["pct_high"], strict=True)) + ".")
    return fig, alt


def area_heatmap(area_trend: pd.DataFrame, order: list[str], district_median: pd.Series
                 ) -> tuple[Figure, str]:
    """Each target area's median national percentile by release (0 = most deprived)."""
    med = area_trend.pivot(index="area", columns="release", values="median_pct").loc[order]
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.4 * len(order) + 1.2)))
    im = ax.imshow(med.to_numpy(dtype=float), cmap="RdYlBu", vmin=0, vmax=20, aspect="auto")
    ax.set_xticks(range(med.shape[1]), [str(c) for c in med.columns])
    ax.set_yticks(range(med.shape[0]), list(med.index))
    for i in range(med.shape[0]):
        for j in range(med.shape[1]):
            v = med.iat[i, j]
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=FONT,
                    color=text_colour(im.cmap(im.norm(v))))
    ax.grid(False)
    ax.set_title("Target areas: median national percentile (0 = most deprived)")
    fig.colorbar(im, ax=ax, label="national percentile")
    alt = ("Heat map of each target area's median national percentile by release (0 = most "
           "deprived). " + " ".join(f"{n}: " + ", ".join(f"{v:.1f}" for v in row.to_numpy())
                                    + "." for n, row in med.iterrows())
           + " For comparison the district's median neighbourhood is at "
           + ", ".join(f"{v:.0f}" for v in district_median) + ".")
    return fig, alt
