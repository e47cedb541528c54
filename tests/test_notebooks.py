"""Render test on the real data: one target area's reports built end to end (papermill,
nbconvert) and checked for their sections, figures with alt text and source lines, escaping,
suppression and self-containment. The notebooks' own cells also run under nbval (`make test`).
"""

from __future__ import annotations

import html
import re

import pytest
from evidence_pack import config
from evidence_pack.analysis.areas import load_areas
from evidence_pack.publish import build

#: The issue-4 notebooks checked here (others are checked by nbval and the full build).
RENDERED = ("imd_trends", "area_profile")


@pytest.fixture(scope="module")
def rendered(processed, tmp_path_factory):
    have = [n for n in RENDERED if (config.NOTEBOOKS_DIR / f"{n}.ipynb").exists()]
    if not have:
        pytest.skip("no notebooks to render yet")
    area = load_areas(config.DEFAULT_AREAS_FILE).areas[0]
    out = tmp_path_factory.mktemp("render")
    rep = build.build(notebooks=have, only=[area.slug], jobs=1, pdf=False, progress=False,
                      reports_dir=out / "reports", build_dir=out / "build")
    assert not rep.failures, rep.failures
    return area, {n: (out / "reports" / area.slug / f"{n}.html").read_text(encoding="utf-8")
                  for n in have}


@pytest.mark.mirror
@pytest.mark.slow
def test_area_reports_render(rendered):
    area, pages = rendered
    for name, page in pages.items():
        build.check_self_contained(page)
        assert "Traceback" not in page, f"{name}: an error reached the report"
        assert "report.setup()" not in page and "<pre" not in page, f"{name}: code or raw output shown"
        assert page.count("<h1") == 1, f"{name}: one title"
        assert len(re.findall(r"<h2", page)) >= 3, f"{name}: too few sections"
        assert 'class="ep-key-findings"' in page, f"{name}: no key findings"
        assert page.index("ep-key-findings") < page.index("<figure"), f"{name}: findings not first"
        assert html.escape(area.name) in page, f"{name}: area name missing"
        imgs = re.findall(r"<img\b[^>]*>", page)
        assert imgs, f"{name}: no figures"
        for img in imgs:
            alt = re.search(r'\balt="([^"]*)"', img)
            assert alt and len(alt.group(1).strip()) > 10, f"{name}: figure without alt text"
            assert 'src="data:image/png;base64,' in img
        blocks = re.findall(r'<figure class="ep-(?:figure|table)"[^>]*>.*?</figure>', page, re.DOTALL)
        assert len(blocks) >= len(imgs)
        for block in blocks:
            src = re.search(r'class="ep-source">(.*?)<', block, re.DOTALL)
            assert src and src.group(1).startswith("Source:"), f"{name}: a table or chart lacks a source"
            assert re.search(r"published|\((?:ONS|MHCLG|DCLG|ODPM)", src.group(1)), src.group(1)[:200]
