"""Risk factors: tables for readers (labels, units, one orientation for percentiles).

Percentiles of England's neighbourhoods: 0 = most deprived. Shares and chances in %.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from evidence_pack.analysis.risk_areas import VULNERABILITY
from evidence_pack.analysis.risk_spec import FACTORS, OUTCOME_RELEASES, THEMES, post_baseline


def _measured(factor: str) -> str:
    return FACTORS[factor].year + (" (after 2010)" if post_baseline(factor) else "")


def outcomes_table(table: pd.DataFrame) -> pd.DataFrame:
    """England: LSOAs in the most deprived 10% / 20% in 2010 and how many had left it."""
    rows = []
    for c in (10, 20):
        t = table[table["cohort10"]] if c == 10 else table
        for r in OUTCOME_RELEASES:
            rows.append({"Group in 2010": f"most deprived {c}%", "Outcome release": str(r),
                         "LSOAs": len(t), "Left the group": int(t[f"improved{c}_{r}"].sum()),
                         "Share left (%)": 100 * t[f"improved{c}_{r}"].mean(),
                         "Median change in England percentile (points)":
                             t[f"pct_gain_{r}"].median()})
    return pd.DataFrame(rows)


def domains_table(domains: pd.DataFrame) -> pd.DataFrame:
    """Share of LSOAs in each domain's most deprived 10% in 2010 that had left it, by release."""
    dom = domains.copy()
    dom["Domain"] = dom["measure"].str.replace("_", " ").str.capitalize().replace(
        {"Imd": "IMD (overall)"})
    dom = dom.pivot(index="Domain", columns="release", values="share").mul(100)
    dom.columns = [f"Left by {c} (%)" for c in dom.columns]
    return dom.reset_index()


def odds_table(odds: pd.DataFrame, scaling: pd.DataFrame, release: int,
               cohort: int) -> pd.DataFrame:
    """Odds ratios per standard deviation: all factors together, one at a time, and the
    linear model of the change in England percentile."""
    sel = odds[(odds["release"] == release) & (odds["cohort"] == cohort)]
    full, each = sel[sel["model"] == "full"], sel[sel["model"] == "each"]
    ols = sel[sel["model"] == "ols_pct_gain"][["factor", "coef"]]
    sd = scaling[scaling["cohort"] == cohort].set_index("factor")["sd"]
    show = full[["factor", "odds_ratio", "ci_low", "ci_high"]].merge(
        each[["factor", "odds_ratio", "ci_low", "ci_high"]], on="factor", how="left",
        suffixes=("", "_each")).merge(ols, on="factor", how="left")
    show.insert(1, "Factor", show["factor"].map(lambda f: FACTORS[f].label))
    show.insert(2, "Measured", show["factor"].map(_measured))
    show.insert(3, "One standard deviation", show["factor"].map(
        lambda f: "rural vs urban" if FACTORS[f].binary else f"{sd[f]:.2f} {FACTORS[f].unit}"))
    return show.drop(columns="factor").rename(columns={
        "odds_ratio": "Odds multiplier", "ci_low": "95% low", "ci_high": "95% high",
        "odds_ratio_each": "One at a time", "ci_low_each": "low", "ci_high_each": "high",
        "coef": "Change in percentile (points)"})


def skill_table(cv: pd.DataFrame) -> pd.DataFrame:
    """Predictive skill (AUC) by cohort and outcome release."""
    a = cv[cv["kind"] == "auc"].copy()
    return pd.DataFrame({
        "Group in 2010": "most deprived " + a["cohort"].astype(str) + "%",
        "Outcome release": a["release"].astype(str), "LSOAs": a["n"].astype(int),
        "Districts": a["n_districts"].astype(int), "Share left (%)": 100 * a["observed_share"],
        "AUC, districts held out": a["auc"], "AUC, 2010 IMD score only": a["auc_imd_only"],
        "AUC, in sample": a["auc_in_sample"]}).reset_index(drop=True)


def verdict_table(explained: pd.DataFrame, verdicts: pd.DataFrame, release: int,
                  cohort: int) -> pd.DataFrame:
    """The report's five factors: the measure used, its odds multipliers and the verdict."""
    v = explained.merge(verdicts[(verdicts["release"] == release)
                                 & (verdicts["cohort"] == cohort)][
        ["factor", "year", "or_full", "ci_low_full", "ci_high_full", "or_each"]], on="factor")
    v["factor"] = v["factor"].map(lambda f: FACTORS[f].label)
    access = v["theme"] == "access"
    v = v[["report_factor", "factor", "year", "or_full", "ci_low_full", "ci_high_full",
           "or_each", "verdict"]]
    v.columns = ["Factor", "Measured by", "Measured", "Odds multiplier", "95% low",
                 "95% high", "One at a time", "Verdict"]
    v["Verdict"] = v["Verdict"].replace({"not supported": "not shown"})
    v.loc[access.to_numpy(), "Verdict"] += " (access to services, not jobs)"
    return v


