"""Benchmark: the public_spend prepare step (read the CRA 2010, 2014 and 2018 workbooks and
the combined series, check every workbook's regional totals; target under 20 s), then the
partner model for Rotherham's baseline year (cold and warm).

Prints figures only; no assertions (speed is not tested)."""

from __future__ import annotations

import os
import sys
import time

from evidence_pack.analysis import areas, partner_spend
from evidence_pack.sources import catalogue, cra
from evidence_pack.stores import public_spend


def main() -> int:
    try:
        for lay in cra.LAYOUTS.values():
            catalogue.path_for(lay.dataset)
        catalogue.path_for(cra.COMBINED)
    except catalogue.FetchError as exc:
        print(f"skipped: {exc}")
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    t0 = time.perf_counter()
    combined = cra.read_combined()
    print(f"combined series: {len(combined):,} rows in {time.perf_counter() - t0:.2f} s")
    for pub in cra.LAYOUTS:
        t = time.perf_counter()
        df = cra.read_workbook(pub)
        check = cra.check_totals(df, combined)
        print(f"CRA {pub}: {len(df):,} rows, {len(check)} region-year totals checked "
              f"(max difference GBP {check['difference'].abs().max() * 1000:,.0f}) in "
              f"{time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    public_spend.prepare(force=True)
    print(f"prepare public_spend (force, incl. writing): {time.perf_counter() - t:.2f} s "
          "(target < 20 s)")
    try:
        a = areas.load_areas()
        for label in ("cold", "warm"):
            t = time.perf_counter()
            df = partner_spend.modelled_partner_spend(a, "2011-12")
            print(f"modelled_partner_spend Rotherham 2011-12 ({label}): "
                  f"{time.perf_counter() - t:.2f} s, {len(df)} rows")
    except Exception as exc:  # the processed store may be absent
        print(f"partner model skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
