"""Total public spend by partner for a district and its target areas (a modelled estimate).

HM Treasury's Country and Regional Analysis (``stores.public_spend``, identifiable spend by
English region, GBP thousand, cash outturn, 2009-10 to 2017-18) is mapped to partners by the
rules in ``data/spend/partners.yml``; local-government spend is replaced by the council's own
Revenue Outturn (RS net current expenditure), so nothing is counted twice. Each partner's
regional total is shared region -> district -> neighbourhoods (LSOAs) -> target areas and the
rest of the district by its driver, in whole pence (largest remainder), conserved at every
step (``reconciliation``). A partner spend ledger, where supplied, replaces that partner's
modelled figure. Per head: Census 2021 usual residents, the base of the area profile.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import spend
from evidence_pack.analysis.apportion import REST, apportion_pence, pieces, share_lines
from evidence_pack.analysis.spend_drivers import (
    DRIVERS,
    district_driver,
    driver_weights,
    members_at,
    residents_2021,
)
from evidence_pack.sources import table_cache
from evidence_pack.sources.io import DataError, read_yaml
from evidence_pack.stores import public_spend

PARTNERS_FILE = config.ROOT / "data" / "spend" / "partners.yml"
PARTNER_ORDER = ("DWP and HMRC", "NHS and public health", "Schools and education", "Council",
                 "Police", "Fire", "Housing", "Other")
DISTRICT, REST_SLUG = "district", "rest"
COLUMNS = ["area_slug", "partner", "gbp", "gbp_per_head", "gbp_low", "gbp_high", "source"]


@dataclass(frozen=True)
class PartnerConfig:
    """Partners (default driver, alternatives, ledger aliases, reason), the ordered mapping
    rules and the RS services that are not "Council"."""

    drivers: dict[str, str]
    alternatives: dict[str, tuple[str, ...]]
    aliases: dict[str, tuple[str, ...]]
    reasons: dict[str, str]
    rules: tuple[dict, ...]
    council_services: dict[str, str]


def load_partner_config(path: Path | str = PARTNERS_FILE) -> PartnerConfig:
    """Read and check ``data/spend/partners.yml`` (unknown partner or driver: DataError)."""
    p = Path(path)
    doc = read_yaml(p, "partner mapping")
    if not isinstance(doc, dict) or not isinstance(doc.get("partners"), dict) or not \
            isinstance(doc.get("rules"), list):
        raise DataError(p, "expected mappings 'partners' and a list 'rules'")
    parts = doc["partners"]
    drivers = {k: v.get("driver", "population") for k, v in parts.items()}
    alts = {k: tuple(v.get("alternatives") or ()) for k, v in parts.items()}
    for name in [*drivers.values(), *[d for a in alts.values() for d in a]]:
        if name not in DRIVERS or name == "area":
            raise DataError(p, f"unknown driver {name!r}", row="partners")
    rules = []
    for i, r in enumerate(doc["rules"], start=1):
        if not isinstance(r, dict) or r.get("partner") not in parts:
            raise DataError(p, f"rule {i}: partner must be one of {list(parts)}", row=f"rule {i}")
        if r.get("driver") and r["driver"] not in DRIVERS:
            raise DataError(p, f"rule {i}: unknown driver {r['driver']!r}", row=f"rule {i}")
        rules.append(dict(r))
    council = {str(k): str(v) for k, v in (doc.get("council_services") or {}).items()}
    return PartnerConfig(drivers, alts, {k: tuple(str(a).lower() for a in v.get("aliases") or ())
                                         for k, v in parts.items()},
                         {k: str(v.get("reason", "")).strip() for k, v in parts.items()},
                         tuple(rules), council)


def map_partners(rows: pd.DataFrame, cfg: PartnerConfig) -> pd.DataFrame:
    """Add ``partner`` and ``driver`` (the rule's, else the partner's) to CRA rows: the
    first matching rule wins."""
    partner = pd.Series(pd.NA, index=rows.index, dtype=object)
    driver = pd.Series(pd.NA, index=rows.index, dtype=object)
    for r in cfg.rules:
        hit = partner.isna()
        if r.get("sector"):
            hit &= rows["sector"].isin([s.upper() for s in r["sector"]])
        for col in ("department", "function", "subfunction"):
            if r.get(col):
                hit &= rows[col].str.contains(r[col], flags=re.IGNORECASE, regex=True, na=False)
        partner[hit] = r["partner"]
        driver[hit] = r.get("driver") or cfg.drivers[r["partner"]]
    return rows.assign(partner=partner.fillna("Other"), driver=driver.fillna("population"))


def to_pence(thousands: pd.Series) -> int:
    """A sum of GBP thousand figures as whole pence (the CRA publishes to the GBP 1,000 or
    finer; rounded once, on the total)."""
    return int(round(float(thousands.sum()) * 100_000))


@lru_cache(maxsize=8)
def district_region(la_code: str) -> str:
    """The region key of a district (from the district driver table of 2011 LSOAs)."""
    t = district_driver("population")
    hit = t.loc[t["lad_code"] == la_code, "region"]
    if hit.empty:
        raise DataError("<district>", f"district {la_code} not found in England's LSOA lookup")
    return str(hit.iloc[0])


def region_to_district(total_pence: int, driver: str, la_code: str,
                       values: pd.Series | None = None) -> int:
    """The district's share of a regional total (pence) by ``driver`` summed to districts
    (``values``: ``region_values(driver, la_code)`` when already at hand)."""
    t = values if values is not None else region_values(driver, la_code)
    return int(apportion_pence(total_pence, t)[la_code])


def region_values(driver: str, la_code: str) -> pd.Series:
    """``driver`` summed to each district of ``la_code``'s region, by district code."""
    t = district_driver(driver)
    return t[t["region"] == district_region(la_code)].set_index("lad_code")["value"]


