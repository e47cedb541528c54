"""The worker's warm kernel: clients papermill opens on it see every output, and the
warm-up leaves collections cheap (the imported modules are frozen out of the collector)."""

from __future__ import annotations

import os
import signal
import threading
import time

import nbformat
import pytest
from evidence_pack import config
from evidence_pack.publish import kernels, plan, runner
from evidence_pack.publish.plan import Settings


@pytest.fixture(scope="module")
def warm_kernel(tmp_path_factory):
    build_dir = tmp_path_factory.mktemp("build")
    settings = Settings(root=str(config.ROOT), reports_dir=str(build_dir / "reports"),
                        build_dir=str(build_dir), pdf=False)
    runner.init_worker(settings, in_pool=False)
    km = kernels.kernel_for_run()
    yield km
    kernels.stop_kernel()


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


def _printed(km, code: str) -> str:
    """What ``code`` prints on the kernel of ``km``, through a new client."""
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        seen: list[str] = []
        client.execute_interactive(code, timeout=30, store_history=False,
                                   output_hook=lambda m: seen.append(m["content"].get("text", ""))
                                   if m["msg_type"] == "stream" else None)
        return "".join(seen).strip()
    finally:
        client.stop_channels()


def test_warm_up_freezes_the_imported_modules(warm_kernel):
    """After the warm-up the heavy modules' objects are out of the collector's reach, so the
    collections of every later report stay cheap."""
    printed = _printed(warm_kernel, "import gc; print(gc.get_freeze_count())")
    assert int(printed) > 100_000  # pandas, geopandas, matplotlib, the package


def test_kernels_keep_no_input_history(warm_kernel):
    """Kernels start with IPython's history off: no SQLite write for every cell of a build."""
    assert _printed(warm_kernel, "print(get_ipython().history_manager.enabled)") == "False"


def test_kernels_cache_no_outputs_and_await_nothing(warm_kernel):
    """Kernels keep no output cache (so the reset between reports is no full collection) and
    look for no top-level await (a second compile of every cell); a result still prints."""
    code = ("ip = get_ipython(); print(bool(ip.displayhook.do_full_cache), ip.autoawait, "
            "ip.should_run_async('await x'))")
    assert _printed(warm_kernel, code) == "False False False"
    client = warm_kernel.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=30)
        seen: list[str] = []
        client.execute_interactive("6 * 7", timeout=30, store_history=False,
                                   output_hook=lambda m: seen.append(m["content"]["data"]
                                                                     ["text/plain"])
                                   if m["msg_type"] == "execute_result" else None)
        assert seen == ["42"]
    finally:
        client.stop_channels()


def test_the_reset_between_reports_keeps_the_kernel_and_forgets_per_report_state(warm_kernel):
    """The reset before each report runs cleanly on the warm kernel (a failing reset would
    quietly start a new kernel each report): names, key figures and the data stamp go, the
    kernel and its imports stay."""
    pid = warm_kernel.provisioner.process.pid
    _printed(warm_kernel, "from evidence_pack.sources import table_cache\n"
                          "table_cache._STAMP['x'] = (1,); left_over = 1")
    km = kernels.kernel_for_run()
    assert km is warm_kernel and km.provisioner.process.pid == pid
    code = ("import sys; print('left_over' in globals(), "
            "sys.modules['evidence_pack.sources.table_cache']._STAMP)")
    assert _printed(km, code) == "False {}"


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
        assert kernels.run_code(km, kc, "x = 1", timeout=30)["content"]["status"] == "ok"
        pid = km.provisioner.process.pid
        threading.Timer(1.0, os.kill, (pid, signal.SIGKILL)).start()
        t0 = time.monotonic()
        with pytest.raises(RuntimeError, match="died"):
            kernels.run_code(km, kc, "import time; time.sleep(300)", timeout=120)
        assert time.monotonic() - t0 < 10
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _one_cell_job(tmp_path, source: str) -> plan.Job:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, str(path))
    return plan.Job(notebook="slow", path=str(path), area="borough", area_name="borough",
                    parameters={}, key="k", title="slow")


def _fresh_runner(tmp_path) -> None:
    kernels.stop_kernel()  # the module's warm kernel, if a test above started it
    settings = Settings(root=str(config.ROOT), reports_dir=str(tmp_path / "reports"),
                        build_dir=str(tmp_path / "build"), pdf=False)
    runner.init_worker(settings, in_pool=False)


def test_a_kernel_killed_mid_cell_fails_the_run_instead_of_hanging(tmp_path):
    """papermill waits for a cell's output with no timeout: a kernel killed while a cell runs
    (an interrupted national batch, the system short of memory) must fail that report within
    seconds, not hold its worker for ever."""
    started = tmp_path / "started"
    job = _one_cell_job(tmp_path, f"import pathlib, time\npathlib.Path({str(started)!r}).touch()\n"
                                  "time.sleep(600)")
    _fresh_runner(tmp_path)
    results: list = []
    run = threading.Thread(target=lambda: results.append(runner.run_job(job)), daemon=True)
    try:
        run.start()
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert started.exists(), "the cell never ran"
        os.kill(runner._W["km"].provisioner.process.pid, signal.SIGKILL)
        run.join(60)
        assert not run.is_alive(), "the run still waits on its dead kernel"
        assert not results[0].ok and "died" in results[0].error
        assert not (tmp_path / "reports" / "borough" / "slow.html").exists()
    finally:
        kernels.stop_kernel()


