"""Maps: polygon paths, legend order, palette, outlines, labels, locator and attribution on
a synthetic district; Rotherham maps render on the mirror."""

from __future__ import annotations

import io

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import areas
from evidence_pack.charts import maps
from PIL import Image
from shapely.geometry import MultiPolygon, Polygon, box

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LA = "E08000018"
CRS = "EPSG:27700"


def test_palette_ten_distinct_ordered_dark_to_light():
    cols = maps.DECILE_COLOURS
    assert len(cols) == 10 and len(set(cols)) == 10
    lum = [sum(matplotlib.colors.to_rgb(c)) for c in cols]
    assert lum[0] < lum[-1]  # decile 1 (most deprived) darkest


def test_geom_path_keeps_holes_and_parts():
    donut = Polygon(box(0, 0, 10, 10).exterior.coords, [box(4, 4, 6, 6).exterior.coords])
    path = maps._geom_path(donut)
    assert (path.codes == matplotlib.path.Path.MOVETO).sum() == 2
    # rendered: the hole stays empty, the ring is filled
    fig, ax = plt.subplots(figsize=(2, 2), dpi=50)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    fig.subplots_adjust(0, 0, 1, 1)
    maps.draw_polygons(ax, [donut], "black", edgecolor="none")
    fig.canvas.draw()
    px = np.asarray(fig.canvas.buffer_rgba())
    assert tuple(px[50, 50, :3]) == (255, 255, 255) and tuple(px[10, 10, :3]) == (0, 0, 0)
    plt.close(fig)
    multi = MultiPolygon([box(0, 0, 1, 1), box(2, 2, 3, 3)])
    assert (maps._geom_path(multi).codes == matplotlib.path.Path.MOVETO).sum() == 2


@pytest.fixture
def synthetic(monkeypatch):
    """A 5 x 4 grid district of 1 km squares with deciles 1..10 and two target areas."""
    codes, geoms = [], []
    for r in range(4):
        for c in range(5):
            codes.append(f"E01{r:03d}{c:03d}")
            geoms.append(box(440_000 + c * 1000, 390_000 + r * 1000,
                             441_000 + c * 1000, 391_000 + r * 1000))
    lsoas = gpd.GeoDataFrame({"code": codes, "name": [f"X {i:03d}A" for i in range(20)],
                              "lad_code": LA}, geometry=geoms, crs=CRS)
    dec = pd.Series([(i % 10) + 1 for i in range(19)] + [pd.NA], index=codes, dtype="Int64")
    outline = gpd.GeoDataFrame({"code": [LA], "name": ["Synthetic"], "lad_code": [LA]},
                               geometry=[lsoas.geometry.union_all()], crs=CRS)
    region = gpd.GeoDataFrame({"code": ["E12000003"], "name": ["Region"]},
                              geometry=[box(400_000, 350_000, 500_000, 450_000)], crs=CRS)
    from evidence_pack.stores import geography

    monkeypatch.setattr(geography, "lsoa_boundaries", lambda v, la=None, detail=True: lsoas)
    monkeypatch.setattr(geography, "lad_boundaries", lambda la=None, detail=True: outline)
    monkeypatch.setattr(geography, "region_boundaries", lambda: region)
    monkeypatch.setattr(geography, "ward_boundaries", lambda la=None, detail=True: outline)
    monkeypatch.setattr(maps, "deciles", lambda la, rel, m="imd", codes=None: dec)
    ref = {2001: {c: LA for c in codes}}
    doc = {"la_code": LA, "la_name": "Synthetic", "areas": [
        {"slug": "north", "name": "Northfield", "area_type": "council estate",
         "lsoas": codes[15:17]},
        {"slug": "south", "name": "Southgate", "area_type": "coalfield community",
         "lsoas": codes[0:2]}]}
    yield areas.parse_areas(doc, "synthetic.yml", reference=ref)
    plt.close("all")


def _texts(fig) -> str:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [t.get_text() for t in ax.texts] + [ax.get_title(loc="left")]
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
    return "\n".join(out)


def test_decile_map_legend_outlines_labels_attribution(synthetic):
    fig = maps.decile_map(LA, 2010, area_set=synthetic, labels="names")
    side = fig.axes[1]
    labels = [t.get_text() for t in side.get_legend().get_texts()]
    assert labels[:10] == ["1 most deprived 10%", "2", "3", "4", "5", "6", "7", "8", "9",
                           "10 least deprived 10%"]
    assert labels[10:] == ["no data", "target area"]
    text = " ".join(_texts(fig).split())  # the attribution is wrapped over lines
    assert "Northfield" in text and "Southgate" in text
    assert "Office for National Statistics licensed under the Open Government Licence v3.0" in text
    assert "Contains OS data \u00a9 Crown copyright and database right" in text
    assert "Indices of Deprivation 2010" in text and "LSOAs (2001)" in text
    assert any(len(a.child_axes) for a in fig.axes)  # the locator inset
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    assert buf.tell() > 10_000


def test_decile_map_numbers_and_key(synthetic):
    fig = maps.decile_map(LA, 2010, area_set=synthetic, labels="numbers")
    text = _texts(fig)
    assert " 1  Northfield" in text and " 2  Southgate" in text
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    circles = [t for t in fig.axes[0].texts if t.get_text() in ("1", "2")]
    assert len(circles) == 2
    b = [t.get_bbox_patch().get_window_extent(renderer) for t in circles]
    assert not b[0].overlaps(b[1])


