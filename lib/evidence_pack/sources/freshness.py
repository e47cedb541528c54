"""One freshness rule for every prepare stage.

A stage's outputs are fresh when all of them exist and the oldest output was modified
strictly after the newest input that exists. Inputs include the stage's own code files, so
changing the code that builds a store rebuilds it. Modification times in nanoseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def is_fresh(outputs: Iterable[Path], inputs: Iterable[Path]) -> bool:
    """True when every output exists and is newer than every existing input."""
    outputs = [Path(p) for p in outputs]
    if not outputs or not all(p.exists() for p in outputs):
        return False
    times_in = [Path(p).stat().st_mtime_ns for p in inputs if Path(p).exists()]
    if not times_in:
        return True
    return min(p.stat().st_mtime_ns for p in outputs) > max(times_in)
