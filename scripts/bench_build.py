"""Benchmark of ``evidence-pack build`` on the default pack (borough + areas, all notebooks).

Prints, in one invocation, each figure with the 1-minute load average beside it:

1. cold build, HTML and PDF, empty cache, with a breakdown per notebook (execute, HTML, PDF:
   mean seconds per report, from the build's own timings) and the peak memory of the build's
   whole process tree (driver, workers, kernels);
2. warm rebuild with nothing changed (a fresh interpreter, like a user);
3. rebuilds after realistic edits of one area, each printed with the reports it re-ran: its
   description (the lead officer), its name, its LSOA list (one LSOA dropped);
4. HTML only on both sides, alternating ``--rounds`` times so that both see the same load:
   the cold build (``--no-pdf``, with its peak memory) and the way an analyst would script it
   without this tool: for each report, the ``papermill`` command line, then ``jupyter
   nbconvert --to html --no-input``, sequential. Prints the ratio. ``--skip-naive`` runs the
   cold HTML-only build once without the analyst's script.

Each build is the command a user runs (``evidence-pack build``, the console script, with
``--reports-dir`` and ``--build-dir`` in the work folder), so its figures include the CLI's
start. Everything runs under a temporary folder holding a snapshot of the code, notebooks and
processed data (the real ``reports/`` and ``build/`` are not touched); ``--areas N`` uses only
the first N areas (the machine is shared: run small), ``--notebooks`` some notebooks.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from evidence_pack import config  # noqa: E402
from evidence_pack.analysis.areas import load_areas  # noqa: E402
from evidence_pack.publish import plan  # noqa: E402

#: The command a user runs (the console script; ``python -m evidence_pack.cli`` without it).
CLI = ([str(Path(sys.executable).with_name("evidence-pack"))]
       if Path(sys.executable).with_name("evidence-pack").exists()
       else [sys.executable, "-m", "evidence_pack.cli"])
ENV: dict[str, str] = dict(os.environ)


def load() -> str:
    """The 1-minute load average: the machine is shared, so say how busy it was."""
    return f"[load {os.getloadavg()[0]:.1f}]"


def snapshot(work: Path) -> Path:
    """Freeze code, notebooks and processed data under ``work/root`` (raw data linked)."""
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
    ENV.update(EVIDENCE_PACK_ROOT=str(root), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(root / "lib"), os.environ.get("PYTHONPATH", "")]))
    return root


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for p in Path("/proc").glob("[0-9]*"):
        try:
            stat = (p / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(stat[1]), []).append(int(p.name))
            rss[int(p.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        q = todo.pop()
        total += rss.get(q, 0)
        todo += children.get(q, [])
    return total


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess, int]:
    """(seconds, completed process, peak RSS of its process tree in bytes)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.25)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, err = proc.communicate()
    t.join()
    return time.perf_counter() - t0, subprocess.CompletedProcess(cmd, proc.returncode, out, err), peak[0]


def timed_build(work: Path, tag: str, areas_file: Path, jobs: int, notebooks: list[str],
                only: list[str], pdf: bool) -> tuple[float, str, int]:
    """``evidence-pack build`` as a user runs it: (seconds, its summary line, peak RSS)."""
    cmd = [*CLI, "build", "--areas-file", str(areas_file), "--reports-dir",
           str(work / tag / "reports"), "--build-dir", str(work / tag / "build"),
           "--jobs", str(jobs)]
    cmd += [x for nb in notebooks for x in ("--notebooks", nb)]
    cmd += [x for o in only for x in ("--only", o)]
    cmd += [] if pdf else ["--no-pdf"]
    secs, done, peak = run_measured(cmd, cwd=Path(ENV["EVIDENCE_PACK_ROOT"]))
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("build:")]
    if done.returncode != 0:
        lines.append(f"exit {done.returncode}: " + done.stderr[-1500:])
    return secs, "; ".join(lines), peak


