"""Baseline spend: council spend from the official returns, the partner spend ledger, the
apportionment of borough-wide spend to target areas, and the what-if of section 7.4.

Money is held as integer pence (GBP x 100) from the moment it is read, and every split uses
the largest-remainder method, so areas + rest of borough = input exactly, to the penny.
Council returns (RS/RA, GBP thousand, cash) are read by ``spend_returns``; ``prepare``
(stage "spend") builds ``data/processed/council_spend.parquet``.

Drivers (what a borough-wide line is shared by) live on the LSOA vintage of their data:
2011 for the IoD 2019 numerators and the mid-2015 populations, 2021 for Census 2021 and the
IoD 2025 crime rates; area membership is carried to that vintage with
``areas.members(area_set, vintage)``. Default drivers per service are in
``data/spend/apportionment.yml``. Caveats: docs/caveats/spend.md (SPEND-n).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import areas
from evidence_pack.sources.io import DataError, read_yaml, write_text
from evidence_pack.stores import economy, spend_returns

APPORTIONMENT_FILE = config.ROOT / "data" / "spend" / "apportionment.yml"
LEDGER_TEMPLATE = config.ROOT / "data" / "templates" / "spend_ledger_template.csv"
REST = "rest-of-borough"

prepare = spend_returns.prepare
load_council_spend = spend_returns.load

# ---------------------------------------------------------------------------- money


_AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


def parse_amount_pence(raw: object, path: Path | str = "<ledger>", row: int | None = None) -> int:
    """Parse a ledger amount such as "£1,234.50", "(500)" or "-12" into integer pence (GBP).

    Brackets mean negative (accounting style). Raises DataError (naming file and row) for
    blanks and anything that is not a money amount with at most two decimal places.
    """
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        raise DataError(path, "amount is blank", row=row)
    text = str(raw).strip().replace("£", "").replace(",", "").replace(" ", "")
    if not text:
        raise DataError(path, "amount is blank", row=row)
    negative = text.startswith("(") and text.endswith(")")
    if negative:
        text = text[1:-1]
    if not _AMOUNT.match(text):
        raise DataError(path, f"amount {raw!r} is not a money amount", row=row)
    try:
        pence = int((Decimal(text) * 100).to_integral_exact())
    except InvalidOperation as exc:  # pragma: no cover - the regex guards this
        raise DataError(path, f"amount {raw!r} unreadable", row=row) from exc
    return -pence if negative else pence


def thousands_to_pence(value: float) -> int:
    """GBP thousand (as published in RS/RA, possibly fractional) -> integer pence."""
    return int((Decimal(repr(float(value))) * 100_000).to_integral_value())


def apportion_pence(total_pence: int, weights: pd.Series) -> pd.Series:
    """Share ``total_pence`` across the index of ``weights`` in proportion to the weights.

    Largest-remainder method on integer pence: the result sums exactly to ``total_pence``;
    ties go to the earlier index entry. Weights must be non-negative with a positive sum.
    """
    w = weights.astype(float)
    if w.isna().any() or (w < 0).any() or w.sum() <= 0:
        raise DataError("<driver>", "driver weights must be non-negative with a positive sum")
    sign = -1 if total_pence < 0 else 1
    amount = abs(int(total_pence))
    wsum = Decimal(repr(float(w.sum())))
    exact = [Decimal(amount) * Decimal(repr(float(x))) / wsum for x in w]
    floors = [int(e) for e in exact]
    short = amount - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:short]:
        floors[i] += 1
    return pd.Series([sign * f for f in floors], index=weights.index, dtype="int64")


def pieces(weights: pd.Series, members: pd.DataFrame) -> pd.DataFrame:
    """Split each LSOA's driver weight between target areas and the rest of the borough.

    ``weights``: driver value by lsoa_code (the district's LSOAs of one vintage).
    ``members``: slug, lsoa_code, weight (share of the LSOA in the area), same vintage.
    Returns rows (lsoa_code, slug, driver) where the rest of the borough gets
    1 - sum(member shares) of each LSOA.
    """
    index = set(weights.index)
    m = members[[c in index for c in members["lsoa_code"].tolist()]]
    inside = m.groupby("lsoa_code")["weight"].sum()
    if (inside > 1 + 1e-9).any():
        raise DataError("<areas>", "an LSOA is assigned more than once across areas: "
                        f"{sorted(inside[inside > 1 + 1e-9].index)[:5]}")
    wd = dict(zip(weights.index.tolist(), weights.astype(float).tolist(), strict=True))
    codes = m["lsoa_code"].tolist()
    rows = [pd.DataFrame({"lsoa_code": codes, "slug": m["slug"].tolist(),
                          "driver": [wd[c] for c in codes] * m["weight"].to_numpy()})]
    rest_share = 1 - inside.reindex(weights.index).fillna(0.0)
    rows.append(pd.DataFrame({"lsoa_code": weights.index, "slug": REST,
                              "driver": weights.to_numpy() * rest_share.clip(lower=0).to_numpy()}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["driver"] > 0].reset_index(drop=True)


def area_baseline(total_pence: int, weights: pd.Series, members: pd.DataFrame) -> pd.DataFrame:
    """Apportion one borough-wide line to LSOAs by ``weights`` and sum to target areas plus
    the rest of the borough. ``members`` as for ``pieces`` (``area_slug`` accepted for
    ``slug``). Returns columns slug, pence; conserves money exactly.
    """
    members = members.rename(columns={"area_slug": "slug"})
    if "weight" not in members:
        members = members.assign(weight=1.0)
    p = pieces(weights, members)
    p["pence"] = apportion_pence(total_pence, p["driver"]).to_numpy()
    return p.groupby("slug", sort=False)["pence"].sum().reset_index()


# ---------------------------------------------------------------------------- drivers


@dataclass(frozen=True)
class Driver:
    """A named apportionment driver: what it counts, its LSOA vintage and its source."""

    name: str
    label: str
    vintage: int
    source: str  # dataset ids (for report source lines)
    note: str = ""


F6 = "file_6_iod2019_population_denominators"
IND19 = "imd2019_england_lsoa11_indicators"
DRIVERS: dict[str, Driver] = {d.name: d for d in (
    Driver("population", "Residents (ONS mid-2015, IoD 2019 File 6)", 2011, F6),
    Driver("children", "Children aged 0-15 (ONS mid-2015, IoD 2019 File 6)", 2011, F6),
    Driver("older_people", "People aged 60 and over (ONS mid-2015, IoD 2019 File 6)", 2011, F6),
    Driver("income_deprived", "Income-deprived people (IoD 2019 income domain numerator)",
           2011, IND19),
    Driver("employment_deprived",
           "Employment-deprived people (IoD 2019 employment domain numerator)", 2011, IND19),
    Driver("income_deprived_children",
           "Income-deprived children 0-15 (IoD 2019 IDACI numerator)", 2011, IND19),
    Driver("income_deprived_older",
           "Income-deprived people 60+ (IoD 2019 IDAOPI numerator)", 2011, IND19),
    Driver("social_rented", "Social-rented households (Census 2021)", 2021,
           "household_tenure21_lsoa21"),
    Driver("crime", "Estimated recorded crimes: IoD 2025 crime indicator rates x residents "
           "(Census 2021)", 2021, "imd2025_england_lsoa21_indicators",
           "IoD crime scores are standardised (can be negative), so rates x residents are used"),
    Driver("area", "Land area in hectares (LSOA 2021 boundaries)", 2021, "boundaries_lsoa21",
           "needs the geography stage's LSOA 2021 boundaries"),
)}

DRIVER_NAMES: dict[str, str] = {
    "population": "residents",
    "children": "children 0-15",
    "older_people": "people 60+",
    "income_deprived": "income-deprived people",
    "employment_deprived": "employment-deprived people",
    "income_deprived_children": "income-deprived children",
    "income_deprived_older": "income-deprived people 60+",
    "social_rented": "social-rented households",
    "crime": "recorded crime",
    "area": "land area",
}


def driver_name(name: str) -> str:
    """Plain-English name of a driver (e.g. "income-deprived children")."""
    return DRIVER_NAMES.get(name, name.replace("_", " "))


#: IoD 2025 crime indicators expressed per 1,000 at-risk *population* (burglary, per
#: property, and anti-social behaviour, not a crime, are left out).
CRIME_INDICATORS = (
    "violence_with_injury_rate_per_1_000_at_risk_population",
    "violence_without_injury_rate_per_1_000_at_risk_population",
    "theft_rate_per_1_000_at_risk_population",
    "criminal_damage_rate_per_1_000_at_risk_population",
    "public_order_and_possession_of_weapons_rate_per_1_000_at_risk_population",
    "stalking_and_harassment_rate_per_1_000_at_risk_population",
)


def _processed(name: str, columns: list[str] | None = None, filters: list | None = None
               ) -> pd.DataFrame:
    """A processed table (only ``columns``, rows matching pyarrow ``filters``)."""
    path = config.PROCESSED_DIR / name
    if not path.exists():
        raise DataError(path, "not built yet: run `evidence-pack prepare`")
    return pd.read_parquet(path, columns=columns, filters=filters)


@lru_cache(maxsize=8)
def district_lsoas(la_code: str, vintage: int) -> tuple[str, ...]:
    """The district's LSOA codes of ``vintage`` (2011 from IoD 2019, 2021 from IoD 2025)."""
    release = {2011: 2019, 2021: 2025, 2001: 2010}[vintage]
    sel = _processed("iod_lsoa.parquet", ["lsoa_code"],
                     [("release", "==", release), ("measure", "==", "imd"),
                      ("lad_code", "==", la_code)])
    if sel.empty:
        raise DataError(config.PROCESSED_DIR / "iod_lsoa.parquet",
                        f"no LSOAs of {vintage} for district {la_code}")
    return tuple(sorted(sel["lsoa_code"].unique()))


#: Value taken for an IoD numerator published blank (fewer than 10 people).
SUPPRESSED_NUMERATOR = 5.0

_NUMERATORS = {
    "income_deprived": "income_domain_numerator",
    "employment_deprived": "employment_domain_numerator",
    "income_deprived_children": "income_deprivation_affecting_children_index_idaci_numerator",
    "income_deprived_older": "income_deprivation_affecting_older_people_index_idaopi_numerator",
}


@lru_cache(maxsize=8)
def ward_members(la_code: str, vintage: int) -> dict[str, tuple[str, ...]]:
    """{ward_code: LSOA codes of ``vintage``} for the district (lookups' lsoa_geography)."""
    g = _processed("lsoa_geography.parquet", ["lsoa_code", "ward_code"],
                   [("lsoa_vintage", "==", vintage), ("lad_code", "==", la_code)])
    return {w: tuple(sorted(x)) for w, x in g.groupby("ward_code")["lsoa_code"]}


def _population_2021(codes: Iterable[str]) -> pd.Series:
    codes = list(codes)
    c = _processed("census21_lsoa.parquet", ["lsoa_code", "total"],
                   [("topic", "==", "ethnicity"), ("lsoa_code", "in", codes)])
    pop = c.drop_duplicates("lsoa_code").set_index("lsoa_code")["total"]
    return pop.reindex(codes)


def driver_weights(name: str, la_code: str = config.DEFAULT_LA_CODE,
                   year: int = 2015) -> pd.Series:
    """Driver values by LSOA for the district (see ``_driver_weights``); cached, a copy."""
    return _driver_weights(name, la_code, year).copy()


@lru_cache(maxsize=64)
def _driver_weights(name: str, la_code: str, year: int) -> pd.Series:
    """Driver values by LSOA for the district (index lsoa_code of the driver's vintage).

    ``year``: the mid-year population estimate used for the population drivers (2015 =
    IoD 2019's denominators; 2017, 2019, 2020 also held). Raises DataError naming the
    missing input when a driver cannot be built.
    """
    if name not in DRIVERS:
        raise KeyError(f"unknown driver {name!r}; choose from {sorted(DRIVERS)}")
    d = DRIVERS[name]
    codes = list(district_lsoas(la_code, d.vintage))
    if name in {"population", "children", "older_people"}:
        col = {"population": "population", "children": "children_0_15",
               "older_people": "older_60_plus"}[name]
        p = _processed("lsoa_population.parquet", ["lsoa_code", col],
                       [("year", "==", year), ("lsoa_vintage", "==", 2011),
                        ("lsoa_code", "in", codes)]).set_index("lsoa_code")[col]
        s = p.reindex(codes)
    elif name in _NUMERATORS:
        ind = _NUMERATORS[name]
        i = _processed("iod_indicators.parquet", ["lsoa_code", "value"],
                       [("release", "==", 2019), ("indicator", "==", ind),
                        ("lsoa_code", "in", codes)]).set_index("lsoa_code")["value"]
        # The published numerators are rounded and blank below 10 (min 10): a blank is
        # taken as 5, the middle of 0-9 (caveat SPEND-5).
        s = i.reindex(codes)
        s = s.where(s.notna() | ~pd.Index(codes).isin(i.index), SUPPRESSED_NUMERATOR)
    elif name == "social_rented":
        c = _processed("census21_lsoa.parquet", ["lsoa_code", "category", "n"],
                       [("topic", "==", "tenure"), ("lsoa_code", "in", codes),
                        ("category", "in", ["social_rented_council", "social_rented_other"])])
        s = c.groupby("lsoa_code", observed=True)["n"].sum().reindex(codes)
    elif name == "crime":
        i = _processed("iod_indicators.parquet", ["lsoa_code", "value"],
                       [("release", "==", 2025), ("indicator", "in", list(CRIME_INDICATORS)),
                        ("lsoa_code", "in", codes)])
        rate = i.groupby("lsoa_code")["value"].sum().reindex(codes)
        s = rate * _population_2021(codes) / 1000
    else:  # area
        path = config.PROCESSED_DIR / "boundaries_lsoa21.parquet"
        if not path.exists():
            raise DataError(path, "not built yet (geography stage): the area driver needs it")
        import geopandas as gpd

        b = gpd.read_parquet(path)
        b = b[b["code"].isin(codes)]
        s = pd.Series(b.geometry.area.to_numpy() / 10_000, index=b["code"]).reindex(codes)
    s = s.astype(float)
    if s.isna().any():
        raise DataError(f"<driver {name}>", f"no value for {int(s.isna().sum())} of "
                        f"{len(s)} LSOAs, e.g. {list(s[s.isna()].index[:3])}")
    s.index.name = "lsoa_code"
    s.name = name
    return s


# ---------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Apportionment:
    """Default driver per service (with reasoning), the need measure and the fallback."""

    services: dict[str, str]
    reasons: dict[str, str]
    default: str
    need: str
    path: Path | None = None

    def driver_for(self, service: str, override: Mapping[str, str] | None = None) -> str:
        if override and service in override:
            return override[service]
        return self.services.get(service, self.default)


def load_apportionment(path: Path | str = APPORTIONMENT_FILE,
                       overrides: Mapping[str, str] | None = None) -> Apportionment:
    """Read ``data/spend/apportionment.yml``; ``overrides`` {service: driver} replace
    defaults. DataError on an unknown driver or a malformed file."""
    p = Path(path)
    doc = read_yaml(p, "apportionment config")
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        raise DataError(p, "expected a mapping with 'services'")
    services, reasons = {}, {}
    for svc, spec in doc["services"].items():
        if not isinstance(spec, dict) or "driver" not in spec:
            raise DataError(p, f"service {svc!r} needs a driver", row=svc)
        services[svc], reasons[svc] = spec["driver"], str(spec.get("reason", "")).strip()
    services.update(overrides or {})
    default, need = doc.get("default_driver", "population"), doc.get("need_driver",
                                                                     "income_deprived")
    for where, drv in [*services.items(), ("default_driver", default), ("need_driver", need)]:
        if drv not in DRIVERS:
            raise DataError(p, f"unknown driver {drv!r}; known: {sorted(DRIVERS)}", row=where)
    return Apportionment(services, reasons, default, need, p)


# ---------------------------------------------------------------------------- ledger

LEDGER_COLUMNS = ["partner", "service", "financial_year", "amount", "geography_type",
                  "geography_code", "driver"]
GEOGRAPHY_TYPES = ("area", "lsoa", "ward", "borough")
_FY = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class Ledger:
    """A validated ledger: accepted lines (with ``pence``), rejected lines (with ``reason``)
    and the reconciliation (rows and pence: accepted + rejected = input)."""

    accepted: pd.DataFrame
    rejected: pd.DataFrame
    reconciliation: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __iter__(self):  # allows ``accepted, rejected = read_ledger(...)``
        return iter((self.accepted, self.rejected))


    def write_rejections(self, target: Path | str) -> Path:
        """Write the rejected rows with their row number and reason as CSV."""
        return write_text(self.rejected.to_csv(index=False), target)


def _known(area_set, la_code: str | None) -> dict[str, set[str]]:
    la = la_code or (area_set.la_code if area_set is not None else config.DEFAULT_LA_CODE)
    known = {"area": set(area_set.slugs) if area_set is not None else set()}
    lsoas: set[str] = set()
    for v in (2011, 2021):
        try:
            lsoas |= set(district_lsoas(la, v))
        except DataError:
            pass
    known["lsoa"] = lsoas
    path = config.PROCESSED_DIR / "lsoa_geography.parquet"
    known["ward"] = set()
    if path.exists():
        g = pd.read_parquet(path, columns=["lad_code", "ward_code"])
        known["ward"] = set(g.loc[g["lad_code"] == la, "ward_code"].dropna())
    return known


def read_ledger(path: Path | str, area_set=None, *, drivers: Iterable[str] | None = None,
                known: Mapping[str, set[str]] | None = None, la_code: str | None = None
                ) -> Ledger:
    """Read and validate a partner spend ledger (CSV or Excel; amounts in GBP).

    Every row is accepted or rejected with a reason - blank or malformed amount, negative
    amount, zero, blank partner/service, bad financial year, unknown geography type, area,
    LSOA or ward, a borough/ward line without a known driver, an unknown driver, or a
    duplicate of an earlier line. ``known`` ({"area"|"lsoa"|"ward": codes}) overrides what
    is looked up from ``area_set`` and the processed store (tests pass it). Raises DataError
    if required columns are missing.
    """
    path = Path(path)
    if path.suffix.lower() in {".xlsx", ".xls"}:
        raw = pd.read_excel(path, dtype=str, engine="calamine").fillna("")
    else:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in LEDGER_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; expected {LEDGER_COLUMNS}", row=1)
    known = dict(known) if known is not None else _known(area_set, la_code)
    drivers = set(drivers) if drivers is not None else set(DRIVERS)
    ok, bad, seen = [], [], {}
    for i, rec in enumerate(raw[LEDGER_COLUMNS].to_dict("records"), start=2):
        rec = {k: str(v).strip() for k, v in rec.items()}
        pence, reason = None, None
        try:
            pence = parse_amount_pence(rec["amount"], path, i)
        except DataError as exc:
            reason = exc.problem
        gtype, code, drv = rec["geography_type"].lower(), rec["geography_code"], rec["driver"]
        m = _FY.match(rec["financial_year"])
        checks = [
            (pence is not None and pence < 0, "negative amount (income or a correction): "
             "net it off against the line it corrects"),
            (pence == 0, "zero amount"),
            (not rec["partner"], "partner is blank"),
            (not rec["service"], "service is blank"),
            (not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)),
             f"financial_year {rec['financial_year']!r} is not like 2011-12"),
            (gtype not in GEOGRAPHY_TYPES,
             f"unknown geography_type {rec['geography_type']!r} (use {'|'.join(GEOGRAPHY_TYPES)})"),
            (gtype == "area" and code not in known.get("area", set()), f"unknown area {code!r}"),
            (gtype == "lsoa" and code not in known.get("lsoa", set()),
             f"unknown LSOA {code!r} (not an LSOA of this district)"),
            (gtype == "ward" and code not in known.get("ward", set()), f"unknown ward {code!r}"),
            (gtype == "borough" and code not in {"", "borough"},
             "borough-wide line must leave geography_code blank"),
            (gtype in {"borough", "ward"} and not drv, "driver is blank for a shared line"),
            (bool(drv) and drv not in drivers, f"unknown driver {drv!r}"),
        ]
        if reason is None:
            reason = next((why for failed, why in checks if failed), None)
        key = tuple(rec[c] for c in LEDGER_COLUMNS)
        if reason is None and key in seen:
            reason = f"duplicate of row {seen[key]}"
        seen.setdefault(key, i)
        rec.update(row=i, pence=pence, geography_type=gtype if gtype in GEOGRAPHY_TYPES
                   else rec["geography_type"])
        (ok if reason is None else bad).append({**rec, "reason": reason})
    cols = [*LEDGER_COLUMNS, "row", "pence"]
    accepted = pd.DataFrame(ok, columns=[*cols, "reason"]).drop(columns="reason")
    rejected = pd.DataFrame(bad, columns=[*cols, "reason"])
    accepted["pence"] = accepted["pence"].astype("int64")
    rejected["pence"] = rejected["pence"].astype("Int64")
    rec_table = pd.DataFrame({
        "rows": [len(raw), len(accepted), len(rejected)],
        "pence": [int(accepted["pence"].sum()) + int(rejected["pence"].sum()),
                  int(accepted["pence"].sum()), int(rejected["pence"].sum())],
        "rows_without_amount": [int(rejected["pence"].isna().sum()), 0,
                                int(rejected["pence"].isna().sum())],
    }, index=["input", "accepted", "rejected"])
    if rec_table.loc["input", "rows"] != len(accepted) + len(rejected):  # pragma: no cover
        raise AssertionError("ledger rows do not reconcile")
    return Ledger(accepted, rejected, rec_table)