def district_to_areas(total_pence: int, driver: str, area_set,
                      piece_table: pd.DataFrame | None = None) -> pd.Series:
    """A district total (pence) shared to the target areas and ``REST`` by ``driver``
    (``piece_table``: ``district_pieces(driver, area_set)`` when already at hand)."""
    p = piece_table if piece_table is not None else district_pieces(driver, area_set)
    return share_lines(np.array([total_pence]), p).iloc[0]


def district_pieces(driver: str, area_set) -> pd.DataFrame:
    """The district's LSOAs' ``driver`` split between the target areas and ``REST``."""
    return pieces(driver_weights(driver, area_set.la_code),
                  members_at(area_set, DRIVERS[driver].vintage))


def _council_lines(area_set, year: str, cfg: PartnerConfig) -> pd.DataFrame:
    lines = spend.council_lines(area_set.la_code, year)
    return lines.assign(partner=lines["service"].map(cfg.council_services).fillna("Council"))


def _modelled_rows(area_set, year: str, cfg: PartnerConfig, council: pd.DataFrame
                   ) -> pd.DataFrame:
    """CRA rows of the district's region and year with partner and driver, LG council rows
    (and LG police/fire where the council's RS has them) dropped."""
    rows = map_partners(public_spend.region_spend(district_region(area_set.la_code), year), cfg)
    replaced = {"Council", *(set(council["partner"]) - {"Council", "Schools and education"})}
    drop = (rows["sector"] == "LG") & rows["partner"].isin(replaced)
    return rows[~drop]


@dataclass(frozen=True)
class Inputs:
    """What one district and year are shared from: CRA rows (with partner and driver) and
    the council's RS lines (with partner)."""

    rows: pd.DataFrame
    council: pd.DataFrame
    #: driver -> (``region_values``, ``district_pieces``): found once for every run of
    #: ``partner_shares`` on these inputs (the base run and each alternative driver)
    by_driver: dict = field(default_factory=dict, compare=False, repr=False)

    def driver_parts(self, driver: str, area_set) -> tuple[pd.Series, pd.DataFrame]:
        """``region_values`` and ``district_pieces`` of ``driver`` (computed once)."""
        if driver not in self.by_driver:
            self.by_driver[driver] = (region_values(driver, area_set.la_code),
                                      district_pieces(driver, area_set))
        return self.by_driver[driver]


def inputs(area_set, year: str, cfg: PartnerConfig) -> Inputs:
    """The CRA rows and council lines for ``partner_shares`` (read once per year)."""
    council = _council_lines(area_set, year, cfg)
    return Inputs(_modelled_rows(area_set, year, cfg, council), council)


