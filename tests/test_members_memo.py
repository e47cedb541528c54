"""An areas file's members on each LSOA vintage are memoised by membership (no names), so a
fresh kernel of a build reads them instead of England's crosswalks: what it reads back
equals the uncached computation, names are the current ones, and a changed membership is
computed again."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from evidence_pack.analysis import areas
from evidence_pack.sources import table_cache

pytestmark = pytest.mark.mirror


def _plain(aset: areas.AreaSet, vintage: int | None) -> pd.DataFrame:
    """``members`` computed without the memo, names joined as before (from the set itself)."""
    table = aset.table()
    frames = [areas._carry_table(g[["slug", "name", "lsoa_code"]], int(v),
                                 int(v) if vintage is None else vintage)
              for v, g in table.groupby("lsoa_vintage", sort=True)]
    out = pd.concat(frames, ignore_index=True)
    order = {s: i for i, s in enumerate(aset.slugs)}
    out = out.assign(_o=out["slug"].map(order)).sort_values(["_o", "lsoa_code"])
    return out[["slug", "name", "lsoa_code", "weight"]].reset_index(drop=True)


@pytest.mark.parametrize("vintage", [None, 2001, 2011, 2021])
def test_members_read_back_equal_the_uncached_computation(processed, tmp_path, monkeypatch,
                                                          vintage):
    monkeypatch.setenv("EVIDENCE_PACK_MEMO_DIR", str(tmp_path))
    aset = areas.load_areas()
    first = aset.areas[0]
    dropped = replace(aset, areas=[replace(first, lsoas=first.lsoas[:-1]), *aset.areas[1:]])
    renamed = replace(aset, areas=[replace(first, name="Elsewhere"), *aset.areas[1:]])
    for a in (aset, dropped):
        table_cache.clear_results()
        computed = areas.members(a, vintage)
        table_cache.clear_results()  # a fresh kernel: read from the memo folder
        again = areas.members(a, vintage)
        want = _plain(a, vintage)
        pd.testing.assert_frame_equal(computed, want, check_exact=True)
        pd.testing.assert_frame_equal(again, want, check_exact=True)
    written = sorted(tmp_path.glob("*.pkl"))
    got = areas.members(renamed, vintage)  # same membership: no new result, the new name
    assert sorted(tmp_path.glob("*.pkl")) == written
    assert set(got.loc[got["slug"] == first.slug, "name"]) == {"Elsewhere"}
    pd.testing.assert_frame_equal(got, _plain(renamed, vintage), check_exact=True)
    assert not _plain(dropped, vintage).equals(_plain(aset, vintage))  # a new membership
