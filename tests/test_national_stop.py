"""The national batch from the command line: Ctrl-C mid-batch stops it within seconds with
nothing half-written and a consistent manifest, a rerun resumes; a second batch into the same
folder stops with one line (the build lock); each reports folder keeps its own manifest.

The batch runs in a project root of its own (``EVIDENCE_PACK_ROOT``: links to this checkout's
code, notebooks and data; its own ``build/``), so that it never meets a real build here.
"""

from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from evidence_pack import config
from evidence_pack.publish import national
from evidence_pack.publish.national_plan import manifest_for
from evidence_pack.publish.national_worker import scratch_dir

CODES = "E06000001,E06000005"  # Hartlepool, Darlington


def test_each_reports_folder_has_its_own_manifest(tmp_path):
    root, build = tmp_path / "p", tmp_path / "p" / "build"
    default = manifest_for(root / "reports", root, build)
    assert default == build / "national" / "manifest.json"  # as before for reports/
    a = manifest_for(tmp_path / "a" / "out", root, build)
    b = manifest_for(tmp_path / "b" / "out", root, build)
    assert len({default, a, b}) == 3
    assert a.parent == b.parent == build / "national" / "manifests"
    assert a.name.startswith("out-")
    os.chdir(tmp_path)  # a relative path names the same folder
    assert manifest_for(Path("a/out"), root, build) == a


def _project(tmp: Path) -> Path:
    root = tmp / "project"
    root.mkdir()
    for name in ("data", "notebooks", "lib", "docs", "pyproject.toml"):
        (root / name).symlink_to(config.ROOT / name)
    drafts = config.ROOT / "build" / "national" / "drafts.json"
    if drafts.exists():  # drafted areas are cached under a key of the data and code
        (root / "build" / "national").mkdir(parents=True)
        (root / "build" / "national" / "drafts.json").write_bytes(drafts.read_bytes())
    return root


def _cli(root: Path, out: Path, extra: tuple[str, ...] | list[str] = ("--workers", "1"),
         **kw) -> subprocess.Popen:
    env = {**os.environ, "EVIDENCE_PACK_ROOT": str(root), "MPLBACKEND": "Agg",
           "PYTHONPATH": str(config.ROOT / "lib")}
    cmd = [sys.executable, "-m", "evidence_pack.cli", "build", "--districts", CODES,
           "--only", "borough", "--notebooks", "imd_trends", "--no-pdf", *extra,
           "--reports-dir", str(out)]
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _tasks(path: Path) -> dict:
    try:
        return json.loads(path.read_text())["tasks"]
    except (OSError, ValueError, KeyError):
        return {}


def _ctrl_c(batch: subprocess.Popen) -> str:
    """Ctrl-C to the batch's process group (as a terminal sends it); it must exit 130 within
    15 s (~3-5 s measured on 2 busy cores). Returns its stderr."""
    t0 = time.monotonic()
    os.killpg(batch.pid, signal.SIGINT)
    _, err = batch.communicate(timeout=60)
    stopped = time.monotonic() - t0
    assert batch.returncode == 130, err
    assert stopped < 15, f"took {stopped:.1f} s to stop"
    return err


@pytest.mark.mirror
@pytest.mark.slow
def test_ctrl_c_mid_batch_stops_promptly_then_resumes(tmp_path, processed):
    root, out = _project(tmp_path), tmp_path / "out"
    manifest = manifest_for(out, root, root / "build")
    batch = _cli(root, out, start_new_session=True)  # its own group, as a terminal's job
    procs: dict[int, psutil.Process] = {}
    try:
        deadline = time.monotonic() + 240
        while not manifest.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert manifest.exists(), batch.communicate(timeout=30)
        # a second batch into the same folder: one line, at once
        second = _cli(root, out)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 1
        assert err.strip().count("\n") == 0, err
        assert "another build (PID" in err and str(batch.pid) in err
        # Ctrl-C while the second report is running (one worker: the first is done)
        while not any(e.get("ok") for e in _tasks(manifest).values()):
            assert batch.poll() is None and time.monotonic() < deadline, batch.communicate()
            procs.update({p.pid: p for p in psutil.Process(batch.pid).children(recursive=True)})
            time.sleep(0.2)
        time.sleep(1.5)
        procs.update({p.pid: p for p in psutil.Process(batch.pid).children(recursive=True)})
        err = _ctrl_c(batch)
    finally:
        if batch.poll() is None:
            os.killpg(batch.pid, signal.SIGKILL)
    assert str(manifest) in err and "resume" in err
    _, alive = psutil.wait_procs(list(procs.values()), timeout=5)  # workers, kernels
    assert not alive, [p.cmdline() for p in alive]
    assert not [p for p in procs if scratch_dir(p).exists()]
    assert not list(out.rglob("*.part"))
    tasks = _tasks(manifest)
    done = [t for t, e in tasks.items() if e.get("ok")]
    assert len(done) == 1 and len(tasks) == 1  # the interrupted report is not listed
    for code in CODES.split(","):
        html = out / code / "borough" / "imd_trends.html"
        assert html.exists() == (f"{code}/borough/imd_trends" in done)
    assert not (root / "build" / "national" / "manifest.json").exists()  # reports/'s own
    assert not (root / "build" / "build.lock").exists()

    again = _cli(root, out)
    text, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "2 report(s), 1 run, 1 up to date" in text
    assert all(e.get("ok") for e in _tasks(manifest).values()) and len(_tasks(manifest)) == 2


