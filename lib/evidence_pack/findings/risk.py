"""Risk factors: plain-English sentences (key findings and verdicts) from the model outputs.

Shares are of England's cohort of LSOAs (most deprived 10% on the IMD 2010, 2011 LSOAs);
"left" = no longer in that group in the outcome release. Verdict wording never claims more
than the measure allows: a factor measured after 2010 or by a proxy says so.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from evidence_pack.analysis.risk_areas import VULNERABILITY
from evidence_pack.analysis.risk_spec import FACTORS, OUTCOME_RELEASES, THEMES
from evidence_pack.findings.format import lower_first, percent

#: What the access factor measures, said wherever its verdict is given.
ACCESS_MEASURE = ("mean travel time by public transport or walking to eight key services, "
                  "employment centres among them (DfT, 2015)")

_VERDICT_CLAUSE = {
    "holds": "holds", "opposite": "goes the other way",
    "holds only on its own": "holds on its own but not once the other factors are allowed for",
    "not supported": "is not shown"}


def framing() -> str:
    """Where the five factors come from (the same for every district)."""
    return ("The national evaluation of neighbourhood renewal found that housing tenure, skill "
            "levels, population churn, the economy of the wider sub-region and access to "
            "lower-skilled jobs had the most powerful effect on whether a deprived neighbourhood "
            "improved.")


def short_label(factor: str) -> str:
    """A factor's label without its bracketed unit, lower-cased for use inside a sentence."""
    return lower_first(FACTORS[factor].label.split(" (")[0])


#: How the access verdict reads: the measures are of access to services, so never "holds".
_ACCESS_CLAUSE = {
    "holds": "cannot be tested directly; on this measure of access to services (not jobs) the "
             "pattern is consistent with it",
    "holds only on its own": "cannot be tested directly; on this measure of access to services "
                             "(not jobs) the pattern is consistent with it only when the measure "
                             "is taken on its own",
    "opposite": "cannot be tested directly; on this measure of access to services (not jobs) "
                "the pattern goes the other way",
    "not supported": "cannot be tested directly, and this measure of access to services (not "
                     "jobs) shows no clear pattern"}
#: The access finding by verdict of its headline measure (the DfT travel time).
_ACCESS_PATTERN = {
    "holds": "neighbourhoods with longer journeys were less likely to leave the group, "
             "consistent with the claim",
    "holds only on its own": "neighbourhoods with longer journeys were less likely to leave the "
                             "group, but not once the other factors are allowed for",
    "opposite": "neighbourhoods with longer journeys were more likely to leave the group",
    "not supported": "there is no clear pattern"}


def qualifier(theme: str, verdict: str) -> str:
    """The conditions a verdict holds under, in words (empty when there are none to add)."""
    if theme == "tenure" and verdict == "holds":
        return "after allowing for the other factors; tenure measured in 2021"
    if theme == "churn" and verdict == "opposite":
        return ("more residents moving in, measured in 2021 after the change, went with leaving "
                "the group: this may be newcomers arriving in places already improving, not a "
                "sign that more turnover would help")
    return ""


def access_finding(explained: pd.DataFrame) -> str:
    """The access verdict in its own sentence, saying what was measured and what it is not."""
    a = explained[explained["theme"] == "access"]
    if a.empty:
        return ""
    return (f"{THEMES['access']} cannot be tested directly. On the closest measure available, "
            f"the {ACCESS_MEASURE}, {_ACCESS_PATTERN[a.iloc[0]['verdict']]}. It measures access "
            "to services, not how many lower-skilled jobs are within reach.")


