"""Caches: tables read once per kernel, and per-areas-file frames written once, atomically."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import pandas as pd
import pytest
from evidence_pack.sources import table_cache


def test_read_parquet_reads_once_and_again_after_a_rewrite(tmp_path):
    p = tmp_path / "t.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(p)
    table_cache.clear()
    first = table_cache.read_parquet(p)
    assert table_cache.read_parquet(p) is first
    assert table_cache.read_parquet(p, columns=["a"]) is not first  # other columns, other key
    time.sleep(0.01)
    pd.DataFrame({"a": [3]}).to_parquet(p)
    os.utime(p, ns=(time.time_ns(), time.time_ns()))
    assert table_cache.read_parquet(p)["a"].tolist() == [3]


def _compute(calls: Path):
    def run():
        with open(calls, "a") as fh:
            fh.write("x")
        return {"x": pd.DataFrame({"v": [1.0, 2.0]}), "y": pd.DataFrame({"w": ["a"]})}
    return run


def test_frames_for_computes_once_per_content(tmp_path):
    src = tmp_path / "areas.yml"
    src.write_text("la_code: E08000018\n")
    calls = tmp_path / "calls"
    root = tmp_path / "cache"
    a = table_cache.frames_for(root, src, ["x", "y"], _compute(calls))
    b = table_cache.frames_for(root, src, ["x", "y"], _compute(calls))
    assert calls.read_text() == "x"
    assert a["x"].equals(b["x"]) and list(b) == ["x", "y"]
    folders = [p for p in root.iterdir() if not p.name.startswith(".")]
    assert [p.name for p in folders] == [table_cache.content_key(src)]
    src.write_text("la_code: E08000019\n")  # other content, other folder
    table_cache.frames_for(root, src, ["x", "y"], _compute(calls))
    assert calls.read_text() == "xx"
    assert not [p for p in root.iterdir() if p.name.startswith(".") and p.name != table_cache.LOCKS]


def test_frames_for_recomputes_when_an_input_is_newer(tmp_path):
    src, dep, calls = tmp_path / "a.yml", tmp_path / "dep.parquet", tmp_path / "calls"
    src.write_text("x")
    dep.write_text("v1")
    table_cache.frames_for(tmp_path / "c", src, ["x"], _compute(calls), [dep])
    later = time.time_ns() + 10**9
    os.utime(dep, ns=(later, later))
    table_cache.frames_for(tmp_path / "c", src, ["x"], _compute(calls), [dep])
    assert calls.read_text() == "xx"


def _worker(args):
    root, src, calls = args
    out = table_cache.frames_for(Path(root), Path(src), ["x", "y"], _compute(Path(calls)))
    return out["x"]["v"].tolist()


def test_two_processes_at_once(tmp_path):
    src = tmp_path / "areas.yml"
    src.write_text("content")
    args = (str(tmp_path / "cache"), str(src), str(tmp_path / "calls"))
    with mp.get_context("spawn").Pool(2) as pool:
        results = pool.map(_worker, [args, args])
    assert results == [[1.0, 2.0], [1.0, 2.0]]
    folder = tmp_path / "cache" / table_cache.content_key(src)
    assert sorted(p.name for p in folder.iterdir()) == ["source.json", "x.parquet", "y.parquet"]
    assert not [p for p in (tmp_path / "cache").iterdir()
                if p.name.startswith(".") and p.name != table_cache.LOCKS]  # no temporary left


def test_memo_computes_once_per_content_and_data_version(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.parquet").write_text("v1")
    monkeypatch.setattr(table_cache, "DATA_DIRS", (str(data),))
    calls: list[tuple] = []

    @table_cache.memo
    def f(frame: pd.DataFrame, year: str) -> pd.DataFrame:
        calls.append((len(frame), year))
        return frame.assign(year=year)

    table_cache.clear()
    a = f(pd.DataFrame({"v": [1, 2]}), "2011-12")
    a.loc[0, "v"] = 99  # the caller's copy: the cache is not changed
    b = f(pd.DataFrame({"v": [1, 2]}), "2011-12")  # equal content, a new object: a hit
    assert calls == [(2, "2011-12")] and b["v"].tolist() == [1, 2]
    f(pd.DataFrame({"v": [1, 2]}), "2012-13")
    f(pd.DataFrame({"v": [1, 2, 3]}), "2011-12")
    assert len(calls) == 3
    later = time.time_ns() + 10**9
    os.utime(data / "t.parquet", ns=(later, later))  # the data changed: computed again
    f(pd.DataFrame({"v": [1, 2]}), "2011-12")
    assert len(calls) == 4
    monkeypatch.setenv("EVIDENCE_PACK_MEMO", "0")
    f(pd.DataFrame({"v": [1, 2]}), "2011-12")
    assert len(calls) == 5


def test_memo_keys_a_call_by_its_arguments_values_defaults_filled_in(tmp_path, monkeypatch):
    """``f(x)``, ``f(x, ledger=None)`` and ``f(x, None)`` are one computation when None is
    the default (the briefing and the spend reports asked for the same partner spend in two
    spellings, and it was computed twice); another value is another computation."""
    monkeypatch.setattr(table_cache, "DATA_DIRS", (str(tmp_path),))
    calls: list[tuple] = []

    @table_cache.memo
    def f(year: str, ledger: str | None = None, *, cfg: str = "default") -> tuple:
        calls.append((year, ledger, cfg))
        return year, ledger, cfg

    table_cache.clear()
    assert f("2017-18") == f("2017-18", ledger=None) == f("2017-18", None) == f(
        year="2017-18", cfg="default") == ("2017-18", None, "default")
    assert calls == [("2017-18", None, "default")]
    assert f("2017-18", "a ledger") == ("2017-18", "a ledger", "default")
    assert f("2017-18", cfg="other") == ("2017-18", None, "other")
    assert len(calls) == 3
    with pytest.raises(TypeError):  # a wrong call fails as it would without the memo
        f("2017-18", nosuch=1)


def test_memo_gives_what_the_computation_gives(processed):
    """The memoised partner spend of the default areas equals a fresh computation, and another
    area list (one area's LSOAs dropped) gets its own result."""
    from dataclasses import replace

    from evidence_pack.analysis import areas, partner_spend

    table_cache.clear()
    aset = areas.load_areas()
    first = partner_spend.modelled_partner_spend(aset, "2011-12")
    again = partner_spend.modelled_partner_spend(aset, "2011-12")
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, partner_spend.modelled_partner_spend.uncached(
        aset, "2011-12"))
    big = max(aset.areas, key=lambda a: len(a.lsoas))
    fewer = replace(aset, areas=[replace(a, lsoas=a.lsoas[1:]) if a is big else a
                                 for a in aset.areas])
    other = partner_spend.modelled_partner_spend(fewer, "2011-12")
    assert not other.equals(first)


