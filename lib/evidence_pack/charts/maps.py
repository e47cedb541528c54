"""Static maps in British National Grid (EPSG:27700) for print: IoD deciles by LSOA with
target-area outlines and labels, a locator inset, a scale bar and the ONS attribution line.

- :func:`decile_map` - one district, one release, one measure (decile 1 = most deprived 10%
  of LSOAs in England), optionally with an area set's outlines and labels.
- :func:`area_map` - one target neighbourhood on detailed boundaries, with its LSOA codes,
  the wards around it and the rest of the district faded.

Both return the matplotlib Figure (pass ``ax`` to draw into an existing Axes). Colours are a
10-step viridis scale (colour-blind safe, readable in greyscale): dark = most deprived.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import matplotlib
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch, Rectangle
from matplotlib.path import Path as MplPath

from evidence_pack import config
from evidence_pack.analysis.areas import AreaSet, members
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


def _new_axes(ax, figsize=PAGE_SIZE):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.09)
    return fig, ax


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


def _area_shapes(area_set: AreaSet, vintage: int, lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    m = members(area_set, vintage)
    m = m[m["weight"] > 0]
    shp = lsoas[["code", "geometry"]].merge(m[["slug", "name", "lsoa_code"]], left_on="code",
                                            right_on="lsoa_code")
    if shp.empty:
        return gpd.GeoDataFrame({"slug": [], "name": []}, geometry=[], crs=geography.CRS)
    out = shp.dissolve(by=["slug", "name"], as_index=False)
    return out[["slug", "name", "geometry"]]


def _page_layout(figsize=PAGE_SIZE):
    """Figure with the map on the left and a side column (legend, key, locator)."""
    fig = plt.figure(figsize=figsize, dpi=100)
    ax = fig.add_axes((0.01, 0.07, 0.69, 0.86))
    side = fig.add_axes((0.71, 0.07, 0.28, 0.86))
    side.set_axis_off()
    return fig, ax, side


def _number_markers(ax, shapes: gpd.GeoDataFrame) -> list[tuple[int, str]]:
    """Numbered circles at each area's representative point, nudged apart when they would
    overlap; returns the key [(number, name)]."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    placed: list = []
    key = []
    ylo, yhi = ax.get_ylim()
    step = (yhi - ylo) * 0.018
    for i, (name, p) in enumerate(zip(shapes["name"], shapes.representative_point(),
                                      strict=True), start=1):
        for k in (0, 1, -1, 2, -2, 3, -3, 4, -4):
            t = ax.text(p.x + (step if k else 0) * (abs(k) % 2), p.y + k * step * 0.7, str(i),
                        ha="center", va="center", fontsize=8, fontweight="bold", zorder=9,
                        bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white",
                              "edgecolor": OUTLINE, "linewidth": 1.0})
            t.update_bbox_position_size(renderer)
            bb = t.get_bbox_patch().get_window_extent(renderer).expanded(1.1, 1.1)
            if not any(bb.overlaps(o) for o in placed) or k == -4:
                placed.append(bb)
                break
            t.remove()
        key.append((i, name))
    return key


