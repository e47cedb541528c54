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
from evidence_pack.publish import build, plan
from evidence_pack.sources.io import DataError

AREAS = """la_code: E08000018
la_name: Rotherham
areas:
  - slug: a-one
    name: "Area <One> & Co"
    area_type: unclassified
    lsoa_vintage: 2001
    lsoas: [E01007723, E01007735]
  - slug: b-two
    name: B Two
    area_type: unclassified
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
def test_each_report_timed_by_phase(first):
    ok = [r for r in first.results if r.ok]
    for r in ok:
        assert {"execute", "kernel", "html", "pdf"} <= set(r.timings)
        assert 0 <= r.timings["kernel"] <= r.timings["execute"]
    kernel = sorted(r.timings["kernel"] for r in ok)  # a start (~2 s) or a reset (~0.02 s)
    assert kernel[-1] > 0.5 and kernel[-1] > 5 * kernel[0]


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


@pytest.mark.slow
def test_parameters_checked_once_per_version_of_notebook_and_parameters(tmp_path, monkeypatch):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "good.ipynb", GOOD)
    cfg = "notebooks:\n  good:\n    parameters: {scale: %s}\n    data: []\n"
    (nbdir / "reports.yml").write_text(cfg % "2.5")
    (tmp_path / "areas.yml").write_text(AREAS, encoding="utf-8")
    (tmp_path / "code.txt").write_text("v1")
    checked: list[str] = []
    real = build.check_parameters
    monkeypatch.setattr(build, "check_parameters",
                        lambda spec: (checked.append(spec.name), real(spec))[1])
    assert run(tmp_path, only=["a-one"]).ran == 1 and checked == ["good"]
    assert run(tmp_path, only=["a-one"], force=True).ran == 1
    assert checked == ["good"]  # the same notebook and parameters: not checked again
    (nbdir / "reports.yml").write_text(cfg % "'big'")
    for _ in range(2):  # a failed check is not remembered as passed
        with pytest.raises(DataError, match="scale"):
            run(tmp_path, only=["a-one"])
    assert checked == ["good"] * 3
    (nbdir / "reports.yml").write_text(cfg % "3")
    write_notebook(nbdir / "good.ipynb", [*GOOD, ("markdown", "A new last paragraph.")])
    assert run(tmp_path, only=["a-one"]).ran == 1 and checked == ["good"] * 4


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
    bad.write_text(AREAS.replace("slug: a-one", "slug: borough"))
    with pytest.raises(DataError, match="slug"):
        plan.load_area_defs(bad)
    bad.write_text("areas: 3\n")
    with pytest.raises(DataError):
        plan.load_area_defs(bad)


def test_area_fingerprints_are_per_area(tmp_path):
    f = tmp_path / "a.yml"
    f.write_text(AREAS)
    before = plan.load_area_defs(f)
    f.write_text(AREAS.replace("[E01007677]", "[E01007678]"))
    after = plan.load_area_defs(f)
    assert before.areas[0].fingerprint == after.areas[0].fingerprint
    assert before.areas[1].fingerprint != after.areas[1].fingerprint
    assert before.whole_hash != after.whole_hash and before.members_hash != after.members_hash
    assert before.district_hash == after.district_hash


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

    assert figure_label("imd_share_decile1") == "% of neighbourhoods in England's most deprived 10%"
    assert figure_label("some_new_key") == "some new key"


# --------------------------------------------------------------------------- cache rule


def _keys(tmp_path: Path, areas_text: str) -> dict[str, str]:
    from evidence_pack.sources.hashing import FileHasher

    nbdir = tmp_path / "notebooks"
    if not nbdir.exists():
        nbdir.mkdir()
        write_notebook(nbdir / "own.ipynb", GOOD)
        write_notebook(nbdir / "lists.ipynb", GOOD)
        (nbdir / "reports.yml").write_text("notebooks:\n  own:\n    data: []\n"
                                           "  lists:\n    all_areas: true\n    data: []\n")
        write_notebook(nbdir / "pool.ipynb", GOOD)
        write_notebook(nbdir / "plain.ipynb", GOOD)
        with (nbdir / "reports.yml").open("a") as fh:
            fh.write("  pool:\n    all_areas: lsoas\n    data: []\n"
                     "  plain:\n    area_details: false\n    data: []\n")
    f = tmp_path / "areas.yml"
    f.write_text(areas_text)
    jobs = plan.plan(plan.load_specs(nbdir), plan.load_area_defs(f), f,
                     FileHasher(tmp_path), tmp_path, code_globs=())
    return {j.id: j.key for j in jobs}


def test_an_area_report_depends_on_its_own_area_and_the_district(tmp_path):
    base = _keys(tmp_path, AREAS)
    described = _keys(tmp_path, AREAS.replace("name: B Two\n", "name: B Two\n    slt_lead: X\n"))
    changed = {k for k in base if base[k] != described[k]}
    # a descriptive edit of one area: that area's reports and the borough's, nothing else,
    # and none of a notebook that shows no area's details
    mine = {"b-two/own", "b-two/lists", "b-two/pool", "borough/own", "borough/lists",
            "borough/pool"}
    assert changed == mine
    mine |= {"b-two/plain", "borough/plain"}
    moved = _keys(tmp_path, AREAS.replace("[E01007677]", "[E01007677, E01007678]"))
    changed = {k for k in base if base[k] != moved[k]}
    # its LSOAs changed: also the reports that name every area or use every area's LSOAs
    assert changed == mine | {"a-one/lists", "a-one/pool"}
    named = _keys(tmp_path, AREAS.replace("name: B Two\n", "name: B Two Estate\n"))
    changed = {k for k in base if base[k] != named[k]}
    # its name changed: the reports that name every area, not those that use only LSOAs
    assert changed == mine | {"a-one/lists"}
    renamed = _keys(tmp_path, AREAS.replace("la_name: Rotherham", "la_name: Rotherham MBC"))
    assert all(base[k] != renamed[k] for k in base)  # the district's header: everything


# --------------------------------------------------------------------------- index


def _fake_report(reports: Path, slug: str, name: str, summary: dict, pdf: bool = True) -> None:
    d = reports / slug
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.html").write_text("<html></html>")
    (d / f"{name}.json").write_text(json.dumps(summary))
    if pdf:
        (d / f"{name}.pdf").write_bytes(b"%PDF-1.7")


def test_index_leads_with_the_briefing_and_notes_inferred_codes_and_ranks(tmp_path):
    from evidence_pack.publish.index import write_index

    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "good.ipynb", GOOD)
    write_notebook(nbdir / "briefing.ipynb", GOOD)
    (nbdir / "reports.yml").write_text("notebooks:\n  good:\n    title: Good\n"
                                       "  briefing:\n    title: Briefing\n    scope: borough\n")
    f = tmp_path / "areas.yml"
    f.write_text(AREAS + "reference:\n  title: A report\n  body: Cabinet\n  date: 2011-11-09\n"
                         "  district_ranks: {2007: 68, 2010: 53}\n  districts_of: {2010: 326}\n")
    reports = tmp_path / "reports"
    _fake_report(reports, "borough", "briefing",
                 {"key_findings": ["First <headline>.", "Second headline."], "target_areas": 2,
                  "areas": [{"name": "Area <One>", "residents": 1500, "position_2010": 3.2,
                             "change_vs_comparators": 1.5, "change_low": -0.5,
                             "change_high": 3.5}]})
    _fake_report(reports, "borough", "good", {"district_rank_latest": 70})
    _fake_report(reports, "a-one", "good", {"lsoas": 2}, pdf=False)
    page = write_index(reports, build.load_specs(nbdir), plan.load_area_defs(f), {}).read_text()
    build.check_self_contained(page)
    brief = page.index("First &lt;headline&gt;.")
    assert brief < page.index("Second headline.") < page.index("Reports by area")
    assert 'href="borough/briefing.html"' in page[brief: page.index("Reports by area")]
    assert "inferred from public data" in page[: page.index("Reports by area")]
    glance = page[page.index("Target areas at a glance"): page.index("Reports by area")]
    assert "Area &lt;One&gt;" in glance and "1.5 (-0.5 to 3.5)" in glance
    assert "Average England percentile 2010 (0 = most deprived)" in glance
    assert "position_2010" not in page and "[{" not in page
    assert ("the report to Cabinet of 9 November 2011 gave the district's rank as 68th "
            "(IoD 2007) and 53rd of 326 (IoD 2010)") in page
    assert 'href="a-one/good.html"' in page and 'href="a-one/good.pdf"' not in page
    assert 'href="b-two/good.html"' not in page and "not built" in page


def test_index_without_briefing_or_reference_has_neither(tmp_path):
    from evidence_pack.publish.index import write_index

    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "good.ipynb", GOOD)
    f = tmp_path / "areas.yml"
    f.write_text(AREAS)
    page = write_index(tmp_path / "reports", build.load_specs(nbdir), plan.load_area_defs(f),
                       {}).read_text()
    assert "In brief" not in page and "District ranks" not in page


def test_all_areas_takes_false_lsoas_or_true(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    write_notebook(nbdir / "own.ipynb", GOOD)
    (nbdir / "reports.yml").write_text("notebooks:\n  own:\n    all_areas: names\n")
    assert plan.load_specs(nbdir)[0].all_areas == "names"
    (nbdir / "reports.yml").write_text("notebooks:\n  own:\n    all_areas: some\n")
    with pytest.raises(DataError, match="all_areas must be false, lsoas or true"):
        plan.load_specs(nbdir)


def test_results_cached_per_areas_file_are_not_data_inputs(tmp_path):
    """A build that caches results for a new areas file (``frames_for`` folders under the
    processed data) does not change the next build's keys; a real data file does."""
    import pandas as pd
    from evidence_pack.sources import table_cache
    from evidence_pack.sources.hashing import FileHasher

    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    (processed / "iod.parquet").write_bytes(b"v1")
    src = tmp_path / "areas.yml"
    src.write_text("la_code: E08000018\n")
    pats = ("data/processed/**/*",)
    before = plan.data_hash(FileHasher(tmp_path), pats)
    table_cache.frames_for(processed / "evaluation", src, ["x"],
                           lambda: {"x": pd.DataFrame({"v": [1]})})
    assert plan.data_hash(FileHasher(tmp_path), pats) == before
    (processed / "iod.parquet").write_bytes(b"v2")
    assert plan.data_hash(FileHasher(tmp_path), pats) != before


