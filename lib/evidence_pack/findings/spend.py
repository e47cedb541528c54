"""Reader sentences for the spend report, written from the results (money in the house
style of ``findings.format``: GBP 0.1m for totals, whole pounds a head)."""

from __future__ import annotations

import pandas as pd

from evidence_pack.analysis.spend import REST, Baseline, Ledger, driver_name
from evidence_pack.findings.format import money
from evidence_pack.stores import spend_returns


def key_findings(area_set, first: Baseline, last: Baseline, series: pd.DataFrame,
                 sens: pd.DataFrame, area: str = "borough", base_year: str = "2011-12",
                 ledger: Ledger | None = None) -> list[str]:
    """Plain-English findings written from the data (borough view or one area)."""
    tse = series[series["line"] == spend_returns.TOTAL_SERVICE].set_index("year")
    cash0 = tse.loc[first.year, "net_current_expenditure_gbp_thousands"] * 1000
    cash1 = tse.loc[last.year, "net_current_expenditure_gbp_thousands"] * 1000
    real_col = f"real_{base_year.replace('-', '_')}_prices"
    real = tse[real_col].dropna()
    out = [f"{area_set.la_name} council's net spend on services was {money(cash0)} in "
           f"{first.year} and {money(cash1)} in {last.year} in cash (MHCLG Revenue Outturn)."]
    if len(real) and first.year in real.index:
        ry = real.index[-1]
        change = 100 * (real.iloc[-1] / real[first.year] - 1)
        out.append(f"In {base_year} prices it {'fell' if change < 0 else 'rose'} by "
                   f"{abs(change):.0f}% between {first.year} and {ry}, the latest year the GDP "
                   "deflator covers.")
    out.extend(academy_note(series, first.year, last.year))
    t = first.areas.set_index("slug")
    targets = t.drop(REST)
    if area == "borough":
        sp, pp, nd = (targets["share_of_spend_pct"].sum(), targets["share_of_population_pct"].sum(),
                      targets["share_of_need_pct"].sum())
        ph_t = targets["spend_gbp"].sum() / targets["population"].sum()
        ph_r = t.loc[REST, "spend_per_head_gbp"]
        out.append(f"Modelled estimate for {first.year}: the {len(targets)} target areas "
                   f"received about {money(targets['spend_gbp'].sum())} ({sp:.1f}% of council "
                   f"service spend) for {pp:.1f}% of residents and {nd:.1f}% of income-deprived "
                   f"people: {money(ph_t, per_head=True)} against {money(ph_r, per_head=True)} in "
                   "the rest of the borough.")
        s = sens.set_index("slug").drop(REST).sum()
        lo, hi = s.drop("default").idxmin(), s.drop("default").idxmax()
        out.append(f"The estimate depends on the driver: sharing every line by "
                   f"{driver_name(lo)} gives the target areas {money(s[lo])}, by "
                   f"{driver_name(hi)} {money(s[hi])}, against {money(s['default'])} with the "
                   "default drivers.")
    else:
        r = t.loc[area]
        out.append(f"Modelled estimate for {first.year}: {r['area']} received about "
                   f"{money(r['spend_gbp'])} of council service spend, "
                   f"{money(r['spend_per_head_gbp'], per_head=True)} against "
                   f"{money(t.loc[REST, 'spend_per_head_gbp'], per_head=True)} in the rest of the"
                   f" borough; it has {r['share_of_population_pct']:.1f}% of residents and "
                   f"{r['share_of_need_pct']:.1f}% of income-deprived people.")
        s = sens.set_index("slug").loc[area]
        out.append(f"Under alternative drivers the estimate ranges from {money(s.drop('default').min())}"
                   f" to {money(s.drop('default').max())}.")
    if ledger is None or ledger.accepted.empty:
        out.append("No partner ledger has been received: police, NHS and other partners' "
                   "spend is not in these figures yet.")
    else:
        n_ok, n_bad = len(ledger.accepted), len(ledger.rejected)
        out.append(f"The partner ledger added {n_ok} line{'s' * (n_ok != 1)} "
                   f"({money(ledger.accepted['pence'].sum() / 100)}, all years); {n_bad} "
                   f"line{'s were' if n_bad != 1 else ' was'} rejected and "
                   f"{'are' if n_bad != 1 else 'is'} listed below with the reason.")
    return out


def academy_note(series: pd.DataFrame, first_year: str, last_year: str) -> list[str]:
    """One sentence when the council's education spend (cash, RS) falls between the years:
    schools that became academies are paid for directly by the Department for Education,
    so their spend leaves the council's accounts; empty when it does not fall."""
    edu = series[(series["line"] == spend_returns.SERVICE) & (series["service"] == "Education")]
    edu = edu.groupby("year")["net_current_expenditure_gbp_thousands"].sum() * 1000
    if first_year not in edu.index or last_year not in edu.index:
        return []
    before, after = float(edu[first_year]), float(edu[last_year])
    if after >= before:
        return []
    return [f"Much of the fall is schools leaving the council's accounts, not less spent on "
            f"pupils: the council's education spend went from {money(before)} in {first_year} to "
            f"{money(after)} in {last_year} as schools became academies, which the Department "
            "for Education funds directly."]
