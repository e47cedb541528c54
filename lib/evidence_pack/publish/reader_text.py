"""Checks of a built report's reader text against the style guide (docs/style.md).

``problems(page_html)`` lists every breach with the heading it sits under and the words
themselves, so a failing test says exactly which report, section and word to fix:
caveat codes (TRENDS-5), code identifiers (snake_case, module.function), file names, "GBP",
negative zero, "LSOA(s)", pennies, per-head decimals, traffic-light codes ("RED-RED") and
headings that are empty or repeated. Only what a reader sees is checked: the text of the
page and the alt text of its images, not markup, styles or embedded image data.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

#: rule -> pattern for words a reader must not see (checked in this order; words one rule
#: reports are not reported again by a later one).
RULES: dict[str, re.Pattern[str]] = {
    "file name": re.compile(
        r"\b[\w-]+\.(?:parquet|csv|ipynb|py|ya?ml|json|xlsx?|ods|rda|rds|md|j2)\b"),
    "caveat code": re.compile(r"\b(?!COVID-)[A-Z][A-Z0-9]*[A-Z]-\d+\b"),
    "code identifier": re.compile(
        r"(?<![\w.@/-])(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z_]{3,}\.[a-z_]+\(?\)?|\w+\(\))(?![\w/-])"),
    "GBP instead of £": re.compile(r"\bGBP\b"),
    "negative zero": re.compile(r"(?<![\w.])[-\u2212]0(?:\.0+)?(?![\d.])"),
    "LSOA(s)": re.compile(r"\b\w+\(s\)"),
    "pennies": re.compile(r"£\s?[\d,]+\.\d{2}(?![\dmkbn])"),
    "money not rounded": re.compile(r"£\s?\d{1,3}(?:,\d{3}){2,}(?![\d.])"),
    "per-head decimals": re.compile(r"£\s?[\d,]+\.\d+\s+(?:a|per)\s+head"),
    "traffic-light code": re.compile(r"\b(?:RED|AMBER|GREEN)-(?:RED|AMBER|GREEN)\b"),
}

_URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w.-]+\.(?:gov|org|co|ac|nhs)\.uk\S*"
                  r"|\b[\w-]+\.(?:com|org|net|io)\b\S*")
_DROP = re.compile(r"<(head|style|script)\b.*?</\1>", re.S | re.I)
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.S | re.I)
_ALT = re.compile(r"""<img\b[^>]*\balt=(?:"([^"]*)"|'([^']*)')""", re.I)


@dataclass(frozen=True)
class Problem:
    rule: str
    heading: str
    words: str

    def __str__(self) -> str:
        return f'{self.rule}: "{self.words}" under "{self.heading}"'


def _plain(fragment: str) -> str:
    alts = " ".join(f" {a or b} " for a, b in _ALT.findall(fragment))
    text = re.sub(r"<[^>]+>", " ", fragment) + alts
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def sections(page: str) -> list[tuple[str, str]]:
    """(heading text, plain reader text under it) in page order; "(top)" before the first."""
    page = _DROP.sub(" ", page)
    out: list[tuple[str, str]] = []
    pos, heading = 0, "(top)"
    for m in _HEADING.finditer(page):
        out.append((heading, _plain(page[pos:m.start()])))
        heading = _plain(m.group(2)) or "(empty heading)"
        pos = m.end()
    out.append((heading, _plain(page[pos:])))
    return out


def headings(page: str) -> list[tuple[int, str]]:
    """(level, text) of every heading."""
    page = _DROP.sub(" ", page)
    return [(int(m.group(1)), _plain(m.group(2))) for m in _HEADING.finditer(page)]


def heading_problems(page: str) -> list[Problem]:
    """Empty headings (no text, or no content before the next heading of the same or a higher
    level) and headings whose text repeats another's."""
    out: list[Problem] = []
    seen: dict[str, int] = {}
    found = headings(page)
    secs = sections(page)[1:]
    for i, ((level, text), (_, body)) in enumerate(zip(found, secs, strict=True)):
        if not text:
            out.append(Problem("empty heading", f"h{level}", "(no text)"))
            continue
        key = text.lower()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            out.append(Problem("repeated heading", text, text))
        nxt = found[i + 1][0] if i + 1 < len(found) else 0
        if not body and (nxt == 0 or nxt <= level):
            out.append(Problem("heading with nothing under it", text, text))
    return out


def problems(page: str) -> list[Problem]:
    """Every breach of the reader-text rules in a built report page."""
    out: list[Problem] = []
    for heading, text in sections(page):
        text = _URL.sub(" ", text)
        for rule, pattern in RULES.items():
            for m in pattern.finditer(text):
                out.append(Problem(rule, heading, m.group(0)))
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return out + heading_problems(page)
