"""The area profile's charts: nothing drawn over the bars."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from evidence_pack.analysis.profile import DOMAINS  # noqa: E402
from evidence_pack.charts import profile as profile_charts  # noqa: E402


@pytest.mark.parametrize("level", [8.0, 55.0, 97.0])
def test_domain_legend_covers_no_bar(level):
    """The legend sits clear of every bar however long the bars are (East Dene's Barriers bar
    ran under a legend in the lower right corner)."""
    shown = ["East Dene", "Rotherham", "England"]
    dom = pd.DataFrame([{"area": a, "measure": m, "median_pct": level - 3 * i}
                        for i, a in enumerate(shown) for m in ["imd", *DOMAINS]])
    fig = profile_charts.domain_positions(dom, shown, 2025)
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        legend = (ax.get_legend() or fig.legends[0]).get_window_extent()
        bars = [p.get_window_extent() for p in ax.patches]
        assert len(bars) == len(DOMAINS) * len(shown)
        assert not [b for b in bars if b.overlaps(legend)]
        renderer = fig.canvas.get_renderer()
        labels = [ax.xaxis.label, *ax.get_xticklabels()]
        assert not [t.get_text() for t in labels if t.get_window_extent(renderer).overlaps(legend)]
    finally:
        plt.close(fig)