# ------------------------------------------------------------------- council spend lines


def council_lines(la_code: str = config.DEFAULT_LA_CODE, year: str = "2011-12",
                  source: str = "RS", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The council's own net current expenditure by service as ledger lines (borough-wide,
    driver blank = the configured default), amounts in pence. Services with zero net spend
    are dropped; negative net spend (income above cost) is kept as published.
    """
    df = table if table is not None else load_council_spend()
    sel = df[(df["lad_code"] == la_code) & (df["year"] == year) & (df["source"] == source)
             & (df["line"] == spend_returns.SERVICE)]
    if sel.empty:
        raise DataError(spend_returns.OUTPUT, f"no {source} {year} lines for {la_code}")
    v = sel["net_current_expenditure_gbp_thousands"].fillna(0.0)
    out = pd.DataFrame({
        "partner": f"{sel['la_name'].iloc[0]} council ({source} net current expenditure)",
        "service": sel["service"].to_numpy(), "financial_year": year,
        "geography_type": "borough", "geography_code": "", "driver": "",
        "pence": [thousands_to_pence(x) for x in v],
        "source_line": [f"{source} {year} '{lab}'" for lab in sel["service_label"]],
    })
    return out[out["pence"] != 0].reset_index(drop=True)


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


# ------------------------------------------------------------------------ apportionment


_MEMBERS: dict[tuple, pd.DataFrame] = {}


def members_at(area_set, vintage: int) -> pd.DataFrame:
    """``areas.members(area_set, vintage)``, memoised on the areas' content."""

    key = (area_set.la_code, tuple((a.slug, a.lsoa_vintage, a.lsoas) for a in area_set.areas),
           vintage)
    if key not in _MEMBERS:
        _MEMBERS[key] = areas.members(area_set, vintage)
    return _MEMBERS[key]


