"""Write tests/snapshots/key_figures.json from the reports on disk (reports/*/*.json).

Usage: ``python scripts/update_key_figures_snapshot.py [REPORTS_DIR] [--replace-all]``; by
default only the reports found in REPORTS_DIR are updated. Run deliberately, after a change that is meant to move a key figure or reword a finding,
and say why in the commit message. ``tests/test_backtest.py`` compares built reports with it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def collect(reports_dir: Path) -> dict[str, dict]:
    return {f"{p.parent.name}/{p.stem}": json.loads(p.read_text())
            for p in sorted(reports_dir.glob("*/*.json"))}


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    reports = Path(args[0]) if args else ROOT / "reports"
    figures = collect(reports)
    if not figures:
        sys.exit(f"no reports/*/*.json under {reports}: build the pack first (make pack)")
    out = ROOT / "tests" / "snapshots" / "key_figures.json"
    if "--replace-all" not in sys.argv and out.exists():
        # Default: update only the reports that were built; keep every other entry.
        figures = {**json.loads(out.read_text()), **figures}
    out.write_text(json.dumps(figures, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"wrote {out.relative_to(ROOT)}: {len(figures)} reports")
