"""``trajectories`` reads the panel once as a matrix: every group's mean percentile and LSOA
count equal the plain computation (one column, one set at a time), exactly, for the target
areas with their comparators and for a context group, default areas and one LSOA dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import areas, evaluation
from evidence_pack.analysis.evaluation_did import trajectories
from evidence_pack.analysis.evaluation_match import MatchSpec, match
from evidence_pack.analysis.evaluation_panel import MEASURES, RELEASES, col

pytestmark = pytest.mark.mirror


def _plain(panel, members, matches=None):
    rows = []
    for name, codes in members.items():
        codes = list(codes)
        sets = [(name, pd.Series(1.0, index=codes))]
        if matches is not None:
            mm = matches[matches["treated"].isin(codes)]
            if len(mm):
                w = 1.0 / mm.groupby("treated")["control"].transform("count")
                sets.append((f"{name}__comparators",
                             pd.Series(w.to_numpy(), index=mm["control"].to_numpy())))
        for label, wts in sets:
            for meas in MEASURES:
                for rel in RELEASES:
                    if col(meas, rel) not in panel:
                        continue
                    v = panel[col(meas, rel)].reindex(wts.index).to_numpy(float)
                    ok = ~np.isnan(v)
                    if ok.any():
                        rows.append({"group": label, "measure": meas, "release": rel,
                                     "mean_pct": float(np.average(v[ok],
                                                                  weights=wts.to_numpy()[ok])),
                                     "n_lsoas": int(len(set(wts.index[ok])))})
    return pd.DataFrame(rows)


def test_trajectories_equal_the_plain_computation(rotherham_areas):
    a = rotherham_areas
    england = evaluation.england_inputs()
    units, panel = england["units"], england["panel"]
    m01 = areas.members(a, 2001)
    groups = m01.drop_duplicates("lsoa_code").set_index("lsoa_code")["slug"]
    groups.index = groups.index.astype(str)
    matches = match(units, list(groups.index), a.la_code, MatchSpec())
    named = {"all": list(groups.index), **{str(s): list(g.index) for s, g in
                                              groups.groupby(groups)}}
    got = trajectories(panel, named, matches)
    pd.testing.assert_frame_equal(got, _plain(panel, named, matches), check_exact=True)
    assert (got["group"] == "all__comparators").any()
    rest = {"rest": units.index[(units["lad_code"] == a.la_code)
                                & ~units.index.isin(groups.index)]}
    pd.testing.assert_frame_equal(trajectories(panel, rest), _plain(panel, rest),
                                  check_exact=True)
