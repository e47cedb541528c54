"""Prepare stage "public_spend": HM Treasury's Country and Regional Analysis in one tidy store.

Writes ``data/processed/public_spend.parquet`` (every row of the CRA 2010, 2014 and 2018
workbooks, columns ``sources.cra.COLUMNS``, GBP thousand cash outturn) and
``public_spend_combined.parquet`` (the combined 1999-00 to 2017-18 series by region, year and
function, with the file's own population). Each workbook's identifiable totals per English
region and year are checked against the combined series before anything is written; a
difference stops the stage with one line naming the publication, region and year.
``load`` returns one publication per year (the latest that covers it), so a year is never
counted twice.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue, cra, table_cache
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, write_parquet

OUTPUT = config.PROCESSED_DIR / "public_spend.parquet"
COMBINED_OUTPUT = config.PROCESSED_DIR / "public_spend_combined.parquet"


def _inputs() -> list[Path]:
    ids = [lay.dataset for lay in cra.LAYOUTS.values()] + [cra.COMBINED]
    return [catalogue.path_for(i) for i in ids] + [Path(cra.__file__), Path(__file__)]


def build() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Read and check every workbook: (tidy rows, combined series, the totals check)."""
    combined = cra.read_combined()
    frames, checks = [], []
    for pub in cra.LAYOUTS:
        df = cra.read_workbook(pub)
        checks.append(cra.check_totals(df, combined).assign(publication=pub))
        frames.append(df)
    tidy = pd.concat(frames, ignore_index=True)
    for c in ("region", "department", "organisation", "function", "subfunction",
              "capital_or_current", "sector"):
        tidy[c] = tidy[c].astype("category")
    return tidy, combined, pd.concat(checks, ignore_index=True)


def prepare(force: bool = False) -> list[Path]:
    """Build the CRA store unless it is newer than every workbook and this code."""
    if not force and is_fresh([OUTPUT, COMBINED_OUTPUT], _inputs()):
        return [OUTPUT, COMBINED_OUTPUT]
    tidy, combined, _ = build()
    return [write_parquet(tidy, OUTPUT), write_parquet(combined, COMBINED_OUTPUT)]


@table_cache.memo  # read by every spend report: once per kernel
def load(latest_only: bool = True) -> pd.DataFrame:
    """The tidy CRA rows (builds the store when absent). ``latest_only``: for each year, the
    rows of the latest publication that covers it (2009-10 from CRA 2014, not CRA 2010)."""
    if not OUTPUT.exists():
        prepare()
    df = pd.read_parquet(OUTPUT)
    for c in df.select_dtypes("category"):
        df[c] = df[c].astype(str)
    if latest_only:
        latest = df.groupby("year")["publication"].transform("max")
        df = df[df["publication"] == latest].reset_index(drop=True)
    return df


@table_cache.memo
def years() -> list[str]:
    """Financial years the store covers with English regions (2009-10 onwards)."""
    df = load()
    return sorted(df.loc[df["region"].isin(cra.ENGLISH_REGIONS), "year"].unique())


def region_spend(region: str, year: str) -> pd.DataFrame:
    """Identifiable rows of one English region (key or name) and year."""
    key = cra.region_key(region)
    df = load()
    sel = df[(df["region"] == key) & (df["year"] == year) & df["identifiable"]]
    if sel.empty:
        raise DataError(OUTPUT, f"no identifiable CRA spend for region {region!r} in {year}; "
                        f"years with regions: {years()}")
    return sel.reset_index(drop=True)
