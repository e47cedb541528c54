"""Benchmark of ``evidence-pack build`` on the Rotherham pack (borough + 11 areas, all notebooks).

Prints, in one run:

1. cold full build: every notebook for every area, HTML and PDF, empty cache;
2. warm rebuild with nothing changed (target < 5 s, interpreter start-up included);
3. rebuild after one area's definition changed (one LSOA dropped from an area);
4. the naive way: the ``papermill`` command line in a sequential loop, no cache, no rendering
   (target: the cold build at least 2x faster).

Everything is written under a temporary folder holding a snapshot of the code, notebooks and
processed data (the real ``reports/`` and ``build/`` are not touched); the areas file is a copy of ``data/areas/rotherham.yml`` so that step 3 can edit
it. Steps 1-3 run ``evidence-pack build`` in a fresh interpreter each, like a user would.
``--notebooks`` / ``--areas N`` / ``--skip-naive`` shorten a run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from evidence_pack import config  # noqa: E402
from evidence_pack.publish import build  # noqa: E402

BUILD_SNIPPET = """
import sys
from pathlib import Path
from evidence_pack.publish import build  # noqa: E402
rep = build.build(areas_file=Path(sys.argv[1]), reports_dir=Path(sys.argv[2]),
                  build_dir=Path(sys.argv[3]), jobs=int(sys.argv[4]),
                  notebooks=sys.argv[5].split(",") if sys.argv[5] else None,
                  only=sys.argv[6].split(",") if sys.argv[6] else None, progress=False)
print(f"RESULT ran={rep.ran} skipped={rep.skipped} failed={len(rep.failures)}")
for k, v in rep.failures.items():
    print("FAILED", k, v)
