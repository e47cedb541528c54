"""The report page from nbconvert: the same document as nbconvert's HTMLExporter gives, made
without its BeautifulSoup pass over the whole page."""

from __future__ import annotations

import pytest
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
])
def test_the_accessibility_pass_is_htmlexporters(page):
    """Images with no alt text get nbconvert's, and inside the notebook element each input
    wrapper and output area becomes focusable; nothing else changes."""
    assert _parsed(render._accessible(page)) == _htmlexporters_pass(page)


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
        assert _parsed(ours) == theirs, path
