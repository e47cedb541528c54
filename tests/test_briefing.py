"""The Chief Executive Group briefing: the area table, the partner-influence matrix, the
sustained-partnership rule and every sentence, on small frames; and a render test on the real
data that checks the six sections and that every number in the headline comes from results."""

from __future__ import annotations

import datetime
import html
import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.analysis import briefing
from evidence_pack.analysis.areas import Area, AreaSet
from evidence_pack.findings import briefing as say
from evidence_pack.findings import format as fmt

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> set[str]:
    """Every number written in ``text``, without thousands separators or a sign."""
    return {n.replace(",", "").lstrip("-") for n in NUMBER.findall(text)}


def written(values) -> set[str]:
    """Every way the house style may write these values (whole, 1 or 2 decimals, %)."""
    out: set[str] = set()
    for v in values:
        if v is None or isinstance(v, str | bool) or not np.isfinite(float(v)):
            continue
        v = abs(float(v))
        for x in (v, 100 * v):
            out |= {f"{x:.0f}", f"{x:.1f}", f"{x:.2f}"}
    return out


def _area(slug: str, name: str, n: int, cm: str = "", slt: str = "") -> Area:
    return Area(slug=slug, name=name, area_type="council estate", lsoa_vintage=2021,
                lsoas=tuple(f"E0100000{i}" for i in range(n)), cabinet_member=cm, slt_lead=slt)


@pytest.fixture
def fake():
    """Two areas: 'north' deeply and persistently deprived, 'south' less so."""
    aset = AreaSet("E08000099", "Anytown", [_area("south", "South Side", 1, cm="Cllr A. Person"),
                                            _area("north", "North End", 2)])
    releases = [2004, 2007, 2010, 2015, 2019, 2025]
    traj = pd.DataFrame(
        [{"group": "north", "measure": "imd", "release": r, "mean_pct": p, "n_lsoas": 2}
         for r, p in zip(releases, [3.0, 4.0, 4.5, 3.5, 2.5, 1.5], strict=True)]
        + [{"group": "south", "measure": "imd", "release": r, "mean_pct": p, "n_lsoas": 1}
           for r, p in zip(releases, [12.0, 9.0, 8.0, 11.0, 14.0, 18.0], strict=True)])
    did = pd.DataFrame([
        {"group": "all", "measure": "imd", "release": 2025, "estimate": -2.5, "ci_low": -4.0,
         "ci_high": -1.0, "cluster": "area", "n_treated": 3, "n_comparators": 12},
        {"group": "north", "measure": "imd", "release": 2025, "estimate": -3.0, "ci_low": -5.5,
         "ci_high": -0.5, "cluster": "lsoa", "n_treated": 2, "n_comparators": 8},
        {"group": "south", "measure": "imd", "release": 2025, "estimate": 1.2, "ci_low": -0.4,
         "ci_high": 2.8, "cluster": "lsoa", "n_treated": 1, "n_comparators": 4}])
    risk_areas = pd.DataFrame({"slug": ["south", "north"], "lsoas": [1, 2], "in_cohort": [1, 2],
                               "predicted": [0.30, 0.05], "expected_improving": [0.3, 0.1],
                               "observed_improving": [1.0, 0.0]})
    measures = [*briefing.DOMAINS, "imd", "community_need"]
    north = dict(zip(measures, [2.0, 3.0, 1.0, 4.0, 30.0, 60.0, 55.0, 2.5, 8.0], strict=True))
    south = dict(zip(measures, [15.0, 12.0, 25.0, 9.0, 70.0, 40.0, 45.0, 18.0, 60.0],
                     strict=True))
    positions = pd.DataFrame([{"slug": s, "measure": m, "pct": v}
                              for s, d in (("north", north), ("south", south))
                              for m, v in d.items()])
    ranks = pd.DataFrame({"slug": ["north", "north", "south"],
                          "lsoa_code": ["E01000000", "E01000001", "E01000002"],
                          "rank": [12, 400, 2500]})
    return SimpleNamespace(aset=aset, traj=traj, did=did, risk_areas=risk_areas,
                           positions=positions, ranks=ranks)


def _table(f, spend_per_head=None):
    return briefing.area_table(f.aset, f.did, f.traj, f.risk_areas, f.positions,
                               {"north": 3012.4, "south": 1490.0},
                               spend_per_head or {"north": 2100.0, "south": 1600.0}, f.ranks)


