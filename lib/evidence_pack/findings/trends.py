"""Plain-English findings about deprivation trends, written from the tables of
``analysis.trends`` for the district at hand (and, where the areas file has a ``reference:``
block, set beside what that document said). House style from ``findings.format``: ranks
1st = most deprived; percentiles 0 = most deprived; an area's position is the median
national percentile of its neighbourhoods.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from evidence_pack.analysis.areas import Reference
from evidence_pack.analysis.trends import DOMAIN_LABELS, complete_releases, n_lsoas, worst_domains
from evidence_pack.findings.format import lower_first, number, ordinal, percentile, rank

#: Defines the unit once, in the first sentence that uses it.
LSOA_DEFINED = "neighbourhoods (lower-layer super output areas, LSOAs: about 1,500 residents each)"


def _count(x: float) -> str:
    return number(x, 0) if abs(x - round(x)) < 0.05 else number(x, 1)


def _n(n: int, word: str = "neighbourhood") -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _domain(m: str) -> str:
    return DOMAIN_LABELS[m].split(",")[0].lower()


def _years(releases: Sequence[int]) -> str:
    r = sorted(int(x) for x in releases)
    return str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}"


def history_note(la_name: str, built_from: Sequence[int]) -> str | None:
    """Say so when a district created since an earlier release has figures built from its
    neighbourhoods for the releases that do not know it."""
    if not built_from:
        return None
    return (f"{la_name} did not exist as a district in the releases of {_years(built_from)}: "
            "its figures for those releases are built from the neighbourhoods it covers today, "
            "and its district rank then is the rank its average score would have had among "
            "the other districts of the time (there is no official one).")


def reference_sentence(reported: pd.DataFrame, document: Reference,
                       close_within: int = 3) -> str | None:
    """The reference document's district ranks against the data."""
    if reported is None or not len(reported):
        return None
    diff = pd.to_numeric(reported["difference"], errors="coerce").abs()
    close = bool(diff.notna().all() and (diff <= close_within).all())
    computed = bool((reported["basis"] == "computed").any())
    txt = "; ".join(f"{x.release}: report {ordinal(x.reported_rank)}, data "
                    f"{ordinal(x.data_rank) if pd.notna(x.data_rank) else 'not available'}"
                    for x in reported.itertuples())
    head = f"The district ranks in {document.label} "
    if bool(reported["agrees"].all()):
        return head + f"are confirmed by the data ({txt})."
    if close:
        tail = ("); the pack recomputes them with later population weights because the "
                "original ones are not published, which moves a district a place or two."
                if computed else ").")
        return head + f"are close to the data ({txt}" + tail
    return head + f"differ from the data ({txt})."


def key_findings(la_name: str, ranks: pd.DataFrame | None, counts: pd.DataFrame,
                 domains: pd.DataFrame, spread: pd.DataFrame,
                 reported: pd.DataFrame | None = None, document: Reference | None = None,
                 built_from: Sequence[int] = ()) -> list[str]:
    """Findings for the district (for a chief executive), answer first."""
    out: list[str] = []
    c = counts.sort_values("release")
    if len(c):
        trail = ", ".join(f"{_count(x.decile1)} in {int(x.release)}" for x in c.itertuples())
        cf, cl = c.iloc[0], c.iloc[-1]
        out.append(f"{la_name}'s {LSOA_DEFINED} in England's most deprived 10%: {trail} (of "
                   f"{_count(cf.lsoas)} in {int(cf.release)} and {_count(cl.lsoas)} in "
                   f"{int(cl.release)}).")
    r = (ranks.dropna(subset=["rank_average_score"]).sort_values("release")
         if ranks is not None else pd.DataFrame())
    if len(r):
        first, last = r.iloc[0], r.iloc[-1]
        trail = ", ".join(f"{rank(x.rank_average_score, x.n_districts)} in {x.release}"
                          for x in r.itertuples())
        out.append(f"Among England's districts on average deprivation score (1st = most "
                   f"deprived), {la_name} ranked {trail}.")
        if len(r) > 1:
            share_first = first.rank_average_score / first.n_districts
            share_last = last.rank_average_score / last.n_districts
            move = ("more deprived" if share_last < share_first - 0.01 else
                    "less deprived" if share_last > share_first + 0.01 else "about as deprived")
            out.append(f"Relative to other districts it is {move} in {last.release} than in "
                       f"{first.release}: in the most deprived {100 * share_last:.0f}% of "
                       f"districts in {last.release}, against {100 * share_first:.0f}% in "
                       f"{first.release}.")
    note = history_note(la_name, built_from)
    if note:
        out.append(note)
    if document is not None and reported is not None:
        s = reference_sentence(reported, document)
        if s:
            out.append(s)
    if len(domains):
        full = complete_releases(domains) or [int(domains["release"].max())]
        last_rel = full[-1]
        sub = domains.loc[domains["release"] == last_rel].set_index("measure")
        parts = [f"{_domain(m)} ({100 * sub.loc[m, 'share_decile1']:.0f}% of neighbourhoods in "
                 "the most deprived 10%)" for m in worst_domains(domains, last_rel)]
        out.append(f"The most challenging domains in {last_rel} are " + ", ".join(parts) + ".")
    s = spread.dropna(subset=["pct_spread"]).sort_values("release")
    if len(s) >= 2:
        a, b = s.iloc[0], s.iloc[-1]
        word = "wider" if b.pct_spread > a.pct_spread + 1 else (
            "narrower" if b.pct_spread < a.pct_spread - 1 else "about the same")
        out.append(f"The gap between the most and least deprived neighbourhoods is {word} in "
                   f"{int(b.release)} than in {int(a.release)}: the 10th and 90th percentile "
                   f"neighbourhoods sit {a.pct_spread:.0f} national percentile points apart in "
                   f"{int(a.release)} and {b.pct_spread:.0f} in {int(b.release)}"
                   + (f" (IMD score gap {number(a.score_gap, 1)} to {number(b.score_gap, 1)} "
                      "points)." if pd.notna(a.score_gap) and pd.notna(b.score_gap) else "."))
    return out