def _disk_memo_worker(args):
    folder, data, calls = args
    os.environ["EVIDENCE_PACK_MEMO_DIR"] = folder
    table_cache.DATA_DIRS = (data,)
    return _slow_square(Path(calls), 7)


@table_cache.memo
def _slow_square(calls: Path, x: int) -> int:
    with open(calls, "a") as fh:
        fh.write("x")
    time.sleep(0.5)  # long enough for the other process to ask meanwhile
    return x * x


def test_memo_on_disk_is_shared_between_processes(tmp_path, monkeypatch):
    """With EVIDENCE_PACK_MEMO_DIR set, one process computes, another (asking at the same
    time, or later) reads; changed code or data compute again; unset: nothing on disk."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.parquet").write_text("v1")
    memo_dir, calls = tmp_path / "memo", tmp_path / "calls"
    args = (str(memo_dir), str(data), str(calls))
    with mp.get_context("spawn").Pool(2) as pool:
        assert pool.map(_disk_memo_worker, [args, args]) == [49, 49]
    assert calls.read_text() == "x"  # the second waited for the first and read its result
    assert len(list(memo_dir.glob("*.pkl"))) == 1
    assert not [p for p in memo_dir.iterdir() if p.name.startswith(".")]  # no temporary left
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(memo_dir))
    monkeypatch.setattr(table_cache, "DATA_DIRS", (str(data),))
    table_cache.clear_results()  # a new kernel: reads the file
    assert _slow_square(calls, 7) == 49 and calls.read_text() == "x"
    monkeypatch.setattr(table_cache, "_CODE_STAMP", ["other code"])
    table_cache.clear_results()
    assert _slow_square(calls, 7) == 49 and calls.read_text() == "xx"
    later = time.time_ns() + 10**9
    os.utime(data / "t.parquet", ns=(later, later))
    table_cache.clear_results()
    assert _slow_square(calls, 7) == 49 and calls.read_text() == "xxx"
    monkeypatch.delenv("EVIDENCE_PACK_MEMO_DIR")
    n = len(list(memo_dir.glob("*.pkl")))
    table_cache.clear_results()
    assert _slow_square(calls, 8) == 64 and len(list(memo_dir.glob("*.pkl"))) == n


def test_data_stamp_leaves_out_results_cached_per_areas_file(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.parquet").write_text("v1")
    monkeypatch.setattr(table_cache, "DATA_DIRS", (str(data),))
    before = table_cache.data_stamp(tmp_path)
    src = tmp_path / "areas.yml"
    src.write_text("x")
    table_cache.frames_for(data / "cache", src, ["x", "y"], _compute(tmp_path / "calls"))
    assert table_cache.data_stamp(tmp_path) == before  # memoised results stay valid
    (data / "u.parquet").write_text("new")
    assert table_cache.data_stamp(tmp_path) != before


def test_data_stamp_walked_once_a_report_in_a_build_kernel(tmp_path, monkeypatch):
    """In a build's kernel (memo folder set) the data folders are walked once a report: a
    file changed meanwhile shows after the kernel's reset forgets the stamp; in any other
    session every call walks them."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "t.parquet").write_text("v1")
    monkeypatch.setattr(table_cache, "DATA_DIRS", (str(data),))
    monkeypatch.delenv("EVIDENCE_PACK_MEMO_DIR", raising=False)
    before = table_cache.data_stamp(tmp_path)
    (data / "u.parquet").write_text("new")
    assert table_cache.data_stamp(tmp_path) != before  # no build: walked at every call
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(tmp_path / "memo"))
    table_cache.forget_data_stamp()
    during = table_cache.data_stamp(tmp_path)
    (data / "v.parquet").write_text("newer")
    assert table_cache.data_stamp(tmp_path) == during  # the same report
    table_cache.forget_data_stamp()  # the kernel's reset between reports
    assert table_cache.data_stamp(tmp_path) != during
    table_cache.forget_data_stamp()