# --------------------------------------------------------------------------- analysis


def test_strength_levels():
    assert [briefing.strength(x) for x in (0.5, 9.99, 10, 19, 20, 49.9, 50, 99)] == [
        "very strong", "very strong", "strong", "strong", "some", "some", "little", "little"]
    assert briefing.strength(float("nan")) == "no data"


def test_area_table_ranked_by_need(fake):
    t = _table(fake)
    assert list(t["slug"]) == ["north", "south"]  # north is more deprived in 2025
    assert list(t["need_rank"]) == [1, 2]
    north = t.iloc[0]
    assert north["pct_base"] == 4.5 and north["pct_latest"] == 1.5
    assert north["did"] == -3.0 and north["best_rank"] == 12
    assert north["worst_domains"] == ["education", "income"]
    assert north["domains_decile1"] == 4
    assert t.iloc[1]["cabinet_member"] == "Cllr A. Person"


def test_matrix_takes_partner_spend(fake):
    spend = pd.DataFrame([
        {"area_slug": s, "partner": p, "gbp": g, "gbp_per_head": g / 1000, "gbp_low": g * 0.8,
         "gbp_high": g * 1.2, "source": "modelled"}
        for s in ("north", "south", "rest", "district")
        for p, g in (("Police", 400_000.0), ("NHS and public health", 900_000.0),
                     ("DWP and HMRC", 1_500_000.0), ("Council", 2_000_000.0))])
    m = briefing.influence_matrix(fake.positions, ["north", "south"], spend)
    assert len(m) == 2 * len(briefing.PARTNERS)
    cell = m[(m["slug"] == "north") & (m["partner"] == "Police")].iloc[0]
    assert cell["gbp"] == 400_000.0 and cell["gbp_per_head"] == 400.0
    assert cell["pct"] == 30.0 and cell["strength"] == "some"
    dwp = m[(m["slug"] == "north") & (m["partner"] == "DWP and Jobcentre Plus")].iloc[0]
    assert dwp["pct"] == 2.0  # the worse of income (2) and employment (3)
    vol = m[(m["slug"] == "north") & (m["partner"] == "Voluntary sector")].iloc[0]
    assert np.isnan(vol["gbp"]) and vol["strength"] == "very strong"
    total = briefing.total_spend_per_head(m)
    assert total["north"] == pytest.approx(400 + 900 + 1500 + 2000)
    fire = pd.DataFrame([{"area_slug": "north", "partner": "Fire", "gbp": 50_000.0,
                          "gbp_per_head": 50.0, "gbp_low": 40_000.0, "gbp_high": 60_000.0,
                          "source": "modelled"}])
    with_fire = pd.concat([spend, fire], ignore_index=True)
    total = briefing.total_spend_per_head(m, with_fire)  # every partner counts, fire included
    assert total["north"] == pytest.approx(400 + 900 + 1500 + 2000 + 50)
    assert list(total.index) == ["north", "south"]


def test_matrix_without_partner_spend_uses_council_only(fake):
    m = briefing.influence_matrix(fake.positions, ["north", "south"], None,
                                  {"north": 2100.0, "south": 1600.0})
    council = m[m["partner"] == "The council"].set_index("slug")
    assert council.loc["north", "gbp_per_head"] == 2100.0
    assert council.loc["north", "spend_source"] == "council only"
    assert m[m["partner"] == "Police"]["gbp_per_head"].isna().all()
    reach = briefing.partner_reach(m)
    assert reach.iloc[0]["very_strong"] == reach["very_strong"].max()
    assert set(reach["partner"]) == set(briefing.PARTNER_NAMES)


def test_rule_is_applied_to_every_area(fake):
    t = _table(fake)
    ruled = briefing.apply_rule(t, fake.traj, england_share=0.25).set_index("slug")
    assert ruled.loc["north", "persistent"] and ruled.loc["north", "low_chance"]
    assert ruled.loc["north", "deep"] and ruled.loc["north", "tests_met"] == 3
    assert ruled.loc["north", "sustained"]
    south = ruled.loc["south"]
    assert not south["persistent"] and south["releases_in"] == 2
    assert not south["low_chance"] and not south["deep"] and not south["sustained"]
    strict = briefing.apply_rule(t, fake.traj, 0.25, briefing.SustainedRule(needed=3,
                                                                           min_domains=5))
    assert not strict.set_index("slug").loc["north", "sustained"]