def test_pdf_notes_may_continue_in_the_next_column_with_the_same_pages():
    """The PDF rule that keeps WeasyPrint's column balancing cheap (notes may continue in the
    next column) gives as many pages as the page's own CSS alone; no target: the PDF bytes."""
    import weasyprint
    from evidence_pack.publish import render

    notes = "".join(f"<li>{'A note about the data and its limits. ' * (4 + i)}</li>"
                    for i in range(10))
    page = (f"<html><head><style>{render.css()}</style></head><body><h1 class='ep-title'>T</h1>"
            f"<p>{'Text. ' * 400}</p><section class='ep-notes'><h2>Notes</h2><ol>{notes}</ol>"
            "</section></body></html>")
    plain = weasyprint.HTML(string=page).render()
    ruled = weasyprint.HTML(string=page).render(stylesheets=[weasyprint.CSS(string=render.PDF_CSS)])
    assert len(ruled.pages) == len(plain.pages) >= 2
    assert render.render_pdf(page, None, render.TEMPLATES)[:5] == b"%PDF-"


def _job(area: str, notebook: str) -> plan.Job:
    return plan.Job(notebook=notebook, path=f"{notebook}.ipynb", area=area, area_name=area,
                    parameters={}, key="k", title=notebook)


def test_longest_first_uses_last_times_then_the_notebook_then_defaults():
    todo = [_job("canklow", "evaluation"), _job("borough", "imd_trends"),
            _job("east-dene", "area_profile"), _job("borough", "briefing"),
            _job("borough", "baseline_spend")]
    # no build timed yet: the briefing first, a borough report before the same area report
    cold = [j.id for j in build.longest_first(todo, {})]
    assert cold == ["borough/briefing", "borough/imd_trends", "borough/baseline_spend",
                    "east-dene/area_profile", "canklow/evaluation"]
    # timed: a job's own time; a job not timed: its notebook's mean
    last = {"canklow/evaluation": {"seconds": 30.0}, "town-centre/area_profile": {"seconds": 20.0},
            "borough/briefing": {"seconds": 1.0}}
    timed = [j.id for j in build.longest_first(todo, last)]
    assert timed == ["canklow/evaluation", "east-dene/area_profile", "borough/imd_trends",
                     "borough/baseline_spend", "borough/briefing"]
    # the district-only notebook (it computes what the others read) first, however short
    ordered = [j.id for j in build.longest_first(todo, last, first={"briefing"})]
    assert ordered == ["borough/briefing", *timed[:-1]]


