"""The spend drivers' district-level pieces that no area membership changes (a district's LSOAs,
its driver values, every district's driver total) are kept in the build's memo folder, so a
fresh kernel of a rebuild reads them instead of England's rows: what it reads back from disk
equals the uncached computation on the real data."""

from __future__ import annotations

import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.analysis import spend_drivers
from evidence_pack.sources import table_cache

pytestmark = pytest.mark.mirror

LA = config.DEFAULT_LA_CODE


def _fresh_process() -> None:
    """Forget every in-process copy, as a new kernel would."""
    table_cache.clear_results()
    for f in (spend_drivers.district_lsoas, spend_drivers._driver_weights,
              spend_drivers.district_driver):
        f.cache_clear()


def test_district_pieces_read_back_from_the_memo_folder(processed, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(tmp_path))
    _fresh_process()
    first = (spend_drivers.district_lsoas(LA, 2021), spend_drivers.driver_weights("population", LA),
             spend_drivers.district_driver("income_deprived"))
    written = sorted(tmp_path.glob("*.pkl"))
    assert len(written) >= 3  # one file per piece (and the pieces they are built from)
    _fresh_process()
    again = (spend_drivers.district_lsoas(LA, 2021), spend_drivers.driver_weights("population", LA),
             spend_drivers.district_driver("income_deprived"))
    assert sorted(tmp_path.glob("*.pkl")) == written  # read back, nothing new computed
    plain = (spend_drivers._district_lsoas.uncached(LA, 2021),
             spend_drivers._district_weights.uncached("population", LA, 2015),
             spend_drivers._district_driver.uncached("income_deprived"))
    assert first[0] == again[0] == plain[0] and len(plain[0]) > 100
    pd.testing.assert_series_equal(again[1], plain[1])
    pd.testing.assert_series_equal(first[1], plain[1])
    pd.testing.assert_frame_equal(again[2], plain[2])
    assert again[2]["lad_code"].is_unique and LA in set(again[2]["lad_code"])


def test_a_missing_driver_value_is_still_reported(processed, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(tmp_path))
    _fresh_process()
    with pytest.raises(KeyError, match="unknown driver"):
        spend_drivers.driver_weights("no-such-driver", LA)
