"""Target areas: load and validate the hand-editable area YAML, carry members across LSOA
vintages, draft areas for any English district, and borough facts.

An area file (default ``data/areas/rotherham.yml``) names a district (``la_code``,
``la_name``) and a list of areas, each with ``slug``, ``name``, ``area_type``,
``lsoa_vintage`` (2001, 2011 or 2021), ``lsoas`` (codes of that vintage, all inside the
district), and the governance fields ``cabinet_member`` and ``slt_lead`` (may be blank).
``load_areas`` raises ``io.DataError`` naming the file, the area and the problem.

Caveats: docs/caveats/areas.md (AREAS-n).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources.io import DataError, read_yaml
from evidence_pack.stores import geography, iod, lookups
from evidence_pack.stores.lookups import VINTAGES, cached_crosswalk, lsoa_districts

#: The area types the 2011 report uses (section 7.2).
AREA_TYPES: tuple[str, ...] = ("council estate", "multi-ethnic terraced", "coalfield community")
#: Also accepted on load: drafts leave the type for people to decide.
UNCLASSIFIED = "unclassified"

CONFIDENCE: tuple[str, ...] = ("high", "medium", "low")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Slugs that mean something else to the notebooks.
RESERVED_SLUGS: frozenset[str] = frozenset({"borough", "all", "england"})
LSOA_RE = re.compile(r"^[EW]01\d{6}$")


@dataclass(frozen=True)
class Area:
    """One target neighbourhood: member LSOAs of one stated vintage."""

    slug: str
    name: str
    area_type: str
    lsoa_vintage: int
    lsoas: tuple[str, ...]
    cabinet_member: str = ""
    slt_lead: str = ""
    confidence: str | None = None
    evidence: str = ""


@dataclass(frozen=True)
class AreaSet:
    """The areas of one district, as loaded from an area file."""

    la_code: str
    la_name: str
    areas: list[Area]
    source: str = ""
    path: Path | None = None
    extra: Mapping[str, object] = field(default_factory=dict)

    def get(self, slug: str) -> Area:
        """The area with this slug; KeyError listing the valid slugs otherwise."""
        for a in self.areas:
            if a.slug == slug:
                return a
        raise KeyError(f"no area {slug!r} in {self.path or 'the area set'}; "
                       f"choose from {self.slugs}")

    @property
    def slugs(self) -> list[str]:
        return [a.slug for a in self.areas]

    def __len__(self) -> int:
        return len(self.areas)

    def __iter__(self):
        return iter(self.areas)

    def table(self) -> pd.DataFrame:
        """One row per area x member LSOA (in the file's own vintage)."""
        rows = [{"slug": a.slug, "name": a.name, "area_type": a.area_type,
                 "lsoa_vintage": a.lsoa_vintage, "lsoa_code": c}
                for a in self.areas for c in a.lsoas]
        return pd.DataFrame(rows, columns=["slug", "name", "area_type", "lsoa_vintage",
                                           "lsoa_code"])


# --------------------------------------------------------------------------- reference


# --------------------------------------------------------------------------- load


def _text(value: object, what: str, path: Path, row: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise DataError(path, f"{what} must be text, not {type(value).__name__}", row=row)
    return str(value).strip()


def parse_areas(doc: object, path: Path | str = "<areas>",
                reference: Mapping[int, Mapping[str, str]] | None = None) -> AreaSet:
    """Validate a parsed area document and build the AreaSet.

    ``reference`` maps vintage -> {LSOA code: district code}; by default
    :func:`lsoa_districts`. Raises DataError (row = the area's position and slug).
    """
    path = Path(path)
    if not isinstance(doc, dict):
        raise DataError(path, "expected a mapping with la_code, la_name and areas at the top")
    for key in ("la_code", "la_name", "areas"):
        if key not in doc:
            raise DataError(path, f"missing top-level key {key!r}")
    la_code = _text(doc["la_code"], "la_code", path, "top")
    la_name = _text(doc["la_name"], "la_name", path, "top")
    if not re.fullmatch(r"[EW]0[6-9]\d{6}", la_code):
        raise DataError(path, f"la_code {la_code!r} is not a district code like E08000018")
    default_vintage = doc.get("lsoa_vintage", 2001)
    items = doc["areas"]
    if not isinstance(items, list) or not items:
        raise DataError(path, "areas must be a non-empty list")
    known = {"slug", "name", "area_type", "lsoa_vintage", "lsoas", "cabinet_member",
             "slt_lead", "confidence", "evidence"}
    areas: list[Area] = []
    seen_slugs: dict[str, int] = {}
    seen_lsoas: dict[tuple[int, str], str] = {}
    for i, item in enumerate(items, start=1):
        row = f"area {i}"
        if not isinstance(item, dict):
            raise DataError(path, "each area must be a mapping", row=row)
        slug = _text(item.get("slug"), "slug", path, row)
        row = f"area {i} ({slug or 'no slug'})"
        unknown = sorted(set(item) - known)
        if unknown:
            raise DataError(path, f"unknown field(s) {unknown}; allowed: {sorted(known)}", row=row)
        if not SLUG_RE.fullmatch(slug):
            raise DataError(path, f"bad slug {slug!r}: use lower-case letters, digits and "
                                  "single hyphens, e.g. 'east-dene'", row=row)
        if slug in RESERVED_SLUGS:
            raise DataError(path, f"slug {slug!r} is reserved", row=row)
        if slug in seen_slugs:
            raise DataError(path, f"duplicate slug {slug!r} (also area {seen_slugs[slug]})",
                            row=row)
        seen_slugs[slug] = i
        name = _text(item.get("name"), "name", path, row)
        if not name:
            raise DataError(path, "missing name", row=row)
        area_type = _text(item.get("area_type"), "area_type", path, row)
        if area_type not in (*AREA_TYPES, UNCLASSIFIED):
            raise DataError(path, f"area_type {area_type!r} is not one of "
                                  f"{[*AREA_TYPES, UNCLASSIFIED]}", row=row)
        vintage = item.get("lsoa_vintage", default_vintage)
        if vintage not in VINTAGES:
            raise DataError(path, f"lsoa_vintage {vintage!r} is not one of {list(VINTAGES)}",
                            row=row)
        confidence = item.get("confidence")
        if confidence is not None and confidence not in CONFIDENCE:
            raise DataError(path, f"confidence {confidence!r} is not one of {list(CONFIDENCE)}",
                            row=row)
        lsoas = item.get("lsoas")
        if lsoas is None or (isinstance(lsoas, list) and not lsoas):
            raise DataError(path, "empty area: no member LSOAs", row=row)
        if not isinstance(lsoas, list):
            raise DataError(path, "lsoas must be a list of LSOA codes", row=row)
        codes: list[str] = []
        ref = (reference or {}).get(vintage) if reference is not None else lsoa_districts(vintage)
        if ref is None:
            raise DataError(path, f"no reference LSOA list for vintage {vintage}", row=row)
        for c in lsoas:
            code = str(c).strip().upper()
            if not LSOA_RE.fullmatch(code):
                raise DataError(path, f"{c!r} is not an LSOA code (E01 followed by 6 digits)",
                                row=row)
            if code in codes:
                raise DataError(path, f"duplicate LSOA {code} in the area", row=row)
            if (vintage, code) in seen_lsoas:
                raise DataError(path, f"LSOA {code} is also in area "
                                      f"{seen_lsoas[(vintage, code)]!r}", row=row)
            if code not in ref:
                raise DataError(path, f"unknown {vintage} LSOA code {code}", row=row)
            if ref[code] != la_code:
                raise DataError(path, f"LSOA {code} is in district {ref[code]}, outside "
                                      f"{la_code} ({la_name})", row=row)
            codes.append(code)
            seen_lsoas[(vintage, code)] = slug
        areas.append(Area(
            slug=slug, name=name, area_type=area_type, lsoa_vintage=int(vintage),
            lsoas=tuple(codes),
            cabinet_member=_text(item.get("cabinet_member"), "cabinet_member", path, row),
            slt_lead=_text(item.get("slt_lead"), "slt_lead", path, row),
            confidence=confidence,
            evidence=" ".join(_text(item.get("evidence"), "evidence", path, row).split()),
        ))
    extra = {k: v for k, v in doc.items() if k not in {"la_code", "la_name", "areas", "source"}}
    return AreaSet(la_code=la_code, la_name=la_name, areas=areas,
                   source=" ".join(_text(doc.get("source"), "source", path, "top").split()),
                   path=path, extra=extra)


def load_areas(path: str | Path = config.DEFAULT_AREAS_FILE,
               reference: Mapping[int, Mapping[str, str]] | None = None) -> AreaSet:
    """Load and validate an area file (relative paths are from the project root).

    Raises DataError on unreadable or bad YAML, a bad slug, an empty area, an unknown or
    duplicate LSOA code, or an LSOA outside the district.
    """
    p = Path(path)
    if not p.is_absolute():
        p = config.ROOT / p
    doc = read_yaml(p, "area file")
    return parse_areas(doc, p, reference=reference)


# --------------------------------------------------------------------------- members


def members(area_set: AreaSet, vintage: int | None = None) -> pd.DataFrame:
    """Member LSOAs of every area, carried to ``vintage`` (2001, 2011 or 2021).

    Columns: ``slug``, ``name``, ``lsoa_code`` (of ``vintage``), ``weight`` = the share of
    that LSOA belonging to the area (1.0 when wholly inside; less when an LSOA of
    ``vintage`` was formed from member and non-member LSOAs, by overlap population).
    ``vintage=None`` keeps each area's own vintage. Rows in area order, then by code.
    """
    cols = ["slug", "name", "lsoa_code", "weight"]
    frames = []
    table = area_set.table()
    for v_from, g in table.groupby("lsoa_vintage", sort=True):
        target = int(v_from) if vintage is None else vintage
        frames.append(_carry_table(g[["slug", "name", "lsoa_code"]], int(v_from), target))
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    order = {s: i for i, s in enumerate(area_set.slugs)}
    out = out.assign(_o=out["slug"].map(order)).sort_values(["_o", "lsoa_code"])
    return out[cols].reset_index(drop=True)


def _carry_table(t: pd.DataFrame, from_vintage: int, to_vintage: int,
                 crosswalk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Carry many areas' members at once: t has slug, name, lsoa_code (from_vintage)."""
    if from_vintage == to_vintage:
        return t.assign(weight=1.0)
    if crosswalk is None:
        by_from, totals = _carry_index(from_vintage, to_vintage)
    else:
        by_from, totals = _index(crosswalk)
    codes = t["lsoa_code"].astype(object)
    known = pd.Index(codes).isin(by_from.index)
    if not known.all():
        missing = sorted(set(codes[~known]))
        raise DataError(None, f"{from_vintage} LSOA(s) {missing[:5]} not in the "
                              f"{from_vintage}->{to_vintage} lookup")
    m = t.astype({"lsoa_code": object}).merge(by_from, left_on="lsoa_code",
                                              right_index=True)
    inside = m.groupby(["slug", "name", "to_code"], sort=False)["mass"].sum().reset_index()
    inside["weight"] = (inside["mass"] / inside["to_code"].map(totals)).clip(upper=1.0)
    return inside.rename(columns={"to_code": "lsoa_code"})[["slug", "name", "lsoa_code",
                                                             "weight"]]


def carry_codes(codes: Iterable[str], from_vintage: int, to_vintage: int,
                crosswalk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Carry a set of LSOAs of one vintage to another: DataFrame[lsoa_code, weight].

    ``crosswalk`` (optional, for tests) has ``from_code``, ``to_code`` and ``mass`` (the
    population, or 1, that the pair shares). ``weight`` of a target LSOA = the share of its
    mass that comes from ``codes``; target LSOAs with no share are dropped. Sorted by code.
    """
    codes = list(dict.fromkeys(codes))
    t = pd.DataFrame({"slug": "x", "name": "x", "lsoa_code": codes})
    out = _carry_table(t, from_vintage, to_vintage, crosswalk)[["lsoa_code", "weight"]]
    return out.sort_values("lsoa_code", ignore_index=True)


def _index(cw: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Crosswalk indexed by from_code, and each to-LSOA's total mass."""
    cw = cw.astype({"from_code": object, "to_code": object})
    return cw.set_index("from_code")[["to_code", "mass"]], cw.groupby("to_code")["mass"].sum()


@lru_cache(maxsize=6)
def _carry_index(from_vintage: int, to_vintage: int) -> tuple[pd.DataFrame, pd.Series]:
    return _index(cached_crosswalk(from_vintage, to_vintage))


# --------------------------------------------------------------------------- drafting


def neighbours(shapes: pd.DataFrame, min_shared_m: float = 10.0) -> dict[str, set[str]]:
    """Shared-boundary adjacency of polygons (GeoDataFrame[code, geometry], metres).

    Two shapes are neighbours when they share at least ``min_shared_m`` metres of boundary
    (touching at a corner does not count); a 1 m tolerance absorbs slivers between
    generalised shapes.
    """
    import shapely

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
    for start in sorted(pool):
        if any(start in g for g in groups):
            continue
        seen, stack = {start}, [start]
        while stack:
            c = stack.pop()
            for d in adjacency.get(c, ()):
                if d in pool and d not in seen:
                    seen.add(d)
                    stack.append(d)
        groups.append(sorted(seen))
    return groups


def slugify(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower().replace("&", " and ")).strip("-")
    return s or "area"


def _common(values: list[str], k: int = 2) -> list[str]:
    counts = pd.Series([v for v in values if v]).value_counts()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [v for v, _ in ordered[:k]]


def draft_groups(ranked: pd.DataFrame, adjacency: Mapping[str, set[str]],
                 names: pd.DataFrame | None = None) -> list[dict]:
    """Group selected LSOAs into neighbourhoods and name them (pure; for tests).

    ``ranked``: lsoa_code, rank (1 = most deprived). ``names`` (optional): lsoa_code,
    msoa_name, ward_name. Returns dicts (slug, name, lsoas, ranks, msoas, wards) ordered by
    each group's most deprived LSOA; names are the commonest MSOA name(s) of the members
    (then ward names), made unique with the ward name or a number.
    """
    rank = dict(zip(ranked["lsoa_code"], ranked["rank"], strict=True))
    info = (names.set_index("lsoa_code") if names is not None
            else pd.DataFrame(index=pd.Index([], name="lsoa_code"),
                              columns=["msoa_name", "ward_name"]))
    groups = connected_groups(list(rank), adjacency)
    groups.sort(key=lambda g: (min(rank[c] for c in g), g[0]))
    out: list[dict] = []
    used: dict[str, int] = {}
    for g in groups:
        msoas = [str(info["msoa_name"].get(c, "") or "") for c in g] if len(info) else []
        wards = [str(info["ward_name"].get(c, "") or "") for c in g] if len(info) else []
        top_m, top_w = _common(msoas), _common(wards)
        base = " & ".join(top_m) if top_m else (" & ".join(top_w) if top_w else g[0])
        name = base
        if name in used and top_w and f"{base} ({top_w[0]})" not in used:
            name = f"{base} ({top_w[0]})"
        n = 2
        while name in used:
            name = f"{base} ({n})"
            n += 1
        used[name] = 1
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


def _yaml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def render_draft(la_code: str, la_name: str, release: int, threshold: float, vintage: int,
                 groups: list[dict], n_england: int, cutoff: int) -> str:
    """The draft area YAML text (deterministic: no dates)."""
    lines = [
        f"# Draft target areas for {la_name} ({la_code}), written by",
        f"# `evidence-pack areas draft --la {la_code} --release {release} --threshold {threshold:g}`.",
        f"# LSOAs ({vintage}) in England's most deprived {threshold:g}% on IMD {release} (rank",
        f"# {cutoff:,} or lower of {n_england:,}), grouped into neighbourhoods by shared",
        "# boundaries and named from House of Commons Library MSOA names and ward names.",
        "# Review before use: rename, split or merge areas, set area_type and the leads.",
        f"la_code: {la_code}",
        f"la_name: {_yaml_str(la_name)}",
        f"source: {_yaml_str(f'Draft from IMD {release}, most deprived {threshold:g}% nationally')}",
        f"lsoa_vintage: {vintage}",
        "areas:",
    ]
    for d in groups:
        ranks = d["ranks"]
        ev = (f"Draft: {len(d['lsoas'])} contiguous LSOA(s) in the national most deprived "
              f"{threshold:g}% on IMD {release} (ranks {min(ranks):,}-{max(ranks):,}). "
              f"MSOAs: {', '.join(d['msoas']) or 'n/a'}. Wards: {', '.join(d['wards']) or 'n/a'}.")
        lines += [
            f"  - slug: {d['slug']}",
            f"    name: {_yaml_str(d['name'])}",
            "    area_type: unclassified",
            f"    lsoa_vintage: {vintage}",
            f"    lsoas: [{', '.join(d['lsoas'])}]",
            '    cabinet_member: ""',
            '    slt_lead: ""',
            f"    evidence: {_yaml_str(ev)}",
        ]
    if not groups:
        lines[-1] = "areas: []"
    return "\n".join(lines) + "\n"


def lsoa_names(codes: Iterable[str], vintage: int) -> pd.DataFrame:
    """MSOA (House of Commons Library) and ward names of LSOAs of ``vintage``:
    lsoa_code, msoa_name, ward_name (``lookups.geography``; wards of that vintage's lookup)."""

    codes = list(dict.fromkeys(codes))
    geo = lookups.geography(vintage)
    sub = geo[geo["lsoa_code"].isin(codes)][["lsoa_code", "msoa_name", "ward_name"]]
    return sub.drop_duplicates("lsoa_code").reset_index(drop=True)


def selected_lsoas(la_code: str, release: int, threshold: float = 10.0,
                   measure: str = "imd") -> tuple[pd.DataFrame, int, int, int]:
    """LSOAs of a district in England's most deprived ``threshold``% on ``measure``.

    Returns (DataFrame[lsoa_code, rank], vintage, number of LSOAs in England, rank cut-off).
    The cut-off is floor(threshold% of England's LSOAs); districts are those of the LSOA
    vintage's lookup, falling back to the release's own district codes.
    """

    if not 0 < threshold <= 100:
        raise ValueError(f"threshold must be a percentage in (0, 100], not {threshold}")
    vintage = config.RELEASE_VINTAGE[release]
    df = iod.load(releases=[release], measures=[measure])
    n = len(df)
    cutoff = int(np.floor(n * threshold / 100 + 1e-9))
    lad = lsoa_districts(vintage)
    in_la = df["lsoa_code"].map(lad) == la_code
    if not in_la.any():
        in_la = df["lad_code"] == la_code
    if not in_la.any():
        raise DataError(None, f"no LSOAs of district {la_code} in IMD {release}")
    sub = df[in_la & (df["rank"] <= cutoff)][["lsoa_code", "rank"]]
    return sub.sort_values(["rank", "lsoa_code"], ignore_index=True), vintage, n, cutoff


def draft_areas_yaml(la_code: str, release: int = 2010, threshold: float = 10.0) -> str:
    """A draft area YAML for any English district: its LSOAs in England's most deprived
    ``threshold``% on IMD ``release``, grouped by shared boundaries (connected components)
    and named from MSOA and ward names. Deterministic."""

    ranked, vintage, n, cutoff = selected_lsoas(la_code, release, threshold)
    shapes = geography.lsoa_boundaries(vintage, lad_code=None, detail=False)
    shapes = shapes[shapes["code"].isin(ranked["lsoa_code"])]
    if geography.has_detail(la_code):
        det = geography.lsoa_boundaries(vintage, la_code, detail=True)
        shapes = pd.concat([det[det["code"].isin(ranked["lsoa_code"])],
                            shapes[~shapes["code"].isin(det["code"])]], ignore_index=True)
    adj = neighbours(shapes)
    names = lsoa_names(ranked["lsoa_code"], vintage)
    groups = draft_groups(ranked, adj, names)
    la_name = _district_name(la_code)
    return render_draft(la_code, la_name, release, threshold, vintage, groups, n, cutoff)


def _district_name(la_code: str) -> str:
    df = iod.load(measures=["imd"], lad_codes=[la_code])
    if len(df):
        return str(df.sort_values("release")["lad_name"].iloc[-1])
    return la_code


# --------------------------------------------------------------------------- borough facts

#: "Central Rotherham" (report section 7.2), defined by the pack: the wards in force in 2011
#: (2004-2021 wards) that cover Rotherham town around its centre. See AREAS-9.
CENTRAL_WARDS: dict[str, tuple[str, ...]] = {
    "E08000018": ("Boston Castle", "Rotherham East", "Rotherham West", "Valley"),
}
#: The LSOA (2001) holding each district's town centre, for the contiguity definition.
TOWN_CENTRE_LSOA: dict[str, str] = {"E08000018": "E01007714"}
#: What the 2011 report says (Rotherham), for side-by-side tables.
REPORT_FACTS: dict[str, object] = {
    "target_lsoas": 24,
    "population_share": 0.15,
    "central_share": 0.75,
}


@dataclass(frozen=True)
class BoroughFacts:
    """Borough facts from the data beside the report's figures.

    ``summary``: fact, data, report, basis. ``decile1``: release, lsoa_vintage, lsoas,
    decile1 (LSOAs in England's most deprived 10% on the IMD), decile1_share,
    target_lsoas_decile1 (target-area LSOAs, carried to that release's vintage, in decile 1).
    ``population``: lsoa_vintage, year, source, borough, target_areas, share.
    ``central``: definition, set, central, total, share.
    """

    la_code: str
    summary: pd.DataFrame
    decile1: pd.DataFrame
    population: pd.DataFrame
    central: pd.DataFrame


def _district_lsoas(la_code: str, vintage: int) -> list[str]:
    return sorted(c for c, lad in lsoa_districts(vintage).items() if lad == la_code)


def decile1_counts(area_set: AreaSet, releases: Iterable[int] = config.RELEASES) -> pd.DataFrame:
    """Per release: the district's LSOAs, how many are in England's most deprived 10% on
    the IMD, and how many of the target-area LSOAs (carried to the release's vintage)."""

    rows = []
    df = iod.load(releases=list(releases), measures=["imd"])
    for release in releases:
        vintage = config.RELEASE_VINTAGE[release]
        codes = set(_district_lsoas(area_set.la_code, vintage))
        sub = df[(df["release"] == release) & df["lsoa_code"].isin(codes)]
        target = set(members(area_set, vintage)["lsoa_code"])
        d1 = set(sub.loc[sub["decile"] == 1, "lsoa_code"])
        rows.append({"release": release, "lsoa_vintage": vintage, "lsoas": len(sub),
                     "decile1": len(d1), "decile1_share": len(d1) / len(sub) if len(sub) else
                     float("nan"), "target_lsoas": len(target),
                     "target_lsoas_decile1": len(d1 & target)})
    return pd.DataFrame(rows)


def population_share(area_set: AreaSet) -> pd.DataFrame:
    """Share of the district's population living in the target areas, for every population
    year in ``lsoa_population.parquet`` (members carried to its LSOA vintage; weights)."""
    p = config.PROCESSED_DIR / "lsoa_population.parquet"
    if not p.exists():
        raise FileNotFoundError(f"{p} not built: run `evidence-pack prepare`")
    pop = pd.read_parquet(p, columns=["lsoa_code", "lsoa_vintage", "year", "population",
                                      "source"])
    rows = []
    for (vintage, year, source), g in pop.groupby(["lsoa_vintage", "year", "source"]):
        codes = _district_lsoas(area_set.la_code, int(vintage))
        g = g[g["lsoa_code"].isin(codes)].set_index("lsoa_code")["population"]
        m = members(area_set, int(vintage))
        target = float((m["lsoa_code"].map(g) * m["weight"]).sum())
        borough = float(g.sum())
        rows.append({"lsoa_vintage": int(vintage), "year": int(year), "source": source,
                     "borough": borough, "target_areas": target,
                     "share": target / borough if borough else float("nan")})
    return pd.DataFrame(rows)


def central_share(area_set: AreaSet, release: int = 2010,
                  central_wards: Iterable[str] | None = None) -> pd.DataFrame:
    """Share of the most deprived LSOAs (England's most deprived 10% on IMD ``release``)
    that are in central Rotherham, under two explicit definitions:

    - ``wards``: the LSOA's ward (the wards of the LSOA vintage's lookup: 2004-2021 wards
      for 2001 LSOAs) is one of ``central_wards`` (default :data:`CENTRAL_WARDS`);
    - ``contiguous``: the LSOA is in the contiguous block of decile-1 LSOAs (shared
      boundaries) that holds the town-centre LSOA (:data:`TOWN_CENTRE_LSOA`).

    Each for two sets: the target-area LSOAs and all the district's decile-1 LSOAs.
    """

    vintage = config.RELEASE_VINTAGE[release]
    wards = tuple(central_wards) if central_wards is not None else CENTRAL_WARDS.get(
        area_set.la_code)
    ranked, _, _, _ = selected_lsoas(area_set.la_code, release, 10.0)
    d1 = set(ranked["lsoa_code"])
    target = set(members(area_set, vintage)["lsoa_code"]) & d1
    rows = []
    sets = {"target areas": target, "all decile 1": d1}
    if wards:
        geo = lookups.geography(vintage).set_index("lsoa_code")["ward_name"]
        central = {c for c in d1 if geo.get(c) in wards}
        for name, s in sets.items():
            rows.append({"definition": f"wards in force at the LSOA vintage: {', '.join(wards)}",
                         "set": name, "central": len(s & central), "total": len(s)})
    centre = TOWN_CENTRE_LSOA.get(area_set.la_code)
    if centre and centre in d1:
        shapes = geography.lsoa_boundaries(vintage, area_set.la_code)
        adj = neighbours(shapes[shapes["code"].isin(d1)])
        block = next(g for g in connected_groups(sorted(d1), adj) if centre in g)
        for name, s in sets.items():
            rows.append({"definition": "contiguous decile-1 block holding the town centre "
                                       f"({centre})",
                         "set": name, "central": len(s & set(block)), "total": len(s)})
    out = pd.DataFrame(rows, columns=["definition", "set", "central", "total"])
    out["share"] = out["central"] / out["total"]
    return out


def borough_facts(area_set: AreaSet, base_release: int = 2010) -> BoroughFacts:
    """LSOAs in the most deprived 10% per release, the share of the borough's population
    in the target areas, and the share of the most deprived LSOAs in the centre, each
    beside what the 2011 report says (Rotherham only; blank elsewhere)."""
    d1 = decile1_counts(area_set)
    pop = population_share(area_set)
    cen = central_share(area_set, base_release)
    is_rotherham = area_set.la_code == config.DEFAULT_LA_CODE
    rep = REPORT_FACTS if is_rotherham else {}
    base = d1[d1["release"] == base_release].iloc[0]
    first_pop = pop.sort_values("year").iloc[0] if len(pop) else None
    rows = [
        {"fact": f"LSOAs in England's most deprived 10% (IMD {base_release})",
         "data": int(base["decile1"]), "report": None,
         "basis": f"of {int(base['lsoas'])} LSOAs ({int(base['lsoa_vintage'])})"},
        {"fact": "Target-area LSOAs", "data": int(base["target_lsoas"]),
         "report": rep.get("target_lsoas"), "basis": "sum of the SOA counts per area"},
        {"fact": f"Target-area LSOAs in the most deprived 10% (IMD {base_release})",
         "data": int(base["target_lsoas_decile1"]), "report": rep.get("target_lsoas"),
         "basis": "members carried to the release's LSOA vintage"},
    ]
    if first_pop is not None:
        rows.append({"fact": "Share of the borough's population in the target areas",
                     "data": float(first_pop["share"]), "report": rep.get("population_share"),
                     "basis": f"{first_pop['source']} ({int(first_pop['year'])}); the report's "
                              "year is not stated"})
    for r in cen.itertuples():
        rows.append({"fact": f"Share of the most deprived LSOAs in central "
                             f"{area_set.la_name} ({r.set})",
                     "data": float(r.share), "report": rep.get("central_share"),
                     "basis": f"{r.central} of {r.total}; central = {r.definition}"})
    summary = pd.DataFrame(rows, columns=["fact", "data", "report", "basis"]).astype(
        {"data": object, "report": object})
    return BoroughFacts(area_set.la_code, summary, d1, pop, cen)