def explain_verdicts(v: pd.DataFrame, scaling: pd.DataFrame, release: int = 2025,
                     cohort: int = 10) -> pd.DataFrame:
    """One plain-English sentence per factor judged in ``verdicts`` (for ``release`` and
    ``cohort``), written from the odds ratios and the SD of each factor. Columns theme,
    report_factor, factor, verdict, sentence."""
    sel = v[(v["release"] == release) & (v["cohort"] == cohort)]
    sd = scaling[scaling["cohort"] == cohort].set_index("factor")["sd"]
    rows = []
    for _, r in sel.iterrows():
        f = FACTORS[r["factor"]]
        per = f"for each {sd[r['factor']]:.1f} {f.unit} more" if not f.binary else "if rural"
        if r["theme"] == "tenure":
            per += " (in place of owner occupation)"
        when = (f"Measured in {f.year}, after the 2010 starting point, so it may reflect the "
                "change as much as predict it." if f.post_baseline
                else f"Measured in {f.year}, at the starting point.")
        clause = (_ACCESS_CLAUSE if r["theme"] == "access" else _VERDICT_CLAUSE)[r["verdict"]]
        sentence = (
            f"{THEMES[r['theme']]}, measured as {short_label(r['factor'])}: the claim "
            f"{clause}. The odds of leaving the most deprived {cohort}% by "
            f"{release} were multiplied by {r['or_full']:.2f} {per} (95% interval "
            f"{r['ci_low_full']:.2f} to {r['ci_high_full']:.2f}) with every factor in the model, "
            f"and by {r['or_each']:.2f} ({r['ci_low_each']:.2f} to {r['ci_high_each']:.2f}) "
            f"allowing only for how deprived the neighbourhood was in 2010. {when}")
        rows.append({"theme": r["theme"], "report_factor": r["report_factor"],
                     "factor": r["factor"], "verdict": r["verdict"], "sentence": sentence})
    return pd.DataFrame(rows)


def _cohort(table: pd.DataFrame, cohort: int) -> pd.DataFrame:
    return table[table["cohort10"]] if cohort == 10 else table


def england_finding(table: pd.DataFrame, release: int, cohort: int) -> str:
    """How many of England's cohort had left the group by each outcome release."""
    coh = _cohort(table, cohort)
    n = len(coh)
    left = {r: int(coh[f"improved{cohort}_{r}"].sum()) for r in OUTCOME_RELEASES}
    others = "".join(f"; {v:,} ({percent(v / n)}) by {r}" for r, v in left.items() if r != release)
    return (f"Of England's {n:,} most deprived neighbourhoods in 2010 (the most deprived "
            f"{cohort}% of LSOAs), {left[release]:,} ({percent(left[release] / n)}) had left that "
            f"group by {release}{others}.")


def verdicts_finding(explained: pd.DataFrame, release: int) -> str:
    """The report's five factors in one sentence, grouped by verdict, with their conditions."""
    head = (explained.groupby("theme", sort=False).first()
            .reindex([t for t in THEMES if t in set(explained["theme"])]))
    words = {"holds": "Supported", "holds only on its own": "Supported only when taken on its "
             "own, not once the other factors are allowed for", "opposite": "Going the other way",
             "not supported": "Not shown"}
    groups: dict[str, list[str]] = {}
    for theme, r in head.iterrows():
        if theme == "access":
            continue
        q = qualifier(theme, r["verdict"])
        groups.setdefault(r["verdict"], []).append(
            THEMES[theme].lower() + (f" ({q})" if q else ""))
    parts = [f"{words[k]}: {' and '.join(v)}" for k, v in groups.items()]
    return (f"The five factors of the national evaluation of neighbourhood renewal, tested on "
            f"England's data ({release} outcome). "
            + ". ".join(parts) + ". " + access_finding(explained)).strip()


def skill_finding(cv: pd.DataFrame, release: int, cohort: int) -> str:
    """How well the model predicts on districts it had not seen (AUC, calibration)."""
    a = cv[(cv["kind"] == "auc") & (cv["release"] == release) & (cv["cohort"] == cohort)].iloc[0]
    cal = cv[(cv["kind"] == "calibration") & (cv["release"] == release) & (cv["cohort"] == cohort)]
    gap = 100 * (cal["observed"] - cal["predicted"]).abs().max()
    return (f"The model predicts well on districts it had not seen: it ranks a neighbourhood that "
            f"left above one that did not {a['auc']:.0%} of the time (50% = chance; this is the "
            f"AUC, {a['auc']:.2f}), and its predicted chances are within {gap:.0f} percentage "
            f"points of what happened in every tenth of the cohort. The 2010 IMD score alone "
            f"reaches {a['auc_imd_only']:.0%}: how deprived a neighbourhood was to begin with, and "
            "in which ways, tells most of the story; the named factors add the rest.")