def _members_by_vintage(area_set, vintages: Iterable[int]) -> dict[int, pd.DataFrame]:
    return {v: members_at(area_set, v) for v in set(vintages)}


def apportion(lines: pd.DataFrame, area_set=None, *, config_: Apportionment | None = None,
              override: Mapping[str, str] | None = None, weights: Mapping[str, pd.Series] | None = None,
              members: Mapping[int, pd.DataFrame] | None = None, ward_lsoas=None,
              la_code: str | None = None, lsoa_vintage: int | None = None) -> pd.DataFrame:
    """Share every ledger line between the target areas and the rest of the borough.

    ``lines``: partner, service, financial_year, geography_type, geography_code, driver,
    pence (as ``read_ledger(...).accepted`` or ``council_lines``). A borough line is shared
    by its driver (blank = the configured default for its service; ``override`` {service:
    driver} wins over both); an area line goes to that area; an LSOA or ward line is shared
    between areas and the rest by membership (ward: by the line's driver across the ward's
    LSOAs). ``weights`` {driver: Series by LSOA} and ``members`` {vintage: members frame}
    may be given (tests); otherwise they are built from the processed store. An LSOA line's
    code is taken as 2021 when it is a 2021 LSOA of the district, else 2011 (or
    ``lsoa_vintage``).
    Returns one row per line x slug: ..., slug, driver_used, pence. Conserves every line.
    """
    cfg = config_ or load_apportionment()
    piece_cache: dict[tuple[str, str], pd.DataFrame] = {}
    la = la_code or (area_set.la_code if area_set is not None else config.DEFAULT_LA_CODE)
    weights = dict(weights or {})
    members_cache = dict(members or {})

    def w(name: str) -> pd.Series:
        if name not in weights:
            weights[name] = driver_weights(name, la)
        return weights[name]

    def mem(vintage: int) -> pd.DataFrame:
        if vintage not in members_cache:
            members_cache.update(_members_by_vintage(area_set, [vintage]))
        return members_cache[vintage]

    out = []
    keep = [c for c in lines.columns if c not in {"pence", "slug"}]
    for rec in lines.to_dict("records"):
        gtype, total = rec["geography_type"], int(rec["pence"])
        drv = (override or {}).get(rec["service"]) or rec.get("driver") or cfg.driver_for(
            rec["service"])
        if gtype == "area":
            shares = pd.DataFrame({"slug": [rec["geography_code"]], "pence": [total]})
            drv = ""
        elif gtype == "borough":
            key = (drv, "borough")
            if key not in piece_cache:
                piece_cache[key] = pieces(w(drv), mem(DRIVERS[drv].vintage))
            p = piece_cache[key]
            shares = pd.DataFrame({"slug": p["slug"].to_numpy(),
                                   "pence": apportion_pence(total, p["driver"]).to_numpy()})
            shares = shares.groupby("slug", sort=False)["pence"].sum().reset_index()
        elif gtype == "ward":
            vintage = DRIVERS[drv].vintage
            lookup = ward_lsoas if ward_lsoas is not None else ward_members(la, vintage)
            weight = w(drv)
            weight = weight[weight.index.isin(lookup.get(rec["geography_code"], ()))]
            if weight.empty or weight.sum() <= 0:
                raise DataError("<ledger>", f"ward {rec['geography_code']} has no LSOAs on the "
                                f"{vintage} vintage", row=rec.get("row"))
            shares = area_baseline(total, weight, mem(vintage))
        elif gtype == "lsoa":
            code = rec["geography_code"]
            vintage = lsoa_vintage or (2021 if code in district_lsoas(la, 2021) else 2011)
            shares = area_baseline(total, pd.Series([1.0], index=[code]), mem(vintage))
            drv = ""
        else:
            raise DataError("<ledger>", f"unknown geography_type {gtype!r}", row=rec.get("row"))
        for s in shares.itertuples(index=False):
            out.append({**{k: rec[k] for k in keep}, "slug": s.slug, "driver_used": drv,
                        "pence": int(s.pence)})
    res = pd.DataFrame(out, columns=[*keep, "slug", "driver_used", "pence"])
    if int(res["pence"].sum()) != int(lines["pence"].sum()):  # pragma: no cover - invariant
        raise AssertionError("apportionment did not conserve money")
    return res


