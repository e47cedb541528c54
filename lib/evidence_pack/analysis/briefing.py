"""The Chief Executive Group briefing: the target areas side by side, where each partner's
field shows most strongly (areas x partners), and a stated rule for which areas need a
sustained, long-term partnership approach.

Everything here is computed from results the pack already has (evaluation, risk, profile
and spend outputs); sentences are written in ``findings.briefing``.

Positions are England percentiles, 0 = most deprived, 100 = least deprived. Money is GBP.
Partner spend, when given, is a DataFrame[area_slug, partner, gbp, gbp_per_head, gbp_low,
gbp_high, source] (``analysis.partner_spend.modelled_partner_spend``; "rest" and
"district" rows are ignored here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evidence_pack.analysis.profile import weighted_median
from evidence_pack.analysis.trends import DOMAINS

#: Percentile cut-offs (0 = most deprived) for how strongly a partner's field shows.
STRENGTH_LEVELS: tuple[tuple[float, str], ...] = (
    (10.0, "very strong"), (20.0, "strong"), (50.0, "some"), (100.0, "little"))


@dataclass(frozen=True)
class Partner:
    """A partner at the table, the evidence of its field and its name in partner spend."""

    name: str
    measures: tuple[str, ...]  # positions used; the most deprived of them counts
    evidence: str              # the evidence in words
    spend_partner: str | None  # the partner's name in modelled partner spend (None: none)


PARTNERS: tuple[Partner, ...] = (
    Partner("Police", ("crime",), "crime domain", "Police"),
    Partner("NHS and public health", ("health",), "health and disability domain",
            "NHS and public health"),
    Partner("DWP and Jobcentre Plus", ("employment", "income"),
            "employment and income domains", "DWP and HMRC"),
    Partner("Schools and education", ("education",), "education, skills and training domain",
            "Schools and education"),
    Partner("Housing providers", ("barriers", "living_environment"),
            "barriers to housing and living environment domains", "Housing"),
    Partner("The council", ("imd",), "overall deprivation (all seven domains)", "Council"),
    Partner("Voluntary sector", ("community_need",),
            "Community Needs Index (civic assets, connectedness, engagement)", None),
)
PARTNER_NAMES: tuple[str, ...] = tuple(p.name for p in PARTNERS)


def strength(pct: float) -> str:
    """Words for how strongly a field shows at an England percentile (0 = most deprived)."""
    if pct is None or not np.isfinite(pct):
        return "no data"
    for cut, word in STRENGTH_LEVELS:
        if pct < cut:
            return word
    return STRENGTH_LEVELS[-1][1]


# --------------------------------------------------------------------------- positions


def domain_positions(domain_table: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Long DataFrame[slug, measure, pct] from ``profile.domain_table`` (rows keyed by area
    name; ``median_pct`` = weighted median England percentile, the pack's statistic for an
    area's position). ``names``: slug -> name. Rows of sets that are not areas (the
    district, England) are dropped."""
    by_name = {v: k for k, v in names.items()}
    d = domain_table[domain_table["area"].isin(by_name)]
    col = "median_pct" if "median_pct" in d.columns else "mean_pct"
    return pd.DataFrame({"slug": d["area"].map(by_name).to_numpy(),
                         "measure": d["measure"].to_numpy(),
                         "pct": d[col].to_numpy(float)})


def community_need_positions(cni: pd.DataFrame, members: pd.DataFrame,
                             n_england: int | None = None) -> pd.DataFrame:
    """Community Needs Index 2023 as England percentiles (0 = highest community need): the
    member-weighted median of 100 x rank / n. ``cni``: lsoa_code, cni_rank (2021 LSOAs);
    ``members``: slug, lsoa_code, weight (2021). Returns DataFrame[slug, measure, pct]."""
    n = n_england or len(cni)
    m = members.merge(cni[["lsoa_code", "cni_rank"]], on="lsoa_code", how="inner")
    rows = [{"slug": slug, "measure": "community_need",
             "pct": weighted_median(100.0 * g["cni_rank"].to_numpy(float) / n,
                                    g["weight"].to_numpy(float))}
            for slug, g in m.groupby("slug", sort=False)]
    return pd.DataFrame(rows, columns=["slug", "measure", "pct"])


# --------------------------------------------------------------------------- matrix


