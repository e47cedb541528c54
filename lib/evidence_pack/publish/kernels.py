"""A worker's warm kernel: started once per worker process (IPC sockets in a folder of its
own, the notebooks' heavy imports warmed up), reset between reports (``%reset -f``), and
killed with its whole process group when the worker stops (``kill_kernel``).

``worker_state`` is this process's worker state, shared with ``runner``: the settings, the
kernel manager and client, the clients papermill opened, the number of runs, and the stop
flags. ``EVIDENCE_PACK_RUNS_PER_KERNEL=1`` (``Settings.runs_per_kernel``) gives a fresh
kernel every run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence_pack.publish.jobs import Settings

#: This process's worker state (``runner.init_worker`` fills it).
worker_state: dict[str, Any] = {}
_W = worker_state

#: Seconds a new client waits for an IOPub message before it asks the kernel again.
SUBSCRIBE_POLL_S = 0.02


#: Seconds a papermill client waits on one channel before it checks that its kernel lives.
ALIVE_POLL_S = 1.0


#: Modules the notebooks import (the heavy ones: ~3-7 s in all), imported by the warm-up so
#: that a worker's first report does not pay for them; one that fails is left for the notebook
#: to import and report. Not seaborn: ``report.setup`` reads its theme from the build's memo.
PREIMPORT = (
    "numpy", "pandas", "matplotlib.pyplot", "geopandas", "pyarrow.parquet",
    "evidence_pack.publish.report", "evidence_pack.analysis.areas",
    "evidence_pack.analysis.borough_facts", "evidence_pack.analysis.briefing",
    "evidence_pack.analysis.district_history", "evidence_pack.analysis.evaluation",
    "evidence_pack.analysis.partner_spend", "evidence_pack.analysis.profile",
    "evidence_pack.analysis.risk", "evidence_pack.analysis.spend", "evidence_pack.analysis.trends",
    "evidence_pack.charts.briefing", "evidence_pack.charts.evaluation", "evidence_pack.charts.maps",
    "evidence_pack.charts.profile", "evidence_pack.charts.risk", "evidence_pack.charts.spend",
    "evidence_pack.charts.trends", "evidence_pack.findings.briefing",
    "evidence_pack.findings.evaluation", "evidence_pack.findings.evaluation_tables",
    "evidence_pack.findings.format", "evidence_pack.findings.profile", "evidence_pack.findings.risk",
    "evidence_pack.findings.risk_tables", "evidence_pack.findings.spend",
    "evidence_pack.findings.spend_tables", "evidence_pack.findings.trend_tables",
    "evidence_pack.findings.trends", "evidence_pack.sources.cra", "evidence_pack.stores.iod",
    "evidence_pack.stores.lsoa_geography", "evidence_pack.stores.public_spend",
    "evidence_pack.stores.spend_returns", "evidence_pack.analysis.evaluation_match",
)


#: Arguments of every kernel, each dropping per-cell work that a batch run never uses:
#: - no input history (IPython writes each cell to a SQLite file in the user's profile: ~1 s of
#:   a 31-report rebuild, for a history nobody reads);
#: - no output cache (``Out``, ``_``): nothing reads it, and clearing it made each reset between
#:   reports a full garbage collection;
#: - no top-level ``await`` (IPython compiled every cell once more to look for one).
KERNEL_ARGS = ["--HistoryManager.enabled=False", "--InteractiveShell.cache_size=0",
               "--InteractiveShell.autoawait=False"]


# Code run once in each new kernel: the Agg backend, then the heavy imports (they stay loaded
# for every later run in that kernel; %reset -f clears names, not sys.modules).
_WARMUP = """
import matplotlib
matplotlib.use("Agg")
import importlib as _il
for _m in {modules!r}:
    try:
        _il.import_module(_m)
    except Exception:
        pass
del _il, _m
import gc as _gc
_gc.collect()
_gc.freeze()  # the imported modules' objects: never traversed by a later collection
del _gc
"""


# Run before each notebook in a reused kernel: a clean namespace and default state.
_RESET = r"""
%reset -f
import os as _os, sys as _sys
_os.chdir({root!r})
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
    _sys.modules["matplotlib"].rcdefaults()
