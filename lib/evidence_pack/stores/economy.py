"""The wider economy: ONS regional GDP/GVA by ITL region, growth, deflators, LSOA -> ITL3.

Source: ONS "Regional gross domestic product: all ITL regions" workbook (catalogue id
``regionalgrossdomesticproductgdpallitlregions``), calendar years 1998-2021, ITL 2021
geography (179 ITL3 sub-regions such as TLE31 "Barnsley, Doncaster and Rotherham").
Money is pounds million; volume measures are chained volume measures (CVM) in 2019 money.

Tables read (sheet -> ``measure``):

- Table 1 -> ``gva_current`` (GVA(B) at current basic prices)
- Table 5 -> ``gdp_current`` (GDP at current market prices)
- Table 6 -> ``population`` (mid-year population, persons)
- Table 8 -> ``gva_deflator`` (whole-economy GVA implied deflator, 2019 = 100; UK: GDP deflator)
- Table 10 -> ``gdp_cvm`` (GDP CVM, 2019 money)
- Table 11 -> ``gdp_cvm_per_head`` (pounds)

plus the derived ``gva_cvm`` = ``gva_current`` / ``gva_deflator`` x 100 (GVA in 2019 money:
the workbook derives its volume GDP the same way, see its Table 8 note).

The ITL3 boundaries (catalogue ids ``itl3_boundaries_*``, January 2021, BUC) place LSOAs in
ITL3 sub-regions by their centroids (:func:`lsoa_itl3`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError, write_parquet
from evidence_pack.sources.rda import read_sf

GDP_ID = "regionalgrossdomesticproductgdpallitlregions"
PRODUCTIVITY_ID = "itlproductivity"
ITL3_SHAPE_ID = "itl3_boundaries_shp"
ITL3_SIDECARS = ("itl3_boundaries_dbf", "itl3_boundaries_shx", "itl3_boundaries_prj",
                 "itl3_boundaries_cpg")

#: workbook sheet -> (measure, title prefix the sheet must start with)
SHEETS: dict[str, tuple[str, str]] = {
    "Table 1": ("gva_current", "Table 1: Gross Value Added (Balanced) at current basic prices"),
    "Table 5": ("gdp_current", "Table 5: Gross Domestic Product (GDP) at current market prices"),
    "Table 6": ("population", "Table 6: Total resident population"),
    "Table 8": ("gva_deflator", "Table 8: Whole economy GVA implied deflators, 2019"),
    "Table 10": ("gdp_cvm", "Table 10: Gross Domestic Product (GDP) chained volume measures"),
    "Table 11": ("gdp_cvm_per_head", "Table 11: Gross Domestic Product (GDP) chained volume"),
}
UNITS: dict[str, str] = {
    "gva_current": "pounds million, current prices",
    "gdp_current": "pounds million, current prices",
    "population": "persons",
    "gva_deflator": "index, 2019 = 100",
    "gdp_cvm": "pounds million, chained volume, 2019 money",
    "gdp_cvm_per_head": "pounds, chained volume, 2019 money",
    "gva_cvm": "pounds million, 2019 money (gva_current / gva_deflator x 100)",
}
#: ITL codes of the aggregates the deflator can be taken for.
DEFLATOR_AREAS = {"England": "TLB", "UK": "UK"}


def _read_sheet(path: Path, sheet: str, measure: str, title: str) -> pd.DataFrame:
    raw = pd.read_excel(path, sheet_name=sheet, header=None, engine="calamine")
    if not str(raw.iat[0, 0]).startswith(title):
        raise DataError(path, f"sheet {sheet!r} title is {raw.iat[0, 0]!r}, expected {title!r}...",
                        row=1)
    header = raw.iloc[1].tolist()
    if [str(h) for h in header[:3]] != ["ITL", "ITL code", "Region name"]:
        raise DataError(path, f"sheet {sheet!r}: unexpected header {header[:3]}", row=2)
    years = []
    for h in header[3:]:
        try:
            years.append(int(float(h)))
        except (TypeError, ValueError):
            raise DataError(path, f"sheet {sheet!r}: year column {h!r} is not a year", row=2) from None
    body = raw.iloc[2:].copy()
    body.columns = ["itl_level", "itl_code", "region_name", *years]
    body = body.dropna(subset=["itl_code"])
    long = body.melt(id_vars=["itl_level", "itl_code", "region_name"], var_name="year",
                     value_name="value")
    long["value"] = pd.to_numeric(long["value"], errors="coerce")  # 'u' = unreliable -> NaN
    long["year"] = long["year"].astype(int)
    long["measure"] = measure
    return long


@lru_cache(maxsize=2)
def regional_gdp(path: str | None = None) -> pd.DataFrame:
    """Tidy long table of the regional GDP workbook.

    Columns: ``itl_level`` (UK, Other = England etc., ITL1, ITL2, ITL3), ``itl_code``,
    ``region_name``, ``measure`` (see module docstring), ``year`` (calendar), ``value``.
    Raises DataError when a sheet's title or header is not as expected.
    """
    p = Path(path) if path else catalogue.path_for(GDP_ID)
    frames = [_read_sheet(p, s, m, t) for s, (m, t) in SHEETS.items()]
    df = pd.concat(frames, ignore_index=True)
    wide = df.pivot_table(index=["itl_code", "year"], columns="measure", values="value")
    gva_cvm = (wide["gva_current"] / wide["gva_deflator"] * 100).rename("value").reset_index()
    names = df.drop_duplicates("itl_code").set_index("itl_code")[["itl_level", "region_name"]]
    gva_cvm = gva_cvm.join(names, on="itl_code").assign(measure="gva_cvm")
    out = pd.concat([df, gva_cvm[df.columns]], ignore_index=True)
    dup = out.duplicated(["itl_code", "measure", "year"])
    if dup.any():
        raise DataError(p, f"duplicate region-year rows, e.g. {out[dup].iloc[0].to_dict()}")
    return out.sort_values(["measure", "itl_code", "year"]).reset_index(drop=True)


def itl3_table(measure: str = "gva_current", path: str | None = None) -> pd.DataFrame:
    """Wide table of one measure for the ITL3 sub-regions: itl3_code, itl3_name, one column
    per calendar year. Units: see ``UNITS[measure]``."""
    df = regional_gdp(path)
    if measure not in set(df["measure"]):
        raise KeyError(f"unknown measure {measure!r}; choose from {sorted(UNITS)}")
    sel = df[(df["measure"] == measure) & (df["itl_level"] == "ITL3")]
    wide = sel.pivot(index=["itl_code", "region_name"], columns="year", values="value")
    wide.columns = [int(c) for c in wide.columns]
    return wide.reset_index().rename(columns={"itl_code": "itl3_code", "region_name": "itl3_name"})


def itl3_growth(start: int, end: int, measure: str = "gva_cvm",
                path: str | None = None) -> pd.DataFrame:
    """Growth of each ITL3 sub-region between calendar years ``start`` and ``end``.

    ``measure`` defaults to real GVA (``gva_cvm``, 2019 money). Columns: itl3_code,
    itl3_name, value_start, value_end, growth_pct (total % change), annual_pct (compound
    average % a year), start_year, end_year, measure. Raises KeyError for a year the
    workbook does not cover (1998-2021).
    """
    if end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    wide = itl3_table(measure, path)
    for y in (start, end):
        if y not in wide.columns:
            years = [c for c in wide.columns if isinstance(c, int)]
            raise KeyError(f"year {y} not in the workbook ({min(years)}-{max(years)})")
    out = wide[["itl3_code", "itl3_name"]].copy()
    out["value_start"] = wide[start].astype(float)
    out["value_end"] = wide[end].astype(float)
    ratio = out["value_end"] / out["value_start"]
    out["growth_pct"] = (ratio - 1) * 100
    out["annual_pct"] = (ratio ** (1 / (end - start)) - 1) * 100
    out["start_year"], out["end_year"], out["measure"] = start, end, measure
    return out


def financial_year_label(start_year: int) -> str:
    """2010 -> '2010-11'."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def gdp_deflator(base_year: int | str = 2019, area: str = "England", basis: str = "calendar",
                 path: str | None = None) -> pd.Series:
    """Implied GDP deflator (GDP at current prices / GDP chained volume measure), rebased so
    that ``base_year`` = 100.

    ``area``: "England" (ITL code TLB) or "UK". ``basis``: "calendar" (index = calendar
    year, 1998-2021) or "financial" (index = financial-year label such as "2010-11",
    April-March). A financial year is approximated from the annual figures as 3/4 of
    calendar year t plus 1/4 of t+1, applied to both current-price and volume GDP before
    taking the ratio, so it covers 1998-99 to 2020-21 only; ``base_year`` is then a label
    (e.g. "2019-20") or the starting calendar year. Later years are NOT extrapolated: a
    caller deflating 2021-22 onwards must use another source (caveat ECON-2).

    To express cash in ``base_year`` prices: ``real = cash * 100 / deflator[year]``.
    """
    if area not in DEFLATOR_AREAS:
        raise KeyError(f"area must be one of {sorted(DEFLATOR_AREAS)}, not {area!r}")
    df = regional_gdp(path)
    sel = df[df["itl_code"] == DEFLATOR_AREAS[area]]
    wide = sel.pivot(index="year", columns="measure", values="value")
    cur, vol = wide["gdp_current"].astype(float), wide["gdp_cvm"].astype(float)
    if basis == "calendar":
        idx = cur / vol
        idx.index = idx.index.astype(int)
        key = int(base_year)
    elif basis == "financial":
        years = sorted(int(y) for y in wide.index)[:-1]
        fy_cur = pd.Series({y: 0.75 * cur[y] + 0.25 * cur[y + 1] for y in years})
        fy_vol = pd.Series({y: 0.75 * vol[y] + 0.25 * vol[y + 1] for y in years})
        idx = fy_cur / fy_vol
        idx.index = [financial_year_label(y) for y in years]
        key = base_year if isinstance(base_year, str) else financial_year_label(int(base_year))
    else:
        raise ValueError(f"basis must be 'calendar' or 'financial', not {basis!r}")
    if key not in idx.index:
        raise KeyError(f"base year {key!r} outside the deflator's coverage "
                       f"({idx.index[0]} to {idx.index[-1]})")
    out = idx / idx[key] * 100
    out.name = f"gdp_deflator_{area.lower()}_{key}=100"
    out.index.name = "financial_year" if basis == "financial" else "year"
    return out


