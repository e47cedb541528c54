"""Baseline spend: the council's own spend from the official returns (plus an accepted
partner ledger) shared to the target areas by drivers, with sensitivity and the what-if of
the 2011 report's section 7.4.

Money is integer pence (``apportion``), split by the largest-remainder method, so areas +
rest of borough = input exactly, to the penny. Council returns (RS/RA, GBP thousand, cash)
are read by ``stores.spend_returns``; the drivers and their config are in
``spend_drivers``; the ledger in ``ledger``; reader sentences in ``findings.spend``.
Caveats: docs/caveats/spend.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import spend_predecessors
from evidence_pack.analysis.apportion import (  # noqa: F401 (re-exported for notebooks)
    REST,
    apportion_many,
    apportion_pence,
    area_baseline,
    pieces,
    share_lines,
    thousands_to_pence,
)
from evidence_pack.analysis.ledger import (  # noqa: F401
    LEDGER_COLUMNS,
    LEDGER_TEMPLATE,
    Ledger,
    neutralise_formulas,
    parse_amount_pence,
    read_ledger,
)
from evidence_pack.analysis.spend_drivers import (  # noqa: F401
    APPORTIONMENT_FILE,
    DRIVER_NAMES,
    DRIVERS,
    Apportionment,
    Driver,
    district_lsoas,
    driver_name,
    driver_sources,
    driver_weights,
    drivers_table,
    load_apportionment,
    members_at,
    residents_2021,
    ward_members,
)
from evidence_pack.analysis.spend_predecessors import first_own_year  # noqa: F401
from evidence_pack.sources import table_cache
from evidence_pack.sources.io import DataError
from evidence_pack.stores import economy, spend_returns

prepare = spend_returns.prepare
load_council_spend = spend_returns.load

# ------------------------------------------------------------------- council spend lines


def council_lines(la_code: str = config.DEFAULT_LA_CODE, year: str = "2011-12",
                  source: str = "RS", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The council's own net current expenditure by service as ledger lines (borough-wide,
    driver blank = the configured default), amounts in pence. Services with zero net spend
    are dropped; negative net spend (income above cost) is kept as published. For a year
    before a council created since 2011 existed, its predecessors' lines with their shares
    (or its first own year): ``spend_predecessors.basis``, caveat SPEND-15.
    """
    df = table if table is not None else load_council_spend()
    b = council_basis(la_code, year, source, df)
    sel = spend_predecessors.basis_lines(b, source, df)
    if sel.empty:
        raise DataError(spend_returns.OUTPUT, f"no {source} {year} lines for {la_code}")
    v = sel["net_current_expenditure_gbp_thousands"].fillna(0.0) * sel["share"]
    name = (sel["la_name"].iloc[0] if b.method == "own"
            else df.loc[df["lad_code"] == la_code, "la_name"].iloc[-1])
    what = ("net current expenditure" if b.method == "own"
            else "net current expenditure of its predecessor councils")
    if b.year_used != year:
        what += f", {b.year_used} in place of {year}"
    label = sel["service_label"] + np.where(
        sel["predecessor"] != "", " (" + sel["predecessor"] + ", "
        + (100 * sel["share"]).round(1).astype(str) + "%)", "")
    out = pd.DataFrame({
        "partner": f"{name} council ({source} {what})",
        "service": sel["service"].to_numpy(), "financial_year": year,
        "geography_type": "borough", "geography_code": "", "driver": "",
        "pence": [thousands_to_pence(x) for x in v],
        "source_line": [f"{source} {b.year_used} '{lab}'" for lab in label],
    })
    return out[out["pence"] != 0].reset_index(drop=True)


def council_basis(la_code: str, year: str, source: str = "RS",
                  table: pd.DataFrame | None = None) -> spend_predecessors.Basis:
    """Where the council's ``year`` lines come from (own return, predecessors, first year)."""
    df = table if table is not None else load_council_spend()
    return spend_predecessors.basis(la_code, year, source, df)


def real_terms(series: pd.DataFrame, base_year: str = "2011-12",
               deflator: pd.Series | None = None, value: str = "net_current_expenditure_gbp_thousands"
               ) -> pd.DataFrame:
    """Add ``real_<base_year>_prices`` = cash x 100 / deflator[year] (GDP deflator,
    financial years, England; ``economy.gdp_deflator``). Years the deflator does not cover
    get NaN (caveat SPEND-6)."""
    if deflator is None:
        deflator = economy.gdp_deflator(base_year, basis="financial")
    out = series.copy()
    out["deflator"] = out["year"].map(deflator)
    out[f"real_{base_year.replace('-', '_')}_prices"] = out[value] * 100 / out["deflator"]
    return out


