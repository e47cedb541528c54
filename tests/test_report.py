"""Publication rules: suppression, escaping, sources, alt text, caveats, key figures."""

from __future__ import annotations

import os
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from evidence_pack import config
from evidence_pack.publish import notes, report  # noqa: E402

EVIL = '<script>alert("x")</script> [click](javascript:alert(1)) **bold** & <img src=x onerror=1>'


@pytest.fixture
def shown(monkeypatch):
    """Capture what report displays instead of sending it to IPython."""
    out: list[str] = []
    monkeypatch.setattr(report, "_display_html", lambda fragment, plain="": out.append(fragment))
    monkeypatch.setattr(report, "_emit_summary", lambda: None)
    return out


def test_suppress_small_counts_keeps_zero_and_missing():
    df = pd.DataFrame({"area": list("abcdef"), "n": [0, 1, 4, 5, 120, None]})
    out = report.suppress(df, ["n"])
    assert out["n"].tolist()[:5] == [0, "<5", "<5", 5, 120]
    assert pd.isna(out["n"].iloc[5])
    assert df["n"].iloc[1] == 1  # the input is untouched
    with pytest.raises(KeyError):
        report.suppress(df, ["missing"])
    with pytest.raises(ValueError):
        report.suppress(pd.DataFrame({"n": [-1]}), ["n"])


def test_count_for_text():
    assert report.count(3) == "<5"
    assert report.count(0) == "0"
    assert report.count(5) == "5"
    assert report.count(12345) == "12,345"
    assert report.count(float("nan")) == "n/a"


def test_markdown_escapes_values_not_template(shown):
    report.markdown("Area **{name}** is ranked {rank:,} of {n}.", name=EVIL, rank=12345, n=326)
    html = shown[0]
    assert "<strong>" in html  # the template's own Markdown is rendered
    assert "12,345" in html
    assert "<script" not in html and "<img" not in html
    assert "href" not in html  # no link injected through a value
    assert "&lt;script&gt;" in html
    assert "**bold**" in html  # shown literally, not as bold


def test_markdown_escapes_raw_html_in_template(shown):
    report.markdown("<b>raw</b> text")
    assert "<b>" not in shown[0]


def test_table_suppresses_escapes_and_names_source(shown):
    df = pd.DataFrame({"Area <name>": [EVIL, "Ferham"], "households": [3, 1500], "share": [0.25, None]})
    report.table(df, "Households <by> area", ["iod2019"], count_cols=["households"])
    html = shown[0]
    assert "<script" not in html and "<img" not in html
    assert "<caption>Households &lt;by&gt; area</caption>" in html
    assert "&lt;5" in html and "1,500" in html and ">3<" not in html
    assert "English Indices of Deprivation 2019" in html and "26 September 2019" in html
    assert "Open Government Licence" in html


def test_table_requires_caption_and_source():
    df = pd.DataFrame({"n": [10]})
    with pytest.raises(ValueError):
        report.table_html(df, "", ["iod2019"])
    with pytest.raises(ValueError):
        report.table_html(df, "caption", "  ")
    with pytest.raises(ValueError):
        report.table_html(df, "caption", [])


@pytest.mark.parametrize("col", ["postcode", "Date_of_birth", "nhs_number", "surname", "address"])
def test_table_refuses_personal_data(col):
    with pytest.raises(ValueError, match="personal"):
        report.table_html(pd.DataFrame({col: ["x"]}), "caption", ["iod2019"])


def test_figure_has_alt_text_source_and_is_closed(shown):
    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2])
    report.figure(fig, alt='Line of "rank" by year <falling>', source=["iod2010", "iod2025"])
    html = shown[0]
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}" alt="Line of &quot;rank&quot; by year &lt;falling&gt;">', html)
    assert "<figcaption>" in html and "24 March 2011" in html and "30 October 2025" in html
    assert not plt.fignum_exists(fig.number)


def test_figure_needs_alt_text():
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="alt"):
        report.figure(fig, alt=" ", source=["iod2019"])
    assert not plt.fignum_exists(fig.number)


def test_source_line_release_dates_and_unknown_id():
    line = report.source_line(["iod2004", "iod2007", "iod2015", "household_deprivation21_lsoa21"],
                              note="Own calculation.")
    assert line.startswith("Source: English Indices of Deprivation 2004 (ODPM, published April 2004)")
    assert "December 2007" in line and "30 September 2015" in line
    assert "Census 2021: household deprivation (ONS, published 2 November 2022)" in line
    assert line.endswith("Own calculation.")
    assert line.count("Source:") == 1
    with pytest.raises(KeyError):
        report.source_line(["no_such_dataset"])


def test_key_findings_escaped_and_required(shown):
    report.key_findings(["Rank 53rd of 326 <districts>", ""])
    assert "<h2>Key findings</h2>" in shown[0] and "&lt;districts&gt;" in shown[0]
    assert shown[0].count("<li>") == 1
    with pytest.raises(ValueError):
        report.key_findings([])


def test_caveats_by_id(tmp_path, shown):
    (tmp_path / "x.md").write_text("# X\n\n- **TEST-1** First <caveat>.\n- **TEST-2** Second\n"
                                   "  continues here.\n", encoding="utf-8")
    report.caveats(["TEST-2", "TEST-1"], caveats_dir=tmp_path)
    html = shown[0]
    assert html.index('data-note="TEST-2"') < html.index('data-note="TEST-1"')
    assert "Second continues here." in html and "&lt;caveat&gt;" in html
    assert ">TEST-" not in html  # the ID is not reader text
    with pytest.raises(KeyError, match="TEST-9"):
        report.caveats(["TEST-9"], caveats_dir=tmp_path)