def decile_map(lad_code: str = config.DEFAULT_LA_CODE, release: int = 2025,
               measure: str = "imd", area_set: AreaSet | None = None, ax=None,
               labels: str = "auto", locator: bool = True, title: str | None = None):
    """Deciles of ``measure`` in IoD ``release`` for every LSOA of a district.

    LSOAs are those of the release's vintage (2001 for 2004-2010, 2011 for 2015-2019, 2021
    for 2025), on detailed boundaries where the mirror has them. ``area_set`` adds each
    area's outline (members carried to that vintage) and a label: ``labels`` = 'names'
    (nudged apart, with leader lines), 'numbers' (numbered circles and a key), 'auto'
    (numbers when there are more than 5 areas) or 'none'. Without ``ax`` the figure is an
    A4-ready page with a side column (legend, key, locator); with ``ax``, everything is
    drawn inside it. Returns the Figure.
    """
    vintage = config.RELEASE_VINTAGE[release]
    lsoas = geography.lsoa_boundaries(vintage, lad_code)
    if lsoas.empty:
        raise ValueError(f"no {vintage} LSOA boundaries for district {lad_code}")
    dec = deciles(lad_code, release, measure, lsoas["code"].tolist())
    lsoas = lsoas.assign(decile=lsoas["code"].map(dec))
    side = None
    if ax is None:
        fig, ax, side = _page_layout()
    else:
        fig = ax.figure
    missing = lsoas["decile"].isna()
    have = lsoas[~missing]
    colours = [DECILE_COLOURS[int(d) - 1] if pd.notna(d) else NO_DATA
               for d in lsoas["decile"]]
    draw_polygons(ax, lsoas.geometry, colours, edgecolor="white", linewidth=0.25)
    # the outline is the union of the LSOAs drawn, so it matches their edges exactly
    # (generalised district and LSOA boundaries are simplified separately)
    draw_lines(ax, [lsoas.geometry.union_all()], color="#333333", linewidth=0.9, zorder=3)
    outline_label = None
    shapes = None
    if area_set is not None:
        shapes = _area_shapes(area_set, vintage, lsoas)
        order = {s: i for i, s in enumerate(area_set.slugs)}
        shapes = shapes.sort_values("slug", key=lambda c: c.map(order), ignore_index=True)
        if len(shapes):
            draw_lines(ax, shapes.geometry, color="white", linewidth=3.2, zorder=4)
            draw_lines(ax, shapes.geometry, color=OUTLINE, linewidth=1.6, zorder=5)
            outline_label = "target area"
    ax.set_aspect("equal")
    ax.set_axis_off()
    x0, y0, x1, y1 = lsoas.total_bounds
    padx, pady = (x1 - x0) * 0.03, (y1 - y0) * 0.03
    ax.set_xlim(x0 - padx, x1 + padx)
    ax.set_ylim(y0 - pady, y1 + pady)
    key: list[tuple[int, str]] = []
    if shapes is not None and len(shapes) and labels != "none":
        style = labels if labels != "auto" else ("numbers" if len(shapes) > 5 else "names")
        if style == "numbers":
            key = _number_markers(ax, shapes)
        else:
            pts = shapes.representative_point()
            _place_labels(ax, [(n, p.x, p.y) for n, p in zip(shapes["name"], pts, strict=True)])
    _scale_bar(ax)
    target = side if side is not None else ax
    _legend(target, set(have["decile"].astype(int)), bool(missing.any()), outline_label,
            loc="upper left")
    if key:
        _key(target if side is not None else ax, key, side is not None)
    if locator:
        _locator(side if side is not None else ax,
                 lad_code, (0.02, 0.0, 0.96, 0.30) if side is not None else
                 (0.74, 0.0, 0.26, 0.30))
    la_name = _lad_name(lad_code, lsoas)
    what = MEASURE_LABELS.get(measure, measure)
    text = title or f"{la_name}: {what} {release}, LSOAs ({vintage}) by national decile"
    if side is not None:
        fig.text(0.01, 0.975, text, fontsize=11.5, fontweight="bold", ha="left", va="top")
    else:
        ax.set_title(text, fontsize=11, fontweight="bold", loc="left")
    _attribution(fig, release)
    return fig


def _key(ax, key: list[tuple[int, str]], in_side: bool) -> None:
    """The numbered list of target areas (side column, below the legend)."""
    lines = "\n".join(f"{i:>2}  {name}" for i, name in key)
    if in_side:
        ax.text(0.04, 0.56, "Target areas", fontsize=8.5, fontweight="bold", va="top",
                transform=ax.transAxes)
        ax.text(0.04, 0.535, lines, fontsize=8, va="top", linespacing=1.35,
                transform=ax.transAxes)
    else:
        ax.text(0.99, 0.99, "Target areas\n" + lines, fontsize=7, va="top", ha="right",
                transform=ax.transAxes, bbox={"facecolor": "white", "alpha": 0.85,
                                               "edgecolor": "#999999", "linewidth": 0.5})


def _lad_name(lad_code: str, lsoas: gpd.GeoDataFrame) -> str:
    lad = geography.lad_boundaries(lad_code, detail=False)
    if len(lad) and lad["name"].iloc[0]:
        return str(lad["name"].iloc[0])
    return lad_code


def _attribution(fig, release: int | None) -> None:
    if getattr(fig, "_ep_attributed", False):
        return
    iod_line = (f"Deprivation: English Indices of Deprivation {release}, MHCLG, Open Government "
                "Licence v3.0. " if release else "")
    import textwrap

    width = int(fig.get_figwidth() * 19)  # characters per line at 6.5 pt
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(iod_line + ATTRIBUTION, width)), fontsize=6.5,
             color="#333333", ha="left", va="bottom")
    fig._ep_attributed = True


