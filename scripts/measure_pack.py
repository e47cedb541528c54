"""Measure a built pack: PDF pages, and the share of each area report's text blocks that are
identical to the borough report of the same notebook (issue 12: pack < 350 pages, share < 60%).

    python scripts/measure_pack.py [REPORTS_DIR] [--areas-file data/areas/rotherham.yml]

With only some areas built (say borough + canklow + east-dene), it also projects the whole
pack's pages: borough pages + (number of areas in the areas file) x (mean area report pages).
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from pathlib import Path

from evidence_pack import config
from evidence_pack.analysis.areas import load_areas
from evidence_pack.publish import build, measure


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports_dir", nargs="?", type=Path, default=config.REPORTS_DIR)
    ap.add_argument("--areas-file", type=Path, default=config.DEFAULT_AREAS_FILE)
    args = ap.parse_args()
    reports: Path = args.reports_dir
    borough = build.BOROUGH
    areas = load_areas(args.areas_file).areas

    pages: dict[str, dict[str, int]] = defaultdict(dict)
    for pdf in sorted(reports.glob("*/*.pdf")):
        pages[pdf.parent.name][pdf.stem] = measure.pdf_pages(pdf)
    notebooks = sorted({p.stem for p in reports.glob(f"{borough}/*.html")})
    built_areas = sorted(d.name for d in reports.iterdir()
                         if d.is_dir() and d.name != borough and any(d.glob("*.html")))

    print(f"pack: {reports}")
    print(f"areas built: {len(built_areas)} of {len(areas)} in {args.areas_file.name}")
    if pages:
        print("\nPDF pages")
        print(f"{'report':<20}" + "".join(f"{n:>16}" for n in notebooks) + f"{'total':>8}")
        for area in [borough, *built_areas]:
            row = pages.get(area, {})
            print(f"{area:<20}" + "".join(f"{row.get(n, '-'):>16}" for n in notebooks)
                  + f"{sum(row.values()):>8}")
        total = sum(sum(r.values()) for r in pages.values())
        print(f"total PDF pages built: {total}")
        area_totals = [sum(pages[a].values()) for a in built_areas if a in pages]
        if area_totals and len(built_areas) < len(areas):
            projected = sum(pages.get(borough, {}).values()) + len(areas) * statistics.mean(
                area_totals)
            print(f"projected whole pack ({len(areas)} areas): {projected:.0f} pages "
                  f"(target < {measure.MAX_PACK_PAGES})")
        else:
            print(f"target < {measure.MAX_PACK_PAGES}: {'met' if total < measure.MAX_PACK_PAGES else 'NOT met'}")

    print(f"\nShare of each area report's text blocks identical to the borough's "
          f"(target < {measure.MAX_SHARED_SHARE:.0%})")
    print(f"{'report':<20}" + "".join(f"{n:>16}" for n in notebooks))
    over = 0
    for area in built_areas:
        cells = []
        for nb in notebooks:
            a, b = reports / area / f"{nb}.html", reports / borough / f"{nb}.html"
            if not a.exists():
                cells.append("-")
                continue
            share = measure.shared_share(a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8"))
            over += share >= measure.MAX_SHARED_SHARE
            cells.append(f"{share:.0%}" + ("*" if share >= measure.MAX_SHARED_SHARE else ""))
        print(f"{area:<20}" + "".join(f"{c:>16}" for c in cells))
    print(f"area reports at or over the limit (*): {over}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
