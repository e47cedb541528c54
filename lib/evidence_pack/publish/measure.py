"""Measures of a built pack for its readers: printed pages, and how much of an area's report
repeats the borough report of the same notebook (issue 12 targets: the whole pack under 350
PDF pages; no area report sharing more than 60% of its text blocks with the borough's).

A text block is a paragraph, list item, heading, table caption, figure caption, table row
or glossary entry of the report, as plain text. A block is shared when it is identical,
character for character, to a block of the borough report (an area's own figures make a
sentence its own).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from pypdf import PdfReader

#: Targets from issue 12: the whole pack, and an area report's text shared with the borough's.
MAX_PACK_PAGES = 350
MAX_SHARED_SHARE = 0.60
#: Pages of one area's five reports together (area profile, baseline spend, evaluation,
#: trends, risk factors): 11 areas at this size and a borough of about 60-65 pages keep the
#: pack under ``MAX_PACK_PAGES`` (measured 2026-11-29: Canklow 23, Town Centre and East Dene
#: 24, borough 57; projected pack 317).
MAX_AREA_PAGES = 24

_BLOCK = re.compile(r"<(p|li|h[1-6]|caption|figcaption|tr|dt|dd)\b[^>]*>(.*?)</\1>", re.S | re.I)
_DROP = re.compile(r"<(head|style|script|header|footer)\b.*?</\1>", re.S | re.I)


def text_blocks(page: str) -> list[str]:
    """The plain text of every block of a report page's content, in order (empty ones left out).
    Nested blocks (a paragraph in a list item) are counted once, as the innermost."""
    page = _DROP.sub(" ", page)
    blocks = []
    for m in _BLOCK.finditer(page):
        inner = m.group(2)
        if _BLOCK.search(inner):
            blocks += text_blocks(inner)
            continue
        text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", inner))).strip()
        if text:
            blocks.append(text)
    return blocks


def shared_share(area_page: str, borough_page: str) -> float:
    """Share (0-1) of the area report's text blocks identical to a block of the borough
    report of the same notebook."""
    area = text_blocks(area_page)
    borough = set(text_blocks(borough_page))
    if not area:
        return 0.0
    return sum(b in borough for b in area) / len(area)


def pdf_pages(path: Path) -> int:
    """Number of pages of a PDF."""
    return len(PdfReader(str(path)).pages)


def pdf_page_texts(path: Path) -> list[str]:
    """The extracted text of each page of a PDF."""
    return [p.extract_text() or "" for p in PdfReader(str(path)).pages]
