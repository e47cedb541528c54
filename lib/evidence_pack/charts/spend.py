"""Figures of the spend report. Each function returns (figure, alt text); text is at least
9 pt on an 8-inch figure (at least 7 pt printed on A4), dark on white."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from evidence_pack.analysis.apportion import REST
from evidence_pack.findings.format import money
from evidence_pack.stores import spend_returns

FONT = 9.5
DARK, MID, LIGHT = "#1b1b1b", "#3a6ea5", "#b8b8b8"


def _style(ax) -> None:
    ax.tick_params(labelsize=FONT, colors=DARK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def trend(series: pd.DataFrame, la_name: str, baseline_year: str, price_base: str):
    """Council net current expenditure on services by year, cash and real terms."""
    tse = series[series["line"] == spend_returns.TOTAL_SERVICE].set_index("year")
    real_col = f"real_{price_base.replace('-', '_')}_prices"
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(tse.index, tse["net_current_expenditure_gbp_thousands"] / 1000, marker="o",
            color=DARK, label="cash")
    ax.plot(tse.index, tse[real_col] / 1000, marker="s", color=MID,
            label=f"{price_base} prices (GDP deflator)")
    ax.axvline(baseline_year, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("£ million", fontsize=FONT)
    ax.set_title(f"{la_name} council: net current expenditure on services", fontsize=FONT + 1)
    ax.tick_params(axis="x", rotation=60)
    ax.legend(frameon=False, fontsize=FONT)
    ax.set_ylim(bottom=0)
    _style(ax)
    real = tse[real_col].dropna()
    alt = (f"Line chart of {la_name} council's total net current expenditure on services from "
           f"{tse.index[0]} to {tse.index[-1]}, in cash and in {price_base} prices; the "
           f"real-terms line stops in {real.index[-1] if len(real) else 'n/a'}, the last year "
           "the deflator covers.")
    return fig, alt


def share_of_need(areas: pd.DataFrame, year: str):
    """Each target area's share of council spend against its share of income-deprived people."""
    t = areas[areas["slug"] != REST]
    fig, ax = plt.subplots(figsize=(8, 4))
    y = range(len(t))
    ax.barh([i + 0.2 for i in y], t["share_of_spend_pct"], height=0.4, color=MID,
            label="% of council service spend")
    ax.barh([i - 0.2 for i in y], t["share_of_need_pct"], height=0.4, color=LIGHT,
            label="% of income-deprived people")
    ax.set_yticks(list(y), t["area"])
    ax.invert_yaxis()
    ax.set_xlabel("% of the borough", fontsize=FONT)
    ax.legend(frameon=False, loc="lower right", fontsize=FONT)
    ax.set_title(f"Share of spend against share of need, {year} (modelled)", fontsize=FONT + 1)
    _style(ax)
    every = (t["share_of_need_pct"] > t["share_of_spend_pct"]).all()
    alt = ("Horizontal bar chart comparing, for each target area, its modelled share of the "
           f"council's service spend in {year} with its share of the borough's income-deprived "
           "people" + ("; every area's share of need is larger than its share of spend."
                       if every else "."))
    return fig, alt


def driver_range(sens: pd.DataFrame, names: dict[str, str], year: str):
    """For each target area, the lowest to highest modelled council spend across drivers."""
    s = sens.set_index("slug")
    per = s.drop(REST).drop(columns="default").reindex([x for x in names if x in s.index]) / 1e6
    fig, ax = plt.subplots(figsize=(8, 4))
    yy = list(range(len(per)))
    ax.hlines(yy, per.min(axis=1), per.max(axis=1), color=LIGHT, lw=6)
    ax.plot(s.loc[per.index, "default"] / 1e6, yy, "o", color=DARK, label="default drivers")
    ax.set_yticks(yy, [names[x] for x in per.index])
    ax.invert_yaxis()
    ax.set_xlabel("£ million", fontsize=FONT)
    ax.legend(frameon=False, loc="lower right", fontsize=FONT)
    ax.set_title(f"Range of each area's modelled spend across the drivers, {year}",
                 fontsize=FONT + 1)
    _style(ax)
    alt = ("For each target area, a grey bar spans the lowest to the highest modelled council "
           f"spend in {year} across the alternative drivers, with a dot at the estimate under "
           "the default drivers.")
    return fig, alt


def partners(table: pd.DataFrame, slug: str, place: str, year: str):
    """Spend by partner for one place (an area slug, "rest" or "district"): bars at the
    estimate, whiskers across the drivers; GBP million."""
    t = table[table["area_slug"] == slug].iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    y = list(range(len(t)))
    est = t["gbp"] / 1e6
    ax.barh(y, est, color=[MID if s == "modelled" else DARK for s in t["source"]])
    ax.errorbar(est, y, xerr=[est - t["gbp_low"] / 1e6, t["gbp_high"] / 1e6 - est],
                fmt="none", ecolor=DARK, capsize=3, lw=1)
    ax.set_yticks(y, t["partner"])
    ax.set_xlabel("£ million", fontsize=FONT)
    ax.set_title(f"{place}: public spend by partner, {year} (modelled estimate)",
                 fontsize=FONT + 1)
    _style(ax)
    top = t.sort_values("gbp", ascending=False).iloc[0]
    alt = (f"Horizontal bar chart of public spend in {place} in {year} by partner, with "
           f"whiskers for the range across reasonable drivers; the largest is {top['partner']} "
           f"at about {money(top['gbp'])}, and the total is {money(t['gbp'].sum())}.")
    return fig, alt