def test_council_spend_summary_and_residents():
    first = pd.DataFrame({"slug": ["a", "b", "rest"], "spend_gbp": [1e6, 2e6, 9e6],
                          "population": [500.0, 1000.0, 9000.0],
                          "spend_per_head_gbp": [2000.0, 2000.0, 1000.0]})
    last = first.assign(spend_gbp=[1.5e6, 1.5e6, 9e6])
    out = briefing.council_spend_summary(first, last, "rest", "2011-12", "2023-24")
    assert out["baseline_targets_gbp"] == 3e6 and out["targets_gbp"] == 3e6
    assert out["targets_per_head"] == 2000.0 and out["rest_per_head"] == 1000.0
    pop = pd.DataFrame({"area": ["Area A", "Anytown"], "residents": [480.0, 9999.0]})
    assert briefing.residents_by_slug(pop, {"a": "Area A", "b": "Area B"})["a"] == 480.0


def test_member_ranks():
    m = pd.DataFrame({"slug": ["a", "a"], "lsoa_code": ["X1", "X2"], "weight": [1.0, 0.5]})
    iod = pd.DataFrame({"lsoa_code": ["X1", "X2", "X3"], "rank": [5, 50, 500]})
    assert briefing.member_ranks(m, iod)["rank"].tolist() == [5, 50]


def test_community_need_positions():
    cni = pd.DataFrame({"lsoa_code": ["A", "B", "C", "D"], "cni_rank": [1, 2, 3, 4]})
    m = pd.DataFrame({"slug": ["x", "x", "x"], "lsoa_code": ["A", "B", "D"],
                      "weight": [1.0, 1.0, 1.0]})
    out = briefing.community_need_positions(cni, m)
    assert out["pct"].iloc[0] == pytest.approx(50.0)  # the median of 25, 50 and 100
    dt = pd.DataFrame({"area": ["X area", "District"], "measure": ["crime", "crime"],
                       "share_decile1": [1.0, 0.2], "median_pct": [3.0, 40.0]})
    pos = briefing.domain_positions(dt, {"x": "X area"})
    assert pos.to_dict("records") == [{"slug": "x", "measure": "crime", "pct": 3.0}]


# --------------------------------------------------------------------------- findings


def test_leads_blank_are_not_yet_assigned(fake):
    t = _table(fake)
    assert say.lead("") == say.NOT_ASSIGNED and say.lead("  ") == say.NOT_ASSIGNED
    assert say.leads("Cllr A", "") == f"Cllr A; {say.NOT_ASSIGNED}"
    view = say.area_view(t, "Modelled council spend")
    assert view.loc[1, "Cabinet Member; lead officer"] == f"Cllr A. Person; {say.NOT_ASSIGNED}"
    assert view.loc[0, "Cabinet Member; lead officer"] == say.NOT_ASSIGNED
    blank = t.assign(cabinet_member="", slt_lead="")
    assert "Cabinet Member; lead officer" not in say.area_view(blank, "spend").columns
    assert say.NOT_ASSIGNED in say.leads_sentence(blank)


def test_area_view_uses_house_style(fake):
    v = say.area_view(_table(fake), "Modelled council spend")
    assert v.loc[0, "Modelled council spend"] == "£2,100 a head"
    assert v.loc[0, "Change against comparators (95% interval)"] == "-3.0 (-5.5 to -0.5)"
    assert v.loc[0, "Chance of improving"] == "5%"
    assert v.loc[0, "Worst domains"] == "education, income"


