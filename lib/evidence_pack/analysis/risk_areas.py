"""Risk factors for target areas: each area scored against the England-wide model, with
similar neighbourhoods elsewhere, and the 2011 report's long-term problems in the IoD
2019 and 2025 indicators (the vulnerability profile; percentile 100 = worst in England).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis.risk_model import standardise
from evidence_pack.analysis.risk_spec import FACTORS
from evidence_pack.sources import table_cache
from evidence_pack.stores import iod

#: Per-areas results: ``<AREA_CACHE_DIR>/<the areas' membership key>/`` (``risk.area_results``);
#: the England-wide values of the vulnerability measures in ``<AREA_CACHE_DIR>/england/``.
AREA_CACHE_DIR = config.PROCESSED_DIR / "risk_areas"
ENGLAND_KEY = "england"

#: Baseline factors used to find similar neighbourhoods (IoD 2010 domain/sub-domain scores).
SIMILARITY_FACTORS: tuple[str, ...] = ("income", "employment", "health", "crime",
                                       "living_environment", "children_young_people",
                                       "adult_skills", "wider_barriers",
                                       "geographical_barriers")


def contributions(z: pd.DataFrame, coefs: Mapping[str, float],
                  reference: pd.Series) -> pd.DataFrame:
    """Each factor's pull on the log-odds of improving, relative to a reference profile:
    coef x (z - reference z). Positive = weighs for improving. Rows as ``z``."""
    out = pd.DataFrame(index=z.index)
    for f, b in coefs.items():
        out[f] = b * (z[f] - reference[f])
    return out


def similar(z: pd.DataFrame, target: pd.Series, factors: list[str], k: int = 50) -> pd.Index:
    """Index of the ``k`` cohort LSOAs nearest ``target`` on standardised ``factors``
    (Euclidean distance), i.e. similar neighbourhoods at baseline."""
    d = ((z[factors] - target[factors]) ** 2).sum(axis=1, min_count=len(factors))
    return d.dropna().nsmallest(k).index


def score_areas(members11: pd.DataFrame, release: int = 2025, cohort: int = 10,
                k_similar: int = 50, *, outputs: Mapping[str, pd.DataFrame]
                ) -> dict[str, pd.DataFrame]:
    """Score target areas against the England-wide model.

    ``members11``: slug, name, lsoa_code (2011), weight (``areas.members(set, 2011)``).
    Returns ``lsoas`` (one row per member LSOA: in_cohort, IMD ranks, predicted chance
    (in-sample ``p_model`` and district-held-out ``p_oof``), observed ``improved``),
    ``areas`` (per area: LSOAs, in cohort, predicted chance (weighted mean), expected and
    observed number improving, and the same for similar neighbourhoods), and ``factors``
    (per area x factor: the area's value, the England cohort's and similar neighbourhoods'
    mean, and the pull on the log-odds of improving vs each: positive = weighs for).
    Similar neighbourhoods: the ``k_similar`` cohort LSOAs outside the area's district
    nearest each member LSOA on the baseline scores in ``SIMILARITY_FACTORS``.
    """
    o = outputs
    table, odds, preds, scaling = o["table"], o["odds"], o["predictions"], o["scaling"]
    data = table[table["cohort10"]] if cohort == 10 else table
    y = f"improved{cohort}_{release}"
    sc = scaling[scaling["cohort"] == cohort]
    factors = list(odds[(odds["model"] == "full") & (odds["release"] == release)
                        & (odds["cohort"] == cohort)]["factor"])
    coefs = odds[(odds["model"] == "full") & (odds["release"] == release)
                 & (odds["cohort"] == cohort)].set_index("factor")["odds_ratio"].map(np.log)
    z, _ = standardise(data, factors, scaling=sc)
    z = z.set_index("lsoa_code")
    zs, _ = standardise(data, SIMILARITY_FACTORS)
    pr = preds[(preds["release"] == release) & (preds["cohort"] == cohort)]
    lsoas = members11.merge(
        table[["lsoa_code", "lad_code", "imd_rank", "imd_decile", f"imd_rank_{release}", y]],
        on="lsoa_code", how="left", validate="many_to_one")
    in_data = set(data["lsoa_code"])  # (Series.isin on pandas 3 strings is slow)
    lsoas["in_cohort"] = [c in in_data for c in lsoas["lsoa_code"]]
    lsoas = lsoas.merge(pr[["lsoa_code", "p_model", "p_oof"]], on="lsoa_code", how="left",
                        validate="many_to_one").rename(columns={y: "improved"})
    sim_pool = zs.set_index("lsoa_code")[list(SIMILARITY_FACTORS)].dropna()
    area_rows, factor_rows = [], []
    england_ref = pd.Series(0.0, index=factors)  # z = 0 is the cohort mean (binary: share)
    for f in factors:
        if FACTORS[f].binary:
            england_ref[f] = float(data[f].mean())
    # looked up once, not once a member LSOA: each LSOA's district (its first row, as a
    # filter on the table gives) and, per district, the pool of cohort LSOAs outside it
    first = table.drop_duplicates("lsoa_code")
    district_of = dict(zip(first["lsoa_code"].tolist(), first["lad_code"].tolist(), strict=True))
    pools: dict[str, pd.DataFrame] = {}
    data_by_code, pred_by_code = data.set_index("lsoa_code"), pr.set_index("lsoa_code")
    for slug, g in lsoas.groupby("slug", sort=False):
        inc = g[g["in_cohort"] & g["p_model"].notna()]
        w = inc["weight"]
        sims: list[str] = []
        for code in inc["lsoa_code"]:
            district = district_of[code]
            if district not in pools:
                own = set(table.loc[table["lad_code"] == district, "lsoa_code"])
                pools[district] = sim_pool[[c not in own for c in sim_pool.index]]
            sims.extend(similar(pools[district], sim_pool.loc[code], list(SIMILARITY_FACTORS),
                                k_similar))
        sims = list(dict.fromkeys(sims))
        sim_rows = data_by_code.loc[sims] if sims else data.iloc[:0]
        sim_pred = pred_by_code.reindex(sims)["p_model"]
        area_rows.append({
            "slug": slug, "name": g["name"].iloc[0], "lsoas": len(g),
            "in_cohort": int(g["in_cohort"].sum()),
            "predicted": float(np.average(inc["p_model"], weights=w)) if len(inc) else np.nan,
            "predicted_oof": float(np.average(inc["p_oof"], weights=w)) if len(inc) else np.nan,
            "expected_improving": float((inc["p_model"] * w).sum()),
            "observed_improving": float((inc["improved"] * w).sum()),
            "similar_n": len(sims),
            "similar_predicted": float(sim_pred.mean()) if sims else np.nan,
            "similar_observed": float(sim_rows[y].mean()) if sims else np.nan,
        })
        if not len(inc):
            continue
        zi = z.loc[inc["lsoa_code"], factors]
        z_area = (zi.mul(w.to_numpy(), axis=0).sum() / w.sum())
        z_sim = z.loc[sims, factors].mean() if sims else england_ref
        raw_area = (data_by_code.loc[inc["lsoa_code"], factors]
                    .mul(w.to_numpy(), axis=0).sum() / w.sum())
        for f in factors:
            ref_e = england_ref[f] if FACTORS[f].binary else 0.0
            factor_rows.append({
                "slug": slug, "factor": f, "label": FACTORS[f].label,
                "theme": FACTORS[f].theme, "year": FACTORS[f].year,
                "post_baseline": FACTORS[f].post_baseline,
                "odds_ratio": float(np.exp(coefs[f])),
                "value_area": float(raw_area[f]),
                "value_england_cohort": float(data[f].mean()),
                "value_similar": float(sim_rows[f].mean()) if sims else np.nan,
                "pull_vs_england": float(coefs[f] * (z_area[f] - ref_e)),
                "pull_vs_similar": float(coefs[f] * (z_area[f] - z_sim[f])),
            })
    return {"lsoas": lsoas, "areas": pd.DataFrame(area_rows),
            "factors": pd.DataFrame(factor_rows)}


#: The 2011 report's list of long-term problems (section 7.2) -> IoD 2019/2025 evidence.
#: (theme, release, kind, key, label). kind: 'indicator' (iod_indicators, higher = worse),
#: 'rate' (employment numerator / working-age population, %), 'domain' (IoD domain rank).
VULNERABILITY: dict[str, str] = {
    "health": "Poor health including mental health, and high rates of disability",
    "skills": "Low educational attainment and low adult skills",
    "worklessness": "High levels of long-term unemployment and sickness",
    "crime": "High crime and anti-social behaviour",
    "housing": "Poor quality housing and environmental problems",
}


_I = "indicator"


DOMAIN_LABEL = "{} domain (% of England less deprived)"


VULNERABILITY_INDICATORS: tuple[tuple[str, int, str, str, str], ...] = (
    ("health", 2019, _I, "comparative_illness_and_disability_ratio_indicator",
     "Illness and disability ratio (100 = England average)"),
    ("health", 2019, _I, "years_of_potential_life_lost_indicator", "Years of potential life lost"),
    ("health", 2019, _I, "mood_and_anxiety_disorders_indicator", "Mood and anxiety disorders"),
    ("health", 2025, _I, "comparative_illness_and_disability_ratio_indicator",
     "Illness and disability ratio (100 = England average)"),
    ("health", 2025, _I, "years_of_potential_life_lost_indicator", "Years of potential life lost"),
    ("health", 2025, _I, "mental_health_indicator", "Mental health"),
    ("skills", 2019, _I, "adult_skills_and_english_language_proficiency_indicator",
     "Adults without qualifications or English (share)"),
    ("skills", 2019, _I, "staying_on_in_education_post_16_indicator",
     "Not staying on in education after 16 (share)"),
    ("skills", 2019, _I, "entry_to_higher_education_indicator",
     "Not entering higher education (share)"),
    ("skills", 2019, "domain", "education", DOMAIN_LABEL.format("Education, skills and training")),
    ("skills", 2025, _I, "adult_skills_and_english_language_proficiency_indicator",
     "Adults without qualifications or English (share)"),
    ("skills", 2025, _I, "entry_to_higher_education_indicator",
     "Not entering higher education (share)"),
    ("skills", 2025, "domain", "education", DOMAIN_LABEL.format("Education, skills and training")),
    ("worklessness", 2019, "rate", "employment_domain_numerator",
     "Working-age people out of work through unemployment, sickness or disability (%)"),
    ("worklessness", 2019, "domain", "employment", DOMAIN_LABEL.format("Employment")),
    ("worklessness", 2025, "domain", "employment", DOMAIN_LABEL.format("Employment")),
    ("crime", 2019, "domain", "crime", DOMAIN_LABEL.format("Crime")),
    ("crime", 2025, _I, "anti_social_behaviour_rate_per_1_000_at_risk_population",
     "Anti-social behaviour per 1,000 residents"),
    ("crime", 2025, _I, "violence_with_injury_rate_per_1_000_at_risk_population",
     "Violence with injury per 1,000 residents"),
    ("crime", 2025, _I, "burglary_rate_per_1_000_at_risk_properties",
     "Burglary per 1,000 properties"),
    ("crime", 2025, "domain", "crime", DOMAIN_LABEL.format("Crime")),
    ("housing", 2019, _I, "housing_in_poor_condition_indicator",
     "Housing in poor condition (share)"),
    ("housing", 2019, _I, "houses_without_central_heating_indicator",
     "Homes without central heating (share)"),
    ("housing", 2019, _I, "household_overcrowding_indicator", "Overcrowded households (share)"),
    ("housing", 2019, _I, "air_quality_indicator", "Air quality"),
    ("housing", 2019, "domain", "living_environment", DOMAIN_LABEL.format("Living environment")),
    ("housing", 2025, _I, "household_overcrowding_indicator_bedrooms",
     "Overcrowded households, bedrooms (share)"),
    ("housing", 2025, "domain", "living_environment", DOMAIN_LABEL.format("Living environment")),
)


#: The releases of the vulnerability measures (the IoD 2019 and 2025).
VALUE_RELEASES: tuple[int, ...] = tuple(sorted({s[1] for s in VULNERABILITY_INDICATORS}))


def england_values(release: int) -> pd.DataFrame:
    """Every LSOA's value of each vulnerability measure for ``release`` (its own LSOA vintage):
    lsoa_code, key, kind, value (higher = worse; for domains the rank turned into the share of
    England less deprived, 0-100). The same for every areas file: computed by ``prepare``
    (stage risk, about 1.2 s) into ``<AREA_CACHE_DIR>/england/`` and read from there, or
    computed there on first use when missing or older than an input or this code. A shared
    frame: copy before modifying."""
    if release not in VALUE_RELEASES:
        return compute_england_values(release)
    names = [f"values_{r}" for r in VALUE_RELEASES]
    frames = table_cache.frames_for(
        AREA_CACHE_DIR, iod.INDICATORS_FILE, names,
        lambda: {f"values_{r}": compute_england_values(r) for r in VALUE_RELEASES},
        [iod.INDICATORS_FILE, iod.POPULATION_FILE, iod.IOD_FILE, Path(__file__)],
        key=ENGLAND_KEY)
    return frames[f"values_{release}"]


def compute_england_values(release: int) -> pd.DataFrame:
    """``england_values`` computed from the IoD store (no cache)."""

    specs = [s for s in VULNERABILITY_INDICATORS if s[1] == release]
    ind_keys = [s[3] for s in specs if s[2] in (_I, "rate")]
    ind = pd.read_parquet(iod.INDICATORS_FILE, filters=[("release", "=", release)])
    ind = ind[ind["indicator"].isin(ind_keys)][["lsoa_code", "indicator", "value"]]
    frames = []
    for key in ind_keys:
        v = ind[ind["indicator"] == key][["lsoa_code", "value"]].assign(key=key)
        kind = next(s[2] for s in specs if s[3] == key)
        if kind == "rate":
            pop = pd.read_parquet(iod.POPULATION_FILE)
            pop = pop.sort_values("year").drop_duplicates("lsoa_code")  # IoD 2019 denominators
            v = v.merge(pop[["lsoa_code", "working_age"]], on="lsoa_code", how="left")
            v["value"] = 100 * v["value"] / v["working_age"]
            v = v.drop(columns="working_age")
        frames.append(v.assign(kind=kind))
    doms = [s[3] for s in specs if s[2] == "domain"]
    if doms:
        d = iod.load(releases=[release], measures=doms)
        n = d.groupby("measure")["rank"].transform("count")
        frames.append(pd.DataFrame({"lsoa_code": d["lsoa_code"], "key": d["measure"],
                                    "kind": "domain",
                                    "value": 100 * (1 - (d["rank"] - 1) / n)}))
    return pd.concat(frames, ignore_index=True)


def vulnerability(members: Mapping[int, pd.DataFrame],
                  values: Mapping[int, pd.DataFrame] | None = None) -> pd.DataFrame:
    """For each area, the report's five long-term problems as the IoD 2019 and 2025 show them.

    ``members``: release -> areas.members() on that release's LSOA vintage (2019: 2011,
    2025: 2021). ``values``: release -> ``england_values(release)`` (read when None). The
    area's value is the member-weighted mean over its LSOAs; ``percentile`` = share of
    England's LSOAs with a lower (better) value, 0-100. ``level``: 'worst 10%' (>= 90),
    'worst 20%' (>= 80), 'worse than average' (>= 50) or 'better than average'.
    Columns: slug, theme, problem, release, key, label, value, england_median, percentile,
    level.
    """
    rows = []
    for release, m in members.items():
        vals = values[release] if values is not None else england_values(release)
        # split by key once (not filtered a key), codes as plain strings: an index of them is
        # hashed at once, where one of Arrow strings is converted first, every key again
        rows_of = vals.groupby("key", sort=False).indices
        codes = vals["lsoa_code"].to_numpy(dtype=object)
        numbers = vals["value"].to_numpy(dtype=float)
        slugs = [(slug, g["lsoa_code"].to_numpy(dtype=object), g["weight"].to_numpy())
                 for slug, g in m.groupby("slug", sort=False)]
        # every area's members looked up at once a measure (one hash table, one lookup)
        wanted = (np.concatenate([c for _, c, _ in slugs]) if slugs
                  else np.array([], dtype=object))
        bounds = np.cumsum([0, *(len(c) for _, c, _ in slugs)])
        for theme, rel, kind, key, label in VULNERABILITY_INDICATORS:
            if rel != release:
                continue
            at = rows_of.get(key, np.array([], dtype=np.intp))
            known = ~np.isnan(numbers[at])
            present = numbers[at][known]
            pos = pd.Index(codes[at][known], dtype=object).get_indexer(wanted)
            found = np.full(len(wanted), np.nan)
            found[pos >= 0] = present[pos[pos >= 0]]
            sorted_vals = np.sort(present)
            median = float(np.median(sorted_vals)) if len(sorted_vals) else np.nan
            for i, (slug, _, weights) in enumerate(slugs):
                v = found[bounds[i]:bounds[i + 1]]
                ok = ~np.isnan(v)
                if not ok.any():
                    continue
                val = float(np.average(v[ok], weights=weights[ok]))
                pct = 100 * np.searchsorted(sorted_vals, val, side="left") / len(sorted_vals)
                rows.append({"slug": slug, "theme": theme, "problem": VULNERABILITY[theme],
                             "release": release, "key": key, "kind": kind, "label": label,
                             "value": val, "england_median": median,
                             "percentile": float(pct), "level": _level(pct)})
    return pd.DataFrame(rows)


def _level(pct: float) -> str:
    if pct >= 90:
        return "worst 10%"
    if pct >= 80:
        return "worst 20%"
    if pct >= 50:
        return "worse than average"
    return "better than average"