def test_warm_up_imports_modules_that_exist():
    """Every module the kernels' warm-up imports exists, and it covers the library modules the
    notebooks import (a renamed one would quietly cost each worker's first report its import)."""
    import importlib.util

    from evidence_pack.publish import kernels

    assert [m for m in kernels.PREIMPORT if importlib.util.find_spec(m) is None] == []
    missing = set()
    for nb in Path(config.NOTEBOOKS_DIR).glob("*.ipynb"):
        text = "\n".join(c.source for c in nbformat.read(nb, as_version=4).cells
                         if c.cell_type == "code")
        for pkg, names in re.findall(r"from (evidence_pack\.\w+) import \(?([\w ,\n]+)\)?", text):
            for name in re.findall(r"(\w+)(?: as \w+)?", names):
                mod = f"{pkg}.{name}"
                if importlib.util.find_spec(pkg) and importlib.util.find_spec(mod) is not None:
                    missing.add(mod)
    assert sorted(missing - set(kernels.PREIMPORT)) == []


def test_a_hasher_hashes_the_same_globs_once(tmp_path, monkeypatch):
    """The package code's hash is asked for by the plan and by the parameter check (and by
    every district of a national batch): one hasher globs and stats the files once; a new
    hasher (the next build) sees a changed file."""
    from evidence_pack.sources import hashing
    from evidence_pack.sources.hashing import FileHasher

    (tmp_path / "a.py").write_text("v1")
    calls: list[str] = []
    real_glob = hashing.glob.glob
    monkeypatch.setattr(hashing.glob, "glob", lambda p, **k: (calls.append(p), real_glob(p, **k))[1])
    hasher = FileHasher(tmp_path)
    first = hasher.globs(["*.py"])
    assert hasher.globs(("*.py",)) == first and len(calls) == 1
    (tmp_path / "a.py").write_text("v2")
    assert FileHasher(tmp_path).globs(["*.py"]) != first


def test_driver_and_workers_import_only_what_they_use():
    """The build's driver and its workers never draw, and a worker never reads data: the
    build leaves matplotlib and seaborn out, and the runner (what a spawned worker imports
    first) leaves pandas out too (~0.3 s each at the start of every build, and of each worker)."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(config.ROOT / "lib")}

    def imported(module: str) -> list[str]:
        code = (f"import sys\nfrom evidence_pack.publish import {module}\n"
                "print(sorted(m for m in ('matplotlib', 'seaborn', 'pandas') if m in sys.modules))")
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, check=True)
        return eval(done.stdout)

    assert imported("runner") == []
    assert imported("build") == ["pandas"]  # the driver validates the areas file
