"""Fail-safe build and CLI (issue 11): every bad input and every interruption leaves a true,
complete pack. Tiny throwaway notebooks (from test_build) on a throwaway project folder."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
from pathlib import Path

import pytest
from evidence_pack import config
from evidence_pack.publish import build
from evidence_pack.publish.lock import BuildLock, BuildLocked
from evidence_pack.sources import catalogue
from evidence_pack.sources.io import DataError, read_yaml
from test_build import AREAS, FLAKY, GOOD, PARAMS, write_notebook

SLEEPY = [
    ("markdown", "# Sleepy report"),
    ("parameters", PARAMS),
    ("code", "import os, time\nfrom evidence_pack.publish import report\nreport.setup()\n"
             "open(os.path.join(os.environ['EP_FLAGS'], f'started-{area}'), 'w').close()\n"
             "time.sleep(120)"),
]


def make_project(root: Path, notebooks: dict[str, list]) -> Path:
    nbdir = root / "notebooks"
    nbdir.mkdir(parents=True)
    for name, cells in notebooks.items():
        write_notebook(nbdir / f"{name}.ipynb", cells)
    (nbdir / "reports.yml").write_text(
        "notebooks:\n" + "".join(f"  {n}:\n    data: []\n" for n in notebooks), encoding="utf-8")
    (root / "areas.yml").write_text(AREAS, encoding="utf-8")
    (root / "code.txt").write_text("v1")
    (root / "build").mkdir()
    return root


def run(root: Path, **kw) -> build.BuildReport:
    kw.setdefault("code_globs", (str(root / "code.txt"),))
    kw.setdefault("jobs", 1)
    kw.setdefault("pdf", False)
    return build.build(areas_file=root / "areas.yml", notebooks_dir=root / "notebooks",
                       reports_dir=root / "reports", build_dir=root / "build", root=root,
                       progress=False, **kw)


def linked(root: Path) -> set[str]:
    page = (root / "reports" / "index.html").read_text(encoding="utf-8")
    return set(re.findall(r'href="([^"]+\.(?:html|pdf))"', page))


# --------------------------------------------------------------------------- 1 stale PDFs


@pytest.mark.slow
def test_no_pdf_build_removes_the_stale_pdf_and_a_full_build_remakes_it(tmp_path):
    root = make_project(tmp_path, {"good": GOOD})
    pdf = root / "reports" / "a-one" / "good.pdf"
    assert run(root, only=["a-one"], pdf=True).ran == 1 and pdf.exists()
    areas = root / "areas.yml"
    areas.write_text(areas.read_text().replace("[E01007723, E01007735]", "[E01007723]"))
    assert run(root, only=["a-one"], pdf=False).ran == 1
    assert not pdf.exists(), "a PDF of the old definition was left beside the new HTML"
    assert "a-one/good.pdf" not in linked(root) and "a-one/good.html" in linked(root)
    again = run(root, only=["a-one"], pdf=True)  # wanted now, missing: rebuilt
    assert again.ran == 1 and pdf.exists()
    assert pdf.stat().st_mtime_ns >= (root / "reports" / "a-one" / "good.html").stat().st_mtime_ns
    assert run(root, only=["a-one"], pdf=True).ran == 0
    old = time.time() - 3600  # a PDF older than its HTML is out of date
    os.utime(pdf, (old, old))
    assert run(root, only=["a-one"], pdf=True).ran == 1


# --------------------------------------------------------------------------- 2 interruption

DRIVER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from evidence_pack import cli, config
    root = Path(sys.argv[1])
    config.ROOT, config.NOTEBOOKS_DIR = root, root / "notebooks"  # the data stay the real ones
    sys.exit(cli.main(["build", "--areas-file", str(root / "areas.yml"), "--jobs", "2",
                       "--no-pdf", "--reports-dir", str(root / "reports")]))
""")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupt_stops_workers_fast_and_keeps_published_reports(tmp_path, how):
    root = make_project(tmp_path, {"good": GOOD})
    # an earlier complete build of 'good' for every area (same cache keys as the CLI's)
    assert not run(root, code_globs=build.CODE_GLOBS).failures
    before = {p: p.read_bytes() for p in (root / "reports").rglob("good.*")}
    write_notebook(root / "notebooks" / "sleepy.ipynb", SLEEPY)
    (root / "notebooks" / "reports.yml").write_text(
        "notebooks:\n  good:\n    data: []\n  sleepy:\n    data: []\n")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(root / "rt"), "EP_FLAGS": str(root / "build"),
           "PYTHONPATH": str(config.ROOT / "lib")}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(root)], env=env, cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 120
    while not list((root / "build").glob("started-*")) and time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    assert list((root / "build").glob("started-*")), "no notebook started"
    t0 = time.monotonic()
    if how == "ctrl-c":  # the terminal sends SIGINT to the whole foreground process group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    stopped = time.monotonic() - t0
    assert stopped < 8, f"took {stopped:.1f} s to stop"
    assert proc.returncode == 130, (out, err)
    assert "interrupted" in err and "Traceback" not in err
    time.sleep(0.5)
    left = [p for p in Path("/proc").glob("[0-9]*")
            if str(root / "rt") in (p / "cmdline").read_bytes().decode(errors="ignore")
            ] if Path("/proc").exists() else []
    assert not left, "kernels still running after the build stopped"
    for p, data in before.items():  # previously published reports intact
        assert p.read_bytes() == data
    assert not list((root / "reports").rglob("*.part"))
    assert not list((root / "reports").rglob("sleepy.*"))
    for href in linked(root):  # the index lists what is on disk, nothing else
        assert (root / "reports" / href).exists(), href
    assert {"borough/good.html", "a-one/good.html", "b-two/good.html"} <= linked(root)
    assert not (root / "build" / "build.lock").exists()


