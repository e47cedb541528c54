"""Evaluation (issue 7): did a district's target areas do better than similar places?

Orchestration and storage. ``run`` computes every frame the notebook shows for one areas file
(panel -> matching -> difference-in-differences -> context -> monitoring); ``prepare`` writes
the England-wide inputs (``england_inputs``) and the frames for the default areas file;
``load`` returns them for any areas file from a cache keyed by its areas' membership
(``data/processed/evaluation/<key>/``), computing them once on first use. This is an
observational comparison, not an experiment (docs/caveats/evaluation.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import areas
from evidence_pack.analysis.evaluation_did import context_changes, did, did_by_area, trajectories
from evidence_pack.analysis.evaluation_match import MatchSpec, balance_by_group, match
from evidence_pack.analysis.evaluation_monitoring import (
    england_positions,
    england_stats,
    monitoring,
    rate_indicators,
)
from evidence_pack.analysis.evaluation_panel import (
    BASE,
    CONTEXT_DISTRICT_D1,
    CONTEXT_REGION_D1,
    CONTEXT_REST,
    SENSITIVITY_OUTSIDE_REGION,
    UNIT_VINTAGE,
    build_panel,
    col,
    covariates,
    unit_attributes,
)
from evidence_pack.sources import table_cache
from evidence_pack.sources.io import DataError


def _processed(name: str) -> Path:
    return config.PROCESSED_DIR / name


def _read(name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A processed table, read once per kernel (the copy may be shared: do not modify)."""
    path = _processed(name)
    if not path.exists():
        raise DataError(path, "not built yet: run `evidence-pack prepare` (stage iod)")
    return table_cache.read_parquet(path, columns)


def run(areas_file: str | Path | areas.AreaSet = config.DEFAULT_AREAS_FILE,
        spec: MatchSpec | None = None, n_boot: int = 999, seed: int = 20110
        ) -> dict[str, pd.DataFrame]:
    """Everything the notebook shows, computed from the processed store for an areas file
    (or its parsed set). Reads only the areas' membership (district code, slugs, LSOAs):
    no frame carries a name.

    Returns frames: units (panel + attributes + group flags for the LSOAs used), matches,
    balance, did, context, trajectories, monitoring.
    """

    spec = spec or MatchSpec()
    area_set = (areas_file if isinstance(areas_file, areas.AreaSet)
                else areas.load_areas(_resolve(areas_file)))
    england = england_inputs()
    panel, units = england["panel"], england["units"]

    mem01 = areas.members(area_set, 2001)
    groups = (mem01.drop_duplicates("lsoa_code").set_index("lsoa_code")["slug"])
    groups.index = groups.index.astype(str)
    lad = area_set.la_code
    matches = match(units, list(groups.index), lad, spec)
    variables = list(spec.weights)
    bal = balance_by_group(units, matches, groups, variables, lad)
    est = did_by_area(panel, matches, groups, n_boot=n_boot, seed=seed)

    region = units.loc[groups.index, "region_name"].mode().iloc[0]
    in_lad = units["lad_code"] == lad
    # sensitivity: comparators from outside the region only (no spill-over from neighbours)
    region_lads = set(units.loc[units["region_name"] == region, "lad_code"])
    far = match(units, list(groups.index), region_lads, spec)
    est = pd.concat([est, did(panel, far, groups, n_boot=n_boot, seed=seed, cluster="area",
                              group_name=SENSITIVITY_OUTSIDE_REGION)], ignore_index=True)
    d1 = units[col("imd", BASE)] <= 10.0
    context = {
        CONTEXT_REST: units.index[in_lad & ~units.index.isin(groups.index)],
        CONTEXT_DISTRICT_D1: units.index[in_lad & d1 & ~units.index.isin(groups.index)],
        CONTEXT_REGION_D1: units.index[(units["region_name"] == region) & d1 & ~in_lad],
    }
    ctx = context_changes(panel, context, n_boot=n_boot, seed=seed)
    ctx["region_name"] = region
    named = {"all": list(groups.index), **{str(s): list(g.index) for s, g in
                                              groups.groupby(groups)}}
    traj = pd.concat([trajectories(panel, named, matches), trajectories(panel, context)],
                     ignore_index=True)

    mons = monitoring(None, {2019: areas.members(area_set, 2011),
                             2025: areas.members(area_set, 2021)}, None,
                      england=england["monitoring"])

    used = set(groups.index) | set(matches["control"]) | set().union(*map(set, context.values()))
    flags = pd.DataFrame(index=units.index)
    flags["area_slug"] = groups.reindex(units.index)
    flags["comparator"] = units.index.isin(matches["control"])
    for name, codes in context.items():
        flags[name] = units.index.isin(codes)
    out_units = units.join(flags).loc[sorted(used)].reset_index()
    return {"units": out_units, "matches": matches.assign(area_slug=matches["treated"].map(groups)),
            "balance": bal, "did": est, "context": ctx, "trajectories": traj,
            "monitoring": mons}


