"""What the build hands to its workers and gets back: a job (one notebook for one area), the
settings every worker shares, and a job's result. A module of its own, with no data stack, so
that a worker process starts without importing pandas (~0.3 s each)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence_pack import config


@dataclass
class Job:
    """One run: a notebook for one area."""

    notebook: str
    path: str
    area: str
    area_name: str
    parameters: dict[str, Any]
    key: str
    title: str

    @property
    def id(self) -> str:
        return f"{self.area}/{self.notebook}"

    def outputs(self, reports_dir: Path) -> dict[str, Path]:
        """The report's unit of outputs: HTML, JSON and PDF (written or removed together)."""
        base = reports_dir / self.area / self.notebook
        return {k: base.with_suffix(f".{k}") for k in ("html", "json", "pdf")}


@dataclass
class Settings:
    """What every worker needs to run and publish a job."""

    root: str
    reports_dir: str
    build_dir: str
    pdf: bool = True
    kernel_name: str = config.KERNEL_NAME
    la_name: str = config.DEFAULT_LA_NAME
    runs_per_kernel: int = 0  # 0 = reuse the warm kernel for every run
    start_timeout: int = 120
    memo_dir: str = ""  # memoised results ("": $EVIDENCE_PACK_MEMO_DIR, else build_dir/memo)


@dataclass
class Result:
    """The outcome of one job; ``seconds`` by phase in ``timings`` (execute, html, pdf; and
    kernel: the part of execute spent starting or resetting the worker's kernel)."""

    job_id: str
    ok: bool
    seconds: float
    error: str = ""
    summary: dict[str, Any] = field(default_factory=dict)
    dropped_outputs: int = 0
    timings: dict[str, float] = field(default_factory=dict)
