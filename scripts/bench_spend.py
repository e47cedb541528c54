"""Benchmark: read every MHCLG RS/RA workbook (target < 15 s), then apportion Rotherham's
RS 2011-12 net current expenditure to the target areas and run the sensitivity table.

Prints figures only; no assertions (speed is not tested)."""

from __future__ import annotations

import sys
import time

from evidence_pack.analysis import spend
from evidence_pack.sources import catalogue
from evidence_pack.stores import spend_returns


def main() -> int:
    pairs = spend_returns.workbooks()
    try:
        for s, y in pairs:
            catalogue.path_for(spend_returns.dataset_id(s, y))
    except catalogue.FetchError as exc:
        print(f"skipped: {exc}")
        return 0
    t0 = time.perf_counter()
    per = []
    frames = []
    for s, y in pairs:
        t = time.perf_counter()
        frames.append(spend_returns.read_workbook(s, y))
        per.append((f"{s} {y}", time.perf_counter() - t))
    import pandas as pd

    df = spend_returns.attach_ons_codes(pd.concat(frames, ignore_index=True))
    total = time.perf_counter() - t0
    print(f"read {len(pairs)} RS/RA workbooks: {total:.2f} s (target < 15 s), "
          f"{len(df):,} rows, {df['ecode'].nunique()} authorities")
    slow = sorted(per, key=lambda x: -x[1])[:3]
    print("slowest: " + ", ".join(f"{k} {v:.2f} s" for k, v in slow))
    try:
        from evidence_pack.analysis import areas

        a = areas.load_areas()
        t = time.perf_counter()
        lines = spend.council_lines(year="2011-12", table=df[spend_returns.COLUMNS]
                                    if "lad_code" in df else None)
        res = spend.apportion(lines, a)
        t_app = time.perf_counter() - t
        t = time.perf_counter()
        spend.sensitivity(lines, a, list(spend.DRIVERS))
        t_sens = time.perf_counter() - t
        print(f"apportion RS 2011-12 ({len(lines)} lines -> {len(res)} shares): {t_app:.2f} s "
              f"(incl. loading drivers and members); sensitivity over {len(spend.DRIVERS)} "
              f"drivers: {t_sens:.2f} s")
    except Exception as exc:  # the processed store may be absent
        print(f"apportionment skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