def _drivers_of(service: pd.Series, own: pd.Series, override: Mapping[str, str],
                cfg: Apportionment) -> np.ndarray:
    """Each line's driver: the override for its service, else its own (non-blank), else the
    configured default for its service (vectorised over unique services)."""
    own = own.where(own.map(lambda d: isinstance(d, str) and d != ""), None)
    chosen = service.map(dict(override)) if override else pd.Series(None, index=service.index)
    chosen = chosen.where(chosen.notna(), own)
    default = service.map({s: cfg.driver_for(s) for s in service.unique()})
    return chosen.where(chosen.notna(), default).to_numpy(dtype=object)


#: Memoised ward and LSOA pieces (see ``apportion``).
_PIECES: dict[tuple, pd.DataFrame] = {}


def _long(line_index: np.ndarray, shares: pd.DataFrame, driver: str) -> pd.DataFrame:
    """A lines x slugs share matrix as long rows (line, slug, driver_used, pence)."""
    n, slugs = len(shares), list(shares.columns)
    return pd.DataFrame({"line": np.repeat(line_index, len(slugs)),
                         "slug": np.tile(np.array(slugs, dtype=object), n),
                         "driver_used": driver, "pence": shares.to_numpy().ravel()})


def apportion(lines: pd.DataFrame, area_set=None, *, config_: Apportionment | None = None,
              override: Mapping[str, str] | None = None, weights: Mapping[str, pd.Series] | None = None,
              members: Mapping[int, pd.DataFrame] | None = None, ward_lsoas=None,
              la_code: str | None = None, lsoa_vintage: int | None = None,
              totals_only: bool = False) -> pd.DataFrame | pd.Series:
    """Share every ledger line between the target areas and the rest of the borough.

    ``lines``: partner, service, financial_year, geography_type, geography_code, driver,
    pence (as ``read_ledger(...).accepted`` or ``council_lines``). A borough line is shared
    by its driver (blank = the configured default for its service; ``override`` {service:
    driver} wins over both); an area line goes to that area; an LSOA or ward line is shared
    between areas and the rest by membership (ward: by the line's driver across the ward's
    LSOAs). ``weights`` {driver: Series by LSOA} and ``members`` {vintage: members frame}
    may be given (tests); otherwise they are built from the processed store. An LSOA line's
    code is taken as 2021 when it is a 2021 LSOA of the district, else 2011 (or
    ``lsoa_vintage``). Vectorised: lines sharing a driver (and ward or LSOA) are shared in
    one matrix operation (``apportion.share_lines``).
    Returns one row per line x slug: ..., slug, driver_used, pence (``totals_only``: just
    pence by slug, for the sensitivity runs). Conserves every line.
    """
    cfg = config_ or load_apportionment()
    weights_given, members_given = weights, members
    la = la_code or (area_set.la_code if area_set is not None else config.DEFAULT_LA_CODE)
    weights = dict(weights or {})
    members_cache = dict(members or {})

    def w(name: str) -> pd.Series:
        if name not in weights:
            weights[name] = driver_weights(name, la)
        return weights[name]

    def mem(vintage: int) -> pd.DataFrame:
        if vintage not in members_cache:
            members_cache[vintage] = members_at(area_set, vintage)
        return members_cache[vintage]

    cacheable = not weights_given and not members_given and ward_lsoas is None

    def cut(kind: str, code: str, drv: str, vintage: int, make) -> pd.DataFrame:
        """``pieces`` for a ward or LSOA line, memoised across calls (sensitivity runs)
        when drivers and members come from the store."""
        if not cacheable:
            return make()
        key = (la, kind, code, drv, vintage, id(mem(vintage)))
        if key not in _PIECES:
            _PIECES[key] = make()
        return _PIECES[key]

    lines = lines.reset_index(drop=True)
    keep = [c for c in lines.columns if c not in {"pence", "slug"}]
    over = override or {}
    own = lines["driver"] if "driver" in lines else pd.Series("", index=lines.index)
    work = pd.DataFrame({
        "gtype": lines["geography_type"], "code": lines.get("geography_code", ""),
        "pence": lines["pence"].astype("int64"),
        "row": lines["row"] if "row" in lines else None,
        "drv": _drivers_of(lines["service"], own, over, cfg)})
    unknown = work[~work["gtype"].isin(["area", "borough", "ward", "lsoa"])]
    if len(unknown):
        raise DataError("<ledger>", f"unknown geography_type {unknown['gtype'].iloc[0]!r}",
                        row=unknown["row"].iloc[0])
    parts = []
    area = work[work["gtype"] == "area"]
    parts.append(pd.DataFrame({"line": area.index, "slug": area["code"], "driver_used": "",
                               "pence": area["pence"]}))
    for drv, g in work[work["gtype"] == "borough"].groupby("drv", sort=False):
        p = pieces(w(drv), mem(DRIVERS[drv].vintage))
        parts.append(_long(g.index.to_numpy(), share_lines(g["pence"], p), drv))
    for (code, drv), g in work[work["gtype"] == "ward"].groupby(["code", "drv"], sort=False):
        vintage = DRIVERS[drv].vintage
        lookup = ward_lsoas if ward_lsoas is not None else ward_members(la, vintage)
        weight = w(drv)
        weight = weight[weight.index.isin(lookup.get(code, ()))]
        if weight.empty or weight.sum() <= 0:
            raise DataError("<ledger>", f"ward {code} has no LSOAs on the {vintage} vintage",
                            row=g["row"].iloc[0])
        p = cut("ward", code, drv, vintage, lambda weight=weight, v=vintage: pieces(weight, mem(v)))
        parts.append(_long(g.index.to_numpy(), share_lines(g["pence"], p), drv))
    lsoa = work[work["gtype"] == "lsoa"]
    if len(lsoa):
        # An LSOA wholly in one area (or wholly in the rest) needs no sharing: one piece.
        split = {}
        for code in lsoa["code"].unique():
            vintage = lsoa_vintage or (2021 if code in district_lsoas(la, 2021) else 2011)
            split[code] = cut("lsoa", code, "", vintage, lambda c=code, v=vintage: pieces(
                pd.Series([1.0], index=[c]), mem(v)))
        only = {c: p["slug"].iloc[0] for c, p in split.items() if len(p) == 1}
        single = lsoa["code"].isin(list(only))
        one = lsoa[single]
        parts.append(pd.DataFrame({"line": one.index, "slug": one["code"].map(only),
                                   "driver_used": "", "pence": one["pence"]}))
        for code, g in lsoa[~single].groupby("code", sort=False):
            parts.append(_long(g.index.to_numpy(), share_lines(g["pence"], split[code]), ""))
    long = pd.concat(parts, ignore_index=True)
    if totals_only:
        return long.groupby("slug")["pence"].sum().astype("int64")
    long = long.sort_values("line", kind="stable")
    res = lines.loc[long["line"].to_numpy(), keep].reset_index(drop=True)
    res["slug"] = long["slug"].to_numpy()
    res["driver_used"] = long["driver_used"].to_numpy()
    res["pence"] = long["pence"].to_numpy().astype("int64")
    if int(res["pence"].sum()) != int(lines["pence"].sum()):  # pragma: no cover - invariant
        raise AssertionError("apportionment did not conserve money")
    return res