def england_inputs() -> dict[str, object]:
    """What ``run`` reads that does not depend on the areas: ``panel`` (England percentile of
    every LSOA 2001 by measure and release), ``units`` (panel, region, rural-urban class and
    2004-2010 trend) and ``monitoring`` (``england_positions`` of the IoD 2019 and 2025
    indicators and their rates, ``rate_indicators``, against England).

    Computed by ``prepare`` (about 3 s) into ``data/processed/evaluation/england/`` and read
    from there (about 0.2 s), so a never-seen membership computes only its own part; computed
    there on first use when missing or older than an input or the code."""
    frames = table_cache.frames_for(CACHE_DIR, _processed("iod_lsoa.parquet"), ENGLAND_FRAMES,
                                    _england_frames, _inputs(ENGLAND_CODE_FILES),
                                    key=ENGLAND_KEY)
    return _england_from_frames(frames)


def compute_england_inputs() -> dict[str, object]:
    """``england_inputs`` computed from the processed store (no cache)."""
    iod = _read("iod_lsoa.parquet", columns=["release", "lsoa_code", "lsoa_vintage", "lad_code",
                                              "lad_name", "measure", "score", "rank"])
    geo = _read("lsoa_geography.parquet", columns=["lsoa_code", "lsoa_vintage", "region_name",
                                                    "ruc"])
    panel = build_panel(iod)
    expected = config.ENGLAND_LSOAS[UNIT_VINTAGE]
    if len(panel) != expected:
        raise DataError("iod_lsoa.parquet", f"{len(panel)} LSOAs 2001 in the panel, England "
                        f"had {expected}")
    attrs = unit_attributes(geo, iod[(iod["release"] == BASE) & (iod["measure"] == "imd")])
    units = panel.join(attrs).join(covariates(panel)[["imd_trend_2004_2010"]])
    pop_path = _processed("lsoa_population.parquet")
    pop = table_cache.read_parquet(pop_path) if pop_path.exists() else None
    ind = _read("iod_indicators.parquet")
    ind = pd.concat([ind, rate_indicators(ind, iod, pop)], ignore_index=True)
    imd_rank = {r: iod[(iod["release"] == r) & (iod["measure"] == "imd")]
                .drop_duplicates("lsoa_code").set_index("lsoa_code")["rank"]
                for r in MONITORED}
    return {"panel": panel, "units": units,
            "monitoring": england_positions(ind, imd_rank, MONITORED)}


def _england_frames() -> dict[str, pd.DataFrame]:
    """``compute_england_inputs`` as flat frames (one parquet file each): the LSOA code as a
    column, and each release's polarities beside its wide indicator table."""
    england = compute_england_inputs()
    out = {"panel": england["panel"].rename_axis("lsoa_code").reset_index(),
           "units": england["units"].rename_axis("lsoa_code").reset_index()}
    for rel, pos in england["monitoring"].items():
        out[f"monitoring_{rel}"] = pos["wide"].rename_axis("lsoa_code").reset_index()
        out[f"polarity_{rel}"] = pd.DataFrame(
            {"indicator": [str(k) for k in pos["stats"]],
             "polarity": [int(v[0]) for v in pos["stats"].values()]})
    return out


def _by_code(frame: pd.DataFrame, name: str | None, dtype: str | None) -> pd.DataFrame:
    """``frame`` indexed by its ``lsoa_code`` column, with the index's name and dtype as
    computed (``object`` for the panel's; inferred, so ``str``, for the monitoring tables')."""
    out = frame.set_index("lsoa_code")
    out.index = pd.Index(out.index.to_numpy(dtype=object), dtype=dtype, name=name)
    return out


