"""Draft target areas for any English district: its LSOAs in England's most deprived X% on
one IMD release, grouped into neighbourhood-sized areas that share boundaries, named from
House of Commons Library MSOA names (then ward names, numbered when they repeat), with a
descriptive type inferred from Census 2021 where the data allow.

Pure functions (``neighbours``, ``connected_groups``, ``split_group``, ``draft_groups``,
``infer_area_type``) take small frames so tests can run them on made-up grids; the rest read
the stores. The YAML text is written by ``findings.areas.render_draft``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import shapely

from evidence_pack import config
from evidence_pack.analysis.areas import UNCLASSIFIED, carry_codes
from evidence_pack.sources.io import DataError
from evidence_pack.stores import census, geography, iod, lookups
from evidence_pack.stores.lsoa_geography import check_district, district_lsoas

#: Default largest area, in LSOAs (about 1,500 people each: a neighbourhood of ~9,000).
MAX_LSOAS = 6

#: Census 2021 thresholds for the inferred type (shares of households or residents, 0-1).
#: England: social renting 17%, private renting 20%, non-White residents 19%.
SOCIAL_RENTED_MIN = 0.40
ETHNIC_MINORITY_MIN = 0.25
PRIVATE_RENTED_MIN = 0.20


def neighbours(shapes: pd.DataFrame, min_shared_m: float = 10.0) -> dict[str, set[str]]:
    """Shared-boundary adjacency of polygons (GeoDataFrame[code, geometry], metres).

    Two shapes are neighbours when they share at least ``min_shared_m`` metres of boundary
    (touching at a corner does not count); a 1 m tolerance absorbs slivers between
    generalised shapes.
    """
    codes = shapes["code"].tolist()
    geoms = shapes.geometry.to_numpy()
    out: dict[str, set[str]] = {c: set() for c in codes}
    tree = shapely.STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, 1.0), predicate="intersects")
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        shared = shapely.intersection(shapely.buffer(geoms[i], 1.0),
                                      shapely.buffer(geoms[j], 1.0))
        # area of the overlap of two 1 m buffers ~ 2 m x the shared boundary length
        if shapely.area(shared) >= 2.0 * min_shared_m:
            out[codes[i]].add(codes[j])
            out[codes[j]].add(codes[i])
    return out


def connected_groups(codes: list[str], adjacency: Mapping[str, set[str]]) -> list[list[str]]:
    """Connected components of ``codes`` under ``adjacency`` (each sorted; in order of
    their smallest code)."""
    pool = set(codes)
    groups: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(pool):
        if start in done:
            continue
        seen, stack = {start}, [start]
        while stack:
            c = stack.pop()
            for d in adjacency.get(c, ()):
                if d in pool and d not in seen:
                    seen.add(d)
                    stack.append(d)
        done |= seen
        groups.append(sorted(seen))
    return groups


def slugify(text: str) -> str:
    """"Firth Park & Parson Cross" -> "firth-park-and-parson-cross"."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower().replace("&", " and ")).strip("-")
    return s or "area"


def _grow(pool: list[str], rank: Mapping[str, int], adjacency: Mapping[str, set[str]],
          size: int) -> list[list[str]]:
    """Cut a connected set into contiguous pieces of at most ``size``: each piece starts at
    the most deprived LSOA left and takes its most deprived neighbour until full."""
    left = set(pool)
    pieces: list[list[str]] = []
    while left:
        seed = min(left, key=lambda c: (rank[c], c))
        piece = {seed}
        while len(piece) < size:
            edge = {d for c in piece for d in adjacency.get(c, ()) if d in left and d not in piece}
            if not edge:
                break
            piece.add(min(edge, key=lambda c: (rank[c], c)))
        left -= piece
        pieces.append(sorted(piece))
    return pieces


