"""The evaluation and risk-factor reports as readers get them (borough and one area, HTML):
unique non-empty headings, an h1 naming the report and the area, an area report that mostly
says its own things, and no code names, file names or caveat codes in the reader text."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest
from evidence_pack.publish import build

NOTEBOOKS = ("evaluation", "risk_factors")
AREA, AREA_NAME = "canklow", "Canklow"
#: Largest share of an area report's text blocks identical to the borough report's.
MAX_SHARED = 0.6
FORBIDDEN = [r"\b[A-Z]{2,}-\d+\b", r"\.parquet\b", r"\bd15avgm\b", r"\biod20\d\d\b",
             r"\blookups\.", r"\b[a-z0-9]+_[a-z0-9_]+\b", r"RED-RED", r"\bSMD\b", r"\bITL3\b",
             r"-0\.0\b", r"\bnan\b"]


def blocks(path: Path) -> list[tuple[str, str]]:
    """(tag, text) of every heading, paragraph, list item and caption, in order."""
    t = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", path.read_text(), flags=re.S)
    out = []
    for tag, body in re.findall(r"<(h[1-6]|p|li|caption|figcaption)\b[^>]*>(.*?)</\1>", t,
                                flags=re.S):
        out.append((tag, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())))
    return out


def reader_blocks(path: Path) -> list[tuple[str, str]]:
    """Blocks outside the closing notes, the glossary and the page footer (rendered by the
    publish modules from docs/caveats and the template, not by these notebooks)."""
    t = re.sub(r'<section class="ep-(caveats|notes|glossary)".*?</section>', "", path.read_text(),
               flags=re.S)
    t = re.sub(r"<footer\b.*?</footer>", "", t, flags=re.S)
    tmp = path.with_suffix(".nocaveats.html")
    tmp.write_text(t)
    return blocks(tmp)


@pytest.fixture(scope="module")
def reports(processed, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval_risk")
    result = build.build(only=["borough", AREA], notebooks=list(NOTEBOOKS), pdf=False, jobs=2,
                         progress=False, reports_dir=root / "reports", build_dir=root / "build")
    assert not result.failures, result.failures
    return root / "reports"


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_headings(reports, nb):
    for who, name in (("borough", "Rotherham"), (AREA, AREA_NAME)):
        heads = [(t, x) for t, x in blocks(reports / who / f"{nb}.html") if t[0] == "h"]
        assert all(x for _, x in heads), f"{who}/{nb}: empty heading"
        dup = [h for h, n in Counter(heads).items() if n > 1]
        assert not dup, f"{who}/{nb}: repeated headings {dup}"
        h1 = [x for t, x in heads if t == "h1"]
        assert len(h1) == 1 and name in h1[0], h1


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_area_report_is_about_the_area(reports, nb):
    borough = {x for _, x in blocks(reports / "borough" / f"{nb}.html")}
    area = blocks(reports / AREA / f"{nb}.html")
    shared = sum(x in borough for _, x in area) / len(area)
    assert shared < MAX_SHARED, f"{nb}: {shared:.0%} of the area report repeats the borough's"
    assert len(area) < len(borough)


@pytest.mark.slow
@pytest.mark.mirror
@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_no_code_names_in_reader_text(reports, nb):
    for who in ("borough", AREA):
        for tag, text in reader_blocks(reports / who / f"{nb}.html"):
            for pattern in FORBIDDEN:
                assert not re.search(pattern, text), f"{who}/{nb} {tag}: {pattern!r} in {text!r}"
