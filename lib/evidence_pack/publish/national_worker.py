"""Worker side of the national batch: run one (district, area, notebook) task and return the
rendered report files to the client.

Each Dask worker process keeps one warm Jupyter kernel (the single-district build's kernel
machinery: heavy imports and the package's cached national tables stay loaded between runs,
the namespace is cleared before each run). A task brings its notebook and areas file as text;
the worker writes the notebook to its own scratch folder and the areas file at its path
under the worker's project root (when missing or different), executes the notebook, renders HTML (and PDF) there, reads the files back and
deletes them. Nothing goes to the client's ``reports/``: the client writes what it receives.

What a worker needs: this package installed with the ``evidence-pack`` kernel registered, and
``data/processed`` under its project root (``EVIDENCE_PACK_ROOT`` or the source checkout).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import multiprocessing.util
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from evidence_pack import config
from evidence_pack.analysis.areas import load_areas
from evidence_pack.publish import kernels, runner
from evidence_pack.publish.national_plan import Task, place_areas_file
from evidence_pack.publish.plan import Settings
from evidence_pack.sources.io import write_text

#: A worker's budget (process + kernel, MB): past this share of it, the kernel is restarted.
MEMORY_BUDGET_MB = 3000
RESTART_SHARE = 0.8

_STATE: dict[str, Any] = {}


def scratch_dir(pid: int | None = None) -> Path:
    """A worker process's own scratch folder (this process's by default)."""
    return Path(tempfile.gettempdir()) / f"evidence-pack-worker-{pid or os.getpid()}"


def remove_scratch(pid: int | None = None) -> None:
    """Delete a worker's scratch folder (at the worker's exit; by the client for a worker it
    had to kill)."""
    shutil.rmtree(scratch_dir(pid), ignore_errors=True)


def shared_memo_dir(task: Task) -> str | None:
    """The folder of memoised results this worker shares with the others on its host (the
    task's, when the worker runs on the client's host), else None (its own, in its scratch
    folder)."""
    if task.shared_memo and task.shared_memo[0] == socket.gethostname():
        return task.shared_memo[1]
    return None


def _settings(kernel_name: str, memo: str | None = None) -> Settings:
    """The worker's run settings, handed once to the build's runner (its warm kernel starts
    on the first run). The runner keeps this very object: :func:`run_task` sets its
    per-task fields (reports folder, district name, PDF) before each run. ``memo``: the
    shared folder of memoised results (None: the worker's own); the kernel reads it at its
    start, so a change restarts it."""
    if (_STATE.get("pid") != os.getpid() or _STATE.get("kernel") != kernel_name
            or _STATE.get("memo") != memo):
        if _STATE.get("pid") == os.getpid():
            kernels.stop_kernel()
        wd = scratch_dir()
        s = Settings(root=str(config.ROOT), reports_dir=str(wd / "reports"),
                     build_dir=str(wd / "build"), pdf=False, kernel_name=kernel_name,
                     memo_dir=memo or "")
        # Not a pool worker: Dask runs tasks in a thread, where signal handlers cannot be set.
        runner.init_worker(s, in_pool=False)
        multiprocessing.util.Finalize(None, kernels.stop_kernel, exitpriority=10)
        multiprocessing.util.Finalize(None, remove_scratch, exitpriority=5)  # after the kernel
        _STATE.update(pid=os.getpid(), kernel=kernel_name, settings=s, memo=memo)
    return _STATE["settings"]


def _notebook_file(name: str, text: str) -> Path:
    """The task's notebook, written once per content into the scratch folder."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = scratch_dir() / "notebooks" / digest / f"{name}.ipynb"
    if not path.exists():
        write_text(text, path)
    return path


def memory_mb() -> float:
    """Resident memory of this worker process and its children (the kernel), MB."""
    import psutil

    me = psutil.Process()
    total = me.memory_info().rss
    for child in me.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total / 1e6


def run_task(task: Task, kernel_name: str = config.KERNEL_NAME) -> dict[str, Any]:
    """Execute and render one report; never raises. Returns ``ok``, ``seconds``, ``error``,
    ``summary`` (key figures), ``files`` (suffix -> bytes: html, json, pdf), ``worker_mb``,
    ``timings`` (seconds by phase: ``setup`` before the run, the runner's ``execute`` (with a
    kernel start on a worker's first task) and ``html``/``pdf``, ``collect`` reading the files
    back)."""
    t0 = time.perf_counter()
    out: dict[str, Any] = {"id": task.id, "ok": False, "error": "", "summary": {},
                           "files": {}, "dropped_outputs": 0, "pid": os.getpid(),
                           "timings": {}}
    try:
        s = _settings(kernel_name, shared_memo_dir(task))
        root = Path(s.root)
        areas_path = place_areas_file(task.areas_rel, task.areas_text, root)
        job = dataclasses.replace(task.job, path=str(_notebook_file(task.job.notebook,
                                                                     task.notebook_text)))
        s.reports_dir = str(scratch_dir() / "reports" / task.district)
        s.la_name = load_areas(areas_path).la_name
        s.pdf = task.pdf
        setup = time.perf_counter() - t0
        res = runner.run_job(job)
        t1 = time.perf_counter()
        out.update(ok=res.ok, error=res.error, summary=res.summary,
                   dropped_outputs=res.dropped_outputs,
                   timings={"setup": setup, **res.timings})
        wanted = {k for k in job.outputs(Path(".")) if task.pdf or k != "pdf"}
        for kind, path in job.outputs(Path(s.reports_dir)).items():
            if path.exists():
                if res.ok and kind in wanted:
                    out["files"][kind] = path.read_bytes()
                path.unlink()
        with contextlib.suppress(OSError):
            runner.executed_path(job, s).unlink()
        if res.ok and set(out["files"]) != wanted:
            out.update(ok=False, error=f"rendered files missing: {sorted(out['files'])}",
                       files={})
        out["timings"]["collect"] = time.perf_counter() - t1
        out["timings"] = {k: round(v, 3) for k, v in out["timings"].items()}
    except Exception as exc:  # noqa: BLE001 - every failure is reported, none is fatal
        out.update(ok=False, error=f"{type(exc).__name__}: {exc}", files={})
    out["seconds"] = time.perf_counter() - t0
    out["worker_mb"] = memory_mb()
    if out["worker_mb"] > RESTART_SHARE * MEMORY_BUDGET_MB:  # stay under budget: fresh kernel
        stop_kernel()
    return out


def stop_kernel() -> None:
    """Stop this worker's warm kernel (at the end of a batch; the worker stays up)."""
    if _STATE.get("pid") == os.getpid():
        kernels.stop_kernel()
        _STATE.clear()


def kill_kernels() -> int:
    """Kill this worker's kernel (and anything it started) at once, without talking to it: an
    interrupted batch's running notebook stops here and the worker is idle again (its next
    task starts a fresh kernel). Runs on the worker's event loop; returns how many were
    killed."""
    import psutil

    kernels.kernels_killed()  # the task in progress must not start another kernel
    n = 0
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error, OSError):
            os.kill(child.pid, signal.SIGKILL)
            n += 1
    with contextlib.suppress(psutil.Error, OSError):  # reaped: no zombie left behind
        psutil.wait_procs(children, timeout=1.0)
    kernels.remove_socket_dir(kernels.worker_state.get("km"))  # its sockets' folder in /tmp
    return n


def kernel_pids() -> list[int]:
    """Process ids of this worker's children (its kernel), for tests and clean-up."""
    import psutil

    return [c.pid for c in psutil.Process().children(recursive=True)]