def area_table(apportioned: pd.DataFrame, area_set, population: pd.Series, need: pd.Series
               ) -> pd.DataFrame:
    """Per target area (and the rest of the borough): total, per head, share of spend vs
    share of population and of need.

    ``population``/``need``: by slug (including ``REST``), e.g. from ``area_measure``.
    Money in GBP (from pence); shares in percent of the borough.
    """
    tot = apportioned.groupby("slug")["pence"].sum()
    names = {a.slug: a.name for a in area_set.areas} if area_set is not None else {}
    order = [*(names or [s for s in tot.index if s != REST]), REST]
    df = pd.DataFrame(index=pd.Index(order, name="slug"))
    df["area"] = [names.get(s, "Rest of borough" if s == REST else s) for s in order]
    df["spend_gbp"] = tot.reindex(order).fillna(0).astype("int64") / 100
    df["population"] = population.reindex(order)
    df["spend_per_head_gbp"] = df["spend_gbp"] / df["population"]
    df["share_of_spend_pct"] = 100 * df["spend_gbp"] / df["spend_gbp"].sum()
    df["share_of_population_pct"] = 100 * df["population"] / df["population"].sum()
    df["share_of_need_pct"] = 100 * need.reindex(order) / need.reindex(order).sum()
    return df.reset_index()


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


