"""England-wide inputs of the per-membership results are prepared once and read from disk:
the evaluation's panel, units and monitoring positions, and the vulnerability measures'
values. What is read back equals what is computed, exactly, and so do the results a
never-seen membership gets from them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import evaluation
from evidence_pack.analysis import risk_areas as ra
from evidence_pack.sources import table_cache

pytestmark = pytest.mark.mirror


def _same_england(got: dict, want: dict) -> None:
    for part in ("panel", "units"):
        pd.testing.assert_frame_equal(got[part], want[part], check_exact=True)
        assert got[part].index.dtype == object  # plain strings, as computed
    assert list(got["monitoring"]) == list(want["monitoring"]) == list(evaluation.MONITORED)
    for rel, pos in want["monitoring"].items():
        mine = got["monitoring"][rel]
        pd.testing.assert_frame_equal(mine["wide"], pos["wide"], check_exact=True)
        assert list(mine["stats"]) == list(pos["stats"])
        for name, (pol, values, median) in pos["stats"].items():
            p2, v2, m2 = mine["stats"][name]
            assert (p2, m2) == (pol, median)
            np.testing.assert_array_equal(v2, values)


@pytest.fixture
def england_folders(processed, tmp_path, monkeypatch):
    """The cache folders moved to a temporary place, empty: the first call computes."""
    monkeypatch.setattr(evaluation, "CACHE_DIR", tmp_path / "evaluation")
    monkeypatch.setattr(ra, "AREA_CACHE_DIR", tmp_path / "risk_areas")
    table_cache.clear()
    return tmp_path


def test_evaluation_inputs_read_back_equal_computed(england_folders):
    want = evaluation.compute_england_inputs()
    first = evaluation.england_inputs()  # computed and written
    folder = england_folders / "evaluation" / evaluation.ENGLAND_KEY
    assert sorted(p.stem for p in folder.glob("*.parquet")) == sorted(evaluation.ENGLAND_FRAMES)
    assert table_cache.in_frames_folder(folder / "panel.parquet")  # not a build input
    table_cache.clear()
    second = evaluation.england_inputs()  # read from disk
    _same_england(first, want)
    _same_england(second, want)


def test_vulnerability_values_read_back_equal_computed(england_folders):
    for release in ra.VALUE_RELEASES:
        want = ra.compute_england_values(release)
        table_cache.clear()
        got = ra.england_values(release)
        pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_exact=True,
                                      check_dtype=False)
        assert list(got.dtypes.astype(str)) == list(want.dtypes.astype(str))
    folder = england_folders / "risk_areas" / ra.ENGLAND_KEY
    assert sorted(p.stem for p in folder.glob("*.parquet")) == [
        f"values_{r}" for r in ra.VALUE_RELEASES]


def test_a_new_membership_gets_the_same_results_from_prepared_inputs(
        rotherham_areas, england_folders, monkeypatch):
    """``run`` with the England inputs read from disk equals ``run`` with them computed in
    place, for the default areas and with one LSOA dropped (a never-seen membership)."""
    evaluation.england_inputs()  # prepared on disk
    table_cache.clear()
    from_disk = evaluation.run(rotherham_areas.members_only(), n_boot=99)
    monkeypatch.setattr(evaluation, "england_inputs", evaluation.compute_england_inputs)
    computed = evaluation.run(rotherham_areas.members_only(), n_boot=99)
    assert list(from_disk) == list(computed)
    for key, frame in computed.items():
        pd.testing.assert_frame_equal(from_disk[key], frame, check_exact=True, obj=key)
