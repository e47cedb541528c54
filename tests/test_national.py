"""The national batch (``build --districts``): district selection, rank changes, the national
index, atomic report files, and two real runs on a 2-worker Dask LocalCluster: two small
districts' borough reports (one notebook, HTML), and the same batch with a worker killed
mid-task, which still gets every report."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from evidence_pack.analysis import national as national_analysis
from evidence_pack.analysis import trends
from evidence_pack.findings.national import rank_change_findings
from evidence_pack.publish import build, national, national_index, national_plan, national_worker
from evidence_pack.publish.national_plan import Drafts, Task, is_current
from evidence_pack.sources.io import DataError

SMALL = ("E06000001", "E06000005")  # Hartlepool, Darlington: a few drafted areas each


@pytest.fixture(scope="module")
def districts(processed) -> pd.DataFrame:
    return national_analysis.england_districts()


@pytest.fixture(scope="module")
def changes(processed) -> pd.DataFrame:
    return national_analysis.rank_change(trends.load_la_summary())


@pytest.mark.mirror
def test_england_has_296_districts_in_nine_regions(districts):
    assert len(districts) == 296
    assert districts["region_name"].nunique() == 9
    assert districts["lad_code"].str.startswith("E").all()


@pytest.mark.mirror
def test_select_by_codes_region_and_all(districts):
    got = national_analysis.select_districts("E08000018, north east", districts)
    assert got["lad_code"].iloc[0] == "E08000018"
    assert len(got) == 1 + 12 and got["lad_code"].is_unique
    assert len(national_analysis.select_districts("all", districts)) == 296
    assert set(national_analysis.select_districts("E12000003", districts)["lad_name"]) >= {
        "Rotherham", "Sheffield", "Barnsley", "Doncaster"}


@pytest.mark.mirror
@pytest.mark.parametrize("bad", ["W06000015", "E07000001", "Yorkshire", ""])
def test_select_names_what_matches_nothing(districts, bad):
    with pytest.raises(DataError, match="--districts"):
        national_analysis.select_districts(bad, districts)


@pytest.mark.mirror
def test_rank_change_among_districts_in_both_releases(changes):
    both = changes.dropna(subset=["change"])
    assert len(changes) == 296 and 250 < len(both) < 296
    assert (both["n_common"] == len(both)).all()
    assert sorted(both["common_first"].astype(int)) == list(range(1, len(both) + 1))
    assert (both["change"] == both["common_first"] - both["common_last"]).all()
    assert changes.loc[changes["lad_code"] == "E06000065", "change"].isna().all()  # N Yorks
    assert changes["share_decile1_last"].between(0, 1).all()
    text = " ".join(rank_change_findings(changes))
    assert f"Of the {len(both)} districts" in text and "1st = most deprived" in text


@pytest.mark.mirror
@pytest.mark.parametrize("code, header", [
    ("E06000001", "--release 2010 --threshold 10"),  # Hartlepool: the default rules
    ("E06000041", "--threshold 50"),  # Wokingham: nothing in the most deprived 10% or 20%
    ("E06000065", "--release 2010 --threshold 10"),  # North Yorkshire (2023), by its LSOAs
])
def test_drafts_always_have_an_area_and_say_how(processed, tmp_path, monkeypatch, code,
                                                header):
    text = Drafts(tmp_path / "drafts.json", "key1").text(code)
    doc = yaml.safe_load(text)
    assert doc["la_code"] == code and doc["areas"]
    assert header in text.splitlines()[1]
    drafts = Drafts(tmp_path / "drafts.json", "key1")
    drafts.text(code)
    drafts.save()
    monkeypatch.setattr(national_plan.area_text, "draft_areas_yaml", None)  # cache only
    assert Drafts(tmp_path / "drafts.json", "key1").text(code) == text
    with pytest.raises(TypeError):  # another key (data or code changed): drafted again
        Drafts(tmp_path / "drafts.json", "key2").text(code)


def _task(tmp: Path, pdf: bool = False) -> Task:
    job = build.Job(notebook="imd_trends", path="x.ipynb", area="borough", area_name="",
                    parameters={}, key="k1", title="t")
    return Task("E06000001", "Hartlepool", job, "", "build/national/areas/E06000001.yml", "",
                pdf)


def test_districts_interleaved_per_worker_longest_first():
    """Two workers get two different districts at a time, each district's longest first."""
    def task(code: str, area: str, nb: str) -> Task:
        job = build.Job(notebook=nb, path="x.ipynb", area=area, area_name="", parameters={},
                        key="k", title="t")
        return Task(code, code, job, "", "", "", False)

    todo = [task(c, a, nb) for c in ("A", "B", "C") for a in ("borough", "x")
            for nb in ("one", "two")]
    last = {"A/borough/two": 9.0, "B/x/one": 5.0}
    order = [t.id for t in national_plan.interleave(todo, 2, last)]
    assert order == ["A/borough/two", "B/x/one", "A/borough/one", "B/borough/one",
                     "A/x/one", "B/borough/two", "A/x/two", "B/x/two",
                     "C/borough/one", "C/borough/two", "C/x/one", "C/x/two"]
    assert sorted(order) == sorted(t.id for t in todo)
    assert [t.id for t in national_plan.interleave(todo, 1)][:4] == [
        "A/borough/one", "A/borough/two", "A/x/one", "A/x/two"]