def target_findings(changes: pd.DataFrame, n_areas: int, first: int, last: int) -> list[str]:
    """The borough report's sentences on all target neighbourhoods (2021 boundaries)."""
    if not len(changes):
        return []
    still = int(((changes[f"decile_{first}"] == 1) & (changes[f"decile_{last}"] == 1)).sum())
    return [f"Of the {_n(len(changes))} of the {n_areas} target areas (2021 boundaries), "
            f"{still} {'was' if still == 1 else 'were'} in England's most deprived 10% in both "
            f"{first} and {last}.",
            "In the target areas: " + lower_first(rank_change_sentence(changes, first, last))]


def area_findings(name: str, counts: pd.DataFrame, changes: pd.DataFrame | None,
                  first: int, last: int, district: pd.DataFrame | None = None,
                  la_name: str = "the district") -> list[str]:
    """Findings for one target area from ``decile_counts`` of its members and
    ``lsoa_changes`` of its LSOAs (carried to one geography) between ``first`` and ``last``.
    Its position is the median national percentile of its neighbourhoods."""
    out: list[str] = []
    c = counts.sort_values("release").set_index("release")
    single = bool((c["lsoas"] == 1).all())
    if ((c["decile1"] - c["lsoas"]).abs() < 1e-9).all():
        n = _count(c["lsoas"].iloc[-1])
        who = (f"{name}'s one neighbourhood (LSOA: lower-layer super output area) has"
               if single else f"All {n} of {name}'s {LSOA_DEFINED} have")
        out.append(f"{who} been in England's most deprived 10% in every release from "
                   f"{c.index[0]} to {c.index[-1]}.")
    else:
        trail = ", ".join(f"{_count(c.loc[r, 'decile1'])} of {_count(c.loc[r, 'lsoas'])} in {r}"
                          for r in c.index)
        out.append(f"{name}'s {LSOA_DEFINED} in England's most deprived 10%: {trail}.")
    worst = int(c["most_deprived_rank"].iloc[-1])
    out.append(f"{'It' if single else 'Its most deprived neighbourhood'} ranks "
               f"{rank(worst, n_lsoas(c.index[-1]))} in England in {c.index[-1]} "
               "(1st = most deprived).")
    a, b = c.iloc[0], c.iloc[-1]
    move = b.median_pct - a.median_pct
    word = ("moved towards the less deprived end of" if move > 1 else
            "moved further towards the most deprived end of" if move < -1 else
            "barely moved in")
    out.append(f"{'It' if single else 'Its median neighbourhood'} {word} England's ranking: "
               f"from the {percentile(a.median_pct)} in {c.index[0]} to the "
               f"{percentile(b.median_pct)} in {c.index[-1]} (0 = most deprived).")
    if changes is not None and len(changes) == 1:
        out.append(rank_change_sentence(changes, first, last))
    elif changes is not None and len(changes):
        up = int((changes[f"decile_{last}"] > changes[f"decile_{first}"]).sum())
        down = int((changes[f"decile_{last}"] < changes[f"decile_{first}"]).sum())
        still = int(((changes[f"decile_{first}"] == 1) & (changes[f"decile_{last}"] == 1)).sum())
        moved = ("none moved to another decile" if up == down == 0 else
                 f"{up} moved to a less deprived decile and {down} to a more deprived one")
        out.append(f"Of its {_n(len(changes))} on today's (2021) boundaries, {still} "
                   f"{'was' if still == 1 else 'were'} in the most deprived 10% in both "
                   f"{first} and {last}; {moved}.")
        out.append(rank_change_sentence(changes, first, last))
    if district is not None and len(district):
        d = district.sort_values("release").set_index("release")
        if c.index[-1] in d.index:
            out.append(f"For comparison, {la_name}'s median neighbourhood sits at the "
                       f"{percentile(d.loc[c.index[-1], 'median_pct'])} in {c.index[-1]}.")
    return out