def area_map(area_set: AreaSet, slug: str, release: int = 2025, measure: str = "imd",
             ax=None, margin_m: float = 600.0):
    """One target neighbourhood on detailed boundaries: its LSOAs (release's vintage)
    coloured by decile and labelled with their codes, neighbouring LSOAs faded, ward
    boundaries and names, the area outline; a side column with the legend and the area's
    place in the district. Returns the Figure."""
    import shapely
    from shapely.geometry import box

    area = area_set.get(slug)
    vintage = config.RELEASE_VINTAGE[release]
    la = area_set.la_code
    lsoas = geography.lsoa_boundaries(vintage, la)
    dec = deciles(la, release, measure, lsoas["code"].tolist())
    lsoas = lsoas.assign(decile=lsoas["code"].map(dec))
    mine = members(area_set, vintage)
    mine = mine[(mine["slug"] == slug) & (mine["weight"] > 0)]
    inside = lsoas["code"].isin(mine["lsoa_code"])
    if not inside.any():
        raise ValueError(f"no {vintage} LSOA shapes for area {slug!r}")
    side = None
    if ax is None:
        fig, ax, side = _page_layout(figsize=(7.5, 6.4))
    else:
        fig = ax.figure
    x0, y0, x1, y1 = lsoas[inside].total_bounds
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) / 2 + margin_m
    frame = box(cx - half, cy - half, cx + half, cy + half)
    view = lsoas[lsoas.intersects(frame)]
    for is_in, alpha in ((False, 0.35), (True, 1.0)):
        part = view[view["code"].isin(mine["lsoa_code"]) == is_in]
        if part.empty:
            continue
        cols = [DECILE_COLOURS[int(d) - 1] if pd.notna(d) else NO_DATA for d in part["decile"]]
        draw_polygons(ax, part.geometry, cols, edgecolor="white", linewidth=0.5, alpha=alpha)
    wards = geography.ward_boundaries(la)
    wv = wards[wards.intersects(frame)]
    lines = shapely.union_all(wv.boundary.to_numpy())  # each shared edge once
    draw_lines(ax, [lines], color="#444444", linewidth=0.9, linestyle=(0, (5, 2.5)), zorder=3)
    shape = lsoas[inside].dissolve()
    draw_lines(ax, shape.geometry, color="white", linewidth=4, zorder=4)
    draw_lines(ax, shape.geometry, color=OUTLINE, linewidth=2.0, zorder=5)
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.set_axis_off()
    effects = [pe.withStroke(linewidth=2.5, foreground="white")]
    _place_labels(ax, [(f"{name.split()[-1] if name else code}\n{code}", p.x, p.y)
                       for code, name, p in zip(lsoas[inside]["code"], lsoas[inside]["name"],
                                                lsoas[inside].representative_point(),
                                                strict=True)],
                  fontsize=7.5, fontweight="normal")
    area_shape = shape.geometry.iloc[0]
    renderer = fig.canvas.get_renderer()
    box_px = ax.get_window_extent(renderer)
    for name, g in zip(wv["name"], wv.geometry, strict=True):
        piece = g.intersection(frame).difference(area_shape.buffer(50))
        if piece.is_empty or piece.area < 0.04 * frame.area:
            continue
        p = piece.representative_point()
        t = ax.text(p.x, p.y, name, ha="center", va="center", fontsize=8, style="italic",
                    color="#222222", zorder=7, path_effects=effects)
        bb = t.get_window_extent(renderer)
        if bb.x0 < box_px.x0 or bb.x1 > box_px.x1 or bb.y0 < box_px.y0 or bb.y1 > box_px.y1:
            t.remove()  # a ward name that would be cut off at the edge
    _scale_bar(ax)
    has_missing = bool(view["decile"].isna().any())
    target = side if side is not None else ax
    _legend(target, set(), has_missing, area.name, loc="upper left")
    handles = target.get_legend().legend_handles
    if side is not None:
        side.legend(handles=[*handles, matplotlib.lines.Line2D(
            [], [], color="#444444", linewidth=0.9, linestyle=(0, (5, 2.5)), label="ward")],
            title="Decile in England", loc="upper left", bbox_to_anchor=(0.0, 1.0),
            fontsize=8, title_fontsize=8.5, frameon=True, framealpha=0.9,
            handlelength=1.4, labelspacing=0.25).get_frame().set_linewidth(0.5)
        _area_locator(side, geography.lad_boundaries(la), shape)
    text = (f"{area.name}: {MEASURE_LABELS.get(measure, measure)} {release}\n"
            f"LSOAs ({vintage}) by national decile; faded: neighbouring LSOAs")
    if side is not None:
        fig.text(0.01, 0.985, text, fontsize=11, fontweight="bold", ha="left", va="top",
                 linespacing=1.3)
    else:
        ax.set_title(text, fontsize=10, fontweight="bold", loc="left")
    _attribution(fig, release)
    return fig


def _area_locator(side, district: gpd.GeoDataFrame, shape: gpd.GeoDataFrame) -> None:
    """Side-column inset: the district outline in grey with the area in red."""
    ins = side.inset_axes([0.02, 0.0, 0.96, 0.36])
    whole = district.geometry.union_all()
    draw_polygons(ins, [whole], "#eeeeee", edgecolor="#777777", linewidth=0.5)
    draw_polygons(ins, shape.geometry, OUTLINE, edgecolor=OUTLINE, linewidth=0.8, zorder=2)
    x0, y0, x1, y1 = whole.bounds
    ins.set_xlim(x0 - 500, x1 + 500)
    ins.set_ylim(y0 - 500, y1 + 500)
    ins.set_aspect("equal")
    ins.set_axis_off()
    ins.set_title("Where in the district", fontsize=8, loc="left")