def cohort_members(res: Mapping[str, pd.DataFrame], slugs: list[str], release: int) -> int:
    """How many of the areas' neighbourhoods (LSOAs, 2011) were in the 2010 group the model
    follows (0: the model of leaving that group does not apply to these areas)."""
    return int(res[f"areas_{release}"].set_index("slug").loc[slugs, "in_cohort"].sum())


def outside_group_note(res: Mapping[str, pd.DataFrame], slugs: list[str],
                       names: Mapping[str, str], release: int, cohort: int) -> str:
    """For the per-area table's caption: which areas show dashes because none of their
    neighbourhoods was in the 2010 group ("" when every area had one)."""
    counts = res[f"areas_{release}"].set_index("slug").loc[slugs, "in_cohort"]
    outside = [names[s] for s in slugs if int(counts[s]) == 0]
    if not outside:
        return ""
    who = outside[0] if len(outside) == 1 else ", ".join(outside[:-1]) + " and " + outside[-1]
    return (f" A dash: none of the neighbourhoods of {who} was in England's most deprived "
            f"{cohort}% on the IMD 2010, so the model makes no prediction for "
            f"{'it' if len(outside) == 1 else 'them'}.")


def no_cohort_finding(focus: str, n_lsoas: int, cohort: int, several: bool,
                      england_where: str = "below") -> str:
    """The finding for areas none of whose ``n_lsoas`` neighbourhoods was in the 2010 group:
    the model does not apply to them; the England-wide results still hold."""
    if n_lsoas == 1:
        return (f"{focus}'s one {'target-area ' if several else ''}neighbourhood was not in "
                f"England's most deprived {cohort}% on the IMD 2010, so the model of leaving "
                f"that group does not apply to it; the England-wide results {england_where} "
                "still hold.")
    return (f"None of {focus}'s {n_lsoas} {'target-area ' if several else ''}neighbourhoods was "
            f"in England's most deprived {cohort}% on the IMD 2010, so the model of leaving "
            f"that group does not apply to them; the England-wide results {england_where} "
            "still hold.")


def no_cohort_note(focus: str, cohort: int, is_borough: bool) -> str:
    """Why the per-area predictions and factors are left out (Markdown)."""
    return (f"None of the {'target-area ' if is_borough else ''}neighbourhoods of {focus} was in England's most deprived {cohort}% on "
            "the IMD 2010, so there is no predicted chance of leaving that group, nor factors "
            "for and against, to show for them. Their place among England's neighbourhoods on "
            "the long-term problems is below.")


def _district_line(coh: pd.DataFrame, predictions: pd.DataFrame, district: str,
                   district_code: str, release: int, cohort: int) -> str:
    """The district's whole 2010 group: how many left against the model's expectation."""
    y = f"improved{cohort}_{release}"
    pr = predictions[(predictions["release"] == release) & (predictions["cohort"] == cohort)]
    dist = coh[coh["lad_code"] == district_code].merge(pr[["lsoa_code", "p_model"]],
                                                       on="lsoa_code")
    if dist.empty:
        return (f"{district} had no neighbourhoods in England's most deprived {cohort}% in "
                "2010.")
    return (f"Across all {len(dist)} of {district}'s neighbourhoods in the 2010 group, "
            f"{int(dist[y].sum())} left against {dist['p_model'].sum():.1f} expected.")


