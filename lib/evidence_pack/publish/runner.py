"""Run jobs: execute each notebook with papermill on a warm kernel and publish its report,
in ``--jobs`` worker processes (or in this process for one job).

Each worker keeps one warm kernel (``kernels``: heavy imports done once, namespace cleared
between runs). Kernels talk over IPC sockets in a folder of their own, not TCP ports, so
workers start theirs at the same time with no port race (papermill issues 239/511) and no open
port. Workers render HTML and PDF themselves, so both cores render.

Interruption: workers ignore SIGINT; the driver, on Ctrl-C or SIGTERM, cancels queued runs and
sends SIGTERM to the workers, each of which kills its kernel's process group and exits at once
(a worker renaming a report's files finishes that first). Reports published before are kept.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing as mp
import multiprocessing.util
import os
import signal
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from evidence_pack.publish import kernels, render
from evidence_pack.publish.jobs import Job, Result, Settings
from evidence_pack.publish.jupyter_imports import skip_unused_grammars
from evidence_pack.sources.io import atomic_path, write_text

CELL_TIMEOUT_S = 1800
#: Seconds a worker gets to exit after SIGTERM before it is killed.
STOP_GRACE_S = 3.0

_W = kernels.worker_state


# --------------------------------------------------------------------------- worker side


def init_worker(settings: Settings, in_pool: bool = True) -> None:
    """Set up this process to run jobs (a pool worker, or the driver itself for one job)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    skip_unused_grammars()  # ~2 s of jsonschema import in each worker (jupyter_imports)
    _W.clear()
    _W.update(settings=settings, km=None, kc=None, runs=0, clients=[],
              committing=False, term=False)
    if in_pool:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides
        signal.signal(signal.SIGTERM, _on_term)
        multiprocessing.util.Finalize(None, kernels.stop_kernel, exitpriority=10)
    # Import papermill and the renderers while the first kernel starts (another process).
    _W["prewarm"] = threading.Thread(target=_prewarm, daemon=True)
    _W["prewarm"].start()


def _prewarm() -> None:
    with contextlib.suppress(Exception):
        import papermill  # noqa: F401
    render.prewarm(pdf=_W["settings"].pdf)


def _wait_prewarm() -> None:
    t = _W.pop("prewarm", None)
    if t is not None:
        t.join()


def _on_term(signum: int, frame: Any) -> None:
    if _W.get("committing"):
        _W["term"] = True  # exit once the report's files are renamed
        return
    kernels.kill_kernel()
    os._exit(128 + signum)


@contextlib.contextmanager
def _committing() -> Iterator[None]:
    _W["committing"] = True
    try:
        yield
    finally:
        _W["committing"] = False
        if _W.get("term"):
            kernels.kill_kernel()
            os._exit(128 + signal.SIGTERM)


def _execute(job: Job) -> Any:
    # imported before the kernel starts, not at once with the prewarm thread: two threads
    # importing jupyter_client at once can meet it half-initialised (an ImportError, seen
    # in a national worker)
    import nbformat
    import papermill

    s: Settings = _W["settings"]
    t0 = time.perf_counter()
    km = kernels.kernel_for_run()
    _W["kernel_s"] = time.perf_counter() - t0  # a start, or the reset of a warm kernel
    nb = nbformat.read(job.path, as_version=4)
    nb.metadata["kernelspec"] = {"name": s.kernel_name, "language": "python",
                                 "display_name": s.kernel_name}
    nb.metadata.setdefault("language_info", {"name": "python"})
    try:
        return papermill.execute_notebook(
            nb, None, parameters=job.parameters, kernel_name=s.kernel_name, km=km,
            progress_bar=False, log_output=False, request_save_on_cell_execute=False,
            start_timeout=s.start_timeout, execution_timeout=CELL_TIMEOUT_S, cwd=s.root)
    finally:
        for c in _W["clients"]:
            with contextlib.suppress(Exception):
                c.stop_channels()
        _W["clients"] = []


