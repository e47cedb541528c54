"""Caches for tables that many reports read: in the kernel, and on disk per areas file.

- ``read_parquet``: a module-level cache keyed by (path, modification time, size, columns),
  so a warm kernel that runs report after report reads each district- or England-wide table
  once; a rewritten file is read again.
- ``frames_for``: frames computed for one areas file, stored under
  ``<root>/<hash of the file's content>/`` and reused by every later report. The folder is
  written beside its final name and renamed into place in one step, so two processes that
  compute it at once both succeed and readers never see half a folder.
- ``memo``: a decorator for district- and England-wide computations that every report of a
  build repeats (the spend baseline, partner spend, ...). In a warm kernel the result is kept,
  keyed by the content of the arguments (the parsed areas file less what no memoised
  computation may read, see ``AreaSet.memo_key``: no names, so a memoised result carries
  none and the caller joins names at use; years, tables: pickled and hashed) and by
  the state of the data files (size and modification time of every file under
  ``data/processed`` and ``data/spend``); each call gets a deep copy, so a notebook may change
  what it gets. Arguments that cannot be pickled, or ``EVIDENCE_PACK_MEMO=0``: no cache.
  With ``EVIDENCE_PACK_MEMO_DIR`` set (the build sets it for its kernels), results are also
  kept on disk there, keyed as well by the package's source code: one worker's kernel computes
  a district-wide result and every other kernel of the build (and of later builds, until the
  data or the code change) reads it. A lock per key makes a second kernel wait for the first
  rather than compute the same result at once.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import hashlib
import inspect
import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from evidence_pack import config
from evidence_pack.sources.catalogue import sha256_file
from evidence_pack.sources.freshness import is_fresh

_TABLES: dict[tuple, pd.DataFrame] = {}
#: Tables kept at most (the least recently read go first).
MAX_TABLES = 32


def read_parquet(path: str | os.PathLike, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``pd.read_parquet`` once per kernel for the same file version and columns.

    Returns the cached frame itself: callers must not modify it in place (copy first)."""
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size, tuple(columns) if columns else None)
    if key in _TABLES:
        _TABLES[key] = _TABLES.pop(key)  # most recently used last
        return _TABLES[key]
    df = pd.read_parquet(p, columns=list(columns) if columns else None)
    _TABLES[key] = df
    while len(_TABLES) > MAX_TABLES:
        _TABLES.pop(next(iter(_TABLES)))
    return df


def clear() -> None:
    """Forget every cached table and memoised result (tests, or to free memory)."""
    _TABLES.clear()
    _MEMO.clear()
    _STAMP.clear()


def clear_results() -> None:
    """Forget every memoised result (the tables stay)."""
    _MEMO.clear()
    _STAMP.clear()


F = TypeVar("F", bound=Callable[..., Any])
_MEMO: dict[str, Any] = {}
#: Results kept at most (the least recently used go first).
MAX_RESULTS = 64
#: Folders (under the project root) whose files the memoised computations read.
DATA_DIRS = ("data/processed", "data/spend")


#: The data stamp of the report a build's kernel is running (``forget_data_stamp``).
_STAMP: dict[str, tuple] = {}


def data_stamp(root: Path | None = None) -> tuple:
    """(path, size, mtime_ns) of every file under ``DATA_DIRS``: a cheap version of the data
    (~100 files; a rebuilt or edited file changes it). ~2 ms a walk, and a report asks 8-20
    times: in a build's kernel (``EVIDENCE_PACK_MEMO_DIR`` set) it is walked once a report,
    the kernel's reset between reports forgetting it; in any other session, at every call."""
    root = Path(root or config.ROOT)
    if not os.environ.get("EVIDENCE_PACK_MEMO_DIR"):
        return _walk_stamp(root)
    if str(root) not in _STAMP:
        _STAMP[str(root)] = _walk_stamp(root)
    return _STAMP[str(root)]


def forget_data_stamp() -> None:
    """Walk the data folders again at the next ``data_stamp`` (a build's kernel, between
    reports)."""
    _STAMP.clear()


