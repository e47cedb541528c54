"""Tidy Census 2021 tables for England (issue 4): LSOA 2021 and MSOA 2021.

Sources (Census 2021, ONS, 21 March 2021; republished by the humaniverse ``demographr`` and
``IMD`` R packages, Open Government Licence):

- LSOA 2021 (``census21_lsoa.parquet``): ``tenure`` (TS054, households), ``household_deprivation``
  (TS011, households by number of deprivation dimensions), ``overcrowding`` (TS052, occupancy
  rating for bedrooms, households), ``disability`` (TS038, usual residents), ``ethnicity``
  (TS021 high-level groups, usual residents), ``household_type`` (TS044 accommodation type,
  households: the demographr table named "household type" holds the dwelling type).
- MSOA 2021 (``census21_msoa.parquet``): ``migration`` (TS019, address one year before the
  census: usual residents) and ``proficiency`` (TS029, English proficiency, residents aged 3+).

Tidy layout: one row per area x topic x category with ``n`` (count), ``total`` (the topic's
base for that area: households or residents) and ``prop`` = n / total (0-1). Category keys are
short snake-case names (see ``CATEGORY_LABELS`` for the census wording). England only.

Validation at build: no duplicate area x topic x category, no missing counts, one total per
area x topic, categories summing to the total within ``SUM_TOLERANCE`` (the published tables are
consistent to the person), and the IMD package's household-deprivation table agreeing with
demographr's. Any breach raises ``io.DataError`` naming the file and row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from evidence_pack import config
from evidence_pack.sources import catalogue
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, read_rda_frame, write_parquet

LSOA_FILE = "census21_lsoa.parquet"
MSOA_FILE = "census21_msoa.parquet"

#: Allowed |sum of categories - total| per area and topic (persons or households).
SUM_TOLERANCE = 1.0

CENSUS_DATE = "21 March 2021"
SOURCE = "Census 2021 (ONS), via humaniverse demographr/IMD R packages"

#: topic -> (dataset id, category column, total column, base, {source label: key})
LSOA_TOPICS: dict[str, tuple[str, str, str, str, dict[str, str]]] = {
    "tenure": (
        "household_tenure21_lsoa21", "tenure", "total_households", "households", {
            "Owned: Owns outright": "owned_outright",
            "Owned: Owns with a mortgage or loan": "owned_mortgage",
            "Shared ownership: Shared ownership": "shared_ownership",
            "Social rented: Rents from council or Local Authority": "social_rented_council",
            "Social rented: Other social rented": "social_rented_other",
            "Private rented: Private landlord or letting agency": "private_rented_landlord",
            "Private rented: Other private rented": "private_rented_other",
            "Lives rent free": "rent_free",
        }),
    "household_deprivation": (
        "household_deprivation21_lsoa21", "deprivation_dimensions", "total_households",
        "households", {
            "Household is not deprived in any dimension": "dimensions_0",
            "Household is deprived in one dimension": "dimensions_1",
            "Household is deprived in two dimensions": "dimensions_2",
            "Household is deprived in three dimensions": "dimensions_3",
            "Household is deprived in four dimensions": "dimensions_4",
        }),
    "overcrowding": (
        "household_overcrowding21_lsoa21", "occupancy_rating", "total_households",
        "households", {
            "+2 or more (under-occupied)": "under_occupied_2plus",
            "+1 (under-occupied)": "under_occupied_1",
            "0 (ideal)": "ideal",
            "-1 (overcrowded)": "overcrowded_1",
            "-2 or less (overcrowded)": "overcrowded_2plus",
        }),
    "disability": (
        "disability21_lsoa21_ew", "disability", "total_residents", "usual residents", {
            "Disabled under the Equality Act": "disabled",
            "Not disabled under the Equality Act": "not_disabled",
        }),
    "ethnicity": (
        "ethnicity21_lsoa21", "ethnic_group", "total_residents", "usual residents", {
            "Asian, Asian British or Asian Welsh": "asian",
            "Black, Black British, Black Welsh, Caribbean or African": "black",
            "Mixed or Multiple ethnic groups": "mixed",
            "White": "white",
            "Other ethnic group": "other",
        }),
    "household_type": (
        "household_type21_lsoa21", "type", "total_households", "households", {
            "Detached": "detached",
            "Semi-detached": "semi_detached",
            "Terraced": "terraced",
            "In a purpose-built block of flats or tenement": "flat_purpose_built",
            "Part of a converted or shared house, including bedsits": "flat_converted",
            "Part of another converted building, for example, former school, church or "
            "warehouse": "flat_other_converted",
            "In a commercial building, for example, in an office building, hotel or over a "
            "shop": "commercial_building",
            "A caravan or other mobile or temporary structure": "caravan",
        }),
}

MIGRATION_COLUMNS: dict[str, str] = {
    "address_one_year_ago_is_the_same": "same_address",
    "address_one_year_ago_is_student_or_boarding": "student_or_boarding",
    "migrant_from_within_uk": "moved_within_uk",
    "migrant_from_outside_uk": "moved_from_outside_uk",
}
_PROF = "Main language is not English (English or Welsh in Wales)"
PROFICIENCY_COLUMNS: dict[str, str] = {
    "Main language is English (English or Welsh in Wales)": "main_language_english",
    f"{_PROF}: Can speak English very well": "english_very_well",
    f"{_PROF}: Can speak English well": "english_well",
    f"{_PROF}: Cannot speak English well": "english_not_well",
    f"{_PROF}: Cannot speak English": "english_none",
}

#: Census wording for every category key (for tables shown to readers).
CATEGORY_LABELS: dict[str, str] = {
    **{key: label for t in LSOA_TOPICS.values() for label, key in t[4].items()},
    "same_address": "Same address one year before",
    "student_or_boarding": "Student or schoolchild living away (address one year before)",
    "moved_within_uk": "Moved in from elsewhere in the UK in the past year",
    "moved_from_outside_uk": "Moved in from outside the UK in the past year",
    "main_language_english": "Main language is English",
    "english_very_well": "Other main language: speaks English very well",
    "english_well": "Other main language: speaks English well",
    "english_not_well": "Other main language: cannot speak English well",
    "english_none": "Other main language: cannot speak English",
}

#: Convenient groupings of categories (group key -> member category keys) per topic.
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "tenure": {
        "owner_occupied": ("owned_outright", "owned_mortgage", "shared_ownership"),
        "social_rented": ("social_rented_council", "social_rented_other"),
        "private_rented": ("private_rented_landlord", "private_rented_other", "rent_free"),
    },
    "household_deprivation": {
        "deprived_1plus": ("dimensions_1", "dimensions_2", "dimensions_3", "dimensions_4"),
        "deprived_2plus": ("dimensions_2", "dimensions_3", "dimensions_4"),
    },
    "overcrowding": {"overcrowded": ("overcrowded_1", "overcrowded_2plus")},
    "disability": {"disabled": ("disabled",)},
    "ethnicity": {"ethnic_minority": ("asian", "black", "mixed", "other")},
    "migration": {"churn": ("moved_within_uk", "moved_from_outside_uk")},
    "proficiency": {"poor_english": ("english_not_well", "english_none")},
}

GROUP_LABELS: dict[str, str] = {
    "owner_occupied": "Owner occupied (incl. shared ownership)",
    "social_rented": "Social rented",
    "private_rented": "Private rented or rent free",
    "deprived_1plus": "Households deprived in at least one dimension",
    "deprived_2plus": "Households deprived in two or more dimensions",
    "overcrowded": "Households overcrowded (fewer bedrooms than needed)",
    "disabled": "Residents disabled under the Equality Act",
    "ethnic_minority": "Residents of an ethnic group other than White",
    "churn": "Residents who moved in during the past year (population churn)",
    "poor_english": "Residents who cannot speak English well or at all",
}

_COLUMNS = ["topic", "category", "n", "total", "prop"]


# --------------------------------------------------------------------------- building


def tidy_lsoa_topic(raw: pd.DataFrame, topic: str, source: str | Path = "<frame>",
                    england_only: bool = True) -> pd.DataFrame:
    """One demographr LSOA table -> tidy rows (lsoa_code, topic, category, n, total, prop).

    Raises DataError on an unknown category label or a missing column.
    """
    _, cat_col, tot_col, _, labels = LSOA_TOPICS[topic]
    missing = [c for c in ("lsoa21_code", cat_col, tot_col, "n") if c not in raw.columns]
    if missing:
        raise DataError(source, f"{topic}: missing column(s) {missing}")
    df = raw
    if england_only:
        df = df.loc[df["lsoa21_code"].astype(str).str.startswith("E")]
    unknown = ~df[cat_col].isin(labels)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(source, f"{topic}: unknown category {df[cat_col].iloc[i]!r}", row=i + 1)
    out = pd.DataFrame({
        "lsoa_code": df["lsoa21_code"].astype(str).to_numpy(),
        "topic": topic,
        "category": df[cat_col].map(labels).to_numpy(),
        "n": df["n"].to_numpy(dtype=float),
        "total": df[tot_col].to_numpy(dtype=float),
    })
    out["prop"] = _safe_div(out["n"], out["total"])
    return out


def tidy_msoa(migration: pd.DataFrame, proficiency: pd.DataFrame,
              source: str | Path = "<frame>", england_only: bool = True) -> pd.DataFrame:
    """Wide MSOA migration and proficiency tables -> tidy rows keyed by ``msoa_code``.

    Migration total = all usual residents; proficiency total = the residents aged 3+ that the
    question covers (main language English + main language not English).
    """
    need = ["msoa21_code", "all_usual_residents", *MIGRATION_COLUMNS]
    missing = [c for c in need if c not in migration.columns]
    if missing:
        raise DataError(source, f"migration: missing column(s) {missing}")
    need = ["msoa21_code", _PROF, *PROFICIENCY_COLUMNS]
    missing = [c for c in need if c not in proficiency.columns]
    if missing:
        raise DataError(source, f"proficiency: missing column(s) {missing}")
    names = migration.set_index("msoa21_code")["msoa21_name"] if "msoa21_name" in migration else None
    parts = []
    mig = migration.melt(id_vars=["msoa21_code", "all_usual_residents"],
                         value_vars=list(MIGRATION_COLUMNS), var_name="category", value_name="n")
    parts.append(pd.DataFrame({
        "msoa_code": mig["msoa21_code"].astype(str), "topic": "migration",
        "category": mig["category"].map(MIGRATION_COLUMNS), "n": mig["n"].astype(float),
        "total": mig["all_usual_residents"].astype(float)}))
    prof = proficiency.copy()
    prof["_total"] = prof["Main language is English (English or Welsh in Wales)"] + prof[_PROF]
    pm = prof.melt(id_vars=["msoa21_code", "_total"], value_vars=list(PROFICIENCY_COLUMNS),
                   var_name="category", value_name="n")
    parts.append(pd.DataFrame({
        "msoa_code": pm["msoa21_code"].astype(str), "topic": "proficiency",
        "category": pm["category"].map(PROFICIENCY_COLUMNS), "n": pm["n"].astype(float),
        "total": pm["_total"].astype(float)}))
    out = pd.concat(parts, ignore_index=True)
    if england_only:
        out = out.loc[out["msoa_code"].str.startswith("E")].reset_index(drop=True)
    out.insert(1, "msoa_name", out["msoa_code"].map(names) if names is not None else None)
    out["prop"] = _safe_div(out["n"], out["total"])
    return out


def validate(df: pd.DataFrame, key: str, source: str | Path = "<frame>",
             tolerance: float = SUM_TOLERANCE) -> pd.DataFrame:
    """Check a tidy census frame; return it unchanged or raise DataError naming the row.

    Checks: required columns, no duplicate key x topic x category, no missing or negative
    counts, one total per key x topic, and categories summing to that total within
    ``tolerance``.
    """
    need = [key, *_COLUMNS]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}")
    dup = df.duplicated([key, "topic", "category"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(source, f"duplicate {key} x topic x category "
                                f"({df[key].iloc[i]}, {df['topic'].iloc[i]}, "
                                f"{df['category'].iloc[i]})", row=i + 1)
    bad = df["n"].isna() | df["total"].isna() | (df["n"] < 0) | (df["total"] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(source, f"missing or negative count for {df[key].iloc[i]} "
                                f"({df['topic'].iloc[i]})", row=i + 1)
    g = df.groupby([key, "topic"], sort=False)
    totals = g["total"].nunique()
    if (totals > 1).any():
        k = totals.index[np.flatnonzero((totals > 1).to_numpy())[0]]
        raise DataError(source, f"{k[0]} {k[1]}: more than one total")
    diff = (g["n"].sum() - g["total"].first()).abs()
    over = diff > tolerance
    if over.any():
        k = diff.index[np.flatnonzero(over.to_numpy())[0]]
        row = int(np.flatnonzero(((df[key] == k[0]) & (df["topic"] == k[1])).to_numpy())[0])
        raise DataError(source, f"{k[0]} {k[1]}: categories sum to "
                                f"{g['n'].sum()[k]:.0f}, total is {g['total'].first()[k]:.0f}",
                        row=row + 1)
    return df


def cross_check_deprivation(tidy: pd.DataFrame, imd_table: pd.DataFrame,
                            source: str | Path = "<frame>") -> None:
    """The IMD package's household-deprivation table must match demographr's counts."""
    need = ["lsoa21_code", "households_number_deprivation_dimensions", "count"]
    missing = [c for c in need if c not in imd_table.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}")
    other = pd.DataFrame({
        "lsoa_code": imd_table["lsoa21_code"].astype(str),
        "category": "dimensions_"
        + imd_table["households_number_deprivation_dimensions"].astype(int).astype(str),
        "n_imd": imd_table["count"].astype(float)})
    mine = tidy.loc[tidy["topic"] == "household_deprivation", ["lsoa_code", "category", "n"]]
    both = mine.merge(other, on=["lsoa_code", "category"], how="left")
    bad = both["n_imd"].isna() | ((both["n"] - both["n_imd"]).abs() > SUM_TOLERANCE)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(source, f"household deprivation for {both['lsoa_code'].iloc[i]} "
                                f"{both['category'].iloc[i]}: demographr {both['n'].iloc[i]}, "
                                f"IMD package {both['n_imd'].iloc[i]}", row=i + 1)


def _inputs() -> list[Path]:
    ids = [t[0] for t in LSOA_TOPICS.values()]
    ids += ["migration21_msoa21", "proficiency21_msoa21", "census21_deprivation_england_wales_lsoa21"]
    return [catalogue.path_for(i) for i in ids]


def prepare(force: bool = False) -> list[Path]:
    """Build ``census21_lsoa.parquet`` and ``census21_msoa.parquet`` (England, 2021 areas)."""
    outputs = [config.PROCESSED_DIR / LSOA_FILE, config.PROCESSED_DIR / MSOA_FILE]
    inputs = _inputs()
    if not force and is_fresh(outputs, [*inputs, Path(__file__)]):
        return outputs
    parts = []
    for topic, (ds, *_rest) in LSOA_TOPICS.items():
        path = catalogue.path_for(ds)
        part = tidy_lsoa_topic(read_rda_frame(path), topic, source=path)
        parts.append(validate(part, "lsoa_code", source=path))
    lsoa = pd.concat(parts, ignore_index=True)
    dep_path = catalogue.path_for("census21_deprivation_england_wales_lsoa21")
    cross_check_deprivation(lsoa, read_rda_frame(dep_path), source=dep_path)
    n_lsoa = lsoa["lsoa_code"].nunique()
    if n_lsoa != config.ENGLAND_LSOAS[2021]:
        raise DataError(inputs[0], f"{n_lsoa} English LSOAs, expected {config.ENGLAND_LSOAS[2021]}")
    mpath, ppath = catalogue.path_for("migration21_msoa21"), catalogue.path_for("proficiency21_msoa21")
    msoa = tidy_msoa(read_rda_frame(mpath), read_rda_frame(ppath), source=mpath)
    validate(msoa, "msoa_code", source=mpath)
    for col in ("topic", "category"):
        lsoa[col] = lsoa[col].astype("category")
        msoa[col] = msoa[col].astype("category")
    write_parquet(lsoa, outputs[0])
    write_parquet(msoa, outputs[1])
    load_lsoa.cache_clear()
    load_msoa.cache_clear()
    return outputs


# --------------------------------------------------------------------------- reading


@lru_cache(maxsize=1)
def load_lsoa() -> pd.DataFrame:
    """The tidy LSOA 2021 table (builds it when absent; ``topic`` and ``category`` are
    pandas categoricals). Treat the result as read-only."""
    path = config.PROCESSED_DIR / LSOA_FILE
    if not path.exists():
        prepare()
    return pd.read_parquet(path)


@lru_cache(maxsize=1)
def load_msoa() -> pd.DataFrame:
    """The tidy MSOA 2021 table (builds it when absent). Treat the result as read-only."""
    path = config.PROCESSED_DIR / MSOA_FILE
    if not path.exists():
        prepare()
    return pd.read_parquet(path)


# --------------------------------------------------------------------------- aggregating


def _safe_div(n, d):
    n = np.asarray(n, dtype=float)
    d = np.asarray(d, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(d > 0, n / d, np.nan)


def add_groups(df: pd.DataFrame, key: str | None = None) -> pd.DataFrame:
    """Append the ``GROUPS`` categories (summed n, same total) to a tidy frame."""
    if key is None:
        return _add_set_groups(df)
    keys = [key]
    extra = []
    for topic, groups in GROUPS.items():
        sub = df.loc[df["topic"] == topic]
        if sub.empty:
            continue
        present = set(sub["category"].astype(str))
        for gkey, members in groups.items():
            m = sub.loc[sub["category"].isin(members)]
            if m.empty or gkey in present:
                continue
            agg = m.groupby(keys + ["topic"], sort=False, observed=True).agg(
                n=("n", "sum"), total=("total", "first")).reset_index()
            agg["category"] = gkey
            extra.append(agg)
    if not extra:
        return df
    out = pd.concat([df, *extra], ignore_index=True)
    out["prop"] = _safe_div(out["n"], out["total"])
    return out


def _add_set_groups(df: pd.DataFrame) -> pd.DataFrame:
    """``add_groups`` of one set's frame (one row per topic x category): each group's n summed
    over its categories in row order, the total of its first; on numpy arrays, one concat."""
    topics, cats = df["topic"].to_numpy(dtype=object), df["category"].to_numpy(dtype=object)
    n, total = df["n"].to_numpy(dtype=float), df["total"].to_numpy(dtype=float)
    extra: dict[str, list] = {"topic": [], "n": [], "total": [], "category": []}
    for topic, groups in GROUPS.items():
        in_topic = topics == topic
        if not in_topic.any():
            continue
        present = set(cats[in_topic])
        for gkey, members in groups.items():
            m = in_topic & np.isin(cats, members)
            if not m.any() or gkey in present:
                continue
            extra["topic"].append(topic)
            extra["n"].append(n[m].sum())
            extra["total"].append(total[m][0])
            extra["category"].append(gkey)
    if not extra["topic"]:
        return df
    out = pd.concat([df, pd.DataFrame(extra)], ignore_index=True)
    out["prop"] = _safe_div(out["n"], out["total"])
    return out


def shares(codes: Iterable[str] | None, topics: Iterable[str] | None = None,
           table: pd.DataFrame | None = None, key: str = "lsoa_code",
           weights: Mapping[str, float] | None = None, groups: bool = True) -> pd.DataFrame:
    """Aggregate a set of areas: one row per topic x category with n, total, prop.

    ``codes`` None = every area in the table (England). ``weights`` (code -> share 0-1) scale
    each area's counts (for areas holding part of a split LSOA). Proportions are pooled
    (sum of counts / sum of totals), i.e. shares of the set's households or residents.
    Raises KeyError naming codes that are not in the table.
    """
    table = load_lsoa() if table is None and key == "lsoa_code" else (
        load_msoa() if table is None else table)
    keep = table["topic"].isin(list(topics)) if topics is not None else None
    if codes is not None:
        codes = list(dict.fromkeys(codes))
        hit = table[key].isin(codes)  # one pass over the table, not a set of all its codes
        missing = sorted(set(codes) - set(table.loc[hit, key].unique()))
        if missing:
            raise KeyError(f"{len(missing)} code(s) not in the census table: {missing[:5]}")
        keep = hit if keep is None else keep & hit
    sub = table if keep is None else table.loc[keep]
    if weights is not None:
        w = sub[key].map(weights).fillna(1.0 if codes is None else 0.0).to_numpy()
        sub = sub.assign(n=sub["n"] * w, total=sub["total"] * w)
    per = (sub.groupby([key, "topic"], sort=False, observed=True)["total"].first()
           .groupby(level="topic", observed=True).sum())
    agg = sub.groupby(["topic", "category"], sort=False, observed=True)["n"].sum().reset_index()
    for col in ("topic", "category"):
        agg[col] = agg[col].astype(str)
    agg["total"] = agg["topic"].map(per.rename(index=str)).astype(float)
    agg["prop"] = _safe_div(agg["n"], agg["total"])
    if groups:
        agg = add_groups(agg)
    return agg[_COLUMNS].reset_index(drop=True)


def shares_many(sets: Mapping[str, tuple[Iterable[str], Mapping[str, float] | None]],
                topics: Iterable[str], table: pd.DataFrame, key: str = "lsoa_code"
                ) -> dict[str, pd.DataFrame]:
    """``shares`` of many sets of areas at once: {name: frame}, each frame equal to
    ``shares(codes, topics, table=table, key=key, weights=weights)`` for ``sets[name]`` =
    (codes, weights or None). The table is scanned once for every set's codes and summed in
    one groupby (each set's rows in the table's order, as ``shares`` sums them)."""
    topics = list(topics)
    sets = {name: (list(dict.fromkeys(codes)), weights) for name, (codes, weights) in sets.items()}
    if not sets:
        return {}
    union = set().union(*(codes for codes, _ in sets.values()))
    small = table.loc[table["topic"].isin(topics) & table[key].isin(union)]
    own = small[key].to_numpy(dtype=object)
    parts = []
    for i, (codes, weights) in enumerate(sets.values()):
        hit = np.isin(own, codes)
        sub = small.loc[hit]
        missing = sorted(set(codes) - set(own[hit]))
        if missing:
            raise KeyError(f"{len(missing)} code(s) not in the census table: {missing[:5]}")
        if weights is not None:
            w = sub[key].map(weights).fillna(0.0).to_numpy()
            sub = sub.assign(n=sub["n"] * w, total=sub["total"] * w)
        parts.append(sub[[key, "topic", "category", "n", "total"]].assign(_set=i))
    st = pd.concat(parts, ignore_index=True)
    per = (st.groupby(["_set", key, "topic"], sort=False, observed=True)["total"].first()
           .groupby(level=["_set", "topic"], observed=True).sum())
    agg = st.groupby(["_set", "topic", "category"], sort=False, observed=True)["n"].sum()
    agg = agg.reset_index()
    for col in ("topic", "category"):
        agg[col] = agg[col].astype(str)
    per = per.rename(index=str, level="topic")
    agg["total"] = pd.Series(per.reindex(pd.MultiIndex.from_arrays(
        [agg["_set"], agg["topic"]])).to_numpy(), index=agg.index).astype(float)
    agg["prop"] = _safe_div(agg["n"], agg["total"])
    out = {}
    for i, name in enumerate(sets):
        one = agg.loc[agg["_set"].to_numpy() == i, ["topic", "category", "n", "total", "prop"]]
        out[name] = add_groups(one.reset_index(drop=True))[_COLUMNS].reset_index(drop=True)
    return out


def compare(sets: Mapping[str, Iterable[str] | None], topics: Iterable[str] | None = None,
            table: pd.DataFrame | None = None, key: str = "lsoa_code",
            value: str = "prop") -> pd.DataFrame:
    """Side-by-side shares: rows topic x category, one column per named set of areas.

    ``sets`` maps a column name to codes (None = England). ``value`` is ``prop`` or ``n``.
    """
    cols = {}
    for name, codes in sets.items():
        s = shares(codes, topics=topics, table=table, key=key)
        cols[name] = s.set_index(["topic", "category"])[value]
    out = pd.DataFrame(cols)
    out.index = out.index.set_names(["topic", "category"])
    return out


def lsoa_measure(topic: str, category: str, table: pd.DataFrame | None = None,
                 key: str = "lsoa_code") -> pd.Series:
    """One share per area (0-1), indexed by code: e.g. ``lsoa_measure('tenure', 'social_rented')``
    or ``lsoa_measure('migration', 'churn', key='msoa_code')``. Group keys are allowed."""
    table = table if table is not None else (load_lsoa() if key == "lsoa_code" else load_msoa())
    sub = table.loc[table["topic"] == topic]
    members = GROUPS.get(topic, {}).get(category, (category,))
    sub = sub.loc[sub["category"].isin(members)]
    if sub.empty:
        raise KeyError(f"no category {category!r} in topic {topic!r}")
    g = sub.groupby(key, sort=False, observed=True).agg(n=("n", "sum"), total=("total", "first"))
    return pd.Series(_safe_div(g["n"], g["total"]), index=g.index, name=f"{topic}:{category}")


def label(category: str) -> str:
    """Readable census wording for a category or group key."""
    return GROUP_LABELS.get(category) or CATEGORY_LABELS.get(category, category)
