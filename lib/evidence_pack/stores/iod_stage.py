"""The ``iod`` prepare stage: the LSOA store, indicators, populations, lookups and district
summaries, built together (a full rebuild is staged and moved into place only when every
output has been built, so bad input leaves the old files).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue, iod_files
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import write_parquet
from evidence_pack.stores import district_summaries, iod, lookups


def _build_side_outputs(staging: Path
                        ) -> tuple[pd.DataFrame, dict[Path, pd.DataFrame], pd.DataFrame]:
    """Worker: write the populations into ``staging``; return them, the lookup frames (by
    final path) and the official district summaries."""
    pop = iod.build_population()
    write_parquet(pop, staging / iod.POPULATION_FILE.name)
    return pop, lookups.build_all(pop), district_summaries.official_summaries()


def prepare(force: bool = False) -> list[Path]:
    """Build the IoD store, indicators, populations, lookups and district summaries.

    A full rebuild writes every output into a staging folder and moves them into
    ``data/processed/`` only when all have been built: bad input leaves the old files.
    """
    import os
    import shutil
    import tempfile
    from concurrent.futures import ProcessPoolExecutor


    outputs = [iod.IOD_FILE, iod.INDICATORS_FILE, iod.POPULATION_FILE]
    lookup_files = [lookups.LOOKUP_01_11, lookups.LOOKUP_11_21, lookups.GEOGRAPHY_FILE]
    if force or not is_fresh(outputs, [*iod.inputs(), Path(__file__)]):
        t0 = time.perf_counter()
        config.PROCESSED_DIR.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".iod-staging-", dir=config.PROCESSED_DIR))
        try:
            # Indicators, populations and lookups are built in a second process while this
            # one builds the store (two cores; reading the bzip2 R files is CPU-bound).
            with ProcessPoolExecutor(max_workers=1) as pool:
                side = pool.submit(_build_side_outputs, staging)
                store = iod.build_store()
                iod.write_store(store, staging / iod.IOD_FILE.name)
                write_parquet(iod.build_indicators(), staging / iod.INDICATORS_FILE.name)
                pop, frames, official = side.result()
            for path, df in frames.items():
                write_parquet(df, staging / path.name)
            summary = district_summaries.build_la_summary(store, pop, frames[lookups.LOOKUP_01_11], official)
            write_parquet(summary, staging / district_summaries.LA_SUMMARY_FILE.name)
            for path in [*outputs, *lookup_files, district_summaries.LA_SUMMARY_FILE]:
                os.replace(staging / path.name, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        print(f"  iod: {len(store):,} LSOA rows, lookups, {len(summary):,} summary rows in "
              f"{time.perf_counter() - t0:.1f} s")
        return [*outputs, *lookup_files, district_summaries.LA_SUMMARY_FILE]
    written = outputs + lookups.prepare(force=force)
    summary_inputs = [*iod.inputs(), *written,
                      *(catalogue.entry(i).raw_path() for i in
                        (*iod_files.OFFICIAL_XLSX.values(), "imd2025_england_ltla24"))]
    if not is_fresh([district_summaries.LA_SUMMARY_FILE], [*summary_inputs, Path(__file__)]):
        write_parquet(district_summaries.build_la_summary(), district_summaries.LA_SUMMARY_FILE)
    return [*written, district_summaries.LA_SUMMARY_FILE]
