"""The briefing's one chart: where each partner's field shows, areas x partners."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.patches import Patch

from evidence_pack.analysis.briefing import PARTNER_NAMES, STRENGTH_LEVELS
from evidence_pack.findings import format as fmt

#: One colour per strength level (very strong first); text colour chosen for 4.5:1 contrast.
COLOURS: tuple[str, ...] = ("#67000d", "#cb181d", "#fcae91", "#f7f7f7")
TEXT: tuple[str, ...] = ("white", "white", "black", "black")


def influence_chart(matrix: pd.DataFrame, order: Sequence[str], names: Mapping[str, str],
                    title: str, show_spend: bool = True):
    """Heat map of areas (rows, in ``order``) x partners: the colour is how strongly the
    partner's field shows, the number is the area's England percentile (0 = most deprived);
    with ``show_spend`` the partner's modelled spend a head follows it where there is one."""
    cols = [p for p in PARTNER_NAMES if p in set(matrix["partner"])]
    wide = matrix.pivot(index="slug", columns="partner", values="pct")
    wide = wide.reindex(index=list(order), columns=cols)
    spend = matrix.pivot(index="slug", columns="partner", values="gbp_per_head").reindex(
        index=list(order), columns=cols).to_numpy(dtype=float)
    cuts = [0.0, *[c for c, _ in STRENGTH_LEVELS]]
    cmap = ListedColormap(list(COLOURS))
    norm = BoundaryNorm(cuts, cmap.N)
    values = wide.to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(7.5, max(2.8, 0.16 * len(wide) + 1.2)))
    ax.imshow(np.nan_to_num(values, nan=100.0), cmap=cmap, norm=norm, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            level = int(np.searchsorted(cuts[1:], v, side="right")) if np.isfinite(v) else 3
            text = f"{v:.0f}" if np.isfinite(v) else "n/a"
            if show_spend and np.isfinite(spend[i, j]):
                text += " \u00b7 " + fmt.money(spend[i, j], per_head=True).removesuffix(" a head")
            ax.text(j, i, text, ha="center", va="center", fontsize=8, color=TEXT[min(level, 3)])
    ax.set_xticks(range(values.shape[1]), [textwrap.fill(c, 12) for c in wide.columns],
                  fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(values.shape[0]), [textwrap.fill(names.get(s, s), 26)
                                          for s in wide.index], fontsize=8)
    ax.tick_params(length=0)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_xticks(np.arange(-0.5, values.shape[1]), minor=True)
    ax.set_yticks(np.arange(-0.5, values.shape[0]), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.grid(which="major", visible=False)
    labels = [f"{w} ({lo:.0f}-{hi:.0f})" for lo, (hi, w) in zip(cuts, STRENGTH_LEVELS,
                                                              strict=False)]
    handles = [Patch(facecolor=c, edgecolor="#777777", label=lab)
               for c, lab in zip(COLOURS, labels, strict=True)]
    legend = ("How strongly the field shows: England percentile, 0 = most deprived"
              + (" (\u00b7 modelled spend a head)" if show_spend else ""))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=4,
              fontsize=8, frameon=False, title=legend, title_fontsize=8)
    ax.set_title(title, fontsize=10, pad=8)
    fig.tight_layout()
    return fig