# --------------------------------------------------------------------------- 5 bad areas file

BAD_AREAS = {
    "other district": (AREAS.replace("[E01007677]", "[E01000001]"), r"b-two.*district"),
    "empty area": (AREAS.replace("[E01007677]", "[]"), r"b-two.*empty area"),
    "unknown vintage": (AREAS.replace("lsoa_vintage: 2001\n    lsoas: [E01007677]",
                                      "lsoa_vintage: 2031\n    lsoas: [E01007677]"),
                        r"b-two.*lsoa_vintage 2031"),
    "repeated key": (AREAS.replace("name: B Two", "name: B Two\n    name: B Three"),
                     r"line 11.*'name' repeated"),
    "tab": (AREAS.replace("    name: B Two", "\tname: B Two"), r"line 10.*tab"),
}


@pytest.mark.parametrize("case", sorted(BAD_AREAS))
def test_bad_areas_file_stops_before_anything_runs_or_is_deleted(tmp_path, case):
    root = make_project(tmp_path, {"good": GOOD})
    text, pattern = BAD_AREAS[case]
    (root / "areas.yml").write_text(text, encoding="utf-8")
    old = root / "reports" / "a-one" / "good.html"
    old.parent.mkdir(parents=True)
    old.write_text("published earlier")
    with pytest.raises(DataError, match=pattern) as info:
        run(root)
    assert str(root / "areas.yml") in str(info.value)
    assert old.read_text() == "published earlier"
    assert not (root / "build" / "manifest.json").exists()


def test_areas_file_not_utf8_names_file_and_line(tmp_path):
    p = tmp_path / "areas.yml"
    p.write_bytes(AREAS.replace("B Two", "B Tw\xf6").encode("latin-1"))
    with pytest.raises(DataError, match=r"areas\.yml, row line 10: .*not UTF-8"):
        read_yaml(p, "area file")


# --------------------------------------------------------------------------- 6 partial builds


