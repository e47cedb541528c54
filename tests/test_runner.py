"""The worker's warm kernel: clients papermill opens on it see every output, and the
warm-up leaves collections cheap (the imported modules are frozen out of the collector)."""

from __future__ import annotations

import pytest
from evidence_pack import config
from evidence_pack.publish import runner
from evidence_pack.publish.plan import Settings


@pytest.fixture(scope="module")
def warm_kernel(tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("build")
    settings = Settings(root=str(config.ROOT), reports_dir=str(build_dir / "reports"),
                        build_dir=str(build_dir), pdf=False)
    runner.init_worker(None, settings, in_pool=False)
    km = runner._kernel_for_run()
    yield km
    runner.stop_kernel()


def test_each_new_client_is_live_and_clean(warm_kernel):
    """A client is handed to papermill once its IOPub subscription is live and nothing of the
    readiness check is left unread: the next request's busy state is the first message it
    gets, then its output, then idle; every time."""
    for i in range(15):
        client = warm_kernel.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=30)
            msg_id = client.execute(f"print('run {i}')", store_history=False)
            got = []
            while ("status", "idle") not in got:
                msg = client.get_iopub_msg(timeout=5)
                assert msg["parent_header"].get("msg_id") == msg_id, msg["msg_type"]
                got.append((msg["msg_type"], msg["content"].get("execution_state",
                                                                msg["content"].get("text"))))
            assert got == [("status", "busy"), ("execute_input", None),
                           ("stream", f"run {i}\n"), ("status", "idle")]
        finally:
            client.stop_channels()


def test_warm_up_freezes_the_imported_modules(warm_kernel):
    """After the warm-up the heavy modules' objects are out of the collector's reach, so the
    reset between reports (a full collection) stays cheap."""
    client = warm_kernel.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        seen: list[str] = []
        client.execute_interactive("import gc; print(gc.get_freeze_count())", timeout=30,
                                   store_history=False,
                                   output_hook=lambda m: seen.append(m["content"].get("text", ""))
                                   if m["msg_type"] == "stream" else None)
        assert int("".join(seen).strip()) > 100_000  # pandas, geopandas, matplotlib, the package
    finally:
        client.stop_channels()


def test_code_on_a_kernel_killed_meanwhile_fails_within_seconds(tmp_path):
    """A kernel killed while it runs the warm-up or the reset (an interrupted batch kills
    kernels) fails the run within about a second, instead of holding the worker for the
    whole timeout."""
    import os
    import signal
    import threading
    import time

    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=config.KERNEL_NAME)
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        assert runner.run_code(km, kc, "x = 1", timeout=30)["content"]["status"] == "ok"
        pid = km.provisioner.process.pid
        threading.Timer(1.0, os.kill, (pid, signal.SIGKILL)).start()
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="died"):
            runner.run_code(km, kc, "import time; time.sleep(300)", timeout=120)
        assert time.monotonic() - t0 < 10
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
