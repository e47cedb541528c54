"""Map layers shared by every map of the pack (British National Grid, EPSG:27700): polygon
and line drawing, the IoD decile colours and legend, a scale bar, an England locator, labels
nudged apart, and the ONS attribution line. Text is at least 7.5 pt on a 7.5-inch figure (7 pt
or more printed on A4; see ``charts.legibility``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as MplPath

from evidence_pack.sources import table_cache
from evidence_pack.sources.iod_files import MEASURES
from evidence_pack.stores import geography, iod

#: Year of the newest boundaries drawn (2024 districts, 2023 wards, 2021 LSOAs).
BOUNDARY_YEAR = 2024
ATTRIBUTION = ("Source: Office for National Statistics licensed under the Open Government "
               "Licence v3.0. Contains OS data \u00a9 Crown copyright and database right "
               f"{BOUNDARY_YEAR}.")
#: decile 1..10 -> colour (viridis, dark = most deprived).
DECILE_COLOURS: tuple[str, ...] = tuple(
    matplotlib.colors.to_hex(c) for c in plt.get_cmap("viridis")(np.linspace(0, 1, 10)))
NO_DATA = "#d9d9d9"
OUTLINE = "#d7191c"  # red outlines read on every viridis step
MEASURE_LABELS = {"imd": "Index of Multiple Deprivation", "income": "Income",
                  "employment": "Employment", "education": "Education, skills and training",
                  "health": "Health and disability", "crime": "Crime",
                  "barriers": "Barriers to housing and services",
                  "living_environment": "Living environment", "idaci": "IDACI",
                  "idaopi": "IDAOPI"}
PAGE_SIZE = (7.5, 8.6)  # inches: fits A4 portrait with margins


def _rings(geom) -> list[np.ndarray]:
    from shapely.geometry.polygon import orient

    polys = getattr(geom, "geoms", [geom])
    out = []
    for poly in polys:
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        poly = orient(poly, 1.0)  # exterior anticlockwise, holes clockwise: holes stay empty
        out.append(np.asarray(poly.exterior.coords)[:, :2])
        out.extend(np.asarray(r.coords)[:, :2] for r in poly.interiors)
    return out


def _geom_path(geom) -> MplPath:
    """One compound path per (multi)polygon, holes included (even-odd via ring order)."""
    rings = _rings(geom)
    if not rings:
        return MplPath(np.zeros((0, 2)))
    verts = np.concatenate(rings)
    codes = np.full(len(verts), MplPath.LINETO, dtype=np.uint8)
    i = 0
    for r in rings:
        codes[i] = MplPath.MOVETO
        codes[i + len(r) - 1] = MplPath.CLOSEPOLY
        i += len(r)
    return MplPath(verts, codes)


def draw_polygons(ax, geoms, facecolor, edgecolor="white", linewidth=0.25, alpha=None,
                  zorder=1):
    """Fill shapes with one PathCollection (no intermediate redraws, unlike GeoDataFrame.plot)."""
    coll = PathCollection([_geom_path(g) for g in geoms], facecolors=facecolor,
                          edgecolors=edgecolor, linewidths=linewidth, alpha=alpha,
                          zorder=zorder)
    ax.add_collection(coll, autolim=False)
    return coll


def draw_lines(ax, geoms, color="black", linewidth=1.0, linestyle="solid", zorder=2):
    """Outlines of shapes (or lines) as one LineCollection."""
    segs = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        if g.geom_type in ("Polygon", "MultiPolygon"):
            segs.extend(_rings(g))
        else:
            segs.extend(np.asarray(x.coords)[:, :2] for x in getattr(g, "geoms", [g]))
    coll = LineCollection(segs, colors=color, linewidths=linewidth, linestyles=linestyle,
                          zorder=zorder)
    ax.add_collection(coll, autolim=False)
    return coll


def decile_cmap() -> ListedColormap:
    return ListedColormap(list(DECILE_COLOURS), name="iod_deciles")


@table_cache.memo  # every map of a district asks for the same LSOAs: read once per build
def deciles(lad_code: str, release: int, measure: str = "imd",
            codes: Sequence[str] | None = None) -> pd.Series:
    """Decile (1 = most deprived 10% in England) by LSOA code for one release and measure,
    restricted to ``codes`` when given."""
    import pyarrow.parquet as pq


    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; known: {list(MEASURES)}")
    if not iod.IOD_FILE.exists():
        raise FileNotFoundError(f"{iod.IOD_FILE} not built: run `evidence-pack prepare`")
    base = [("release", "==", release), ("measure", "==", measure)]
    cols = ["lsoa_code", "decile"]
    fast = {"read_dictionary": ["lsoa_code", "lad_code", "measure"]}  # ~3x faster decoding
    df = pq.read_table(iod.IOD_FILE, columns=cols, filters=[*base, ("lad_code", "==", lad_code)],
                       **fast).to_pandas()
    if codes is not None and not set(codes) <= set(df["lsoa_code"]):
        # the release's own district code differs (e.g. 2004/2007): select by LSOA code
        df = pq.read_table(iod.IOD_FILE, columns=cols,
                           filters=[*base, ("lsoa_code", "in", list(codes))], **fast).to_pandas()
    if codes is not None:
        df = df[df["lsoa_code"].isin(codes)]
    df["lsoa_code"] = df["lsoa_code"].astype(str)
    return df.set_index("lsoa_code")["decile"].astype("Int64")


def _legend(ax, present: set[int], has_missing: bool, outline_label: str | None,
            loc: str = "upper left") -> None:
    handles = [Patch(facecolor=DECILE_COLOURS[d - 1], edgecolor="#555555", linewidth=0.4,
                     label=f"{d}" + (" most deprived 10%" if d == 1 else
                                     " least deprived 10%" if d == 10 else ""))
               for d in range(1, 11)]
    if has_missing:
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#555555", linewidth=0.4,
                             label="no data"))
    if outline_label:
        handles.append(Patch(facecolor="none", edgecolor=OUTLINE, linewidth=1.8,
                             label=outline_label))
    leg = ax.legend(handles=handles, title="Decile in England", loc=loc, fontsize=8,
                    bbox_to_anchor=(0.0, 1.0) if not ax.axison and loc == "upper left" else None,
                    title_fontsize=8.5, frameon=True, framealpha=0.9, borderpad=0.5,
                    handlelength=1.4, handleheight=1.0, labelspacing=0.25)
    leg.get_frame().set_edgecolor("#999999")
    leg.get_frame().set_linewidth(0.5)


def _scale_bar(ax, length_m: float | None = None) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    span = x1 - x0
    if length_m is None:
        target = span / 5
        length_m = max(v for v in (100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000)
                       if v <= max(target, 100))
    bx, by = x0 + 0.03 * span, y0 + 0.035 * (y1 - y0)
    h = 0.008 * (y1 - y0)
    ax.add_patch(Rectangle((bx, by), length_m, h, facecolor="black", edgecolor="black",
                           zorder=6))
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(bx + length_m / 2, by + 2.2 * h, label, ha="center", va="bottom", fontsize=8,
            zorder=6, path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])


def _locator(ax, lad_code: str, loc: Sequence[float] = (0.74, 0.0, 0.26, 0.30)) -> None:
    """Inset: England's regions in grey, the district in red."""
    ins = ax.inset_axes(list(loc))
    regions = geography.region_boundaries()
    draw_polygons(ins, regions.geometry, "#eeeeee", edgecolor="#9e9e9e", linewidth=0.3)
    x0, y0, x1, y1 = regions.total_bounds
    ins.set_xlim(x0 - 5000, x1 + 5000)
    ins.set_ylim(y0 - 5000, y1 + 5000)
    lad = geography.lad_boundaries(lad_code, detail=False)
    if len(lad):
        draw_polygons(ins, lad.geometry, OUTLINE, edgecolor=OUTLINE, linewidth=0.8, zorder=2)
        c = lad.geometry.union_all().centroid
        ins.plot([c.x], [c.y], marker="o", markersize=9, markerfacecolor="none",
                 markeredgecolor=OUTLINE, markeredgewidth=1.0)
    ins.set_aspect("equal")
    ins.set_xticks([])
    ins.set_yticks([])
    ins.set_xlabel("")
    ins.set_ylabel("")
    for s in ins.spines.values():
        s.set_edgecolor("#999999")
        s.set_linewidth(0.5)
    ins.set_facecolor("white")


