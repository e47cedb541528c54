"""``evidence-pack build --districts CODES|REGION|all``: many districts' packs on Dask.

1. **Plan** (client). Districts from the selection (:mod:`evidence_pack.analysis.national`);
   each district's areas file, own or drafted, and its tasks, one per (district, area,
   notebook) with the single-district build's cache key (:mod:`national_plan`). Tasks whose
   key is unchanged and whose files exist are skipped (``--force`` runs them all).
2. **Run** (Dask). ``--scheduler local`` (default) starts a ``LocalCluster`` sized to the
   machine: one single-threaded worker process per core, no more than memory allows at
   :data:`WORKER_MEMORY` each; ``--scheduler tcp://HOST:8786`` uses a running scheduler and its
   workers. Each worker keeps a warm kernel (:mod:`national_worker`). Longest tasks first
   (borough reports, then by the last run's time). Dask's progress bar on the terminal, the
   dashboard address printed.
3. **Collect** (client). Each result's files are written under ``reports/<code>/`` to
   temporary names and renamed together (HTML last); the manifest is updated after every
   result, so an interrupted batch resumes. A worker that dies mid-task has written nothing
   here; Dask runs the task again on another worker (up to ``allowed-failures`` times, then
   it is listed as failed). Failed reports are listed; the exit status is then 1.
4. **Index**. ``reports/<code>/index.html`` per district and, when more than one district is
   in the batch, the national index ``reports/index.html`` (:mod:`national_index`).

One build at a time: the batch holds the single-district build's lock (``build/build.lock``)
from planning to the indexes. Each reports folder has its own manifest
(:func:`national_plan.manifest_for`). **Interruption** (Ctrl-C, SIGTERM): queued tasks are
cancelled and the workers' kernels killed, so running notebooks stop at once; a LocalCluster
is closed within :data:`STOP_GRACE_S` seconds and any worker still alive is killed. A report
whose files are being renamed into place is finished first (the signal waits for it), so
nothing is half-written; the indexes then show what was built.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_pack import config
from evidence_pack.analysis import national as national_analysis
from evidence_pack.publish import build, national_index
from evidence_pack.publish.index import write_index
from evidence_pack.publish.lock import BuildLock
from evidence_pack.publish.manifest import write_manifest
from evidence_pack.publish.national_plan import (
    DistrictPlan,
    Task,
    districts_from,
    interleave,
    is_current,
    manifest_for,
    plan_districts,
    read_manifest,
)
from evidence_pack.publish.national_worker import (
    kill_kernels,
    remove_scratch,
    run_task,
    stop_kernel,
)
from evidence_pack.publish.render import sweep_partials
from evidence_pack.sources.hashing import FileHasher
from evidence_pack.sources.io import DataError, atomic_path

#: Memory limit of one Dask worker (the worker process; its kernel is measured per task).
WORKER_MEMORY = 3e9
#: Seconds an interrupted batch waits for the scheduler, or for its local workers to close,
#: before it goes on (the workers are then killed).
STOP_GRACE_S = 3.0


@dataclass
class NationalReport:
    districts: int
    planned: int
    skipped: int
    ran: int
    failures: dict[str, str]
    seconds: float
    index: Path | None
    results: list[dict[str, Any]] = field(default_factory=list)
    dashboard: str = ""
    workers: int = 0
    manifest: Path | None = None
    #: wall seconds: ``plan`` (areas, drafts, keys), ``start`` (cluster), ``run``, ``index``
    phases: dict[str, float] = field(default_factory=dict)


def local_workers(memory_per_worker: float = WORKER_MEMORY) -> int:
    """Workers a LocalCluster gets here: one per core, fewer when memory is short."""
    import psutil

    by_memory = int(psutil.virtual_memory().total // memory_per_worker)
    return max(1, min(os.cpu_count() or 1, by_memory))


@contextlib.contextmanager
def dask_client(scheduler: str = "local", n_workers: int | None = None,
                dashboard_address: str | None = ":8787"):
    """A ``distributed.Client`` on a new LocalCluster (``local``) or a running scheduler.
    A LocalCluster is closed within about :data:`STOP_GRACE_S` seconds, then its worker
    processes still alive (and their kernels) are killed and their scratch folders removed."""
    from dask.distributed import Client, LocalCluster

    if scheduler != "local":
        with Client(scheduler) as client:
            yield client
        return
    cluster = LocalCluster(n_workers=n_workers or local_workers(), threads_per_worker=1,
                           processes=True, memory_limit=WORKER_MEMORY,
                           dashboard_address=dashboard_address)
    try:
        client = Client(cluster)
    except BaseException:
        cluster.close(timeout=STOP_GRACE_S)
        raise
    try:
        yield client
    except BaseException:  # interrupted: no graceful close (a running task would hold it up)
        stop_local(client, cluster)
        raise
    else:
        in_time(lambda: client.close(timeout=10), 15.0)
        in_time(lambda: cluster.close(timeout=10), 30.0)
        pids = set(worker_pids(cluster))
        kill_trees(pids)
        for pid in pids:
            remove_scratch(pid)


def stop_local(client: Any, cluster: Any) -> None:
    """Close a LocalCluster now: its nannies are told to close, then every worker process and
    its kernel is killed (a worker waits for its running task otherwise, and a nanny would
    restart a worker killed before); scratch folders are removed."""
    pids = set(worker_pids(cluster))
    closing = threading.Thread(target=_quiet, args=(lambda: cluster.close(timeout=STOP_GRACE_S),),
                               daemon=True)
    closing.start()
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and not all(
            str(getattr(n, "status", "")).split(".")[-1].startswith("clos")
            for n in list(getattr(cluster, "workers", {}).values())):
        time.sleep(0.02)
    kill_trees(pids)
    closing.join(2 * STOP_GRACE_S)
    in_time(lambda: client.close(timeout=STOP_GRACE_S))
    for pid in pids:
        remove_scratch(pid)


def worker_pids(cluster: Any) -> list[int]:
    """Process ids of a LocalCluster's worker processes (one per nanny)."""
    return [n.pid for n in list(getattr(cluster, "workers", {}).values())
            if getattr(n, "pid", None)]


