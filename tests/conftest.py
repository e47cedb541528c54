"""Shared fixtures. Integration tests marked ``mirror`` need the fetched raw data and the
prepared store (``make data``); they are skipped with a clear reason when it is absent."""

from __future__ import annotations

import pytest
from evidence_pack import config
from evidence_pack.sources import catalogue


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