def influence_matrix(positions: pd.DataFrame, slugs: Sequence[str],
                     partner_spend: pd.DataFrame | None = None,
                     council_per_head: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Areas x partners, long: slug, partner, evidence, pct (the most deprived of the
    partner's measures), strength, gbp, gbp_per_head, spend_source.

    Spend comes from ``partner_spend`` (by the partner's spend name) when given; otherwise
    the council's own modelled spend per head (``council_per_head``, by slug) fills the
    council's cells and the other partners' spend is missing (NaN).
    """
    pos = positions.pivot_table(index="slug", columns="measure", values="pct", aggfunc="first")
    spend = None
    if partner_spend is not None and len(partner_spend):
        spend = partner_spend.set_index(["area_slug", "partner"])
    rows = []
    for slug in slugs:
        for p in PARTNERS:
            vals = [pos.at[slug, m] for m in p.measures
                    if slug in pos.index and m in pos.columns and pd.notna(pos.at[slug, m])]
            pct = float(min(vals)) if vals else np.nan
            gbp = per_head = np.nan
            source = ""
            if spend is not None and p.spend_partner and (slug, p.spend_partner) in spend.index:
                s = spend.loc[(slug, p.spend_partner)]
                gbp, per_head, source = float(s["gbp"]), float(s["gbp_per_head"]), str(s["source"])
            elif spend is None and p.spend_partner == "Council" and council_per_head:
                per_head, source = float(council_per_head.get(slug, np.nan)), "council only"
            rows.append({"slug": slug, "partner": p.name, "evidence": p.evidence, "pct": pct,
                         "strength": strength(pct), "gbp": gbp, "gbp_per_head": per_head,
                         "spend_source": source})
    return pd.DataFrame(rows)


def partner_reach(matrix: pd.DataFrame) -> pd.DataFrame:
    """Per partner: areas where its field shows very strongly / strongly, and the median
    percentile; sorted so the partner needed at most tables comes first."""
    g = matrix.groupby("partner", sort=False)
    out = pd.DataFrame({
        "very_strong": g["strength"].apply(lambda s: int((s == "very strong").sum())),
        "strong_or_more": g["strength"].apply(lambda s: int(s.isin(["very strong",
                                                                    "strong"]).sum())),
        "median_pct": g["pct"].median(),
        "areas": g.size(),
    })
    return out.sort_values(["very_strong", "median_pct"], ascending=[False, True]).reset_index()


def total_spend_per_head(matrix: pd.DataFrame, partner_spend: pd.DataFrame | None = None
                         ) -> pd.Series:
    """Modelled public spend per head (GBP) by slug: with ``partner_spend``, the sum over all
    its partners (those without a column in the matrix, such as fire, included); otherwise
    the sum of the matrix's spend cells (NaN when no partner has a figure)."""
    if partner_spend is not None and len(partner_spend):
        slugs = list(dict.fromkeys(matrix["slug"]))
        sub = partner_spend[partner_spend["area_slug"].isin(slugs)]
        return sub.groupby("area_slug")["gbp_per_head"].sum().reindex(slugs)
    return matrix.groupby("slug", sort=False)["gbp_per_head"].sum(min_count=1)


def residents_by_slug(population: pd.DataFrame, names: Mapping[str, str]) -> dict[str, float]:
    """Residents by area slug from ``profile.population`` (rows keyed by area name)."""
    by_name = population.set_index("area")["residents"]
    return {slug: float(by_name.get(name, np.nan)) for slug, name in names.items()}


def council_spend_summary(first: pd.DataFrame, last: pd.DataFrame, rest: str,
                          first_year: str, last_year: str) -> dict[str, object]:
    """The council's modelled spend in the target areas together and in the rest of the
    district, from two ``spend.baseline(...).areas`` tables (slug, spend_gbp, population,
    spend_per_head_gbp; GBP): year, targets_gbp, targets_per_head, rest_per_head (``last``),
    baseline_year, baseline_targets_gbp (``first``)."""
    a, b = first.set_index("slug"), last.set_index("slug")
    targets = b.drop(rest)
    return {"year": last_year, "targets_gbp": float(targets["spend_gbp"].sum()),
            "targets_per_head": float(targets["spend_gbp"].sum() / targets["population"].sum()),
            "rest_per_head": float(b.at[rest, "spend_per_head_gbp"]),
            "baseline_year": first_year,
            "baseline_targets_gbp": float(a.drop(rest)["spend_gbp"].sum())}


# --------------------------------------------------------------------------- areas


def area_table(area_set, did: pd.DataFrame, trajectories: pd.DataFrame,
               risk_areas: pd.DataFrame, positions: pd.DataFrame, residents: Mapping[str, float],
               spend_per_head: Mapping[str, float], lsoa_ranks: pd.DataFrame,
               base: int = 2010, latest: int = 2025, n_worst: int = 2) -> pd.DataFrame:
    """One row per area, ranked by need (most deprived average position in ``latest`` first).

    Inputs: evaluation ``did`` and ``trajectories`` (2001 LSOAs, all releases carried back),
    ``risk_areas`` (``risk.score_areas(...)["areas"]``: slug, lsoas, in_cohort, predicted,
    expected_improving, observed_improving), ``positions`` (slug, measure, pct for
    ``latest``), ``residents`` and ``spend_per_head`` by slug, ``lsoa_ranks`` (slug,
    lsoa_code, rank: each member LSOA's England rank in ``latest``).
    Columns: need_rank, slug, name, lsoas, residents, pct_base, pct_latest, did, did_low,
    did_high, predicted, expected_improving, observed_improving, best_rank (most deprived
    member's England rank), worst_domains (list), domains_decile1, spend_per_head,
    cabinet_member, slt_lead.
    """
    d = did[(did["measure"] == "imd") & (did["release"] == latest)
            & ~did["group"].isin(["all", "all_outside_region"])].set_index("group")
    t = trajectories[trajectories["measure"] == "imd"].pivot_table(
        index="group", columns="release", values="mean_pct", aggfunc="first")
    r = risk_areas.set_index("slug")
    pos = positions[positions["measure"].isin(DOMAINS)]
    best = lsoa_ranks.groupby("slug")["rank"].min()
    rows = []
    for a in area_set.areas:
        p = pos[pos["slug"] == a.slug].sort_values("pct")
        rows.append({
            "slug": a.slug, "name": a.name,
            "lsoas": int(r.at[a.slug, "lsoas"]) if a.slug in r.index else len(a.lsoas),
            "residents": float(residents.get(a.slug, np.nan)),
            "pct_base": float(t.at[a.slug, base]) if a.slug in t.index else np.nan,
            "pct_latest": float(t.at[a.slug, latest]) if a.slug in t.index else np.nan,
            "did": float(d.at[a.slug, "estimate"]) if a.slug in d.index else np.nan,
            "did_low": float(d.at[a.slug, "ci_low"]) if a.slug in d.index else np.nan,
            "did_high": float(d.at[a.slug, "ci_high"]) if a.slug in d.index else np.nan,
            "predicted": float(r.at[a.slug, "predicted"]) if a.slug in r.index else np.nan,
            "expected_improving": float(r.at[a.slug, "expected_improving"])
            if a.slug in r.index else np.nan,
            "observed_improving": float(r.at[a.slug, "observed_improving"])
            if a.slug in r.index else np.nan,
            "best_rank": int(best[a.slug]) if a.slug in best.index else None,
            "worst_domains": list(p["measure"].head(n_worst)),
            "domains_decile1": int((p["pct"] < 10).sum()),
            "spend_per_head": float(spend_per_head.get(a.slug, np.nan)),
            "cabinet_member": a.cabinet_member, "slt_lead": a.slt_lead,
        })
    out = pd.DataFrame(rows).sort_values(["pct_latest", "name"], na_position="last")
    out.insert(0, "need_rank", range(1, len(out) + 1))
    return out.reset_index(drop=True)


def member_ranks(members: pd.DataFrame, iod: pd.DataFrame) -> pd.DataFrame:
    """Each member LSOA's England rank (slug, lsoa_code, rank) from IoD rows (lsoa_code,
    rank) of one release and measure on the members' LSOA vintage."""
    ranks = iod.drop_duplicates("lsoa_code").set_index("lsoa_code")["rank"]
    m = members[members["lsoa_code"].isin(ranks.index)]
    return pd.DataFrame({"slug": m["slug"].to_numpy(), "lsoa_code": m["lsoa_code"].to_numpy(),
                         "rank": m["lsoa_code"].map(ranks).astype(int).to_numpy()})


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class SustainedRule:
    """The stated rule for resolution 2. An area needs a sustained, long-term partnership
    approach when it meets at least ``needed`` of three tests:

    1. persistent: its average position has been in England's most deprived
       ``persistent_pct``% in every release since ``since``;
    2. low chance: its predicted chance of leaving the most deprived 10% is below
       ``chance_factor`` x England's observed share (the cohort average);
    3. deep: at least ``min_domains`` of the seven domains in England's most deprived 10%.
    """

    persistent_pct: float = 10.0
    since: int = 2004
    chance_factor: float = 1.0
    min_domains: int = 3
    needed: int = 2


def apply_rule(table: pd.DataFrame, trajectories: pd.DataFrame, england_share: float,
               rule: SustainedRule = SustainedRule()) -> pd.DataFrame:
    """The rule applied to every area of ``area_table``: slug, name, persistent,
    releases_in (releases since ``rule.since`` with the average position inside the cut-off),
    releases, low_chance, predicted, deep, domains_decile1, tests_met, sustained."""
    t = trajectories[(trajectories["measure"] == "imd")
                     & (trajectories["release"] >= rule.since)]
    rows = []
    for r in table.itertuples():
        tr = t[t["group"] == r.slug]
        inside = int((tr["mean_pct"] < rule.persistent_pct).sum())
        persistent = bool(len(tr)) and inside == len(tr)
        low = bool(np.isfinite(r.predicted) and r.predicted < rule.chance_factor * england_share)
        deep = int(r.domains_decile1) >= rule.min_domains
        met = int(persistent) + int(low) + int(deep)
        rows.append({"slug": r.slug, "name": r.name, "persistent": persistent,
                     "releases_in": inside, "releases": len(tr), "low_chance": low,
                     "predicted": r.predicted, "deep": deep,
                     "domains_decile1": int(r.domains_decile1), "tests_met": met,
                     "sustained": met >= rule.needed})
    return pd.DataFrame(rows)
