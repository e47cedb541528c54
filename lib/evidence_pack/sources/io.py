"""Small I/O helpers shared by every stage: atomic writes, R data, clear errors."""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:  # the data stack is not imported for atomic writes and YAML
    import pandas as pd


class DataError(ValueError):
    """Bad input data. The message names the file, the row (where there is one) and the problem."""

    def __init__(self, path: str | os.PathLike | None, problem: str, row: int | str | None = None):
        self.path = str(path) if path is not None else None
        self.row = row
        self.problem = problem
        where = self.path or "<input>"
        if row is not None:
            where += f", row {row}"
        super().__init__(f"{where}: {problem}")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` only on success.

    Nothing half-written is ever left under the final name.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():  # mkstemp creates 0600: give the file the usual umask mode
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_parquet(df: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write a data frame to parquet atomically."""
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(target)


def write_text(text: str, target: str | os.PathLike) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: ~5x faster
    """SafeLoader that refuses a key repeated in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise DataError(self.name, f"key {key!r} repeated (first at line {seen[key]}): "
                                           "keep one", row=f"line {line}")
            if isinstance(key, str | int | float | bool):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | os.PathLike, what: str = "YAML file") -> object:
    """Parse a YAML file strictly. DataError naming the file and the line when it cannot be
    read, is not UTF-8, holds a tab character, repeats a key in one mapping, or is not valid
    YAML; ``what`` says which file it is in the message."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise DataError(p, f"cannot read the {what} ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DataError(p, f"the {what} is not UTF-8 text (byte {raw[exc.start]:#04x}): save "
                           "it as UTF-8", row=f"line {line}") from None
    key = (str(p), text)
    if key in _PARSED:  # the same file with the same text: parsed once per process
        return copy.deepcopy(_PARSED[key])
    for i, line_text in enumerate(text.splitlines(), start=1):
        if "\t" in line_text:
            raise DataError(p, f"tab character in the {what}: use spaces", row=f"line {i}")
    try:
        loader = _StrictLoader(text)
        loader.name = str(p)
        try:
            doc = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise DataError(p, f"bad YAML: {problem}", row=f"line {row}" if row else None) from exc
    _PARSED[key] = doc
    while len(_PARSED) > MAX_PARSED:
        _PARSED.pop(next(iter(_PARSED)))
    return copy.deepcopy(doc)


#: YAML documents parsed in this process, keyed by path and text (an areas file, the spend
#: configs: read by many functions of every report, ~0.05-0.1 s a parse); a copy to each caller.
_PARSED: dict[tuple[str, str], object] = {}
MAX_PARSED = 32


def read_rda_frame(path: str | os.PathLike, expected_columns: list[str] | None = None) -> pd.DataFrame:
    """Read the single data frame held in an R ``.rda`` file (pyreadr).

    Raises DataError naming the file when it cannot be read or lacks expected columns.
    """
    import pyreadr

    try:
        result = pyreadr.read_r(str(path))
    except Exception as exc:  # pyreadr raises several types for corrupt files
        raise DataError(path, f"cannot be read as R data ({exc.__class__.__name__}: {exc})") from exc
    if len(result) != 1:
        raise DataError(path, f"expected one R object, found {list(result)}")
    df = next(iter(result.values()))
    if expected_columns:
        missing = [c for c in expected_columns if c not in df.columns]
        if missing:
            raise DataError(path, f"missing column(s) {missing}")
    return df