def area_residents(area_set) -> pd.Series:
    """Census 2021 usual residents by slug (each target area and ``REST``): the population
    base of the area profile, used for every per-head figure and share of residents."""
    codes = list(district_lsoas(area_set.la_code, 2021))
    pop = residents_2021(codes).reindex(codes).fillna(0.0)
    return pieces(pop, members_at(area_set, 2021)).groupby("slug")["driver"].sum()


def area_table(apportioned: pd.DataFrame, area_set, population: pd.Series, need: pd.Series
               ) -> pd.DataFrame:
    """Per target area (and the rest of the borough): total, per head, share of spend vs
    share of population and of need.

    ``population``/``need``: by slug (including ``REST``), e.g. from ``area_measure``.
    Money in GBP (from pence); shares in percent of the borough.
    """
    tot = apportioned.groupby("slug")["pence"].sum()
    slugs = area_set.slugs if area_set is not None else [s for s in tot.index if s != REST]
    order = [*slugs, REST]
    df = pd.DataFrame(index=pd.Index(order, name="slug"))
    df["area"] = area_names(order, area_set)
    df["spend_gbp"] = tot.reindex(order).fillna(0).astype("int64") / 100
    df["population"] = population.reindex(order)
    df["spend_per_head_gbp"] = df["spend_gbp"] / df["population"]
    df["share_of_spend_pct"] = 100 * df["spend_gbp"] / df["spend_gbp"].sum()
    df["share_of_population_pct"] = 100 * df["population"] / df["population"].sum()
    df["share_of_need_pct"] = 100 * need.reindex(order) / need.reindex(order).sum()
    return df.reset_index()


