"""The build on tiny throwaway notebooks: cache skips, failure collection, atomic output,
self-contained HTML, the index, parameter checks, and a clean namespace between runs."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import nbformat
import pytest
from evidence_pack import config
from evidence_pack.publish import build
from evidence_pack.sources.io import DataError

AREAS = """la_code: E08000018
la_name: Rotherham
areas:
  - slug: a-one
    name: "Area <One> & Co"
    lsoa_vintage: 2001
    lsoas: [E01007723, E01007735]
  - slug: b-two
    name: B Two
    lsoa_vintage: 2001
    lsoas: [E01007677]
"""

PARAMS = 'area = "borough"\nareas_file = "data/areas/rotherham.yml"\nscale = 1.0\n'

GOOD = [
    ("markdown", "# Good report\n\nIntro *text*."),
    ("parameters", PARAMS),
    ("code", "assert 'leak' not in globals(), 'state leaked from a previous run'\n"
             "leak = area\n"
             "from evidence_pack.publish import report\nreport.setup()\n"
             "import pandas as pd\nimport matplotlib.pyplot as plt\n"
             "print('stray print is not published')\n"
             "report.key_findings([f'Area {area} scale {scale}'])\n"
             "report.summary(lsoas=2, scale=scale)"),
    ("markdown", "## Households"),
    ("code", "df = pd.DataFrame({'group': ['x', 'y'], 'households': [3, 1200]})\n"
             "report.table(df, 'Households by group', ['iod2019'], count_cols=['households'])\n"
             "df  # a bare repr: dropped from the report"),
    ("code", "fig, ax = plt.subplots(figsize=(4, 2))\nax.plot([1, 2], [2, 1])\n"
             "report.figure(fig, alt='A falling line', source=['iod2010'])"),
]

FLAKY = [
    ("markdown", "# Flaky report"),
    ("parameters", PARAMS),
    ("code", "from evidence_pack.publish import report\nreport.setup()\n"
             "if area == 'b-two':\n    raise RuntimeError('no data for ' + area)\n"
             "report.markdown('All fine for {a}', a=area)"),
]


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    nb = nbformat.v4.new_notebook()
    for kind, src in cells:
        if kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(src))
        elif kind == "parameters":
            nb.cells.append(nbformat.v4.new_code_cell(src, metadata={"tags": ["parameters"]}))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(src))
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("pack")
    nbdir = root / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "good.ipynb", GOOD)
    write_notebook(nbdir / "flaky.ipynb", FLAKY)
    (nbdir / "reports.yml").write_text("notebooks:\n  good:\n    title: Good\n"
                                       "    parameters: {scale: 2.5}\n    data: []\n"
                                       "  flaky:\n    data: []\n", encoding="utf-8")
    (root / "areas.yml").write_text(AREAS, encoding="utf-8")
    (root / "code.txt").write_text("v1")
    reports = root / "reports"
    (reports / "b-two").mkdir(parents=True)
    (reports / "b-two" / "flaky.html").write_text("stale report from an earlier build")
    return root


def run(project: Path, **kw) -> build.BuildReport:
    # The package code is part of every cache key; here only the test notebooks' "code" is
    # (others edit lib/ while tests run).
    kw.setdefault("code_globs", (str(project / "code.txt"),))
    kw.setdefault("jobs", 1)
    kw.setdefault("pdf", False)
    return build.build(areas_file=project / "areas.yml", notebooks_dir=project / "notebooks",
                       reports_dir=project / "reports", build_dir=project / "build",
                       progress=False, **kw)


@pytest.fixture(scope="module")
def first(project):
    return run(project, jobs=2, pdf=True)


@pytest.mark.slow
def test_failures_collected_and_named(first, project):
    assert first.planned == 6 and first.ran == 6
    assert list(first.failures) == ["b-two/flaky"]
    assert "RuntimeError: no data for b-two" in first.failures["b-two/flaky"]
    assert (project / "build" / "logs" / "b-two__flaky.log").exists()


@pytest.mark.slow
def test_failed_report_never_looks_complete(first, project):
    reports = project / "reports"
    assert not (reports / "b-two" / "flaky.html").exists()  # the stale page was removed
    assert not list(reports.rglob("*.part"))
    for area in ("borough", "a-one", "b-two"):
        for ext in ("html", "pdf", "json"):
            assert (reports / area / f"good.{ext}").stat().st_size > 0
    assert (reports / "a-one" / "flaky.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_html_published_outputs_only(first, project):
    page = (project / "reports" / "a-one" / "good.html").read_text(encoding="utf-8")
    build.check_self_contained(page)
    assert "<script" not in page
    assert "Area &lt;One&gt; &amp; Co" in page  # area name from YAML escaped
    assert "Key findings" in page and "Area a-one scale 2.5" in page  # typed parameter
    imgs = re.findall(r"<img\b[^>]*>", page)
    assert len(imgs) == 1 and 'alt="A falling line"' in imgs[0]
    assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', imgs[0])
    assert "English Indices of Deprivation 2019 (MHCLG, published 26 September 2019)" in page
    assert "&lt;5" in page and "1,200" in page
    assert "stray print" not in page  # not published through report
    assert "assert" not in page and "import pandas" not in page  # code hidden
    assert "state leaked" not in page  # every run starts with a clean namespace
    summary = json.loads((project / "reports" / "a-one" / "good.json").read_text())
    assert summary["lsoas"] == 2 and summary["scale"] == 2.5 and summary["slug"] == "a-one"


@pytest.mark.slow
def test_index_links_every_report(first, project):
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    build.check_self_contained(index)
    for area in ("borough", "a-one", "b-two"):
        assert f'href="{area}/good.html"' in index and f'href="{area}/good.pdf"' in index
    assert 'href="b-two/flaky.html"' not in index
    assert "b-two/flaky" in index and "no data for b-two" in index
    assert "Area &lt;One&gt; &amp; Co" in index


@pytest.mark.slow
def test_cache_skips_unchanged_and_reruns_changed_area(first, project):
    warm = run(project, pdf=True)
    assert warm.ran == 1 and warm.skipped == 5  # only the failed run is retried
    areas = project / "areas.yml"
    areas.write_text(areas.read_text().replace("[E01007677]", "[E01007677, E01007678]"))
    changed = run(project, notebooks=["good"], pdf=True)
    assert changed.ran == 2 and changed.skipped == 1  # b-two and the borough; a-one unchanged
    assert {r.job_id for r in changed.results} == {"b-two/good", "borough/good"}
    again = run(project, notebooks=["good"], pdf=True)
    assert again.ran == 0
    forced = run(project, notebooks=["good"], only=["a-one"], force=True)
    assert forced.ran == 1 and not forced.failures
    (project / "code.txt").write_text("v2")  # a change in the package code reruns everything
    assert run(project, notebooks=["good"]).ran == 3


def test_parameters_checked_against_notebook(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "good.ipynb", GOOD)
    (nbdir / "reports.yml").write_text("notebooks:\n  good:\n    parameters: {scale: 'big'}\n")
    spec = build.load_specs(nbdir)[0]
    with pytest.raises(DataError, match="scale"):
        build.check_parameters(spec)
    (nbdir / "reports.yml").write_text("notebooks:\n  good:\n    parameters: {nope: 1}\n")
    with pytest.raises(DataError, match="nope"):
        build.check_parameters(build.load_specs(nbdir)[0])
    (nbdir / "reports.yml").write_text("notebooks:\n  good:\n    parameters: {area: x}\n")
    with pytest.raises(DataError, match="set by the build"):
        build.load_specs(nbdir)
    (nbdir / "reports.yml").write_text("notebooks:\n  good:\n    parameters: {scale: 3}\n")
    build.check_parameters(build.load_specs(nbdir)[0])  # an int is a fine float
    with pytest.raises(DataError, match="no notebook"):
        build.load_specs(nbdir, ["missing"])


def test_bad_areas_file(tmp_path):
    bad = tmp_path / "a.yml"
    bad.write_text("areas:\n  - slug: borough\n    name: x\n")
    with pytest.raises(DataError, match="slug"):
        build.load_areas(bad)
    bad.write_text("areas: 3\n")
    with pytest.raises(DataError):
        build.load_areas(bad)


def test_area_fingerprints_are_per_area(tmp_path):
    f = tmp_path / "a.yml"
    f.write_text(AREAS)
    _, before, whole1 = build.load_areas(f)
    f.write_text(AREAS.replace("[E01007677]", "[E01007678]"))
    _, after, whole2 = build.load_areas(f)
    assert before[0].fingerprint == after[0].fingerprint
    assert before[1].fingerprint != after[1].fingerprint and whole1 != whole2


def test_published_keeps_only_report_outputs():
    from evidence_pack.publish.report import PUBLISHED_KEY, SUMMARY_MIME

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="hello"),
        nbformat.v4.new_output("display_data", data={"text/html": "<p>ok</p>"},
                               metadata={PUBLISHED_KEY: True}),
        nbformat.v4.new_output("display_data", data={"image/png": "AAAA"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": "<Figure>"}, execution_count=1),
        nbformat.v4.new_output("display_data", data={SUMMARY_MIME: {"lsoas": 3}}),
    ]
    nb.cells.append(cell)
    out, summary, dropped = build.published(nb)
    assert [o["data"]["text/html"] for o in out.cells[0].outputs] == ["<p>ok</p>"]
    assert summary == {"lsoas": 3} and dropped == 3


@pytest.mark.parametrize("snippet", [
    '<script src="https://cdn.example/require.js"></script>',
    '<link rel="stylesheet" href="http://fonts.example/x.css">',
    "<style>@import url(https://x.example/a.css);</style>",
    '<img src="//x.example/a.png" alt="a">',
    "<script>var x = 1;</script>",
])
def test_self_contained_check_rejects_network(snippet):
    with pytest.raises(ValueError):
        build.check_self_contained(f"<html><body>{snippet}</body></html>")


def test_self_contained_allows_plain_links():
    build.check_self_contained('<p><a href="https://www.gov.uk/">gov.uk</a></p>'
                               '<img src="data:image/png;base64,AAAA" alt="x">')


def test_main_exit_status_names_failures(monkeypatch, capsys):
    rep = build.BuildReport(planned=2, skipped=0, ran=2, failures={"a-one/x": "boom"},
                            seconds=0.1, index=config.REPORTS_DIR / "index.html")
    monkeypatch.setattr(build, "build", lambda **kw: rep)
    args = argparse.Namespace(areas_file="x.yml", only=None, notebooks=None, jobs=1,
                              no_pdf=True, force=False)
    assert build.main(args) == 1
    assert "a-one/x: boom" in capsys.readouterr().err
    rep.failures.clear()
    assert build.main(args) == 0


def test_index_figure_labels_are_plain_words():
    from evidence_pack.publish.build import figure_label

    assert figure_label("imd_share_decile1") == "% of LSOAs in England's most deprived 10%"
    assert figure_label("some_new_key") == "some new key"