def test_memo_keys_an_area_set_by_membership_and_names_are_joined_at_use(processed):
    """A lead officer's or a name change reuses the district's spend results (the memoised
    computation is given the set without names, leads, evidence and confidence, so it cannot
    read them); an LSOA list change computes again; the names shown are the current ones."""
    from dataclasses import replace

    from evidence_pack.analysis import areas, spend

    aset = areas.load_areas()
    first = aset.areas[0]
    led = replace(aset, areas=[replace(first, slt_lead="A. Officer", cabinet_member="Cllr B",
                                       evidence="said so", confidence="high"), *aset.areas[1:]])
    renamed = replace(aset, areas=[replace(first, name="Elsewhere"), *aset.areas[1:]])
    dropped = replace(aset, areas=[replace(first, lsoas=first.lsoas[:-1]), *aset.areas[1:]])
    assert led.memo_key() == aset.memo_key() == renamed.memo_key() != dropped.memo_key()
    assert aset.membership_key() == renamed.membership_key() == led.membership_key()
    assert dropped.membership_key() != aset.membership_key()
    seen = []

    @table_cache.memo
    def f(area_set) -> list[str]:
        seen.append([a.name for a in area_set.areas])
        return [a.slug for a in area_set.areas]

    table_cache.clear_results()
    f(aset), f(led), f(renamed), f(dropped)
    assert len(seen) == 2 and not any(n for names in seen for n in names)  # never given names
    table_cache.clear_results()
    a, b = spend.baseline(aset, "2011-12"), spend.baseline(renamed, "2011-12")
    assert a.areas["area"].iloc[0] == first.name and b.areas["area"].iloc[0] == "Elsewhere"
    pd.testing.assert_frame_equal(a.areas.drop(columns="area"), b.areas.drop(columns="area"))
    assert list(b.areas["area"]) == [*[x.name for x in renamed.areas], "Rest of borough"]


def test_prune_skips_a_result_another_process_removed_meanwhile(tmp_path, monkeypatch):
    """Two workers prune the shared memo folder at once: a file listed but gone before it is
    dated must not fail the report (England's national run lost one report to this)."""
    import os
    import pathlib

    for i in range(5):
        f = tmp_path / f"r{i}.pkl"
        f.write_bytes(b"x")
        os.utime(f, ns=(i * 10**9, i * 10**9))
    real_glob = pathlib.Path.glob
    monkeypatch.setattr(pathlib.Path, "glob",
                        lambda self, pat: [*real_glob(self, pat), self / "gone.pkl"])
    monkeypatch.setattr(table_cache, "MAX_DISK_RESULTS", 3)
    table_cache._prune(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.pkl") if p.exists()) == ["r2.pkl", "r3.pkl",
                                                                             "r4.pkl"]


def test_a_result_read_is_kept_longer_than_results_written_later(tmp_path, monkeypatch):
    """Pruning drops the least recently used results: a district-wide result that every
    report reads outlives newer results written once (a batch's many memberships)."""
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(tmp_path))
    monkeypatch.setattr(table_cache, "MAX_DISK_RESULTS", 3)
    computed: list[str] = []

    def result(key: str) -> str:
        return table_cache.on_disk(key, lambda: (computed.append(key), key)[1])

    for key in ("a0", "a1", "a0", "a2", "a0", "a3", "a0", "a4", "a0"):  # a0 read again and again
        result(key)
    assert computed == ["a0", "a1", "a2", "a3", "a4"]  # a0 was never computed again
    assert sorted(p.stem for p in tmp_path.glob("*.pkl")) == ["a0", "a3", "a4"]
    table_cache.on_disk("f1", lambda: "figure", subfolder="figures", keep=1)
    table_cache.on_disk("f2", lambda: "figure", subfolder="figures", keep=1)
    assert [p.stem for p in (tmp_path / "figures").glob("*.pkl")] == ["f2"]
    assert sorted(p.stem for p in tmp_path.glob("*.pkl")) == ["a0", "a3", "a4"]