def breakdown(build_dir: Path) -> list[str]:
    """Mean seconds per report by notebook and phase, from the build's manifest."""
    jobs = json.loads((build_dir / "manifest.json").read_text())["jobs"]
    per: dict[str, list[dict[str, float]]] = {}
    for jid, entry in jobs.items():
        per.setdefault(jid.split("/", 1)[1], []).append(entry.get("timings") or {})
    phases = ("execute", "html", "pdf")
    lines = [f"    {'notebook':<16} {'reports':>7} {'execute':>8} {'HTML':>6} {'PDF':>6}  "
             "(mean s a report)"]
    total = dict.fromkeys(phases, 0.0)
    for nb, ts in per.items():
        mean = {k: sum(t.get(k, 0.0) for t in ts) / len(ts) for k in phases}
        for k in phases:
            total[k] += sum(t.get(k, 0.0) for t in ts)
        lines.append(f"    {nb:<16} {len(ts):>7} {mean['execute']:>8.1f} {mean['html']:>6.1f} "
                     f"{mean['pdf']:>6.1f}")
    lines.append(f"    {'all (sum, s)':<16} {sum(len(t) for t in per.values()):>7} "
                 f"{total['execute']:>8.1f} {total['html']:>6.1f} {total['pdf']:>6.1f}  "
                 "(worker-seconds)")
    return lines


def naive(work: Path, tag: str, areas_file: Path, specs: list[plan.ReportSpec],
          targets: list[str]) -> tuple[float, int, int]:
    """The analyst's script: per report `papermill` CLI then `jupyter nbconvert --to html
    --no-input`, sequential, no cache. (seconds, runs, failures)."""
    bindir = Path(sys.executable).parent
    papermill = shutil.which("papermill", path=str(bindir)) or "papermill"
    jupyter = shutil.which("jupyter", path=str(bindir)) or "jupyter"
    out = work / tag
    out.mkdir(parents=True, exist_ok=True)
    root = Path(ENV["EVIDENCE_PACK_ROOT"])
    runs = failures = 0
    t0 = time.perf_counter()
    for spec in specs:
        params = out / f"{spec.name}.params.yml"
        params.write_text(yaml.safe_dump(spec.parameters))
        for area in targets:
            if (area == plan.BOROUGH and spec.scope == "areas") or (
                    area != plan.BOROUGH and spec.scope == "borough"):
                continue
            nb_out = out / f"{area}__{spec.name}.ipynb"
            a = subprocess.run([papermill, str(spec.path), str(nb_out), "-k", config.KERNEL_NAME,
                                "--cwd", str(root), "-f", str(params), "-p", "area", area,
                                "-p", "areas_file", str(areas_file), "--no-progress-bar"],
                               capture_output=True, text=True, cwd=root, env=ENV)
            b = subprocess.run([jupyter, "nbconvert", "--to", "html", "--no-input", str(nb_out)],
                               capture_output=True, text=True, cwd=root, env=ENV)
            failures += a.returncode != 0 or b.returncode != 0
            runs += 1
    return time.perf_counter() - t0, runs, failures


def _jobs(build_dir: Path) -> dict[str, dict]:
    try:
        return json.loads((build_dir / "manifest.json").read_text())["jobs"]
    except (OSError, ValueError, KeyError):
        return {}


def rerun_summary(before: dict[str, dict], after: dict[str, dict]) -> str:
    """What a rebuild re-ran: worker-seconds by phase (execute includes starting or resetting
    the workers' kernels, also shown alone) and the slowest reports."""
    ran = {k: v for k, v in after.items() if before.get(k, {}).get("key") != v.get("key")}
    phases = {ph: sum(v.get("timings", {}).get(ph, 0.0) for v in ran.values())
              for ph in ("execute", "kernel", "html", "pdf")}
    slow = sorted(ran.items(), key=lambda kv: -kv[1].get("seconds", 0.0))[:4]
    return (f"re-ran execute {phases['execute']:.1f} (of which kernels {phases['kernel']:.1f}), "
            f"html {phases['html']:.1f}, pdf {phases['pdf']:.1f} worker-s; slowest "
            + ", ".join(f"{k} {v.get('seconds', 0.0):.1f} s" for k, v in slow))


def _pick(doc: dict, slugs: list[str]) -> dict:
    """The first chosen area with two or more LSOAs (so that one can be dropped)."""
    for a in doc["areas"]:
        if a["slug"] in slugs and len(a.get("lsoas") or []) >= 2:
            return a
    raise SystemExit("no chosen area with two or more LSOAs to edit")


