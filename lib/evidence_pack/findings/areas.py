"""Text about target areas: the draft area file people review (``areas draft``), with the
evidence for each drafted area written in plain words. Deterministic: no dates.
"""

from __future__ import annotations

import json

from evidence_pack.analysis import area_draft
from evidence_pack.findings.format import percent


def _yaml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _n(n: int, word: str = "neighbourhood") -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def draft_evidence(d: dict, release: int, threshold: float) -> str:
    """Why a drafted area holds these LSOAs, and what its Census 2021 shares suggest."""
    ranks, n = d["ranks"], len(d["lsoas"])
    span = (f"rank {ranks[0]:,}" if n == 1 else f"ranks {min(ranks):,}-{max(ranks):,}")
    who = ("1 neighbourhood (LSOA)" if n == 1 else
           f"{n} neighbourhoods (LSOAs) sharing boundaries,")
    ev = (f"Draft: {who} in England's most deprived {threshold:g}% on IMD {release} ({span}). "
          f"MSOAs: {', '.join(d['msoas']) or 'not named'}. "
          f"Wards: {', '.join(d['wards']) or 'not named'}.")
    s = d.get("shares")
    if s:
        ev += (f" Census 2021: {percent(s['social_rented'])} of households rent socially, "
               f"{percent(s['private_rented'])} privately; {percent(s['ethnic_minority'])} of "
               "residents are in an ethnic group other than White.")
        ev += (" Type inferred from these shares." if d.get("area_type", "unclassified")
               != "unclassified" else " No type fits these shares: decide locally (for "
               "example a former coalfield community).")
    return ev


def render_draft(la_code: str, la_name: str, release: int, threshold: float, vintage: int,
                 groups: list[dict], n_england: int, cutoff: int,
                 max_lsoas: int | None = None, created: bool = False) -> str:
    """The draft area YAML text (deterministic: no dates)."""
    size = (f"# Contiguous groups over {max_lsoas} LSOAs are split by MSOA, then ward, then "
            "from the most deprived LSOA.") if max_lsoas else None
    lines = [
        f"# Draft target areas for {la_name} ({la_code}), written by",
        f"# `evidence-pack areas draft --la {la_code} --release {release} --threshold {threshold:g}`.",
        f"# LSOAs ({vintage}) in England's most deprived {threshold:g}% on IMD {release} (rank",
        f"# {cutoff:,} or lower of {n_england:,}), grouped into neighbourhoods by shared",
        "# boundaries and named from House of Commons Library MSOA names and ward names.",
        *([size] if size else []),
        *(["# The district was created after the LSOA lookups of 2011: its earlier LSOAs are",
           "# those whose people live in its 2021 LSOAs."] if created else []),
        "# area_type is inferred from Census 2021 tenure and ethnicity where they fit, else",
        "# 'unclassified'. Review before use: rename, split or merge areas, set the leads.",
        f"la_code: {la_code}",
        f"la_name: {_yaml_str(la_name)}",
        f"source: {_yaml_str(f'Draft from IMD {release}, most deprived {threshold:g}% nationally')}",
        f"lsoa_vintage: {vintage}",
        "areas:",
    ]
    for d in groups:
        lines += [
            f"  - slug: {d['slug']}",
            f"    name: {_yaml_str(d['name'])}",
            f"    area_type: {d.get('area_type', 'unclassified')}",
            f"    lsoa_vintage: {vintage}",
            f"    lsoas: [{', '.join(d['lsoas'])}]",
            '    cabinet_member: ""',
            '    slt_lead: ""',
            f"    evidence: {_yaml_str(draft_evidence(d, release, threshold))}",
        ]
    if not groups:
        lines[-1] = "areas: []"
    return "\n".join(lines) + "\n"


def draft_areas_yaml(la_code: str, release: int = 2010, threshold: float = 10.0,
                     max_lsoas: int = area_draft.MAX_LSOAS) -> str:
    """A draft area YAML for any current English district (``area_draft.draft``)."""
    d = area_draft.draft(la_code, release, threshold, max_lsoas)
    return render_draft(d["la_code"], d["la_name"], release, threshold, d["vintage"],
                        d["groups"], d["n_england"], d["cutoff"], max_lsoas=max_lsoas,
                        created=d["created"])
