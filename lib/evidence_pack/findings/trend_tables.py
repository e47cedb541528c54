"""Reader-labelled tables for ``imd_trends`` (columns named in plain words, releases as text,
shares in %). Inputs are the frames of ``analysis.trends``; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evidence_pack.analysis.trends import STAT_LABELS

COUNT_COLUMNS = {"release": "Release", "lsoas": "Neighbourhoods",
                 "decile1": "In most deprived 10%", "share_decile1": "% of neighbourhoods",
                 "decile1_2": "In most deprived 20%", "median_pct": "Median national percentile",
                 "most_deprived_rank": "Most deprived neighbourhood's rank"}


def _release_text(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(release=df["release"].astype(int).astype(str))


def count_table(counts: pd.DataFrame, share: bool = True) -> pd.DataFrame:
    """Neighbourhoods in England's most deprived 10% and 20% per release."""
    cols = [c for c in COUNT_COLUMNS if share or c != "share_decile1"]
    t = _release_text(counts[cols])
    if share:
        t["share_decile1"] = 100 * t["share_decile1"]
    for c in ("lsoas", "decile1", "decile1_2"):  # whole counts shown as whole numbers
        if (t[c] == t[c].round()).all():
            t[c] = t[c].round().astype(int)
    return t.rename(columns=COUNT_COLUMNS)


def rank_table(ranks: pd.DataFrame) -> pd.DataFrame:
    """The district's ranks among districts on each summary statistic."""
    t = _release_text(ranks).rename(columns={**{f"rank_{k}": v for k, v in STAT_LABELS.items()},
                                             "release": "Release", "n_districts": "Districts",
                                             "source": "Basis"})
    if "share_of_districts" in t:
        t["Share of districts ranked as or more deprived (%)"] = 100 * t.pop("share_of_districts")
    return t


def reported_table(reported: pd.DataFrame) -> pd.DataFrame:
    """A reference document's district ranks beside the data."""
    return _release_text(reported).rename(columns={
        "release": "Release", "reported_rank": "Report", "reported_of": "of",
        "data_rank": "Data: rank of average score", "data_of": "of districts", "basis": "Basis",
        "difference": "Data minus report", "agrees": "Same rank"})


def gap_table(spread: pd.DataFrame) -> pd.DataFrame:
    """The 10th and 90th percentile neighbourhoods and the score gap per release."""
    t = _release_text(spread[["release", "pct_low", "pct_high", "pct_spread", "spread_widened",
                              "score_most", "score_least", "score_gap"]])
    t.columns = ["Release", "10th percentile neighbourhood (national percentile)",
                 "90th percentile neighbourhood (national percentile)", "Spread (points)",
                 "Wider than previous release", "IMD score, most deprived tenth",
                 "IMD score, least deprived tenth", "Score gap"]
    return t


def area_count_table(area_trend: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Target areas x release: neighbourhoods in England's most deprived 10%."""
    t = area_trend.pivot(index="area", columns="release", values="decile1").loc[list(order)]
    t.columns = [str(c) for c in t.columns]
    t.insert(0, "Neighbourhoods", area_trend.groupby("area")["lsoas"].last().loc[t.index])
    return t.reset_index().rename(columns={"area": "Area"})


def change_table(changes: pd.DataFrame, names: pd.Series, first: int, last: int
                 ) -> pd.DataFrame:
    """Each neighbourhood's England rank and decile in two releases on 2021 boundaries.
    ``names``: area name by 2021 LSOA code. No decile-change column (ranks say more)."""
    t = changes.drop(columns=["decile_change"])
    t.insert(0, "Area", t["lsoa_code"].map(names))
    t = t.sort_values(["Area", "lsoa_code"])
    t.columns = ["Area", "Neighbourhood (2021 code)", f"Rank {first}", f"Rank {last}",
                 f"Decile {first}", f"Decile {last}", "Rank change (+ = less deprived)"]
    return t
