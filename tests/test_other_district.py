"""Any English district, honestly: draft a second, small district's areas (Hastings, East
Sussex: far from South Yorkshire), build its borough report and one area report (imd_trends,
HTML only), and check that no report names another district or cites Rotherham's Cabinet
report. Slow (about a minute): it runs real notebooks on the real store."""

from __future__ import annotations

import json
import re

import pytest
from evidence_pack.analysis import areas
from evidence_pack.findings import areas as area_text
from evidence_pack.publish import build
from evidence_pack.stores import geography
from evidence_pack.stores.lsoa_geography import geography as lsoa_geography

LA, NAME = "E07000062", "Hastings"
#: Words only another district's reference document would bring in.
FOREIGN = ("Cabinet", "2011 report", "three quarters", "68th", "53rd", "billion")


@pytest.fixture(scope="module")
def hastings(tmp_path_factory, request):
    request.getfixturevalue("processed")
    if not geography.path("lsoa01").exists():
        pytest.skip("boundaries not built: run `evidence-pack prepare geography`")
    tmp = tmp_path_factory.mktemp("hastings")
    text = area_text.draft_areas_yaml(LA)
    path = tmp / "hastings.yml"
    path.write_text(text, encoding="utf-8")
    aset = areas.load_areas(path)
    reports = tmp / "reports"
    rep = build.build(areas_file=path, only=["borough", aset.slugs[0]], notebooks=["imd_trends"],
                      jobs=1, pdf=False, progress=False, reports_dir=reports,
                      build_dir=tmp / "build")
    return aset, rep, reports


def _other_districts() -> set[str]:
    geo = lsoa_geography(2021)
    return set(geo["lad_name"].dropna()) - {NAME}


@pytest.mark.mirror
@pytest.mark.slow
def test_draft_is_usable(hastings):
    aset, _, _ = hastings
    assert aset.la_name == NAME and aset.reference is None
    assert all(len(a.lsoas) <= 6 for a in aset)
    assert len({a.name for a in aset}) == len(aset)
    assert {a.area_type for a in aset} <= {*areas.AREA_TYPES, areas.UNCLASSIFIED}


@pytest.mark.mirror
@pytest.mark.slow
def test_reports_build_and_speak_of_hastings_only(hastings):
    aset, rep, reports = hastings
    assert not rep.failures, rep.failures
    pages = sorted(reports.glob("*/imd_trends.html"))
    assert {p.parent.name for p in pages} == {"borough", aset.slugs[0]}
    others = _other_districts()
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, others), key=len,
                                                    reverse=True)) + r")\b")
    for page in pages:
        text = re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))
        text = re.sub(r"data:image/[^\s\"']+", " ", text)
        named = sorted(set(pattern.findall(text)))
        assert not named, f"{page.parent.name} names other districts: {named}"
        for word in FOREIGN:
            assert word not in text, f"{page.parent.name} says {word!r}"
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page.read_text(encoding="utf-8"), re.S)
        focus = NAME if page.parent.name == "borough" else aset.get(page.parent.name).name
        assert h1 and focus in h1.group(1)
        figures = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        assert figures["area"] == focus and figures["key_findings"]


def _blocks(page, notes: bool = True) -> list[str]:
    """Text blocks of a report: paragraphs, list items, headings and captions (without the
    closing notes section when ``notes`` is false)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", page.read_text(encoding="utf-8"),
                  flags=re.S)
    if not notes:
        html = re.sub(r'<section class="ep-caveats">.*?</section>', "", html, flags=re.S)
    out = []
    for m in re.finditer(r"<(p|li|h[1-6]|caption|figcaption)[^>]*>(.*?)</\1>", html, re.S):
        text = " ".join(re.sub(r"<[^>]+>", " ", m.group(2)).split())
        if text:
            out.append(text)
    return out


@pytest.mark.mirror
@pytest.mark.slow
def test_area_report_is_about_the_area(hastings):
    aset, _, reports = hastings
    area = _blocks(reports / aset.slugs[0] / "imd_trends.html")
    borough = set(_blocks(reports / "borough" / "imd_trends.html"))
    shared = sum(b in borough for b in area) / len(area)
    assert shared < 0.6, f"{shared:.0%} of the area report's text blocks are the borough's"
    for page in reports.glob("*/imd_trends.html"):
        heads = re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", page.read_text(encoding="utf-8"), re.S)
        heads = [" ".join(re.sub(r"<[^>]+>", " ", h).split()) for h in heads]
        assert all(heads) and len(heads) == len(set(heads)), heads
        text = " ".join(_blocks(page, notes=False))  # the notes' numbering is the publisher's
        for bad in ("LSOA(s)", "-0.0", "->", "Decile change", "TRENDS-", "la_summary"):
            assert bad not in text, (page.parent.name, bad)
