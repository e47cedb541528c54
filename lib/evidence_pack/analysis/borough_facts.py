"""Borough facts from the data, beside what the district's own reference document said
(the areas file's ``reference:`` block; blank where a file has none): LSOAs in England's most
deprived 10% per release, the share of residents in the target areas, and the share of the
most deprived LSOAs in the district's centre (by the reference's central wards and town-centre
LSOA, when it names them). Caveats: docs/caveats/areas.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from evidence_pack import config
from evidence_pack.analysis.area_draft import connected_groups, neighbours, selected_lsoas
from evidence_pack.analysis.areas import AreaSet, members
from evidence_pack.sources import table_cache
from evidence_pack.stores import geography, iod, lookups
from evidence_pack.stores.lsoa_geography import district_lsoas


@dataclass(frozen=True)
class BoroughFacts:
    """Borough facts from the data beside the report's figures.

    ``summary``: fact, data, report, basis. ``decile1``: release, lsoa_vintage, lsoas,
    decile1 (LSOAs in England's most deprived 10% on the IMD), decile1_share,
    target_lsoas_decile1 (target-area LSOAs, carried to that release's vintage, in decile 1).
    ``population``: lsoa_vintage, year, source, borough, target_areas, share.
    ``central``: definition, set, central, total, share.
    """

    la_code: str
    summary: pd.DataFrame
    decile1: pd.DataFrame
    population: pd.DataFrame
    central: pd.DataFrame


@table_cache.memo  # no names: one result per district and membership (a renamed area reuses it)
def decile1_counts(area_set: AreaSet, releases: Iterable[int] = config.RELEASES) -> pd.DataFrame:
    """Per release: the district's LSOAs, how many are in England's most deprived 10% on
    the IMD, and how many of the target-area LSOAs (carried to the release's vintage)."""
    rows = []
    df = iod.load(releases=list(releases), measures=["imd"])
    for release in releases:
        vintage = config.RELEASE_VINTAGE[release]
        codes = set(district_lsoas(area_set.la_code, vintage))
        sub = df[(df["release"] == release) & df["lsoa_code"].isin(codes)]
        target = set(members(area_set, vintage)["lsoa_code"])
        d1 = set(sub.loc[sub["decile"] == 1, "lsoa_code"])
        rows.append({"release": release, "lsoa_vintage": vintage, "lsoas": len(sub),
                     "decile1": len(d1), "decile1_share": len(d1) / len(sub) if len(sub) else
                     float("nan"), "target_lsoas": len(target),
                     "target_lsoas_decile1": len(d1 & target)})
    return pd.DataFrame(rows)


def population_share(area_set: AreaSet) -> pd.DataFrame:
    """Share of the district's population living in the target areas, for every population
    year in ``lsoa_population.parquet`` (members carried to its LSOA vintage; weights)."""
    p = config.PROCESSED_DIR / "lsoa_population.parquet"
    if not p.exists():
        raise FileNotFoundError(f"{p} not built: run `evidence-pack prepare`")
    pop = pd.read_parquet(p, columns=["lsoa_code", "lsoa_vintage", "year", "population",
                                      "source"])
    rows = []
    for (vintage, year, source), g in pop.groupby(["lsoa_vintage", "year", "source"]):
        codes = district_lsoas(area_set.la_code, int(vintage))
        g = g[g["lsoa_code"].isin(codes)].set_index("lsoa_code")["population"]
        m = members(area_set, int(vintage))
        target = float((m["lsoa_code"].map(g) * m["weight"]).sum())
        borough = float(g.sum())
        rows.append({"lsoa_vintage": int(vintage), "year": int(year), "source": source,
                     "borough": borough, "target_areas": target,
                     "share": target / borough if borough else float("nan")})
    return pd.DataFrame(rows)


def central_share(area_set: AreaSet, release: int = 2010,
                  central_wards: Iterable[str] | None = None) -> pd.DataFrame:
    """Share of the most deprived LSOAs (England's most deprived 10% on IMD ``release``)
    that are in the district's centre, under two explicit definitions:

    - ``wards``: the LSOA's ward (the wards of the LSOA vintage's lookup: 2004-2021 wards
      for 2001 LSOAs) is one of ``central_wards`` (default: the reference's central wards);
    - ``contiguous``: the LSOA is in the contiguous block of decile-1 LSOAs (shared
      boundaries) that holds the reference's town-centre LSOA.

    Empty when the areas file names neither.

    Each for two sets: the target-area LSOAs and all the district's decile-1 LSOAs.
    """

    vintage = config.RELEASE_VINTAGE[release]
    ref = area_set.reference
    wards = tuple(central_wards) if central_wards is not None else (
        ref.central_wards if ref else ())
    ranked, _, _, _ = selected_lsoas(area_set.la_code, release, 10.0)
    d1 = set(ranked["lsoa_code"])
    target = set(members(area_set, vintage)["lsoa_code"]) & d1
    rows = []
    sets = {"target areas": target, "all decile 1": d1}
    if wards:
        geo = lookups.geography(vintage).set_index("lsoa_code")["ward_name"]
        central = {c for c in d1 if geo.get(c) in wards}
        for name, s in sets.items():
            rows.append({"definition": f"wards in force at the LSOA vintage: {', '.join(wards)}",
                         "set": name, "central": len(s & central), "total": len(s)})
    centre = ref.town_centre_lsoa if ref else None
    if centre and centre in d1:
        shapes = geography.lsoa_boundaries(vintage, area_set.la_code)
        adj = neighbours(shapes[shapes["code"].isin(d1)])
        block = next(g for g in connected_groups(sorted(d1), adj) if centre in g)
        for name, s in sets.items():
            rows.append({"definition": "contiguous decile-1 block holding the town centre "
                                       f"({centre})",
                         "set": name, "central": len(s & set(block)), "total": len(s)})
    out = pd.DataFrame(rows, columns=["definition", "set", "central", "total"])
    out["share"] = out["central"] / out["total"].where(out["total"] > 0)
    return out


def borough_facts(area_set: AreaSet, base_release: int = 2010) -> BoroughFacts:
    """LSOAs in the most deprived 10% per release, the share of the borough's population
    in the target areas, and the share of the most deprived LSOAs in the centre, each
    beside what the areas file's reference document says (blank where it has none)."""
    d1 = decile1_counts(area_set)
    pop = population_share(area_set)
    cen = central_share(area_set, base_release)
    ref = area_set.reference
    rep = ({"target_lsoas": ref.target_lsoas, "population_share": ref.residents_share,
            "central_share": ref.central_share} if ref else {})
    base = d1[d1["release"] == base_release].iloc[0]
    first_pop = pop.sort_values("year").iloc[0] if len(pop) else None
    rows = [
        {"fact": f"LSOAs in England's most deprived 10% (IMD {base_release})",
         "data": int(base["decile1"]), "report": None,
         "basis": f"of {int(base['lsoas'])} LSOAs ({int(base['lsoa_vintage'])})"},
        {"fact": "Target-area LSOAs", "data": int(base["target_lsoas"]),
         "report": rep.get("target_lsoas"), "basis": "sum of the SOA counts per area"},
        {"fact": f"Target-area LSOAs in the most deprived 10% (IMD {base_release})",
         "data": int(base["target_lsoas_decile1"]), "report": rep.get("target_lsoas"),
         "basis": "members carried to the release's LSOA vintage"},
    ]
    if first_pop is not None:
        rows.append({"fact": "Share of the borough's population in the target areas",
                     "data": float(first_pop["share"]), "report": rep.get("population_share"),
                     "basis": f"{first_pop['source']} ({int(first_pop['year'])})"
                              + ("; the report's year is not stated" if ref else "")})
    for r in cen.itertuples():
        rows.append({"fact": f"Share of the most deprived LSOAs in central "
                             f"{area_set.la_name} ({r.set})",
                     "data": float(r.share), "report": rep.get("central_share"),
                     "basis": f"{r.central} of {r.total}; central = {r.definition}"})
    summary = pd.DataFrame(rows, columns=["fact", "data", "report", "basis"]).astype(
        {"data": object, "report": object})
    return BoroughFacts(area_set.la_code, summary, d1, pop, cen)
