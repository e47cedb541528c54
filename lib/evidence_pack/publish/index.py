"""``reports/index.html``: the front page of the pack, always written from every report on
disk (whatever subset was built), so it never links a missing file nor hides a report.

It leads with the briefing's headline sentences when ``reports/borough/briefing.json``
exists, says that each area's neighbourhood codes were inferred from public data, lists every
report (HTML and, when it matches the HTML, PDF) with the key figures from its JSON sidecar,
and notes where the areas file's ``reference:`` block gives district ranks that the data
do not reproduce.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evidence_pack import config
from evidence_pack.findings.format import number
from evidence_pack.findings.format import rank as fmt_rank
from evidence_pack.publish.plan import BOROUGH, Areas, ReportSpec
from evidence_pack.publish.render import check_self_contained, css
from evidence_pack.sources.io import atomic_path

BRIEFING = "briefing"

#: Plain labels for the key figures notebooks record with ``report.summary`` (index page).
FIGURE_LABELS: dict[str, str] = {
    "area_decile1_latest": "neighbourhoods in England's most deprived 10% (latest release)",
    "baseline_year": "spend baseline year",
    "comparator_lsoas": "matched comparison neighbourhoods",
    "council_service_spend_gbp_m": "council service spend (£ million)",
    "decile1_latest": "neighbourhoods in England's most deprived 10% (latest release)",
    "did_imd": "change vs comparators 2010-2025 (percentile points)",
    "did_imd_high": "upper 95% limit",
    "did_imd_low": "lower 95% limit",
    "district_rank_latest": "district rank of average score (latest)",
    "imd_mean_percentile": "average England percentile (0 = most deprived)",
    "imd_median_percentile": "median neighbourhood's England percentile (0 = most deprived)",
    "imd_share_decile1": "% of neighbourhoods in England's most deprived 10%",
    "latest_release": "latest IoD release",
    "modelled_estimate": "modelled estimate",
    "residents": "residents",
    "target_areas_spend_gbp_m": "modelled spend in the target area(s) (£ million)",
    "target_lsoas": "target neighbourhoods",
    "top_driver": "domain driving the score most",
}
_NOT_FIGURES = {"area", "slug", "notebook", "title", "key_findings"}
#: Column headings of the briefing's area list (``areas`` in its key figures).
AREA_COLUMNS: dict[str, str] = {
    "name": "Area",
    "residents": "Residents",
    "change_vs_comparators": "Change against comparators, percentile points (95% interval)",
}


def figure_label(key: str) -> str:
    """The index label of a key figure: a plain label where known, else the key in words."""
    return FIGURE_LABELS.get(key, str(key).replace("_", " "))


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        return number(v) if abs(v) >= 10_000 else str(v)  # no separator in years
    if isinstance(v, float):
        return number(v, 1)
    return str(v)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _links(reports_dir: Path, slug: str, name: str) -> list[str] | None:
    """HTML (and PDF, when not older than the HTML) links of a report on disk, or None."""
    base = reports_dir / slug / name
    page, pdf = base.with_suffix(".html"), base.with_suffix(".pdf")
    if not page.exists():
        return None
    links = [f'<a href="{html.escape(page.relative_to(reports_dir).as_posix())}">HTML</a>']
    if pdf.exists() and pdf.stat().st_mtime_ns >= page.stat().st_mtime_ns:
        links.append(f'<a href="{html.escape(pdf.relative_to(reports_dir).as_posix())}">PDF</a>')
    return links


def _briefing(reports_dir: Path) -> str:
    e = html.escape
    summary = _read_json(reports_dir / BOROUGH / f"{BRIEFING}.json")
    links = _links(reports_dir, BOROUGH, BRIEFING)
    if not summary or not links:
        return ""
    findings = [str(f) for f in summary.get("key_findings") or [] if str(f).strip()]
    items = "".join(f"<li>{e(f)}</li>" for f in findings)
    return ('<section class="ep-briefing"><h2>In brief</h2>'
            + (f"<ul>{items}</ul>" if items else "")
            + _area_table(summary.get("areas"))
            + f"<p>The briefing: {' · '.join(links)}. The full reports follow.</p></section>")


def _column(key: str) -> str:
    if key.startswith("position_"):
        return f"Average England percentile {key.removeprefix('position_')} (0 = most deprived)"
    return AREA_COLUMNS.get(key, key.replace("_", " ").capitalize())


def _area_table(rows: Any) -> str:
    """The briefing's area list (flat records) as a small table; nothing for any other shape."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        return ""
    e = html.escape
    keys = [k for k in rows[0] if k not in ("change_low", "change_high")]
    head = "".join(f'<th scope="col">{e(_column(k))}</th>' for k in keys)
    body = []
    for r in rows:
        cells = []
        for i, k in enumerate(keys):
            text = _cell(r.get(k), k)
            if k == "change_vs_comparators" and r.get("change_low") is not None:
                text += (f" ({_cell(r.get('change_low'), k)} to "
                         f"{_cell(r.get('change_high'), k)})")
            cells.append(f'<th scope="row">{e(text)}</th>' if i == 0 else
                         f'<td class="num">{e(text)}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<table class="ep-index"><caption>Target areas at a glance (from the briefing)'
            f"</caption><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _cell(v: Any, key: str) -> str:
    """A cell of the briefing's area table: counts whole with separators, the rest to 0.1."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return fmt(v)
    return number(v, 0 if key == "residents" else 1)


def _ranks_note(ref: Any) -> str:
    """A note when the areas file's reference document gives district ranks. ``ref`` is the
    parsed block (``AreaSet.reference``) or a plain mapping; any other shape shows nothing."""
    get = ref.get if isinstance(ref, Mapping) else (lambda k, d=None: getattr(ref, k, d))
    ranks = get("district_ranks") or {}
    if not isinstance(ranks, Mapping) or not ranks:
        return ""
    out_of = get("districts_of") or {}
    out_of = out_of if isinstance(out_of, Mapping) else {}
    given = []
    for release, position in sorted(ranks.items(), key=lambda kv: str(kv[0])):
        try:
            n = out_of.get(release)
            given.append(f"{fmt_rank(int(position), int(n) if n else None)} (IoD {release})")
        except (TypeError, ValueError):
            given.append(f"{position} (IoD {release})")
    label = getattr(ref, "label", None) if not isinstance(ref, Mapping) else None
    if not label:
        label = " ".join(str(get(k)) for k in ("title", "date") if get(k)) or "the reference document"
    return (f'<p class="ep-note"><strong>District ranks:</strong> {html.escape(label)} '
            f"gave the district's rank as {html.escape(' and '.join(given))} (1 = most deprived). "
            "The ranks in these reports are computed from the published data and can differ "
            "from those figures (later revisions, or a different measure or count of "
            "districts).</p>")


def write_index(reports_dir: Path, specs: Sequence[ReportSpec], areas: Areas,
                failures: Mapping[str, str]) -> Path:
    """``reports/index.html`` from every report on disk for the borough and each area."""
    e = html.escape
    la_name = areas.area_set.la_name
    specs = [s for s in specs if s.name != BRIEFING] + [s for s in specs if s.name == BRIEFING]
    rows = [(BOROUGH, f"{la_name} (whole borough)", None)] + [
        (a.slug, a.name, a.n_lsoas) for a in areas.areas]
    head = "".join(f'<th scope="col">{e(s.title)}</th>' for s in specs)
    body = []
    n_ok = 0
    borough_figures: dict[str, Any] = {}
    for slug, name, n in rows:
        cells: list[str] = []
        figures: dict[str, Any] = {}
        headline = ""
        for s in specs:
            jid = f"{slug}/{s.name}"
            if (s.scope == "borough") != (slug == BOROUGH) and s.scope != "all":
                cells.append("<td>–</td>")
                continue
            if jid in failures:
                cells.append(f'<td class="fail">failed: {e(failures[jid])}</td>')
                continue
            links = _links(reports_dir, slug, s.name)
            if links is None:
                cells.append("<td>not built</td>")
                continue
            n_ok += 1
            cells.append(f"<td>{' · '.join(links)}</td>")
            summ = _read_json(reports_dir / slug / f"{s.name}.json")
            if summ.get("key_findings") and s.name != BRIEFING:
                headline = headline or str(summ["key_findings"][0])
            for k, v in summ.items():
                if k not in _NOT_FIGURES and not isinstance(v, list | dict):
                    figures.setdefault(k, v)
        if slug == BOROUGH:
            borough_figures = dict(figures)
        else:  # district-wide figures repeated in an area's report are shown once, for the borough
            figures = {k: v for k, v in figures.items() if borough_figures.get(k, object()) != v}
        lsoas = figures.pop("lsoas", n)
        fig_html = "".join(f"<li>{e(figure_label(k))}: {e(fmt(v))}</li>"
                           for k, v in list(figures.items())[:6])
        body.append(
            f'<tr><th scope="row">{e(name)}</th><td class="num">{e(fmt(lsoas))}</td>'
            + "".join(cells)
            + f"<td>{e(headline)}{'<ul>' + fig_html + '</ul>' if fig_html else ''}</td></tr>")
    fail_html = ""
    if failures:
        fail_html = ('<h2>Reports that failed</h2><ul class="fail">'
                     + "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in sorted(failures.items()))
                     + "</ul>")
    page = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{e(la_name)} deprived-areas evidence pack</title>
<style>{css()}</style></head>
<body class="ep-index-page"><header class="ep-header"><p class="ep-breadcrumb">Evidence pack index</p></header>
<main>
<h1>{e(la_name)}: deprived-areas evidence pack</h1>
{_briefing(reports_dir)}
<p>{n_ok} reports on {e(dt.date.today().isoformat())}: the whole borough and each target area,
one report per topic, as a web page and a printable PDF. Every table and chart names its source,
release and publication date; counts below {config.SMALL_COUNT_THRESHOLD} are suppressed.</p>
<p class="ep-note">The neighbourhoods that make up each target area were inferred from public data and may differ from the council's own list.
Neighbourhoods are lower-layer super output areas (LSOAs: small areas of about 1,500 residents).</p>
{_ranks_note(getattr(areas.area_set, 'reference', None) or areas.area_set.extra.get('reference'))}
{fail_html}
<table class="ep-index"><caption>Reports by area</caption>
<thead><tr><th scope="col">Area</th><th scope="col">Neighbourhoods</th>{head}
<th scope="col">Headline and key figures</th></tr></thead>
<tbody>{''.join(body)}</tbody></table>
</main>
<footer class="ep-footer"><p>Built by evidence-pack from public data (Open Government Licence
v3.0). Area definitions: the areas file used for this build.</p></footer>
</body></html>
"""
    check_self_contained(page)
    target = reports_dir / "index.html"
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target