def test_decile_map_into_given_axes(synthetic):
    fig, ax = plt.subplots()
    out = maps.decile_map(LA, 2010, area_set=synthetic, ax=ax, labels="none", locator=False)
    assert out is fig and ax.get_legend() is not None
    assert ax.get_title(loc="left").startswith("Synthetic")


def test_area_map_synthetic(synthetic):
    fig = maps.area_map(synthetic, "north", release=2010, margin_m=500)
    text = _texts(fig)
    assert "Northfield" in text and "E01003000" in text and "E01003001" in text
    with pytest.raises(KeyError):
        maps.area_map(synthetic, "nowhere", release=2010)


@pytest.mark.mirror
def test_rotherham_maps_render(processed):
    from evidence_pack.stores import geography

    if not geography.path("lsoa01").exists():
        pytest.skip("boundaries not built: run `evidence-pack prepare geography`")
    s = areas.load_areas()
    fig = maps.decile_map(LA, 2025, area_set=s)
    assert "Rotherham" in _texts(fig) and "\n11  Rawmarsh East" in _texts(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    assert buf.tell() > 50_000
    fig = maps.area_map(s, "ferham-masbrough", release=2010)
    assert "E01007715" in _texts(fig)
    plt.close("all")


def test_town_cluster_groups_areas_that_crowd():
    shapes = gpd.GeoDataFrame(
        {"slug": list("abcde"), "name": list("ABCDE")},
        geometry=[box(0, 0, 1000, 1000), box(1200, 0, 2200, 1000), box(2400, 0, 3400, 1000),
                  box(20_000, 0, 21_000, 1000), box(40_000, 0, 41_000, 1000)], crs=CRS)
    near = maps.town_cluster(shapes, gap_m=400)
    assert near is not None and near["slug"].tolist() == ["a", "b", "c"]
    assert maps.town_cluster(shapes, gap_m=100) is None  # no three areas close together


@pytest.mark.mirror
def test_rotherham_town_centre_map_is_readable(processed):
    from evidence_pack.charts import legibility
    from evidence_pack.stores import geography

    if not geography.path("lsoa21").exists():
        pytest.skip("boundaries not built: run `evidence-pack prepare geography`")
    s = areas.load_areas()
    fig = maps.cluster_map(s, release=2025)
    text = _texts(fig)
    assert "Town Centre" in text and "Canklow" in text and "Maltby South East" not in text
    # at the print height the report gives it (a map may take more than two-fifths of a page)
    assert legibility.problems(fig, legibility.print_height_mm(fig)) == []
    fig = maps.decile_map(LA, 2025, area_set=s)
    assert "enlarged on the next map" in _texts(fig)
    assert legibility.problems(fig, legibility.print_height_mm(fig)) == []
    # the box's caption covers no area's number (it covered Rawmarsh East's 11 when always
    # put above the box), and an area map's two-line title stays clear of the map
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    caption = next(t for t in ax.texts if t.get_text() == "enlarged on the next map")
    numbers = [t.get_bbox_patch().get_window_extent(renderer) for t in ax.texts
               if t.get_text().isdigit()]
    assert len(numbers) == 11
    assert not any(caption.get_window_extent(renderer).overlaps(n) for n in numbers)
    fig = maps.area_map(s, "canklow", release=2025)
    renderer = fig.canvas.get_renderer()
    title = next(t for t in fig.texts if t.get_text().startswith("Canklow:"))
    assert title.get_window_extent(renderer).y0 > fig.axes[0].get_window_extent(renderer).y1
    plt.close("all")


@pytest.mark.mirror
def test_rotherham_maps_are_drawn_once_for_the_report(processed, monkeypatch):
    """A map's report figure (print height, legibility check, PNG) lays the map out once and
    draws it once (listing the texts of its hidden axes made their tick marks, marked the
    figure changed and measured it all again: four draws); the PNG is the bytes savefig with
    a tight box writes; the figure keeps its legend, title, attribution and alt text."""
    import base64
    import re

    from evidence_pack.charts import legibility
    from evidence_pack.publish import report
    from evidence_pack.stores import geography

    if not geography.path("lsoa21").exists():
        pytest.skip("boundaries not built: run `evidence-pack prepare geography`")
    s = areas.load_areas()
    for make in (lambda: maps.decile_map(LA, 2025, area_set=s),
                 lambda: maps.area_map(s, "canklow", release=2025)):
        fig = make()
        want = io.BytesIO()
        fig.savefig(want, format="png", dpi=150, bbox_inches="tight", facecolor="white")
        fig = make()
        legibility._MEASURED.clear()
        draws = []
        orig = fig.draw
        monkeypatch.setattr(fig, "draw", lambda r, orig=orig, seen=draws: (seen.append(r), orig(r))[1])
        text = " ".join(_texts(fig).split())
        html = report.figure_html(fig, alt="Map of Rotherham's neighbourhoods", source="iod2025")
        assert len(draws) == 2  # one layout pass (no pixels) and one draw
        png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', html)[1])
        got, saved = Image.open(io.BytesIO(png)), Image.open(io.BytesIO(want.getvalue()))
        assert got.mode == "RGB"  # savefig's pixels (opaque), as an RGB PNG
        assert np.array_equal(np.asarray(got.convert("RGBA")), np.asarray(saved.convert("RGBA")))
        assert 'alt="Map of Rotherham&#x27;s neighbourhoods"' in html
        assert 'data-unreadable=""' in html
        titles = [a.get_legend().get_title().get_text() for a in fig.axes if a.get_legend()]
        assert titles == ["Decile in England"] and "1 most deprived 10%" in text
        assert "Indices of Deprivation 2025" in text and "Crown copyright" in text
        assert "Rotherham: " in text or "Canklow: " in text
        plt.close("all")