def partner_shares(area_set, year: str, cfg: PartnerConfig | None = None,
                   force_driver: Mapping[str, str] | None = None,
                   only: Iterable[str] | None = None, data: Inputs | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pence by (partner, slug) and the reconciliation table, one driver choice.

    ``force_driver`` {partner: driver} applies that driver to all of the partner's rows (and,
    for "Council", to every RS line). ``only``: just these partners. Slugs: each area's slug
    and ``REST``.
    """
    cfg = cfg or load_partner_config()
    force = force_driver or {}
    data = data or inputs(area_set, year, cfg)
    rows, council = data.rows, data.council
    if only is not None:
        keep = set(only)
        rows, council = rows[rows["partner"].isin(keep)], council[council["partner"].isin(keep)]
    out, rec = [], []
    for (partner, driver), g in rows.groupby(["partner", "driver"], sort=False):
        drv = force.get(partner, driver)
        region_p = to_pence(g["gbp_thousands"])
        values, piece_table = data.driver_parts(drv, area_set)
        district_p = region_to_district(region_p, drv, area_set.la_code, values)
        shares = district_to_areas(district_p, drv, area_set, piece_table)
        out.append(pd.DataFrame({"partner": partner, "slug": shares.index,
                                 "pence": shares.to_numpy()}))
        rec.append({"partner": partner, "driver": drv, "source": "CRA (modelled)",
                    "region_pence": region_p, "district_pence": district_p,
                    "areas_pence": int(shares.drop(REST, errors="ignore").sum()),
                    "rest_pence": int(shares.get(REST, 0))})
    if len(council):
        override = ({s: force["Council"] for s in council["service"]} if "Council" in force
                    else None)
        app = spend.apportion(council, area_set, override=override)
        for partner, g in app.groupby("partner", sort=False):
            s = g.groupby("slug")["pence"].sum()
            out.append(pd.DataFrame({"partner": partner, "slug": s.index, "pence": s.to_numpy()}))
            rec.append({"partner": partner, "driver": "council drivers" if override is None
                        else force["Council"],
                        "source": "council RS (replaces CRA local government)",
                        "region_pence": pd.NA,
                        "district_pence": int(council.loc[council["partner"] == partner,
                                                          "pence"].sum()),
                        "areas_pence": int(s.drop(REST, errors="ignore").sum()),
                        "rest_pence": int(s.get(REST, 0))})
    shares = pd.concat(out, ignore_index=True).groupby(["partner", "slug"], as_index=False,
                                                       sort=False)["pence"].sum()
    recon = pd.DataFrame(rec)
    if ((recon["areas_pence"] + recon["rest_pence"]) != recon["district_pence"]).any():
        raise AssertionError("partner apportionment did not conserve money")  # pragma: no cover
    return shares, recon


def residents(area_set) -> pd.Series:
    """Census 2021 usual residents by slug (each area, ``REST``) and ``DISTRICT``."""
    by = spend.area_residents(area_set)
    by[DISTRICT] = float(by.sum())
    return by


def _ledger_shares(ledger, area_set, year: str, cfg: PartnerConfig) -> pd.DataFrame:
    """Accepted ledger lines of ``year`` whose partner text names a partner: pence by
    (partner, slug)."""
    if ledger is None or ledger.accepted.empty:
        return pd.DataFrame(columns=["partner", "slug", "pence"])
    lines = ledger.accepted[ledger.accepted["financial_year"] == year]

    def which(text: str) -> str | None:
        t = str(text).lower()
        for name in PARTNER_ORDER:
            if name.lower() in t or any(a and a in t for a in cfg.aliases.get(name, ())):
                return name
        return None

    names = {t: which(t) for t in lines["partner"].unique()}
    lines = lines.assign(partner=lines["partner"].map(names)).dropna(subset=["partner"])
    if lines.empty:
        return pd.DataFrame(columns=["partner", "slug", "pence"])
    app = spend.apportion(lines.drop(columns=["amount", "row"], errors="ignore"), area_set)
    return app.groupby(["partner", "slug"], as_index=False)["pence"].sum()


@table_cache.memo  # the same for every report of a district: computed once per kernel
def modelled_partner_spend(area_set, year: str, ledger=None,
                           cfg: PartnerConfig | None = None) -> pd.DataFrame:
    """Public spend by partner for each target area, the rest of the district ("rest") and
    the district ("district"), for ``year`` (a CRA year: 2009-10 to 2017-18).

    Columns: area_slug, partner, gbp, gbp_per_head (Census 2021 residents), gbp_low and
    gbp_high (the range across the partner's reasonable drivers), source ("modelled" or
    "ledger": a supplied ledger replaces the partner's modelled figure and range).
    """
    cfg = cfg or load_partner_config()
    data = inputs(area_set, year, cfg)
    base, _ = partner_shares(area_set, year, cfg, data=data)
    runs = [base]
    present = set(base["partner"])
    for partner in [p for p in cfg.alternatives if p in present]:
        for drv in cfg.alternatives[partner]:
            alt, _ = partner_shares(area_set, year, cfg, {partner: drv}, only=[partner],
                                    data=data)
            runs.append(alt)
    table = _with_district(base).rename(columns={"pence": "p"})
    rng = pd.concat([_with_district(r) for r in runs]).groupby(["partner", "slug"])["pence"]
    low, high = rng.min(), rng.max()  # once, not once a row
    table["low"] = [low[k] for k in zip(table["partner"], table["slug"], strict=True)]
    table["high"] = [high[k] for k in zip(table["partner"], table["slug"], strict=True)]
    table["source"] = "modelled"
    led = _ledger_shares(ledger, area_set, year, cfg)
    if len(led):
        led = _with_district(led).set_index(["partner", "slug"])["pence"]
        hit = table.set_index(["partner", "slug"]).index.isin(led.index) | table[
            "partner"].isin(set(led.index.get_level_values(0)))
        table.loc[hit, ["p", "low", "high"]] = [[led.get((a, b), 0)] * 3 for a, b in zip(
            table.loc[hit, "partner"], table.loc[hit, "slug"], strict=True)]
        table.loc[hit, "source"] = "ledger"
    pop = residents(area_set)
    slug = table["slug"].replace({REST: REST_SLUG})
    out = pd.DataFrame({"area_slug": slug, "partner": table["partner"],
                        "gbp": table["p"].astype("int64") / 100,
                        "gbp_per_head": table["p"].astype("int64") / 100 / table["slug"].map(pop),
                        "gbp_low": table["low"].astype("int64") / 100,
                        "gbp_high": table["high"].astype("int64") / 100,
                        "source": table["source"]})
    order = {p: i for i, p in enumerate(PARTNER_ORDER)}
    slugs = {s: i for i, s in enumerate([*area_set.slugs, REST_SLUG, DISTRICT])}
    out = out.sort_values(["area_slug", "partner"], key=lambda s: s.map(
        slugs if s.name == "area_slug" else order)).reset_index(drop=True)
    return out[COLUMNS]


def _with_district(shares: pd.DataFrame) -> pd.DataFrame:
    """Add a DISTRICT row per partner (the sum of its slugs)."""
    d = shares.groupby("partner", as_index=False, sort=False)["pence"].sum().assign(slug=DISTRICT)
    return pd.concat([shares, d[["partner", "slug", "pence"]]], ignore_index=True)


def reconciliation(area_set, year: str, cfg: PartnerConfig | None = None) -> pd.DataFrame:
    """Region -> district -> areas + rest of district, by partner, in GBP (to the penny)."""
    _, rec = partner_shares(area_set, year, cfg)
    out = rec.copy()
    out["check_pence"] = out["areas_pence"] + out["rest_pence"] - out["district_pence"]
    for c in ("region", "district", "areas", "rest", "check"):
        out[f"{c}_gbp"] = pd.to_numeric(out.pop(f"{c}_pence")) / 100
    return out


@table_cache.memo
def england_per_head(year: str) -> float:
    """All identifiable public spending in England's nine regions in ``year`` per Census 2021
    resident of England (GBP a head; the CRA's own local-government figures)."""
    df = public_spend.load()
    sel = df[(df["year"] == year) & df["identifiable"] & df["region"].isin(
        [r for r in set(df["region"]) if r in _english()])]
    return float(sel["gbp_thousands"].sum()) * 1000 / float(residents_2021().sum())


def _english() -> Iterable[str]:
    return public_spend.cra.ENGLISH_REGIONS