def describe_error(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill.PapermillExecutionError
        return f"cell {getattr(exc, 'exec_count', '?')}: {ename}: {getattr(exc, 'evalue', '')}"
    return f"{type(exc).__name__}: {exc}"


def executed_path(job: Job, settings: Settings) -> Path:
    return Path(settings.build_dir) / "executed" / job.area / f"{job.notebook}.ipynb"


def _log_path(job: Job, settings: Settings) -> Path:
    return Path(settings.build_dir) / "logs" / f"{job.area}__{job.notebook}.log"


def run_job(job: Job) -> Result:
    """Execute one notebook and publish its report in this process; never raises for a failed
    run (the report's old files are removed and the failure logged), only for an interrupt."""
    s: Settings = _W["settings"]
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    _W["kills_at_start"] = _W.get("kills", 0)
    try:
        try:
            nb = _execute(job)  # the renderers load meanwhile (init_worker's thread)
        except Exception:
            kernels.stop_kernel()  # a failed run may leave the kernel in any state
            raise
        timings["execute"] = time.perf_counter() - t0
        timings["kernel"] = _W.pop("kernel_s", 0.0)  # part of execute
        _wait_prewarm()
        import nbformat
        with atomic_path(executed_path(job, s)) as tmp:
            nbformat.write(nb, str(tmp))
        summary, dropped, phases = render.write_unit(job, nb, s, guard=_committing)
        timings.update(phases)
        with contextlib.suppress(OSError):
            _log_path(job, s).unlink()
        return Result(job.id, True, time.perf_counter() - t0, summary=summary,
                      dropped_outputs=dropped, timings=timings)
    except Exception as exc:  # every failure is reported, none is fatal
        render.remove_unit(job, Path(s.reports_dir))
        with contextlib.suppress(OSError):
            write_text("".join(traceback.format_exception(exc)), _log_path(job, s))
        return Result(job.id, False, time.perf_counter() - t0, error=describe_error(exc),
                      timings=timings)


# --------------------------------------------------------------------------- driver side


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """In the main thread, SIGTERM raises KeyboardInterrupt (like Ctrl-C) while inside."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _stop_workers(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel queued runs, SIGTERM every worker (it kills its kernel), kill stragglers."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            with contextlib.suppress(Exception):
                p.kill()
                p.join(1.0)


@contextlib.contextmanager
def main_module_hidden() -> Iterator[None]:
    """While inside, processes spawned by this thread do not run the driver's ``__main__``.
    A spawned child imports the parent's main script (so that what it defines unpickles);
    the ``evidence-pack`` console script imports the whole CLI (pandas, matplotlib,
    geopandas: ~1.1 s of CPU in each worker). Workers run only ``init_worker`` and
    ``run_job``, which live here."""
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def run_all(todo: Sequence[Job], settings: Settings, jobs: int, progress: bool,
            record: Callable[[Result, Job], None]) -> None:
    """Run every job, calling ``record`` as each finishes. KeyboardInterrupt (Ctrl-C, or
    SIGTERM inside :func:`sigterm_as_interrupt`) stops the workers and propagates."""
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="reports", unit="report", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)
    try:
        if jobs <= 1 or len(todo) == 1:
            init_worker(settings, in_pool=False)
            try:
                for job in todo:
                    bar.set_postfix_str(job.id)
                    record(run_job(job), job)
                    bar.update()
            finally:
                kernels.stop_kernel()
            return
        ctx = mp.get_context("spawn")
        pool = cf.ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx,
                                      initializer=init_worker,
                                      initargs=(settings,))
        try:
            with main_module_hidden():  # the workers start at the first submits
                running = {pool.submit(run_job, job): job for job in todo}
            while running:
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    job = running.pop(fut)
                    try:
                        res = fut.result()
                    except Exception as exc:  # the worker process died
                        res = Result(job.id, False, 0.0,
                                     error=f"worker crashed: {describe_error(exc)}")
                    record(res, job)
                    bar.set_postfix_str(job.id)
                    bar.update()
        except BaseException:
            _stop_workers(pool)
            raise
        # Every run is done: stop the workers the quick way, as on Ctrl-C (each kills its
        # kernel's process group and exits), not by polite kernel shutdowns (~0.9 s a build).
        _stop_workers(pool)
    finally:
        bar.close()