def sensitivity(lines: pd.DataFrame, area_set, drivers: Iterable[str], **kw) -> pd.DataFrame:
    """Each area's baseline (GBP) when every shared line is apportioned by one driver, next
    to the default drivers. Columns: slug, 'default', then one per driver. Drivers whose
    data are unavailable are left out (their names in ``df.attrs['unavailable']``)."""
    kw["weights"] = dict(kw.get("weights") or {})
    kw["config_"] = kw.get("config_") or load_apportionment()
    base = apportion(lines, area_set, **kw).groupby("slug")["pence"].sum().rename("default")
    cols, unavailable = [base], {}
    for d in drivers:
        forced = {s: d for s in lines["service"].unique()}
        try:
            res = apportion(lines, area_set, override=forced, **kw)
        except DataError as exc:
            unavailable[d] = exc.problem
            continue
        cols.append(res.groupby("slug")["pence"].sum().rename(d))
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


def service_series(la_code: str = config.DEFAULT_LA_CODE, source: str = "RS",
                   base_year: str = "2011-12", table: pd.DataFrame | None = None,
                   deflator: pd.Series | None = None) -> pd.DataFrame:
    """A district's net current expenditure by service and year (GBP thousand), cash and in
    ``base_year`` prices (GDP deflator; NaN beyond its coverage, SPEND-6). Includes the
    total service expenditure line (``line``)."""
    df = table if table is not None else load_council_spend()
    sel = df[(df["lad_code"] == la_code) & (df["source"] == source)
             & (df["line"] != spend_returns.NET_CURRENT)]
    if sel.empty:
        raise DataError(spend_returns.OUTPUT, f"no {source} lines for {la_code}")
    cols = ["year", "service", "service_label", "line", "net_current_expenditure_gbp_thousands"]
    return real_terms(sel[cols].reset_index(drop=True), base_year, deflator)


