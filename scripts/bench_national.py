"""Benchmark of the national batch (``build --districts``) on a Dask LocalCluster.

For N districts (``--districts N``, default 20, chosen deterministically across England's nine
regions: :func:`sample`) it builds every district's borough reports (all notebooks unless
``--notebooks``, HTML, cache ignored) on a LocalCluster of 1 worker and then of 2 workers
(``--workers``), and prints, with the 1-minute load average beside each figure (the machine
is shared, so timings are noisy):

- cluster start, planning (areas files, drafts, cache keys), batch wall time, reports per
  minute, failures;
- per-task cost: mean worker seconds per report and its phases (setup, execute with the
  kernel start on each worker's first task, HTML render, collecting the files), by notebook;
  the client's share (wall x workers - worker seconds: scheduling, transfer, writing);
- the speed-up of 2 workers over 1 and the peak memory of a worker with its kernel;
- projections for England's 296 districts: on this machine (the best run's wall time per
  report, plus planning per district and the start) and on 32 workers (mean task cost / 32,
  as if each worker had a core like one here).

A first check on a busy machine: ``--districts 4 --notebooks imd_trends``. Reports go to a
temporary folder with its own build folder; ``reports/`` and ``build/build.lock`` are not
touched (drafted areas files are written under ``build/national/areas``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from evidence_pack.analysis import national as national_analysis  # noqa: E402
from evidence_pack.publish import build, national, national_worker  # noqa: E402

ENGLAND = 296


def load() -> str:
    return f"[load {os.getloadavg()[0]:.1f}]"


def sample(n: int) -> list[str]:
    """``n`` district codes spread across the regions: regions take turns (in code order),
    each giving its districts evenly spaced through its code-sorted list; always the same."""
    d = national_analysis.england_districts().sort_values(["region_code", "lad_code"])
    regions = {r: list(g["lad_code"]) for r, g in d.groupby("region_code", sort=True)}
    quota = dict.fromkeys(regions, 0)
    for i in range(min(n, len(d))):
        quota[list(regions)[i % len(regions)]] += 1
    codes = []
    for r, q in quota.items():
        m = len(regions[r])
        codes += [regions[r][int((k + 0.5) * m / q)] for k in range(q)]
    return sorted(codes)[:n]


def run(codes: list[str], workers: int, notebooks: list[str] | None, out: Path) -> dict:
    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", memory_limit=national.WORKER_MEMORY) as cluster, \
            Client(cluster) as client:
        start = time.perf_counter() - t0
        t1 = time.perf_counter()
        rep = national.build_national(",".join(codes), only=["borough"], notebooks=notebooks,
                                      pdf=False, force=True, client=client, reports_dir=out,
                                      manifest_path=out / "manifest.json",
                                      build_dir=out / "build", progress=False)
        wall = time.perf_counter() - t1
        client.run(national_worker.stop_kernel)
    return {"workers": workers, "start": start, "wall": wall, "rep": rep, "load": load()}


def phases(results: list[dict]) -> str:
    """Mean seconds per phase over the built reports, first tasks of a worker apart."""
    first: dict[int, dict] = {}
    for res in results:
        first.setdefault(res["pid"], res)
    firsts = {id(r) for r in first.values()}
    rest = [r for r in results if id(r) not in firsts] or results
    keys = sorted({k for r in results for k in r.get("timings", {})})
    mean = {k: statistics.mean(r.get("timings", {}).get(k, 0.0) for r in rest) for k in keys}
    first_exec = statistics.mean(r.get("timings", {}).get("execute", 0.0) for r in first.values())
    return (", ".join(f"{k} {v:.2f}" for k, v in mean.items())
            + f" (a worker's first task: execute {first_exec:.1f}, with the kernel start)")


def steady_cost(results: list[dict]) -> tuple[float, float]:
    """(mean seconds of a task on a warm worker, extra seconds of a worker's first task)."""
    ok = [r for r in results if r.get("ok")]
    if not ok:
        return 0.0, 0.0
    first: dict[int, dict] = {}
    for r in ok:
        first.setdefault(r["pid"], r)
    warm = [r["seconds"] for r in ok if r is not first[r["pid"]]]
    steady = statistics.mean(warm) if warm else statistics.mean(r["seconds"] for r in ok)
    extra = max(0.0, statistics.mean(r["seconds"] for r in first.values()) - steady)
    return steady, extra


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--districts", type=int, default=20,
                    help="how many districts, spread across the regions (default 20)")
    ap.add_argument("--codes", help="comma-separated district codes instead of the sample")
    ap.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    ap.add_argument("--notebooks", action="append", help="notebook name(s) (default: all)")
    args = ap.parse_args()
    codes = args.codes.split(",") if args.codes else sample(args.districts)
    n_nb = len(build.load_specs(ROOT / "notebooks", args.notebooks))
    print(f"bench_national: {len(codes)} districts ({', '.join(codes)}), borough reports, "
          f"{n_nb} notebook(s), HTML, cache ignored, {os.cpu_count()} cores {load()}")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        for w in [int(x) for x in args.workers.split(",")]:
            r = run(codes, w, args.notebooks, Path(tmp) / f"w{w}")
            rep = r["rep"]
            runs.append(r)
            built = rep.ran - len(rep.failures)
            client_s = r["wall"] * w - sum(x["seconds"] for x in rep.results)
            print(f"  {w} worker(s): cluster start {r['start']:.1f} s, plan "
                  f"{rep.phases.get('plan', 0):.1f} s, run {rep.phases.get('run', 0):.1f} s, "
                  f"index {rep.phases.get('index', 0):.1f} s, batch {r['wall']:.1f} s for "
                  f"{rep.ran} reports ({60 * built / r['wall']:.1f} built/min), "
                  f"{len(rep.failures)} failed; idle/client share {client_s:.1f} worker-s "
                  f"{r['load']}")
            for k, v in rep.failures.items():
                print(f"    FAILED {k}: {v}")
    base = runs[0]
    results = [res for r in runs for res in r["rep"].results if res.get("ok")]
    if not results:
        print("no report built")
        return 1
    per_nb: dict[str, list[float]] = defaultdict(list)
    for res in results:
        per_nb[res["id"].split("/")[-1]].append(res["seconds"])
    mean_task = statistics.mean(res["seconds"] for res in results)
    print(f"  per-task cost (worker seconds): mean {mean_task:.1f} s; by notebook "
          + ", ".join(f"{k} {statistics.mean(v):.1f}" for k, v in sorted(per_nb.items())))
    print(f"  per-task phases (s): {phases(results)}")
    print(f"  peak worker memory with its kernel: "
          f"{max(res.get('worker_mb', 0) for res in results):.0f} MB")

    if len(runs) > 1:
        print(f"  speed-up {runs[-1]['workers']} workers over {base['workers']}: "
              f"{base['wall'] / runs[-1]['wall']:.2f}x (batch wall, kernel starts included)")
    # Projection from steady-state tasks: a worker's first task also starts its kernel, which
    # a short benchmark would otherwise spread over far too few reports.
    most = runs[-1]
    steady, extra = steady_cost(most["rep"].results)
    alone, _ = steady_cost(base["rep"].results)  # one worker: no other worker on the cores
    w = most["workers"]
    plan_per_district = most["rep"].phases.get("plan", 0.0) / len(codes)
    tasks = ENGLAND * n_nb
    fixed = most["start"] + ENGLAND * plan_per_district + most["rep"].phases.get("index", 0.0)
    here = fixed + extra + -(-tasks // w) * steady
    cluster32 = fixed + extra + -(-tasks // 32) * alone
    print(f"  steady task {steady:.1f} s with {w} worker(s) busy ({alone:.1f} s alone), "
          f"kernel start +{extra:.1f} s once per worker, plan {plan_per_district:.2f} s per "
          f"district (drafts cached), start + index {fixed - ENGLAND * plan_per_district:.1f} s")
    print(f"  projection, {ENGLAND} districts x {n_nb} borough report(s) = {tasks} reports: "
          f"this machine ({w} worker(s)) {here / 60:.0f} min; 32 workers of one such core "
          f"each {cluster32 / 60:.1f} min {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