@pytest.mark.slow
def test_partial_build_keeps_every_report_in_the_index(tmp_path):
    root = make_project(tmp_path, {"good": GOOD, "flaky": FLAKY})
    run(root)
    full = linked(root)
    assert len(full) == 5  # 3 good + 2 flaky (b-two fails)
    (root / "code.txt").write_text("v2")
    rep = run(root, only=["a-one"], notebooks=["good"])
    assert rep.ran == 1
    assert linked(root) == full
    assert "b-two/flaky" in (root / "reports" / "index.html").read_text()  # failure still listed


# --------------------------------------------------------------------------- 7 CLI errors


def cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evidence_pack.cli", *args], text=True,
                          capture_output=True, timeout=300, cwd=config.ROOT,
                          env={**os.environ, "PYTHONPATH": str(config.ROOT / "lib"), **env})


def one_line(res: subprocess.CompletedProcess) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


def test_cli_unknown_dataset_id_is_one_line_exit_2():
    res = cli(["fetch", "nosuch_id"])
    assert res.returncode == 2 and "'nosuch_id'" in one_line(res)
    debug = cli(["fetch", "nosuch_id", "--debug"])
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_cli_prepare_with_an_altered_raw_file_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    from evidence_pack import cli as cli_mod
    from evidence_pack import prepare

    e = catalogue.entry("boundaries_ltla24")
    altered = tmp_path / e.path
    altered.parent.mkdir(parents=True)
    altered.write_bytes(b"not the published file")
    monkeypatch.setattr(config, "RAW_DIR", tmp_path)
    monkeypatch.setattr(prepare, "STAGES", {"geography": lambda force=False: [
        catalogue.path_for("boundaries_ltla24")]})
    assert cli_mod.main(["prepare", "geography"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(altered) in err[0] and "sha256" in err[0]
    assert "fetch" in err[0]  # what to do


@pytest.mark.mirror
def test_cli_areas_draft_unknown_district_is_one_line_exit_2(processed):
    res = cli(["areas", "draft", "--la", "E09999999"])
    assert res.returncode == 2 and "E09999999" in one_line(res)


def test_cli_unwritable_reports_folder_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "reports"
    blocker.write_text("a file where the reports folder should be")
    res = cli(["build", "--reports-dir", str(blocker), "--no-pdf"])
    line = one_line(res)
    assert res.returncode == 2 and str(blocker) in line and "cannot write" in line


# --------------------------------------------------------------------------- 8 offline fetch


def test_offline_fetch_stops_at_the_first_failure_with_short_advice(tmp_path, monkeypatch):
    calls = []

    def no_network(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError(socket.gaierror(-3, "Temporary failure in name resolution"))

    monkeypatch.setattr(catalogue.urllib.request, "urlopen", no_network)
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)  # CI sets a mirror: test without one
    entries = catalogue.select()[:40]
    t0 = time.monotonic()
    with pytest.raises(catalogue.FetchError) as info:
        catalogue.fetch(entries, raw_dir=tmp_path / "raw", mirror=None, progress=False)
    assert time.monotonic() - t0 < 5
    assert len(calls) == 1, f"tried the network {len(calls)} times"
    lines = str(info.value).splitlines()
    assert len(lines) < 10
    assert "no network" in lines[0].lower() and "--mirror" in lines[1]
    assert "--mirror" in str(info.value) and config.MIRROR_ENV in str(info.value)


# --------------------------------------------------------------------------- 9 lock


def test_second_build_in_the_same_folder_stops_with_one_line(tmp_path):
    root = make_project(tmp_path, {"good": GOOD})
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock = BuildLock(root / "build" / "build.lock")
        lock.token = f"{holder.pid}"
        lock.path.write_text(f"{holder.pid}\n")
        with pytest.raises(BuildLocked, match=f"PID {holder.pid}"):
            run(root)
        assert not (root / "reports" / "index.html").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder is dead now: its lock is stale and taken over
    assert run(root, only=["a-one"]).ran == 1
    assert not (root / "build" / "build.lock").exists()
