"""The national index ``reports/index.html``: a map of England by district (change in rank of
average IMD score 2010 -> 2025), a sortable table of the districts built with their headline
figures, and links to each district's pack (``<code>/index.html``).

One self-contained page: CSS inline, the map as a PNG data URI, a small inline script that
sorts the table (the table reads the same without it); nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import national as national_analysis
from evidence_pack.analysis import trends
from evidence_pack.charts import national as national_chart
from evidence_pack.findings import format as fmt
from evidence_pack.findings.national import rank_change_findings
from evidence_pack.publish.render import check_self_contained
from evidence_pack.publish.render import css as report_css
from evidence_pack.sources.io import atomic_path

FIRST, LAST = 2010, 2025

_SORT_SCRIPT = """<script>
(function () {
  var tables = document.querySelectorAll("table.ep-sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, idx) {
      var btn = th.querySelector("button");
      if (!btn) { return; }
      btn.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var num = th.getAttribute("data-type") === "num";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[idx].getAttribute("data-sort");
          var y = b.cells[idx].getAttribute("data-sort");
          if (x === "" || y === "") { return (x === "") - (y === ""); }
          var d = num ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
</script>"""

_CSS = """
table.ep-sortable th button { font: inherit; font-weight: bold; color: inherit;
  background: none; border: 0; padding: 0; cursor: pointer; text-align: left; }
table.ep-sortable th button::after { content: " \\2195"; color: #555; }
table.ep-sortable th[aria-sort=ascending] button::after { content: " \\2191"; }
table.ep-sortable th[aria-sort=descending] button::after { content: " \\2193"; }
.ep-map { max-width: 100%; height: auto; }
"""


def figure_png(fig: Any, dpi: int = 120) -> str:
    """A figure as a PNG data URI (the figure is closed)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def district_rows(manifest: dict[str, Any], failures: dict[str, str], reports_dir: Path,
                  changes: pd.DataFrame, districts: pd.DataFrame) -> pd.DataFrame:
    """One row per district in the manifest: headline figures and report counts."""
    counts: dict[str, list[int]] = {}
    for tid, entry in manifest["tasks"].items():
        code = tid.split("/", 1)[0]
        c = counts.setdefault(code, [0, 0])
        if entry.get("ok") and (reports_dir / f"{tid}.html").exists():
            c[0] += 1
    for tid in failures:
        counts.setdefault(tid.split("/", 1)[0], [0, 0])[1] += 1
    built = pd.DataFrame([(k, v[0], v[1]) for k, v in counts.items()],
                         columns=["lad_code", "reports", "failed"])
    out = districts[["lad_code", "lad_name", "region_name"]].merge(built, on="lad_code")
    out = out.merge(changes.drop(columns=["lad_name"]), on="lad_code", how="left")
    out["has_index"] = [(reports_dir / c / "index.html").exists() for c in out["lad_code"]]
    return out.sort_values("lad_name", kind="stable").reset_index(drop=True)


def _cell(text: str, sort: Any) -> str:
    key = "" if sort is None or pd.isna(sort) else str(sort)
    return f'<td data-sort="{html.escape(key)}">{html.escape(text)}</td>'


def table_html(rows: pd.DataFrame) -> str:
    """The sortable table of districts (plain HTML; the inline script adds sorting)."""
    e = html.escape
    cols = [("District", "text"), ("Region", "text"), (f"Rank {LAST}", "num"),
            (f"Rank {FIRST} to {LAST}, districts in both", "num"),
            ("Places moved towards most deprived", "num"),
            (f"Share of neighbourhoods in England's most deprived 10% ({LAST})", "num"),
            ("Reports", "num")]
    head = "".join(f'<th scope="col" data-type="{t}"><button type="button">{e(c)}</button></th>'
                   for c, t in cols)
    body = []
    for r in rows.itertuples(index=False):
        name = e(r.lad_name)
        link = f'<a href="{e(r.lad_code)}/index.html">{name}</a>' if r.has_index else name
        both = (f"{fmt.ordinal(int(r.common_first))} to {fmt.ordinal(int(r.common_last))}"
                if pd.notna(r.change) else f"new since {FIRST}")
        rank_last = fmt.rank(int(r.rank_last), int(r.n_last)) if pd.notna(r.rank_last) else "n/a"
        reports = f"{r.reports} built" + (f", {r.failed} failed" if r.failed else "")
        body.append(
            f'<tr><th scope="row" data-sort="{e(str(r.lad_name))}">{link}</th>'
            + _cell(str(r.region_name), r.region_name)
            + _cell(rank_last, r.rank_last)
            + _cell(both, r.common_last)
            + _cell(fmt.signed(r.change, 0) if pd.notna(r.change) else "n/a", r.change)
            + _cell(fmt.percent(r.share_decile1_last), r.share_decile1_last)
            + _cell(reports, r.reports) + "</tr>")
    return (f'<table class="ep-index ep-sortable"><caption>Districts in this batch (select a '
            f"column heading to sort). Rank 1st = most deprived district by average IMD "
            f"score. Source: English Indices of Deprivation {FIRST} and {LAST} (MHCLG), "
            f"district summaries; {FIRST} computed from LSOA scores.</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def write_national_index(reports_dir: Path, manifest: dict[str, Any],
                         failures: dict[str, str]) -> Path:
    """Write ``reports/index.html`` for every district in the national manifest."""
    e = html.escape
    summary = trends.load_la_summary()
    if summary is None:
        raise FileNotFoundError("la_summary.parquet not built: run `evidence-pack prepare`")
    changes = national_analysis.rank_change(summary, FIRST, LAST)
    districts = national_analysis.england_districts()
    rows = district_rows(manifest, failures, reports_dir, changes, districts)
    findings = rank_change_findings(changes, FIRST, LAST)
    img = figure_png(national_chart.rank_change_map(changes, FIRST, LAST))
    alt = (f"Map of England's districts coloured by how far each moved in England's ranking "
           f"of average deprivation score between {FIRST} and {LAST}. " + " ".join(findings))
    n_ok, n_fail = int(rows["reports"].sum()), len(failures)
    fail_html = ""
    if failures:
        fail_html = ('<h2>Reports that failed</h2><ul class="fail">'
                     + "".join(f"<li>{e(k)}: {e(v)}</li>" for k, v in sorted(failures.items()))
                     + "</ul>")
    css = report_css() + _CSS
    page = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>England's districts: deprived-areas evidence packs</title>
<style>{css}</style></head>
<body class="ep-index-page"><header class="ep-header"><p class="ep-breadcrumb">Evidence packs:
national index</p></header>
<main>
<h1>England's districts: deprived-areas evidence packs</h1>
<p>{e(findings[0])}</p>
<p>{len(rows)} districts in this batch: {n_ok} reports built{f", {n_fail} failed" if n_fail else ""}
on {e(dt.date.today().isoformat())}. Each district's name links to its own pack (the whole
district and its target areas). A neighbourhood is a Lower-layer Super Output Area (LSOA), a
small area of about 1,500 residents.</p>
{fail_html}
<h2>How districts moved in England's ranking, {FIRST} to {LAST}</h2>
<figure><img class="ep-map" src="{img}" alt="{e(alt)}">
<figcaption>{e(" ".join(findings[1:]))} Ranks are among the districts with the same code in
both releases, so districts merged or created since {FIRST} do not move the others. Source:
English Indices of Deprivation {FIRST} and {LAST} (MHCLG); boundaries: Office for National
Statistics (2024), Open Government Licence v3.0.</figcaption></figure>
<h2>Districts</h2>
{table_html(rows)}
</main>
<footer class="ep-footer"><p>Built by evidence-pack from public data (Open Government Licence
v3.0). Counts below {config.SMALL_COUNT_THRESHOLD} are suppressed in the reports.</p></footer>
</body></html>
"""
    check_self_contained(page)  # before the sorting script: no other script, nothing remote
    page = page.replace("</body></html>", _SORT_SCRIPT + "\n</body></html>")
    target = reports_dir / "index.html"
    with atomic_path(target) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return target
