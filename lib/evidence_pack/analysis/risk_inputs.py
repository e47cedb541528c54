"""Risk factors: reading every input onto the 2011 LSOAs and building the analysis table.

IoD 2010 (2001 LSOAs) and 2025 (2021 LSOAs) are carried to 2011 LSOAs with ``lookups.carry``;
Census 2021 tenure and churn likewise; DfT journey times 2015 are published on 2011 LSOAs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.analysis.risk_model import (
    join_factors,
    model_factors,
    outcomes,
    run_models,
    verdicts,
    via_lookup,
)
from evidence_pack.analysis.risk_spec import BASELINE, OUTCOME_MEASURES, OUTCOME_RELEASES
from evidence_pack.sources import catalogue, journey_times
from evidence_pack.sources.io import DataError
from evidence_pack.stores import census, economy, iod, lookups

#: IoD measures read at baseline (2010 scores, carried to 2011 LSOAs).
BASE_MEASURES: tuple[str, ...] = (*OUTCOME_MEASURES, "adult_skills", "children_young_people",
                                  "geographical_barriers", "wider_barriers")


ROAD_DISTANCE_INDICATORS: tuple[str, ...] = (
    "road_distance_to_a_post_office_indicator_km",
    "road_distance_to_a_primary_school_indicator_km",
    "road_distance_to_general_store_or_supermarket_indicator_km",
    "road_distance_to_a_gp_surgery_indicator_km",
)


N11 = config.ENGLAND_LSOAS[2011]


def _carry(df: pd.DataFrame, from_vintage: int, to_vintage: int, value_cols: list[str],
           how: str) -> pd.DataFrame:
    """Carry per-LSOA values across vintages with the shared ``lookups.carry`` (``how``:
    'mean' = overlap-population-weighted mean, for scores and shares; 'rerank' = weighted
    mean rank re-ranked 1..n on the target LSOAs). Returns lsoa_code + value_cols."""

    out = lookups.carry(df[["lsoa_code", *value_cols]], value_cols, from_vintage, to_vintage,
                        how=how)
    return out[["lsoa_code", *value_cols]]


def release_on_2011(release: int, measures: Iterable[str]) -> pd.DataFrame:
    """One row per LSOA 2011: ``<m>_score`` (NaN where the release has none) and ``<m>_rank``
    among England's 2011 LSOAs. Native 2011 releases keep their published ranks; others have
    scores carried with ``lookups.carry`` (population-weighted mean) and ranks carried and
    re-ranked 1..n on 2011 LSOAs (``how='rerank'``, caveat RISK-5)."""

    measures = list(measures)
    w = iod.wide(release, measures, values=("score", "rank"))
    vintage = int(w["lsoa_vintage"].iloc[0])
    if vintage == 2011:
        cols = ["lsoa_code"] + [c for m in measures for c in (f"{m}_score", f"{m}_rank")
                                if c in w.columns]
        return w[cols].reset_index(drop=True)
    score_cols = [f"{m}_score" for m in measures if f"{m}_score" in w.columns]
    rank_cols = [f"{m}_rank" for m in measures if f"{m}_rank" in w.columns]
    scores = _carry(w, vintage, 2011, score_cols, how="mean")
    ranks = _carry(w, vintage, 2011, rank_cols, how="rerank")
    return scores.merge(ranks, on="lsoa_code", validate="one_to_one")


def district_lookup() -> pd.DataFrame:
    """LSOA 2011 -> district (IoD 2019's: lad_code, lad_name), one row per LSOA."""

    d = iod.load(releases=[2019], measures="imd")
    return d[["lsoa_code", "lad_code", "lad_name"]].drop_duplicates("lsoa_code")


def tenure_on_2011() -> pd.DataFrame:
    """Census 2021 tenure shares (% of households) carried from LSOA 2021 to LSOA 2011
    (population-weighted mean of the shares). Owner occupied includes shared ownership;
    private rented includes living rent free (``census.GROUPS``)."""

    cols = {}
    for k in ("social_rented", "private_rented", "owner_occupied"):
        cols[k] = 100 * census.lsoa_measure("tenure", k)
    df = pd.DataFrame(cols).rename_axis("lsoa_code").reset_index()
    return _carry(df, 2021, 2011, list(cols), how="mean")


def churn_on_2011() -> pd.DataFrame:
    """Census 2021 churn (% of residents who moved in during the year, MSOA 2021) given to
    each LSOA 2021 of the MSOA, then carried to LSOA 2011 (mean)."""

    ch = (100 * census.lsoa_measure("migration", "churn", key="msoa_code")).rename("churn")
    geo = lookups.geography(2021)[["lsoa_code", "msoa_code"]]
    per21 = via_lookup(ch.reset_index(), geo, "msoa_code")
    return _carry(per21, 2021, 2011, ["churn"], how="mean")


def road_distance_2019() -> pd.DataFrame:
    """Mean of the four IoD 2019 road-distance indicators (km), LSOA 2011."""

    ind = pd.read_parquet(iod.INDICATORS_FILE, filters=[("release", "=", 2019)])
    ind = ind[ind["indicator"].isin(ROAD_DISTANCE_INDICATORS)]
    if ind["indicator"].nunique() != len(ROAD_DISTANCE_INDICATORS):
        raise DataError(iod.INDICATORS_FILE, "IoD 2019 road-distance indicators missing")
    w = ind.pivot_table(index="lsoa_code", columns="indicator", values="value")
    return w.mean(axis=1).rename("road_distance").reset_index()


def rural_2011() -> pd.DataFrame:
    """Rural (1) / urban (0) from the 2011 rural-urban classification, LSOA 2011."""

    g = lookups.geography(2011)[["lsoa_code", "ruc"]]
    return pd.DataFrame({"lsoa_code": g["lsoa_code"],
                         "rural": g["ruc"].astype(str).str.lower().str.startswith("rural")
                         .astype(float).where(g["ruc"].notna())})


def gva_growth(start: int = BASELINE, end: int = 2019) -> pd.DataFrame:
    """Real GVA growth (% a year) of each LSOA 2011's ITL3 sub-region, ``start``-``end``."""

    g = economy.itl3_growth(start, end)[["itl3_code", "itl3_name", "annual_pct"]]
    lk = economy.lsoa_itl3(2011)[["lsoa_code", "itl3_code"]]
    out = lk.merge(g.rename(columns={"annual_pct": "gva_growth"}), on="itl3_code",
                   how="left", validate="many_to_one")
    return out


def travel_times() -> pd.DataFrame:
    """DfT 2015: mean minutes by public transport or walking to eight key services, LSOA 2011
    (``services_pt``; see ``sources.journey_times`` for what it is and is not)."""
    path = catalogue.path_for(journey_times.DATASET_ID)
    t = journey_times.read(path)
    return t[["lsoa_code", "services_pt_minutes"]].rename(
        columns={"services_pt_minutes": "services_pt"})


def build_table(base: pd.DataFrame, later: Mapping[int, pd.DataFrame], districts: pd.DataFrame,
                factor_frames: Mapping[str, pd.DataFrame], n: int = N11) -> pd.DataFrame:
    """The England-wide analysis table: one row per LSOA 2011 in the most deprived 20% on
    the IMD 2010 (``cohort10`` marks the most deprived 10%).

    ``base``: lsoa_code, ``<m>_score`` and ``<m>_rank`` for the IMD and domains at 2010 (on
    2011 LSOAs, ``n`` of them ranked); ``later``: release -> lsoa_code, ``imd_rank`` (2011 LSOAs);
    ``districts``: lsoa_code, lad_code, lad_name; ``factor_frames``: name -> lsoa_code + the
    factor columns. Columns: lsoa_code, lad_code, lad_name, cohort10, imd_score, imd_rank,
    imd_decile (2010), the baseline scores under their factor names, for each release r
    ``imd_rank_r``, ``improved10_r`` (left the most deprived 10%; cohort10 rows only),
    ``improved20_r`` (left the most deprived 20%), ``pct_gain_r``; then the factors.
    """
    b = base.rename(columns={"imd_rank": "rank"})
    cohort = None
    for r, lat in sorted(later.items()):
        lat = lat.rename(columns={"imd_rank": "rank"})[["lsoa_code", "rank"]]
        n_later = int(lat["rank"].notna().sum())
        o20 = outcomes(b[["lsoa_code", "rank"]], lat, n, n_later, max_decile=2,
                       source=f"IMD {r}")
        o20 = o20.rename(columns={"improved": f"improved20_{r}", "pct_gain": f"pct_gain_{r}",
                                  "rank_later": f"imd_rank_{r}"})
        o20[f"improved10_{r}"] = np.where(o20["decile_base"] == 1,
                                          (o20["decile_later"] > 1).astype(float), np.nan)
        keep = ["lsoa_code", f"imd_rank_{r}", f"improved10_{r}", f"improved20_{r}",
                f"pct_gain_{r}"]
        if cohort is None:
            cohort = o20[["lsoa_code", "rank_base", "decile_base", *keep[1:]]]
        else:
            cohort = cohort.merge(o20[keep], on="lsoa_code", validate="one_to_one")
    cohort = cohort.rename(columns={"rank_base": "imd_rank", "decile_base": "imd_decile"})
    cohort.insert(1, "cohort10", cohort["imd_decile"] == 1)
    scores = base[["lsoa_code"] + [c for c in base.columns if c.endswith("_score")]]
    scores = scores.rename(columns=lambda c: c.removesuffix("_score") if c != "imd_score"
                           else c)
    out = join_factors(cohort, {"districts": districts[["lsoa_code", "lad_code", "lad_name"]],
                                "baseline": scores.drop(columns=[c for c in ("imd_rank",)
                                                                 if c in scores]),
                                **factor_frames})
    if out["lad_code"].isna().any():
        raise DataError(None, f"{int(out['lad_code'].isna().sum())} cohort LSOAs have no district")
    front = ["lsoa_code", "lad_code", "lad_name", "cohort10", "imd_score", "imd_rank",
             "imd_decile"]
    return out[front + [c for c in out.columns if c not in front]]


def domain_outcomes(base: pd.DataFrame, later: Mapping[int, pd.DataFrame],
                    measures: Iterable[str] = OUTCOME_MEASURES, n: int = N11) -> pd.DataFrame:
    """Domain by domain: LSOAs (2011) in the domain's most deprived 10% in 2010, and how many
    had left it by each later release. Columns measure, release, cohort, improved, share."""
    rows = []
    for m in measures:
        if f"{m}_rank" not in base.columns:
            continue
        b = base[["lsoa_code", f"{m}_rank"]].rename(columns={f"{m}_rank": "rank"}).dropna()
        for r, lat in sorted(later.items()):
            if f"{m}_rank" not in lat.columns:
                continue
            la = lat[["lsoa_code", f"{m}_rank"]].rename(columns={f"{m}_rank": "rank"}).dropna()
            o = outcomes(b.merge(la[["lsoa_code"]], on="lsoa_code"), la, n, len(la),
                         source=f"{m} {r}")
            rows.append({"measure": m, "release": r, "cohort": len(o),
                         "improved": int(o["improved"].sum()),
                         "share": float(o["improved"].mean()),
                         "median_pct_gain": float(o["pct_gain"].median())})
    return pd.DataFrame(rows)


def build_all() -> dict[str, pd.DataFrame]:
    """Read every input and build the analysis table and all model outputs (no writing)."""
    base = release_on_2011(BASELINE, BASE_MEASURES)
    later = {r: release_on_2011(r, OUTCOME_MEASURES) for r in OUTCOME_RELEASES}
    frames = {"tenure": tenure_on_2011(), "churn": churn_on_2011(),
              "road_distance": road_distance_2019(), "rural": rural_2011(),
              "gva_growth": gva_growth()}
    frames["services_pt"] = travel_times()
    table = build_table(base, later, district_lookup(), frames, n=int(base["imd_rank"].max()))
    out = run_models(table, model_factors(table))
    out["table"] = table
    out["domains"] = domain_outcomes(base, later, n=int(base["imd_rank"].max()))
    odds = out["odds"]
    out["verdicts"] = pd.concat(
        [verdicts(odds[(odds["release"] == r) & (odds["cohort"] == c)], model_factors(table))
         .assign(release=r, cohort=c) for r in OUTCOME_RELEASES for c in (10, 20)],
        ignore_index=True)
    return out
