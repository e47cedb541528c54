"""Apportionment drivers (what a shared spend line is split by) and the apportionment config.

Drivers live on the LSOA vintage of their data: 2011 for the IoD 2019 numerators and the
mid-2015 populations, 2021 for Census 2021 and the IoD 2025 crime rates; area membership is
carried to that vintage with ``areas.members(area_set, vintage)`` (memoised in
``members_at``). Default drivers per council service are in ``data/spend/apportionment.yml``.
``national_driver`` gives a driver for every LSOA in England with its district and region
(for sharing regional public spend down to districts).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import areas
from evidence_pack.sources import table_cache
from evidence_pack.sources.io import DataError, read_yaml
from evidence_pack.stores import lsoa_geography

APPORTIONMENT_FILE = config.ROOT / "data" / "spend" / "apportionment.yml"

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
    """The district's LSOA codes of ``vintage`` (2011 from IoD 2019, 2021 from IoD 2025; a
    district created since, e.g. a new unitary: from the LSOA lookups). Kept in the build's
    memo (no area membership in its key): a fresh kernel reads a short tuple instead of
    England's IoD rows."""
    return _district_lsoas(la_code, vintage)


@table_cache.memo
def _district_lsoas(la_code: str, vintage: int) -> tuple[str, ...]:
    """``district_lsoas`` computed (England's IoD rows of the release, read once a process)."""
    release = {2011: 2019, 2021: 2025, 2001: 2010}[vintage]
    sel = _lsoas_by_district(release).get(la_code)
    if not sel:  # a district created since the IoD release: its LSOAs via the lookups
        codes = lsoa_geography.district_lsoas(la_code, vintage)
        if not codes:
            raise DataError(config.PROCESSED_DIR / "iod_lsoa.parquet",
                            f"no LSOAs of {vintage} for district {la_code}")
        return tuple(codes)
    return sel


@lru_cache(maxsize=3)
def _lsoas_by_district(release: int) -> dict[str, tuple[str, ...]]:
    """{district code: its sorted LSOA codes} in the IoD ``release``, every district at once
    (one read of the England-wide rows a process, not one a district)."""
    t = _processed("iod_lsoa.parquet", ["lsoa_code", "lad_code"],
                   [("release", "==", release), ("measure", "==", "imd")])
    return {la: tuple(sorted(g.unique())) for la, g in t.groupby("lad_code")["lsoa_code"]}


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


def _in(codes: list[str] | None) -> list:
    """A pyarrow filter on lsoa_code (none: every LSOA in England)."""
    return [] if codes is None else [("lsoa_code", "in", codes)]


def _lsoa_values(name: str, codes: list[str] | None, year: int = 2015) -> pd.Series:
    """Driver values by LSOA (``codes``, or every LSOA in England when None), not reindexed.

    ``year``: the mid-year population estimate used for the population drivers (2015 =
    IoD 2019's denominators; 2017, 2019, 2020 also held).
    """
    if name in {"population", "children", "older_people"}:
        col = {"population": "population", "children": "children_0_15",
               "older_people": "older_60_plus"}[name]
        return _processed("lsoa_population.parquet", ["lsoa_code", col],
                          [("year", "==", year), ("lsoa_vintage", "==", 2011), *_in(codes)]
                          ).set_index("lsoa_code")[col]
    if name in _NUMERATORS:
        i = _processed("iod_indicators.parquet", ["lsoa_code", "value"],
                       [("release", "==", 2019), ("indicator", "==", _NUMERATORS[name]),
                        *_in(codes)]).set_index("lsoa_code")["value"]
        # The published numerators are rounded and blank below 10 (min 10): a blank is
        # taken as 5, the middle of 0-9 (caveat SPEND-5).
        return i.fillna(SUPPRESSED_NUMERATOR)
    if name == "social_rented":
        c = _processed("census21_lsoa.parquet", ["lsoa_code", "category", "n"],
                       [("topic", "==", "tenure"), *_in(codes),
                        ("category", "in", ["social_rented_council", "social_rented_other"])])
        return c.groupby("lsoa_code", observed=True)["n"].sum()
    if name == "crime":
        i = _processed("iod_indicators.parquet", ["lsoa_code", "value"],
                       [("release", "==", 2025), ("indicator", "in", list(CRIME_INDICATORS)),
                        *_in(codes)])
        rate = i.groupby("lsoa_code")["value"].sum()
        return (rate * residents_2021(codes).reindex(rate.index) / 1000).dropna()
    path = config.PROCESSED_DIR / "boundaries_lsoa21.parquet"  # area
    if not path.exists():
        raise DataError(path, "not built yet (geography stage): the area driver needs it")
    import geopandas as gpd

    b = gpd.read_parquet(path)
    if codes is not None:
        b = b[b["code"].isin(codes)]
    return pd.Series(b.geometry.area.to_numpy() / 10_000, index=b["code"])


@lru_cache(maxsize=1)
def _england_residents_2021() -> pd.Series:
    c = _processed("census21_lsoa.parquet", ["lsoa_code", "total"], [("topic", "==", "ethnicity")])
    return c.drop_duplicates("lsoa_code").set_index("lsoa_code")["total"].astype(float)


