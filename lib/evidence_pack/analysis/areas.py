"""Target areas: load and validate the hand-editable area YAML and carry members across LSOA
vintages. Drafting areas for any district is in ``analysis.area_draft``; borough facts beside
a reference document's figures in ``analysis.borough_facts``.

An area file (default ``data/areas/rotherham.yml``) names a district (``la_code``,
``la_name``) and a list of areas, each with ``slug``, ``name``, ``area_type``,
``lsoa_vintage`` (2001, 2011 or 2021), ``lsoas`` (codes of that vintage, all inside the
district), and the governance fields ``cabinet_member`` and ``slt_lead`` (may be blank).
An optional ``reference:`` block holds what one district's own document said (a Cabinet
report's title, date, district ranks, shares, area types, central wards): text that cites
such a document is shown only when the file has the block (``AreaSet.reference``).
``load_areas`` raises ``io.DataError`` naming the file, the area and the problem.

Caveats: docs/caveats/areas.md (AREAS-n).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.sources import table_cache
from evidence_pack.sources.hashing import sha256_json
from evidence_pack.sources.io import DataError, read_yaml
from evidence_pack.stores.lookups import VINTAGES, cached_crosswalk, lsoa_districts
from evidence_pack.stores.lsoa_geography import district_lsoas

#: Descriptive area types an area file may use (``areas draft`` infers the first two from
#: Census 2021 tenure and ethnicity; the third needs local knowledge: no coalfield list is
#: in the data). A file's ``reference.area_types`` may add the words its own document used.
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
    reference: Reference | None = None

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

    def memo_key(self) -> AreaSet:
        """This set without the areas' names, cabinet member, lead officer, evidence and
        confidence: what ``table_cache.memo`` keys a computation by, and what the computation
        is given (so no cached result can carry a name: callers join names at use). A lead
        officer's or a name change does not recompute the district's spend."""
        return replace(self, areas=[replace(a, name="", cabinet_member="", slt_lead="",
                                            evidence="", confidence=None) for a in self.areas])

    def membership(self) -> dict[str, object]:
        """What a computation of the areas' neighbourhoods reads: the district code and each
        area's slug, LSOA vintage and LSOAs, in the file's order (no names, types, leads)."""
        return {"la_code": self.la_code,
                "areas": [[a.slug, a.lsoa_vintage, list(a.lsoas)] for a in self.areas]}

    def membership_key(self) -> str:
        """First 16 hex digits of the sha256 of ``membership()``: the cache key of results
        computed from the areas' neighbourhoods alone (``table_cache.frames_for``)."""
        return sha256_json(self.membership())[:16]

    def members_only(self) -> AreaSet:
        """This set reduced to ``membership()`` (no names, types, leads, district name or
        document): what a computation keyed by ``membership_key`` is given, so that it
        cannot read more than its key covers."""
        return AreaSet(la_code=self.la_code, la_name="", areas=[
            Area(slug=a.slug, name="", area_type="", lsoa_vintage=a.lsoa_vintage, lsoas=a.lsoas)
            for a in self.areas])

    def names(self) -> dict[str, str]:
        """Area name by slug, in the file's order."""
        return {a.slug: a.name for a in self.areas}

    def table(self) -> pd.DataFrame:
        """One row per area x member LSOA (in the file's own vintage)."""
        rows = [{"slug": a.slug, "name": a.name, "area_type": a.area_type,
                 "lsoa_vintage": a.lsoa_vintage, "lsoa_code": c}
                for a in self.areas for c in a.lsoas]
        return pd.DataFrame(rows, columns=["slug", "name", "area_type", "lsoa_vintage",
                                           "lsoa_code"])


# --------------------------------------------------------------------------- reference


