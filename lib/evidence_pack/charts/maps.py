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

import geopandas as gpd
import matplotlib
import matplotlib.patheffects as pe
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Rectangle

from evidence_pack import config
from evidence_pack.analysis.areas import AreaSet, members
from evidence_pack.charts.map_layers import (  # noqa: F401 - maps.<name> for callers
    ATTRIBUTION,
    BOUNDARY_YEAR,
    DECILE_COLOURS,
    MEASURE_LABELS,
    NO_DATA,
    OUTLINE,
    PAGE_SIZE,
    _attribution,
    _geom_path,
    _legend,
    _locator,
    _place_labels,
    _scale_bar,
    decile_cmap,
    deciles,
    draw_lines,
    draw_polygons,
)
from evidence_pack.stores import geography


def _new_axes(ax, figsize=PAGE_SIZE):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, dpi=100)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.93, bottom=0.09)
    return fig, ax


def _area_shapes(area_set: AreaSet, vintage: int, lsoas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    m = members(area_set, vintage)
    m = m[m["weight"] > 0]
    shp = lsoas[["code", "geometry"]].merge(m[["slug", "name", "lsoa_code"]], left_on="code",
                                            right_on="lsoa_code")
    if shp.empty:
        return gpd.GeoDataFrame({"slug": [], "name": []}, geometry=[], crs=geography.CRS)
    out = shp.dissolve(by=["slug", "name"], as_index=False)
    return out[["slug", "name", "geometry"]]


def _page_layout(figsize=PAGE_SIZE, top: float = 0.93):
    """Figure with the map on the left and a side column (legend, key, locator)."""
    fig = plt.figure(figsize=figsize, dpi=100)
    ax = fig.add_axes((0.01, 0.07, 0.69, top - 0.07))
    side = fig.add_axes((0.71, 0.07, 0.28, top - 0.07))
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
    near = town_cluster(shapes) if shapes is not None and side is not None else None
    if near is not None:
        _cluster_box(ax, near)
    if side is not None:
        _ward_names(ax, lad_code, avoid=None if near is None else _cluster_frame(near))
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
        ax.text(0.99, 0.99, "Target areas\n" + lines, fontsize=8, va="top", ha="right",
                transform=ax.transAxes, bbox={"facecolor": "white", "alpha": 0.85,
                                               "edgecolor": "#999999", "linewidth": 0.5})


def _lad_name(lad_code: str, lsoas: gpd.GeoDataFrame) -> str:
    lad = geography.lad_boundaries(lad_code, detail=False)
    if len(lad) and lad["name"].iloc[0]:
        return str(lad["name"].iloc[0])
    return lad_code


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
        # a two-line title above the map: the map starts below it
        fig, ax, side = _page_layout(figsize=(7.5, 5.7), top=0.88)
    else:
        fig = ax.figure
    own = lsoas[inside]
    x0, y0, x1, y1 = own.total_bounds
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
    # the area's outline: what dissolve() gives, without a frame built around it
    area_shape = shapely.union_all(own.geometry.to_numpy())
    draw_lines(ax, [area_shape], color="white", linewidth=4, zorder=4)
    draw_lines(ax, [area_shape], color=OUTLINE, linewidth=2.0, zorder=5)
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.set_axis_off()
    effects = [pe.withStroke(linewidth=2.5, foreground="white")]
    _place_labels(ax, [(f"{name.split()[-1] if name else code}\n{code}", p.x, p.y)
                       for code, name, p in zip(own["code"], own["name"],
                                                own.representative_point(), strict=True)],
                  fontsize=7.5, fontweight="normal")
    renderer = fig.canvas.get_renderer()
    box_px = ax.get_window_extent(renderer)
    around = area_shape.buffer(50)  # once, not once a ward
    for name, g in zip(wv["name"], wv.geometry, strict=True):
        piece = g.intersection(frame).difference(around)
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
        _area_locator(side, geography.lad_boundaries(la), [area_shape])
    text = (f"{area.name}: {MEASURE_LABELS.get(measure, measure)} {release}\n"
            f"LSOAs ({vintage}) by national decile; faded: neighbouring LSOAs")
    if side is not None:
        fig.text(0.01, 0.985, text, fontsize=11, fontweight="bold", ha="left", va="top",
                 linespacing=1.3)
    else:
        ax.set_title(text, fontsize=10, fontweight="bold", loc="left")
    _attribution(fig, release)
    return fig


def _area_locator(side, district: gpd.GeoDataFrame, shape) -> None:
    """Side-column inset: the district outline in grey with the area (shapes) in red."""
    ins = side.inset_axes([0.02, 0.0, 0.96, 0.36])
    whole = district.geometry.union_all()
    draw_polygons(ins, [whole], "#eeeeee", edgecolor="#777777", linewidth=0.5)
    draw_polygons(ins, shape, OUTLINE, edgecolor=OUTLINE, linewidth=0.8, zorder=2)
    x0, y0, x1, y1 = whole.bounds
    ins.set_xlim(x0 - 500, x1 + 500)
    ins.set_ylim(y0 - 500, y1 + 500)
    ins.set_aspect("equal")
    ins.set_axis_off()
    ins.set_title("Where in the district", fontsize=8, loc="left")


# --------------------------------------------------------------------------- town centre

#: Target areas closer than this to one another (metres, edge to edge) crowd the district
#: map; ``cluster_map`` draws them again, enlarged.
CLUSTER_GAP_M = 400.0


def town_cluster(shapes: gpd.GeoDataFrame, gap_m: float = CLUSTER_GAP_M,
                 min_areas: int = 3) -> gpd.GeoDataFrame | None:
    """The largest group of target areas (at least ``min_areas``) each within ``gap_m`` of
    another of the group: where outlines crowd on the district map. None when no group."""
    if shapes is None or len(shapes) < min_areas:
        return None
    geoms = list(shapes.geometry)
    n = len(geoms)
    group = list(range(n))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if geoms[i].distance(geoms[j]) <= gap_m:
                group[root(j)] = root(i)
    roots = np.array([root(i) for i in range(n)])
    biggest = np.bincount(roots).argmax()
    if (roots == biggest).sum() < min_areas:
        return None
    return shapes[roots == biggest]


def _cluster_frame(near: gpd.GeoDataFrame, pad_m: float = 500.0):
    from shapely.geometry import box

    x0, y0, x1, y1 = near.total_bounds
    return box(x0 - pad_m, y0 - pad_m, x1 + pad_m, y1 + pad_m)


def _cluster_box(ax, near: gpd.GeoDataFrame) -> None:
    """A dashed box around the crowded areas, captioned as enlarged on the next map."""
    x0, y0, x1, y1 = _cluster_frame(near).bounds
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="none", edgecolor="black",
                           linewidth=1.1, linestyle=(0, (4, 2)), zorder=7))
    # captioned at the first corner (above left, above right, below left, below right) where
    # it covers no area's number and stays on the map
    renderer = ax.figure.canvas.get_renderer()
    taken = [(t.get_bbox_patch() or t).get_window_extent(renderer) for t in ax.texts]
    frame = ax.get_window_extent(renderer)
    corners = ((x0, y1 + 150, "left", "bottom"), (x1, y1 + 150, "right", "bottom"),
               (x0, y0 - 150, "left", "top"), (x1, y0 - 150, "right", "top"))
    for x, y, ha, va in corners:
        t = ax.text(x, y, "enlarged on the next map", fontsize=8, ha=ha, va=va, zorder=8,
                    path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])
        bb = t.get_window_extent(renderer)
        if not any(bb.overlaps(o) for o in taken) and frame.contains(bb.x0, bb.y0) \
                and frame.contains(bb.x1, bb.y1):
            return
        if (x, y, ha, va) != corners[-1]:
            t.remove()


