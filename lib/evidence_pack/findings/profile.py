"""Key findings of the area profile, written from its tables (``analysis.profile``).

Vintages: IoD ``release`` (2025 by default) on 2021 LSOAs; Census 2021 (21 March 2021) usual
residents and households, the population base of every notebook; Community Needs Index 2023;
Rural-Urban Classification 2021. Positions are median national percentiles, 0 = the most
deprived end of England (the same statistic as the trends report). Numbers are written with
``findings.format``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from evidence_pack.analysis.profile import dominant_class, top_drivers
from evidence_pack.analysis.trends import DOMAIN_LABELS
from evidence_pack.findings.format import number, percent, percentile


def domain_name(measure: str) -> str:
    """"income", "barriers to housing and services", ... (lower case, no sub-titles)."""
    return DOMAIN_LABELS[measure].split(",")[0].split(" (")[0].lower()


def _count(n: float, word: str) -> str:
    n = float(n)
    txt = number(n, 0) if abs(n - round(n)) < 0.05 else number(n, 1)
    return f"{txt} {word}" + ("" if txt == "1" else "s")


def key_findings(area: str, borough: str, pop: pd.DataFrame, dom: pd.DataFrame,
                 drv: pd.DataFrame, cen: pd.DataFrame, cni: pd.DataFrame,
                 rur: pd.DataFrame | None = None, msoa: pd.DataFrame | None = None,
                 release: int = 2025) -> list[str]:
    """Plain-English findings for ``area`` (a set name in the tables): size, IMD position,
    driving domains, the starkest census contrasts, community need and rurality. When
    ``area`` is the borough, comparisons are with England only."""
    out: list[str] = []
    p = pop.set_index("area")
    d = dom.set_index(["area", "measure"])
    is_borough = area == borough
    base = "England" if is_borough else borough
    res = p.loc[area, "residents"]
    n = p.loc[area, "lsoas"]
    nbh = _count(n, "neighbourhood")
    out.append(f"{area} had about {number(res)} residents in {number(p.loc[area, 'households'])} "
               f"households at the 2021 Census, in {nbh}" + ("" if is_borough else
               f": {percent(res / p.loc[borough, 'residents'], 1)} of {borough}'s residents")
               + ".")
    share1 = d.loc[(area, "imd"), "share_decile1"]
    med = d.loc[(area, "imd"), "median_pct"]
    comp = "" if is_borough else (f" (against {percent(d.loc[(borough, 'imd'), 'share_decile1'])}"
                                  f" of {borough}'s)")
    single = abs(n - 1) < 1e-9
    inside = (f"all {nbh} are" if share1 > 0.999 and n > 1 else
              "its one neighbourhood is" if share1 > 0.999 else
              f"none of its {nbh} is" if share1 < 0.001 else
              f"{number(share1 * n)} of its {nbh} ({percent(share1)}) are")
    out.append(f"On the IMD {release}, {inside} in England's most deprived 10%{comp}; "
               f"{'it sits at' if single else 'the middle one sits at'} the "
               f"{percentile(max(1.0, med))} of England, where 0 is the most deprived and 100 "
               "the least.")
    top = top_drivers(drv, area)
    dv = drv.set_index(["area", "measure"])
    out.append("What drives its deprivation score most: " + ", ".join(
        f"{domain_name(m)} ({percent(dv.loc[(area, m), 'share'])})" for m in top)
        + " of the combined score.")
    rel = dv.loc[area]["vs_england"].sort_values(ascending=False)
    out.append(f"Compared with England the domain that stands out most is "
               f"{domain_name(rel.index[0])}: it adds {number(rel.iloc[0], 1)} times as much to "
               "the score as in an average English neighbourhood.")
    c = cen.set_index("category")
    diffs = (c[area] - c[base]).abs().sort_values(ascending=False)
    parts = [f"{c.loc[cat, 'measure'][0].lower()}{c.loc[cat, 'measure'][1:]} "
             f"{percent(c.loc[cat, area])} ({base} {percent(c.loc[cat, base])})"
             for cat in diffs.index[:3]]
    out.append("At the 2021 Census the biggest differences from " + base + " were: "
               + "; ".join(parts) + ".")
    if msoa is not None and len(msoa) and area in set(msoa["area"]):
        mm = msoa.set_index("area")
        comp = f"{base} {percent(mm.loc[base, 'churn'])}" if base in mm.index else ""
        out.append(f"Population churn: {percent(mm.loc[area, 'churn'])} of residents of the "
                   f"surrounding {_count(mm.loc[area, 'msoas'], 'MSOA').removeprefix('1 ')} had "
                   "moved in during the year before the census" + (f" ({comp})." if comp else "."))
    ci = cni.set_index("area")
    out.append(f"Community Needs Index 2023 (community capacity: civic assets, connectedness, "
               f"engagement): {percent(ci.loc[area, 'cni_top10'])} of its neighbourhoods are in "
               f"England's highest-need 10% (civic assets "
               f"{percent(ci.loc[area, 'civic_assets_top10'])}, connectedness "
               f"{percent(ci.loc[area, 'connectedness_top10'])}, engaged community "
               f"{percent(ci.loc[area, 'engaged_community_top10'])}; England 10% each).")
    if rur is not None and area in rur.columns:
        cls, sh = dominant_class(rur, area)
        out.append(f"Rural-urban class (2021): {percent(sh)} of its neighbourhoods are "
                   f"'{cls}'.")
    return out


def overview_findings(dom: pd.DataFrame, drv: pd.DataFrame, cen: pd.DataFrame,
                      names: Iterable[str], release: int = 2025,
                      pop: pd.DataFrame | None = None, combined: str | None = None,
                      borough: str | None = None,
                      reported_share: float | None = None) -> list[str]:
    """Findings comparing the target areas with each other (for the borough-wide profile).

    With ``pop``, ``combined`` (the name of the all-areas set) and ``borough``, the areas'
    share of the borough's residents, set against ``reported_share`` when given."""
    names = list(names)
    d = dom.loc[(dom["measure"] == "imd") & dom["area"].isin(names)].set_index("area")
    out = []
    if pop is not None and combined and borough:
        p = pop.set_index("area")["residents"]
        share = p[combined] / p[borough]
        out.append(f"The {len(names)} target areas hold {percent(share, 1)} of {borough}'s "
                   f"residents at the 2021 Census ({number(p[combined])} people)"
                   + (f"; the 2011 report said {percent(reported_share)}."
                      if reported_share is not None else "."))
    all_in = [n for n in names if d.loc[n, "share_decile1"] > 0.999]
    out.append(f"On the IMD {release}, {len(all_in)} of the {len(names)} target areas still "
               "have every neighbourhood in England's most deprived 10%"
               + (f"; the exceptions are {', '.join(n for n in names if n not in all_in)}."
                  if len(all_in) < len(names) else "."))
    worst = d["median_pct"].idxmin()
    best = d["median_pct"].idxmax()
    out.append(f"Most deprived target area: {worst} (middle neighbourhood at the "
               f"{percentile(max(1.0, d.loc[worst, 'median_pct']))}); least deprived: {best} "
               f"({percentile(max(1.0, d.loc[best, 'median_pct']))}).")
    tops = {n: top_drivers(drv, n, 1)[0] for n in names}
    counts = pd.Series(tops).value_counts()
    out.append("The domain contributing most to each area's score: " + "; ".join(
        f"{domain_name(m)} in {v} area{'s' if v != 1 else ''}" for m, v in counts.items()) + ".")
    c = cen.set_index("category")
    if "social_rented" in c.index:
        high = [n for n in names if c.loc["social_rented", n] >= 0.4]
        out.append(f"{len(high)} of the {len(names)} areas have 40% or more of households in "
                   "social rented housing (Census 2021)" +
                   (f": {', '.join(high)}." if high else "."))
    return out
