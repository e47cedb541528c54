"""Boundaries as GeoParquet in British National Grid (EPSG:27700, metres).

``prepare()`` converts once (reading the R ``sf`` objects is slow: ~50 s for LSOA 2011):

- ``boundaries_lsoa11.parquet``, ``boundaries_lsoa21.parquet``, ``boundaries_msoa11.parquet``,
  ``boundaries_msoa21.parquet``, ``boundaries_wards22.parquet``, ``boundaries_lad.parquet``
  (districts 2024), ``boundaries_lad21.parquet``, ``boundaries_region.parquet`` (regions,
  dissolved from the 2024 districts): geographr's super-generalised ONS boundaries.
- ``boundaries_lsoa01.parquet``: 2001 LSOAs rebuilt from 2011 pieces with the ONS
  2001->2011 lookup (``method``: ``same``; ``union`` = a 2001 LSOA that split, the union of
  its 2011 parts; ``merged`` = a 2001 LSOA merged into a larger 2011 one, which has only the
  2011 shape, so the parents overlap; ``complex``).
- ``boundaries_detail_E08000018.parquet``: Rotherham's detailed shapes from
  open-innovations-geography-bits, ``layer`` in ``lsoa01``, ``lsoa11``, ``lsoa21`` (complete
  sets), ``ward23``, ``lad``.

Every file has ``code``, ``name``, ``lad_code`` and ``geometry``. Load with
:func:`lsoa_boundaries`, :func:`msoa_boundaries`, :func:`ward_boundaries`,
:func:`lad_boundaries`, :func:`region_boundaries`. Caveats: docs/caveats/areas.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, atomic_path, read_rda_frame
from evidence_pack.sources.rda import read_sf as read_sf_rda
from evidence_pack.sources.rda import rings_to_geom as _rings_to_geom  # noqa: F401 (tests)
from evidence_pack.sources.rda import valid_polygons as _valid
from evidence_pack.stores import lookups
from evidence_pack.stores.lookups import crosswalk_mass, lsoa_districts

CRS = "EPSG:27700"
WGS84 = "EPSG:4326"
P = config.PROCESSED_DIR

#: layer -> (dataset id, code column, name column). geographr boundaries (WGS84 sf objects).
SF_LAYERS: dict[str, tuple[str, str, str]] = {
    "lsoa11": ("boundaries_lsoa11", "lsoa11_code", "lsoa11_name"),
    "lsoa21": ("boundaries_lsoa21", "lsoa21_code", "lsoa21_name"),
    "msoa11": ("boundaries_msoa11", "msoa11_code", "msoa11_name"),
    "msoa21": ("boundaries_msoa21", "msoa21_code", "msoa21_name"),
    "wards22": ("boundaries_wards22", "ward22_code", "ward22_name"),
    "lad": ("boundaries_ltla24", "ltla24_code", "ltla24_name"),
    "lad21": ("boundaries_ltla21", "ltla21_code", "ltla21_name"),
}
#: Districts with detailed boundaries in the mirror (open-innovations-geography-bits).
DETAIL_LADS: tuple[str, ...] = ("E08000018",)
OI_GROUP = "open-innovations-geography-bits"


def path(layer: str) -> Path:
    """The processed GeoParquet of a layer (``lsoa01``, ``lsoa11``, ..., ``region``)."""
    return P / f"boundaries_{layer}.parquet"


def detail_path(lad_code: str) -> Path:
    return P / f"boundaries_detail_{lad_code}.parquet"


# --------------------------------------------------------------------------- readers


def read_geojson_features(paths: Iterable[Path], key: str) -> gpd.GeoDataFrame:
    """One GeoJSON Feature per file (open-innovations-geography-bits): properties
    ``<key>CD`` and ``<key>NM`` -> GeoDataFrame[code, name, geometry] in EPSG:27700."""
    rows = []
    for p in paths:
        try:
            feat = json.loads(Path(p).read_text(encoding="utf-8"))
            props = feat["properties"]
            rows.append({"code": props[f"{key}CD"], "name": props.get(f"{key}NM") or "",
                         "geometry": shape(feat["geometry"])})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataError(p, f"not a GeoJSON Feature with {key}CD ({exc})") from exc
    gdf = gpd.GeoDataFrame(rows, columns=["code", "name", "geometry"], geometry="geometry",
                           crs=WGS84)
    return _valid(gdf.to_crs(CRS))


def _write(gdf: gpd.GeoDataFrame, target: Path) -> Path:
    gdf = gdf.sort_values(["lad_code", "code"], na_position="last", ignore_index=True)
    with atomic_path(target) as tmp:
        gdf.to_parquet(tmp, index=False, row_group_size=2048)
    return target


# --------------------------------------------------------------------------- districts


def _district_of_points(gdf: gpd.GeoDataFrame, lads: gpd.GeoDataFrame) -> pd.Series:
    """District code of each shape by its representative point (nearest district if none)."""
    pts = gpd.GeoDataFrame(geometry=gdf.representative_point().to_numpy(), crs=CRS)
    j = gpd.sjoin_nearest(pts, lads[["code", "geometry"]], how="left")
    j = j[~j.index.duplicated(keep="first")]
    return pd.Series(j["code"].to_numpy(), index=gdf.index)


def _lsoa_lad(vintage: int) -> dict[str, str]:
    return lsoa_districts(vintage)


def rebuild_lsoa01(lsoa11: gpd.GeoDataFrame, lookup: pd.DataFrame) -> gpd.GeoDataFrame:
    """2001 LSOA shapes from 2011 ones. ``lookup`` has ``from_code`` (2001) and ``to_code``
    (2011). A 2001 LSOA with one 2011 child that has no other parent keeps its shape
    (``same``); one with several children is their union (``union``); one whose only child
    has other parents gets that child's shape (``merged``: an approximation, parents
    overlap); anything else is the union of its children (``complex``)."""
    lk = lookup[["from_code", "to_code"]].drop_duplicates()
    geom = lsoa11.set_index("code").geometry
    missing = sorted(set(lk["to_code"]) - set(geom.index))
    if missing:
        raise DataError(None, f"{len(missing)} 2011 LSOA(s) of the lookup have no boundary, "
                              f"e.g. {missing[:3]}")
    n_children = lk.groupby("from_code")["to_code"].transform("size")
    n_parents = lk.groupby("to_code")["from_code"].transform("size")
    lk = lk.assign(nc=n_children.to_numpy(), np_=n_parents.to_numpy())
    rows = []
    for code, g in lk.groupby("from_code", sort=True):
        children = g["to_code"].tolist()
        if len(children) == 1 and g["np_"].iloc[0] == 1:
            method = "same"
        elif len(children) > 1 and (g["np_"] == 1).all():
            method = "union"
        elif len(children) == 1:
            method = "merged"
        else:
            method = "complex"
        shp = geom[children[0]] if len(children) == 1 else shapely.union_all(
            geom[children].to_numpy())
        rows.append((code, method, shp))
    out = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["code", "method", "geometry"]),
                           geometry="geometry", crs=CRS)
    return out


# --------------------------------------------------------------------------- prepare


def _oi_paths(prefix: str, lad_code: str) -> list[Path]:
    ids = [e.id for e in catalogue.select(groups=[OI_GROUP]) if e.id.startswith(prefix)]
    if prefix.startswith("oi_lad"):
        ids = [i for i in ids if i.endswith(lad_code.lower())]
    return [catalogue.path_for(i) for i in sorted(ids)]


def build_detail(lad_code: str = "E08000018") -> gpd.GeoDataFrame:
    """Detailed boundaries of one district from open-innovations-geography-bits.

    ``layer`` ``lsoa21`` = every 2021 LSOA; ``lsoa11`` = 2021 shapes of unchanged codes plus
    the 2011 (and 2001 = 2011) shapes that differ; ``lsoa01`` likewise for 2001; ``ward23``;
    ``lad`` (the 2024 district outline).
    """
    l21 = read_geojson_features(_oi_paths("oi_lsoa21cd_", lad_code), "LSOA21")
    l11x = read_geojson_features(_oi_paths("oi_lsoa11cd_", lad_code), "LSOA11")
    l01x = read_geojson_features(_oi_paths("oi_lsoa01cd_", lad_code), "LSOA01")
    wards = read_geojson_features(_oi_paths("oi_wd23cd_", lad_code), "WD23")
    lad = read_geojson_features(_oi_paths("oi_lad24cd_", lad_code), "LAD24")
    layers = {"lsoa21": l21, "ward23": wards, "lad": lad}
    for vintage, key in ((2011, "lsoa11"), (2001, "lsoa01")):
        wanted = sorted(c for c, lad_ in _lsoa_lad(vintage).items() if lad_ == lad_code)
        pool = pd.concat([l01x, l11x, l21] if vintage == 2001 else [l11x, l01x, l21],
                         ignore_index=True).drop_duplicates("code", keep="first")
        sub = pool[pool["code"].isin(wanted)]
        lacking = sorted(set(wanted) - set(sub["code"]))
        if lacking:
            raise DataError(OI_GROUP, f"no detailed {vintage} shape for {lacking[:5]}")
        layers[key] = gpd.GeoDataFrame(sub, geometry="geometry", crs=CRS)
    frames = [g.assign(layer=k) for k, g in layers.items()]
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=CRS)
    out["lad_code"] = lad_code
    names11 = {**dict(zip(l21["code"], l21["name"], strict=True)),
               **dict(zip(l11x["code"], l11x["name"], strict=True)),
               **dict(zip(l01x["code"], l01x["name"], strict=True))}
    out["name"] = [n or names11.get(c, "") for c, n in zip(out["code"], out["name"], strict=True)]
    return out[["layer", "code", "name", "lad_code", "geometry"]]


def _outputs() -> list[Path]:
    return ([path(k) for k in SF_LAYERS] + [path("lsoa01"), path("region")]
            + [detail_path(c) for c in DETAIL_LADS])


def _inputs() -> list[Path]:
    ids = [v[0] for v in SF_LAYERS.values()] + ["lookup_ltla24_region24"]
    ids += [e.id for e in catalogue.select(groups=[OI_GROUP])]
    return [catalogue.path_for(i) for i in ids] + [lookups.LOOKUP_01_11, lookups.GEOGRAPHY_FILE]


def prepare(force: bool = False, layers: Iterable[str] | None = None) -> list[Path]:
    """Convert every boundary set to GeoParquet in data/processed/ (skipped when fresh)."""
    outputs = _outputs()
    if not force and layers is None and is_fresh(outputs, [*_inputs(), Path(__file__)]):
        return outputs
    chosen = list(layers) if layers is not None else list(SF_LAYERS)
    t0 = time.perf_counter()
    read: dict[str, gpd.GeoDataFrame] = {}
    parsed = []
    for layer in ["lad", *[k for k in chosen if k != "lad"]]:
        ds, code_col, name_col = SF_LAYERS[layer]
        src, out = catalogue.path_for(ds), path(layer)
        if not force and is_fresh([out], [src]):
            # the slow R parse is only redone when the .rda changed; districts are re-derived
            read[layer] = gpd.read_parquet(out, columns=["code", "name", "geometry"])
        else:
            read[layer] = read_sf_rda(src, code_col, name_col)
            parsed.append(layer)
    lads = read["lad"]
    written: list[Path] = []
    for layer, gdf in read.items():
        if layer in ("lad", "lad21"):
            gdf = gdf.assign(lad_code=gdf["code"])
        elif layer in ("lsoa11", "lsoa21"):
            lk = _lsoa_lad(2011 if layer == "lsoa11" else 2021)
            gdf = gdf.assign(lad_code=gdf["code"].map(lk))
            nolad = gdf["lad_code"].isna()
            if nolad.any():  # Welsh or unmatched: by location
                gdf.loc[nolad, "lad_code"] = _district_of_points(gdf[nolad], lads)
        else:
            gdf = gdf.assign(lad_code=_district_of_points(gdf, lads))
        if layer in chosen:
            written.append(_write(gdf, path(layer)))
    if "lsoa11" in read:
        lk = crosswalk_mass(2001, 2011)
        l01 = rebuild_lsoa01(read["lsoa11"], lk)
        names = _lsoa01_names()
        l01["name"] = l01["code"].map(names).fillna("")
        l01["lad_code"] = l01["code"].map(_lsoa_lad(2001))
        written.append(_write(l01[["code", "name", "lad_code", "method", "geometry"]],
                              path("lsoa01")))
    written.append(_write(build_regions(lads), path("region")))
    for lad_code in DETAIL_LADS:
        written.append(_write(build_detail(lad_code), detail_path(lad_code)))
    print(f"geography: {len(written)} boundary file(s) in {time.perf_counter() - t0:.0f} s "
          f"(R sf objects parsed: {', '.join(parsed) or 'none'})")
    _load.cache_clear()
    return written


def _lsoa01_names() -> dict[str, str]:
    df = pd.read_csv(catalogue.path_for("220"), usecols=["LSOA01CD", "LSOA01NM"])
    return dict(zip(df["LSOA01CD"], df["LSOA01NM"], strict=False))  # ONS names, 2001 LSOAs


def build_regions(lads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """English regions (and Wales, Scotland as wholes where present) dissolved from districts."""
    lk = read_rda_frame(catalogue.path_for("lookup_ltla24_region24"),
                        ["ltla24_code", "region24_code", "region24_name"])
    m = lads.merge(lk[["ltla24_code", "region24_code", "region24_name"]], left_on="code",
                   right_on="ltla24_code", how="inner")
    reg = m.dissolve(by=["region24_code", "region24_name"], as_index=False)
    out = gpd.GeoDataFrame({"code": reg["region24_code"], "name": reg["region24_name"],
                            "lad_code": pd.NA}, geometry=reg.geometry.to_numpy(), crs=CRS)
    return out


# --------------------------------------------------------------------------- loaders


@lru_cache(maxsize=32)
def _load(file: str, lad_code: str | None, layer: str | None = None) -> gpd.GeoDataFrame:
    p = Path(file)
    if not p.exists():
        raise FileNotFoundError(f"{p} is missing: run `evidence-pack prepare geography`")
    filters = []
    if lad_code is not None:
        filters.append(("lad_code", "==", lad_code))
    if layer is not None:
        filters.append(("layer", "==", layer))
    gdf = gpd.read_parquet(p, filters=filters or None)
    return gdf


def _get(file: Path, lad_code: str | None, layer: str | None = None) -> gpd.GeoDataFrame:
    return _load(str(file), lad_code, layer).copy()


def has_detail(lad_code: str | None) -> bool:
    return lad_code is not None and detail_path(lad_code).exists()


def lsoa_boundaries(vintage: int, lad_code: str | None = None,
                    detail: bool = True) -> gpd.GeoDataFrame:
    """LSOA shapes of ``vintage`` (2001, 2011, 2021), optionally for one district
    (``lad_code`` of that vintage's lookup). With ``detail`` and a detailed file for the
    district, the detailed shapes. Columns ``code``, ``name``, ``lad_code``, ``geometry``."""
    key = {2001: "lsoa01", 2011: "lsoa11", 2021: "lsoa21"}.get(vintage)
    if key is None:
        raise ValueError(f"vintage must be 2001, 2011 or 2021, not {vintage!r}")
    if detail and has_detail(lad_code):
        return _get(detail_path(lad_code), lad_code, key).drop(columns="layer")
    return _get(path(key), lad_code)


def msoa_boundaries(vintage: int = 2011, lad_code: str | None = None) -> gpd.GeoDataFrame:
    """MSOA shapes (2011 or 2021), optionally for one district (by location)."""
    key = {2011: "msoa11", 2021: "msoa21"}.get(vintage)
    if key is None:
        raise ValueError(f"MSOA vintage must be 2011 or 2021, not {vintage!r}")
    return _get(path(key), lad_code)


def ward_boundaries(lad_code: str | None = None, detail: bool = True) -> gpd.GeoDataFrame:
    """Wards: 2023 detailed shapes where available, else the 2022 wards."""
    if detail and has_detail(lad_code):
        return _get(detail_path(lad_code), lad_code, "ward23").drop(columns="layer")
    return _get(path("wards22"), lad_code)


def lad_boundaries(lad_code: str | None = None, detail: bool = True) -> gpd.GeoDataFrame:
    """Districts (2024 codes); one district's detailed outline when available."""
    if detail and has_detail(lad_code):
        return _get(detail_path(lad_code), lad_code, "lad").drop(columns="layer")
    return _get(path("lad"), lad_code)


def region_boundaries() -> gpd.GeoDataFrame:
    """The nine English regions (2024)."""
    return _get(path("region"), None)


def region_of(lad_code: str) -> str | None:
    """Region code of a district (2024 lookup), or None."""
    lk = read_rda_frame(catalogue.path_for("lookup_ltla24_region24"),
                        ["ltla24_code", "region24_code"])
    hit = lk.loc[lk["ltla24_code"] == lad_code, "region24_code"]
    return str(hit.iloc[0]) if len(hit) else None