def test_a_run_whose_kernels_were_killed_gives_up_instead_of_starting_another(tmp_path,
                                                                           monkeypatch):
    """When an interrupted batch kills a worker's kernels while a report's kernel is starting,
    that report is abandoned (failed, no kernel left running), not run to the end on a new
    kernel while the worker's next task waits."""

    from jupyter_client.manager import KernelManager

    start = KernelManager.start_kernel

    def interrupted_while_starting(self, **kw):
        kernels.kernels_killed()  # as the batch's kill_kernels does, from the event loop
        return start(self, **kw)

    job = _one_cell_job(tmp_path, "x = 1")
    _fresh_runner(tmp_path)
    try:
        monkeypatch.setattr(KernelManager, "start_kernel", interrupted_while_starting)
        res = runner.run_job(job)
        assert not res.ok and "interrupted" in res.error
        assert runner._W["km"] is None  # its kernel was shut down
        monkeypatch.undo()
        _fresh_runner(tmp_path)  # the worker's next task runs normally
        assert runner.run_job(job).ok
    finally:
        kernels.stop_kernel()


def test_kernels_listen_on_sockets_of_their_own_removed_with_them(tmp_path):
    """Each kernel listens on IPC sockets in a new folder (no TCP port to race for or leave
    open); stopping the kernel removes the folder."""
    _fresh_runner(tmp_path)
    try:
        km = kernels.kernel_for_run()
        assert km.transport == "ipc"
        folder = os.path.dirname(km.ip)
        assert os.path.isdir(folder) and os.listdir(folder)  # the sockets
        other = kernels.socket_dir_kernel(config.KERNEL_NAME)
        assert os.path.dirname(other.ip) != folder  # a second worker's never clashes
        kernels.remove_socket_dir(other)
    finally:
        kernels.stop_kernel()
    assert not os.path.exists(folder)


def test_the_command_line_does_not_import_the_notebook_machinery():
    """A build with nothing to run (the warm rebuild, < 2 s) must not pay for importing
    nbformat/jsonschema (~1 s: jsonschema builds a URI grammar), papermill, nbconvert or
    WeasyPrint: the runner imports them where it runs a notebook."""
    import subprocess
    import sys

    code = ("import sys, evidence_pack.cli; print(' '.join(m for m in ('nbformat', 'jsonschema', "
            "'nbclient', 'papermill', 'nbconvert', 'weasyprint') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(config.ROOT / "lib")})
    assert out.stdout.strip() == ""


def test_workers_and_parameter_checks_skip_the_iri_grammar():
    """jsonschema, imported by nbformat, builds an RFC 3987 grammar on import when the optional
    rfc3987-syntax is installed (~2 s a process, 4-5 s under load). A worker (``init_worker``)
    and the parameter check mark it unavailable, and notebooks still read and validate."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from evidence_pack import config\n"
        "from evidence_pack.publish import plan, runner\n"
        "runner.init_worker(plan.Settings(root='.', reports_dir='r', build_dir='b', pdf=False),"
        " in_pool=False)\n"
        "runner._wait_prewarm()\n"
        "import nbformat, papermill\n"
        "nb = nbformat.read(str(config.NOTEBOOKS_DIR / 'briefing.ipynb'), as_version=4)\n"
        "nbformat.validate(nb)\n"
        "print(sys.modules['rfc3987_syntax'] is None, 'lark' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(config.ROOT / "lib")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.split() == ["True", "False"]
    check = ("import sys\nfrom evidence_pack import config\nfrom evidence_pack.publish import plan\n"
             "[plan.check_parameters(s) for s in plan.load_specs(config.NOTEBOOKS_DIR)]\n"
             "print(sys.modules['rfc3987_syntax'] is None)\n")
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == "True"


def test_workers_do_not_import_the_drivers_main_script(tmp_path):
    """A spawned worker imports the parent's main script unless it is hidden; the
    ``evidence-pack`` console script imports the whole CLI (~1.1 s of CPU a worker). Workers
    started inside ``main_module_hidden`` import none of it."""
    import subprocess
    import sys

    (tmp_path / "probe.py").write_text(
        "import sys\n"
        "def imported(_=None):\n"
        "    return 'matplotlib' in sys.modules\n")
    (tmp_path / "heavy_main.py").write_text(
        "import concurrent.futures as cf, contextlib, multiprocessing as mp, sys\n"
        "import matplotlib  # a main script with heavy imports, like the console script\n"
        "import probe\n"
        "from evidence_pack.publish import runner\n"
        "if __name__ == '__main__':\n"
        "    for hidden in (False, True):\n"
        "        with cf.ProcessPoolExecutor(1, mp_context=mp.get_context('spawn')) as pool:\n"
        "            with runner.main_module_hidden() if hidden else contextlib.nullcontext():\n"
        "                fut = pool.submit(probe.imported)\n"
        "            print(hidden, fut.result())\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(config.ROOT / "lib"), str(tmp_path)]),
           "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(tmp_path / "heavy_main.py")], env=env,
                          capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.splitlines() == ["False True", "True False"]