def test_memo_shared_only_with_workers_on_the_clients_host(tmp_path):
    task = dataclasses.replace(_task(tmp_path), shared_memo=(socket.gethostname(), "/m"))
    assert national_worker.shared_memo_dir(task) == "/m"
    assert national_worker.shared_memo_dir(
        dataclasses.replace(task, shared_memo=("another-host", "/m"))) is None
    assert national_worker.shared_memo_dir(_task(tmp_path)) is None


def test_outputs_written_together_or_not_at_all(tmp_path):
    task = _task(tmp_path, pdf=True)
    with pytest.raises(KeyError):  # the PDF is missing: nothing may be renamed into place
        national.write_outputs(task, {"html": b"<html></html>", "json": b"{}"}, tmp_path)
    assert not any(tmp_path.rglob("*.*"))
    national.write_outputs(task, {"html": b"<html></html>", "json": b"{}", "pdf": b"%PDF"},
                           tmp_path)
    outs = task.outputs(tmp_path)
    assert {p.name for p in outs.values()} == {"imd_trends.html", "imd_trends.json",
                                               "imd_trends.pdf"}
    assert all(p.exists() for p in outs.values())
    manifest = {"tasks": {task.id: {"ok": True, "key": "k1"}}}
    assert is_current(task, manifest, tmp_path)
    outs["json"].unlink()
    assert not is_current(task, manifest, tmp_path)


@pytest.mark.mirror
def test_national_index_is_self_contained_and_sortable(tmp_path, processed):
    (tmp_path / "E08000018" / "borough").mkdir(parents=True)
    (tmp_path / "E08000018" / "borough" / "imd_trends.html").write_text("x")
    (tmp_path / "E08000018" / "index.html").write_text("x")
    manifest = {"tasks": {"E08000018/borough/imd_trends": {"ok": True},
                          "E06000001/borough/imd_trends": {"ok": False}}}
    page = national_index.write_national_index(
        tmp_path, manifest, {"E06000001/borough/imd_trends": "cell 3: ValueError: boom"}
    ).read_text()
    build.check_self_contained(re.sub(r"<script>.*?</script>", "", page, flags=re.S))
    assert page.count("<script>") == 1
    assert '<a href="E08000018/index.html">Rotherham</a>' in page
    assert 'href="E06000001/index.html"' not in page  # no pack built: no link
    assert "ValueError: boom" in page
    assert re.search(r'<img class="ep-map" src="data:image/png;base64,[^"]+" alt="Map of '
                     r"England&#x27;s districts", page)
    assert page.count('data-type="num"') == 5 and "aria-sort" in page


# --------------------------------------------------------------------------- on a cluster


@pytest.fixture(scope="module")
def client(processed):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", memory_limit=national.WORKER_MEMORY
                                  ) as cluster, distributed.Client(cluster) as c:
        yield c
        c.run(national_worker.stop_kernel)


def _run(client, out: Path, force: bool = False) -> national.NationalReport:
    return national.build_national(",".join(SMALL), only=["borough"], notebooks=["imd_trends"],
                                   pdf=False, force=force, client=client, reports_dir=out,
                                   manifest_path=out / "manifest.json", build_dir=out / "build",
                                   progress=False)


def _complete(out: Path) -> None:
    for code in SMALL:
        page = (out / code / "borough" / "imd_trends.html").read_text()
        assert page.rstrip().endswith("</html>")
        assert (out / code / "borough" / "imd_trends.json").exists()
    assert not list(out.rglob("*.part"))