def kill_trees(pids: set[int], children_only: bool = False) -> None:
    """SIGKILL each process (unless ``children_only``) and everything it started."""
    import psutil

    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            for p in [*proc.children(recursive=True), *([] if children_only else [proc])]:
                with contextlib.suppress(psutil.Error):
                    p.kill()


def in_time(fn: Callable[[], Any], seconds: float = STOP_GRACE_S) -> bool:
    """Call ``fn`` in a helper thread and wait at most ``seconds`` (an interrupted batch must
    not hang on a scheduler or worker that does not answer); True when it returned."""
    t = threading.Thread(target=_quiet, args=(fn,), daemon=True)
    t.start()
    t.join(seconds)
    return not t.is_alive()


def _quiet(fn: Callable[[], Any]) -> None:
    with contextlib.suppress(Exception):
        fn()


def write_outputs(task: Task, files: dict[str, bytes], reports_dir: Path) -> None:
    """Write a report's files together: temporary names, renamed only when all are written,
    HTML last (the file that makes a report look complete)."""
    outs = task.outputs(reports_dir)
    order = [k for k in ("pdf", "json", "html") if k in outs]
    with contextlib.ExitStack() as stack:
        tmps = {k: stack.enter_context(atomic_path(outs[k])) for k in reversed(order)}
        for k in order:
            tmps[k].write_bytes(files[k])
    if not task.pdf:  # an older PDF would not match the new HTML
        with contextlib.suppress(FileNotFoundError):
            (reports_dir / task.district / task.job.area / f"{task.job.notebook}.pdf").unlink()