def residents_2021(codes: list[str] | None = None) -> pd.Series:
    """Usual residents by LSOA 2021 (Census 2021 totals), for ``codes`` or all of England
    (read for England once per process; a new Series each call)."""
    s = _england_residents_2021()
    return s.copy() if codes is None else s[s.index.isin(list(codes))]


@lru_cache(maxsize=16)
def _england_values(name: str, year: int) -> pd.Series:
    """``_lsoa_values`` for every LSOA in England, once per process: a district's driver
    is these values at its LSOAs (the same values a read of its LSOAs alone gives)."""
    return _lsoa_values(name, None, year)


def driver_weights(name: str, la_code: str = config.DEFAULT_LA_CODE,
                   year: int = 2015) -> pd.Series:
    """Driver values by LSOA for the district (see ``_driver_weights``); cached, a copy."""
    return _driver_weights(name, la_code, year).copy()


@lru_cache(maxsize=64)
def _driver_weights(name: str, la_code: str, year: int) -> pd.Series:
    """Driver values by LSOA for the district (index lsoa_code of the driver's vintage).
    Raises DataError naming the missing input when a driver cannot be built. Kept in the
    build's memo (keyed by driver, district and year, no area membership): a fresh kernel
    reads the district's values instead of England's."""
    return _district_weights(name, la_code, year)


@table_cache.memo
def _district_weights(name: str, la_code: str, year: int) -> pd.Series:
    """``_driver_weights`` computed from England's values (read once a process)."""
    if name not in DRIVERS:
        raise KeyError(f"unknown driver {name!r}; choose from {sorted(DRIVERS)}")
    codes = list(district_lsoas(la_code, DRIVERS[name].vintage))
    s = _england_values(name, year).reindex(codes).astype(float)
    if s.isna().any():
        raise DataError(f"<driver {name}>", f"no value for {int(s.isna().sum())} of "
                        f"{len(s)} LSOAs, e.g. {list(s[s.isna()].index[:3])}")
    s.index.name = "lsoa_code"
    s.name = name
    return s


@lru_cache(maxsize=2)
def current_districts(vintage: int) -> dict[str, str]:
    """{LSOA of ``vintage``: code of the district created since that holds it} for every
    2021 district missing from the ``vintage`` lookup (e.g. a unitary formed in 2023);
    other LSOAs are left out (their district is unchanged)."""
    if vintage == 2021:
        return {}
    new = set(lsoa_geography.lsoa_districts(2021).values()) - set(
        lsoa_geography.lsoa_districts(vintage).values())
    return {c: code for code in sorted(new)
            for c in lsoa_geography.district_lsoas(code, vintage)}


@lru_cache(maxsize=16)
def district_driver(name: str) -> pd.DataFrame:
    """A driver summed to every English district: columns lad_code, region, value.

    Districts as in the IoD release of the driver's vintage (2019 for 2011 LSOAs, 2025 for
    2021 LSOAs), with the LSOAs of a district created since under its new code
    (``current_districts``); regions from the LSOA geography lookup (lower-case names as keys).
    Kept in the build's memo (~300 rows; no area membership in its key): a fresh kernel reads
    it instead of England's LSOA rows.
    """
    return _district_driver(name)


@table_cache.memo
def _district_driver(name: str) -> pd.DataFrame:
    """``district_driver`` computed from England's LSOA values (read once a process)."""
    if name not in DRIVERS or name == "area":
        raise KeyError(f"no national driver {name!r}")
    df = _lsoa_districts(DRIVERS[name].vintage).copy()
    df["value"] = df["lsoa_code"].map(_england_values(name, 2015)).astype(float)
    if df["value"].isna().any() or df["region_name"].isna().any():
        raise DataError(f"<driver {name}>", f"{int(df['value'].isna().sum())} LSOAs without a "
                        f"value, {int(df['region_name'].isna().sum())} without a region")
    return df.groupby(["region", "lad_code"], as_index=False)["value"].sum()


@lru_cache(maxsize=2)
def _lsoa_districts(vintage: int) -> pd.DataFrame:
    """Every LSOA of ``vintage`` (2011 or 2021) with its district as in the IoD release of
    that vintage (one created since under its new code), its region name and region key
    (``region_key``; missing where the lookup has no region): lsoa_code, lad_code,
    region_name, region. Read once per process for every driver of that vintage."""
    release = {2011: 2019, 2021: 2025}[vintage]
    lsoa = _processed("iod_lsoa.parquet", ["lsoa_code", "lad_code"],
                      [("release", "==", release), ("measure", "==", "imd")])
    geo = _processed("lsoa_geography.parquet", ["lsoa_code", "region_name"],
                     [("lsoa_vintage", "==", vintage)])
    df = lsoa.merge(geo, on="lsoa_code", how="left")
    new = current_districts(vintage)
    df["lad_code"] = df["lad_code"].mask(df["lsoa_code"].isin(list(new)),
                                         df["lsoa_code"].map(new))
    keys = {r: region_key(r) for r in df["region_name"].dropna().unique()}  # ~9 regions
    df["region"] = df["region_name"].map(keys)
    return df


def region_key(name: str) -> str:
    """A region name as a key: "Yorkshire and The Humber" -> "yorkshire and the humber";
    "East of England" -> "east"."""
    key = " ".join(str(name).replace("&", "and").lower().split())
    return {"east of england": "east"}.get(key, key)


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