def _headline(fake, reference=None):
    t = _table(fake)
    ruled = briefing.apply_rule(t, fake.traj, 0.25)
    m = briefing.influence_matrix(fake.positions, ["north", "south"], None, {"north": 2100.0})
    reach = briefing.partner_reach(m)
    ranks = pd.DataFrame({"release": [2010, 2025], "rank_average_score": [54, 43],
                          "n_districts": [326, 296]})
    counts = pd.DataFrame({"release": [2010, 2025], "lsoas": [166, 170], "decile1": [28, 36],
                           "target_lsoas": [3, 3], "target_lsoas_decile1": [3, 2]})
    ctx = {"change": -3.1, "n_lsoas": 4}
    did_all = fake.did.iloc[0].to_dict()
    lines = say.headline("Anytown", ranks, counts, fake.risk_areas, fake.ranks, 33755, did_all,
                         ctx, ruled, reach, False, reference=reference)
    inputs = written([*ranks.to_numpy().ravel(), *counts.to_numpy().ravel(),
                      *fake.risk_areas.select_dtypes("number").to_numpy().ravel(),
                      *fake.risk_areas[["expected_improving", "observed_improving"]].sum(),
                      *fake.ranks["rank"], 33755, *did_all.values(), *ctx.values(),
                      len(ruled), ruled["sustained"].sum(), *reach["very_strong"],
                      len(reach), 100, 10, 2010, 2025, 0.95])  # 0.95: the interval's level
    return lines, inputs


def test_headline_numbers_all_come_from_the_inputs(fake):
    lines, inputs = _headline(fake)
    assert 3 <= len(lines) <= 5
    for line in lines:
        assert numbers(line) <= inputs, (line, numbers(line) - inputs)
    text = " ".join(lines)
    assert "43rd most deprived of 296" in text and "54th of 326 in 2010" in text
    assert "1 of the 3 target neighbourhoods" in text and "about 0.4" in text
    assert "(12th)" in text  # the one member among England's 100 most deprived
    assert "2.5 percentile points further behind" in text and "1.0 to 4.0" in text
    assert "not the effect of targeting" in text
    assert "Anytown" in text and "Rotherham" not in text


def test_headline_cites_the_reference_ranks_only_when_they_differ(fake):
    ref = SimpleNamespace(title="Report to Cabinet", date=datetime.date(2011, 11, 9),
                          district_ranks={2007: 68, 2010: 53})
    lines, _ = _headline(fake, ref)
    assert ("(54th of 326 in 2010; Report to Cabinet (9 November 2011) gave 53rd for 2010, "
            "the data 54th: the pack recomputes ranks with later population weights), and"
            ) in lines[0]  # 2007 is not in the ranks given
    same = SimpleNamespace(title="report", district_ranks={2010: 54})
    assert "gave" not in _headline(fake, same)[0][0]
    assert "gave" not in _headline(fake, None)[0][0]
    labelled = SimpleNamespace(label="the report to Cabinet of 9 November 2011",
                               district_ranks={2010: 53})
    assert "; the report to Cabinet of 9 November 2011 gave 53rd for 2010, the data 54th" in \
        _headline(fake, labelled)[0][0]


def test_rule_text_states_its_thresholds():
    rule = briefing.SustainedRule(persistent_pct=10, since=2004, min_domains=3, needed=2)
    text = say.rule_text(rule, 0.249, 2025)
    assert "at least 2 of these 3 tests" in text and "since 2004" in text
    assert "(25%)" in text and "at least 3 of the seven" in text


def test_resolutions_one_line_each(fake):
    t = _table(fake)
    ruled = briefing.apply_rule(t, fake.traj, 0.25)
    reach = briefing.partner_reach(briefing.influence_matrix(fake.positions, ["north", "south"]))
    money = {"year": "2023-24", "targets_gbp": 8_612_345.0, "targets_per_head": 2160.4,
             "rest_per_head": 1515.2, "baseline_year": "2011-12",
             "baseline_targets_gbp": 78_712_345.0}
    r = say.resolutions(t, ruled, reach, money, False)
    assert len(r) == 6 and list(r.columns[1:]) == ["Resolution", "What the pack shows",
                                                   "What is still missing"]
    assert "1 of 2 areas fell clearly further behind" in r.iloc[0]["What the pack shows"]
    assert "£2,160 a head" in r.iloc[3]["What the pack shows"]
    assert "£78.7m (2011-12)" in r.iloc[4]["What the pack shows"]
    assert "partners not yet modelled" in r.iloc[4]["What the pack shows"]
    assert "Recorded for 1 of 2 areas" in r.iloc[2]["What the pack shows"]
    own = [f"Resolution {i}" for i in range(1, 7)]
    r2 = say.resolutions(t, ruled, reach, money, True,
                         reference=SimpleNamespace(raw={"resolutions": own}))
    assert list(r2["Resolution"]) == own
    assert "partners modelled" in r2.iloc[4]["What the pack shows"]