def _walk_stamp(root: Path) -> tuple:
    out = []
    for d in DATA_DIRS:
        for dirpath, dirs, files in os.walk(root / d):
            # results cached per areas file (frames_for folders, their temporaries) are derived
            # from these data and the areas file (a memo argument): not a version of the data
            dirs[:] = [x for x in dirs if not x.startswith(".")]
            if MARKER in files:
                continue
            for f in files:
                p = os.path.join(dirpath, f)
                try:
                    st = os.stat(p)
                except OSError:
                    continue
                out.append((p, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


_CODE_STAMP: list[str] = []
#: Result files kept at most in ``EVIDENCE_PACK_MEMO_DIR`` (the least recently written go first).
MAX_DISK_RESULTS = 256


def code_stamp() -> str:
    """sha256 of every source file of the ``evidence_pack`` package (computed once a process):
    a result kept on disk is not reused by changed code."""
    if not _CODE_STAMP:
        h = hashlib.sha256()
        pkg = Path(__file__).resolve().parents[1]
        for f in sorted(pkg.rglob("*.py")):
            h.update(str(f.relative_to(pkg)).encode())
            h.update(f.read_bytes())
        _CODE_STAMP.append(h.hexdigest())
    return _CODE_STAMP[0]


def _prune(folder: Path, keep: int | None = None) -> None:
    """Keep the ``keep`` most recently used results (a result read is touched, so one every
    report reads, like a district-wide table, outlives many written once). Other processes
    prune the same folder at once (a build's kernels, a batch's workers): a file gone
    meanwhile is skipped. ``keep``: default ``MAX_DISK_RESULTS``."""
    keep = MAX_DISK_RESULTS if keep is None else keep
    dated = []
    for f in folder.glob("*.pkl"):
        with contextlib.suppress(OSError):
            dated.append((f.stat().st_mtime_ns, f))
    files = [f for _, f in sorted(dated)]
    for f in files[: max(0, len(files) - keep)]:
        with contextlib.suppress(OSError):
            f.unlink()
            f.with_suffix(".lock").unlink()


def on_disk(key: str, compute: Callable[[], Any], subfolder: str = "",
            keep: int | None = None) -> Any:
    """``compute()``'s result read from, or written to, ``<EVIDENCE_PACK_MEMO_DIR>/
    <subfolder>/<key>.pkl`` (another process computing the same key is waited for; ``keep``
    results kept there, default ``MAX_DISK_RESULTS``); no folder set: ``compute()``.
    ``key``: hex digits that cover everything the result depends on (``memo`` makes them
    from a function's arguments; ``charts.figure_cache`` from a figure's content)."""
    folder = os.environ.get("EVIDENCE_PACK_MEMO_DIR")
    if not folder:
        return compute()
    folder = Path(folder) / subfolder if subfolder else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.pkl"
    with open(folder / f"{key}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when this process ends, whatever happens
        try:
            if path.exists():
                try:
                    with open(path, "rb") as fh:
                        result = pickle.load(fh)
                    with contextlib.suppress(OSError):
                        os.utime(path)  # used: the last to be pruned
                    return result
                except Exception:  # a damaged file: computed again and rewritten
                    pass
            result = compute()
            try:
                blob = pickle.dumps(result, protocol=5)
            except Exception:  # a result that cannot be pickled stays in this process only
                return result
            tmp = path.with_name(f".{path.name}.{os.getpid()}")
            tmp.write_bytes(blob)
            os.replace(tmp, path)
            _prune(folder, keep)
            return result
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _keyed(arg: Any) -> Any:
    """What an argument is keyed by, and what the computation is given: its ``memo_key()``
    when it has one (an areas file's parsed set without its areas' names, leads, evidence and
    confidence), else itself."""
    key = getattr(arg, "memo_key", None)
    return key() if callable(key) else arg


def memo(fn: F) -> F:
    """Keep ``fn``'s results in this process (and in ``EVIDENCE_PACK_MEMO_DIR`` when set),
    keyed by its arguments' content and the data stamp; return a deep copy each time (see the
    module docstring)."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # keyed by every parameter's value, defaults filled in: ``f(x)``, ``f(x, y=None)``
        # and ``f(x, None)`` are one computation when None is the default
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        # the computation sees what it is keyed by (an areas file's set without names or
        # leads), cached or not: a result can never carry a name its key does not cover
        args = tuple(_keyed(a) for a in bound.args)
        kwargs = {k: _keyed(v) for k, v in bound.kwargs.items()}
        if os.environ.get("EVIDENCE_PACK_MEMO", "1") == "0":
            return fn(*args, **kwargs)
        try:
            blob = pickle.dumps((name, list(args), sorted(kwargs.items()), data_stamp()),
                                protocol=5)
        except Exception:  # an argument that cannot be pickled: no cache
            return fn(*args, **kwargs)
        key = hashlib.sha256(blob).hexdigest()
        if key in _MEMO:
            _MEMO[key] = _MEMO.pop(key)  # most recently used last
        else:
            disk_key = hashlib.sha256(f"{key}:{code_stamp()}".encode()).hexdigest()
            _MEMO[key] = on_disk(disk_key, lambda: fn(*args, **kwargs))
            while len(_MEMO) > MAX_RESULTS:
                _MEMO.pop(next(iter(_MEMO)))
        return copy.deepcopy(_MEMO[key])

    wrapper.uncached = fn  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


#: The folder (beside ``frames_for`` folders) of their locks.
LOCKS = ".locks"
#: The file that marks a ``frames_for`` folder (results derived from data and an areas file).
MARKER = "source.json"


def in_frames_folder(path: str | os.PathLike) -> bool:
    """True for a file inside a ``frames_for`` folder: derived from the processed data and an
    areas file, so not an input of its own (the build's cache keys leave it out)."""
    return (Path(path).parent / MARKER).exists()


def content_key(path: str | os.PathLike) -> str:
    """First 16 hex digits of the sha256 of the file's bytes (the cache key of an areas file)."""
    return sha256_file(Path(path))[:16]


def frames_for(root: Path, source: Path, names: Iterable[str],
               compute: Callable[[], Mapping[str, pd.DataFrame]],
               inputs: Iterable[Path] = (), key: str | None = None) -> dict[str, pd.DataFrame]:
    """The frames ``names`` for ``source`` (an areas file, or the data file England-wide
    frames come from): read from ``root/<key>/<name>.parquet`` when present and newer than
    every path in ``inputs`` (the shared freshness rule), otherwise ``compute()``d, written
    and returned. ``key`` names what the frames depend on (e.g. the
    areas' membership, ``AreaSet.membership``, so that a renamed area reuses them); default:
    the file's content. A lock per key makes a second process wait for the first and read
    its frames rather than compute them at once."""
    names = list(names)
    folder = Path(root) / (key or content_key(source))
    files = [folder / f"{n}.parquet" for n in names]
    inputs = list(inputs)
    if is_fresh(files, inputs):
        return {n: read_parquet(f) for n, f in zip(names, files, strict=True)}
    locks = folder.parent / LOCKS  # hidden: not a data file for the stamps and build keys
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f".{folder.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when this process ends, whatever happens
        try:
            if is_fresh(files, inputs):  # another process wrote them while this one waited
                return {n: read_parquet(f) for n, f in zip(names, files, strict=True)}
            return _write_frames(folder, source, names, compute)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_frames(folder: Path, source: Path, names: list[str],
                  compute: Callable[[], Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    frames = dict(compute())
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for n in names:
            frames[n].to_parquet(tmp / f"{n}.parquet", index=False)
        (tmp / MARKER).write_text(json.dumps({"source": str(source)}), encoding="utf-8")
        os.chmod(tmp, 0o755)
        if folder.exists():  # stale (or written by another process meanwhile): replace it
            stale = folder.with_name(f".{folder.name}.stale.{os.getpid()}")
            try:
                folder.rename(stale)
                shutil.rmtree(stale, ignore_errors=True)
            except OSError:
                pass
        try:
            tmp.rename(folder)
        except OSError:  # another process renamed its copy first: theirs is as good
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {n: frames[n] for n in names}