def area_findings(res: Mapping[str, pd.DataFrame], slugs: list[str], names: Mapping[str, str],
                  district: str, district_code: str, table: pd.DataFrame,
                  predictions: pd.DataFrame, release: int, cohort: int,
                  england_where: str = "below") -> list[str]:
    """Findings about the target areas (all of them for the borough report, else one area):
    predicted against observed, the factors for and against, and the long-term problems.
    Areas with no neighbourhood in the 2010 group get a plain sentence saying the model does
    not apply to them (``england_where``: where the England-wide results are)."""
    coh = _cohort(table, cohort)
    y = f"improved{cohort}_{release}"
    share = coh[y].mean()
    a = res[f"areas_{release}"].set_index("slug").loc[slugs]
    out = []
    if not cohort_members(res, slugs, release):
        lsoas = res[f"lsoas_{release}"]
        n = int(lsoas.loc[lsoas["slug"].isin(slugs), "lsoa_code"].nunique())
        several = len(slugs) > 1
        out.append(no_cohort_finding(district if several else names[slugs[0]], n, cohort,
                                     several, england_where))
        if several:
            out.append(_district_line(coh, predictions, district, district_code, release,
                                      cohort))
    elif len(slugs) > 1:
        inc = a[a["in_cohort"] > 0]
        none = len(a) - len(inc)
        out.append(
            f"{district}'s {int(inc['in_cohort'].sum())} target-area neighbourhoods had, on the model, an "
            f"average {percent(np.average(inc['predicted'], weights=inc['in_cohort']))} chance "
            f"each of leaving the most deprived {cohort}% by {release} (England's cohort: "
            f"{percent(share)}): about {inc['expected_improving'].sum():.1f} would have been "
            f"expected to leave; {inc['observed_improving'].sum():.0f} did"
            + (f" ({none} of the {len(a)} areas had no neighbourhood in that group in 2010, so "
               "the model does not apply to them)" if none else "") + ". "
            + _district_line(coh, predictions, district, district_code, release, cohort))
    else:
        s, r0 = slugs[0], a.iloc[0]
        name, n_l, n_c = names[s], int(r0["lsoas"]), int(r0["in_cohort"])
        obs = {r: res[f"areas_{r}"].set_index("slug").loc[s, "observed_improving"]
               for r in OUTCOME_RELEASES if r != release}
        out.append(
            f"{name} ({n_l} neighbourhood{'s' if n_l != 1 else ''}, {n_c} in England's 2010 most deprived "
            f"{cohort}%): the model gave {'it' if n_c == 1 else 'them on average'} a "
            f"{percent(r0['predicted'])} chance of leaving that group by {release} (England's "
            f"cohort: {percent(share)}; similar neighbourhoods elsewhere: predicted "
            f"{percent(r0['similar_predicted'])}, observed {percent(r0['similar_observed'])}). "
            f"Observed: {r0['observed_improving']:.0f} left by {release}"
            + "".join(f", {v:.0f} by {r}" for r, v in obs.items()) + ".")
    f = res[f"factors_{release}"]
    named = (f[f["slug"].isin(slugs) & (f["theme"] != "baseline")] if len(f)
             else pd.DataFrame(columns=["slug", "factor", "theme", "pull_vs_england"]))
    if len(slugs) > 1:
        against = named[named["pull_vs_england"] < 0].groupby("factor").size()
        if len(against):
            top = against.sort_values(ascending=False)
            out.append(f"The named factor that most often weighs against the target areas "
                       f"(compared with England's cohort) is the {short_label(top.index[0])} "
                       f"({top.iloc[0]} of {len(slugs)} areas).")
    else:
        fa = named.sort_values("pull_vs_england")
        neg, pos = fa[fa["pull_vs_england"] < -0.05], fa[fa["pull_vs_england"] > 0.05][::-1]
        txt = []
        if len(neg):
            txt.append(f"Compared with England's cohort, the named factors weighing most against "
                       f"{names[slugs[0]]}: "
                       + " and ".join(short_label(x) for x in neg["factor"].head(2)) + ".")
        if len(pos):
            txt.append("For it: " + " and ".join(short_label(x) for x in pos["factor"].head(2))
                       + ".")
        if "churn" in set(neg["factor"].head(2)) | set(pos["factor"].head(2)):
            txt.append("Churn is a marker measured in 2021, after the change, not a lever: it "
                       "does not mean more or less turnover would help.")
        if txt:
            out.append(" ".join(txt))
    v = res["vulnerability"]
    v = v[v["slug"].isin(slugs) & (v["release"] == 2025)]
    worst = v.groupby(["slug", "theme"])["percentile"].max().unstack()
    hit = {t: int((worst[t] >= 90).sum()) for t in VULNERABILITY if t in worst}
    if len(slugs) > 1:
        out.append(f"On the IoD 2025 indicators, the number of the {len(slugs)} areas among "
                   "England's most deprived 10% of neighbourhoods on each of the five "
                   "long-term problems: " + "; ".join(
                       f"{VULNERABILITY[t].lower()}: {n}" for t, n in hit.items()) + ".")
    else:
        marked = [VULNERABILITY[t].lower() for t, n in hit.items() if n]
        out.append(f"On the IoD 2025 indicators {names[slugs[0]]} is among England's most "
                   "deprived 10% of neighbourhoods for: "
                   + ("; ".join(marked) if marked else "none of the five long-term problems") + ".")
    return out


