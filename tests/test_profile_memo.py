"""The profile tables and the district's decile-1 counts are memoised by membership, with no
name in the cached result: the same figures as the uncached computation, one computation for
a renamed area, a new one when an area's LSOAs change; the names shown are the current ones."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from evidence_pack.analysis import areas, borough_facts, profile
from evidence_pack.sources import table_cache
from evidence_pack.stores import iod

pytestmark = pytest.mark.mirror


def _variants():
    aset = areas.load_areas()
    first = aset.areas[0]
    renamed = replace(aset, areas=[replace(first, name="Elsewhere"), *aset.areas[1:]])
    dropped = replace(aset, areas=[replace(first, lsoas=first.lsoas[:-1]), *aset.areas[1:]])
    return aset, renamed, dropped


def _plain(aset, slugs, combined, england):
    """The profile as the notebooks computed it before: sets keyed by display name."""
    store = iod.load(releases=[2025], measures=["imd", *profile.DOMAINS, *profile.SUBDOMAINS])
    sets = profile.area_sets(aset, areas.members(aset, 2021), store, slugs=slugs,
                             england=england, combined=combined)
    return sets, {
        "pop": profile.population(sets), "dom": profile.domain_table(store, sets),
        "sub": profile.domain_table(store, sets, measures=profile.SUBDOMAINS),
        "drv": profile.drivers(store, sets), "cen": profile.census_table(sets),
        "msoa": profile.msoa_context(sets), "cni": profile.cni_table(sets),
        "rur": profile.rurality(sets)}


@pytest.mark.parametrize("slugs,combined,england", [(None, "All target areas", True),
                                                    (["canklow"], None, True),
                                                    (None, None, False)])
def test_profile_tables_equal_the_uncached_computation(processed, slugs, combined, england):
    aset = areas.load_areas()
    table_cache.clear_results()
    sets, got = profile.tables(aset, 2025, slugs=slugs, combined=combined, england=england)
    want_sets, want = _plain(aset, slugs, combined, england)
    assert list(sets) == list(want_sets)
    for k in want_sets:
        if want_sets[k] is None:
            assert sets[k] is None
        else:
            pd.testing.assert_frame_equal(sets[k], want_sets[k])
    assert list(got) == list(profile.PARTS)
    for k in profile.PARTS:
        pd.testing.assert_frame_equal(got[k], want[k], check_names=False, obj=k)


def test_profile_tables_reused_for_a_renamed_area_never_showing_the_old_name(processed,
                                                                           monkeypatch):
    aset, renamed, dropped = _variants()
    calls = []
    real = profile.population
    monkeypatch.setattr(profile, "population", lambda sets: calls.append(1) or real(sets))
    table_cache.clear_results()
    _, a = profile.tables(aset, 2025, combined="All target areas")
    sets_b, b = profile.tables(renamed, 2025, combined="All target areas")
    assert len(calls) == 1  # the rename reused the tables
    old = aset.areas[0].name
    assert "Elsewhere" in sets_b and old not in sets_b
    for k in profile.PARTS:
        text = b[k].to_csv() + " ".join(map(str, b[k].columns))
        assert old not in text, k
        assert "Elsewhere" in text, k
        pd.testing.assert_frame_equal(
            profile.with_names(a[k], {old: "Elsewhere"}), b[k], check_names=False, obj=k)
    profile.tables(dropped, 2025, combined="All target areas")
    assert len(calls) == 2  # a changed LSOA list computes again


def test_memoised_profile_tables_carry_no_name(processed):
    aset = areas.load_areas()
    table_cache.clear_results()
    sets, tabs = profile._tables_by_slug(aset, 2025, tuple(aset.slugs), "All target areas",
                                         True, profile.PARTS)
    text = " ".join(sets) + " ".join(t.to_csv() + " ".join(map(str, t.columns))
                                     for t in tabs.values())
    for a in aset.areas:
        assert a.name not in text
        assert profile.SLUG_PREFIX + a.slug in text


def test_decile1_counts_memoised_by_membership(processed, monkeypatch):
    aset, renamed, dropped = _variants()
    table_cache.clear_results()
    first = borough_facts.decile1_counts(aset)
    pd.testing.assert_frame_equal(first, borough_facts.decile1_counts.uncached(aset))
    calls = []
    real = borough_facts.members
    monkeypatch.setattr(borough_facts, "members",
                        lambda a, v=None: calls.append(v) or real(a, v))
    pd.testing.assert_frame_equal(borough_facts.decile1_counts(renamed), first)
    assert calls == []  # the rename reused the counts
    other = borough_facts.decile1_counts(dropped)
    assert calls  # a changed LSOA list computes again
    assert other["target_lsoas"].sum() < first["target_lsoas"].sum()


def test_district_trends_equal_the_uncached_computation(processed):
    """The district's own trend tables (no target area in their key or content) are the
    notebook's former computation, and a second call computes nothing."""
    from evidence_pack import config
    from evidence_pack.analysis import district_history, trends
    from evidence_pack.stores.lsoa_geography import district_lsoas

    aset = areas.load_areas()
    rel = tuple(config.RELEASES)
    table_cache.clear_results()
    got = district_history.district_trends(aset.la_code, aset.la_name, rel)
    store = iod.load(releases=list(rel), measures=["imd", *trends.DOMAINS])
    grouped = trends.split(store)
    history = {v: district_lsoas(aset.la_code, v) for v in {config.RELEASE_VINTAGE[r] for r in rel}}
    district = trends.district_sets(store, aset.la_code, aset.la_name, lsoas_by_vintage=history)
    pd.testing.assert_frame_equal(got["counts"], trends.decile_counts(grouped, district))
    pd.testing.assert_frame_equal(got["domains"], trends.domain_profile(grouped, district))
    pd.testing.assert_frame_equal(got["spread"], trends.gap(grouped, district))
    pd.testing.assert_frame_equal(got["ranks"], trends.district_ranks(
        trends.load_la_summary(), aset.la_code, la_name=aset.la_name, releases=rel))
    assert got["built_from"] == [] and got["counts"]["decile1"].iloc[-1] > 0
    text = got["counts"].to_csv() + got["domains"].to_csv() + got["ranks"].to_csv()
    assert not any(a.name in text for a in aset.areas)