def _england_from_frames(frames: Mapping[str, pd.DataFrame]) -> dict[str, object]:
    monitoring = {}
    for rel in MONITORED:
        wide = (_by_code(frames[f"monitoring_{rel}"], None, None)
                .rename_axis(columns="indicator"))
        pol = frames[f"polarity_{rel}"]
        monitoring[rel] = england_stats(wide, dict(zip(pol["indicator"], pol["polarity"],
                                                       strict=True)))
    return {"panel": _by_code(frames["panel"], "lsoa_code", "object"),
            "units": _by_code(frames["units"], "lsoa_code", "object"), "monitoring": monitoring}


#: Every frame ``run`` returns (one parquet file each in the cache folder).
FRAMES: tuple[str, ...] = ("units", "matches", "balance", "did", "context", "trajectories",
                           "monitoring")
#: Where per-areas-file results live: ``<CACHE_DIR>/<the areas' membership key>/``.
CACHE_DIR = config.PROCESSED_DIR / "evaluation"
#: The folder (in ``CACHE_DIR``) of ``england_inputs``, the same for every areas file.
ENGLAND_KEY = "england"
#: The IoD releases whose indicators the monitoring table compares.
MONITORED: tuple[int, int] = (2019, 2025)
#: ``england_inputs`` as flat frames (one parquet file each).
ENGLAND_FRAMES: tuple[str, ...] = ("panel", "units", *(f"{part}_{r}" for r in MONITORED
                                                         for part in ("monitoring", "polarity")))
#: The code that computes the frames: changing it recomputes them (shared freshness rule).
CODE_FILES: tuple[Path, ...] = tuple(Path(__file__).with_name(f"{m}.py") for m in (
    "evaluation", "evaluation_panel", "evaluation_match", "evaluation_did",
    "evaluation_monitoring", "areas"))
#: The code of ``england_inputs``: the areas' parser is not part of it, so a change there
#: recomputes every membership's frames but not England's (about 3 s).
ENGLAND_CODE_FILES: tuple[Path, ...] = tuple(f for f in CODE_FILES if f.stem != "areas")


def _inputs(code: tuple[Path, ...] = CODE_FILES) -> list[Path]:
    return [_processed(n) for n in ("iod_lsoa.parquet", "lookup_lsoa01_lsoa11.parquet",
                                    "lookup_lsoa11_lsoa21.parquet", "lsoa_geography.parquet",
                                    "iod_indicators.parquet", "lsoa_population.parquet")
            ] + list(code)


def _resolve(areas_file: str | Path) -> Path:
    path = Path(areas_file)
    return path if path.is_absolute() else config.ROOT / path


def load(areas_file: str | Path = config.DEFAULT_AREAS_FILE) -> dict[str, pd.DataFrame]:
    """The evaluation frames for ``areas_file``, from ``data/processed/evaluation/<key>/``
    (``AreaSet.membership_key``: the district and every area's LSOAs, not names, so a renamed
    area or a new lead officer reuses them). Computed once (``run``, matching and 999
    bootstrap draws: several seconds) the first time a membership is seen or when an input or
    the code changed, then reused by every later report, in this process and others."""
    path = _resolve(areas_file)
    if not path.exists():
        raise DataError(path, "areas file not found")
    aset = areas.load_areas(path)
    return table_cache.frames_for(CACHE_DIR, path, FRAMES, lambda: run(aset.members_only()),
                                  _inputs(), key=aset.membership_key())


def prepare(force: bool = False) -> list[Path]:
    """Stage "evaluation": the England-wide inputs in ``data/processed/evaluation/england/``,
    then the frames for the default areas file in ``data/processed/evaluation/<hash>/`` (each
    skipped when fresh, unless ``force``)."""
    path = config.DEFAULT_AREAS_FILE
    folders = [CACHE_DIR / ENGLAND_KEY, CACHE_DIR / areas.load_areas(path).membership_key()]
    if force:
        for f in (f for folder in folders for f in folder.glob("*.parquet")):
            f.unlink()
    england_inputs()
    load(path)
    return sorted(f for folder in folders for f in folder.glob("*.parquet"))
