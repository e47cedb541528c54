"""Risk factors (issue 5): what went with a deprived neighbourhood improving, tested on all of
England, and each target area scored. Storage and orchestration.

``prepare`` builds the England-wide outputs in ``data/processed/risk_*.parquet`` (analysis
table, odds ratios, cross-validation, predictions, verdicts, domain outcomes, scaling);
``area_results`` returns the per-area scores and vulnerability profile for any areas file
from a cache keyed by the file's content (``data/processed/risk_areas/<hash>/``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from evidence_pack import config
from evidence_pack.analysis import areas
from evidence_pack.analysis.risk_areas import (
    AREA_CACHE_DIR,
    ENGLAND_KEY,
    VALUE_RELEASES,
    england_values,
    score_areas,
    vulnerability,
)
from evidence_pack.analysis.risk_inputs import build_all
from evidence_pack.analysis.risk_spec import OUTCOME_RELEASES
from evidence_pack.sources import catalogue, journey_times, table_cache
from evidence_pack.sources.freshness import is_fresh
from evidence_pack.sources.io import DataError, write_parquet
from evidence_pack.stores import iod

OUT_FILES = {k: config.PROCESSED_DIR / f"risk_{k}.parquet" for k in
             ("table", "odds", "cv", "predictions", "verdicts", "domains", "scaling")}
#: Frames ``area_results`` returns: scores for each outcome release, and the vulnerability.
AREA_FRAMES: tuple[str, ...] = tuple(f"{part}_{r}" for r in OUTCOME_RELEASES
                                     for part in ("lsoas", "areas", "factors")) + (
                                         "vulnerability",)
_HERE = Path(__file__)
CODE_FILES: tuple[Path, ...] = tuple(_HERE.with_name(f"{m}.py") for m in (
    "risk", "risk_spec", "risk_model", "risk_inputs"))
AREA_CODE_FILES: tuple[Path, ...] = tuple(_HERE.with_name(f"{m}.py") for m in (
    "risk_areas", "areas"))


def _inputs() -> list[Path]:
    return [iod.IOD_FILE, iod.INDICATORS_FILE, config.PROCESSED_DIR / "census21_lsoa.parquet",
            config.PROCESSED_DIR / "census21_msoa.parquet",
            catalogue.entry("regionalgrossdomesticproductgdpallitlregions").raw_path(),
            catalogue.entry(journey_times.DATASET_ID).raw_path(), *CODE_FILES]


def prepare(force: bool = False) -> list[Path]:
    """Build ``risk_*.parquet`` in data/processed/ (skipped when newer than the inputs), the
    England-wide values of the vulnerability measures (``risk_areas.england_values``), then
    the area results of the default areas file."""
    outputs = list(OUT_FILES.values())
    if force or not is_fresh(outputs, _inputs()):
        t0 = time.perf_counter()
        out = build_all()
        for key, path in OUT_FILES.items():
            write_parquet(out[key], path)
        t = out["table"]
        print(f"  risk: cohort {int(t['cohort10'].sum()):,} (10%) / {len(t):,} (20%) LSOAs, "
              f"{time.perf_counter() - t0:.1f} s")
    if force:
        for f in (AREA_CACHE_DIR / ENGLAND_KEY).glob("*.parquet"):
            f.unlink()
    for release in VALUE_RELEASES:  # England-wide, whatever the areas: read by every new set
        england_values(release)
    area_results(config.DEFAULT_AREAS_FILE)
    return outputs


def load(name: str) -> pd.DataFrame:
    """One risk output by key (table, odds, cv, predictions, verdicts, domains, scaling),
    read once per kernel (shared frame: copy before modifying)."""
    if name not in OUT_FILES:
        raise KeyError(f"unknown risk output {name!r}; choose from {list(OUT_FILES)}")
    path = OUT_FILES[name]
    if not path.exists():
        raise FileNotFoundError(f"{path} not built: run `evidence-pack prepare risk`")
    return table_cache.read_parquet(path)


def load_all() -> dict[str, pd.DataFrame]:
    """Every England-wide output by key."""
    return {k: load(k) for k in OUT_FILES}


def _compute_area_results(aset: areas.AreaSet, cohort: int, k_similar: int
                          ) -> dict[str, pd.DataFrame]:
    members11, members21 = areas.members(aset, 2011), areas.members(aset, 2021)
    outputs = load_all()
    out: dict[str, pd.DataFrame] = {}
    for r in OUTCOME_RELEASES:
        sc = score_areas(members11, release=r, cohort=cohort, k_similar=k_similar,
                         outputs=outputs)
        for part, frame in sc.items():
            out[f"{part}_{r}"] = frame
    out["vulnerability"] = vulnerability({2019: members11, 2025: members21})
    return out


def _named(frames: dict[str, pd.DataFrame], aset: areas.AreaSet) -> dict[str, pd.DataFrame]:
    """``frames`` with each area's name (column ``name`` after ``slug``) from ``aset``: the
    cached frames hold none, so a renamed area reuses them."""
    names = aset.names()
    out = {}
    for key, frame in frames.items():
        if "name" in frame.columns:
            frame = frame.assign(name=frame["slug"].map(names).fillna(""))
        out[key] = frame
    return out


def area_results(areas_file: str | Path = config.DEFAULT_AREAS_FILE, cohort: int = 10,
                 k_similar: int = 50) -> dict[str, pd.DataFrame]:
    """Scores of every area of ``areas_file`` for each outcome release (``lsoas_<r>``,
    ``areas_<r>``, ``factors_<r>``: see ``score_areas``) and the vulnerability profile, from
    ``data/processed/risk_areas/<key>/`` (the default cohort and ``k_similar``; key: the areas'
    membership, ``AreaSet.membership_key``; names joined on reading), computed once per
    membership and reused. Other settings are computed on the spot."""
    path = Path(areas_file)
    path = path if path.is_absolute() else config.ROOT / path
    if not path.exists():
        raise DataError(path, "areas file not found")
    aset = areas.load_areas(path)
    bare = aset.members_only()  # computed without names: they are joined after
    if (cohort, k_similar) != (10, 50):
        return _named(_compute_area_results(bare, cohort, k_similar), aset)
    inputs = [*OUT_FILES.values(), iod.INDICATORS_FILE, iod.IOD_FILE, iod.POPULATION_FILE,
              *AREA_CODE_FILES]
    return _named(table_cache.frames_for(
        AREA_CACHE_DIR, path, AREA_FRAMES, lambda: _compute_area_results(bare, cohort, k_similar),
        inputs, key=aset.membership_key()), aset)
