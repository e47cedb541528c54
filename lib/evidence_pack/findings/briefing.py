"""Sentences and reader tables of the Chief Executive Group briefing, every figure taken from
the results of ``analysis.briefing`` and the other stages (no hand-written numbers).

Positions: England percentiles, 0 = most deprived. Money: ``findings.format`` house style.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from evidence_pack.analysis.briefing import SustainedRule
from evidence_pack.findings import format as fmt

NOT_ASSIGNED = "not yet assigned"

#: Domains in words for sentences and table cells.
DOMAIN_WORDS: dict[str, str] = {
    "income": "income", "employment": "employment", "education": "education and skills",
    "health": "health and disability", "crime": "crime",
    "barriers": "barriers to housing and services", "living_environment": "living environment",
}

#: Shorter words for table cells.
SHORT_DOMAIN_WORDS: dict[str, str] = {
    **DOMAIN_WORDS, "education": "education", "health": "health",
    "barriers": "access to housing and services",
}

#: The six things the decision asked for, in the order of the decision (generic wording;
#: an areas file's ``reference`` block may carry the council's own text as ``resolutions``).
RESOLUTIONS: tuple[str, ...] = (
    "Approve the targeted approach",
    "Assess which areas need a sustained, long-term partnership approach",
    "Assign a Cabinet Member and a senior lead officer to each area",
    "Consider a targeted rather than district-wide allocation of resources",
    "Baseline total spend in each area, including partner contributions",
    "Report to chief executives where partners can influence services",
)


def lead(name: str | None) -> str:
    """A Cabinet Member or lead officer as recorded, or "not yet assigned" when blank."""
    return name.strip() if name and name.strip() else NOT_ASSIGNED


def _finite(x: Any) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def interval(est: float, low: float, high: float) -> str:
    """"-2.9 (-5.1 to -1.2)": a change in percentile points with its 95% interval."""
    if not _finite(est):
        return "n/a"
    return f"{fmt.signed(est)} ({fmt.signed(low)} to {fmt.signed(high)})"


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{fmt.number(n)} {one if n == 1 else (many or one + 's')}"


def _names(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- reader tables


def leads(cabinet_member: str | None, slt_lead: str | None) -> str:
    """Both leads in one cell: "A. Member; B. Officer", "not yet assigned" when both blank."""
    if not (cabinet_member or "").strip() and not (slt_lead or "").strip():
        return NOT_ASSIGNED
    return f"{lead(cabinet_member)}; {lead(slt_lead)}"


def any_leads(table: pd.DataFrame) -> bool:
    """Whether any area has a Cabinet Member or lead officer recorded."""
    return bool((table["cabinet_member"].str.strip() + table["slt_lead"].str.strip()).ne("").any())


def leads_sentence(table: pd.DataFrame) -> str:
    """One line when no area has a lead recorded (the table then leaves the column out)."""
    return (f"Cabinet Member and lead officer: {NOT_ASSIGNED} for any of the "
            f"{fmt.number(len(table))} areas.")


def area_view(table: pd.DataFrame, spend_label: str, base: int = 2010, latest: int = 2025
              ) -> pd.DataFrame:
    """Section 2: the areas ranked by need (reader columns, formatted text). The leads
    column is left out when no area has a lead recorded (see ``leads_sentence``)."""
    out = pd.DataFrame({
        "Area": table["name"],
        "LSOAs": table["lsoas"].astype(int),
        "Residents": table["residents"].round().astype("Int64"),
        f"Position {base} \u2192 {latest}": [
            f"{fmt.number(a, 1)} \u2192 {fmt.number(b, 1)}"
            for a, b in zip(table["pct_base"], table["pct_latest"], strict=True)],
        "Change against comparators (95% interval)": [
            interval(e, lo, hi) for e, lo, hi in zip(table["did"], table["did_low"],
                                                     table["did_high"], strict=True)],
        "Chance of improving": table["predicted"].map(fmt.percent),
        "Worst domains": table["worst_domains"].map(
            lambda ms: ", ".join(SHORT_DOMAIN_WORDS.get(m, m) for m in ms)),
        spend_label: table["spend_per_head"].map(lambda v: fmt.money(v, per_head=True)
                                                 if _finite(v) else "not yet modelled"),
    })
    if any_leads(table):
        out["Cabinet Member; lead officer"] = [leads(c, o) for c, o in zip(
            table["cabinet_member"], table["slt_lead"], strict=True)]
    return out


def reach_sentence(reach: pd.DataFrame) -> str:
    """In how many areas each partner's field shows very strongly, in one sentence."""
    n = int(reach["areas"].max())
    return (f"Of the {fmt.number(n)} areas, the field shows very strongly in: "
            + "; ".join(f"{partner_words(r.partner)} {fmt.number(r.very_strong)}"
                        for r in reach.itertuples()) + ".")


