"""Area profiles (logic behind ``area_profile.ipynb``): an area against its borough and England.

Geography: the latest release, IoD 2025 (published 30 October 2025), on 2021 LSOAs; Census
2021 (21 March 2021) on 2021 LSOAs and MSOAs; Community Needs Index 2023 (OCSI for Local
Trust) on 2021 LSOAs; Rural-Urban Classification 2021 on 2021 LSOAs. Areas defined on older
LSOAs are carried to 2021 LSOAs by ``areas.members`` (weights = share of an LSOA in the area).

A *set* is ``DataFrame[lsoa_code, weight]``; ``None`` stands for England (every LSOA).
Percentiles: national rank / number of LSOAs x 100 (0 = most deprived, 100 = least).

``tables`` gives every table of the profile for a district's areas, computed once per
membership (memoised with each area labelled by its slug, from the areas file without names:
a renamed area reuses them) and labelled with the current names at use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evidence_pack import config
from evidence_pack.analysis.areas import members
from evidence_pack.analysis.trends import DOMAINS, n_lsoas
from evidence_pack.sources import catalogue, table_cache
from evidence_pack.sources.io import DataError, read_rda_frame
from evidence_pack.stores import census, iod

#: IMD domain weights (IoD 2019 and IoD 2025 technical reports: unchanged since 2004).
IMD_WEIGHTS: dict[str, float] = {
    "income": 0.225, "employment": 0.225, "education": 0.135, "health": 0.135,
    "crime": 0.093, "barriers": 0.093, "living_environment": 0.093,
}
SUBDOMAINS: tuple[str, ...] = (
    "children_young_people", "adult_skills", "geographical_barriers", "wider_barriers",
    "indoors", "outdoors",
)
#: Census 2021 shares shown in the profile (topic, category or group key).
CENSUS_ROWS: tuple[tuple[str, str], ...] = (
    ("tenure", "social_rented"), ("tenure", "private_rented"), ("tenure", "owner_occupied"),
    ("household_deprivation", "deprived_1plus"), ("household_deprivation", "deprived_2plus"),
    ("overcrowding", "overcrowded"), ("disability", "disabled"),
    ("ethnicity", "ethnic_minority"),
)
CNI_DOMAINS: dict[str, str] = {
    "cni": "Community Needs Index 2023",
    "civic_assets": "Civic assets",
    "connectedness": "Connectedness",
    "engaged_community": "Active and engaged community",
}
_CNI_COLUMNS = {
    "cni": "Community Needs Index 2023", "civic_assets": "Civic Assets Domain",
    "connectedness": "Connectedness Domain", "engaged_community":
    "Active and Engaged Community Domain",
}

Sets = Mapping[str, pd.DataFrame | None]


# --------------------------------------------------------------------------- loading


def load_cni() -> pd.DataFrame:
    """CNI 2023 by LSOA 2021: lsoa_code, lsoa_name, ``<domain>_score``, ``<domain>_rank``
    (rank 1 = highest community need in England), ``left_behind`` (bool)."""
    path = catalogue.path_for("cni2023_england_lsoa21")
    st = Path(path).stat()
    return _cni(str(path), st.st_size, st.st_mtime_ns)


@table_cache.memo  # the R file takes ~1.7 s to read: once per build (keyed by its version)
def _cni(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    """``load_cni`` of the file at ``path`` (``size`` and ``mtime_ns``: its version)."""
    path = Path(path)
    raw = read_rda_frame(path, ["lsoa21_code", "lsoa21_name", "Left Behind Area?"])
    out = pd.DataFrame({"lsoa_code": raw["lsoa21_code"].astype(str),
                        "lsoa_name": raw["lsoa21_name"].astype(str)})
    for key, col in _CNI_COLUMNS.items():
        for kind in ("Score", "Rank"):
            name = f"{col} {kind}"
            if name not in raw.columns:
                raise DataError(path, f"missing column {name!r}")
            out[f"{key}_{kind.lower()}"] = raw[name].astype(float)
    out["left_behind"] = raw["Left Behind Area?"].astype(bool)
    if out["lsoa_code"].duplicated().any():
        raise DataError(path, "duplicate LSOA codes")
    return out


def load_ruc() -> pd.DataFrame:
    """Rural-Urban Classification 2021 by LSOA 2021 (England): lsoa_code, ruc_code,
    classification, ruc (Urban/Rural)."""
    path = catalogue.path_for("ruc21_lsoa21")
    st = Path(path).stat()
    return _ruc(str(path), st.st_size, st.st_mtime_ns)


@table_cache.memo  # the R file takes ~1.5-3 s to read: once per build (keyed by its version)
def _ruc(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    """``load_ruc`` of the file at ``path`` (``size`` and ``mtime_ns``: its version)."""
    raw = read_rda_frame(Path(path), ["lsoa21_code", "ruc21_code", "classification", "ruc"])
    raw = raw.loc[raw["lsoa21_code"].astype(str).str.startswith("E")]
    return pd.DataFrame({"lsoa_code": raw["lsoa21_code"].astype(str).to_numpy(),
                         "ruc_code": raw["ruc21_code"].astype(str).to_numpy(),
                         "classification": raw["classification"].astype(str).to_numpy(),
                         "ruc": raw["ruc"].astype(str).to_numpy()})


def lsoa_to_msoa() -> pd.Series:
    """LSOA 2021 -> MSOA 2021 code, from ``lsoa_geography.parquet`` when built, otherwise
    from the LSOA names (``Rotherham 012A`` is in MSOA ``Rotherham 012``)."""
    geo = config.PROCESSED_DIR / "lsoa_geography.parquet"
    if geo.exists():
        try:
            g = pd.read_parquet(geo, columns=["lsoa_code", "lsoa_vintage", "msoa_code"])
            g = g.loc[(g["lsoa_vintage"] == 2021) & g["msoa_code"].notna()]
            if len(g):
                return g.set_index("lsoa_code")["msoa_code"]
        except (KeyError, ValueError, OSError):
            pass
    names = load_cni().set_index("lsoa_code")["lsoa_name"].str[:-1].str.strip()
    msoa = census.load_msoa()[["msoa_code", "msoa_name"]].drop_duplicates()
    by_name = msoa.set_index("msoa_name")["msoa_code"]
    return names.map(by_name).dropna()


# --------------------------------------------------------------------------- sets


def area_sets(area_set, members_2021: pd.DataFrame, iod2025: pd.DataFrame,
              slugs: Iterable[str] | None = None, england: bool = True,
              combined: str | None = None, labels: Mapping[str, str] | None = None
              ) -> dict[str, pd.DataFrame | None]:
    """{display name: set} for the chosen areas, then (when ``combined`` names it) all the
    chosen areas together, then the borough, then England (None).

    ``members_2021`` is ``areas.members(area_set, 2021)``; the borough is every LSOA of
    ``area_set.la_code`` in ``iod2025`` (the IoD 2025 district). ``labels`` (slug -> key)
    replaces the areas' display names as keys (``tables`` keys by slug).
    """
    out: dict[str, pd.DataFrame | None] = {}
    chosen = list(slugs) if slugs is not None else area_set.slugs
    for slug in chosen:
        key = labels[slug] if labels is not None else area_set.get(slug).name
        m = members_2021.loc[members_2021["slug"] == slug, ["lsoa_code", "weight"]]
        out[key] = m.groupby("lsoa_code", as_index=False)["weight"].sum()
    if combined:
        both = pd.concat(list(out.values()), ignore_index=True)
        out[combined] = both.groupby("lsoa_code", as_index=False)["weight"].sum().assign(
            weight=lambda d: d["weight"].clip(upper=1.0))
    borough = iod2025.loc[iod2025["lad_code"] == area_set.la_code, "lsoa_code"].unique()
    if len(borough) == 0:
        raise DataError("iod_lsoa", f"no 2025 LSOAs for district {area_set.la_code}")
    out[area_set.la_name] = pd.DataFrame({"lsoa_code": sorted(borough), "weight": 1.0})
    if england:
        out["England"] = None
    return out


def _weight_matrix(sets: Sets, codes: pd.Series) -> np.ndarray:
    """(len(codes), len(sets)) weights of each LSOA in each set (0 outside it).

    ``codes`` (often every LSOA in England, repeated or not) are passed to Arrow once and
    each set's few codes looked up among them with ``pyarrow.compute.index_in`` (a hash of the
    set, one scan of ``codes``): no pandas index of England's codes per call. A set lists each
    code once (``area_sets`` groups by code)."""
    arr = pa.array(codes.array if isinstance(codes, pd.Series | pd.Index) else codes,
                   from_pandas=True)
    out = np.zeros((len(arr), len(sets)))
    for j, s in enumerate(sets.values()):
        if s is None:
            out[:, j] = 1.0
            continue
        own = pa.array(np.asarray(s["lsoa_code"], dtype=object), type=arr.type)
        idx = pc.index_in(arr, value_set=own).fill_null(-1).to_numpy(zero_copy_only=False)
        hit = idx >= 0
        out[hit, j] = s["weight"].to_numpy(float)[idx[hit]]
    return out


# --------------------------------------------------------------------------- people


def population(sets: Sets, census_lsoa: pd.DataFrame | None = None) -> pd.DataFrame:
    """Census 2021 usual residents and households per set (weighted), plus LSOA count."""
    t = census_lsoa if census_lsoa is not None else census.load_lsoa()
    res = t.loc[t["topic"] == "disability"].groupby("lsoa_code")["total"].first()
    hh = t.loc[t["topic"] == "tenure"].groupby("lsoa_code")["total"].first()
    rows = []
    # every set's weights at once: one lookup table of England's LSOAs, not one per set
    wm_res, wm_hh = _weight_matrix(sets, res.index.to_series()), _weight_matrix(sets, hh.index.to_series())
    for j, (name, s) in enumerate(sets.items()):
        w_res, w_hh = wm_res[:, j], wm_hh[:, j]
        rows.append({"area": name, "lsoas": float(w_res[w_res > 0].sum()) if s is not None
                     else float(len(res)),
                     "residents": float((res.to_numpy() * w_res).sum()),
                     "households": float((hh.to_numpy() * w_hh).sum())})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- deprivation


def domain_table(iod: pd.DataFrame, sets: Sets, release: int = 2025,
                 measures: Iterable[str] = ("imd", *DOMAINS)) -> pd.DataFrame:
    """Per set x measure: share of LSOAs in England's most deprived 10% on that measure and
    the median national percentile of its LSOAs (weighted by each LSOA's share in the set;
    0 = most deprived; England: 10% and 50% by construction). The median is the statistic the
    trends report uses for an area's position, so both reports give the same figure."""
    sub = iod.loc[iod["release"] == release]
    n = n_lsoas(release)
    rows = []
    for m in measures:
        d = sub.loc[sub["measure"] == m, ["lsoa_code", "rank", "decile"]]
        if d.empty:
            continue
        pct = 100.0 * d["rank"].to_numpy(float) / n
        wm = _weight_matrix(sets, d["lsoa_code"])
        tot = wm.sum(axis=0)
        if (tot == 0).any():
            name = list(sets)[int(np.flatnonzero(tot == 0)[0])]
            raise DataError("iod_lsoa", f"{name}: no LSOAs with {m} in release {release}")
        d1 = (d["decile"].to_numpy() == 1).astype(float) @ wm / tot
        for j, name in enumerate(sets):
            rows.append({"area": name, "measure": m, "share_decile1": float(d1[j]),
                         "median_pct": weighted_median(pct, wm[:, j])})
    return pd.DataFrame(rows, columns=["area", "measure", "share_decile1", "median_pct"])


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value below which half the weight lies (numpy's 'inverted_cdf' median when every
    weight is 1; the same rule as the trends report's median percentile)."""
    keep = weights > 0
    v, w = np.asarray(values, float)[keep], np.asarray(weights, float)[keep]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cw = np.cumsum(w)
    return float(v[np.searchsorted(cw, 0.5 * cw[-1] - 1e-9)])


def exp_transform(rank: np.ndarray | pd.Series, n: int) -> np.ndarray:
    """The IMD's exponential transformation of a domain rank (rank 1 = most deprived):
    R = (n + 1 - rank) / n in (0, 1], X = -23 ln(1 - R (1 - exp(-100/23))), 0-100."""
    r = (n + 1 - np.asarray(rank, dtype=float)) / n
    return -23.0 * np.log(1.0 - r * (1.0 - np.exp(-100.0 / 23.0)))


def drivers(iod: pd.DataFrame, sets: Sets, release: int = 2025) -> pd.DataFrame:
    """What drives each set's deprivation: per set x domain, the weighted, exponentially
    transformed domain rank (the IMD's own combination) as ``points`` and its ``share`` of the
    set's combined points, and ``vs_england`` = points / England's mean points for that
    domain (above 1 = the domain pulls the set's IMD further than it does on average)."""
    sub = iod.loc[(iod["release"] == release) & iod["measure"].isin(IMD_WEIGHTS)]
    if sub.empty:
        raise DataError("iod_lsoa", f"no domain ranks in release {release}")
    n = n_lsoas(release)
    rows = []
    for m, wgt in IMD_WEIGHTS.items():
        d = sub.loc[sub["measure"] == m, ["lsoa_code", "rank"]]
        if d.empty:
            continue
        x = wgt * exp_transform(d["rank"], n)
        eng = float(x.mean())
        wm = _weight_matrix(sets, d["lsoa_code"])
        pts = x @ wm / wm.sum(axis=0)
        for j, name in enumerate(sets):
            rows.append({"area": name, "measure": m, "points": float(pts[j]),
                         "vs_england": float(pts[j]) / eng})
    out = pd.DataFrame(rows)
    out["share"] = out["points"] / out.groupby("area")["points"].transform("sum")
    return out


def top_drivers(drv: pd.DataFrame, area: str, n: int = 3) -> list[str]:
    """The ``n`` domains contributing most to ``area``'s combined IMD points."""
    sub = drv.loc[drv["area"] == area].sort_values("points", ascending=False)
    return sub["measure"].head(n).tolist()


# --------------------------------------------------------------------------- context


@table_cache.memo  # every report's England column: computed once per build
def england_shares(topics: tuple[str, ...], level: str = "lsoa") -> pd.DataFrame:
    """``census.shares`` of every LSOA (``level`` "lsoa") or MSOA ("msoa") in England for
    ``topics`` (Census 2021, 0-1)."""
    if level == "lsoa":
        t = census.load_lsoa()
        return census.shares(None, list(topics), table=t.loc[t["topic"].isin(list(topics))])
    return census.shares(None, list(topics), table=census.load_msoa(), key="msoa_code")


def census_table(sets: Sets, rows: Iterable[tuple[str, str]] = CENSUS_ROWS,
                 census_lsoa: pd.DataFrame | None = None) -> pd.DataFrame:
    """Census 2021 shares (0-1): one row per (topic, category), one column per set."""
    t = census_lsoa if census_lsoa is not None else census.load_lsoa()
    rows = list(rows)
    topics = sorted({r[0] for r in rows})
    some = census.shares_many({name: (s["lsoa_code"], dict(zip(s["lsoa_code"], s["weight"],
                                                                strict=True)))
                               for name, s in sets.items() if s is not None}, topics, table=t)
    cols = {}
    for name, s in sets.items():
        if s is None:
            sh = (census.shares(None, topics, table=t) if census_lsoa is not None
                  else england_shares(tuple(topics)))
        else:
            sh = some[name]
        cols[name] = sh.set_index(["topic", "category"])["prop"]
    out = pd.DataFrame(cols).loc[rows]
    out.insert(0, "measure", [census.label(c) for _, c in rows])
    return out.reset_index()


def msoa_context(sets: Sets, msoa_of: pd.Series | None = None,
                 census_msoa: pd.DataFrame | None = None) -> pd.DataFrame:
    """Population churn and poor English (Census 2021, MSOA) for the MSOAs that hold each
    set's LSOAs (MSOAs are larger than most target areas: context, not a measure of the
    area itself). Columns: area, msoas, churn, poor_english (0-1)."""
    t = census_msoa if census_msoa is not None else census.load_msoa()
    msoa_of = msoa_of if msoa_of is not None else lsoa_to_msoa()
    topics = ["migration", "proficiency"]
    codes = {name: None if s is None else sorted(set(msoa_of.reindex(s["lsoa_code"]).dropna()))
             for name, s in sets.items()}
    codes = {name: c for name, c in codes.items() if c is None or c}
    some = census.shares_many({name: (c, None) for name, c in codes.items() if c is not None},
                              topics, table=t, key="msoa_code")
    rows = []
    for name, c in codes.items():
        sh = (some[name] if c is not None
              else england_shares(tuple(topics), "msoa") if census_msoa is None
              else census.shares(None, topics, table=t, key="msoa_code"))
        sh = sh.set_index("category")["prop"]
        rows.append({"area": name, "msoas": len(c) if c is not None
                     else t["msoa_code"].nunique(),
                     "churn": sh["churn"], "poor_english": sh["poor_english"]})
    return pd.DataFrame(rows)


def cni_table(sets: Sets, cni: pd.DataFrame | None = None) -> pd.DataFrame:
    """Community Needs Index 2023 per set: for the index and each domain, the share of LSOAs
    in England's highest-need 10% (rank <= N/10) and the weighted mean score (higher = more
    community need); ``left_behind`` = LSOAs flagged as "left behind"."""
    c = cni if cni is not None else load_cni()
    n = len(c) if cni is not None else config.ENGLAND_LSOAS[2021]
    rows = []
    wm = _weight_matrix(sets, c["lsoa_code"])
    behind = c["left_behind"].to_numpy()
    top = {key: c[f"{key}_rank"].to_numpy() <= n / 10 for key in CNI_DOMAINS}
    score = {key: c[f"{key}_score"].to_numpy() for key in CNI_DOMAINS}
    for j, name in enumerate(sets):
        w = np.ascontiguousarray(wm[:, j])
        row = {"area": name, "left_behind": float((w * behind).sum())}
        for key in CNI_DOMAINS:
            row[f"{key}_top10"] = float((w * top[key]).sum() / w.sum())
            row[f"{key}_score"] = float((w * score[key]).sum() / w.sum())
        rows.append(row)
    return pd.DataFrame(rows)


def rurality(sets: Sets, ruc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of each set's LSOAs in each Rural-Urban Classification 2021 class (0-1)."""
    r = ruc if ruc is not None else load_ruc()
    wm = _weight_matrix(sets, r["lsoa_code"])
    # one groupby for every set (each column summed as its own Series would be)
    per = pd.DataFrame(wm, index=r.index, columns=pd.RangeIndex(len(sets))).groupby(
        r["classification"]).sum()
    cols = {name: per[j] / np.ascontiguousarray(wm[:, j]).sum()
            for j, name in enumerate(sets)}
    out = pd.DataFrame(cols).fillna(0.0)
    return out.loc[(out.drop(columns=["England"], errors="ignore") > 0).any(axis=1)
                   ].rename_axis("classification").reset_index()


def dominant_class(rur: pd.DataFrame, area: str) -> tuple[str, float]:
    """The rural-urban class holding most of ``area``'s LSOAs and that share."""
    i = rur[area].idxmax()
    return str(rur.loc[i, "classification"]), float(rur.loc[i, area])


#: Short column labels for tables with one row per area.
SHORT_LABELS: dict[str, str] = {
    "imd": "IMD", "income": "Income", "employment": "Employment", "education": "Education",
    "health": "Health", "crime": "Crime", "barriers": "Barriers",
    "living_environment": "Living env.", "children_young_people": "Children & young people",
    "adult_skills": "Adult skills", "geographical_barriers": "Geographical barriers",
    "wider_barriers": "Wider barriers", "indoors": "Indoors", "outdoors": "Outdoors",
    "social_rented": "Social rented", "private_rented": "Private rented",
    "owner_occupied": "Owner occupied", "deprived_1plus": "Deprived 1+ dims",
    "deprived_2plus": "Deprived 2+ dims", "overcrowded": "Overcrowded",
    "disabled": "Disabled", "ethnic_minority": "Not White",
}


def by_area(df: pd.DataFrame, value: str, column: str = "measure", scale: float = 1.0
            ) -> pd.DataFrame:
    """Long (area, <column>, value) -> one row per area (in first-seen order), one column per
    ``column`` value with short labels; values multiplied by ``scale`` (100 for %)."""
    order = list(dict.fromkeys(df["area"]))
    cols = list(dict.fromkeys(df[column]))
    w = df.pivot(index="area", columns=column, values=value).loc[order, cols] * scale
    w.columns = [SHORT_LABELS.get(c, c) for c in w.columns]
    return w.rename_axis(None, axis=1).reset_index().rename(columns={"area": "Area"})


def area_table(dom: pd.DataFrame, area: str, others: Iterable[str], value: str,
               scale: float = 1.0) -> pd.DataFrame:
    """One row per measure (short labels), one column per set: ``area`` first, then
    ``others`` (the borough, England); values times ``scale`` (100 for %). For an area's own
    report, where every row then carries the area's figure."""
    names = [area, *others]
    w = dom.pivot(index="measure", columns="area", values=value)
    order = list(dict.fromkeys(dom["measure"]))
    w = w.loc[order, names] * scale
    w.index = [SHORT_LABELS.get(m, m) for m in w.index]
    return w.rename_axis("Measure").reset_index().rename_axis(None, axis=1)


def area_domain_table(dom: pd.DataFrame, area: str, borough: str) -> pd.DataFrame:
    """For an area's own report, one compact table: per measure (short labels), the share
    of the area's and the borough's LSOAs in England's most deprived 10% (%) and their median
    national percentiles (England: 10% and the 50th percentile by definition, so not shown)."""
    share = area_table(dom, area, [borough], "share_decile1", scale=100)
    pos = area_table(dom, area, [borough], "median_pct")
    out = share.rename(columns={area: f"{area}: % most deprived 10%",
                                borough: f"{borough}: %"})
    out[f"{area}: median percentile"] = pos[area].to_numpy()
    out[f"{borough}: median percentile"] = pos[borough].to_numpy()
    return out


# --------------------------------------------------------------------------- shared tables

#: Every table ``tables`` can return, in the area profile's order: residents and households,
#: IMD and domains, sub-domains, what drives the score, Census shares, MSOA context, CNI,
#: rurality (``population``, ``domain_table`` twice, ``drivers``, ``census_table``,
#: ``msoa_context``, ``cni_table``, ``rurality``).
PARTS: tuple[str, ...] = ("pop", "dom", "sub", "drv", "cen", "msoa", "cni", "rur")
#: What a memoised table labels an area by (before ``tables`` puts its name there).
SLUG_PREFIX = "slug:"


def tables(area_set, release: int = 2025, slugs: Iterable[str] | None = None,
           combined: str | None = None, england: bool = True, parts: Iterable[str] = PARTS
           ) -> tuple[dict[str, pd.DataFrame | None], dict[str, pd.DataFrame]]:
    """(sets, {part: table}) as ``area_sets`` and each of ``parts`` give them for IoD
    ``release`` (2021 LSOAs), labelled by the areas' current display names: the chosen
    areas (default all), the ``combined`` set, the district, England (when ``england``).
    Computed once per membership, district, release and parts (``table_cache.memo``)."""
    chosen = tuple(slugs) if slugs is not None else tuple(area_set.slugs)
    names = {SLUG_PREFIX + s: area_set.get(s).name for s in chosen}
    sets, out = _tables_by_slug(area_set, int(release), chosen, combined, england, tuple(parts))
    return ({names.get(k, k): v for k, v in sets.items()},
            {k: with_names(t, names) for k, t in out.items()})


def with_names(table: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """``table`` with slug labels replaced by display names (``names``: label -> name) in its
    ``area`` column and its column labels."""
    t = table.rename(columns=dict(names))
    if "area" in t.columns:
        t["area"] = [names.get(a, a) for a in t["area"]]
    return t


@table_cache.memo  # no names: keyed by the areas' membership, district, release and parts
def _tables_by_slug(area_set, release: int, slugs: tuple[str, ...], combined: str | None,
                    england: bool, parts: tuple[str, ...]
                    ) -> tuple[dict[str, pd.DataFrame | None], dict[str, pd.DataFrame]]:
    """``tables`` with each area labelled ``SLUG_PREFIX`` + slug."""
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"unknown profile tables {unknown}; choose from {list(PARTS)}")
    store = iod.load(releases=[release], measures=["imd", *DOMAINS, *SUBDOMAINS])
    sets = area_sets(area_set, members(area_set, 2021), store, slugs=slugs, england=england,
                     combined=combined, labels={s: SLUG_PREFIX + s for s in slugs})
    make = {
        "pop": lambda: population(sets),
        "dom": lambda: domain_table(store, sets, release=release),
        "sub": lambda: domain_table(store, sets, release=release, measures=SUBDOMAINS),
        "drv": lambda: drivers(store, sets, release=release),
        "cen": lambda: census_table(sets),
        "msoa": lambda: msoa_context(sets),
        "cni": lambda: cni_table(sets),
        "rur": lambda: rurality(sets),
    }
    return sets, {p: make[p]() for p in parts}
