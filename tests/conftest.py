"""Shared fixtures. Integration tests marked ``mirror`` need the fetched raw data and the
prepared store (``make data``); they are skipped with a clear reason when it is absent."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from evidence_pack import config
from evidence_pack.publish import build
from evidence_pack.sources import catalogue, table_cache


@pytest.fixture(autouse=True)
def _fresh_results():
    """Memoised results (``table_cache.memo``) do not pass from one test to the next: a test
    may monkeypatch what they are computed from."""
    table_cache.clear_results()
    yield


def _raw_ready() -> bool:
    return all(e.raw_path().exists() for e in catalogue.select())


@pytest.fixture(scope="session")
def raw_data() -> None:
    if not _raw_ready():
        pytest.skip("raw data not fetched: run `make data` (offline: set EVIDENCE_PACK_MIRROR)")


@pytest.fixture(scope="session")
def processed(raw_data) -> None:
    if not (config.PROCESSED_DIR / "iod_lsoa.parquet").exists():
        pytest.skip("processed store not built: run `evidence-pack prepare`")


@dataclass(frozen=True)
class SmallPack:
    """A built pack of the borough and one area (every notebook, HTML and PDF)."""

    reports: Path
    areas: tuple[str, ...]
    failures: tuple[str, ...]

    def html(self) -> list[Path]:
        return sorted(self.reports.glob("*/*.html"))

    def pdf(self) -> list[Path]:
        return sorted(self.reports.glob("*/*.pdf"))


SMALL_PACK_AREAS = ("borough", "canklow")


@pytest.fixture(params=[False, True], ids=["default-areas", "one-lsoa-dropped"])
def rotherham_areas(request, processed):
    """Rotherham's areas as loaded, then with one LSOA dropped from the first area that has
    more than one: a computation made faster must give the same result for both."""
    from dataclasses import replace

    from evidence_pack.analysis import areas

    a = areas.load_areas()
    if request.param:
        big = next(x for x in a.areas if len(x.lsoas) > 1)
        a = replace(a, areas=[replace(x, lsoas=x.lsoas[1:]) if x is big else x
                              for x in a.areas])
    return a


@pytest.fixture(scope="session")
def small_pack(processed, tmp_path_factory) -> SmallPack:
    """borough + canklow, every notebook, HTML and PDF, built once per test session into a
    temporary folder. A notebook that fails is listed in ``failures`` (``test_small_pack_builds``
    reports it); the other reports are still checked."""
    root = tmp_path_factory.mktemp("small_pack")
    result = build.build(only=list(SMALL_PACK_AREAS), pdf=True, jobs=2, progress=False,
                         reports_dir=root / "reports", build_dir=root / "build")
    failures = tuple(f"{job}: {err}" for job, err in sorted(result.failures.items()))
    return SmallPack(root / "reports", SMALL_PACK_AREAS, failures)