def reach_view(reach: pd.DataFrame, matrix: pd.DataFrame) -> pd.DataFrame:
    """Per partner: its evidence, the areas where its field shows very strongly or strongly,
    and its modelled spend a head across the areas (where the pack has it)."""
    per_head = matrix.groupby("partner")["gbp_per_head"].median()
    return pd.DataFrame({
        "Partner": reach["partner"],
        "Areas where very strong": reach["very_strong"].astype(int),
        "Strong or very strong": reach["strong_or_more"].astype(int),
        "Median area position": reach["median_pct"].map(lambda v: fmt.number(v, 1)),
        "Spend a head (median area)": reach["partner"].map(
            lambda p: fmt.money(per_head.get(p), per_head=True) if _finite(per_head.get(p))
            else "not yet modelled"),
    })


def rule_view(ruled: pd.DataFrame, rule: SustainedRule) -> pd.DataFrame:
    """Section 4: each area's result on each test of the rule (tests numbered as in
    ``rule_text``: 1 persistent, 2 low chance, 3 several domains)."""
    yes = {True: "yes", False: "no"}
    return pd.DataFrame({
        "Area": ruled["name"],
        "1. Persistent": [f"{yes[p]}: {i} of {n}" for p, i, n in
                          zip(ruled["persistent"], ruled["releases_in"], ruled["releases"],
                              strict=True)],
        "2. Low chance": [f"{yes[low]}: {fmt.percent(p)}" for low, p in
                          zip(ruled["low_chance"], ruled["predicted"], strict=True)],
        "3. Domains": [f"{yes[d]}: {n} of 7" for d, n in
                       zip(ruled["deep"], ruled["domains_decile1"], strict=True)],
        "Sustained approach": [("needed" if s else "not needed") + f" ({m} of 3)" for s, m in
                               zip(ruled["sustained"], ruled["tests_met"], strict=True)],
    })


# --------------------------------------------------------------------------- sentences


def rule_text(rule: SustainedRule, england_share: float, latest: int = 2025) -> str:
    """The rule in words, with its thresholds."""
    return (f"An area needs a sustained, long-term partnership approach when it meets at least "
            f"{rule.needed} of these 3 tests: (1) its average position has been in England's "
            f"most deprived {fmt.number(rule.persistent_pct)}% in every release since "
            f"{rule.since}; (2) the England-wide model gives it a lower chance of leaving the "
            f"most deprived 10% than "
            + ("" if rule.chance_factor == 1 else f"{fmt.number(rule.chance_factor, 2)} times ")
            + f"the share of England's most deprived neighbourhoods that did leave "
            f"({fmt.percent(england_share)}); (3) at least {rule.min_domains} of the seven "
            f"domains of deprivation are in England's most deprived 10% on the IMD {latest}.")


def rule_finding(ruled: pd.DataFrame) -> str:
    """How many areas the rule marks, and which ones when not all."""
    n, k = len(ruled), int(ruled["sustained"].sum())
    text = f"On this rule {fmt.number(k)} of the {fmt.number(n)} areas need a sustained, " \
           "long-term partnership approach"
    if 0 < k < n:
        text += ": " + _names(list(ruled.loc[ruled["sustained"], "name"]))
    return text + "."


