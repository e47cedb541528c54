"""Monitoring table: each area's IoD 2019 and 2025 indicators placed among England's LSOAs.

Position = % of England's LSOAs less deprived than the area on that indicator (50 = England's
middle; higher = worse). Direction compares positions between releases (5-point threshold).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

#: Indicators published in 2019 that were replaced or split in 2025 (not compared).
REPLACED_2025: dict[str, str] = {
    "mood_and_anxiety_disorders_indicator": "replaced in 2025 by a broader mental health "
    "indicator",
    "household_overcrowding_indicator": "split in 2025 into rooms- and bedrooms-based measures",
    "road_distance_to_a_post_office_indicator_km": "road distances replaced in 2025 by a "
    "connectivity score",
    "road_distance_to_a_primary_school_indicator_km": "road distances replaced in 2025 by a "
    "connectivity score",
    "road_distance_to_general_store_or_supermarket_indicator_km": "road distances replaced in "
    "2025 by a connectivity score",
    "road_distance_to_a_gp_surgery_indicator_km": "road distances replaced in 2025 by a "
    "connectivity score",
}


#: Indicators whose name is the same in both releases but whose definition moved (compared
#: by position in England only, with this note).
CHANGED_SAME_NAME: dict[str, str] = {
    "income_score": "benefits counted changed (Universal Credit roll-out)",
    "employment_score": "benefits counted changed (Universal Credit roll-out)",
    "idaci_score": "benefits counted changed (Universal Credit roll-out)",
    "idaopi_score": "benefits counted changed (Universal Credit roll-out)",
    "adult_skills_and_english_language_proficiency_indicator": "Census 2011 in 2019, Census "
    "2021 in 2025",
}


#: Indicators measured for whole districts and spread to their LSOAs: shown, never flagged.
DISTRICT_LEVEL: frozenset[str] = frozenset({
    "homelessness_indicator_rate_per_1000_households",
    "core_homelessness_rate_percent_of_households",
})


#: Rate-type domain scores from iod_lsoa added to the monitoring table (proportions of people).
SCORE_MEASURES: tuple[str, ...] = ("income", "employment", "idaci", "idaopi")


#: A change in position of at least this many points of England's LSOAs counts as a movement.
DIRECTION_THRESHOLD = 5.0


def norm_indicator(name: str) -> str:
    return str(name).replace("per_1_000", "per_1000")


def indicator_polarity(values: pd.Series, imd_rank: pd.Series) -> int:
    """+1 when a higher value means more deprivation, -1 otherwise: +1 if the indicator's
    mean is higher in England's most deprived tenth of LSOAs (IMD rank) than in the least
    deprived tenth of the same release."""
    v = values.to_numpy(dtype=float)
    r = imd_rank.reindex(values.index).to_numpy(dtype=float)
    ok = ~np.isnan(v) & ~np.isnan(r)
    if ok.sum() < 20:
        return 1
    v, r = v[ok], r[ok]
    lo, hi = np.quantile(r, [0.1, 0.9])
    return 1 if v[r <= lo].mean() >= v[r >= hi].mean() else -1


def england_positions(indicators: pd.DataFrame, imd_rank: Mapping[int, pd.Series],
                      releases: Iterable[int] = (2019, 2025)) -> dict[int, dict[str, object]]:
    """What ``monitoring`` needs of England, whatever the areas: for each release, ``wide``
    (LSOA x indicator values, count indicators left out) and, per indicator, ``stats``
    (polarity, England's sorted values times the polarity, England's median)."""
    names = pd.Series(indicators["indicator"].unique())
    names = names[~names.str.endswith("_numerator")]
    out: dict[int, dict[str, object]] = {}
    for rel in releases:
        sub = indicators[(indicators["release"] == rel) & indicators["indicator"].isin(names)]
        wide = sub.pivot_table(index="lsoa_code", columns="indicator", values="value",
                               aggfunc="first")
        wide.index = pd.Index(wide.index.to_numpy(dtype=object))
        rank = imd_rank[rel].copy()
        rank.index = pd.Index(rank.index.to_numpy(dtype=object))
        rank = rank[~rank.index.duplicated()].reindex(wide.index)
        polarity = {str(name): indicator_polarity(wide[name], rank) for name in wide.columns}
        out[rel] = england_stats(wide, polarity)
    return out


def england_stats(wide: pd.DataFrame, polarity: Mapping[str, int]) -> dict[str, object]:
    """One release of ``england_positions`` from its ``wide`` table (LSOA x indicator) and
    each indicator's polarity: ``{"wide": wide, "stats": {indicator: (polarity, England's
    sorted values times the polarity, England's median)}}``."""
    stats = {}
    for name in wide.columns:
        pol = int(polarity[str(name)])
        clean = wide[name].dropna().to_numpy(dtype=float)
        stats[name] = (pol, np.sort(clean * pol), float(np.median(clean)))
    return {"wide": wide, "stats": stats}


