"""Benchmark (issue 11 item 4): a 100,000-line partner ledger through the whole
baseline_spend notebook (target under 60 s), and the ledger steps on their own.

Writes a synthetic ledger to a temporary folder: valid lines of every geography type
(borough lines with each driver, area, LSOA and ward lines) for 2011-12, 2017-18 and
2023-24, plus a few bad rows. Prints figures only; no assertions (speed is not tested).

Usage: python scripts/bench_spend_ledger.py [lines] [--area SLUG]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import papermill
from evidence_pack import config
from evidence_pack.analysis import areas, ledger, partner_spend, spend


def synthetic_ledger(n: int, area_set, seed: int = 11) -> pd.DataFrame:
    """``n`` ledger lines for the district of ``area_set`` (about 1 in 1,000 bad)."""
    rng = np.random.default_rng(seed)
    la = area_set.la_code
    lsoas = list(spend.district_lsoas(la, 2011))
    wards = sorted(spend.ward_members(la, 2011))
    drivers = [d for d in spend.DRIVERS if d != "area"]
    kind = rng.choice(["borough", "area", "lsoa", "ward"], n, p=[0.55, 0.15, 0.2, 0.1])
    code = np.where(kind == "area", rng.choice(area_set.slugs, n),
                    np.where(kind == "lsoa", rng.choice(lsoas, n),
                             np.where(kind == "ward", rng.choice(wards, n), "")))
    ward_drivers = [d for d in drivers if spend.DRIVERS[d].vintage == 2011]  # wards: 2011 lookup
    drv = np.where(kind == "borough", rng.choice(drivers, n),
                   np.where(kind == "ward", rng.choice(ward_drivers, n), ""))
    pence = rng.integers(100, 5_000_000_00, n)
    amount = [f"£{p // 100:,}.{p % 100:02d}" for p in pence]
    df = pd.DataFrame({
        "partner": rng.choice(["South Yorkshire Police", "NHS Rotherham CCG", "DWP Jobcentre Plus",
                               "Rotherham schools"], n),
        "service": [f"service {i % 97}" for i in range(n)],
        "financial_year": rng.choice(["2011-12", "2017-18", "2023-24"], n),
        "amount": amount, "geography_type": kind, "geography_code": code, "driver": drv})
    bad = rng.choice(n, max(1, n // 1000), replace=False)
    df.loc[bad, "amount"] = rng.choice(["12,50", "1 2", "=1+1", "9" * 20], len(bad))
    return df


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lines", nargs="?", type=int, default=100_000)
    ap.add_argument("--area", default="borough")
    args = ap.parse_args()
    a = areas.load_areas()
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.csv"
        synthetic_ledger(args.lines, a).to_csv(path, index=False)
        t = time.perf_counter()
        led = ledger.read_ledger(path, a)
        print(f"read and validate {args.lines:,} lines: {time.perf_counter() - t:.2f} s "
              f"({len(led.accepted):,} accepted, {len(led.rejected):,} rejected)")
        t = time.perf_counter()
        res = spend.apportion(led.accepted.drop(columns=["amount", "row"]), a)
        print(f"apportion every accepted line once: {time.perf_counter() - t:.2f} s "
              f"({len(res):,} shares; conserved: "
              f"{int(res['pence'].sum()) == int(led.accepted['pence'].sum())})")
        t = time.perf_counter()
        partner_spend.modelled_partner_spend(a, "2011-12", ledger=led)
        print(f"modelled_partner_spend with the ledger: {time.perf_counter() - t:.2f} s")
        t = time.perf_counter()
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        papermill.execute_notebook(
            str(config.ROOT / "notebooks" / "baseline_spend.ipynb"), str(Path(tmp) / "out.ipynb"),
            parameters={"area": args.area, "ledger_file": str(path)},
            kernel_name=config.KERNEL_NAME, cwd=str(config.ROOT), progress_bar=False)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (kids.ru_utime + kids.ru_stime)
        print(f"whole baseline_spend notebook ({args.area}) with a {args.lines:,}-line ledger: "
              f"{wall:.2f} s wall (target < 60 s), {cpu:.2f} s CPU in the kernel; load "
              f"average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