def drivers_table(cfg: Apportionment | None = None) -> pd.DataFrame:
    """The configured default driver per service, its data and the reason."""
    cfg = cfg or load_apportionment()
    return pd.DataFrame([{"service": s, "driver": d, "what it counts": DRIVERS[d].label,
                          "LSOA vintage": str(DRIVERS[d].vintage), "why": cfg.reasons.get(s, "")}
                         for s, d in cfg.services.items()])


def driver_sources(drivers: Iterable[str]) -> list[str]:
    """Catalogue ids behind the named drivers (for source lines)."""
    ids: list[str] = []
    for d in drivers:
        for i in DRIVERS[d].source.split(";"):
            if i and i not in ids:
                ids.append(i)
        if d == "crime" and "ethnicity21_lsoa21" not in ids:
            ids.append("ethnicity21_lsoa21")
    return ids


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


def baseline(area_set, year: str = "2011-12", ledger: Ledger | None = None,
             source: str = "RS", cfg: Apportionment | None = None,
             override: Mapping[str, str] | None = None) -> Baseline:
    """The council's ``source`` net current expenditure for ``year`` (plus an accepted
    partner ledger's lines for that year, if given) shared to the areas by the drivers."""
    cfg = cfg or load_apportionment()
    lines = council_lines(area_set.la_code, year, source)
    if ledger is not None and len(ledger.accepted):
        extra = ledger.accepted[ledger.accepted["financial_year"] == year]
        lines = pd.concat([lines, extra.drop(columns=["amount", "row"], errors="ignore")],
                          ignore_index=True)
        lines["source_line"] = lines["source_line"].fillna("partner ledger")
    res = apportion(lines, area_set, config_=cfg, override=override)
    pop = area_measure("population", area_set)
    need = area_measure(cfg.need, area_set)
    used = sorted(set(res["driver_used"]) - {""})
    sources = [spend_returns.dataset_id(source, year), *driver_sources([*used, "population",
                                                                        cfg.need])]
    return Baseline(year, lines, res, area_table(res, area_set, pop, need), pop, need, sources)


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


