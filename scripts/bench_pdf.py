"""PDF seconds per report: WeasyPrint as the build called it before (the page's own
stylesheet and data-URI figures parsed every time) against ``render.render_pdf`` (report
stylesheet parsed once a process, figures handed over by content), alternating on the same
HTML so both see the same machine load; page counts and embedded images compared.

    PYTHONPATH=lib python scripts/bench_pdf.py reports [--rounds 3]

Reads the reports already built in REPORTS (``*/*.html``); prints the minimum over rounds
for each report of the process's CPU seconds (WeasyPrint runs on one thread: on a quiet
machine the wall time; on a shared one much steadier than it), the mean per notebook, the
wall seconds of all reports and the 1-minute load average. The figure cache is
emptied before each timed render (a report's figures are new to the process), so the cache
that spans reports (an area's map in two of its reports) is not counted."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import weasyprint
from evidence_pack.publish import render


def plain_pdf(html_text: str, base_dir: Path) -> bytes:
    """The PDF as ``render_pdf`` made it before: one WeasyPrint call on the page as written."""
    return weasyprint.HTML(string=html_text, base_url=str(base_dir)).write_pdf(
        font_config=render._CACHE["fonts"], stylesheets=[render._CACHE["pdf_css"]])


def pdf_facts(pdf: bytes) -> tuple[int, list[str]]:
    """(pages, pdfimages -list rows without object numbers)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        info = subprocess.run(["pdfinfo", f.name], capture_output=True, text=True).stdout
        rows = subprocess.run(["pdfimages", "-list", f.name], capture_output=True,
                              text=True).stdout.splitlines()[2:]
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return pages, [" ".join(r.split()[:10]) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    render.prewarm(pdf=True)
    pages = sorted(args.reports.glob("*/*.html"))
    times: dict[Path, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    same = {}
    wall = {"before": 0.0, "after": 0.0}
    for r in range(args.rounds):
        for p in pages:
            text = p.read_text(encoding="utf-8")
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for how in order:
                render.clear_image_cache()
                t, w = time.process_time(), time.perf_counter()
                pdf = plain_pdf(text, p.parent) if how == "before" else render.render_pdf(
                    text, None, p.parent)
                times[p][how].append(time.process_time() - t)
                wall[how] += time.perf_counter() - w
                if r == 0:
                    same.setdefault(p, []).append(pdf_facts(pdf))
    by_nb: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    print(f"{'CPU seconds':32} {'before':>9} {'after':>8}  pages  images same")
    for p in pages:
        b, a = min(times[p]["before"]), min(times[p]["after"])
        by_nb[p.stem]["before"].append(b)
        by_nb[p.stem]["after"].append(a)
        (pb, ib), (pa, ia) = same[p]
        print(f"{p.parent.name + '/' + p.stem:32} {b:9.2f} {a:8.2f}  {pb:>2}/{pa:<2}  "
              f"{len(ia):>2} {'yes' if (pb, ib) == (pa, ia) else 'NO'}")
    print("mean PDF CPU seconds a report, by notebook (min of rounds):")
    for nb, t in sorted(by_nb.items()):
        b, a = statistics.mean(t["before"]), statistics.mean(t["after"])
        print(f"  {nb:16} before {b:5.2f}  after {a:5.2f}  ({100 * (1 - a / b):4.0f}% less)")
    tb = sum(min(times[p]["before"]) for p in pages)
    ta = sum(min(times[p]["after"]) for p in pages)
    print(f"all {len(pages)} reports, CPU: before {tb:.1f} s, after {ta:.1f} s "
          f"({100 * (1 - ta / tb):.0f}% less); wall, all rounds: before {wall['before']:.1f} s, "
          f"after {wall['after']:.1f} s; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
