"""Benchmark of the national batch (``build --districts``) on a Dask LocalCluster.

For N districts (``--districts N`` of a fixed, varied sample; default 5) it builds every
district's borough reports (all notebooks, HTML, cache ignored) on a LocalCluster of 1 worker
and then of 2 workers, and prints, with the 1-minute load average beside each figure (the
machine is shared):

- cluster start time, batch wall time, reports per minute, failures;
- per-task cost: mean worker seconds per report (execute + render), by notebook;
- the speed-up of 2 workers over 1 and the peak memory of a worker with its kernel;
- projections for England's 296 districts: on this machine (2 workers, the measured wall time
  per report) and on 32 workers (mean task cost / 32, as if each worker had a core like one
  here, plus the measured start-up).

Reports go to a temporary folder; the real ``reports/`` is not touched (drafted areas files
for the runs are written under ``build/national/areas``).
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

from evidence_pack.publish import build, national, national_worker  # noqa: E402

#: A varied sample: unitary, shire district, metropolitan, London borough, one with no
#: neighbourhood in the most deprived 10% (no areas: borough only), a coastal town.
SAMPLE = ("E06000001", "E07000117", "E08000019", "E09000012", "E06000041", "E07000029",
          "E06000009", "E08000018")
ENGLAND = 296


def load() -> str:
    return f"[load {os.getloadavg()[0]:.1f}]"


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
                                      manifest_path=out / "manifest.json", progress=False)
        wall = time.perf_counter() - t1
        client.run(national_worker.stop_kernel)
    return {"workers": workers, "start": start, "wall": wall, "rep": rep, "load": load()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--districts", type=int, default=5, help=f"how many of {SAMPLE}")
    ap.add_argument("--codes", help="comma-separated district codes instead of the sample")
    ap.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    ap.add_argument("--notebooks", action="append", help="notebook name(s) (default: all)")
    args = ap.parse_args()
    codes = args.codes.split(",") if args.codes else list(SAMPLE[:args.districts])
    n_nb = len(build.load_specs(ROOT / "notebooks", args.notebooks))
    print(f"bench_national: {len(codes)} districts ({', '.join(codes)}), borough reports, "
          f"{n_nb} notebooks, HTML, cache ignored {load()}")
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        for w in [int(x) for x in args.workers.split(",")]:
            r = run(codes, w, args.notebooks, Path(tmp) / f"w{w}")
            rep = r["rep"]
            n = rep.ran
            runs.append(r)
            print(f"  {w} worker(s): cluster start {r['start']:.1f} s, batch {r['wall']:.1f} s for "
                  f"{n} reports ({60 * n / r['wall']:.1f} reports/min), {len(rep.failures)} "
                  f"failed {r['load']}")
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
    print(f"  per-task cost (worker seconds, execute + render): mean {mean_task:.1f} s; "
          + ", ".join(f"{k} {statistics.mean(v):.1f}" for k, v in sorted(per_nb.items())))
    print(f"  peak worker memory with its kernel: "
          f"{max(res.get('worker_mb', 0) for res in results):.0f} MB")
    def built(r: dict) -> int:  # failed reports are quick: count only the built ones
        return max(r["rep"].ran - len(r["rep"].failures), 1)

    best = min(runs, key=lambda r: r["wall"] / built(r))
    if len(runs) > 1:
        print(f"  speed-up {runs[-1]['workers']} workers over {base['workers']}: "
              f"{base['wall'] / runs[-1]['wall']:.2f}x")
    per_report_wall = best["wall"] / built(best)
    tasks = ENGLAND * n_nb
    here = tasks * per_report_wall + best["start"]
    cluster32 = tasks * mean_task / 32 + best["start"]
    print(f"  projection, {ENGLAND} districts x {n_nb} borough reports = {tasks} reports: this "
          f"machine ({best['workers']} workers, {per_report_wall:.1f} s wall per report) "
          f"{here / 60:.0f} min; 32 workers ({mean_task:.1f} s per report each) "
          f"{cluster32 / 60:.1f} min {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
