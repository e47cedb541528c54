"""The one reader of R ``sf`` objects (geographr's boundary ``.rda`` files, WGS84) and the
repair of invalid polygons shared by the boundary readers.

``read_sf`` returns GeoDataFrame[code, name, geometry] in British National Grid (EPSG:27700,
metres). Reading is slow (``rdata`` parses the whole file: ~30-50 s for LSOA 2011), so the
geography stage converts each file once to GeoParquet.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from evidence_pack.sources.io import DataError

CRS = "EPSG:27700"
WGS84 = "EPSG:4326"


def rings_to_geom(obj: list) -> Polygon | MultiPolygon:
    """An sf POLYGON (list of rings) or MULTIPOLYGON (list of lists of rings) -> shapely."""
    if not isinstance(obj, list) or not obj:
        raise ValueError("empty geometry")
    if isinstance(obj[0], np.ndarray):  # POLYGON
        return Polygon(obj[0][:, :2], [r[:, :2] for r in obj[1:]])
    polys = [Polygon(np.asarray(p[0])[:, :2], [np.asarray(r)[:, :2] for r in p[1:]]) for p in obj]
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def valid_polygons(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Invalid rings repaired with ``make_valid``, keeping only the polygonal part."""
    bad = ~gdf.geometry.is_valid
    if bad.any():
        gdf = gdf.copy()
        gdf.loc[bad, "geometry"] = shapely.make_valid(gdf.geometry[bad].to_numpy())
        gdf["geometry"] = [g if g.geom_type in ("Polygon", "MultiPolygon")
                           else shapely.union_all([p for p in getattr(g, "geoms", [g])
                                                   if p.geom_type in ("Polygon", "MultiPolygon")])
                           for g in gdf.geometry]
    return gdf


def _code_column(columns: list[str], path: str | Path) -> str:
    found = [c for c in columns if c.lower().endswith("_code")]
    if not found:
        raise DataError(path, f"no *_code column among {columns}")
    return found[0]


def read_sf(path: str | Path, code_col: str | None = None,
            name_col: str | None = None) -> gpd.GeoDataFrame:
    """Read a geographr ``sf`` object (.rda, WGS84) into GeoDataFrame[code, name, geometry]
    in EPSG:27700, invalid rings repaired. ``code_col`` defaults to the first ``*_code``
    column; without ``name_col`` the names are blank.

    Raises DataError naming the file (and the row) on unreadable data, missing columns, a bad
    geometry or coordinates that are not longitude/latitude in Great Britain.
    """
    import rdata  # slow to import (xarray): only when a file is read

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Missing constructor for R class sf": expected
            parsed = rdata.parser.parse_file(path)
            converted = rdata.conversion.convert(parsed, default_encoding="utf8")
    except Exception as exc:  # rdata raises many types for a file that is not R data
        raise DataError(path, f"cannot be read as an R sf object ({exc})") from exc
    if len(converted) != 1:
        raise DataError(path, f"expected one R object, found {list(converted)}")
    df = next(iter(converted.values()))
    code_col = code_col or _code_column(list(df.columns), path)
    missing = [c for c in (code_col, name_col or code_col, "geometry") if c not in df.columns]
    if missing:
        raise DataError(path, f"missing column(s) {missing}")
    geoms = []
    for i, g in enumerate(df["geometry"]):
        try:
            geoms.append(rings_to_geom(g))
        except (ValueError, IndexError, TypeError) as exc:
            raise DataError(path, f"bad geometry ({exc})", row=i + 1) from exc
    names = df[name_col].astype(str).to_numpy() if name_col else [""] * len(df)
    gdf = gpd.GeoDataFrame({"code": df[code_col].astype(str).to_numpy(), "name": names},
                           geometry=geoms, crs=WGS84)
    minx, miny, maxx, maxy = gdf.total_bounds
    if not (-9 < minx and maxx < 3 and 49 < miny and maxy < 61):
        raise DataError(path, f"coordinates {gdf.total_bounds.round(2).tolist()} are not "
                              "longitude/latitude in Great Britain (expected WGS84)")
    return valid_polygons(gdf.to_crs(CRS))
