"""District ranks for a district created since a release (for example North Yorkshire or
Cumberland, April 2023), built from the neighbourhoods it covers today: its population-weighted
average IMD score in that release, ranked among that release's other districts with its
predecessors left out (as if it had existed then). Weights are the populations the pack's
computed district summaries use (``district_summaries.release_populations``), so the figure is
comparable with the computed ranks of the other districts. Caveats: docs/caveats/areas.md.

``district_trends``: the district's own trend tables (counts, domains, spread, ranks), which
name no target area, computed once per district and releases (``table_cache.memo``) for
every report that shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import trends
from evidence_pack.sources import table_cache
from evidence_pack.sources.io import DataError
from evidence_pack.stores import iod
from evidence_pack.stores.district_summaries import release_populations
from evidence_pack.stores.lsoa_geography import district_lsoas

#: ``source`` of a rank built this way (reader text says what it means).
BUILT = "built from its neighbourhoods"


def built_ranks(store: pd.DataFrame, la_summary: pd.DataFrame, releases: Iterable[int],
                lsoas_by_vintage: Mapping[int, Iterable[str]],
                pop: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows like ``trends.district_ranks`` (release, rank_average_score, n_districts, source,
    share_of_districts) for ``releases``: the district's average IMD score from its LSOAs of
    that release's vintage, ranked (1 = most deprived) against the computed average scores of
    the release's districts other than those its LSOAs belonged to; ``n_districts`` counts
    them plus the district itself."""
    rows = []
    for release in sorted(int(r) for r in releases):
        codes = set(lsoas_by_vintage.get(config.RELEASE_VINTAGE[release], ()))
        sub = store.loc[(store["release"] == release) & (store["measure"] == "imd")
                        & store["lsoa_code"].isin(codes), ["lsoa_code", "lad_code", "score"]]
        if sub.empty:
            raise DataError("iod_lsoa", f"release {release}: none of the district's LSOAs")
        w = release_populations(release, pop).set_index("lsoa_code")["population"]
        w = w.reindex(sub["lsoa_code"]).to_numpy("float64")
        value = float(np.nansum(w * sub["score"].to_numpy("float64")) / np.nansum(w))
        others = la_summary.loc[(la_summary["release"] == release)
                                & (la_summary["measure"] == "imd")
                                & (la_summary["statistic"] == "average_score")
                                & (la_summary["source"] == "computed")
                                & ~la_summary["lad_code"].isin(set(sub["lad_code"]))]
        rank = 1 + int((others["value"] > value).sum())
        n = len(others) + 1
        rows.append({"release": release, "rank_average_score": rank, "n_districts": n,
                     "source": BUILT, "share_of_districts": rank / n,
                     "average_score": value})
    out = pd.DataFrame(rows, columns=["release", "rank_average_score", "n_districts", "source",
                                      "share_of_districts", "average_score"])
    return out.astype({"rank_average_score": "Int64", "n_districts": "Int64"})


def with_built_ranks(ranks: pd.DataFrame | None, built: pd.DataFrame) -> pd.DataFrame:
    """``trends.district_ranks`` rows followed by built ones for the releases they lack."""
    if ranks is None or ranks.empty:
        return built.drop(columns="average_score").reset_index(drop=True)
    extra = built[~built["release"].isin(ranks["release"])].drop(columns="average_score")
    return pd.concat([extra, ranks], ignore_index=True).sort_values(
        "release", ignore_index=True)


@table_cache.memo  # the district's own tables (no target area): once per district and releases
def district_trends(la_code: str, la_name: str, releases: tuple[int, ...]) -> dict[str, object]:
    """The district's trend tables over IoD ``releases`` (each release's own LSOAs):
    ``counts`` (``trends.decile_counts``), ``domains`` (``trends.domain_profile``), ``spread``
    (``trends.gap``), ``ranks`` (``trends.district_ranks``, with built ranks for releases
    before the district existed; None without the district summaries), ``built_from`` (those
    releases) and ``history`` ({LSOA vintage: the district's LSOAs})."""
    releases = tuple(sorted(int(r) for r in releases))
    store = iod.load(releases=list(releases), measures=["imd", *trends.DOMAINS])
    grouped = trends.split(store)
    history = {v: district_lsoas(la_code, v) for v in {config.RELEASE_VINTAGE[r] for r in releases}}
    district = trends.district_sets(store, la_code, la_name, lsoas_by_vintage=history)
    built_from = trends.built_from_lsoas(store, la_code, la_name)
    summary = trends.load_la_summary()
    ranks = (trends.district_ranks(summary, la_code, la_name=la_name, releases=releases)
             if summary is not None else None)
    if built_from and summary is not None:  # a district created since: ranks as if it had existed
        ranks = with_built_ranks(ranks, built_ranks(store, summary, built_from, history))
    return {"counts": trends.decile_counts(grouped, district),
            "domains": trends.domain_profile(grouped, district),
            "spread": trends.gap(grouped, district), "ranks": ranks,
            "built_from": built_from, "history": history}