def area_names(slugs: Iterable[str], area_set) -> list[str]:
    """The name shown for each slug of an area table: the area's name, "Rest of borough"."""
    names = area_set.names() if area_set is not None else {}
    return [names.get(s) or ("Rest of borough" if s == REST else s) for s in slugs]


def area_measure(name: str, area_set, la_code: str | None = None,
                 weights: pd.Series | None = None, members: pd.DataFrame | None = None
                 ) -> pd.Series:
    """A driver summed to target areas and the rest of the borough (by membership share)."""
    la = la_code or area_set.la_code
    weights = weights if weights is not None else driver_weights(name, la)
    if members is None:
        members = members_at(area_set, DRIVERS[name].vintage)
    p = pieces(weights, members)
    return p.groupby("slug")["driver"].sum()


@table_cache.memo  # district-wide: computed once per kernel
def sensitivity(lines: pd.DataFrame, area_set, drivers: Iterable[str], **kw) -> pd.DataFrame:
    """Each area's baseline (GBP) when every shared line is apportioned by one driver, next
    to the default drivers. Columns: slug, 'default', then one per driver. Drivers whose
    data are unavailable are left out (their names in ``df.attrs['unavailable']``)."""
    kw["weights"] = dict(kw.get("weights") or {})
    kw["config_"] = kw.get("config_") or load_apportionment()
    base = apportion(lines, area_set, totals_only=True, **kw).rename("default")
    # Area and LSOA lines go where they are whatever the driver: share them once.
    fixed_rows = lines["geography_type"].isin(["area", "lsoa"])
    fixed = (apportion(lines[fixed_rows], area_set, totals_only=True, **kw)
             if fixed_rows.any() else pd.Series(dtype="int64"))
    shared = lines[~fixed_rows]
    cols, unavailable = [base], {}
    for d in drivers:
        forced = {s: d for s in lines["service"].unique()}
        try:
            res = (apportion(shared, area_set, override=forced, totals_only=True, **kw)
                   if len(shared) else pd.Series(dtype="int64"))
        except DataError as exc:
            unavailable[d] = exc.problem
            continue
        cols.append(res.add(fixed, fill_value=0).rename(d))
    out = (pd.concat(cols, axis=1).fillna(0).astype("int64") / 100).reset_index()
    out.attrs["unavailable"] = unavailable
    return out


# ---------------------------------------------------------------------------- what-if


def shift_to_core_offer(apportioned: pd.DataFrame, service: str, share: float,
                        population: pd.Series, need: pd.Series) -> pd.DataFrame:
    """What-if (report section 7.4): take ``share`` (0-1) of ``service``'s spend in the rest
    of the borough (leaving it a "core offer") and move it to the target areas, shared by
    need. Returns per slug: before, moved, after (GBP) and per head before/after.
    Money is conserved to the penny.
    """
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    sel = apportioned[apportioned["service"] == service]
    if sel.empty:
        raise KeyError(f"no spend on service {service!r}")
    before = sel.groupby("slug")["pence"].sum()
    rest = int(before.get(REST, 0))
    moved_total = int((Decimal(rest) * Decimal(repr(share))).to_integral_value())
    targets = need.drop(REST, errors="ignore")
    moved = apportion_pence(moved_total, targets) if moved_total else targets * 0
    slugs = list(dict.fromkeys([*targets.index, REST]))
    df = pd.DataFrame(index=pd.Index(slugs, name="slug"))
    df["before_pence"] = before.reindex(slugs).fillna(0).astype("int64")
    df["moved_pence"] = moved.reindex(slugs).fillna(0).astype("int64")
    df.loc[REST, "moved_pence"] = -moved_total
    df["after_pence"] = df["before_pence"] + df["moved_pence"]
    if df["after_pence"].sum() != df["before_pence"].sum():  # pragma: no cover - invariant
        raise AssertionError("what-if did not conserve money")
    pop = population.reindex(slugs)
    for c in ("before", "moved", "after"):
        df[f"{c}_gbp"] = df[f"{c}_pence"] / 100
    df["per_head_before_gbp"] = df["before_gbp"] / pop
    df["per_head_after_gbp"] = df["after_gbp"] / pop
    return df.reset_index()


def small_pot(total_gbp: float | str, need: pd.Series) -> pd.DataFrame:
    """Allocate a community-groups "small pot" across the target areas by need (to the
    penny). ``need`` by slug; the rest of the borough is excluded."""
    pence = parse_amount_pence(total_gbp) if isinstance(total_gbp, str) else int(
        (Decimal(repr(float(total_gbp))) * 100).to_integral_value())
    targets = need.drop(REST, errors="ignore")
    alloc = apportion_pence(pence, targets)
    return pd.DataFrame({"slug": targets.index, "need": targets.to_numpy(),
                         "share_pct": 100 * targets.to_numpy() / targets.sum(),
                         "allocation_gbp": alloc.to_numpy() / 100})