def district_sentence(la_name: str, ranks: pd.DataFrame, counts: pd.DataFrame,
                      base: int = 2010, latest: int = 2025, reference: Any = None) -> str:
    """How the district moved: its rank among districts and its neighbourhoods in England's
    most deprived 10%, ``base`` and ``latest``. ``ranks``: release, rank_average_score,
    n_districts; ``counts``: release, lsoas, decile1. A reference block with
    ``district_ranks`` adds what the decision paper said."""
    r = ranks.set_index("release")
    c = counts.set_index("release")
    notes = []
    if base in r.index and pd.notna(r.at[base, "rank_average_score"]):
        notes.append(f"{fmt.rank(r.at[base, 'rank_average_score'], r.at[base, 'n_districts'])} "
                     f"in {base}")
    quoted = dict(getattr(reference, "district_ranks", None) or {})
    differ = [(y, int(k)) for y, k in sorted(quoted.items()) if y in r.index
              and pd.notna(r.at[y, "rank_average_score"])
              and int(k) != int(r.at[y, "rank_average_score"])]
    if differ:
        notes.append(f"{cited(reference)} gave "
                     + _names([f"{fmt.ordinal(k)} for {y}" for y, k in differ])
                     + ", the data "
                     + _names([fmt.ordinal(r.at[y, "rank_average_score"]) for y, _ in differ])
                     + ": the pack recomputes ranks with later population weights")
    return (f"{la_name} is the {fmt.ordinal(r.at[latest, 'rank_average_score'])} most deprived "
            f"of {fmt.number(r.at[latest, 'n_districts'])} districts on the IMD {latest}"
            + (f" ({'; '.join(notes)})" if notes else "")
            + f", and {fmt.number(c.at[latest, 'decile1'])} of its "
            f"{fmt.number(c.at[latest, 'lsoas'])} neighbourhoods are in England's most "
            f"deprived 10% against {fmt.number(c.at[base, 'decile1'])} of "
            f"{fmt.number(c.at[base, 'lsoas'])} in {base}.")


def cited(reference: Any) -> str:
    """How a sentence names the areas file's reference document: its own ``label`` where it
    has one ("the report to Cabinet of 9 November 2011"), else its title and date."""
    label = getattr(reference, "label", None)
    if isinstance(label, str) and label.strip():
        return label.strip()
    title = str(getattr(reference, "title", "") or "").strip() or "the decision paper"
    when = getattr(reference, "date", None)
    if hasattr(when, "strftime"):
        return f"{title} ({when.day} {when:%B %Y})"
    return f"{title} ({when})" if when else title


def targets_sentence(counts: pd.DataFrame, risk_areas: pd.DataFrame, ranks: pd.DataFrame,
                     n_england: int, base: int = 2010, latest: int = 2025, top: int = 100
                     ) -> str:
    """Whether any target neighbourhood has left England's most deprived 10%, against what
    the England-wide model expected, and how many are now among England's ``top`` most
    deprived. ``counts``: release, target_lsoas, target_lsoas_decile1; ``ranks``: slug,
    lsoa_code, rank (``latest``)."""
    c = counts.set_index("release")
    n = int(round(risk_areas["in_cohort"].sum()))
    left = int(round(risk_areas["observed_improving"].sum()))
    expected = float(risk_areas["expected_improving"].sum())
    still, n_latest = int(c.at[latest, "target_lsoas_decile1"]), int(c.at[latest, "target_lsoas"])
    head = ("None" if left == 0 else fmt.number(left)) + f" of the {fmt.number(n)} target " \
        f"neighbourhoods in England's most deprived 10% in {base} " \
        f"{'has' if left in (0, 1) else 'have'} left it by the IMD {latest}, where the " \
        f"England-wide model expected about {fmt.number(expected, 1)} to leave"
    if still != n - left or n_latest != n:
        head += (f" ({fmt.number(still)} of {fmt.number(n_latest)} are in it on the {latest} "
                 "boundaries)")
    worst = sorted(int(x) for x in ranks["rank"] if x <= top)
    if worst:
        head += (f"; {fmt.number(len(worst))} {'is' if len(worst) == 1 else 'are'} now among "
                 f"the {fmt.number(top)} most deprived of England's {fmt.number(n_england)} "
                 "neighbourhoods (" + _names([fmt.ordinal(x) for x in worst]) + ")")
    return head + "."


