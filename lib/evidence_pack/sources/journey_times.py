"""Reader for the DfT Journey Time Statistics 2015 LSOA averages (catalogue ``d15avgm``).

One row per 2011 LSOA in England (32,844): the **mean of the minimum travel times, in
minutes, to eight key services** (employment centres, primary and secondary schools, further
education, GP surgeries, hospitals, food stores and town centres) by public transport or
walking, by cycle and by car, in 2015. It is an access-to-services measure that includes
employment centres; it is not a count of jobs within reach, not specific to lower-skilled
jobs, and not a measure of the time to the nearest employment centre alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from evidence_pack.sources.io import DataError

DATASET_ID = "d15avgm"
YEAR = 2015
#: Published column -> tidy name (minutes).
COLUMNS: dict[str, str] = {
    "AVG_Public Transport/Walking": "services_pt_minutes",
    "AVG_Cycle": "services_cycle_minutes",
    "AVG_Car": "services_car_minutes",
}


def read(path: str | os.PathLike) -> pd.DataFrame:
    """lsoa_code, lad_code and the three mean travel times (minutes), one row per LSOA 2011.

    Raises DataError naming the file (and the row, 1 = first data row) on a missing column,
    a duplicated LSOA code or a travel time that is not a non-negative number."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype={"LSOA_code": str, "LA_Code": str})
    except (OSError, ValueError) as exc:
        raise DataError(path, f"cannot read as CSV ({exc})") from exc
    need = ["LSOA_code", "LA_Code", *COLUMNS]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; found {list(raw.columns)}")
    out = pd.DataFrame({"lsoa_code": raw["LSOA_code"].str.strip(),
                        "lad_code": raw["LA_Code"].str.strip()})
    for src, name in COLUMNS.items():
        values = pd.to_numeric(raw[src], errors="coerce")
        bad = values.isna() & raw[src].notna() | (values < 0)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(path, f"{src!r} is not a non-negative number of minutes: "
                            f"{raw[src].iloc[i]!r}", row=i + 1)
        out[name] = values
    dup = out["lsoa_code"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise DataError(path, f"LSOA {out['lsoa_code'].iloc[i]} appears twice", row=i + 1)
    return out.reset_index(drop=True)
