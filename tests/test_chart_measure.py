"""A report figure is laid out once and drawn once, whatever it holds: an Axes with its axis
hidden (a map's) and an annotation placed in offset points (the evaluation's line chart) each
marked the figure changed after it was measured, so it was measured all over again."""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from evidence_pack.charts import legibility  # noqa: E402
from evidence_pack.publish import report  # noqa: E402


def _chart():
    fig, (ax, side) = plt.subplots(1, 2, figsize=(6, 3))
    ax.plot([2004, 2010, 2015, 2025], [12, 15, 14, 18])
    ax.annotate("policy starts", xy=(2011, 15), xytext=(10, 12), textcoords="offset points",
                arrowprops={"arrowstyle": "->"}, fontsize=9)
    ax.set_title("Percentile over time", fontsize=10)
    side.set_axis_off()
    side.text(0.0, 0.5, "a note beside the chart", fontsize=9, color="#bbbbbb")
    return fig


def _same_pixels_as_rgb(png: bytes, saved: bytes) -> bool:
    """``png`` is an RGB PNG with the pixels of savefig's (RGBA, opaque) ``saved``."""
    import numpy as np
    from PIL import Image

    got, want = Image.open(io.BytesIO(png)), Image.open(io.BytesIO(saved))
    return got.mode == "RGB" and np.array_equal(np.asarray(got.convert("RGBA")),
                                                np.asarray(want.convert("RGBA")))


def test_report_figure_draws_a_chart_with_hidden_axis_and_annotation_once(monkeypatch):
    fig = _chart()
    want = io.BytesIO()
    fig.savefig(want, format="png", dpi=legibility.SAVE_DPI, bbox_inches="tight",
                facecolor="white")
    fig = _chart()
    legibility._MEASURED.clear()
    draws = []
    orig = fig.draw
    monkeypatch.setattr(fig, "draw", lambda r: (draws.append(r), orig(r))[1])
    html = report.figure_html(fig, alt="A line chart", source="iod2025")
    assert len(draws) == 2  # one layout pass, one draw
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html)[1])
    assert _same_pixels_as_rgb(png, want.getvalue())  # savefig's pixels, as an RGB PNG
    # the faint note is still found, in the saved image at the note's place
    assert "a note beside the chart" in html and "contrast" in html
    plt.close("all")
