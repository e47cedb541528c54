"""Reader sentences for the spend report, written from the results (money in the house
style of ``findings.format``: GBP 0.1m for totals, whole pounds a head)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evidence_pack.analysis.spend import REST, Baseline, Ledger, driver_name
from evidence_pack.analysis.spend_predecessors import Basis
from evidence_pack.findings.format import money, percent
from evidence_pack.sources.io import DataError, read_yaml
from evidence_pack.stores import spend_returns

#: The borough report's method section (area reports point to it, issue 12).
HOW_TO_READ = """## How to read this page

This page estimates a baseline of total public spend in each target area, partners'
contributions included: what a chief executive group needs before deciding where money goes.

* **All partners.** HM Treasury's Country and Regional Analysis says how much
  identifiable public money was spent in each English region, by department and purpose. The
  region's spend is grouped into the partners a chief executive group knows (DWP and HMRC, NHS,
  schools, the council, police, fire, housing, the rest) and shared down to the borough and its
  neighbourhoods by a fitting measure for each partner: income-deprived people for benefits,
  children for schools, recorded crime for police. Local-government spend in the Treasury's
  figures is replaced by the council's own return, so nothing is counted twice.
* **The council.** The council's *net current expenditure* on services, as it
  reported it to government in the Revenue Outturn return: spend less fees, charges and specific
  grants inside each service, schools included; housing benefit, levies and council housing
  rents are outside it.
* **A modelled estimate.** Spend is shared across the borough's neighbourhoods (LSOAs, Lower
  layer Super Output Areas of about 1,500 residents each; "neighbourhood" below) in proportion
  to a *driver*. The areas' figures are estimates of where the money *would* go if it followed
  that driver, not records from anyone's ledgers; the range across other reasonable drivers is
  shown beside each.
