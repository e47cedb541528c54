"""Risk factors: what is modelled. The outcome releases, the cohort, and each candidate
factor with its measurement year, unit, source and the 2011 report theme it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

BASELINE = 2010


OUTCOME_RELEASES: tuple[int, ...] = (2019, 2025)


COHORT_DECILES: tuple[int, ...] = (1, 2)  # most deprived 10% (main) and 20% (sensitivity)


#: Domains whose baseline decile-1 membership and later exit are reported (IMD 2010 names).
OUTCOME_MEASURES: tuple[str, ...] = ("imd", "income", "employment", "education", "health",
                                     "crime", "barriers", "living_environment")


GROUP = "lad_code"  # clustering and cross-validation unit: district (IoD 2019 boundaries)


@dataclass(frozen=True)
class Factor:
    """One candidate predictor. ``year``: when it was measured. ``theme``: which of the 2011
    report's five factors it stands for ('baseline' for the control variables).
    ``expected``: the sign the report implies for improvement (+1, -1, 0 = no claim)."""

    name: str
    label: str
    theme: str
    year: str
    source: str
    expected: int = 0
    binary: bool = False
    unit: str = "score points"

    @property
    def post_baseline(self) -> bool:
        """True when measured (or ending) after the 2010 baseline."""
        return int(str(self.year)[-4:]) > BASELINE


THEMES: dict[str, str] = {
    "tenure": "Housing tenure",
    "skills": "Skill levels",
    "churn": "Population churn",
    "economy": "Economic performance of the wider sub-regional economy",
    "access": "Accessibility to lower-skilled jobs",
}


_F = [
    Factor("social_rented", "Households renting from a council or housing association (%)",
           "tenure", "2021", "Census 2021 TS054", -1, unit="percentage points"),
    Factor("private_rented", "Households renting privately or living rent free (%)",
           "tenure", "2021", "Census 2021 TS054", -1, unit="percentage points"),
    Factor("adult_skills", "Adult skills deprivation score (IoD 2010 sub-domain)",
           "skills", "2010", "IoD 2010 (data mostly 2008)", -1),
    Factor("churn", "Residents who moved in during the past year, MSOA (%)",
           "churn", "2021", "Census 2021 TS019 (MSOA)", -1, unit="percentage points"),
    Factor("gva_growth", "Real growth of output (GVA) in the sub-region, 2010-2019 (% a year)",
           "economy", "2010-2019", "ONS regional GDP, GVA(B) deflated", +1,
           unit="percentage points a year"),
    Factor("geographical_barriers", "Geographical barriers score (road distance to services, "
           "IoD 2010 sub-domain)", "access", "2010", "IoD 2010", -1),
    Factor("road_distance", "Mean road distance to GP, school, shop, post office (km, IoD 2019)",
           "access", "2019", "IoD 2019 underlying indicators", -1, unit="km"),
    Factor("rural", "Rural LSOA (rural-urban classification 2011)", "access", "2011",
           "ONS RUC 2011", 0, binary=True, unit=""),
    Factor("services_pt", "Mean travel time by public transport or walking to eight key "
           "services, employment centres among them (minutes, DfT 2015)", "access", "2015",
           "DfT Journey Time Statistics 2015 (LSOA averages)", -1, unit="minutes"),
    # baseline domain scores (IoD 2010), the controls
    Factor("income", "Income deprivation score 2010", "baseline", "2010", "IoD 2010",
           unit="(share of residents, 0-1)"),
    Factor("employment", "Employment deprivation score 2010", "baseline", "2010", "IoD 2010",
           unit="(share of working-age residents, 0-1)"),
    Factor("health", "Health deprivation score 2010", "baseline", "2010", "IoD 2010"),
    Factor("crime", "Crime score 2010", "baseline", "2010", "IoD 2010"),
    Factor("living_environment", "Living environment score 2010", "baseline", "2010",
           "IoD 2010"),
    Factor("children_young_people", "Children and young people education score 2010",
           "baseline", "2010", "IoD 2010"),
    Factor("wider_barriers", "Wider barriers (housing) score 2010", "baseline", "2010",
           "IoD 2010"),
]


FACTORS: dict[str, Factor] = {f.name: f for f in _F}


#: The model's factors.
DEFAULT_MODEL: tuple[str, ...] = (
    "social_rented", "private_rented", "adult_skills", "churn", "gva_growth",
    "services_pt", "geographical_barriers", "road_distance", "rural",
    "income", "employment", "health", "crime", "living_environment",
    "children_young_people", "wider_barriers",
)


#: The factor that stands for each report theme in the verdicts (first listed = headline).
THEME_FACTORS: dict[str, tuple[str, ...]] = {
    "tenure": ("social_rented", "private_rented"),
    "skills": ("adult_skills",),
    "churn": ("churn",),
    "economy": ("gva_growth",),
    "access": ("services_pt", "geographical_barriers", "road_distance"),
}


def post_baseline(factor: str) -> bool:
    """True when ``factor`` is measured after the 2010 baseline. KeyError for unknown names."""
    if factor not in FACTORS:
        raise KeyError(f"unknown factor {factor!r}; known: {list(FACTORS)}")
    return FACTORS[factor].post_baseline