def _place_labels(ax, items: list[tuple[str, float, float]], fontsize: float = 8.5,
                  fontweight: str = "bold") -> None:
    """Labels at points, nudged up/down (with a leader line) until no two overlap."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    placed: list = []
    ylo, yhi = ax.get_ylim()
    step = (yhi - ylo) * 0.025
    effects = [pe.withStroke(linewidth=3, foreground="white")]
    for text, x, y in sorted(items, key=lambda t: (-t[2], t[1], t[0])):
        best = None
        for k in (0, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5, -6, 6):
            t = ax.text(x, y + k * step, text, ha="center", va="center", fontsize=fontsize,
                        fontweight=fontweight, color="black", zorder=8, path_effects=effects)
            bb = t.get_window_extent(renderer=renderer).expanded(1.05, 1.15)
            if not any(bb.overlaps(o) for o in placed):
                best = (t, bb, k)
                break
            t.remove()
        if best is None:  # crowded: keep the first position
            t = ax.text(x, y, text, ha="center", va="center", fontsize=fontsize,
                        fontweight=fontweight, zorder=8, path_effects=effects)
            best = (t, t.get_window_extent(renderer=renderer), 0)
        t, bb, k = best
        placed.append(bb)
        if k:
            ax.plot([x, x], [y, y + k * step * 0.8], color="black", linewidth=0.6, zorder=7)


def _attribution(fig, release: int | None) -> None:
    if getattr(fig, "_ep_attributed", False):
        return
    iod_line = (f"Deprivation: English Indices of Deprivation {release}, MHCLG, Open Government "
                "Licence v3.0. " if release else "")

    width = int(fig.get_figwidth() * 16)  # characters per line at 7.5 pt
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(iod_line + ATTRIBUTION, width)), fontsize=7.5,
             color="#333333", ha="left", va="bottom")
    fig._ep_attributed = True