* **Partners' own figures.** A partner can replace its modelled figure with its own spend lines
  (the spend ledger template; the pack's documentation gives the format).
* **To the penny.** Every figure is shared in whole pence: the areas plus the rest of the
  borough add up exactly to the input; the money is then rounded for reading.
"""


def key_findings(area_set, first: Baseline, last: Baseline, series: pd.DataFrame,
                 sens: pd.DataFrame, area: str = "borough", base_year: str = "2011-12",
                 ledger: Ledger | None = None) -> list[str]:
    """Plain-English findings written from the data (borough view or one area)."""
    tse = series[series["line"] == spend_returns.TOTAL_SERVICE].set_index("year")
    cash = tse["net_current_expenditure_gbp_thousands"].dropna() * 1000
    # the years the council lines are from (SPEND-15: a new council's nearest year)
    y0, y1 = (b.basis.year_used if b.basis is not None else b.year for b in (first, last))
    cash0 = cash[y0] if y0 in cash.index else float(first.lines["pence"].sum()) / 100
    cash1 = cash[y1] if y1 in cash.index else float(last.lines["pence"].sum()) / 100
    real_col = f"real_{base_year.replace('-', '_')}_prices"
    real = tse[real_col].dropna()
    if area == "borough":
        out = [f"{area_set.la_name} council's net spend on services was {money(cash0)} in "
               f"{y0} and {money(cash1)} in {y1} in cash (MHCLG Revenue "
               "Outturn)."]
        if len(real) and y0 in real.index:
            ry = real.index[-1]
            change = 100 * (real.iloc[-1] / real[y0] - 1)
            out.append(f"In {base_year} prices it {'fell' if change < 0 else 'rose'} by "
                       f"{abs(change):.0f}% between {y0} and {ry}, the latest year the "
                       "GDP deflator covers.")
        out.extend(academy_note(series, y0, y1))
    else:
        out = []
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
        s = sens.set_index("slug").loc[area].drop("default")
        # one sentence, so the council-only range cannot be read against the all-partner one
        out.append(f"Modelled estimate for {first.year}: {r['area']} received about "
                   f"{money(r['spend_gbp'])} of council service spend ({money(s.min())} to "
                   f"{money(s.max())} under other drivers), "
                   f"{money(r['spend_per_head_gbp'], per_head=True)} against "
                   f"{money(t.loc[REST, 'spend_per_head_gbp'], per_head=True)} in the rest of the"
                   f" borough; it has {r['share_of_population_pct']:.1f}% of residents and "
                   f"{r['share_of_need_pct']:.1f}% of income-deprived people. The council's "
                   "spend over time is in the borough's report.")
    if ledger is None or ledger.accepted.empty:
        out.append("No partner has sent its own spend lines yet: the partners' figures are "
                   "modelled from the Treasury's regional analysis; the council's are its own.")
    else:
        n_ok, n_bad = len(ledger.accepted), len(ledger.rejected)
        out.append(f"The partner ledger added {n_ok} line{'s' * (n_ok != 1)} "
                   f"({money(ledger.accepted['pence'].sum() / 100)}, all years); {n_bad} "
                   f"line{'s were' if n_bad != 1 else ' was'} rejected and "
                   f"{'are' if n_bad != 1 else 'is'} listed below with the reason.")
    return out


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def basis_note(b: Basis | None, council: str) -> list[str]:
    """One sentence when the council's lines for ``b.year`` are not its own return for that
    year (a council created since 2011: its predecessors', or the nearest year's); empty
    otherwise. Council names come from the returns."""
    if b is None or (b.method == "own" and b.year_used == b.year) or b.method == "none":
        return []
    if b.method == "own":
        return [f"{council} council has no Revenue Outturn of its own for {b.year}, so its "
                f"{b.year_used} figures, the nearest year it reported, stand in for {b.year}."]
    c = b.councils
    kind = {"SD": "district", "SC": "county", "UA": "unitary", "MD": "metropolitan"}
    whole = c[c["share"] >= 0.9995]
    parts = [f"{_and(list(g['la_name']))} {kind.get(cls, '')} council"
             + ("s" if len(g) > 1 else "")
             for cls, g in whole.groupby("la_class", sort=True)]
    parts = [p.replace("  ", " ") for p in sorted(parts, key=lambda p: "county" in p)]
    if parts:
        parts[-1] += " in full"
    parts += [f"{percent(r.share)} of {r.la_name} {kind.get(r.la_class, '')} council's "
              f"(the share of the county's residents living in {council}, ONS mid-2015)"
              for r in c[c["share"] < 0.9995].itertuples()]
    if b.year_used == b.year:
        lead = (f"{council} council did not exist in {b.year}: its spend for that year is the "
                "spend of the councils whose area it took over, ")
    else:
        lead = (f"{council} council has no Revenue Outturn of its own for {b.year}, so the "
                f"spend in {b.year_used} (the nearest year that can be added up) of the "
                "councils whose area it took over stands in: ")
    return [lead + _and(parts) + "."]


def series_note(series: pd.DataFrame, council: str, first_own: str | None) -> list[str]:
    """One sentence when the trend starts before the council's first own return (a council
    created since 2011: earlier years are its predecessors' sums, SPEND-15); else empty."""
    years = sorted(series["year"].unique())
    if not years or first_own is None or years[0] >= first_own:
        return []
    return [f"{council} council's first Revenue Outturn is for {first_own}: the years from "
            f"{years[0]} are the spend of the councils whose area it took over, added up "
            "as the key findings describe."]


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


# --------------------------------------------------------------------------- partners


def cabinet_claim(areas_file: str | Path) -> str | None:
    """The Cabinet report's public-spend claim from the areas file's optional
    ``reference: {public_spend_claim: ...}`` block (plain text), or None when absent."""
    try:
        doc = read_yaml(areas_file, "areas file")
    except DataError:
        return None
    ref = doc.get("reference") if isinstance(doc, dict) else None
    claim = ref.get("public_spend_claim") if isinstance(ref, dict) else None
    return str(claim).strip() if claim else None


def _place_total(table: pd.DataFrame, slug: str) -> tuple[float, float, float]:
    t = table[table["area_slug"] == slug]
    return float(t["gbp"].sum()), float(t["gbp_low"].sum()), float(t["gbp_high"].sum())


def partner_findings(t0: pd.DataFrame, t1: pd.DataFrame, year0: str, year1: str, place: str,
                     slug: str, england_per_head: float | None = None,
                     claim: str | None = None) -> list[str]:
    """Sentences on total public spend by partner for the district (``slug`` "district")
    or one area: total and range, the largest partners, per head against the rest of the
    district (areas) or England (district), the change to the latest year, and the Cabinet
    claim when the areas file carries it."""
    tot, lo, hi = _place_total(t0, slug)
    out = [f"Modelled estimate: about {money(tot)} of identifiable public money was spent in "
           f"{place} in {year0} by all partners together ({money(lo)} to {money(hi)} across "
           "reasonable ways of sharing regional spend), not a record of payments."]
    top = t0[t0["area_slug"] == slug].sort_values("gbp", ascending=False).head(3)
    out.append("The largest shares were " + ", ".join(
        f"{r.partner} ({money(r.gbp)})" for r in top.itertuples()) + ".")
    pop = t0[t0["area_slug"] == slug]
    ph = tot / float((pop["gbp"] / pop["gbp_per_head"]).dropna().iloc[0])
    if slug == "district" and england_per_head:
        out.append(f"That is {money(ph, per_head=True)} (Census 2021 residents), against "
                   f"{money(england_per_head, per_head=True)} for England as a whole.")
    elif slug != "district":
        rest = t0[t0["area_slug"] == "rest"]
        rph = float(rest["gbp"].sum()) / float((rest["gbp"] / rest["gbp_per_head"]).iloc[0])
        out.append(f"That is {money(ph, per_head=True)} (Census 2021 residents) against "
                   f"{money(rph, per_head=True)} in the rest of the borough.")
    tot1 = _place_total(t1, slug)[0]
    out.append(f"In {year1}, the latest year the Treasury's regional analysis covers, the "
               f"estimate is {money(tot1)} in cash.")
    if claim and slug == "district":
        verdict = "consistent with" if lo > 1e9 else "not clearly above"
        out.append(f"The 2011 Cabinet report said: \u201c{claim}\u201d. The modelled total for "
                   f"{year0}, {money(tot)}, is {verdict} that.")
    return out


def key_figures(first: Baseline, partners: pd.DataFrame, area: str) -> dict:
    """The report's key figures (GBP million, rounded as published in the index)."""
    t = first.areas.set_index("slug")
    slug = "district" if area == "borough" else area
    place = t.drop(REST)["spend_gbp"].sum() if area == "borough" else t.loc[area, "spend_gbp"]
    return {"baseline_year": first.year,
            "council_service_spend_gbp_m": round(float(t["spend_gbp"].sum()) / 1e6, 1),
            "target_areas_spend_gbp_m": round(float(place) / 1e6, 2),
            "public_spend_gbp_m": round(float(partners.loc[partners["area_slug"] == slug,
                                                           "gbp"].sum()) / 1e6, 1),
            "modelled_estimate": True}
