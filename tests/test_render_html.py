"""The report page from nbconvert: the same document as nbconvert's HTMLExporter gives, made
without its BeautifulSoup pass over the whole page; and every part of a report reaches its
PDF."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import tinyhtml5
from bs4 import BeautifulSoup
from evidence_pack.publish import render


def _stock():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", extra_template_paths=[str(render.TEMPLATES)],
                        template_file="report.html.j2", exclude_input=True,
                        exclude_input_prompt=True, exclude_output_prompt=True,
                        anchor_link_text="")


def _parsed(page: str) -> str:
    return str(BeautifulSoup(page, features="html.parser"))


def _html5(page: str) -> tuple:
    """The page's element tree as a browser (and WeasyPrint) parses it: tags, attributes
    (class tokens, in any order), and text with runs of white space as one space."""
    def norm(e) -> tuple:
        attrs = tuple(sorted((k, " ".join(v.split()) if k == "class" else v)
                             for k, v in e.attrib.items()))
        return (e.tag, attrs, " ".join((e.text or "").split()), tuple(norm(c) for c in e),
                " ".join((e.tail or "").split()))
    return norm(tinyhtml5.parse(page))


def _htmlexporters_pass(page: str) -> str:
    """nbconvert 7's HTMLExporter.from_notebook_node after its template, as it is written."""
    soup = BeautifulSoup(page, features="html.parser")
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = render.NO_ALT
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    return str(soup)


@pytest.mark.parametrize("page", [
    '<body><div class="jp-Cell-inputWrapper"><img src="a.png"><img alt="" src="b.png"/></div>'
    '<div class="jp-RenderedHTML jp-OutputArea-output" data-x="1">x</div></body>',
    '<body><main class="jp-Notebook x"><div class="jp-Cell-inputWrapper">a</div>'
    '<div class="jp-OutputArea-output-other">b</div><div class="a jp-OutputArea-output">'
    '<img src="c.png" data-alt="x" width="3"></div><div tabindex="-1" class="jp-OutputArea-output">d</div>'
    '</main></body>',
    '<body><h2 id="x">Heading<a class="anchor-link" href="#x" /></h2><p>after</p>'
    '<span class="a"/><br/><img src="d.png" alt="d"/></body>',
])
def test_the_accessibility_pass_is_htmlexporters(page):
    """Images with no alt text get nbconvert's, and inside the notebook element each input
    wrapper and output area becomes focusable; nothing else changes. An element written
    self-closed that HTML cannot self-close (nbconvert's heading anchors) is closed, as
    BeautifulSoup's serialisation closed it: a browser would otherwise open it there."""
    ours = render._accessible(page)
    assert _parsed(ours) == _htmlexporters_pass(page)
    assert _html5(ours) == _html5(_htmlexporters_pass(page))


def test_real_report_pages_equal_htmlexporters_once_parsed(small_pack):
    """Every report of the small pack, from its executed notebook: the exporter's page, once
    parsed, is the page nbconvert's HTMLExporter writes (the report template, no prompts, no
    code)."""
    import nbformat

    executed = sorted((small_pack.reports.parent / "build" / "executed").glob("*/*.ipynb"))
    assert len(executed) >= 10
    stock = _stock()
    for path in executed:
        nb = render.published(nbformat.read(path, as_version=4))[0]
        resources = {"ep": {"title": "T", "css": "c", "area_name": "A", "built": "2026-01-01",
                            "footer": "F"}}
        ours, _ = render.exporter().from_notebook_node(nb, resources=dict(resources))
        theirs, _ = stock.from_notebook_node(nb, resources=dict(resources))
        assert _html5(ours) == _html5(theirs), path


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_every_section_of_a_report_reaches_its_pdf(small_pack, tmp_path):
    """Each report's PDF has the text of every section heading and the last paragraph of its
    page: nothing of the page is lost on the way to print (an unclosed element once cut an
    area's spend report to its key findings)."""
    pages = sorted(small_pack.reports.glob("*/*.html"))
    assert len(pages) >= 10
    for page in pages:
        doc = tinyhtml5.parse(page.read_text(encoding="utf-8"))
        ns = "{http://www.w3.org/1999/xhtml}"
        heads = [" ".join("".join(h.itertext()).split()) for h in doc.iter(f"{ns}h2")]
        paras = [" ".join("".join(p.itertext()).split()) for p in doc.iter(f"{ns}p")]
        words = " ".join(subprocess.run(["pdftotext", str(page.with_suffix(".pdf")), "-"],
                                        capture_output=True, text=True, check=True).stdout.split())
        words = re.sub(r"- ", "-", words)  # a word broken at a hyphen across lines
        missing = [h for h in heads if h and h not in words]
        assert heads and not missing, (page, missing)
        last = [p for p in paras if len(p) > 20][-1]
        assert last[:40] in words, (page, last[:40])