CAUSE_NOTE = ("These are associations across England, not proof of cause: tenure and churn "
              "were measured in 2021, after the change they are compared with.")


def intro(focus: str, district: str, is_borough: bool, cohort: int, release: int) -> str:
    """The opening paragraph (Markdown): the outcome, what a neighbourhood is, and for an area
    report where the England-wide results are."""
    text = (f"Outcome: leaving England's most deprived {cohort}% of neighbourhoods between the "
            f"IMD 2010 and the IMD {release}. A neighbourhood here is a Lower-layer Super Output "
            "Area (LSOA, about 1,500 people) on its 2011 boundaries (2010 and 2025 carried onto "
            "them).")
    if is_borough:
        return text
    return text + (" The England-wide model, how well it predicts and the verdict on each of the "
                   "five factors are in the borough report.")


MODEL_NOTE = (
    "## What went with improving: the England-wide model\n\n"
    "A logistic regression across the whole cohort. Each factor's **odds multiplier** (odds "
    "ratio) says how the odds of leaving the most deprived group changed with one standard "
    "deviation more of that factor (a typical difference between neighbourhoods, given in the "
    "table), holding the others fixed: below 1, less likely to improve; above 1, more likely. "
    "\"One at a time\" allows only for how deprived the neighbourhood was in 2010. Intervals "
    "are 95% confidence intervals allowing for neighbourhoods in one district being alike. "
    "The last column is the change in England percentile (points; positive = less deprived "
    "relative to England) per standard deviation.")
SKILL_NOTE = (
    "## How well does it predict?\n\n"
    "The model was refitted five times, each time leaving out a fifth of England's districts, "
    "and used to predict the neighbourhoods in the districts left out. The **AUC** is the "
    "chance that a neighbourhood that improved was given a higher score than one that did not "
    "(0.5 = a coin toss, 1 = always). The calibration chart compares predicted and observed "
    "shares in each tenth of predicted chance.")
VERDICT_NOTE = (
    "## The five factors, point by point\n\n"
    "\"Holds\" means the 95% interval lies wholly on the side the claim implies with every "
    "factor in the model; \"holds on its own\" means it does so only when the factor is taken "
    "alone (allowing for 2010 deprivation); \"goes the other way\" means the interval lies "
    "wholly on the opposite side; \"not shown\" means the data cannot tell either way. Access "
    f"to lower-skilled jobs has no direct measure: it is tested with the {ACCESS_MEASURE}, and "
    "with distances to services.")


def scores_note(focus: str) -> str:
    """What the predicted-and-observed table shows (Markdown)."""
    return (f"The predicted chance of each target neighbourhood of {focus} leaving the most "
            "deprived group (from the England-wide model), against what happened, and against "
            "**similar neighbourhoods** elsewhere: the LSOAs outside the district closest to "
            "each target LSOA on its 2010 domain scores.")


def pull_note(focus: str) -> str:
    """What the factors-for-and-against table shows (Markdown)."""
    return (f"Each factor's pull on the odds of {focus} leaving the most deprived group, "
            "compared with the average of England's cohort and with similar neighbourhoods: a "
            "multiplier above 1 weighs **for** improving, below 1 **against**. The 2010 domain "
            "scores are the starting position; the named factors are the five.")


def problems_note(focus: str) -> str:
    """What the long-term problems table shows (Markdown)."""
    return ("Five long-term problems are common to the most deprived areas (poor health, low "
            "skills, worklessness, crime, poor housing). For each, the IoD 2019 and 2025 "
            f"underlying indicators show where {focus} stands among England's neighbourhoods, "
            "as a percentile: 0 = the most deprived, 10 or below = among England's most "
            "deprived 10%.")


SOURCE_NOTE = ("Also Department for Transport, Journey Time Statistics 2015 (mean travel times "
               "to key services by LSOA), republished by CFrancesca/ds-JTS-Interactive-Map; ONS, "
               "Regional gross domestic product: all ITL regions (GVA 1998-2021) and "
               "International Territorial Level 3 boundaries (January 2021). Open Government "
               "Licence v3.0.")
