"""Source lines for tables and figures: each dataset named with its release, publisher and
publication date, and its licence attribution (from the catalogue)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from evidence_pack.sources import catalogue

#: Publication dates of each IoD release (statistical release day where there is one).
IOD_PUBLISHED: dict[int, str] = {
    2004: "April 2004",
    2007: "December 2007",
    2010: "24 March 2011",
    2015: "30 September 2015",
    2019: "26 September 2019",
    2025: "30 October 2025",
}
#: The department that published each IoD release.
IOD_PUBLISHER: dict[int, str] = {
    2004: "ODPM",
    2007: "DCLG",
    2010: "DCLG",
    2015: "DCLG",
    2019: "MHCLG",
    2025: "MHCLG",
}

#: Census 2021 topic-summary release dates (ONS release phases).
CENSUS21_PUBLISHED: dict[str, str] = {
    "household_deprivation": "2 November 2022",
    "household_type": "2 November 2022",
    "migration": "2 November 2022",
    "ethnicity": "29 November 2022",
    "proficiency": "29 November 2022",
    "household_tenure": "5 January 2023",
    "household_overcrowding": "5 January 2023",
    "disability": "19 January 2023",
}

#: Short aliases notebooks may cite instead of a catalogue id.
ALIASES: dict[str, str] = {
    "iod2004": "imd2004_england_lsoa01",
    "iod2007": "imd2007_england_lsoa01",
    "iod2010": "imd2010_england_lsoa01",
    "iod2015": "imd2015_england_lsoa11",
    "iod2019": "imd2019_england_lsoa11",
    "iod2025": "imd2025_england_lsoa21",
}


@lru_cache(maxsize=1)
def _catalogue() -> dict:
    return catalogue.load_catalogue()


def describe_dataset(dataset_id: str) -> tuple[str, str]:
    """(name with release and publication date, licence attribution) for a catalogue id or alias."""
    did = ALIASES.get(dataset_id, dataset_id)
    cat = _catalogue()
    if did not in cat:
        catalogue.entry(did)  # raises KeyError naming similar ids
    e = cat[did]
    name = _dataset_name(did)
    return name, e.attribution


def _dataset_name(did: str) -> str:
    m = re.match(r"^(?:imd|file_\d+_(?:imd|iod))(\d{4})", did) or re.match(r"^(\d{4})_local_authority", did)
    if m and int(m.group(1)) in IOD_PUBLISHED:
        year = int(m.group(1))
        if "recast" in did:
            return (f"English Indices of Deprivation 2015 recast to 2019 district boundaries "
                    f"(MHCLG, published {IOD_PUBLISHED[2019]})")
        return (f"English Indices of Deprivation {year} ({IOD_PUBLISHER[year]}, "
                f"published {IOD_PUBLISHED[year]})")
    if did.startswith("imd2000"):
        return "Indices of Deprivation 2000 (DETR, published 2000)"
    m = re.match(r"^cni(\d{4})", did)
    if m:
        return f"Community Needs Index {m.group(1)} (OCSI for Local Trust)"
    if did.startswith("census11_"):
        return "Census 2011 (ONS)"
    if did.startswith("census21_"):
        return f"Census 2021 (ONS, published {CENSUS21_PUBLISHED['household_deprivation']})"
    m = re.match(r"^ruc(\d{2})_", did)
    if m:
        return f"ONS Rural-Urban Classification {2000 + int(m.group(1))}"
    m = re.match(r"^([a-z_]+?)21_(?:lsoa|msoa)21", did)
    if m and _catalogue()[did].group == "humaniverse-demographr":
        topic = m.group(1)
        when = CENSUS21_PUBLISHED.get(topic)
        label = topic.replace("household_", "household ").replace("_", " ")
        return f"Census 2021: {label} (ONS" + (f", published {when})" if when else ")")
    m = re.match(r"^population(\d{2})_lsoa11", did)
    if m:
        return f"ONS mid-{2000 + int(m.group(1))} small area population estimates (LSOA 2011)"
    m = re.match(r"^r([sa])(\d{4})_(\d{2})", did)
    if m:
        kind = "Revenue Outturn (RS)" if m.group(1) == "s" else "Revenue Account budget (RA)"
        return f"Local authority {kind} {m.group(2)}-{m.group(3)} (MHCLG)"
    if did.startswith("boundaries_"):
        return f"ONS {_geo_label(did.removeprefix('boundaries_'))} boundaries"
    if did.startswith("lookup_"):
        parts = did.removeprefix("lookup_").split("_")
        return "ONS lookup: " + " to ".join(_geo_label(p) for p in parts)
    if did.startswith("oi_"):
        return "ONS boundaries (split by Open Innovations)"
    if did in NAMED_DATASETS:
        return NAMED_DATASETS[did]
    return did.replace("_", " ")


#: Datasets whose ids carry no pattern: the name a reader sees in a source line.
NAMED_DATASETS: dict[str, str] = {
    "pesa_2010_database_tables_chapter10": ("HM Treasury Country and Regional Analysis 2010 "
                                            "(Public Expenditure Statistical Analyses 2010)"),
    "cra_2014_combined_database_for_publication": "HM Treasury Country and Regional Analysis 2014",
    "cra_2018_database_for_publication_rvsd": "HM Treasury Country and Regional Analysis 2018",
    "parsedcombinedpesa_zip": ("HM Treasury Country and Regional Analysis 1999-00 to 2017-18, "
                               "combined (PESAParser)"),
    "d15avgm": "Department for Transport Journey Time Statistics 2015 (average of key services)",
}


_GEO = {"lsoa": "LSOA", "msoa": "MSOA", "ltla": "local authority district",
        "utla": "upper-tier local authority", "lad": "local authority district", "ward": "ward",
        "wards": "ward", "region": "region", "itl": "ITL"}


def _geo_label(code: str) -> str:
    """``lsoa21`` -> ``LSOA 2021``; ``ltla24`` -> ``local authority district 2024``."""
    m = re.fullmatch(r"([a-z]+?)(\d{2})", code)
    if not m or m.group(1) not in _GEO:
        return code
    return f"{_GEO[m.group(1)]} {2000 + int(m.group(2))}"


def _collapse_years(names: list[str]) -> list[str]:
    """``X 2007-08 (P); X 2008-09 (P); X 2009-10 (P)`` -> ``X 2007-08 to 2009-10 (P)``."""
    groups: dict[tuple[str, str], list[str]] = {}
    order: list[tuple[str, str] | str] = []
    for n in names:
        m = re.fullmatch(r"(.+) (\d{4}-\d{2}) (\(.+\))", n)
        if not m:
            order.append(n)
            continue
        key = (m.group(1), m.group(3))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(m.group(2))
    out = []
    for item in order:
        if isinstance(item, str):
            out.append(item)
            continue
        years = sorted(groups[item])
        starts = [int(y[:4]) for y in years]
        contiguous = starts == list(range(starts[0], starts[0] + len(starts)))
        span = (f"{years[0]} to {years[-1]}" if len(years) > 2 and contiguous
                else ", ".join(years))
        out.append(f"{item[0]} {span} {item[1]}")
    return out


def source_line(dataset_ids: str | Sequence[str], note: str | None = None) -> str:
    """``"Source: <dataset, release, publication date>; ... <attributions>. <note>"`` (plain text).

    ``dataset_ids`` are catalogue ids (see ``catalogue.csv``) or the aliases ``iod2004`` ...
    ``iod2025``. Raises KeyError for an unknown id, ValueError for none.
    """
    ids = [dataset_ids] if isinstance(dataset_ids, str) else list(dataset_ids)
    if not ids:
        raise ValueError("a source line needs at least one dataset id")
    names: list[str] = []
    attributions: list[str] = []
    for did in ids:
        name, attribution = describe_dataset(did)
        if name not in names:
            names.append(name)
        attribution = re.sub(r"^source:\s*", "", attribution.strip(), flags=re.IGNORECASE)
        if attribution and attribution not in attributions:
            attributions.append(attribution)
    text = ("Source: " + "; ".join(_collapse_years(names)) + ". "
            + " ".join(a.rstrip(".") + "." for a in attributions))
    if note:
        text += " " + note.strip()
    return text.strip()