def district_context(la_name: str, ranks: pd.DataFrame | None) -> str | None:
    """One line of district context for an area report (the rest is in the borough's)."""
    if ranks is None or not len(ranks.dropna(subset=["rank_average_score"])):
        return None
    last = ranks.dropna(subset=["rank_average_score"]).iloc[-1]
    return (f"{la_name} as a whole ranked {rank(last.rank_average_score, last.n_districts)} "
            f"districts on average score in {int(last.release)}; the borough report has the "
            "district's trends.")


def rank_change_sentence(changes: pd.DataFrame, first: int, last: int) -> str:
    """How many LSOAs fell or rose in England's ranking between two releases (one geography).
    "Barely moved" only when the rank changed by under 50 places and under a fifth."""
    fell = int((changes["rank_change"] < 0).sum())
    rose = int((changes["rank_change"] > 0).sum())
    med = float(changes["rank_change"].median())
    n = len(changes)
    if n == 1:
        a, b = int(changes[f"rank_{first}"].iloc[0]), int(changes[f"rank_{last}"].iloc[0])
        d = b - a
        how = ("barely moved" if abs(d) < 50 and abs(d) < 0.2 * min(a, b) else
               f"{abs(d):,} places {'more' if d < 0 else 'less'} deprived relative to England")
        return (f"On today's (2021) boundaries its England rank went from {a:,} in {first} to "
                f"{b:,} in {last}: {how}.")
    every = "Both neighbourhoods" if n == 2 else f"All {_n(n)}"
    if fell == n:
        head = (f"{every} fell further down England's ranking between {first} and "
                f"{last} (more deprived relative to England)")
    elif rose == n:
        head = (f"{every} rose in England's ranking between {first} and {last} (less "
                "deprived relative to England)")
    else:
        head = (f"Between {first} and {last}, {fell} of {_n(n)} fell further down "
                f"England's ranking and {rose} rose")
    way = "more" if med < 0 else "less"
    return head + (f"; the median moved {abs(med):,.0f} places {way} deprived." if med else
                   "; the median did not move.")


def domains_intro(document: Reference | None) -> str:
    """The domain section's opening: what is shown, and what the reference said if any."""
    said = ""
    if document is not None and document.challenging_domains:
        names = [_domain(m) if m in DOMAIN_LABELS else m for m in document.challenging_domains]
        said = (f"{document.label[0].upper()}{document.label[1:]} named "
                f"{', '.join(names[:-1])} and {names[-1]} as the most challenging domains. ")
    return (said + "The table shows, for each domain, the share of the district's "
            "neighbourhoods in England's most deprived 10% on that domain; a release that did "
            "not publish a domain for neighbourhoods is blank.")


def worst_domains_sentence(domains: pd.DataFrame) -> str:
    """The three most challenging domains in each release that has all seven."""
    worst = {r: worst_domains(domains, r) for r in complete_releases(domains)}
    if not worst:
        return "No release in this report publishes all seven domains for neighbourhoods."
    return ("Most challenging three domains, in releases with all seven domains: " + "; ".join(
        f"**{r}**: " + ", ".join(DOMAIN_LABELS[m] for m in w) for r, w in worst.items()) + ".")


def gap_intro(document: Reference | None) -> str:
    """The gap section's opening, with the reference's claim when it made one."""
    said = ""
    if document is not None and document.gap_widened is not None:
        said = (f"{document.label[0].upper()}{document.label[1:]} said the gap between the "
                f"most and least deprived areas had {'grown wider' if document.gap_widened else 'narrowed'}. ")
    return (said + "Here the gap is the distance between the district's 10th and 90th "
            "percentile neighbourhoods on England's ranking (national percentile points), with "
            "the IMD score gap between the same ends.")


def caveat_ids(is_borough: bool, has_reference: bool) -> list[str]:
    """The notes an imd_trends report closes with: those about a reference document only
    when the areas file has one."""
    ids = ["TRENDS-1", "TRENDS-2", "TRENDS-3"]
    ids += ["TRENDS-4", "TRENDS-5", "TRENDS-6", "IOD-1", "IOD-13"] if is_borough else ["TRENDS-5"]
    ids += ["TRENDS-7", "AREAS-6"]
    if has_reference:
        ids += ["IOD-14", "AREAS-1"] if is_borough else ["AREAS-1"]
    return ids