"""


def load() -> str:
    """The 1-minute load average: the machine is shared, so say how busy it was."""
    return f"[load {os.getloadavg()[0]:.1f}]"


def snapshot(work: Path) -> None:
    """Freeze code, notebooks and processed data under ``work/root`` (raw data linked), so
    edits made to the working tree while the benchmark runs do not change its cache keys."""
    root = work / "root"
    for sub in ("lib", "notebooks", "docs"):
        shutil.copytree(ROOT / sub, root / sub, ignore=shutil.ignore_patterns(
            "__pycache__", ".ipynb_checkpoints", "*.egg-info"))
    (root / "data").mkdir(parents=True)
    for sub in (config.ROOT / "data").iterdir():
        if sub.name == "processed":  # copied: others may rebuild it while the bench runs
            shutil.copytree(sub, root / "data" / sub.name)
        else:  # raw files are checksummed and not rewritten
            (root / "data" / sub.name).symlink_to(sub.resolve())
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    ENV.update(EVIDENCE_PACK_ROOT=str(root),
               PYTHONPATH=os.pathsep.join([str(root / "lib"), os.environ.get("PYTHONPATH", "")]))


ENV: dict[str, str] = dict(os.environ)


def timed_build(work: Path, areas_file: Path, jobs: int, notebooks: list[str],
                only: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", BUILD_SNIPPET, str(areas_file), str(work / "reports"),
         str(work / "build"), str(jobs), ",".join(notebooks), ",".join(only)],
        capture_output=True, text=True, cwd=ENV.get("EVIDENCE_PACK_ROOT", ROOT), env=ENV)
    seconds = time.perf_counter() - t0
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("RESULT", "FAILED"))]
    if done.returncode != 0:
        lines.append(done.stderr[-2000:])
    return seconds, "; ".join(lines)


def naive_loop(work: Path, areas_file: Path, specs: list[build.ReportSpec],
               targets: list[str]) -> tuple[float, int]:
    """`papermill` CLI, one process per run, sequential, no cache, no rendering."""
    papermill = shutil.which("papermill", path=str(Path(sys.executable).parent)) or "papermill"
    out = work / "naive"
    out.mkdir(parents=True, exist_ok=True)
    failures = runs = 0
    t0 = time.perf_counter()
    for spec in specs:
        params = work / f"{spec.name}.params.yml"
        params.write_text(yaml.safe_dump(spec.parameters))
        for area in targets:
            if (area == build.BOROUGH and spec.scope == "areas") or (
                    area != build.BOROUGH and spec.scope == "borough"):
                continue
            done = subprocess.run(
                [papermill, str(spec.path),
                 str(out / f"{area}__{spec.name}.ipynb"),
                 "-k", config.KERNEL_NAME, "--cwd", ENV["EVIDENCE_PACK_ROOT"], "-f", str(params),
                 "-p", "area", area, "-p", "areas_file", str(areas_file), "--no-progress-bar"],
                capture_output=True, text=True, cwd=ENV["EVIDENCE_PACK_ROOT"], env=ENV)
            failures += done.returncode != 0
            runs += 1
            print(f"    naive run {runs}: {spec.name} {area} rc={done.returncode} "
                  f"({time.perf_counter() - t0:.0f} s so far)", flush=True)
    return time.perf_counter() - t0, failures


def change_one_area(areas_file: Path) -> str:
    doc = yaml.safe_load(areas_file.read_text())
    for a in doc["areas"]:
        if len(a.get("lsoas") or []) >= 2:
            dropped = a["lsoas"].pop()
            areas_file.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
            return f"{a['slug']} without {dropped}"
    raise SystemExit("no area with two or more LSOAs to edit")


def main() -> int:
    import functools

    global print
    print = functools.partial(print, flush=True)  # noqa: A001 - progress shows as it happens
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--notebooks", action="append", help="notebook name(s) (default: all)")
    ap.add_argument("--areas", type=int, default=None, help="only the first N areas (+ borough)")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_build_"))
    snapshot(work)
    specs = build.load_specs(work / "root" / "notebooks", args.notebooks)
    if not specs:
        print("bench_build: no notebooks in notebooks/: nothing to benchmark")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    _, areas, _ = build.load_areas(config.DEFAULT_AREAS_FILE)
    chosen = areas[: args.areas] if args.areas else areas
    targets = [build.BOROUGH, *(a.slug for a in chosen)]
    only = targets if args.areas else []
    names = [s.name for s in specs]
    n_runs = sum(1 for s in specs for t in targets
                 if not ((t == build.BOROUGH and s.scope == "areas")
                         or (t != build.BOROUGH and s.scope == "borough")))

    areas_file = work / "areas.yml"
    shutil.copy(config.DEFAULT_AREAS_FILE, areas_file)
    print(f"bench_build: {len(names)} notebook(s) x {len(targets)} target(s) = {n_runs} report(s), "
          f"--jobs {args.jobs}, {os.cpu_count()} CPU(s); work dir {work}")
    try:
        cold, cold_note = timed_build(work, areas_file, args.jobs, names, only)
        print(f"  cold full build (HTML + PDF)        {cold:8.1f} s   {cold_note}  {load()}")
        warm, warm_note = timed_build(work, areas_file, args.jobs, names, only)
        print(f"  warm rebuild, nothing changed       {warm:8.1f} s   {warm_note}  "
              f"(target < 5 s: {'met' if warm < 5 else 'NOT met'})  {load()}")
        what = change_one_area(areas_file)
        one, one_note = timed_build(work, areas_file, args.jobs, names, only)
        print(f"  rebuild after one area changed      {one:8.1f} s   {one_note}  ({what})  {load()}")
        if not args.skip_naive:
            shutil.copy(config.DEFAULT_AREAS_FILE, areas_file)
            naive, failed = naive_loop(work, areas_file, specs, targets)
            ratio = naive / cold if cold else float("nan")
            print(f"  naive papermill CLI loop, no cache  {naive:8.1f} s   {n_runs} runs, "
                  f"{failed} failed, execution only  {load()}")
            print(f"  cold build is {ratio:.2f}x faster than the naive loop "
                  f"(target >= 2x: {'met' if ratio >= 2 else 'NOT met'})")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
