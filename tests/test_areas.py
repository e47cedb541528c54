"""Target areas: YAML validation, carrying members across vintages, drafting, borough facts."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest
from evidence_pack import config
from evidence_pack.analysis import area_draft, areas, borough_facts
from evidence_pack.findings import areas as area_text
from evidence_pack.sources.io import DataError

LA = "E08000018"
#: A tiny reference: vintage -> {LSOA: district}.
REF = {
    2001: {"E01000001": LA, "E01000002": LA, "E01000003": LA, "E01000009": "E08000019"},
    2011: {"E01000001": LA, "E01000002": LA, "E01100031": LA, "E01100032": LA},
    2021: {"E01000001": LA, "E01200001": LA},
}


def _write(tmp_path, body: str):
    p = tmp_path / "areas.yml"
    p.write_text(textwrap.dedent(body), encoding="utf-8")
    return p


GOOD = """\
    la_code: E08000018
    la_name: Rotherham
    areas:
      - slug: east-dene
        name: East Dene
        area_type: council estate
        lsoa_vintage: 2001
        lsoas: [E01000001, E01000002]
        cabinet_member: ""
        slt_lead: ""
      - slug: canklow
        name: Canklow
        area_type: council estate
        lsoas: [E01000003]
    """


def test_load_good_file(tmp_path):
    s = areas.load_areas(_write(tmp_path, GOOD), reference=REF)
    assert s.la_code == LA and s.la_name == "Rotherham"
    assert s.slugs == ["east-dene", "canklow"]
    a = s.get("east-dene")
    assert a.lsoas == ("E01000001", "E01000002") and a.lsoa_vintage == 2001
    assert a.cabinet_member == "" and a.slt_lead == ""
    assert s.get("canklow").lsoa_vintage == 2001  # default vintage
    with pytest.raises(KeyError, match="east-dene"):
        s.get("nowhere")


@pytest.mark.parametrize("change, message", [
    (("lsoas: [E01000003]", "lsoas: [E01000004]"), "unknown 2001 LSOA code E01000004"),
    (("lsoas: [E01000003]", "lsoas: [E01000009]"), "outside E08000018"),
    (("lsoas: [E01000003]", "lsoas: [E01000001]"), "also in area 'east-dene'"),
    (("lsoas: [E01000003]", "lsoas: [E01000003, E01000003]"), "duplicate LSOA"),
    (("lsoas: [E01000003]", "lsoas: []"), "empty area"),
    (("lsoas: [E01000003]", "lsoas: [X123]"), "not an LSOA code"),
    (("slug: canklow", "slug: Canklow Estate"), "bad slug"),
    (("slug: canklow", "slug: east-dene"), "duplicate slug"),
    (("slug: canklow", "slug: borough"), "reserved"),
    (("area_type: council estate\n        lsoas: [E01000003]",
      "area_type: suburb\n        lsoas: [E01000003]"), "area_type 'suburb'"),
    (("la_code: E08000018", "la_code: Rotherham"), "not a district code"),
])
def test_validation_errors(tmp_path, change, message):
    old, new = change
    body = GOOD.replace(old, new)
    assert body != GOOD
    with pytest.raises(DataError, match=message) as info:
        areas.load_areas(_write(tmp_path, body), reference=REF)
    assert str(tmp_path / "areas.yml") in str(info.value)


def test_bad_yaml_names_line(tmp_path):
    p = _write(tmp_path, "la_code: E08000018\nareas: [\n  - slug: x\n")
    with pytest.raises(DataError, match="bad YAML") as info:
        areas.load_areas(p, reference=REF)
    assert "line" in str(info.value)


def test_missing_file_and_top_level(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        areas.load_areas(tmp_path / "nope.yml", reference=REF)
    with pytest.raises(DataError, match="missing top-level key 'areas'"):
        areas.load_areas(_write(tmp_path, "la_code: E08000018\nla_name: R\n"), reference=REF)
    with pytest.raises(DataError, match="non-empty list"):
        areas.load_areas(_write(tmp_path, "la_code: E08000018\nla_name: R\nareas: []\n"),
                         reference=REF)


# ---------------------------------------------------------------- carrying across vintages

#: 2001 A splits into 2011 A1, A2; 2011 B and C merge into 2021 BC.
CW = pd.DataFrame({"from_code": ["A", "A", "B", "C"], "to_code": ["A1", "A2", "BC", "BC"],
                   "mass": [0.5, 0.5, 1.0, 1.0]})


def test_carry_split_keeps_every_part():
    out = areas.carry_codes(["A"], 2001, 2011, crosswalk=CW)
    assert out["lsoa_code"].tolist() == ["A1", "A2"]
    assert out["weight"].tolist() == [1.0, 1.0]


def test_carry_merge_gives_partial_weight():
    out = areas.carry_codes(["B"], 2011, 2021, crosswalk=CW)
    assert out["lsoa_code"].tolist() == ["BC"] and out["weight"].tolist() == [0.5]
    both = areas.carry_codes(["B", "C"], 2011, 2021, crosswalk=CW)
    assert both["weight"].tolist() == [1.0]


def test_carry_backwards_over_a_split():
    back = CW.rename(columns={"from_code": "to_code", "to_code": "from_code"})
    out = areas.carry_codes(["A1"], 2011, 2001, crosswalk=back)
    assert out["lsoa_code"].tolist() == ["A"] and out["weight"].tolist() == [0.5]


def test_carry_unknown_code_raises():
    with pytest.raises(DataError, match="not in the"):
        areas.carry_codes(["Z"], 2001, 2011, crosswalk=CW)


# ---------------------------------------------------------------- Rotherham on the mirror

REPORT_COUNTS = {
    "east-herringthorpe": 2, "canklow": 1, "eastwood": 3, "town-centre": 1, "east-dene": 4,
    "dalton-thrybergh": 4, "ferham-masbrough": 3, "maltby-south-east": 3,
    "dinnington-central": 1, "aston-north": 1, "rawmarsh-east": 1,
}


def test_rotherham_file_matches_report_counts():
    """The committed file parses (structure only: no reference data needed)."""
    import yaml

    doc = yaml.safe_load(config.DEFAULT_AREAS_FILE.read_text(encoding="utf-8"))
    ref = {v: {} for v in areas.VINTAGES}
    for a in doc["areas"]:
        for c in a["lsoas"]:
            ref[a.get("lsoa_vintage", 2001)][c] = doc["la_code"]
    s = areas.parse_areas(doc, config.DEFAULT_AREAS_FILE, reference=ref)
    assert {a.slug: len(a.lsoas) for a in s} == REPORT_COUNTS
    assert all(a.area_type in areas.AREA_TYPES for a in s)
    assert all(a.evidence for a in s)


@pytest.mark.mirror
def test_rotherham_areas_on_mirror(processed):
    s = areas.load_areas()
    assert s.la_code == config.DEFAULT_LA_CODE
    for vintage in areas.VINTAGES:
        m = areas.members(s, vintage)
        assert m.groupby("slug").size().to_dict() == REPORT_COUNTS
        assert (m["weight"] == 1.0).all()


@pytest.mark.mirror
def test_rotherham_members_are_imd2010_decile1(raw_data):
    from evidence_pack.sources import catalogue
    from evidence_pack.sources.io import read_rda_frame

    imd = read_rda_frame(catalogue.path_for("imd2010_england_lsoa01"), ["lsoa01_code", "IMD_decile"])
    dec = dict(zip(imd["lsoa01_code"], imd["IMD_decile"], strict=True))
    codes = [c for a in areas.load_areas() for c in a.lsoas]
    assert len(codes) == 24 == len(set(codes))
    assert all(dec[c] == 1 for c in codes)


# ---------------------------------------------------------------- drafting on a synthetic grid


def _grid(n: int = 4, size: float = 100.0):
    """n x n square LSOAs named G<row><col>, in metres."""
    import geopandas as gpd
    from shapely.geometry import box

    rows = [{"code": f"G{r}{c}", "geometry": box(c * size, r * size, (c + 1) * size,
                                                  (r + 1) * size)}
            for r in range(n) for c in range(n)]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:27700")


def test_neighbours_share_edges_not_corners():
    adj = area_draft.neighbours(_grid(3))
    assert adj["G11"] == {"G01", "G10", "G12", "G21"}
    assert "G00" not in adj["G11"]  # corner only
    assert adj["G00"] == {"G01", "G10"}


def test_draft_groups_connected_components_named_and_ordered():
    grid = _grid(4)
    # selected: an L-shaped block (G00, G01, G11), a corner-only touch (G22) and G33, G32
    ranked = pd.DataFrame({"lsoa_code": ["G00", "G01", "G11", "G22", "G32", "G33"],
                           "rank": [50, 10, 300, 20, 400, 5]})
    names = pd.DataFrame({
        "lsoa_code": ["G00", "G01", "G11", "G22", "G32", "G33"],
        "msoa_name": ["Northfield", "Northfield", "Eastgate", "Southside", "Southside",
                      "Southside"],
        "ward_name": ["North", "North", "North", "South", "South", "South"]})
    groups = area_draft.draft_groups(ranked, area_draft.neighbours(grid), names)
    assert [g["lsoas"] for g in groups] == [["G22", "G32", "G33"], ["G00", "G01", "G11"]]
    assert [g["name"] for g in groups] == ["Southside", "Northfield"]
    assert [g["slug"] for g in groups] == ["southside", "northfield"]
    # the same input in another order gives the same output
    again = area_draft.draft_groups(ranked.iloc[::-1], area_draft.neighbours(grid.iloc[::-1]),
                               names.iloc[::-1])
    assert again == groups


def test_draft_names_made_unique():
    grid = _grid(4)
    codes = ["G00", "G03", "G30", "G33"]
    ranked = pd.DataFrame({"lsoa_code": codes, "rank": [1, 2, 3, 4]})
    names = pd.DataFrame({"lsoa_code": codes, "msoa_name": ["Town"] * 4,
                          "ward_name": ["West", "East", "West", "East"]})
    groups = area_draft.draft_groups(ranked, area_draft.neighbours(grid), names)
    assert [g["name"] for g in groups] == ["Town", "Town (East)", "Town (West)", "Town (2)"]
    assert len({g["slug"] for g in groups}) == 4


def test_rendered_draft_is_valid_area_yaml(tmp_path):
    import yaml

    grid = _grid(3)
    grid["code"] = "E01000" + grid["code"].str[1:] + "0"  # G01 -> E01000010
    ranked = pd.DataFrame({"lsoa_code": ["E01000000", "E01000010", "E01000220"],
                           "rank": [3, 1, 2]})
    groups = area_draft.draft_groups(ranked, area_draft.neighbours(grid))
    text = area_text.render_draft(LA, "Rotherham", 2010, 10.0, 2001, groups, 9, 1)
    assert text == area_text.render_draft(LA, "Rotherham", 2010, 10.0, 2001, groups, 9, 1)
    ref = {2001: {c: LA for c in grid["code"]}}
    s = areas.parse_areas(yaml.safe_load(text), tmp_path / "draft.yml", reference=ref)
    assert [a.lsoas for a in s] == [("E01000000", "E01000010"), ("E01000220",)]
    assert all(a.area_type == areas.UNCLASSIFIED for a in s)


@pytest.mark.mirror
def test_rotherham_draft_on_mirror(processed, tmp_path):
    import yaml
    from evidence_pack.stores import geography

    if not geography.path("lsoa01").exists():
        pytest.skip("boundaries not built: run `evidence-pack prepare geography`")
    text = area_text.draft_areas_yaml(LA, release=2010, threshold=10)
    assert text == area_text.draft_areas_yaml(LA, release=2010, threshold=10)
    s = areas.parse_areas(yaml.safe_load(text), tmp_path / "draft.yml")
    drafted = sorted(len(a.lsoas) for a in s)
    # 28 decile-1 LSOAs: the central block of 18 is split into areas of at most 6
    assert sum(drafted) == 28 and max(drafted) <= 6
    assert len({a.name for a in s}) == len(s)
    assert {a.area_type for a in s} <= {*areas.AREA_TYPES, areas.UNCLASSIFIED}
    target = {c for a in areas.load_areas() for c in a.lsoas}
    assert target <= {c for a in s for c in a.lsoas}


@pytest.mark.mirror
def test_carry_real_split_and_merge(processed, tmp_path):
    # Rotherham 012D (2001) split into two 2011 LSOAs
    split = areas.carry_codes(["E01007722"], 2001, 2011)
    assert split["lsoa_code"].tolist() == ["E01032926", "E01032927"]
    assert split["weight"].tolist() == [1.0, 1.0]
    # Rotherham 024C and 024D (2011) merged into E01034253 (2021)
    one = areas.carry_codes(["E01007813"], 2011, 2021)
    assert one["lsoa_code"].tolist() == ["E01034253"]
    assert 0.2 < one["weight"].iloc[0] < 0.8
    both = areas.carry_codes(["E01007813", "E01007814"], 2011, 2021)
    assert both["weight"].tolist() == pytest.approx([1.0])
    # an area file on 2021 codes carried back to 2001
    p = tmp_path / "a.yml"
    p.write_text("la_code: E08000018\nla_name: Rotherham\nareas:\n"
                 "  - {slug: x, name: X, area_type: unclassified, lsoa_vintage: 2021,\n"
                 "     lsoas: [E01034253, E01032926]}\n")
    m = areas.members(areas.load_areas(p), 2001)
    assert sorted(m["lsoa_code"]) == ["E01007722", "E01007813", "E01007814"]
    w = dict(zip(m["lsoa_code"], m["weight"], strict=True))
    assert w["E01007813"] == pytest.approx(1.0) and 0 < w["E01007722"] < 1


@pytest.mark.mirror
def test_rotherham_borough_facts(processed):
    from evidence_pack.stores import geography

    if not geography.path("lsoa01").exists():
        pytest.skip("boundaries not built: run `evidence-pack prepare geography`")
    f = borough_facts.borough_facts(areas.load_areas())
    d1 = f.decile1.set_index("release")
    assert d1.loc[2010, "decile1"] == 28 and d1.loc[2010, "lsoas"] == 166
    assert d1.loc[2010, "target_lsoas_decile1"] == 24
    assert (d1["decile1"] <= d1["lsoas"]).all() and set(d1.index) == set(config.RELEASES)
    share = f.population.sort_values("year")["share"].iloc[0]
    assert 0.14 < share < 0.17  # the report says 15%
    cen = f.central.set_index(["set", f.central["definition"].str.split(":").str[0]])
    assert cen.loc[("target areas", "contiguous decile-1 block holding the town centre (E01007714)"),
                   "central"] == 18
    wards = f.central[f.central["definition"].str.startswith("wards")].set_index("set")
    assert wards.loc["target areas", "central"] == 17 and wards.loc["all decile 1", "total"] == 28
    assert f.summary["report"].notna().sum() >= 5


REFERENCE = """\
    reference:
      title: A report
      body: Cabinet
      date: 2011-11-09
      district_ranks: {2007: 68, 2010: 53}
      residents_share: 0.15
      area_types: [pit village]
      public_spend_claim: over a billion pounds
    """


def test_reference_block_is_optional_and_parsed(tmp_path):
    import datetime as dt

    assert areas.load_areas(_write(tmp_path, GOOD), reference=REF).reference is None
    body = GOOD.rstrip(" ") + REFERENCE
    s = areas.load_areas(_write(tmp_path, body), reference=REF)
    r = s.reference
    assert r.title == "A report" and r.date == dt.date(2011, 11, 9)
    assert r.district_ranks == {2007: 68, 2010: 53} and r.residents_share == 0.15
    assert r.public_spend_claim == "over a billion pounds" and r.raw["body"] == "Cabinet"
    assert r.label == "the report to Cabinet of 9 November 2011"
    # the document's own area types load for this file only
    typed = body.replace("area_type: council estate\n        lsoas: [E01000003]",
                         "area_type: pit village\n        lsoas: [E01000003]")
    assert areas.load_areas(_write(tmp_path, typed), reference=REF).get("canklow").area_type \
        == "pit village"
    with pytest.raises(DataError, match="pit village"):
        areas.load_areas(_write(tmp_path, GOOD.replace(
            "area_type: council estate\n        lsoas: [E01000003]",
            "area_type: pit village\n        lsoas: [E01000003]")), reference=REF)


@pytest.mark.parametrize("old, new, message", [
    ("residents_share: 0.15", "residents_share: 15", "share between 0 and 1"),
    ("date: 2011-11-09", "date: soon", "YYYY-MM-DD"),
    ("{2007: 68, 2010: 53}", "{1999: 68}", "district_ranks"),
    ("body: Cabinet", "cabinet: yes", "unknown reference field"),
])
def test_reference_block_errors_name_the_problem(tmp_path, old, new, message):
    body = (GOOD.rstrip(" ") + REFERENCE).replace(old, new)
    with pytest.raises(DataError, match=message) as info:
        areas.load_areas(_write(tmp_path, body), reference=REF)
    assert "reference" in str(info.value)


def test_rotherham_facts_live_in_its_areas_file():
    doc = yaml_doc(config.DEFAULT_AREAS_FILE)
    ref = areas.parse_reference(doc["reference"], config.DEFAULT_AREAS_FILE)
    assert ref.district_ranks == {2007: 68, 2010: 53} and ref.residents_share == 0.15
    assert ref.central_share == 0.75 and len(ref.area_types) == 3


def yaml_doc(path):
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_split_group_keeps_pieces_contiguous_and_small():
    grid = _grid(4)
    adj = area_draft.neighbours(grid)
    codes = sorted(grid["code"])
    rank = {c: i + 1 for i, c in enumerate(codes)}
    info = pd.DataFrame({"lsoa_code": codes, "msoa_name": "One", "ward_name": "W"}
                        ).set_index("lsoa_code")
    pieces = area_draft.split_group(codes, rank, adj, info, max_lsoas=5)
    assert sorted(c for p in pieces for c in p) == codes
    assert all(len(p) <= 5 for p in pieces)
    for p in pieces:  # each piece is one connected group
        assert len(area_draft.connected_groups(p, adj)) == 1
    # by MSOA first: two MSOAs of 8 each become groups of at most 5 inside each MSOA
    info["msoa_name"] = ["North" if c[1] in "01" else "South" for c in codes]
    pieces = area_draft.split_group(codes, rank, adj, info, max_lsoas=8)
    assert sorted(map(tuple, pieces)) == [tuple(c for c in codes if c[1] in "01"),
                                         tuple(c for c in codes if c[1] in "23")]


def test_draft_groups_split_and_named_uniquely():
    grid = _grid(4)
    codes = sorted(grid["code"])
    ranked = pd.DataFrame({"lsoa_code": codes, "rank": range(1, 17)})
    names = pd.DataFrame({"lsoa_code": codes, "msoa_name": "Town", "ward_name": "Town"})
    groups = area_draft.draft_groups(ranked, area_draft.neighbours(grid), names, max_lsoas=6)
    assert all(len(g["lsoas"]) <= 6 for g in groups) and len(groups) == 3
    assert [g["name"] for g in groups] == ["Town", "Town (2)", "Town (3)"]


@pytest.mark.parametrize("shares, expected", [
    ((0.55, 0.10, 0.05), "council estate"),
    ((0.10, 0.40, 0.45), "multi-ethnic terraced"),
    ((0.45, 0.25, 0.30), "multi-ethnic terraced"),
    ((0.20, 0.15, 0.05), "unclassified"),
])
def test_infer_area_type(shares, expected):
    assert area_draft.infer_area_type(*shares) == expected


@pytest.mark.mirror
@pytest.mark.parametrize("code, message", [
    ("W06000015", "Wales"), ("S12000036", "Scotland"),
    ("E07000168", r"retired .* North Yorkshire \(E06000065\)"),
    ("E09999999", "not an English district"),
])
def test_draft_refuses_other_codes_in_one_line(processed, code, message):
    from evidence_pack.stores.lsoa_geography import check_district

    with pytest.raises(DataError, match=message) as info:
        check_district(code)
    assert "\n" not in str(info.value)


@pytest.mark.mirror
def test_new_district_history_from_its_lsoas(processed):
    from evidence_pack.stores.lsoa_geography import check_district, district_lsoas

    assert check_district("E06000063") == ("Cumberland", True)
    assert check_district("E08000019") == ("Sheffield", False)
    counts = [len(district_lsoas("E06000063", v)) for v in (2001, 2011, 2021)]
    assert counts == [177, 177, 177]
    # its 2011 LSOAs are exactly those of its three predecessor districts
    from evidence_pack.stores.lsoa_geography import lsoa_districts

    lads = {lsoa_districts(2011)[c] for c in district_lsoas("E06000063", 2011)}
    assert len(lads) == 3


@pytest.mark.mirror
def test_created_district_draft_loads(processed, tmp_path):
    from evidence_pack.stores.lsoa_geography import district_lsoas

    codes = district_lsoas("E06000063", 2001)[:2]  # Cumberland on 2001 LSOAs (then Allerdale...)
    p = _write(tmp_path, f"""\
        la_code: E06000063
        la_name: Cumberland
        areas:
          - {{slug: a, name: A, area_type: unclassified, lsoa_vintage: 2001, lsoas: {codes}}}
        """)
    assert areas.load_areas(p).get("a").lsoas == tuple(codes)
    with pytest.raises(DataError, match="outside E06000063"):
        areas.load_areas(_write(tmp_path, p.read_text().replace(codes[0], "E01007714")))