def robustness_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Verdicts by outcome release and cohort (does the verdict move with them?)."""
    rob = verdicts.assign(run=verdicts["release"].astype(str) + ", most deprived "
                          + verdicts["cohort"].astype(str) + "%")
    rob = rob.pivot_table(index=["report_factor", "factor"], columns="run", values="verdict",
                          aggfunc="first").reset_index()
    rob["factor"] = rob["factor"].map(lambda f: FACTORS[f].label)
    rob = rob.rename(columns={"report_factor": "Factor", "factor": "Measured by"})
    rob.columns.name = None
    return rob.replace({"not supported": "not shown"})


def area_scores_table(res: Mapping[str, pd.DataFrame], slugs: list[str],
                      names: Mapping[str, str]) -> pd.DataFrame:
    """Per area: predicted chance, expected and observed number leaving, similar places."""
    rows = []
    for slug in slugs:
        r = {"Area": names[slug]}
        for rel in OUTCOME_RELEASES:
            s = res[f"areas_{rel}"].set_index("slug").loc[slug]
            if rel == OUTCOME_RELEASES[0]:
                r["LSOAs"], r["In 2010 group"] = int(s["lsoas"]), int(s["in_cohort"])
            r[f"Predicted {rel} (%)"] = 100 * s["predicted"]
            r[f"Expected to leave by {rel}"] = s["expected_improving"]
            r[f"Left by {rel}"] = int(round(s["observed_improving"]))
            r[f"Similar elsewhere: left by {rel} (%)"] = 100 * s["similar_observed"]
        rows.append(r)
    return pd.DataFrame(rows)


def lsoa_table(res: Mapping[str, pd.DataFrame], table: pd.DataFrame, slugs: list[str],
               names: Mapping[str, str], release: int) -> pd.DataFrame:
    """Target LSOAs: IMD ranks on 2011 LSOAs (1 = most deprived) and predicted chances."""
    lsoas = res[f"lsoas_{release}"]
    other = [r for r in OUTCOME_RELEASES if r != release]
    L = lsoas[lsoas["slug"].isin(slugs)].merge(
        table[["lsoa_code"] + [f"imd_rank_{r}" for r in other]], on="lsoa_code", how="left")
    out = pd.DataFrame({"Area": L["slug"].map(names), "LSOA (2011)": L["lsoa_code"],
                        "IMD rank 2010": L["imd_rank"]})
    for r in sorted(OUTCOME_RELEASES):
        out[f"IMD rank {r}"] = L[f"imd_rank_{r}"].astype("Int64")
    out["Predicted (%)"] = 100 * L["p_model"]
    out["Predicted, district held out (%)"] = 100 * L["p_oof"]
    out[f"Left by {release}"] = L["improved"].map({1.0: "yes", 0.0: "no"}).fillna("not in group")
    return out


def factor_groups_table(res: Mapping[str, pd.DataFrame], slugs: list[str],
                        names: Mapping[str, str], release: int) -> pd.DataFrame:
    """Per area: the odds multiplier against England's cohort of each group of factors."""
    f = res[f"factors_{release}"]
    f = f[f["slug"].isin(slugs)].copy()
    f["group"] = np.where(f["theme"] == "baseline", "2010 deprivation (domain scores)",
                          f["theme"].map(THEMES))
    piv = np.exp(f.groupby(["slug", "group"])["pull_vs_england"].sum().unstack())
    piv.index = piv.index.map(names)
    return piv.reset_index().rename(columns={"slug": "Area"})


def factor_table(res: Mapping[str, pd.DataFrame], slug: str, name: str,
                 release: int) -> pd.DataFrame:
    """One area: each factor's value against England's cohort and similar neighbourhoods,
    and its odds multiplier (above 1 = weighs for leaving the most deprived group)."""
    f = res[f"factors_{release}"]
    f = f[f["slug"] == slug]
    out = pd.DataFrame({
        "Factor": f["label"], "Measured": f["factor"].map(_measured),
        name: f["value_area"], "England's cohort": f["value_england_cohort"],
        "Similar neighbourhoods": f["value_similar"],
        "Multiplier vs England": np.exp(f["pull_vs_england"]),
        "Multiplier vs similar": np.exp(f["pull_vs_similar"])})
    return out.sort_values("Multiplier vs England").reset_index(drop=True)


def vulnerability_summary(res: Mapping[str, pd.DataFrame], slugs: list[str],
                          names: Mapping[str, str]) -> pd.DataFrame:
    """Per area and release: the lowest England percentile (0 = most deprived) among each
    problem's indicators."""
    v = res["vulnerability"]
    v = v[v["slug"].isin(slugs)]
    w = (100 - v.groupby(["slug", "release", "theme"])["percentile"].max()).unstack("theme")
    w = w[[t for t in VULNERABILITY if t in w.columns]]
    w.columns = [VULNERABILITY[t] for t in w.columns]
    w = w.reset_index()
    w["slug"] = w["slug"].map(names)
    w["release"] = w["release"].astype(str)
    return w.rename(columns={"slug": "Area", "release": "IoD"}).sort_values(["IoD", "Area"])


def vulnerability_table(res: Mapping[str, pd.DataFrame], slug: str, name: str) -> pd.DataFrame:
    """One area: each indicator of the report's long-term problems, its value, England's
    median and the area's England percentile (0 = most deprived)."""
    v = res["vulnerability"]
    v = v[v["slug"] == slug]
    level = {"worst 10%": "most deprived 10%", "worst 20%": "most deprived 20%",
             "worse than average": "more deprived than average",
             "better than average": "less deprived than average"}
    t = pd.DataFrame({
        "Problem": v["problem"], "IoD": v["release"].astype(str), "Indicator": v["label"],
        name: v["value"], "England median": v["england_median"],
        "Percentile": 100 - v["percentile"], "Where it stands": v["level"].map(level),
    })
    # each problem's indicators together (both releases), the problem named on its first row
    order = {p: i for i, p in enumerate(dict.fromkeys(t["Problem"]))}
    t = t.sort_values(["Problem", "IoD"], key=lambda c: c.map(order) if c.name == "Problem" else c,
                      kind="stable").reset_index(drop=True)
    t.loc[t["Problem"].duplicated(), "Problem"] = ""
    return t