def monitoring(indicators: pd.DataFrame | None, members: Mapping[int, pd.DataFrame],
               imd_rank: Mapping[int, pd.Series] | None, first: int = 2019,
               last: int = 2025, england: Mapping[int, Mapping[str, object]] | None = None
               ) -> pd.DataFrame:
    """Per area and indicator: value and England position in ``first`` and ``last``.

    ``indicators``: long (release, lsoa_code, indicator, value), each release on its own
    LSOA vintage. ``members``: release -> areas.members(...) frame at that release's
    vintage (slug, name, lsoa_code, weight). The area value is the member-weighted mean
    of its LSOAs; ``position`` = % of England's LSOAs less deprived than that value (50 =
    England's middle LSOA, higher = worse). Direction compares positions (not raw values,
    whose scales differ between releases): worsening if the position rose by at least
    ``DIRECTION_THRESHOLD`` points. ``red_red`` = worse than England's middle LSOA in
    ``last`` and worsening. Count indicators (numerators) are left out. ``england``:
    ``england_positions(indicators, imd_rank, (first, last))`` when already computed (the
    same for every areas file); then ``indicators`` and ``imd_rank`` are not read.
    """
    if england is None:
        england = england_positions(indicators, imd_rank, (first, last))
    per_release: dict[int, pd.DataFrame] = {}
    for rel in (first, last):
        wide, stats = england[rel]["wide"], england[rel]["stats"]
        mem = members[rel]
        # each area's members' rows in ``wide`` found once, not once an indicator (-1: none)
        at = [(slug, wide.index.get_indexer(pd.Index(m["lsoa_code"].to_numpy(dtype=object))),
               m["weight"].to_numpy(dtype=float)) for slug, m in mem.groupby("slug")]
        rows = []
        for name in wide.columns:
            vals = wide[name].to_numpy(dtype=float)
            pol, sorted_vals, median = stats[name]
            key = norm_indicator(name)
            for slug, pos, w in at:
                v = np.where(pos >= 0, vals[pos], np.nan)
                ok = ~np.isnan(v)
                if not ok.any():
                    continue
                val = float(np.average(v[ok], weights=w[ok]))
                below = np.searchsorted(sorted_vals, val * pol, side="left")
                ties = np.searchsorted(sorted_vals, val * pol, side="right") - below
                rows.append({"slug": slug, "key": key, "indicator": name,
                             "value": val, "england_median": median,
                             "position": 100.0 * (below + 0.5 * ties) / len(sorted_vals),
                             "worse": (val - median) * pol > 0, "polarity": pol})
        per_release[rel] = pd.DataFrame(rows)
    a, b = per_release[first], per_release[last]
    out = a.merge(b, on=["slug", "key"], how="outer", suffixes=(f"_{first}", f"_{last}"))
    out["indicator"] = out[f"indicator_{last}"].fillna(out[f"indicator_{first}"])
    both = out[f"value_{first}"].notna() & out[f"value_{last}"].notna()
    out["comparable"] = both
    shift = out[f"position_{last}"] - out[f"position_{first}"]
    out["direction"] = np.select(
        [~both, shift >= DIRECTION_THRESHOLD, shift <= -DIRECTION_THRESHOLD],
        ["not comparable", "worsening", "improving"], "little change")
    out["worse_than_england"] = (out[f"worse_{last}"].fillna(out[f"worse_{first}"]).astype(bool)
                                 & ~out["key"].isin(DISTRICT_LEVEL))
    out["red_red"] = both & out[f"worse_{last}"].fillna(False).astype(bool) & (
        out["direction"] == "worsening") & ~out["key"].isin(DISTRICT_LEVEL)

    def note(row) -> str:
        k = row["key"]
        if k in REPLACED_2025:
            return REPLACED_2025[k]
        if k in DISTRICT_LEVEL:
            return "a district-wide figure spread to every LSOA: says nothing about the area"
        if k in CHANGED_SAME_NAME:
            return CHANGED_SAME_NAME[k]
        if not row["comparable"]:
            return f"only published in {last if pd.isna(row[f'value_{first}']) else first}"
        return ""

    out["note"] = out.apply(note, axis=1) if len(out) else pd.Series(dtype=str)
    keep = ["slug", "indicator", f"value_{first}", f"position_{first}", f"value_{last}",
            f"position_{last}", f"england_median_{last}", "comparable", "direction",
            "worse_than_england", "red_red", "note"]
    return out[keep].sort_values(["slug", "comparable", "indicator"],
                                 ascending=[True, False, True]).reset_index(drop=True)


