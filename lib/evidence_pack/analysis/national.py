"""England's districts side by side, for the national batch and its index page.

- :func:`england_districts` - the 296 English districts of the 2021 LSOA geography (2025 IoD
  districts) with their region.
- :func:`select_districts` - districts from a command-line selection: codes, region names or
  codes, or ``all``.
- :func:`rank_change` - each district's rank of average IMD score in 2010 and 2025 and the
  change, ranked among the districts that exist with the same code in both releases (rank 1 =
  most deprived), so that the 30 districts merged away after 2010 do not move everyone else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources.io import DataError
from evidence_pack.stores import iod
from evidence_pack.stores.lsoa_geography import district_lsoas

#: Vintage of the LSOA geography whose districts are "England's districts" (IoD 2025).
DISTRICT_VINTAGE = 2021


def england_districts(geography: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per English district (``lad_code``, ``lad_name``, ``region_code``,
    ``region_name``, ``n_lsoas``) on 2021 LSOAs, sorted by code."""
    if geography is None:
        geography = pd.read_parquet(
            config.PROCESSED_DIR / "lsoa_geography.parquet",
            columns=["lsoa_code", "lsoa_vintage", "lad_code", "lad_name", "region_code",
                     "region_name"],
            filters=[("lsoa_vintage", "==", DISTRICT_VINTAGE)])
    g = geography.loc[geography["lsoa_vintage"] == DISTRICT_VINTAGE]
    g = g.loc[g["lad_code"].astype(str).str.startswith("E")]
    out = (g.groupby(["lad_code", "lad_name", "region_code", "region_name"], observed=True)
           .size().rename("n_lsoas").reset_index())
    for c in ("lad_code", "lad_name", "region_code", "region_name"):
        out[c] = out[c].astype(str)
    return out.sort_values("lad_code", kind="stable").reset_index(drop=True)


def _norm(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


def select_districts(selection: str | Iterable[str], districts: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """Districts chosen by ``selection``: ``all``, or comma-separated district codes
    (``E08000018``), region codes (``E12000003``) or region names (``"Yorkshire and The
    Humber"``, case and hyphens ignored), in the order given. DataError naming an item that
    matches nothing (a Welsh or retired code, a misspelt region)."""
    d = england_districts() if districts is None else districts
    items = [selection] if isinstance(selection, str) else list(selection)
    parts = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
    if not parts:
        raise DataError("--districts", "no district given (codes, a region or 'all')")
    regions = {_norm(n): c for c, n in zip(d["region_code"], d["region_name"], strict=True)}
    picked: list[pd.DataFrame] = []
    for p in parts:
        if p.lower() == "all":
            picked.append(d)
        elif p.upper() in set(d["lad_code"]):
            picked.append(d.loc[d["lad_code"] == p.upper()])
        elif p.upper() in set(d["region_code"]):
            picked.append(d.loc[d["region_code"] == p.upper()])
        elif _norm(p) in regions:
            picked.append(d.loc[d["region_code"] == regions[_norm(p)]])
        else:
            raise DataError("--districts", f"{p!r} is not an English district code (2025 IoD "
                                           "districts), a region code or a region name")
    out = pd.concat(picked, ignore_index=True).drop_duplicates("lad_code")
    return out.reset_index(drop=True)


def _statistic(la_summary: pd.DataFrame, release: int, statistic: str = "average_score"
               ) -> pd.DataFrame:
    """One IMD district statistic in one release; official figures win over computed."""
    s = la_summary.loc[(la_summary["release"] == release) & (la_summary["measure"] == "imd")
                       & (la_summary["statistic"] == statistic)].copy()
    s["_pref"] = (s["source"] != "official").astype(int)
    s = s.sort_values(["lad_code", "_pref"]).drop_duplicates("lad_code")
    return s[["lad_code", "lad_name", "value", "rank", "n_districts", "source"]]


def rank_change(la_summary: pd.DataFrame, first: int = 2010, last: int = 2025) -> pd.DataFrame:
    """Per district of ``last``: published rank of average IMD score in ``last`` (``rank_last``
    of ``n_last``), and, for districts with the same code in ``first``, the ranks of both
    releases among those common districts (``common_first``, ``common_last``, of
    ``n_common``) and ``change`` = common_first - common_last: positive = moved towards the
    most deprived end of England's ranking. Districts new since ``first`` have no change.
    ``share_decile1_last``: share (0-1) of the district's LSOAs in England's most deprived
    10% in ``last``."""
    a = _statistic(la_summary, first)
    b = _statistic(la_summary, last)
    if a.empty or b.empty:
        raise DataError("la_summary", f"no average IMD scores for {first} or {last}")
    out = b.rename(columns={"value": "score_last", "rank": "rank_last",
                            "n_districts": "n_last", "source": "source_last"})
    out = out.merge(a[["lad_code", "value"]].rename(columns={"value": "score_first"}),
                    on="lad_code", how="left")
    common = out["score_first"].notna()
    out["n_common"] = int(common.sum())
    out["common_first"] = out.loc[common, "score_first"].rank(ascending=False, method="min")
    out["common_last"] = out.loc[common, "score_last"].rank(ascending=False, method="min")
    out["change"] = out["common_first"] - out["common_last"]
    share = _statistic(la_summary, last, "proportion_most_deprived_10")
    out = out.merge(share[["lad_code", "value"]].rename(columns={"value": "share_decile1_last"}),
                    on="lad_code", how="left")
    for c in ("rank_last", "n_last", "common_first", "common_last", "change"):
        out[c] = out[c].astype("Int64")
    return out.sort_values("lad_code", kind="stable").reset_index(drop=True)


def release_ranks(release: int) -> tuple[pd.DataFrame, int]:
    """IMD rank of every LSOA in ``release`` (``lsoa_code``, ``lad_code``, ``rank``; 1 = most
    deprived) and England's LSOA count."""
    df = iod.load(releases=[release], measures=["imd"])[["lsoa_code", "lad_code", "rank"]]
    return df, len(df)


def draft_rule(code: str, ranks: Mapping[int, tuple[pd.DataFrame, int]],
               thresholds: Iterable[float]) -> tuple[int, float] | None:
    """(release, threshold) for drafting a district's areas: the first release in ``ranks``
    with the district's LSOAs (found as :func:`evidence_pack.analysis.area_draft.selected_lsoas`
    finds them) and the smallest threshold (England's most deprived %) holding one of them;
    None when no release has them."""
    for release, (df, n) in ranks.items():
        codes = set(district_lsoas(code, config.RELEASE_VINTAGE[release]))
        in_la = df["lsoa_code"].isin(codes) if codes else df["lad_code"] == code
        if not in_la.any():
            continue
        best = df.loc[in_la, "rank"].min()
        for t in thresholds:
            if best <= int(np.floor(n * t / 100 + 1e-9)):
                return release, t
    return None