@pytest.mark.mirror
@pytest.mark.slow
def test_two_districts_on_two_workers_then_resume(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("national")
    rep = _run(client, out)
    assert rep.failures == {} and rep.ran == 2 and rep.districts == 2
    _complete(out)
    assert {r["pid"] for r in rep.results} <= set(client.run(os.getpid).values())
    for code in SMALL:
        assert "la_code: " + code in (out / code / "areas.yml").read_text()  # draft for review
        assert "imd_trends.html" in (out / code / "index.html").read_text()
    index = (out / "index.html").read_text()
    assert all(f'href="{c}/index.html"' in index for c in SMALL)
    assert max(r["worker_mb"] for r in rep.results) < 3000
    # both workers (on this host) kept their memoised results in the batch's shared folder
    assert list((out / "build" / "national" / "memo").glob("*.pkl"))
    again = _run(client, out)  # resumes: everything is current
    assert (again.ran, again.skipped, again.failures) == (0, 2, {})


@pytest.mark.mirror
@pytest.mark.slow
def test_worker_killed_mid_task_still_gets_every_report(client, tmp_path_factory):
    out = tmp_path_factory.mktemp("national_kill")
    pids = client.run(os.getpid)
    box: dict[str, national.NationalReport] = {}
    runner = threading.Thread(target=lambda: box.update(rep=_run(client, out, force=True)))
    runner.start()
    victim, orphans = None, []
    deadline = time.monotonic() + 90
    while victim is None and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            time.sleep(2.0)  # well inside the task: the kernel is running the notebook
            victim = busy[0]
            orphans = client.run(national_worker.kernel_pids, workers=[victim]).get(victim, [])
            os.kill(pids[victim], signal.SIGKILL)
        time.sleep(0.2)
    runner.join(timeout=180)
    for pid in orphans:  # the killed worker's kernel, if it outlived its parent
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert victim is not None, "no task was seen running"
    rep = box["rep"]
    assert rep.failures == {} and rep.ran == 2
    assert pids[victim] not in {r["pid"] for r in rep.results}  # retried on a live worker
    _complete(out)


@pytest.mark.mirror
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_table_sorts_in_a_real_browser(tmp_path, processed):
    manifest = {"tasks": {f"{c}/borough/imd_trends": {"ok": True}
                          for c in ("E08000018", "E06000001", "E09000012")}}
    page = national_index.write_national_index(tmp_path, manifest, {}).read_text()
    # click "Rank 2025" twice (descending), then dump the table's row order
    clicks = ('<script>var b = document.querySelectorAll("table.ep-sortable th button")[2];'
              'b.click(); b.click();</script></body>')
    (tmp_path / "sorted.html").write_text(page.replace("</body>", clicks))
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
         (tmp_path / "sorted.html").as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    body = dom[dom.index("<tbody>"):]
    order = re.findall(r'<th scope="row" data-sort="([^"]+)"', body)
    assert order == ["Rotherham", "Hackney", "Hartlepool"]  # 43rd, 27th, 6th of 296
    assert 'aria-sort="descending"' in dom


def test_drafts_do_not_depend_on_report_code():
    """Editing a report, a chart or the build does not redraft England (minutes)."""
    import glob

    from evidence_pack import config

    files = {os.path.relpath(p, config.ROOT) for g in national_plan.DRAFT_CODE_GLOBS
             for p in glob.glob(str(config.ROOT / g), recursive=True)}
    assert {"lib/evidence_pack/findings/areas.py", "lib/evidence_pack/analysis/national.py",
            "lib/evidence_pack/stores/iod.py", "lib/evidence_pack/config.py"} <= files
    assert not [f for f in files if f.startswith(("lib/evidence_pack/publish/",
                                                  "lib/evidence_pack/charts/"))]


def test_drafts_key_ignores_results_cached_per_areas_file(tmp_path):
    """A district built in a batch caches results for its areas file under the processed data;
    that must not change the drafts key (the next batch would redraft England: minutes)."""
    import pandas as pd
    from evidence_pack.sources import table_cache
    from evidence_pack.sources.hashing import FileHasher

    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    (processed / "iod.parquet").write_bytes(b"v1")
    src = tmp_path / "areas.yml"
    src.write_text("la_code: E08000018\n")
    before = national_plan.drafts_key(FileHasher(tmp_path), code_globs=())
    table_cache.frames_for(processed / "risk_areas", src, ["x"],
                           lambda: {"x": pd.DataFrame({"v": [1]})})
    assert national_plan.drafts_key(FileHasher(tmp_path), code_globs=()) == before
    (processed / "iod.parquet").write_bytes(b"v2")
    assert national_plan.drafts_key(FileHasher(tmp_path), code_globs=()) != before
