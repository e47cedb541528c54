"""Charts of the area profile: each domain's position against the borough and England, and
what makes up each area's deprivation score. Text is at least 8 pt on a 7.5-inch figure
(7 pt or more when printed on A4) in dark ink on white; bars use the colour-blind palette.

Inputs are the tables of ``analysis.profile`` (IoD ``release`` on 2021 LSOAs).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd

from evidence_pack.analysis.profile import IMD_WEIGHTS, SHORT_LABELS

#: Colour-blind-safe colours (Okabe-Ito), dark enough for white gaps between bars.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
INK = "#1b1b1b"


def domain_positions(dom: pd.DataFrame, shown: Sequence[str], release: int):
    """Horizontal bars: the median national percentile (0 = most deprived) of each domain for
    each set in ``shown`` (first = the report's area); a dotted line at 10 marks England's
    most deprived 10%. Returns the Figure."""
    plot = dom[dom["measure"] != "imd"]
    meas = list(dict.fromkeys(plot["measure"]))
    width = 0.8 / len(shown)
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    for i, name in enumerate(shown):
        vals = plot[plot["area"] == name].set_index("measure").loc[meas, "median_pct"]
        ax.barh([k + i * width for k in range(len(meas))], vals.to_numpy(), height=width,
                label=name, color=PALETTE[i % len(PALETTE)])
    ax.set_yticks([k + width * (len(shown) - 1) / 2 for k in range(len(meas))],
                  [SHORT_LABELS[m] for m in meas], fontsize=9)
    ax.invert_yaxis()
    ax.axvline(10, color=INK, ls=":", lw=1, label="England's most deprived 10%")
    ax.set_xlim(0, 100)
    ax.set_xlabel("Median national percentile (0 = most deprived, 100 = least deprived)",
                  fontsize=9)
    ax.set_title(f"{shown[0]}: position on each domain, IoD {release}", fontsize=10.5)
    ax.tick_params(axis="x", labelsize=9)
    # below the axis title, clear of the bars (a bar may run the whole width); the areas
    # first, in the bars' order, then the 10% line
    handles, labels = ax.get_legend_handles_labels()
    order = [*range(1, len(handles)), 0]
    ax.legend([handles[i] for i in order], [labels[i] for i in order], fontsize=8.5,
              loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2, frameon=False)
    return fig


def domain_positions_alt(dom: pd.DataFrame, shown: Sequence[str], release: int) -> str:
    """Alt text for ``domain_positions``: every bar's value."""
    plot = dom[dom["measure"] != "imd"]
    parts = [f"{n}: " + ", ".join(f"{SHORT_LABELS[m]} {v:.0f}" for m, v in
                                  plot[plot["area"] == n].set_index("measure")["median_pct"].items())
             + "." for n in shown]
    return (f"Bar chart of the median national percentile on each domain, IoD {release} "
            f"(0 = most deprived), for {', '.join(shown)}. " + " ".join(parts))


def score_make_up(drv: pd.DataFrame, names: Sequence[str], release: int):
    """Stacked bars: each set's combined IMD points split by domain (higher = more
    deprived). Returns the Figure."""
    pts = drv.pivot(index="area", columns="measure", values="points").loc[list(names)]
    pts = pts[list(IMD_WEIGHTS)]
    fig, ax = plt.subplots(figsize=(7.5, min(0.45 * len(pts) + 1.8, 0.26 * len(pts) + 1.5)))
    left = pd.Series(0.0, index=pts.index)
    for k, m in enumerate(pts.columns):
        ax.barh(pts.index, pts[m], left=left, color=PALETTE[k % len(PALETTE)],
                label=SHORT_LABELS[m], edgecolor="white", linewidth=0.5)
        left += pts[m]
    ax.invert_yaxis()
    ax.tick_params(labelsize=9)
    ax.set_xlabel("Combined score points (weighted domains; higher = more deprived)", fontsize=9)
    ax.set_title(f"What makes up each area's deprivation score, IoD {release}", fontsize=10.5)
    ax.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


def score_make_up_alt(drv: pd.DataFrame, names: Sequence[str]) -> str:
    """Alt text for ``score_make_up``: each set's total and its three largest domains."""
    pts = drv.pivot(index="area", columns="measure", values="points").loc[list(names)]
    return "Stacked bar chart of each area's combined deprivation score split by domain. " + " ".join(
        f"{n}: total {pts.loc[n].sum():.0f}, largest " + ", ".join(
            f"{SHORT_LABELS[m]} {pts.loc[n, m]:.0f}"
            for m in pts.loc[n].sort_values(ascending=False).index[:3]) + "."
        for n in pts.index)