def _ward_names(ax, lad_code: str, avoid=None, n: int = 7) -> None:
    """A few ward names spread over the map (the largest wards first, none inside ``avoid``
    or overlapping another label), in dark italic with a white halo."""
    wards = geography.ward_boundaries(lad_code)
    if wards.empty or "name" not in wards:
        return
    wards = wards.assign(area=wards.area).sort_values("area", ascending=False)
    renderer = ax.figure.canvas.get_renderer()
    placed = [t.get_window_extent(renderer) for t in ax.texts]
    frame = ax.get_window_extent(renderer)
    effects = [pe.withStroke(linewidth=2.8, foreground="white")]
    shown = 0
    for name, g in zip(wards["name"], wards.geometry, strict=True):
        p = g.representative_point()
        if avoid is not None and avoid.buffer(300).contains(p):
            continue
        t = ax.text(p.x, p.y, str(name), fontsize=8, style="italic", color="#1b1b1b",
                    ha="center", va="center", zorder=8, path_effects=effects)
        bb = t.get_window_extent(renderer).expanded(1.1, 1.3)
        if (any(bb.overlaps(o) for o in placed) or bb.x0 < frame.x0 or bb.x1 > frame.x1
                or bb.y0 < frame.y0 or bb.y1 > frame.y1):
            t.remove()
            continue
        placed.append(bb)
        shown += 1
        if shown >= n:
            break