#: IoD 2019 numerators and the File 6 (mid-2015) denominators that make the domain rates.
RATE_DENOMINATORS: dict[str, tuple[str, str]] = {
    "income": ("income_domain_numerator", "population"),
    "employment": ("employment_domain_numerator", "working_age"),
    "idaci": ("income_deprivation_affecting_children_index_idaci_numerator", "children_0_15"),
    "idaopi": ("income_deprivation_affecting_older_people_index_idaopi_numerator",
               "older_60_plus"),
}


def rate_indicators(ind: pd.DataFrame, iod: pd.DataFrame,
                    pop: pd.DataFrame | None = None) -> pd.DataFrame:
    """Income, employment, IDACI and IDAOPI rates (share of people) as ``<measure>_score``.

    2025: the published domain scores. 2019: numerator / the IoD 2019 denominator (File 6,
    mid-2015 populations: ``pop``, rows of ``lsoa_population.parquet``), since the 2019 LSOA
    table carries ranks but no scores. Empty when the inputs are missing.
    """
    frames = []
    s25 = iod[(iod["release"] == 2025) & iod["measure"].isin(SCORE_MEASURES) & iod["score"].notna()]
    if len(s25):
        frames.append(pd.DataFrame({"release": 2025, "lsoa_code": s25["lsoa_code"],
                                    "lsoa_vintage": s25["lsoa_vintage"],
                                    "indicator": s25["measure"] + "_score",
                                    "value": s25["score"]}))
    if pop is not None:
        pop = pop[(pop["lsoa_vintage"] == 2011) & (pop["year"] == 2015)].set_index("lsoa_code")
        i19 = ind[ind["release"] == 2019]
        for measure, (num, den) in RATE_DENOMINATORS.items():
            if den not in pop.columns or pop.empty:
                continue
            n = i19[i19["indicator"] == num].set_index("lsoa_code")["value"]
            n = n[~n.index.duplicated()].reindex(pop.index)
            d = pop[den]
            # the published file leaves small numerators blank (fewer than 5 people):
            # counted as 0 here, which only matters for England's least deprived LSOAs
            rate = (n.fillna(0.0) / d.where(d > 0)).dropna()
            frames.append(pd.DataFrame({"release": 2019, "lsoa_code": rate.index,
                                        "lsoa_vintage": 2011, "indicator": f"{measure}_score",
                                        "value": rate.to_numpy()}))
    cols = ["release", "lsoa_code", "lsoa_vintage", "indicator", "value"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