def change_one_area(areas_file: Path, slugs: list[str], how: str) -> str:
    """Edit one area of ``areas_file`` as a user would: ``description`` (its lead officer),
    ``name`` or ``lsoas`` (one LSOA dropped). Returns what was done."""
    doc = yaml.safe_load(areas_file.read_text())
    a = _pick(doc, slugs)
    if how == "description":
        a["slt_lead"] = f"{a.get('slt_lead') or 'A lead'} (acting)"
        what = f"{a['slug']}: lead officer"
    elif how == "name":
        a["name"] = f"{a['name']} estate"
        what = f"{a['slug']}: name"
    else:
        what = f"{a['slug']}: LSOA {a['lsoas'].pop()} dropped"
    areas_file.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return what


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--notebooks", action="append", help="notebook name(s) (default: all)")
    ap.add_argument("--areas", type=int, default=None, help="only the first N areas (+ borough)")
    ap.add_argument("--rounds", type=int, default=1, help="alternating HTML-only rounds")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_build_"))
    root = snapshot(work)
    specs = plan.load_specs(root / "notebooks", args.notebooks)
    areas = load_areas(config.DEFAULT_AREAS_FILE).areas
    chosen = areas[: args.areas] if args.areas else areas
    targets = [plan.BOROUGH, *(a.slug for a in chosen)]
    only = targets if args.areas else []
    names = [s.name for s in specs]
    nb_args = names if args.notebooks else []  # the default command names none
    n_runs = sum(1 for s in specs for t in targets
                 if not ((t == plan.BOROUGH and s.scope == "areas")
                         or (t != plan.BOROUGH and s.scope == "borough")))
    areas_file = work / "areas.yml"
    shutil.copy(config.DEFAULT_AREAS_FILE, areas_file)
    p = print
    p(f"bench_build: {len(names)} notebook(s) x {len(targets)} target(s) = {n_runs} report(s), "
      f"--jobs {args.jobs}, {os.cpu_count()} CPU(s); work dir {work}", flush=True)
    try:
        cold, note, peak = timed_build(work, "pack", areas_file, args.jobs, nb_args, only, True)
        p(f"  cold build, HTML + PDF             {cold:8.1f} s  {load()}  {note}", flush=True)
        p(f"  peak memory of the build (tree)    {peak / 2**30:8.2f} GB (target < 4 GB)")
        p("  per notebook:")
        for line in breakdown(work / "pack" / "build"):
            p(line)
        warm, note, _ = timed_build(work, "pack", areas_file, args.jobs, nb_args, only, True)
        p(f"  warm rebuild, nothing changed      {warm:8.1f} s  {load()}  {note} "
          f"(target < 2 s)", flush=True)
        for how in ("description", "name", "lsoas"):
            what = change_one_area(areas_file, [a.slug for a in chosen], how)
            before = _jobs(work / "pack" / "build")
            one, note, _ = timed_build(work, "pack", areas_file, args.jobs, nb_args, only, True)
            p(f"  one area changed ({what})  {one:8.1f} s  {load()}  {note} (target < 25 s)",
              flush=True)
            p(f"    {rerun_summary(before, _jobs(work / 'pack' / 'build'))}")
        shutil.copy(config.DEFAULT_AREAS_FILE, areas_file)
        ours_t, theirs_t = [], []
        for r in range(1, (1 if args.skip_naive else args.rounds) + 1):
            ours, note, peak = timed_build(work, f"html{r}", areas_file, args.jobs, nb_args, only,
                                           False)
            ours_t.append(ours)
            p(f"  round {r}: cold build, HTML only    {ours:8.1f} s  {load()}  {note}; peak "
              f"{peak / 2**30:.2f} GB", flush=True)
            if args.skip_naive:
                break
            theirs, runs, failed = naive(work, f"naive{r}", areas_file, specs, targets)
            theirs_t.append(theirs)
            p(f"  round {r}: papermill + nbconvert    {theirs:8.1f} s  {load()}  {runs} "
              f"reports, {failed} failed ({theirs / max(runs, 1):.1f} s a report)", flush=True)
        if theirs_t:
            ratio = sum(theirs_t) / sum(ours_t)
            p(f"  HTML only: the build is {ratio:.2f}x faster than the analyst's script "
              f"(target >= 12x)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
