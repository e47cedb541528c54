"""A report's closing sections: numbered notes (the caveats) and the terms it uses.

Notebooks call ``report.caveats([...])`` where a caveat matters and may mention a caveat by
its ID in their text ("(TRENDS-5)"). Caveat IDs are for analysts (``docs/caveats/*.md``);
readers never see them. When the build renders a report, ``finish`` rewrites the page:

* every caveat block becomes a one-line pointer ("Notes 3 and 4 at the end of this report
  ...") and its caveats move to ONE closing "Notes" section, numbered 1, 2, 3... in the
  order the report first cites them;
* every caveat ID in the text becomes a link "note 3" to its note (cross-references inside
  notes too; a cited caveat that no block listed is added to the notes);
* a closing "Terms used in this report" lists the glossary terms the page uses
  (``findings.glossary``) plus any a notebook asked for with ``report.glossary``;
* an area report whose notes are the borough report's (``report.notes_in_borough_report``)
  drops the caveat IDs its text cites in parentheses instead of numbering them;
* a heading the notebook wrote at level 1 is dropped when it repeats the report title (the
  template's h1 names the report and the area) and otherwise shown as a subtitle;
* a heading with nothing under it that is directly followed by the same heading (a notebook's
  "## Key findings" before the key-findings box) is dropped.

Caveat text in backticks is analyst detail: a parenthesis holding it is left out of reports.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import mistune

from evidence_pack import config
from evidence_pack.findings import glossary

#: A caveat ID: upper-case tag, hyphen, number ("TRENDS-5", "IOD-13").
CAVEAT_ID = re.compile(r"\b([A-Z][A-Z0-9]*-\d+)\b")

_BULLET = re.compile(r"^\s*[-*]\s+\*\*([A-Z][A-Z0-9]*-\d+)\*\*\s*(.+?)\s*$")
_BLOCK = re.compile(r'<section class="ep-caveats"[^>]*>.*?</section>', re.S)
_BLOCK_ITEM = re.compile(r'<li data-note="([A-Z][A-Z0-9]*-\d+)"')
_TERMS_BLOCK = re.compile(r'<section class="ep-terms" data-terms="([^"]*)"[^>]*>.*?</section>',
                          re.S)
_CODE_PAREN = re.compile(r"\s*\([^()]*`[^`]*`[^()]*\)")
_H1 = re.compile(r"<h1\b(?![^>]*ep-title)[^>]*>(.*?)</h1>", re.S)
_TAGS = re.compile(r"(<[^>]+>)")
#: Class of the line an area report prints when its notes are the borough report's
#: (``report.notes_in_borough_report``): caveat IDs cited in its text are then left out.
ELSEWHERE = "ep-notes-elsewhere"
_CITED = re.compile(r"\s*\(\s*[A-Z][A-Z0-9]*-\d+(?:\s*(?:,|and)\s*[A-Z][A-Z0-9]*-\d+)*\s*\)")
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1>", re.S)


def load_caveats(caveats_dir: Path | None = None) -> dict[str, str]:
    """Every caveat in ``docs/caveats/*.md`` (bullets ``- **ID-n** text``) by ID (Markdown);
    the format is in ``docs/caveats/README.md``, which holds no caveats."""
    found: dict[str, str] = {}
    folder = caveats_dir or (config.DOCS_DIR / "caveats")
    for path in sorted(folder.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        current: str | None = None
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _BULLET.match(line)
            if m:
                current = m.group(1)
                found[current] = m.group(2)
            elif current and line.startswith("  ") and line.strip():
                found[current] += " " + line.strip()
            else:
                current = None
    return found


def reader_markdown(text: str) -> str:
    """A caveat's Markdown without the analyst detail (parentheses holding code in backticks)."""
    return _CODE_PAREN.sub("", text)


def _inline_html(text: str) -> str:
    md = mistune.create_markdown(escape=True)
    return md(reader_markdown(text)).strip().removeprefix("<p>").removesuffix("</p>")


def caveats_html(ids: Sequence[str], known: Mapping[str, str], title: str) -> str:
    """The caveat block a notebook displays (readable on its own in JupyterLab); ``finish``
    moves its items into the closing notes. KeyError naming any unknown ID."""
    missing = [i for i in ids if i not in known]
    if missing:
        raise KeyError(f"unknown caveat id(s) {missing}; add them to docs/caveats/*.md")
    items = "".join(f'<li data-note="{html.escape(i)}">{_inline_html(known[i])}</li>' for i in ids)
    return (f'<section class="ep-caveats"><h2>{html.escape(title)}</h2>'
            f"<ol>{items}</ol></section>")


def terms_html(terms: Sequence[str]) -> str:
    """The glossary block a notebook displays for terms it explains (KeyError if unknown)."""
    rows = "".join(f"<dt>{html.escape(t)}</dt><dd>{html.escape(d)}</dd>"
                   for t, d in glossary.entries(terms))
    data = html.escape("|".join(terms), quote=True)
    return f'<section class="ep-terms" data-terms="{data}"><dl>{rows}</dl></section>'


def _join(numbers: Sequence[int]) -> str:
    """Links to notes, runs of three or more as a range: "1 to 4 and 7"."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    links = []
    for run in runs:
        if len(run) >= 3:
            links.append(f'<a href="#note-{run[0]}">{run[0]}</a> to '
                         f'<a href="#note-{run[-1]}">{run[-1]}</a>')
        else:
            links += [f'<a href="#note-{n}">{n}</a>' for n in run]
    if len(links) == 1:
        return links[0]
    return ", ".join(links[:-1]) + " and " + links[-1]


def _text_nodes(fragment: str, fn) -> str:
    """Apply ``fn`` to the text between tags of ``fragment`` (not to tags or attributes)."""
    parts = _TAGS.split(fragment)
    return "".join(p if i % 2 else fn(p) for i, p in enumerate(parts))


class _Numbering:
    """Note numbers in order of first citation."""

    def __init__(self, known: Mapping[str, str]):
        self.known = known
        self.order: list[str] = []

    def number(self, cid: str) -> int:
        if cid not in self.order:
            self.order.append(cid)
        return self.order.index(cid) + 1

    def link_ids(self, text: str) -> str:
        def sub(m: re.Match) -> str:
            cid = m.group(1)
            if cid not in self.known:
                return cid  # not a caveat (the reader-text check reports stray codes)
            n = self.number(cid)
            return f'<a class="ep-noteref" href="#note-{n}">note {n}</a>'
        return _text_nodes(text, lambda t: CAVEAT_ID.sub(sub, t))


def _main(page: str) -> tuple[str, str, str]:
    start = page.find("<main>")
    end = page.rfind("</main>")
    if start < 0 or end < 0:
        return "", page, ""
    start += len("<main>")
    return page[:start], page[start:end], page[end:]


def _subtitle(titles: Sequence[str]):
    same = {t.strip().lower() for t in titles}

    def sub(m: re.Match) -> str:
        text = html.unescape(re.sub(r"<[^>]+>", "", m.group(1))).strip()
        if not text or text.lower() in same:
            return ""
        return f'<p class="ep-subtitle">{m.group(1)}</p>'
    return sub


def _drop_doubled_headings(body: str) -> str:
    """Remove a heading followed, with only markup between, by a heading of the same level
    and text."""
    found = list(_HEADING.finditer(body))
    drop = []
    for a, b in zip(found, found[1:], strict=False):
        between = re.sub(r"<[^>]+>|\s", "", body[a.end():b.start()])
        same = (a.group(1) == b.group(1) and _TAGS.sub("", a.group(2)).strip().lower()
                == _TAGS.sub("", b.group(2)).strip().lower())
        if same and not between:
            drop.append(a)
    for m in reversed(drop):
        body = body[:m.start()] + body[m.end():]
    return body


def finish(page: str, titles: Sequence[str] = (), known: Mapping[str, str] | None = None) -> str:
    """The page with one closing Notes section, caveat IDs as note links and a glossary.
    ``titles``: the report's title (and title with the area); a notebook h1 equal to one of
    them is dropped, any other h1 becomes a subtitle (the template's h1 is the only one)."""
    known = load_caveats() if known is None else known
    head, body, tail = _main(page)
    body = _drop_doubled_headings(_H1.sub(_subtitle(titles), body))
    if ELSEWHERE in body:  # an area report: its notes are in the borough report
        body = _text_nodes(body, lambda t: _CITED.sub("", t))
    numbering = _Numbering(known)
    pieces = []
    pos = 0
    for m in _BLOCK.finditer(body):
        pieces.append(numbering.link_ids(body[pos:m.start()]))
        ids = _BLOCK_ITEM.findall(m.group(0))
        nums = sorted({numbering.number(i) for i in ids if i in known})
        if nums:
            word, verb = ("Note", "explains") if len(nums) == 1 else ("Notes", "explain")
            pieces.append(f'<p class="ep-note-pointer">{word} {_join(nums)} at the end of this '
                          f"report {verb} the limits of these figures.</p>")
        pos = m.end()
    pieces.append(numbering.link_ids(body[pos:]))
    body = "".join(pieces)
    asked: list[str] = []
    for m in _TERMS_BLOCK.finditer(body):
        asked += [t for t in html.unescape(m.group(1)).split("|") if t]
    body = _TERMS_BLOCK.sub("", body)
    notes = []
    i = 0
    while i < len(numbering.order):  # cross-references may add notes while we go
        cid = numbering.order[i]
        text = numbering.link_ids(_inline_html(known[cid]))
        notes.append(f'<li id="note-{i + 1}">{text}</li>')
        i += 1
    closing = ""
    if notes:
        closing += ('<section class="ep-notes" id="notes"><h2>Notes</h2><ol>'
                    + "".join(notes) + "</ol></section>")
    visible = re.sub(r"<[^>]+>", " ", body + closing)
    terms = list(dict.fromkeys(glossary.used_in(html.unescape(visible)) + asked))
    if terms:
        rows = "".join(f"<dt>{html.escape(t)}</dt><dd>{html.escape(d)}</dd>"
                       for t, d in glossary.entries(terms))
        closing += ('<section class="ep-glossary" id="terms"><h2>Terms used in this report</h2>'
                    f"<dl>{rows}</dl></section>")
    return head + body + closing + tail
