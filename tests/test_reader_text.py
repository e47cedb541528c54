"""The style guide in code: closing notes without caveat codes, the glossary, the
reader-text checker and the chart legibility check (fast; no built pack needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from evidence_pack.charts import legibility  # noqa: E402
from evidence_pack.findings import glossary  # noqa: E402
from evidence_pack.publish import measure, notes, reader_text  # noqa: E402
from PIL import Image  # noqa: E402

KNOWN = {"TEST-1": "First caveat (see TEST-3).", "TEST-2": "Second (`secret.code`) caveat.",
         "TEST-3": "Third caveat."}


def _page(body: str) -> str:
    return (f'<html><head><title>x</title></head><body><main><h1 class="ep-title">Area profile: '
            f"Canklow</h1>{body}</main><footer>f</footer></body></html>")


def test_caveats_become_one_closing_notes_section():
    body = ("<h1>Area profile</h1><p>Scores are relative (TEST-2).</p>"
            + notes.caveats_html(["TEST-1", "TEST-2"], KNOWN, "Caveats")
            + "<h2>Later</h2><p>More.</p>"
            + notes.caveats_html(["TEST-2"], KNOWN, "More caveats"))
    out = notes.finish(_page(body), titles=["Area profile"], known=KNOWN)
    assert out.count("<h2>Notes</h2>") == 1
    assert "Caveats</h2>" not in out and "More caveats" not in out
    assert "TEST-" not in out.replace('data-note="', "")
    # numbered in order of first citation; the text links to the note
    assert '(<a class="ep-noteref" href="#note-1">note 1</a>)' in out
    assert 'id="note-1">Second caveat.' in out  # analyst detail in backticks left out
    assert 'id="note-2">First caveat (see <a class="ep-noteref" href="#note-3">note 3</a>)' in out
    assert 'id="note-3">Third caveat.' in out  # added because a note cites it
    assert "Notes <a href=\"#note-1\">1</a> and <a href=\"#note-2\">2</a> at the end" in out
    assert out.index("<h2>Notes</h2>") > out.index("<h2>Later</h2>")
    # the notebook's own h1 repeated the title: one h1 left
    assert out.count("<h1") == 1


def test_notes_pointer_shows_runs_as_ranges():
    assert notes._join([1, 2, 3, 4, 7]).count("<a") == 3
    assert "1</a> to <a" in notes._join([1, 2, 3])


def test_glossary_lists_terms_the_page_uses_and_terms_asked_for():
    body = "<p>The neighbourhood (LSOA) is at the 4th percentile.</p>" + notes.terms_html(["AUC"])
    out = notes.finish(_page(body), known={})
    assert "<h2>Terms used in this report</h2>" in out
    for term in ("LSOA", "percentile", "AUC"):
        assert f"<dt>{term}</dt>" in out
    assert "<dt>SMD</dt>" not in out
    with pytest.raises(KeyError, match="no glossary entry"):
        glossary.define("p-value")


def test_glossary_terms_all_have_a_pattern():
    assert set(glossary.TERMS) == set(glossary._PATTERNS)
    assert glossary.used_in("odds ratio per SD; ITL3 areas; difference-in-differences") == [
        "ITL3", "odds ratio", "standard deviation (SD)", "difference-in-differences"]


@pytest.mark.parametrize(("text", "rule"), [
    ("see TRENDS-5 for why", "caveat code"),
    ("carried with lookups.carry over time", "code identifier"),
    ("the la_summary table", "code identifier"),
    ("read from iod_lsoa.parquet", "file name"),
    ("GBP 12m", "GBP instead of £"),
    ("a change of -0.0 points", "negative zero"),
    ("in 3 LSOA(s)", "LSOA(s)"),
    ("cost £107,933.54 in all", "pennies"),
    ("£1,975.4 a head", "per-head decimals"),
    ("spend of £78,712,345 a year", "money not rounded"),
    ("rated RED-RED", "traffic-light code"),
])
def test_reader_text_finds_each_breach(text, rule):
    found = reader_text.problems(_page(f"<h2>Spend</h2><p>{text}</p>"))
    assert [(p.rule, p.heading) for p in found] == [(rule, "Spend")], found


def test_reader_text_passes_house_style():
    text = ("<p>£78.7m in 2023-24, £1,975 a head; 15% of residents; the 4th percentile "
            "(0 = most deprived); COVID-19; see www.gov.uk/x and e.g. note 3.</p>"
            '<figure><img alt="Map of the area" src="data:image/png;base64,AAA_bb.png"></figure>')
    assert reader_text.problems(_page(f"<h2>Spend</h2>{text}")) == []


def test_reader_text_reads_alt_text():
    found = reader_text.problems(_page('<h2>Map</h2><img alt="map of imd_decile" src="x">'))
    assert [p.words for p in found] == ["imd_decile"]


def test_heading_problems_name_empty_and_repeated_headings():
    page = _page("<h2>Key findings</h2><p>x</p><h2>How to read</h2><h2>Key findings</h2><p>y</p>")
    got = {(p.rule, p.heading) for p in reader_text.heading_problems(page)}
    assert got == {("heading with nothing under it", "How to read"),
                   ("repeated heading", "Key findings")}


def test_shared_share_counts_identical_blocks():
    borough = "<main><p>Same text.</p><p>Borough only.</p></main>"
    area = "<main><p>Same text.</p><p>Area only.</p><ul><li><p>Nested.</p></li></ul></main>"
    assert measure.text_blocks(area) == ["Same text.", "Area only.", "Nested."]
    assert measure.shared_share(area, borough) == pytest.approx(1 / 3)


def test_legibility_flags_small_and_faint_text():
    fig, ax = plt.subplots(figsize=(7.5, 4))
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("readable label", fontsize=10)
    ax.text(0.2, 0.8, "tiny note", fontsize=4)
    ax.text(0.5, 0.5, "dark on crimson", color="#222222", fontsize=10,
            bbox={"facecolor": "#8b0000", "edgecolor": "none"})
    ax.text(0.5, 0.2, "white on crimson", color="white", fontsize=10,
            bbox={"facecolor": "#8b0000", "edgecolor": "none"})
    found = legibility.problems(fig)
    plt.close(fig)
    assert any(f.startswith('"tiny note" prints at') for f in found), found
    assert any(f.startswith('"dark on crimson" has contrast') for f in found), found
    assert not any("readable label" in f or "white on crimson" in f for f in found), found


def test_legibility_scales_wide_figures_down():
    fig, ax = plt.subplots(figsize=(16, 4))
    ax.set_title("wide", fontsize=9)
    found = legibility.problems(fig)
    plt.close(fig)
    assert any('"wide" prints at' in f for f in found), found


def test_print_height_is_the_smallest_step_at_which_text_reaches_7_pt():
    """A short chart keeps the usual height; a tall one (a map, a long label list) gets the
    smallest taller step its text needs, and its text then prints at 7 pt or more."""
    short, ax = plt.subplots(figsize=(7.5, 3.5))
    ax.set_title("short", fontsize=9)
    tall, ax = plt.subplots(figsize=(7.5, 8))
    ax.set_title("tall", fontsize=9)
    h_short, h_tall = legibility.print_height_mm(short), legibility.print_height_mm(tall)
    assert h_short == legibility.PRINT_HEIGHT_MM
    assert legibility.PRINT_HEIGHT_MM < h_tall < legibility.PRINT_HEIGHTS_MM[-1]
    assert legibility.problems(tall) and not legibility.problems(tall, h_tall)
    lower = legibility.PRINT_HEIGHTS_MM[legibility.PRINT_HEIGHTS_MM.index(h_tall) - 1]
    assert legibility.problems(tall, lower)
    plt.close("all")


def test_contrast_formula():
    assert legibility.contrast("black", "white") == pytest.approx(21)
    assert legibility.contrast("#767676", "white") == pytest.approx(4.54, abs=0.01)


def test_reader_text_reads_alt_text_in_single_quotes():
    found = reader_text.problems(_page("""<h2>Map</h2><img alt='the "imd_decile" map' src="x">"""))
    assert [p.words for p in found] == ["imd_decile"]


def test_caveat_format_readme_is_not_a_caveat_file():
    from evidence_pack import config

    found = notes.load_caveats()
    assert (config.DOCS_DIR / "caveats" / "README.md").exists()
    assert not found["TRENDS-5"].startswith("First sentence")


def test_a_heading_doubled_by_the_key_findings_box_is_dropped():
    body = ('<div><h2 id="k">Key findings<a class="anchor-link" href="#k"></a></h2></div>'
            '<div><section class="ep-key-findings"><h2>Key findings</h2><ul><li>x</li></ul>'
            "</section></div><h2>Key findings</h2><p>kept: text between</p><h2>Key findings</h2>")
    out = notes.finish(_page(body), known={})
    assert out.count("Key findings</h2>") == 3 and 'id="k"' not in out


def _faint_chart():
    fig, ax = plt.subplots(figsize=(7.5, 8))
    ax.set_title("tall title", fontsize=9)
    ax.text(0.2, 0.8, "tiny note", fontsize=4)
    ax.text(0.5, 0.5, "dark on crimson", color="#222222", fontsize=10,
            bbox={"facecolor": "#8b0000", "edgecolor": "none"})
    return fig


def test_legibility_measures_an_unchanged_figure_once_with_the_same_answers(monkeypatch):
    """print_height_mm then problems of the same figure draw it once, and give what two
    separate measurements give; a figure changed in between is drawn again."""
    fig = _faint_chart()
    draws = []
    orig = fig.draw
    monkeypatch.setattr(fig, "draw", lambda r: (draws.append(1), orig(r))[1])
    height = legibility.print_height_mm(fig)
    found = legibility.problems(fig, height)
    assert len(draws) == 2  # laid out once, drawn once
    fresh = _faint_chart()  # the same chart measured with nothing remembered
    legibility._MEASURED.clear()
    h2 = legibility.print_height_mm(fresh)
    legibility._MEASURED.clear()
    assert (height, found) == (h2, legibility.problems(fresh, h2)) and found
    fig.axes[0].set_title("a much longer title that changes the figure", fontsize=4)
    changed = legibility.problems(fig, height)
    assert len(draws) == 4 and changed != found
    plt.close("all")


@pytest.mark.mirror
def test_tight_png_is_the_saved_figure_from_one_draw(processed, monkeypatch):
    """Real charts (the risk model's calibration, inside its figure; its odds, labels beyond
    the figure's left edge): tight_png gives the pixels savefig(150 dpi, tight box, white)
    gives, as an RGB PNG (they are opaque), measuring, checking and saving lay the figure out
    once and draw it once, and the
    legibility check reads the saved image where each text is (a faint label is found)."""
    import io

    from evidence_pack.analysis import risk
    from evidence_pack.charts import risk as risk_charts
    from evidence_pack.publish import report

    report.setup()

    def saved(fig):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", facecolor="white")
        return buf.getvalue()

    for fig in (risk_charts.plot_calibration(risk.load("cv"), 10),
                risk_charts.plot_odds(risk.load("odds"), 2025, 10)):
        want = saved(fig)
        legibility._MEASURED.clear()
        draws = []
        orig = fig.draw
        monkeypatch.setattr(fig, "draw", lambda r, orig=orig, seen=draws: (seen.append(r), orig(r))[1])
        height = legibility.print_height_mm(fig)
        assert legibility.problems(fig, height) == []
        got = Image.open(io.BytesIO(legibility.tight_png(fig)))
        assert got.mode == "RGB" and got.info["dpi"] == pytest.approx((150, 150), abs=0.1)
        assert np.array_equal(np.asarray(got.convert("RGBA")),
                              np.asarray(Image.open(io.BytesIO(want)).convert("RGBA")))
        assert len(draws) == 2  # one layout pass (no pixels) and one draw
        plt.close(fig)
    fig = risk_charts.plot_odds(risk.load("odds"), 2025, 10)
    fig.axes[0].set_ylabel("faint label left of the axes", color="#dddddd", fontsize=12)
    legibility._MEASURED.clear()
    assert legibility._measured(fig)[0].x0 < 0  # the label lies beyond the figure's edge
    found = legibility.problems(fig, legibility.print_height_mm(fig))
    assert any("faint label" in p and "contrast" in p for p in found), found
    plt.close("all")
