"""Plain-English sentences for the national index: how districts moved in England's ranking of
average IMD score between two releases (from :func:`evidence_pack.analysis.national.rank_change`).
"""

from __future__ import annotations

import pandas as pd

from evidence_pack.findings import format as fmt


def rank_change_findings(changes: pd.DataFrame, first: int = 2010, last: int = 2025,
                         big: int = 10) -> list[str]:
    """Two or three sentences, the answer first."""
    c = changes.dropna(subset=["change"])
    if c.empty:
        return [f"No district has comparable ranks for {first} and {last}."]
    n = len(c)
    up = int((c["change"] >= big).sum())
    down = int((c["change"] <= -big).sum())
    out = [f"Of the {fmt.number(n)} districts with the same code in {first} and {last}, "
           f"{fmt.number(up)} moved {big} or more places towards the most deprived end of "
           f"England's ranking of average deprivation score and {fmt.number(down)} moved "
           f"{big} or more places away from it (ranks among those {fmt.number(n)} districts, "
           "1st = most deprived)."]
    top = c.sort_values(["change", "lad_name"], ascending=[False, True]).iloc[0]
    low = c.sort_values(["change", "lad_name"], ascending=[True, True]).iloc[0]
    if top["change"] > 0:
        out.append(f"{top['lad_name']} moved furthest towards the most deprived end: "
                   f"{fmt.ordinal(int(top['common_first']))} in {first}, "
                   f"{fmt.ordinal(int(top['common_last']))} in {last}.")
    if low["change"] < 0:
        out.append(f"{low['lad_name']} moved furthest away from it: "
                   f"{fmt.ordinal(int(low['common_first']))} in {first}, "
                   f"{fmt.ordinal(int(low['common_last']))} in {last}.")
    new = int(changes["change"].isna().sum())
    if new:
        out.append(f"{fmt.number(new)} districts created since {first} have no comparable "
                   f"{first} rank.")
    return out