# ------------------------------------------------------------------ notebook helpers


@table_cache.memo  # district-wide: computed once per kernel
def service_series(la_code: str = config.DEFAULT_LA_CODE, source: str = "RS",
                   base_year: str = "2011-12", table: pd.DataFrame | None = None,
                   deflator: pd.Series | None = None) -> pd.DataFrame:
    """A district's net current expenditure by service and year (GBP thousand), cash and in
    ``base_year`` prices (GDP deflator; NaN beyond its coverage, SPEND-6). Includes the
    total service expenditure line (``line``). Years before a council created since 2011
    existed are its predecessors' (``spend_predecessors.predecessor_series``, SPEND-15)."""
    df = table if table is not None else load_council_spend()
    sel = df[(df["lad_code"] == la_code) & (df["source"] == source)]
    sel = pd.concat([spend_predecessors.predecessor_series(la_code, source, df), sel],
                    ignore_index=True)
    sel = sel[sel["line"] != spend_returns.NET_CURRENT]
    if sel.empty:
        raise DataError(spend_returns.OUTPUT, f"no {source} lines for {la_code}")
    cols = ["year", "service", "service_label", "line", "net_current_expenditure_gbp_thousands"]
    return real_terms(sel[cols].reset_index(drop=True), base_year, deflator)



@dataclass
class Baseline:
    """One year's modelled baseline: the lines, their shares per area, and summaries."""

    year: str
    lines: pd.DataFrame
    apportioned: pd.DataFrame
    areas: pd.DataFrame  # area_table
    population: pd.Series
    need: pd.Series
    sources: list[str]
    basis: spend_predecessors.Basis | None = None


def baseline(area_set, year: str = "2011-12", ledger: Ledger | None = None,
             source: str = "RS", cfg: Apportionment | None = None,
             override: Mapping[str, str] | None = None) -> Baseline:
    """The council's ``source`` net current expenditure for ``year`` (plus an accepted
    partner ledger's lines for that year, if given) shared to the areas by the drivers.
    Computed once per district membership (``shared_baseline``); the areas' names are
    joined here, so a renamed area reuses the computation."""
    b = shared_baseline(area_set, year, ledger, source, cfg, override)
    b.areas["area"] = area_names(b.areas["slug"], area_set)
    return b


@table_cache.memo  # district-wide: computed once per kernel
def shared_baseline(area_set, year: str = "2011-12", ledger: Ledger | None = None,
                    source: str = "RS", cfg: Apportionment | None = None,
                    override: Mapping[str, str] | None = None) -> Baseline:
    """``baseline`` without the areas' names (memoised by membership: ``AreaSet.memo_key``);
    its area table's ``area`` column holds slugs where the names go."""
    cfg = cfg or load_apportionment()
    lines = council_lines(area_set.la_code, year, source)
    if ledger is not None and len(ledger.accepted):
        extra = ledger.accepted[ledger.accepted["financial_year"] == year]
        lines = pd.concat([lines, extra.drop(columns=["amount", "row"], errors="ignore")],
                          ignore_index=True)
        lines["source_line"] = lines["source_line"].fillna("partner ledger")
    res = apportion(lines, area_set, config_=cfg, override=override)
    pop = area_residents(area_set)
    need = area_measure(cfg.need, area_set)
    used = sorted(set(res["driver_used"]) - {""})
    basis = council_basis(area_set.la_code, year, source)
    sources = [spend_returns.dataset_id(source, basis.year_used),
               *driver_sources([*used, "population", cfg.need])]
    return Baseline(year, lines, res, area_table(res, area_set, pop, need), pop, need, sources,
                    basis)


def area_by_service(b: Baseline, slug: str | None = None) -> pd.DataFrame:
    """GBP by partner and service for one area (or every area and the rest of the borough
    when ``slug`` is None: one column per area)."""
    a = b.apportioned.assign(gbp=b.apportioned["pence"] / 100)
    if slug is not None:
        a = a[a["slug"] == slug]
        out = a.groupby(["partner", "service", "driver_used"], sort=False)["gbp"].sum()
        out = out.reset_index()
        out["per_head_gbp"] = out["gbp"] / float(b.population.get(slug, float("nan")))
        return out
    return a.pivot_table(index=["partner", "service"], columns="slug", values="gbp",
                         aggfunc="sum", sort=False).reset_index()