def test_options_from_the_what_if_frames():
    pot = pd.DataFrame({"slug": ["a", "b"], "allocation_gbp": [3_400.0, 96_600.0]})
    shift = pd.DataFrame({"slug": ["a", "b", "rest"],
                          "moved_gbp": [10_000.0, 10_000.0, -20_000.0],
                          "before_gbp": [50_000.0, 50_000.0, 800_000.0],
                          "after_gbp": [60_000.0, 60_000.0, 780_000.0],
                          "per_head_before_gbp": [50.0, 50.0, 80.0],
                          "per_head_after_gbp": [60.0, 60.0, 78.0]})
    a, b = say.options(pot, shift, {"a": "Area A", "b": "Area B"}, {"a": 1000, "b": 1000},
                       100_000, "Environmental and regulatory", 0.1, "2023-24", "rest",
                       "Anytown")
    assert "£100,000" in a and "from £3,000 (Area A) to £97,000 (Area B)" in a
    assert "10% of environmental and regulatory spend in the rest of Anytown (£20,000" in b
    assert "from £50 a head to £60 a head in the target areas" in b
    assert "from £80 a head to £78 a head elsewhere" in b


def test_index_areas_compact(fake):
    rows = say.index_areas(_table(fake))
    assert rows[0] == {"name": "North End", "residents": 3012, "position_2010": 4.5,
                       "position_2025": 1.5, "change_vs_comparators": -3.0,
                       "change_low": -5.5, "change_high": -0.5}
    json.dumps(rows)


def test_no_district_words_in_the_code():
    root = Path(briefing.__file__).resolve().parents[1]
    for rel in ("analysis/briefing.py", "findings/briefing.py", "charts/briefing.py"):
        text = (root / rel).read_text(encoding="utf-8")
        for word in ("Rotherham", "Canklow", "E08000018", "53rd", "68th"):
            assert word not in text, f"{rel} mentions {word}"


def test_chart_draws_every_cell(fake):
    from evidence_pack.charts import briefing as chart

    m = briefing.influence_matrix(fake.positions, ["north", "south"])
    fig = chart.influence_chart(m, ["north", "south"], {"north": "North End",
                                                        "south": "South Side"}, "t",
                                show_spend=False)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert len(texts) == 2 * len(briefing.PARTNERS) and "2" in texts
    assert min(t.get_fontsize() for t in fig.axes[0].texts) >= 7
    m2 = briefing.influence_matrix(fake.positions, ["north", "south"], None, {"north": 2100.4})
    fig = chart.influence_chart(m2, ["north", "south"], {}, "t", show_spend=True)
    assert "2 \u00b7 £2,100" in [t.get_text() for t in fig.axes[0].texts]  # council, north


# --------------------------------------------------------------------------- render


SECTIONS = ("1. The answer first", "2. The areas side by side", "3. Where partners can "
            "influence services", "4. Which areas need a sustained, long-term partnership "
            "approach", "5. The six resolutions", "6. Options with figures")


@pytest.fixture(scope="module")
def rendered(processed, tmp_path_factory):
    from evidence_pack.publish import build

    out = tmp_path_factory.mktemp("briefing")
    rep = build.build(notebooks=["briefing"], only=["borough"], jobs=1, pdf=False,
                      progress=False, reports_dir=out / "reports", build_dir=out / "build")
    assert not rep.failures, rep.failures
    folder = next(p for p in (out / "reports").iterdir() if (p / "briefing.html").exists())
    return ((folder / "briefing.html").read_text(encoding="utf-8"),
            json.loads((folder / "briefing.json").read_text(encoding="utf-8")))