if "evidence_pack.publish.report" in _sys.modules:
    _sys.modules["evidence_pack.publish.report"]._summary.clear()
if "evidence_pack.sources.table_cache" in _sys.modules:
    _sys.modules["evidence_pack.sources.table_cache"].forget_data_stamp()
del _os, _sys
"""


def kill_kernel() -> None:
    """Kill the kernel's whole process group now (it runs in a session of its own)."""
    km = _W.get("km")
    proc = getattr(getattr(km, "provisioner", None), "process", None)
    pid = getattr(proc, "pid", None)
    if pid:
        with contextlib.suppress(OSError):
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        km.cleanup_resources()
    remove_socket_dir(km)


def kernels_killed() -> None:
    """Record that this process's kernels were killed from outside (an interrupted national
    batch, from the worker's event loop): the run in progress gives up at its next step
    instead of starting another kernel for a report nobody waits for."""
    _W["kills"] = _W.get("kills", 0) + 1


def check_not_stopped() -> None:
    if _W.get("kills", 0) != _W.get("kills_at_start", 0):
        raise RuntimeError("stopped: the batch was interrupted")


def stop_kernel() -> None:
    km, kc = _W.get("km"), _W.get("kc")
    for c in [kc, *_W.get("clients", [])]:
        with contextlib.suppress(Exception):
            c.stop_channels()
    if km is not None:
        with contextlib.suppress(Exception):
            km.shutdown_kernel(now=True)
        remove_socket_dir(km)
    _W.update(km=None, kc=None, runs=0, clients=[])


def socket_dir_kernel(kernel_name: str) -> Any:
    """A kernel manager whose kernel listens on IPC sockets in a new folder of its own."""
    from jupyter_client.manager import KernelManager

    folder = tempfile.mkdtemp(prefix=f"evidence-pack-kernel-{os.getpid()}-")
    return KernelManager(kernel_name=kernel_name, transport="ipc",
                         ip=os.path.join(folder, "kernel"))


def remove_socket_dir(km: Any) -> None:
    if getattr(km, "transport", "") == "ipc":
        shutil.rmtree(os.path.dirname(km.ip), ignore_errors=True)


def _fresh_session(km: Any) -> Any:
    from jupyter_client.session import Session

    return Session(key=km.session.key, signature_scheme=km.session.signature_scheme,
                   username="evidence-pack")


