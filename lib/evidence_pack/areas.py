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

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import yaml

from . import catalogue, config
from .io import DataError

#: The area types the 2011 report uses (section 7.2).
AREA_TYPES: tuple[str, ...] = ("council estate", "multi-ethnic terraced", "coalfield community")
VINTAGES: tuple[int, ...] = (2001, 2011, 2021)
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


@lru_cache(maxsize=4)
def lsoa_districts(vintage: int) -> dict[str, str]:
    """LSOA code -> district code for every English (and Welsh) LSOA of ``vintage``.

    2001 LSOAs use the districts of the ONS 2001->2011 lookup (2011 districts), 2011 LSOAs
    the 2021 districts, 2021 LSOAs the 2024 districts.
    """
    if vintage not in VINTAGES:
        raise ValueError(f"vintage must be one of {VINTAGES}, not {vintage!r}")
    geo = _lookups_geography()
    if geo is not None:
        sub = geo[geo["lsoa_vintage"] == vintage]
        if len(sub):
            return dict(zip(sub["lsoa_code"], sub["lad_code"], strict=True))
    from .io import read_rda_frame

    if vintage == 2001:
        df = pd.read_csv(catalogue.path_for("220"), usecols=["LSOA01CD", "LAD11CD"])
        return dict(zip(df["LSOA01CD"], df["LAD11CD"], strict=True))
    if vintage == 2011:
        df = read_rda_frame(catalogue.path_for("lookup_lsoa11_ltla21"),
                            ["lsoa11_code", "ltla21_code"])
        return dict(zip(df["lsoa11_code"], df["ltla21_code"], strict=True))
    df = read_rda_frame(catalogue.path_for("lookup_lsoa21_ward24_ltla24"),
                        ["lsoa21_code", "ltla24_code"])
    return dict(zip(df["lsoa21_code"], df["ltla24_code"], strict=True))


def _lookups_geography() -> pd.DataFrame | None:
    """``lsoa_geography.parquet`` from the lookups module when it has been built."""
    p = config.PROCESSED_DIR / "lsoa_geography.parquet"
    if not p.exists():
        return None
    try:
        return pd.read_parquet(p, columns=["lsoa_code", "lsoa_vintage", "lad_code"])
    except Exception:  # a half-built or older file: fall back to the raw lookups
        return None


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
        if area_type not in AREA_TYPES:
            raise DataError(path, f"area_type {area_type!r} is not one of {list(AREA_TYPES)}",
                            row=row)
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
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(p, f"cannot read the area file ({exc.strerror or exc})") from exc
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataError(p, f"bad YAML: {problem}", row=f"line {row}" if row else None) from exc
    return parse_areas(doc, p, reference=reference)


# --------------------------------------------------------------------------- members


def members(area_set: AreaSet, vintage: int | None = None) -> pd.DataFrame:
    """Member LSOAs of every area, carried to ``vintage`` (2001, 2011 or 2021).

    Columns: ``slug``, ``name``, ``lsoa_code`` (of ``vintage``), ``weight`` = the share of
    that LSOA belonging to the area (1.0 when wholly inside; less when an LSOA of
    ``vintage`` was formed from member and non-member LSOAs). ``vintage=None`` keeps each
    area's own vintage.
    """
    frames = []
    for a in area_set.areas:
        target = a.lsoa_vintage if vintage is None else vintage
        w = carry_codes(a.lsoas, a.lsoa_vintage, target)
        w.insert(0, "name", a.name)
        w.insert(0, "slug", a.slug)
        frames.append(w)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["slug", "name", "lsoa_code", "weight"])
    return out[["slug", "name", "lsoa_code", "weight"]]


