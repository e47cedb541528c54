"""Benchmark the evaluation: matching and difference-in-differences for all target areas.

On the real store when it is built (data/processed), otherwise on a synthetic England of
32,482 LSOAs with 24 treated LSOAs in 11 areas. Prints seconds per step (target: matching +
estimates for all areas under 30 s).
"""

import time

import numpy as np
import pandas as pd
from evidence_pack import config
from evidence_pack.analysis import evaluation as ev


def real():
    from evidence_pack.analysis import areas

    t = time.perf_counter()
    iod = pd.read_parquet(config.PROCESSED_DIR / "iod_lsoa.parquet",
                          columns=["release", "lsoa_code", "lsoa_vintage", "lad_code", "lad_name",
                                   "measure", "score", "rank"])
    geo = pd.read_parquet(config.PROCESSED_DIR / "lsoa_geography.parquet",
                          columns=["lsoa_code", "lsoa_vintage", "region_name", "ruc"])
    area_set = areas.load_areas()
    mem = areas.members(area_set, 2001)
    print(f"read store and areas: {time.perf_counter() - t:.2f} s")
    t = time.perf_counter()
    panel = ev.build_panel(iod)
    attrs = ev.unit_attributes(geo, iod[(iod["release"] == 2010) & (iod["measure"] == "imd")])
    units = panel.join(attrs).join(ev.covariates(panel)[["imd_trend_2004_2010"]])
    print(f"panel on LSOA 2001 ({len(panel):,} LSOAs, {panel.shape[1]} columns, later releases "
          f"carried back): {time.perf_counter() - t:.2f} s")
    groups = mem.drop_duplicates("lsoa_code").set_index("lsoa_code")["slug"]
    return units, panel, groups, area_set.la_code


def synthetic():
    rng = np.random.default_rng(0)
    n = 32_482
    latent = rng.uniform(0, 100, n)
    idx = pd.Index([f"E{i:08d}" for i in range(n)], name="lsoa_code")
    panel = pd.DataFrame(index=idx)
    for rel in ev.RELEASES:
        for m in ev.MEASURES:
            panel[ev.col(m, rel)] = np.clip(latent + rng.normal(0, 6, n), 0, 100)
    units = panel.assign(lad_code=[f"L{i % 300:03d}" for i in range(n)],
                         ruc=np.where(rng.random(n) < 0.8, "urban", "rural"))
    units = units.join(ev.covariates(panel)[["imd_trend_2004_2010"]])
    treated = units.index[np.argsort(latent)[:24]]
    units.loc[treated, "lad_code"] = "T"
    groups = pd.Series([f"area{i % 11}" for i in range(24)], index=treated)
    return units, panel, groups, "T"


def main():
    t0 = time.perf_counter()
    built = all((config.PROCESSED_DIR / f).exists() for f in
                ("iod_lsoa.parquet", "lsoa_geography.parquet", "lookup_lsoa01_lsoa11.parquet"))
    units, panel, groups, lad = real() if built else synthetic()
    print("data:", "real store" if built else "synthetic England")
    t = time.perf_counter()
    matches = ev.match(units, list(groups.index), lad)
    t_match = time.perf_counter() - t
    bal = ev.balance(units, matches, list(ev.MatchSpec().weights), lad)
    t = time.perf_counter()
    est = ev.did_by_area(panel, matches, groups, n_boot=999)
    t_did = time.perf_counter() - t
    print(f"matching {len(groups)} target LSOAs -> {len(matches)} pairs "
          f"({matches['control'].nunique()} comparators): {t_match:.2f} s")
    print(f"balance: max |SMD| before {bal['smd_before'].abs().max():.2f}, "
          f"after {bal['smd_after'].abs().max():.2f}")
    print(f"DiD with 999 bootstrap draws, {est['group'].nunique()} groups x "
          f"{est['measure'].nunique()} measures x {est['release'].nunique()} releases "
          f"({len(est)} estimates): {t_did:.2f} s")
    print(f"matching + estimates: {t_match + t_did:.2f} s (target < 30 s); "
          f"total with panel: {time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
