"""Map of England by district: change in rank of average IMD score, 2010 -> 2025.

:func:`rank_change_map` draws the 296 districts of 2025 (2024 boundaries, British National
Grid) in five classes of :func:`evidence_pack.analysis.national.rank_change` (places moved
among the districts with the same code in both releases; towards the most deprived end in
orange, away from it in purple: a colour-blind safe diverging scale) with districts new since
2010 hatched grey, and London enlarged in an inset over the North Sea. Returns the matplotlib Figure.
"""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from evidence_pack.charts.maps import ATTRIBUTION, draw_lines, draw_polygons
from evidence_pack.stores import geography

#: (lowest change, label, colour): positive change = moved towards the most deprived end.
CLASSES: tuple[tuple[float, str, str], ...] = (
    (30, "30 or more places towards most deprived", "#b35806"),
    (10, "10 to 29 places towards most deprived", "#f1a340"),
    (-9, "within 9 places", "#f7f7f7"),
    (-29, "10 to 29 places away from most deprived", "#998ec3"),
    (-np.inf, "30 or more places away from most deprived", "#542788"),
)
NEW_DISTRICT = "#cccccc"
EDGE = "#6e6e6e"
FIGSIZE = (7.5, 8.6)  # inches: A4 portrait with margins


def change_class(change: float | None) -> int | None:
    """Index into :data:`CLASSES` of a change in places (None when there is no change)."""
    if change is None or pd.isna(change):
        return None
    return next(i for i, (low, _, _) in enumerate(CLASSES) if change >= low)


def _draw(ax, shapes: pd.DataFrame, linewidth: float) -> None:
    cls = shapes["change"].map(change_class)
    known = cls.notna()
    colours = [CLASSES[int(i)][2] for i in cls[known]]
    draw_polygons(ax, shapes.geometry[known], colours, edgecolor=EDGE, linewidth=linewidth)
    if (~known).any():
        coll = draw_polygons(ax, shapes.geometry[~known], NEW_DISTRICT, edgecolor=EDGE,
                             linewidth=linewidth)
        coll.set_hatch("////")


def _fit(ax, geoms, pad: float = 0.02) -> None:
    x0, y0, x1, y1 = geoms.total_bounds
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    ax.set_xlim(x0 - dx, x1 + dx)
    ax.set_ylim(y0 - dy, y1 + dy)
    ax.set_aspect("equal")
    ax.set_axis_off()


def rank_change_map(changes: pd.DataFrame, first: int = 2010, last: int = 2025):
    """The map; ``changes`` has ``lad_code`` and ``change`` (places, Int64 or NaN)."""
    lads = geography.lad_boundaries(detail=False)
    lads = lads.loc[lads["code"].astype(str).str.startswith("E")]
    shapes = lads.merge(changes[["lad_code", "change"]].rename(columns={"lad_code": "code"}),
                        on="code", how="left")
    shapes["change"] = pd.to_numeric(shapes["change"], errors="coerce")
    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=100)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.07)
    _draw(ax, shapes, 0.2)
    _fit(ax, shapes.geometry)

    london = shapes.loc[shapes["code"].str.startswith("E09")]
    if len(london):
        inset = fig.add_axes((0.73, 0.63, 0.26, 0.23), zorder=10)  # over the North Sea
        _draw(inset, london, 0.35)
        _fit(inset, london.geometry, pad=0.04)
        inset.set_title("London (enlarged)", fontsize=8, pad=2)
        draw_lines(ax, [london.union_all().envelope], color="#333333", linewidth=0.8)

    n_common = int(changes["change"].notna().sum())
    handles = [Patch(facecolor=c, edgecolor=EDGE, linewidth=0.5, label=lab)
               for _, lab, c in CLASSES]
    handles.append(Patch(facecolor=NEW_DISTRICT, edgecolor=EDGE, hatch="////", linewidth=0.5,
                         label=f"new district since {first}: no comparable rank"))
    leg = ax.legend(handles=handles, loc="upper left", fontsize=8, title_fontsize=8.5,
                    title=f"Change in rank of average IMD score,\n{first} to {last} "
                          f"(among {n_common} districts)",
                    frameon=True, framealpha=0.95, handlelength=1.6, handleheight=1.1,
                    labelspacing=0.3, borderpad=0.6)
    leg.get_frame().set_edgecolor("#999999")
    source = (f"Deprivation: English Indices of Deprivation {first} and {last}, MHCLG, Open "
              f"Government Licence v3.0; district average scores ({first} computed from LSOA "
              "scores and populations). " + ATTRIBUTION)
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(source, 130)), fontsize=7, color="#333333",
             ha="left", va="bottom")
    return fig
