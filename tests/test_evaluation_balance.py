"""``balance_by_group`` finds the units' positions once for every group: its rows equal
``balance`` of all treated LSOAs and of each area's own, exactly (real data, Rotherham's
areas and one LSOA dropped from an area)."""

from __future__ import annotations

import pandas as pd
import pytest
from evidence_pack.analysis import areas, evaluation
from evidence_pack.analysis.evaluation_match import MatchSpec, balance, balance_by_group, match

pytestmark = pytest.mark.mirror


def test_balance_by_group_equals_balance_of_each(rotherham_areas):
    a = rotherham_areas
    units = evaluation.england_inputs()["units"]
    m01 = areas.members(a, 2001)
    groups = m01.drop_duplicates("lsoa_code").set_index("lsoa_code")["slug"]
    groups.index = groups.index.astype(str)
    spec = MatchSpec()
    matches = match(units, list(groups.index), a.la_code, spec)
    variables = list(spec.weights)
    got = balance_by_group(units, matches, groups, variables, a.la_code)
    want = pd.concat([balance(units, matches, variables, a.la_code).assign(group="all")] + [
        balance(units, matches[matches["treated"].isin(sub.index)], variables, a.la_code)
        .assign(group=str(slug)) for slug, sub in groups.groupby(groups)], ignore_index=True)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert set(got["group"]) == {"all", *a.slugs}
    with pytest.raises(KeyError, match="not in the units"):
        balance(units, matches.assign(treated="E01999999"), variables, a.la_code)
