"""``evidence-pack build``: run every notebook for the borough and each area, render HTML and PDF,
and publish ``reports/index.html``.

What one build does:

1. **Check** (before anything runs or is deleted): the areas file through the one parser
   (``analysis.areas.load_areas``: file, area and problem named), the notebooks and their
   parameters (``plan``), that ``reports/`` is writable, and the build lock (``lock``: one
   build at a time per folder).
2. **Plan and cache** (``plan``, ``manifest``): each run has a key; a run whose key is
   unchanged and whose outputs are whole (a PDF, when wanted, not older than its HTML) is
   skipped. File hashes are cached by (size, mtime) in ``build/manifest.json``.
3. **Run** (``runner``): papermill on warm kernels in ``--jobs`` workers, which also render.
4. **Publish** (``render``): HTML, JSON and PDF of a report are one unit, renamed together;
   a failed run removes its report; ``--no-pdf`` removes a report's older PDF.
5. **Index** (``index``): rewritten from every report on disk, also after a failure or an
   interruption (Ctrl-C or SIGTERM stop the workers in seconds and keep published reports).

Outputs: ``reports/<area>/<notebook>.{html,pdf,json}``, ``reports/index.html``,
``build/executed/<area>/<notebook>.ipynb`` (executed notebooks), ``build/logs/`` (failures).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from evidence_pack import config
from evidence_pack.publish import runner
from evidence_pack.publish.index import FIGURE_LABELS, figure_label, write_index
from evidence_pack.publish.lock import BuildLock, BuildLocked
from evidence_pack.publish.manifest import is_current, read_manifest, write_manifest
from evidence_pack.publish.plan import (
    BOROUGH,
    CODE_GLOBS,
    Job,
    ReportSpec,
    Result,
    Settings,
    check_parameters,
    load_area_defs,
    load_specs,
    plan,
)
from evidence_pack.publish.render import check_self_contained, published, sweep_partials
from evidence_pack.sources.hashing import FileHasher, sha256_json
from evidence_pack.sources.io import DataError

__all__ = ["BOROUGH", "FIGURE_LABELS", "BuildLocked", "BuildReport", "Job", "ReportSpec",
           "build", "check_parameters", "check_self_contained", "figure_label", "load_specs",
           "main", "published"]


@dataclass
class BuildReport:
    planned: int
    skipped: int
    ran: int
    failures: dict[str, str]
    seconds: float
    index: Path | None
    results: list[Result] = field(default_factory=list)
    interrupted: bool = False
    cancelled: int = 0


#: Seconds a report takes when no build has timed it (execute + HTML + PDF of an area report,
#: bench_build --areas 1, load ~2); a borough report counts twice. Only the order uses them.
DEFAULT_SECONDS = {"briefing": 12.0, "imd_trends": 6.5, "area_profile": 6.0,
                   "baseline_spend": 4.5, "risk_factors": 3.0, "evaluation": 3.0}


def longest_first(todo: Sequence[Job], jobs: dict[str, dict],
                  first: Collection[str] = ()) -> list[Job]:
    """``todo`` longest first: a job's time in the last build (``jobs``: the manifest's
    entries), else the mean last time of its notebook's other reports (twice for a borough
    report), else ``DEFAULT_SECONDS``; so that no worker idles at the end. Notebooks in
    ``first`` go before all others: the build passes those of the whole district only (the
    briefing), which read every area's results computed once per membership (evaluation,
    risk, profile, spend). Started first, the briefing computes them while the other worker
    runs a report that needs none, instead of reports waiting for them on the memo's lock
    (one LSOA dropped, 34 reports: 36.0 and 37.2 s in the last build's order, 31.1 and
    30.8 s with the briefing first, alternating, load 1.3-2.2)."""
    last = {jid: e.get("seconds") for jid, e in jobs.items() if e and e.get("seconds")}
    per_nb: dict[str, list[float]] = {}
    for jid, sec in last.items():
        per_nb.setdefault(jid.rsplit("/", 1)[-1], []).append(float(sec))

    def cost(j: Job) -> float:
        if j.id in last:
            return float(last[j.id])
        factor = 2.0 if j.area == BOROUGH else 1.0
        if per_nb.get(j.notebook):
            return factor * sum(per_nb[j.notebook]) / len(per_nb[j.notebook])
        return factor * DEFAULT_SECONDS.get(j.notebook, 3.0)

    return sorted(todo, key=lambda j: (j.notebook not in first, -cost(j)))


def check_writable(reports_dir: Path) -> None:
    """DataError naming the folder when reports cannot be written there."""
    try:
        reports_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=reports_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise DataError(reports_dir, f"cannot write reports there ({exc.strerror or exc}): "
                                     "fix its permissions or choose another --reports-dir") from None


def build(areas_file: Path | str = config.DEFAULT_AREAS_FILE, only: Sequence[str] | None = None,
          notebooks: Sequence[str] | None = None, jobs: int = 2, pdf: bool = True,
          force: bool = False, notebooks_dir: Path | None = None, reports_dir: Path | None = None,
          build_dir: Path | None = None, root: Path | None = None, progress: bool = True,
          kernel_name: str = config.KERNEL_NAME,
          code_globs: Sequence[str] = CODE_GLOBS) -> BuildReport:
    """Check, plan, run what changed, publish; see the module docstring. Raises DataError for
    bad input and BuildLocked when another build runs here; never raises for a failed run."""
    t0 = time.perf_counter()
    root = (root or config.ROOT).resolve()
    notebooks_dir = notebooks_dir or config.NOTEBOOKS_DIR
    reports_dir = Path(reports_dir or config.REPORTS_DIR)
    build_dir = Path(build_dir or (root / "build"))
    areas_file = Path(areas_file)
    if not areas_file.is_absolute():
        areas_file = root / areas_file

    all_specs = load_specs(notebooks_dir)
    specs = load_specs(notebooks_dir, notebooks) if notebooks else all_specs
    if not specs:
        raise DataError(notebooks_dir, "no notebooks to build")
    areas = load_area_defs(areas_file)
    if only:
        known = {BOROUGH, *(a.slug for a in areas.areas)}
        unknown = [o for o in only if o not in known]
        if unknown:
            raise DataError(areas_file, f"unknown area(s) {unknown}: choose from {sorted(known)}")
    check_writable(reports_dir)

    with BuildLock(build_dir / "build.lock"):
        sweep_partials(reports_dir)
        manifest_path = build_dir / "manifest.json"
        manifest = read_manifest(manifest_path)
        hasher = FileHasher(root, manifest["files"])
        all_jobs = plan(specs, areas, areas_file, hasher, root, code_globs)
        chosen = [j for j in all_jobs if not only or j.area in only]
        todo = [j for j in chosen if force or not is_current(j, manifest, reports_dir, pdf)]
        # Parameters of the notebooks that will run, checked once per version of the
        # notebook, its parameters and the package code (papermill's import costs ~0.3-1 s)
        code = hasher.globs(code_globs)
        for spec in {s.name: s for s in specs if any(j.notebook == s.name for j in todo)}.values():
            checked = sha256_json({"nb": hasher.file(spec.path), "params": spec.parameters,
                                   "code": code})
            if manifest["checked"].get(spec.name) != checked:
                check_parameters(spec)
                manifest["checked"][spec.name] = checked
        # Longest first, so that the workers finish together.
        todo = longest_first(todo, manifest["jobs"],
                             first={s.name for s in specs if s.scope == "borough"})
        for j in todo:  # a run in progress or interrupted is never listed as built
            manifest["jobs"].pop(j.id, None)
        manifest["files"] = hasher.pruned_cache()
        write_manifest(manifest_path, manifest)

        settings = Settings(root=str(root), reports_dir=str(reports_dir),
                            build_dir=str(build_dir), pdf=pdf, kernel_name=kernel_name,
                            la_name=areas.area_set.la_name,
                            runs_per_kernel=int(os.environ.get("EVIDENCE_PACK_RUNS_PER_KERNEL", "0")))
        results: list[Result] = []

        def record(res: Result, job: Job) -> None:
            results.append(res)
            entry = {"ok": res.ok, "key": job.key, "pdf": pdf and res.ok,
                     "seconds": round(res.seconds, 2), "summary": res.summary,
                     "dropped_outputs": res.dropped_outputs,
                     "timings": {k: round(v, 2) for k, v in res.timings.items()}}
            if not res.ok:
                entry["error"] = res.error
            manifest["jobs"][job.id] = entry
            write_manifest(manifest_path, manifest)

        interrupted = False
        try:
            if todo:
                with runner.sigterm_as_interrupt():
                    runner.run_all(todo, settings, jobs, progress, record)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            with contextlib.suppress(OSError):
                write_manifest(manifest_path, manifest)
            sweep_partials(reports_dir)
            known = {f"{slug}/{s.name}" for s in all_specs
                     for slug in (BOROUGH, *(a.slug for a in areas.areas))}
            known_failures = {jid: e.get("error", "") for jid, e in manifest["jobs"].items()
                              if e.get("ok") is False and jid in known}
            index = write_index(reports_dir, all_specs, areas, known_failures)
    # this build's failures (the index lists every known one)
    failures = {j.id: known_failures[j.id] for j in chosen if j.id in known_failures}
    return BuildReport(planned=len(chosen), skipped=len(chosen) - len(todo), ran=len(results),
                       failures=dict(sorted(failures.items())), seconds=time.perf_counter() - t0,
                       index=index, results=results, interrupted=interrupted,
                       cancelled=len(todo) - len(results))


def main(args: argparse.Namespace) -> int:
    """CLI entry (``evidence-pack build``): 0 when every report was built, 1 when any failed
    or the build was stopped (130 when interrupted); DataError propagates (exit 2)."""
    reports_dir = getattr(args, "reports_dir", None)
    build_dir = getattr(args, "build_dir", None)
    rep = build(areas_file=args.areas_file, only=args.only, notebooks=args.notebooks,
                jobs=args.jobs, pdf=not args.no_pdf, force=args.force,
                reports_dir=Path(reports_dir) if reports_dir else None,
                build_dir=Path(build_dir) if build_dir else None)
    if rep.interrupted:
        print(f"build: interrupted: {rep.ran} report(s) finished, {rep.cancelled} cancelled; "
              f"reports published before were kept and {rep.index} lists what is on disk",
              file=sys.stderr)
        return 130
    print(f"build: {rep.planned} report(s), {rep.ran} run, {rep.skipped} up to date; "
          f"index {rep.index}")
    dropped = sum(r.dropped_outputs for r in rep.results)
    if dropped:
        print(f"build: {dropped} output(s) not made by evidence_pack.publish.report were left out "
              "of the reports", file=sys.stderr)
    if rep.failures:
        print(f"build: {len(rep.failures)} report(s) failed (logs in build/logs):", file=sys.stderr)
        for jid, err in rep.failures.items():
            print(f"  {jid}: {err}", file=sys.stderr)
        return 1
    return 0
