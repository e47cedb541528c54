"""A chief executive can read the built reports: checks on a small built pack (borough +
canklow, every notebook, HTML and PDF; the ``small_pack`` fixture in conftest.py).

* axe-core in headless Chromium (Debian's ``/usr/bin/chromium``, no browser download): no
  serious or critical violation in any HTML report;
* headings: exactly one h1, naming the report and the area; none empty or repeated;
* the PDF running footer names the report and the area on every page;
* reader text: no caveat codes, code identifiers, file names, "GBP", "-0.0", "LSOA(s)",
  pennies (``publish.reader_text``); money in the house style;
* chart text at least 7 pt in print and 4.5:1 contrast (measured when each chart is drawn,
  ``charts.legibility``, since axe cannot see inside images);
* the pack's size (issue 12 limits): projected PDF pages, pages of one area's reports, and
  the text an area report shares with the borough's.

Each failure names the report, the heading or figure, and the words to fix.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from evidence_pack import config
from evidence_pack.analysis.areas import load_areas
from evidence_pack.publish import build, measure, reader_text

pytestmark = [pytest.mark.slow, pytest.mark.mirror]

CHROMIUM = "/usr/bin/chromium"
MONEY_RULES = {"GBP instead of £", "pennies", "per-head decimals", "money not rounded"}


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def _area_name(slug: str) -> str:
    aset = load_areas(config.DEFAULT_AREAS_FILE)
    if slug == build.BOROUGH:
        return aset.la_name
    return aset.get(slug).name


def _titles() -> dict[str, str]:
    return {s.name: s.title for s in build.load_specs(config.NOTEBOOKS_DIR)}


def test_small_pack_builds(small_pack):
    assert not small_pack.failures, "\n".join(small_pack.failures)
    assert len(small_pack.html()) >= 10


def test_axe_finds_no_serious_or_critical_violations(small_pack):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    axe = Axe()
    found = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            for path in [*small_pack.html(), small_pack.reports / "index.html"]:
                page.goto(path.as_uri())
                results = axe.run(page)
                for v in results.response["violations"]:
                    if v.get("impact") in ("serious", "critical"):
                        nodes = "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
                        found.append(f"{_name(path)}: {v['impact']} {v['id']} "
                                     f"({v['help']}) at {nodes}")
        finally:
            browser.close()
    assert not found, "\n".join(found)


def test_one_h1_naming_the_report_and_the_area(small_pack):
    titles = _titles()
    bad = []
    for path in small_pack.html():
        h1s = [t for level, t in reader_text.headings(path.read_text(encoding="utf-8"))
               if level == 1]
        area, title = _area_name(path.parent.name), titles.get(path.stem, "")
        if len(h1s) != 1:
            bad.append(f"{_name(path)}: {len(h1s)} h1 headings {h1s}")
        elif area not in h1s[0] or title not in h1s[0]:
            bad.append(f"{_name(path)}: h1 {h1s[0]!r} does not name {title!r} and {area!r}")
    assert not bad, "\n".join(bad)


def test_headings_are_unique_and_not_empty(small_pack):
    bad = [f"{_name(p)}: {pr}" for p in small_pack.html()
           for pr in reader_text.heading_problems(p.read_text(encoding="utf-8"))]
    assert not bad, "\n".join(bad)


def test_pdf_footer_names_the_report_and_the_area_on_every_page(small_pack):
    titles = _titles()
    bad = []
    for pdf in small_pack.pdf():
        want = [titles.get(pdf.stem, pdf.stem), _area_name(pdf.parent.name)]
        for i, text in enumerate(measure.pdf_page_texts(pdf), start=1):
            last = " ".join(text.strip().splitlines()[-3:])
            missing = [w for w in want if w not in last]
            if missing or not re.search(r"Page \d+ of \d+", last):
                bad.append(f"{_name(pdf)} page {i}: footer {last[-120:]!r} lacks {missing}")
                break
    assert small_pack.pdf(), "no PDFs were built"
    assert not bad, "\n".join(bad)


def test_no_code_words_in_reader_text(small_pack):
    bad = [f"{_name(p)}: {pr}" for p in small_pack.html()
           for pr in reader_text.problems(p.read_text(encoding="utf-8"))
           if pr.rule not in MONEY_RULES and "heading" not in pr.rule]
    assert not bad, "\n".join(bad)


def test_money_in_house_style(small_pack):
    bad = [f"{_name(p)}: {pr}" for p in small_pack.html()
           for pr in reader_text.problems(p.read_text(encoding="utf-8")) if pr.rule in MONEY_RULES]
    assert not bad, "\n".join(bad)


def test_chart_text_readable_in_print(small_pack):
    """Every figure carries the legibility check made when it was drawn; none may fail."""
    bad = []
    for path in small_pack.html():
        page = path.read_text(encoding="utf-8")
        figures = re.findall(r'<figure class="ep-figure"[^>]*>\s*<img[^>]*>', page)
        assert len(figures) == page.count('<figure class="ep-figure"'), f"{_name(path)}: markup"
        for fig in figures:
            check = _attribute(fig, "data-unreadable")
            assert check is not None, f"{_name(path)}: a figure was not checked: {fig[:80]}"
            if check:
                alt = _attribute(fig, "alt") or ""
                bad.append(f"{_name(path)}: figure {alt[:60]!r}: {check}")
    assert not bad, "\n".join(bad)


def _attribute(tag: str, name: str) -> str | None:
    """An attribute's unescaped value in either quoting nbconvert may write."""
    m = re.search(rf"""\b{name}=(?:"([^"]*)"|'([^']*)')""", tag)
    return None if m is None else html.unescape(m.group(1) if m.group(1) is not None else m.group(2))