def start_kernel() -> None:
    s: Settings = _W["settings"]
    last: Exception | None = None
    for _attempt in range(3):
        check_not_stopped()
        km = socket_dir_kernel(s.kernel_name)
        try:
            log_dir = Path(s.build_dir) / "logs"
            log_dir.mkdir(parents=True, exist_ok=True)
            err = open(log_dir / f"kernel-{os.getpid()}.log", "ab")  # noqa: SIM115
            km.start_kernel(cwd=s.root, stdout=err, stderr=err, extra_arguments=KERNEL_ARGS,
                            env={**os.environ, "MPLBACKEND": "Agg",
                                 "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                                 "EVIDENCE_PACK_MEMO_DIR": memo_dir(s)})
            _W["km"] = km  # known at once, so that SIGTERM can kill it
            kc = km.client(session=_fresh_session(km))
            kc.start_channels()
            kc.wait_for_ready(timeout=s.start_timeout)
        except Exception as exc:  # a slow or failed start: retry with a new kernel
            last = exc
            with contextlib.suppress(Exception):
                km.shutdown_kernel(now=True)
            remove_socket_dir(km)
            _W["km"] = None
            continue
        reply = run_code(km, kc, _WARMUP.format(modules=PREIMPORT), timeout=s.start_timeout)
        if reply["content"].get("status") != "ok":
            raise RuntimeError(f"kernel warm-up failed: {reply['content'].get('evalue')}")
        check_not_stopped()
        orig_client = km.client

        def client(orig_client: Any = orig_client, km: Any = km, **kw: Any) -> Any:
            # A session of its own (a zmq identity of its own: replies never go astray),
            # remembered so that it is closed after the run.
            c = orig_client(**{"session": _fresh_session(km), **kw})
            c.wait_for_ready = functools.partial(_wait_until_subscribed, c)
            for channel in (c.iopub_channel, c.shell_channel):
                channel.get_msg = _get_msg_while_alive(channel.get_msg, km)
            _W["clients"].append(c)
            return c

        km.client = client  # type: ignore[method-assign]
        _W.update(km=km, kc=kc, runs=0, clients=[])
        return
    raise RuntimeError(f"could not start kernel {s.kernel_name!r}: {last}")


def run_code(km: Any, kc: Any, code: str, timeout: float) -> dict[str, Any]:
    """Run ``code`` on the kernel and return its execute reply. Raises RuntimeError as soon as
    the kernel is found dead (checked every second) or after ``timeout`` seconds: a kernel
    killed while it warms up (an interrupted batch) must not hold its worker for the whole
    timeout, as jupyter_client's ``execute_interactive`` would. Its IOPub messages are
    dropped."""
    msg_id = kc.execute(code, silent=False, store_history=False)
    get_reply = _get_msg_while_alive(kc.get_shell_msg, km)  # DeadKernelError is a RuntimeError
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                reply = get_reply(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"the kernel did not answer in {timeout:.0f} s") from None
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply
    finally:
        with contextlib.suppress(Exception):
            while True:
                kc.get_iopub_msg(timeout=0)


def _get_msg_while_alive(get_msg: Callable[..., dict[str, Any]], km: Any,
                         slice_s: float = ALIVE_POLL_S) -> Callable[..., dict[str, Any]]:
    """A channel's ``get_msg`` that waits at most ``slice_s`` seconds at a time and raises
    DeadKernelError once the kernel is dead. papermill is handed this blocking client, and
    nbclient waits for a cell's output with no timeout on the same event loop as its own
    liveness check: a kernel that dies mid-cell (killed by an interrupted batch, or by the
    system for memory) would hang the run for ever. A live kernel keeps the caller's timeout."""
    # imported here, as papermill is: nbclient imports nbformat and jsonschema (~1 s), which a
    # build with nothing to run must not pay
    from nbclient.exceptions import DeadKernelError

    def get(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = slice_s if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                return get_msg(timeout=min(slice_s, left))
            except queue.Empty:
                if not km.is_alive():
                    raise DeadKernelError("the kernel died") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    return get


def _wait_until_subscribed(client: Any, timeout: float | None = None) -> None:
    """Return once a new client on a running kernel is ready: its kernel_info request is
    answered on the shell channel and the request's busy and idle states have reached it on
    IOPub (so the subscription is live and nothing of the check is left unread).
    jupyter_client's own ``wait_for_ready`` ends by waiting for 0.2 s of silence on IOPub:
    0.2 s a report. A round that gets no IOPub message within 20 ms asks again."""
    deadline = time.monotonic() + (timeout or 60.0)
    while time.monotonic() < deadline:
        msg_id = client.kernel_info()
        try:
            reply = client.get_shell_msg(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if reply["parent_header"].get("msg_id") != msg_id:
            continue
        seen = False
        while True:
            wait = max(0.01, deadline - time.monotonic()) if seen else SUBSCRIBE_POLL_S
            try:
                msg = client.get_iopub_msg(timeout=wait)
            except queue.Empty:
                break
            if msg["parent_header"].get("msg_id") == msg_id:
                seen = True
                if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    return
    raise RuntimeError("the kernel did not answer a new client in time")


def kernel_for_run() -> Any:
    s: Settings = _W["settings"]
    km = _W.get("km")
    if km is not None and (not km.is_alive() or (s.runs_per_kernel and _W["runs"] >= s.runs_per_kernel)):
        stop_kernel()
    if _W.get("km") is None:
        start_kernel()
    else:
        try:
            reply = run_code(km, _W["kc"], _RESET.format(root=s.root), timeout=60)
        except RuntimeError:
            reply = {"content": {"status": "error"}}
        if reply["content"].get("status") != "ok":
            stop_kernel()
            start_kernel()
    check_not_stopped()
    _W["runs"] += 1
    return _W["km"]


def memo_dir(settings: Settings) -> str:
    """Where the build's kernels keep memoised district- and England-wide results
    (``table_cache.memo``): one kernel computes, the others read."""
    return (settings.memo_dir or os.environ.get("EVIDENCE_PACK_MEMO_DIR")
            or str(Path(settings.build_dir) / "memo"))