# ----------------------------------------------------------------------------- LSOA -> ITL3

def itl3_boundaries():
    """ITL3 (January 2021) boundaries as a GeoDataFrame in EPSG:27700 (itl3_code, itl3_name)."""
    import geopandas as gpd

    shp = catalogue.path_for(ITL3_SHAPE_ID)
    for sid in ITL3_SIDECARS:  # verify the sidecar files too
        catalogue.path_for(sid)
    g = gpd.read_file(shp)
    code = next((c for c in g.columns if c.upper().startswith("ITL3") and c.upper().endswith("CD")),
                None)
    name = next((c for c in g.columns if c.upper().startswith("ITL3") and c.upper().endswith("NM")),
                None)
    if code is None or name is None:
        raise DataError(shp, f"no ITL3 code/name columns in {list(g.columns)}")
    g = g.rename(columns={code: "itl3_code", name: "itl3_name"})[["itl3_code", "itl3_name",
                                                                   "geometry"]]
    return g.to_crs(27700) if g.crs is not None else g.set_crs(27700)


def _lsoa_boundaries(vintage: int):
    """LSOA boundaries: the geography stage's GeoParquet if built, else the geographr file."""
    import geopandas as gpd

    built = config.PROCESSED_DIR / f"boundaries_lsoa{vintage % 100:02d}.parquet"
    if built.exists():
        g = gpd.read_parquet(built)
        return g.rename(columns={"code": "lsoa_code"})[["lsoa_code", "geometry"]].to_crs(27700)
    return _geographr_lsoa(vintage)


