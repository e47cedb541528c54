"""``evidence-pack prepare``: build every tidy store in data/processed/ from data/raw/.

The stages, in the order they run (each later stage reads what the earlier ones wrote):

| stage       | reads (data/raw via the catalogue, or data/processed)      | writes (data/processed)             |
|-------------|------------------------------------------------------------|-------------------------------------|
| iod         | IoD files 2004-2025, File 6, ONS/Census populations, lookups | iod_lsoa, iod_indicators, lsoa_population, lookups, lsoa_geography, la_summary |
| geography   | geographr sf boundaries, open-innovations GeoJSON, lookups  | boundaries_*.parquet                |
| census      | Census 2021 LSOA/MSOA tables                               | census21_lsoa, census21_msoa        |
| spend       | Revenue Outturn (RS) and Revenue Account (RA) workbooks    | council_spend                       |
| public_spend | HM Treasury CRA 2010/2014/2018 workbooks, combined PESA series | public_spend, public_spend_combined |
| risk        | iod store, census, lookups, regional GDP, DfT journey times; the default areas file | risk_*.parquet; risk_areas/england/ and <hash>/ |
| evaluation  | iod store, lookups, the default areas file                 | evaluation/england/ and <hash>/*.parquet |

Each stage is a function ``prepare(force: bool) -> list[Path]`` that skips work whose outputs
are fresh (``sources.freshness.is_fresh``) unless ``force``. ``<hash>`` is the content hash of
an areas file: another file's evaluation and risk results are computed on first use and
cached beside the default's (``sources.table_cache.frames_for``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from evidence_pack.analysis import evaluation, risk
from evidence_pack.stores import census, geography, iod_stage, public_spend, spend_returns

#: stage name -> the function that builds it. Order matters.
STAGES: dict[str, Callable[..., list[Path]]] = {
    "iod": iod_stage.prepare,
    "geography": geography.prepare,
    "census": census.prepare,
    "spend": spend_returns.prepare,
    "public_spend": public_spend.prepare,
    "risk": risk.prepare,
    "evaluation": evaluation.prepare,
}


def run(stages: list[str] | None = None, force: bool = False) -> int:
    chosen = stages or list(STAGES)
    unknown = [s for s in chosen if s not in STAGES]
    if unknown:
        print(f"unknown stage(s) {unknown}; choose from {list(STAGES)}", file=sys.stderr)
        return 2
    for name in chosen:
        t0 = time.perf_counter()
        outputs = STAGES[name](force=force)
        print(f"prepare {name}: {len(outputs)} output(s) in {time.perf_counter() - t0:.1f} s")
    return 0