def test_area_report_leaves_its_notes_to_the_borough_report(tmp_path, shown, monkeypatch):
    """Issue 12: after ``notes_in_borough_report`` an area report prints one line naming the
    borough report, its caveat blocks print nothing, and the built page numbers no notes
    (caveat IDs cited in its prose are dropped, not turned into notes)."""
    (tmp_path / "x.md").write_text("- **TEST-1** First.\n", encoding="utf-8")
    monkeypatch.setattr(report, "_notes_elsewhere", False)
    report.notes_in_borough_report("Area profile", "Rotherham", "Canklow")
    report.caveats(["TEST-1"], caveats_dir=tmp_path)
    assert len(shown) == 1
    assert "This report is about Canklow" in shown[0] and "Area profile: Rotherham" in shown[0]
    page = ("<html><body><main>" + shown[0] + "<p>Shares of households (TEST-1) here.</p>"
            "</main></body></html>")
    done = notes.finish(page, known={"TEST-1": "First."})
    assert "TEST-1" not in done and 'id="notes"' not in done
    assert "Shares of households here." in done
    # a borough report numbers the same citation as a note
    borough = notes.finish(page.replace(notes.ELSEWHERE, ""), known={"TEST-1": "First."})
    assert 'id="notes"' in borough and "note 1" in borough


def test_repo_caveats_parse():
    found = report.load_caveats()
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]*-\d+", k) for k in found)


def test_summary_records_scalars(monkeypatch):
    monkeypatch.setattr(report, "_emit_summary", lambda: None)
    report._summary.clear()
    report.summary(lsoas=21, share=0.5, label="x")
    assert report.current_summary() == {"lsoas": 21, "share": 0.5, "label": "x"}
    report.summary(areas=[{"name": "A", "residents": 1200}])
    assert report.current_summary()["areas"] == [{"name": "A", "residents": 1200}]
    with pytest.raises(TypeError):
        report.summary(areas=[{"name": ["nested"]}])
    with pytest.raises(TypeError):
        report.summary(bad=[1, 2])


def test_setup_changes_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report.setup()
    import os

    assert os.getcwd() == str(config.ROOT)
    assert matplotlib.get_backend().lower() == "agg"


def _theme_state() -> dict:
    rc = {k: v for k, v in matplotlib.rcParams.items() if k not in report._NOT_THEME}
    return {"rc": rc, "codes": {c: tuple(matplotlib.colors.colorConverter.colors[c])
                                for c in "bgrmyck"}}


def test_theme_is_seaborns_and_read_from_the_memo(tmp_path, monkeypatch):
    """The theme a report gets is what seaborn.set_theme sets after matplotlib's defaults,
    whether worked out here or read from the build's memo folder by another process (where
    seaborn is then not imported: it costs a new kernel ~0.7 s)."""
    import subprocess
    import sys

    import seaborn as sns

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        sns.set_theme(**report.THEME)
        expected = _theme_state()
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(tmp_path))
    monkeypatch.setattr(report, "_THEME", {})
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        report.apply_theme()
        assert _theme_state() == expected
    assert len(list((tmp_path / "theme").glob("*.pkl"))) == 1
    code = ("import sys, matplotlib\n"
            "from evidence_pack.publish import report\n"
            "matplotlib.rcdefaults()\n"
            "report.apply_theme()\n"
            "print('seaborn' in sys.modules, matplotlib.rcParams['axes.facecolor'],"
            " matplotlib.rcParams['axes.prop_cycle'].by_key()['color'][1],"
            " matplotlib.colormaps[matplotlib.rcParams['image.cmap']](0.5), sep='\\n')")
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(config.ROOT / "lib")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    facecolor = expected["rc"]["axes.facecolor"]
    second = expected["rc"]["axes.prop_cycle"].by_key()["color"][1]
    middle = matplotlib.colormaps[expected["rc"]["image.cmap"]](0.5)  # seaborn's "rocket"
    assert done.stdout.splitlines() == ["False", str(facecolor), str(second), str(middle)]


def test_source_names_for_geography_and_census():
    line = report.source_line(["boundaries_lsoa21", "lookup_lsoa11_lsoa21_ltla22", "ruc21_lsoa21",
                               "disability21_lsoa21_ew", "cni2023_england_lsoa21"])
    assert "ONS LSOA 2021 boundaries" in line
    assert "LSOA 2011 to LSOA 2021 to local authority district 2022" in line
    assert "ONS Rural-Urban Classification 2021" in line
    assert "Census 2021: disability (ONS, published 19 January 2023)" in line
    assert "Community Needs Index 2023" in line


def test_source_line_collapses_runs_of_years():
    ids = [f"rs{y}_{(y + 1) % 100:02d}" for y in range(2007, 2012)]
    line = report.source_line(ids + ["iod2019"])
    assert "Revenue Outturn (RS) 2007-08 to 2011-12 (MHCLG); English Indices of Deprivation 2019" in line
    gappy = report.source_line(["rs2007_08", "rs2011_12"])
    assert "2007-08, 2011-12" in gappy