def association_sentence(did_all: Mapping[str, float], context: Mapping[str, float] | None,
                         la_name: str, latest: int = 2025) -> str:
    """Whether targeting is associated with improvement, with its honest limits.
    ``did_all``: estimate, ci_low, ci_high (all areas); ``context``: change, n_lsoas of the
    district's other most deprived neighbourhoods (not targeted)."""
    e, lo, hi = did_all["estimate"], did_all["ci_low"], did_all["ci_high"]
    if hi < 0:
        text = (f"Against matched, similar neighbourhoods elsewhere in England they fell "
                f"{fmt.number(abs(e), 1)} percentile points further behind by {latest} "
                f"(95% interval {fmt.number(abs(hi), 1)} to {fmt.number(abs(lo), 1)})")
    elif lo > 0:
        text = (f"Against matched, similar neighbourhoods elsewhere in England they gained "
                f"{fmt.number(e, 1)} percentile points more by {latest} "
                f"(95% interval {fmt.number(lo, 1)} to {fmt.number(hi, 1)})")
    else:
        text = (f"Against matched, similar neighbourhoods elsewhere in England they moved no "
                f"clearly differently by {latest} ({fmt.signed(e)} percentile points, 95% "
                f"interval {fmt.signed(lo)} to {fmt.signed(hi)})")
    if context is not None and context.get("n_lsoas"):
        word = "fell too" if context["change"] < 0 else "moved"
        text += (f"; {la_name}'s {fmt.number(context['n_lsoas'])} other most deprived "
                 f"neighbourhoods, not targeted, {word} ({fmt.signed(context['change'])} points)")
    return (text + ". The areas were chosen because they were the worst and no record shows "
            "what was redirected to them, so this describes what happened, not the effect of "
            "targeting.")


def next_sentence(ruled: pd.DataFrame, reach: pd.DataFrame, partner_spend_known: bool) -> str:
    """What the evidence says to do next: the rule's count and the partners most needed."""
    n, k = len(ruled), int(ruled["sustained"].sum())
    most = int(reach["very_strong"].max())
    top = [partner_words(p) for p in reach.loc[reach["very_strong"] == most, "partner"]]
    where = f"all {fmt.number(n)} areas" if most == n else f"{fmt.number(most)} of {fmt.number(n)} areas"
    text = (f"On the stated rule {fmt.number(k)} of the {fmt.number(n)} areas need a sustained, "
            f"long-term partnership approach; the evidence puts "
            + (f"{fmt.number(len(top))} partners" if len(top) > 1 else "one partner")
            + f" at the table in {where} (" + "; ".join(top) + ")")
    if not partner_spend_known:
        text += ", and partners' spend in the areas is not yet known"
    return text + "."


def partner_words(name: str) -> str:
    """A partner's name inside a sentence: "the council", "schools and education", "NHS..."."""
    text = fmt.lower_first(name)
    return "the voluntary sector" if text == "voluntary sector" else text


def headline(la_name: str, ranks: pd.DataFrame, counts: pd.DataFrame,
             risk_areas: pd.DataFrame, lsoa_ranks: pd.DataFrame, n_england: int,
             did_all: Mapping[str, float], context: Mapping[str, float] | None,
             ruled: pd.DataFrame, reach: pd.DataFrame, partner_spend_known: bool,
             base: int = 2010, latest: int = 2025, reference: Any = None) -> list[str]:
    """The answer first: four sentences a chief executive would repeat."""
    return [district_sentence(la_name, ranks, counts, base, latest, reference),
            targets_sentence(counts, risk_areas, lsoa_ranks, n_england, base, latest),
            association_sentence(did_all, context, la_name, latest),
            next_sentence(ruled, reach, partner_spend_known)]


# --------------------------------------------------------------------------- resolutions