def remove_outputs(task: Task, reports_dir: Path) -> None:
    """A failed report's old files go, so that nothing stale looks current."""
    for p in task.outputs(reports_dir).values():
        with contextlib.suppress(OSError):
            p.unlink()


def _progress(futures: list[Any]) -> None:
    from dask.distributed import progress

    with contextlib.suppress(Exception):
        progress(futures)


def run_tasks(client: Any, todo: Sequence[Task], on_result: Callable[[Task, dict], None],
              kernel_name: str = config.KERNEL_NAME, progress: bool = True) -> None:
    """Submit every task (first ones first), hand each result to ``on_result`` as it comes;
    a task lost with its worker too often comes back as a failure."""
    from dask.distributed import as_completed

    by_key: dict[str, Task] = {}
    futures = []
    for i, task in enumerate(todo):
        fut = client.submit(run_task, task, kernel_name, key=f"report-{task.id}-{task.job.key[:12]}",
                            priority=len(todo) - i, pure=False)
        by_key[fut.key] = task
        futures.append(fut)
    bar = None
    if progress:
        bar = threading.Thread(target=_progress, args=(futures,), daemon=True)
        bar.start()
    try:
        for fut in as_completed(futures):
            task = by_key[fut.key]
            try:
                res = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after repeated deaths
                res = {"id": task.id, "ok": False, "seconds": 0.0, "files": {},
                       "error": f"worker lost: {type(exc).__name__}: {exc}"}
            on_result(task, res)
            fut.release()
    except BaseException:
        stop_running(client, futures)
        raise
    finally:
        if bar is not None:
            bar.join(timeout=5)
            print(file=sys.stderr)


def stop_running(client: Any, futures: Sequence[Any]) -> None:
    """Cancel every task and kill the workers' kernels, so that running notebooks stop now
    (Dask cannot stop a running task; without its kernel it fails at once). Each step waits
    at most :data:`STOP_GRACE_S` seconds."""
    in_time(lambda: client.cancel(list(futures), force=True))
    in_time(lambda: client.run(kill_kernels, on_error="ignore"))


