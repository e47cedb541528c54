"""The profile's tables are computed for every set at once (one Arrow lookup of each set's
LSOAs, one census groupby for all sets): each set's figures equal the same table built for
that set alone, exactly, for the default areas and with one LSOA dropped from an area."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from evidence_pack.analysis import areas, profile
from evidence_pack.stores import census, iod

pytestmark = pytest.mark.mirror


def _sets(dropped: bool) -> dict[str, pd.DataFrame | None]:
    aset = areas.load_areas()
    if dropped:
        first = aset.areas[0]
        aset = replace(aset, areas=[replace(first, lsoas=first.lsoas[:-1]), *aset.areas[1:]])
    store = iod.load(releases=[2025], measures=["imd"])
    return profile.area_sets(aset, areas.members(aset, 2021), store, combined="All areas")


@pytest.mark.parametrize("dropped", [False, True])
def test_each_set_equals_the_table_of_that_set_alone(processed, dropped):
    sets = _sets(dropped)
    assert len(sets) > 10 and sum(s is None for s in sets.values()) == 1
    together = {"cen": profile.census_table(sets), "msoa": profile.msoa_context(sets),
                "cni": profile.cni_table(sets), "rur": profile.rurality(sets)}
    for name, s in sets.items():
        one = {name: s}
        cen = profile.census_table(one)
        pd.testing.assert_frame_equal(together["cen"][["topic", "category", "measure", name]],
                                      cen, check_exact=True)
        for part, make in (("msoa", profile.msoa_context), ("cni", profile.cni_table)):
            got = together[part].loc[together[part]["area"] == name].reset_index(drop=True)
            pd.testing.assert_frame_equal(got, make(one), check_exact=True, obj=part)
        if s is None:  # England alone keeps no class (classes are those of the other sets)
            borough = list(sets)[-2]  # holds every area: the same classes as all the sets
            one = {borough: sets[borough], name: s}
        rur = profile.rurality(one)
        got = together["rur"].loc[together["rur"][name] > 0, ["classification", name]]
        pd.testing.assert_frame_equal(got.reset_index(drop=True),
                                      rur.loc[rur[name] > 0, ["classification", name]
                                              ].reset_index(drop=True),
                                      check_exact=True, obj="rur")


@pytest.mark.parametrize("dropped", [False, True])
def test_census_shares_of_many_sets_equal_shares_of_each(processed, dropped):
    sets = {k: s for k, s in _sets(dropped).items() if s is not None}
    topics = ["tenure", "household_deprivation", "disability", "ethnicity"]
    table = census.load_lsoa()
    many = census.shares_many({k: (s["lsoa_code"], dict(zip(s["lsoa_code"], s["weight"],
                                                             strict=True)))
                               for k, s in sets.items()}, topics, table)
    assert list(many) == list(sets)
    for k, s in sets.items():
        want = census.shares(s["lsoa_code"], topics, table=table,
                             weights=dict(zip(s["lsoa_code"], s["weight"], strict=True)))
        pd.testing.assert_frame_equal(many[k], want, check_exact=True, obj=k)
    half = {k: (list(s["lsoa_code"])[::2], None) for k, s in sets.items()}
    msoa = census.load_msoa()
    codes = {k: sorted(set(profile.lsoa_to_msoa().reindex(c).dropna())) for k, (c, _) in
             half.items()}
    many = census.shares_many({k: (c, None) for k, c in codes.items()},
                              ["migration", "proficiency"], msoa, key="msoa_code")
    for k, c in codes.items():
        pd.testing.assert_frame_equal(many[k], census.shares(c, ["migration", "proficiency"],
                                                             table=msoa, key="msoa_code"),
                                      check_exact=True, obj=k)


def test_a_code_missing_from_the_census_is_named(processed):
    with pytest.raises(KeyError, match="E01999999"):
        census.shares_many({"x": (["E01999999"], None)}, ["tenure"], census.load_lsoa())


def test_set_groups_equal_the_groupby_of_each_group(processed):
    """A set's census groups (owner occupied, ...) are the sums of their categories."""
    t = census.load_lsoa()
    one = census.shares(list(t["lsoa_code"].unique()[:5]), ["tenure", "ethnicity"], table=t)
    got = one.set_index("category")
    for topic, groups in census.GROUPS.items():
        for gkey, members in groups.items():
            if topic in ("tenure", "ethnicity"):
                assert got.loc[gkey, "n"] == got.loc[list(members), "n"].sum()
                assert got.loc[gkey, "total"] == got.loc[members[0], "total"]