def resolutions(table: pd.DataFrame, ruled: pd.DataFrame, reach: pd.DataFrame,
                spend: Mapping[str, Any], partner_spend_known: bool,
                reference: Any = None, latest: int = 2025) -> pd.DataFrame:
    """The decision's six resolutions, one line each: what the pack shows, what is missing.

    ``spend``: year, targets_gbp (council spend in the areas), targets_per_head,
    rest_per_head (modelled, that year), baseline_year, baseline_targets_gbp.
    """
    raw = getattr(reference, "raw", None) or {}
    titles = list(raw.get("resolutions") or RESOLUTIONS)
    if len(titles) != len(RESOLUTIONS):
        titles = list(RESOLUTIONS)
    n = len(table)
    worse = int((table["did_high"] < 0).sum())
    better = int((table["did_low"] > 0).sum())
    cm = int(table["cabinet_member"].map(lambda s: bool(str(s).strip())).sum())
    lo = int(table["slt_lead"].map(lambda s: bool(str(s).strip())).sum())
    k = int(ruled["sustained"].sum())
    shows = [
        (f"All {fmt.number(n)} areas" if worse == n else
         f"{fmt.number(worse)} of {fmt.number(n)} areas") + " fell clearly further behind "
        f"matched comparators by {latest}" + (f"; {fmt.number(better)} did clearly better."
                                              if better else "."),
        f"{fmt.number(k)} of {fmt.number(n)} areas on the stated rule (section 4).",
        f"Recorded for {fmt.number(cm)} of {fmt.number(n)} areas (Cabinet Member) and "
        f"{fmt.number(lo)} of {fmt.number(n)} (lead officer).",
        f"Modelled council spend {spend['year']}: {fmt.money(spend['targets_per_head'], True)}"
        f" in the areas, {fmt.money(spend['rest_per_head'], True)} elsewhere.",
        f"Modelled council spend in the areas: {fmt.money(spend['baseline_targets_gbp'])} "
        f"({spend['baseline_year']}), {fmt.money(spend['targets_gbp'])} ({spend['year']})"
        + ("; partners modelled." if partner_spend_known else "; partners not yet modelled."),
        f"This briefing: {fmt.number(len(reach))} partners by {fmt.number(n)} areas "
        "(section 3).",
    ]
    missing = [
        "What was actually redirected to each area, and when.",
        "Partners' and residents' own view of each area.",
        ("Names for the areas not yet assigned." if min(cm, lo) < n else "Nothing."),
        "Allocation decisions since; spend as recorded, not modelled.",
        "Partner ledgers (police, NHS, DWP and others).",
        "Partners' own service data" + (" by area." if partner_spend_known
                                        else " and spend by area."),
    ]
    return pd.DataFrame({"No.": [str(i) for i in range(1, 7)], "Resolution": titles,
                         "What the pack shows": shows, "What is still missing": missing})


# --------------------------------------------------------------------------- options


def options(pot: pd.DataFrame, shift: pd.DataFrame, names: Mapping[str, str],
            population: Mapping[str, float], pot_gbp: float, service: str, share: float,
            year: str, rest: str, la_name: str) -> list[str]:
    """Options with figures from the what-if tools (the notebook states that they are options,
    not advice).

    ``pot``: slug, allocation_gbp (``spend.small_pot``); ``shift``: slug, moved_gbp,
    before_gbp, after_gbp, per_head_before_gbp, per_head_after_gbp
    (``spend.shift_to_core_offer``); ``population`` by slug; ``rest``: the slug of the rest
    of the district.
    """
    p = pot.sort_values("allocation_gbp")
    lo, hi = p.iloc[0], p.iloc[-1]
    out = [f"Option A, a small community pot: {fmt.money(pot_gbp)} shared by income-deprived "
           f"residents gives each area from {fmt.money(lo['allocation_gbp'])} "
           f"({names.get(lo['slug'], lo['slug'])}) to {fmt.money(hi['allocation_gbp'])} "
           f"({names.get(hi['slug'], hi['slug'])}) for community groups."]
    s = shift.set_index("slug")
    moved = -float(s.at[rest, "moved_gbp"])
    t = s.drop(rest)
    pop_t = float(sum(population.get(x, 0.0) for x in t.index))
    out.append(
        f"Option B, a core offer elsewhere: moving {fmt.percent(share)} of "
        f"{service.lower()} spend in the rest of {la_name} ({fmt.money(moved)}, {year}) to the "
        f"target areas by need takes that service from "
        f"{fmt.money(t['before_gbp'].sum() / pop_t, True)} to "
        f"{fmt.money(t['after_gbp'].sum() / pop_t, True)} in the target areas and from "
        f"{fmt.money(s.at[rest, 'per_head_before_gbp'], True)} to "
        f"{fmt.money(s.at[rest, 'per_head_after_gbp'], True)} elsewhere.")
    return out


# --------------------------------------------------------------------------- index


def index_areas(table: pd.DataFrame, base: int = 2010, latest: int = 2025) -> list[dict]:
    """The compact area list for the pack's index: name, residents, average position then and
    now (England percentile, 0 = most deprived), change against comparators with interval."""
    return [{"name": r.name, "residents": None if pd.isna(r.residents) else int(round(r.residents)),
             f"position_{base}": round(float(r.pct_base), 1),
             f"position_{latest}": round(float(r.pct_latest), 1),
             "change_vs_comparators": round(float(r.did), 1),
             "change_low": round(float(r.did_low), 1), "change_high": round(float(r.did_high), 1)}
            for r in table.itertuples()]