@dataclass(frozen=True)
class Reference:
    """What one district's own document said (the optional ``reference:`` block).

    ``district_ranks``: IoD release -> the district's rank of average score the document
    states (1 = most deprived); ``districts_of``: release -> the number of districts it
    ranks against, where stated. ``residents_share`` / ``central_share``: shares (0-1) of the
    district's residents in the target areas and of its most deprived neighbourhoods in the
    centre. ``raw`` is the whole block as written.
    """

    title: str
    date: dt.date
    body: str = ""
    section: str = ""
    district_ranks: dict[int, int] = field(default_factory=dict)
    districts_of: dict[int, int] = field(default_factory=dict)
    residents_share: float | None = None
    central_share: float | None = None
    target_lsoas: int | None = None
    area_types: tuple[str, ...] = ()
    central_wards: tuple[str, ...] = ()
    town_centre_lsoa: str | None = None
    challenging_domains: tuple[str, ...] = ()
    gap_widened: bool | None = None
    public_spend_claim: str | None = None
    raw: Mapping[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How reader text names the document: "the report to Cabinet of 9 November 2011"."""
        who = f"the report to {self.body}" if self.body else "the reference report"
        return f"{who} of {self.date.day} {self.date:%B %Y}"


REFERENCE_KEYS = {"title", "date", "body", "section", "district_ranks", "districts_of",
                  "residents_share", "central_share", "target_lsoas", "area_types",
                  "central_wards", "town_centre_lsoa", "challenging_domains", "gap_widened",
                  "public_spend_claim"}


def _int_map(value: object, what: str, path: Path) -> dict[int, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DataError(path, f"reference.{what} must map an IoD release to a number",
                        row="reference")
    out: dict[int, int] = {}
    for k, v in value.items():
        if int(k) not in config.RELEASES or not isinstance(v, int) or v < 1:
            raise DataError(path, f"reference.{what}: {k}: {v!r} is not a release with a "
                                  "positive whole number", row="reference")
        out[int(k)] = int(v)
    return out


def _share(value: object, what: str, path: Path) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DataError(path, f"reference.{what} must be a share between 0 and 1, not {value!r}",
                        row="reference")
    return float(value)


def _words(value: object, what: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DataError(path, f"reference.{what} must be a list of words", row="reference")
    return tuple(v.strip() for v in value)


def parse_reference(block: object, path: Path) -> Reference | None:
    """The ``reference:`` block of an area file, validated; None when absent."""
    if block is None:
        return None
    if not isinstance(block, dict):
        raise DataError(path, "reference must be a mapping (title, date, ...)", row="reference")
    unknown = sorted(set(block) - REFERENCE_KEYS)
    if unknown:
        raise DataError(path, f"unknown reference field(s) {unknown}; allowed: "
                              f"{sorted(REFERENCE_KEYS)}", row="reference")
    title = _text(block.get("title"), "reference.title", path, "reference")
    date = block.get("date")
    if not title or not isinstance(date, dt.date):
        raise DataError(path, "reference needs a title and a date written YYYY-MM-DD",
                        row="reference")
    target = block.get("target_lsoas")
    if target is not None and (not isinstance(target, int) or target < 1):
        raise DataError(path, f"reference.target_lsoas must be a positive whole number, "
                              f"not {target!r}", row="reference")
    gap = block.get("gap_widened")
    if gap is not None and not isinstance(gap, bool):
        raise DataError(path, "reference.gap_widened must be true or false", row="reference")
    spend = _text(block.get("public_spend_claim"), "reference.public_spend_claim", path,
                  "reference")
    centre = _text(block.get("town_centre_lsoa"), "reference.town_centre_lsoa", path,
                   "reference")
    if centre and not LSOA_RE.fullmatch(centre):
        raise DataError(path, f"reference.town_centre_lsoa {centre!r} is not an LSOA code",
                        row="reference")
    return Reference(
        title=title, date=date if not isinstance(date, dt.datetime) else date.date(),
        body=_text(block.get("body"), "reference.body", path, "reference"),
        section=_text(block.get("section"), "reference.section", path, "reference"),
        district_ranks=_int_map(block.get("district_ranks"), "district_ranks", path),
        districts_of=_int_map(block.get("districts_of"), "districts_of", path),
        residents_share=_share(block.get("residents_share"), "residents_share", path),
        central_share=_share(block.get("central_share"), "central_share", path),
        target_lsoas=target,
        area_types=_words(block.get("area_types"), "area_types", path),
        central_wards=_words(block.get("central_wards"), "central_wards", path),
        town_centre_lsoa=centre or None,
        challenging_domains=_words(block.get("challenging_domains"), "challenging_domains",
                                   path),
        gap_widened=gap, public_spend_claim=spend or None, raw=dict(block))

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
    document = parse_reference(doc.get("reference"), path)
    types = (*AREA_TYPES, *(document.area_types if document else ()), UNCLASSIFIED)
    default_vintage = doc.get("lsoa_vintage", 2001)
    items = doc["areas"]
    if not isinstance(items, list) or not items:
        raise DataError(path, "areas must be a non-empty list")
    known = {"slug", "name", "area_type", "lsoa_vintage", "lsoas", "cabinet_member",
             "slt_lead", "confidence", "evidence"}
    areas: list[Area] = []
    seen_slugs: dict[str, int] = {}
    seen_lsoas: dict[tuple[int, str], str] = {}
    created: dict[int, set[str]] = {}
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
        if area_type not in types:
            raise DataError(path, f"area_type {area_type!r} is not one of "
                                  f"{list(dict.fromkeys(types))}", row=row)
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
        if reference is None and vintage not in created:  # a district created since
            created[vintage] = (set() if la_code in set(ref.values())
                                else set(district_lsoas(la_code, vintage)))
        inside = created.get(vintage, set())
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
            if ref[code] != la_code and code not in inside:
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
    extra = {k: v for k, v in doc.items()
             if k not in {"la_code", "la_name", "areas", "source", "reference"}}
    return AreaSet(la_code=la_code, la_name=la_name, areas=areas,
                   source=" ".join(_text(doc.get("source"), "source", path, "top").split()),
                   path=path, extra=extra, reference=document)


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
    core = _members(area_set.membership(), vintage)
    names = area_set.names()
    name = pd.Series([names[s] for s in core["slug"]], index=core.index,
                     dtype=core["slug"].dtype)
    return core.assign(name=name)[["slug", "name", "lsoa_code", "weight"]]


@table_cache.memo  # a fresh kernel reads it (no crosswalk): keyed by the membership, no names
def _members(membership: dict, vintage: int | None) -> pd.DataFrame:
    """``members`` without the names (``name`` empty) of ``AreaSet.membership()``."""
    cols = ["slug", "name", "lsoa_code", "weight"]
    table = pd.DataFrame([{"slug": slug, "name": "", "lsoa_vintage": v, "lsoa_code": c}
                          for slug, v, codes in membership["areas"] for c in codes],
                         columns=["slug", "name", "lsoa_vintage", "lsoa_code"])
    frames = []
    for v_from, g in table.groupby("lsoa_vintage", sort=True):
        target = int(v_from) if vintage is None else vintage
        frames.append(_carry_table(g[["slug", "name", "lsoa_code"]], int(v_from), target))
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    order = {a[0]: i for i, a in enumerate(membership["areas"])}
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