@contextlib.contextmanager
def interrupts() -> Any:
    """In the main thread, SIGINT and SIGTERM raise KeyboardInterrupt (a batch run in the
    background ignores SIGINT), except inside :func:`committing`: there the interrupt waits
    until the report's files and the manifest are written."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if _SIGNALS["committing"]:
            _SIGNALS["pending"] = signum
            return
        raise KeyboardInterrupt(f"signal {signum}")

    old = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
        _SIGNALS.update(committing=0, pending=None)


_SIGNALS: dict[str, Any] = {"committing": 0, "pending": None}


@contextlib.contextmanager
def committing() -> Any:
    """Write a result without being interrupted half-way (see :func:`interrupts`)."""
    _SIGNALS["committing"] += 1
    try:
        yield
    finally:
        _SIGNALS["committing"] -= 1
        pending = _SIGNALS["pending"]
        if not _SIGNALS["committing"] and pending is not None:
            _SIGNALS["pending"] = None
            raise KeyboardInterrupt(f"signal {pending}")


def build_national(selection: str | Sequence[str], only: Sequence[str] | None = None,
                   notebooks: Sequence[str] | None = None, pdf: bool = True,
                   force: bool = False, scheduler: str = "local",
                   n_workers: int | None = None, client: Any = None,
                   reports_dir: Path | None = None, root: Path | None = None,
                   progress: bool = True, kernel_name: str = config.KERNEL_NAME,
                   dashboard_address: str | None = ":8787",
                   manifest_path: Path | None = None,
                   build_dir: Path | None = None) -> NationalReport:
    """Plan, run what changed on Dask, write the files, the district and national indexes.
    Never raises for a failed report; raises BuildLocked when another build holds
    ``build/build.lock``, KeyboardInterrupt when interrupted (after writing the indexes).
    ``client``: an existing ``distributed.Client``; ``manifest_path``: default
    :func:`national_plan.manifest_for` (one per reports folder)."""
    t0 = time.perf_counter()
    root = (root or config.ROOT).resolve()
    build_dir = (build_dir or root / "build").resolve()
    reports_dir = (reports_dir or config.REPORTS_DIR).resolve()
    manifest_path = manifest_path or manifest_for(reports_dir, root, build_dir)
    specs = build.load_specs(config.NOTEBOOKS_DIR, notebooks)
    if not specs:
        raise DataError(config.NOTEBOOKS_DIR, "no notebooks to build")
    districts = districts_from(national_analysis.select_districts(selection))
    build.check_writable(reports_dir)
    with BuildLock(build_dir / "build.lock"), interrupts():
        sweep_partials(reports_dir)
        try:
            rep = _run_batch(districts, specs, only, pdf, force, scheduler, n_workers, client,
                             reports_dir, root, progress, kernel_name, dashboard_address,
                             manifest_path, build_dir / "national" / "memo")
        finally:
            sweep_partials(reports_dir)
    rep.seconds = time.perf_counter() - t0
    return rep


def _run_batch(districts: Sequence[Any], specs: Sequence[build.ReportSpec],
               only: Sequence[str] | None, pdf: bool, force: bool, scheduler: str,
               n_workers: int | None, client: Any, reports_dir: Path, root: Path,
               progress: bool, kernel_name: str, dashboard_address: str | None,
               manifest_path: Path, memo_dir: Path) -> NationalReport:
    """:func:`build_national` inside the lock. ``memo_dir``: the memoised results that
    workers on this host share."""
    t0 = time.perf_counter()
    phases: dict[str, float] = {}
    manifest = read_manifest(manifest_path)
    hasher = FileHasher(root, manifest["files"])
    plans = plan_districts(districts, specs, only, pdf, reports_dir, root, hasher)
    tasks = [t for p in plans for t in p.tasks]
    todo = [t for t in tasks if force or not is_current(t, manifest, reports_dir)]
    for spec in {s.name: s for s in specs if any(t.job.notebook == s.name for t in todo)}.values():
        build.check_parameters(spec)
    last = {t.id: (manifest["tasks"].get(t.id) or {}).get("seconds") for t in todo}
    for t in todo:  # a run in progress or interrupted is never listed as built
        manifest["tasks"].pop(t.id, None)
    manifest["files"] = hasher.pruned_cache()
    write_manifest(manifest_path, manifest)

    failures = {t.id: (manifest["tasks"].get(t.id) or {}).get("error", "") for t in tasks
                if (manifest["tasks"].get(t.id) or {}).get("ok") is False}
    results: list[dict[str, Any]] = []
    phases["plan"] = time.perf_counter() - t0

    def record(task: Task, res: dict[str, Any]) -> None:
        with committing():  # an interrupt waits until the files and the manifest agree
            if res.get("ok"):
                try:
                    write_outputs(task, res["files"], reports_dir)
                except (OSError, KeyError) as exc:
                    res = {**res, "ok": False, "error": f"writing the report: {exc}"}
            if not res.get("ok"):
                remove_outputs(task, reports_dir)
            res = {k: v for k, v in res.items() if k != "files"}
            results.append(res)
            entry = {"ok": bool(res["ok"]), "key": task.job.key,
                     "seconds": round(res["seconds"], 2), "summary": res.get("summary") or {},
                     "dropped_outputs": res.get("dropped_outputs", 0),
                     "timings": res.get("timings") or {}}
            if res["ok"]:
                failures.pop(task.id, None)
            else:
                entry["error"] = res["error"]
                failures[task.id] = res["error"]
            manifest["tasks"][task.id] = entry
            write_manifest(manifest_path, manifest)

    dashboard, workers = "", 0
    if todo:
        with contextlib.ExitStack() as stack:
            t1 = time.perf_counter()
            if client is None:
                client = stack.enter_context(dask_client(scheduler, n_workers, dashboard_address))
            phases["start"] = time.perf_counter() - t1
            dashboard = str(client.dashboard_link or "")
            workers = len(client.scheduler_info()["workers"])
            if progress:
                print(f"build: {len(todo)} report(s) of {len(plans)} district(s) on {workers} "
                      f"Dask worker(s); dashboard {dashboard or 'off'}", file=sys.stderr)
            # workers on this host share memoised results (a district's reports compute its
            # spend baseline, risk and evaluation results once, England's tables once a batch)
            todo = [dataclasses.replace(t, shared_memo=(socket.gethostname(), str(memo_dir)))
                    for t in interleave(todo, workers, last)]
            t1 = time.perf_counter()
            try:
                run_tasks(client, todo, record, kernel_name, progress)
            except KeyboardInterrupt:  # the indexes show what was built before the interrupt
                write_indexes(plans, specs, manifest, failures, reports_dir, len(plans) > 1)
                raise
            # kernels go before their workers (an interrupted batch has killed them)
            phases["run"] = time.perf_counter() - t1
            in_time(lambda: client.run(stop_kernel, on_error="ignore"), 30.0)
    t1 = time.perf_counter()
    index = write_indexes(plans, specs, manifest, failures, reports_dir, len(plans) > 1)
    phases["index"] = time.perf_counter() - t1
    return NationalReport(districts=len(plans), planned=len(tasks), skipped=len(tasks) - len(todo),
                          ran=len(todo), failures=dict(sorted(failures.items())),
                          seconds=0.0, index=index, results=results,
                          dashboard=dashboard, workers=workers, manifest=manifest_path,
                          phases={k: round(v, 2) for k, v in phases.items()})


def write_indexes(plans: Sequence[DistrictPlan], specs: Sequence[build.ReportSpec],
                  manifest: dict[str, Any], failures: dict[str, str], reports_dir: Path,
                  national: bool) -> Path | None:
    """Each district's ``reports/<code>/index.html``; the national index when asked."""
    first = None
    for p in plans:
        prefix = f"{p.district.code}/"
        fails = {k[len(prefix):]: v for k, v in failures.items() if k.startswith(prefix)}
        idx = write_index(reports_dir / p.district.code, specs, p.areas, fails)
        first = first or idx
    if national:
        return national_index.write_national_index(reports_dir, manifest, failures)
    return first


