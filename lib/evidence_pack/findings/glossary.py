"""Plain-English definitions of the statistical and geographical terms the reports use.

Every report closes with "Terms used in this report": the build finds which of these terms
the report's text uses (``used_in``) and lists their definitions; a notebook can add a term
it explains in a figure (``report.glossary([...])``). Definitions are written for a chief
executive, not a statistician: one or two sentences, no formulas.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: term -> definition. The term is shown as written here.
TERMS: dict[str, str] = {
    "LSOA": ("Lower-layer Super Output Area: a small neighbourhood defined by the Office for "
             "National Statistics for publishing statistics, home to about 1,500 residents "
             "(between 1,000 and 3,000). England has about 33,750 of them. The reports call "
             "them neighbourhoods."),
    "MSOA": ("Middle-layer Super Output Area: a group of about five neighbouring LSOAs, home "
             "to about 8,000 residents."),
    "Index of Multiple Deprivation (IMD)": (
        "The government's official measure of relative deprivation for every neighbourhood in "
        "England, combining seven domains (income, employment, education, health, crime, "
        "barriers to housing and services, living environment)."),
    "domain": ("One of the seven themes the Index of Multiple Deprivation combines, such as "
               "income or health."),
    "percentile": ("A position in England's ranking on a scale from 0 to 100. In these reports "
                   "0 is the most deprived end and 100 the least deprived: a neighbourhood at "
                   "the 4th percentile is more deprived than 96% of England's."),
    "decile": ("One tenth of a ranking. Decile 1 is England's most deprived 10% of "
               "neighbourhoods; decile 10 the least deprived 10%."),
    "median": ("The middle value when values are put in order: half are above it and half "
               "below. Unlike the average, one extreme value does not move it."),
    "ITL3": ("International Territorial Level 3: the Office for National Statistics' "
             "sub-regions (groups of districts, such as South Yorkshire) used for regional "
             "economic figures."),
    "AUC": ("Area under the curve: how well a model tells two groups apart, from 0.5 (no "
            "better than tossing a coin) to 1 (perfect). Above 0.7 is usually called "
            "acceptable, above 0.8 good."),
    "odds ratio": ("How much a factor changes the odds of an outcome: 1 means no change, 2 "
                   "doubles the odds, 0.5 halves them."),
    "standard deviation (SD)": (
        "The typical distance of values from their average. A change \"per standard "
        "deviation\" compares factors measured in different units on one scale."),
    "SMD": ("Standardised mean difference: the gap between two groups' averages divided by the "
            "standard deviation. Below 0.1 the groups are usually called well balanced; above "
            "0.25 they differ noticeably."),
    "caliper": ("The largest difference allowed between a target neighbourhood and a comparison "
                "neighbourhood for them to count as a match."),
    "matched comparison": (
        "Neighbourhoods elsewhere in England chosen because they looked like the target "
        "neighbourhoods before the programme, so that later differences can be compared."),
    "difference-in-differences": (
        "A way of estimating the effect of a programme: the change in the target areas minus "
        "the change in similar areas that had no programme over the same years."),
    "confidence interval": ("The range within which the true value probably lies (95% of such "
                            "ranges contain it). A wide range means an uncertain estimate."),
    "statistically significant": (
        "Unlikely to be a chance result of which neighbourhoods happened to be measured; it "
        "does not mean large or important."),
    "real terms": ("Money adjusted for inflation, so that amounts from different years buy the "
                   "same goods and services."),
    "per head": "Divided by the number of residents.",
    "Census 2021": ("The national census of 21 March 2021; resident counts in these reports "
                    "use it as the population base."),
}

#: How each term is recognised in a report's text (word boundaries, case as given).
_PATTERNS: dict[str, str] = {
    "LSOA": r"\bLSOAs?\b",
    "MSOA": r"\bMSOAs?\b",
    "Index of Multiple Deprivation (IMD)": r"\bIMD\b|Index of Multiple Deprivation",
    "domain": r"\b[Dd]omains?\b",
    "percentile": r"\bpercentiles?\b",
    "decile": r"\bdeciles?\b",
    "median": r"\bmedian\b",
    "ITL3": r"\bITL ?3\b",
    "AUC": r"\bAUC\b",
    "odds ratio": r"\bodds ratios?\b",
    "standard deviation (SD)": r"\bstandard deviations?\b|\bper SD\b|\bSDs?\b",
    "SMD": r"\bSMDs?\b|standardised mean difference",
    "caliper": r"\b[Cc]alipers?\b",
    "matched comparison": r"\b[Cc]omparators?\b|\bmatched comparisons?\b",
    "difference-in-differences": r"\b[Dd]ifference-in-differences?\b",
    "confidence interval": r"\bconfidence intervals?\b|\b95% (?:interval|range)\b",
    "statistically significant": r"\bstatistically significant\b|\bstatistical significance\b",
    "real terms": r"\breal terms\b",
    "per head": r"\b(?:per|a) head\b",
    "Census 2021": r"\bCensus 2021\b|\b2021 Census\b",
}


def define(term: str) -> str:
    """The definition of ``term`` (KeyError naming the known terms when there is none)."""
    if term not in TERMS:
        raise KeyError(f"no glossary entry for {term!r}; known terms: {sorted(TERMS)}")
    return TERMS[term]


def used_in(text: str) -> list[str]:
    """The glossary terms ``text`` uses, in the order of ``TERMS``."""
    return [t for t in TERMS if re.search(_PATTERNS[t], text)]


def entries(terms: Iterable[str]) -> list[tuple[str, str]]:
    """(term, definition) pairs, each term once, sorted without regard to case."""
    seen = list(dict.fromkeys(terms))
    return [(t, define(t)) for t in sorted(seen, key=str.lower)]