def test_an_interrupt_waits_while_a_report_is_written():
    steps = []
    with pytest.raises(KeyboardInterrupt), national.interrupts():
        with national.committing():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler has run: it only noted the signal
            steps.append("files and manifest written")
        steps.append("not reached")
    assert steps == ["files and manifest written"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def _start(cmd: list[str], root: Path) -> subprocess.Popen:
    env = {**os.environ, "EVIDENCE_PACK_ROOT": str(root), "MPLBACKEND": "Agg",
           "PYTHONPATH": str(config.ROOT / "lib")}
    log = open(root.parent / f"{cmd[0].rsplit('_', 1)[-1]}.log", "w")  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", *cmd], cwd=root, env=env,
                            stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _kernels(pid: int) -> list[psutil.Process]:
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for p in kids:
        try:
            if "ipykernel_launcher" in " ".join(p.cmdline()):
                out.append(p)
        except psutil.Error:
            pass
    return out


@pytest.mark.mirror
@pytest.mark.slow
def test_ctrl_c_on_a_running_scheduler_kills_kernels_not_its_workers(tmp_path, processed):
    """With ``--scheduler tcp://...`` (a cluster the batch did not start), Ctrl-C stops the
    batch within seconds: the running notebook's kernel is killed, the cluster's scheduler
    and worker stay up, nothing is half-written, the worker takes new work at once, and a
    rerun on the same cluster resumes. ``EVIDENCE_PACK_TEST_KILL_DELAY`` (seconds after the
    kernel appears, default 2) moves the interrupt between the kernel's start, its warm-up
    and the notebook's cells: each has hung the worker once (0, 1, 3, 6 and 9 s all pass)."""
    root, out = _project(tmp_path), tmp_path / "out"
    manifest = manifest_for(out, root, root / "build")
    info = tmp_path / "scheduler.json"
    scheduler = _start(["distributed.cli.dask_scheduler", "--scheduler-file", str(info),
                        "--host", "127.0.0.1", "--port", "0", "--no-dashboard"], root)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        worker = _start(["distributed.cli.dask_worker", "--scheduler-file", str(info),
                         "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                         "--memory-limit", "3GB"], root)
        cmd = ["--scheduler", address]
        batch = _cli(root, out, start_new_session=True, extra=cmd)
        kernels: list[psutil.Process] = []
        try:
            deadline = time.monotonic() + 240
            while not kernels and time.monotonic() < deadline:
                assert batch.poll() is None, batch.communicate()
                kernels = _kernels(worker.pid)
                time.sleep(0.2)
            assert kernels, "no kernel started on the worker"
            sockets = glob.glob(f"{tempfile.gettempdir()}/evidence-pack-kernel-"
                                f"{kernels[0].ppid()}-*")
            assert sockets, "the kernel's socket folder was not found"
            time.sleep(2.0)  # the kernel is warming up (heavy imports) or running the notebook
            assert not _tasks(manifest)
            _ctrl_c(batch)
        finally:
            if batch.poll() is None:
                os.killpg(batch.pid, signal.SIGKILL)
        _, alive = psutil.wait_procs(kernels, timeout=5)
        assert not alive, "the running notebook's kernel outlived the interrupt"
        assert not [d for d in sockets if os.path.exists(d)], "its socket folder was left"
        assert scheduler.poll() is None and worker.poll() is None  # not the batch's to stop
        # and its worker is free again at once: the cancelled report neither starts another
        # kernel nor waits for ever on its dead one
        from dask.distributed import Client

        with Client(address, timeout=30) as dask:
            assert dask.submit(os.getpid, pure=False).result(timeout=30) > 0
        assert not list(out.rglob("*.part")) and not list(out.rglob("imd_trends.html"))
        assert not _tasks(manifest)
        assert not (root / "build" / "build.lock").exists()

        again = _cli(root, out, extra=cmd)
        text, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        assert "2 report(s), 2 run, 0 up to date" in text
        assert len(_tasks(manifest)) == 2 and all(e.get("ok") for e in _tasks(manifest).values())
    finally:
        for proc in (worker, scheduler):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
