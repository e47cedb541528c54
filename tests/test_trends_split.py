"""``trends.split`` gives the measures of a release one shared index of their LSOAs (one
conversion and one hash table a release): every group equals the group built on its own, and
a release whose LSOAs differ between measures gets its own index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import trends
from evidence_pack.stores import iod

RELEASES = [2010, 2025]


def _own(sub: pd.DataFrame) -> pd.DataFrame:
    """A group as built one at a time (before the index was shared)."""
    codes = pd.Index(np.asarray(sub["lsoa_code"], dtype=object), name="lsoa_code")
    return sub[["score", "rank", "decile"]].set_axis(codes)


@pytest.mark.mirror
def test_groups_share_an_index_per_release_and_equal_their_own(processed):
    store = iod.load(releases=RELEASES, measures=["imd", "income", "crime"])
    g = trends.split(store)
    assert sorted(g) == sorted((r, m) for r in RELEASES for m in ("imd", "income", "crime"))
    for (r, m), got in g.items():
        want = _own(store.loc[(store["release"] == r) & (store["measure"] == m)])
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got.index is g[(r, "imd")].index  # one index for the release
    assert g[(2010, "imd")].index is not g[(2025, "imd")].index


def test_a_measure_with_other_lsoas_keeps_its_own_index():
    rows = pd.DataFrame({"release": 2025, "measure": ["imd", "imd", "crime", "crime", "health"],
                         "lsoa_code": ["E1", "E2", "E1", "E2", "E2"],
                         "score": [1.0, 2.0, 3.0, 4.0, 5.0], "rank": [1, 2, 1, 2, 1],
                         "decile": [1, 1, 1, 1, 1]})
    g = trends.split(rows)
    assert g[(2025, "crime")].index is g[(2025, "imd")].index
    assert list(g[(2025, "health")].index) == ["E2"]
    for (_, m), got in g.items():
        pd.testing.assert_frame_equal(got, _own(rows[rows["measure"] == m]), check_exact=True)
    assert trends.split(g) is g  # a split frame passes through