def split_group(group: list[str], rank: Mapping[str, int], adjacency: Mapping[str, set[str]],
                info: pd.DataFrame, max_lsoas: int = MAX_LSOAS) -> list[list[str]]:
    """Split a contiguous group larger than ``max_lsoas`` into contiguous pieces: first by
    MSOA, then by ward, then by growing pieces from the most deprived LSOA. ``info``:
    index lsoa_code, columns msoa_name, ward_name (may be empty)."""
    if len(group) <= max_lsoas:
        return [group]
    out = [group]
    for col in ("msoa_name", "ward_name"):
        nxt: list[list[str]] = []
        for g in out:
            if len(g) <= max_lsoas or col not in info or not len(info):
                nxt.append(g)
                continue
            keys = {c: str(info[col].get(c, "") or c) for c in g}
            for k in sorted(set(keys.values())):
                nxt += connected_groups([c for c in g if keys[c] == k], adjacency)
        out = nxt
    final: list[list[str]] = []
    for g in out:
        final += _grow(g, rank, adjacency, max_lsoas) if len(g) > max_lsoas else [g]
    return final


def _common(values: list[str]) -> list[str]:
    """The commonest non-empty value(s): two names only when they tie."""
    counts = pd.Series([v for v in values if v]).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    if not ordered:
        return []
    top = [v for v, n in ordered if n == ordered[0][1]]
    return top[:2]


def draft_groups(ranked: pd.DataFrame, adjacency: Mapping[str, set[str]],
                 names: pd.DataFrame | None = None, max_lsoas: int | None = None) -> list[dict]:
    """Group selected LSOAs into neighbourhood-sized areas and name them (pure; for tests).

    ``ranked``: lsoa_code, rank (1 = most deprived). ``names`` (optional): lsoa_code,
    msoa_name, ward_name. Contiguous groups larger than ``max_lsoas`` (None: no limit) are
    split (``split_group``). Returns dicts (slug, name, lsoas, ranks, msoas, wards) ordered
    by each area's most deprived LSOA; a name is the commonest MSOA name of the members
    (two when they tie; else ward names), made unique with the ward name, then a number.
    """
    rank = dict(zip(ranked["lsoa_code"], ranked["rank"], strict=True))
    info = (names.set_index("lsoa_code") if names is not None
            else pd.DataFrame(index=pd.Index([], name="lsoa_code"),
                              columns=["msoa_name", "ward_name"]))
    groups = connected_groups(list(rank), adjacency)
    if max_lsoas is not None:
        groups = [p for g in groups for p in split_group(g, rank, adjacency, info, max_lsoas)]
    groups.sort(key=lambda g: (min(rank[c] for c in g), g[0]))
    out: list[dict] = []
    used: set[str] = set()
    for g in groups:
        msoas = [str(info["msoa_name"].get(c, "") or "") for c in g] if len(info) else []
        wards = [str(info["ward_name"].get(c, "") or "") for c in g] if len(info) else []
        top_m, top_w = _common(msoas), _common(wards)
        base = " & ".join(top_m) if top_m else (" & ".join(top_w) if top_w else g[0])
        name = base
        if (name in used and top_w and top_w[0] not in base
                and f"{base} ({top_w[0]})" not in used):
            name = f"{base} ({top_w[0]})"
        n = 2
        while name in used:
            name = f"{base} ({n})"
            n += 1
        used.add(name)
        out.append({"slug": slugify(name), "name": name, "lsoas": g,
                    "ranks": [int(rank[c]) for c in g], "msoas": sorted(set(filter(None, msoas))),
                    "wards": sorted(set(filter(None, wards)))})
    slugs: dict[str, int] = {}
    for d in out:  # slugs unique even when names differ only in punctuation
        s = d["slug"]
        if s in slugs:
            slugs[s] += 1
            d["slug"] = f"{s}-{slugs[s]}"
        else:
            slugs[s] = 1
    return out


def infer_area_type(social_rented: float, private_rented: float, ethnic_minority: float) -> str:
    """A descriptive type from Census 2021 shares (0-1): "multi-ethnic terraced" where at
    least a quarter of residents are not White and a fifth of households rent privately;
    "council estate" where at least 40% of households rent socially; else "unclassified"
    (a former coalfield cannot be told from these data)."""
    if ethnic_minority >= ETHNIC_MINORITY_MIN and private_rented >= PRIVATE_RENTED_MIN:
        return "multi-ethnic terraced"
    if social_rented >= SOCIAL_RENTED_MIN:
        return "council estate"
    return UNCLASSIFIED


