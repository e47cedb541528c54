"""IMD trends: district ranks, decile-1 counts, domains, the gap, carried changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from evidence_pack.analysis import trends
from evidence_pack.analysis.areas import Reference
from evidence_pack.charts.legibility import MIN_CONTRAST, contrast
from evidence_pack.charts.trends import text_colour
from evidence_pack.findings import trends as say
from evidence_pack.sources.io import DataError
from matplotlib import colormaps

#: A reference document's claims, as an areas file's ``reference:`` block gives them.
DOC = Reference(title="A report", date=dt.date(2011, 11, 9), body="Cabinet",
                district_ranks={2007: 68, 2010: 53}, districts_of={2010: 326})


def _iod() -> pd.DataFrame:
    """Two releases on one geography (2007, 2010), 10 LSOAs in district D, 10 elsewhere."""
    rows = []
    for release, shift in ((2007, 0), (2010, 1)):
        for i in range(20):
            lad = "D" if i < 10 else "X"
            rank = 100 + i * 1000 - (shift * 90 if i < 3 else 0)   # D's worst three get worse
            for measure, r in (("imd", rank), ("health", 50 + i), ("crime", 20000 + i)):
                rows.append({"release": release, "lsoa_code": f"L{i:02d}", "lsoa_vintage": 2001,
                             "lad_code": lad, "lad_name": lad, "measure": measure,
                             "score": 60.0 - i * 3 + (shift * 5 if i < 3 else 0), "rank": r,
                             "decile": int(np.ceil(10 * r / 32482))})
    return pd.DataFrame(rows)


def _la_summary() -> pd.DataFrame:
    rows = []
    for release, rank, n in ((2007, 68, 354), (2010, 53, 326)):
        for stat in trends.STATISTICS:
            rows.append({"release": release, "lad_code": "D", "lad_name": "D", "measure": "imd",
                         "statistic": stat, "value": 1.0, "rank": rank, "n_districts": n,
                         "source": "computed", "population_basis": "x"})
        rows.append({"release": release, "lad_code": "D", "lad_name": "D", "measure": "health",
                     "statistic": "average_score", "value": 1.0, "rank": 9, "n_districts": n,
                     "source": "computed", "population_basis": "x"})
    rows.append({**rows[0], "rank": 70, "source": "official"})   # official wins over computed
    return pd.DataFrame(rows)


def test_district_ranks_prefers_official_and_compares_with_report():
    r = trends.district_ranks(_la_summary(), "D")
    assert r["release"].tolist() == [2007, 2010]
    assert r.set_index("release").loc[2007, "rank_average_score"] == 70
    assert r.set_index("release").loc[2010, "n_districts"] == 326
    cmp = trends.compare_reported(r, DOC.district_ranks, DOC.districts_of).set_index("release")
    assert not cmp.loc[2007, "agrees"] and cmp.loc[2010, "agrees"]
    with pytest.raises(DataError, match="no imd rows"):
        trends.district_ranks(_la_summary(), "NOPE")
    assert "more deprived" in trends.rank_direction(r)[0]


def test_decile_counts_and_weights():
    iod = _iod()
    sets = trends.district_sets(iod, "D")
    c = trends.decile_counts(iod, sets).set_index("release")
    # ranks 100..9100 of 32482: decile 1 is rank <= 3248 -> LSOAs 0-3
    assert c.loc[2007, "decile1"] == 4 and c.loc[2007, "lsoas"] == 10
    assert c.loc[2010, "most_deprived_rank"] == 10
    half = {2007: pd.DataFrame({"lsoa_code": ["L00", "L09"], "weight": [0.5, 1.0]})}
    h = trends.decile_counts(iod, half).iloc[0]
    assert h["decile1"] == 0.5 and h["share_decile1"] == pytest.approx(0.5 / 1.5)
    with pytest.raises(DataError, match="no LSOAs for district"):
        trends.district_sets(iod, "ZZ")


def test_domains_worst_and_ranks():
    iod = _iod()
    sets = trends.district_sets(iod, "D")
    prof = trends.domain_profile(iod, sets, measures=("health", "crime", "education"))
    assert set(prof["measure"]) == {"health", "crime"}        # education absent: left out
    assert trends.worst_domains(prof, 2010, n=1) == ["health"]
    dr = trends.domain_ranks(_la_summary(), "D", measures=("health", "crime"))
    assert dr.set_index("release").loc[2010, "health"] == 9


def test_gap_widens_when_worst_get_worse():
    iod = _iod()
    g = trends.gap(iod, trends.district_sets(iod, "D")).set_index("release")
    assert g.loc[2007, "spread_widened"] is None
    assert g.loc[2010, "pct_spread"] > g.loc[2007, "pct_spread"]
    assert g.loc[2010, "spread_widened"] is True
    assert g.loc[2010, "score_gap_widened"] is True
    grp = trends.change_by_group(iod, trends.district_sets(iod, "D")[2007], 2007, 2010, groups=2)
    assert grp.loc[0, "score_change"] > grp.loc[1, "score_change"] == 0
    with pytest.raises(ValueError, match="different LSOA geographies"):
        trends.change_by_group(iod, grp, 2010, 2015)


def test_carried_ranks_and_changes():
    iod = _iod()
    calls = []

    def fake_carry(frame, cols, v_from, v_to, how):
        calls.append((v_from, v_to, how))
        out = frame.copy()
        out["lsoa_code"] = "N" + out["lsoa_code"]
        return out

    c = trends.carried_ranks(iod, [2007, 2010], to_vintage=2011, carry=fake_carry)
    assert calls == [(2001, 2011, "rerank")] * 2
    assert c.loc[(c["release"] == 2007) & (c["lsoa_code"] == "NL01"), "pct"].item() == \
        pytest.approx(100 * 1100 / 32_844)
    ch = trends.lsoa_changes(c, ["NL00", "NL01", "NL05"], 2007, 2010).set_index("lsoa_code")
    assert ch.loc["NL00", "rank_change"] == -90 and ch.loc["NL05", "rank_change"] == 0
    with pytest.raises(DataError, match="release 2015 has no imd"):
        trends.carried_ranks(iod, [2015], carry=fake_carry)


def test_key_findings_are_written_from_the_data():
    iod = _iod()
    sets = trends.district_sets(iod, "D")
    ranks = trends.district_ranks(_la_summary(), "D")
    args = ("D", ranks, trends.decile_counts(iod, sets), trends.domain_profile(iod, sets),
            trends.gap(iod, sets))
    reported = trends.compare_reported(ranks, DOC.district_ranks, DOC.districts_of)
    text = " ".join(say.key_findings(*args, reported, DOC))
    assert "70th of 354 in 2007" in text and "53rd of 326 in 2010" in text
    assert "report to Cabinet of 9 November 2011 are close to the data" in text
    assert "later population weights" in text
    assert "4 in 2007, 4 in 2010 (of 10 in 2007 and 10 in 2010)" in text
    assert "gap between the most and least deprived neighbourhoods is about the same" in text
    assert "->" not in text and "LSOA(s)" not in text
    # a district whose areas file has no reference block: no report is cited
    plain = " ".join(say.key_findings(*args))
    assert "report" not in plain.lower() and "Cabinet" not in plain


def test_history_note_for_new_districts():
    assert say.history_note("North Yorkshire", []) is None
    note = say.history_note("North Yorkshire", [2004, 2007, 2010, 2015, 2019])
    assert "2004-2019" in note and "built from the neighbourhoods" in note


def test_district_sets_builds_missing_releases_from_lsoas():
    iod = _iod()
    new = iod.assign(lad_code=iod["lad_code"].where(iod["release"] != 2007, "OLD"))
    with pytest.raises(DataError, match="release 2007"):
        trends.district_sets(new, "D")
    codes = sorted(iod.loc[(iod["release"] == 2007) & (iod["lad_code"] == "D"), "lsoa_code"])
    sets = trends.district_sets(new, "D", lsoas_by_vintage={2001: codes})
    assert sorted(sets[2007]["lsoa_code"]) == codes
    assert trends.built_from_lsoas(new, "D") == [2007]


@pytest.mark.mirror
def test_rotherham_real_trends(processed):
    from evidence_pack.stores import iod as iod_mod

    iod = iod_mod.load(measures=["imd", *trends.DOMAINS], lad_codes=["E08000018"])
    sets = trends.district_sets(iod, "E08000018", "Rotherham")
    c = trends.decile_counts(iod, sets).set_index("release")
    assert c.loc[2010, "lsoas"] == 166 and c.loc[2025, "lsoas"] == 170
    assert c.loc[2007, "decile1"] == 19 and c.loc[2010, "decile1"] == 28
    g = trends.gap(iod, sets).set_index("release")
    assert g.loc[2010, "spread_widened"] is True     # the report: the gap grew wider
    summary = trends.load_la_summary()
    if summary is None:
        pytest.skip("la_summary.parquet not built yet")
    r = trends.district_ranks(summary, "E08000018", la_name="Rotherham")
    cmp = trends.compare_reported(r, DOC.district_ranks, DOC.districts_of).set_index("release")
    # the report: 68th (2007), 53rd of 326 (2010); recomputed with mid-2015 weights (IOD-14)
    assert cmp.loc[2010, "data_of"] == 326
    assert cmp["difference"].abs().max() <= 3
    assert r.set_index("release").loc[2019, "rank_average_score"] == 44   # IoD2019 File 10


def test_split_store_gives_the_same_tables():
    iod = _iod()
    sets = trends.district_sets(iod, "D")
    g = trends.split(iod)
    pd.testing.assert_frame_equal(trends.decile_counts(iod, sets), trends.decile_counts(g, sets))
    pd.testing.assert_frame_equal(trends.gap(iod, sets), trends.gap(g, sets))
    pd.testing.assert_frame_equal(trends.change_by_group(iod, sets[2007], 2007, 2010),
                                  trends.change_by_group(g, sets[2007], 2007, 2010))


def test_area_findings_single_and_several():
    counts = pd.DataFrame({"release": [2010, 2025], "lsoas": [1.0, 1.0], "decile1": [1.0, 1.0],
                           "median_pct": [1.3, 1.3], "most_deprived_rank": [436, 434]})
    ch = pd.DataFrame({"lsoa_code": ["X"], "rank_2010": [436], "rank_2025": [434],
                       "decile_2010": [1], "decile_2025": [1], "rank_change": [-2],
                       "decile_change": [0]})
    text = " ".join(say.area_findings("Canklow", counts, ch, 2010, 2025))
    assert "Canklow's one neighbourhood (LSOA: lower-layer super output area) has been" in text
    assert "It barely moved in England's ranking" in text
    assert "from 436 in 2010 to 434 in 2025: barely moved" in text
    ch2 = pd.concat([ch, ch.assign(lsoa_code="Y", rank_2025=100, rank_change=-336)])
    counts2 = counts.assign(lsoas=2.0, decile1=[1.0, 2.0])
    text2 = " ".join(say.area_findings("Two", counts2, ch2, 2010, 2025))
    assert "1 of 2 in 2010, 2 of 2 in 2025" in text2
    assert "Both neighbourhoods fell further down England's ranking" in text2
    assert "0 moved" not in text2


def test_little_change_never_where_a_rank_halves():
    ch = pd.DataFrame({"lsoa_code": ["X"], "rank_2010": [60], "rank_2025": [25],
                       "decile_2010": [1], "decile_2025": [1], "rank_change": [-35],
                       "decile_change": [0]})
    assert "barely moved" not in say.rank_change_sentence(ch, 2010, 2025)
    assert "35 places more deprived" in say.rank_change_sentence(ch, 2010, 2025)


@pytest.mark.mirror
def test_created_district_history_from_its_lsoas(processed):
    from evidence_pack import config
    from evidence_pack.stores import iod as iod_mod
    from evidence_pack.stores.lsoa_geography import district_lsoas

    code = "E06000063"  # Cumberland, created April 2023
    store = iod_mod.load(measures=["imd"])
    history = {v: district_lsoas(code, v) for v in (2001, 2011, 2021)}
    sets = trends.district_sets(store, code, "Cumberland", lsoas_by_vintage=history)
    assert trends.built_from_lsoas(store, code, "Cumberland") == [2004, 2007, 2010, 2015, 2019]
    c = trends.decile_counts(store, sets).set_index("release")
    assert set(c.index) == set(config.RELEASES) and (c["lsoas"] == 177).all()


def test_reader_tables_whole_counts_and_no_decile_change_column():
    from evidence_pack.findings import trend_tables as tables

    iod = _iod()
    counts = trends.decile_counts(iod, trends.district_sets(iod, "D"))
    t = tables.count_table(counts)
    assert t["Neighbourhoods"].dtype.kind == "i" and t["Release"].tolist() == ["2007", "2010"]
    ch = pd.DataFrame({"lsoa_code": ["X"], "rank_2010": [436], "rank_2025": [434],
                       "decile_2010": [1], "decile_2025": [1], "rank_change": [-2],
                       "decile_change": [0]})
    c = tables.change_table(ch, pd.Series({"X": "Canklow"}), 2010, 2025)
    assert c["Area"].tolist() == ["Canklow"]
    assert not any("Decile change" in col for col in c.columns)


@pytest.mark.mirror
def test_built_ranks_reproduce_computed_and_rank_new_districts(processed):
    from evidence_pack.analysis import district_history as dh
    from evidence_pack.stores import iod as iod_mod
    from evidence_pack.stores.lsoa_geography import district_lsoas

    store = iod_mod.load(measures=["imd"])
    summary = trends.load_la_summary()
    if summary is None:
        pytest.skip("la_summary.parquet not built yet")

    def history(code):
        return {v: district_lsoas(code, v) for v in (2001, 2011, 2021)}

    # an existing district built from its own LSOAs gets its computed rank back
    own = dh.built_ranks(store, summary, [2004, 2010], history("E08000018")).set_index("release")
    assert own.loc[2004, "rank_average_score"] == 68 and own.loc[2004, "n_districts"] == 354
    assert own.loc[2010, "rank_average_score"] == 54
    # Cumberland replaced three districts: ranked among 354 - 3 + 1 in 2004
    cum = dh.built_ranks(store, summary, [2004, 2019], history("E06000063")).set_index("release")
    assert cum.loc[2004, "n_districts"] == 352 and cum.loc[2019, "n_districts"] == 315
    ranks = dh.with_built_ranks(trends.district_ranks(summary, "E06000063"), cum.reset_index())
    assert ranks["release"].tolist() == [2004, 2019, 2025]
    assert ranks.set_index("release").loc[2004, "source"] == dh.BUILT


def test_heat_map_cell_text_contrast_is_at_least_4_5_for_every_cell_colour():
    """The trends heat maps write numbers on cells of the Reds and RdYlBu colour maps in black
    or white (``text_colour``): every colour of either map keeps 4.5:1 (WCAG AA)."""
    for name in ("Reds", "RdYlBu"):
        cmap = colormaps[name]
        worst = min(contrast(text_colour(cmap(x)), cmap(x)) for x in np.linspace(0, 1, 1001))
        assert worst >= MIN_CONTRAST, f"{name}: cell text contrast falls to {worst:.2f}:1"


def test_target_area_sets_of_one_area_equal_its_part_of_all(processed):
    """An area's report computes its own area's sets only; they and its trend rows equal what
    the borough's computation of every area gives."""
    from evidence_pack import config
    from evidence_pack.analysis import areas
    from evidence_pack.stores import iod

    aset = areas.load_areas()
    releases = [2010, 2025]
    members = {v: areas.members(aset, v) for v in {config.RELEASE_VINTAGE[r] for r in releases}}
    every = trends.target_area_sets(aset, members, releases)
    assert list(every) == [a.name for a in aset.areas]
    one = aset.areas[1]
    own = trends.target_area_sets(aset, members, releases, slugs=[one.slug])
    assert list(own) == [one.name]
    for r in releases:
        pd.testing.assert_frame_equal(own[one.name][r], every[one.name][r])
    grouped = trends.split(iod.load(releases=releases, measures=["imd"]))
    full = trends.area_trend(grouped, every)
    pd.testing.assert_frame_equal(trends.area_trend(grouped, own),
                                  full[full["area"] == one.name].reset_index(drop=True))