def _results_numbers() -> set[str]:
    """Numbers in the results the headline is built from, computed here independently of
    the notebook."""
    from evidence_pack.analysis import areas, borough_facts, evaluation, risk, trends
    from evidence_pack.stores import iod

    aset = areas.load_areas(config.DEFAULT_AREAS_FILE)
    res = evaluation.load(config.DEFAULT_AREAS_FILE)
    out = {k: risk.load(k) for k in ("table", "odds", "predictions", "scaling")}
    scored = risk.score_areas(areas.members(aset, 2011), release=2025, outputs=out)["areas"]
    ranks = trends.district_ranks(trends.load_la_summary(), aset.la_code, la_name=aset.la_name)
    counts = borough_facts.decile1_counts(aset)
    imd = iod.load(releases=[2025], measures=["imd"])
    member = briefing.member_ranks(areas.members(aset, 2021), imd)
    values = [*res["did"].select_dtypes("number").to_numpy().ravel(),
              *res["context"].select_dtypes("number").to_numpy().ravel(),
              *scored.select_dtypes("number").to_numpy().ravel(),
              scored["expected_improving"].sum(), scored["observed_improving"].sum(),
              *ranks[["release", "rank_average_score", "n_districts"]].to_numpy(float).ravel(),
              *counts.to_numpy(float).ravel(), *member["rank"], len(imd), len(aset),
              len(briefing.PARTNERS), *range(len(briefing.PARTNERS) + 1), 100, 10,
              0.95,  # the 95% interval
              out["table"].query("cohort10")["improved10_2025"].mean()]  # England's share
    rule = briefing.SustainedRule()
    values += [rule.persistent_pct, rule.since, rule.min_domains, rule.needed, 3]
    ref = getattr(aset, "reference", None)  # what the district's own document said
    if ref is not None:
        values += [*ref.district_ranks, *ref.district_ranks.values(), ref.date.day,
                   ref.date.year]
    return written(values)


@pytest.mark.mirror
@pytest.mark.slow
def test_briefing_renders_six_sections_from_results(rendered):
    page, sidecar = rendered
    heads = [html.unescape(re.sub(r"<[^>]+>", "", h))
             for h in re.findall(r"<h2[^>]*>(.*?)</h2>", page, re.DOTALL)]
    for s in SECTIONS:
        assert any(h.startswith(s) for h in heads), f"missing section {s!r}: {heads}"
    assert [h for h in heads if h[:2] in {f"{i}." for i in range(1, 7)}] == [
        h for h in heads if any(h.startswith(s) for s in SECTIONS)]
    assert "Traceback" not in page and "<pre" not in page
    findings = sidecar["key_findings"]
    assert 3 <= len(findings) <= 5
    allowed = _results_numbers()
    text = html.unescape(page)
    for line in findings:
        assert line in text
        assert numbers(line) <= allowed, (line, numbers(line) - allowed)
    assert fmt.number(sidecar["target_areas"]) in findings[3]
    rule = re.search(r"The rule\.</strong>(.*?)</p>", page, re.DOTALL)
    assert rule, "the rule is not printed"
    rule_text = html.unescape(rule.group(1))
    assert numbers(rule_text) <= allowed, numbers(rule_text) - allowed
    assert "not yet assigned" in page
    assert "modelled public spend" in page.lower()  # partners' money is modelled in the pack
    assert "partner spend is not yet modelled" not in page.lower()
    assert page.count("<img") == 1 and 'alt="Heat map' in page


def test_targets_sentence_notes_the_latest_boundaries_when_counts_differ(fake):
    counts = pd.DataFrame({"release": [2025], "target_lsoas": [4], "target_lsoas_decile1": [4]})
    text = say.targets_sentence(counts, fake.risk_areas, fake.ranks, 33755, top=10)
    assert text.startswith("1 of the 3 target neighbourhoods in England's most deprived 10%")
    assert "(4 of 4 are in it on the 2025 boundaries)" in text
    assert "most deprived of England" not in text  # no member in the top 10


def test_reach_view_shows_partner_spend_when_modelled(fake):
    spend = pd.DataFrame([{"area_slug": s, "partner": "Police", "gbp": 1.0, "gbp_per_head": v,
                           "gbp_low": 1.0, "gbp_high": 1.0, "source": "modelled"}
                          for s, v in (("north", 412.4), ("south", 200.0))])
    m = briefing.influence_matrix(fake.positions, ["north", "south"], spend)
    view = say.reach_view(briefing.partner_reach(m), m).set_index("Partner")
    assert view.loc["Police", "Spend a head (median area)"] == "£306 a head"
    assert view.loc["Voluntary sector", "Spend a head (median area)"] == "not yet modelled"
    assert view.loc["DWP and Jobcentre Plus", "Areas where very strong"] == 1  # north only
    assert "sector 1" in say.reach_sentence(briefing.partner_reach(m))