def cluster_map(area_set: AreaSet, release: int = 2025, measure: str = "imd"):
    """The crowded target areas of ``decile_map`` (``town_cluster``) enlarged: LSOAs by
    decile, each area outlined and named, ward boundaries and names. None when the areas do
    not crowd. Returns the Figure."""
    import shapely

    vintage = config.RELEASE_VINTAGE[release]
    la = area_set.la_code
    lsoas = geography.lsoa_boundaries(vintage, la)
    shapes = _area_shapes(area_set, vintage, lsoas)
    near = town_cluster(shapes)
    if near is None:
        return None
    frame = _cluster_frame(near)
    dec = deciles(la, release, measure, lsoas["code"].tolist())
    view = lsoas[lsoas.intersects(frame)]
    view = view.assign(decile=view["code"].map(dec))
    x0, y0, x1, y1 = frame.bounds
    map_h = 0.69 * 7.5 * (y1 - y0) / (x1 - x0)  # inches, at the map's width
    fig, ax, side = _page_layout(figsize=(7.5, min(8.6, max(5.0, map_h / 0.80))))
    ax.set_position((0.01, 0.08, 0.69, 0.80))
    side.set_position((0.71, 0.08, 0.28, 0.80))
    cols = [DECILE_COLOURS[int(d) - 1] if pd.notna(d) else NO_DATA for d in view["decile"]]
    draw_polygons(ax, view.geometry, cols, edgecolor="white", linewidth=0.4)
    wards = geography.ward_boundaries(la)
    wv = wards[wards.intersects(frame)]
    draw_lines(ax, [shapely.union_all(wv.boundary.to_numpy())], color="#444444", linewidth=0.9,
               linestyle=(0, (5, 2.5)), zorder=3)
    draw_lines(ax, near.geometry, color="white", linewidth=3.4, zorder=4)
    draw_lines(ax, near.geometry, color=OUTLINE, linewidth=1.8, zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    pts = near.representative_point()
    _place_labels(ax, [(n, p.x, p.y) for n, p in zip(near["name"], pts, strict=True)],
                  fontsize=8.5)
    _ward_names(ax, la, avoid=shapely.union_all(near.geometry.to_numpy()), n=6)
    _scale_bar(ax)
    _legend(side, set(), bool(view["decile"].isna().any()), "target area", loc="upper left")
    la_name = _lad_name(la, lsoas)
    # the clause about wards on the first, shorter line: drawn at the 150 dpi reports save,
    # a second line ending with it ran 0.3 in past the figure's edge (the image grew wider
    # than the map and its smallest text printed under 7 pt)
    fig.text(0.01, 0.985, f"{la_name}: the {len(near)} target areas near the town centre, "
             f"enlarged; dashed lines: wards\n{MEASURE_LABELS.get(measure, measure)} {release}, "
             f"LSOAs ({vintage}) by national decile", fontsize=11, fontweight="bold", ha="left",
             va="top", linespacing=1.3)
    _attribution(fig, release)
    return fig