def main(args: argparse.Namespace) -> int:
    """CLI entry (``build --districts``): exit 0 when every report was built, else 1 (130
    when interrupted: Ctrl-C or SIGTERM). BuildLocked propagates (one line from the CLI)."""
    reports_dir = Path(args.reports_dir).resolve() if getattr(args, "reports_dir", None) else None
    build_dir = Path(args.build_dir).resolve() if getattr(args, "build_dir", None) else None
    try:
        rep = build_national(args.districts, only=args.only, notebooks=args.notebooks,
                             pdf=not args.no_pdf, force=args.force,
                             scheduler=args.scheduler or "local",
                             n_workers=getattr(args, "workers", None), reports_dir=reports_dir,
                             build_dir=build_dir)
    except DataError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        root = config.ROOT.resolve()
        where = manifest_for(reports_dir or config.REPORTS_DIR.resolve(), root,
                             build_dir or root / "build")
        print(f"build: interrupted; finished reports are recorded in {where}: run the same "
              "command again to resume", file=sys.stderr)
        return 130
    print(f"build: {rep.districts} district(s), {rep.planned} report(s), {rep.ran} run, "
          f"{rep.skipped} up to date; index {rep.index or '-'}")
    if rep.failures:
        print(f"build: {len(rep.failures)} report(s) failed:", file=sys.stderr)
        for tid, err in rep.failures.items():
            print(f"  {tid}: {err}", file=sys.stderr)
        return 1
    return 0