def group_shares(groups: list[dict], vintage: int, table: pd.DataFrame | None = None
                 ) -> list[dict[str, float]]:
    """Census 2021 social renting, private renting and non-White shares (0-1) of each
    group's members carried to 2021 LSOAs (LSOA shares averaged, weighted by the part of
    each 2021 LSOA in the group)."""
    table = census.load_lsoa() if table is None else table
    measures = {"social_rented": census.lsoa_measure("tenure", "social_rented", table),
                "private_rented": census.lsoa_measure("tenure", "private_rented", table),
                "ethnic_minority": census.lsoa_measure("ethnicity", "ethnic_minority", table)}
    out = []
    for g in groups:
        m = carry_codes(g["lsoas"], vintage, 2021) if vintage != 2021 else pd.DataFrame(
            {"lsoa_code": g["lsoas"], "weight": 1.0})
        w = m["weight"].to_numpy(float)
        out.append({k: float(np.nansum(s.reindex(m["lsoa_code"]).to_numpy(float) * w) / w.sum())
                    for k, s in measures.items()})
    return out


def selected_lsoas(la_code: str, release: int, threshold: float = 10.0,
                   measure: str = "imd") -> tuple[pd.DataFrame, int, int, int]:
    """LSOAs of a district in England's most deprived ``threshold``% on ``measure``.

    Returns (DataFrame[lsoa_code, rank], vintage, number of LSOAs in England, rank cut-off).
    The cut-off is floor(threshold% of England's LSOAs). A district created since 2019 is
    found through its 2021 LSOAs (``lsoa_geography.district_lsoas``).
    """
    if not 0 < threshold <= 100:
        raise ValueError(f"threshold must be a percentage in (0, 100], not {threshold}")
    vintage = config.RELEASE_VINTAGE[release]
    df = iod.load(releases=[release], measures=[measure])
    n = len(df)
    cutoff = int(np.floor(n * threshold / 100 + 1e-9))
    codes = set(district_lsoas(la_code, vintage))
    in_la = df["lsoa_code"].isin(codes) if codes else df["lad_code"] == la_code
    if not in_la.any():
        raise DataError(None, f"no LSOAs of district {la_code} in IMD {release}")
    sub = df[in_la & (df["rank"] <= cutoff)][["lsoa_code", "rank"]]
    return sub.sort_values(["rank", "lsoa_code"], ignore_index=True), vintage, n, cutoff


def lsoa_names(codes: Iterable[str], vintage: int) -> pd.DataFrame:
    """MSOA (House of Commons Library) and ward names of LSOAs of ``vintage``:
    lsoa_code, msoa_name, ward_name (wards of that vintage's lookup)."""
    codes = list(dict.fromkeys(codes))
    geo = lookups.geography(vintage)
    sub = geo[geo["lsoa_code"].isin(codes)][["lsoa_code", "msoa_name", "ward_name"]]
    return sub.drop_duplicates("lsoa_code").reset_index(drop=True)


def draft(la_code: str, release: int = 2010, threshold: float = 10.0,
          max_lsoas: int = MAX_LSOAS) -> dict:
    """Everything a draft area file needs: district name and whether it was created since
    the 2011 lookups, the selection (vintage, England's LSOAs, cut-off), and the groups with
    their Census shares and inferred ``area_type``. Deterministic. DataError with one line
    for a code that is not a current English district."""
    la_name, created = check_district(la_code)
    ranked, vintage, n, cutoff = selected_lsoas(la_code, release, threshold)
    shapes = geography.lsoa_boundaries(vintage, lad_code=None, detail=False)
    shapes = shapes[shapes["code"].isin(ranked["lsoa_code"])]
    if geography.has_detail(la_code):
        det = geography.lsoa_boundaries(vintage, la_code, detail=True)
        shapes = pd.concat([det[det["code"].isin(ranked["lsoa_code"])],
                            shapes[~shapes["code"].isin(det["code"])]], ignore_index=True)
    groups = draft_groups(ranked, neighbours(shapes), lsoa_names(ranked["lsoa_code"], vintage),
                          max_lsoas=max_lsoas)
    for g, s in zip(groups, group_shares(groups, vintage) if groups else [], strict=True):
        g["shares"] = s
        g["area_type"] = infer_area_type(**s)
    return {"la_code": la_code, "la_name": la_name, "created": created, "release": release,
            "threshold": threshold, "vintage": vintage, "n_england": n, "cutoff": cutoff,
            "max_lsoas": max_lsoas, "groups": groups}