def _geographr_lsoa(vintage: int):
    """geographr's LSOA boundaries (sf, read by ``sources.rda``; slow: ~30 s for LSOA 2011)."""
    g = read_sf(catalogue.path_for(f"boundaries_lsoa{vintage % 100:02d}"))
    return g.rename(columns={"code": "lsoa_code"})[["lsoa_code", "geometry"]]


def assign_points_itl3(points, itl3) -> pd.DataFrame:
    """Spatial join of point geometries (GeoDataFrame with ``lsoa_code``) to ITL3 polygons.

    A point outside every polygon (the BUC coastline is generalised) takes the nearest
    ITL3. Returns lsoa_code, itl3_code, itl3_name, one row per point (counts preserved).
    """
    import geopandas as gpd

    j = gpd.sjoin(points, itl3, how="left", predicate="within")
    j = j[~j.index.duplicated()]  # a point on a shared edge: keep the first
    miss = j["itl3_code"].isna()
    if miss.any():
        near = gpd.sjoin_nearest(points[miss.to_numpy()], itl3, how="left")
        near = near[~near.index.duplicated()]
        j.loc[miss, ["itl3_code", "itl3_name"]] = near[["itl3_code", "itl3_name"]].to_numpy()
    if len(j) != len(points):
        raise DataError(None, f"ITL3 join returned {len(j)} rows for {len(points)} points")
    return pd.DataFrame(j[["lsoa_code", "itl3_code", "itl3_name"]]).reset_index(drop=True)


def lsoa_itl3(vintage: int = 2011, force: bool = False) -> pd.DataFrame:
    """LSOA -> ITL3 (2021) by LSOA centroid (point on surface), cached in
    ``data/processed/lookup_lsoa{yy}_itl3.parquet``. Columns lsoa_code, itl3_code, itl3_name.
    """
    out = config.PROCESSED_DIR / f"lookup_lsoa{vintage % 100:02d}_itl3.parquet"
    if out.exists() and not force:
        return pd.read_parquet(out)

    lsoa = _lsoa_boundaries(vintage)
    pts = lsoa.copy()
    pts["geometry"] = lsoa.geometry.representative_point()
    table = assign_points_itl3(pts, itl3_boundaries())
    write_parquet(table, out)
    return table


def prepare(force: bool = False) -> list[Path]:
    """Build the LSOA 2011 -> ITL3 lookup (used by the risk stage)."""
    lsoa_itl3(2011, force=force)
    return [config.PROCESSED_DIR / "lookup_lsoa11_itl3.parquet"]
