"""Caches for tables that many reports read: in the kernel, and on disk per areas file.

- ``read_parquet``: a module-level cache keyed by (path, modification time, size, columns),
  so a warm kernel that runs report after report reads each district- or England-wide table
  once; a rewritten file is read again.
- ``frames_for``: frames computed for one areas file, stored under
  ``<root>/<hash of the file's content>/`` and reused by every later report. The folder is
  written beside its final name and renamed into place in one step, so two processes that
  compute it at once both succeed and readers never see half a folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

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
    """Forget every cached table (tests, or to free memory)."""
    _TABLES.clear()


def content_key(path: str | os.PathLike) -> str:
    """First 16 hex digits of the sha256 of the file's bytes (the cache key of an areas file)."""
    return sha256_file(Path(path))[:16]


def frames_for(root: Path, source: Path, names: Iterable[str],
               compute: Callable[[], Mapping[str, pd.DataFrame]],
               inputs: Iterable[Path] = ()) -> dict[str, pd.DataFrame]:
    """The frames ``names`` for ``source`` (an areas file): read from
    ``root/<content hash>/<name>.parquet`` when present and newer than every path in
    ``inputs`` (the shared freshness rule), otherwise ``compute()``d, written and returned."""
    names = list(names)
    folder = Path(root) / content_key(source)
    files = [folder / f"{n}.parquet" for n in names]
    inputs = list(inputs)
    if is_fresh(files, inputs):
        return {n: read_parquet(f) for n, f in zip(names, files, strict=True)}
    frames = dict(compute())
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for n in names:
            frames[n].to_parquet(tmp / f"{n}.parquet", index=False)
        (tmp / "source.json").write_text(json.dumps({"areas_file": str(source)}), encoding="utf-8")
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
