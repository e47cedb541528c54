"""Evaluation key findings: plain-English sentences written from the results.

Percentiles: England, 0 = most deprived; differences in percentile points since IMD 2010.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from evidence_pack.analysis.areas import Reference
from evidence_pack.analysis.evaluation_match import MatchSpec
from evidence_pack.analysis.evaluation_panel import (
    BASE,
    CONTEXT_DISTRICT_D1,
    CONTEXT_REST,
    SENSITIVITY_OUTSIDE_REGION,
)
from evidence_pack.findings.evaluation_tables import reading
from evidence_pack.findings.format import signed


def key_findings(res: Mapping[str, pd.DataFrame], group: str, names: Mapping[str, str],
                 district: str, release: int = 2025) -> list[str]:
    """Plain-English findings for the top of the notebook, written from the results."""
    d = res["did"]
    cluster = "area" if group == "all" else "lsoa"
    row = d[(d["group"] == group) & (d["measure"] == "imd") & (d["release"] == release)
            & (d["cluster"] == cluster)].iloc[0]
    traj = res["trajectories"]
    t = traj[(traj["group"] == group) & (traj["measure"] == "imd")].set_index("release")
    c = traj[(traj["group"] == f"{group}__comparators") & (traj["measure"] == "imd")].set_index(
        "release")
    who = ("The target neighbourhoods" if group == "all" else names.get(group, group))
    n = int(row["n_treated"])
    verb = "were" if group == "all" else "was"
    count = (f"The {n} target neighbourhoods (2001 boundaries)" if group == "all" else
             f"{who} ({n} neighbourhood{'s' if n != 1 else ''} on the 2001 boundaries)")
    out = [
        f"{count} {verb}"
        f"{' on average' if n != 1 else ''} at "
        f"percentile {t.loc[BASE, 'mean_pct']:.1f} of England in IMD {BASE} (0 = most "
        f"deprived, 50 = the middle) and at percentile {t.loc[release, 'mean_pct']:.1f} in "
        f"IoD {release}.",
        f"{int(row['n_comparators'])} matched comparison neighbourhoods elsewhere in England, as deprived "
        f"in 2010 and on the same path over 2004-2010, moved from percentile "
        f"{c.loc[BASE, 'mean_pct']:.1f} to {c.loc[release, 'mean_pct']:.1f}.",
    ]
    verdict = reading(row["ci_low"], row["ci_high"])
    if verdict == "targets did worse":
        what = "fell further behind"
    elif verdict == "targets did better":
        what = "did better"
    else:
        what = "did neither clearly better nor clearly worse"
    subject = "the target neighbourhoods" if group == "all" else who
    out.append(f"Relative to those comparators, {subject} {what}: a difference of "
               f"{signed(row['estimate'])} percentile points by {release} (95% interval "
               f"{signed(row['ci_low'])} to {signed(row['ci_high'])}).")
    if group != "all" and n == 1:
        out.append("With a single neighbourhood the interval reflects only how much its comparators "
                   "differ from one another, not chance movements of the neighbourhood itself: read it "
                   "as too narrow.")
    pre = d[(d["group"] == group) & (d["measure"] == "imd") & (d["release"] == 2007)
            & (d["cluster"] == cluster)]
    if len(pre):
        p = pre.iloc[0]
        par = ("moved in parallel" if p["ci_low"] <= 0 <= p["ci_high"] else
               "did not move quite in parallel")
        out.append(f"Before the decision the two groups {par} (2007-2010 gap "
                   f"{signed(p['estimate'])} points, interval {signed(p['ci_low'])} to "
                   f"{signed(p['ci_high'])}); they were matched on 2004-2010, so this is a check "
                   "of the matching, not a test of the policy.")
    if group == "all":
        areas = d[~d["group"].isin(["all", SENSITIVITY_OUTSIDE_REGION]) & (d["measure"] == "imd")
                  & (d["release"] == release)]
        worse = int((areas["ci_high"] < 0).sum())
        better = int((areas["ci_low"] > 0).sum())
        rest = len(areas) - worse - better
        text = (f"Area by area: {worse} of {len(areas)} areas fell clearly further behind their "
                f"comparators by {release} and {better} did clearly better")
        text += f"; {rest} show no clear difference." if rest else "."
        single = int(areas.loc[areas["cluster"] == "lsoa", "n_treated"].eq(1).sum())
        if single:
            text += (f" {single} area{'s are' if single != 1 else ' is'} a single LSOA, whose "
                     "intervals are too narrow.")
        out.append(text)
        sens = d[(d["group"] == SENSITIVITY_OUTSIDE_REGION) & (d["measure"] == "imd")
                 & (d["release"] == release)]
        if len(sens):
            sv = sens.iloc[0]
            out.append(f"With comparators taken only from outside the region (no neighbouring "
                       f"districts), the difference is {signed(sv['estimate'])} points (interval "
                       f"{signed(sv['ci_low'])} to {signed(sv['ci_high'])}).")
    ctx = res["context"]
    ctx = ctx[(ctx["measure"] == "imd") & (ctx["release"] == release)].set_index("group")
    # the district's untargeted neighbourhoods: a district figure, in the district's report
    # only (an area's report is about its area, and then depends on its neighbourhoods alone)
    if group == "all" and CONTEXT_DISTRICT_D1 in ctx.index and CONTEXT_REST in ctx.index:
        o, r = ctx.loc[CONTEXT_DISTRICT_D1], ctx.loc[CONTEXT_REST]
        out.append(f"For context, {district}'s other most-deprived-10% neighbourhoods that were not "
                   f"targeted ({int(o['n_lsoas'])}) moved by {signed(o['change'])} points and the "
                   f"rest of {district} by {signed(r['change'])} points over the same years.")
    out.append("This compares like with like as far as public data allow; it does not show "
               "cause. Targeting was a policy choice, not an experiment, and no record says how "
               "much was actually redirected to each area.")
    return out


def decision(reference: Reference | None) -> tuple[float, str] | None:
    """The targeting decision from the areas file's ``reference:`` block: (year as a decimal,
    chart label), or None when the file has no reference document (then no line is drawn)."""
    if reference is None:
        return None
    d = reference.date
    return d.year + (d.timetuple().tm_yday - 0.5) / 365.25, f"Areas targeted\n({d:%B %Y})"


def chosen_by(reference: Reference | None, source: str, district: str) -> str:
    """Who chose the target areas, for the opening of the district report."""
    if reference is not None:
        return f"The target areas are those chosen in {reference.label}: {reference.title}."
    return f"The target areas are those of the areas file for {district}" + (
        f": {source.strip()}" if source and source.strip() else ".")


def matching_text(spec: MatchSpec) -> str:
    """How comparators were chosen, in plain words (the spec's numbers)."""
    return (f"each target neighbourhood was paired with up to {spec.k} neighbourhoods elsewhere in "
            "England (the same one may serve more than one target) of the same urban or rural class, "
            "that were the closest on their 2010 overall deprivation and its change since 2004 "
            "(counted twice) and on the seven 2010 domains; a candidate further away than "
            f"{spec.caliper:g} England standard deviations on average was not used (the "
            "'caliper'), except that every target neighbourhood keeps its single closest match")


def matching_summary(res: Mapping[str, pd.DataFrame], slug: str | None = None) -> str:
    """One sentence: comparators in view, their districts, targets outside the caliper."""
    m = res["matches"]
    m = m if slug is None else m[m["area_slug"] == slug]
    units = res["units"].set_index("lsoa_code")
    n = m["control"].nunique()
    d = units.loc[m["control"].unique(), "lad_code"].nunique()
    out = int(m.drop_duplicates("treated")["outside_caliper"].sum())
    text = f"Comparators in this view: {n} LSOAs in {d} districts."
    if out:
        who = "1 target LSOA" if out == 1 else f"{out} target LSOAs"
        text += (f" {who} had no comparator within the caliper and "
                 f"{'keeps its' if out == 1 else 'keep their'} single closest one.")
    return text


def balance_note() -> str:
    """What the standardised difference in the balance table means."""
    return ("The standardised difference is the gap between the targets' average and the "
            "other group's, divided by the spread (standard deviation) of the variable: "
            "below 0.1 either way is usually read as well matched.")


ORIENTATION = ("Positions are England percentiles: 0 is the most deprived neighbourhood in "
               "England, 100 the least deprived.")
LOOKUP_NOTE = ("Later releases carried back to the 2001 LSOAs with the ONS LSOA lookups "
               "(overlap-population weights).")
HOW_TO_READ = """## How to read this report

This report asks whether the target neighbourhoods moved differently, after they were chosen,
from similar neighbourhoods elsewhere in England that were not targeted.

* **Position, not score.** Each neighbourhood is a Lower-layer Super Output Area (LSOA, about
  1,500 people). In each release it is placed on a scale of England from 0 (the most
  deprived) to 100 (the least deprived): its percentile. Releases use different methods and
  boundaries, so only positions within England are compared over time. A fall means a
  neighbourhood became *relatively* more deprived.
* **Comparators.** Each target neighbourhood is paired with up to five neighbourhoods outside
  the district that looked the same in 2010, had moved the same way between 2004 and 2010,
  and are the same kind of place (urban or rural).
* **The difference.** The target neighbourhoods' change since 2010 minus their comparators'.
  Below zero: the targets fell further behind similar places. The 95% interval shows how far
  chance and the choice of comparators could move that figure."""
LIMITS = ("**What this cannot tell you.** Targeting was a policy choice, not an experiment: the "
          "areas were picked *because* they were among the worst, and whatever made them worse "
          "may have carried on. No record says how much money or staff time was actually "
          "redirected to each area, so a difference cannot be put down to the targeting, for "
          "better or worse.")
CONTEXT_NOTE = ("These groups are not matched to the targets; they show the tide the target "
                "areas were swimming in. If the district's other most deprived neighbourhoods "
                "moved like the targets, the cause is more likely district-wide than the "
                "targeting.")
MONITORING_NOTE = (
    "The underlying indicators published with IoD 2019 (on the 2011 LSOAs) and IoD 2025 (on "
    "the 2021 LSOAs). **Percentile** places an area among England's neighbourhoods on that "
    "indicator, 0 = the most deprived, 50 = England's middle. **Direction** compares "
    "percentiles, not raw values, because scales move between releases: \"worsening\" means "
    "the area moved 5 points or more towards the most deprived end; a rate can rise (or "
    "fall) a lot while the area keeps its place in England, which reads as little change. \"Worse than England and "
    "worsening\" marks an indicator on which the area is below England's middle *and* "
    "worsening. Only indicators published on the same definition in both releases get a "
    "direction.")


def lsoa_count(res: Mapping[str, pd.DataFrame], slug: str) -> str:
    """"3 neighbourhoods" / "one neighbourhood" of an area (2001 LSOAs)."""
    n = int(res["matches"].loc[res["matches"]["area_slug"] == slug, "treated"].nunique())
    return "one neighbourhood" if n == 1 else f"{n} neighbourhoods"


def area_intro(res: Mapping[str, pd.DataFrame], slug: str, name: str, district: str) -> str:
    """The opening paragraph of an area report (Markdown): what it follows, the scale, and
    where the district-wide report is."""
    return (f"**How to read this report.** It follows the {lsoa_count(res, slug)} of {name} (a "
            "neighbourhood here is a Lower-layer Super Output Area, LSOA, of about 1,500 "
            "people) and compares it with similar neighbourhoods elsewhere in England that "
            f"were not targeted. {ORIENTATION} The borough report sets out all target areas "
            "together, how the comparison works and what it cannot show.")