def _m(gbp: float) -> str:
    """Money for prose: £410.9m, £12.5k or £950."""
    if abs(gbp) >= 1e6:
        return f"£{gbp / 1e6:,.1f}m"
    if abs(gbp) >= 1e4:
        return f"£{gbp / 1e3:,.1f}k"
    return f"£{gbp:,.0f}"


def key_findings(area_set, first: Baseline, last: Baseline, series: pd.DataFrame,
                 sens: pd.DataFrame, area: str = "borough", base_year: str = "2011-12",
                 ledger: Ledger | None = None) -> list[str]:
    """Plain-English findings written from the data (borough view or one area)."""
    tse = series[series["line"] == spend_returns.TOTAL_SERVICE].set_index("year")
    cash0 = tse.loc[first.year, "net_current_expenditure_gbp_thousands"] * 1000
    cash1 = tse.loc[last.year, "net_current_expenditure_gbp_thousands"] * 1000
    real_col = f"real_{base_year.replace('-', '_')}_prices"
    real = tse[real_col].dropna()
    out = [f"{area_set.la_name} council's net spend on services was {_m(cash0)} in "
           f"{first.year} and {_m(cash1)} in {last.year} in cash (MHCLG Revenue Outturn)."]
    if len(real) and first.year in real.index:
        ry = real.index[-1]
        change = 100 * (real.iloc[-1] / real[first.year] - 1)
        out.append(f"In {base_year} prices it {'fell' if change < 0 else 'rose'} by "
                   f"{abs(change):.0f}% between {first.year} and {ry}, the latest year the GDP "
                   "deflator covers.")
    t = first.areas.set_index("slug")
    targets = t.drop(REST)
    if area == "borough":
        sp, pp, nd = (targets["share_of_spend_pct"].sum(), targets["share_of_population_pct"].sum(),
                      targets["share_of_need_pct"].sum())
        ph_t = targets["spend_gbp"].sum() / targets["population"].sum()
        ph_r = t.loc[REST, "spend_per_head_gbp"]
        out.append(f"Modelled estimate for {first.year}: the {len(targets)} target areas "
                   f"received about {_m(targets['spend_gbp'].sum())} ({sp:.1f}% of council "
                   f"service spend) for {pp:.1f}% of residents and {nd:.1f}% of income-deprived "
                   f"people: £{ph_t:,.0f} a head against £{ph_r:,.0f} in the rest of the borough.")
        s = sens.set_index("slug").drop(REST).sum()
        lo, hi = s.drop("default").idxmin(), s.drop("default").idxmax()
        out.append(f"The estimate depends on the driver: sharing every line by "
                   f"{driver_name(lo)} gives the target areas {_m(s[lo])}, by "
                   f"{driver_name(hi)} {_m(s[hi])}, against {_m(s['default'])} with the "
                   "default drivers.")
    else:
        r = t.loc[area]
        out.append(f"Modelled estimate for {first.year}: {r['area']} received about "
                   f"{_m(r['spend_gbp'])} of council service spend, £{r['spend_per_head_gbp']:,.0f}"
                   f" a head against £{t.loc[REST, 'spend_per_head_gbp']:,.0f} in the rest of the"
                   f" borough; it has {r['share_of_population_pct']:.1f}% of residents and "
                   f"{r['share_of_need_pct']:.1f}% of income-deprived people.")
        s = sens.set_index("slug").loc[area]
        out.append(f"Under alternative drivers the estimate ranges from {_m(s.drop('default').min())}"
                   f" to {_m(s.drop('default').max())}.")
    if ledger is None or ledger.accepted.empty:
        out.append("No partner ledger has been received: police, NHS and other partners' "
                   "spend is not in these figures yet.")
    else:
        n_ok, n_bad = len(ledger.accepted), len(ledger.rejected)
        out.append(f"The partner ledger added {n_ok} line{'s' * (n_ok != 1)} "
                   f"({_m(ledger.accepted['pence'].sum() / 100)}, all years); {n_bad} "
                   f"line{'s were' if n_bad != 1 else ' was'} rejected and "
                   f"{'are' if n_bad != 1 else 'is'} listed below with the reason.")
    return out
