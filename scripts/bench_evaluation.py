"""Benchmark the evaluation: matching and difference-in-differences for all target areas, and
the notebook's execution time per report.

On the real store when it is built (data/processed), otherwise on a synthetic England of
32,482 LSOAs with 24 treated LSOAs in 11 areas. Prints seconds per step (target: matching +
estimates for all areas under 30 s).

``--notebooks``: times ``notebooks/evaluation.ipynb`` for the borough and one area, (1) with
papermill, a fresh kernel per run (the plain way), and (2) run after run in one warm process,
as the build's warm kernels do (tables read once per kernel, results cached per areas file).
"""

import argparse
import contextlib
import io
import json
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from evidence_pack import config
from evidence_pack.analysis import evaluation_did as did
from evidence_pack.analysis import evaluation_match as mt
from evidence_pack.analysis import evaluation_panel as ev


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


def _code_cells(path: Path) -> tuple[str, list[str]]:
    """(parameters cell, other code cells) of a notebook."""
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    params = next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    return "".join(params["source"]), ["".join(c["source"]) for c in cells if c is not params]


def time_notebook(notebook: str, areas: list[str], rounds: int = 2,
                  notebooks_dir: Path | None = None) -> None:
    """Print seconds per run: papermill with a fresh kernel, then in one warm process."""
    import papermill as pm

    path = (notebooks_dir or config.NOTEBOOKS_DIR) / f"{notebook}.ipynb"
    out = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_{notebook}.ipynb"
    for area in areas:
        t = time.perf_counter()
        pm.execute_notebook(str(path), str(out), parameters={"area": area},
                            kernel_name=config.KERNEL_NAME, cwd=str(config.ROOT),
                            progress_bar=False, log_output=False)
        print(f"{notebook} {area}: papermill, fresh kernel {time.perf_counter() - t:.1f} s "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)
    params, cells = _code_cells(path)
    for r in range(rounds):
        for area in areas:
            ns: dict = {}
            t = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                exec(params, ns)  # noqa: S102  (the project's own notebook)
                ns["area"] = area
                for code in cells:
                    exec(code, ns)  # noqa: S102
            print(f"{notebook} {area}: one process, run {r + 1} "
                  f"{'(cold)' if r == 0 else '(warm)'} {time.perf_counter() - t:.1f} s "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notebooks", action="store_true", help="time the notebook per report")
    ap.add_argument("--area", default="canklow", help="the area run beside the borough")
    ap.add_argument("--notebooks-dir", type=Path, default=None)
    args = ap.parse_args()
    if args.notebooks:
        time_notebook("evaluation", ["borough", args.area], notebooks_dir=args.notebooks_dir)
        return
    t0 = time.perf_counter()
    built = all((config.PROCESSED_DIR / f).exists() for f in
                ("iod_lsoa.parquet", "lsoa_geography.parquet", "lookup_lsoa01_lsoa11.parquet"))
    units, panel, groups, lad = real() if built else synthetic()
    print("data:", "real store" if built else "synthetic England")
    t = time.perf_counter()
    matches = mt.match(units, list(groups.index), lad)
    t_match = time.perf_counter() - t
    bal = mt.balance(units, matches, list(mt.MatchSpec().weights), lad)
    t = time.perf_counter()
    est = did.did_by_area(panel, matches, groups, n_boot=999)
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
