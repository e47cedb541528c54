"""Publishing helpers used by every notebook: the only way text, tables and figures reach a report.

Published documents are public, so the rules of the pack are enforced here:

* **Small numbers**: counts of people or households below ``config.SMALL_COUNT_THRESHOLD`` (5)
  are shown as ``"<5"`` (``suppress``, ``table(count_cols=...)``, ``count``). A true zero is
  shown as ``0``: it is not suppressed, because it reveals nothing about a person that the
  rest of the table does not (the ONS / NHS convention). Counts of *areas* (e.g. LSOAs in the
  most deprived 10%) are not about people and are not suppressed.
* **Escaping**: every value put into text (names from the areas YAML are untrusted) is
  escaped, so it can neither inject HTML nor Markdown (``markdown``, ``key_findings``,
  ``table``).
* **Sources**: every table and figure carries a source line naming the dataset, its release
  and publication date and the licence attribution (``source_line``); a figure needs alt text.
* **No row-level personal data**: ``table`` refuses columns that look like personal
  identifiers (names of people, addresses, postcodes, dates of birth, NHS numbers...).

Only outputs made here reach a report: ``build`` drops every other output (stray prints,
warnings, bare DataFrame reprs, ``plt.show()`` images), so nothing bypasses these rules.

Notebooks call ``report.setup()`` first. Key figures for the published index are recorded
with ``report.summary(...)``: they are emitted as a display output with the MIME type
``SUMMARY_MIME``, which ``build`` extracts into a JSON sidecar and strips from the HTML.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import random
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from evidence_pack import config
from evidence_pack.charts import figure_cache
from evidence_pack.findings.format import number
from evidence_pack.publish import notes
from evidence_pack.publish.citation import (  # noqa: F401 - the notebooks' names for these
    ALIASES,
    CENSUS21_PUBLISHED,
    IOD_PUBLISHED,
    IOD_PUBLISHER,
    describe_dataset,
    source_line,
)
from evidence_pack.publish.markers import PUBLISHED_KEY, SUMMARY_MIME
from evidence_pack.sources import table_cache

#: Fixed seed for every random generator a notebook may use.
SEED = 20110

#: Column names that would mean row-level personal data; ``table`` refuses them.
PERSONAL_COLUMNS = re.compile(
    r"^(forename|surname|first_?name|last_?name|full_?name|person(_id)?|address(_line.*)?|"
    r"post_?code|date_of_birth|dob|nhs_?number|ni_?number|email|e-mail|phone|telephone|"
    r"mobile|patient(_id)?|pupil(_id)?|upn|uprn)$",
    re.IGNORECASE,
)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&$=:\"'])")

_summary: dict[str, Any] = {}

#: Set in an area report by ``notes_in_borough_report``: its caveats are the borough report's.
_notes_elsewhere = False

#: A table with more body rows than this, or more text than ``LONG_TABLE_CHARS``, may break
#: across printed pages (with its header repeated); a shorter one is kept whole on one page
#: with its caption.
LONG_TABLE_ROWS = 8
LONG_TABLE_CHARS = 1200


# --------------------------------------------------------------------------- setup


def setup(seed: int = SEED) -> None:
    """Prepare a notebook: cwd = project root, print-readable matplotlib, seeds, pandas options.

    Safe to call more than once. Figures are only published by ``figure`` (the Agg backend
    is used, so nothing is shown twice and no ``<Figure ...>`` repr leaks into a report).
    """
    os.chdir(config.ROOT)
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    import numpy as np

    apply_theme()
    plt.rcParams.update({
        "figure.figsize": (7.5, 4.2),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid.axis": "y",
        "legend.frameon": False,
        "figure.autolayout": False,
        "svg.fonttype": "none",
    })
    random.seed(seed)
    np.random.seed(seed)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.width", 120)
    pd.set_option("display.float_format", lambda v: f"{v:,.2f}")
    _summary.clear()


#: The pack's seaborn theme (``seaborn.set_theme`` arguments).
THEME: dict[str, Any] = {"style": "whitegrid", "palette": "colorblind", "font_scale": 0.95}
#: Settings a theme must not carry: the backend and what belongs to a display or a session.
_NOT_THEME = frozenset({"backend", "backend_fallback", "interactive", "savefig.directory",
                        "timezone", "toolbar", "webagg.address", "webagg.open_in_browser",
                        "webagg.port", "webagg.port_retries", "tk.window_focus",
                        "macosx.window_mode", "figure.hooks"})
_THEME: dict[str, Any] = {}


def theme_settings() -> dict[str, Any]:
    """What ``seaborn.set_theme(**THEME)`` leaves set, from matplotlib's defaults: every
    rcParam (less ``_NOT_THEME``) as ``rc``, the colours of the one-letter colour codes
    ("b", "g", ...) as ``codes``, and the default colour map (seaborn's) as ``cmaps``. Kept
    in the build's memo folder, keyed by the theme, the seaborn and matplotlib versions and
    the package code: importing seaborn imports scipy.stats (~0.7 s), which every new kernel
    of a build paid for these settings alone."""
    from importlib.metadata import version

    if _THEME:
        return _THEME
    key = hashlib.sha256(json.dumps([THEME, version("seaborn"), version("matplotlib"),
                                     table_cache.code_stamp()]).encode()).hexdigest()
    _THEME.update(table_cache.on_disk(key, _seaborn_theme, subfolder="theme", keep=8))
    return _THEME


def _seaborn_theme() -> dict[str, Any]:
    import matplotlib as mpl
    import seaborn as sns

    with mpl.rc_context():
        mpl.rcdefaults()
        sns.set_theme(**THEME)
        rc = {k: v for k, v in mpl.rcParams.items() if k not in _NOT_THEME}
    codes = {c: tuple(mpl.colors.colorConverter.colors[c]) for c in "bgrmyck"}
    # the default colour map is one of seaborn's ("rocket"), registered by importing seaborn
    cmaps = {rc["image.cmap"]: mpl.colormaps[rc["image.cmap"]]}
    return {"rc": rc, "codes": codes, "cmaps": cmaps}


def apply_theme() -> None:
    """Set the pack's seaborn theme (``theme_settings``): as ``seaborn.set_theme(**THEME)``
    after ``matplotlib.rcdefaults()``."""
    import matplotlib as mpl

    settings = theme_settings()
    for name, cmap in settings["cmaps"].items():
        if name not in mpl.colormaps:
            mpl.colormaps.register(cmap, name=name)
    mpl.rcParams.update(settings["rc"])
    mpl.colors.colorConverter.colors.update(settings["codes"])


def rng(seed: int = SEED):
    """A seeded ``numpy.random.Generator`` (use this rather than the global state)."""
    import numpy as np

    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- escaping


def escape_markdown(text: Any) -> str:
    """``text`` as literal Markdown: HTML-escaped and with Markdown punctuation backslashed."""
    s = str(text).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


class _EscapingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        return escape_markdown(super().format_field(value, format_spec))


def render_markdown(template: str, **values: Any) -> str:
    """HTML for ``template`` (trusted Markdown written in the notebook) with ``{name}`` fields
    filled from ``values`` (untrusted: escaped so they show literally). Raw HTML in the
    template itself is escaped too."""
    import mistune

    text = _EscapingFormatter().vformat(template, (), values)
    md = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return md(text)


def _display_html(fragment: str, plain: str = "") -> None:
    from IPython.display import display

    display({"text/html": fragment, "text/plain": plain or _strip_tags(fragment)}, raw=True,
            metadata={PUBLISHED_KEY: True})


def _strip_tags(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def markdown(template: str, **values: Any) -> None:
    """Display Markdown; ``{name}`` fields are filled from ``values`` and escaped.

    Format specs work as usual: ``markdown("Rank **{rank:,}** of {n}", rank=53, n=326)``.
    """
    _display_html(f'<div class="ep-text">{render_markdown(template, **values)}</div>')


# --------------------------------------------------------------------------- small numbers


def count(value: Any, threshold: int = config.SMALL_COUNT_THRESHOLD) -> str:
    """One count for text: ``"<5"`` when 0 < value < threshold, else ``"1,234"`` ("0" stays)."""
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    v = float(value)
    if 0 < v < threshold:
        return f"<{threshold}"
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def suppress(df: pd.DataFrame, count_cols: Iterable[str],
             threshold: int = config.SMALL_COUNT_THRESHOLD) -> pd.DataFrame:
    """A copy of ``df`` with counts in ``count_cols`` below ``threshold`` shown as ``"<5"``.

    Counts of people/households only. Zero stays 0 (see module docstring); missing stays
    missing; a negative count raises ValueError. Suppressed columns become object dtype
    (numbers stay numbers, suppressed cells become the string ``"<5"``).
    """
    out = df.copy()
    for col in count_cols:
        if col not in out.columns:
            raise KeyError(f"count column {col!r} not in the table (columns: {list(out.columns)})")
        values = pd.to_numeric(out[col], errors="raise")
        if (values < 0).any():
            raise ValueError(f"count column {col!r} has negative values")
        small = values.notna() & (values > 0) & (values < threshold)
        col_out = out[col].astype(object)
        col_out[small] = f"<{threshold}"
        out[col] = col_out
    return out


# --------------------------------------------------------------------------- sources


def _source_text(source: str | Sequence[str]) -> str:
    if isinstance(source, str):
        if not source.strip():
            raise ValueError("every table and figure must name its source")
        return source.strip() if source.strip().lower().startswith("source") else f"Source: {source.strip()}"
    return source_line(source)


# --------------------------------------------------------------------------- tables and figures


def _format_cell(v: Any, decimals: int) -> str:
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu"):
        return f"{int(v):,}"
    if isinstance(v, float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f"):
        return number(float(v), decimals)  # house style: separators, never "-0.0"
    return str(v)


def _count_cell(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return "–"
    return count(v)


def table_html(df: pd.DataFrame, caption: str, source: str | Sequence[str],
               count_cols: Iterable[str] = (), decimals: int = 1, index: bool = False) -> str:
    """The HTML ``<figure>`` that ``table`` displays (escaped, suppressed, captioned, sourced)."""
    if not caption or not str(caption).strip():
        raise ValueError("a published table needs a caption")
    personal = [c for c in df.columns if PERSONAL_COLUMNS.match(str(c))]
    if personal:
        raise ValueError(f"refusing to publish row-level personal data (columns {personal})")
    data = suppress(df, count_cols)
    if index:
        data = data.reset_index()
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in data.columns)
    counts = set(count_cols)
    numeric = [c in counts or (c in df.columns and pd.api.types.is_numeric_dtype(df[c]))
               for c in data.columns]
    is_count = [c in counts for c in data.columns]
    rows = []
    for rec in data.itertuples(index=False, name=None):
        cells = "".join(
            f'<td class="{"num" if num else "txt"}">'
            f'{html.escape(_count_cell(v) if cnt else _format_cell(v, decimals))}</td>'
            for v, num, cnt in zip(rec, numeric, is_count, strict=True))
        rows.append(f"<tr>{cells}</tr>")
    src = html.escape(_source_text(source))
    long = len(rows) > LONG_TABLE_ROWS or len(_strip_tags("".join(rows))) > LONG_TABLE_CHARS
    kind = "ep-table ep-long" if long else "ep-table"
    return (f'<figure class="{kind}"><table><caption>{html.escape(str(caption))}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            f'<figcaption class="ep-source">{src}</figcaption></figure>')


def table(df: pd.DataFrame, caption: str, source: str | Sequence[str],
          count_cols: Iterable[str] = (), decimals: int = 1, index: bool = False) -> None:
    """Display ``df`` as an HTML table with ``caption`` and a source line.

    ``source`` is a list of dataset ids (see ``source_line``) or a ready source text.
    Counts in ``count_cols`` are suppressed below 5; integers get thousands separators,
    floats ``decimals`` places; every cell and header is escaped.
    """
    _display_html(table_html(df, caption, source, count_cols, decimals, index),
                  plain=f"{caption}\n{suppress(df, count_cols).to_string(index=index)}")


def figure_html(fig: Any, alt: str, source: str | Sequence[str], caption: str | None = None) -> str:
    """The HTML ``<figure>`` for a matplotlib figure (PNG embedded as a data URI)."""
    if not alt or not str(alt).strip():
        raise ValueError("a published figure needs alt text describing what it shows")
    fig = getattr(fig, "figure", fig)  # accept an Axes
    # the print height the figure's text needs (the stylesheet's steps), and any text too
    # small or too faint in print at it, for the tests of built reports (never shown); the
    # PNG (150 dpi, tight box, white) is cut from the same draw
    height, problems, png = figure_cache.drawn(fig)  # drawn once per content and build memo
    unreadable = html.escape("; ".join(problems), quote=True)
    data = base64.b64encode(png).decode("ascii")
    cap = f'<span class="ep-caption">{html.escape(caption)}</span> ' if caption else ""
    return (f'<figure class="ep-figure" data-print-height="{height:.0f}" '
            f'data-unreadable="{unreadable}">'
            f'<img src="data:image/png;base64,{data}" '
            f'alt="{html.escape(str(alt).strip(), quote=True)}">'
            f'<figcaption>{cap}<span class="ep-source">{html.escape(_source_text(source))}</span>'
            f"</figcaption></figure>")


def figure(fig: Any, alt: str, source: str | Sequence[str], caption: str | None = None) -> None:
    """Display a matplotlib figure (or Axes) with alt text and a source line, then close it."""
    import matplotlib.pyplot as plt

    fig = getattr(fig, "figure", fig)
    try:
        fragment = figure_html(fig, alt, source, caption)
    finally:
        plt.close(fig)
    _display_html(fragment, plain=f"[figure] {alt}")


# --------------------------------------------------------------------------- findings, caveats


def key_findings(findings: Sequence[str], title: str = "Key findings") -> None:
    """Display the opening "Key findings" box; each finding is plain text (escaped)."""
    items = [f for f in findings if f and str(f).strip()]
    if not items:
        raise ValueError("key findings must be written from the data: none given")
    lis = "".join(f"<li>{html.escape(str(f).strip())}</li>" for f in items)
    _display_html(f'<section class="ep-key-findings"><h2>{html.escape(title)}</h2>'
                  f"<ul>{lis}</ul></section>")
    _summary["key_findings"] = [str(f).strip() for f in items]
    _emit_summary()


load_caveats = notes.load_caveats


def caveats(ids: Sequence[str], title: str = "Caveats", caveats_dir: Path | None = None) -> None:
    """Display the caveats with these IDs (KeyError naming any unknown ID).

    In a built report they become numbered notes in the closing "Notes" section, with a
    pointer here ("Notes 3 and 4 at the end of this report ..."); see ``publish.notes``.
    In an area report (``notes_in_borough_report``) they are left to the borough report."""
    if _notes_elsewhere:
        return
    _display_html(notes.caveats_html(ids, load_caveats(caveats_dir), title))


def notes_in_borough_report(title: str, la_name: str, about: str) -> None:
    """An area report: say once, in words, that the method, the notes on the limits of the
    figures and the district context are in the borough report ``"{title}: {la_name}"``, and
    leave every later ``caveats`` block to that report (issue 12: an area report is about its
    area; method and caveat text is printed once, in the borough report)."""
    global _notes_elsewhere
    _notes_elsewhere = True
    text = render_markdown("This report is about {about}. How the figures are made, the notes on "
                           "their limits and the district context are in the borough report, "
                           "*{title}: {la}*.", about=about, title=title, la=la_name)
    _display_html(f'<div class="ep-text {notes.ELSEWHERE}">{text}</div>')


def glossary(terms: Sequence[str]) -> None:
    """Add glossary terms (``findings.glossary.TERMS``) to the report's closing "Terms used"
    section, beyond those found in its text (KeyError naming an unknown term)."""
    _display_html(notes.terms_html(list(terms)))


# --------------------------------------------------------------------------- key figures


def summary(**figures: Any) -> None:
    """Record key figures for the published index (e.g. ``lsoas=21, imd2025_decile1=9``).

    Values must be JSON-serialisable scalars, or a list of flat records of scalars (a small
    table for the index, e.g. the briefing's areas); counts of people should be passed through
    ``count`` first. ``build`` writes them to ``<report>.json`` beside the HTML.
    """
    for k, v in figures.items():
        if isinstance(v, list):
            v = [{c: _scalar(k, x) for c, x in dict(row).items()} for row in v]
        else:
            v = _scalar(k, v)
        _summary[k] = v
    _emit_summary()


def _scalar(name: str, v: Any) -> str | int | float | bool | None:
    if hasattr(v, "item"):
        v = v.item()
    if not isinstance(v, (str, int, float, bool, type(None))):
        raise TypeError(f"summary figure {name!r} must be a scalar, not {type(v).__name__}")
    return v


def _emit_summary() -> None:
    from IPython.display import display

    display({SUMMARY_MIME: json.loads(json.dumps(_summary))}, raw=True,
            metadata={SUMMARY_MIME: {"evidence_pack": True}})


def current_summary() -> Mapping[str, Any]:
    """The figures recorded so far in this kernel."""
    return dict(_summary)