def carry_codes(codes: Iterable[str], from_vintage: int, to_vintage: int,
                crosswalk: pd.DataFrame | None = None) -> pd.DataFrame:
    """Carry a set of LSOAs of one vintage to another: DataFrame[lsoa_code, weight].

    ``crosswalk`` (optional, for tests) has ``from_code``, ``to_code`` and ``mass`` (the
    population, or 1, that the pair shares). ``weight`` of a target LSOA = the share of its
    mass that comes from ``codes``; target LSOAs with no share are dropped. Sorted by code.
    """
    codes = list(dict.fromkeys(codes))
    if from_vintage == to_vintage:
        return pd.DataFrame({"lsoa_code": sorted(codes), "weight": 1.0})
    if crosswalk is None:
        crosswalk = crosswalk_mass(from_vintage, to_vintage)
    cw = crosswalk
    missing = sorted(set(codes) - set(cw["from_code"]))
    if missing:
        raise DataError(None, f"{from_vintage} LSOA(s) {missing[:5]} not in the "
                              f"{from_vintage}->{to_vintage} lookup")
    targets = cw.loc[cw["from_code"].isin(codes), "to_code"].unique()
    sub = cw[cw["to_code"].isin(targets)]
    total = sub.groupby("to_code")["mass"].sum()
    inside = sub[sub["from_code"].isin(codes)].groupby("to_code")["mass"].sum()
    weight = (inside / total).clip(upper=1.0)
    out = weight.rename("weight").reset_index().rename(columns={"to_code": "lsoa_code"})
    return out.sort_values("lsoa_code", ignore_index=True)


def crosswalk_mass(from_vintage: int, to_vintage: int) -> pd.DataFrame:
    """Pairs of LSOAs across two vintages with the mass they share (from_code, to_code, mass).

    Built from the lookups module's tables (``lookup_lsoa01_lsoa11.parquet``,
    ``lookup_lsoa11_lsoa21.parquet``: ``weight`` = share of the from-LSOA going to the
    to-LSOA); 2001<->2021 goes through 2011. Mass = weight (each LSOA counted as 1: the
    mirror has no 2001 LSOA populations). Either direction.
    """
    if {from_vintage, to_vintage} - set(VINTAGES) or from_vintage == to_vintage:
        raise ValueError(f"bad vintages {from_vintage}->{to_vintage}")
    lo, hi = sorted((from_vintage, to_vintage))
    if (lo, hi) == (2001, 2021):
        a = _pair_mass(2001, 2011)
        b = _pair_mass(2011, 2021)
        # share of each 2011 LSOA going to each 2021 LSOA
        b = b.assign(share=b["mass"] / b.groupby("from_code")["mass"].transform("sum"))
        m = a.merge(b[["from_code", "to_code", "share"]], left_on="to_code",
                    right_on="from_code", suffixes=("", "_b"))
        m = m.assign(mass=m["mass"] * m["share"])
        cw = (m.groupby(["from_code", "to_code_b"], as_index=False)["mass"].sum()
              .rename(columns={"to_code_b": "to_code"}))
    else:
        cw = _pair_mass(lo, hi)
    if from_vintage > to_vintage:
        cw = cw.rename(columns={"from_code": "to_code", "to_code": "from_code"})
    return cw[["from_code", "to_code", "mass"]]


@lru_cache(maxsize=4)
def _pair_mass(lo: int, hi: int) -> pd.DataFrame:
    """Adjacent-vintage crosswalk with mass = share of the older LSOA in each newer one."""
    name = {2001: "lookup_lsoa01_lsoa11.parquet", 2011: "lookup_lsoa11_lsoa21.parquet"}[lo]
    p = config.PROCESSED_DIR / name
    if p.exists():
        df = pd.read_parquet(p)
        fc = next(c for c in df.columns if c in ("from_code", f"lsoa{lo % 100:02d}_code"))
        tc = next(c for c in df.columns if c in ("to_code", f"lsoa{hi % 100:02d}_code"))
        w = df["weight"] if "weight" in df.columns else 1.0
        out = pd.DataFrame({"from_code": df[fc], "to_code": df[tc], "mass": w})
    else:
        out = _raw_pair(lo, hi)
    return out.drop_duplicates(["from_code", "to_code"]).reset_index(drop=True)


def _raw_pair(lo: int, hi: int) -> pd.DataFrame:
    """Fallback before the lookups store exists: equal shares over the ONS lookups."""
    if lo == 2001:
        df = pd.read_csv(catalogue.path_for("220"), usecols=["LSOA01CD", "LSOA11CD"])
        df.columns = ["from_code", "to_code"]
    else:
        df = pd.read_csv(catalogue.path_for(
            "lsoa_2011_to_lsoa_2021_to_local_authority_district_2022_lookup_for_england_and_w"),
            usecols=["F_LSOA11CD", "LSOA21CD"])
        df.columns = ["from_code", "to_code"]
    n = df.groupby("from_code")["to_code"].transform("size")
    return df.assign(mass=1.0 / n)