def test_pack_pages_and_shared_text(small_pack):
    """Issue 12's limits on the small pack (borough + one area, PDF): the pack projected to
    every area of the areas file stays under 350 pages, the area's five reports together stay
    within ``MAX_AREA_PAGES``, and no area report shares 60% or more of its text blocks with
    the borough report of the same notebook. Fails if area reports grow back."""
    areas = load_areas(config.DEFAULT_AREAS_FILE).areas
    pages = {_name(p): measure.pdf_pages(p) for p in small_pack.pdf()}
    borough = sum(n for k, n in pages.items() if k.startswith(f"{build.BOROUGH}/"))
    built = [a for a in small_pack.areas if a != build.BOROUGH]
    bad = []
    per_area = {}
    for slug in built:
        own = {k: n for k, n in pages.items() if k.startswith(f"{slug}/")}
        assert len(own) == 5, f"{slug}: expected five area PDFs, found {sorted(own)}"
        per_area[slug] = sum(own.values())
        if per_area[slug] > measure.MAX_AREA_PAGES:
            bad.append(f"{slug}: its five reports print on {per_area[slug]} pages "
                       f"(limit {measure.MAX_AREA_PAGES}): {own}")
    projected = borough + len(areas) * max(per_area.values())
    if projected >= measure.MAX_PACK_PAGES:
        bad.append(f"projected pack {projected} pages ({borough} borough + {len(areas)} areas x "
                   f"{max(per_area.values())}) >= {measure.MAX_PACK_PAGES}")
    reports = small_pack.reports
    for path in sorted(reports.glob("*/*.html")):
        if path.parent.name == build.BOROUGH:
            continue
        share = measure.shared_share(path.read_text(encoding="utf-8"),
                                     (reports / build.BOROUGH / path.name).read_text(encoding="utf-8"))
        if share >= measure.MAX_SHARED_SHARE:
            bad.append(f"{_name(path)}: {share:.0%} of its text blocks are the borough report's "
                       f"(limit {measure.MAX_SHARED_SHARE:.0%})")
    assert not bad, "\n".join(bad)
