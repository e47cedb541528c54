"""Reader tables of the spend report: results with plain column names, money in £ million
(0.1m) or whole pounds a head, one view per table. Built from ``analysis.spend`` and
``analysis.partner_spend`` results; the notebook only shows them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from evidence_pack.analysis.apportion import REST
from evidence_pack.analysis.spend import Baseline, driver_name
from evidence_pack.stores import spend_returns

REST_LABEL = "Rest of borough"


def _whole(values: pd.Series) -> pd.array:
    """Whole pounds (shown without decimals whatever the table's ``decimals``)."""
    return pd.array(values.round().to_numpy(), dtype="Int64")


def partner_table(t0: pd.DataFrame, t1: pd.DataFrame, year0: str, year1: str, slug: str,
                  compare: str | None = None) -> pd.DataFrame:
    """By partner for one place: £m and range in ``year0``, £ a head, £m in ``year1`` and
    the source; ``compare`` ("rest") adds that place's £ a head."""
    a = t0[t0["area_slug"] == slug].set_index("partner")
    b = t1[t1["area_slug"] == slug].set_index("partner")
    out = pd.DataFrame({
        "partner": a.index,
        f"{year0} (£m)": a["gbp"].to_numpy() / 1e6,
        "range across drivers (£m)": [f"{lo / 1e6:,.1f} to {hi / 1e6:,.1f}" for lo, hi in
                                      zip(a["gbp_low"], a["gbp_high"], strict=True)],
        f"{year0} £ a head": _whole(a["gbp_per_head"])})
    if compare is not None:
        c = t0[t0["area_slug"] == compare].set_index("partner")["gbp_per_head"]
        out[f"{year0} £ a head, rest of borough"] = _whole(c.reindex(a.index))
    out[f"{year1} (£m)"] = b["gbp"].reindex(a.index).to_numpy() / 1e6
    if (a["source"] != "modelled").any():  # all modelled: the caption says so once
        out["source"] = a["source"].map({"modelled": "modelled estimate",
                                         "ledger": "partner ledger"}).to_numpy()
    total = {"partner": "All partners", f"{year0} (£m)": out[f"{year0} (£m)"].sum(),
             "range across drivers (£m)": f"{a['gbp_low'].sum() / 1e6:,.1f} to "
                                          f"{a['gbp_high'].sum() / 1e6:,.1f}",
             f"{year1} (£m)": out[f"{year1} (£m)"].sum(), **({"source": ""} if "source" in out else {})}
    table = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    return table.rename(columns={c: c[0].upper() + c[1:] for c in table.columns})


def reconciliation_table(rec: pd.DataFrame) -> pd.DataFrame:
    """Region -> district -> target areas + rest, £ (to the penny), by partner and driver."""
    return pd.DataFrame({
        "partner": rec["partner"],
        "shared by": [driver_name(d) if d in _DRIVER_KEYS else d for d in rec["driver"]],
        "region (£)": rec["region_gbp"], "district (£)": rec["district_gbp"],
        "target areas (£)": rec["areas_gbp"], "rest of district (£)": rec["rest_gbp"],
        "difference (£)": rec["check_gbp"]})


_DRIVER_KEYS = {"population", "children", "older_people", "income_deprived",
                "employment_deprived", "income_deprived_children", "income_deprived_older",
                "social_rented", "crime", "area"}


def area_view(b: Baseline, area: str, names: dict[str, str]) -> pd.DataFrame:
    """Council spend per target area (modelled), with an all-target-areas row; one area and
    the totals when ``area`` is an area slug."""
    t = b.areas.rename(columns={"spend_gbp": "council spend (£)", "population": "residents",
                                "spend_per_head_gbp": "per head (£)",
                                "share_of_spend_pct": "% of spend",
                                "share_of_population_pct": "% of residents",
                                "share_of_need_pct": "% of income-deprived"}).drop(columns="slug")
    targets = t.iloc[:-1]
    total = {"area": "All target areas", **{c: targets[c].sum() for c in (
        "council spend (£)", "residents", "% of spend", "% of residents",
        "% of income-deprived")}}
    total["per head (£)"] = total["council spend (£)"] / total["residents"]
    v = pd.concat([t, pd.DataFrame([total])], ignore_index=True)
    if area != "borough":
        v = v[v["area"].isin([names[area], "All target areas", REST_LABEL])]
    v["council spend (£)"] = v["council spend (£)"].round().astype("int64")
    v["per head (£)"] = _whole(v["per head (£)"])
    return v


def table_years(series: pd.DataFrame, baseline_year: str, latest_year: str) -> list[str]:
    """The years shown in the services table: the first, the baseline, two between, the
    latest (those the series has)."""
    have = set(series["year"])
    return list(dict.fromkeys(y for y in ["2007-08", baseline_year, "2015-16", "2019-20",
                                          latest_year] if y in have))


def services_table(series: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    """Council net current expenditure by service (£ million cash) for ``years``, with the
    total service expenditure row."""
    svc = series[series["line"] == spend_returns.SERVICE]
    tse = series[series["line"] == spend_returns.TOTAL_SERVICE].set_index("year")
    wide = (svc[svc["year"].isin(years)].pivot_table(
        index="service", columns="year", values="net_current_expenditure_gbp_thousands",
        aggfunc="sum", sort=False) / 1000)
    wide = wide.loc[wide.abs().sum(axis=1) > 0].reset_index()
    total = {"service": "Total service expenditure",
             **{y: tse.loc[y, "net_current_expenditure_gbp_thousands"] / 1000 for y in years}}
    wide = pd.concat([wide, pd.DataFrame([total])], ignore_index=True)
    wide.columns = ["service", *[f"{y} (£m, cash)" for y in years]]
    return wide


def service_area_table(b: Baseline, area: str, names: dict[str, str]) -> pd.DataFrame:
    """Council spend by service: every area in £ thousand (borough) or one area in £ with £ a
    head and the driver that shared it."""
    a = b.apportioned.assign(gbp=b.apportioned["pence"] / 100)
    if area != "borough":
        a = a[a["slug"] == area]
        out = a.groupby(["service", "driver_used"], sort=False)["gbp"].sum().reset_index()
        out["£ a head"] = _whole(out["gbp"] / float(b.population.get(area, float("nan"))))
        out["driver_used"] = out["driver_used"].map(lambda d: driver_name(d) if d else "direct")
        out["gbp"] = _whole(out["gbp"])
        return out.rename(columns={"gbp": "£", "driver_used": "shared by"})
    tab = a.pivot_table(index="service", columns="slug", values="gbp", aggfunc="sum",
                        sort=False).reset_index()
    order = [x for x in [*names, REST] if x in tab.columns]
    tab = tab[["service", *order]].rename(columns={**names, REST: REST_LABEL})
    for c in tab.columns[1:]:
        tab[c] = tab[c] / 1000
    return tab


def area_services_by_year(baselines: list[Baseline], area: str) -> pd.DataFrame:
    """One area's council spend by service for several years side by side (£ and £ a head per
    year; blank where a service is not a line that year), the driver that shared it first."""
    out: pd.DataFrame | None = None
    for b in baselines:
        t = service_area_table(b, area, {}).rename(columns={"£": f"{b.year} (£)",
                                                             "£ a head": f"{b.year} £ a head"})
        if out is None:
            out = t
        else:
            out = out.merge(t.drop(columns="shared by"), on="service", how="outer", sort=False)
            out["shared by"] = out["shared by"].fillna(t.set_index("service")["shared by"]
                                                       .reindex(out["service"]).reset_index(drop=True))
    assert out is not None, "no baseline given"
    # services in the order the returns list them (an outer merge sorts them by name)
    order = list(dict.fromkeys(x for b in baselines for x in b.apportioned["service"]))
    out = out.set_index("service").reindex([x for x in order if x in set(out["service"])])
    return out.reset_index().rename(columns={"service": "Service", "shared by": "Shared by"})


def area_view_by_year(baselines: list[Baseline], area: str, names: dict[str, str]) -> pd.DataFrame:
    """``area_view`` for several years in one table, a year column first."""
    return pd.concat([area_view(b, area, names).assign(year=b.year) for b in baselines],
                     ignore_index=True).pipe(lambda t: t[["year", *t.columns[:-1]]])


def in_two_parts(tab: pd.DataFrame) -> list[pd.DataFrame]:
    """A wide service x area table as two narrower tables (first column repeated)."""
    cols = list(tab.columns[1:])
    half = (len(cols) + 1) // 2
    return [tab[[tab.columns[0], *chunk]] for chunk in (cols[:half], cols[half:])]


def sensitivity_table(sens: pd.DataFrame, area: str, names: dict[str, str],
                      population: pd.Series) -> pd.DataFrame:
    """Council spend when every line is shared by one driver, against the defaults (£m)."""
    s = sens.set_index("slug")
    total = s.sum()
    labels = ["the default drivers", *[driver_name(d) for d in s.columns if d != "default"]]
    if area == "borough":
        t = s.drop(REST).sum()
        return pd.DataFrame({"shared by": labels,
                             "all target areas (£m)": [t[c] / 1e6 for c in s.columns],
                             "% of council service spend": [100 * t[c] / total[c]
                                                            for c in s.columns],
                             "rest of borough (£m)": [s.loc[REST, c] / 1e6 for c in s.columns]})
    pop = float(population[area])
    return pd.DataFrame({"shared by": labels,
                         f"{names[area]} (£m)": [s.loc[area, c] / 1e6 for c in s.columns],
                         "£ a head": _whole(pd.Series([s.loc[area, c] / pop for c in s.columns])),
                         "% of council service spend": [100 * s.loc[area, c] / total[c]
                                                        for c in s.columns]})


def whatif_table(w: pd.DataFrame, area: str, names: dict[str, str]) -> pd.DataFrame:
    """The section 7.4 what-if in whole pounds and pounds a head."""
    v = pd.DataFrame({"area": w["slug"].map(lambda x: names.get(x, REST_LABEL)),
                      "before (£)": _whole(w["before_gbp"]), "moved (£)": _whole(w["moved_gbp"]),
                      "after (£)": _whole(w["after_gbp"]),
                      "£ a head before": _whole(w["per_head_before_gbp"]),
                      "£ a head after": _whole(w["per_head_after_gbp"])})
    return v if area == "borough" else v[v["area"].isin([names[area], REST_LABEL])]


def pot_table(pot: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The small pot shared by need, to the whole pound."""
    return pd.DataFrame({"area": pot["slug"].map(names), "income-deprived people": pot["need"],
                         "% of the pot": pot["share_pct"],
                         "allocation (£)": _whole(pot["allocation_gbp"])})


def ledger_tables(ledger) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reconciliation: input = accepted + rejected, rejected rows with reasons)."""
    rec = ledger.reconciliation.reset_index().rename(columns={"index": "ledger rows"})
    rec["pence"] = rec["pence"] / 100
    rec = rec.rename(columns={"pence": "£ (readable amounts)",
                              "rows_without_amount": "rows with no readable amount"})
    return rec, ledger.rejected[["row", "partner", "service", "amount", "reason"]]


def ledger_source(ledger_file: str | Path) -> str:
    """The source line of ledger tables: the ledger's file name only, never its folder (no
    local paths in published reports)."""
    name = re.split(r"[\\/]", str(ledger_file))[-1]  # POSIX or Windows folders
    return f"Source: partner spend ledger {name} (partners' own returns)."
